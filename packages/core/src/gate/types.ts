import type { GateRuleKind } from "./kinds.js";

/**
 * The paired-bootstrap interval of a `significance` check: how much worse the candidate is than
 * the baseline, in the metric's units (positive = worse, whichever way the metric points).
 *
 * @example
 * // { estimate: 0.069, lower: 0.050, upper: 0.088, confidence: 0.99, resamples: 1000, seed: 7 }
 */
export interface GateInterval {
  /** "Worse by" on all evaluation rows. */
  estimate: number;
  /** The (1 − confidence) / 2 percentile of the resampled "worse by". */
  lower: number;
  /** The (1 + confidence) / 2 percentile of the resampled "worse by". */
  upper: number;
  confidence: number;
  resamples: number;
  seed: number;
}

/**
 * One check: one rule of one metric.
 *
 * @example
 * // { metric: "rmse", kind: "maxRelativeRegression", setting: 0.02,
 * //   rule: "maxRelativeRegression=0.02", source: "evaluation-data",
 * //   candidate: 0.712, baseline: 0.702, delta: 0.01, relativeDelta: 0.0142,
 * //   greaterIsBetter: false, passed: true,
 * //   reason: "rmse 0.712 is 1.42 % worse than the baseline 0.702; at most 2 % worse allowed." }
 */
export interface GateRow {
  metric: string;
  kind: GateRuleKind;
  /** The rule's setting: `0.02` for `maxRelativeRegression=0.02` (significance: its confidence). */
  setting: number;
  /** The rule as written in the shorthand: `maxRelativeRegression=0.02`. */
  rule: string;
  /**
   * Where both values come from: computed from predictions on the evaluation data, or the
   * metrics stored with each model (a metric qualified by another dataset, such as `cv_rmse`).
   */
  source: "evaluation-data" | "stored-metrics";
  /** The candidate's value. */
  candidate: number;
  /** The baseline's value; null when there is no baseline (a first model). */
  baseline: number | null;
  /** candidate − baseline; null when either is missing. */
  delta: number | null;
  /** delta / |baseline|; null when undefined (a missing or zero baseline). */
  relativeDelta: number | null;
  greaterIsBetter: boolean;
  passed: boolean;
  /** A full sentence saying why the check passed or failed. */
  reason: string;
  /** The bootstrap interval (`significance` checks on evaluation data only). */
  interval?: GateInterval;
}

/**
 * A model as the gate saw it.
 *
 * @example
 * // { name: "wine", version: 4, metrics: { rmse: 0.712, r2: 0.31 } }
 */
export interface GateModelSummary {
  /** The registered model's name, when known. */
  name?: string;
  /** The registry version, when known. */
  version?: number;
  /** The values of the rules' metrics (computed on the evaluation data, or stored). */
  metrics: Record<string, number>;
}

/**
 * The gate's decision, as plain data: one row per (metric, rule), notes and the verdict.
 *
 * @example
 * const rules = ["rmse:maxRelativeRegression=0.02"];
 * const result = evaluateGate({ candidate, baseline, data, rules });
 * if (!result.passed) for (const row of result.rows) if (!row.passed) annotate(row.reason);
 */
export interface GateResult {
  /** True when every check passed (and a baseline was there if one was required). */
  passed: boolean;
  verdict: "pass" | "fail";
  /**
   * `"evaluation-data"`: both models predicted the same rows; `"stored-metrics"`: the metrics
   * stored with (or given for) each model, which may come from different data.
   */
  comparedOn: "evaluation-data" | "stored-metrics";
  rows: GateRow[];
  /** Sentences about the comparison as a whole (what was compared, a missing baseline, …). */
  notes: string[];
  candidate: GateModelSummary;
  /** Absent when there was no baseline (a first model). */
  baseline?: GateModelSummary;
  /**
   * The evaluation rows and target column, when compared on evaluation data, and the name of
   * the dataset when it has one (`"holdout"`: the hold-out set registered with the candidate).
   */
  evaluation?: { rows: number; target: string; dataset?: string };
}
