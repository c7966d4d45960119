import { MlopsError } from "@mlops/core";
import { NumpyRandomState } from "../forest/random-state.js";

/**
 * numpy's pairwise summation (`np.add.reduce` over a contiguous array): blocks of 8 partial
 * sums up to 128 values, halves above. Used where scikit-learn sums a 1-D array, so the
 * numbers that decide neighbour ties come out as they do there.
 */
export function pairwiseSum(
  values: ArrayLike<number>,
  start = 0,
  n = values.length - start,
): number {
  if (n < 8) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += values[start + i];
    return sum;
  }
  if (n <= 128) {
    const r = new Float64Array(8);
    for (let j = 0; j < 8; j++) r[j] = values[start + j];
    let i = 8;
    for (; i < n - (n % 8); i += 8) {
      for (let j = 0; j < 8; j++) r[j] += values[start + i + j];
    }
    let sum = r[0] + r[1] + (r[2] + r[3]) + (r[4] + r[5] + (r[6] + r[7]));
    for (; i < n; i++) sum += values[start + i];
    return sum;
  }
  let half = Math.floor(n / 2);
  half -= half % 8;
  return pairwiseSum(values, start, half) + pairwiseSum(values, start + half, n - half);
}

// ------------------------------------------------------------------ f_regression

/**
 * scikit-learn's `f_regression` (with `force_finite`): each column's Pearson correlation `r`
 * with the target gives `F = r² / (1 − r²) × (n − 2)` and its p-value under F(1, n − 2). A
 * constant column (or target) scores 0 with p-value 1; a perfect correlation scores the
 * largest double with p-value 0.
 *
 * @example
 * const { scores, pvalues } = fRegression([x1, x2], y);
 */
export function fRegression(
  columns: readonly Float64Array[],
  y: Float64Array,
): { scores: Float64Array; pvalues: Float64Array } {
  const n = y.length;
  const yMean = pairwiseSum(y) / n;
  const yc = y.map((value) => value - yMean);
  let yNorm = 0;
  for (const value of yc) yNorm += value * value;
  yNorm = Math.sqrt(yNorm);
  const freedom = n - 2;
  const scores = new Float64Array(columns.length);
  const pvalues = new Float64Array(columns.length);
  columns.forEach((x, j) => {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += x[i];
    mean /= n;
    let norm = 0;
    let dot = 0;
    for (let i = 0; i < n; i++) {
      const d = x[i] - mean;
      norm += d * d;
      dot += yc[i] * d;
    }
    let r = dot / Math.sqrt(norm) / yNorm;
    if (!Number.isFinite(r)) r = 0;
    const r2 = r * r;
    const f = (r2 / (1 - r2)) * freedom;
    if (Number.isNaN(f)) {
      scores[j] = 0;
      pvalues[j] = 1;
    } else if (f === Number.POSITIVE_INFINITY) {
      scores[j] = Number.MAX_VALUE;
      pvalues[j] = 0;
    } else {
      scores[j] = f;
      pvalues[j] = fDistributionSurvival(f, 1, freedom);
    }
  });
  return { scores, pvalues };
}

/** `P(F > f)` for F(d1, d2): the regularised incomplete beta `I_{d2/(d2 + d1 f)}(d2/2, d1/2)`. */
export function fDistributionSurvival(f: number, d1: number, d2: number): number {
  if (!(f > 0)) return 1;
  if (d2 <= 0) return Number.NaN;
  return incompleteBeta(d2 / (d2 + d1 * f), d2 / 2, d1 / 2);
}

/** ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms; about 15 significant digits). */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
    -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
    1.5056327351493116e-7,
  ];
  const z = x - 1;
  let sum = c[0];
  for (let i = 1; i < 9; i++) sum += c[i] / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** The regularised incomplete beta function `I_x(a, b)` (continued fraction, Lentz). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(
    logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log1p(-x),
  );
  if (x < (a + 1) / (a + b + 2)) return (front * betaFraction(x, a, b)) / a;
  return 1 - (front * betaFraction(1 - x, b, a)) / b;
}

function betaFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 10000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return h;
}

// ------------------------------------------------------------------ mutual information

/** ψ(x) for x > 0: recurrence up to 10, then the asymptotic series. */
export function digamma(x: number): number {
  let result = 0;
  let z = x;
  while (z < 10) {
    result -= 1 / z;
    z += 1;
  }
  const f = 1 / (z * z);
  const series =
    f *
    (1 / 12 -
      f * (1 / 120 - f * (1 / 252 - f * (1 / 240 - f * (1 / 132 - f * (691 / 32760 - f / 12))))));
  return result + Math.log(z) - 0.5 / z - series;
}

