import { createRandom, Frame, MlopsError, numericColumn } from "@mlops/core";
import { describe, expect, it } from "vitest";
import { NotFittedError } from "../estimator/errors.js";
import { RandomForestRegressor } from "../forest/random-forest.js";
import { Pipeline } from "../pipeline/pipeline.js";
import { OneHotEncoder } from "../preprocessing/one-hot-encoder.js";
import { crossValidate } from "../selection/cross-validate.js";
import { KFold } from "../selection/folds.js";
import { conformanceRegressionFrame } from "../testing/estimator-conformance.js";
import { DecisionTreeRegressor } from "../tree/decision-tree.js";
import { MeanRegressor, ScaledTree, tinyFrame } from "./fixtures.test-support.js";
import { GridSearch, RandomSearch, type SearchProgress } from "./search.js";
import { choice, integer, type ParamGrid } from "./space.js";

const frame = conformanceRegressionFrame(400, 9);
const grid = { maxDepth: [1, 2, 4, 8, null], minSamplesLeaf: [1, 10] };

describe("GridSearch", () => {
  it("fills cvResults columns that agree with cross-validating each candidate", async () => {
    const search = await new GridSearch({
      estimator: new DecisionTreeRegressor(),
      paramGrid: grid,
      cv: 4,
      scoring: ["rmse", "r2"],
      returnTrainScore: true,
      nJobs: 1,
    }).fit(frame, "y");
    const results = search.cvResults;
    expect(search.fastPath).toBe(true);
    expect(search.workers).toBe(1);
    expect(Object.keys(results).sort()).toEqual(
      [
        "params",
        "param_maxDepth",
        "param_minSamplesLeaf",
        "mean_fit_time",
        "std_fit_time",
        "mean_score_time",
        "std_score_time",
        ...["rmse", "r2"].flatMap((metric) => [
          ...[0, 1, 2, 3].flatMap((k) => [`split${k}_test_${metric}`, `split${k}_train_${metric}`]),
          `mean_test_${metric}`,
          `std_test_${metric}`,
          `rank_test_${metric}`,
          `mean_train_${metric}`,
          `std_train_${metric}`,
        ]),
      ].sort(),
    );
    expect(results.params).toHaveLength(10);
    expect(results.params[0]).toEqual({ maxDepth: 1, minSamplesLeaf: 1 });
    expect(results.param_maxDepth).toEqual([1, 1, 2, 2, 4, 4, 8, 8, null, null]);
    for (const index of [0, 5, 8]) {
      const model = new DecisionTreeRegressor(results.params[index] as object);
      const expected = await crossValidate(model, frame, "y", { cv: 4, scoring: ["rmse", "r2"] });
      for (let k = 0; k < 4; k++) {
        expect(results[`split${k}_test_rmse`][index]).toBe(expected.test_rmse[k]);
        expect(results[`split${k}_test_r2`][index]).toBe(expected.test_r2[k]);
      }
      const mean = expected.test_rmse.reduce((a, b) => a + b, 0) / 4;
      expect(results.mean_test_rmse[index]).toBeCloseTo(mean, 14);
      const variance = expected.test_rmse.reduce((a, b) => a + (b - mean) ** 2, 0) / 4;
      expect(results.std_test_rmse[index]).toBeCloseTo(Math.sqrt(variance), 14);
    }
    // Ranks: 1 = lowest RMSE, highest R²; ties share the lower rank.
    const means = results.mean_test_rmse as number[];
    const ranks = results.rank_test_rmse as number[];
    means.forEach((mean, i) => {
      expect(ranks[i]).toBe(1 + means.filter((other) => other < mean).length);
    });
    const best = means.indexOf(Math.min(...means));
    expect(search.bestIndex).toBe(best);
    expect(search.bestScore).toBe(means[best]);
    expect(search.bestParams).toEqual(results.params[best]);
    const r2 = results.mean_test_r2 as number[];
    (results.rank_test_r2 as number[]).forEach((rank, i) => {
      expect(rank).toBe(1 + r2.filter((other) => other > r2[i]).length);
    });
  });

  it("picks the best by cross-validated score, never by training score", async () => {
    // Much noise on y: a fully grown tree learns the noise.
    const random = createRandom(2);
    const noisy = frame.withColumn("y", {
      kind: "number",
      values: frame.numeric("y").map((value) => value + 6 * (random.next() - 0.5)),
    });
    const search = await new GridSearch({
      estimator: new DecisionTreeRegressor(),
      paramGrid: grid,
      returnTrainScore: true,
      nJobs: 1,
    }).fit(noisy, "y");
    const train = search.cvResults.mean_train_rmse as number[];
    const byTrain = train.indexOf(Math.min(...train));
    // A fully grown tree fits its training rows exactly but generalises worse.
    expect(search.cvResults.params[byTrain]).toEqual({ maxDepth: null, minSamplesLeaf: 1 });
    expect(train[byTrain]).toBe(0);
    expect(search.bestIndex).not.toBe(byTrain);
    expect(search.bestScore).toBeLessThan((search.cvResults.mean_test_rmse as number[])[byTrain]);
  });

  it("refits the best candidate on all the data", async () => {
    const search = await new GridSearch({
      estimator: new DecisionTreeRegressor({ seed: 3 }),
      paramGrid: grid,
      nJobs: 1,
    }).fit(frame, "y");
    const direct = new DecisionTreeRegressor({ seed: 3, ...search.bestParams }).fit(frame, "y");
    expect(search.bestEstimator.getParams()).toEqual(direct.getParams());
    expect(search.predict(frame)).toEqual(direct.predict(frame));
    expect(search.refitTime).toBeGreaterThanOrEqual(0);
    const noRefit = await new GridSearch({
      estimator: new DecisionTreeRegressor(),
      paramGrid: { maxDepth: [1, 2] },
      refit: false,
      nJobs: 1,
    }).fit(frame, "y");
    expect(noRefit.bestParams).toEqual({ maxDepth: 2 });
    expect(() => noRefit.bestEstimator).toThrow("only available with refit: true");
  });

  it("chooses by the refit metric, in its direction", async () => {
    const search = await new GridSearch({
      estimator: new DecisionTreeRegressor(),
      paramGrid: grid,
      scoring: ["mae", "r2"],
      refit: "r2",
      nJobs: 1,
    }).fit(frame, "y");
    const r2 = search.cvResults.mean_test_r2 as number[];
    expect(search.metric.name).toBe("r2");
    expect(search.bestIndex).toBe(r2.indexOf(Math.max(...r2)));
    expect(search.bestScore).toBe(Math.max(...r2));
    expect(
      () =>
        new GridSearch({
          estimator: new DecisionTreeRegressor(),
          paramGrid: grid,
          scoring: "mae",
          refit: "rmse",
        }),
    ).toThrow('refit: "rmse" is not one of the scoring metrics (mae)');
  });

  it("searches any estimator by cloning it (hand-computed means)", async () => {
    // KFold(2) of y = 1,1,1,5,5,5 with shift s: the fold errors are |4 + s| and |4 − s|.
    const search = await new GridSearch({
      estimator: new MeanRegressor(),
      paramGrid: { shift: [-6, 0, 6] },
      cv: 2,
      nJobs: 1,
    }).fit(tinyFrame, "y");
    expect(search.fastPath).toBe(false);
    expect(search.cvResults.mean_test_rmse).toEqual([6, 4, 6]);
    expect(search.cvResults.rank_test_rmse).toEqual([2, 1, 2]);
    expect(search.bestParams).toEqual({ shift: 0 });
  });

  it("passes step__param keys to composite estimators", async () => {
    const search = await new GridSearch({
      estimator: new ScaledTree(),
      paramGrid: { tree__maxDepth: [1, 3], factor: [1, 2] },
      cv: new KFold({ nSplits: 3, shuffle: true, seed: 1 }),
      nJobs: 1,
    }).fit(frame, "y");
    expect(search.bestParams).toEqual({ factor: 1, tree__maxDepth: 3 });
    expect(search.bestEstimator.getParams().tree.getParams().maxDepth).toBe(3);
    expect(search.cvResults.param_tree__maxDepth).toEqual([1, 3, 1, 3]);
  });

  it("scores failed fits as errorScore, ranks them last, or raises", async () => {
    const options = {
      estimator: new DecisionTreeRegressor(),
      paramGrid: { maxDepth: [0, 3] },
      nJobs: 1,
    };
    const search = await new GridSearch(options).fit(frame, "y");
    expect(Number.isNaN(search.cvResults.mean_test_rmse[0])).toBe(true);
    expect(search.cvResults.rank_test_rmse).toEqual([2, 1]);
    expect(search.bestParams).toEqual({ maxDepth: 3 });
    const fixed = await new GridSearch({ ...options, errorScore: 99 }).fit(frame, "y");
    expect(fixed.cvResults.split0_test_rmse[0]).toBe(99);
    await expect(
      new GridSearch({ ...options, errorScore: "raise" }).fit(frame, "y"),
    ).rejects.toThrow("candidate 0, fold 0: maxDepth: expected an integer ≥ 1 or null, got 0");
    await expect(
      new GridSearch({ ...options, paramGrid: { maxDepth: [0, -1] } }).fit(frame, "y"),
    ).rejects.toThrow("every fit failed (2 candidates × 5 folds)");
  });

  it("rejects misspelt parameters before fitting anything", async () => {
    await expect(
      new GridSearch({
        estimator: new DecisionTreeRegressor(),
        paramGrid: { maxDepht: [2] },
        nJobs: 1,
      }).fit(frame, "y"),
    ).rejects.toThrow('unknown parameter "maxDepht" for DecisionTreeRegressor');
    expect(() => new GridSearch({ estimator: {} as never, paramGrid: grid })).toThrow(
      "estimator: expected an estimator",
    );
  });

  it("reports progress as each candidate completes", async () => {
    const events: SearchProgress[] = [];
    await new GridSearch({
      estimator: new DecisionTreeRegressor(),
      paramGrid: grid,
      nJobs: 1,
      onProgress: (event) => events.push(event),
    }).fit(frame, "y");
    expect(events.map((event) => event.done)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(events.every((event) => event.total === 10 && event.metric === "rmse")).toBe(true);
    for (let i = 1; i < events.length; i++) {
      expect(events[i].bestScore!).toBeLessThanOrEqual(events[i - 1].bestScore!);
    }
  });

  it("is unfitted until fit", () => {
    const search = new GridSearch({ estimator: new DecisionTreeRegressor(), paramGrid: grid });
    expect(() => search.cvResults).toThrow(NotFittedError);
    expect(() => search.bestIndex).toThrow(MlopsError);
  });
});

describe("RandomSearch", () => {
  it("cross-validates nIter seeded draws and refits the best", async () => {
    const options = {
      estimator: new DecisionTreeRegressor(),
      paramDistributions: {
        maxDepth: integer(1, 10),
        minSamplesLeaf: integer(1, 30),
        criterion: choice(["squared_error", "friedman_mse"]),
      },
      nIter: 12,
      seed: 4,
      nJobs: 1,
    };
    const search = await new RandomSearch(options).fit(frame, "y");
    const again = await new RandomSearch(options).fit(frame, "y");
    expect(search.cvResults.params).toHaveLength(12);
    expect(search.cvResults.params).toEqual(again.cvResults.params);
    expect(search.cvResults.mean_test_rmse).toEqual(again.cvResults.mean_test_rmse);
    for (const params of search.cvResults.params) {
      expect(params.maxDepth).toBeGreaterThanOrEqual(1);
      expect(params.maxDepth).toBeLessThanOrEqual(10);
    }
    const means = search.cvResults.mean_test_rmse as number[];
    expect(search.bestScore).toBe(Math.min(...means));
    expect(search.bestEstimator.getParams().maxDepth).toBe(search.bestParams.maxDepth);
  });
});

describe("tree fast path", () => {
  it("scores each split rule on its own fold rows, as fitting clones on fold frames", async () => {
    // Exact trees compare float32-rounded inputs, hist trees float64 ones: one search holding
    // both keeps a fold's test rows per rule (each gathered and rounded once), and scores them
    // as the estimators' own predict does. `a` takes 1 and 1 + 2⁻⁴⁰ (one float32 value): hist
    // trees split there and send a test row of 1 + 2⁻⁴⁰ right, where rounded it would go left.
    // Few distinct values (all in every fold's training rows), so the fast path's bins over all
    // rows are the bins of each fold's clone.
    const n = 300;
    const coarse = new Frame({
      a: numericColumn(Float64Array.from({ length: n }, (_, i) => 1 + (i % 2) * 2 ** -40)),
      b: numericColumn(Float64Array.from({ length: n }, (_, i) => ((i * 11) % 13) + 0.1)),
      y: numericColumn(Float64Array.from({ length: n }, (_, i) => (i % 2) * 10 + (i % 5) / 7)),
    });
    const options = {
      estimator: new DecisionTreeRegressor({ seed: 5 }),
      paramGrid: { splitter: ["best", "hist"], maxDepth: [2, 5] } as ParamGrid,
      cv: 3,
      returnTrainScore: true,
      nJobs: 1,
    };
    const fast = await new GridSearch(options).fit(coarse, "y");
    const slow = await new GridSearch({ ...options, fastPath: false }).fit(coarse, "y");
    expect(fast.fastPath).toBe(true);
    for (const key of Object.keys(fast.cvResults)) {
      if (key.includes("_test_") || key.includes("_train_")) {
        expect(fast.cvResults[key], key).toEqual(slow.cvResults[key]);
      }
    }
    expect(fast.cvResults.param_splitter).toEqual(["best", "hist", "best", "hist"]);
  });
});

describe("forest fast path", () => {
  it("scores forests exactly as fitting clones on fold frames", async () => {
    const options = {
      estimator: new RandomForestRegressor({ nEstimators: 4, nJobs: 1, seed: 3 }),
      paramGrid: [
        { maxDepth: [3, null], maxFeatures: ["sqrt", null] },
        { bootstrap: [false], maxDepth: [4] },
        { maxSamples: [0.5] },
      ] as ParamGrid,
      cv: 3,
      returnTrainScore: true,
      nJobs: 1,
    };
    const fast = await new GridSearch(options).fit(frame, "y");
    const slow = await new GridSearch({ ...options, fastPath: false }).fit(frame, "y");
    expect(fast.fastPath).toBe(true);
    expect(slow.fastPath).toBe(false);
    for (const key of Object.keys(fast.cvResults)) {
      if (key.includes("_test_") || key.includes("_train_")) {
        expect(fast.cvResults[key], key).toEqual(slow.cvResults[key]);
      }
    }
  });
});

describe("a fold that fails for every candidate", () => {
  it("throws instead of picking a best by NaN scores", async () => {
    // Contiguous folds over rows sorted by a category: the last fold's test rows hold a value
    // the one-hot encoder never saw.
    const n = 90;
    const sorted = new Frame({
      x: { kind: "number", values: Float64Array.from({ length: n }, (_, i) => i % 7) },
      c: {
        kind: "category",
        codes: Int32Array.from({ length: n }, (_, i) => (i < 60 ? 0 : 1)),
        dictionary: ["a", "b"],
      },
      y: { kind: "number", values: Float64Array.from({ length: n }, (_, i) => i % 5) },
    });
    const search = new GridSearch({
      estimator: new Pipeline([
        ["onehot", new OneHotEncoder()],
        ["tree", new DecisionTreeRegressor()],
      ]),
      paramGrid: { tree__maxDepth: [2, 3] },
      cv: 3,
      nJobs: 1,
    });
    await expect(search.fit(sorted, "y")).rejects.toThrow(
      "no candidate has a mean CV score (a fold fails for every one); the first error: " +
        "candidate 0, fold 2:",
    );
  });
});
