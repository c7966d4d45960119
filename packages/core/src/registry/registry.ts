import { decodeArtifact, encodeArtifact } from "../artifact/codec.js";
import type { ModelArtifact } from "../artifact/types.js";
import { MlopsError } from "../errors/error.js";
import type { Frame } from "../frame/frame.js";
import type { TrainingProfile } from "../profile/types.js";
import type { Schema } from "../schema/schema.js";
import { defaultRegistryPath } from "./actor.js";
import { type OpenStoreOptions, openStore } from "./backends.js";
import { sha256Hex } from "./common.js";
import {
  type DatasetInput,
  type DatasetSummary,
  type LogDatasetOptions,
  listDatasets,
  logDataset,
  readDataset,
  readRowHashes,
} from "./datasets.js";
import { validateModelName } from "./names.js";
import type {
  AliasChangeOptions,
  AliasHistoryEntry,
  MetricInput,
  ModelVersion,
  RegistryStore,
  Run,
  TerminalRunStatus,
} from "./types.js";
import { type ModelUri, parseModelUri, resolveModelUri } from "./uri.js";

export interface RegisterModelOptions {
  runId?: string;
  /**
   * The datasets of the model's run (training data, the hold-out it was evaluated on), kept in
   * the version's metadata (`summarizeDatasets(await registry.listDatasets(runId))`).
   */
  datasets?: DatasetSummary[];
  description?: string;
  tags?: Record<string, string>;
  /** Point these aliases at the new version (each move recorded in the alias history). */
  aliases?: string[];
  /** Why, for the alias history. */
  reason?: string;
  actor?: string;
  /**
   * A training profile to store in the artifact (`profileFrame(trainingData, schema)`), for an
   * artifact made without one; it replaces the artifact's own profile when both exist.
   */
  profile?: TrainingProfile;
}

function withProfile(artifact: ModelArtifact, profile: TrainingProfile | undefined): ModelArtifact {
  return profile === undefined
    ? artifact
    : { manifest: { ...artifact.manifest, profile }, arrays: artifact.arrays };
}

export interface StartRunOptions {
  /** Experiment name; created when it does not exist (default: the "Default" experiment). */
  experiment?: string;
  runName?: string;
  parentRunId?: string;
  tags?: Record<string, string>;
  params?: Record<string, string | number | boolean>;
}

/** A loaded model version: its registry entry and its verified artifact. */
export interface LoadedModel {
  version: ModelVersion;
  artifact: ModelArtifact;
}

/**
 * The digest of what a model is — its manifest and arrays — leaving out the lineage that differs
 * between two fits of the same model on the same data (`createdAt`, `runId`, `gitCommit`,
 * `sdkVersion`). Two artifacts with the same model digest predict the same, declare the same
 * schema and carry the same metrics; the artifact's own digest (of its bytes) differs whenever
 * it was made at another time. `registerModel` keeps it in the version's metadata
 * (`metadata.modelDigest`), and `findIdentical` looks for it.
 *
 * @example
 * modelDigest(artifact); // "sha256:9f2c…"
 */
export function modelDigest(artifact: ModelArtifact): string {
  const {
    createdAt: _createdAt,
    runId: _runId,
    gitCommit: _gitCommit,
    ...lineage
  } = artifact.manifest.lineage;
  const stable: ModelArtifact = {
    manifest: {
      ...artifact.manifest,
      lineage: { ...lineage, createdAt: "1970-01-01T00:00:00.000Z", sdkVersion: "-" },
    },
    arrays: artifact.arrays,
  };
  return `sha256:${sha256Hex(encodeArtifact(stable))}`;
}

/**
 * The model registry and run tracking over any `RegistryStore`: registers artifacts as
 * immutable versions, loads them by `models:/` URI (verifying the digest), moves aliases and
 * tracks runs. The store does the storing; this adds the artifact format on top.
 *
 * @example
 * const registry = await openRegistry(); // ./.mlops, or $MLOPS_REGISTRY
 * const version = await registry.registerModel("wine", artifact, { aliases: ["staging"] });
 * const { artifact: loaded } = await registry.loadModel("models:/wine@staging");
 */
