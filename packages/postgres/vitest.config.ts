import { defineConfig, mergeConfig } from "vitest/config";
import { sharedConfig } from "../../vitest.shared.ts";

// One PostgreSQL 15 cluster for the whole run, started in a temporary folder and stopped at the
// end (failures included); each test opens its own schema in it.
export default mergeConfig(
  sharedConfig,
  defineConfig({ test: { globalSetup: ["./src/testing/global-setup.ts"] } }),
);
