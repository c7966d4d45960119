import { MlopsError } from "../errors/error.js";
import type { Frame } from "../frame/frame.js";
import { sortFloat64 } from "../internal/sort.js";
import { Schema, type SchemaJSON } from "../schema/schema.js";
import { countOnEdges, type EdgeCounts, finiteAt, sampledRows, samplePositions } from "./edges.js";
import {
  countPresorted,
  type PresortedColumn,
  sampleFromPresorted,
  sortedFromPresorted,
} from "./presorted.js";
import {
  type CategoryProfile,
  type ColumnProfile,
  type NumericProfile,
  PROFILE_FORMAT,
  type TrainingProfile,
} from "./types.js";

/** Quantile bins per numeric column by default: percentiles. */
export const DEFAULT_PROFILE_BINS = 100;
/** Category values kept per column by default (the rest are summed into `other`). */
export const DEFAULT_MAX_CATEGORIES = 200;
/**
 * Values of a numeric column above which its edges come from a deterministic sample of this
 * many (its counts still cover every value), by default.
 */
export const DEFAULT_PROFILE_SAMPLE = 16_384;

export interface ProfileOptions {
  /**
   * Quantile bins per numeric column (default 100, percentiles). More bins give drift figures
   * closer to those on the raw data (a KS statistic within 1/bins) and a larger profile.
   */
  bins?: number;
  /** Category values kept per column (default 200). */
  maxCategories?: number;
  /**
   * Numeric columns with more values than this take their quantile edges from a deterministic
   * sample of about this many values (default 16384), then count every value on those edges in
   * one pass: counts, missing, moments, min and max stay exact, and the mass between two edges
   * is 1/bins give or take the sample's error (a standard error of about 8 % of it at the defaults). It also sizes
   * the rows `predict` is asked for.
   */
  sampleSize?: number;
  /** The model's predictions on these rows (one per row), profiled as `predictions`. */
  predictions?: ArrayLike<number>;
  /**
   * Predicts the given rows (ascending positions in the frame): profiled as `predictions`, on
   * every row when the frame has at most `sampleSize` rows, else on a deterministic sample of
   * `sampleSize` of them (see `TrainingProfile.sampleSize`). Much cheaper than `predictions`
   * for a large frame and a large ensemble. Not with `predictions`.
   */
  predict?: (rows: Int32Array) => ArrayLike<number>;
}

type Kind = "number" | "integer" | "boolean" | "category";

function checkCount(
  name: string,
  value: number | undefined,
  fallback: number,
  largest = 100_000,
): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1 || value > largest) {
    throw new MlopsError(
      "argument_invalid",
      `profileFrame: ${name} must be an integer from 1 to ${largest}, got ${String(value)}`,
    );
  }
  return value;
}

/** The largest sample size: a typed array's length (and plenty). */
const LARGEST_SAMPLE = 2 ** 31 - 1;

/** The finite values of `values`, sorted ascending (a copy; NaN and ±Infinity dropped). */
export function sortedFinite(values: ArrayLike<number>): Float64Array {
  let count = 0;
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) count++;
  const out = new Float64Array(count);
  let at = 0;
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (Number.isFinite(value)) out[at++] = value;
  }
  return sortFloat64(out);
}

