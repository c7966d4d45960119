import { Frame } from "@mlops/core";
import { describe, expect, it } from "vitest";
import { trainTestSplit } from "./split.js";

function frameOf(n: number): Frame {
  return new Frame({
    x: { kind: "number", values: Float64Array.from({ length: n }, (_, i) => i * 10) },
    c: {
      kind: "category",
      codes: Int32Array.from({ length: n }, (_, i) => i % 2),
      dictionary: ["a", "b"],
    },
  });
}

describe("trainTestSplit", () => {
  it("rounds the test fraction up and the train fraction down, as scikit-learn", () => {
    // train_test_split on 10 rows: test_size=0.25 → ⌈2.5⌉ = 3 test rows, 7 train rows.
    const { train, test } = trainTestSplit(frameOf(10), { testSize: 0.25 });
    expect([train.rowCount, test.rowCount]).toEqual([7, 3]);
    const byTrain = trainTestSplit(frameOf(10), { trainSize: 0.55 });
    expect([byTrain.train.rowCount, byTrain.test.rowCount]).toEqual([5, 5]);
    const both = trainTestSplit(frameOf(10), { trainSize: 4, testSize: 2 });
    expect([both.train.rowCount, both.test.rowCount]).toEqual([4, 2]);
    expect(trainTestSplit(frameOf(10)).test.rowCount).toBe(3);
  });

  it("without shuffling, tests on the last rows", () => {
    const split = trainTestSplit(frameOf(5), { testSize: 2, shuffle: false });
    expect(Array.from(split.trainRows)).toEqual([0, 1, 2]);
    expect(Array.from(split.testRows)).toEqual([3, 4]);
    expect(Array.from(split.test.numeric("x"))).toEqual([30, 40]);
  });

  it("shuffles reproducibly: the rows are a partition and the frames hold them", () => {
    const frame = frameOf(50);
    const a = trainTestSplit(frame, { testSize: 0.2, seed: 42 });
    const b = trainTestSplit(frame, { testSize: 0.2, seed: 42 });
    const c = trainTestSplit(frame, { testSize: 0.2, seed: 43 });
    expect(Array.from(a.testRows)).toEqual(Array.from(b.testRows));
    expect(Array.from(a.testRows)).not.toEqual(Array.from(c.testRows));
    const all = [...a.trainRows, ...a.testRows].sort((x, y) => x - y);
    expect(all).toEqual(Array.from({ length: 50 }, (_, i) => i));
    a.testRows.forEach((row, i) => {
      expect(a.test.numeric("x")[i]).toBe(row * 10);
      expect(a.test.get(i, "c")).toBe(row % 2 === 0 ? "a" : "b");
    });
  });

  it("rejects sizes that do not fit", () => {
    expect(() => trainTestSplit(frameOf(10), { testSize: 1.5 })).toThrow(
      "testSize: expected a fraction in (0, 1) or a row count in 1..9, got 1.5",
    );
    expect(() => trainTestSplit(frameOf(10), { testSize: 6, trainSize: 6 })).toThrow(
      "6 train and 6 test rows do not fit in 10 rows",
    );
    expect(() => trainTestSplit(frameOf(1))).toThrow("need at least 2 rows");
  });
});
