/**
 * Shared conformance suites for @mlops/train estimators and transformers (vitest required):
 * every estimator must pass `describeEstimatorConformance`, every preprocessing transformer
 * `describeTransformerConformance`.
 */
export {
  conformanceRegressionFrame,
  describeEstimatorConformance,
  type EstimatorConformanceOptions,
} from "./estimator-conformance.js";
export {
  describeTransformerConformance,
  type TransformerConformanceOptions,
} from "./transformer-conformance.js";