export class Registry {
  constructor(readonly store: RegistryStore) {}

  /** Where the registry lives, safe to print (a URL's password is hidden). */
  get location(): string {
    return this.store.location;
  }

  /** Releases the store's connections and watchers (a folder holds none). */
  close(): Promise<void> {
    return this.store.close();
  }

  /**
   * Encodes `artifact` and stores it as the next version of `name` (creating the model on first
   * use); the version's metadata keeps a summary (kind, metrics, params, lineage, features) so
   * listings need not read the artifact.
   */
  async registerModel(
    name: string,
    artifact: ModelArtifact,
    options: RegisterModelOptions = {},
  ): Promise<ModelVersion> {
    validateModelName(name);
    const stored = withProfile(artifact, options.profile);
    const { manifest } = stored;
    const version = await this.store.createModelVersion(name, {
      artifact: encodeArtifact(stored),
      runId: options.runId ?? manifest.lineage.runId,
      description: options.description,
      tags: options.tags,
      metadata: {
        format: manifest.format,
        kind: manifest.kind,
        metrics: manifest.metrics,
        params: manifest.params,
        lineage: manifest.lineage,
        features: Object.keys(manifest.schema.fields).filter((f) => f !== manifest.schema.target),
        target: manifest.schema.target ?? null,
        profiled: manifest.profile !== undefined,
        modelDigest: modelDigest(stored),
        ...(options.datasets === undefined ? {} : { datasets: options.datasets }),
      },
    });
    for (const alias of options.aliases ?? []) {
      await this.store.setAlias(name, alias, version.version, {
        actor: options.actor,
        reason: options.reason ?? `registered version ${version.version}`,
      });
    }
    return options.aliases?.length ? this.store.getModelVersion(name, version.version) : version;
  }

  /**
   * The newest version of `name` that holds the same model as `artifact` (the same
   * `modelDigest`: rerunning a seeded training on the same data makes one), or undefined when
   * there is none or no model `name` yet. Use it before `registerModel` to avoid registering a
   * copy as a new version. `profile` is the one you would pass to `registerModel`.
   *
   * @example
   * const same = await registry.findIdentical("wine", artifact);
   * if (same) console.log(`identical to models:/wine/${same.version}: not registered again`);
   */
  async findIdentical(
    name: string,
    artifact: ModelArtifact,
    options: { profile?: TrainingProfile } = {},
  ): Promise<ModelVersion | undefined> {
    const digest = modelDigest(withProfile(artifact, options.profile));
    let versions: ModelVersion[];
    try {
      versions = await this.store.listModelVersions(name);
    } catch (error) {
      if (MlopsError.isInstance(error) && error.code === "registry_not_found") return undefined;
      throw error;
    }
    for (const version of versions.reverse()) {
      let known = version.metadata.modelDigest;
      if (typeof known !== "string") {
        // Registered before versions kept their model digest: read the artifact once.
        const bytes = await this.store.readModelArtifact(name, version.version);
        known = modelDigest(
          decodeArtifact(bytes, { source: `models:/${name}/${version.version}` }),
        );
      }
      if (known === digest) return version;
    }
    return undefined;
  }

  /** The version a `models:/name/3`, `models:/name@alias` or `models:/name/latest` URI names. */
  resolve(uri: string | ModelUri): Promise<ModelVersion> {
    return resolveModelUri(this.store, typeof uri === "string" ? parseModelUri(uri) : uri);
  }

  /** Resolves `uri`, reads the artifact (sha256 verified) and decodes it. */
  async loadModel(uri: string | ModelUri): Promise<LoadedModel> {
    const version = await this.resolve(uri);
    const bytes = await this.store.readModelArtifact(version.name, version.version);
    const artifact = decodeArtifact(bytes, {
      source: `models:/${version.name}/${version.version}`,
    });
    return { version, artifact };
  }

  /** Points `alias` at `version`; the move is appended to the alias history. */
  setAlias(
    name: string,
    alias: string,
    version: number,
    options: AliasChangeOptions = {},
  ): Promise<AliasHistoryEntry> {
    return this.store.setAlias(name, alias, version, options);
  }

