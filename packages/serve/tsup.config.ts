import { defineConfig } from "tsup";

export default defineConfig({
  // `cli` is the `mlops-serve` executable (package.json "bin"): dist/cli.js, shebang kept;
  // `predict-cli` is `mlops-predict`; `batch-worker` the thread that scores batches.
  entry: {
    index: "src/index.ts",
    cli: "src/cli/bin.ts",
    "predict-cli": "src/cli/predict-bin.ts",
    "batch-worker": "src/batch/worker.ts",
  },
  format: ["esm", "cjs"],
  // Project references need `composite`; the declaration bundler wants a plain program.
  dts: { compilerOptions: { composite: false, incremental: false } },
  sourcemap: true,
  clean: true,
  target: "node20",
  // The CommonJS build gets an import.meta.url shim: the batch worker is found from it.
  shims: true,
});
