import { describe, expect, it } from "vitest";
import { categoryColumn, Frame, numericColumn } from "../frame/frame.js";
import { createRandom } from "../metrics/random.js";
import { profileFrame, profileNumbers } from "../profile/profile.js";
import { field } from "../schema/field.js";
import { schema } from "../schema/schema.js";
import { compareNumeric, resolveDriftOptions } from "./compare.js";
import { driftReport } from "./report.js";
import { ksTwoSample, wassersteinDistance } from "./samples.js";

/** Normal(mean, sd) values from a seeded generator (Box–Muller). */
function normals(seed: number, n: number, mean = 0, sd = 1): Float64Array {
  const random = createRandom(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const u = 1 - random.next();
    out[i] = mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.next());
  }
  return out;
}

const sorted = (values: Float64Array) => Float64Array.from(values).sort();

describe("drift from a stored profile", () => {
  const cases: [string, Float64Array, Float64Array][] = [
    ["same distribution", normals(1, 20_000), normals(2, 5_000)],
    ["shifted", normals(3, 20_000), normals(4, 3_000, 0.3)],
    ["wider", normals(5, 20_640), normals(6, 800, 0, 1.5)],
    ["small current", normals(7, 10_000), normals(8, 40, 0.5)],
    [
      "integers with ties",
      normals(9, 20_000).map(Math.round),
      normals(10, 4_000, 0.2).map(Math.round),
    ],
    [
      "a heavy atom",
      normals(11, 20_000).map((v) => Math.min(v, 1)),
      normals(12, 2_000).map((v) => Math.min(v, 0.8)),
    ],
    ["current outside the reference range", normals(13, 5_000), normals(14, 1_000, 5)],
  ];
  for (const [name, reference, current] of cases) {
    it(`${name}: the KS statistic is within 0.01 of the exact one`, () => {
      const exact = ksTwoSample(reference, current).statistic;
      const profile = profileNumbers(reference);
      const drift = compareNumeric(
        "x",
        { profile },
        { kind: "sorted", sorted: sorted(current), missing: 0 },
      );
      expect(Math.abs((drift.ks as number) - exact)).toBeLessThanOrEqual(0.01);
      // Wasserstein from the profile: within a few percent of the exact distance, or tiny.
      const wasserstein = wassersteinDistance(reference, current);
      expect(Math.abs((drift.wasserstein as number) - wasserstein)).toBeLessThan(
        0.05 * wasserstein + 0.005,
      );
    });
  }

  it("a large current sample counted on the profile's bins: KS within 0.01 of the exact one", () => {
    // What `mlops drift` does against a stored profile: no sort, one pass into the bins.
    const reference = normals(31, 100_000);
    const training = profileFrame(
      new Frame({ x: numericColumn(reference) }),
      schema({ x: field.number() }),
    );
    const profile = training.features.x as ReturnType<typeof profileNumbers>;
    for (const [shift, sd] of [
      [0, 1],
      [0.05, 1],
      [0.2, 1.3],
    ]) {
      const current = normals(32, 300_000, shift, sd);
      const exact = ksTwoSample(reference, current).statistic;
      const report = driftReport(training, new Frame({ x: numericColumn(current) }));
      const drift = report.features.x;
      expect(Math.abs((drift.ks as number) - exact)).toBeLessThanOrEqual(0.01);
      expect(drift.current.count).toBe(current.length);
      const wasserstein = wassersteinDistance(reference, current);
      expect(Math.abs((drift.wasserstein as number) - wasserstein)).toBeLessThan(
        0.05 * wasserstein + 0.005,
      );
      // The binned path gives what the exact sort against the profile gives, to the bins' resolution.
      const sortedPath = compareNumeric(
        "x",
        { profile },
        { kind: "sorted", sorted: sorted(current), missing: 0 },
      );
      expect(Math.abs((drift.ks as number) - (sortedPath.ks as number))).toBeLessThanOrEqual(0.01);
      expect(drift.psi as number).toBeCloseTo(sortedPath.psi as number, 6);
      expect(drift.jensenShannon as number).toBeCloseTo(sortedPath.jensenShannon as number, 6);
    }
  });

  it("a training column past the profile's sample size (heavy tails, ties, missing): KS within 0.01", () => {
    // The profile's edges come from a sample of 16,384 of these 200,000 values; its counts from
    // all of them. ksTwoSample is the exact statistic (scipy's ks_2samp, see statistics.test.ts).
    const random = createRandom(41);
    const draw = (n: number, shift: number, scale: number): Float64Array => {
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const u = random.next();
        const normal =
          Math.sqrt(-2 * Math.log(1 - random.next())) * Math.cos(2 * Math.PI * random.next());
        out[i] =
          u < 0.06
            ? Number.NaN
            : u < 0.16
              ? 0
              : u < 0.36
                ? Math.round(3 * Math.exp(normal))
                : u < 0.46
                  ? Math.tan(Math.PI * (random.next() - 0.5))
                  : shift + scale * Math.exp(1.5 * normal);
      }
      return out;
    };
    const reference = draw(200_000, 0, 1);
    const training = profileFrame(
      new Frame({ x: numericColumn(reference) }),
      schema({ x: field.number().nullable() }),
    );
    expect(training.sampleSize).toBe(16_384);
    const profile = training.features.x as ReturnType<typeof profileNumbers>;
    const finiteReference = reference.filter(Number.isFinite);
    expect(profile.count).toBe(finiteReference.length);
    for (const [n, shift, scale] of [
      [5_000, 0, 1],
      [20_000, 0.3, 1],
      [3_000, 0, 1.4],
      [300_000, 0, 1],
      [60, 0.5, 1],
    ]) {
      const current = draw(n, shift, scale);
      const finite = current.filter(Number.isFinite);
      const exact = ksTwoSample(finiteReference, finite).statistic;
      const sortedPath = compareNumeric(
        "x",
        { profile },
        { kind: "sorted", sorted: sorted(finite), missing: n - finite.length },
      );
      expect(Math.abs((sortedPath.ks as number) - exact)).toBeLessThanOrEqual(0.01);
      // And counted on the profile's bins, as `mlops drift` and the server do.
      const report = driftReport(training, new Frame({ x: numericColumn(current) }));
      expect(Math.abs((report.features.x.ks as number) - exact)).toBeLessThanOrEqual(0.01);
    }
  });

  it("against raw reference data KS and Wasserstein are exact", () => {
    const [reference, current] = [normals(21, 3_000), normals(22, 2_000, 0.1)];
    const drift = compareNumeric(
      "x",
      { profile: profileNumbers(reference), sorted: sorted(reference) },
      { kind: "sorted", sorted: sorted(current), missing: 0 },
    );
    const exact = ksTwoSample(reference, current);
    expect(drift.ks).toBe(exact.statistic);
    expect(drift.ksPValue).toBe(exact.pValue);
    expect(drift.wasserstein).toBe(wassersteinDistance(reference, current));
  });
});

