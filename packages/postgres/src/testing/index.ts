/**
 * Test helpers for PostgreSQL registries (`@mlops/postgres/testing`): a throwaway cluster, a
 * vitest globalSetup that starts one per run, and a fresh schema per test.
 */
import { randomBytes } from "node:crypto";

export {
  type PostgresCluster,
  type StartPostgresClusterOptions,
  startPostgresCluster,
} from "./cluster.js";

/**
 * The same database with a new, empty schema: every store opened at the URL sees only what it
 * writes, so tests sharing one cluster never see each other's models.
 *
 * @example
 * const url = freshSchemaUrl(inject("postgresUrl")); // postgres://…/mlops?schema=t_4f9a…
 */
export function freshSchemaUrl(url: string, prefix = "t"): string {
  const schema = `${prefix}_${randomBytes(6).toString("hex")}`;
  const parsed = new URL(url);
  parsed.searchParams.set("schema", schema);
  return parsed.toString();
}
