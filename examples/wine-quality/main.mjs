// The main job of @mlops, on the real UCI wine-quality data:
// validate with a schema → profile → convert formats → score a baseline → fit, track and
// register → gate against production and promote on a pass.
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import {
  bootstrapInterval,
  computeMetrics,
  createArtifact,
  createPredictor,
  describeFrame,
  formatGateTable,
  formatIssues,
  openRegistry,
  readFrame,
  runGate,
  SchemaError,
  writeFrame,
} from "@mlops/core";
import MultivariateLinearRegression from "ml-regression-multivariate-linear";
import { wineSchema } from "./schema.mjs";

const quiet = process.argv.includes("--quiet");
const log = (...args) => {
  if (!quiet) console.log(...args);
};
const here = new URL(".", import.meta.url).pathname;
const dataFile = join(here, "data", "wine.csv");

// 1. Read and validate: every value is checked against the schema on the way in.
const started = performance.now();
const frame = await readFrame(dataFile, { schema: wineSchema });
log(
  `Read ${frame.rowCount} rows × ${frame.columnCount} columns from data/wine.csv in ${(performance.now() - started).toFixed(0)} ms (schema-validated)`,
);

// 2. Profile: summary statistics per column.
const fmt = (value) => (Number.isNaN(value) ? "—" : Number(value.toPrecision(4)).toString());
const rows = describeFrame(frame).map((s) =>
  s.kind === "category"
    ? {
        column: s.name,
        kind: s.kind,
        count: s.count,
        missing: s.missing,
        summary: s.top.map((t) => `${t.value}: ${t.count}`).join(", "),
      }
    : {
        column: s.name,
        kind: s.kind,
        count: s.count,
        missing: s.missing,
        summary: `mean ${fmt(s.mean)} · std ${fmt(s.std)} · min ${fmt(s.min)} · median ${fmt(s.p50)} · max ${fmt(s.max)}`,
      },
);
if (!quiet) console.table(rows);

// 3. Bad input never slips through: the same schema rejects bad rows with precise issues.
const bad = wineSchema.safeParseRows([
  { ...frame.toRows()[0], alcohol: "abc" },
  { ...frame.toRows()[1], color: "rose", pH: 15 },
]);
if (bad.success) throw new Error("expected the bad rows to be rejected");
log(`\nThe schema rejects bad rows:\n${formatIssues(bad.error.issues)}`);
if (!(bad.error instanceof SchemaError)) throw new Error("expected a SchemaError");

// 4. Columnar formats: the same frame through Parquet and Arrow IPC, read back identically.
const out = join(here, ".out");
await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });
for (const extension of ["parquet", "arrow", "jsonl"]) {
  const path = join(out, `wine.${extension}`);
  await writeFrame(path, frame);
  const back = await readFrame(path, { schema: wineSchema });
  const same =
    back.rowCount === frame.rowCount &&
    back.numeric("alcohol").every((v, i) => v === frame.numeric("alcohol")[i]);
  if (!same) throw new Error(`${extension} round trip changed the data`);
  log(`Wrote and re-read .out/wine.${extension}: identical`);
}

// 5. Score a baseline on a holdout: predict the mean training quality per color.
const isHoldout = (i) => i % 5 === 0;
const quality = frame.numeric("quality");
const color = frame.column("color").codes;
const sums = [0, 0];
const counts = [0, 0];
for (let i = 0; i < frame.rowCount; i++) {
  if (isHoldout(i)) continue;
  sums[color[i]] += quality[i];
  counts[color[i]] += 1;
}
const holdout = frame.filter((i) => isHoldout(i));
const yTrue = holdout.numeric("quality");
const holdoutColor = holdout.column("color").codes;
const yPred = Float64Array.from(holdoutColor, (code) => sums[code] / counts[code]);
const metrics = computeMetrics(yTrue, yPred, ["rmse", "mae", "r2"]);
const interval = bootstrapInterval(yTrue, yPred, "rmse", { resamples: 1000, seed: 42 });
log(
  `\nBaseline (mean quality per color) on ${holdout.rowCount} holdout rows: rmse ${metrics.rmse.toFixed(4)} (95% CI ${interval.lower.toFixed(4)}–${interval.upper.toFixed(4)}), mae ${metrics.mae.toFixed(4)}, r2 ${metrics.r2.toFixed(4)}`,
);

