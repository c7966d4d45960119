import { MlopsError } from "@mlops/core";
import { describe, expect, it } from "vitest";
import { MeanRegressor, tinyFrame } from "../search/fixtures.test-support.js";
import { conformanceRegressionFrame } from "../testing/estimator-conformance.js";
import { DecisionTreeRegressor } from "../tree/decision-tree.js";
import { crossValidate } from "./cross-validate.js";
import { KFold, TimeSeriesSplit } from "./folds.js";

const tiny = tinyFrame;

describe("crossValidate", () => {
  it("scores each fold of any estimator (hand-computed)", async () => {
    // KFold(2) of y = 1,1,1,5,5,5: each fold trains on one half and predicts its mean for the
    // other, so every error is 4 (RMSE 4, MAE 4); on its own rows the mean is exact.
    const result = await crossValidate(new MeanRegressor(), tiny, "y", {
      cv: 2,
      scoring: ["rmse", "mae"],
      returnTrainScore: true,
    });
    expect(result.test_rmse).toEqual([4, 4]);
    expect(result.test_mae).toEqual([4, 4]);
    expect(result.train_rmse).toEqual([0, 0]);
    expect(result.fit_time).toHaveLength(2);
    expect(result.score_time.every((seconds) => seconds >= 0)).toBe(true);
  });

  it("fits a tree per fold: a depth-1 tree on a time series (hand-computed)", async () => {
    // TimeSeriesSplit(2) of 6 rows: test sizes 2. Fold 0 trains on rows 0..1 (y 1, 1) and
    // predicts 1 for rows 2..3 (y 1, 5): RMSE √((0 + 16) / 2) = √8. Fold 1 trains on rows 0..3:
    // the split at x ≤ 3.5 gives 1 | 5, so rows 4..5 (x 5, 6; y 5, 5) are predicted exactly.
    const result = await crossValidate(new DecisionTreeRegressor({ maxDepth: 1 }), tiny, "y", {
      cv: new TimeSeriesSplit({ nSplits: 2 }),
    });
    expect(result.test_rmse).toEqual([Math.sqrt(8), 0]);
  });

  it("gives the tree fast path exactly the scores of fitting clones on fold frames", async () => {
    const frame = conformanceRegressionFrame(300, 5);
    const options = {
      cv: new KFold({ nSplits: 4, shuffle: true, seed: 2 }),
      scoring: ["rmse", "r2", "mae"],
      returnTrainScore: true,
    };
    const tree = new DecisionTreeRegressor({ maxDepth: 5, minSamplesLeaf: 3 });
    const fast = await crossValidate(tree, frame, "y", options);
    const slow = await crossValidate(tree, frame, "y", { ...options, fastPath: false });
    for (const key of ["test_rmse", "test_r2", "test_mae", "train_rmse"] as const) {
      expect(fast[key]).toEqual(slow[key]);
    }
    // And the same as a manual loop over the folds.
    const folds = options.cv.split(frame);
    folds.forEach((fold, k) => {
      const model = tree.clone().fit(frame.take(fold.train), "y");
      const test = frame.take(fold.test);
      const predictions = model.predict(test);
      let squares = 0;
      const y = test.numeric("y");
      for (let i = 0; i < y.length; i++) squares += (predictions[i] - y[i]) ** 2;
      expect(fast.test_rmse[k]).toBeCloseTo(Math.sqrt(squares / y.length), 12);
    });
  });

  it("reports bad input clearly", async () => {
    const withCategory = tiny.withColumn("c", {
      kind: "category",
      codes: Int32Array.of(0, 1, 0, 1, 0, 1),
      dictionary: ["a", "b"],
    });
    await expect(
      crossValidate(new DecisionTreeRegressor(), withCategory, "y", { cv: 2 }),
    ).rejects.toThrow('feature "c" is a category column; encode it first');
    await expect(crossValidate(new MeanRegressor(), withCategory, "y", { cv: 2 })).rejects.toThrow(
      'feature "c" is a category column',
    );
    await expect(
      crossValidate(new MeanRegressor(), tiny, "y", { scoring: "rsme" }),
    ).rejects.toThrow('Unknown metric "rsme"');
    await expect(crossValidate(new MeanRegressor(), tiny, "nope")).rejects.toThrow(
      'target "nope" is not a column of the frame',
    );
    await expect(crossValidate({} as never, tiny, "y")).rejects.toBeInstanceOf(MlopsError);
  });
});