  aliasHistory(name: string, options: { alias?: string } = {}): Promise<AliasHistoryEntry[]> {
    return this.store.getAliasHistory(name, options);
  }

  /**
   * Logs a dataset as an input of a run, as MLflow's `log_input` does: its rows stored with the
   * run (or where it lives), digest, size, context and, with `rowHashes`, fingerprints of its
   * rows. `mlops-train` logs its training data and its hold-out set; the gate finds them.
   *
   * @example
   * await registry.logDataset(run.runId, { name: "holdout", context: "evaluation", frame });
   */
  logDataset(runId: string, options: LogDatasetOptions): Promise<DatasetInput> {
    return logDataset(this.store, runId, options);
  }

  /** The datasets logged as inputs of a run, by name. */
  listDatasets(runId: string): Promise<DatasetInput[]> {
    return listDatasets(this.store, runId);
  }

  /** The rows of a dataset stored with its run, validated with `schema` when given. */
  readDataset(input: DatasetInput, schema?: Schema): Promise<Frame> {
    return readDataset(this.store, input, schema);
  }

  /** The row fingerprints logged with a dataset of run `runId`, or undefined. */
  readRowHashes(runId: string, input: DatasetInput): Promise<Float64Array | undefined> {
    return readRowHashes(this.store, runId, input);
  }

  /** Starts a run in the named experiment (created on first use) and logs its params. */
  async startRun(options: StartRunOptions = {}): Promise<Run> {
    let experimentId: string | undefined;
    if (options.experiment !== undefined) {
      const existing = await this.store.getExperimentByName(options.experiment);
      experimentId = existing
        ? existing.experimentId
        : (await this.createExperimentOnce(options.experiment)).experimentId;
    }
    const run = await this.store.createRun({
      experimentId,
      runName: options.runName,
      parentRunId: options.parentRunId,
      tags: options.tags,
    });
    if (options.params && Object.keys(options.params).length > 0) {
      await this.store.logParams(run.runId, options.params);
    }
    return this.store.getRun(run.runId);
  }

  /** Logs metrics at `step` (default 0) with the current time. */
  logMetrics(runId: string, values: Record<string, number>, step = 0): Promise<void> {
    const timestamp = Date.now();
    const metrics: MetricInput[] = Object.entries(values).map(([key, value]) => ({
      key,
      value,
      timestamp,
      step,
    }));
    return this.store.logMetrics(runId, metrics);
  }

  endRun(runId: string, status: TerminalRunStatus = "FINISHED"): Promise<Run> {
    return this.store.endRun(runId, status);
  }

  /**
   * Runs `body` inside a run: FINISHED when it resolves, FAILED (and rethrown) when it throws.
   *
   * @example
   * await registry.withRun({ experiment: "wine" }, async (run) => {
   *   await registry.logMetrics(run.runId, { rmse: 0.71 });
   * });
   */
  async withRun<T>(options: StartRunOptions, body: (run: Run) => Promise<T>): Promise<T> {
    const run = await this.startRun(options);
    try {
      const result = await body(run);
      await this.endRun(run.runId, "FINISHED");
      return result;
    } catch (error) {
      await this.endRun(run.runId, "FAILED").catch(() => {});
      throw error;
    }
  }

  private async createExperimentOnce(name: string) {
    try {
      return await this.store.createExperiment(name);
    } catch (error) {
      // Another process created it in between: use theirs.
      const existing = await this.store.getExperimentByName(name);
      if (existing) return existing;
      throw error;
    }
  }
}

/**
 * Opens the registry at `location` (default `$MLOPS_REGISTRY`, else `./.mlops`): a folder,
 * created when absent, or a URL whose scheme picks the backend (`postgres://…` needs
 * `@mlops/postgres`). Close it when done (`registry.close()`): a PostgreSQL registry holds
 * connections.
 *
 * @example
 * const registry = await openRegistry("./.mlops");
 * const team = await openRegistry("postgres://mlops@db.internal/mlops");
 */
export async function openRegistry(
  location: string = defaultRegistryPath(),
  options: OpenStoreOptions = {},
): Promise<Registry> {
  return new Registry(await openStore(location, options));
}