/** The first index of `sorted` whose value is greater than `value`. */
export function upperBound(sorted: ArrayLike<number>, value: number, from = 0): number {
  let low = from;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (sorted[middle] <= value) low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * Indices (into n sorted values) of the inverted-CDF quantiles the edges sit at: the minimum,
 * k/bins for k = 1..bins, and finer levels in both tails (1, 2 and 5 per 10·bins, per 100·bins,
 * …, while they still part values), where a profile otherwise stretches 1/bins of the mass
 * over the widest bins. Ascending, without repeats.
 */
export function edgeIndices(n: number, bins: number): readonly number[] {
  // A fit profiles every column of one row count: made once for them all.
  if (lastEdges.n === n && lastEdges.bins === bins) return lastEdges.indices;
  const indices = new Set<number>([0]);
  const at = (numerator: number, denominator: number) =>
    Math.max(0, Math.ceil((numerator * n) / denominator) - 1);
  for (let k = 1; k <= bins; k++) indices.add(at(k, bins));
  for (let scale = 10 * bins; n / scale >= 1; scale *= 10) {
    for (const step of [1, 2, 5]) {
      indices.add(at(step, scale));
      indices.add(at(scale - step, scale));
    }
  }
  lastEdges = { n, bins, indices: Object.freeze([...indices].sort((a, b) => a - b)) };
  return lastEdges.indices;
}

let lastEdges: { n: number; bins: number; indices: readonly number[] } = {
  n: -1,
  bins: -1,
  indices: [],
};

/**
 * The numeric profile of sorted finite values: moments, and the distinct inverted-CDF
 * quantiles at k/bins as edges with the exact count in each right-closed bin.
 */
export function profileSorted(
  sorted: Float64Array,
  missing: number,
  kind: NumericProfile["kind"],
  bins: number,
): NumericProfile {
  const n = sorted.length;
  const total = n + missing;
  const missingRate = total === 0 ? 0 : missing / total;
  if (n === 0) {
    return {
      kind,
      count: 0,
      missing,
      missingRate,
      mean: null,
      std: null,
      min: null,
      max: null,
      edges: [],
      counts: [],
      atEdge: [],
    };
  }
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i];
  const mean = sum / n;
  let squares = 0;
  let residual = 0;
  for (let i = 0; i < n; i++) {
    const deviation = sorted[i] - mean;
    squares += deviation * deviation;
    residual += deviation;
  }
  // The corrected two-pass variance (Chan, Golub & LeVeque): exact to rounding.
  const variance = n > 1 ? (squares - (residual * residual) / n) / (n - 1) : Number.NaN;
  const edges: number[] = [];
  for (const index of edgeIndices(n, bins)) {
    const value = sorted[index];
    if (edges.length === 0 || value > edges[edges.length - 1]) edges.push(value);
  }
  const counts: number[] = new Array(edges.length);
  const atEdge: number[] = new Array(edges.length);
  let previous = 0;
  for (let i = 0; i < edges.length; i++) {
    const cumulative = upperBound(sorted, edges[i], previous);
    counts[i] = cumulative - previous;
    let first = cumulative - 1;
    while (first > previous && sorted[first - 1] === edges[i]) first--;
    atEdge[i] = cumulative - first;
    previous = cumulative;
  }
  return {
    kind,
    count: n,
    missing,
    missingRate,
    mean,
    std: n > 1 ? Math.sqrt(Math.max(variance, 0)) : null,
    min: sorted[0],
    max: sorted[n - 1],
    edges,
    counts,
    atEdge,
  };
}

/**
 * The numeric profile of some values (NaN and ±Infinity count as missing). More than
 * `sampleSize` values (default 16384) take their edges from a deterministic sample of them;
 * the counts, moments, minimum and maximum are always over every value.
 *
 * @example
 * const profile = profileNumbers(predictions); // { count, mean, std, edges, counts, … }
 */
export function profileNumbers(
  values: ArrayLike<number>,
  options: { bins?: number; kind?: NumericProfile["kind"]; sampleSize?: number } = {},
): NumericProfile {
  const bins = checkCount("bins", options.bins, DEFAULT_PROFILE_BINS);
  const sampleSize = checkCount(
    "sampleSize",
    options.sampleSize,
    DEFAULT_PROFILE_SAMPLE,
    LARGEST_SAMPLE,
  );
  return numericProfile(values, options.kind ?? "number", bins, sampleSize);
}

function numericProfile(
  values: ArrayLike<number>,
  kind: NumericProfile["kind"],
  bins: number,
  sampleSize: number,
  positions?: Int32Array,
): NumericProfile {
  const n = values.length;
  if (n > sampleSize) {
    let at = positions ?? samplePositions(n, sampleSize);
    let sample = finiteAt(values, at);
    // A column with many missing values: a denser sample, or every value when that is as few.
    if (sample.length < sampleSize / 2) {
      const wanted = Math.ceil((at.length * sampleSize) / Math.max(sample.length, 1));
      if (wanted < n) {
        at = samplePositions(n, wanted);
        sample = finiteAt(values, at);
      } else sample = new Float64Array(0);
    }
    if (sample.length > 0) {
      return profileFromSample(values, sortFloat64(sample), kind, bins, countOnEdges);
    }
  }
  const sorted = sortedFinite(values);
  return profileSorted(sorted, n - sorted.length, kind, bins);
}

/**
 * The profile `profileFrame` makes of a numeric column of at most `DEFAULT_PROFILE_SAMPLE`
 * values with its default settings, from the column's finite values already sorted ascending
 * (as `sortFloat64` orders them; the hist splitter sorts them to place its bins) and how many
 * values are missing. Hand the result to `profileFrameWith`.
 */
