import { MlopsError } from "../errors/error.js";
import { sortedFinite } from "../profile/profile.js";
import { type KsMethod, ksTwoSamplePValue } from "./kolmogorov.js";

/** The result of a two-sample Kolmogorov–Smirnov test. */
export interface KsResult {
  /** The largest distance between the two empirical CDFs. */
  statistic: number;
  /** Two-sided p-value, as scipy's `ks_2samp(method="auto")`. */
  pValue: number;
  /** `"exact"` (both samples ≤ 10,000 values) or `"asymp"`. */
  method: KsMethod;
}

function requireSamples(name: string, a: ArrayLike<number>, b: ArrayLike<number>): void {
  if (a.length === 0 || b.length === 0) {
    throw new MlopsError(
      "argument_invalid",
      `${name}: both samples need at least one finite value (got ${a.length} and ${b.length})`,
    );
  }
}

/** The KS statistic of two sorted samples: max |F₁(x) − F₂(x)| over every value of both. */
export function ksStatisticSorted(a: Float64Array, b: Float64Array): number {
  const n1 = a.length;
  const n2 = b.length;
  let i = 0;
  let j = 0;
  let largest = 0;
  while (i < n1 || j < n2) {
    // Step past every value equal to the next smallest one, in both samples (ties).
    const next = j >= n2 || (i < n1 && a[i] <= b[j]) ? a[i] : b[j];
    while (i < n1 && a[i] === next) i++;
    while (j < n2 && b[j] === next) j++;
    const difference = Math.abs(i / n1 - j / n2);
    if (difference > largest) largest = difference;
  }
  return largest;
}

/**
 * The two-sample Kolmogorov–Smirnov test (two-sided): the statistic and p-value of scipy's
 * `ks_2samp(reference, current)` with its default `method="auto"`. Non-finite values are left
 * out; throws `argument_invalid` when a sample has none.
 *
 * @example
 * const { statistic, pValue } = ksTwoSample([1, 2, 3, 4], [3, 4, 5, 6]);
 * // statistic 0.5, pValue ≈ 0.771 (scipy: 0.7714285714285716)
 */
export function ksTwoSample(reference: ArrayLike<number>, current: ArrayLike<number>): KsResult {
  const a = sortedFinite(reference);
  const b = sortedFinite(current);
  requireSamples("ksTwoSample", a, b);
  return ksSortedSamples(a, b);
}

/** `ksTwoSample` for samples already sorted and finite. */
export function ksSortedSamples(a: Float64Array, b: Float64Array): KsResult {
  const raw = ksStatisticSorted(a, b);
  const { statistic, pValue, method } = ksTwoSamplePValue(raw, a.length, b.length);
  return { statistic, pValue, method };
}

/**
 * The first Wasserstein distance between two samples (scipy's `wasserstein_distance`): the
 * area between their empirical CDFs. Non-finite values are left out.
 *
 * @example
 * wassersteinDistance([0, 1, 3], [5, 6, 8]); // 5
 */
export function wassersteinDistance(
  reference: ArrayLike<number>,
  current: ArrayLike<number>,
): number {
  const a = sortedFinite(reference);
  const b = sortedFinite(current);
  requireSamples("wassersteinDistance", a, b);
  return wassersteinSorted(a, b);
}

/** `wassersteinDistance` for samples already sorted and finite. */
export function wassersteinSorted(a: Float64Array, b: Float64Array): number {
  const n1 = a.length;
  const n2 = b.length;
  let i = 0;
  let j = 0;
  let previous = Math.min(a[0], b[0]);
  let total = 0;
  while (i < n1 || j < n2) {
    const next = j >= n2 || (i < n1 && a[i] <= b[j]) ? a[i] : b[j];
    total += Math.abs(i / n1 - j / n2) * (next - previous);
    previous = next;
    while (i < n1 && a[i] === next) i++;
    while (j < n2 && b[j] === next) j++;
  }
  return total;
}
