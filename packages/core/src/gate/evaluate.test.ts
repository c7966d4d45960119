import { describe, expect, it } from "vitest";
import { createArtifact } from "../artifact/create.js";
import type { ModelArtifact } from "../artifact/types.js";
import { MlopsError } from "../errors/error.js";
import { Frame, numericColumn } from "../frame/frame.js";
import { field } from "../schema/field.js";
import { schema } from "../schema/schema.js";
import { evaluateGate } from "./evaluate.js";
import { caught } from "./fixture.js";
import type { GateRuleInput } from "./rules.js";
import type { GateRow } from "./types.js";

/** Checks stored metrics (no data): the rule semantics on their own. */
function check(
  rule: Omit<GateRuleInput, "metric"> & { metric?: string },
  candidate: Record<string, number>,
  baseline?: Record<string, number>,
): GateRow {
  const metric = rule.metric ?? Object.keys(candidate)[0] ?? "rmse";
  const result = evaluateGate({
    rules: [{ ...rule, metric }],
    candidateMetrics: candidate,
    baselineMetrics: baseline,
  });
  expect(result.rows).toHaveLength(1);
  return result.rows[0];
}

function passes(
  rule: Omit<GateRuleInput, "metric"> & { metric?: string },
  candidate: Record<string, number>,
  baseline?: Record<string, number>,
): boolean {
  return check(rule, candidate, baseline).passed;
}

