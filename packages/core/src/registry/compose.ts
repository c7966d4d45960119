import type { StudyStore } from "./studies.js";
import type {
  AliasChangeOptions,
  AliasHistoryEntry,
  AliasWatchEvent,
  ArtifactInfo,
  ArtifactStore,
  CreateModelVersionOptions,
  CreateRegisteredModelOptions,
  CreateRunOptions,
  Experiment,
  ImportOutcome,
  Metric,
  MetricInput,
  ModelRegistryStore,
  ModelVersion,
  ModelVersionRecord,
  RegisteredModel,
  RegisteredModelRecord,
  RegistryStore,
  Run,
  RunRecord,
  SearchRunsOptions,
  StopWatching,
  TerminalRunStatus,
  TrackingStore,
} from "./types.js";

/** The parts `ComposedRegistryStore` puts together. */
export interface RegistryStoreParts {
  tracking: TrackingStore;
  models: ModelRegistryStore;
  artifacts: ArtifactStore;
  /** The queue of distributed searches, where the backend has one. */
  studies?: StudyStore;
  /** Where the registry lives, safe to print (no password). */
  location: string;
  /** Releases what the stores hold (connections, watchers); called once. */
  close?: () => Promise<void>;
}

/**
 * A `RegistryStore` made of a tracking store, a model-registry store and an artifact store:
 * each method goes to the store that owns it. Backends build theirs with it; a method added to
 * `TrackingStore` or `ModelRegistryStore` gets one delegating line here.
 *
 * @example
 * const store = new ComposedRegistryStore({ tracking, models, artifacts, location: "memory" });
 * await store.setAlias("wine", "production", 3); // models.setAlias
 */
export class ComposedRegistryStore implements RegistryStore {
  readonly tracking: TrackingStore;
  readonly models: ModelRegistryStore;
  readonly artifacts: ArtifactStore;
  readonly studies?: StudyStore;
  readonly location: string;
  readonly #close: (() => Promise<void>) | undefined;
  #closing: Promise<void> | undefined;

  constructor(parts: RegistryStoreParts) {
    this.tracking = parts.tracking;
    this.models = parts.models;
    this.artifacts = parts.artifacts;
    if (parts.studies !== undefined) this.studies = parts.studies;
    this.location = parts.location;
    this.#close = parts.close;
    // Only stores that can push alias moves offer watchAliases (callers test for it).
    if (typeof parts.models.watchAliases === "function") {
      const models = parts.models;
      this.watchAliases = (listener: (event: AliasWatchEvent) => void): Promise<StopWatching> =>
        models.watchAliases!(listener);
    }
    if (typeof parts.models.deleteModelVersion === "function") {
      const models = parts.models;
      this.deleteModelVersion = (name: string, version: number): Promise<ModelVersion> =>
        models.deleteModelVersion!(name, version);
    }
  }

  close(): Promise<void> {
    this.#closing ??= this.#close ? this.#close() : Promise.resolve();
    return this.#closing;
  }

  // ---------------------------------------------------------------- tracking

  createExperiment(name: string, options?: { tags?: Record<string, string> }): Promise<Experiment> {
    return this.tracking.createExperiment(name, options);
  }
  getExperiment(experimentId: string): Promise<Experiment> {
    return this.tracking.getExperiment(experimentId);
  }
  getExperimentByName(name: string): Promise<Experiment | undefined> {
    return this.tracking.getExperimentByName(name);
  }
  listExperiments(): Promise<Experiment[]> {
    return this.tracking.listExperiments();
  }
  createRun(options?: CreateRunOptions): Promise<Run> {
    return this.tracking.createRun(options);
  }
  getRun(runId: string): Promise<Run> {
    return this.tracking.getRun(runId);
  }
  logParams(runId: string, params: Record<string, string | number | boolean>): Promise<void> {
    return this.tracking.logParams(runId, params);
  }
  logMetrics(runId: string, metrics: MetricInput[]): Promise<void> {
    return this.tracking.logMetrics(runId, metrics);
  }
  getMetricHistory(runId: string, key: string): Promise<Metric[]> {
    return this.tracking.getMetricHistory(runId, key);
  }
  setTags(runId: string, tags: Record<string, string>): Promise<void> {
    return this.tracking.setTags(runId, tags);
  }
  endRun(runId: string, status?: TerminalRunStatus, endTime?: number): Promise<Run> {
    return this.tracking.endRun(runId, status, endTime);
  }
  logArtifact(runId: string, name: string, bytes: Uint8Array): Promise<ArtifactInfo> {
    return this.tracking.logArtifact(runId, name, bytes);
  }
  listArtifacts(runId: string): Promise<ArtifactInfo[]> {
    return this.tracking.listArtifacts(runId);
  }
  readArtifact(runId: string, name: string): Promise<Uint8Array> {
    return this.tracking.readArtifact(runId, name);
  }
  searchRuns(options?: SearchRunsOptions): Promise<Run[]> {
    return this.tracking.searchRuns(options);
  }
  importRun(record: RunRecord): Promise<ImportOutcome> {
    return this.tracking.importRun(record);
  }

  // ---------------------------------------------------------------- model registry

  createRegisteredModel(
    name: string,
    options?: CreateRegisteredModelOptions,
  ): Promise<RegisteredModel> {
    return this.models.createRegisteredModel(name, options);
  }
  getRegisteredModel(name: string): Promise<RegisteredModel> {
    return this.models.getRegisteredModel(name);
  }
  listRegisteredModels(): Promise<RegisteredModel[]> {
    return this.models.listRegisteredModels();
  }
  createModelVersion(name: string, options: CreateModelVersionOptions): Promise<ModelVersion> {
    return this.models.createModelVersion(name, options);
  }
  getModelVersion(name: string, version: number): Promise<ModelVersion> {
    return this.models.getModelVersion(name, version);
  }
  getLatestModelVersion(name: string): Promise<ModelVersion> {
    return this.models.getLatestModelVersion(name);
  }
  listModelVersions(name: string): Promise<ModelVersion[]> {
    return this.models.listModelVersions(name);
  }
  readModelArtifact(name: string, version: number): Promise<Uint8Array> {
    return this.models.readModelArtifact(name, version);
  }
  setAlias(
    name: string,
    alias: string,
    version: number,
    options?: AliasChangeOptions,
  ): Promise<AliasHistoryEntry> {
    return this.models.setAlias(name, alias, version, options);
  }
  deleteAlias(
    name: string,
    alias: string,
    options?: AliasChangeOptions,
  ): Promise<AliasHistoryEntry> {
    return this.models.deleteAlias(name, alias, options);
  }
  getAlias(name: string, alias: string): Promise<number> {
    return this.models.getAlias(name, alias);
  }
  listAliases(name: string): Promise<Record<string, number>> {
    return this.models.listAliases(name);
  }
  getAliasHistory(name: string, options?: { alias?: string }): Promise<AliasHistoryEntry[]> {
    return this.models.getAliasHistory(name, options);
  }
  importRegisteredModel(model: RegisteredModelRecord): Promise<ImportOutcome> {
    return this.models.importRegisteredModel(model);
  }
  importModelVersion(version: ModelVersionRecord): Promise<ImportOutcome> {
    return this.models.importModelVersion(version);
  }
  importAliasHistory(name: string, history: AliasHistoryEntry[]): Promise<ImportOutcome> {
    return this.models.importAliasHistory(name, history);
  }
  watchAliases?: (listener: (event: AliasWatchEvent) => void) => Promise<StopWatching>;
  deleteModelVersion?: (name: string, version: number) => Promise<ModelVersion>;
}
