/**
 * @mlops/train — work in progress: see the project's issues for what lands here.
 * The package exists now so the workspace, build and exports map are in place.
 */
export const PACKAGE_NAME = "@mlops/train";
export { NotFittedError } from "./estimator/errors.js";
export { type ArtifactModel, Estimator, type ToArtifactOptions } from "./estimator/estimator.js";
export { describeValue, paramError } from "./estimator/params.js";
export type { FitOptions, NumericKind, TrainingData } from "./estimator/training.js";
export { featureColumns } from "./estimator/training.js";
export { DecisionTreeRegressor } from "./tree/decision-tree.js";
export { fitTree } from "./tree/fit-tree.js";
export {
  type TreeArrays,
  treeDepth,
  treeFeatureImportanceArray,
  treeLeafCount,
} from "./tree/nodes.js";
export {
  AUTO_HIST_MIN_ROWS,
  DECISION_TREE_DEFAULTS,
  type DecisionTreeParams,
  type MaxFeatures,
  type TreeCriterion,
  type TreeSplitter,
  validateTreeParams,
} from "./tree/params.js";
export { predictTree } from "./tree/predict.js";
export {
  MISSING_BIN,
  type PrepareTreeDataOptions,
  prepareTreeColumns,
  prepareTreeData,
  type TreeData,
} from "./tree/tree-data.js";
