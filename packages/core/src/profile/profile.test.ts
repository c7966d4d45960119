import { describe, expect, it } from "vitest";
import { decodeArtifact, encodeArtifact } from "../artifact/codec.js";
import { createArtifact } from "../artifact/create.js";
import { categoryColumn, Frame, numericColumn } from "../frame/frame.js";
import { createRandom } from "../metrics/random.js";
import { field } from "../schema/field.js";
import { schema } from "../schema/schema.js";
import { profileFrame, profileNumbers } from "./profile.js";
import type { NumericProfile } from "./types.js";
import { parseProfile } from "./validate.js";

const houses = schema(
  {
    rooms: field.number().nullable(),
    age: field.integer(),
    city: field.category(["Oslo", "Bergen", "Tromsø"]).nullable(),
    garden: field.boolean(),
    price: field.number(),
  },
  { target: "price" },
);

function housesFrame(): Frame {
  return new Frame({
    rooms: numericColumn([1, 2, 2, null, 4, 5, 6, 7, 8, 9]),
    age: numericColumn([10, 10, 10, 10, 20, 20, 30, 40, 50, 60], "integer"),
    city: categoryColumn([
      "Oslo",
      "Oslo",
      "Bergen",
      null,
      "Oslo",
      "Bergen",
      "Oslo",
      "Oslo",
      "Oslo",
      "Bergen",
    ]),
    garden: numericColumn([1, 0, 0, 1, 1, 1, 0, 1, 1, 1], "boolean"),
    price: numericColumn([100, 120, 130, 150, 160, 170, 180, 200, 250, 300]),
  });
}

/** `n` random houses of the `houses` schema. */
function randomHouses(seed: number, n: number): Frame {
  const random = createRandom(seed);
  return new Frame({
    rooms: numericColumn(Array.from({ length: n }, () => random.next() * 8)),
    age: numericColumn(
      Array.from({ length: n }, () => Math.floor(random.next() * 50)),
      "integer",
    ),
    city: categoryColumn(
      Array.from({ length: n }, () => ["Oslo", "Bergen", "Tromsø"][random.int(3)]),
    ),
    garden: numericColumn(
      Array.from({ length: n }, () => random.int(2)),
      "boolean",
    ),
    price: numericColumn(Array.from({ length: n }, () => random.next() * 1e6)),
  });
}

