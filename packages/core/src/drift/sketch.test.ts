import { describe, expect, it } from "vitest";
import { MlopsError } from "../errors/error.js";
import { categoryColumn, Frame, numericColumn } from "../frame/frame.js";
import { createRandom } from "../metrics/random.js";
import { profileFrame } from "../profile/profile.js";
import { field } from "../schema/field.js";
import { schema } from "../schema/schema.js";
import { profileBin, profileBinCount } from "./bins.js";
import { driftReport, driftReportFromSketch } from "./report.js";
import { OTHER_VALUES, ProfileSketch } from "./sketch.js";

const houses = schema({
  income: field.number().nullable(),
  age: field.integer(),
  ocean: field.category(["inland", "near", "island"]).nullable(),
  garden: field.boolean(),
});

function normal(random: ReturnType<typeof createRandom>, mean: number, sd: number): number {
  const u = 1 - random.next();
  return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.next());
}

function rows(seed: number, n: number, incomeShift = 0) {
  const random = createRandom(seed);
  return Array.from({ length: n }, () => ({
    income: normal(random, 4 + incomeShift, 1.5),
    age: Math.floor(random.next() * 50) + 1,
    ocean: random.next() < 0.6 ? "inland" : "near",
    garden: random.next() < 0.3,
  }));
}

function frameOf(list: ReturnType<typeof rows>): Frame {
  return new Frame({
    income: numericColumn(list.map((row) => row.income)),
    age: numericColumn(
      list.map((row) => row.age),
      "integer",
    ),
    ocean: categoryColumn(list.map((row) => row.ocean)),
    garden: numericColumn(
      list.map((row) => (row.garden ? 1 : 0)),
      "boolean",
    ),
  });
}

const training = frameOf(rows(1, 20_000));
const predictionsOf = (frame: Frame) => frame.numeric("income").map((value) => value * 50_000);
const profile = profileFrame(training, houses, { predictions: predictionsOf(training) });

describe("profileBin", () => {
  it("numbers the bins below, at, between and above the edges", () => {
    const edges = [1, 2, 3];
    expect([0.5, 1, 1.5, 2, 2.5, 3, 9].map((value) => profileBin(edges, value))).toEqual([
      0, 1, 2, 3, 4, 5, 6,
    ]);
    expect(profileBinCount(edges.length)).toBe(7);
  });
});

describe("ProfileSketch", () => {
  it("gives the same drift figures as the raw data, within the bins' resolution", () => {
    const current = rows(2, 5_000, 0.4);
    const sketch = new ProfileSketch(profile, { window: { rows: 10_000 } });
    const frame = frameOf(current);
    const predictions = predictionsOf(frame);
    for (const [i, row] of current.entries()) sketch.add(row, predictions[i]);
    expect(sketch.rows).toBe(5_000);
    const fromSketch = driftReportFromSketch(profile, sketch.summary());
    const fromData = driftReport(profile, frame, { predictions });
    expect(fromSketch.current).toEqual({ source: "sketch", rows: 5_000 });
    for (const name of ["income", "age"]) {
      const a = fromSketch.features[name];
      const b = fromData.features[name];
      expect(Math.abs((a.ks as number) - (b.ks as number))).toBeLessThanOrEqual(0.01);
      expect(Math.abs((a.wasserstein as number) - (b.wasserstein as number))).toBeLessThan(
        0.02 * (b.wasserstein as number) + 0.01,
      );
      expect(a.psi).toBeCloseTo(b.psi as number, 12);
      expect(a.current.mean).toBeCloseTo(b.current.mean as number, 9);
      expect(a.current.std).toBeCloseTo(b.current.std as number, 9);
      expect(a.verdict).toBe(b.verdict);
    }
    // Integers sit on the edges: the sketch is exact for them.
    expect(fromSketch.features.age.ks).toBe(fromData.features.age.ks);
    expect(fromSketch.features.ocean).toEqual(fromData.features.ocean);
    expect(fromSketch.features.garden).toEqual(fromData.features.garden);
    expect(fromSketch.predictions?.verdict).toBe("drift");
    expect(fromSketch.features.income.verdict).toBe("drift");
  });

  it("a frame counts like its rows", () => {
    const current = rows(3, 700);
    const one = new ProfileSketch(profile);
    const other = new ProfileSketch(profile);
    const frame = frameOf(current);
    for (const [i, row] of current.entries()) one.add(row, predictionsOf(frame)[i]);
    other.addFrame(frame, predictionsOf(frame));
    expect(other.summary()).toEqual(one.summary());
  });

  it("slides by rows: old rows leave, memory stays bounded", () => {
    const sketch = new ProfileSketch(profile, { window: { rows: 1_000 }, blocks: 10 });
    for (const row of rows(4, 5_000, 3)) sketch.add(row);
    // The window now holds between 900 and 1000 of the latest rows.
    for (const row of rows(5, 950)) sketch.add(row);
    expect(sketch.rows).toBeGreaterThanOrEqual(900);
    expect(sketch.rows).toBeLessThanOrEqual(1_000);
    const report = driftReportFromSketch(profile, sketch.summary());
    expect(report.features.income.verdict).toBe("no_drift");
  });

  it("slides by time on an injected clock", () => {
    let now = 1_000_000;
    const sketch = new ProfileSketch(profile, { window: { milliseconds: 60_000 }, now: () => now });
    for (const row of rows(6, 500, 3)) sketch.add(row);
    now += 30_000;
    for (const row of rows(7, 500)) sketch.add(row);
    expect(sketch.rows).toBe(1_000);
    now += 36_000;
    // The first 500 are more than a minute old now.
    expect(sketch.rows).toBe(500);
    expect(driftReportFromSketch(profile, sketch.summary()).features.income.verdict).toBe(
      "no_drift",
    );
    now += 10 * 60_000;
    expect(sketch.rows).toBe(0);
    expect(driftReportFromSketch(profile, sketch.summary()).dataset.verdict).toBe(
      "insufficient_data",
    );
  });

  it("counts missing values and bounds the values the reference never saw", () => {
    const sketch = new ProfileSketch(profile, { maxNewCategories: 2 });
    sketch.add({ income: null, age: 3, ocean: "lake", garden: true });
    sketch.add({ income: Number.NaN, age: 3, ocean: "sea", garden: false });
    sketch.add({ age: 3, ocean: "river", garden: false });
    sketch.add({ income: 2, age: 3, ocean: "pond", garden: 1 });
    const summary = sketch.summary();
    expect(summary.features.income).toMatchObject({ missing: 3 });
    expect(summary.features.ocean).toEqual({
      kind: "values",
      values: { lake: 1, sea: 1, [OTHER_VALUES]: 2 },
      missing: 0,
    });
    expect(summary.features.garden).toEqual({
      kind: "values",
      values: { true: 2, false: 2 },
      missing: 0,
    });
  });

  it("refuses a bad window", () => {
    expect(() => new ProfileSketch(profile, { window: { rows: 0 } })).toThrow(MlopsError);
    expect(() => new ProfileSketch(profile, { window: { milliseconds: -1 } })).toThrow(
      /window.milliseconds must be a number > 0, got -1/,
    );
  });
});
