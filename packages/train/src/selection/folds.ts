import { createRandom, type Frame, MlopsError } from "@mlops/core";
import { isFrame } from "../estimator/training.js";

/**
 * One train/test split of a data set: row indices into the frame, ascending.
 *
 * @example
 * const [first] = new KFold({ nSplits: 5 }).split(frame);
 * first.test.length; // a fifth of the rows
 */
export interface Fold {
  train: Int32Array;
  test: Int32Array;
}

/**
 * What `cv` options accept as a splitter: anything that splits `n` rows (or a frame) into folds,
 * like scikit-learn's `KFold` and `TimeSeriesSplit`.
 *
 * @example
 * const cv: CrossValidator = new KFold({ nSplits: 3, shuffle: true, seed: 1 });
 * cv.split(frame).length; // 3
 */
export interface CrossValidator {
  /** The folds over `data` (a Frame, or a row count). */
  split(data: Frame | number): Fold[];
  /** How many folds `split` gives. */
  getNSplits(): number;
}

/**
 * The `cv` option of cross-validation and search: a fold count (contiguous `KFold`, as
 * scikit-learn uses for regressors), a splitter, or the folds themselves.
 *
 * @example
 * const cv: CvOption = new TimeSeriesSplit({ nSplits: 4, gap: 1 });
 */
export type CvOption =
  | number
  | CrossValidator
  | readonly { train: ArrayLike<number>; test: ArrayLike<number> }[];

/** The row count of a Frame or a count, checked. */
export function rowCountOf(data: Frame | number, context: string): number {
  if (typeof data === "number") {
    if (!(Number.isInteger(data) && data >= 0)) {
      throw new MlopsError(
        "argument_invalid",
        `${context}: expected a Frame or a row count, got ${data}`,
      );
    }
    return data;
  }
  if (!isFrame(data)) {
    throw new MlopsError("argument_invalid", `${context}: expected a Frame or a row count`);
  }
  return data.rowCount;
}

function integerOption(
  context: string,
  name: string,
  value: unknown,
  min: number,
  allowNull = false,
): number | null {
  if (value === undefined || (allowNull && value === null)) return null;
  if (!(typeof value === "number" && Number.isInteger(value) && value >= min)) {
    throw new MlopsError(
      "argument_invalid",
      `${context}: ${name}: expected an integer ≥ ${min}${allowNull ? " or null" : ""}, ` +
        `got ${JSON.stringify(value) ?? String(value)}`,
    );
  }
  return value;
}

/** A seeded Fisher–Yates permutation of 0..n−1. */
export function permutation(n: number, seed: number): Int32Array {
  const random = createRandom(seed);
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = random.int(i + 1);
    const swap = order[i];
    order[i] = order[j];
    order[j] = swap;
  }
  return order;
}

/** Row indices `start..end−1`. */
function range(start: number, end: number): Int32Array {
  const out = new Int32Array(Math.max(0, end - start));
  for (let i = 0; i < out.length; i++) out[i] = start + i;
  return out;
}

/**
 * Options of `KFold`.
 *
 * @example
 * new KFold({ nSplits: 10, shuffle: true, seed: 7 });
 */
export interface KFoldOptions {
  /** Number of folds, ≥ 2 (default 5). */
  nSplits?: number;
  /** Shuffle the rows before cutting them into folds (default false: contiguous folds). */
  shuffle?: boolean;
  /** Seed of the shuffle; only with `shuffle: true` (default 0). */
  seed?: number;
}

/**
 * K-fold cross-validation, scikit-learn's `KFold`: each row is in the test part of exactly one
 * fold. The first `n % nSplits` folds hold `⌊n / nSplits⌋ + 1` test rows, the others
 * `⌊n / nSplits⌋`. Unshuffled, the test parts are contiguous blocks in row order; shuffled,
 * they are drawn from a seeded permutation. Train and test indices come out ascending.
 *
 * @example
 * const folds = new KFold({ nSplits: 2 }).split(4);
 * // [{ train: [2, 3], test: [0, 1] }, { train: [0, 1], test: [2, 3] }]
 */
