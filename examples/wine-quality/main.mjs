// The main job of @mlops, on the real UCI wine-quality data:
// validate with a schema → profile → convert formats → score a baseline → train (tree search) →
// register → gate against production and promote on a pass → serve and answer a prediction.
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import {
  bootstrapInterval,
  computeMetrics,
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
import { createInferenceApp, serve } from "@mlops/serve";
import { wineSchema } from "./schema.mjs";
import { leaderboard, searchTree } from "./search.mjs";

const quiet = process.argv.includes("--quiet");
// `--trials N` (default 60): fewer for a quick run (the rerun check uses 6).
const trialsAt = process.argv.indexOf("--trials");
const trials = trialsAt === -1 ? 60 : Number(process.argv[trialsAt + 1]);
if (!Number.isInteger(trials) || trials < 1) {
  throw new Error(`--trials takes a whole number ≥ 1, got ${process.argv[trialsAt + 1]}`);
}
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
// Not emptied first: another run of this job (the github-workflow example runs it while the
// tests run it too) may be writing here; each file is replaced atomically, with the same data.
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

// 6. Train: a regression tree tuned by a random search of 60 trials (`--trials N`) with 5-fold CV
// on worker threads (search.mjs), every trial a nested run in the registry; the best by CV rmse
// is refitted.
// `--temp-registry` (used by the tests) registers into a fresh temporary folder instead.
const temporary = process.argv.includes("--temp-registry")
  ? await mkdtemp(join(tmpdir(), "mlops-example-"))
  : undefined;
const registryPath = temporary
  ? join(temporary, ".mlops")
  : (process.env.MLOPS_REGISTRY ?? join(process.env.INIT_CWD ?? process.cwd(), ".mlops"));
const registry = await openRegistry(registryPath);
const train = frame.filter((i) => !isHoldout(i));
log(`\nTraining: random search over regression trees (${trials} trials × 5 folds)`);
const search = await searchTree(train, { registry, trials, log });
if (!quiet) console.table(leaderboard(search));
const treePredictions = search.predict(holdout);
const treeMetrics = computeMetrics(yTrue, treePredictions, ["rmse", "mae", "r2"]);
log(
  `Best tree on the holdout: rmse ${treeMetrics.rmse.toFixed(4)}, mae ${treeMetrics.mae.toFixed(4)}, r2 ${treeMetrics.r2.toFixed(4)} (baseline rmse ${metrics.rmse.toFixed(4)})`,
);
const fileDigest = `sha256:${createHash("sha256")
  .update(await readFile(dataFile))
  .digest("hex")}`;
const artifact = search.bestEstimator.toArtifact({
  schema: wineSchema,
  metrics: { cv_rmse: search.bestScore, ...treeMetrics },
  lineage: { runId: search.runId, dataDigest: fileDigest, rowCount: train.rowCount },
});

const shown = (path) => {
  const rel = relative(process.env.INIT_CWD ?? process.cwd(), path);
  return rel.startsWith("..") ? path : rel || ".";
};

// 7. Register the refitted best model as the next version of `wine`, with alias @staging —
// unless the registry already holds this very model (a rerun on the same data with the same
// seeds makes it again): then say so, and neither register a copy nor gate it against itself.
const same = await registry.findIdentical("wine", artifact);
const version =
  same ??
  (await registry.registerModel("wine", artifact, {
    runId: search.runId,
    aliases: ["staging"],
    reason: `main job: best of ${trials} trials, cv rmse ${search.bestScore.toFixed(4)}`,
  }));
const modelDigest = version.metadata.modelDigest ?? version.digest;
log(
  same
    ? `Identical to models:/wine/${same.version} (model digest ${modelDigest.slice(0, 19)}…): not registered again`
    : `Registered models:/wine/${version.version} (${version.digest.slice(0, 19)}…) with alias @staging in ${shown(registryPath)}`,
);

// 8. Gate: the new version (@staging) against @production on the same holdout rows; promote only
// on a pass. The first time there is no production model yet, so it passes with a note.
// `--no-gate` (or MLOPS_EXAMPLE_NO_GATE=1) leaves gating to a later step, as the GitHub workflow
// example does with the gate action.
const skipGate = process.argv.includes("--no-gate") || process.env.MLOPS_EXAMPLE_NO_GATE === "1";
let verdict = "skipped";
if (same?.aliases.includes("production")) {
  verdict = `skipped: v${same.version} is already @production`;
  log(`Gate ${verdict}`);
} else if (!skipGate) {
  const gate = await runGate(registry, {
    model: "wine",
    candidate: same ? `models:/wine/${same.version}` : "@staging",
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
// 9. Serve: the inference server follows @production; ask it for one prediction over real HTTP.
const served = await registry.resolve("models:/wine@production").catch(() => undefined);
let answer = "no production model to serve";
if (served) {
  const app = createInferenceApp({ registry, models: ["wine@production"], watch: false });
  await app.ready;
  const server = await serve(app, { port: 0, host: "127.0.0.1" });
  try {
    const row = holdout.toRows()[0];
    const { quality: truth, ...features } = row;
    const response = await fetch(`${server.url}/v1/models/wine/predict`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(features),
    });
    const body = await response.json();
    if (response.status !== 200)
      throw new Error(`predict answered ${response.status}: ${JSON.stringify(body)}`);
    // The server predicts what the registered artifact predicts.
    const expected = createPredictor(
      (await registry.loadModel("models:/wine@production")).artifact,
    ).predictRow(features);
    if (body.predictions[0] !== expected)
      throw new Error(`served ${body.predictions[0]}, expected ${expected}`);
    answer = `wine v${body.model.version} predicts quality ${body.predictions[0].toFixed(3)} (true ${truth})`;
    log(
      `\nServing models:/wine@production at ${server.url}: POST /v1/models/wine/predict → ${JSON.stringify(body.predictions)}`,
    );
  } finally {
    await server.close();
    await app.close();
  }
}
log(
  `Inspect the registry with: npx mlops models show wine@production --registry ${shown(registryPath)}`,
);
console.log(
  `wine-quality: ok (${frame.rowCount} rows validated, baseline rmse ${metrics.rmse.toFixed(4)}, tree rmse ${treeMetrics.rmse.toFixed(4)}, ${same ? "identical to" : "registered"} wine v${version.version}, gate ${verdict}; ${answer})`,
);
if (temporary) await rm(temporary, { recursive: true, force: true });
