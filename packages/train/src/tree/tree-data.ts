import { type Frame, MlopsError } from "@mlops/core";
import { featureColumns } from "../estimator/training.js";
import { resolveSplitter, type TreeSplitter } from "./params.js";

/**
 * The code of a missing value (NaN) in a hist feature's `codes`.
 *
 * @example
 * const missing = data.codes![f][row] === MISSING_BIN;
 */
export const MISSING_BIN = 255;

/**
 * Training data prepared once for many tree fits (cross-validation folds, search trials,
 * bootstrap samples): float32 columns with each feature's rows presorted (`"best"`), or binned
 * codes (`"hist"`). Every array lives in a SharedArrayBuffer, so the object can be posted to
 * worker threads and read there without a copy; fits never modify it.
 *
 * @example
 * const data = prepareTreeData(frame, ["alcohol", "pH"], { splitter: "best" });
 * worker.postMessage({ data, y }); // the worker calls fitTree(data, y, …) on shared memory
 */
export interface TreeData {
  readonly rowCount: number;
  readonly featureNames: readonly string[];
  /** What was prepared, so which kernel `fitTree` runs. */
  readonly splitter: "best" | "hist";
  /** Rows with a missing value (NaN), per feature. */
  readonly missingCounts: Int32Array;
  /** `"best"`: each feature's values rounded to float32 (as scikit-learn casts X), NaN kept. */
  readonly values?: readonly Float32Array[];
  /**
   * `"best"`: each feature's row indices in ascending value order (ties by row), rows with a
   * missing value last.
   */
  readonly order?: readonly Int32Array[];
  /** `"hist"`: each feature's bin code per row; `MISSING_BIN` (255) for a missing value. */
  readonly codes?: readonly Uint8Array[];
  /**
   * `"hist"`: upper edges of each feature's bins but the last: a value `x` has code `b` where
   * `b` is the first bin with `x <= edges[b]`, so a split "code ≤ b" is the test
   * `x <= edges[b]`.
   */
  readonly edges?: readonly Float64Array[];
  /** `"hist"`: bins with values per feature (`edges.length + 1`). */
  readonly binCounts?: Int32Array;
}

/**
 * Options of `prepareTreeData`.
 *
 * @example
 * prepareTreeData(frame, names, { splitter: "hist", bins: 63 });
 */
export interface PrepareTreeDataOptions {
  /** What to prepare: presorted columns (`"best"`), bins (`"hist"`), or by size (`"auto"`). */
  splitter?: TreeSplitter;
  /** Bins per feature for `"hist"`, 2..255 (default 255). */
  bins?: number;
}

/**
 * Prepares the named numeric columns of `frame` once for `fitTree`: presorted float32 columns
 * for the exact splitter, quantile bins for the hist splitter, in shared memory. Throws for a
 * missing or category column and for ±Infinity (NaN is a missing value).
 *
 * @example
 * const data = prepareTreeData(frame, ["alcohol", "pH"], { splitter: "best" });
 * const folds = [trainRowsA, trainRowsB]; // Int32Array row subsets
 * const trees = folds.map((rows) => fitTree(data, y, undefined, rows, { maxDepth: 6 }));
 */
export function prepareTreeData(
  frame: Frame,
  featureNames: readonly string[],
  options: PrepareTreeDataOptions = {},
): TreeData {
  const columns = featureColumns(frame, featureNames, "prepareTreeData");
  return prepareTreeColumns(columns, featureNames, frame.rowCount, options);
}

/**
 * `prepareTreeData` over columns already taken from a frame (what an estimator's `fitData`
 * receives as `TrainingData.columns`).
 *
 * @example
 * const data = prepareTreeColumns(training.columns, training.featureNames, training.rowCount);
 */
export function prepareTreeColumns(
  columns: readonly Float64Array[],
  featureNames: readonly string[],
  rowCount: number,
  options: PrepareTreeDataOptions = {},
): TreeData {
  const splitter = resolveSplitter(options.splitter ?? "auto", rowCount);
  const bins = options.bins ?? 255;
  if (!(Number.isInteger(bins) && bins >= 2 && bins <= 255)) {
    throw new MlopsError("argument_invalid", `bins: expected an integer in 2..255, got ${bins}`);
  }
  if (splitter !== "best" && splitter !== "hist") {
    throw new MlopsError(
      "argument_invalid",
      `splitter: expected "best", "hist" or "auto", got ${JSON.stringify(options.splitter)}`,
    );
  }
  const names = Object.freeze([...featureNames]);
  const missingCounts = new Int32Array(shared(4 * columns.length));
  if (splitter === "best") {
    const { values, order } = presort(columns, names, rowCount, missingCounts);
    return { rowCount, featureNames: names, splitter, missingCounts, values, order };
  }
  const { codes, edges, binCounts } = binColumns(columns, names, rowCount, bins, missingCounts);
  return { rowCount, featureNames: names, splitter, missingCounts, codes, edges, binCounts };
}

