import { upperBound } from "../profile/profile.js";
import type { NumericProfile } from "../profile/types.js";
import type { BinnedNumbers } from "./compare.js";

/**
 * The bin of `value` among a profile's `edges` (m of them), out of 2m + 1: 0 below the first
 * edge, 2i + 1 equal to `edges[i]`, 2i strictly between `edges[i-1]` and `edges[i]`, 2m above
 * the last edge. A streaming sketch counts values in these bins: a binary search, so
 * O(log bins) per value, and values that repeat (integers, caps) stay exact steps.
 *
 * @example
 * profileBin([1, 2, 3], 0.5); // 0
 * profileBin([1, 2, 3], 1);   // 1
 * profileBin([1, 2, 3], 2.5); // 4  (between 2 and 3)
 * profileBin([1, 2, 3], 3);   // 5
 * profileBin([1, 2, 3], 9);   // 6
 */
export function profileBin(edges: ArrayLike<number>, value: number): number {
  let low = 0;
  let high = edges.length;
  // The first edge ≥ value.
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (edges[middle] < value) low = middle + 1;
    else high = middle;
  }
  if (low === edges.length) return 2 * low;
  return edges[low] === value ? 2 * low + 1 : 2 * low;
}

/**
 * `profileBin` for many values on the same edges: a table of uniform cells over
 * [first edge, last edge] narrows each lookup to the few edges of one cell, so a value costs a
 * multiply and a step or two instead of a full binary search (whose branches a CPU mispredicts).
 * The same answers as `profileBin`, for any edges; what the server's sketch and `driftReport`
 * count with.
 *
 * @example
 * const locator = new BinLocator([1, 2, 3]);
 * locator.bin(2.5); // 4, as profileBin([1, 2, 3], 2.5)
 */
export class BinLocator {
  readonly edges: Float64Array;
  /** first[c]: the edges whose cell is below c (so the answer for a value in cell c is ≥ it). */
  readonly #first: Int32Array;
  readonly #low: number;
  readonly #high: number;
  readonly #scale: number;
  readonly #lastCell: number;