describe("MLflow MetricThreshold semantics", () => {
  // https://mlflow.org/docs/latest/python_api/mlflow.models.html#mlflow.models.MetricThreshold
  it("threshold: the candidate must be >= it when greater is better", () => {
    expect(passes({ threshold: 0.8 }, { r2: 0.85 })).toBe(true);
    expect(passes({ threshold: 0.8 }, { r2: 0.8 })).toBe(true);
    expect(passes({ threshold: 0.8 }, { r2: 0.79 })).toBe(false);
    expect(check({ threshold: 0.8 }, { r2: 0.79 }).reason).toBe(
      "r2 0.79 is below the threshold 0.8.",
    );
    expect(check({ threshold: 0.8 }, { r2: 0.85 }).reason).toBe(
      "r2 0.85 is at least the threshold 0.8.",
    );
  });

  it("threshold: the candidate must be <= it when lower is better", () => {
    expect(passes({ threshold: 0.5 }, { rmse: 0.45 })).toBe(true);
    expect(passes({ threshold: 0.5 }, { rmse: 0.5 })).toBe(true);
    expect(passes({ threshold: 0.5 }, { rmse: 0.55 })).toBe(false);
    expect(check({ threshold: 0.5 }, { rmse: 0.55 }).reason).toBe(
      "rmse 0.55 is above the threshold 0.5.",
    );
  });

  it("threshold needs no baseline", () => {
    const row = check({ threshold: 0.5 }, { rmse: 0.4 });
    expect(row).toMatchObject({ passed: true, baseline: null, delta: null, relativeDelta: null });
  });

  it("minAbsoluteChange: candidate >= baseline + change (greater is better)", () => {
    expect(passes({ minAbsoluteChange: 0.05 }, { r2: 0.86 }, { r2: 0.8 })).toBe(true);
    // 0.8 + 0.05 is 0.8500000000000001 in floating point: MLflow's comparison fails here; the
    // gate forgives that rounding, so a candidate exactly 0.05 better passes.
    expect(passes({ minAbsoluteChange: 0.05 }, { r2: 0.85 }, { r2: 0.8 })).toBe(true);
    expect(passes({ minAbsoluteChange: 0.05 }, { r2: 0.84 }, { r2: 0.8 })).toBe(false);
    expect(check({ minAbsoluteChange: 0.05 }, { r2: 0.84 }, { r2: 0.8 }).reason).toBe(
      "r2 0.84 is 0.04 better than the baseline 0.8; at least 0.05 better required.",
    );
  });

  it("minAbsoluteChange: candidate <= baseline - change (lower is better)", () => {
    expect(passes({ minAbsoluteChange: 0.1 }, { rmse: 0.9 }, { rmse: 1 })).toBe(true);
    expect(passes({ minAbsoluteChange: 0.1 }, { rmse: 0.95 }, { rmse: 1 })).toBe(false);
    expect(passes({ minAbsoluteChange: 0.1 }, { rmse: 1.1 }, { rmse: 1 })).toBe(false);
    expect(check({ minAbsoluteChange: 0.1 }, { rmse: 1.1 }, { rmse: 1 }).reason).toBe(
      "rmse 1.1 is 0.1 worse than the baseline 1; at least 0.1 better required.",
    );
  });

  it("minAbsoluteChange=0 means at least as good (MLflow requires > 0; the gate allows 0)", () => {
    expect(passes({ minAbsoluteChange: 0 }, { r2: 0.5 }, { r2: 0.5 })).toBe(true);
    expect(passes({ minAbsoluteChange: 0 }, { r2: 0.4999 }, { r2: 0.5 })).toBe(false);
    expect(check({ minAbsoluteChange: 0 }, { r2: 0.5 }, { r2: 0.5 }).reason).toBe(
      "r2 0.5 equals the baseline 0.5; at least as good required.",
    );
  });

  it("minRelativeChange: better by at least that fraction of the baseline", () => {
    // greater is better: candidate >= baseline * (1 + change)
    expect(passes({ minRelativeChange: 0.05 }, { r2: 0.84 }, { r2: 0.8 })).toBe(true);
    expect(passes({ minRelativeChange: 0.05 }, { r2: 0.83 }, { r2: 0.8 })).toBe(false);
    // lower is better: candidate <= baseline * (1 - change)
    expect(passes({ minRelativeChange: 0.1 }, { rmse: 1.8 }, { rmse: 2 })).toBe(true);
    expect(passes({ minRelativeChange: 0.1 }, { rmse: 1.85 }, { rmse: 2 })).toBe(false);
    expect(check({ minRelativeChange: 0.1 }, { rmse: 1.85 }, { rmse: 2 }).reason).toBe(
      "rmse 1.85 is 7.5 % better than the baseline 2; at least 10 % better required.",
    );
  });

  it("greaterIsBetter defaults from the metric: rmse lower, r2 greater", () => {
    expect(check({ threshold: 1 }, { rmse: 0.5 }).greaterIsBetter).toBe(false);
    expect(check({ threshold: 1 }, { r2: 0.5 }).greaterIsBetter).toBe(true);
    expect(check({ metric: "r2_score", threshold: 0.1 }, { r2: 0.5 })).toMatchObject({
      metric: "r2_score",
      greaterIsBetter: true,
      candidate: 0.5,
      passed: true,
    });
  });

  it("an unknown metric needs an explicit greaterIsBetter, then works like any other", () => {
    expect(() => check({ metric: "accuracy", threshold: 0.8 }, { accuracy: 0.9 })).toThrow(
      /greaterIsBetter: required for "accuracy", which is not a built-in metric/,
    );
    const row = check(
      { metric: "accuracy", threshold: 0.8, greaterIsBetter: true },
      { accuracy: 0.9 },
    );
    expect(row).toMatchObject({ passed: true, greaterIsBetter: true });
  });

  it("a metric a model does not have is an error listing the metrics it has, not a failure", () => {
    const missing = caught(() => check({ metric: "rmse", threshold: 1 }, { mae: 0.1 }));
    expect(missing).toMatchObject({
      code: "gate_metric_missing",
      message:
        "rmse is not among the metrics of the candidate (it has: mae); give evaluation data " +
        "(--data) to compute rmse for both models.",
    });
    const baseline = caught(() =>
      evaluateGate({
        rules: [{ metric: "rmse", threshold: 1, maxRelativeRegression: 0.02 }],
        candidateMetrics: { rmse: 0.5 },
        baselineMetrics: { mae: 0.4, r2: 0.3 },
      }),
    );
    expect(baseline).toMatchObject({
      code: "gate_metric_missing",
      message: expect.stringMatching(
        /^rmse is not among the metrics of the baseline \(it has: mae, r2\)/,
      ),
    });
  });

  it("reads the naming scheme: the metric's own name, or qualified by its dataset", () => {
    // mlops-train before 0.1 stored holdout_rmse and cv_rmse; later, rmse and cv_rmse.
    const old = { cv_rmse: 0.8, cv_rmse_std: 0.01, holdout_rmse: 0.7, holdout_r2: 0.4 };
    const now = { cv_rmse: 0.8, cv_rmse_std: 0.01, rmse: 0.7, r2: 0.4 };
    for (const stored of [old, now]) {
      expect(check({ metric: "rmse", threshold: 1 }, stored).candidate).toBe(0.7);
      expect(check({ metric: "holdout_rmse", threshold: 1 }, stored).candidate).toBe(0.7);
      expect(check({ metric: "rmse_on_data_holdout", threshold: 1 }, stored).candidate).toBe(0.7);
      expect(check({ metric: "cv_rmse", threshold: 1 }, stored).candidate).toBe(0.8);
      expect(check({ metric: "r2_score", threshold: 0.1 }, stored).candidate).toBe(0.4);
    }
    // A qualified name takes its direction from the metric it qualifies.
    const row = check({ metric: "holdout_r2", minAbsoluteChange: 0 }, old, { holdout_r2: 0.5 });
    expect(row).toMatchObject({ greaterIsBetter: true, passed: false });
    expect(caught(() => check({ metric: "cv_r2", threshold: 0.1 }, now))).toMatchObject({
      code: "gate_metric_missing",
      message: expect.stringContaining('cv_r2 is r2 on the "cv" dataset'),
    });
  });

  it("finds a stored metric under its canonical name or an alias", () => {
    expect(check({ metric: "rmse", threshold: 1 }, { root_mean_squared_error: 0.5 })).toMatchObject(
      { candidate: 0.5, passed: true },
    );
    expect(check({ metric: "r2_score", threshold: 0.1 }, { r2: 0.5 }).candidate).toBe(0.5);
  });
});

