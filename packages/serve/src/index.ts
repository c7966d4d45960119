/**
 * @mlops/serve — an embeddable inference server for @mlops models: named-field REST, the Open
 * Inference Protocol v2 and MLflow's scoring protocol behind one web-standard `fetch` handler,
 * with validation, limits, Prometheus metrics, API-key auth, hot reload, request logs and
 * pluggable runtimes.
 */
export {
  createInferenceApp,
  type InferenceApp,
  type InferenceAppOptions,
} from "./app/app.js";
export type { PredictionEvent, PredictionObserver } from "./app/pipeline.js";
export type {
  GuardRequest,
  InferenceEnv,
  InferenceMiddleware,
  RequestGuard,
  RouteInfo,
  RouteProtocol,
  RouteScope,
} from "./app/types.js";
export {
  API_KEY_HASHES_ENV,
  API_KEY_SCOPES,
  type ApiKey,
  type ApiKeyScope,
  type AuthOptions,
  apiKeyGuard,
  hashApiKey,
  parseApiKeyHashes,
} from "./auth/api-keys.js";
export {
  type BatchFileSummary,
  type BatchProgress,
  type BatchSummary,
  rejectsPathFor,
  type ScoreBatchOptions,
  scoreBatch,
} from "./batch/score.js";
export {
  ERROR_STATUS,
  errorHeaders,
  oipErrorBody,
  restErrorBody,
  ServeError,
  type ServeErrorCode,
  type ServeErrorOptions,
  toServeError,
} from "./errors.js";
export { DEFAULT_LIMITS, type Limits } from "./limits/limits.js";
export type {
  LoggerOption,
  LogSink,
  RequestLogLine,
} from "./logs/request-log.js";
export type { MetricsOptions } from "./metrics/metrics.js";
export {
  type ArtifactModelSource,
  ModelCatalog,
  type ModelSource,
  parseModelReference,
  type ReferenceModelSource,
  type ServeEvent,
  type ServeEventListener,
} from "./models/catalog.js";
export { requestContract, type UnknownFields } from "./models/contract.js";
export { type HolderState, ModelHolder } from "./models/holder.js";
export {
  type ModelOrigin,
  type ModelUsage,
  OUTPUT_NAME,
  type ServedModel,
} from "./models/served.js";
export {
  parseSplitSpec,
  parseStickyKey,
  type ShadowSource,
  type SplitModelSource,
  type StickyKey,
  stickyPoint,
  type Variant,
  VariantRouter,
  type VariantSource,
} from "./models/variants.js";
export {
  type AlertManagerOptions,
  type AlertMetric,
  type AlertNotification,
  type AlertOperator,
  type AlertRule,
  type AlertWebhook,
  type DeliveryResult,
  parseAlertRule,
  webhookBody,
} from "./monitor/alerts.js";
export type { OnlineError } from "./monitor/errors-window.js";
export {
  type FeedbackItem,
  type FeedbackOptions,
  type FeedbackRejection,
  FeedbackStore,
  type JoinedFeedback,
  type PredictionOwner,
} from "./monitor/feedback.js";
export { type MonitoredVersion, Monitoring, type MonitoringOptions } from "./monitor/monitoring.js";
export { type MonitoringReport, type VariantRole, VersionMonitor } from "./monitor/version.js";
export { type RunningServer, type ServeOptions, serve, toNodeListener } from "./node/serve.js";
export { parseCsvText } from "./protocols/csv.js";
export {
  type PredictRouteContext,
  type PredictRouteDefinition,
  type PredictRouteOptions,
  predictRoute,
} from "./protocols/custom.js";
export { OIP_DATATYPES, type OipDatatype } from "./protocols/oip.js";
export { type DefineModelInput, defineModel, type ModelDefinition } from "./runtime/define.js";
export { nativeRuntime } from "./runtime/native.js";
export {
  createOnnxRuntime,
  type OnnxRuntimeModule,
  type OnnxRuntimeOptions,
  onnxRuntime,
} from "./runtime/onnx.js";
export type { LoadedModel, ModelRuntime } from "./runtime/runtime.js";
