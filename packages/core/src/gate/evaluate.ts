import type { ModelArtifact } from "../artifact/types.js";
import { MlopsError } from "../errors/error.js";
import { quantileSorted } from "../frame/describe.js";
import { Frame } from "../frame/frame.js";
import { getMetric, type MetricDefinition } from "../metrics/metrics.js";
import { createRandom } from "../metrics/random.js";
import { createPredictor } from "../predict/predictor.js";
import { formatNumber, formatPercent, formatSigned } from "./numbers.js";
import {
  type GateRule,
  type GateRuleKind,
  type GateRulesInput,
  gateRuleKinds,
  parseGateRules,
  type SignificanceRule,
} from "./rules.js";
import type { GateInterval, GateModelSummary, GateResult, GateRow } from "./types.js";

/**
 * A model for the gate with what identifies it (a `registry.loadModel` result fits).
 *
 * @example
 * const candidate: GateModel = await registry.loadModel("models:/wine@staging");
 * const baseline: GateModel = { artifact: await readArtifact("prod.mlops"), version: 3 };
 */
export interface GateModel {
  artifact: ModelArtifact;
  /** A registry version number, or a `ModelVersion` (its `name` and `version` are used). */
  version?: number | { name: string; version: number };
  name?: string;
}

/**
 * What `evaluateGate` compares, and how.
 *
 * @example
 * const options: EvaluateGateOptions = { candidate, baseline, data, ...parseGateConfig(text) };
 */
export interface EvaluateGateOptions {
  /** The model that wants promotion. Optional only when `candidateMetrics` is given. */
  candidate?: ModelArtifact | GateModel;
  /** The model it must not regress from (usually `@production`); absent for a first model. */
  baseline?: ModelArtifact | GateModel | null;
  /**
   * Evaluation data with the target column: both models predict these rows and the metrics
   * are computed from those predictions. Without it, stored metrics are compared.
   */
  data?: Frame;
  /** The target column of `data`. Default: the candidate schema's target. */
  target?: string;
  /** The rules: rule objects, `--threshold` strings, or a map from metric to rules. */
  rules: GateRulesInput;
  /** Fail when there is no baseline to compare with. Default false. */
  requireBaseline?: boolean;
  /** The candidate's metrics, instead of `manifest.metrics` (not with `data`). */
  candidateMetrics?: Record<string, number>;
  /** The baseline's metrics, instead of `manifest.metrics` (not with `data`). */
  baselineMetrics?: Record<string, number>;
}

/** Float noise forgiven when a value is compared with a bound computed from the baseline. */
const RELATIVE_TOLERANCE = 1e-12;

interface Side {
  model: GateModel | undefined;
  /** The value of each rule metric found or computed (NaN included). */
  values: Map<string, number>;
  /** Why a metric has no value, when there is more to say than "missing". */
  problems: Map<string, string>;
}

function isModelArtifact(value: unknown): value is ModelArtifact {
  return typeof value === "object" && value !== null && "manifest" in value && "arrays" in value;
}

function toGateModel(value: unknown, role: string): GateModel | undefined {
  if (value === undefined || value === null) return undefined;
  if (isModelArtifact(value)) return { artifact: value };
  if (typeof value === "object" && isModelArtifact((value as GateModel).artifact)) {
    return value as GateModel;
  }
  throw new MlopsError(
    "argument_invalid",
    `${role}: expected a ModelArtifact or { artifact, version }, got ${typeof value}`,
  );
}

function summaryOf(model: GateModel | undefined, values: Map<string, number>): GateModelSummary {
  const version = model?.version;
  const name = model?.name ?? (typeof version === "object" ? version.name : undefined);
  const number = typeof version === "object" ? version.version : version;
  const summary = {} as GateModelSummary;
  if (name !== undefined) summary.name = name;
  if (number !== undefined) summary.version = number;
  summary.metrics = Object.fromEntries(values);
  return summary;
}

