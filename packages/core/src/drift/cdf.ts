// Cumulative distribution functions that are piecewise linear between knots, with jumps at
// knots: the one shape that describes raw data (steps), a stored profile (linear inside each
// quantile bin, exact at its edges) and a streaming sketch on the profile's bins. Comparing two
// such CDFs gives the KS statistic (a sup over knots: both sides are linear in between) and the
// Wasserstein distance (the integral of |F − G|, exact on each linear piece).

import type { NumericProfile } from "../profile/types.js";

/**
 * A CDF given by knots `x` (ascending): `before[k]` is F just left of `x[k]`, `at[k]` is F(x[k]);
 * F is linear from `at[k]` to `before[k+1]` in between, 0 before the first knot and 1 after the
 * last.
 */
export interface PiecewiseCdf {
  readonly x: Float64Array;
  readonly before: Float64Array;
  readonly at: Float64Array;
}

/** The empirical CDF of sorted finite values (a step at each distinct value). */
export function cdfFromSorted(sorted: Float64Array): PiecewiseCdf {
  const n = sorted.length;
  let distinct = 0;
  for (let i = 0; i < n; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) distinct++;
  const x = new Float64Array(distinct);
  const before = new Float64Array(distinct);
  const at = new Float64Array(distinct);
  let k = -1;
  for (let i = 0; i < n; i++) {
    if (i === 0 || sorted[i] !== sorted[i - 1]) {
      k++;
      x[k] = sorted[i];
      before[k] = i / n;
    }
    at[k] = (i + 1) / n;
  }
  return { x, before, at };
}

/**
 * The CDF a numeric profile describes: exact at every edge (a step for the values at an edge),
 * and in between a monotone cubic (PCHIP) through the edges' cumulative shares, sampled at
 * `pieces` points per bin — smooth data is followed far better than by straight lines, and the
 * curve never leaves the bin's bounds, so a KS statistic stays within 1/bins.
 */
export function cdfFromProfile(profile: NumericProfile, pieces = DEFAULT_PIECES): PiecewiseCdf {
  const m = profile.edges.length;
  const n = profile.count;
  const before = new Float64Array(m);
  const at = new Float64Array(m);
  let cumulative = 0;
  for (let i = 0; i < m; i++) {
    cumulative += profile.counts[i];
    at[i] = i === m - 1 ? 1 : cumulative / n;
    before[i] = (cumulative - profile.atEdge[i]) / n;
  }
  return refine(Float64Array.from(profile.edges), before, at, pieces);
}

/** Points per bin at which the cubic between two edges is sampled. */
export const DEFAULT_PIECES = 4;

/**
 * The CDF of a sample counted on a profile's bins (see `profileBin`: 2m + 1 bins for m edges);
 * `min` and `max` bound the values outside the edges.
 */
export function cdfFromBins(
  edges: readonly number[],
  counts: ArrayLike<number>,
  min: number,
  max: number,
  pieces = DEFAULT_PIECES,
): PiecewiseCdf {
  const m = edges.length;
  let n = 0;
  for (let i = 0; i < counts.length; i++) n += counts[i];
  const below = counts[0];
  const above = counts[2 * m];
  const hasBelow = below > 0 && min < edges[0];
  const hasAbove = above > 0 && max > edges[m - 1];
  const size = m + (hasBelow ? 1 : 0) + (hasAbove ? 1 : 0);
  const x = new Float64Array(size);
  const before = new Float64Array(size);
  const at = new Float64Array(size);
  let k = 0;
  if (hasBelow) {
    x[k] = min;
    k++;
  }
  let cumulative = below;
  for (let i = 0; i < m; i++) {
    if (i > 0) cumulative += counts[2 * i];
    x[k] = edges[i];
    before[k] = cumulative / n;
    cumulative += counts[2 * i + 1];
    at[k] = cumulative / n;
    k++;
  }
  if (hasAbove) {
    x[k] = max;
    before[k] = 1;
    at[k] = 1;
  }
  return refine(x, before, at, pieces);
}

/**
 * Adds `pieces − 1` points inside each interval where the CDF rises, on the monotone cubic
 * Hermite curve (Fritsch–Carlson slopes, as scipy's PCHIP) through the continuous part.
 */
