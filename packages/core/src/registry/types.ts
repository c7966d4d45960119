/**
 * The registry and tracking vocabulary (MLflow's words) and the `RegistryStore` interface that
 * every store implements. Every entity is a plain JSON value: no classes, no `undefined`
 * properties, no `Date`s. Times are milliseconds since the Unix epoch, as in MLflow.
 */

/** A run's lifecycle state, as MLflow names it. */
export type RunStatus = "RUNNING" | "FINISHED" | "FAILED" | "KILLED";

/** The statuses a run can end with. */
export type TerminalRunStatus = Exclude<RunStatus, "RUNNING">;

/** Every run status, in lifecycle order. */
export const RUN_STATUSES: readonly RunStatus[] = ["RUNNING", "FINISHED", "FAILED", "KILLED"];

/** The experiment that exists in every registry without being created (MLflow's id "0"). */
export const DEFAULT_EXPERIMENT_ID = "0";

/** The name of the experiment with id `"0"`. */
export const DEFAULT_EXPERIMENT_NAME = "Default";

/**
 * A named group of runs.
 *
 * @example
 * const experiment = await store.createExperiment("wine-tuning", { tags: { team: "ml" } });
 * experiment.experimentId; // "1"
 */
export interface Experiment {
  experimentId: string;
  name: string;
  tags: Record<string, string>;
  createdAt: number;
}

/**
 * One measurement of a metric: `step` orders a training curve, `timestamp` is wall time (ms).
 *
 * @example
 * const metric: Metric = { key: "rmse", value: 0.61, timestamp: Date.now(), step: 3 };
 */
export interface Metric {
  key: string;
  value: number;
  timestamp: number;
  step: number;
}

/** A metric to log: `timestamp` defaults to now and `step` to 0. */
export interface MetricInput {
  key: string;
  value: number;
  timestamp?: number;
  step?: number;
}

/**
 * One execution of training code. `metrics` holds the latest value per key, chosen as MLflow
 * does: the highest step, then the latest timestamp, then the largest value.
 *
 * @example
 * const run = await store.getRun(runId);
 * if (run.status === "FINISHED") console.log(run.metrics.rmse, run.params.max_depth);
 */
export interface Run {
  runId: string;
  experimentId: string;
  runName: string;
  status: RunStatus;
  startTime: number;
  endTime?: number;
  parentRunId?: string;
  params: Record<string, string>;
  metrics: Record<string, number>;
  tags: Record<string, string>;
}

/** What `createRun` takes; `experimentId` defaults to the Default experiment (`"0"`). */
export interface CreateRunOptions {
  experimentId?: string;
  runName?: string;
  parentRunId?: string;
  tags?: Record<string, string>;
  startTime?: number;
}

/** A file attached to a run, stored by content (`digest` is `sha256:<hex>`). */
export interface ArtifactInfo {
  name: string;
  digest: string;
  sizeBytes: number;
}

/**
 * What `searchRuns` takes. `filter` uses MLflow's syntax (clauses joined by AND), `orderBy`
 * MLflow's `"<entity>.<key> [ASC|DESC]"` strings.
 *
 * @example
 * await store.searchRuns({
 *   experimentIds: ["1"],
 *   filter: "metrics.rmse < 0.8 and params.max_depth = '5'",
 *   orderBy: ["metrics.rmse ASC"],
 *   maxResults: 10,
 * });
 */
export interface SearchRunsOptions {
  /** Experiments to search; every experiment when left out. */
  experimentIds?: string[];
  filter?: string;
  orderBy?: string[];
  /** At most this many runs (1 to 50 000, default 1000). */
  maxResults?: number;
  /** Only the child runs of this run. */
  parentRunId?: string;
}

/**
 * A named model whose versions live in the registry. `aliases` maps each alias to its version;
 * `latestVersion` is the highest version number (absent before the first version).
 *
 * @example
 * const model = await store.getRegisteredModel("wine");
 * model.aliases.production; // 3
 */
export interface RegisteredModel {
  name: string;
  description: string;
  tags: Record<string, string>;
  createdAt: number;
  aliases: Record<string, number>;
  latestVersion?: number;
}

/** What `createRegisteredModel` takes. */
export interface CreateRegisteredModelOptions {
  description?: string;
  tags?: Record<string, string>;
}

/**
 * One immutable, content-addressed version of a registered model. `digest` is the sha256 of the
 * artifact bytes; `metadata` is the caller's JSON summary (kind, metrics, schema...); `aliases`
 * lists the aliases that point at this version now.
 *
 * @example
 * const version = await store.getModelVersion("wine", 3);
 * version.digest; // "sha256:9f86d0..."
 */
export interface ModelVersion {
  name: string;
  version: number;
  digest: string;
  sizeBytes: number;
  runId?: string;
  description?: string;
  tags: Record<string, string>;
  metadata: Record<string, unknown>;
  createdAt: number;
  aliases: string[];
}

