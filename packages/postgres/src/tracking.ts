import { randomBytes } from "node:crypto";
import {
  type ArtifactInfo,
  type CreateRunOptions,
  compareRunsBy,
  type Experiment,
  type ImportOutcome,
  type Metric,
  type MetricInput,
  MlopsError,
  matchesRunFilter,
  prepareRunSearch,
  type Run,
  type RunRecord,
  type RunStatus,
  type SearchRunsOptions,
  type TerminalRunStatus,
  type TrackingStore,
} from "@mlops/core";
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
  validateId,
  validateKey,
  validateName,
  validateParams,
  validateTags,
  validateTime,
} from "@mlops/core/internal";
import type { PostgresArtifactStore } from "./artifacts.js";
import type { Database, Queryable } from "./connection.js";

interface RunRow {
  run_id: string;
  experiment_id: string;
  run_name: string;
  status: RunStatus;
  start_time: number;
  end_time: number | null;
  parent_run_id: string | null;
  params: Record<string, string>;
  tags: Record<string, string>;
  latest_metrics: Record<string, Metric>;
}

const RUN_COLUMNS =
  "run_id, experiment_id, run_name, status, start_time, end_time, parent_run_id, params, tags, latest_metrics";

function toRun(row: RunRow): Run {
  const metrics: Record<string, number> = {};
  for (const [key, metric] of Object.entries(row.latest_metrics)) metrics[key] = metric.value;
  return plainRun({
    runId: row.run_id,
    experimentId: row.experiment_id,
    runName: row.run_name,
    status: row.status,
    startTime: row.start_time,
    endTime: row.end_time,
    parentRunId: row.parent_run_id,
    params: row.params,
    metrics,
    tags: row.tags,
  });
}

function toExperiment(row: {
  experiment_id: string;
  name: string;
  tags: Record<string, string>;
  created_at: number;
}): Experiment {
  return {
    experimentId: row.experiment_id,
    name: row.name,
    tags: { ...row.tags },
    createdAt: row.created_at,
  };
}

/**
 * Experiments and runs in PostgreSQL (`experiments`, `runs`, `metrics`, `run_artifacts`). Each
 * change is one transaction that locks the run's row, so concurrent writers never lose updates.
 *
 * @example
 * const run = await store.tracking.createRun({ runName: "baseline" });
 */
export class PostgresTrackingStore implements TrackingStore {
  readonly #database: Database;
  readonly #artifacts: PostgresArtifactStore;

  constructor(database: Database, artifacts: PostgresArtifactStore) {
    this.#database = database;
    this.#artifacts = artifacts;
  }