describe("profileFrame", () => {
  it("counts, missing rate, moments, min/max and value frequencies by hand", () => {
    const profile = profileFrame(housesFrame(), houses, { bins: 4 });
    expect(profile.format).toBe("mlops.profile/v1");
    expect(profile.rowCount).toBe(10);
    const rooms = profile.features.rooms as NumericProfile;
    expect(rooms).toMatchObject({
      kind: "number",
      count: 9,
      missing: 1,
      missingRate: 0.1,
      min: 1,
      max: 9,
    });
    expect(rooms.mean).toBeCloseTo(44 / 9, 14);
    // Sample standard deviation (ddof = 1) of 1 2 2 4 5 6 7 8 9.
    const mean = 44 / 9;
    const values = [1, 2, 2, 4, 5, 6, 7, 8, 9];
    const variance = values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / 8;
    expect(rooms.std).toBeCloseTo(Math.sqrt(variance), 14);
    // Quartile edges are values of the data (inverted CDF: ceil(k·9/4) − 1 → 2, 4, 6, 8).
    expect(rooms.edges).toEqual([1, 2, 5, 7, 9]);
    expect(rooms.counts).toEqual([1, 2, 2, 2, 2]);
    expect(profile.features.city).toEqual({
      kind: "category",
      count: 9,
      missing: 1,
      missingRate: 0.1,
      values: { Oslo: 6, Bergen: 3, Tromsø: 0 },
      other: 0,
    });
    expect(profile.features.garden).toMatchObject({
      kind: "boolean",
      values: { false: 3, true: 7 },
    });
    expect(profile.target).toMatchObject({
      name: "price",
      kind: "number",
      count: 10,
      min: 100,
      max: 300,
    });
    expect(Object.keys(profile.features)).toEqual(["rooms", "age", "city", "garden"]);
  });

  it("ties make fewer, exact bins: an integer column is described exactly", () => {
    const age = profileFrame(housesFrame(), houses).features.age as NumericProfile;
    expect(age.edges).toEqual([10, 20, 30, 40, 50, 60]);
    expect(age.counts).toEqual([4, 2, 1, 1, 1, 1]);
  });

  it("every value used: edges are data values, the CDF exact at each, at most 1/bins between two", () => {
    const random = createRandom(7);
    const n = 20_000;
    const values = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      // Half continuous, a tenth a heavy atom at 3, the rest integers.
      const u = random.next();
      values[i] = u < 0.5 ? random.next() * 10 : u < 0.6 ? 3 : Math.floor(random.next() * 10);
    }
    const profile = profileNumbers(values, { bins: 100, sampleSize: n });
    const sorted = Float64Array.from(values).sort();
    const present = new Set(values);
    let cumulative = 0;
    for (let i = 0; i < profile.edges.length; i++) {
      expect(present.has(profile.edges[i])).toBe(true);
      cumulative += profile.counts[i];
      const atOrBelow = sorted.filter((value) => value <= profile.edges[i]).length;
      expect(cumulative).toBe(atOrBelow);
      if (i > 0) {
        const strictlyBetween = sorted.filter(
          (value) => value > profile.edges[i - 1] && value < profile.edges[i],
        ).length;
        expect(strictlyBetween).toBeLessThanOrEqual(n / 100);
      }
    }
    expect(cumulative).toBe(n);
  });

  it("a column past the sample size: edges from the sample, every count exact", () => {
    // Heavy tails both ways, an atom, rounded values (ties), missing and infinite values.
    const random = createRandom(23);
    const n = 120_000;
    const values = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const u = random.next();
      const normal =
        Math.sqrt(-2 * Math.log(1 - random.next())) * Math.cos(2 * Math.PI * random.next());
      values[i] =
        u < 0.08
          ? Number.NaN
          : u < 0.09
            ? Number.POSITIVE_INFINITY
            : u < 0.2
              ? 0
              : u < 0.4
                ? Math.round(Math.exp(normal))
                : Math.tan(Math.PI * (random.next() - 0.5)) * 100;
    }
    const profile = profileNumbers(values, { bins: 100, sampleSize: 10_000 });
    const finite = values.filter(Number.isFinite);
    const sorted = Float64Array.from(finite).sort();
    expect(profile.count).toBe(finite.length);
    expect(profile.missing).toBe(n - finite.length);
    expect(profile.min).toBe(sorted[0]);
    expect(profile.max).toBe(sorted[sorted.length - 1]);
    expect(profile.edges[0]).toBe(sorted[0]);
    expect(profile.edges.at(-1)).toBe(sorted[sorted.length - 1]);
    let mean = 0;
    for (const value of finite) mean += value / finite.length;
    let squares = 0;
    for (const value of finite) squares += (value - mean) ** 2;
    expect((profile.mean as number) / mean).toBeCloseTo(1, 10);
    expect((profile.std as number) / Math.sqrt(squares / (finite.length - 1))).toBeCloseTo(1, 10);
    const present = new Set(finite);
    let cumulative = 0;
    let previousIndex = 0;
    let widest = 0;
    for (let i = 0; i < profile.edges.length; i++) {
      const edge = profile.edges[i];
      expect(present.has(edge)).toBe(true);
      cumulative += profile.counts[i];
      // The exact empirical CDF at the edge, and the exact count of values at it.
      let atOrBelow = previousIndex;
      while (atOrBelow < sorted.length && sorted[atOrBelow] <= edge) atOrBelow++;
      expect(cumulative).toBe(atOrBelow);
      let equal = 0;
      for (let k = atOrBelow - 1; k >= 0 && sorted[k] === edge; k--) equal++;
      expect(profile.atEdge[i]).toBe(equal);
      widest = Math.max(widest, atOrBelow - equal - previousIndex);
      previousIndex = atOrBelow;
    }
    expect(cumulative).toBe(finite.length);
    // Between two edges: about 1/bins of the values (the sample's quantiles), not exactly.
    expect(widest).toBeLessThan((1.5 * finite.length) / 100);
    expect(widest).toBeGreaterThan(finite.length / 200);
    // Deterministic: the sample is seeded.
    expect(profileNumbers(values, { bins: 100, sampleSize: 10_000 })).toEqual(profile);
  });

  it("a large frame: one row sample for the edges and for predict", () => {
    const n = 30_000;
    const frame = randomHouses(5, n);
    const asked: Int32Array[] = [];
    const rooms = frame.numeric("rooms");
    const profile = profileFrame(frame, houses, {
      sampleSize: 4_000,
      predict: (rows) => {
        asked.push(rows);
        return Array.from(rows, (row) => 2 * rooms[row]);
      },
    });
    expect(profile.sampleSize).toBe(4_000);
    expect(profile.rowCount).toBe(n);
    expect(asked).toHaveLength(1);
    const rows = asked[0];
    expect(rows.length).toBe(4_000);
    for (let k = 1; k < rows.length; k++) expect(rows[k]).toBeGreaterThan(rows[k - 1]);
    // Features and target: counted over every row; predictions: over the sample's rows.
    expect(profile.features.rooms).toMatchObject({ count: n, missing: 0 });
    expect(profile.features.age.count).toBe(n);
    expect((profile.features.age as NumericProfile).edges).toHaveLength(50);
    expect(profile.features.city.count).toBe(n);
    expect(profile.target?.count).toBe(n);
    const predictions = profile.predictions as NumericProfile;
    expect(predictions.count).toBe(4_000);
    const sampled = Array.from(rows, (row) => 2 * rooms[row]).sort((a, b) => a - b);
    expect(predictions.min).toBe(sampled[0]);
    expect(predictions.max).toBe(sampled.at(-1));
    // It round-trips through the validator with its sample size.
    expect(parseProfile(JSON.parse(JSON.stringify(profile)))).toEqual(profile);
    // A frame within the sample size is profiled whole, predictions on every row.
    const small = profileFrame(frame.slice(0, 3_000), houses, {
      sampleSize: 4_000,
      predict: (positions) => Float64Array.from(positions, (row) => rooms[row]),
    });
    expect(small.sampleSize).toBeUndefined();
    expect(small.predictions?.count).toBe(3_000);
    expect(() =>
      profileFrame(frame, houses, { predictions: new Float64Array(n), predict: () => [] }),
    ).toThrow(/give predictions or predict, not both/);
    expect(() => profileFrame(frame, houses, { sampleSize: 10, predict: () => [1] })).toThrow(
      /predict gave 1 predictions for 10 rows/,
    );
    expect(() => profileFrame(frame, houses, { sampleSize: 0.5 })).toThrow(
      /sampleSize must be an integer from 1 to 2147483647, got 0.5/,
    );
  });

  it("is deterministic and small: a few KB per feature", () => {
    const frame = randomHouses(1, 100_000);
    const first = JSON.stringify(profileFrame(frame, houses));
    expect(JSON.stringify(profileFrame(frame, houses))).toBe(first);
    const profile = JSON.parse(first);
    for (const name of ["rooms", "age", "city", "garden"]) {
      expect(JSON.stringify(profile.features[name]).length).toBeLessThan(5000);
    }
  });

  it("profiles predictions and sums rare categories past maxCategories", () => {
    const frame = housesFrame();
    const profile = profileFrame(frame, houses, {
      predictions: [1, 2, 3, 4, 5, 6, 7, 8, 9, Number.NaN],
      maxCategories: 1,
    });
    expect(profile.predictions).toMatchObject({ count: 9, missing: 1, min: 1, max: 9 });
    expect(profile.features.city).toMatchObject({ values: { Oslo: 6 }, other: 3, count: 9 });
  });

  it("says what is wrong with bad input", () => {
    const frame = housesFrame().drop(["age"]);
    expect(() => profileFrame(frame, houses)).toThrow(
      /the frame has no column "age" \(a feature of the schema\); it has: rooms, city, garden, price/,
    );
    expect(() => profileFrame(housesFrame(), houses, { predictions: [1, 2] })).toThrow(
      /2 predictions for 10 rows/,
    );
    expect(() => profileFrame(housesFrame(), houses, { bins: 0 })).toThrow(
      /bins must be an integer from 1 to 100000, got 0/,
    );
    const text = housesFrame().withColumn(
      "rooms",
      categoryColumn(["a", "b", "a", "a", "a", "a", "a", "a", "a", "a"]),
    );
    expect(() => profileFrame(text, houses)).toThrow(
      expect.objectContaining({ code: "data_invalid" }),
    );
  });

  it("a profile without the target when the frame has none", () => {
    const profile = profileFrame(housesFrame().drop(["price"]), houses);
    expect(profile.target).toBeUndefined();
  });
});