function refine(
  x: Float64Array,
  before: Float64Array,
  at: Float64Array,
  pieces: number,
): PiecewiseCdf {
  const m = x.length;
  if (pieces <= 1 || m < 2) return { x, before, at };
  const secant = new Float64Array(m - 1);
  for (let i = 0; i < m - 1; i++) secant[i] = (before[i + 1] - at[i]) / (x[i + 1] - x[i]);
  const slope = new Float64Array(m);
  for (let i = 1; i < m - 1; i++) {
    const d0 = secant[i - 1];
    const d1 = secant[i];
    if (d0 > 0 && d1 > 0) {
      const h0 = x[i] - x[i - 1];
      const h1 = x[i + 1] - x[i];
      const w0 = 2 * h1 + h0;
      const w1 = h1 + 2 * h0;
      slope[i] = (w0 + w1) / (w0 / d0 + w1 / d1);
    }
  }
  slope[0] = endSlope(x[1] - x[0], m > 2 ? x[2] - x[1] : 0, secant[0], m > 2 ? secant[1] : 0);
  slope[m - 1] = endSlope(
    x[m - 1] - x[m - 2],
    m > 2 ? x[m - 2] - x[m - 3] : 0,
    secant[m - 2],
    m > 2 ? secant[m - 3] : 0,
  );
  let rising = 0;
  for (let i = 0; i < m - 1; i++) if (before[i + 1] > at[i]) rising++;
  const size = m + rising * (pieces - 1);
  const outX = new Float64Array(size);
  const outBefore = new Float64Array(size);
  const outAt = new Float64Array(size);
  let k = 0;
  for (let i = 0; i < m; i++) {
    outX[k] = x[i];
    outBefore[k] = before[i];
    outAt[k] = at[i];
    k++;
    if (i === m - 1 || !(before[i + 1] > at[i])) continue;
    const h = x[i + 1] - x[i];
    const y0 = at[i];
    const y1 = before[i + 1];
    const m0 = slope[i] * h;
    const m1 = slope[i + 1] * h;
    for (let p = 1; p < pieces; p++) {
      const t = p / pieces;
      const t2 = t * t;
      const t3 = t2 * t;
      let y =
        (2 * t3 - 3 * t2 + 1) * y0 +
        (t3 - 2 * t2 + t) * m0 +
        (-2 * t3 + 3 * t2) * y1 +
        (t3 - t2) * m1;
      // Rounding must not step outside the interval's bounds (monotone by construction).
      if (y < y0) y = y0;
      if (y > y1) y = y1;
      const position = x[i] + t * h;
      outX[k] = position;
      outBefore[k] = y;
      outAt[k] = y;
      k++;
    }
  }
  return { x: outX, before: outBefore, at: outAt };
}

/** The one-sided PCHIP slope at an end (scipy's rule, kept from overshooting). */
function endSlope(h0: number, h1: number, d0: number, d1: number): number {
  if (h1 === 0) return d0;
  let slope = ((2 * h0 + h1) * d0 - h0 * d1) / (h0 + h1);
  if (Math.sign(slope) !== Math.sign(d0)) slope = 0;
  else if (Math.sign(d0) !== Math.sign(d1) && Math.abs(slope) > Math.abs(3 * d0)) slope = 3 * d0;
  return slope;
}

/** The KS statistic and Wasserstein distance between two piecewise-linear CDFs. */
export function compareCdfs(a: PiecewiseCdf, b: PiecewiseCdf): { ks: number; wasserstein: number } {
  const na = a.x.length;
  const nb = b.x.length;
  let i = 0;
  let j = 0;
  let ks = 0;
  let wasserstein = 0;
  let previous = Number.NaN;
  // The difference F_a − F_b just right of the previous position.
  let afterPrevious = 0;
  while (i < na || j < nb) {
    const position = j >= nb || (i < na && a.x[i] <= b.x[j]) ? a.x[i] : b.x[j];
    let aBefore: number;
    let aAt: number;
    if (i < na && a.x[i] === position) {
      aBefore = a.before[i];
      aAt = a.at[i];
      i++;
    } else {
      aBefore = aAt = interpolate(a, i, position);
    }
    let bBefore: number;
    let bAt: number;
    if (j < nb && b.x[j] === position) {
      bBefore = b.before[j];
      bAt = b.at[j];
      j++;
    } else {
      bBefore = bAt = interpolate(b, j, position);
    }
    const leftDifference = aBefore - bBefore;
    const difference = aAt - bAt;
    if (!Number.isNaN(previous)) {
      wasserstein += integrateLinear(afterPrevious, leftDifference, position - previous);
    }
    const largest = Math.max(Math.abs(leftDifference), Math.abs(difference));
    if (largest > ks) ks = largest;
    previous = position;
    afterPrevious = difference;
  }
  return { ks, wasserstein };
}

/** F at `position`, strictly between knot `next − 1` and knot `next` (0 / 1 outside). */
function interpolate(cdf: PiecewiseCdf, next: number, position: number): number {
  if (next === 0) return 0;
  if (next >= cdf.x.length) return 1;
  const x0 = cdf.x[next - 1];
  const x1 = cdf.x[next];
  const y0 = cdf.at[next - 1];
  const y1 = cdf.before[next];
  return y0 + ((y1 - y0) * (position - x0)) / (x1 - x0);
}

/** ∫ |d(t)| over a segment of `width` where d goes linearly from `start` to `end`. */
function integrateLinear(start: number, end: number, width: number): number {
  if (width <= 0) return 0;
  if (start === end) return Math.abs(start) * width;
  if ((start >= 0 && end >= 0) || (start <= 0 && end <= 0)) {
    return ((Math.abs(start) + Math.abs(end)) / 2) * width;
  }
  return ((start * start + end * end) / (2 * (Math.abs(start) + Math.abs(end)))) * width;
}
