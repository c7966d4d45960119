import { isDeepStrictEqual } from "node:util";
import {
  type AliasChangeOptions,
  type AliasHistoryEntry,
  type AliasWatchEvent,
  type CreateModelVersionOptions,
  type CreateRegisteredModelOptions,
  type ImportOutcome,
  MlopsError,
  type ModelRegistryStore,
  type ModelVersion,
  type ModelVersionRecord,
  type RegisteredModel,
  type RegisteredModelRecord,
  type StopWatching,
  type TrackingStore,
} from "@mlops/core";
import {
  aliasNotFound,
  checkAliasChange,
  checkCreateModel,
  checkModelRecord,
  checkVersionOptions,
  checkVersionRecord,
  historyTail,
  missingBlobError,
  modelNotFound,
  validateAlias,
  validateName,
  validateVersion,
  versionHeld,
  versionNotFound,
} from "@mlops/core/internal";
import type pg from "pg";
import type { PauseAt, PostgresArtifactStore } from "./artifacts.js";
import type { Database, Queryable } from "./connection.js";
import { type AliasEvents, aliasChannel, aliasMovedPayload } from "./events.js";

interface VersionRow {
  name: string;
  version: number;
  digest: string;
  size_bytes: number;
  run_id: string | null;
  description: string | null;
  tags: Record<string, string>;
  metadata: Record<string, unknown>;
  created_at: number;
  aliases: string[] | null;
}

interface ModelRow {
  name: string;
  description: string;
  tags: Record<string, string>;
  created_at: number;
  /** The highest version there is (0 for none); deleted numbers stay taken by the counter. */
  latest_version: number;
}

/**
 * A model's columns, `latest_version` the highest version that exists: the table's own
 * `latest_version` is the number counter, which a deleted version does not move back.
 */
const MODEL_COLUMNS = `m.name, m.description, m.tags, m.created_at,
  coalesce((SELECT max(v.version) FROM model_versions v WHERE v.name = m.name), 0)
    AS latest_version`;

interface HistoryRow {
  name: string;
  alias: string;
  from_version: number | null;
  to_version: number | null;
  actor: string;
  time: number;
  reason: string | null;
}

const VERSION_COLUMNS = `v.name, v.version, v.digest, v.size_bytes, v.run_id, v.description,
  v.tags, v.metadata, v.created_at,
  (SELECT array_agg(a.alias ORDER BY a.alias) FROM aliases a
   WHERE a.name = v.name AND a.version = v.version) AS aliases`;

function toVersion(row: VersionRow): ModelVersion {
  return {
    name: row.name,
    version: row.version,
    digest: row.digest,
    sizeBytes: row.size_bytes,
    ...(row.run_id === null ? {} : { runId: row.run_id }),
    ...(row.description === null ? {} : { description: row.description }),
    tags: { ...row.tags },
    metadata: row.metadata,
    createdAt: row.created_at,
    aliases: row.aliases ?? [],
  };
}

function toEntry(row: HistoryRow): AliasHistoryEntry {
  return {
    name: row.name,
    alias: row.alias,
    fromVersion: row.from_version,
    toVersion: row.to_version,
    actor: row.actor,
    time: row.time,
    reason: row.reason,
  };
}

/** Milliseconds since the epoch on the database server's clock. */
const SERVER_NOW = "(extract(epoch FROM clock_timestamp()) * 1000)::bigint";

/**
 * Registered models, versions and aliases in PostgreSQL. Version numbers come from the model
 * row, incremented under its row lock in the transaction that inserts the version and its bytes:
 * concurrent writers get consecutive numbers, and a writer that dies takes its number with it.
 * Every alias move appends to `alias_history` and sends a NOTIFY in the same transaction, so
 * watchers hear of exactly the committed moves.
 *
 * @example
 * const version = await store.models.createModelVersion("wine", { artifact: bytes });
 */
export class PostgresModelRegistryStore implements ModelRegistryStore {
  readonly #database: Database;
  readonly #artifacts: PostgresArtifactStore;
  readonly #tracking: Pick<TrackingStore, "getRun">;
  readonly #events: AliasEvents;
  readonly #pauseAt: PauseAt | undefined;

  constructor(
    database: Database,
    parts: {
      artifacts: PostgresArtifactStore;
      tracking: Pick<TrackingStore, "getRun">;
      events: AliasEvents;
      pauseAt?: PauseAt;
    },
  ) {
    this.#database = database;
    this.#artifacts = parts.artifacts;
    this.#tracking = parts.tracking;
    this.#events = parts.events;
    this.#pauseAt = parts.pauseAt;
  }