describe("bounded regression", () => {
  it("maxRelativeRegression: exactly 2 % worse passes, slightly more fails", () => {
    const rule = { maxRelativeRegression: 0.02 };
    // (0.51 - 0.5) / 0.5 is 0.020000000000000018 in floating point: still "2 % worse".
    expect(passes(rule, { rmse: 0.51 }, { rmse: 0.5 })).toBe(true);
    expect(passes(rule, { rmse: 0.5101 }, { rmse: 0.5 })).toBe(false);
    expect(passes(rule, { rmse: 0.71604 }, { rmse: 0.702 })).toBe(true);
    expect(passes(rule, { rmse: 0.7161 }, { rmse: 0.702 })).toBe(false);
    expect(passes(rule, { rmse: 0.4 }, { rmse: 0.5 })).toBe(true);
    // Greater is better: at most 2 % below.
    expect(passes(rule, { r2: 0.784 }, { r2: 0.8 })).toBe(true);
    expect(passes(rule, { r2: 0.7839 }, { r2: 0.8 })).toBe(false);
  });

  it("maxRelativeRegression explains itself in a sentence", () => {
    const row = check({ maxRelativeRegression: 0.02 }, { rmse: 0.712 }, { rmse: 0.702 });
    expect(row).toMatchObject({
      kind: "maxRelativeRegression",
      rule: "maxRelativeRegression=0.02",
      candidate: 0.712,
      baseline: 0.702,
      greaterIsBetter: false,
      passed: true,
      reason: "rmse 0.712 is 1.42 % worse than the baseline 0.702; at most 2 % worse allowed.",
    });
    expect(row.delta).toBeCloseTo(0.01, 15);
    expect(row.relativeDelta).toBeCloseTo(0.01 / 0.702, 15);
    expect(check({ maxRelativeRegression: 0.01 }, { rmse: 0.712 }, { rmse: 0.702 })).toMatchObject({
      passed: false,
      reason: "rmse 0.712 is 1.42 % worse than the baseline 0.702; at most 1 % worse allowed.",
    });
  });

  it("maxAbsoluteRegression: worse by at most that much", () => {
    const rule = { maxAbsoluteRegression: 0.01 };
    expect(passes(rule, { rmse: 0.71 }, { rmse: 0.7 })).toBe(true);
    expect(passes(rule, { rmse: 0.7101 }, { rmse: 0.7 })).toBe(false);
    expect(passes(rule, { r2: 0.79 }, { r2: 0.8 })).toBe(true);
    expect(passes(rule, { r2: 0.7899 }, { r2: 0.8 })).toBe(false);
    expect(check(rule, { rmse: 0.72 }, { rmse: 0.7 }).reason).toBe(
      "rmse 0.72 is 0.02 worse than the baseline 0.7; at most 0.01 worse allowed.",
    );
  });

  it("a bound of 0 allows no regression at all", () => {
    expect(passes({ maxAbsoluteRegression: 0 }, { rmse: 0.7 }, { rmse: 0.7 })).toBe(true);
    expect(passes({ maxRelativeRegression: 0 }, { rmse: 0.7000001 }, { rmse: 0.7 })).toBe(false);
    expect(check({ maxRelativeRegression: 0 }, { rmse: 0.8 }, { rmse: 0.7 }).reason).toBe(
      "rmse 0.8 is 14.3 % worse than the baseline 0.7; no regression allowed.",
    );
  });
});