function isFrame(value: unknown): value is Frame {
  if (value instanceof Frame) return true;
  const frame = value as Frame | null;
  return (
    typeof frame === "object" &&
    frame !== null &&
    typeof frame.has === "function" &&
    typeof frame.column === "function" &&
    Number.isInteger(frame.rowCount)
  );
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A stored metric by the name in the rule, else by its canonical name or an alias. */
function lookupMetric(metrics: Record<string, unknown>, name: string): unknown {
  if (Object.hasOwn(metrics, name)) return metrics[name];
  let definition: MetricDefinition;
  try {
    definition = getMetric(name);
  } catch {
    return undefined;
  }
  for (const key of [definition.name, ...definition.aliases]) {
    if (Object.hasOwn(metrics, key)) return metrics[key];
  }
  return undefined;
}

function storedSide(
  model: GateModel | undefined,
  given: Record<string, number> | undefined,
  names: readonly string[],
): Side {
  const side: Side = { model, values: new Map(), problems: new Map() };
  const metrics: Record<string, unknown> = given ?? model?.artifact.manifest.metrics ?? {};
  for (const name of names) {
    const value = lookupMetric(metrics, name);
    if (value === undefined) continue;
    if (typeof value === "number") side.values.set(name, value);
    else side.problems.set(name, `${name} is stored as ${JSON.stringify(value)}, not a number.`);
  }
  return side;
}

// ---------------------------------------------------------------------------------------------
// Scoring both models on the evaluation data.
// ---------------------------------------------------------------------------------------------

interface Evaluation {
  target: string;
  y: Float64Array;
  candidate: Float64Array;
  baseline: Float64Array | undefined;
}

function targetValues(data: Frame, target: string): Float64Array {
  if (data.rowCount === 0) {
    throw new MlopsError("gate_data_invalid", "The evaluation data has no rows.");
  }
  if (!data.has(target)) {
    throw new MlopsError(
      "gate_data_invalid",
      `The evaluation data has no target column "${target}" (columns: ${data.names.join(", ")}).`,
    );
  }
  const column = data.column(target);
  if (column.kind === "category") {
    throw new MlopsError(
      "gate_data_invalid",
      `The target column "${target}" holds categories; expected numbers.`,
    );
  }
  const values = column.values;
  for (let row = 0; row < values.length; row++) {
    if (!Number.isFinite(values[row])) {
      throw new MlopsError(
        "gate_data_invalid",
        `The target "${target}" is ${Number.isNaN(values[row]) ? "missing" : values[row]} at ` +
          `rows[${row}]; the gate needs a known target for every evaluation row.`,
      );
    }
  }
  return values;
}

function predict(model: GateModel, role: string, data: Frame, target: string): Float64Array {
  try {
    const predictor = createPredictor(model.artifact);
    // A target the model's schema does not declare would be an unknown column to it.
    const known = predictor.schema.names.includes(target);
    return predictor.predict(known ? data : data.drop([target]));
  } catch (error) {
    throw new MlopsError(
      "gate_data_invalid",
      `The ${role} model cannot score the evaluation data: ${messageOf(error)}`,
      { cause: error },
    );
  }
}

function computedSide(
  model: GateModel,
  role: string,
  y: Float64Array,
  predictions: Float64Array,
  names: readonly string[],
): Side {
  const side: Side = { model, values: new Map(), problems: new Map() };
  for (const name of names) {
    let definition: MetricDefinition;
    try {
      definition = getMetric(name);
    } catch {
      side.problems.set(
        name,
        `"${name}" is not a built-in metric, so it cannot be computed from the evaluation data.`,
      );
      continue;
    }
    try {
      side.values.set(name, definition.compute(y, predictions));
    } catch (error) {
      side.problems.set(name, `The ${role}'s ${name} could not be computed: ${messageOf(error)}.`);
    }
  }
  return side;
}

// ---------------------------------------------------------------------------------------------
// The paired bootstrap.
// ---------------------------------------------------------------------------------------------

type RowLoss = (actual: number, predicted: number) => number;

const squaredLoss: RowLoss = (actual, predicted) => (actual - predicted) * (actual - predicted);
const absoluteLoss: RowLoss = (actual, predicted) => Math.abs(actual - predicted);
// The same floor under |y| as the MAPE metric (scikit-learn's float64 epsilon).
const percentageLoss: RowLoss = (actual, predicted) =>
  Math.abs(actual - predicted) / Math.max(Math.abs(actual), Number.EPSILON);

/** Metrics that are the mean of a per-row loss (rmse: the root of one). */
const rowLosses: Partial<Record<string, RowLoss>> = {
  mse: squaredLoss,
  rmse: squaredLoss,
  mae: absoluteLoss,
  mape: percentageLoss,
};

/**
 * Paired bootstrap of "candidate worse by" (in the metric's units, positive = worse): the same
 * resampled rows for both models. For a mean of per-row losses, each resample averages the rows'
 * loss differences; rmse takes the root of each model's mean squared error; any other metric
 * (r2, max_error, …) is recomputed for both models on the jointly resampled rows.
 */
function pairedBootstrap(
  definition: MetricDefinition,
  greaterIsBetter: boolean,
  evaluation: Evaluation & { baseline: Float64Array },
  settings: SignificanceRule,
): { lower: number; upper: number } {
  const { y, candidate, baseline } = evaluation;
  const n = y.length;
  const { resamples, confidence, seed } = settings;
  const sign = greaterIsBetter ? -1 : 1;
  const random = createRandom(seed);
  const worseBy = new Float64Array(resamples);
  const loss = rowLosses[definition.name];
  if (loss !== undefined && definition.name === "rmse") {
    const candidateLoss = new Float64Array(n);
    const baselineLoss = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      candidateLoss[i] = loss(y[i], candidate[i]);
      baselineLoss[i] = loss(y[i], baseline[i]);
    }
    for (let r = 0; r < resamples; r++) {
      let candidateSum = 0;
      let baselineSum = 0;
      for (let i = 0; i < n; i++) {
        const row = random.int(n);
        candidateSum += candidateLoss[row];
        baselineSum += baselineLoss[row];
      }
      worseBy[r] = sign * (Math.sqrt(candidateSum / n) - Math.sqrt(baselineSum / n));
    }
  } else if (loss !== undefined) {
    const difference = new Float64Array(n);
    for (let i = 0; i < n; i++) difference[i] = loss(y[i], candidate[i]) - loss(y[i], baseline[i]);
    for (let r = 0; r < resamples; r++) {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += difference[random.int(n)];
      worseBy[r] = (sign * sum) / n;
    }
  } else {
    const sampleTrue = new Float64Array(n);
    const sampleCandidate = new Float64Array(n);
    const sampleBaseline = new Float64Array(n);
    for (let r = 0; r < resamples; r++) {
      for (let i = 0; i < n; i++) {
        const row = random.int(n);
        sampleTrue[i] = y[row];
        sampleCandidate[i] = candidate[row];
        sampleBaseline[i] = baseline[row];
      }
      worseBy[r] =
        sign *
        (definition.compute(sampleTrue, sampleCandidate) -
          definition.compute(sampleTrue, sampleBaseline));
    }
  }
  // Typed-array sort is numeric and puts NaN last.
  worseBy.sort();
  if (Number.isNaN(worseBy[resamples - 1])) return { lower: Number.NaN, upper: Number.NaN };
  const tail = (1 - confidence) / 2;
  return { lower: quantileSorted(worseBy, tail), upper: quantileSorted(worseBy, 1 - tail) };
}

