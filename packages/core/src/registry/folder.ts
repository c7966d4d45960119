/**
 * The embedded registry store: a folder on disk, no server. Safe for many processes on one
 * machine (or a shared volume with working hard links and fsync) at once.
 *
 * Layout (format "mlops.registry/v1"):
 *
 *   <root>/registry.json                  format marker: {"format": "mlops.registry/v1", ...}
 *   <root>/blobs/sha256/<ab>/<hex>        artifact bytes, content-addressed: written once, shared
 *   <root>/experiments/<id>.json          an Experiment (id "0", "Default", is implicit)
 *   <root>/experiments/.lock              guards experiment id allocation and name uniqueness
 *   <root>/runs/<runId>/run.json          a run: attributes, params, tags, latest metrics and the
 *                                         byte offset of metrics.jsonl they summarise
 *   <root>/runs/<runId>/metrics.jsonl     every metric logged, one JSON line each, append-only
 *   <root>/runs/<runId>/artifacts/<name>  pointer to a blob: {"name", "digest", "sizeBytes"}
 *   <root>/runs/<runId>/.lock             guards run.json updates and metric appends
 *   <root>/models/<name>/model.json       a RegisteredModel (name, description, tags, createdAt)
 *   <root>/models/<name>/versions/<n>.json  a ModelVersion, immutable once written
 *   <root>/models/<name>/alias-history.jsonl  every alias move, append-only; the current aliases
 *                                         are its fold, so a move is one durable append
 *   <root>/models/<name>/.lock            guards version allocation and alias moves
 *
 * Safety rules:
 * - Every file is replaced atomically (temp file in the same directory, fsync, rename, fsync the
 *   directory) or appended as whole JSON lines with fsync. Names starting with "." are never
 *   entities: orphan temp files and lock files are invisible to listings.
 * - Writers that read-modify-write take the lock of what they change (see lock.ts); readers never
 *   lock: they see a file before or after a rename, and ignore a torn last JSON line (a writer
 *   killed mid-append). The next writer under the lock cuts the torn line off before appending.
 * - A version's blob is written before its version file, so a visible version always has its
 *   bytes; a failed or killed write leaves no version file.
 * - Every name is validated before anything touches the disk.
 */
import { createHash, randomBytes, randomInt } from "node:crypto";
import { open, readdir, unlink } from "node:fs/promises";
import { join } from "node:path";
import { MlopsError } from "../errors/error.js";
import { currentActor, defaultRegistryPath } from "./actor.js";
import {
  appendLines,
  ensureDirectory,
  fileError,
  isErrno,
  parseJsonLines,
  parseStoredJson,
  readIfExists,
  readJsonIfExists,
  writeFileAtomic,
} from "./files.js";
import { compareRunsBy, matchesRunFilter, prepareRunSearch } from "./filter.js";
import { withLock } from "./lock.js";
import {
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
} from "./names.js";
import {
  type AliasChangeOptions,
  type AliasHistoryEntry,
  type ArtifactInfo,
  type CreateModelVersionOptions,
  type CreateRegisteredModelOptions,
  type CreateRunOptions,
  DEFAULT_EXPERIMENT_ID,
  DEFAULT_EXPERIMENT_NAME,
  type Experiment,
  type Metric,
  type MetricInput,
  type ModelVersion,
  type RegisteredModel,
  type RegistryStore,
  RUN_STATUSES,
  type Run,
  type RunStatus,
  type SearchRunsOptions,
  type TerminalRunStatus,
} from "./types.js";

/** The format marker written to `registry.json`. */
export const FOLDER_REGISTRY_FORMAT = "mlops.registry/v1";

/**
 * Points in a write where a test can stop the process (internal test seam): right after a lock
 * is taken, after a version's temporary file is flushed but before it is renamed into place, and
 * halfway through appending an alias-history line.
 */
export type FolderStorePhase =
  | "lock-acquired"
  | "version-temp-written"
  | "alias-history-mid-append";

/**
 * Options of `FolderStore`.
 *
 * @example
 * const store = await openFolderStore("/srv/registry", { lockTimeoutMs: 5_000 });
 */
export interface FolderStoreOptions {
  /** How long a writer waits for a lock before `registry_lock_timeout` (default 30 000 ms). */
  lockTimeoutMs?: number;
  /** A lock older than this is stale, whoever holds it (default 20 000 ms). */
  lockStaleMs?: number;
  /**
   * @internal Test seam: awaited at each `FolderStorePhase` of a write, so a crash test can kill
   * the process at that exact point. Never set it in production code.
   */
  pauseAt?: (phase: FolderStorePhase, subject: string) => Promise<void> | void;
}

interface Marker {
  format: string;
  createdAt: number;
}

