import { defineConfig } from "vitest/config";

/** Shared vitest settings: run every package's tests on source through the `@mlops/source` condition. */
export const sharedConfig = defineConfig({
  resolve: { conditions: ["@mlops/source", "module", "node", "import", "default"] },
  ssr: { resolve: { conditions: ["@mlops/source", "node", "import", "default"] } },
  test: {
    environment: "node",
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