// 6. Fit a linear model (one-hot colour, standard scaling, least squares) on the training rows.
const train = frame.filter((i) => !isHoldout(i));
const numericNames = wineSchema.featureNames.filter((name) => name !== "color");
const scaler = { kind: "standard_scaler", columns: numericNames, mean: [], scale: [] };
for (const name of numericNames) {
  const values = train.numeric(name);
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length;
  scaler.mean.push(mean);
  scaler.scale.push(Math.sqrt(variance));
}
const oneHot = {
  kind: "one_hot",
  column: "color",
  categories: ["white"], // red is the reference level (drop="first")
  handleUnknown: "ignore",
  outputs: ["color_white"],
};
const inputs = [...numericNames, "color_white"];
const design = (part) => {
  const codes = part.column("color").codes;
  return Array.from({ length: part.rowCount }, (_, i) => [
    ...numericNames.map((name, j) => (part.numeric(name)[i] - scaler.mean[j]) / scaler.scale[j]),
    codes[i] === 1 ? 1 : 0,
  ]);
};
const ols = new MultivariateLinearRegression(
  design(train),
  Array.from(train.numeric("quality"), (y) => [y]),
);
const coefficients = Float64Array.from(ols.weights.slice(0, inputs.length), (row) => row[0]);
const intercept = ols.weights[inputs.length][0];
const fileDigest = `sha256:${createHash("sha256")
  .update(await readFile(dataFile))
  .digest("hex")}`;
const artifactInput = {
  kind: "linear",
  schema: wineSchema,
  preprocessing: [oneHot, scaler],
  model: { inputs, intercept },
  arrays: { coefficients },
  params: { model: "LinearRegression", fitIntercept: true, holdout: "every 5th row" },
  lineage: { dataDigest: fileDigest, rowCount: train.rowCount },
};
const draft = createArtifact(artifactInput);
const linearPredictions = createPredictor(draft).predict(holdout);
const linearMetrics = computeMetrics(yTrue, linearPredictions, ["rmse", "mae", "r2"]);
log(
  `Linear model on the same holdout: rmse ${linearMetrics.rmse.toFixed(4)}, mae ${linearMetrics.mae.toFixed(4)}, r2 ${linearMetrics.r2.toFixed(4)}`,
);
const artifact = createArtifact({
  ...artifactInput,
  metrics: linearMetrics,
  lineage: draft.manifest.lineage,
});

const shown = (path) => {
  const rel = relative(process.env.INIT_CWD ?? process.cwd(), path);
  return rel.startsWith("..") ? path : rel || ".";
};

// 7. Track the run and register the model in the folder registry (./.mlops or $MLOPS_REGISTRY).
// `--temp-registry` (used by the tests) registers into a fresh temporary folder instead.
const temporary = process.argv.includes("--temp-registry")
  ? await mkdtemp(join(tmpdir(), "mlops-example-"))
  : undefined;
const registryPath = temporary
  ? join(temporary, ".mlops")
  : (process.env.MLOPS_REGISTRY ?? join(process.env.INIT_CWD ?? process.cwd(), ".mlops"));
const registry = await openRegistry(registryPath);
const version = await registry.withRun(
  { experiment: "wine-quality", runName: "linear-regression", params: artifact.manifest.params },
  async (run) => {
    await registry.logMetrics(run.runId, linearMetrics);
    await registry.logMetrics(run.runId, { baseline_rmse: metrics.rmse });
    return registry.registerModel("wine", artifact, {
      runId: run.runId,
      aliases: ["staging"],
      reason: `main job: holdout rmse ${linearMetrics.rmse.toFixed(4)}`,
    });
  },
);

// 8. Gate: the new version (@staging) against @production on the same holdout rows; promote only
// on a pass. The first time there is no production model yet, so it passes with a note.
// `--no-gate` (or MLOPS_EXAMPLE_NO_GATE=1) leaves gating to a later step, as the GitHub workflow
// example does with the gate action.
const skipGate = process.argv.includes("--no-gate") || process.env.MLOPS_EXAMPLE_NO_GATE === "1";
let verdict = "skipped";
if (!skipGate) {
  const gate = await runGate(registry, {
    model: "wine",
    candidate: "@staging",
    baseline: "@production",
    data: holdout,
    rules: ["rmse:maxRelativeRegression=0.02", "r2:maxAbsoluteRegression=0.01"],
    promote: "production",
    reason: "main job",
  });
  if (!quiet) {
    const against = gate.baseline
      ? `models:/wine/${gate.baseline.version}`
      : "no production model yet";
    console.log(`\nGate: models:/wine/${gate.candidate.version} vs ${against}`);
    console.log(formatGateTable(gate.result));
  }
  verdict = gate.result.passed
    ? `passed${gate.promoted ? `, @production → v${gate.candidate.version}` : ""}`
    : "failed, @production unchanged";
  log(`Gate ${verdict}`);
}
const loaded = await registry.loadModel(`models:/wine/${version.version}`);
const again = createPredictor(loaded.artifact).predict(holdout);
if (!again.every((value, i) => value === linearPredictions[i])) {
  throw new Error("the registered model predicts differently from the fitted one");
}
log(
  `Registered models:/wine/${version.version} (${version.digest.slice(0, 19)}…) with alias @staging in ${shown(registryPath)}`,
);
log(`Inspect it with: npx mlops models show wine@staging --registry ${registryPath}`);
console.log(
  `wine-quality: ok (${frame.rowCount} rows validated, baseline rmse ${metrics.rmse.toFixed(4)}, linear rmse ${linearMetrics.rmse.toFixed(4)}, registered wine v${version.version}, gate ${verdict})`,
);
if (temporary) await rm(temporary, { recursive: true, force: true });