interface StoredRun {
  runId: string;
  experimentId: string;
  runName: string;
  status: RunStatus;
  startTime: number;
  endTime?: number;
  parentRunId?: string;
  params: Record<string, string>;
  tags: Record<string, string>;
  latestMetrics: Record<string, Metric>;
  /** Byte length of metrics.jsonl already folded into `latestMetrics`. */
  metricsOffset: number;
}

interface StoredModel {
  name: string;
  description: string;
  tags: Record<string, string>;
  createdAt: number;
}

type StoredVersion = Omit<ModelVersion, "aliases">;

const ADJECTIVES = ["amber", "bold", "brisk", "calm", "clever", "crisp", "eager", "gentle"];
const NOUNS = ["badger", "falcon", "heron", "lynx", "otter", "panda", "quail", "wren"];

/** A readable default run name, as MLflow gives one: `bold-heron-417`. */
function generateRunName(): string {
  const adjective = ADJECTIVES[randomInt(ADJECTIVES.length)];
  return `${adjective}-${NOUNS[randomInt(NOUNS.length)]}-${randomInt(1000)}`;
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function listText(items: readonly (string | number)[], limit = 20): string {
  const shown = items.slice(0, limit).join(", ");
  return items.length > limit ? `${shown} … and ${items.length - limit} more` : shown;
}

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

function isNewer(candidate: Metric, current: Metric | undefined): boolean {
  if (!current) return true;
  if (candidate.step !== current.step) return candidate.step > current.step;
  if (candidate.timestamp !== current.timestamp) return candidate.timestamp > current.timestamp;
  return candidate.value >= current.value;
}

function toRun(record: StoredRun, latest: Record<string, Metric>): Run {
  const metrics: Record<string, number> = {};
  for (const key of Object.keys(latest).sort()) metrics[key] = latest[key].value;
  return {
    runId: record.runId,
    experimentId: record.experimentId,
    runName: record.runName,
    status: record.status,
    startTime: record.startTime,
    ...(record.endTime === undefined ? {} : { endTime: record.endTime }),
    ...(record.parentRunId === undefined ? {} : { parentRunId: record.parentRunId }),
    params: { ...record.params },
    metrics,
    tags: { ...record.tags },
  };
}

function foldAliases(history: readonly AliasHistoryEntry[]): Record<string, number> {
  const current = new Map<string, number>();
  for (const entry of history) {
    if (entry.toVersion === null) current.delete(entry.alias);
    else current.set(entry.alias, entry.toVersion);
  }
  const aliases: Record<string, number> = {};
  for (const alias of [...current.keys()].sort()) aliases[alias] = current.get(alias)!;
  return aliases;
}

function checkBytes(what: string, value: unknown): Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new MlopsError("argument_invalid", `${what}: expected a Uint8Array of bytes`);
  }
  return value;
}

function checkActor(options: AliasChangeOptions): { actor: string; reason: string | null } {
  let actor = currentActor();
  if (options.actor !== undefined) {
    actor = validateText("actor", options.actor, 255).trim();
    if (actor === "") throw new MlopsError("argument_invalid", "actor: expected a non-empty name");
  }
  const reason = options.reason === undefined ? null : validateText("reason", options.reason, 2000);
  return { actor, reason };
}

/**
 * The embedded registry store: experiments, runs, registered models, versions and aliases kept in
 * a folder (see the layout at the top of this file). Safe for concurrent processes.
 *
 * @example
 * const store = new FolderStore("./.mlops");
 * const version = await store.createModelVersion("wine", { artifact: bytes });
 * await store.setAlias("wine", "production", version.version, { reason: "first model" });
 */
export class FolderStore implements RegistryStore {
  /** The registry folder (absolute or as given). */
  readonly root: string;
  private readonly lockTimeoutMs: number;
  private readonly lockStaleMs: number;
  private readonly pauseAt: FolderStoreOptions["pauseAt"];
  private marker: Marker | undefined;

  constructor(root: string, options: FolderStoreOptions = {}) {
    if (typeof root !== "string" || root === "") {
      throw new MlopsError("argument_invalid", "FolderStore: expected the registry folder path");
    }
    this.root = root;
    this.lockTimeoutMs = options.lockTimeoutMs ?? 30_000;
    this.lockStaleMs = options.lockStaleMs ?? 20_000;
    this.pauseAt = options.pauseAt;
  }

  // ---------------------------------------------------------------- paths, root, locks, blobs

  private path(...parts: string[]): string {
    return join(this.root, ...parts);
  }

  private modelPath(name: string, ...parts: string[]): string {
    return this.path("models", name, ...parts);
  }

  private runPath(runId: string, ...parts: string[]): string {
    return this.path("runs", runId, ...parts);
  }

  private blobPath(hex: string): string {
    return this.path("blobs", "sha256", hex.slice(0, 2), hex);
  }

