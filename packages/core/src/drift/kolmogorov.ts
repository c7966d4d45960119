// The distributions behind the Kolmogorov–Smirnov tests, computed the way scipy does
// (`scipy.stats.kstwo`, `scipy.special.smirnov`, and the exact two-sample path counts of
// `ks_2samp`), so p-values agree with scipy's to far better than 1e-4. The algorithms are the
// published ones: Simard & L'Ecuyer (2011) choose among Durbin's matrix (Marsaglia, Tsang &
// Wang 2003), Pomeranz's recursion (1974), Pelz & Good's expansion (1976) and Smirnov's exact
// one-sided sum (Birnbaum & Tingey 1951); the two-sample exact counts follow Hodges (1958)
// with Viehmann's stable recursion (2021).

import { gcd, roundHalfEven } from "./special.js";

const SCALE_EXPONENT = 128;
const SCALE_UP = 2 ** SCALE_EXPONENT;
const SCALE_DOWN = 2 ** -SCALE_EXPONENT;
const LOG_2PI = Math.log(2 * Math.PI);
const SQRT_2PI = Math.sqrt(2 * Math.PI);
const SQRT3 = Math.sqrt(3);
const PI2 = Math.PI ** 2;
const PI4 = Math.PI ** 4;
const PI6 = Math.PI ** 6;
const MIN_LOG = -708;
// Stirling's series coefficients B₂ₖ / (2k(2k − 1)), highest order first.
const STIRLING = [
  -3617 / 122400,
  1 / 156,
  -691 / 360360,
  1 / 1188,
  -1 / 1680,
  1 / 1260,
  -1 / 360,
  1 / 12,
];

function clip(p: number): number {
  return Math.min(1, Math.max(0, p));
}

/** `value × 2^exponent` without overflowing the power on the way. */
function scaleBy(value: number, exponent: number): number {
  let result = value;
  let remaining = exponent;
  while (remaining > 1000) {
    result *= 2 ** 1000;
    remaining -= 1000;
  }
  while (remaining < -1000) {
    result *= 2 ** -1000;
    remaining += 1000;
  }
  return result * 2 ** remaining;
}

/** ln(n! / n^n) by Stirling's series. */
function logFactorialOverPower(n: number): number {
  const rn = 1 / n;
  const x = rn / n;
  let poly = 0;
  for (const coefficient of STIRLING) poly = poly * x + coefficient;
  return Math.log(n) / 2 - n + LOG_2PI / 2 + rn * poly;
}

/**
 * P(D⁺ₙ ≥ x): the survival function of the one-sided one-sample KS statistic (scipy's
 * `smirnov`). Exact (Birnbaum–Tingey's sum, in logs) up to n = 10⁶, then the asymptotic form
 * scipy also switches to.
 */
export function smirnovSf(n: number, x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  if (x >= 1) return 0;
  if (x <= 0) return 1;
  if (n > 1_000_000) {
    const logP = -((6 * n * x + 1) ** 2) / 18 / n;
    return logP < -Math.LN2 ? Math.exp(logP) : -Math.expm1(logP);
  }
  const last = Math.floor(n * (1 - x));
  let logBinomial = 0;
  let sum = 0;
  for (let j = 0; j <= last; j++) {
    if (j > 0) logBinomial += Math.log((n - j + 1) / j);
    const base = 1 - x - j / n;
    if (base <= 0) continue;
    const logTerm = logBinomial + (n - j) * Math.log(base) + (j - 1) * Math.log(x + j / n);
    sum += Math.exp(logTerm);
  }
  return clip(x * sum);
}

