import { MlopsError } from "../errors/error.js";
import { chiSquareSf } from "./special.js";

/**
 * The proportion given to an empty bin in PSI, so that its logarithm stays finite (the value
 * Evidently and most PSI write-ups use).
 */
export const PSI_EMPTY_BIN = 1e-4;

function totalOf(counts: ArrayLike<number>, name: string): number {
  let total = 0;
  for (let i = 0; i < counts.length; i++) {
    const count = counts[i];
    if (!(count >= 0) || !Number.isFinite(count)) {
      throw new MlopsError(
        "argument_invalid",
        `${name}[${i}]: expected a finite count ≥ 0, got ${String(count)}`,
      );
    }
    total += count;
  }
  return total;
}

function checkPair(
  name: string,
  reference: ArrayLike<number>,
  current: ArrayLike<number>,
): [number, number] {
  if (reference.length !== current.length) {
    throw new MlopsError(
      "argument_invalid",
      `${name}: reference has ${reference.length} bins and current ${current.length}; expected the same bins`,
    );
  }
  return [totalOf(reference, `${name}: reference`), totalOf(current, `${name}: current`)];
}

/**
 * The population stability index of two histograms on the same bins:
 * Σ (cᵢ − rᵢ) · ln(cᵢ / rᵢ) over the bin proportions, an empty bin counting as 0.0001.
 * NaN when either side is empty.
 *
 * @example
 * populationStabilityIndex([50, 50], [40, 60]); // 0.0405…
 */
export function populationStabilityIndex(
  reference: ArrayLike<number>,
  current: ArrayLike<number>,
): number {
  const [referenceTotal, currentTotal] = checkPair("populationStabilityIndex", reference, current);
  if (referenceTotal === 0 || currentTotal === 0) return Number.NaN;
  let psi = 0;
  for (let i = 0; i < reference.length; i++) {
    const r = reference[i] === 0 ? PSI_EMPTY_BIN : reference[i] / referenceTotal;
    const c = current[i] === 0 ? PSI_EMPTY_BIN : current[i] / currentTotal;
    psi += (c - r) * Math.log(c / r);
  }
  return psi;
}

/**
 * The Jensen–Shannon distance of two histograms on the same bins (scipy's
 * `distance.jensenshannon` with its default natural logarithm: 0 for equal distributions,
 * √ln 2 ≈ 0.833 for disjoint ones). NaN when either side is empty.
 *
 * @example
 * jensenShannonDistance([1, 0], [0, 1]); // 0.8325546111576977
 */
export function jensenShannonDistance(
  reference: ArrayLike<number>,
  current: ArrayLike<number>,
): number {
  const [referenceTotal, currentTotal] = checkPair("jensenShannonDistance", reference, current);
  if (referenceTotal === 0 || currentTotal === 0) return Number.NaN;
  let divergence = 0;
  for (let i = 0; i < reference.length; i++) {
    const p = reference[i] / referenceTotal;
    const q = current[i] / currentTotal;
    const m = (p + q) / 2;
    if (p > 0) divergence += p * Math.log(p / m);
    if (q > 0) divergence += q * Math.log(q / m);
  }
  return Math.sqrt(Math.max(divergence / 2, 0));
}

/** A chi-square test of homogeneity on a 2 × k table (reference counts over current counts). */
export interface ChiSquareResult {
  statistic: number;
  pValue: number;
  /** Degrees of freedom: (number of categories seen in either sample) − 1. */
  dof: number;
}

/**
 * The chi-square test of homogeneity of two samples of a category (scipy's
 * `chi2_contingency([reference, current])`, Yates' correction with 1 degree of freedom as
 * scipy applies it). Categories empty in both samples are left out; NaN when either sample is
 * empty.
 *
 * @example
 * chiSquareContingency([30, 20, 10], [20, 25, 15]);
 * // { statistic: 2.5…, pValue: 0.28…, dof: 2 }
 */
export function chiSquareContingency(
  reference: ArrayLike<number>,
  current: ArrayLike<number>,
): ChiSquareResult {
  const [referenceTotal, currentTotal] = checkPair("chiSquareContingency", reference, current);
  if (referenceTotal === 0 || currentTotal === 0) {
    return { statistic: Number.NaN, pValue: Number.NaN, dof: 0 };
  }
  const total = referenceTotal + currentTotal;
  const columns: number[] = [];
  for (let i = 0; i < reference.length; i++) {
    if (reference[i] + current[i] > 0) columns.push(i);
  }
  const dof = columns.length - 1;
  if (dof <= 0) return { statistic: 0, pValue: 1, dof: 0 };
  let statistic = 0;
  for (const i of columns) {
    const columnTotal = reference[i] + current[i];
    for (const [observed, rowTotal] of [
      [reference[i], referenceTotal],
      [current[i], currentTotal],
    ]) {
      const expected = (rowTotal * columnTotal) / total;
      let difference = observed - expected;
      if (dof === 1) {
        // Yates: move each observed count up to 0.5 towards its expected count.
        const magnitude = Math.min(0.5, Math.abs(difference));
        difference -= Math.sign(difference) * magnitude;
      }
      statistic += (difference * difference) / expected;
    }
  }
  return { statistic, pValue: chiSquareSf(statistic, dof), dof };
}
