import { DEFAULT_PROFILE_SAMPLE, type Frame, MlopsError, type NumericProfile } from "@mlops/core";
import { profilePresorted, profileSortedColumn, sortFloat64 } from "@mlops/core/internal";
import { featureColumns, type TrainingData } from "../estimator/training.js";
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
 * worker threads and read there without a copy; fits never modify it. (What an estimator
 * prepares for a fit on its own thread lives in plain memory, cheaper to allocate.)
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
  /**
   * `"best"`: each feature's values in `order`'s order (ascending, NaN last):
   * `sorted[f][k] === values[f][order[f][k]]`, so a fit reads them in sequence rather than
   * gathering them row by row. The exact splitter needs it with `values` and `order`.
   */
  readonly sorted?: readonly Float32Array[];
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
  return prepareColumns(columns, featureNames, rowCount, options, undefined);
}

/** Told a hist feature's present values sorted (all of them), and how many are missing. */
type OnSorted = (feature: number, sorted: Float64Array, missing: number) => void;

function prepareColumns(
  columns: readonly Float64Array[],
  featureNames: readonly string[],
  rowCount: number,
  options: PrepareTreeDataOptions,
  onSorted: OnSorted | undefined,
  memory: Memory = "shared",
): TreeData {
  const buffer = memory === "shared" ? shared : local;
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
  const missingCounts = new Int32Array(buffer(4 * columns.length));
  if (splitter === "best") {
    const { values, order, sorted } = presort(columns, names, rowCount, missingCounts, buffer);
    return { rowCount, featureNames: names, splitter, missingCounts, values, order, sorted };
  }
  const { codes, edges, binCounts } = binColumns(
    columns,
    names,
    rowCount,
    bins,
    missingCounts,
    onSorted,
    buffer,
  );
  return { rowCount, featureNames: names, splitter, missingCounts, codes, edges, binCounts };
}

/** Data prepared for one fit (`markSingleUse`): whether that fit has taken its buffers. */
const singleUse = new WeakMap<TreeData, "ready" | "taken">();

/**
 * Marks `data` as prepared for one fit only (`DecisionTreeRegressor.fit`): that fit may then
 * work in `data`'s own sorted buffers instead of copies of them, leaving them unusable.
 */
export function markSingleUse(data: TreeData): TreeData {
  singleUse.set(data, "ready");
  return data;
}

/**
 * True once for data marked by `markSingleUse` (the caller now owns its buffers), false for
 * other data; throws for marked data whose buffers a fit has already taken.
 */
export function takeSingleUse(data: TreeData): boolean {
  const state = singleUse.get(data);
  if (state === "taken") {
    throw new MlopsError(
      "argument_invalid",
      "fitTree: this tree data was prepared for one fit and has been fitted already; prepare it again",
    );
  }
  if (state === undefined) return false;
  singleUse.set(data, "taken");
  return true;
}

/**
 * The per-feature views `parts` (feature f at `f * n` of one buffer, as `presort` lays them
 * out) as one feature-major array, or undefined when they are laid out otherwise.
 */
export function featureMajor<T extends Int32Array | Float32Array>(
  parts: readonly T[],
  n: number,
): T | undefined {
  const first = parts[0];
  if (first === undefined) return undefined;
  for (let f = 0; f < parts.length; f++) {
    const part = parts[f];
    if (part.buffer !== first.buffer || part.byteOffset !== 4 * n * f || part.length !== n) {
      return undefined;
    }
  }
  const View = first.constructor as new (
    buffer: ArrayBufferLike,
    offset: number,
    length: number,
  ) => T;
  return new View(first.buffer, 0, n * parts.length);
}

/**
 * `prepareTreeColumns` for an estimator's `fit`, which also profiles the features on the way
 * when `fit` profiles (`data.profileRows`): each feature's profile is made from the order the
 * exact splitter presorted it in (`profilePresorted`), or from the values the hist splitter
 * sorted to place its bins (`profileSortedColumn`, a column of at most 16,384 rows), and left in
 * `data.featureProfiles` for the training profile, which takes them as they are. Columns neither
 * covers (and category codes) are profiled by `fit` as usual. `memory`: `"shared"` when worker
 * threads will read the prepared buffers, else `"local"`.
 */
export function prepareForFit(
  data: TrainingData,
  options: PrepareTreeDataOptions,
  memory: Memory,
): TreeData {
  const n = data.rowCount;
  const rows = data.profileRows;
  if (rows === undefined) {
    return prepareColumns(data.columns, data.featureNames, n, options, undefined, memory);
  }
  const profiles = new Map<string, NumericProfile>();
  const numeric = (f: number) => data.categories?.[f] === undefined;
  const prepared = prepareColumns(
    data.columns,
    data.featureNames,
    n,
    options,
    n <= DEFAULT_PROFILE_SAMPLE
      ? (f, sorted, missing) => {
          if (numeric(f)) profiles.set(data.featureNames[f], profileSortedColumn(sorted, missing));
        }
      : undefined,
    memory,
  );
  const { order, sorted } = prepared;
  if (order !== undefined && sorted !== undefined) {
    // profileFrame samples the rows `fit` asked predictions for when there are more than that.
    const positions = rows.length < n ? rows : undefined;
    for (let f = 0; f < data.featureNames.length; f++) {
      if (!numeric(f)) continue;
      const presorted = { order: order[f], keys: sorted[f], count: n - prepared.missingCounts[f] };
      const profile = profilePresorted(data.columns[f], presorted, positions);
      if (profile !== undefined) profiles.set(data.featureNames[f], profile);
    }
  }
  data.featureProfiles = profiles;
  return prepared;
}

