/**
 * @mlops/train — work in progress: see the project's issues for what lands here.
 * The package exists now so the workspace, build and exports map are in place.
 */
export const PACKAGE_NAME = "@mlops/train";
export {
  AUTO_EARLY_STOPPING_ROWS,
  type BoostedTree,
  HistGradientBoostingRegressor,
} from "./boosting/hist-gradient-boosting.js";
export {
  type BoostingLoss,
  type CategoricalFeatures,
  HIST_GRADIENT_BOOSTING_DEFAULTS,
  type HistGradientBoostingParams,
  validateBoostingParams,
} from "./boosting/params.js";
export { NotFittedError } from "./estimator/errors.js";
export { type ArtifactModel, Estimator, type ToArtifactOptions } from "./estimator/estimator.js";
export { describeValue, paramError } from "./estimator/params.js";
export type { FitOptions, NumericKind, TrainingData } from "./estimator/training.js";
export { featureColumns } from "./estimator/training.js";
export {
  RANDOM_FOREST_DEFAULTS,
  type RandomForestParams,
} from "./forest/params.js";
export { RandomForestRegressor } from "./forest/random-forest.js";
export { LinearRegression, type LinearRegressionParams } from "./linear/linear-regression.js";
export { Ridge, type RidgeParams } from "./linear/ridge.js";
export { Pipeline, type PipelineStep } from "./pipeline/pipeline.js";
export { OneHotEncoder, type OneHotEncoderParams } from "./preprocessing/one-hot-encoder.js";
export {
  PolynomialFeatures,
  type PolynomialFeaturesParams,
  polynomialNames,
  polynomialPowers,
} from "./preprocessing/polynomial-features.js";
export { fRegression, mutualInfoRegression } from "./preprocessing/scores.js";
export {
  type ScoreFunction,
  SelectKBest,
  type SelectKBestParams,
} from "./preprocessing/select-k-best.js";
export {
  type ImputerStrategy,
  SimpleImputer,
  type SimpleImputerParams,
} from "./preprocessing/simple-imputer.js";
export { StandardScaler, type StandardScalerParams } from "./preprocessing/standard-scaler.js";
export { Transformer, type TransformerInput } from "./preprocessing/transformer.js";
export {
  type HalvingIteration,
  SuccessiveHalving,
  type SuccessiveHalvingOptions,
} from "./search/halving.js";
export type { CvResults } from "./search/results.js";
export {
  BaseSearch,
  GridSearch,
  type GridSearchOptions,
  RandomSearch,
  type RandomSearchOptions,
  type SearchOptions,
  type SearchProgress,
  type SearchRunner,
} from "./search/search.js";
export type { CandidateOutcome, ErrorScore, Params } from "./search/session.js";
export {
  choice,
  type Distribution,
  type DistributionSpec,
  integer,
  logUniform,
  type ParamDistributions,
  type ParamGrid,
  parameterGrid,
  parameterSampler,
  uniform,
} from "./search/space.js";
export { defaultGamma, TPESearch, type TPESearchOptions } from "./search/tpe.js";
export {
  type CrossValidateOptions,
  type CrossValidateResult,
  crossValidate,
} from "./selection/cross-validate.js";
export {
  type CrossValidator,
  type CvOption,
  type Fold,
  KFold,
  type KFoldOptions,
  TimeSeriesSplit,
  type TimeSeriesSplitOptions,
} from "./selection/folds.js";
export type { Scoring } from "./selection/scoring.js";
export {
  type TrainTestSplit,
  type TrainTestSplitOptions,
  trainTestSplit,
} from "./selection/split.js";
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
