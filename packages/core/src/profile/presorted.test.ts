import { describe, expect, it } from "vitest";
import { Frame, numericColumn } from "../frame/frame.js";
import { sortFloat64 } from "../internal/sort.js";
import { createRandom } from "../metrics/random.js";
import { field } from "../schema/field.js";
import { schema } from "../schema/schema.js";
import { countOnEdges, finiteAt, samplePositions } from "./edges.js";
import { countPresorted, type PresortedColumn, sortedFromPresorted } from "./presorted.js";
import {
  profileFrame,
  profileFrameWith,
  profileNumbers,
  profilePresorted,
  profileSortedColumn,
} from "./profile.js";
import type { NumericProfile } from "./types.js";

/**
 * Rows in ascending float32 order as the exact tree splitter presorts them (ties by row, or
 * reversed to show that their order does not matter), NaN and ±Infinity rows last.
 */
function presort(values: Float64Array, reverseTies = false): PresortedColumn {
  const finite: number[] = [];
  const rest: number[] = [];
  for (let i = 0; i < values.length; i++) (Number.isFinite(values[i]) ? finite : rest).push(i);
  const key = (row: number) => Math.fround(values[row]);
  finite.sort((a, b) => key(a) - key(b) || (reverseTies ? b - a : a - b));
  const order = Int32Array.from([...finite, ...rest]);
  const keys = new Float32Array(values.length).fill(Number.NaN);
  for (let k = 0; k < finite.length; k++) keys[k] = values[order[k]];
  return { order, keys, count: finite.length };
}

const random = createRandom(29);

/** Columns of every awkward kind, `n` rows each. */
function columns(n: number): [string, Float64Array][] {
  const make = (f: (i: number) => number) => Float64Array.from({ length: n }, (_, i) => f(i));
  const normal = () =>
    Math.sqrt(-2 * Math.log(1 - random.next())) * Math.cos(2 * Math.PI * random.next());
  return [
    ["uniform", make(() => random.next())],
    ["normal", make(() => 1000 * normal())],
    ["integers", make(() => random.int(12))],
    ["float32 data", make(() => Math.fround(normal()))],
    ["heavy tail", make(() => Math.exp(4 * normal()))],
    // Distinct doubles a few to a float32: short runs of one key, ordered by float64.
    ["float32 ties", make(() => Math.fround(normal()) * (1 + random.int(3) * 1e-12))],
    // Thousands of distinct doubles on one float32: too long a run, profiled the usual way.
    ["one float32", make(() => 1 + random.int(5000) * 1e-13)],
    ["signed zeros", make(() => [0, -0, 1e-310, -1e-310, 2, -2][random.int(6)])],
    ["huge", make(() => (random.next() - 0.5) * 6e38)],
    // A minimum and a maximum of −0 and +0 in a few rows, likely outside the sample: the
    // extremes keep the sign of the zero in the lowest row, as countOnEdges does.
    ["rare zeros below", make((i) => (i % 977 === 5 ? (i % 2 ? -0 : 0) : 1 + random.next()))],
    ["rare zeros above", make((i) => (i % 983 === 7 ? (i % 2 ? 0 : -0) : -1 - random.next()))],
    ["some missing", make(() => (random.next() < 0.2 ? Number.NaN : normal()))],
    ["mostly missing", make(() => (random.next() < 0.7 ? Number.NaN : normal()))],
    ["all missing", make(() => Number.NaN)],
    ["one value", make(() => 3.25)],
  ];
}

