/**
 * Shared conformance suites for @mlops/train estimators (vitest required): every estimator
 * must pass `describeEstimatorConformance`.
 */
export {
  conformanceRegressionFrame,
  describeEstimatorConformance,
  type EstimatorConformanceOptions,
} from "./estimator-conformance.js";