export class KFold implements CrossValidator {
  readonly nSplits: number;
  readonly shuffle: boolean;
  readonly seed: number;

  constructor(options: KFoldOptions = {}) {
    const context = "KFold";
    this.nSplits = integerOption(context, "nSplits", options.nSplits ?? 5, 2) as number;
    if (options.shuffle !== undefined && typeof options.shuffle !== "boolean") {
      throw new MlopsError(
        "argument_invalid",
        `${context}: shuffle: expected true or false, got ${JSON.stringify(options.shuffle)}`,
      );
    }
    this.shuffle = options.shuffle ?? false;
    if (options.seed !== undefined && !this.shuffle) {
      // As scikit-learn: a seed without shuffling would silently do nothing.
      throw new MlopsError(
        "argument_invalid",
        `${context}: seed has no effect with shuffle: false; set shuffle: true or drop the seed`,
      );
    }
    this.seed = integerOption(context, "seed", options.seed ?? 0, 0) as number;
  }

  getNSplits(): number {
    return this.nSplits;
  }

  split(data: Frame | number): Fold[] {
    const n = rowCountOf(data, "KFold.split");
    if (this.nSplits > n) {
      throw new MlopsError(
        "data_invalid",
        `KFold.split: cannot have nSplits=${this.nSplits} greater than the number of rows ${n}`,
      );
    }
    const order = this.shuffle ? permutation(n, this.seed) : undefined;
    const base = Math.floor(n / this.nSplits);
    const extra = n % this.nSplits;
    const folds: Fold[] = [];
    let start = 0;
    const inTest = new Uint8Array(n);
    for (let k = 0; k < this.nSplits; k++) {
      const size = base + (k < extra ? 1 : 0);
      inTest.fill(0);
      for (let p = start; p < start + size; p++) inTest[order ? order[p] : p] = 1;
      start += size;
      folds.push(masksToFold(inTest, size));
    }
    return folds;
  }
}

function masksToFold(inTest: Uint8Array, testSize: number): Fold {
  const n = inTest.length;
  const train = new Int32Array(n - testSize);
  const test = new Int32Array(testSize);
  let a = 0;
  let b = 0;
  for (let i = 0; i < n; i++) {
    if (inTest[i] === 1) test[b++] = i;
    else train[a++] = i;
  }
  return { train, test };
}

/**
 * Options of `TimeSeriesSplit` (scikit-learn's names in camelCase).
 *
 * @example
 * new TimeSeriesSplit({ nSplits: 3, testSize: 2, gap: 2 });
 */
export interface TimeSeriesSplitOptions {
  /** Number of splits, ≥ 2 (default 5). */
  nSplits?: number;
  /** Keep at most this many of the latest rows for training (default: all earlier rows). */
  maxTrainSize?: number | null;
  /** Rows in each test part (default `⌊n / (nSplits + 1)⌋`). */
  testSize?: number | null;
  /** Rows left out between the end of each train part and its test part (default 0). */
  gap?: number;
}

/**
 * Time-series cross-validation, scikit-learn's `TimeSeriesSplit`: the rows must be in time
 * order (monthly data: one row per month, oldest first). Each split tests on a later block and
 * trains on what came before it (minus `gap` rows), so no fold learns from the future. The test
 * blocks are the last `nSplits × testSize` rows, in order.
 *
 * @example
 * new TimeSeriesSplit({ nSplits: 3, testSize: 2, gap: 2 }).split(12);
 * // train [0..3] test [6, 7]; train [0..5] test [8, 9]; train [0..7] test [10, 11]
 */
export class TimeSeriesSplit implements CrossValidator {
  readonly nSplits: number;
  readonly maxTrainSize: number | null;
  readonly testSize: number | null;
  readonly gap: number;

