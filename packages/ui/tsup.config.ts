import { defineConfig } from "tsup";
import { buildClient } from "./scripts/build-client.mjs";

export default defineConfig({
  entry: { index: "src/index.ts" },
  format: ["esm", "cjs"],
  // Project references need `composite`; the declaration bundler wants a plain program.
  dts: { compilerOptions: { composite: false, incremental: false } },
  sourcemap: true,
  clean: true,
  target: "node20",
  // The CommonJS build finds dist/assets from its own file too (import.meta.url shimmed).
  shims: true,
  // The browser side (src/client): bundled with ECharts into dist/assets, served by `mlops ui`
  // and inlined into the HTML reports.
  onSuccess: async () => {
    await buildClient();
  },
});
