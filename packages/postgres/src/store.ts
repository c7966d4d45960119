import {
  ComposedRegistryStore,
  MlopsError,
  type OpenStoreOptions,
  type RegistryBackend,
} from "@mlops/core";
import { type PauseAt, PostgresArtifactStore } from "./artifacts.js";
import { Database, type PostgresConnectionOptions, parseRegistryUrl } from "./connection.js";
import { AliasEvents } from "./events.js";
import { migrate, registryExists } from "./migrations.js";
import { PostgresModelRegistryStore } from "./models.js";
import { PostgresStudyStore } from "./studies.js";
import { PostgresTrackingStore } from "./tracking.js";

/**
 * Options of `openPostgresStore`.
 *
 * @example
 * await openPostgresStore(url, { maxConnections: 4 });
 */
export interface PostgresStoreOptions extends PostgresConnectionOptions {
  /**
   * Refuse a schema without a registry (`registry_not_found`) instead of creating it: what the
   * CLIs want, so a typo in `?schema=` does not start an empty registry.
   */
  mustExist?: boolean;
  /** Appended to "no registry" errors: where the URL came from. */
  hint?: string;
  /** @internal Test seam: awaited at points of a write so a test can kill the process there. */
  pauseAt?: PauseAt;
}

/**
 * A registry in PostgreSQL: the tracking, model-registry and artifact stores over one pool, the
 * study store of distributed searches, and alias events over LISTEN/NOTIFY. Open it with `openPostgresStore` (or any `openRegistry`
 * with a `postgres://` URL); `close()` it when done.
 *
 * @example
 * const store = await openPostgresStore("postgres://mlops@db/mlops");
 * const stop = await store.watchAliases!((event) => console.log(event));
 */
export class PostgresStore extends ComposedRegistryStore {
  override readonly tracking: PostgresTrackingStore;
  override readonly models: PostgresModelRegistryStore;
  override readonly artifacts: PostgresArtifactStore;
  override readonly studies: PostgresStudyStore;
  /** The schema that holds this registry's tables. */
  readonly schema: string;

  constructor(database: Database, options: PostgresStoreOptions = {}) {
    const events = new AliasEvents(database);
    const artifacts = new PostgresArtifactStore(database, { pauseAt: options.pauseAt });
    const tracking = new PostgresTrackingStore(database, artifacts);
    const models = new PostgresModelRegistryStore(database, {
      artifacts,
      tracking,
      events,
      pauseAt: options.pauseAt,
    });
    const studies = new PostgresStudyStore(database, tracking);
    super({
      tracking,
      models,
      artifacts,
      studies,
      location: database.url.display,
      close: async () => {
        await events.close();
        await database.close();
      },
    });
    this.tracking = tracking;
    this.models = models;
    this.artifacts = artifacts;
    this.studies = studies;
    this.schema = database.url.schema;
  }
}

/**
 * Opens the registry at a `postgres://` URL (`?schema=NAME` picks the schema, default `mlops`):
 * connects, and on first use creates the schema's tables through versioned migrations. A schema
 * written by a newer `@mlops/postgres` is refused (`registry_schema_unsupported`); a server that
 * cannot be reached is `registry_unavailable`. The password never appears in errors or
 * `location`.
 *
 * @example
 * const store = await openPostgresStore("postgres://mlops:secret@db.internal/mlops");
 * await store.createModelVersion("wine", { artifact: bytes });
 * await store.close();
 */
export async function openPostgresStore(
  url: string,
  options: PostgresStoreOptions = {},
): Promise<PostgresStore> {
  const database = new Database(parseRegistryUrl(url), options);
  try {
    if (options.mustExist && !(await registryExists(database))) {
      const hint = options.hint ? ` ${options.hint}` : "";
      throw new MlopsError(
        "registry_not_found",
        `no registry at ${database.url.display}: schema "${database.url.schema}" holds no ` +
          `@mlops tables${hint}`,
      );
    }
    await migrate(database);
  } catch (error) {
    await database.close().catch(() => {});
    throw error;
  }
  return new PostgresStore(database, options);
}

/**
 * The PostgreSQL backend for core's registry of backends: `openRegistry("postgres://…")` loads
 * this package and opens the URL with it.
 *
 * @example
 * import { registerRegistryBackend } from "@mlops/core";
 * import { registryBackend } from "@mlops/postgres";
 * registerRegistryBackend(registryBackend); // only where lazy loading is impossible (bundles)
 */
export const registryBackend: RegistryBackend = {
  name: "PostgreSQL",
  schemes: ["postgres", "postgresql"],
  open: (url: string, options: OpenStoreOptions) =>
    openPostgresStore(url, { mustExist: options.mustExist, hint: options.hint }),
};