// ---------------------------------------------------------------------------------------------
// One check.
// ---------------------------------------------------------------------------------------------

interface CheckContext {
  candidate: Side;
  baseline: Side | undefined;
  requireBaseline: boolean;
  evaluation: Evaluation | undefined;
}

function ruleText(rule: GateRule, kind: GateRuleKind): string {
  if (kind === "significance") return `significance=${rule.significance?.confidence}`;
  return `${kind}=${rule[kind]}`;
}

/** True when `value` is on the good side of `bound`, forgiving float rounding in the bound. */
function within(value: number, bound: number, greaterIsBetter: boolean): boolean {
  const slack = RELATIVE_TOLERANCE * Math.max(Math.abs(value), Math.abs(bound));
  return greaterIsBetter ? value >= bound - slack : value <= bound + slack;
}

function changeText(
  metric: string,
  candidate: number,
  baseline: number,
  greaterIsBetter: boolean,
  relative: boolean,
): string {
  const worse = greaterIsBetter ? baseline - candidate : candidate - baseline;
  const shown = `${metric} ${formatNumber(candidate)}`;
  if (worse === 0) return `${shown} equals the baseline ${formatNumber(baseline)}`;
  const amount = relative
    ? formatPercent(Math.abs(worse) / Math.abs(baseline))
    : formatNumber(Math.abs(worse));
  const direction = worse > 0 ? "worse" : "better";
  return `${shown} is ${amount} ${direction} than the baseline ${formatNumber(baseline)}`;
}