describe("zero and negative baselines", () => {
  it("a relative rule fails at a baseline of 0, saying why (no silent 1e-10 fallback)", () => {
    const row = check({ maxRelativeRegression: 0.02 }, { mae: 0.1 }, { mae: 0 });
    expect(row).toMatchObject({
      passed: false,
      delta: 0.1,
      relativeDelta: null,
      reason:
        "mae 0.1 cannot be compared relatively with a baseline of 0: a relative change is " +
        "undefined at 0 (use maxAbsoluteRegression for this metric).",
    });
    // Even a better candidate: the relative rule cannot be evaluated.
    expect(check({ minRelativeChange: 0.05 }, { r2: 0.2 }, { r2: 0 })).toMatchObject({
      passed: false,
      reason:
        "r2 0.2 cannot be compared relatively with a baseline of 0: a relative change is " +
        "undefined at 0 (use minAbsoluteChange for this metric).",
    });
  });

  it("a candidate equal to a zero baseline passes unless an improvement is required", () => {
    expect(check({ maxRelativeRegression: 0.02 }, { mae: 0 }, { mae: 0 })).toMatchObject({
      passed: true,
      reason:
        "mae 0 equals the baseline 0: no change (a relative change is undefined at a baseline " +
        "of 0, but nothing changed).",
    });
    expect(passes({ minRelativeChange: 0 }, { mae: 0 }, { mae: 0 })).toBe(true);
    expect(check({ minRelativeChange: 0.05 }, { mae: 0 }, { mae: 0 })).toMatchObject({
      passed: false,
      reason:
        "mae 0 equals the baseline 0; at least 5 % better required, and a relative change is " +
        "undefined at a baseline of 0 (use minAbsoluteChange for this metric).",
    });
  });

  it("absolute rules work at a baseline of 0", () => {
    expect(passes({ maxAbsoluteRegression: 0.05 }, { mae: 0.05 }, { mae: 0 })).toBe(true);
    expect(passes({ maxAbsoluteRegression: 0.05 }, { mae: 0.06 }, { mae: 0 })).toBe(false);
  });

  it("a negative baseline is scaled by its magnitude (MLflow divides by the signed value)", () => {
    // r2 from -0.5 to -0.4 is 20 % of |baseline| better. MLflow computes
    // (-0.4 - -0.5) / -0.5 = -0.2 and would fail a 10 % minimum improvement.
    const row = check({ minRelativeChange: 0.1 }, { r2: -0.4 }, { r2: -0.5 });
    expect(row.passed).toBe(true);
    expect(row.relativeDelta).toBeCloseTo(0.2, 12);
    expect(row.reason).toBe(
      "r2 -0.4 is 20 % better than the baseline -0.5; at least 10 % better required.",
    );
    expect(passes({ maxRelativeRegression: 0.02 }, { r2: -0.51 }, { r2: -0.5 })).toBe(true);
    expect(passes({ maxRelativeRegression: 0.02 }, { r2: -0.52 }, { r2: -0.5 })).toBe(false);
  });
});