/** The largest double below `value` (numpy's `nextafter(value, 0)` for value ≥ 0). */
function nextDown(value: number, scratch: Float64Array, words: Uint32Array): number {
  if (value <= 0) return value;
  scratch[0] = value;
  // Little-endian: words[0] is the low half of the bit pattern.
  if (words[0] === 0) {
    words[0] = 0xffffffff;
    words[1] -= 1;
  } else words[0] -= 1;
  return scratch[0];
}

const LEAF_SIZE = 12;

/**
 * The distance from each point to its k-th nearest other point under the Chebyshev metric
 * `max(|Δx|, |Δy|)`, from a 2-d tree (median splits on the wider side).
 */
export function kthNeighborDistances(x: Float64Array, y: Float64Array, k: number): Float64Array {
  const n = x.length;
  const index = Int32Array.from({ length: n }, (_, i) => i);
  // Nodes: rows [start, end) of `index`, children (-1 for a leaf), bounding box.
  const starts: number[] = [];
  const ends: number[] = [];
  const lefts: number[] = [];
  const rights: number[] = [];
  const boxes: number[] = [];
  const build = (start: number, end: number): number => {
    const node = starts.length;
    starts.push(start);
    ends.push(end);
    lefts.push(-1);
    rights.push(-1);
    let minX = Infinity;
    let maxX = -Infinity;
    let minY = Infinity;
    let maxY = -Infinity;
    for (let i = start; i < end; i++) {
      const row = index[i];
      if (x[row] < minX) minX = x[row];
      if (x[row] > maxX) maxX = x[row];
      if (y[row] < minY) minY = y[row];
      if (y[row] > maxY) maxY = y[row];
    }
    boxes.push(minX, maxX, minY, maxY);
    if (end - start <= LEAF_SIZE) return node;
    const values = maxX - minX >= maxY - minY ? x : y;
    const middle = (start + end) >> 1;
    select(index, values, start, end - 1, middle);
    lefts[node] = build(start, middle);
    rights[node] = build(middle, end);
    return node;
  };
  build(0, n);
  const out = new Float64Array(n);
  const best = new Float64Array(k);
  const stack = new Int32Array(2 * 64 + 8);
  for (let i = 0; i < n; i++) {
    const px = x[i];
    const py = y[i];
    best.fill(Infinity);
    let top = 0;
    stack[top++] = 0;
    while (top > 0) {
      const node = stack[--top];
      const b = 4 * node;
      const dx = Math.max(0, boxes[b] - px, px - boxes[b + 1]);
      const dy = Math.max(0, boxes[b + 2] - py, py - boxes[b + 3]);
      if (Math.max(dx, dy) >= best[k - 1]) continue;
      const left = lefts[node];
      if (left < 0) {
        for (let s = starts[node]; s < ends[node]; s++) {
          const row = index[s];
          if (row === i) continue;
          const distance = Math.max(Math.abs(x[row] - px), Math.abs(y[row] - py));
          if (distance < best[k - 1]) {
            let at = k - 1;
            while (at > 0 && best[at - 1] > distance) {
              best[at] = best[at - 1];
              at--;
            }
            best[at] = distance;
          }
        }
        continue;
      }
      const right = rights[node];
      // Visit the nearer child first (pushed last).
      const leftDistance = boxDistance(boxes, left, px, py);
      const rightDistance = boxDistance(boxes, right, px, py);
      if (leftDistance <= rightDistance) {
        stack[top++] = right;
        stack[top++] = left;
      } else {
        stack[top++] = left;
        stack[top++] = right;
      }
    }
    out[i] = best[k - 1];
  }
  return out;
}

function boxDistance(boxes: number[], node: number, px: number, py: number): number {
  const b = 4 * node;
  return Math.max(
    Math.max(0, boxes[b] - px, px - boxes[b + 1]),
    Math.max(0, boxes[b + 2] - py, py - boxes[b + 3]),
  );
}

/** Reorders `index[lo..hi]` so that position `k` holds its value's order statistic. */
function select(index: Int32Array, values: Float64Array, lo: number, hi: number, k: number): void {
  let left = lo;
  let right = hi;
  while (right > left) {
    const pivot = values[index[(left + right) >> 1]];
    let i = left;
    let j = right;
    while (i <= j) {
      while (values[index[i]] < pivot) i++;
      while (values[index[j]] > pivot) j--;
      if (i <= j) {
        const swap = index[i];
        index[i] = index[j];
        index[j] = swap;
        i++;
        j--;
      }
    }
    if (k <= j) right = j;
    else if (k >= i) left = i;
    else return;
  }
}