/** P(Dₙ ≤ d) by Durbin's matrix, as Marsaglia, Tsang and Wang compute it. */
function durbinMatrixCdf(n: number, d: number): number {
  if (d >= 1) return 1;
  const nd = n * d;
  if (nd <= 0.5) return 0;
  const k = Math.ceil(nd);
  const h = k - nd;
  const m = 2 * k - 1;
  // First column: (1 - h^(i+1)) / (i+1)!; inside: 1 / (i-j+1)!; last row mirrors the column.
  const v = new Float64Array(m);
  const w = new Float64Array(m);
  let factorial = 1;
  for (let j = 1; j <= m; j++) {
    w[j - 1] = factorial;
    factorial /= j;
    v[j - 1] = (1 - h ** j) * factorial;
  }
  const correction = Math.max(2 * h - 1, 0) ** m - 2 * h ** m;
  v[m - 1] = (1 + correction) * factorial;
  let H: Float64Array = new Float64Array(m * m);
  for (let column = 1; column < m; column++) {
    for (let row = column - 1; row < m; row++) H[row * m + column] = w[row - column + 1];
  }
  for (let row = 0; row < m; row++) H[row * m] = v[row];
  for (let column = 0; column < m; column++) H[(m - 1) * m + column] = v[m - 1 - column];
  let power: Float64Array = new Float64Array(m * m);
  for (let i = 0; i < m; i++) power[i * m + i] = 1;
  let powerExponent = 0;
  let hExponent = 0;
  let remaining = n;
  while (remaining > 0) {
    if (remaining % 2 === 1) {
      power = multiply(power, H, m);
      powerExponent += hExponent;
    }
    H = multiply(H, H, m);
    hExponent *= 2;
    if (Math.abs(H[(k - 1) * m + k - 1]) > SCALE_UP) {
      for (let i = 0; i < H.length; i++) H[i] *= SCALE_DOWN;
      hExponent += SCALE_EXPONENT;
    }
    remaining = Math.floor(remaining / 2);
  }
  let p = power[(k - 1) * m + k - 1];
  let exponent = powerExponent;
  for (let i = 1; i <= n; i++) {
    p = (i * p) / n;
    if (Math.abs(p) < SCALE_DOWN) {
      p *= SCALE_UP;
      exponent -= SCALE_EXPONENT;
    }
  }
  return clip(scaleBy(p, exponent));
}

function multiply(a: Float64Array, b: Float64Array, m: number): Float64Array {
  const out = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let k = 0; k < m; k++) {
      const aik = a[i * m + k];
      if (aik === 0) continue;
      const rowB = k * m;
      const rowOut = i * m;
      for (let j = 0; j < m; j++) out[rowOut + j] += aik * b[rowB + j];
    }
  }
  return out;
}

/** The index window of Pomeranz's recursion at step `i`. */
function pomeranzWindow(
  i: number,
  n: number,
  whole: number,
  ceilF: number,
  roundF: number,
): [number, number] {
  let j1: number;
  let j2: number;
  if (i === 0) {
    j1 = -whole - ceilF - 1;
    j2 = whole + ceilF - 1;
  } else {
    const half = Math.floor((i + 1) / 2);
    if ((i + 1) % 2 === 0) {
      if (half === n + 1) {
        j1 = n - whole - ceilF - 1;
        j2 = n + whole + ceilF - 1;
      } else {
        j1 = half - 1 - whole - roundF - 1;
        j2 = half + whole - 1 + ceilF - 1;
      }
    } else {
      j1 = half - 1 - whole - 1;
      j2 = half + whole + roundF - 1;
    }
  }
  return [Math.max(j1 + 2, 0), Math.min(j2, n)];
}

