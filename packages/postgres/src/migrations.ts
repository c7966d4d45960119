/**
 * The registry's tables, as numbered migrations applied in order on first use. The schema's
 * `mlops_schema_migrations` table records each one; a registry written by a newer
 * `@mlops/postgres` (a version this code does not know) is refused rather than misread.
 */
import { MlopsError } from "@mlops/core";
import type { Database } from "./connection.js";

/** One step of the schema: applied once, in a transaction, never edited after release. */
interface Migration {
  version: number;
  description: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: "tracking, model registry and artifact stores",
    sql: `
CREATE TABLE blobs (
  digest text PRIMARY KEY,
  blob_id bigint NOT NULL UNIQUE,
  size_bytes bigint NOT NULL,
  chunk_count integer NOT NULL,
  created_at bigint NOT NULL
);
CREATE SEQUENCE blob_ids;
CREATE TABLE blob_chunks (
  blob_id bigint NOT NULL,
  chunk integer NOT NULL,
  data bytea NOT NULL,
  PRIMARY KEY (blob_id, chunk)
);

CREATE TABLE experiments (
  experiment_id text PRIMARY KEY,
  name text NOT NULL UNIQUE,
  tags jsonb NOT NULL DEFAULT '{}',
  created_at bigint NOT NULL
);
CREATE SEQUENCE experiment_ids START 1;
INSERT INTO experiments (experiment_id, name, tags, created_at)
  VALUES ('0', 'Default', '{}', (extract(epoch FROM clock_timestamp()) * 1000)::bigint);

CREATE TABLE runs (
  run_id text PRIMARY KEY,
  experiment_id text NOT NULL REFERENCES experiments (experiment_id),
  run_name text NOT NULL,
  status text NOT NULL,
  start_time bigint NOT NULL,
  end_time bigint,
  parent_run_id text REFERENCES runs (run_id),
  params jsonb NOT NULL DEFAULT '{}',
  tags jsonb NOT NULL DEFAULT '{}',
  latest_metrics jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX runs_experiment ON runs (experiment_id, start_time DESC);
CREATE INDEX runs_parent ON runs (parent_run_id) WHERE parent_run_id IS NOT NULL;

CREATE TABLE metrics (
  run_id text NOT NULL REFERENCES runs (run_id),
  key text NOT NULL,
  value double precision NOT NULL,
  timestamp bigint NOT NULL,
  step bigint NOT NULL,
  seq bigserial,
  PRIMARY KEY (run_id, key, seq)
);

CREATE TABLE run_artifacts (
  run_id text NOT NULL REFERENCES runs (run_id),
  name text NOT NULL,
  digest text NOT NULL REFERENCES blobs (digest),
  size_bytes bigint NOT NULL,
  PRIMARY KEY (run_id, name)
);

CREATE TABLE registered_models (
  name text PRIMARY KEY,
  description text NOT NULL DEFAULT '',
  tags jsonb NOT NULL DEFAULT '{}',
  created_at bigint NOT NULL,
  latest_version integer NOT NULL DEFAULT 0
);

CREATE TABLE model_versions (
  name text NOT NULL REFERENCES registered_models (name),
  version integer NOT NULL,
  digest text NOT NULL REFERENCES blobs (digest),
  size_bytes bigint NOT NULL,
  run_id text,
  description text,
  tags jsonb NOT NULL DEFAULT '{}',
  metadata jsonb NOT NULL DEFAULT '{}',
  created_at bigint NOT NULL,
  PRIMARY KEY (name, version)
);

CREATE TABLE aliases (
  name text NOT NULL REFERENCES registered_models (name),
  alias text NOT NULL,
  version integer NOT NULL,
  PRIMARY KEY (name, alias),
  FOREIGN KEY (name, version) REFERENCES model_versions (name, version)
);

CREATE TABLE alias_history (
  id bigserial PRIMARY KEY,
  name text NOT NULL REFERENCES registered_models (name),
  alias text NOT NULL,
  from_version integer,
  to_version integer,
  actor text NOT NULL,
  time bigint NOT NULL,
  reason text
);
CREATE INDEX alias_history_model ON alias_history (name, id);
`,
  },
  {
    version: 2,
    description: "studies of distributed searches",
    sql: `
CREATE TABLE studies (
  name text PRIMARY KEY,
  study_id text NOT NULL,
  spec json NOT NULL,
  data_digest text NOT NULL,
  state text NOT NULL,
  run_id text NOT NULL REFERENCES runs (run_id),
  experiment_id text NOT NULL,
  created_at bigint NOT NULL,
  created_by text NOT NULL,
  completed_at bigint,
  finished_by text,
  result json
);

CREATE TABLE study_trials (
  study text NOT NULL REFERENCES studies (name),
  number integer NOT NULL,
  batch integer NOT NULL,
  position integer NOT NULL,
  payload json NOT NULL,
  state text NOT NULL,
  attempt integer NOT NULL,
  worker text,
  heartbeat_at bigint,
  completed_at bigint,
  result json,
  PRIMARY KEY (study, number),
  UNIQUE (study, batch, position)
);
CREATE INDEX study_trials_open ON study_trials (study, number)
  WHERE state IN ('WAITING', 'RUNNING');
`,
  },
];

/** The newest schema version this code knows. */
export const SCHEMA_VERSION = MIGRATIONS.at(-1)!.version;

/** Whether the registry's tables exist in the schema (before any migration runs). */
export async function registryExists(database: Database): Promise<boolean> {
  const rows = await database.query<{ found: string | null }>(
    "check the registry schema",
    "SELECT to_regclass($1) AS found",
    [`${database.url.schema}.mlops_schema_migrations`],
  );
  return rows[0]?.found !== null && rows[0]?.found !== undefined;
}

/**
 * Brings the schema up to `SCHEMA_VERSION`: creates it on first use, applies missing migrations
 * in one transaction under an advisory lock (many processes may open a new registry at once),
 * and refuses a schema newer than this code.
 */
export async function migrate(database: Database): Promise<void> {
  const { schema, display } = database.url;
  await database.transaction("apply schema migrations", async (client) => {
    // One migrator per schema at a time; the others wait, then find nothing left to do.
    await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`mlops.migrate.${schema}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await client.query(`
      CREATE TABLE IF NOT EXISTS ${schema}.mlops_schema_migrations (
        version integer PRIMARY KEY,
        description text NOT NULL,
        applied_at bigint NOT NULL
      )`);
    const { rows } = await client.query<{ version: number | null }>(
      `SELECT max(version) AS version FROM ${schema}.mlops_schema_migrations`,
    );
    const current = rows[0]?.version ?? 0;
    if (current > SCHEMA_VERSION) {
      throw new MlopsError(
        "registry_schema_unsupported",
        `PostgreSQL registry ${display}: its schema is version ${current}, newer than this ` +
          `@mlops/postgres understands (up to ${SCHEMA_VERSION}); upgrade @mlops/postgres to use ` +
          "it (nothing was changed)",
      );
    }
    for (const migration of MIGRATIONS) {
      if (migration.version <= current) continue;
      await client.query(`SET LOCAL search_path TO ${schema}`);
      await client.query(migration.sql);
      await client.query(
        `INSERT INTO ${schema}.mlops_schema_migrations (version, description, applied_at)
         VALUES ($1, $2, $3)`,
        [migration.version, migration.description, Date.now()],
      );
    }
  });
}