describe("missing and non-finite metrics", () => {
  it("a NaN or infinite candidate metric fails every check, thresholds included", () => {
    expect(check({ threshold: 1 }, { rmse: Number.NaN })).toMatchObject({
      passed: false,
      reason: "The candidate's rmse is NaN, not a finite number.",
    });
    expect(check({ maxRelativeRegression: 0.5 }, { rmse: Infinity }, { rmse: 1 }).reason).toBe(
      "The candidate's rmse is Infinity, not a finite number.",
    );
  });

  it("a NaN baseline metric fails the comparisons", () => {
    expect(check({ maxAbsoluteRegression: 1 }, { r2: 0.5 }, { r2: Number.NaN })).toMatchObject({
      passed: false,
      reason: "The baseline's r2 is NaN, not a finite number.",
    });
  });

  it("a stored value that is not a number is an error saying what it was", () => {
    const candidate = { rmse: "0.5" } as unknown as Record<string, number>;
    expect(caught(() => check({ threshold: 1 }, candidate))).toMatchObject({
      code: "gate_metric_missing",
      message: 'the candidate stores rmse as "0.5", not a number.',
    });
  });
});

describe("first model (no baseline)", () => {
  it("passes the comparisons with a note; thresholds still apply", () => {
    const result = evaluateGate({
      rules: ["rmse:threshold=1,maxRelativeRegression=0.02", "r2:minAbsoluteChange=0"],
      candidateMetrics: { rmse: 0.7, r2: 0.4 },
    });
    expect(result.passed).toBe(true);
    expect(result.verdict).toBe("pass");
    expect(result.baseline).toBeUndefined();
    expect(result.rows.map((row) => [row.rule, row.passed, row.reason])).toEqual([
      ["threshold=1", true, "rmse 0.7 is at most the threshold 1."],
      ["maxRelativeRegression=0.02", true, "No baseline: nothing to compare."],
      ["minAbsoluteChange=0", true, "No baseline: nothing to compare."],
    ]);
    expect(result.notes).toEqual([
      "Checked the candidate's stored metrics (no evaluation data was given).",
      "No baseline: nothing to compare, so only threshold rules were checked (a first model).",
    ]);
  });

  it("fails a failing threshold even without a baseline", () => {
    const result = evaluateGate({ rules: ["rmse:threshold=0.5"], candidateMetrics: { rmse: 0.7 } });
    expect(result.verdict).toBe("fail");
  });

  it("fails with requireBaseline, comparisons and verdict alike", () => {
    const result = evaluateGate({
      rules: ["rmse:threshold=1,maxRelativeRegression=0.02"],
      candidateMetrics: { rmse: 0.7 },
      requireBaseline: true,
    });
    expect(result.passed).toBe(false);
    expect(result.rows.map((row) => [row.passed, row.reason])).toEqual([
      [true, "rmse 0.7 is at most the threshold 1."],
      [false, "No baseline to compare with, and requireBaseline is set."],
    ]);
    expect(result.notes).toContain("No baseline, and requireBaseline is set: the gate fails.");
    // Threshold rules only: the gate still fails for want of a baseline.
    const thresholdsOnly = evaluateGate({
      rules: ["rmse:threshold=1"],
      candidateMetrics: { rmse: 0.7 },
      requireBaseline: true,
    });
    expect(thresholdsOnly.rows.every((row) => row.passed)).toBe(true);
    expect(thresholdsOnly.verdict).toBe("fail");
  });
});

// ---------------------------------------------------------------------------------------------
// Same-data evaluation with real artifacts.
// ---------------------------------------------------------------------------------------------

const houses = schema({ x: field.number(), y: field.number() }, { target: "y" });

function linear(
  coefficient: number,
  intercept: number,
  metrics: Record<string, number> = {},
): ModelArtifact {
  return createArtifact({
    kind: "linear",
    schema: houses,
    model: { inputs: ["x"], intercept },
    arrays: { coefficients: Float64Array.of(coefficient) },
    metrics,
    lineage: { createdAt: "2024-01-01T00:00:00.000Z", gitCommit: "abc1234" },
  });
}