/** P(Dₙ ≤ x) by Pomeranz's recursion (used for n ≤ 140). */
function pomeranzCdf(n: number, x: number): number {
  const t = n * x;
  const whole = Math.floor(t);
  const fraction = t - whole;
  const g = Math.min(fraction, 1 - fraction);
  const ceilF = fraction > 0 ? 1 : 0;
  const roundF = fraction > 0.5 ? 1 : 0;
  const powers = 2 * (whole + 1);
  const gPower = new Float64Array(powers);
  const twoGPower = new Float64Array(powers);
  const oneMinusTwoGPower = new Float64Array(powers);
  gPower[0] = twoGPower[0] = oneMinusTwoGPower[0] = 1;
  for (let m = 1; m < powers; m++) {
    gPower[m] = (gPower[m - 1] * (g / n)) / m;
    twoGPower[m] = (twoGPower[m - 1] * ((2 * g) / n)) / m;
    oneMinusTwoGPower[m] = (oneMinusTwoGPower[m - 1] * ((1 - 2 * g) / n)) / m;
  }
  let previous = new Float64Array(powers);
  let current = new Float64Array(powers);
  current[0] = 1;
  let previousStart = 0;
  let currentStart = 0;
  let exponent = 0;
  let [j1, j2] = pomeranzWindow(0, n, whole, ceilF, roundF);
  for (let i = 1; i < 2 * n + 2; i++) {
    const k1 = j1;
    [previous, current] = [current, previous];
    [previousStart, currentStart] = [currentStart, previousStart];
    current.fill(0);
    [j1, j2] = pomeranzWindow(i, n, whole, ceilF, roundF);
    const weights =
      i === 1 || i === 2 * n + 1 ? gPower : i % 2 === 1 ? twoGPower : oneMinusTwoGPower;
    const length = j2 - k1 + 1;
    if (length > 0) {
      const offset = k1 - previousStart;
      const available = Math.min(length, powers - offset);
      const weightCount = Math.min(length, powers);
      const start = j1 - k1;
      const count = j2 - j1 + 1;
      let largest = 0;
      for (let s = 0; s < count; s++) {
        const index = start + s;
        let sum = 0;
        const from = Math.max(0, index - weightCount + 1);
        const to = Math.min(index, available - 1);
        for (let q = from; q <= to; q++) sum += previous[offset + q] * weights[index - q];
        current[s] = sum;
        if (sum > largest) largest = sum;
      }
      if (largest > 0 && largest < SCALE_DOWN) {
        for (let s = 0; s < powers; s++) current[s] *= SCALE_UP;
        exponent -= SCALE_EXPONENT;
      }
      currentStart = previousStart + j1 - k1;
    }
  }
  let answer = current[n - currentStart];
  for (let m = 1; m <= n; m++) {
    if (Math.abs(answer) > SCALE_UP) {
      answer *= SCALE_DOWN;
      exponent += SCALE_EXPONENT;
    }
    answer *= m;
  }
  return clip(scaleBy(answer, exponent));
}

/** P(Dₙ ≤ x) by Pelz and Good's asymptotic expansion (large n). */
function pelzGoodCdf(n: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const z = Math.sqrt(n) * x;
  const z2 = z * z;
  const z3 = z2 * z;
  const z4 = z2 * z2;
  const z6 = z4 * z2;
  const qLog = -PI2 / 8 / z2;
  if (qLog < MIN_LOG) return 0;
  let q = Math.exp(qLog);
  const k1a = -z2;
  const k1b = PI2 / 4;
  const k2a = 6 * z6 + 2 * z4;
  const k2b = ((2 * z4 - 5 * z2) * PI2) / 4;
  const k2c = (PI4 * (1 - 2 * z2)) / 16;
  const k3d = (PI6 * (5 - 30 * z2)) / 64;
  const k3c = (PI4 * (-60 * z2 + 212 * z4)) / 16;
  const k3b = (PI2 * (135 * z4 - 96 * z6)) / 4;
  const k3a = -30 * z6 - 90 * z ** 8;
  const terms = [0, 0, 0, 0];
  const maxK = Math.ceil((16 * z) / Math.PI);
  for (let k = maxK; k > 0; k--) {
    const m = 2 * k - 1;
    const m2 = m * m;
    const m4 = m2 * m2;
    const m6 = m4 * m2;
    const qPower = q ** (8 * k);
    const coefficients = [
      1,
      k1a + k1b * m2,
      k2a + k2b * m2 + k2c * m4,
      k3a + k3b * m2 + k3c * m4 + k3d * m6,
    ];
    for (let i = 0; i < 4; i++) terms[i] = terms[i] * qPower + coefficients[i];
  }
  const divisors = [z, 6 * z4, 72 * z ** 7, 6480 * z ** 10];
  for (let i = 0; i < 4; i++) terms[i] = (terms[i] * q * SQRT_2PI) / divisors[i];
  q = Math.exp(-PI2 / 2 / z2);
  let k2extra = 0;
  let k3extra = 0;
  const sqrt3z = SQRT3 * z;
  for (let k = maxK; k > 0; k--) {
    const k2 = k * k;
    const qPower = q ** k2;
    k2extra += k2 * qPower;
    const kPi = Math.PI * k;
    k3extra += (sqrt3z + kPi) * (sqrt3z - kPi) * k2 * qPower;
  }
  terms[2] += (k2extra * PI2 * SQRT_2PI) / (-36 * z3);
  terms[3] += (k3extra * PI2 * SQRT_2PI) / (216 * z6);
  let sum = 0;
  for (let i = 0; i < 4; i++) sum += terms[i] / n ** (i / 2);
  return sum;
}

