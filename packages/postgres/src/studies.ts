import { randomBytes } from "node:crypto";
import { isDeepStrictEqual } from "node:util";
import type {
  ClaimTrialOptions,
  CreateStudyOptions,
  FinishOutcome,
  ImportOutcome,
  Study,
  StudyRecord,
  StudyState,
  StudyStore,
  StudyTrial,
  TrackingStore,
  TrialClaim,
  TrialState,
} from "@mlops/core";
import {
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
} from "@mlops/core/internal";
import type pg from "pg";
import type { Database, Queryable } from "./connection.js";

/** Milliseconds since the epoch on the database server's clock: one clock for every machine. */
const SERVER_NOW = "(extract(epoch FROM clock_timestamp()) * 1000)::bigint";

interface StudyRow {
  name: string;
  study_id: string;
  spec: Record<string, unknown>;
  data_digest: string;
  state: StudyState;
  run_id: string;
  experiment_id: string;
  created_at: number;
  created_by: string;
  completed_at: number | null;
  finished_by: string | null;
  result: Record<string, unknown> | null;
}

interface TrialRow {
  number: number;
  batch: number;
  position: number;
  payload: Record<string, unknown>;
  state: TrialState;
  attempt: number;
  worker: string | null;
  heartbeat_at: number | null;
  completed_at: number | null;
  result: Record<string, unknown> | null;
}

const TRIAL_COLUMNS =
  "number, batch, position, payload, state, attempt, worker, heartbeat_at, completed_at, result";

function toStudy(row: StudyRow): Study {
  return {
    name: row.name,
    studyId: row.study_id,
    spec: row.spec,
    dataDigest: row.data_digest,
    state: row.state,
    runId: row.run_id,
    experimentId: row.experiment_id,
    createdAt: row.created_at,
    createdBy: row.created_by,
    ...(row.completed_at === null ? {} : { completedAt: row.completed_at }),
    ...(row.finished_by === null ? {} : { finishedBy: row.finished_by }),
    ...(row.result === null ? {} : { result: row.result }),
  };
}

function toTrial(row: TrialRow): StudyTrial {
  return {
    number: row.number,
    batch: row.batch,
    index: row.position,
    payload: row.payload,
    state: row.state,
    attempt: row.attempt,
    ...(row.worker === null ? {} : { worker: row.worker }),
    ...(row.heartbeat_at === null ? {} : { heartbeatAt: row.heartbeat_at }),
    ...(row.completed_at === null ? {} : { completedAt: row.completed_at }),
    ...(row.result === null ? {} : { result: row.result }),
  };
}

/**
 * Studies in PostgreSQL, for workers on any number of machines: a trial is claimed with
 * `SELECT … FOR UPDATE SKIP LOCKED` (concurrent claimers take different trials without waiting
 * on each other), heartbeats and staleness use the database server's clock, and the study is
 * finished under a session advisory lock that PostgreSQL releases when the finishing worker's
 * connection dies.
 *
 * Payloads and results are stored as `json` (their text as written), so a result reads back
 * exactly as its worker wrote it.
 */
export class PostgresStudyStore implements StudyStore {
  readonly #database: Database;
  readonly #tracking: TrackingStore;

  constructor(database: Database, tracking: TrackingStore) {
    this.#database = database;
    this.#tracking = tracking;
  }