describe("the method chooser", () => {
  const profileOf = (values: Float64Array) => ({
    profile: profileNumbers(values),
    sorted: sorted(values),
  });
  const current = (values: Float64Array) => ({
    kind: "sorted" as const,
    sorted: sorted(values),
    missing: 0,
  });

  it("small samples: the KS test decides", () => {
    const drift = compareNumeric("x", profileOf(normals(1, 500)), current(normals(2, 400, 0.5)));
    expect(drift).toMatchObject({ method: "ks", threshold: 0.05, drifted: true, verdict: "drift" });
    expect(drift.statistic).toBe(drift.ks);
    expect(drift.pValue).toBe(drift.ksPValue);
    expect(drift.pValue as number).toBeLessThan(0.05);
  });

  it("large samples: a shift too small to matter is significant, but not drift", () => {
    // 0.03 σ: KS flags it (p ≪ 0.05) — what Evidently's KS would call drift at this size.
    const drift = compareNumeric(
      "x",
      profileOf(normals(3, 200_000)),
      current(normals(4, 200_000, 0.03)),
    );
    expect(drift.ksPValue as number).toBeLessThan(1e-6);
    expect(drift).toMatchObject({
      method: "wasserstein",
      threshold: 0.1,
      drifted: false,
      verdict: "no_drift",
    });
    expect(drift.statistic).toBe(drift.wassersteinNormed);
    expect(drift.pValue).toBeNull();
    // A shift that matters still is.
    const moved = compareNumeric(
      "x",
      profileOf(normals(3, 200_000)),
      current(normals(5, 200_000, 0.25)),
    );
    expect(moved).toMatchObject({ method: "wasserstein", verdict: "drift" });
  });

  it("a small current batch against a large reference is tested, not measured", () => {
    // 60 rows from the same distribution: Wasserstein/σ of such a batch is often ≥ 0.1 (sampling
    // noise), which is why Evidently's size rule — by the reference size alone — raises false alarms.
    let noisy = 0;
    let flagged = 0;
    for (let seed = 0; seed < 40; seed++) {
      const drift = compareNumeric(
        "x",
        profileOf(normals(100, 50_000)),
        current(normals(200 + seed, 60)),
      );
      expect(drift.method).toBe("ks");
      if ((drift.wassersteinNormed as number) >= 0.1) noisy++;
      if (drift.drifted) flagged++;
    }
    expect(noisy).toBeGreaterThan(20);
    expect(flagged).toBeLessThan(8);
  });

  it("below the minimum sample size the verdict is insufficient_data, never no_drift", () => {
    const drift = compareNumeric("x", profileOf(normals(1, 5_000)), current(normals(2, 12, 3)));
    expect(drift).toMatchObject({ verdict: "insufficient_data", drifted: false, method: "ks" });
    // The statistics are still there to read.
    expect(drift.ks as number).toBeGreaterThan(0.5);
    const empty = compareNumeric("x", profileOf(normals(1, 5_000)), {
      kind: "sorted",
      sorted: new Float64Array(0),
      missing: 7,
    });
    expect(empty).toMatchObject({
      verdict: "insufficient_data",
      ks: null,
      wasserstein: null,
      psi: null,
    });
    expect(empty.current).toEqual({ count: 0, missingRate: 1, mean: null, std: null });
  });

  it("a constant reference has no σ: Jensen–Shannon decides at large n", () => {
    const constant = new Float64Array(5_000).fill(2);
    const drift = compareNumeric("x", profileOf(constant), current(normals(1, 5_000, 2)));
    expect(drift.wassersteinNormed).toBeNull();
    expect(drift).toMatchObject({ method: "jensen_shannon", verdict: "drift" });
  });

  it("every threshold and method is an option, per column too", () => {
    const reference = profileOf(normals(1, 500));
    const now = current(normals(2, 400, 0.15));
    expect(compareNumeric("x", reference, now, { numericMethod: "psi", psi: 0.01 })).toMatchObject({
      method: "psi",
      threshold: 0.01,
    });
    expect(
      compareNumeric("x", reference, now, {
        columns: { x: { method: "wasserstein", threshold: 0.5 } },
      }),
    ).toMatchObject({
      method: "wasserstein",
      threshold: 0.5,
      verdict: "no_drift",
    });
    expect(compareNumeric("x", reference, now, { minSampleSize: 1000 }).verdict).toBe(
      "insufficient_data",
    );
    expect(compareNumeric("x", reference, now, { testMaxSampleSize: 10 }).method).toBe(
      "wasserstein",
    );
    expect(() => resolveDriftOptions({ pValue: 5 })).toThrow(
      /drift options: pValue: expected a probability in \(0, 1\), got 5/,
    );
    expect(() => resolveDriftOptions({ numericMethod: "chi_square" as never })).toThrow(
      /numericMethod: expected one of auto, ks, wasserstein, psi, jensen_shannon, got "chi_square"/,
    );
    expect(() =>
      compareNumeric("x", reference, now, { columns: { x: { method: "chi_square" } } }),
    ).toThrow(/"chi_square" does not apply to a numeric column/);
  });
});