/**
 * P(Dₙ > x): the survival function of the two-sided one-sample Kolmogorov–Smirnov statistic
 * (scipy's `kstwo.sf(x, n)`), choosing the algorithm as Simard and L'Ecuyer recommend.
 */
export function kolmogorovSf(n: number, x: number): number {
  if (!Number.isInteger(n) || n <= 0 || Number.isNaN(x)) return Number.NaN;
  if (x >= 1) return 0;
  if (x <= 0) return 1;
  const t = n * x;
  if (t <= 1) {
    if (t <= 0.5) return 1;
    let cdf: number;
    if (n <= 140) {
      cdf = 1;
      for (let i = 1; i <= n; i++) cdf *= (i / n) * (2 * t - 1);
    } else {
      cdf = Math.exp(logFactorialOverPower(n) + n * Math.log(2 * t - 1));
    }
    return clip(1 - cdf);
  }
  if (t >= n - 1) return clip(2 * (1 - x) ** n);
  if (x >= 0.5) return clip(2 * smirnovSf(n, x));
  const nx2 = t * x;
  if (n <= 140) {
    if (nx2 <= 0.754693) return clip(1 - durbinMatrixCdf(n, x));
    if (nx2 <= 4) return clip(1 - pomeranzCdf(n, x));
    return clip(2 * smirnovSf(n, x));
  }
  if (nx2 >= 370) return 0;
  if (nx2 >= 2.2) return clip(2 * smirnovSf(n, x));
  const cdf =
    nx2 >= 18 ? 1 : n <= 100_000 && n * x ** 1.5 <= 1.4 ? durbinMatrixCdf(n, x) : pelzGoodCdf(n, x);
  return clip(1 - cdf);
}

/** P(D_{n,n} ≥ h/n) for two samples of equal size n. */
function probabilityOutsideSquare(n: number, h: number): number {
  let p = 0;
  for (let k = Math.floor(n / h); k >= 0; k--) {
    let term = 1;
    for (let j = 0; j < h; j++) term = ((n - k * h - j) * term) / (n + k * h + j + 1);
    p = term * (1 - p);
  }
  return 2 * p;
}

/**
 * The share of lattice paths from (0, 0) to (m, n) that leave the band |x/m − y/n| < h/lcm:
 * P(D_{m,n} ≥ h/lcm(m, n)), by Viehmann's recursion on probabilities (no overflow).
 */
