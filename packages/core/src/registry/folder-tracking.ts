import { randomBytes } from "node:crypto";
import { open, unlink } from "node:fs/promises";
import { MlopsError } from "../errors/error.js";
import {
  checkArtifactInput,
  checkBlobs,
  checkCreateRun,
  checkMetrics,
  checkRunRecord,
  checkTerminalStatus,
  experimentNotFound,
  isNewerMetric,
  listText,
  paramConflict,
  plainRun,
  sameRecord,
} from "./common.js";
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
import { FolderArtifactStore } from "./folder-artifacts.js";
import { FolderRoot, type FolderStoreOptions, storedJson } from "./folder-root.js";
import {
  validateId,
  validateKey,
  validateName,
  validateParams,
  validateTags,
  validateTime,
} from "./names.js";
import {
  type ArtifactInfo,
  type ArtifactStore,
  type CreateRunOptions,
  DEFAULT_EXPERIMENT_ID,
  DEFAULT_EXPERIMENT_NAME,
  type Experiment,
  type ImportOutcome,
  type Metric,
  type MetricInput,
  type Run,
  type RunRecord,
  type RunStatus,
  type SearchRunsOptions,
  type TerminalRunStatus,
  type TrackingStore,
} from "./types.js";

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

function toRun(record: StoredRun, latest: Record<string, Metric>): Run {
  const metrics: Record<string, number> = {};
  for (const key of Object.keys(latest)) metrics[key] = latest[key].value;
  return plainRun({ ...record, metrics });
}

/**
 * Experiments and runs in the registry folder (`experiments/`, `runs/`); run artifacts are
 * pointers to blobs in the artifact store. See `FolderStore` for the layout and safety rules.
 *
 * @example
 * const tracking = new FolderTrackingStore("./.mlops");
 * const run = await tracking.createRun({ runName: "baseline" });
 */
export class FolderTrackingStore implements TrackingStore {
  readonly root: FolderRoot;
  readonly artifacts: ArtifactStore;

  constructor(
    root: string | FolderRoot,
    options: FolderStoreOptions & { artifacts?: ArtifactStore } = {},
  ) {
    this.root = typeof root === "string" ? new FolderRoot(root, options) : root;
    this.artifacts = options.artifacts ?? new FolderArtifactStore(this.root);
  }

  private runPath(runId: string, ...parts: string[]): string {
    return this.root.join("runs", runId, ...parts);
  }

  // ---------------------------------------------------------------- experiments

  private defaultExperiment(): Experiment {
    return {
      experimentId: DEFAULT_EXPERIMENT_ID,
      name: DEFAULT_EXPERIMENT_NAME,
      tags: {},
      createdAt: this.root.createdAt,
    };
  }

  async createExperiment(
    name: string,
    options: { tags?: Record<string, string> } = {},
  ): Promise<Experiment> {
    validateName("experiment name", name);
    const tags = validateTags(options.tags, "experiment tags");
    await this.root.ensure();
    await ensureDirectory(this.root.join("experiments"));
    return this.root.lock(this.root.join("experiments", ".lock"), "experiments", async () => {
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
      await writeFileAtomic(this.root.join("experiments", `${next}.json`), storedJson(experiment));
      return experiment;
    });
  }

  async getExperiment(experimentId: string): Promise<Experiment> {
    validateId("experiment id", experimentId);
    await this.root.readMarker();
    if (experimentId === DEFAULT_EXPERIMENT_ID) return this.defaultExperiment();
    const experiment = await readJsonIfExists<Experiment>(
      this.root.join("experiments", `${experimentId}.json`),
    );
    if (!experiment) {
      throw experimentNotFound(experimentId, this.root.path, await this.listExperiments());
    }
    return experiment;
  }

  async getExperimentByName(name: string): Promise<Experiment | undefined> {
    validateName("experiment name", name);
    return (await this.listExperiments()).find((experiment) => experiment.name === name);
  }

  async listExperiments(): Promise<Experiment[]> {
    await this.root.readMarker();
    const files = (await this.root.list(this.root.join("experiments"))).filter((file) =>
      /^\d+\.json$/.test(file),
    );
    const experiments = await Promise.all(
      files.map(async (file) => {
        const path = this.root.join("experiments", file);
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
      throw new MlopsError("registry_not_found", `run ${runId} not found in ${this.root.path}`);
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
          if (isNewerMetric(metric, latest[metric.key])) latest[metric.key] = metric;
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
    return this.root.lock(this.runPath(runId, ".lock"), `run ${runId}`, async () => {
      const record = await this.readStoredRun(runId);
      const latest = await this.latestMetrics(record);
      await change(record, latest);
      record.latestMetrics = latest;
      await writeFileAtomic(this.runPath(runId, "run.json"), storedJson(record));
      return toRun(record, latest);
    });
  }

  async createRun(options: CreateRunOptions = {}): Promise<Run> {
    const { experimentId, tags, startTime, runName } = checkCreateRun(options);
    await this.getExperiment(experimentId);
    if (options.parentRunId !== undefined) await this.readStoredRun(options.parentRunId);
    await this.root.ensure();
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
    await writeFileAtomic(this.runPath(runId, "run.json"), storedJson(record));
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
        if (old !== undefined && old !== value) throw paramConflict(runId, key, old, value);
      }
      Object.assign(record.params, values);
    });
  }