function requirementText(kind: GateRuleKind, value: number): string {
  switch (kind) {
    case "minAbsoluteChange":
      return value === 0
        ? "at least as good required"
        : `at least ${formatNumber(value)} better required`;
    case "minRelativeChange":
      return value === 0
        ? "at least as good required"
        : `at least ${formatPercent(value)} better required`;
    case "maxAbsoluteRegression":
      return value === 0 ? "no regression allowed" : `at most ${formatNumber(value)} worse allowed`;
    default:
      return value === 0
        ? "no regression allowed"
        : `at most ${formatPercent(value)} worse allowed`;
  }
}

function describeNonFinite(value: number): string {
  return Number.isNaN(value) ? "NaN" : String(value);
}

interface Verdict {
  passed: boolean;
  reason: string;
  interval?: GateInterval;
}

function checkComparison(
  rule: GateRule,
  kind: GateRuleKind,
  candidate: number,
  baseline: number,
  context: CheckContext,
): Verdict {
  const { metric, greaterIsBetter } = rule;
  if (kind === "significance") return checkSignificance(rule, candidate, baseline, context);
  const value = rule[kind as Exclude<GateRuleKind, "significance">] as number;
  const relative = kind === "minRelativeChange" || kind === "maxRelativeRegression";
  if (relative && baseline === 0) {
    const absoluteKind =
      kind === "minRelativeChange" ? "minAbsoluteChange" : "maxAbsoluteRegression";
    if (candidate === baseline) {
      const passed = kind === "maxRelativeRegression" || value === 0;
      return {
        passed,
        reason: passed
          ? `${metric} ${formatNumber(candidate)} equals the baseline 0: no change (a relative ` +
            "change is undefined at a baseline of 0, but nothing changed)."
          : `${metric} ${formatNumber(candidate)} equals the baseline 0; ` +
            `${requirementText(kind, value)}, and a relative change is undefined at a baseline ` +
            `of 0 (use ${absoluteKind} for this metric).`,
      };
    }
    return {
      passed: false,
      reason:
        `${metric} ${formatNumber(candidate)} cannot be compared relatively with a baseline ` +
        `of 0: a relative change is undefined at 0 (use ${absoluteKind} for this metric).`,
    };
  }
  // The allowed bound, in the metric's units; "better" moves it up when greater is better.
  const scale = relative ? value * Math.abs(baseline) : value;
  const better = kind === "minAbsoluteChange" || kind === "minRelativeChange";
  const step = better ? scale : -scale;
  const bound = greaterIsBetter ? baseline + step : baseline - step;
  return {
    passed: within(candidate, bound, greaterIsBetter),
    reason:
      `${changeText(metric, candidate, baseline, greaterIsBetter, relative)}; ` +
      `${requirementText(kind, value)}.`,
  };
}

function checkSignificance(
  rule: GateRule,
  candidate: number,
  baseline: number,
  context: CheckContext,
): Verdict {
  const settings = rule.significance as SignificanceRule;
  const evaluation = context.evaluation;
  if (evaluation?.baseline === undefined) {
    return {
      passed: false,
      reason:
        "The significance rule needs evaluation data: it resamples the rows both models " +
        "predicted, and only stored metrics were given.",
    };
  }
  const definition = getMetric(rule.metric);
  const { lower, upper } = pairedBootstrap(
    definition,
    rule.greaterIsBetter,
    { ...evaluation, baseline: evaluation.baseline },
    settings,
  );
  const estimate = rule.greaterIsBetter ? baseline - candidate : candidate - baseline;
  const interval: GateInterval = {
    estimate,
    lower,
    upper,
    confidence: settings.confidence,
    resamples: settings.resamples,
    seed: settings.seed,
  };
  const confidence = formatPercent(settings.confidence);
  if (!Number.isFinite(lower) || !Number.isFinite(upper)) {
    return {
      passed: false,
      interval,
      reason:
        `${rule.metric}: the bootstrap interval could not be computed (a resample gave NaN), ` +
        "so the candidate cannot be shown not to be worse.",
    };
  }
  const passed = !(lower > 0);
  return {
    passed,
    interval,
    reason:
      `${rule.metric} worse by ${formatSigned(estimate)} for the candidate (${confidence} ` +
      `interval ${formatSigned(lower)} to ${formatSigned(upper)}; ${settings.resamples} paired ` +
      `resamples, seed ${settings.seed}): ` +
      `${passed ? "not worse" : "worse"} with ${confidence} confidence.`,
  };
}