/**
 * Where prepared buffers live: `"shared"` memory that worker threads can read (and that the
 * kernel maps afresh for each buffer), or `"local"` to this thread (cheaper to allocate and
 * first touch: ~0.6 ms less for 10,000 rows × 10 presorted).
 */
type Memory = "shared" | "local";

function shared(bytes: number): ArrayBufferLike {
  return new SharedArrayBuffer(Math.max(bytes, 8));
}

function local(bytes: number): ArrayBufferLike {
  return new ArrayBuffer(Math.max(bytes, 8));
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
 * Float32 columns and, per feature, row indices in ascending value order and the values in that
 * order. A stable LSD radix sort on the float32 bit patterns (made order-preserving as unsigned
 * keys): three passes of 11, 11 and 10 bits, each pass skipped when one bucket holds every key;
 * the sorted values are the sorted keys turned back into bits. Each of the three is one
 * feature-major buffer (feature f at `f * n`), the layout `ExactSplitter` works in.
 */
function presort(
  columns: readonly Float64Array[],
  names: readonly string[],
  n: number,
  missingCounts: Int32Array,
  buffer: (bytes: number) => ArrayBufferLike,
): { values: Float32Array[]; order: Int32Array[]; sorted: Float32Array[] } {
  const featureCount = columns.length;
  const valueBuffer = buffer(4 * n * featureCount);
  const orderBuffer = buffer(4 * n * featureCount);
  const sortedBuffer = buffer(4 * n * featureCount);
  const values: Float32Array[] = [];
  const order: Int32Array[] = [];
  const sortedValues: Float32Array[] = [];
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
    const sortedX = new Float32Array(sortedBuffer, 4 * n * f, n);
    const sortedBits = new Uint32Array(sortedBuffer, 4 * n * f, n);
    values.push(x32);
    order.push(sorted);
    sortedValues.push(sortedX);
    // Non-missing rows first, keyed; missing rows appended after the sort.
    counts.fill(0);
    let m = 0;
    let missing = 0;
    for (let i = 0; i < n; i++) {
      x32[i] = column[i];
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
    // The passes that order something: a digit whose one bucket holds every key does not.
    const passes: number[] = [];
    for (let pass = 0; pass < 3 && m > 0; pass++) {
      if (counts[pass * 2048 + ((keysA[0] >>> (pass * 11)) & 2047)] !== m) passes.push(pass);
    }
    let keys = keysA;
    let rows = rowsA;
    let keysOut = keysB;
    let rowsOut = rowsB;
    for (let p = 0; p < passes.length; p++) {
      const base = passes[p] * 2048;
      const shift = passes[p] * 11;
      let total = 0;
      for (let d = 0; d < 2048; d++) {
        const c = counts[base + d];
        counts[base + d] = total;
        total += c;
      }
      if (p === passes.length - 1) {
        // The last pass writes the order and the values (a key back to its bits: a set top bit
        // was a positive value's sign flipped, else every bit was) where they stay.
        for (let i = 0; i < m; i++) {
          const key = keys[i];
          const slot = counts[base + ((key >>> shift) & 2047)]++;
          sorted[slot] = rows[i];
          sortedBits[slot] = key >= 0x80000000 ? key ^ 0x80000000 : ~key;
        }
        break;
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
    if (passes.length === 0) {
      // Already in order (every key equal, or at most one).
      for (let i = 0; i < m; i++) {
        const key = keys[i];
        sorted[i] = rows[i];
        sortedBits[i] = key >= 0x80000000 ? key ^ 0x80000000 : ~key;
      }
    }
    if (missing > 0) {
      let at = m;
      for (let i = 0; i < n; i++) if (Number.isNaN(x32[i])) sorted[at++] = i;
      sortedX.fill(Number.NaN, m);
    }
  }
  return { values, order, sorted: sortedValues };
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
  onSorted: OnSorted | undefined,
  buffer: (bytes: number) => ArrayBufferLike,
): { codes: Uint8Array[]; edges: Float64Array[]; binCounts: Int32Array } {
  const featureCount = columns.length;
  const codeBuffer = buffer(n * featureCount);
  const codes: Uint8Array[] = [];
  const edges: Float64Array[] = [];
  const binCounts = new Int32Array(buffer(4 * featureCount));
  const sample = new Float64Array(Math.min(n, BIN_SAMPLE));
  const scratch = new Float64Array(sample.length);
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
    const sorted = sortFloat64(sample.subarray(0, m), scratch);
    if (m === present) onSorted?.(f, sorted, missing);
    const edge = binEdges(sorted, maxBins);
    const edgeArray = new Float64Array(buffer(8 * edge.length), 0, edge.length);
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