describe("driftReport", () => {
  const houses = schema(
    {
      income: field.number(),
      rooms: field.number(),
      ocean: field.category(["inland", "near", "island"]),
      price: field.number(),
    },
    { target: "price" },
  );
  function frame(seed: number, n: number, incomeShift = 0, oceanShift = false): Frame {
    const random = createRandom(seed);
    const income = normals(seed, n, 4 + incomeShift, 1.5);
    const rooms = normals(seed + 1000, n, 5, 1);
    const ocean = Array.from({ length: n }, () => {
      const u = random.next();
      return oceanShift
        ? u < 0.7
          ? "near"
          : "inland"
        : u < 0.6
          ? "inland"
          : u < 0.99
            ? "near"
            : "island";
    });
    const price = income.map((value, i) => value * 50_000 + rooms[i] * 1_000);
    return new Frame({
      income: numericColumn(income),
      rooms: numericColumn(rooms),
      ocean: categoryColumn(ocean),
      price: numericColumn(price),
    });
  }

  it("a profile against data from the same distribution: no drift", () => {
    const training = frame(1, 20_000);
    const profile = profileFrame(training, houses, { predictions: training.numeric("price") });
    const now = frame(2, 5_000);
    const report = driftReport(profile, now, { predictions: now.numeric("price") });
    expect(report.dataset).toMatchObject({
      drifted: false,
      share: 0,
      verdict: "no_drift",
      features: 3,
      judged: 3,
    });
    expect(report.features.ocean).toMatchObject({
      kind: "category",
      method: "jensen_shannon",
      ks: null,
      wasserstein: null,
    });
    expect(report.features.income).toMatchObject({ kind: "number", method: "wasserstein" });
    expect(report.predictions).toMatchObject({ verdict: "no_drift" });
    expect(report.target).toMatchObject({ verdict: "no_drift" });
    expect(report.reference).toEqual({ source: "profile", rows: 20_000 });
    expect(report.current).toEqual({ source: "data", rows: 5_000 });
    // Plain JSON: every statistic a number or null.
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
  });

  it("shifted incomes and a new ocean mix: the data set has drifted", () => {
    const training = frame(1, 20_000);
    const profile = profileFrame(training, houses);
    const report = driftReport(profile, frame(3, 5_000, 1.5, true));
    expect(report.features.income).toMatchObject({ verdict: "drift" });
    expect(report.features.ocean).toMatchObject({ verdict: "drift" });
    expect(report.features.rooms).toMatchObject({ verdict: "no_drift" });
    expect(report.dataset).toMatchObject({ drifted: true, driftedFeatures: 2, judged: 3 });
    expect(report.dataset.share).toBeCloseTo(2 / 3, 12);
    expect(
      driftReport(profile, frame(3, 5_000, 1.5, true), { datasetShare: 0.9 }).dataset.drifted,
    ).toBe(false);
  });

  it("raw reference data gives the exact KS and the same bins as its profile", () => {
    const training = frame(1, 3_000);
    const now = frame(4, 2_000, 0.2);
    const fromData = driftReport(training, now, { schema: houses });
    const fromProfile = driftReport(profileFrame(training, houses), now);
    expect(fromData.reference.source).toBe("data");
    expect(fromData.features.income.ks).toBe(
      ksTwoSample(training.numeric("income"), now.numeric("income")).statistic,
    );
    expect(fromData.features.income.psi).toBe(fromProfile.features.income.psi);
    expect(fromData.features.ocean).toEqual(fromProfile.features.ocean);
    expect(fromData.target?.ks).toBe(
      ksTwoSample(training.numeric("price"), now.numeric("price")).statistic,
    );
  });

  it("tiny current data: insufficient_data for the data set", () => {
    const report = driftReport(profileFrame(frame(1, 2_000), houses), frame(5, 10));
    expect(report.dataset).toMatchObject({
      verdict: "insufficient_data",
      drifted: false,
      judged: 0,
      share: 0,
    });
  });

  it("says which columns are missing or of the wrong kind", () => {
    const profile = profileFrame(frame(1, 500), houses);
    expect(() => driftReport(profile, frame(2, 100).drop(["rooms"]))).toThrow(
      /the current data has no column "rooms"; it has: income, ocean, price/,
    );
    const text = frame(2, 100).withColumn("income", categoryColumn(new Array(100).fill("x")));
    expect(() => driftReport(profile, text)).toThrow(
      /current column "income" holds text, expected numbers/,
    );
    expect(() => driftReport(profile, frame(2, 100), { features: ["nope"] })).toThrow(
      /unknown feature "nope"; the reference has: income, rooms, ocean/,
    );
  });
});