  get #where(): string {
    return this.#database.url.display;
  }

  async createExperiment(
    name: string,
    options: { tags?: Record<string, string> } = {},
  ): Promise<Experiment> {
    validateName("experiment name", name);
    const tags = validateTags(options.tags, "experiment tags");
    return this.#database.transaction("create an experiment", async (client) => {
      const { rows } = await client.query(
        `INSERT INTO experiments (experiment_id, name, tags, created_at)
         VALUES (nextval('experiment_ids')::text, $1, $2, $3)
         ON CONFLICT (name) DO NOTHING
         RETURNING experiment_id, name, tags, created_at`,
        [name, tags, Date.now()],
      );
      if (rows.length === 0) {
        const { rows: same } = await client.query(
          "SELECT experiment_id FROM experiments WHERE name = $1",
          [name],
        );
        throw new MlopsError(
          "registry_conflict",
          `experiment "${name}" already exists (id ${same[0]?.experiment_id})`,
        );
      }
      return toExperiment(rows[0]);
    });
  }

  async getExperiment(experimentId: string): Promise<Experiment> {
    validateId("experiment id", experimentId);
    const rows = await this.#database.query<Parameters<typeof toExperiment>[0]>(
      "read an experiment",
      "SELECT experiment_id, name, tags, created_at FROM experiments WHERE experiment_id = $1",
      [experimentId],
    );
    if (rows.length === 0) {
      throw experimentNotFound(experimentId, this.#where, await this.listExperiments());
    }
    return toExperiment(rows[0]);
  }

  async getExperimentByName(name: string): Promise<Experiment | undefined> {
    validateName("experiment name", name);
    const rows = await this.#database.query<Parameters<typeof toExperiment>[0]>(
      "read an experiment",
      "SELECT experiment_id, name, tags, created_at FROM experiments WHERE name = $1",
      [name],
    );
    return rows.length === 0 ? undefined : toExperiment(rows[0]);
  }

  async listExperiments(): Promise<Experiment[]> {
    const rows = await this.#database.query<Parameters<typeof toExperiment>[0]>(
      "list experiments",
      "SELECT experiment_id, name, tags, created_at FROM experiments ORDER BY experiment_id::bigint",
    );
    return rows.map(toExperiment);
  }

  async #readRun(client: Queryable, runId: string, lock = false): Promise<RunRow> {
    const { rows } = await client.query<RunRow>(
      `SELECT ${RUN_COLUMNS} FROM runs WHERE run_id = $1${lock ? " FOR UPDATE" : ""}`,
      [runId],
    );
    if (rows.length === 0) {
      throw new MlopsError("registry_not_found", `run ${runId} not found in ${this.#where}`);
    }
    return rows[0];
  }

  async createRun(options: CreateRunOptions = {}): Promise<Run> {
    const { experimentId, tags, startTime, runName } = checkCreateRun(options);
    await this.getExperiment(experimentId);
    const runId = randomBytes(16).toString("hex");
    return this.#database.transaction("create a run", async (client) => {
      if (options.parentRunId !== undefined) await this.#readRun(client, options.parentRunId);
      const { rows } = await client.query<RunRow>(
        `INSERT INTO runs (run_id, experiment_id, run_name, status, start_time, parent_run_id, tags)
         VALUES ($1, $2, $3, 'RUNNING', $4, $5, $6) RETURNING ${RUN_COLUMNS}`,
        [runId, experimentId, runName, startTime, options.parentRunId ?? null, tags],
      );
      return toRun(rows[0]);
    });
  }

  async getRun(runId: string): Promise<Run> {
    validateId("run id", runId);
    return toRun(
      await this.#readRun(this.#database.pool, runId).catch((error) => {
        throw this.#database.translate(error, "read a run");
      }),
    );
  }

  /** Locks the run's row, lets `change` edit it, and writes the changed columns back. */
  async #updateRun(
    runId: string,
    what: string,
    change: (row: RunRow, client: Queryable) => Promise<void> | void,
  ): Promise<Run> {
    validateId("run id", runId);
    return this.#database.transaction(what, async (client) => {
      const row = await this.#readRun(client, runId, true);
      await change(row, client);
      const { rows } = await client.query<RunRow>(
        `UPDATE runs SET status = $2, end_time = $3, params = $4, tags = $5, latest_metrics = $6
         WHERE run_id = $1 RETURNING ${RUN_COLUMNS}`,
        [runId, row.status, row.end_time, row.params, row.tags, row.latest_metrics],
      );
      return toRun(rows[0]);
    });
  }

  async logParams(runId: string, params: Record<string, string | number | boolean>): Promise<void> {
    const values = validateParams(params);
    await this.#updateRun(runId, "log params", (row) => {
      for (const [key, value] of Object.entries(values)) {
        const old = Object.hasOwn(row.params, key) ? row.params[key] : undefined;
        if (old !== undefined && old !== value) throw paramConflict(runId, key, old, value);
      }
      Object.assign(row.params, values);
    });
  }

  async logMetrics(runId: string, metrics: MetricInput[]): Promise<void> {
    const checked = checkMetrics(metrics);
    if (checked.length === 0) return;
    await this.#updateRun(runId, "log metrics", async (row, client) => {
      await client.query(
        `INSERT INTO metrics (run_id, key, value, timestamp, step)
         SELECT $1, key, value, timestamp, step
         FROM unnest($2::text[], $3::float8[], $4::bigint[], $5::bigint[])
           WITH ORDINALITY AS m(key, value, timestamp, step, position)
         ORDER BY position`,
        [
          runId,
          checked.map((metric) => metric.key),
          checked.map((metric) => metric.value),
          checked.map((metric) => metric.timestamp),
          checked.map((metric) => metric.step),
        ],
      );
      for (const metric of checked) {
        if (isNewerMetric(metric, row.latest_metrics[metric.key])) {
          row.latest_metrics[metric.key] = metric;
        }
      }
    });
  }

  async getMetricHistory(runId: string, key: string): Promise<Metric[]> {
    validateKey("metric key", key);
    await this.getRun(runId);
    return this.#database.query<Metric>(
      "read a metric history",
      `SELECT key, value, timestamp, step FROM metrics WHERE run_id = $1 AND key = $2
       ORDER BY step, timestamp, seq`,
      [runId, key],
    );
  }

  async setTags(runId: string, tags: Record<string, string>): Promise<void> {
    const values = validateTags(tags, "run tags");
    await this.#updateRun(runId, "set run tags", (row) => {
      Object.assign(row.tags, values);
    });
  }

  async endRun(
    runId: string,
    status: TerminalRunStatus = "FINISHED",
    endTime?: number,
  ): Promise<Run> {
    checkTerminalStatus(status);
    const end = validateTime("endTime", endTime ?? Date.now());
    return this.#updateRun(runId, "end a run", (row) => {
      row.status = status;
      row.end_time = end;
    });
  }

  async logArtifact(runId: string, name: string, bytes: Uint8Array): Promise<ArtifactInfo> {
    checkArtifactInput(runId, name, bytes);
    return this.#database.transaction("log an artifact", async (client) => {
      await this.#readRun(client, runId);
      const { digest } = await this.#artifacts.putIn(client, bytes);
      await client.query(
        `INSERT INTO run_artifacts (run_id, name, digest, size_bytes) VALUES ($1, $2, $3, $4)
         ON CONFLICT (run_id, name) DO UPDATE SET digest = $3, size_bytes = $4`,
        [runId, name, digest, bytes.byteLength],
      );
      return { name, digest, sizeBytes: bytes.byteLength };
    });
  }

  async listArtifacts(runId: string): Promise<ArtifactInfo[]> {
    await this.getRun(runId);
    const rows = await this.#database.query<{ name: string; digest: string; size_bytes: number }>(
      "list artifacts",
      "SELECT name, digest, size_bytes FROM run_artifacts WHERE run_id = $1 ORDER BY name",
      [runId],
    );
    return rows.map((row) => ({ name: row.name, digest: row.digest, sizeBytes: row.size_bytes }));
  }

  async readArtifact(runId: string, name: string): Promise<Uint8Array> {
    validateId("run id", runId);
    validateName("artifact name", name);
    const infos = await this.listArtifacts(runId);
    const info = infos.find((item) => item.name === name);
    if (!info) {
      throw new MlopsError(
        "registry_not_found",
        `run ${runId} has no artifact "${name}"; ` +
          `artifacts: ${infos.length ? listText(infos.map((item) => item.name)) : "none"}`,
      );
    }
    return this.#artifacts.get(info.digest, { what: `run ${runId} artifact "${name}"` });
  }

  async searchRuns(options: SearchRunsOptions = {}): Promise<Run[]> {
    const { clauses, order, maxResults } = prepareRunSearch(options);
    // Experiment and parent narrow the rows in SQL; MLflow's filter and order are applied to
    // them by core's evaluator, so both backends answer every filter identically.
    const conditions: string[] = [];
    const values: unknown[] = [];
    if (options.experimentIds) {
      values.push(options.experimentIds);
      conditions.push(`experiment_id = ANY($${values.length}::text[])`);
    }
    if (options.parentRunId !== undefined) {
      values.push(options.parentRunId);
      conditions.push(`parent_run_id = $${values.length}`);
    }
    const rows = await this.#database.query<RunRow>(
      "search runs",
      `SELECT ${RUN_COLUMNS} FROM runs${conditions.length ? ` WHERE ${conditions.join(" AND ")}` : ""}`,
      values,
    );
    return rows
      .map(toRun)
      .filter((run) => matchesRunFilter(run, clauses))
      .sort(compareRunsBy(order))
      .slice(0, maxResults);
  }

  async importRun(record: RunRecord): Promise<ImportOutcome> {
    const { run, metricHistory, artifacts } = checkRunRecord(record);
    await this.getExperiment(run.experimentId);
    if (run.parentRunId !== undefined) await this.getRun(run.parentRunId);
    await checkBlobs(this.#artifacts, run.runId, artifacts);
    return this.#database.transaction(`import run ${run.runId}`, async (client) => {
      const { rows } = await client.query<RunRow>(
        `SELECT ${RUN_COLUMNS} FROM runs WHERE run_id = $1 FOR UPDATE`,
        [run.runId],
      );
      if (rows.length > 0) {
        const current = await this.#exportRun(client, rows[0]);
        if (sameRecord(current, { run, metricHistory, artifacts })) return "unchanged";
        await client.query("DELETE FROM metrics WHERE run_id = $1", [run.runId]);
        await client.query("DELETE FROM run_artifacts WHERE run_id = $1", [run.runId]);
      }
      const latest: Record<string, Metric> = {};
      for (const metric of metricHistory) {
        if (isNewerMetric(metric, latest[metric.key])) latest[metric.key] = metric;
      }
      await client.query(
        `INSERT INTO runs (run_id, experiment_id, run_name, status, start_time, end_time,
           parent_run_id, params, tags, latest_metrics)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (run_id) DO UPDATE SET experiment_id = $2, run_name = $3, status = $4,
           start_time = $5, end_time = $6, parent_run_id = $7, params = $8, tags = $9,
           latest_metrics = $10`,
        [
          run.runId,
          run.experimentId,
          run.runName,
          run.status,
          run.startTime,
          run.endTime ?? null,
          run.parentRunId ?? null,
          run.params,
          run.tags,
          latest,
        ],
      );
      await client.query(
        `INSERT INTO metrics (run_id, key, value, timestamp, step)
         SELECT $1, key, value, timestamp, step
         FROM unnest($2::text[], $3::float8[], $4::bigint[], $5::bigint[])
           WITH ORDINALITY AS m(key, value, timestamp, step, position)
         ORDER BY position`,
        [
          run.runId,
          metricHistory.map((metric) => metric.key),
          metricHistory.map((metric) => metric.value),
          metricHistory.map((metric) => metric.timestamp),
          metricHistory.map((metric) => metric.step),
        ],
      );
      for (const artifact of artifacts) {
        await client.query(
          "INSERT INTO run_artifacts (run_id, name, digest, size_bytes) VALUES ($1, $2, $3, $4)",
          [run.runId, artifact.name, artifact.digest, artifact.sizeBytes],
        );
      }
      return rows.length > 0 ? "updated" : "created";
    });
  }

  async #exportRun(client: Queryable, row: RunRow): Promise<RunRecord> {
    const { rows: metrics } = await client.query<Metric>(
      "SELECT key, value, timestamp, step FROM metrics WHERE run_id = $1 ORDER BY seq",
      [row.run_id],
    );
    const { rows: artifacts } = await client.query<{
      name: string;
      digest: string;
      size_bytes: number;
    }>("SELECT name, digest, size_bytes FROM run_artifacts WHERE run_id = $1 ORDER BY name", [
      row.run_id,
    ]);
    return {
      run: toRun(row),
      metricHistory: metrics,
      artifacts: artifacts.map((item) => ({
        name: item.name,
        digest: item.digest,
        sizeBytes: item.size_bytes,
      })),
    };
  }
}