// y = 2x + 1 exactly. The candidate predicts 2x + 2 (every error 1), the baseline 2x + 1.5
// (every error 0.5). By hand: candidate rmse = mae = 1, baseline rmse = mae = 0.5;
// mean(y) = 6, total sum of squares 9 + 1 + 1 + 9 = 20, so r2 = 1 - 4/20 = 0.8 and 1 - 1/20 = 0.95.
const small = new Frame({ x: numericColumn([1, 2, 3, 4]), y: numericColumn([3, 5, 7, 9]) });

describe("evaluation on the same data", () => {
  it("scores both models on the same rows and computes the metrics from the predictions", () => {
    // The stored metrics say the opposite (the candidate's is a training error).
    const candidate = linear(2, 2, { rmse: 0.1, r2: 0.99, mae: 0.08 });
    const baseline = linear(2, 1.5, { rmse: 0.6, r2: 0.9, mae: 0.5 });
    const rules = ["rmse:maxRelativeRegression=0.02", "r2:minAbsoluteChange=0", "mae:threshold=2"];

    const stored = evaluateGate({ candidate, baseline, rules });
    expect(stored.comparedOn).toBe("stored-metrics");
    expect(stored.passed).toBe(true);
    expect(stored.notes[0]).toMatch(/may come from different data/);

    const result = evaluateGate({ candidate, baseline, data: small, rules });
    expect(result.comparedOn).toBe("evaluation-data");
    expect(result.evaluation).toEqual({ rows: 4, target: "y" });
    expect(result.candidate.metrics).toEqual({ rmse: 1, r2: 0.8, mae: 1 });
    expect(result.baseline?.metrics).toEqual({ rmse: 0.5, r2: 0.95, mae: 0.5 });
    expect(result.rows.map((row) => [row.rule, row.passed, row.reason])).toEqual([
      [
        "maxRelativeRegression=0.02",
        false,
        "rmse 1 is 100 % worse than the baseline 0.5; at most 2 % worse allowed.",
      ],
      [
        "minAbsoluteChange=0",
        false,
        "r2 0.8 is 0.15 worse than the baseline 0.95; at least as good required.",
      ],
      ["threshold=2", true, "mae 1 is at most the threshold 2."],
    ]);
    expect(result.notes).toEqual([
      'Both models were scored on the same 4 rows of the evaluation data (target "y").',
    ]);
    expect(result.verdict).toBe("fail");
  });

  it("reports the registry name and version when given a loaded model", () => {
    const result = evaluateGate({
      candidate: { artifact: linear(2, 1), version: { name: "houses", version: 4 } },
      baseline: { artifact: linear(2, 1.5), version: 3, name: "houses" },
      data: small,
      rules: ["rmse:maxRelativeRegression=0"],
    });
    expect(result.candidate).toEqual({ name: "houses", version: 4, metrics: { rmse: 0 } });
    expect(result.baseline).toEqual({ name: "houses", version: 3, metrics: { rmse: 0.5 } });
    expect(result.passed).toBe(true);
  });

  it("scores the candidate alone when there is no baseline", () => {
    const result = evaluateGate({
      candidate: linear(2, 2),
      data: small,
      rules: ["rmse:threshold=0.9,maxRelativeRegression=0.02"],
    });
    expect(result.rows.map((row) => row.passed)).toEqual([false, true]);
    expect(result.notes).toEqual([
      'The candidate was scored on 4 rows of the evaluation data (target "y").',
      "No baseline: nothing to compare, so only threshold rules were checked (a first model).",
    ]);
  });

  it("compares a metric it cannot compute (not built in, or of another dataset) as stored", () => {
    const candidate = linear(2, 2, { accuracy: 0.9, cv_rmse: 0.2 });
    const baseline = linear(2, 1, { accuracy: 0.8, cv_rmse: 0.3 });
    const result = evaluateGate({
      candidate,
      baseline,
      data: small,
      rules: [
        { metric: "accuracy", minAbsoluteChange: 0, greaterIsBetter: true },
        "cv_rmse:maxRelativeRegression=0",
        "rmse:threshold=10",
      ],
    });
    expect(result.rows.map((row) => [row.metric, row.source, row.candidate, row.passed])).toEqual([
      ["accuracy", "stored-metrics", 0.9, true],
      ["cv_rmse", "stored-metrics", 0.2, true],
      ["rmse", "evaluation-data", result.candidate.metrics.rmse, true],
    ]);
    expect(result.notes.at(-1)).toBe(
      "accuracy, cv_rmse are stored metrics, compared as stored with each model (not computed " +
        "on the evaluation data).",
    );
  });

  it("a metric that cannot be computed on the rows is bad data, not a regression", () => {
    const one = new Frame({ x: numericColumn([1]), y: numericColumn([3]) });
    expect(
      caught(() =>
        evaluateGate({ candidate: linear(2, 1), data: one, rules: ["r2:threshold=0.1"] }),
      ),
    ).toMatchObject({
      code: "gate_data_invalid",
      message:
        "r2 cannot be computed on 1 evaluation row (r2 needs at least 2 rows); use more " +
        "evaluation rows or a rule on another metric.",
    });
  });

  it("uses the target option over the schema's target", () => {
    const data = new Frame({ x: numericColumn([1, 2]), truth: numericColumn([3, 5]) });
    const result = evaluateGate({
      candidate: linear(2, 1),
      data,
      target: "truth",
      rules: ["mae:threshold=0"],
    });
    expect(result.candidate.metrics).toEqual({ mae: 0 });
    expect(result.evaluation).toEqual({ rows: 2, target: "truth" });
  });

  it("rejects unusable evaluation data with gate_data_invalid", () => {
    const rules = ["rmse:threshold=1"];
    const fails = (run: () => unknown, message: string | RegExp) => {
      try {
        run();
      } catch (error) {
        expect(MlopsError.isInstance(error) && error.code).toBe("gate_data_invalid");
        expect((error as Error).message).toMatch(message);
        return;
      }
      throw new Error("expected gate_data_invalid");
    };
    fails(
      () =>
        evaluateGate({
          candidate: linear(2, 1),
          data: new Frame({ x: numericColumn([1]) }),
          rules,
        }),
      'The evaluation data has no target column "y" (columns: x).',
    );
    fails(
      () =>
        evaluateGate({
          candidate: linear(2, 1),
          data: new Frame({ x: numericColumn([1, 2]), y: numericColumn([1, null]) }),
          rules,
        }),
      'The target "y" is missing at rows[1]; the gate needs a known target for every ' +
        "evaluation row.",
    );
    fails(
      () => evaluateGate({ candidate: linear(2, 1), data: small.slice(0, 0), rules }),
      "The evaluation data has no rows.",
    );
    const other = createArtifact({
      kind: "linear",
      schema: schema({ z: field.number(), y: field.number() }, { target: "y" }),
      model: { inputs: ["z"], intercept: 0 },
      arrays: { coefficients: Float64Array.of(1) },
    });
    fails(
      () => evaluateGate({ candidate: linear(2, 1), baseline: other, data: small, rules }),
      /^The baseline model cannot score the evaluation data: /,
    );
    const noTarget = createArtifact({
      kind: "linear",
      schema: schema({ x: field.number() }),
      model: { inputs: ["x"], intercept: 0 },
      arrays: { coefficients: Float64Array.of(1) },
    });
    fails(
      () => evaluateGate({ candidate: noTarget, data: small, rules }),
      /^The candidate's schema names no target column; pass target/,
    );
  });

  it("rejects contradictory or incomplete arguments", () => {
    expect(() => evaluateGate({ rules: ["rmse:threshold=1"] })).toThrow(
      "evaluateGate: expected a candidate model or candidateMetrics",
    );
    expect(() =>
      evaluateGate({
        candidate: linear(2, 1),
        data: small,
        candidateMetrics: { rmse: 1 },
        rules: ["rmse:threshold=1"],
      }),
    ).toThrow("evaluateGate: give data or candidateMetrics/baselineMetrics, not both");
    expect(() => evaluateGate({ candidate: linear(2, 1), rules: ["rmse:threshold=x"] })).toThrow(
      /^Invalid gate rules: \[0\]: "threshold=x": expected a number, got "x"$/,
    );
    expect(() => evaluateGate({ candidate: linear(2, 1), rules: [] })).toThrow(
      "Invalid gate rules: expected at least one rule, got an empty list",
    );
  });
});
