/**
 * The connection to a PostgreSQL registry: the URL read once (its `schema` parameter taken out,
 * the password never printed), one pool per store, transactions, and every driver error turned
 * into an `MlopsError` that names the registry without its credentials.
 */
import { MlopsError } from "@mlops/core";
import { redactLocation } from "@mlops/core/internal";
import pg from "pg";

/** What a query runs on: the pool, or a client inside a transaction. */
export type Queryable = Pick<pg.PoolClient, "query">;

/** Options of `openPostgresStore` that shape the connection. */
export interface PostgresConnectionOptions {
  /** At most this many connections per store (default 10). */
  maxConnections?: number;
  /** Give up connecting after this long (default 10 000 ms). */
  connectTimeoutMs?: number;
  /** What `pg_stat_activity` shows for these connections (default "mlops"). */
  applicationName?: string;
}

/** The parts of a registry URL. */
export interface RegistryUrl {
  /** The URL as given minus the `schema` parameter, for the driver. */
  connectionString: string;
  /** The schema holding the registry's tables (default `mlops`). */
  schema: string;
  /** The URL with its password hidden, for messages. */
  display: string;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Reads a `postgres://` URL: `?schema=NAME` picks the schema holding the registry (default
 * `mlops`); everything else goes to the driver as it is.
 */
export function parseRegistryUrl(url: string): RegistryUrl {
  const display = redactLocation(url);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new MlopsError(
      "registry_location_invalid",
      `registry location ${JSON.stringify(display)}: not a valid URL; expected ` +
        "postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?schema=NAME]",
    );
  }
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") {
    throw new MlopsError(
      "registry_location_invalid",
      `registry location ${JSON.stringify(display)}: expected a postgres:// or postgresql:// URL`,
    );
  }
  const schema = parsed.searchParams.get("schema") ?? "mlops";
  if (!SCHEMA_NAME.test(schema)) {
    throw new MlopsError(
      "registry_location_invalid",
      `registry location ${JSON.stringify(display)}: schema ${JSON.stringify(schema)} is ` +
        "invalid: expected lowercase letters, digits and _ (at most 63), not starting with a digit",
    );
  }
  parsed.searchParams.delete("schema");
  return { connectionString: parsed.toString(), schema, display };
}

// bigint columns (times in ms, sizes) come back as numbers: they stay below 2^53.
const types = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === 20
      ? (value: string) => Number(value)
      : (pg.types.getTypeParser as (oid: number, format?: string) => unknown)(
          oid,
          format,
        )) as pg.CustomTypesConfig["getTypeParser"],
};

/** SQLSTATE classes and driver messages that mean the connection is gone. */
function isConnectionFailure(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === "string") {
    if (/^08/.test(code) || code === "57P01" || code === "57P02" || code === "57P03") return true;
    if (
      ["ECONNREFUSED", "ECONNRESET", "ENOTFOUND", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH"].includes(
        code,
      )
    ) {
      return true;
    }
  }
  const message = String((error as Error | undefined)?.message ?? "");
  return /Connection terminated|timeout expired|Client was closed|Client has encountered a connection error|Cannot use a pool after calling end/i.test(
    message,
  );
}

/** A driver message, with anything that looks like the URL's password removed. */
function safeMessage(error: unknown, password: string | undefined): string {
  let message = String((error as Error | undefined)?.message ?? error);
  if (password) message = message.split(password).join("***");
  return message;
}

/**
 * The pool of one store, and the one place driver errors become `MlopsError`s.
 */
export class Database {
  readonly pool: pg.Pool;
  readonly url: RegistryUrl;
  readonly #password: string | undefined;
  #closed = false;

  constructor(url: RegistryUrl, options: PostgresConnectionOptions = {}) {
    this.url = url;
    try {
      this.#password = decodeURIComponent(new URL(url.connectionString).password) || undefined;
    } catch {
      this.#password = undefined;
    }
    this.pool = new pg.Pool({
      connectionString: url.connectionString,
      max: options.maxConnections ?? 10,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
      idleTimeoutMillis: 10_000,
      application_name: options.applicationName ?? "mlops",
      options: `-c search_path=${url.schema}`,
      types,
    });
    // An idle client that loses its connection must not crash the process: the pool drops it.
    this.pool.on("error", () => {});
  }

  /** The error to throw for `error`, raised while doing `what`. */
  translate(error: unknown, what: string): unknown {
    if (MlopsError.isInstance(error)) return error;
    const message = safeMessage(error, this.#password);
    const code = (error as { code?: unknown } | undefined)?.code;
    const where = `PostgreSQL registry ${this.url.display}`;
    if (this.#closed) {
      return new MlopsError("registry_unavailable", `${where}: ${what}: the store was closed`);
    }
    if (code === "3D000") {
      return new MlopsError(
        "registry_not_found",
        `${where}: ${message}; create it first (createdb) or point the URL at an existing database`,
      );
    }
    if (code === "28P01" || code === "28000") {
      return new MlopsError("registry_unavailable", `${where}: ${message}`);
    }
    if (isConnectionFailure(error)) {
      return new MlopsError(
        "registry_unavailable",
        `${where}: ${what} failed: the connection was lost or refused (${message}); ` +
          "the transaction was rolled back, nothing was written",
      );
    }
    return new MlopsError("registry_unavailable", `${where}: ${what} failed: ${message}`, {
      cause: code === undefined ? undefined : { code },
    });
  }

  /** Runs `work` on one connection, outside a transaction. */
  async query<T extends pg.QueryResultRow>(
    what: string,
    sql: string,
    values: unknown[] = [],
  ): Promise<T[]> {
    try {
      return (await this.pool.query<T>(sql, values)).rows;
    } catch (error) {
      throw this.translate(error, what);
    }
  }

  /**
   * Runs `work` on one pooled connection, outside a transaction, with driver errors translated;
   * a connection that broke is destroyed, not reused.
   */
  async withClient<T>(what: string, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw this.translate(error, what);
    }
    let broken = false;
    try {
      return await work(client);
    } catch (error) {
      broken = !MlopsError.isInstance(error);
      throw this.translate(error, what);
    } finally {
      client.release(broken);
    }
  }

  /**
   * Runs `work` in one transaction (READ COMMITTED): committed when it resolves, rolled back when
   * it throws or the connection drops. A client whose connection broke is destroyed, not reused.
   */
  async transaction<T>(what: string, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw this.translate(error, what);
    }
    let broken: unknown;
    // A connection that dies while idle in this transaction reports here, not to a query.
    const onError = (error: unknown) => {
      broken = error;
    };
    client.on("error", onError);
    try {
      await client.query("BEGIN");
      const result = await work(client);
      await client.query("COMMIT");
      return result;
    } catch (error) {
      broken ??= isConnectionFailure(error) ? error : undefined;
      if (broken === undefined) await client.query("ROLLBACK").catch(() => {});
      throw this.translate(error, what);
    } finally {
      client.off("error", onError);
      client.release(broken === undefined ? undefined : true);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.pool.end();
  }
}
