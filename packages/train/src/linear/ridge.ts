import { isFiniteNumber, paramError } from "../estimator/params.js";
import type { TrainingData } from "../estimator/training.js";
import { choleskySolve, leastSquares } from "./least-squares.js";
import { centerData, interceptOf, type LinearFit, LinearModel } from "./linear-model.js";

/**
 * Hyperparameters of `Ridge`.
 *
 * @example
 * const params: RidgeParams = { alpha: 10, fitIntercept: true };
 */
export interface RidgeParams {
  /** Strength of the L2 penalty `alpha × ‖coefficients‖²`, ≥ 0 (scikit-learn's default 1). */
  alpha: number;
  /** Fit a constant term (not penalised); false for a model through the origin. */
  fitIntercept: boolean;
}

/**
 * Linear least squares with an L2 penalty (scikit-learn's `Ridge`, its `"cholesky"` solver):
 * the centred (weighted) normal equations `(XᵀX + alpha I) β = Xᵀy` solved by Cholesky. The
 * intercept is not penalised. With `alpha: 0` on a singular design it falls back to the
 * minimum-norm least-squares solution, as scikit-learn switches to its SVD solver.
 *
 * @example
 * const model = new Ridge({ alpha: 1 }).fit(frame, "price");
 * model.coefficients;
 * new Pipeline([["scaler", new StandardScaler()], ["ridge", new Ridge()]]);
 */
export class Ridge extends LinearModel<RidgeParams> {
  constructor(params: Partial<RidgeParams> = {}) {
    super({ alpha: 1, fitIntercept: true }, params);
  }

  protected fitLinear(data: TrainingData): LinearFit {
    const { alpha, fitIntercept } = this.getParams();
    if (!(isFiniteNumber(alpha) && alpha >= 0)) throw paramError("alpha", "a number ≥ 0", alpha);
    if (typeof fitIntercept !== "boolean")
      throw paramError("fitIntercept", "a boolean", fitIntercept);
    const centered = centerData(data, fitIntercept, `${this.estimatorName}.fit`);
    const { columns, target } = centered;
    const p = columns.length;
    const n = target.length;
    if (p > n && alpha > 0) {
      // More features than rows (polynomial expansions): scikit-learn's cholesky solver works
      // on the n × n kernel instead, β = Xᵀ (X Xᵀ + alpha I)⁻¹ y, the same solution for far less.
      const coefficients = kernelRidge(columns, target, alpha);
      if (coefficients !== undefined) {
        return {
          coefficients,
          intercept: fitIntercept ? interceptOf(centered, coefficients) : 0,
        };
      }
    }
    const gram = Array.from({ length: p }, () => new Float64Array(p));
    const rhs = new Float64Array(p);
    for (let j = 0; j < p; j++) {
      const a = columns[j];
      for (let k = 0; k <= j; k++) {
        const b = columns[k];
        let dot = 0;
        for (let i = 0; i < n; i++) dot += a[i] * b[i];
        gram[j][k] = dot;
        gram[k][j] = dot;
      }
      gram[j][j] += alpha;
      let dot = 0;
      for (let i = 0; i < n; i++) dot += a[i] * target[i];
      rhs[j] = dot;
    }
    const coefficients =
      choleskySolve(gram, rhs) ?? leastSquares(columns, Float64Array.from(target)).solution;
    return {
      coefficients,
      intercept: fitIntercept ? interceptOf(centered, coefficients) : 0,
    };
  }
}

/** Ridge through the kernel: `a = (X Xᵀ + alpha I)⁻¹ y`, then `β = Xᵀ a` (X centred columns). */
function kernelRidge(
  columns: readonly Float64Array[],
  target: Float64Array,
  alpha: number,
): Float64Array | undefined {
  const n = target.length;
  const p = columns.length;
  const kernel = Array.from({ length: n }, () => new Float64Array(n));
  for (let j = 0; j < p; j++) {
    const x = columns[j];
    for (let a = 0; a < n; a++) {
      const xa = x[a];
      if (xa === 0) continue;
      const row = kernel[a];
      for (let b = 0; b <= a; b++) row[b] += xa * x[b];
    }
  }
  for (let a = 0; a < n; a++) {
    for (let b = 0; b < a; b++) kernel[b][a] = kernel[a][b];
    kernel[a][a] += alpha;
  }
  const dual = choleskySolve(kernel, Float64Array.from(target));
  if (dual === undefined) return undefined;
  const coefficients = new Float64Array(p);
  for (let j = 0; j < p; j++) {
    const x = columns[j];
    let dot = 0;
    for (let i = 0; i < n; i++) dot += x[i] * dual[i];
    coefficients[j] = dot;
  }
  return coefficients;
}
