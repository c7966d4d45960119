/**
 * vitest globalSetup: one PostgreSQL cluster for the whole run. Tests read its URL with
 * `inject("postgresUrl")`; the returned teardown stops it, whether the tests passed or not.
 *
 * @example
 * // vitest.config.ts
 * export default defineConfig({
 *   test: { globalSetup: ["@mlops/postgres/testing/global-setup"] },
 * });
 */
import type { TestProject } from "vitest/node";
import { startPostgresCluster } from "./cluster.js";

declare module "vitest" {
  export interface ProvidedContext {
    postgresUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const cluster = await startPostgresCluster();
  const stop = () => cluster.stop();
  // A run stopped by Ctrl-C still removes its cluster.
  const onSignal = () => {
    void stop().finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  project.provide("postgresUrl", cluster.url);
  return async () => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await stop();
  };
}