  /** Creates the folder and its format marker, or checks that an existing folder is a registry. */
  async ensureRoot(): Promise<void> {
    if (this.marker) return;
    const markerPath = this.path("registry.json");
    let marker = await readJsonIfExists<Marker>(markerPath);
    if (!marker) {
      let entries: string[] = [];
      try {
        entries = await readdir(this.root);
      } catch (error) {
        if (!isErrno(error, "ENOENT")) throw fileError("read", this.root, error);
      }
      // registry.json itself may have just been written by another process opening the folder.
      const foreign = entries.filter(
        (entry) => !entry.startsWith(".") && entry !== "registry.json",
      );
      if (foreign.length > 0) {
        throw new MlopsError(
          "registry_not_found",
          `${this.root} is not an @mlops registry: it holds ${listText(foreign, 5)} but no ` +
            "registry.json; point MLOPS_REGISTRY at a new or empty folder",
          { location: { file: this.root } },
        );
      }
      await ensureDirectory(this.root);
      const fresh: Marker = { format: FOLDER_REGISTRY_FORMAT, createdAt: Date.now() };
      if ((await readIfExists(markerPath)) === undefined) {
        await writeFileAtomic(markerPath, json(fresh));
      }
      // Processes opening a new folder at once converge on whichever marker landed last.
      marker = (await readJsonIfExists<Marker>(markerPath)) ?? fresh;
    }
    if (marker.format !== FOLDER_REGISTRY_FORMAT) {
      throw new MlopsError(
        "registry_corrupt",
        `${markerPath}: format ${JSON.stringify(marker.format)} is not supported ` +
          `(expected ${FOLDER_REGISTRY_FORMAT})`,
        { location: { file: markerPath } },
      );
    }
    this.marker = marker;
  }

  private lock<T>(lockPath: string, subject: string, work: () => Promise<T>): Promise<T> {
    const pauseAt = this.pauseAt;
    return withLock(
      lockPath,
      subject,
      {
        timeoutMs: this.lockTimeoutMs,
        staleMs: this.lockStaleMs,
        onAcquired: pauseAt ? () => pauseAt("lock-acquired", subject) : undefined,
      },
      work,
    );
  }

  /** Stores bytes by content; the same bytes are stored once. Returns `sha256:<hex>`. */
  private async writeBlob(bytes: Uint8Array): Promise<string> {
    const hex = sha256(bytes);
    const path = this.blobPath(hex);
    const existing = await readIfExists(path).catch(() => undefined);
    // Rewrite a blob that exists but is damaged, so registering the bytes again repairs it.
    if (existing === undefined || sha256(existing) !== hex) {
      await ensureDirectory(this.path("blobs", "sha256", hex.slice(0, 2)));
      await writeFileAtomic(path, bytes);
    }
    return `sha256:${hex}`;
  }