/**
 * What `createModelVersion` takes: the artifact as opaque bytes plus what describes it.
 *
 * @example
 * await store.createModelVersion("wine", {
 *   artifact: bytes,
 *   runId,
 *   metadata: { kind: "tree", metrics: { rmse: 0.61 } },
 * });
 */
export interface CreateModelVersionOptions {
  artifact: Uint8Array;
  runId?: string;
  description?: string;
  tags?: Record<string, string>;
  metadata?: Record<string, unknown>;
}

/** Who moved an alias and why; `actor` defaults to `currentActor()`. */
export interface AliasChangeOptions {
  actor?: string;
  reason?: string;
}

/**
 * One alias move in the append-only alias history: `fromVersion` is null when the alias is new,
 * `toVersion` null when it was deleted.
 *
 * @example
 * const history = await store.getAliasHistory("wine", { alias: "production" });
 * history.at(-1); // { alias: "production", fromVersion: 2, toVersion: 3, actor: "ana", ... }
 */
export interface AliasHistoryEntry {
  name: string;
  alias: string;
  fromVersion: number | null;
  toVersion: number | null;
  actor: string;
  time: number;
  reason: string | null;
}

/**
 * Where experiments, runs, model versions and aliases are kept. Every method is async and every
 * value it returns is plain JSON. Errors are `MlopsError`s: `registry_not_found`,
 * `registry_conflict`, `registry_name_invalid`, `argument_invalid`, `filter_invalid`,
 * `artifact_corrupt`, `registry_lock_timeout`, `registry_corrupt`. Every implementation must pass
 * `describeRegistryStoreConformance` from `@mlops/core/testing`.
 *
 * @example
 * const store: RegistryStore = await openFolderStore();
 * const run = await store.createRun({ experimentId: "0", runName: "baseline" });
 * await store.logParams(run.runId, { max_depth: 5 });
 * await store.logMetrics(run.runId, [{ key: "rmse", value: 0.64, step: 0 }]);
 * await store.endRun(run.runId, "FINISHED");
 * const version = await store.createModelVersion("wine", { artifact: bytes, runId: run.runId });
 * await store.setAlias("wine", "production", version.version, { reason: "gate passed" });
 */
export interface RegistryStore {
  // Experiments
  createExperiment(name: string, options?: { tags?: Record<string, string> }): Promise<Experiment>;
  getExperiment(experimentId: string): Promise<Experiment>;
  /** The experiment with this name, or `undefined` (as MLflow's `get_experiment_by_name`). */
  getExperimentByName(name: string): Promise<Experiment | undefined>;
  listExperiments(): Promise<Experiment[]>;

  // Runs
  createRun(options?: CreateRunOptions): Promise<Run>;
  getRun(runId: string): Promise<Run>;
  /** Params are immutable: logging a different value for a key already set is a conflict. */
  logParams(runId: string, params: Record<string, string | number | boolean>): Promise<void>;
  logMetrics(runId: string, metrics: MetricInput[]): Promise<void>;
  /** Every value logged for `key`, in step order (then timestamp, then logging order). */
  getMetricHistory(runId: string, key: string): Promise<Metric[]>;
  setTags(runId: string, tags: Record<string, string>): Promise<void>;
  endRun(runId: string, status?: TerminalRunStatus, endTime?: number): Promise<Run>;
  logArtifact(runId: string, name: string, bytes: Uint8Array): Promise<ArtifactInfo>;
  listArtifacts(runId: string): Promise<ArtifactInfo[]>;
  /** The artifact's bytes, verified against its digest. */
  readArtifact(runId: string, name: string): Promise<Uint8Array>;
  searchRuns(options?: SearchRunsOptions): Promise<Run[]>;

  // Registered models and versions
  createRegisteredModel(
    name: string,
    options?: CreateRegisteredModelOptions,
  ): Promise<RegisteredModel>;
  getRegisteredModel(name: string): Promise<RegisteredModel>;
  listRegisteredModels(): Promise<RegisteredModel[]>;
  /** Registers the next version (creating the model on first use). */
  createModelVersion(name: string, options: CreateModelVersionOptions): Promise<ModelVersion>;
  getModelVersion(name: string, version: number): Promise<ModelVersion>;
  /** The highest version of the model. */
  getLatestModelVersion(name: string): Promise<ModelVersion>;
  listModelVersions(name: string): Promise<ModelVersion[]>;
  /** The version's artifact bytes, verified against its sha256 digest. */
  readModelArtifact(name: string, version: number): Promise<Uint8Array>;

  // Aliases
  setAlias(
    name: string,
    alias: string,
    version: number,
    options?: AliasChangeOptions,
  ): Promise<AliasHistoryEntry>;
  deleteAlias(
    name: string,
    alias: string,
    options?: AliasChangeOptions,
  ): Promise<AliasHistoryEntry>;
  /** The version number the alias points at. */
  getAlias(name: string, alias: string): Promise<number>;
  listAliases(name: string): Promise<Record<string, number>>;
  /** Every alias move of the model, oldest first; never rewritten. */
  getAliasHistory(name: string, options?: { alias?: string }): Promise<AliasHistoryEntry[]>;
}