function missingReason(side: Side, role: string, metric: string): string {
  return side.problems.get(metric) ?? `${metric} is missing from the ${role}'s metrics.`;
}

function checkRow(rule: GateRule, kind: GateRuleKind, context: CheckContext): GateRow {
  const { metric, greaterIsBetter } = rule;
  const candidate = context.candidate.values.get(metric);
  const baseline = context.baseline?.values.get(metric);
  const row: GateRow = {
    metric,
    kind,
    rule: ruleText(rule, kind),
    candidate: candidate ?? null,
    baseline: baseline ?? null,
    delta: null,
    relativeDelta: null,
    greaterIsBetter,
    passed: false,
    reason: "",
  };
  if (candidate !== undefined && baseline !== undefined) {
    row.delta = candidate - baseline;
    row.relativeDelta = baseline === 0 ? null : (candidate - baseline) / Math.abs(baseline);
  }
  const done = (verdict: Verdict): GateRow => {
    row.passed = verdict.passed;
    row.reason = verdict.reason;
    if (verdict.interval !== undefined) row.interval = verdict.interval;
    return row;
  };
  if (candidate === undefined) {
    return done({ passed: false, reason: missingReason(context.candidate, "candidate", metric) });
  }
  if (!Number.isFinite(candidate)) {
    return done({
      passed: false,
      reason: `The candidate's ${metric} is ${describeNonFinite(candidate)}, not a finite number.`,
    });
  }
  if (kind === "threshold") {
    const threshold = rule.threshold as number;
    const passed = greaterIsBetter ? candidate >= threshold : candidate <= threshold;
    const relation = greaterIsBetter
      ? passed
        ? "is at least"
        : "is below"
      : passed
        ? "is at most"
        : "is above";
    return done({
      passed,
      reason:
        `${metric} ${formatNumber(candidate)} ${relation} ` +
        `the threshold ${formatNumber(threshold)}.`,
    });
  }
  if (context.baseline === undefined) {
    return done(
      context.requireBaseline
        ? { passed: false, reason: "No baseline to compare with, and requireBaseline is set." }
        : { passed: true, reason: "No baseline: nothing to compare." },
    );
  }
  if (baseline === undefined) {
    return done({ passed: false, reason: missingReason(context.baseline, "baseline", metric) });
  }
  if (!Number.isFinite(baseline)) {
    return done({
      passed: false,
      reason: `The baseline's ${metric} is ${describeNonFinite(baseline)}, not a finite number.`,
    });
  }
  return done(checkComparison(rule, kind, candidate, baseline, context));
}

// ---------------------------------------------------------------------------------------------
// The gate.
// ---------------------------------------------------------------------------------------------

/**
 * Decides whether a candidate model may replace a baseline, rule by rule, with MLflow
 * `MetricThreshold` semantics plus bounded regressions and a paired-bootstrap significance
 * check. With `data`, both models predict the same rows (core's predictors) and the metrics are
 * computed from those predictions; without it, the metrics stored in the artifacts (or given as
 * `candidateMetrics` / `baselineMetrics`) are compared, and the result says they may come from
 * different data. A missing or non-finite metric fails its checks; with no baseline (a first
 * model) the comparisons pass with a note, unless `requireBaseline` is set. Invalid rules throw
 * `GateConfigError`; unusable data throws `gate_data_invalid`.
 *
 * @example
 * const result = evaluateGate({
 *   candidate: await registry.loadModel("models:/wine@staging"),
 *   baseline: await registry.loadModel("models:/wine@production"),
 *   data: await readFrame("holdout.csv"),
 *   rules: ["rmse:maxRelativeRegression=0.02", "r2:minAbsoluteChange=0"],
 * });
 * result.verdict; // "pass" or "fail"
 * result.rows[0].reason;
 * // "rmse 0.712 is 1.42 % worse than the baseline 0.702; at most 2 % worse allowed."
 */