  constructor(edges: ArrayLike<number>) {
    this.edges = Float64Array.from(edges);
    const m = this.edges.length;
    this.#low = m > 0 ? this.edges[0] : 0;
    this.#high = m > 0 ? this.edges[m - 1] : 0;
    const cells = Math.max(1, 4 * m);
    const scale = cells / (this.#high - this.#low);
    this.#scale = Number.isFinite(scale) ? scale : 0;
    this.#lastCell = cells - 1;
    const first = new Int32Array(cells + 1);
    for (let i = 0; i < m; i++) first[this.#cell(this.edges[i]) + 1]++;
    for (let c = 1; c <= cells; c++) first[c] += first[c - 1];
    this.#first = first;
  }

  /** The cell of a value in [low, high]; non-decreasing in the value, like the rounding it uses. */
  #cell(value: number): number {
    const cell = Math.floor((value - this.#low) * this.#scale);
    return Math.min(cell, this.#lastCell);
  }

  /** The bin of `value`, as `profileBin(edges, value)`. */
  bin(value: number): number {
    const edges = this.edges;
    const m = edges.length;
    if (m === 0) return 0;
    if (!(value > this.#low)) return value === this.#low ? 1 : 0;
    if (value >= this.#high) return value === this.#high ? 2 * m - 1 : 2 * m;
    const cell = this.#cell(value);
    // An edge in a later cell is above the value; one in an earlier cell is below it.
    let low = this.#first[cell];
    let high = this.#first[cell + 1];
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (edges[middle] < value) low = middle + 1;
      else high = middle;
    }
    return edges[low] === value ? 2 * low + 1 : 2 * low;
  }
}

/**
 * Counts `values` on a profile's bins (`profileBin`, through a `BinLocator`) in one pass, with their moments (of
 * `value − shift`), minimum and maximum; non-finite values count as missing. What
 * `driftReport` compares against a stored profile: O(n log bins), no sort, no copy.
 *
 * @example
 * const binned = binNumbers([1, 2, 3], [0.5, 2, 2.5, Number.NaN]);
 * binned.counts; // Float64Array [1, 0, 0, 1, 1, 0, 0]
 * binned.missing; // 1
 */
export function binNumbers(
  edges: ArrayLike<number>,
  values: ArrayLike<number>,
  shift = 0,
): BinnedNumbers {
  const locator = new BinLocator(edges);
  const counts = new Float64Array(profileBinCount(locator.edges.length));
  let missing = 0;
  let sum = 0;
  let sumSquares = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (!Number.isFinite(value)) {
      missing++;
      continue;
    }
    counts[locator.bin(value)]++;
    const shifted = value - shift;
    sum += shifted;
    sumSquares += shifted * shifted;
    if (value < min) min = value;
    if (value > max) max = value;
  }
  return { kind: "bins", counts, missing, min, max, sum, sumSquares, shift };
}

/** The number of bins `profileBin` counts in for `edgeCount` edges. */
export function profileBinCount(edgeCount: number): number {
  return 2 * edgeCount + 1;
}

/**
 * The edge indices that close each of about `bins` equal-mass groups of a numeric profile's
 * bins (deciles for 10): the coarse bins PSI and Jensen–Shannon are measured on. Group g covers
 * `(edges[closing[g-1]], edges[closing[g]]]`, the first starting at the minimum. Values below
 * the reference's minimum and above its maximum get a bin each (empty in the reference), so
 * data leaving the training range always shows, even for a constant column.
 */
export function coarseBins(profile: NumericProfile, bins: number): number[] {
  const closing: number[] = [];
  const m = profile.edges.length;
  if (m === 0) return closing;
  let cumulative = 0;
  let next = 1;
  for (let i = 0; i < m - 1; i++) {
    cumulative += profile.counts[i];
    if (cumulative * bins >= next * profile.count) {
      closing.push(i);
      while (cumulative * bins >= next * profile.count) next++;
    }
  }
  closing.push(m - 1);
  return closing;
}

/** Reference counts per coarse bin: below the minimum (0), each group, above the maximum (0). */
export function referenceCoarseCounts(
  profile: NumericProfile,
  closing: readonly number[],
): number[] {
  const out = new Array<number>(closing.length + 2).fill(0);
  let group = 0;
  for (let i = 0; i < profile.counts.length; i++) {
    out[group + 1] += profile.counts[i];
    if (i === closing[group] && group < closing.length - 1) group++;
  }
  return out;
}

/** Counts per coarse bin of sorted finite values. */
export function sortedCoarseCounts(
  sorted: Float64Array,
  profile: NumericProfile,
  closing: readonly number[],
): number[] {
  const out = new Array<number>(closing.length + 2).fill(0);
  const first = profile.edges[0];
  // The values below the minimum: the first index whose value is ≥ it.
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (sorted[middle] < first) low = middle + 1;
    else high = middle;
  }
  let previous = low;
  out[0] = previous;
  for (let g = 0; g < closing.length; g++) {
    const cumulative = upperBound(sorted, profile.edges[closing[g]], previous);
    out[g + 1] = cumulative - previous;
    previous = cumulative;
  }
  out[closing.length + 1] = sorted.length - previous;
  return out;
}

/** Counts per coarse bin of a sample counted on the profile's bins (see `profileBin`). */
export function sketchCoarseCounts(
  counts: ArrayLike<number>,
  closing: readonly number[],
): number[] {
  const out = new Array<number>(closing.length + 2).fill(0);
  const last = counts.length - 1;
  out[0] = counts[0];
  out[closing.length + 1] = counts[last];
  let group = 0;
  for (let bin = 1; bin < last; bin++) {
    out[group + 1] += counts[bin];
    // Bin 2i + 1 holds the values equal to edge i, which closes its group.
    if (bin % 2 === 1 && (bin - 1) / 2 === closing[group] && group < closing.length - 1) group++;
  }
  return out;
}
