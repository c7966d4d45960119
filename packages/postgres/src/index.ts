/**
 * @mlops/postgres: the team backend of the @mlops registry. The tracking, model-registry and
 * artifact stores on PostgreSQL, alias moves pushed over LISTEN/NOTIFY, selected by a
 * `postgres://` URL wherever a registry is accepted.
 */

export { CHUNK_BYTES, PostgresArtifactStore, type PostgresStorePhase } from "./artifacts.js";
export {
  type PostgresConnectionOptions,
  parseRegistryUrl,
  type RegistryUrl,
} from "./connection.js";
export { aliasChannel } from "./events.js";
export { SCHEMA_VERSION } from "./migrations.js";
export { PostgresModelRegistryStore } from "./models.js";
export {
  openPostgresStore,
  PostgresStore,
  type PostgresStoreOptions,
  registryBackend,
} from "./store.js";
export { PostgresStudyStore } from "./studies.js";
export { PostgresTrackingStore } from "./tracking.js";
