import { defineConfig, mergeConfig } from "vitest/config";
import { sharedConfig } from "../../vitest.shared.ts";

export default mergeConfig(
  sharedConfig,
  defineConfig({
    test: {
      // The browser bundles, from the current sources, before any test draws with them.
      globalSetup: ["./src/testing/global-setup.ts"],
      // Chromium pages and real servers on a loaded two-core machine.
      testTimeout: 120_000,
      hookTimeout: 120_000,
    },
  }),
);
