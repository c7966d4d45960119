import { MlopsError } from "@mlops/core";

/**
 * Thrown when a fitted model is needed (`predict`, `toArtifact`, fitted attributes) before
 * `fit` was called. An `MlopsError` with code `"not_fitted"`, like scikit-learn's
 * `NotFittedError`.
 *
 * @example
 * try { new DecisionTreeRegressor().predict(frame) } catch (error) {
 *   if (error instanceof NotFittedError) { ... } // error.code === "not_fitted"
 * }
 */
export class NotFittedError extends MlopsError {
  constructor(estimator: string, action: string) {
    super(
      "not_fitted",
      `This ${estimator} is not fitted yet: call fit(frame, target) before ${action}`,
    );
    this.name = "NotFittedError";
  }
}
