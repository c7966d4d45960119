/**
 * The registry and tracking vocabulary (MLflow's words) and the three store interfaces, split as
 * MLflow splits them: a `TrackingStore` (experiments, runs), a `ModelRegistryStore` (models,
 * versions, aliases, alias history), both over an `ArtifactStore` (content-addressed blobs). Every entity is a plain JSON value: no classes, no `undefined`
 * properties, no `Date`s. Times are milliseconds since the Unix epoch, as in MLflow.
 */

import type { StudyStore } from "./studies.js";

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
 * A whole run as it moves between registries (`importRun`): the run itself, every value of every
 * metric (per key in step order), and its artifacts, whose blobs are already in the target's
 * artifact store.
 */
export interface RunRecord {
  run: Run;
  metricHistory: Metric[];
  artifacts: ArtifactInfo[];
}

/** What an import did: wrote something new, changed what was there, or found it identical. */
export type ImportOutcome = "created" | "updated" | "unchanged";

/** A registered model as `importRegisteredModel` takes it (aliases come with the history). */
export type RegisteredModelRecord = Pick<
  RegisteredModel,
  "name" | "description" | "tags" | "createdAt"
>;

/** A model version as `importModelVersion` takes it (aliases come with the history). */
export type ModelVersionRecord = Omit<ModelVersion, "aliases">;

/** A stored blob: its content digest (`sha256:<hex>`) and length. */
export interface BlobInfo {
  digest: string;
  sizeBytes: number;
}

/** Where an error message names a blob's owner (`model "wine" version 3`). */
export interface BlobReadOptions {
  what?: string;
}

/**
 * Content-addressed bytes: a blob is stored once per sha256 digest, written whole or not at all,
 * and verified against its digest on every read. Model versions and run artifacts point at
 * blobs by digest. Every implementation must pass `describeArtifactStoreConformance` from
 * `@mlops/core/testing`.
 *
 * @example
 * const { digest } = await artifacts.put(bytes);
 * const same = await artifacts.get(digest); // throws artifact_corrupt if the bytes changed
 */
export interface ArtifactStore {
  /** Stores bytes, or a stream of chunks, and returns their digest; the same bytes are kept once. */
  put(content: Uint8Array | AsyncIterable<Uint8Array>): Promise<BlobInfo>;
  /** The bytes of `digest`, verified: `artifact_corrupt` when missing or changed. */
  get(digest: string, options?: BlobReadOptions): Promise<Uint8Array>;
  /**
   * The bytes of `digest` in chunks, without holding them all; the digest is checked at the end
   * and a mismatch throws `artifact_corrupt` instead of ending the stream.
   */
  stream(digest: string, options?: BlobReadOptions): AsyncIterable<Uint8Array>;
  /** Whether a blob with this digest is stored (unverified). */
  has(digest: string): Promise<boolean>;
}

/**
 * Experiments and runs: params, metrics with their history, tags, and run artifacts (pointers to
 * blobs in the artifact store). Errors are `MlopsError`s: `registry_not_found`,
 * `registry_conflict`, `registry_name_invalid`, `argument_invalid`, `filter_invalid`,
 * `artifact_corrupt`. Every implementation must pass `describeTrackingStoreConformance` from
 * `@mlops/core/testing`.
 *
 * @example
 * const run = await tracking.createRun({ experimentId: "0", runName: "baseline" });
 * await tracking.logParams(run.runId, { max_depth: 5 });
 * await tracking.logMetrics(run.runId, [{ key: "rmse", value: 0.64, step: 0 }]);
 * await tracking.endRun(run.runId, "FINISHED");
 */
export interface TrackingStore {
  createExperiment(name: string, options?: { tags?: Record<string, string> }): Promise<Experiment>;
  getExperiment(experimentId: string): Promise<Experiment>;
  /** The experiment with this name, or `undefined` (as MLflow's `get_experiment_by_name`). */
  getExperimentByName(name: string): Promise<Experiment | undefined>;
  listExperiments(): Promise<Experiment[]>;

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

  /**
   * Writes a run exactly as given (id, times, status, params, tags, metric history, artifacts),
   * replacing one with the same id: how `copyRegistry` moves runs between backends. Its
   * experiment and parent run must exist here, its artifacts' blobs must be in this registry's
   * artifact store. Importing the same record again is `unchanged`.
   */
  importRun(record: RunRecord): Promise<ImportOutcome>;
}