  /** Reads a blob and checks it against `digest`; `what` names its owner in errors. */
  private async readBlob(digest: string, what: string): Promise<Uint8Array> {
    const hex = digest.replace(/^sha256:/, "");
    const path = this.blobPath(hex);
    if (!/^[0-9a-f]{64}$/.test(hex)) {
      throw new MlopsError("registry_corrupt", `${what}: digest ${digest} is not sha256:<hex>`);
    }
    const bytes = await readIfExists(path);
    if (bytes === undefined) {
      throw new MlopsError("artifact_corrupt", `${what}: artifact file ${path} is missing`, {
        location: { file: path },
      });
    }
    const actual = sha256(bytes);
    if (actual !== hex) {
      throw new MlopsError(
        "artifact_corrupt",
        `${what}: artifact file ${path} is corrupt: expected ${digest}, got sha256:${actual}`,
        { location: { file: path } },
      );
    }
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private async listDirectory(path: string): Promise<string[]> {
    try {
      return (await readdir(path)).filter((entry) => !entry.startsWith(".")).sort();
    } catch (error) {
      if (isErrno(error, "ENOENT", "ENOTDIR")) return [];
      throw fileError("read", path, error);
    }
  }

  // ---------------------------------------------------------------- experiments

  private defaultExperiment(): Experiment {
    return {
      experimentId: DEFAULT_EXPERIMENT_ID,
      name: DEFAULT_EXPERIMENT_NAME,
      tags: {},
      createdAt: this.marker?.createdAt ?? 0,
    };
  }

  private async readMarker(): Promise<void> {
    if (this.marker) return;
    const marker = await readJsonIfExists<Marker>(this.path("registry.json"));
    if (marker?.format === FOLDER_REGISTRY_FORMAT) this.marker = marker;
  }

  async createExperiment(
    name: string,
    options: { tags?: Record<string, string> } = {},
  ): Promise<Experiment> {
    validateName("experiment name", name);
    const tags = validateTags(options.tags, "experiment tags");
    await this.ensureRoot();
    await ensureDirectory(this.path("experiments"));
    return this.lock(this.path("experiments", ".lock"), "experiments", async () => {
      const existing = await this.listExperiments();
      const same = existing.find((experiment) => experiment.name === name);
      if (same) {
        throw new MlopsError(
          "registry_conflict",
          `experiment "${name}" already exists (id ${same.experimentId})`,
        );
      }
      const next =
        Math.max(0, ...existing.map((experiment) => Number(experiment.experimentId))) + 1;
      const experiment: Experiment = {
        experimentId: String(next),
        name,
        tags,
        createdAt: Date.now(),
      };
      await writeFileAtomic(this.path("experiments", `${next}.json`), json(experiment));
      return experiment;
    });
  }

  async getExperiment(experimentId: string): Promise<Experiment> {
    validateId("experiment id", experimentId);
    await this.readMarker();
    if (experimentId === DEFAULT_EXPERIMENT_ID) return this.defaultExperiment();
    const experiment = await readJsonIfExists<Experiment>(
      this.path("experiments", `${experimentId}.json`),
    );
    if (!experiment) {
      const ids = (await this.listExperiments()).map(
        (item) => `${item.experimentId} (${item.name})`,
      );
      throw new MlopsError(
        "registry_not_found",
        `experiment ${experimentId} not found in ${this.root}; experiments: ${listText(ids)}`,
      );
    }
    return experiment;
  }

  async getExperimentByName(name: string): Promise<Experiment | undefined> {
    validateName("experiment name", name);
    return (await this.listExperiments()).find((experiment) => experiment.name === name);
  }

  async listExperiments(): Promise<Experiment[]> {
    await this.readMarker();
    const files = (await this.listDirectory(this.path("experiments"))).filter((file) =>
      /^\d+\.json$/.test(file),
    );
    const experiments = await Promise.all(
      files.map(async (file) => {
        const path = this.path("experiments", file);
        const bytes = await readIfExists(path);
        return bytes === undefined ? undefined : parseStoredJson<Experiment>(path, bytes);
      }),
    );
    return [this.defaultExperiment(), ...experiments.filter((item) => item !== undefined)].sort(
      (a, b) => Number(a.experimentId) - Number(b.experimentId),
    );
  }

  // ---------------------------------------------------------------- runs

  private async readStoredRun(runId: string): Promise<StoredRun> {
    validateId("run id", runId);
    const record = await readJsonIfExists<StoredRun>(this.runPath(runId, "run.json"));
    if (!record) {
      throw new MlopsError("registry_not_found", `run ${runId} not found in ${this.root}`);
    }
    return record;
  }

  /** The run's latest metrics: its snapshot plus any complete lines appended after it. */
  private async latestMetrics(record: StoredRun): Promise<Record<string, Metric>> {
    const latest = { ...record.latestMetrics };
    const path = this.runPath(record.runId, "metrics.jsonl");
    let handle: Awaited<ReturnType<typeof open>> | undefined;
    try {
      handle = await open(path, "r");
      const { size } = await handle.stat();
      if (size > record.metricsOffset) {
        const tail = Buffer.alloc(size - record.metricsOffset);
        await handle.read(tail, 0, tail.length, record.metricsOffset);
        for (const metric of parseJsonLines<Metric>(path, tail)) {
          if (isNewer(metric, latest[metric.key])) latest[metric.key] = metric;
        }
      }
    } catch (error) {
      if (!isErrno(error, "ENOENT")) throw fileError("read", path, error);
    } finally {
      await handle?.close().catch(() => {});
    }
    return latest;
  }

  private async updateRun(
    runId: string,
    change: (record: StoredRun, latest: Record<string, Metric>) => Promise<void> | void,
  ): Promise<Run> {
    await this.readStoredRun(runId);
    return this.lock(this.runPath(runId, ".lock"), `run ${runId}`, async () => {
      const record = await this.readStoredRun(runId);
      const latest = await this.latestMetrics(record);
      await change(record, latest);
      record.latestMetrics = latest;
      await writeFileAtomic(this.runPath(runId, "run.json"), json(record));
      return toRun(record, latest);
    });
  }

  async createRun(options: CreateRunOptions = {}): Promise<Run> {
    const experimentId = validateId("experiment id", options.experimentId ?? DEFAULT_EXPERIMENT_ID);
    const tags = validateTags(options.tags, "run tags");
    const startTime = validateTime("startTime", options.startTime ?? Date.now());
    const runName =
      options.runName === undefined
        ? generateRunName()
        : validateText("runName", options.runName, 250);
    if (options.parentRunId !== undefined) validateId("parent run id", options.parentRunId);
    await this.getExperiment(experimentId);
    if (options.parentRunId !== undefined) await this.readStoredRun(options.parentRunId);
    await this.ensureRoot();
    const runId = randomBytes(16).toString("hex");
    const record: StoredRun = {
      runId,
      experimentId,
      runName,
      status: "RUNNING",
      startTime,
      ...(options.parentRunId === undefined ? {} : { parentRunId: options.parentRunId }),
      params: {},
      tags,
      latestMetrics: {},
      metricsOffset: 0,
    };
    await ensureDirectory(this.runPath(runId));
    await writeFileAtomic(this.runPath(runId, "run.json"), json(record));
    return toRun(record, {});
  }

  async getRun(runId: string): Promise<Run> {
    const record = await this.readStoredRun(runId);
    return toRun(record, await this.latestMetrics(record));
  }

  async logParams(runId: string, params: Record<string, string | number | boolean>): Promise<void> {
    const values = validateParams(params);
    await this.updateRun(runId, (record) => {
      for (const [key, value] of Object.entries(values)) {
        const old = Object.hasOwn(record.params, key) ? record.params[key] : undefined;
        if (old !== undefined && old !== value) {
          throw new MlopsError(
            "registry_conflict",
            `run ${runId}: param "${key}" is already ${JSON.stringify(old)}; params are ` +
              `immutable, cannot change it to ${JSON.stringify(value)} (log a new run instead)`,
          );
        }
      }
      Object.assign(record.params, values);
    });
  }

  async logMetrics(runId: string, metrics: MetricInput[]): Promise<void> {
    if (!Array.isArray(metrics)) {
      throw new MlopsError("argument_invalid", "metrics: expected an array of {key, value, step}");
    }
    const now = Date.now();
    const checked: Metric[] = metrics.map((metric, index) => {
      const where = `metrics[${index}]`;
      if (typeof metric !== "object" || metric === null) {
        throw new MlopsError(
          "argument_invalid",
          `${where}: expected {key, value, timestamp, step}`,
        );
      }
      const key = validateKey("metric key", metric.key);
      if (typeof metric.value !== "number" || !Number.isFinite(metric.value)) {
        throw new MlopsError(
          "argument_invalid",
          `${where} ("${key}"): expected a finite number, got ${String(metric.value)}`,
        );
      }
      const step = metric.step ?? 0;
      if (!Number.isSafeInteger(step)) {
        throw new MlopsError("argument_invalid", `${where} ("${key}"): step must be an integer`);
      }
      const timestamp = validateTime(`${where}.timestamp`, metric.timestamp ?? now);
      return { key, value: metric.value, timestamp, step };
    });
    if (checked.length === 0) return;
    await this.updateRun(runId, async (record, latest) => {
      record.metricsOffset = await appendLines(this.runPath(runId, "metrics.jsonl"), checked);
      for (const metric of checked) {
        if (isNewer(metric, latest[metric.key])) latest[metric.key] = metric;
      }
    });
  }

  async getMetricHistory(runId: string, key: string): Promise<Metric[]> {
    validateKey("metric key", key);
    await this.readStoredRun(runId);
    const path = this.runPath(runId, "metrics.jsonl");
    const bytes = await readIfExists(path);
    if (bytes === undefined) return [];
    return parseJsonLines<Metric>(path, bytes)
      .filter((metric) => metric.key === key)
      .sort((a, b) => a.step - b.step || a.timestamp - b.timestamp);
  }

  async setTags(runId: string, tags: Record<string, string>): Promise<void> {
    const values = validateTags(tags, "run tags");
    await this.updateRun(runId, (record) => {
      Object.assign(record.tags, values);
    });
  }

  async endRun(
    runId: string,
    status: TerminalRunStatus = "FINISHED",
    endTime?: number,
  ): Promise<Run> {
    if (!RUN_STATUSES.includes(status) || (status as RunStatus) === "RUNNING") {
      throw new MlopsError(
        "argument_invalid",
        `run status ${JSON.stringify(status)} is invalid: expected FINISHED, FAILED or KILLED`,
      );
    }
    const end = validateTime("endTime", endTime ?? Date.now());
    return this.updateRun(runId, (record) => {
      record.status = status;
      record.endTime = end;
    });
  }

  async logArtifact(runId: string, name: string, bytes: Uint8Array): Promise<ArtifactInfo> {
    validateId("run id", runId);
    validateName("artifact name", name);
    checkBytes(`artifact "${name}"`, bytes);
    await this.readStoredRun(runId);
    const digest = await this.writeBlob(bytes);
    const info: ArtifactInfo = { name, digest, sizeBytes: bytes.byteLength };
    await ensureDirectory(this.runPath(runId, "artifacts"));
    await writeFileAtomic(this.runPath(runId, "artifacts", name), json(info));
    return info;
  }

  async listArtifacts(runId: string): Promise<ArtifactInfo[]> {
    await this.readStoredRun(runId);
    const names = await this.listDirectory(this.runPath(runId, "artifacts"));
    const infos = await Promise.all(
      names.map((name) => readJsonIfExists<ArtifactInfo>(this.runPath(runId, "artifacts", name))),
    );
    return infos.filter((info) => info !== undefined);
  }

  async readArtifact(runId: string, name: string): Promise<Uint8Array> {
    validateId("run id", runId);
    validateName("artifact name", name);
    await this.readStoredRun(runId);
    const info = await readJsonIfExists<ArtifactInfo>(this.runPath(runId, "artifacts", name));
    if (!info) {
      const names = await this.listDirectory(this.runPath(runId, "artifacts"));
      throw new MlopsError(
        "registry_not_found",
        `run ${runId} has no artifact "${name}"; ` +
          `artifacts: ${names.length ? listText(names) : "none"}`,
      );
    }
    return this.readBlob(info.digest, `run ${runId} artifact "${name}"`);
  }

  async searchRuns(options: SearchRunsOptions = {}): Promise<Run[]> {
    const { clauses, order, maxResults } = prepareRunSearch(options);
    for (const id of options.experimentIds ?? []) validateId("experiment id", id);
    if (options.parentRunId !== undefined) validateId("parent run id", options.parentRunId);
    const experiments = options.experimentIds ? new Set(options.experimentIds) : undefined;
    const runIds = await this.listDirectory(this.path("runs"));
    const matches: Run[] = [];
    // Read in batches so a registry with many runs does not exhaust file descriptors.
    for (let start = 0; start < runIds.length; start += 64) {
      const batch = await Promise.all(
        runIds.slice(start, start + 64).map(async (runId) => {
          const record = await readJsonIfExists<StoredRun>(this.runPath(runId, "run.json"));
          if (!record) return undefined;
          if (experiments && !experiments.has(record.experimentId)) return undefined;
          if (options.parentRunId !== undefined && record.parentRunId !== options.parentRunId) {
            return undefined;
          }
          return toRun(record, await this.latestMetrics(record));
        }),
      );
      for (const run of batch) if (run && matchesRunFilter(run, clauses)) matches.push(run);
    }
    return matches.sort(compareRunsBy(order)).slice(0, maxResults);
  }

  // ---------------------------------------------------------------- registered models

  /** The stored model, or a `registry_not_found` error listing the models that exist. */
  private async readModel(name: string): Promise<StoredModel> {
    const model = await readJsonIfExists<StoredModel>(this.modelPath(name, "model.json"));
    // On a case-insensitive file system "Wine" finds the folder of "wine": not the same model.
    if (model && model.name === name) return model;
    const names = await this.modelNames();
    throw new MlopsError(
      "registry_not_found",
      `model "${name}" not found in ${this.root}; ` +
        (names.length ? `registered models: ${listText(names)}` : "no models are registered"),
    );
  }

  private async modelNames(): Promise<string[]> {
    return this.listDirectory(this.path("models"));
  }

  private async versionNumbers(name: string): Promise<number[]> {
    const files = await this.listDirectory(this.modelPath(name, "versions"));
    return files
      .filter((file) => /^[1-9]\d*\.json$/.test(file))
      .map((file) => Number(file.slice(0, -5)))
      .sort((a, b) => a - b);
  }

  private async readHistory(name: string): Promise<AliasHistoryEntry[]> {
    const path = this.modelPath(name, "alias-history.jsonl");
    const bytes = await readIfExists(path);
    return bytes === undefined ? [] : parseJsonLines<AliasHistoryEntry>(path, bytes);
  }

  private async toRegisteredModel(model: StoredModel): Promise<RegisteredModel> {
    const [versions, history] = await Promise.all([
      this.versionNumbers(model.name),
      this.readHistory(model.name),
    ]);
    const latest = versions.at(-1);
    return {
      name: model.name,
      description: model.description,
      tags: { ...model.tags },
      createdAt: model.createdAt,
      aliases: foldAliases(history),
      ...(latest === undefined ? {} : { latestVersion: latest }),
    };
  }

  /** Under the model lock: the model, created when missing (`created` says so). */
  private async createModelLocked(
    name: string,
    options: CreateRegisteredModelOptions,
    mustBeNew: boolean,
  ): Promise<{ model: StoredModel; created: boolean }> {
    const existing = await readJsonIfExists<StoredModel>(this.modelPath(name, "model.json"));
    if (existing && existing.name === name) {
      if (mustBeNew) {
        throw new MlopsError("registry_conflict", `model "${name}" already exists in ${this.root}`);
      }
      return { model: existing, created: false };
    }
    const clash = (await this.modelNames()).find(
      (other) => other !== name && other.toLowerCase() === name.toLowerCase(),
    );
    if (clash || existing) {
      throw new MlopsError(
        "registry_conflict",
        `model name "${name}" clashes with existing model "${clash ?? existing?.name}": names ` +
          "that differ only in case share a folder on case-insensitive file systems",
      );
    }
    const model: StoredModel = {
      name,
      description: options.description ?? "",
      tags: validateTags(options.tags, "model tags"),
      createdAt: Date.now(),
    };
    await writeFileAtomic(this.modelPath(name, "model.json"), json(model));
    return { model, created: true };
  }

  private checkModelOptions(options: CreateRegisteredModelOptions): void {
    if (options.description !== undefined) {
      validateText("description", options.description, 5000);
    }
    validateTags(options.tags, "model tags");
  }

  private async modelLock<T>(name: string, work: () => Promise<T>): Promise<T> {
    await this.ensureRoot();
    await ensureDirectory(this.modelPath(name));
    return this.lock(this.modelPath(name, ".lock"), `model "${name}"`, work);
  }

  async createRegisteredModel(
    name: string,
    options: CreateRegisteredModelOptions = {},
  ): Promise<RegisteredModel> {
    validateName("model name", name);
    this.checkModelOptions(options);
    const { model } = await this.modelLock(name, () => this.createModelLocked(name, options, true));
    return this.toRegisteredModel(model);
  }

  async getRegisteredModel(name: string): Promise<RegisteredModel> {
    validateName("model name", name);
    return this.toRegisteredModel(await this.readModel(name));
  }

  async listRegisteredModels(): Promise<RegisteredModel[]> {
    const models: RegisteredModel[] = [];
    for (const name of await this.modelNames()) {
      const model = await readJsonIfExists<StoredModel>(this.modelPath(name, "model.json"));
      if (model) models.push(await this.toRegisteredModel(model));
    }
    return models;
  }

  // ---------------------------------------------------------------- model versions

  private withAliases(version: StoredVersion, aliases: Record<string, number>): ModelVersion {
    const names = Object.keys(aliases).filter((alias) => aliases[alias] === version.version);
    return { ...version, aliases: names.sort() };
  }

  async createModelVersion(
    name: string,
    options: CreateModelVersionOptions,
  ): Promise<ModelVersion> {
    validateName("model name", name);
    if (typeof options !== "object" || options === null) {
      throw new MlopsError("argument_invalid", "createModelVersion: expected { artifact, ... }");
    }
    const artifact = checkBytes(`model "${name}" artifact`, options.artifact);
    const tags = validateTags(options.tags, "version tags");
    const metadata = options.metadata ?? {};
    validateJson(metadata, "metadata");
    if (typeof metadata !== "object" || Array.isArray(metadata) || metadata === null) {
      throw new MlopsError("argument_invalid", "metadata: expected a JSON object");
    }
    if (options.description !== undefined) {
      validateText("description", options.description, 5000);
    }
    if (options.runId !== undefined) {
      validateId("run id", options.runId);
      await this.readStoredRun(options.runId);
    }
    await this.ensureRoot();
    // The bytes go first, outside the lock: a version file is only ever written for stored bytes.
    const digest = await this.writeBlob(artifact);
    const version = await this.modelLock(name, async () => {
      const { created } = await this.createModelLocked(name, {}, false);
      try {
        await ensureDirectory(this.modelPath(name, "versions"));
        await this.removeOrphans(this.modelPath(name, "versions"));
        const next = ((await this.versionNumbers(name)).at(-1) ?? 0) + 1;
        const record: StoredVersion = {
          name,
          version: next,
          digest,
          sizeBytes: artifact.byteLength,
          ...(options.runId === undefined ? {} : { runId: options.runId }),
          ...(options.description === undefined ? {} : { description: options.description }),
          tags,
          metadata: JSON.parse(JSON.stringify(metadata)) as Record<string, unknown>,
          createdAt: Date.now(),
        };
        const pauseAt = this.pauseAt;
        await writeFileAtomic(this.modelPath(name, "versions", `${next}.json`), json(record), {
          beforeRename: pauseAt
            ? () => pauseAt("version-temp-written", `model "${name}"`)
            : undefined,
        });
        return record;
      } catch (error) {
        // Leave the registry as it was: a model created by this call goes again with its version.
        if (created) await unlink(this.modelPath(name, "model.json")).catch(() => {});
        throw error;
      }
    });
    return this.withAliases(version, {});
  }

  /** Deletes temporary files left by writers that died (only called under the model lock). */
  private async removeOrphans(directory: string): Promise<void> {
    let entries: string[] = [];
    try {
      entries = await readdir(directory);
    } catch {
      return;
    }
    await Promise.all(
      entries
        .filter((entry) => entry.startsWith(".") && entry.endsWith(".tmp"))
        .map((entry) => unlink(join(directory, entry)).catch(() => {})),
    );
  }

  private async readVersion(name: string, version: number): Promise<StoredVersion> {
    const record = await readJsonIfExists<StoredVersion>(
      this.modelPath(name, "versions", `${version}.json`),
    );
    if (record) return record;
    await this.readModel(name);
    const versions = await this.versionNumbers(name);
    const known =
      versions.length === 0 ? "it has no versions yet" : `versions: ${rangeText(versions)}`;
    throw new MlopsError(
      "registry_not_found",
      `model "${name}" has no version ${version}; ${known}`,
    );
  }

  async getModelVersion(name: string, version: number): Promise<ModelVersion> {
    validateName("model name", name);
    validateVersion(version);
    await this.readModel(name);
    const [record, history] = await Promise.all([
      this.readVersion(name, version),
      this.readHistory(name),
    ]);
    return this.withAliases(record, foldAliases(history));
  }

  async getLatestModelVersion(name: string): Promise<ModelVersion> {
    validateName("model name", name);
    await this.readModel(name);
    const latest = (await this.versionNumbers(name)).at(-1);
    if (latest === undefined) {
      throw new MlopsError("registry_not_found", `model "${name}" has no versions yet`);
    }
    return this.getModelVersion(name, latest);
  }

  async listModelVersions(name: string): Promise<ModelVersion[]> {
    validateName("model name", name);
    await this.readModel(name);
    const [numbers, history] = await Promise.all([
      this.versionNumbers(name),
      this.readHistory(name),
    ]);
    const aliases = foldAliases(history);
    const versions = await Promise.all(numbers.map((number) => this.readVersion(name, number)));
    return versions.map((version) => this.withAliases(version, aliases));
  }

  async readModelArtifact(name: string, version: number): Promise<Uint8Array> {
    const record = await this.getModelVersion(name, version);
    return this.readBlob(record.digest, `model "${name}" version ${version}`);
  }

  // ---------------------------------------------------------------- aliases

  private noAlias(name: string, alias: string, aliases: Record<string, number>): MlopsError {
    const names = Object.keys(aliases);
    return new MlopsError(
      "registry_not_found",
      `model "${name}" has no alias "${alias}"; ` +
        (names.length ? `aliases: ${listText(names)}` : "it has no aliases"),
    );
  }

  private async appendAliasMove(
    name: string,
    alias: string,
    toVersion: number | null,
    options: AliasChangeOptions,
  ): Promise<AliasHistoryEntry> {
    const { actor, reason } = checkActor(options);
    await this.readModel(name);
    if (toVersion !== null) await this.readVersion(name, toVersion);
    return this.modelLock(name, async () => {
      const aliases = foldAliases(await this.readHistory(name));
      const fromVersion = Object.hasOwn(aliases, alias) ? aliases[alias] : null;
      if (toVersion === null && fromVersion === null) throw this.noAlias(name, alias, aliases);
      const entry: AliasHistoryEntry = {
        name,
        alias,
        fromVersion,
        toVersion,
        actor,
        time: Date.now(),
        reason,
      };
      const pauseAt = this.pauseAt;
      await appendLines(
        this.modelPath(name, "alias-history.jsonl"),
        [entry],
        pauseAt ? () => pauseAt("alias-history-mid-append", `model "${name}"`) : undefined,
      );
      return entry;
    });
  }

  async setAlias(
    name: string,
    alias: string,
    version: number,
    options: AliasChangeOptions = {},
  ): Promise<AliasHistoryEntry> {
    validateName("model name", name);
    validateAlias(alias);
    validateVersion(version);
    return this.appendAliasMove(name, alias, version, options);
  }

  async deleteAlias(
    name: string,
    alias: string,
    options: AliasChangeOptions = {},
  ): Promise<AliasHistoryEntry> {
    validateName("model name", name);
    validateAlias(alias);
    return this.appendAliasMove(name, alias, null, options);
  }

  async getAlias(name: string, alias: string): Promise<number> {
    validateName("model name", name);
    validateAlias(alias);
    await this.readModel(name);
    const aliases = foldAliases(await this.readHistory(name));
    if (!Object.hasOwn(aliases, alias)) throw this.noAlias(name, alias, aliases);
    return aliases[alias];
  }

  async listAliases(name: string): Promise<Record<string, number>> {
    validateName("model name", name);
    await this.readModel(name);
    return foldAliases(await this.readHistory(name));
  }

  async getAliasHistory(
    name: string,
    options: { alias?: string } = {},
  ): Promise<AliasHistoryEntry[]> {
    validateName("model name", name);
    if (options.alias !== undefined) validateAlias(options.alias);
    await this.readModel(name);
    const history = await this.readHistory(name);
    return options.alias === undefined
      ? history
      : history.filter((entry) => entry.alias === options.alias);
  }
}

/** "1-5" for consecutive versions, else a list. */
function rangeText(versions: readonly number[]): string {
  const first = versions[0];
  const last = versions.at(-1)!;
  return last - first + 1 === versions.length ? `${first}-${last}` : listText(versions);
}

/**
 * Opens (creating when needed) the folder registry at `path`, by default `MLOPS_REGISTRY` or
 * `./.mlops`. Throws `registry_not_found` if the folder holds other files but no registry.
 *
 * @example
 * const store = await openFolderStore(); // ./.mlops
 * const version = await resolveModelUri(store, "models:/wine@production");
 */
export async function openFolderStore(
  path: string = defaultRegistryPath(),
  options: FolderStoreOptions = {},
): Promise<FolderStore> {
  const store = new FolderStore(path, options);
  await store.ensureRoot();
  return store;
}
