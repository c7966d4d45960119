import { describe, expect, it } from "vitest";
import { findMetric, parseMetricKey } from "./keys.js";

describe("parseMetricKey", () => {
  it("reads a metric's own name and MLflow's names for it", () => {
    expect(parseMetricKey("rmse")).toMatchObject({ dataset: undefined, metric: { name: "rmse" } });
    expect(parseMetricKey("root_mean_squared_error")?.metric.name).toBe("rmse");
    expect(parseMetricKey("max_error")).toMatchObject({ dataset: undefined });
  });

  it("reads a dataset before the metric and MLflow's _on_data_ form", () => {
    expect(parseMetricKey("holdout_rmse")).toMatchObject({ dataset: "holdout" });
    expect(parseMetricKey("cv_r2")).toMatchObject({ dataset: "cv", metric: { name: "r2" } });
    expect(parseMetricKey("r2_score_on_data_holdout")).toMatchObject({
      dataset: "holdout",
      metric: { name: "r2", greaterIsBetter: true },
    });
    expect(parseMetricKey("mean_absolute_error_on_data_eval-2024.1")?.dataset).toBe("eval-2024.1");
  });

  it("is undefined for anything that is not a metric", () => {
    for (const key of ["cv_rmse_std", "accuracy", "", "holdout_", "_rmse", "rmse_on_data_"]) {
      expect(parseMetricKey(key)).toBeUndefined();
    }
  });
});

describe("findMetric", () => {
  it("finds a metric whichever spelling it was stored under", () => {
    const legacy = { cv_rmse: 0.8, holdout_rmse: 0.7 };
    expect(findMetric(legacy, "rmse")).toEqual({ key: "holdout_rmse", value: 0.7 });
    expect(findMetric(legacy, "root_mean_squared_error")).toEqual({
      key: "holdout_rmse",
      value: 0.7,
    });
    const current = { cv_rmse: 0.8, rmse: 0.7 };
    expect(findMetric(current, "holdout_rmse")).toEqual({ key: "rmse", value: 0.7 });
    expect(findMetric(current, "rmse_on_data_holdout")).toEqual({ key: "rmse", value: 0.7 });
    expect(findMetric(current, "cv_rmse")).toEqual({ key: "cv_rmse", value: 0.8 });
    expect(findMetric({ rmse_on_data_cv: 0.9 }, "cv_rmse")).toEqual({
      key: "rmse_on_data_cv",
      value: 0.9,
    });
  });

  it("does not confuse datasets", () => {
    expect(findMetric({ rmse: 0.7 }, "cv_rmse")).toBeUndefined();
    expect(findMetric({ cv_rmse: 0.8 }, "rmse")).toBeUndefined();
    // Plain names were computed on the "test" set of this model, not on a hold-out.
    expect(findMetric({ rmse: 0.7 }, "holdout_rmse", "test")).toBeUndefined();
    expect(findMetric({ rmse: 0.7 }, "test_rmse", "test")).toEqual({ key: "rmse", value: 0.7 });
  });
});
