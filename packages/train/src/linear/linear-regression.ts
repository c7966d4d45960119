import { paramError } from "../estimator/params.js";
import type { TrainingData } from "../estimator/training.js";
import { leastSquares } from "./least-squares.js";
import { centerData, interceptOf, type LinearFit, LinearModel } from "./linear-model.js";

/**
 * Hyperparameters of `LinearRegression`.
 *
 * @example
 * const params: LinearRegressionParams = { fitIntercept: false };
 */
export interface LinearRegressionParams {
  /** Fit a constant term (centre the data first); false for a model through the origin. */
  fitIntercept: boolean;
}

/**
 * Ordinary least squares (scikit-learn's `LinearRegression`): the coefficients minimising the
 * (weighted) squared error, from a Householder QR of the centred data with column pivoting.
 * On a rank-deficient design (a duplicated column, one-hot columns that sum to 1, a constant
 * column) it returns the minimum-norm solution, as scikit-learn's `lstsq` does; singular
 * values below `ε × max(rows, features)` of the largest count as zero. Features must be
 * numeric without missing values.
 *
 * @example
 * const model = new LinearRegression().fit(frame, "price");
 * model.coefficients; // Float64Array, one per feature
 * model.intercept;
 * const artifact = model.toArtifact(); // kind "linear"
 */
export class LinearRegression extends LinearModel<LinearRegressionParams> {
  constructor(params: Partial<LinearRegressionParams> = {}) {
    super({ fitIntercept: true }, params);
  }

  protected fitLinear(data: TrainingData): LinearFit {
    const { fitIntercept } = this.getParams();
    if (typeof fitIntercept !== "boolean")
      throw paramError("fitIntercept", "a boolean", fitIntercept);
    const centered = centerData(data, fitIntercept, `${this.estimatorName}.fit`);
    const { solution } = leastSquares(centered.columns, centered.target);
    return {
      coefficients: solution,
      intercept: fitIntercept ? interceptOf(centered, solution) : 0,
    };
  }
}
