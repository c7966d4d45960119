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

  it("edges are data values; the CDF is exact at each edge; at most 1/bins lies between two", () => {
    const random = createRandom(7);
    const n = 20_000;
    const values = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      // Half continuous, a tenth a heavy atom at 3, the rest integers.
      const u = random.next();
      values[i] = u < 0.5 ? random.next() * 10 : u < 0.6 ? 3 : Math.floor(random.next() * 10);
    }
    const profile = profileNumbers(values, { bins: 100 });
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

  it("is deterministic and small: a few KB per feature", () => {
    const random = createRandom(1);
    const n = 100_000;
    const frame = new Frame({
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
