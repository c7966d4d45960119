// Seed 004's model: StandardScaler → SelectKBest(mutual information) → PolynomialFeatures →
// Ridge, tuned by a grid search over k, degree and alpha with 3-fold cross-validation on r2, on
// the seed's own train/test split (data/seed_split.json).
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { computeMetrics } from "@mlops/core";
import {
  GridSearch,
  Pipeline,
  PolynomialFeatures,
  Ridge,
  SelectKBest,
  StandardScaler,
} from "@mlops/train";
import { FEATURES, featureSchema, TARGET } from "./features.mjs";

const here = dirname(fileURLToPath(import.meta.url));

/** The seed's grid (constants.py PARAM_GRID). */
export const PARAM_GRID = {
  selector__k: [3, 4, 5, 6, 7, 10],
  model__alpha: [1, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01],
  poly__degree: [1, 2, 3, 5, 7],
};

/** The rows of seed 004's test set (train_test_split(test_size=0.2, random_state=42)). */
export function seedSplit(rowCount) {
  const split = JSON.parse(readFileSync(join(here, "data", "seed_split.json"), "utf8"));
  if (split.rows !== rowCount) {
    throw new Error(`the seed's split is for ${split.rows} rows, the features have ${rowCount}`);
  }
  const test = new Set(split.test);
  const rows = [...Array(rowCount).keys()];
  return { train: rows.filter((i) => !test.has(i)), test: rows.filter((i) => test.has(i)) };
}

/**
 * Runs the grid search (the seed's grid unless `grid` is given) on the training rows, refits the best pipeline, scores it on the test
 * rows and exports the artifact (schema: the 141 features; metrics: test r2, rmse, mse and the
 * cross-validated r2).
 */
export async function trainMilkModel(
  features,
  { grid = PARAM_GRID, nJobs, onProgress, lineage } = {},
) {
  const table = features.drop(["Periodo"]);
  const { train, test } = seedSplit(table.rowCount);
  const trainFrame = table.take(train);
  const testFrame = table.take(test);
  const search = await new GridSearch({
    estimator: new Pipeline([
      ["scale", new StandardScaler()],
      ["selector", new SelectKBest({ scoreFunc: "mutual_info_regression", seed: 0 })],
      ["poly", new PolynomialFeatures()],
      ["model", new Ridge()],
    ]),
    paramGrid: grid,
    cv: 3,
    scoring: "r2",
    nJobs,
    onProgress,
  }).fit(trainFrame, TARGET);
  const truth = testFrame.numeric(TARGET);
  const predicted = search.predict(testFrame.drop([TARGET]));
  const metrics = computeMetrics(truth, predicted, ["r2", "rmse", "mse", "mae"]);
  const artifact = search.bestEstimator.toArtifact({
    schema: featureSchema,
    metrics: { ...metrics, cv_r2: search.bestScore },
    lineage: { ...lineage, rowCount: trainFrame.rowCount },
  });
  return { search, metrics, artifact, testFrame, trainRows: train.length };
}

export { FEATURES };