describe("the profile in the model artifact", () => {
  const model = { inputs: ["rooms", "age"], intercept: 1 };
  const arrays = { coefficients: Float64Array.of(2, 3) };

  it("round-trips through the file format", () => {
    const profile = profileFrame(housesFrame(), houses, { predictions: new Array(10).fill(5) });
    const artifact = createArtifact({ kind: "linear", schema: houses, model, arrays, profile });
    const decoded = decodeArtifact(encodeArtifact(artifact));
    expect(decoded.manifest.profile).toEqual(profile);
  });

  it("artifacts without a profile still load", () => {
    const artifact = createArtifact({ kind: "linear", schema: houses, model, arrays });
    expect(decodeArtifact(encodeArtifact(artifact)).manifest.profile).toBeUndefined();
  });

  it("a damaged profile is refused with its path", () => {
    const profile = profileFrame(housesFrame(), houses);
    (profile.features.rooms as NumericProfile).counts[0] = 99;
    expect(() =>
      createArtifact({ kind: "linear", schema: houses, model, arrays, profile }),
    ).toThrow(
      expect.objectContaining({
        code: "artifact_invalid",
        message: expect.stringMatching(
          /profile\.features\.rooms\.counts: counts add up to 107, expected count 9/,
        ),
      }),
    );
    const stranger = profileFrame(housesFrame(), houses);
    stranger.features.stranger = stranger.features.rooms;
    expect(() =>
      createArtifact({ kind: "linear", schema: houses, model, arrays, profile: stranger }),
    ).toThrow(/profile\.features: "stranger" not in the schema/);
  });

  it("parseProfile checks a profile on its own", () => {
    const profile = profileFrame(housesFrame(), houses);
    expect(parseProfile(JSON.parse(JSON.stringify(profile)))).toEqual(profile);
    const broken = JSON.parse(JSON.stringify(profile));
    broken.features.age.edges = [10, 30, 20, 40, 50, 60];
    expect(() => parseProfile(broken, "profile.json")).toThrow(
      expect.objectContaining({
        code: "profile_invalid",
        message: expect.stringMatching(
          /profile\.json: invalid training profile: features\.age\.edges\[2\]: edges must increase: 20 follows 30/,
        ),
      }),
    );
  });
});
