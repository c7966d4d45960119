import { categoryColumn, Frame, numericColumn } from "@mlops/core";
import { describe, expect, it } from "vitest";
import { Pipeline } from "../pipeline/pipeline.js";
import { StandardScaler } from "../preprocessing/standard-scaler.js";
import { GridSearch } from "../search/search.js";
import { DecisionTreeRegressor } from "../tree/decision-tree.js";
import { resolveTarget } from "./target.js";

const frame = new Frame({
  x: numericColumn([1, 2, 3, 4]),
  color: categoryColumn(["a", "b", "a", "b"]),
  y: numericColumn([1, 2, Number.NaN, 4]),
});

describe("resolveTarget", () => {
  it("splits a target column off, or takes one value per row", () => {
    const named = resolveTarget(frame.drop(["color"]), "x", "fit", { requireFeatures: true });
    expect(named.featureNames).toEqual(["y"]);
    expect([...named.values]).toEqual([1, 2, 3, 4]);
    const given = resolveTarget(
      frame.withColumn("target", numericColumn([0, 0, 0, 0])),
      [5, 6, 7, 8],
      "fit",
    );
    expect(given.targetName).toBe("_target");
    expect(given.featureNames).toEqual(["x", "color", "y", "target"]);
  });

  it("says the same thing for every estimator, pipeline, transformer and search", async () => {
    const fits: [string, () => unknown][] = [
      [
        "DecisionTreeRegressor.fit",
        () => new DecisionTreeRegressor().fit(frame.drop(["color"]), "y"),
      ],
      [
        "Pipeline.fit",
        () => new Pipeline([["tree", new DecisionTreeRegressor()]]).fit(frame.drop(["color"]), "y"),
      ],
      ["StandardScaler.fit", () => new StandardScaler().fit(frame.drop(["color"]), "y")],
    ];
    for (const [context, fit] of fits) {
      expect(fit).toThrow(
        `${context}: target "y" has a missing value (NaN) at row 2; drop or impute those rows first`,
      );
    }
    const search = new GridSearch({
      estimator: new DecisionTreeRegressor(),
      paramGrid: { maxDepth: [1] },
      cv: 2,
      nJobs: 1,
    });
    await expect(search.fit(frame.drop(["color"]), "y")).rejects.toThrow(
      'target "y" has a missing value (NaN) at row 2; drop or impute those rows first',
    );
    expect(() => resolveTarget(frame, "color", "fit")).toThrow(
      'fit: target "color" is a category column; a regressor needs a numeric target',
    );
    expect(() => resolveTarget(frame, "z", "fit")).toThrow(
      'fit: target "z" is not a column of the frame (columns: x, color, y)',
    );
    expect(() => resolveTarget(frame, [1, 2], "fit")).toThrow(
      "fit: target has 2 values, expected 4 (one per row)",
    );
    expect(() => resolveTarget(frame.select(["x"]), "x", "fit")).toThrow(
      "fit: the frame has no feature columns besides the target",
    );
    expect(resolveTarget(frame.select(["x"]), undefined, "fit", { optional: true }).values).toBe(
      undefined,
    );
  });
});