/** An alias move as the registry announces it to watchers (`ModelRegistryStore.watchAliases`). */
export interface AliasMovedEvent {
  name: string;
  alias: string;
  /** The version it points at now; null when the alias was deleted. */
  version: number | null;
  /**
   * The digest of that version's artifact, when the backend sends it: a watcher can load the
   * bytes (or find them in its cache) without resolving the alias again.
   */
  digest?: string;
  /** Every alias of the model after the move, when the backend sends it. */
  aliases?: Record<string, number>;
}

/** A version registered, as the registry announces it to watchers (to prefetch its bytes). */
export interface VersionCreatedEvent {
  name: string;
  version: number;
  /** The digest of its artifact. */
  digest: string;
}

/**
 * What a watcher is told: an alias moved, a version was registered, or `resync` when events
 * may have been missed (the connection to the registry was lost and is back) and every alias
 * should be read again.
 */
export type AliasWatchEvent =
  | ({ type: "alias_moved" } & AliasMovedEvent)
  | ({ type: "version_created" } & VersionCreatedEvent)
  | { type: "resync" };

/** Stops an alias watch; resolves once nothing more will be delivered. */
export type StopWatching = () => Promise<void>;

/**
 * Registered models, their immutable versions (bytes in the artifact store), aliases and the
 * append-only alias history. Errors are `MlopsError`s: `registry_not_found`, `registry_conflict`,
 * `registry_name_invalid`, `argument_invalid`, `artifact_corrupt`. Every implementation must pass
 * `describeModelRegistryStoreConformance` from `@mlops/core/testing`.
 *
 * @example
 * const version = await models.createModelVersion("wine", { artifact: bytes, runId });
 * await models.setAlias("wine", "production", version.version, { reason: "gate passed" });
 */
export interface ModelRegistryStore {
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

  /**
   * Creates the model as given (keeping `createdAt`), or updates its description and tags: how
   * `copyRegistry` moves models between backends.
   */
  importRegisteredModel(model: RegisteredModelRecord): Promise<ImportOutcome>;
  /**
   * Writes a version with its own number, digest, metadata and time; its blob must be in this
   * registry's artifact store. The same version again is `unchanged`; a different one under
   * that number is `registry_conflict` (versions are immutable). Later registrations continue
   * after the highest number.
   */
  importModelVersion(version: ModelVersionRecord): Promise<ImportOutcome>;
  /**
   * Makes the model's alias history equal to `history`, which must extend the history already
   * here (else `registry_conflict`): the missing moves are appended as they were (actor, time,
   * reason) and the aliases follow.
   */
  importAliasHistory(name: string, history: AliasHistoryEntry[]): Promise<ImportOutcome>;

  /**
   * Pushes alias moves (and registered versions) to `listener` as they are committed, when the
   * backend can (PostgreSQL's LISTEN/NOTIFY). Absent on backends that cannot: callers poll
   * instead.
   */
  watchAliases?(listener: (event: AliasWatchEvent) => void): Promise<StopWatching>;

  /**
   * Deletes a version that no alias points at (else `registry_conflict`, naming the aliases):
   * it is no longer listed, resolved or loaded, and its number is never given again, so a
   * `models:/name/N` URI cannot come to mean other bytes. The alias history keeps its moves.
   * Absent on backends that cannot delete versions yet (callers test for it).
   */
  deleteModelVersion?(name: string, version: number): Promise<ModelVersion>;
}

/**
 * One registry: the three stores of one backend, opened together, plus where they live and how
 * to close them. It is also a `TrackingStore` and a `ModelRegistryStore` (each method goes to
 * the store that owns it), so `store.createRun(...)` and `store.setAlias(...)` read naturally.
 * Every backend must pass `describeRegistryStoreConformance` (which runs the three suites) from
 * `@mlops/core/testing`.
 *
 * @example
 * const store: RegistryStore = await openStore("postgres://mlops@db/mlops");
 * const run = await store.createRun({ runName: "baseline" });
 * const version = await store.createModelVersion("wine", { artifact: bytes, runId: run.runId });
 * await store.setAlias("wine", "production", version.version, { reason: "gate passed" });
 * await store.close();
 */
export interface RegistryStore extends TrackingStore, ModelRegistryStore {
  readonly tracking: TrackingStore;
  readonly models: ModelRegistryStore;
  readonly artifacts: ArtifactStore;
  /**
   * The queue of distributed searches (`mlops-train --study`), where the backend has one: the
   * folder registry (processes on one machine) and PostgreSQL (any number of machines).
   */
  readonly studies?: StudyStore;
  /** Where the registry lives, safe to print: a folder path, or a URL without its password. */
  readonly location: string;
  /** Releases connections and watchers; the store is unusable afterwards. Safe to call twice. */
  close(): Promise<void>;
}