export function evaluateGate(options: EvaluateGateOptions): GateResult {
  if (typeof options !== "object" || options === null) {
    throw new MlopsError("argument_invalid", "evaluateGate: expected an options object");
  }
  const rules = parseGateRules(options.rules);
  const candidateModel = toGateModel(options.candidate, "candidate");
  const baselineModel = toGateModel(options.baseline, "baseline");
  const { data, candidateMetrics, baselineMetrics } = options;
  const requireBaseline = options.requireBaseline === true;
  if (candidateModel === undefined && candidateMetrics === undefined) {
    throw new MlopsError(
      "argument_invalid",
      "evaluateGate: expected a candidate model or candidateMetrics",
    );
  }
  const names = [...new Set(rules.map((rule) => rule.metric))];
  const notes: string[] = [];
  let candidate: Side;
  let baseline: Side | undefined;
  let evaluation: Evaluation | undefined;

  if (data !== undefined) {
    if (candidateMetrics !== undefined || baselineMetrics !== undefined) {
      throw new MlopsError(
        "argument_invalid",
        "evaluateGate: give data or candidateMetrics/baselineMetrics, not both",
      );
    }
    if (!isFrame(data)) {
      throw new MlopsError("argument_invalid", "data: expected a Frame (see readFrame)");
    }
    if (candidateModel === undefined) {
      throw new MlopsError("argument_invalid", "evaluateGate: data needs a candidate model");
    }
    const target = options.target ?? candidateModel.artifact.manifest.schema.target;
    if (target === undefined) {
      throw new MlopsError(
        "gate_data_invalid",
        "The candidate's schema names no target column; pass target to say which column of " +
          "the evaluation data holds the true values.",
      );
    }
    const y = targetValues(data, target);
    evaluation = {
      target,
      y,
      candidate: predict(candidateModel, "candidate", data, target),
      baseline:
        baselineModel === undefined ? undefined : predict(baselineModel, "baseline", data, target),
    };
    candidate = computedSide(candidateModel, "candidate", y, evaluation.candidate, names);
    if (baselineModel !== undefined && evaluation.baseline !== undefined) {
      baseline = computedSide(baselineModel, "baseline", y, evaluation.baseline, names);
      notes.push(
        `Both models were scored on the same ${data.rowCount} rows of the evaluation data ` +
          `(target "${target}").`,
      );
    } else {
      notes.push(
        `The candidate was scored on ${data.rowCount} rows of the evaluation data ` +
          `(target "${target}").`,
      );
    }
  } else {
    candidate = storedSide(candidateModel, candidateMetrics, names);
    if (baselineModel !== undefined || baselineMetrics !== undefined) {
      baseline = storedSide(baselineModel, baselineMetrics, names);
      notes.push(
        "Compared stored metrics, not predictions on shared data: the candidate's and the " +
          "baseline's metrics may come from different data. Pass evaluation data to score both " +
          "models on the same rows.",
      );
    } else {
      notes.push("Checked the candidate's stored metrics (no evaluation data was given).");
    }
  }
  if (baseline === undefined) {
    notes.push(
      requireBaseline
        ? "No baseline, and requireBaseline is set: the gate fails."
        : "No baseline: nothing to compare, so only threshold rules were checked (a first model).",
    );
  }

  const context: CheckContext = { candidate, baseline, requireBaseline, evaluation };
  const rows: GateRow[] = [];
  for (const rule of rules) {
    for (const kind of gateRuleKinds) {
      if (rule[kind] !== undefined) rows.push(checkRow(rule, kind, context));
    }
  }
  const passed = rows.every((row) => row.passed) && !(requireBaseline && baseline === undefined);
  const result: GateResult = {
    passed,
    verdict: passed ? "pass" : "fail",
    comparedOn: evaluation === undefined ? "stored-metrics" : "evaluation-data",
    rows,
    notes,
    candidate: summaryOf(candidateModel, candidate.values),
  };
  if (baseline !== undefined) result.baseline = summaryOf(baselineModel, baseline.values);
  if (evaluation !== undefined) {
    result.evaluation = { rows: evaluation.y.length, target: evaluation.target };
  }
  return result;
}
