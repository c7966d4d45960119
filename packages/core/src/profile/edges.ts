// Counting a large numeric column on edges known in advance, in one pass: what lets a profile
// take its edges from a bounded sample and still give exact counts, moments, minimum and maximum
// over every value, with no sort and no copy of the column.

import { createRandom } from "../metrics/random.js";

/** The seed of the profile's row sample: a profile is the same for the same data. */
const SAMPLE_SEED = 0x9e3779b9;

/**
 * `count` row positions out of `rows`, ascending: one drawn uniformly (seeded, so the same every
 * time) from each of `count` equal strata. Stratified, so the sample follows any ordering of the
 * rows (sorted, grouped by time) closely, without a stride that periodic data could alias with.
 * All rows when `count >= rows`.
 */
export function samplePositions(rows: number, count: number): Int32Array {
  if (count >= rows) {
    const all = new Int32Array(rows);
    for (let i = 0; i < rows; i++) all[i] = i;
    return all;
  }
  // A fit asks for its sample more than once (its predictions, then the profile's columns).
  const last = lastSample;
  if (last !== undefined && last.rows === rows && last.count === count) {
    return last.positions.slice();
  }
  const random = createRandom(SAMPLE_SEED);
  const out = new Int32Array(count);
  let start = 0;
  for (let k = 0; k < count; k++) {
    const end = Math.floor(((k + 1) * rows) / count);
    out[k] = start + random.int(end - start);
    start = end;
  }
  lastSample = { rows, count, positions: out.slice() };
  return out;
}

let lastSample: { rows: number; count: number; positions: Int32Array } | undefined;

/** Masks made by `sampledRows`, by positions array. */
const sampleMasks = new WeakMap<Int32Array, Uint8Array>();

/**
 * A mask of `rows` rows with a 1 at each of `positions` (distinct row positions, as
 * `samplePositions` gives them), made once per positions array: a fit's profile and its
 * predictions share it. Read it, do not change it.
 */
export function sampledRows(positions: Int32Array, rows: number): Uint8Array {
  let mask = sampleMasks.get(positions);
  if (mask === undefined || mask.length !== rows) {
    mask = new Uint8Array(rows);
    for (let k = 0; k < positions.length; k++) mask[positions[k]] = 1;
    sampleMasks.set(positions, mask);
  }
  return mask;
}

/** The finite values of `values` at `positions`, in position order. */
export function finiteAt(values: ArrayLike<number>, positions: Int32Array): Float64Array {
  const out = new Float64Array(positions.length);
  let at = 0;
  for (let k = 0; k < positions.length; k++) {
    const value = values[positions[k]];
    if (value - value === 0) out[at++] = value;
  }
  return at === out.length ? out : out.slice(0, at);
}

/** What one counting pass over a column finds (see `countOnEdges`). */
export interface EdgeCounts {
  /**
   * Counts on the 2m + 1 bins of m edges (as `profileBin`): 0 below the first edge, 2i + 1 equal
   * to edge i, 2i strictly between edges i − 1 and i, 2m above the last edge.
   */
  bins: Float64Array;
  /** NaN and ±Infinity. */
  missing: number;
  /** The smallest value below the first edge and how often it occurs (Infinity, 0 if none). */
  below: { min: number; atMin: number };
  /** The largest value above the last edge and how often it occurs (−Infinity, 0 if none). */
  above: { max: number; atMax: number };
  /** Σ (value − shift) and Σ (value − shift)² over the finite values. */
  sum: number;
  squares: number;
}

/** Cells per edge of the first lookup table, and of a second one under a crowded cell. */
const CELLS_PER_EDGE = 32;
/** Edges in one first-level cell from which it gets a table of its own. */
const CROWDED = 4;

/**
 * Counts `values` on `edges` (ascending, distinct, finite) in one pass, with the moments of
 * `value − shift` (pick a shift near the mean, as a sample's mean, for an accurate variance).
 *
 * A value is located by a table of uniform cells over [first edge, last edge]: a cell without an
 * edge names the value's bin at once (every edge of an earlier cell is below the value, every
 * edge of a later one above: the cell of a value never decreases as the value grows); a cell
 * with a few edges is searched among those; a crowded cell (the bulk of a skewed column) has a
 * finer table of its own. So a value costs a multiply and a lookup or two, whatever its
 * distribution, and the answer is exactly `profileBin`'s.
 */
