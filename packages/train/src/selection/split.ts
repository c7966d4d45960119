import { type Frame, MlopsError } from "@mlops/core";
import { isFrame } from "../estimator/training.js";
import { permutation } from "./folds.js";

/**
 * Options of `trainTestSplit` (scikit-learn's `train_test_split`).
 *
 * @example
 * trainTestSplit(frame, { testSize: 0.2, seed: 42 });
 */
export interface TrainTestSplitOptions {
  /**
   * The test part: a fraction in (0, 1) of the rows (rounded up) or a row count (default 0.25,
   * or what `trainSize` leaves).
   */
  testSize?: number;
  /** The train part, the same way (default: every row not in the test part). */
  trainSize?: number;
  /** Shuffle the rows first (default true); unshuffled, the test part is the last rows. */
  shuffle?: boolean;
  /** Seed of the shuffle (default 0): the same seed gives the same split. */
  seed?: number;
}

/**
 * The two parts of `trainTestSplit`: frames, and the row indices each was taken from.
 *
 * @example
 * const { train, test, testRows } = trainTestSplit(frame, { testSize: 0.2 });
 */
export interface TrainTestSplit {
  train: Frame;
  test: Frame;
  trainRows: Int32Array;
  testRows: Int32Array;
}

function sizeOption(value: unknown, name: string, n: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "number" && value > 0 && value < 1) return value;
  if (typeof value === "number" && Number.isInteger(value) && value >= 1 && value < n) return value;
  throw new MlopsError(
    "argument_invalid",
    `trainTestSplit: ${name}: expected a fraction in (0, 1) or a row count in 1..${n - 1}, ` +
      `got ${JSON.stringify(value) ?? String(value)}`,
  );
}

/**
 * Splits a frame's rows into a train and a test part, as scikit-learn's `train_test_split`:
 * `testSize` as a fraction is rounded up (`⌈0.25 × n⌉` test rows), `trainSize` as a fraction
 * rounded down, and shuffling draws a seeded permutation whose first rows are the test part.
 *
 * @example
 * const { train, test } = trainTestSplit(frame, { testSize: 0.2, seed: 42 });
 * train.rowCount + test.rowCount === frame.rowCount; // true
 */
export function trainTestSplit(frame: Frame, options: TrainTestSplitOptions = {}): TrainTestSplit {
  if (!isFrame(frame)) {
    throw new MlopsError("argument_invalid", "trainTestSplit: expected a Frame");
  }
  const n = frame.rowCount;
  if (n < 2) {
    throw new MlopsError("data_invalid", `trainTestSplit: need at least 2 rows to split, got ${n}`);
  }
  const testOption = sizeOption(options.testSize, "testSize", n);
  const trainOption = sizeOption(options.trainSize, "trainSize", n);
  const resolve = (value: number | undefined, round: (x: number) => number) =>
    value === undefined ? undefined : value < 1 ? round(value * n) : value;
  let testCount = resolve(testOption, Math.ceil);
  let trainCount = resolve(trainOption, Math.floor);
  if (testCount === undefined) {
    testCount = trainCount === undefined ? Math.ceil(0.25 * n) : n - trainCount;
  }
  if (trainCount === undefined) trainCount = n - testCount;
  if (trainCount < 1 || testCount < 1 || trainCount + testCount > n) {
    throw new MlopsError(
      "argument_invalid",
      `trainTestSplit: ${trainCount} train and ${testCount} test rows do not fit in ${n} rows ` +
        "(each part needs at least one row)",
    );
  }
  const shuffle = options.shuffle ?? true;
  if (typeof shuffle !== "boolean") {
    throw new MlopsError("argument_invalid", "trainTestSplit: shuffle: expected true or false");
  }
  const seed = options.seed ?? 0;
  if (!Number.isSafeInteger(seed)) {
    throw new MlopsError(
      "argument_invalid",
      `trainTestSplit: seed: expected an integer, got ${JSON.stringify(seed) ?? String(seed)}`,
    );
  }
  let trainRows: Int32Array;
  let testRows: Int32Array;
  if (shuffle) {
    const order = permutation(n, seed);
    testRows = order.slice(0, testCount);
    trainRows = order.slice(testCount, testCount + trainCount);
  } else {
    trainRows = Int32Array.from({ length: trainCount }, (_, i) => i);
    testRows = Int32Array.from({ length: testCount }, (_, i) => trainCount + i);
  }
  return { train: frame.take(trainRows), test: frame.take(testRows), trainRows, testRows };
}