export function profileSortedColumn(sorted: Float64Array, missing: number): NumericProfile {
  return profileSorted(sorted, missing, "number", DEFAULT_PROFILE_BINS);
}

/**
 * The profile `profileFrame` makes of a numeric column with its default settings, for a column
 * its caller has presorted (see `PresortedColumn`; the exact tree splitter's float32 order): the
 * same to the bit, without sorting or binning the column again. `positions`: the frame's row
 * sample (`samplePositions(rows, DEFAULT_PROFILE_SAMPLE)`) when it has more rows than that.
 * Undefined where that would not pay (a sample with many missing values, long runs of values
 * that round to one float32): `profileFrame` then profiles the column as usual. Hand the result
 * to `profileFrameWith`.
 */
export function profilePresorted(
  values: Float64Array,
  presorted: PresortedColumn,
  positions: Int32Array | undefined,
): NumericProfile | undefined {
  const n = values.length;
  const bins = DEFAULT_PROFILE_BINS;
  const sampleSize = DEFAULT_PROFILE_SAMPLE;
  if (n <= sampleSize) {
    const sorted = sortedFromPresorted(values, presorted);
    return sorted === undefined
      ? undefined
      : profileSorted(sorted, n - sorted.length, "number", bins);
  }
  const at = positions ?? samplePositions(n, sampleSize);
  // Up to a few samples' rows, picking the sample in the presorted order is cheaper than sorting it.
  const sample =
    n <= PICK_FROM_PRESORTED_ROWS
      ? sampleFromPresorted(values, presorted, sampledRows(at, n), at.length)
      : sortFloat64(finiteAt(values, at));
  // numericProfile draws a denser sample then: leave that to it.
  if (sample.length < sampleSize / 2) return undefined;
  let failed = false;
  const made = profileFromSample(values, sample, "number", bins, (column, edges, shift) => {
    const counted = countPresorted(column as Float64Array, presorted, edges, shift);
    if (counted !== undefined) return counted;
    failed = true;
    return countOnEdges(column, edges, shift);
  });
  return failed ? undefined : made;
}

/** Rows up to which `profilePresorted` picks a column's sample in its presorted order. */
const PICK_FROM_PRESORTED_ROWS = 40_000;

/**
 * The profile of `values` with edges at the quantiles of `sample` (sorted finite values drawn
 * from them), the column's minimum and maximum added: every count, moment and extreme from one
 * pass over all values (`countOnEdges`).
 */
function profileFromSample(
  values: ArrayLike<number>,
  sample: Float64Array,
  kind: NumericProfile["kind"],
  bins: number,
  countValues: (values: ArrayLike<number>, edges: Float64Array, shift: number) => EdgeCounts,
): NumericProfile {
  const sampleEdges: number[] = [];
  for (const index of edgeIndices(sample.length, bins)) {
    const value = sample[index];
    if (sampleEdges.length === 0 || value > sampleEdges[sampleEdges.length - 1]) {
      sampleEdges.push(value);
    }
  }
  let shift = 0;
  for (let i = 0; i < sample.length; i++) shift += sample[i];
  shift /= sample.length;
  const m = sampleEdges.length;
  const counted = countValues(values, Float64Array.from(sampleEdges), shift);
  const { bins: binCounts, below, above } = counted;
  const count = values.length - counted.missing;
  const edges: number[] = [];
  const counts: number[] = [];
  const atEdge: number[] = [];
  // Values below the sample's minimum: the column's minimum becomes the first edge.
  let carried = binCounts[0];
  if (below.atMin > 0) {
    edges.push(below.min);
    counts.push(below.atMin);
    atEdge.push(below.atMin);
    carried -= below.atMin;
  }
  for (let i = 0; i < m; i++) {
    edges.push(sampleEdges[i]);
    counts.push(carried + binCounts[2 * i] * (i > 0 ? 1 : 0) + binCounts[2 * i + 1]);
    atEdge.push(binCounts[2 * i + 1]);
    carried = 0;
  }
  if (above.atMax > 0) {
    edges.push(above.max);
    counts.push(binCounts[2 * m]);
    atEdge.push(above.atMax);
  }
  const total = values.length;
  const mean = shift + counted.sum / count;
  // The corrected two-pass variance about a shift near the mean: exact to rounding.
  const variance = (counted.squares - (counted.sum * counted.sum) / count) / (count - 1);
  return {
    kind,
    count,
    missing: counted.missing,
    missingRate: counted.missing / total,
    mean,
    std: count > 1 ? Math.sqrt(Math.max(variance, 0)) : null,
    min: edges[0],
    max: edges[edges.length - 1],
    edges,
    counts,
    atEdge,
  };
}

