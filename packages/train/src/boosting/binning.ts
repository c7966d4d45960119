import { MlopsError } from "@mlops/core";
import { sortFloat64 } from "@mlops/core/internal";
import { NumpyRandomState } from "../forest/random-state.js";
import { binColumn } from "../tree/tree-data.js";
import { binPercentiles, numpyPermutation, percentileSorted } from "./numpy.js";

/** Rows sampled to place bin edges beyond this many (scikit-learn's `subsample`). */
export const BIN_SUBSAMPLE = 200_000;

/** scikit-learn's `ALMOST_INF`: edges are clipped to it, so +Infinity means "split on NaN". */
const ALMOST_INF = 1e300;

/**
 * How each feature maps to bins, fitted on the training rows as scikit-learn's `_BinMapper`:
 * numeric features get edges at midpoints between distinct values (when at most `maxBins`) or
 * at `np.percentile(…, method="midpoint")` of up to 200,000 sampled rows; a categorical feature
 * has one bin per known category (its values, sorted). The last bin, `maxBins`, is for missing
 * values.
 */
export class BinMapper {
  readonly maxBins: number;
  readonly missingBin: number;
  readonly featureCount: number;
  /** Per numeric feature: the upper edge of each bin but the last (`x <= edges[b]` ⇒ bin ≤ b). */
  readonly edges: (Float64Array | undefined)[];
  /** Per categorical feature: the known category values, sorted; bin b is `categories[b]`. */
  readonly categories: (Float64Array | undefined)[];
  /** Bins used by values that are not missing, per feature. */
  readonly binsNonMissing: Int32Array;
  readonly isCategorical: Uint8Array;

  private constructor(
    maxBins: number,
    edges: (Float64Array | undefined)[],
    categories: (Float64Array | undefined)[],
  ) {
    this.maxBins = maxBins;
    this.missingBin = maxBins;
    this.featureCount = edges.length;
    this.edges = edges;
    this.categories = categories;
    this.binsNonMissing = Int32Array.from(edges, (edge, f) =>
      edge !== undefined ? edge.length + 1 : categories[f]!.length,
    );
    this.isCategorical = Uint8Array.from(categories, (known) => (known === undefined ? 0 : 1));
  }

  /**
   * Fits the edges on `rows` of `columns` (the training rows, in order). `knownCategories[f]`
   * lists a categorical feature's values (from all the data, as scikit-learn takes them before
   * the validation split); `binSeed` is scikit-learn's `_random_seed`, which draws the
   * subsample beyond 200,000 rows.
   */
  static fit(
    columns: readonly Float64Array[],
    rows: Int32Array | undefined,
    knownCategories: readonly (Float64Array | undefined)[],
    maxBins: number,
    binSeed: number,
  ): BinMapper {
    const n = rows === undefined ? columns[0].length : rows.length;
    let sample: Int32Array | undefined;
    if (n > BIN_SUBSAMPLE) {
      // rng.choice(n, 200000, replace=False) of the legacy RandomState: a permutation's head.
      const permutation = numpyPermutation(new NumpyRandomState(binSeed), n);
      sample = permutation.subarray(0, BIN_SUBSAMPLE);
      if (rows !== undefined) for (let i = 0; i < sample.length; i++) sample[i] = rows[sample[i]];
    } else sample = rows;
    const edges: (Float64Array | undefined)[] = [];
    const size = sample === undefined ? n : sample.length;
    const values = new Float64Array(size);
    const scratch = new Float64Array(size);
    for (let f = 0; f < columns.length; f++) {
      if (knownCategories[f] !== undefined) {
        edges.push(undefined);
        continue;
      }
      const column = columns[f];
      let m = 0;
      for (let i = 0; i < size; i++) {
        const value = column[sample === undefined ? i : sample[i]];
        if (!Number.isNaN(value)) values[m++] = value;
      }
      edges.push(binEdges(sortFloat64(values.subarray(0, m), scratch), maxBins));
    }
    return new BinMapper(maxBins, edges, [...knownCategories]);
  }

  /**
   * Codes of `rows` (all rows when undefined), `missingBin` for a missing value, row-major with
   * `rowStride` bytes per row (`codes[row * rowStride + f]`, padding zero). Categorical values
   * must be known categories (checked when fitting).
   */
  transform(
    columns: readonly Float64Array[],
    rows: Int32Array | undefined,
    rowStride: number,
  ): Uint8Array {
    const n = rows === undefined ? columns[0].length : rows.length;
    const codes = new Uint8Array(n * rowStride);
    for (let f = 0; f < columns.length; f++) {
      const thresholds = this.edges[f] ?? this.categories[f]!;
      binColumn(columns[f], rows, thresholds, this.missingBin, codes, f, rowStride);
    }
    return codes;
  }
}

/**
 * scikit-learn's `_find_binning_thresholds` on sorted values without NaN: midpoints between
 * distinct values when there are at most `maxBins`, else the `"midpoint"` percentiles at
 * `linspace(0, 100, maxBins + 1)[1:-1]`; clipped to `ALMOST_INF`.
 */
export function binEdges(sorted: Float64Array, maxBins: number): Float64Array {
  const distinct: number[] = [];
  for (let i = 0; i < sorted.length; i++) {
    if (i === 0 || sorted[i] !== sorted[i - 1]) {
      distinct.push(sorted[i]);
      if (distinct.length > maxBins) break;
    }
  }
  let edges: number[];
  if (distinct.length <= maxBins) {
    edges = [];
    for (let i = 1; i < distinct.length; i++) edges.push((distinct[i - 1] + distinct[i]) * 0.5);
  } else {
    edges = percentileSorted(sorted, binPercentiles(maxBins), "midpoint");
  }
  return Float64Array.from(edges, (edge) => Math.min(edge, ALMOST_INF));
}

/**
 * The known categories of a categorical feature (its distinct values, sorted), checked as
 * scikit-learn does: at most `maxBins` of them, and for a numeric feature integers in
 * `0..maxBins − 1` (a category column's `codes` may be any dictionary positions).
 */
export function knownCategoryValues(
  column: Float64Array,
  name: string,
  maxBins: number,
  context: string,
  codes: boolean,
): Float64Array {
  const seen = new Set<number>();
  for (let i = 0; i < column.length; i++) {
    const value = column[i];
    if (Number.isNaN(value) || codes) {
      if (!Number.isNaN(value)) seen.add(value);
      continue;
    }
    if (!(Number.isInteger(value) && value >= 0 && value < maxBins)) {
      throw new MlopsError(
        "data_invalid",
        `${context}: categorical feature "${name}" has ${value} at row ${i}; categorical ` +
          `numeric features hold integer codes in 0..${maxBins - 1} (or use a category column)`,
      );
    }
    seen.add(value);
  }
  if (seen.size > maxBins) {
    throw new MlopsError(
      "data_invalid",
      `${context}: categorical feature "${name}" has ${seen.size} categories; at most ` +
        `maxBins (${maxBins}) can be split on natively (raise maxBins to 255, or encode it)`,
    );
  }
  return Float64Array.from(seen).sort();
}