  async #modelNames(client: Queryable): Promise<string[]> {
    const { rows } = await client.query<{ name: string }>(
      "SELECT name FROM registered_models ORDER BY name",
    );
    return rows.map((row) => row.name);
  }

  async #readModel(client: Queryable, name: string, lock = false): Promise<ModelRow> {
    const { rows } = await client.query<ModelRow>(
      `SELECT ${MODEL_COLUMNS} FROM registered_models m
       WHERE m.name = $1${lock ? " FOR UPDATE OF m" : ""}`,
      [name],
    );
    if (rows.length === 0) {
      throw modelNotFound(name, this.#database.url.display, await this.#modelNames(client));
    }
    return rows[0];
  }

  async #aliases(client: Queryable, name: string): Promise<Record<string, number>> {
    const { rows } = await client.query<{ alias: string; version: number }>(
      "SELECT alias, version FROM aliases WHERE name = $1 ORDER BY alias",
      [name],
    );
    const aliases: Record<string, number> = {};
    for (const row of rows) aliases[row.alias] = row.version;
    return aliases;
  }

  async #toRegisteredModel(client: Queryable, model: ModelRow): Promise<RegisteredModel> {
    return {
      name: model.name,
      description: model.description,
      tags: { ...model.tags },
      createdAt: model.created_at,
      aliases: await this.#aliases(client, model.name),
      ...(model.latest_version > 0 ? { latestVersion: model.latest_version } : {}),
    };
  }

  /** Runs read-only work on one pooled connection, with driver errors translated. */
  #read<T>(what: string, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return this.#database.withClient(what, work);
  }

  async createRegisteredModel(
    name: string,
    options: CreateRegisteredModelOptions = {},
  ): Promise<RegisteredModel> {
    const { tags } = checkCreateModel(name, options);
    return this.#database.transaction("create a registered model", async (client) => {
      const { rows } = await client.query<ModelRow>(
        `INSERT INTO registered_models (name, description, tags, created_at)
         VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING
         RETURNING name, description, tags, created_at, 0 AS latest_version`,
        [name, options.description ?? "", tags, Date.now()],
      );
      if (rows.length === 0) {
        throw new MlopsError(
          "registry_conflict",
          `model "${name}" already exists in ${this.#database.url.display}`,
        );
      }
      return this.#toRegisteredModel(client, rows[0]);
    });
  }

  async getRegisteredModel(name: string): Promise<RegisteredModel> {
    validateName("model name", name);
    return this.#read("read a registered model", async (client) =>
      this.#toRegisteredModel(client, await this.#readModel(client, name)),
    );
  }

  async listRegisteredModels(): Promise<RegisteredModel[]> {
    return this.#read("list registered models", async (client) => {
      const { rows } = await client.query<ModelRow>(
        `SELECT ${MODEL_COLUMNS} FROM registered_models m ORDER BY m.name`,
      );
      const models: RegisteredModel[] = [];
      for (const row of rows) models.push(await this.#toRegisteredModel(client, row));
      return models;
    });
  }

  async createModelVersion(
    name: string,
    options: CreateModelVersionOptions,
  ): Promise<ModelVersion> {
    validateName("model name", name);
    const checked = checkVersionOptions(name, options);
    if (checked.runId !== undefined) await this.#tracking.getRun(checked.runId);
    const subject = `model "${name}"`;
    return this.#database.transaction(`register a version of ${subject}`, async (client) => {
      // The bytes first, outside any lock other writers wait on.
      const { digest } = await this.#artifacts.putIn(client, checked.artifact);
      const now = Date.now();
      await client.query(
        `INSERT INTO registered_models (name, created_at) VALUES ($1, $2)
         ON CONFLICT (name) DO NOTHING`,
        [name, now],
      );
      // The number, the row and the `version_created` notification in one statement: the
      // model's row lock, taken here, orders concurrent writers until COMMIT, and nothing else
      // runs while it is held (not even a round trip to echo the metadata back).
      const {
        rows: [{ version }],
      } = await client.query<{ version: number }>(
        `WITH numbered AS (
           UPDATE registered_models SET latest_version = latest_version + 1 WHERE name = $1
           RETURNING latest_version
         ), inserted AS (
           INSERT INTO model_versions
             (name, version, digest, size_bytes, run_id, description, tags, metadata, created_at)
           SELECT $1, latest_version, $2, $3, $4, $5, $6, $7, $8 FROM numbered
           RETURNING version
         )
         SELECT version, pg_notify($9, json_build_object(
           'type', 'version_created', 'name', $1::text, 'version', version, 'digest', $2::text
         )::text) FROM inserted`,
        [
          name,
          digest,
          checked.artifact.byteLength,
          checked.runId ?? null,
          checked.description ?? null,
          checked.tags,
          checked.metadata,
          now,
          aliasChannel(this.#database.url.schema),
        ],
      );
      await this.#pauseAt?.("version-before-commit", subject);
      return toVersion({
        name,
        version,
        digest,
        size_bytes: checked.artifact.byteLength,
        run_id: checked.runId ?? null,
        description: checked.description ?? null,
        tags: checked.tags,
        metadata: checked.metadata,
        created_at: now,
        aliases: null,
      });
    });
  }

  async #readVersion(client: Queryable, name: string, version: number): Promise<ModelVersion> {
    const { rows } = await client.query<VersionRow>(
      `SELECT ${VERSION_COLUMNS} FROM model_versions v WHERE v.name = $1 AND v.version = $2`,
      [name, version],
    );
    if (rows.length > 0) return toVersion(rows[0]);
    await this.#readModel(client, name);
    const { rows: numbers } = await client.query<{ version: number }>(
      "SELECT version FROM model_versions WHERE name = $1 ORDER BY version",
      [name],
    );
    throw versionNotFound(
      name,
      version,
      numbers.map((row) => row.version),
    );
  }

  async getModelVersion(name: string, version: number): Promise<ModelVersion> {
    validateName("model name", name);
    validateVersion(version);
    return this.#read("read a model version", (client) => this.#readVersion(client, name, version));
  }

  async getLatestModelVersion(name: string): Promise<ModelVersion> {
    validateName("model name", name);
    return this.#read("read a model version", async (client) => {
      const model = await this.#readModel(client, name);
      if (model.latest_version === 0) {
        throw new MlopsError("registry_not_found", `model "${name}" has no versions yet`);
      }
      return this.#readVersion(client, name, model.latest_version);
    });
  }

  async listModelVersions(name: string): Promise<ModelVersion[]> {
    validateName("model name", name);
    return this.#read("list model versions", async (client) => {
      await this.#readModel(client, name);
      const { rows } = await client.query<VersionRow>(
        `SELECT ${VERSION_COLUMNS} FROM model_versions v WHERE v.name = $1 ORDER BY v.version`,
        [name],
      );
      return rows.map(toVersion);
    });
  }

  async readModelArtifact(name: string, version: number): Promise<Uint8Array> {
    const record = await this.getModelVersion(name, version);
    return this.#artifacts.get(record.digest, { what: `model "${name}" version ${version}` });
  }

  /**
   * Deletes a version no alias points at (else `registry_conflict`, naming the aliases). Its
   * number stays taken (the model's counter never goes back), its moves stay in the alias
   * history, and its blob stays in the artifact store (other versions or runs may share it).
   */
  async deleteModelVersion(name: string, version: number): Promise<ModelVersion> {
    validateName("model name", name);
    validateVersion(version);
    return this.#database.transaction(
      `delete version ${version} of model "${name}"`,
      async (client) => {
        // The model's row lock orders this with alias moves and registrations.
        await this.#readModel(client, name, true);
        const record = await this.#readVersion(client, name, version);
        if (record.aliases.length > 0) throw versionHeld(name, version, record.aliases);
        await client.query("DELETE FROM model_versions WHERE name = $1 AND version = $2", [
          name,
          version,
        ]);
        return record;
      },
    );
  }

  async #moveAlias(
    name: string,
    alias: string,
    toVersion: number | null,
    options: AliasChangeOptions,
  ): Promise<AliasHistoryEntry> {
    const { actor, reason } = checkAliasChange(options);
    const subject = `model "${name}"`;
    return this.#database.transaction(`move alias "${alias}" of ${subject}`, async (client) => {
      // The model's row lock orders alias moves (and version numbers) of one model. It is its
      // own statement: reads in the statement that waits for the lock would see the snapshot
      // from before the wait (READ COMMITTED), missing the move that held it.
      const locked = await client.query(
        "SELECT 1 FROM registered_models WHERE name = $1 FOR UPDATE",
        [name],
      );
      // Not there: the usual read says so, naming the models that exist.
      if (locked.rows.length === 0) await this.#readModel(client, name);
      // Then one read and one write before COMMIT: every round trip here is time before
      // replicas hear of the move.
      const {
        rows: [{ digest, aliases }],
      } = await client.query<{ digest: string | null; aliases: Record<string, number> }>(
        `SELECT (SELECT v.digest FROM model_versions v WHERE v.name = $1 AND v.version = $2)
            AS digest,
          coalesce((SELECT json_object_agg(a.alias, a.version ORDER BY a.alias) FROM aliases a
            WHERE a.name = $1), '{}') AS aliases`,
        [name, toVersion],
      );
      if (toVersion !== null && digest === null) await this.#readVersion(client, name, toVersion);
      const fromVersion = Object.hasOwn(aliases, alias) ? aliases[alias] : null;
      if (toVersion === null && fromVersion === null) throw aliasNotFound(name, alias, aliases);
      // What a replica needs to switch without reading the registry back: the version's
      // digest and the model's aliases after the move.
      const after = { ...aliases };
      if (toVersion === null) delete after[alias];
      else after[alias] = toVersion;
      const payload = aliasMovedPayload({
        name,
        alias,
        version: toVersion,
        digest: digest ?? undefined,
        aliases: after,
      });
      const move =
        toVersion === null
          ? "DELETE FROM aliases WHERE name = $1 AND alias = $2"
          : `INSERT INTO aliases (name, alias, version) VALUES ($1, $2, $4)
             ON CONFLICT (name, alias) DO UPDATE SET version = $4`;
      // Server time, never before the model's last move: the history reads in order.
      const { rows } = await client.query<HistoryRow>(
        `WITH moved AS (${move}), entry AS (
           INSERT INTO alias_history (name, alias, from_version, to_version, actor, time, reason)
           VALUES ($1, $2, $3, $4, $5, GREATEST(${SERVER_NOW},
             (SELECT coalesce(max(time), 0) FROM alias_history WHERE name = $1)), $6)
           RETURNING name, alias, from_version, to_version, actor, time, reason
         )
         SELECT entry.*, pg_notify($7, $8) AS notified FROM entry`,
        [
          name,
          alias,
          fromVersion,
          toVersion,
          actor,
          reason,
          aliasChannel(this.#database.url.schema),
          payload,
        ],
      );
      await this.#pauseAt?.("alias-before-commit", subject);
      return toEntry(rows[0]);
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
    return this.#moveAlias(name, alias, version, options);
  }

  async deleteAlias(
    name: string,
    alias: string,
    options: AliasChangeOptions = {},
  ): Promise<AliasHistoryEntry> {
    validateName("model name", name);
    validateAlias(alias);
    return this.#moveAlias(name, alias, null, options);
  }

  async getAlias(name: string, alias: string): Promise<number> {
    validateName("model name", name);
    validateAlias(alias);
    return this.#read("read an alias", async (client) => {
      await this.#readModel(client, name);
      const aliases = await this.#aliases(client, name);
      if (!Object.hasOwn(aliases, alias)) throw aliasNotFound(name, alias, aliases);
      return aliases[alias];
    });
  }

  async listAliases(name: string): Promise<Record<string, number>> {
    validateName("model name", name);
    return this.#read("list aliases", async (client) => {
      await this.#readModel(client, name);
      return this.#aliases(client, name);
    });
  }

  async getAliasHistory(
    name: string,
    options: { alias?: string } = {},
  ): Promise<AliasHistoryEntry[]> {
    validateName("model name", name);
    if (options.alias !== undefined) validateAlias(options.alias);
    return this.#read("read the alias history", async (client) => {
      await this.#readModel(client, name);
      const { rows } = await client.query<HistoryRow>(
        `SELECT name, alias, from_version, to_version, actor, time, reason FROM alias_history
         WHERE name = $1 AND ($2::text IS NULL OR alias = $2) ORDER BY id`,
        [name, options.alias ?? null],
      );
      return rows.map(toEntry);
    });
  }

  async importRegisteredModel(record: RegisteredModelRecord): Promise<ImportOutcome> {
    const model = checkModelRecord(record);
    return this.#database.transaction(`import model "${model.name}"`, async (client) => {
      const { rows } = await client.query<ModelRow>(
        `SELECT name, description, tags, created_at, latest_version FROM registered_models
         WHERE name = $1 FOR UPDATE`,
        [model.name],
      );
      if (rows.length > 0) {
        const current = {
          name: rows[0].name,
          description: rows[0].description,
          tags: rows[0].tags,
          createdAt: rows[0].created_at,
        };
        if (isDeepStrictEqual(current, model)) return "unchanged";
      }
      await client.query(
        `INSERT INTO registered_models (name, description, tags, created_at)
         VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO UPDATE
         SET description = $2, tags = $3, created_at = $4`,
        [model.name, model.description, model.tags, model.createdAt],
      );
      return rows.length > 0 ? "updated" : "created";
    });
  }

  async importModelVersion(record: ModelVersionRecord): Promise<ImportOutcome> {
    const version = checkVersionRecord(record);
    const { name } = version;
    if (version.runId !== undefined) await this.#tracking.getRun(version.runId);
    if (!(await this.#artifacts.has(version.digest))) {
      throw missingBlobError(version);
    }
    return this.#database.transaction(
      `import model "${name}" version ${version.version}`,
      async (client) => {
        await this.#readModel(client, name, true);
        const { rows } = await client.query<VersionRow>(
          `SELECT ${VERSION_COLUMNS} FROM model_versions v WHERE v.name = $1 AND v.version = $2`,
          [name, version.version],
        );
        if (rows.length > 0) {
          const { aliases: _aliases, ...current } = toVersion(rows[0]);
          if (isDeepStrictEqual(current, version)) return "unchanged";
          throw new MlopsError(
            "registry_conflict",
            `model "${name}" version ${version.version} already exists here with other contents ` +
              `(${current.digest}, not ${version.digest}); versions are immutable`,
          );
        }
        await client.query(
          `INSERT INTO model_versions
           (name, version, digest, size_bytes, run_id, description, tags, metadata, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
          [
            name,
            version.version,
            version.digest,
            version.sizeBytes,
            version.runId ?? null,
            version.description ?? null,
            version.tags,
            version.metadata,
            version.createdAt,
          ],
        );
        // Later registrations continue after the highest number.
        await client.query(
          "UPDATE registered_models SET latest_version = GREATEST(latest_version, $2) WHERE name = $1",
          [name, version.version],
        );
        return "created";
      },
    );
  }

  async importAliasHistory(name: string, history: AliasHistoryEntry[]): Promise<ImportOutcome> {
    validateName("model name", name);
    return this.#database.transaction(
      `import the alias history of model "${name}"`,
      async (client) => {
        await this.#readModel(client, name, true);
        const { rows } = await client.query<HistoryRow>(
          `SELECT name, alias, from_version, to_version, actor, time, reason FROM alias_history
         WHERE name = $1 ORDER BY id`,
          [name],
        );
        const tail = historyTail(name, rows.map(toEntry), history);
        if (tail.length === 0) return "unchanged";
        const moved = new Map<string, number | null>();
        for (const entry of tail) {
          if (entry.toVersion !== null) await this.#readVersion(client, name, entry.toVersion);
          await client.query(
            `INSERT INTO alias_history (name, alias, from_version, to_version, actor, time, reason)
           VALUES ($1, $2, $3, $4, $5, $6, $7)`,
            [
              name,
              entry.alias,
              entry.fromVersion,
              entry.toVersion,
              entry.actor,
              entry.time,
              entry.reason,
            ],
          );
          moved.set(entry.alias, entry.toVersion);
        }
        for (const [alias, version] of moved) {
          if (version === null) {
            await client.query("DELETE FROM aliases WHERE name = $1 AND alias = $2", [name, alias]);
          } else {
            await client.query(
              `INSERT INTO aliases (name, alias, version) VALUES ($1, $2, $3)
             ON CONFLICT (name, alias) DO UPDATE SET version = $3`,
              [name, alias, version],
            );
          }
          await client.query("SELECT pg_notify($1, $2)", [
            aliasChannel(this.#database.url.schema),
            aliasMovedPayload({ name, alias, version }),
          ]);
        }
        return "updated";
      },
    );
  }

  /** Alias moves as they commit, over LISTEN/NOTIFY (`resync` after a reconnection). */
  watchAliases(listener: (event: AliasWatchEvent) => void): Promise<StopWatching> {
    return this.#events.subscribe(listener);
  }
}