  async logMetrics(runId: string, metrics: MetricInput[]): Promise<void> {
    const checked = checkMetrics(metrics);
    if (checked.length === 0) return;
    await this.updateRun(runId, async (record, latest) => {
      record.metricsOffset = await appendLines(this.runPath(runId, "metrics.jsonl"), checked);
      for (const metric of checked) {
        if (isNewerMetric(metric, latest[metric.key])) latest[metric.key] = metric;
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
    checkTerminalStatus(status);
    const end = validateTime("endTime", endTime ?? Date.now());
    return this.updateRun(runId, (record) => {
      record.status = status;
      record.endTime = end;
    });
  }

  async logArtifact(runId: string, name: string, bytes: Uint8Array): Promise<ArtifactInfo> {
    checkArtifactInput(runId, name, bytes);
    await this.readStoredRun(runId);
    const { digest } = await this.artifacts.put(bytes);
    const info: ArtifactInfo = { name, digest, sizeBytes: bytes.byteLength };
    await ensureDirectory(this.runPath(runId, "artifacts"));
    await writeFileAtomic(this.runPath(runId, "artifacts", name), storedJson(info));
    return info;
  }

  async listArtifacts(runId: string): Promise<ArtifactInfo[]> {
    await this.readStoredRun(runId);
    const names = await this.root.list(this.runPath(runId, "artifacts"));
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
      const names = await this.root.list(this.runPath(runId, "artifacts"));
      throw new MlopsError(
        "registry_not_found",
        `run ${runId} has no artifact "${name}"; ` +
          `artifacts: ${names.length ? listText(names) : "none"}`,
      );
    }
    return this.artifacts.get(info.digest, { what: `run ${runId} artifact "${name}"` });
  }

  async searchRuns(options: SearchRunsOptions = {}): Promise<Run[]> {
    const { clauses, order, maxResults } = prepareRunSearch(options);
    const experiments = options.experimentIds ? new Set(options.experimentIds) : undefined;
    const runIds = await this.root.list(this.root.join("runs"));
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

  async importRun(record: RunRecord): Promise<ImportOutcome> {
    const { run, metricHistory, artifacts } = checkRunRecord(record);
    await this.getExperiment(run.experimentId);
    if (run.parentRunId !== undefined) await this.readStoredRun(run.parentRunId);
    await checkBlobs(this.artifacts, run.runId, artifacts);
    await this.root.ensure();
    await ensureDirectory(this.runPath(run.runId));
    return this.root.lock(this.runPath(run.runId, ".lock"), `run ${run.runId}`, async () => {
      const existing = await readJsonIfExists<StoredRun>(this.runPath(run.runId, "run.json"));
      if (existing) {
        const current = await this.exportRun(existing);
        if (sameRecord(current, { run, metricHistory, artifacts })) return "unchanged";
      }
      const metricsPath = this.runPath(run.runId, "metrics.jsonl");
      const lines = metricHistory.map((metric) => `${JSON.stringify(metric)}\n`).join("");
      await writeFileAtomic(metricsPath, lines);
      await ensureDirectory(this.runPath(run.runId, "artifacts"));
      const keep = new Set(artifacts.map((artifact) => artifact.name));
      for (const name of await this.root.list(this.runPath(run.runId, "artifacts"))) {
        if (!keep.has(name)) await unlink(this.runPath(run.runId, "artifacts", name));
      }
      for (const artifact of artifacts) {
        await writeFileAtomic(
          this.runPath(run.runId, "artifacts", artifact.name),
          storedJson(artifact),
        );
      }
      const latest: Record<string, Metric> = {};
      for (const metric of metricHistory) {
        if (isNewerMetric(metric, latest[metric.key])) latest[metric.key] = metric;
      }
      const stored: StoredRun = {
        runId: run.runId,
        experimentId: run.experimentId,
        runName: run.runName,
        status: run.status,
        startTime: run.startTime,
        ...(run.endTime === undefined ? {} : { endTime: run.endTime }),
        ...(run.parentRunId === undefined ? {} : { parentRunId: run.parentRunId }),
        params: run.params,
        tags: run.tags,
        latestMetrics: latest,
        metricsOffset: Buffer.byteLength(lines),
      };
      // run.json last: until it is written, readers see the run as it was.
      await writeFileAtomic(this.runPath(run.runId, "run.json"), storedJson(stored));
      return existing ? "updated" : "created";
    });
  }

  /** The whole run as `importRun` takes it. */
  private async exportRun(record: StoredRun): Promise<RunRecord> {
    const path = this.runPath(record.runId, "metrics.jsonl");
    const bytes = await readIfExists(path);
    return {
      run: toRun(record, await this.latestMetrics(record)),
      metricHistory: bytes === undefined ? [] : parseJsonLines<Metric>(path, bytes),
      artifacts: await this.listArtifacts(record.runId),
    };
  }
}
