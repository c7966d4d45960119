/**
 * Dense least-squares kernels for the linear models, over columns (one Float64Array per
 * feature): Householder QR with column pivoting, which finds the rank and gives the
 * minimum-norm solution of a rank-deficient problem (what LAPACK's `gelsd`, behind
 * scikit-learn's `LinearRegression`, returns), and a Cholesky solve of the normal equations
 * (scikit-learn's Ridge solver).
 */

/**
 * The minimum-norm `x` minimising `‖A x − b‖₂`, where `A` is given by its columns (each of
 * length n; they are overwritten) and `b` (overwritten). A singular value of `A` smaller than
 * `rcond` times the largest is treated as zero (estimated from the pivoted R's diagonal).
 */
export function leastSquares(
  columns: Float64Array[],
  b: Float64Array,
  rcond = Number.EPSILON * Math.max(b.length, columns.length),
): { solution: Float64Array; rank: number } {
  const p = columns.length;
  const n = b.length;
  const steps = Math.min(n, p);
  const perm = Int32Array.from({ length: p }, (_, j) => j);
  const a = [...columns];
  // R above the diagonal stays in the columns (a[j][i], i < j, moves with its column when
  // columns are swapped); the diagonal is kept here, as a[k][k] holds the Householder vector.
  const diagonals = new Float64Array(steps);
  let rank = 0;
  let firstDiagonal = 0;
  for (let k = 0; k < steps; k++) {
    // Pivot: the column with the largest norm below row k (recomputed: no downdating drift).
    let best = k;
    let bestNorm = -1;
    for (let j = k; j < p; j++) {
      const column = a[j];
      let norm = 0;
      for (let i = k; i < n; i++) norm += column[i] * column[i];
      if (norm > bestNorm) {
        bestNorm = norm;
        best = j;
      }
    }
    if (best !== k) {
      const swap = a[k];
      a[k] = a[best];
      a[best] = swap;
      const index = perm[k];
      perm[k] = perm[best];
      perm[best] = index;
    }
    const v = a[k];
    const alpha = Math.sqrt(bestNorm);
    if (k === 0) firstDiagonal = alpha;
    if (!(alpha > rcond * firstDiagonal) || alpha === 0) break;
    rank++;
    // Householder vector v[k..n) with v[k] += sign(v[k]) α; H = I − β v vᵀ.
    const diagonal = v[k] >= 0 ? -alpha : alpha;
    v[k] -= diagonal;
    const beta = 1 / (alpha * Math.abs(v[k]));
    diagonals[k] = diagonal;
    for (let j = k + 1; j < p; j++) {
      const column = a[j];
      let dot = 0;
      for (let i = k; i < n; i++) dot += v[i] * column[i];
      const scale = beta * dot;
      for (let i = k; i < n; i++) column[i] -= scale * v[i];
    }
    let dot = 0;
    for (let i = k; i < n; i++) dot += v[i] * b[i];
    const scale = beta * dot;
    for (let i = k; i < n; i++) b[i] -= scale * v[i];
  }
  // Qᵀb's first `rank` entries are b[0..rank); R's rows, in pivoted column order:
  const r = Array.from({ length: rank }, (_, k) => {
    const row = new Float64Array(p);
    row[k] = diagonals[k];
    for (let j = k + 1; j < p; j++) row[j] = a[j][k];
    return row;
  });
  const z = new Float64Array(p);
  if (rank === p) {
    for (let k = p - 1; k >= 0; k--) {
      let sum = b[k];
      for (let j = k + 1; j < p; j++) sum -= r[k][j] * z[j];
      z[k] = sum / r[k][k];
    }
  } else if (rank > 0) {
    minimumNorm(r, rank, p, b, z);
  }
  const solution = new Float64Array(p);
  for (let j = 0; j < p; j++) solution[perm[j]] = z[j];
  return { solution, rank };
}

/**
 * The minimum-norm solution `z` of `T z = c`, `T` the first `rank` rows of `r` (upper
 * trapezoidal, full row rank): QR of Tᵀ (p × rank) = Q₂ R₂, so z = Q₂ R₂⁻ᵀ c.
 */
function minimumNorm(
  r: Float64Array[],
  rank: number,
  p: number,
  c: Float64Array,
  z: Float64Array,
): void {
  // t[k] is column k of Tᵀ (row k of T), length p.
  const t = Array.from({ length: rank }, (_, k) => Float64Array.from(r[k]));
  const vectors: Float64Array[] = [];
  const betas: number[] = [];
  const r2 = Array.from({ length: rank }, () => new Float64Array(rank));
  for (let k = 0; k < rank; k++) {
    const v = t[k];
    let norm = 0;
    for (let i = k; i < p; i++) norm += v[i] * v[i];
    const alpha = Math.sqrt(norm);
    const diagonal = v[k] >= 0 ? -alpha : alpha;
    v[k] -= diagonal;
    const beta = alpha === 0 ? 0 : 1 / (alpha * Math.abs(v[k]));
    r2[k][k] = diagonal;
    for (let j = k + 1; j < rank; j++) {
      const column = t[j];
      let dot = 0;
      for (let i = k; i < p; i++) dot += v[i] * column[i];
      const scale = beta * dot;
      for (let i = k; i < p; i++) column[i] -= scale * v[i];
      r2[k][j] = column[k];
    }
    vectors.push(v);
    betas.push(beta);
  }
  // R₂ᵀ u = c (forward substitution), then z = Q₂ [u; 0] = H₀ H₁ … [u; 0].
  z.fill(0);
  for (let k = 0; k < rank; k++) {
    let sum = c[k];
    for (let j = 0; j < k; j++) sum -= r2[j][k] * z[j];
    z[k] = sum / r2[k][k];
  }
  for (let k = rank - 1; k >= 0; k--) {
    const v = vectors[k];
    let dot = 0;
    for (let i = k; i < p; i++) dot += v[i] * z[i];
    const scale = betas[k] * dot;
    for (let i = k; i < p; i++) z[i] -= scale * v[i];
  }
}

/**
 * Solves `G x = rhs` for a symmetric positive definite `G` (rows, overwritten by its Cholesky
 * factor). Returns undefined when `G` is not positive definite.
 */
export function choleskySolve(g: Float64Array[], rhs: Float64Array): Float64Array | undefined {
  const p = rhs.length;
  for (let j = 0; j < p; j++) {
    const row = g[j];
    let diagonal = row[j];
    for (let k = 0; k < j; k++) diagonal -= row[k] * row[k];
    if (!(diagonal > 0)) return undefined;
    const pivot = Math.sqrt(diagonal);
    row[j] = pivot;
    for (let i = j + 1; i < p; i++) {
      const other = g[i];
      let sum = other[j];
      for (let k = 0; k < j; k++) sum -= other[k] * row[k];
      other[j] = sum / pivot;
    }
  }
  const x = Float64Array.from(rhs);
  for (let i = 0; i < p; i++) {
    let sum = x[i];
    for (let k = 0; k < i; k++) sum -= g[i][k] * x[k];
    x[i] = sum / g[i][i];
  }
  for (let i = p - 1; i >= 0; i--) {
    let sum = x[i];
    for (let k = i + 1; k < p; k++) sum -= g[k][i] * x[k];
    x[i] = sum / g[i][i];
  }
  return x;
}