function shared(bytes: number): SharedArrayBuffer {
  return new SharedArrayBuffer(Math.max(bytes, 8));
}

function infinityError(name: string, row: number, value: number): MlopsError {
  return new MlopsError(
    "data_invalid",
    `feature "${name}" has ${value} at row ${row}` +
      (Number.isFinite(value) ? " (beyond float32 range)" : "") +
      "; trees need finite numbers (NaN for missing values)",
  );
}

// ------------------------------------------------------------------ presort ("best")

/**
 * Float32 columns and, per feature, row indices in ascending value order. A stable LSD radix
 * sort on the float32 bit patterns (made order-preserving as unsigned keys): three passes of
 * 11, 11 and 10 bits, each pass skipped when one bucket holds every key.
 */
function presort(
  columns: readonly Float64Array[],
  names: readonly string[],
  n: number,
  missingCounts: Int32Array,
): { values: Float32Array[]; order: Int32Array[] } {
  const featureCount = columns.length;
  const valueBuffer = shared(4 * n * featureCount);
  const orderBuffer = shared(4 * n * featureCount);
  const values: Float32Array[] = [];
  const order: Int32Array[] = [];
  const keysA = new Uint32Array(n);
  const keysB = new Uint32Array(n);
  const rowsA = new Int32Array(n);
  const rowsB = new Int32Array(n);
  const counts = new Int32Array(2048 * 3);
  for (let f = 0; f < featureCount; f++) {
    const column = columns[f];
    const x32 = new Float32Array(valueBuffer, 4 * n * f, n);
    const bits = new Uint32Array(valueBuffer, 4 * n * f, n);
    const sorted = new Int32Array(orderBuffer, 4 * n * f, n);
    values.push(x32);
    order.push(sorted);
    for (let i = 0; i < n; i++) x32[i] = column[i];
    // Non-missing rows first, keyed; missing rows appended after the sort.
    counts.fill(0);
    let m = 0;
    let missing = 0;
    for (let i = 0; i < n; i++) {
      const v = x32[i];
      if (Number.isNaN(v)) {
        missing++;
        continue;
      }
      if (v === Number.POSITIVE_INFINITY || v === Number.NEGATIVE_INFINITY) {
        throw infinityError(names[f], i, column[i]);
      }
      const b = bits[i];
      const key = (b ^ ((b >> 31) | 0x80000000)) >>> 0;
      keysA[m] = key;
      rowsA[m] = i;
      counts[key & 2047]++;
      counts[2048 + ((key >>> 11) & 2047)]++;
      counts[4096 + (key >>> 22)]++;
      m++;
    }
    missingCounts[f] = missing;
    let keys = keysA;
    let rows = rowsA;
    let keysOut = keysB;
    let rowsOut = rowsB;
    for (let pass = 0; pass < 3; pass++) {
      const base = pass * 2048;
      const shift = pass * 11;
      // One bucket holds every key: this digit orders nothing.
      const firstKey = m > 0 ? keys[0] : 0;
      if (m === 0 || counts[base + ((firstKey >>> shift) & 2047)] === m) continue;
      let total = 0;
      for (let d = 0; d < 2048; d++) {
        const c = counts[base + d];
        counts[base + d] = total;
        total += c;
      }
      for (let i = 0; i < m; i++) {
        const key = keys[i];
        const slot = counts[base + ((key >>> shift) & 2047)]++;
        keysOut[slot] = key;
        rowsOut[slot] = rows[i];
      }
      const swapKeys = keys;
      keys = keysOut;
      keysOut = swapKeys;
      const swapRows = rows;
      rows = rowsOut;
      rowsOut = swapRows;
    }
    sorted.set(rows.subarray(0, m));
    if (missing > 0) {
      let at = m;
      for (let i = 0; i < n; i++) if (Number.isNaN(x32[i])) sorted[at++] = i;
    }
  }
  return { values, order };
}

// ------------------------------------------------------------------ bins ("hist")

/** Rows used to place quantile edges (an even stride through the column beyond this). */
const BIN_SAMPLE = 200_000;

function binColumns(
  columns: readonly Float64Array[],
  names: readonly string[],
  n: number,
  maxBins: number,
  missingCounts: Int32Array,
): { codes: Uint8Array[]; edges: Float64Array[]; binCounts: Int32Array } {
  const featureCount = columns.length;
  const codeBuffer = shared(n * featureCount);
  const codes: Uint8Array[] = [];
  const edges: Float64Array[] = [];
  const binCounts = new Int32Array(shared(4 * featureCount));
  const sample = new Float64Array(Math.min(n, BIN_SAMPLE));
  for (let f = 0; f < featureCount; f++) {
    const column = columns[f];
    const code = new Uint8Array(codeBuffer, n * f, n);
    codes.push(code);
    let missing = 0;
    for (let i = 0; i < n; i++) {
      const v = column[i];
      if (Number.isNaN(v)) missing++;
      else if (v === Number.POSITIVE_INFINITY || v === Number.NEGATIVE_INFINITY) {
        throw infinityError(names[f], i, v);
      }
    }
    missingCounts[f] = missing;
    const present = n - missing;
    // An even stride over the rows with a value (Bresenham: `take` of `present`, spread out).
    const take = Math.min(present, BIN_SAMPLE);
    let m = 0;
    let carry = 0;
    for (let i = 0; i < n && m < take; i++) {
      const v = column[i];
      if (Number.isNaN(v)) continue;
      carry += take;
      if (carry >= present) {
        carry -= present;
        sample[m++] = v;
      }
    }
    const sorted = sample.subarray(0, m).sort();
    const edge = binEdges(sorted, maxBins);
    const edgeArray = new Float64Array(shared(8 * edge.length), 0, edge.length);
    edgeArray.set(edge);
    edges.push(edgeArray);
    binCounts[f] = edge.length + 1;
    binColumn(column, undefined, edgeArray, MISSING_BIN, code, 0, 1);
  }
  return { codes, edges, binCounts };
}

