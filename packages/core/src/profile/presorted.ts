// Profiling a column that its caller has already sorted: the exact tree splitter sorts every
// feature by its float32 value before a fit, and the training profile made right after needs the
// same order (a small column sorted whole; a large one's values counted on its sample's edges).
// These take that order instead of sorting or binning the column again, and give the very
// numbers `profileFrame` gives without it. (A large column's sample is still drawn and sorted
// as `profileFrame` does: picking its rows out of the presorted order reads the whole column
// out of order, slower than sorting 16,384 values.)

import { sortFloat64 } from "../internal/sort.js";
import type { EdgeCounts } from "./edges.js";

/**
 * A numeric column sorted by its caller, by float32 value: `order` lists the rows with a finite
 * value first (`count` of them) in ascending order of `keys`, where
 * `keys[k] === Math.fround(values[order[k]])`. Rows whose values round to the same float32 may
 * come in any order among themselves (float64 decides that here). The rows past `count` are
 * those whose value is NaN or ±Infinity.
 */
export interface PresortedColumn {
  readonly order: Int32Array;
  readonly keys: Float32Array;
  readonly count: number;
}

/** Values rounding to one float32 beyond which a column is profiled the usual way. */
const LONGEST_RUN = 64;

/** Whether `a` sorts before `b` as `Float64Array#sort` has it (−0 before +0; no NaN here). */
function before(a: number, b: number): boolean {
  return a < b || (a === 0 && b === 0 && 1 / a < 0 && 1 / b > 0);
}

/**
 * Puts `values` in `Float64Array#sort` order where it is sorted by `keys` (their float32
 * roundings) already: only runs of one key can be out of order. False when a run is too long to
 * sort here (the caller sorts the usual way).
 */
function sortRuns(values: Float64Array, keys: Float32Array, length: number): boolean {
  let start = 0;
  while (start < length) {
    const key = keys[start];
    let end = start + 1;
    while (end < length && keys[end] === key) end++;
    if (end - start > 1) {
      if (end - start > LONGEST_RUN) {
        // A long run of one value (an integer column) is in order already.
        for (let k = start + 1; k < end; k++) if (values[k] !== values[start]) return false;
      } else {
        for (let k = start + 1; k < end; k++) {
          const value = values[k];
          let at = k;
          while (at > start && before(value, values[at - 1])) {
            values[at] = values[at - 1];
            at--;
          }
          values[at] = value;
        }
      }
    }
    start = end;
  }
  return true;
}

/**
 * The finite values of `values` in ascending order (what `sortFloat64` gives for them), from
 * their presorted order: one gather and a pass over the runs of equal float32 keys.
 */
export function sortedFromPresorted(
  values: Float64Array,
  presorted: PresortedColumn,
): Float64Array | undefined {
  const { order, keys, count } = presorted;
  const out = new Float64Array(count);
  for (let k = 0; k < count; k++) out[k] = values[order[k]];
  return sortRuns(out, keys, count) ? out : undefined;
}

/** The first k in [0, count) with `keys[k] >= key` (`strict`: `> key`). */
function search(keys: Float32Array, count: number, key: number, strict: boolean): number {
  let low = 0;
  let high = count;
  while (low < high) {
    const middle = (low + high) >>> 1;
    const value = keys[middle];
    if (value < key || (strict && value === key)) low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * The finite values of `values` at the rows `sampled` marks (1), sorted as `sortFloat64` sorts
 * them: picked in the presorted order (one pass over it, no sort), runs of one float32 put in
 * float64 order. `size`: how many rows `sampled` marks.
 */
export function sampleFromPresorted(
  values: Float64Array,
  presorted: PresortedColumn,
  sampled: Uint8Array,
  size: number,
): Float64Array {
  const { order, keys, count } = presorted;
  // Branch-free: every row is written, and kept (the next one written after it) when sampled.
  const picked = new Float64Array(size + 1);
  const pickedKeys = new Float32Array(size + 1);
  let at = 0;
  for (let k = 0; k < count; k++) {
    const row = order[k];
    picked[at] = values[row];
    pickedKeys[at] = keys[k];
    at += sampled[row];
  }
  const sample = picked.slice(0, at);
  return sortRuns(sample, pickedKeys, at) ? sample : sortFloat64(sample);
}

/**
 * `countOnEdges(values, edges, shift)` for a presorted column, the same numbers: the moments and
 * the extremes beyond the edges in one plain pass in row order (as `countOnEdges` sums), the
 * bins from two binary searches per edge in the sorted keys. Undefined when many values round
 * to an edge's float32 or the column's missing values are not the presorted order's.
 */
export function countPresorted(
  values: Float64Array,
  presorted: PresortedColumn,
  edges: Float64Array,
  shift: number,
): EdgeCounts | undefined {
  const { order, keys, count } = presorted;
  const m = edges.length;
  let missing = 0;
  let sum = 0;
  let squares = 0;
  // Every value a float32 (integers, values read from float32 data): each run of one key is
  // one value, and the runs need no look.
  let lossy = 0;
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (value - value !== 0) {
      missing++;
      continue;
    }
    lossy |= Math.fround(value) !== value ? 1 : 0;
    const deviation = value - shift;
    sum += deviation;
    squares += deviation * deviation;
  }
  const float32 = lossy === 0;
  if (missing !== values.length - count) return undefined;
  const bins = new Float64Array(2 * m + 1);
  // below: values under the current edge; through: values at most the previous edge.
  let through = 0;
  for (let i = 0; i < m; i++) {
    const edge = edges[i];
    const key = Math.fround(edge);
    const first = search(keys, count, key, false);
    const last = search(keys, count, key, true);
    let below = first;
    let equal = 0;
    if (float32) {
      // The run's values are its key: all equal to the edge, or (for an edge that is no
      // float32) all below or all above it.
      if (key === edge) equal = last - first;
      else if (key < edge) below = last;
    } else {
      if (last - first > LONGEST_RUN) return undefined;
      for (let k = first; k < last; k++) {
        const value = values[order[k]];
        if (value < edge) below++;
        else if (value === edge) equal++;
      }
    }
    bins[2 * i] = below - through;
    bins[2 * i + 1] = equal;
    through = below + equal;
  }
  bins[2 * m] = count - through;
  // The extremes beyond the edges: the column's, in its first and last runs of one key.
  const below = bins[0] > 0 ? extreme(values, presorted, true) : { value: Infinity, at: 0 };
  const above = bins[2 * m] > 0 ? extreme(values, presorted, false) : { value: -Infinity, at: 0 };
  return {
    bins,
    missing,
    below: { min: below.value, atMin: below.at },
    above: { max: above.value, atMax: above.at },
    sum,
    squares,
  };
}

/**
 * The column's smallest (`lowest`) or largest value and how often it occurs, as `countOnEdges`
 * finds them in row order: of −0 and +0, the one in the lower row.
 */
function extreme(
  values: Float64Array,
  { order, keys, count }: PresortedColumn,
  lowest: boolean,
): { value: number; at: number } {
  const key = keys[lowest ? 0 : count - 1];
  let best = Number.NaN;
  let bestRow = -1;
  let at = 0;
  for (
    let k = lowest ? 0 : count - 1;
    k >= 0 && k < count && keys[k] === key;
    k += lowest ? 1 : -1
  ) {
    const row = order[k];
    const value = values[row];
    if (at === 0 || (lowest ? value < best : value > best)) {
      best = value;
      bestRow = row;
      at = 1;
    } else if (value === best) {
      at++;
      if (row < bestRow) {
        best = value;
        bestRow = row;
      }
    }
  }
  return { value: best, at };
}
