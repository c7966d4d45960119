/**
 * The Parzen estimators of the Tree-structured Parzen Estimator (Bergstra et al. 2011, as
 * hyperopt and Optuna implement it): a mixture of truncated normals (one per observation plus a
 * prior) for a numeric parameter, a smoothed histogram for a categorical one.
 */
import type { Random } from "@mlops/core";

const SQRT2 = Math.SQRT2;
const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/** erfc(x) for x ≥ 0 (W. J. Cody's rational approximations, relative error below 1e-15). */
function erfcPositive(x: number): number {
  if (x < 0.5) return 1 - erfSmall(x);
  if (x < 4) {
    const p = [
      0.5641884969886701, 8.883149794388377, 66.11919063714163, 298.6351381974001, 881.952221241769,
      1712.0476126340707, 2051.0783778260716, 1230.3393547979972, 2.1531153547440383e-8,
    ];
    const q = [
      15.744926110709835, 117.6939508913125, 537.1811018620099, 1621.3895745666903,
      3290.7992357334597, 4362.619090143247, 3439.3676741437216, 1230.3393548037495,
    ];
    let num = p[8] * x;
    let den = x;
    for (let i = 0; i < 7; i++) {
      num = (num + p[i]) * x;
      den = (den + q[i]) * x;
    }
    return Math.exp(-x * x) * ((num + p[7]) / (den + q[7]));
  }
  if (x > 27) return 0;
  const p = [
    0.30532663496123236, 0.36034489994980445, 0.12578172611122926, 0.016083785148742275,
    0.0006587491615298378, 0.016315387137302097,
  ];
  const q = [
    2.568520192289822, 1.8729528499234673, 0.5279051029514285, 0.06051834131244132,
    0.0023352049762686918,
  ];
  const z = 1 / (x * x);
  let num = p[5] * z;
  let den = z;
  for (let i = 0; i < 4; i++) {
    num = (num + p[i]) * z;
    den = (den + q[i]) * z;
  }
  const r = (z * (num + p[4])) / (den + q[4]);
  return (Math.exp(-x * x) / x) * (1 / Math.sqrt(Math.PI) - r);
}

function erfSmall(x: number): number {
  const a = [
    3.1611237438705655, 113.86415415105016, 377.485237685302, 3209.3775891384694,
    0.18577770618460315,
  ];
  const b = [23.601290952344122, 244.02463793444417, 1282.6165260773723, 2844.236833439171];
  const z = x * x;
  let num = a[4] * z;
  let den = z;
  for (let i = 0; i < 3; i++) {
    num = (num + a[i]) * z;
    den = (den + b[i]) * z;
  }
  return (x * (num + a[3])) / (den + b[3]);
}

/** The standard normal CDF Φ(z), accurate in both tails. */
export function normalCdf(z: number): number {
  const x = z / SQRT2;
  return x < 0 ? 0.5 * erfcPositive(-x) : 1 - 0.5 * erfcPositive(x);
}

