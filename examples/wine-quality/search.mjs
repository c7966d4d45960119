// The wine-quality seed's model search, shared by the main job (main.mjs) and train.mjs:
// one-hot `color`, then a regression tree tuned by a random search over depth, min samples
// split/leaf, max leaf nodes and criterion, with 5-fold cross-validation on worker threads and
// every trial tracked as a nested run. The best model is chosen by cross-validated RMSE, never
// by its training score, and refitted on all the rows given.
import {
  choice,
  DecisionTreeRegressor,
  integer,
  KFold,
  OneHotEncoder,
  Pipeline,
  RandomSearch,
} from "@mlops/train";

/**
 * Runs the search on `train` (a Frame with the `quality` target) and returns the fitted search.
 * @param {import("@mlops/core").Frame} train
 * @param {{ registry: import("@mlops/core").Registry, trials: number, log: (line: string) => void }} options
 */
export async function searchTree(train, { registry, trials, log }) {
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
      if (done % 10 === 0 || done === total) {
        log(`  trial ${done}/${total}: best CV rmse so far ${bestScore?.toFixed(4)}`);
      }
    },
  });
  const started = performance.now();
  await search.fit(train, "quality");
  const seconds = (performance.now() - started) / 1000;
  log(`${trials} trials × 5 folds in ${seconds.toFixed(1)} s on ${search.workers} worker(s)`);
  return search;
}

/** The top `count` trials by cross-validated RMSE, as rows for console.table. */
export function leaderboard(search, count = 5) {
  const { cvResults } = search;
  return cvResults.rank_test_rmse
    .map((rank, index) => ({ rank, index }))
    .sort((a, b) => a.rank - b.rank || a.index - b.index)
    .slice(0, count)
    .map(({ rank, index }) => ({
      rank,
      "cv rmse": Number(cvResults.mean_test_rmse[index].toFixed(4)),
      "cv r2": Number(cvResults.mean_test_r2[index].toFixed(4)),
      ...Object.fromEntries(
        Object.entries(cvResults.params[index]).map(([key, value]) => [key.slice(6), value]),
      ),
    }));
}