describe("the histogram of a feature's drift", () => {
  it("numeric: the reference's deciles, plus a bin on each side for values out of its range", () => {
    // 1..100 as the reference: deciles close at 10, 20, …, 100.
    const reference = Float64Array.from({ length: 100 }, (_, i) => i + 1);
    const current = Float64Array.from([-5, 1, 2, 15, 15, 95, 100, 250]);
    const drift = compareNumeric(
      "x",
      { profile: profileNumbers(reference) },
      { kind: "sorted", sorted: current, missing: 0 },
    );
    const histogram = drift.histogram!;
    expect(histogram.bins).toEqual([
      "< 1",
      "[1, 10]",
      "(10, 20]",
      "(20, 30]",
      "(30, 40]",
      "(40, 50]",
      "(50, 60]",
      "(60, 70]",
      "(70, 80]",
      "(80, 90]",
      "(90, 100]",
      "> 100",
    ]);
    expect(histogram.bounds?.[0]).toEqual([null, 1]);
    expect(histogram.bounds?.at(-1)).toEqual([100, null]);
    expect(histogram.reference).toEqual([0, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 0]);
    expect(histogram.current).toEqual([1, 2, 2, 0, 0, 0, 0, 0, 0, 0, 2, 1]);
  });

  it("category: the reference's values in order, then values it never saw", () => {
    const drift = driftReport(
      new Frame([["color", categoryColumn(["red", "white", "red", "red"])]], 4),
      new Frame([["color", categoryColumn(["white", "rosé", "red"])]], 3),
      { minSampleSize: 1 },
    ).features.color;
    expect(drift.histogram).toEqual({
      bins: ["red", "white", "rosé"],
      reference: [3, 1, 0],
      current: [1, 1, 1],
    });
  });
});