  async #readStudy(on: Queryable, name: string, lock = false): Promise<StudyRow | undefined> {
    const { rows } = await on.query<StudyRow>(
      `SELECT * FROM studies WHERE name = $1${lock ? " FOR UPDATE" : ""}`,
      [name],
    );
    return rows[0];
  }

  async #requireStudy(on: Queryable, name: string, lock = false): Promise<StudyRow> {
    const row = await this.#readStudy(on, name, lock);
    if (row === undefined) {
      const { rows } = await on.query<{ name: string }>(
        "SELECT name FROM studies ORDER BY name LIMIT 20",
      );
      throw studyNotFound(
        name,
        this.#database.url.display,
        rows.map((r) => r.name),
      );
    }
    return row;
  }

  async createStudy(
    name: string,
    options: CreateStudyOptions,
  ): Promise<{ study: Study; created: boolean }> {
    checkCreateStudy(name, options);
    return this.#database.transaction(`create study "${name}"`, async (client) => {
      // Creators of one name queue here; the first creates, the others read its study.
      await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [
        `mlops.study.${this.#database.url.schema}.${name}`,
      ]);
      const existing = await this.#readStudy(client, name);
      if (existing !== undefined) return { study: toStudy(existing), created: false };
      // The parent run is written on its own connection: a creator that dies before the study
      // row commits leaves an unfinished run and no study, and the next creator starts afresh.
      const run = await startStudyRun(this.#tracking, name, options.run);
      const { rows } = await client.query<StudyRow>(
        `INSERT INTO studies (name, study_id, spec, data_digest, state, run_id, experiment_id,
           created_at, created_by)
         VALUES ($1, $2, $3, $4, 'RUNNING', $5, $6, ${SERVER_NOW}, $7) RETURNING *`,
        [
          name,
          randomBytes(8).toString("hex"),
          JSON.stringify(options.spec),
          options.dataDigest,
          run.runId,
          run.experimentId,
          options.worker,
        ],
      );
      return { study: toStudy(rows[0]), created: true };
    });
  }

  async importStudy(record: StudyRecord): Promise<ImportOutcome> {
    const { study, trials } = checkStudyRecord(record);
    const name = study.name;
    // Its parent run must be here (runs are copied first): registry_not_found names it.
    await this.#tracking.getRun(study.runId);
    return this.#database.transaction(`import study "${name}"`, async (client) => {
      await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [
        `mlops.study.${this.#database.url.schema}.${name}`,
      ]);
      const existing = await this.#readStudy(client, name, true);
      if (existing !== undefined) {
        if (existing.study_id !== study.studyId) {
          throw studyConflict(name, existing.study_id, study.studyId);
        }
        const { rows } = await client.query<TrialRow>(
          `SELECT ${TRIAL_COLUMNS} FROM study_trials WHERE study = $1 ORDER BY number`,
          [name],
        );
        if (
          isDeepStrictEqual(
            { study: toStudy(existing), trials: rows.map(toTrial) },
            { study, trials },
          )
        ) {
          return "unchanged";
        }
        await client.query("DELETE FROM study_trials WHERE study = $1", [name]);
      }
      await client.query(
        `INSERT INTO studies (name, study_id, spec, data_digest, state, run_id, experiment_id,
           created_at, created_by, completed_at, finished_by, result)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT (name) DO UPDATE SET spec = $3, data_digest = $4, state = $5, run_id = $6,
           experiment_id = $7, created_at = $8, created_by = $9, completed_at = $10,
           finished_by = $11, result = $12`,
        [
          name,
          study.studyId,
          JSON.stringify(study.spec),
          study.dataDigest,
          study.state,
          study.runId,
          study.experimentId,
          study.createdAt,
          study.createdBy,
          study.completedAt ?? null,
          study.finishedBy ?? null,
          study.result === undefined ? null : JSON.stringify(study.result),
        ],
      );
      // Every trial in one statement, whatever their number.
      await client.query(
        `INSERT INTO study_trials (study, ${TRIAL_COLUMNS})
         SELECT $1, t.number, t.batch, t.position, t.payload, t.state, t.attempt, t.worker,
           t.heartbeat_at, t.completed_at, t.result
         FROM json_to_recordset($2::json) AS t(number integer, batch integer, position integer,
           payload json, state text, attempt integer, worker text, heartbeat_at bigint,
           completed_at bigint, result json)`,
        [
          name,
          JSON.stringify(
            trials.map((trial) => ({
              number: trial.number,
              batch: trial.batch,
              position: trial.index,
              payload: trial.payload,
              state: trial.state,
              attempt: trial.attempt,
              worker: trial.worker ?? null,
              heartbeat_at: trial.heartbeatAt ?? null,
              completed_at: trial.completedAt ?? null,
              result: trial.result ?? null,
            })),
          ),
        ],
      );
      return existing === undefined ? "created" : "updated";
    });
  }

  async getStudy(name: string): Promise<Study | undefined> {
    validateStudyName(name);
    const rows = await this.#database.query<StudyRow>(
      `read study "${name}"`,
      "SELECT * FROM studies WHERE name = $1",
      [name],
    );
    return rows[0] === undefined ? undefined : toStudy(rows[0]);
  }

  async listStudies(): Promise<Study[]> {
    const rows = await this.#database.query<StudyRow>(
      "list studies",
      "SELECT * FROM studies ORDER BY name",
    );
    return rows.map(toStudy);
  }

  async addTrials(
    name: string,
    batch: number,
    payloads: readonly Record<string, unknown>[],
  ): Promise<StudyTrial[]> {
    checkTrialBatch(name, batch, payloads);
    return this.#database.transaction(`add trials to study "${name}"`, async (client) => {
      // The study row's lock orders the workers proposing a batch.
      await this.#requireStudy(client, name, true);
      const { rows: stored } = await client.query<TrialRow>(
        `SELECT ${TRIAL_COLUMNS} FROM study_trials WHERE study = $1 AND batch = $2
         ORDER BY position`,
        [name, batch],
      );
      if (stored.length > 0) {
        const conflict = batchConflict(
          name,
          batch,
          stored.map((row) => row.payload),
          payloads,
        );
        if (conflict) throw conflict;
        return stored.map(toTrial);
      }
      const { rows: last } = await client.query<{ batch: number | null; count: number }>(
        "SELECT max(batch) AS batch, count(*)::integer AS count FROM study_trials WHERE study = $1",
        [name],
      );
      const next = last[0].batch === null ? 0 : last[0].batch + 1;
      if (batch !== next) throw batchOutOfOrder(name, batch, next);
      const first = last[0].count;
      const { rows } = await client.query<TrialRow>(
        `INSERT INTO study_trials (study, number, batch, position, payload, state, attempt)
         SELECT $1, $2 + item.position - 1, $3, item.position - 1, item.payload, 'WAITING', 0
         FROM json_array_elements($4::json) WITH ORDINALITY AS item (payload, position)
         RETURNING ${TRIAL_COLUMNS}`,
        [name, first, batch, JSON.stringify(payloads)],
      );
      return rows.map(toTrial).sort((a, b) => a.number - b.number);
    });
  }

  async listTrials(name: string, options: { batch?: number } = {}): Promise<StudyTrial[]> {
    validateStudyName(name);
    return this.#database.transaction(`list the trials of study "${name}"`, async (client) => {
      await this.#requireStudy(client, name);
      const { rows } =
        options.batch === undefined
          ? await client.query<TrialRow>(
              `SELECT ${TRIAL_COLUMNS} FROM study_trials WHERE study = $1 ORDER BY number`,
              [name],
            )
          : await client.query<TrialRow>(
              `SELECT ${TRIAL_COLUMNS} FROM study_trials WHERE study = $1 AND batch = $2
               ORDER BY number`,
              [name, options.batch],
            );
      return rows.map(toTrial);
    });
  }

  async claimTrial(name: string, options: ClaimTrialOptions): Promise<TrialClaim | undefined> {
    validateStudyName(name);
    const { worker, graceMs, maxAttempts, batch } = checkClaimOptions(options);
    return this.#database.transaction(`claim a trial of study "${name}"`, async (client) => {
      await this.#requireStudy(client, name);
      for (;;) {
        // Rows another claimer holds are skipped, not waited for: claims never queue.
        const { rows } = await client.query<TrialRow>(
          `SELECT ${TRIAL_COLUMNS} FROM study_trials
           WHERE study = $1 AND ($2::integer IS NULL OR batch = $2)
             AND (state = 'WAITING' OR (state = 'RUNNING' AND heartbeat_at < ${SERVER_NOW} - $3))
           ORDER BY number LIMIT 1 FOR UPDATE SKIP LOCKED`,
          [name, batch ?? null, Math.ceil(graceMs)],
        );
        const row = rows[0];
        if (row === undefined) return undefined;
        const stale = row.state === "RUNNING";
        if (stale && row.attempt >= maxAttempts) {
          await client.query(
            `UPDATE study_trials SET state = 'FAILED', result = $3, completed_at = ${SERVER_NOW}
             WHERE study = $1 AND number = $2`,
            [
              name,
              row.number,
              JSON.stringify(abandonedResult(row.attempt, row.worker ?? undefined)),
            ],
          );
          continue;
        }
        await client.query(
          `UPDATE study_trials SET state = 'RUNNING', attempt = attempt + 1, worker = $3,
             heartbeat_at = ${SERVER_NOW}
           WHERE study = $1 AND number = $2`,
          [name, row.number, worker],
        );
        return {
          number: row.number,
          batch: row.batch,
          index: row.position,
          payload: row.payload,
          attempt: row.attempt + 1,
          worker,
          ...(stale && row.worker !== null ? { replaces: row.worker } : {}),
        };
      }
    });
  }

  async heartbeat(name: string, claim: TrialClaim): Promise<boolean> {
    validateStudyName(name);
    const rows = await this.#database.query<{ number: number }>(
      `beat for trial ${claim.number} of study "${name}"`,
      `UPDATE study_trials SET heartbeat_at = ${SERVER_NOW}
       WHERE study = $1 AND number = $2 AND state = 'RUNNING' AND attempt = $3 AND worker = $4
       RETURNING number`,
      [name, claim.number, claim.attempt, claim.worker],
    );
    return rows.length === 1;
  }

  async completeTrial(
    name: string,
    claim: TrialClaim,
    result: Record<string, unknown>,
  ): Promise<boolean> {
    validateStudyName(name);
    checkStudyJson(`study "${name}" trial ${claim?.number}: result`, result);
    const rows = await this.#database.query<{ number: number }>(
      `complete trial ${claim.number} of study "${name}"`,
      `UPDATE study_trials SET state = 'COMPLETE', result = $5, completed_at = ${SERVER_NOW}
       WHERE study = $1 AND number = $2 AND state = 'RUNNING' AND attempt = $3 AND worker = $4
       RETURNING number`,
      [name, claim.number, claim.attempt, claim.worker, JSON.stringify(result)],
    );
    return rows.length === 1;
  }

  async finishStudy(
    name: string,
    worker: string,
    work: (study: Study) => Promise<Record<string, unknown>>,
  ): Promise<FinishOutcome> {
    validateStudyName(name);
    const what = `finish study "${name}"`;
    let client: pg.PoolClient;
    try {
      client = await this.#database.pool.connect();
    } catch (error) {
      throw this.#database.translate(error, what);
    }
    const key = `mlops.study.finish.${this.#database.url.schema}.${name}`;
    let locked = false;
    let broken = false;
    let working = false;
    const onError = () => {
      broken = true;
    };
    client.on("error", onError);
    try {
      await this.#requireStudy(client, name);
      // Held on this connection while `work` runs: PostgreSQL releases it if the worker dies.
      await client.query("SELECT pg_advisory_lock(hashtext($1))", [key]);
      locked = true;
      const before = toStudy(await this.#requireStudy(client, name));
      if (before.state === "COMPLETE") return { study: before, finished: false };
      working = true;
      const done = await work(before);
      working = false;
      const result = checkStudyJson(`study "${name}": result`, done);
      const { rows } = await client.query<StudyRow>(
        `UPDATE studies SET state = 'COMPLETE', completed_at = ${SERVER_NOW}, finished_by = $2,
           result = $3
         WHERE name = $1 RETURNING *`,
        [name, worker, JSON.stringify(result)],
      );
      return { study: toStudy(rows[0]), finished: true };
    } catch (error) {
      // What `work` throws is the caller's error, as it is.
      if (working) throw error;
      broken ||= (error as { code?: unknown })?.code === "ECONNRESET";
      throw this.#database.translate(error, what);
    } finally {
      if (locked && !broken) {
        await client.query("SELECT pg_advisory_unlock(hashtext($1))", [key]).catch(() => {
          broken = true;
        });
      }
      client.off("error", onError);
      client.release(broken ? true : undefined);
    }
  }
}