  constructor(options: TimeSeriesSplitOptions = {}) {
    const context = "TimeSeriesSplit";
    this.nSplits = integerOption(context, "nSplits", options.nSplits ?? 5, 2) as number;
    this.maxTrainSize = integerOption(context, "maxTrainSize", options.maxTrainSize, 1, true);
    this.testSize = integerOption(context, "testSize", options.testSize, 1, true);
    this.gap = integerOption(context, "gap", options.gap ?? 0, 0) as number;
  }

  getNSplits(): number {
    return this.nSplits;
  }

  split(data: Frame | number): Fold[] {
    const n = rowCountOf(data, "TimeSeriesSplit.split");
    const folds = this.nSplits + 1;
    if (folds > n) {
      throw new MlopsError(
        "data_invalid",
        `TimeSeriesSplit.split: cannot have ${folds} folds (nSplits + 1) with only ${n} rows`,
      );
    }
    const testSize = this.testSize ?? Math.floor(n / folds);
    if (n - this.gap - testSize * this.nSplits <= 0) {
      throw new MlopsError(
        "data_invalid",
        `TimeSeriesSplit.split: too many splits (${this.nSplits}) for ${n} rows with ` +
          `testSize ${testSize} and gap ${this.gap}: no row is left to train the first split`,
      );
    }
    const out: Fold[] = [];
    for (let testStart = n - this.nSplits * testSize; testStart < n; testStart += testSize) {
      const trainEnd = testStart - this.gap;
      const trainStart =
        this.maxTrainSize !== null && this.maxTrainSize < trainEnd
          ? trainEnd - this.maxTrainSize
          : 0;
      out.push({
        train: range(trainStart, trainEnd),
        test: range(testStart, testStart + testSize),
      });
    }
    return out;
  }
}

/**
 * The folds a `cv` option stands for over `n` rows, checked: every index an integer in 0..n−1,
 * no fold with an empty train or test part.
 */
export function resolveFolds(cv: CvOption | undefined, n: number, context: string): Fold[] {
  let folds: readonly { train: ArrayLike<number>; test: ArrayLike<number> }[];
  if (cv === undefined || typeof cv === "number") {
    if (cv !== undefined && !(Number.isInteger(cv) && cv >= 2)) {
      throw new MlopsError(
        "argument_invalid",
        `${context}: cv: expected a fold count ≥ 2, a splitter (KFold, TimeSeriesSplit) or ` +
          `a list of folds, got ${cv}`,
      );
    }
    folds = new KFold({ nSplits: cv ?? 5 }).split(n);
  } else if (Array.isArray(cv)) {
    folds = cv as readonly { train: ArrayLike<number>; test: ArrayLike<number> }[];
  } else if (typeof (cv as CrossValidator).split === "function") {
    folds = (cv as CrossValidator).split(n);
  } else {
    throw new MlopsError(
      "argument_invalid",
      `${context}: cv: expected a fold count, a splitter (KFold, TimeSeriesSplit) or a list of ` +
        "folds { train, test }",
    );
  }
  if (folds.length === 0) {
    throw new MlopsError("argument_invalid", `${context}: cv gave no folds`);
  }
  return folds.map((fold, k) => ({
    train: checkIndices(fold?.train, n, `${context}: cv fold ${k} train`),
    test: checkIndices(fold?.test, n, `${context}: cv fold ${k} test`),
  }));
}

function checkIndices(values: ArrayLike<number> | undefined, n: number, label: string): Int32Array {
  if (values === null || typeof values !== "object" || typeof values.length !== "number") {
    throw new MlopsError("argument_invalid", `${label}: expected an array of row indices`);
  }
  if (values.length === 0) {
    throw new MlopsError("argument_invalid", `${label}: expected at least one row, got none`);
  }
  const out = values instanceof Int32Array ? values : new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const index = values[i];
    if (!(Number.isInteger(index) && index >= 0 && index < n)) {
      throw new MlopsError(
        "argument_invalid",
        `${label}[${i}]: expected a row index in 0..${n - 1}, got ${index}`,
      );
    }
    if (out !== values) out[i] = index;
  }
  return out;
}