function categoryProfile(
  kind: CategoryProfile["kind"],
  entries: [string, number][],
  missing: number,
  maxCategories: number,
): CategoryProfile {
  let count = 0;
  for (const [, frequency] of entries) count += frequency;
  let kept = entries;
  let other = 0;
  if (entries.length > maxCategories) {
    // Keep the most frequent (ties by first appearance), in their original order.
    const order = entries
      .map(([, frequency], index) => ({ frequency, index }))
      .sort((a, b) => b.frequency - a.frequency || a.index - b.index)
      .slice(0, maxCategories)
      .map((entry) => entry.index)
      .sort((a, b) => a - b);
    kept = order.map((index) => entries[index]);
    for (const [, frequency] of kept) other += frequency;
    other = count - other;
  }
  const total = count + missing;
  return {
    kind,
    count,
    missing,
    missingRate: total === 0 ? 0 : missing / total,
    values: Object.fromEntries(kept),
    other,
  };
}

/** What every column of one profile is profiled with. */
interface ColumnSettings {
  bins: number;
  maxCategories: number;
  sampleSize: number;
  /** The frame's row sample, when it has more than `sampleSize` rows. */
  positions: Int32Array | undefined;
  /** Numeric columns profiled already, with the default settings (see `profileFrameWith`). */
  given: ReadonlyMap<string, NumericProfile> | undefined;
}

/**
 * What `profileFrameWith` is handed ready-made, each made with the default settings (`bins`
 * 20, `sampleSize` 16384).
 */
export interface GivenProfiles {
  /** Numeric feature columns, by name (`profilePresorted`, `profileSortedColumn`). */
  features?: ReadonlyMap<string, NumericProfile>;
  /** The predictions `options.predict` would give on its rows, profiled: it is then not asked. */
  predictions?: NumericProfile;
}

function profileColumn(
  frame: Frame,
  name: string,
  kind: Kind,
  declared: readonly string[] | undefined,
  settings: ColumnSettings,
): ColumnProfile {
  const { bins, maxCategories, sampleSize, positions, given } = settings;
  const column = frame.column(name);
  if (kind === "category") {
    if (column.kind !== "category") {
      throw new MlopsError(
        "data_invalid",
        `profileFrame: column "${name}" is ${column.kind}, the schema says category`,
      );
    }
    const frequencies = new Float64Array(column.dictionary.length);
    let missing = 0;
    for (const code of column.codes) {
      if (code < 0) missing++;
      else frequencies[code]++;
    }
    const byValue = new Map<string, number>();
    for (const value of declared ?? []) byValue.set(value, 0);
    column.dictionary.forEach((value, code) => {
      byValue.set(value, (byValue.get(value) ?? 0) + frequencies[code]);
    });
    return categoryProfile("category", [...byValue], missing, maxCategories);
  }
  if (column.kind === "category") {
    throw new MlopsError(
      "data_invalid",
      `profileFrame: column "${name}" is a category column, the schema says ${kind}`,
    );
  }
  const values = column.values;
  if (kind === "boolean") {
    let falses = 0;
    let trues = 0;
    let missing = 0;
    for (let i = 0; i < values.length; i++) {
      const value = values[i];
      if (Number.isNaN(value)) missing++;
      else if (value === 0) falses++;
      else trues++;
    }
    return categoryProfile(
      "boolean",
      [
        ["false", falses],
        ["true", trues],
      ],
      missing,
      maxCategories,
    );
  }
  const made = given?.get(name);
  if (made !== undefined && made.count + made.missing === values.length) return { ...made, kind };
  return numericProfile(values, kind, bins, sampleSize, positions);
}

/**
 * Profiles a frame against its schema, one pass per column: for every feature (and the target
 * when the frame has it) the count, missing rate, mean, std, min/max and percentile edges with
 * counts of a numeric column, or the value frequencies of a category or boolean column; plus
 * the model's predictions when given. Past `sampleSize` rows (16384) numeric edges come from a
 * deterministic row sample, and `predict` is asked for that sample's rows only; counts are
 * always over every row. The result is small (a few KB per feature), plain JSON, and the same
 * for the same data. Columns of the frame outside the schema are ignored; a feature the frame
 * lacks throws `data_invalid`.
 *
 * @example
 * const profile = profileFrame(frame, houses, {
 *   predict: (rows) => model.predict(frame.take(rows)),
 * });
 * profile.features.rooms; // { kind: "number", count: 20640, mean: 5.43, edges: [...], ... }
 */
