/**
 * `@mlops/core/internal`: what the @mlops packages share and users should not build on — the
 * command-line toolkit of `mlops`, `mlops-train` and `mlops-serve` (see ../command/program.ts for
 * how to add a tool, a command or a flag), the one number and table format, the worker-thread pool
 * of training, search and batch scoring (./pool.ts), and helpers that other packages need from
 * core's inside. Nothing here is a stable API: it changes with the packages,
 * in any release.
 */
export { SDK_VERSION } from "../artifact/version.js";
export {
  CommandFailure,
  ERROR_KINDS,
  type ErrorKind,
  type ExitCodes,
  exitCodeFor,
  type FailureOutput,
  reportFailure,
} from "../command/exit.js";
export { optionsHelp, twoColumns, wrapText } from "../command/help.js";
export { launch } from "../command/launch.js";
export {
  type CommandLine,
  checkRequired,
  type OptionSpec,
  type OptionSpecs,
  type OptionValue,
  type OptionValues,
  optionUsage,
  parseCommandLine,
  UsageError,
} from "../command/options.js";
export {
  type ArgumentSpec,
  type Command,
  type CommandContext,
  type CommandIo,
  type CommandResult,
  defineCommand,
  type Program,
  programHelp,
  runProgram,
} from "../command/program.js";
export {
  type CommandRegistryOptions,
  REGISTRY_ENVIRONMENT,
  REGISTRY_OPTION,
  registryLocation,
} from "../command/registry.js";
export { closestName, didYouMean } from "../command/suggest.js";
export { locateYamlPath, parseYamlConfig, type YamlConfig } from "../config/yaml.js";
export {
  formatNumber,
  formatPercent,
  formatSigned,
  formatSignedPercent,
} from "../format/numbers.js";
export {
  type Align,
  type Column,
  formatBytes,
  formatDuration,
  formatFields,
  formatTable,
  formatTime,
  formatValue,
  type Style,
  stripEscapes,
  styleFor,
} from "../format/text.js";
export { quantileSorted } from "../frame/describe.js";
export {
  buildOnnxFeeds,
  frameFeeds,
  importOnnxRuntime,
  onnxOutputValues,
} from "../interop/onnx/runtime.js";
export {
  type CsvChunkOptions,
  csvDelimiter,
  csvQuote,
  readCsvChunk,
  readCsvText,
} from "../io/csv.js";
export { type CsvChunk, CsvChunker } from "../io/csv-chunks.js";
export { twoProductError } from "../io/decimal.js";
export { AtomicFile, writeError } from "../io/files.js";
export { formatFor } from "../io/index.js";
export {
  encodeParquetBatch,
  openParquetChunker,
  type ParquetBatch,
  type ParquetChunk,
  type ParquetChunker,
  type ParquetChunkFile,
  readParquetChunk,
  writeParquetBatch,
} from "../io/parquet-threads.js";
export { ByteBuffer, MAX_NUMBER_CHARS, NumberText } from "../io/writer.js";
export { impurityImportances, treeImportances } from "../predict/tree.js";
// The training profile's row sample: estimators predict those rows while they fit.
export { sampledRows, samplePositions } from "../profile/edges.js";
export type { PresortedColumn } from "../profile/presorted.js";
export {
  type GivenProfiles,
  profileFrameWith,
  profilePresorted,
  profileSortedColumn,
} from "../profile/profile.js";
// Registry helpers: store backends in other packages check arguments and word errors as core's.
export {
  aliasNotFound,
  type CheckedVersionOptions,
  checkAliasChange,
  checkArtifactInput,
  checkBlobs,
  checkBytes,
  checkCreateModel,
  checkCreateRun,
  checkMetrics,
  checkModelRecord,
  checkRunRecord,
  checkTerminalStatus,
  checkVersionOptions,
  checkVersionRecord,
  digestHex,
  experimentNotFound,
  foldAliases,
  generateRunName,
  historyTail,
  isNewerMetric,
  listText,
  missingBlobError,
  modelNotFound,
  paramConflict,
  plainRun,
  rangeText,
  redactLocation,
  sameRecord,
  sha256Hex,
  versionHeld,
  versionNotFound,
} from "../registry/common.js";
export {
  validateAlias,
  validateId,
  validateJson,
  validateKey,
  validateName,
  validateParams,
  validateTags,
  validateText,
  validateTime,
  validateVersion,
} from "../registry/names.js";
// Study helpers: every study store checks and words the same way.
export {
  abandonedResult,
  batchConflict,
  batchOutOfOrder,
  checkClaimOptions,
  checkCreateStudy,
  checkStudyJson,
  checkStudyRecord,
  checkTrialBatch,
  startStudyRun,
  studyConflict,
  studyNotFound,
  validateStudyName,
} from "../registry/studies.js";
export { parseNumberText } from "../schema/schema.js";
export { loadUi, UI_PACKAGE } from "../ui/load.js";
export type { RunningUi, SearchReport, UiModule, UiServerOptions } from "../ui/types.js";
export {
  builtModulePath,
  sharedThreadPool,
  type ThreadError,
  ThreadPool,
  type ThreadPoolOptions,
  threadError,
  transferResult,
  workerExecArgv,
} from "./pool.js";
export { sortFloat64 } from "./sort.js";
