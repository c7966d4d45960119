import { defineConfig } from "tsup";

export default defineConfig({
  // `cli` is the `mlops` executable (package.json "bin"): dist/cli.js, shebang kept by esbuild.
  entry: {
    index: "src/index.ts",
    "testing/index": "src/testing/index.ts",
    // Shared by the packages (the CLI toolkit, number format): `@mlops/core/internal`.
    "internal/index": "src/internal/index.ts",
    // What a batch-scoring worker thread loads: `@mlops/core/internal/scoring`.
    "internal/scoring": "src/internal/scoring.ts",
    cli: "src/cli/bin.ts",
  },
  format: ["esm", "cjs"],
  // Project references need `composite`; the declaration bundler wants a plain program.
  dts: { compilerOptions: { composite: false, incremental: false } },
  sourcemap: true,
  clean: true,
  target: "node20",
  external: ["vitest"],
  // frame/arrow.ts tells the builds apart by `import.meta`, which is empty in the CommonJS one.
  esbuildOptions(options) {
    options.logOverride = { ...options.logOverride, "empty-import-meta": "silent" };
  },
});
