export {
  ARTIFACT_MAGIC,
  artifactDigest,
  type DecodeArtifactOptions,
  decodeArtifact,
  encodeArtifact,
} from "./artifact/codec.js";
export { type CreateArtifactInput, createArtifact } from "./artifact/create.js";
export { readArtifact, writeArtifact } from "./artifact/file.js";
export { validateManifest } from "./artifact/manifest.js";
export {
  type ImportMlCartOptions,
  importMlCartTree,
  type MlCartNode,
  type MlCartRegressionJSON,
} from "./artifact/ml-cart.js";
export {
  type ArrayDescriptor,
  type ArrayDType,
  type ArtifactArray,
  type DropColumnsStep,
  type EnsembleLink,
  type EnsembleModelSection,
  type Lineage,
  type LinearModelSection,
  MODEL_FORMAT,
  type ModelArtifact,
  type ModelManifest,
  type ModelSection,
  type OneHotStep,
  type PolynomialFeaturesStep,
  type PreprocessingStep,
  type SimpleImputerStep,
  type SplitRule,
  type StandardScalerStep,
  type TreeModelSection,
} from "./artifact/types.js";
export { SDK_VERSION } from "./artifact/version.js";
export { alignColumns, profileKinds } from "./drift/align.js";
export { profileBin, profileBinCount } from "./drift/bins.js";
export {
  type BinnedNumbers,
  type CategoryCounts,
  compareCategory,
  compareNumeric,
  type NumericCurrent,
  type NumericReference,
  resolveDriftOptions,
  type SortedNumbers,
} from "./drift/compare.js";
export {
  type ChiSquareResult,
  chiSquareContingency,
  jensenShannonDistance,
  PSI_EMPTY_BIN,
  populationStabilityIndex,
} from "./drift/divergence.js";
export { formatDriftText } from "./drift/format.js";
export {
  KS_EXACT_MAX_N,
  type KsMethod,
  type KsPValue,
  kolmogorovSf,
  ksTwoSamplePValue,
  smirnovSf,
} from "./drift/kolmogorov.js";
export {
  type DriftReportOptions,
  driftReport,
  driftReportFromSketch,
  type SketchSummary,
} from "./drift/report.js";
export { type KsResult, ksTwoSample, wassersteinDistance } from "./drift/samples.js";
export {
  OTHER_VALUES,
  ProfileSketch,
  type ProfileSketchOptions,
  type SketchWindow,
} from "./drift/sketch.js";
export type {
  CategoryDriftMethod,
  ColumnDriftOptions,
  DriftHistogram,
  DriftMethod,
  DriftOptions,
  DriftReport,
  DriftSideSummary,
  DriftVerdict,
  FeatureDrift,
  NumericDriftMethod,
  ResolvedDriftOptions,
} from "./drift/types.js";
export {
  formatLocation,
  MlopsError,
  type MlopsErrorCode,
  type MlopsErrorOptions,
  type SourceLocation,
} from "./errors/error.js";
export { ARROW_KIND_METADATA_KEY, frameFromArrow, frameToArrow } from "./frame/arrow.js";
export {
  type CategorySummary,
  type ColumnSummary,
  describeFrame,
  type NumericSummary,
} from "./frame/describe.js";
export {
  type CategoryColumn,
  type CellValue,
  type Column,
  type ColumnKind,
  categoryColumn,
  Frame,
  isCategoryColumn,
  type NumericColumn,
  numericColumn,
  type RowObject,
} from "./frame/frame.js";
export { rowHashes } from "./frame/hash.js";
export { type EvaluateGateOptions, evaluateGate, type GateModel } from "./gate/evaluate.js";
export {
  formatGateJSON,
  formatGateMarkdown,
  formatGateTable,
  type GateJSONOptions,
  type GateTableOptions,
} from "./gate/format.js";
export { type GateRuleKind, gateRuleKinds } from "./gate/kinds.js";
export { formatGateRunMarkdown, type GateRunReport, gateRunReport } from "./gate/report.js";
export {
  formatGateIssue,
  type GateConfig,
  GateConfigError,
  type GateConfigIssue,
  type GateRule,
  type GateRuleInput,
  type GateRulesInput,
  type ParseGateConfigOptions,
  parseGateConfig,
  parseGateRules,
  parseThreshold,
  type SafeGateResult,
  type SignificanceRule,
  safeParseGateConfig,
  safeParseThreshold,
} from "./gate/rules.js";
export {
  type GatePromotion,
  gateModelUri,
  type KeptGateReport,
  type RunGateOptions,
  type RunGateResult,
  runGate,
} from "./gate/run.js";
export { formatGateSummary } from "./gate/summary.js";
export { type ParseGateThresholdsOptions, parseGateThresholds } from "./gate/thresholds.js";
export type { GateInterval, GateModelSummary, GateResult, GateRow } from "./gate/types.js";
export {
  ONNX_OPSETS,
  ONNX_OUTPUT_NAME,
  type ToOnnxOptions,
  toOnnx,
} from "./interop/onnx/export.js";
export {
  type ImportOnnxOptions,
  importOnnx,
  inspectOnnx,
  type OnnxElementType,
  type OnnxFeeds,
  type OnnxModelInfo,
  type OnnxTensorInfo,
  onnxModelOf,
} from "./interop/onnx/import.js";
export {
  type OnnxPredictOptions,
  type OnnxRuntimeModule,
  type OnnxSession,
  type OnnxTensor,
  predictOnnx,
} from "./interop/onnx/runtime.js";
export { type ImportXGBoostOptions, importXGBoost } from "./interop/xgboost.js";
export {
  formatFor,
  formats,
  openFrameWriter,
  readFrame,
  streamFrames,
  writeFrame,
} from "./io/index.js";
export type {
  EncodeOptions,
  FrameFormat,
  FrameFormatName,
  FrameOrigin,
  FrameWriter,
  InvalidRow,
  ReadOptions,
  StreamOptions,
  WriteOptions,
} from "./io/types.js";
export { findMetric, type MetricKey, parseMetricKey } from "./metrics/keys.js";
export {
  type BootstrapInterval,
  type BootstrapOptions,
  bootstrapInterval,
  computeMetrics,
  explainedVariance,
  getMetric,
  type MetricDefinition,
  type MetricName,
  mae,
  mape,
  maxError,
  medianAbsoluteError,
  metricNames,
  metrics,
  mse,
  r2,
  rmse,
} from "./metrics/metrics.js";
export { createRandom, type Random } from "./metrics/random.js";
export { type ModelParts, widenSchema } from "./predict/contract.js";
export { isNativeArtifact, predictFrame } from "./predict/frame.js";
export { createPredictor, type Predictor, predictorKinds } from "./predict/predictor.js";
export {
  applyPreprocessing,
  type CompiledStep,
  type PreprocessingStepDefinition,
  preprocessingStepKinds,
  registerPreprocessingStep,
} from "./predict/preprocessing.js";
export {
  float32Threshold,
  nextFloat32Down,
  nextFloat32Up,
  SPLIT_RULES,
  walkThreshold,
} from "./predict/split-rule.js";
export { type TreeArrays, treeFeatureImportances } from "./predict/tree.js";
export {
  DEFAULT_MAX_CATEGORIES,
  DEFAULT_PROFILE_BINS,
  DEFAULT_PROFILE_SAMPLE,
  type ProfileOptions,
  profileFrame,
  profileNumbers,
} from "./profile/profile.js";
export {
  type CategoryProfile,
  type ColumnProfile,
  isNumericProfile,
  type NumericProfile,
  PROFILE_FORMAT,
  type TrainingProfile,
} from "./profile/types.js";
export { parseProfile } from "./profile/validate.js";
export { currentActor, defaultRegistryPath } from "./registry/actor.js";
export {
  type OpenStoreOptions,
  openStore,
  parseRegistryLocation,
  type RegistryBackend,
  type RegistryLocation,
  registerRegistryBackend,
  registryBackendSchemes,
  resolveRegistryLocation,
} from "./registry/backends.js";
export { redactLocation } from "./registry/common.js";
export { ComposedRegistryStore, type RegistryStoreParts } from "./registry/compose.js";
export {
  type CopyCounts,
  type CopyProgress,
  type CopyRegistryOptions,
  type CopySummary,
  copyRegistry,
} from "./registry/copy.js";
export {
  DATASET_CONTEXT_TAG,
  type Dataset,
  type DatasetInput,
  type DatasetSummary,
  type LogDatasetOptions,
  REPEATED_SHARE_TAG,
  ROW_HASHES_TAG,
  summarizeDatasets,
} from "./registry/datasets.js";
export {
  type OpenExistingRegistryOptions,
  openExistingRegistry,
} from "./registry/existing.js";
export {
  applyRunSearch,
  compareRunsBy,
  type FilterComparator,
  matchesRunFilter,
  parseRunFilter,
  parseRunOrderBy,
  prepareRunSearch,
  type RunAttribute,
  type RunEntity,
  type RunFilterClause,
  type RunOrderKey,
  SEARCH_RUNS_DEFAULT_MAX,
  SEARCH_RUNS_LIMIT,
} from "./registry/filter.js";
export {
  FOLDER_REGISTRY_FORMAT,
  FolderArtifactStore,
  FolderModelRegistryStore,
  FolderStore,
  type FolderStoreOptions,
  FolderStudyStore,
  FolderTrackingStore,
  type ModelRegistryStoreDependencies,
  openFolderStore,
} from "./registry/folder.js";
export { validateModelName } from "./registry/names.js";
export {
  type LoadedModel,
  modelDigest,
  openRegistry,
  type RegisterModelOptions,
  Registry,
  type StartRunOptions,
} from "./registry/registry.js";
export {
  listReports,
  REPORT_ARTIFACT,
  REPORT_EXPERIMENTS,
  REPORT_HTML_ARTIFACT,
  type RecordReportOptions,
  recordReport,
} from "./registry/reports.js";
export {
  type ClaimTrialOptions,
  type CreateStudyOptions,
  DEFAULT_MAX_ATTEMPTS,
  type FinishOutcome,
  type Study,
  type StudyRecord,
  type StudyState,
  type StudyStore,
  type StudyTrial,
  type TrialClaim,
  type TrialState,
} from "./registry/studies.js";
export {
  type AliasChangeOptions,
  type AliasHistoryEntry,
  type AliasMovedEvent,
  type AliasWatchEvent,
  type ArtifactInfo,
  type ArtifactStore,
  type BlobInfo,
  type BlobReadOptions,
  type CreateModelVersionOptions,
  type CreateRegisteredModelOptions,
  type CreateRunOptions,
  DEFAULT_EXPERIMENT_ID,
  DEFAULT_EXPERIMENT_NAME,
  type Experiment,
  type ImportOutcome,
  type Metric,
  type MetricInput,
  type ModelRegistryStore,
  type ModelVersion,
  type ModelVersionRecord,
  type RegisteredModel,
  type RegisteredModelRecord,
  type RegistryStore,
  RUN_STATUSES,
  type Run,
  type RunRecord,
  type RunStatus,
  type SearchRunsOptions,
  type StopWatching,
  type TerminalRunStatus,
  type TrackingStore,
  type VersionCreatedEvent,
} from "./registry/types.js";
export {
  formatModelUri,
  type ModelUri,
  parseModelUri,
  resolveModelUri,
  type SafeModelUriResult,
  safeParseModelUri,
} from "./registry/uri.js";
export {
  Field,
  type FieldDefinition,
  type FieldKind,
  type FieldOutput,
  field,
} from "./schema/field.js";
export { type InferSchemaOptions, inferSchema } from "./schema/infer.js";
export {
  describeReceived,
  formatIssue,
  formatIssues,
  formatPath,
  type Issue,
  type IssueCode,
  type SafeParseResult,
  SchemaError,
} from "./schema/issues.js";
export {
  type ConformOptions,
  type Infer,
  type InferShape,
  isMissingToken,
  type ParseOptions,
  Schema,
  type SchemaJSON,
  type SchemaOptions,
  type Shape,
  schema,
  type TensorMetadata,
} from "./schema/schema.js";