function probabilityOutsideBand(m0: number, n0: number, g: number, h: number): number {
  const m = Math.max(m0, n0);
  const n = Math.min(m0, n0);
  const mg = m / g;
  const ng = n / g;
  let minJ = 0;
  let maxJ = Math.min(Math.ceil(h / mg), n + 1);
  let currentLength = maxJ - minJ;
  const length = Math.min(2 * maxJ + 2, n + 1);
  // A[j]: probability that a path to (i, j) has already left the band (1 outside it).
  const a = new Float64Array(length).fill(1);
  for (let j = minJ; j < maxJ; j++) a[j] = 0;
  for (let i = 1; i <= m; i++) {
    const lastMinJ = minJ;
    const lastLength = currentLength;
    minJ = Math.min(Math.max(Math.floor((ng * i - h) / mg) + 1, 0), n);
    maxJ = Math.min(Math.ceil((ng * i + h) / mg), n + 1);
    if (maxJ <= minJ) return 1;
    let value = minJ === 0 ? 0 : 1;
    for (let jj = 0; jj < maxJ - minJ; jj++) {
      const j = jj + minJ;
      value = (a[jj + minJ - lastMinJ] * i + value * j) / (i + j);
      a[jj] = value;
    }
    currentLength = maxJ - minJ;
    if (lastLength > currentLength) a.fill(1, currentLength, lastLength);
  }
  return a[maxJ - minJ - 1];
}

/** How a two-sample KS p-value was computed: exact path counts, or the asymptotic law. */
export type KsMethod = "exact" | "asymp";

/** A two-sample KS p-value and how it was computed. */
export interface KsPValue {
  /** The statistic the p-value is for (exact mode rounds it to a multiple of 1/lcm(n1, n2)). */
  statistic: number;
  pValue: number;
  method: KsMethod;
}

/** Above this sample size scipy's default `method="auto"` leaves the exact computation. */
export const KS_EXACT_MAX_N = 10_000;

/**
 * The two-sided p-value of a two-sample KS statistic `d` for sample sizes `n1` and `n2`, as
 * scipy's `ks_2samp(..., method="auto")` computes it: exact when both samples have at most
 * 10,000 values, else `kstwo.sf(d, round(n1·n2/(n1+n2)))`. (Where the exact count would take
 * seconds and the asymptotic p-value is below 1e-12, that is returned, with method "asymp".)
 *
 * @example
 * ksTwoSamplePValue(0.1, 500, 400).pValue; // ≈ 0.0218, as scipy
 */
export function ksTwoSamplePValue(d: number, n1: number, n2: number): KsPValue {
  if (!(n1 > 0 && n2 > 0) || Number.isNaN(d)) {
    return { statistic: d, pValue: Number.NaN, method: "asymp" };
  }
  if (Math.max(n1, n2) <= KS_EXACT_MAX_N) {
    const g = gcd(n1, n2);
    const lcm = (n1 / g) * n2;
    const h = roundHalfEven(d * lcm);
    const statistic = h / lcm;
    if (h === 0) return { statistic, pValue: 1, method: "exact" };
    // The band recursion costs m × (band width) steps: seconds for two large samples far apart.
    // There the p-value is far below anything a threshold uses; when the asymptotic law puts it
    // under 1e-12 (both samples large, so exact and asymptotic are both that small) it is used.
    const larger = Math.max(n1, n2);
    const band = Math.min(Math.min(n1, n2) + 1, 2 * Math.ceil(h / (larger / g)) + 2);
    if (n1 !== n2 && larger * band > EXACT_COST_LIMIT && n1 * n2 >= 1_000_000) {
      const asymptotic = asymptoticPValue(statistic, n1, n2);
      if (asymptotic < 1e-12) return { statistic, pValue: asymptotic, method: "asymp" };
    }
    const p = n1 === n2 ? probabilityOutsideSquare(n1, h) : probabilityOutsideBand(n1, n2, g, h);
    if (p >= 0 && p <= 1) return { statistic, pValue: p, method: "exact" };
    d = statistic;
  }
  return { statistic: d, pValue: asymptoticPValue(d, n1, n2), method: "asymp" };
}

/** Steps of the exact band recursion above which a tiny p-value is taken from the asymptotic law. */
const EXACT_COST_LIMIT = 5_000_000;

/** scipy's asymptotic two-sided p-value: `kstwo.sf(d, round(n1·n2 / (n1 + n2)))`. */
function asymptoticPValue(d: number, n1: number, n2: number): number {
  const larger = Math.max(n1, n2);
  const smaller = Math.min(n1, n2);
  const effective = roundHalfEven((larger * smaller) / (larger + smaller));
  return clip(kolmogorovSf(effective, d));
}
