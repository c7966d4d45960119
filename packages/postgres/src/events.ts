/**
 * Alias moves and registered versions pushed over PostgreSQL's LISTEN/NOTIFY. Each committed
 * move or version sends one notification on the schema's channel (in its transaction, so only
 * committed ones are heard, in commit order). A
 * watcher holds one dedicated connection per store; when it drops, the watcher reconnects with
 * backoff and tells its listeners to `resync`, since moves made meanwhile were not heard.
 */
import type { AliasWatchEvent, StopWatching } from "@mlops/core";
import pg from "pg";
import type { Database } from "./connection.js";

/** The NOTIFY channel of a registry schema. */
export function aliasChannel(schema: string): string {
  return `mlops_alias_moved.${schema}`;
}

type Listener = (event: AliasWatchEvent) => void;

/** The largest NOTIFY payload PostgreSQL takes is 8000 bytes; stay clear of it. */
const PAYLOAD_LIMIT = 7500;

/**
 * The payload of an alias move's NOTIFY: the move, the digest of the version it points at and
 * the model's aliases after it (left out when they would not fit: watchers then resolve).
 */
export function aliasMovedPayload(move: {
  name: string;
  alias: string;
  version: number | null;
  digest?: string;
  aliases?: Record<string, number>;
}): string {
  const payload = JSON.stringify({ type: "alias_moved", ...move });
  if (Buffer.byteLength(payload) <= PAYLOAD_LIMIT) return payload;
  return JSON.stringify({
    type: "alias_moved",
    name: move.name,
    alias: move.alias,
    version: move.version,
  });
}

const isVersion = (value: unknown): value is number =>
  typeof value === "number" && Number.isSafeInteger(value) && value > 0;
const isDigest = (value: unknown): value is string =>
  typeof value === "string" && /^sha256:[0-9a-f]{64}$/.test(value);

/** A notification's payload as a watch event; throws on one it cannot read. */
export function parseNotification(payload: string): AliasWatchEvent {
  const event = JSON.parse(payload) as Record<string, unknown>;
  if (typeof event.name !== "string") throw new Error("no model name");
  if (event.type === "version_created") {
    if (!isVersion(event.version) || !isDigest(event.digest)) throw new Error("bad version");
    return {
      type: "version_created",
      name: event.name,
      version: event.version,
      digest: event.digest,
    };
  }
  // Moves sent before payloads had a type are moves too.
  if (event.type !== undefined && event.type !== "alias_moved") throw new Error("unknown event");
  if (typeof event.alias !== "string") throw new Error("no alias");
  if (event.version !== null && !isVersion(event.version)) throw new Error("bad version");
  const aliases = event.aliases as Record<string, unknown> | undefined;
  const known =
    aliases !== null &&
    typeof aliases === "object" &&
    !Array.isArray(aliases) &&
    Object.values(aliases).every(isVersion);
  return {
    type: "alias_moved",
    name: event.name,
    alias: event.alias,
    version: event.version,
    ...(event.version !== null && isDigest(event.digest) ? { digest: event.digest } : {}),
    ...(known ? { aliases: { ...(aliases as Record<string, number>) } } : {}),
  };
}

/** One LISTEN connection shared by every watcher of a store, opened on the first subscribe. */
export class AliasEvents {
  readonly #database: Database;
  readonly #listeners = new Set<Listener>();
  #client: pg.Client | undefined;
  #connecting: Promise<void> | undefined;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #backoffMs = 100;
  #closed = false;

  constructor(database: Database) {
    this.#database = database;
  }

  /**
   * Adds `listener`; resolves once the channel is listened to, so every move committed after
   * this resolves is delivered.
   */
  async subscribe(listener: Listener): Promise<StopWatching> {
    this.#listeners.add(listener);
    try {
      await this.#ensureConnected();
    } catch (error) {
      this.#listeners.delete(listener);
      throw this.#database.translate(error, "listen for alias moves");
    }
    return async () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) await this.#disconnect();
    };
  }

  #emit(event: AliasWatchEvent): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(event);
      } catch {
        // A listener's failure is its own; the others still hear the move.
      }
    }
  }

  #ensureConnected(): Promise<void> {
    if (this.#client) return Promise.resolve();
    this.#connecting ??= this.#connect().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  async #connect(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.#database.url.connectionString,
      application_name: "mlops-listen",
      connectionTimeoutMillis: 10_000,
      // Detect a dead server on an idle LISTEN connection.
      keepAlive: true,
    });
    client.on("notification", (message) => {
      if (message.channel !== aliasChannel(this.#database.url.schema) || !message.payload) return;
      try {
        this.#emit(parseNotification(message.payload));
      } catch {
        this.#emit({ type: "resync" });
      }
    });
    const lost = () => {
      if (this.#client !== client) return;
      this.#client = undefined;
      client.removeAllListeners("notification");
      client.end().catch(() => {});
      this.#scheduleReconnect();
    };
    client.on("error", lost);
    client.on("end", lost);
    await client.connect();
    await client.query(`LISTEN "${aliasChannel(this.#database.url.schema)}"`);
    if (this.#closed || this.#listeners.size === 0) {
      await client.end().catch(() => {});
      return;
    }
    this.#client = client;
    this.#backoffMs = 100;
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#listeners.size === 0 || this.#retry) return;
    const delay = this.#backoffMs;
    this.#backoffMs = Math.min(this.#backoffMs * 2, 5_000);
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      this.#ensureConnected().then(
        // Moves made while the connection was down were not heard: read everything again.
        () => this.#emit({ type: "resync" }),
        () => this.#scheduleReconnect(),
      );
    }, delay);
    this.#retry.unref();
  }

  async #disconnect(): Promise<void> {
    if (this.#retry) clearTimeout(this.#retry);
    this.#retry = undefined;
    await this.#connecting?.catch(() => {});
    const client = this.#client;
    this.#client = undefined;
    if (client) {
      client.removeAllListeners();
      client.on("error", () => {});
      await client.end().catch(() => {});
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#listeners.clear();
    await this.#disconnect();
  }
}