/** Φ⁻¹(p) for p in (0, 1): Acklam's approximation refined by one Halley step. */
export function normalQuantile(p: number): number {
  if (p <= 0) return Number.NEGATIVE_INFINITY;
  if (p >= 1) return Number.POSITIVE_INFINITY;
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716,
    2.506628277459239,
  ];
  const b = [
    -54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972,
    -13.28068155288572,
  ];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734,
    4.374664141464968, 2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  let x: number;
  if (p < 0.02425) {
    const q = Math.sqrt(-2 * Math.log(p));
    x =
      (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
      ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else if (p <= 1 - 0.02425) {
    const q = p - 0.5;
    const r = q * q;
    x =
      ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) /
      (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  } else {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    x =
      -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
      ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  // One Halley step on Φ(x) − p.
  const e = normalCdf(x) - p;
  const u = e * Math.sqrt(2 * Math.PI) * Math.exp((x * x) / 2);
  return x - u / (1 + (x * u) / 2);
}

/** The mass of N(0, 1) on [a, b], computed on the side where it does not cancel. */
function normalMass(a: number, b: number): number {
  return a > 0 ? normalCdf(-a) - normalCdf(-b) : normalCdf(b) - normalCdf(a);
}

/** A draw of N(0, 1) truncated to [a, b] (inverse CDF, on the tail-accurate side). */
function truncatedStandardNormal(a: number, b: number, random: Random): number {
  if (a > 0) return -truncatedStandardNormal(-b, -a, random);
  const low = normalCdf(a);
  const high = normalCdf(b);
  const z = normalQuantile(low + (high - low) * random.next());
  return Math.min(b, Math.max(a, z));
}

function logSumExp(values: Float64Array): number {
  let max = Number.NEGATIVE_INFINITY;
  for (const value of values) if (value > max) max = value;
  if (max === Number.NEGATIVE_INFINITY) return max;
  let sum = 0;
  for (const value of values) sum += Math.exp(value - max);
  return max + Math.log(sum);
}

/** Optuna's default weights: 1 for the last 25 observations, a ramp from 1/n before them. */
export function observationWeights(n: number): Float64Array {
  const weights = new Float64Array(n).fill(1);
  if (n >= 25) {
    const ramp = n - 25;
    for (let i = 0; i < ramp; i++) {
      weights[i] = ramp === 1 ? 1 / n : 1 / n + ((1 - 1 / n) * i) / (ramp - 1);
    }
  }
  return weights;
}

/** The settings every estimator shares. */
export interface ParzenSettings {
  priorWeight: number;
}

/** Mixture weights: the observations' (oldest down-weighted) and the prior's, summing to 1. */
function mixtureWeights(n: number, settings: ParzenSettings): Float64Array {
  const weights = new Float64Array(n + 1);
  weights.set(observationWeights(n));
  weights[n] = settings.priorWeight;
  let sum = 0;
  for (const weight of weights) sum += weight;
  for (let i = 0; i <= n; i++) weights[i] /= sum;
  return weights;
}

function pick(weights: Float64Array, random: Random): number {
  let u = random.next();
  for (let i = 0; i < weights.length - 1; i++) {
    u -= weights[i];
    if (u < 0) return i;
  }
  return weights.length - 1;
}

/**
 * A numeric parameter's Parzen estimator: one truncated normal per observation (centred on it,
 * as wide as the larger gap to its neighbours, clipped to [range / min(100, n + 2), range]) and
 * a prior as wide as the range, on a log scale for log parameters; integers are cells of width
 * 1 around each value.
 */
export class NumericParzen {
  readonly #low: number;
  readonly #high: number;
  readonly #log: boolean;
  readonly #integer: boolean;
  readonly #mus: Float64Array;
  readonly #sigmas: Float64Array;
  readonly #weights: Float64Array;
  readonly #logWeights: Float64Array;
  readonly #logMass: Float64Array;

  /** `low..high` in the parameter's units; `observations` too. */
  constructor(
    observations: readonly number[],
    low: number,
    high: number,
    log: boolean,
    integer: boolean,
    settings: ParzenSettings,
  ) {
    this.#log = log;
    this.#integer = integer;
    let a = integer ? low - 0.5 : low;
    let b = integer ? high + 0.5 : high;
    const transform = (x: number) => (log ? Math.log(x) : x);
    a = transform(a);
    b = transform(b);
    this.#low = a;
    this.#high = b;
    const n = observations.length;
    const mus = new Float64Array(n + 1);
    observations.forEach((value, i) => {
      mus[i] = transform(value);
    });
    const prior = 0.5 * (a + b);
    mus[n] = prior;
    // Each kernel as wide as the larger gap to its sorted neighbours (the range's ends count as
    // neighbours; the first and last kernels use their inner gap).
    const order = Array.from({ length: n + 1 }, (_, i) => i).sort(
      (i, j) => mus[i] - mus[j] || i - j,
    );
    const sorted = [a, ...order.map((i) => mus[i]), b];
    const sigmas = new Float64Array(n + 1);
    order.forEach((index, k) => {
      const position = k + 1;
      let sigma = Math.max(
        sorted[position] - sorted[position - 1],
        sorted[position + 1] - sorted[position],
      );
      if (sorted.length >= 4) {
        if (k === 0) sigma = sorted[2] - sorted[1];
        else if (k === order.length - 1)
          sigma = sorted[sorted.length - 2] - sorted[sorted.length - 3];
      }
      sigmas[index] = sigma;
    });
    const range = b - a;
    const minimum = range / Math.min(100, n + 2);
    for (let i = 0; i < n; i++) sigmas[i] = Math.min(range, Math.max(minimum, sigmas[i]));
    sigmas[n] = range;
    this.#mus = mus;
    this.#sigmas = sigmas;
    this.#weights = mixtureWeights(n, settings);
    this.#logWeights = Float64Array.from(this.#weights, Math.log);
    this.#logMass = Float64Array.from(mus, (mu, i) =>
      Math.log(normalMass((a - mu) / sigmas[i], (b - mu) / sigmas[i])),
    );
  }

  /** A draw in the parameter's units (an integer for integer parameters). */
  sample(random: Random): number {
    const k = pick(this.#weights, random);
    const mu = this.#mus[k];
    const sigma = this.#sigmas[k];
    const z = truncatedStandardNormal((this.#low - mu) / sigma, (this.#high - mu) / sigma, random);
    const x = Math.min(this.#high, Math.max(this.#low, mu + sigma * z));
    const value = this.#log ? Math.exp(x) : x;
    if (!this.#integer) return value;
    const lowest = Math.ceil(this.#log ? Math.exp(this.#low) : this.#low);
    const highest = Math.floor(this.#log ? Math.exp(this.#high) : this.#high);
    return Math.min(highest, Math.max(lowest, Math.round(value)));
  }

  /** The log density (log mass of the integer's cell) of `value` under the mixture. */
  logPdf(value: number): number {
    const terms = new Float64Array(this.#mus.length);
    if (this.#integer) {
      const lowEdge = this.#log ? Math.log(value - 0.5) : value - 0.5;
      const highEdge = this.#log ? Math.log(value + 0.5) : value + 0.5;
      for (let k = 0; k < terms.length; k++) {
        const mu = this.#mus[k];
        const sigma = this.#sigmas[k];
        const mass = normalMass((lowEdge - mu) / sigma, (highEdge - mu) / sigma);
        terms[k] = this.#logWeights[k] + Math.log(mass) - this.#logMass[k];
      }
    } else {
      const x = this.#log ? Math.log(value) : value;
      for (let k = 0; k < terms.length; k++) {
        const z = (x - this.#mus[k]) / this.#sigmas[k];
        terms[k] =
          this.#logWeights[k] -
          0.5 * z * z -
          LOG_SQRT_2PI -
          Math.log(this.#sigmas[k]) -
          this.#logMass[k];
      }
    }
    return logSumExp(terms);
  }
}

/**
 * A categorical parameter's Parzen estimator: each observation puts weight 1 on its choice and
 * `priorWeight / (n + 1)` on every choice; the prior spreads `priorWeight` evenly.
 */
export class CategoricalParzen {
  readonly #probabilities: Float64Array;

  constructor(observations: readonly number[], choices: number, settings: ParzenSettings) {
    const n = observations.length;
    const weights = mixtureWeights(n, settings);
    const probabilities = new Float64Array(choices);
    const kernels = n + 1;
    const base = settings.priorWeight / kernels;
    for (let k = 0; k <= n; k++) {
      // Each kernel's row: base everywhere, +1 on its observation; normalised.
      const observed = k < n ? observations[k] : -1;
      const rowSum = base * choices + (observed >= 0 ? 1 : 0);
      for (let c = 0; c < choices; c++) {
        const mass = base + (c === observed ? 1 : 0);
        probabilities[c] += (weights[k] * mass) / rowSum;
      }
    }
    this.#probabilities = probabilities;
  }

  sample(random: Random): number {
    return pick(this.#probabilities, random);
  }

  logPdf(choice: number): number {
    return Math.log(this.#probabilities[choice]);
  }
}