describe("presorted profiles", () => {
  // Past 40,000 rows a sample is sorted, not picked from the presorted order.
  for (const n of [700, 16_384, 16_385, 40_000, 40_001]) {
    it(`${n} rows: profilePresorted gives profileFrame's column profiles to the bit`, () => {
      const data = columns(n);
      const frame = new Frame(data.map(([name, values]) => [name, numericColumn(values)] as const));
      const shape = schema(Object.fromEntries(data.map(([name]) => [name, field.number()])));
      const plain = profileFrame(frame, shape);
      const positions = n > 16_384 ? samplePositions(n, 16_384) : undefined;
      for (const reverseTies of [false, true]) {
        const given = new Map<string, NumericProfile>();
        for (const [name, values] of data) {
          const made = profilePresorted(values, presort(values, reverseTies), positions);
          if (made !== undefined) given.set(name, made);
        }
        // Declined: a sample mostly missing (numericProfile draws a denser one), a column
        // without values, thousands of distinct doubles on one float32.
        const declined = data.map(([name]) => name).filter((name) => !given.has(name));
        expect(declined).toEqual(
          n > 16_384
            ? ["one float32", "signed zeros", "mostly missing", "all missing"]
            : ["one float32", "signed zeros"],
        );
        const fast = profileFrameWith(frame, shape, {}, { features: given });
        // toEqual tells −0 from +0 and compares every count, edge and moment exactly.
        expect(fast).toEqual(plain);
      }
    });
  }

  it("sorts as sortFloat64 and counts as countOnEdges, or declines", () => {
    const positions = samplePositions(40_000, 16_384);
    const declined: string[] = [];
    for (const [name, values] of columns(40_000)) {
      const presorted = presort(values, true);
      const sorted = sortedFromPresorted(values, presorted);
      const sample = sortFloat64(finiteAt(values, positions));
      if (sorted === undefined) {
        declined.push(name);
        continue;
      }
      expect(sorted).toEqual(sortFloat64(values.filter(Number.isFinite)));
      if (sample.length === 0) continue;
      // Edges as a profile picks them: values of the sample.
      const edges = Float64Array.from(
        new Set(Array.from({ length: 40 }, (_, k) => sample[Math.floor((k * sample.length) / 40)])),
      );
      const counted = countPresorted(values, presorted, edges, 0.25);
      if (counted === undefined) declined.push(`${name} (counts)`);
      else expect(counted).toEqual(countOnEdges(values, edges, 0.25));
    }
    // Only columns with thousands of distinct doubles on one float32 (±1e-310 rounds to a
    // float32 zero) are left to the usual path.
    expect(declined).toEqual(["one float32", "signed zeros"]);
  });

  it("profileSortedColumn: a column's profile from its sorted finite values, to the bit", () => {
    for (const [name, values] of columns(5_000)) {
      const sorted = sortFloat64(values.filter(Number.isFinite));
      const made = profileSortedColumn(sorted, values.length - sorted.length);
      expect(made, name).toEqual(profileNumbers(values));
    }
  });

  it("keeps the sign of the zero in the lowest row for the extremes beyond the edges", () => {
    const edges = Float64Array.from([1.5, 2.5]);
    for (const values of [
      Float64Array.from([1.5, -0, 2, 0, 3, -0, 2.5, 0, -0]),
      Float64Array.from([1.5, 0, 2, -0, 2.5]),
      Float64Array.from([-5, -0, -7, 0, -6, -0]).map((v) => -v),
    ]) {
      const expected = countOnEdges(values, edges, 1);
      for (const reverseTies of [false, true]) {
        expect(countPresorted(values, presort(values, reverseTies), edges, 1)).toEqual(expected);
      }
    }
    const zeros = Float64Array.from([1.5, -0, 2, 0, 3, -0, 2.5]);
    const counted = countPresorted(zeros, presort(zeros, true), edges, 1);
    expect(Object.is(counted?.below.min, -0)).toBe(true);
    expect(counted?.below.atMin).toBe(3);
  });

  it("takes a given predictions profile instead of asking predict, with the defaults only", () => {
    for (const n of [500, 20_000]) {
      const x = new Float64Array(n).map((_, i) => (i * 7919) % 1000);
      const frame = new Frame([["x", numericColumn(x)]]);
      const shape = schema({ x: field.number() });
      const predict = (rows: Int32Array) => Float64Array.from(rows, (row) => x[row] / 3);
      const plain = profileFrame(frame, shape, { predict });
      const rows = n > 16_384 ? samplePositions(n, 16_384) : samplePositions(n, n);
      const predictions = profileSortedColumn(sortFloat64(predict(rows)), 0);
      const asked: number[] = [];
      const counting = (rows: Int32Array) => {
        asked.push(rows.length);
        return predict(rows);
      };
      expect(profileFrameWith(frame, shape, { predict: counting }, { predictions })).toEqual(plain);
      expect(asked).toEqual([]);
      // Other settings than the defaults: the given profile would not be theirs.
      const coarse = profileFrameWith(
        frame,
        shape,
        { predict: counting, bins: 5 },
        { predictions },
      );
      expect(coarse).toEqual(profileFrame(frame, shape, { predict, bins: 5 }));
      expect(asked).toEqual([rows.length]);
      const short = profileSortedColumn(sortFloat64(predict(rows.subarray(1))), 0);
      expect(() => profileFrameWith(frame, shape, { predict }, { predictions: short })).toThrow(
        `a profile of ${rows.length - 1} predictions for ${rows.length} rows`,
      );
    }
  });

  it("declines a presorted order whose missing rows are not the column's", () => {
    const values = Float64Array.from([3, 1, Number.NaN, 2]);
    const wrong: PresortedColumn = {
      order: Int32Array.from([1, 3, 0, 2]),
      keys: Float32Array.from([1, 2, 3, Number.NaN]),
      count: 4,
    };
    expect(countPresorted(values, wrong, Float64Array.from([1, 2]), 0)).toBeUndefined();
    expect(countPresorted(values, presort(values), Float64Array.from([1, 2]), 0)).toEqual(
      countOnEdges(values, Float64Array.from([1, 2]), 0),
    );
  });
});
