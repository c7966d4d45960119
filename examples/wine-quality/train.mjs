// The wine-quality seed's use case with @mlops/train: a regression tree tuned by a random search
// of 60 trials (depth, min samples split/leaf, max leaf nodes, criterion) with 5-fold
// cross-validation on worker threads, every trial tracked as a nested run, the best model (by
// cross-validated RMSE) refitted, scored on a holdout and registered as `wine` @staging.
//
//   node train.mjs [--quiet] [--temp-registry] [--trials N]
//
// The same as the command line `mlops-train --data data/wine.csv --target quality --model tree
// --search random --trials 60 --register wine --alias staging`, written with the library.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { computeMetrics, createPredictor, openRegistry, readFrame } from "@mlops/core";
import { wineSchema } from "./schema.mjs";
import { leaderboard, searchTree } from "./search.mjs";

const quiet = process.argv.includes("--quiet");
const log = (...args) => {
  if (!quiet) console.log(...args);
};
const trialsFlag = process.argv.indexOf("--trials");
const trials = trialsFlag < 0 ? 60 : Number(process.argv[trialsFlag + 1]);
const here = new URL(".", import.meta.url).pathname;

// 1. Read and validate the data; keep every fifth row out of the search (main.mjs's holdout).
const frame = await readFrame(join(here, "data", "wine.csv"), { schema: wineSchema });
const train = frame.filter((i) => i % 5 !== 0);
const holdout = frame.filter((i) => i % 5 === 0);

// 2. Track in the folder registry (./.mlops or $MLOPS_REGISTRY); `--temp-registry` (tests)
// uses a fresh temporary folder.
const temporary = process.argv.includes("--temp-registry")
  ? await mkdtemp(join(tmpdir(), "mlops-example-train-"))
  : undefined;
const registryPath = temporary
  ? join(temporary, ".mlops")
  : (process.env.MLOPS_REGISTRY ?? join(process.env.INIT_CWD ?? process.cwd(), ".mlops"));
const registry = await openRegistry(registryPath);

// 3. The search (search.mjs), then the leaderboard: by cross-validated RMSE, never training.
const search = await searchTree(train, { registry, trials, log });
if (!quiet) console.table(leaderboard(search));

// 5. Score the refitted best model on the holdout and register it as wine @staging.
const predictions = search.predict(holdout);
const metrics = computeMetrics(holdout.numeric("quality"), predictions, ["rmse", "mae", "r2"]);
const artifact = search.bestEstimator.toArtifact({
  metrics: { cv_rmse: search.bestScore, ...metrics },
  lineage: { runId: search.runId },
});
const version = await registry.registerModel("wine", artifact, {
  runId: search.runId,
  aliases: ["staging"],
  reason: `train.mjs: best of ${trials} trials, cv rmse ${search.bestScore.toFixed(4)}`,
});

// The registered artifact predicts exactly what the fitted pipeline does (one-hot included).
const loaded = await registry.loadModel("models:/wine@staging");
const again = createPredictor(loaded.artifact).predict(holdout);
if (!again.every((value, i) => value === predictions[i])) {
  throw new Error("the registered model predicts differently from the fitted one");
}
const relativePath = relative(process.env.INIT_CWD ?? process.cwd(), registryPath);
const shown = relativePath.startsWith("..") ? registryPath : relativePath || ".";
const scores = Object.entries(metrics).map(([name, value]) => `${name} ${value.toFixed(4)}`);
log(`\nBest: ${JSON.stringify(search.bestParams)}`);
log(`Holdout (${holdout.rowCount} rows): ${scores.join(", ")}`);
log(`Registered models:/wine/${version.version} with alias @staging in ${shown}`);
console.log(
  `wine-quality train: ok (${trials} trials, cv rmse ${search.bestScore.toFixed(4)}, ` +
    `holdout rmse ${metrics.rmse.toFixed(4)}, registered wine v${version.version} @staging)`,
);
if (temporary) await rm(temporary, { recursive: true, force: true });