/** The midpoint of two float64 values, never equal to the upper one (then the lower). */
function midpoint(low: number, high: number): number {
  const middle = low / 2 + high / 2;
  return middle >= high ? low : middle;
}

/**
 * Edges between bins from sorted sample values: midpoints between distinct values when they
 * are few enough, else at evenly spaced quantiles (distinct, increasing).
 */
function binEdges(sorted: Float64Array, maxBins: number): number[] {
  const m = sorted.length;
  const distinct: number[] = [];
  for (let i = 0; i < m && distinct.length <= maxBins; i++) {
    if (i === 0 || sorted[i] !== sorted[i - 1]) distinct.push(sorted[i]);
  }
  const out: number[] = [];
  if (distinct.length <= maxBins) {
    for (let i = 1; i < distinct.length; i++) out.push(midpoint(distinct[i - 1], distinct[i]));
    return out;
  }
  for (let b = 1; b < maxBins; b++) {
    const at = Math.min(m - 1, Math.max(1, Math.round((b * m) / maxBins)));
    const low = sorted[at - 1];
    const high = sorted[at];
    const edge = low === high ? low : midpoint(low, high);
    // The largest value must stay in the last bin, so no edge reaches it.
    if (edge >= sorted[m - 1]) break;
    if (out.length === 0 || edge > out[out.length - 1]) out.push(edge);
  }
  return out;
}

/** Buckets of the lookup that starts each bin search near its answer. */
const LOOKUP_BUCKETS = 4096;

/**
 * Codes: the first bin `b` with `x <= edges[b]` (the count of edges below `x`), the last bin past
 * every edge, `missingBin` for NaN, for the values `column[rows[i]]` (or `column[i]`), written
 * to `code[offset + i * stride]`. A table over evenly spaced buckets of the edges' range gives a
 * lower bound of the answer; a short forward scan (or a binary search where edges crowd)
 * finishes it. Shared by the hist splitter and gradient boosting's bins.
 *
 * @example
 * binColumn(values, undefined, edges, MISSING_BIN, codes, 0, 1); // codes[i] = bin of values[i]
 */
export function binColumn(
  column: Float64Array,
  rows: Int32Array | undefined,
  edges: Float64Array,
  missingBin: number,
  code: Uint8Array,
  offset: number,
  stride: number,
): void {
  const n = rows === undefined ? column.length : rows.length;
  const e = edges.length;
  if (e === 0) {
    for (let i = 0, at = offset; i < n; i++, at += stride) {
      code[at] = Number.isNaN(column[rows === undefined ? i : rows[i]]) ? missingBin : 0;
    }
    return;
  }
  const low = edges[0];
  const high = edges[e - 1];
  const scale = high > low ? LOOKUP_BUCKETS / (high - low) : 0;
  // below[k]: edges below the lower end of bucket k − 1 (one bucket of slack for rounding).
  const below = new Int32Array(LOOKUP_BUCKETS + 1);
  let count = 0;
  for (let k = 0; k <= LOOKUP_BUCKETS; k++) {
    const bound = low + (k - 1) / scale;
    while (count < e && edges[count] < bound) count++;
    below[k] = count;
  }
  for (let i = 0, at = offset; i < n; i++, at += stride) {
    const x = column[rows === undefined ? i : rows[i]];
    if (Number.isNaN(x)) {
      code[at] = missingBin;
      continue;
    }
    if (x <= low) {
      code[at] = 0;
      continue;
    }
    if (x > high) {
      code[at] = e;
      continue;
    }
    let k = Math.floor((x - low) * scale);
    if (k > LOOKUP_BUCKETS - 1) k = LOOKUP_BUCKETS - 1;
    let lo = below[k];
    let hi = k + 2 <= LOOKUP_BUCKETS ? below[k + 2] : e;
    if (hi - lo > 8) {
      // Binary search for the first edge ≥ x in [lo, e).
      hi = e;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (edges[mid] < x) lo = mid + 1;
        else hi = mid;
      }
    } else {
      while (lo < e && edges[lo] < x) lo++;
    }
    code[at] = lo;
  }
}
