// A folder registry with many tracked runs, for bench/ui.mjs: `searches` hyperparameter searches
// of `trials` trials each (a parent run and one nested run per trial, as mlops-train tracks them:
// params, per-fold test_rmse with step = fold, mean_test_rmse, fit times), seeded, written
// through the store's API. Made once per size under .bench/ and reused.
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";

export async function makeRunsRegistry(root, { searches, trials, folds = 5, seed = 20240611 }) {
  const path = join(root, `runs-${searches}x${trials}`);
  const done = join(path, "complete");
  if (existsSync(done)) return path;
  rmSync(path, { recursive: true, force: true });
  const { openFolderStore } = await import("../packages/core/dist/index.js");
  const { writeFileSync } = await import("node:fs");
  const store = await openFolderStore(path);
  let state = seed;
  const random = () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const experiment = await store.createExperiment("wine-search");
  const started = Date.UTC(2024, 5, 11, 9);
  for (let s = 0; s < searches; s++) {
    const parent = await store.createRun({
      experimentId: experiment.experimentId,
      runName: `mlops-train forest random #${s + 1}`,
      startTime: started + s * 3_600_000,
      tags: { "mlops.search": "random", "mlops.estimator": "RandomForestRegressor" },
    });
    const work = [];
    for (let t = 0; t < trials; t++) {
      const maxDepth = 2 + Math.floor(random() * 18);
      const minLeaf = 1 + Math.floor(random() * 20);
      const maxFeatures = [0.3, 0.5, 0.7, 1][Math.floor(random() * 4)];
      const trees = [50, 100, 200, 400][Math.floor(random() * 4)];
      const criterion = random() < 0.5 ? "squared_error" : "absolute_error";
      const base = 0.56 + 0.9 / maxDepth + minLeaf * 0.002 + (1 - maxFeatures) * 0.03;
      const scores = Array.from({ length: folds }, () => base + (random() - 0.5) * 0.06);
      const fit = 0.05 + trees * 0.002 * maxDepth * 0.1;
      const startTime = started + s * 3_600_000 + t * 1000;
      work.push(async () => {
        const run = await store.createRun({
          experimentId: experiment.experimentId,
          runName: `trial-${String(t).padStart(3, "0")}`,
          parentRunId: parent.runId,
          startTime,
          tags: { "mlops.trial": String(t) },
        });
        await store.logParams(run.runId, {
          max_depth: maxDepth,
          min_samples_leaf: minLeaf,
          max_features: maxFeatures,
          n_estimators: trees,
          criterion,
        });
        const timestamp = startTime + 900;
        await store.logMetrics(run.runId, [
          ...scores.map((value, step) => ({ key: "test_rmse", value, step, timestamp })),
          ...scores.map((_, step) => ({ key: "fit_time", value: fit, step, timestamp })),
          { key: "mean_test_rmse", value: scores.reduce((a, b) => a + b) / folds, timestamp },
          { key: "mean_fit_time", value: fit, timestamp },
        ]);
        await store.endRun(run.runId, "FINISHED", timestamp);
      });
    }
    for (let i = 0; i < work.length; i += 16)
      await Promise.all(work.slice(i, i + 16).map((w) => w()));
    await store.logMetrics(parent.runId, [{ key: "best_cv_rmse", value: 0.6, timestamp: started }]);
    await store.endRun(parent.runId, "FINISHED", started + s * 3_600_000 + trials * 1000);
  }
  writeFileSync(done, "");
  return path;
}
