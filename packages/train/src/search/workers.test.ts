// Searches on real worker threads: runs dist/search-worker.js (built first when stale).

import { join } from "node:path";
import { readFrame } from "@mlops/core";
import { beforeAll, describe, expect, it } from "vitest";
import { Pipeline } from "../pipeline/pipeline.js";
import { OneHotEncoder } from "../preprocessing/one-hot-encoder.js";
import { crossValidate } from "../selection/cross-validate.js";
import { conformanceRegressionFrame } from "../testing/estimator-conformance.js";
import { DecisionTreeRegressor } from "../tree/decision-tree.js";
import { ensureBuilt, trainPackageDir } from "./dist-fixture.js";
import { MeanRegressor } from "./fixtures.test-support.js";
import { GridSearch, type SearchProgress } from "./search.js";

beforeAll(() => {
  ensureBuilt();
}, 120_000);

const frame = conformanceRegressionFrame(600, 4);
const wineCsv = join(trainPackageDir, "..", "..", "examples", "wine-quality", "data", "wine.csv");
const paramGrid = {
  maxDepth: [2, 5, null],
  minSamplesLeaf: [1, 10],
  criterion: ["squared_error", "friedman_mse"],
};

function scoreColumns(results: Record<string, unknown[]>): Record<string, unknown[]> {
  return Object.fromEntries(
    Object.entries(results).filter(([key]) => key.includes("_test_") || key === "params"),
  );
}

describe("search on worker threads", () => {
  it("gives exactly the in-thread results, on the fast path and the generic one", async () => {
    const base = {
      estimator: new DecisionTreeRegressor(),
      paramGrid,
      cv: 4,
      scoring: ["rmse", "mae"],
    };
    const inThread = await new GridSearch({ ...base, nJobs: 1 }).fit(frame, "y");
    const events: SearchProgress[] = [];
    const pooled = await new GridSearch({
      ...base,
      nJobs: 2,
      onProgress: (event) => events.push(event),
    }).fit(frame, "y");
    expect(pooled.workers).toBe(2);
    expect(pooled.fastPath).toBe(true);
    expect(scoreColumns(pooled.cvResults)).toEqual(scoreColumns(inThread.cvResults));
    expect(pooled.bestParams).toEqual(inThread.bestParams);
    expect(pooled.predict(frame)).toEqual(inThread.predict(frame));
    expect(events.map((event) => event.done)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));

    // Workers build the estimator from its class name and parameters.
    const generic = await new GridSearch({ ...base, nJobs: 2, fastPath: false }).fit(frame, "y");
    expect(generic.workers).toBe(2);
    expect(generic.fastPath).toBe(false);
    expect(scoreColumns(generic.cvResults)).toEqual(scoreColumns(inThread.cvResults));
  });

  it("runs crossValidate on workers", async () => {
    const tree = new DecisionTreeRegressor({ maxDepth: 4 });
    const pooled = await crossValidate(tree, frame, "y", { cv: 3, nJobs: 2 });
    const local = await crossValidate(tree, frame, "y", { cv: 3 });
    expect(pooled.test_rmse).toEqual(local.test_rmse);
  });

  it("sends pipelines to workers step by step (step__param keys)", async () => {
    const wine = (await readFrame(wineCsv)).slice(0, 1200);
    const pipeline = new Pipeline([
      ["onehot", new OneHotEncoder()],
      ["tree", new DecisionTreeRegressor()],
    ]);
    const options = {
      estimator: pipeline,
      paramGrid: { tree__maxDepth: [2, 4, 6], tree__minSamplesLeaf: [1, 20] },
      cv: 3,
    };
    const pooled = await new GridSearch({ ...options, nJobs: 2 }).fit(wine, "quality");
    const local = await new GridSearch({ ...options, nJobs: 1 }).fit(wine, "quality");
    expect(pooled.workers).toBe(2);
    expect(pooled.fastPath).toBe(false);
    expect(scoreColumns(pooled.cvResults)).toEqual(scoreColumns(local.cvResults));
    expect(pooled.bestEstimator.getParams().tree__maxDepth).toBe(pooled.bestParams.tree__maxDepth);
  });

  it("runs estimators the package does not export in-thread", async () => {
    const search = await new GridSearch({
      estimator: new MeanRegressor(),
      paramGrid: { shift: [0, 1] },
      nJobs: 2,
    }).fit(frame, "y");
    expect(search.workers).toBe(1);
    expect(search.bestParams).toEqual({ shift: 0 });
  });

  it("stops the pool on the first error with errorScore: raise", async () => {
    const search = new GridSearch({
      estimator: new DecisionTreeRegressor(),
      paramGrid: { maxDepth: [3, 4], minSamplesSplit: [2, 1.5] },
      nJobs: 2,
      errorScore: "raise",
    });
    await expect(search.fit(frame, "y")).rejects.toThrow(
      "minSamplesSplit: expected an integer ≥ 2 or a fraction in (0, 1), got 1.5",
    );
  });
});