export function countOnEdges(
  values: ArrayLike<number>,
  edges: Float64Array,
  shift: number,
): EdgeCounts {
  const m = edges.length;
  const bins = new Float64Array(2 * m + 1);
  const low = edges[0];
  const high = edges[m - 1];
  let cells = Math.max(1, CELLS_PER_EDGE * m);
  let scale = cells / (high - low);
  if (!Number.isFinite(scale) || m < 2) {
    cells = 1;
    scale = 0;
  }
  const lastCell = cells - 1;
  const cellOf = (value: number) => {
    const cell = ((value - low) * scale) | 0;
    return Math.min(cell, lastCell);
  };
  // first[c]: how many edges lie in cells before c.
  const first = new Int32Array(cells + 1);
  for (let i = 0; i < m; i++) first[cellOf(edges[i]) + 1]++;
  for (let c = 1; c <= cells; c++) first[c] += first[c - 1];
  // A code ≥ 0 is a bin; −1 − j is the search range j (or the sub-table j − searchFrom.length).
  const codes = new Int32Array(cells);
  const searchFrom: number[] = [];
  const searchTo: number[] = [];
  const crowded: number[] = [];
  for (let c = 0; c < cells; c++) {
    const inCell = first[c + 1] - first[c];
    if (inCell === 0) codes[c] = 2 * first[c];
    else if (inCell < CROWDED || scale === 0) {
      codes[c] = -1 - searchFrom.length;
      searchFrom.push(first[c]);
      searchTo.push(first[c + 1]);
    } else crowded.push(c);
  }
  // A finer table under each crowded cell, over the width of the cell.
  const subLow = new Float64Array(crowded.length);
  const subScale = new Float64Array(crowded.length);
  const subLast = new Int32Array(crowded.length);
  const subOffset = new Int32Array(crowded.length);
  const subCodes: number[] = [];
  const subTables = crowded.length;
  const searches: { from: number; to: number }[] = [];
  for (let t = 0; t < subTables; t++) {
    const c = crowded[t];
    const from = first[c];
    const to = first[c + 1];
    const subCells = CELLS_PER_EDGE * (to - from);
    const start = low + c / scale;
    let factor = subCells * scale;
    let count = subCells;
    if (!Number.isFinite(factor)) {
      factor = 0;
      count = 1;
    }
    subLow[t] = start;
    subScale[t] = factor;
    subLast[t] = count - 1;
    subOffset[t] = subCodes.length;
    const subCell = (value: number) => {
      const cell = ((value - start) * factor) | 0;
      return cell < 0 ? 0 : Math.min(cell, count - 1);
    };
    const subFirst = new Int32Array(count + 1);
    for (let i = from; i < to; i++) subFirst[subCell(edges[i]) + 1]++;
    for (let d = 1; d <= count; d++) subFirst[d] += subFirst[d - 1];
    for (let d = 0; d < count; d++) {
      const before = from + subFirst[d];
      const after = from + subFirst[d + 1];
      if (after === before) subCodes.push(2 * before);
      else {
        subCodes.push(-1 - (searchFrom.length + searches.length));
        searches.push({ from: before, to: after });
      }
    }
    codes[c] = -1 - t - 0x40000000;
  }
  for (const { from, to } of searches) {
    searchFrom.push(from);
    searchTo.push(to);
  }
  const rangeFrom = Int32Array.from(searchFrom);
  const rangeTo = Int32Array.from(searchTo);
  const nested = Int32Array.from(subCodes);
  const lastBin = 2 * m;
  let missing = 0;
  let sum = 0;
  let squares = 0;
  let min = Number.POSITIVE_INFINITY;
  let atMin = 0;
  let max = Number.NEGATIVE_INFINITY;
  let atMax = 0;
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (value >= low && value < high) {
      const deviation = value - shift;
      sum += deviation;
      squares += deviation * deviation;
      let cell = ((value - low) * scale) | 0;
      if (cell > lastCell) cell = lastCell;
      let code = codes[cell];
      if (code < 0) {
        let j = -1 - code;
        if (j >= 0x40000000) {
          const t = j - 0x40000000;
          let sub = ((value - subLow[t]) * subScale[t]) | 0;
          if (sub < 0) sub = 0;
          else if (sub > subLast[t]) sub = subLast[t];
          code = nested[subOffset[t] + sub];
          j = -1 - code;
        }
        if (code < 0) {
          let lowEdge = rangeFrom[j];
          let highEdge = rangeTo[j];
          while (lowEdge < highEdge) {
            const middle = (lowEdge + highEdge) >>> 1;
            if (edges[middle] < value) lowEdge = middle + 1;
            else highEdge = middle;
          }
          code = edges[lowEdge] === value ? 2 * lowEdge + 1 : 2 * lowEdge;
        }
      }
      bins[code]++;
      continue;
    }
    if (value - value !== 0) {
      missing++;
      continue;
    }
    const deviation = value - shift;
    sum += deviation;
    squares += deviation * deviation;
    if (value < low) {
      bins[0]++;
      if (value < min) {
        min = value;
        atMin = 1;
      } else if (value === min) atMin++;
    } else if (value === high) bins[lastBin - 1]++;
    else {
      bins[lastBin]++;
      if (value > max) {
        max = value;
        atMax = 1;
      } else if (value === max) atMax++;
    }
  }
  return { bins, missing, below: { min, atMin }, above: { max, atMax }, sum, squares };
}
