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
import {
  choice,
  DecisionTreeRegressor,
  integer,
  KFold,
  OneHotEncoder,
  Pipeline,
  RandomSearch,
} from "@mlops/train";
import { wineSchema } from "./schema.mjs";

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

// 3. The search: one-hot `color`, then a tree whose parameters are reached as `tree__param`.
const pipeline = new Pipeline([
  ["onehot", new OneHotEncoder()],
  ["tree", new DecisionTreeRegressor({ seed: 42 })],
]);
const search = new RandomSearch({
  estimator: pipeline,
  paramDistributions: {
    tree__maxDepth: choice([3, 4, 5, 6, 8, 10, 12, 16, null]),
    tree__minSamplesSplit: integer(2, 60),
    tree__minSamplesLeaf: integer(1, 40),
    tree__maxLeafNodes: choice([null, 16, 32, 64, 128, 256]),
    tree__criterion: choice(["squared_error", "friedman_mse"]),
  },
  nIter: trials,
  seed: 42,
  cv: new KFold({ nSplits: 5, shuffle: true, seed: 42 }),
  scoring: ["rmse", "r2"],
  refit: "rmse",
  registry,
  experiment: "wine-quality",
  runName: "tree-random-search",
  onProgress: ({ done, total, bestScore }) => {
    if (!quiet && (done % 10 === 0 || done === total)) {
      console.log(`  trial ${done}/${total}: best CV rmse so far ${bestScore?.toFixed(4)}`);
    }
  },
});
const started = performance.now();
await search.fit(train, "quality");
const seconds = (performance.now() - started) / 1000;

// 4. The leaderboard: chosen by cross-validated RMSE, never by the training score.
const { cvResults } = search;
const order = cvResults.rank_test_rmse
  .map((rank, index) => ({ rank, index }))
  .sort((a, b) => a.rank - b.rank || a.index - b.index)
  .slice(0, 5);
log(`\n${trials} trials × 5 folds in ${seconds.toFixed(1)} s on ${search.workers} worker(s)`);
if (!quiet) {
  console.table(
    order.map(({ rank, index }) => ({
      rank,
      "cv rmse": Number(cvResults.mean_test_rmse[index].toFixed(4)),
      "cv r2": Number(cvResults.mean_test_r2[index].toFixed(4)),
      ...Object.fromEntries(
        Object.entries(cvResults.params[index]).map(([key, value]) => [key.slice(6), value]),
      ),
    })),
  );
}

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