export function profileFrame(
  frame: Frame,
  schema: Schema | SchemaJSON,
  options: ProfileOptions = {},
): TrainingProfile {
  return profileFrameWith(frame, schema, options, undefined);
}

/**
 * `profileFrame`, with some numeric columns (and the predictions) profiled already (used as
 * they are when `options` keeps the default bins and sample size, else ignored): the same
 * profile, without profiling those again.
 */
export function profileFrameWith(
  frame: Frame,
  schema: Schema | SchemaJSON,
  options: ProfileOptions,
  given: GivenProfiles | undefined,
): TrainingProfile {
  const bins = checkCount("bins", options.bins, DEFAULT_PROFILE_BINS);
  const maxCategories = checkCount("maxCategories", options.maxCategories, DEFAULT_MAX_CATEGORIES);
  const sampleSize = checkCount(
    "sampleSize",
    options.sampleSize,
    DEFAULT_PROFILE_SAMPLE,
    LARGEST_SAMPLE,
  );
  if (options.predictions !== undefined && options.predict !== undefined) {
    throw new MlopsError("argument_invalid", "profileFrame: give predictions or predict, not both");
  }
  const sampled = frame.rowCount > sampleSize;
  const defaults = bins === DEFAULT_PROFILE_BINS && sampleSize === DEFAULT_PROFILE_SAMPLE;
  const settings: ColumnSettings = {
    bins,
    maxCategories,
    sampleSize,
    positions: sampled ? samplePositions(frame.rowCount, sampleSize) : undefined,
    given: defaults ? given?.features : undefined,
  };
  const json = schema instanceof Schema ? schema.toJSON() : schema;
  const features: Record<string, ColumnProfile> = {};
  const missingColumns: string[] = [];
  for (const [name, definition] of Object.entries(json.fields)) {
    if (name === json.target) continue;
    if (!frame.has(name)) {
      missingColumns.push(name);
      continue;
    }
    features[name] = profileColumn(frame, name, definition.kind, definition.values, settings);
  }
  if (missingColumns.length > 0) {
    throw new MlopsError(
      "data_invalid",
      `profileFrame: the frame has no column ${missingColumns.map((name) => `"${name}"`).join(", ")} ` +
        `(a feature of the schema); it has: ${frame.names.join(", ") || "(no columns)"}`,
    );
  }
  const profile: TrainingProfile = {
    format: PROFILE_FORMAT,
    rowCount: frame.rowCount,
    bins,
    ...(sampled ? { sampleSize } : {}),
    features,
  };
  const target = json.target;
  if (target !== undefined && frame.has(target)) {
    const definition = json.fields[target];
    profile.target = {
      name: target,
      ...profileColumn(frame, target, definition.kind, definition.values, settings),
    };
  }
  if (options.predictions !== undefined) {
    if (options.predictions.length !== frame.rowCount) {
      throw new MlopsError(
        "argument_invalid",
        `profileFrame: ${options.predictions.length} predictions for ${frame.rowCount} rows`,
      );
    }
    profile.predictions = numericProfile(
      options.predictions,
      "number",
      bins,
      sampleSize,
      settings.positions,
    );
  }
  const madePredictions = defaults ? given?.predictions : undefined;
  if (options.predict !== undefined && madePredictions !== undefined) {
    const rows = settings.positions?.length ?? frame.rowCount;
    if (madePredictions.count + madePredictions.missing !== rows) {
      throw new MlopsError(
        "argument_invalid",
        `profileFrame: a profile of ${madePredictions.count + madePredictions.missing} predictions for ${rows} rows`,
      );
    }
    profile.predictions = madePredictions;
  } else if (options.predict !== undefined) {
    const rows = settings.positions ?? samplePositions(frame.rowCount, frame.rowCount);
    const predictions = options.predict(rows);
    if (predictions.length !== rows.length) {
      throw new MlopsError(
        "argument_invalid",
        `profileFrame: predict gave ${predictions.length} predictions for ${rows.length} rows`,
      );
    }
    profile.predictions = numericProfile(predictions, "number", bins, sampleSize);
  }
  return profile;
}