/**
 * For each point, the number of other points within `radius[i]` (inclusive) in one
 * dimension, counted with binary searches over the sorted values using the exact test
 * `|v − value| ≤ radius` (floating-point subtraction is monotone, so the matches are one run).
 */
function countWithin(values: Float64Array, radius: Float64Array): Float64Array {
  const n = values.length;
  const sorted = Float64Array.from(values).sort();
  const counts = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    const r = radius[i];
    // First position holding v.
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid] < v) lo = mid + 1;
      else hi = mid;
    }
    const at = lo;
    // First index in [0, at] within r.
    lo = 0;
    hi = at;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (Math.abs(sorted[mid] - v) <= r) hi = mid;
      else lo = mid + 1;
    }
    const first = lo;
    // First index in [at, n) beyond r.
    lo = at;
    hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (Math.abs(sorted[mid] - v) <= r) lo = mid + 1;
      else hi = mid;
    }
    counts[i] = lo - first - 1;
  }
  return counts;
}

/** numpy's `std` of a 1-d array (pairwise sums), as `sklearn.preprocessing.scale` takes it. */
function std1d(values: Float64Array): number {
  const n = values.length;
  const mean = pairwiseSum(values) / n;
  const squares = values.map((v) => (v - mean) * (v - mean));
  return Math.sqrt(pairwiseSum(squares) / n);
}

/**
 * scikit-learn's `mutual_info_regression` for continuous features and target (its
 * `discrete_features="auto"` on dense data): each column and the target are divided by their
 * standard deviation, get noise of `1e-10 × max(1, mean |value|)` standard normals (numpy's
 * `RandomState(seed)`, drawn in scikit-learn's order: the features' n × p matrix by rows, then
 * the target), and the Kraskov et al. k-nearest-neighbour estimate is taken per column:
 * `ψ(n) + ψ(k) − ⟨ψ(n_x + 1)⟩ − ⟨ψ(n_y + 1)⟩`, floored at 0. With `seed` equal to
 * scikit-learn's `random_state` the noise is the same, so the estimates agree with it.
 *
 * @example
 * const scores = mutualInfoRegression([x1, x2], y, 3, 0);
 */
export function mutualInfoRegression(
  columns: readonly Float64Array[],
  y: Float64Array,
  neighbors: number,
  seed: number,
): Float64Array {
  const n = y.length;
  const p = columns.length;
  if (n <= neighbors) {
    throw new MlopsError(
      "data_invalid",
      `mutual_info_regression: needs more rows (${n}) than nNeighbors (${neighbors})`,
    );
  }
  const random = new NumpyRandomState(seed);
  // numpy reduces axis 0 of the n × p block row by row (sequential sums); a single column is
  // one contiguous run, summed pairwise.
  const sum = (values: Float64Array): number => {
    if (p === 1) return pairwiseSum(values);
    let total = 0;
    for (let i = 0; i < n; i++) total += values[i];
    return total;
  };
  const scaled = columns.map((x) => {
    const mean = sum(x) / n;
    let std = Math.sqrt(sum(x.map((value) => (value - mean) * (value - mean))) / n);
    if (std < 10 * Number.EPSILON) std = 1;
    return x.map((value) => value / std);
  });
  const noiseScale = scaled.map((x) => 1e-10 * Math.max(1, sum(x.map(Math.abs)) / n));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < p; j++) scaled[j][i] += noiseScale[j] * random.standardNormal();
  }
  let yStd = std1d(y);
  if (yStd < 10 * Number.EPSILON) yStd = 1;
  const target = y.map((value) => value / yStd);
  const yNoise = 1e-10 * Math.max(1, pairwiseSum(target.map(Math.abs)) / n);
  for (let i = 0; i < n; i++) target[i] += yNoise * random.standardNormal();

  const constant = digamma(n) + digamma(neighbors);
  const scratch = new Float64Array(1);
  const words = new Uint32Array(scratch.buffer);
  const terms = new Float64Array(n);
  return Float64Array.from(scaled, (x) => {
    const radius = kthNeighborDistances(x, target, neighbors);
    for (let i = 0; i < n; i++) radius[i] = nextDown(radius[i], scratch, words);
    const nx = countWithin(x, radius);
    const ny = countWithin(target, radius);
    for (let i = 0; i < n; i++) terms[i] = digamma(nx[i] + 1);
    const meanX = pairwiseSum(terms) / n;
    for (let i = 0; i < n; i++) terms[i] = digamma(ny[i] + 1);
    const meanY = pairwiseSum(terms) / n;
    return Math.max(0, constant - meanX - meanY);
  });
}
