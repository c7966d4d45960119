import { Frame, MlopsError } from "@mlops/core";
import { describe, expect, it } from "vitest";
import { KFold, resolveFolds, TimeSeriesSplit } from "./folds.js";

const plain = (folds: { train: Int32Array; test: Int32Array }[]) =>
  folds.map((fold) => ({ train: Array.from(fold.train), test: Array.from(fold.test) }));

const range = (start: number, end: number) =>
  Array.from({ length: end - start }, (_, i) => start + i);

describe("KFold", () => {
  it("cuts contiguous folds as scikit-learn's KFold docs show", () => {
    // sklearn.model_selection.KFold docstring: X of 4 rows, n_splits=2.
    expect(plain(new KFold({ nSplits: 2 }).split(4))).toEqual([
      { train: [2, 3], test: [0, 1] },
      { train: [0, 1], test: [2, 3] },
    ]);
  });

  it("gives the first n % k folds one more row", () => {
    const folds = new KFold({ nSplits: 3 }).split(10);
    expect(folds.map((fold) => Array.from(fold.test))).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6],
      [7, 8, 9],
    ]);
    expect(Array.from(folds[1].train)).toEqual([0, 1, 2, 3, 7, 8, 9]);
  });

  it("cuts 20,000 rows into the 4,000-row blocks GridSearchCV(cv=5) uses", () => {
    const folds = new KFold().split(20_000);
    expect(folds).toHaveLength(5);
    folds.forEach((fold, k) => {
      expect(fold.test[0]).toBe(4000 * k);
      expect(fold.test.length).toBe(4000);
      expect(fold.train.length).toBe(16_000);
    });
  });

  it("shuffles with a seed: a partition of the rows, sorted, reproducible", () => {
    const a = new KFold({ nSplits: 4, shuffle: true, seed: 3 }).split(23);
    const b = new KFold({ nSplits: 4, shuffle: true, seed: 3 }).split(23);
    const c = new KFold({ nSplits: 4, shuffle: true, seed: 4 }).split(23);
    expect(plain(a)).toEqual(plain(b));
    expect(plain(a)).not.toEqual(plain(c));
    const seen = new Set<number>();
    for (const fold of a) {
      expect([...fold.test]).toEqual([...fold.test].sort((x, y) => x - y));
      expect(fold.train.length + fold.test.length).toBe(23);
      for (const row of fold.test) {
        expect(seen.has(row)).toBe(false);
        seen.add(row);
        expect(fold.train.includes(row)).toBe(false);
      }
    }
    expect(seen.size).toBe(23);
    expect(a.map((fold) => fold.test.length)).toEqual([6, 6, 6, 5]);
    expect(plain(a)).not.toEqual(plain(new KFold({ nSplits: 4 }).split(23)));
  });

  it("splits a frame by its row count", () => {
    const frame = new Frame({ x: { kind: "number", values: new Float64Array(6) } });
    expect(new KFold({ nSplits: 3 }).split(frame)).toHaveLength(3);
    expect(new KFold({ nSplits: 3 }).getNSplits()).toBe(3);
  });

  it("rejects bad settings with scikit-learn's reasons", () => {
    expect(() => new KFold({ nSplits: 1 })).toThrow("nSplits: expected an integer ≥ 2, got 1");
    expect(() => new KFold({ seed: 1 })).toThrow("seed has no effect with shuffle: false");
    expect(() => new KFold({ nSplits: 5 }).split(4)).toThrow(
      "cannot have nSplits=5 greater than the number of rows 4",
    );
    expect(() => new KFold({ nSplits: 5 }).split(4)).toThrow(MlopsError);
  });
});

describe("TimeSeriesSplit", () => {
  it("matches scikit-learn's docs: 6 rows, default 5 splits", () => {
    expect(plain(new TimeSeriesSplit().split(6))).toEqual([
      { train: [0], test: [1] },
      { train: [0, 1], test: [2] },
      { train: [0, 1, 2], test: [3] },
      { train: [0, 1, 2, 3], test: [4] },
      { train: [0, 1, 2, 3, 4], test: [5] },
    ]);
  });

  it("matches scikit-learn's docs: 12 rows, testSize 2, with and without a gap", () => {
    expect(plain(new TimeSeriesSplit({ nSplits: 3, testSize: 2 }).split(12))).toEqual([
      { train: range(0, 6), test: [6, 7] },
      { train: range(0, 8), test: [8, 9] },
      { train: range(0, 10), test: [10, 11] },
    ]);
    expect(plain(new TimeSeriesSplit({ nSplits: 3, testSize: 2, gap: 2 }).split(12))).toEqual([
      { train: range(0, 4), test: [6, 7] },
      { train: range(0, 6), test: [8, 9] },
      { train: range(0, 8), test: [10, 11] },
    ]);
  });

  it("keeps the latest maxTrainSize rows (a rolling window)", () => {
    // Hand computation: testSize = ⌊6 / 4⌋ = 1, tests at rows 3, 4, 5.
    expect(plain(new TimeSeriesSplit({ nSplits: 3, maxTrainSize: 2 }).split(6))).toEqual([
      { train: [1, 2], test: [3] },
      { train: [2, 3], test: [4] },
      { train: [3, 4], test: [5] },
    ]);
  });

  it("never trains on the future of monthly data", () => {
    // Three years of months, oldest first: test each quarter of the last year, skip one month.
    const month = Float64Array.from(
      { length: 36 },
      (_, i) => 2021 + Math.floor(i / 12) + (i % 12) / 12,
    );
    const frame = new Frame({ month: { kind: "number", values: month } });
    const folds = new TimeSeriesSplit({ nSplits: 4, testSize: 3, gap: 1 }).split(frame);
    expect(folds.map((fold) => Array.from(fold.test))).toEqual([
      [24, 25, 26],
      [27, 28, 29],
      [30, 31, 32],
      [33, 34, 35],
    ]);
    for (const fold of folds) {
      const lastTrain = month[fold.train[fold.train.length - 1]];
      expect(lastTrain).toBeLessThan(month[fold.test[0]] - 1 / 12 + 1e-9);
      expect(fold.train[0]).toBe(0);
    }
  });

  it("rejects splits that leave nothing to train on", () => {
    expect(() => new TimeSeriesSplit({ nSplits: 5 }).split(5)).toThrow(
      "cannot have 6 folds (nSplits + 1) with only 5 rows",
    );
    expect(() => new TimeSeriesSplit({ nSplits: 3, testSize: 3, gap: 1 }).split(10)).toThrow(
      "too many splits (3) for 10 rows with testSize 3 and gap 1",
    );
    expect(() => new TimeSeriesSplit({ gap: -1 })).toThrow("gap: expected an integer ≥ 0, got -1");
  });
});

describe("resolveFolds", () => {
  it("reads a count as contiguous KFold, and checks explicit folds", () => {
    expect(plain(resolveFolds(2, 4, "test"))).toEqual(plain(new KFold({ nSplits: 2 }).split(4)));
    expect(plain(resolveFolds([{ train: [0, 1], test: [2] }], 3, "test"))).toEqual([
      { train: [0, 1], test: [2] },
    ]);
    expect(() => resolveFolds([{ train: [0, 5], test: [1] }], 3, "search")).toThrow(
      "search: cv fold 0 train[1]: expected a row index in 0..2, got 5",
    );
    expect(() => resolveFolds([{ train: [0], test: [] }], 3, "search")).toThrow(
      "cv fold 0 test: expected at least one row",
    );
    expect(() => resolveFolds(1, 3, "search")).toThrow("cv: expected a fold count ≥ 2");
  });
});
