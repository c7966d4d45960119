/**
 * The few numpy operations whose exact rounding scikit-learn's histogram gradient boosting
 * depends on, reproduced so that the same data and seed give the same bins, baseline and splits:
 * pairwise summation (`np.sum`, `np.mean`), `np.percentile` with the `"linear"` and `"midpoint"`
 * methods, `np.median`, scikit-learn's `_weighted_percentile`, and the legacy `RandomState`'s
 * `permutation` (through `NumpyRandomState`).
 */
import type { NumpyRandomState } from "../forest/random-state.js";

/** numpy's `pairwise_sum` of `values[start..start+n)` (blocks of 128, eight partial sums). */
function pairwise(values: ArrayLike<number>, start: number, n: number): number {
  if (n < 8) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += values[start + i];
    return sum;
  }
  if (n <= 128) {
    let r0 = values[start];
    let r1 = values[start + 1];
    let r2 = values[start + 2];
    let r3 = values[start + 3];
    let r4 = values[start + 4];
    let r5 = values[start + 5];
    let r6 = values[start + 6];
    let r7 = values[start + 7];
    let i = 8;
    const end = n - (n % 8);
    for (; i < end; i += 8) {
      const at = start + i;
      r0 += values[at];
      r1 += values[at + 1];
      r2 += values[at + 2];
      r3 += values[at + 3];
      r4 += values[at + 4];
      r5 += values[at + 5];
      r6 += values[at + 6];
      r7 += values[at + 7];
    }
    let sum = r0 + r1 + (r2 + r3) + (r4 + r5 + (r6 + r7));
    for (; i < n; i++) sum += values[start + i];
    return sum;
  }
  let half = Math.floor(n / 2);
  half -= half % 8;
  return pairwise(values, start, half) + pairwise(values, start + half, n - half);
}

/**
 * `np.sum` of a contiguous float64 array (numpy's pairwise summation).
 *
 * @example
 * numpySum(Float64Array.of(0.1, 0.2, 0.3)); // the bits np.sum gives
 */
export function numpySum(values: ArrayLike<number>): number {
  return pairwise(values, 0, values.length);
}

/** `np.average(values, weights=weights)`: `sum(values × weights) / sum(weights)`, or the mean. */
export function numpyAverage(values: Float64Array, weights?: Float64Array): number {
  if (weights === undefined) return numpySum(values) / values.length;
  const product = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) product[i] = values[i] * weights[i];
  return numpySum(product) / numpySum(weights);
}

/** numpy's `_lerp(a, b, t)`: `a + (b − a)·t`, or `b − (b − a)·(1 − t)` from t = 0.5 up. */
function lerp(a: number, b: number, t: number): number {
  const diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

/**
 * `np.percentile(sorted, percents, method)` on values already sorted ascending (no NaN), for the
 * `"linear"` (numpy's default) and `"midpoint"` methods.
 *
 * @example
 * percentileSorted(Float64Array.of(1, 2, 3, 4), [50], "linear"); // [2.5]
 */
export function percentileSorted(
  sorted: ArrayLike<number>,
  percents: readonly number[],
  method: "linear" | "midpoint",
): number[] {
  const n = sorted.length;
  return percents.map((percent) => {
    const q = percent / 100;
    const position = (n - 1) * q;
    let virtual: number;
    let gamma: number;
    if (method === "linear") {
      virtual = position;
      const previous = Math.floor(virtual);
      gamma = virtual - previous;
    } else {
      virtual = 0.5 * (Math.floor(position) + Math.ceil(position));
      gamma = virtual % 1 === 0 ? 0 : 0.5;
    }
    // numpy's _get_indexes: previous = floor, next = previous + 1, both clipped into the array.
    let previous = Math.floor(virtual);
    let next = previous + 1;
    if (previous < 0) previous = 0;
    if (previous > n - 1) previous = n - 1;
    if (next > n - 1) next = n - 1;
    if (next < 0) next = 0;
    return lerp(sorted[previous], sorted[next], gamma);
  });
}

/**
 * `np.linspace(0, 100, count + 1)[1:-1]`: the percentiles scikit-learn's binning asks for.
 *
 * @example
 * binPercentiles(4); // [25, 50, 75]
 */
export function binPercentiles(count: number): number[] {
  const step = 100 / count;
  const out: number[] = [];
  for (let i = 1; i < count; i++) out.push(i * step);
  return out;
}

/** `np.median` of a copy of `values` (sorted here). */
export function numpyMedian(values: Float64Array): number {
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length;
  if (n % 2 === 1) return sorted[(n - 1) / 2];
  // np.mean of the two middle values: their sum divided by 2.
  return (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

/** `np.percentile(values, percent)` (linear method) of a copy of `values`. */
export function numpyPercentile(values: Float64Array, percent: number): number {
  const sorted = Float64Array.from(values).sort();
  return percentileSorted(sorted, [percent], "linear")[0];
}

/**
 * scikit-learn's `_weighted_percentile(values, weights, percent)` (1.2): values sorted (stable),
 * the cumulative weights, and the first value whose cumulative weight reaches
 * `percent / 100 × total`.
 */
export function weightedPercentile(
  values: Float64Array,
  weights: Float64Array,
  percent: number,
): number {
  const n = values.length;
  const order = Array.from({ length: n }, (_, i) => i).sort(
    (a, b) => values[a] - values[b] || a - b,
  );
  const cumulative = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    total += weights[order[i]];
    cumulative[i] = total;
  }
  const target = (percent / 100) * cumulative[n - 1];
  // np.searchsorted(cumulative, target, side="left"), clipped to the last index.
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cumulative[mid] < target) lo = mid + 1;
    else hi = mid;
  }
  return values[order[Math.min(lo, n - 1)]];
}

/**
 * The legacy `RandomState.permutation(n)`: `arange(n)` shuffled from the last position down,
 * each swap with `random_interval(i)`.
 *
 * @example
 * numpyPermutation(new NumpyRandomState(0), 5); // what np.random.RandomState(0).permutation(5) gives
 */
export function numpyPermutation(random: NumpyRandomState, n: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  for (let i = n - 1; i >= 1; i--) {
    const j = random.randint(i + 1);
    const swap = out[i];
    out[i] = out[j];
    out[j] = swap;
  }
  return out;
}
