import { defineConfig } from "vitest/config";

/** Shared vitest settings: run every package's tests on source through the `@mlops/source` condition. */
export const sharedConfig = defineConfig({
  resolve: { conditions: ["@mlops/source", "module", "node", "import", "default"] },
  // No "import" here: these conditions also reach Node's require(), where "import" would hand a
  // CommonJS package (pg requiring pg-pool) the ES module build of its dependency.
  ssr: { resolve: { conditions: ["@mlops/source", "node", "default"] } },
  test: {
    environment: "node",
    // Generous: CI is a loaded two-core machine. A timeout only ends a test that hangs; no test
    // asserts on elapsed time.
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
