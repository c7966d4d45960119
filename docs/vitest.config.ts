import { defineConfig, mergeConfig } from "vitest/config";
import { sharedConfig } from "../vitest.shared.ts";

// The first block of a page transforms @mlops/core's sources: on a loaded two-core CI machine
// that alone can pass 30 s (a timeout is not an assertion).
export default mergeConfig(
  sharedConfig,
  defineConfig({ test: { pool: "forks", testTimeout: 120_000 } }),
);
