import { defineConfig } from "tsup";

export default defineConfig({
  entry: {
    index: "src/index.ts",
    "testing/index": "src/testing/index.ts",
    // The worker threads of hyperparameter search (resolved at run time as dist/search-worker.js).
    "search-worker": "src/search/worker.ts",
    // The worker threads of random forests (resolved at run time as dist/forest-worker.js).
    "forest-worker": "src/forest/forest-worker.ts",
    // The threads of gradient boosting's histograms (resolved at run time as dist/boosting-worker.js).
    "boosting-worker": "src/boosting/boosting-worker.ts",
    // The `mlops-train` executable (package.json "bin"): dist/cli.js, shebang kept by esbuild.
    cli: "src/cli/bin.ts",
  },
  external: ["vitest"],
  format: ["esm", "cjs"],
  // Project references need `composite`; the declaration bundler wants a plain program.
  dts: { compilerOptions: { composite: false, incremental: false } },
  sourcemap: true,
  clean: true,
  target: "node20",
  // `import.meta.url` in the CommonJS build (the search pool finds its worker file with it).
  shims: true,
});
