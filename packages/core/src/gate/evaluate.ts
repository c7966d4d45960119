import type { ModelArtifact } from "../artifact/types.js";
import { MlopsError } from "../errors/error.js";
import { formatNumber, formatPercent, formatSigned } from "../format/numbers.js";
import { quantileSorted } from "../frame/describe.js";
import { Frame } from "../frame/frame.js";
import { findMetric, parseMetricKey } from "../metrics/keys.js";
import { getMetric, type MetricDefinition } from "../metrics/metrics.js";
import { createRandom } from "../metrics/random.js";
import { isNativeArtifact } from "../predict/frame.js";
import { createPredictor } from "../predict/predictor.js";
import {
  describeRequirement,
  type GateRuleKind,
  gateRuleKinds,
  ruleKind,
  ruleShorthand,
} from "./kinds.js";
import {
  type GateRule,
  type GateRulesInput,
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
  /**
   * The model's predictions of the evaluation `data`, one per row, made elsewhere: an ONNX
   * model's, by `await predictFrame(artifact, data)` (the gate's own predictors are pure JS and
   * synchronous). `runGate` fills it in for ONNX models.
   */
  predictions?: Float64Array;
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
  /**
   * The name of the dataset `data` is (`"holdout"` for the hold-out set `mlops-train` registers):
   * a rule on a metric qualified with it (`holdout_rmse`) is computed on `data` too. Rules on
   * metrics qualified with another dataset (`cv_rmse`) always compare stored values.
   */
  dataName?: string;
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

/** The values of one model's rule metrics, and where each came from. */
interface Side {
  model: GateModel | undefined;
  /** The value of each rule metric found or computed. */
  values: Map<string, number>;
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

/** The dataset the model's plain metric names were computed on (`holdout` for mlops-train). */
function evaluationDatasetOf(model: GateModel | undefined): string {
  const evaluation = model?.artifact.manifest.lineage.evaluationData as
    | { name?: unknown }
    | undefined;
  return typeof evaluation?.name === "string" ? evaluation.name : "holdout";
}

function roleLabel(model: GateModel | undefined, role: string): string {
  const version = model?.version;
  const name = model?.name ?? (typeof version === "object" ? version.name : undefined);
  const number = typeof version === "object" ? version.version : version;
  if (name !== undefined && number !== undefined) return `the ${role} ${name} v${number}`;
  if (number !== undefined) return `the ${role} (version ${number})`;
  return `the ${role}`;
}

/**
 * Reads each metric from what is stored with a model (or given), under any spelling of the
 * naming scheme (`parseMetricKey`). A metric that is not there is not a regression: it is an
 * error that lists the metrics that are (`gate_metric_missing`).
 */
function readStored(
  side: Side,
  role: string,
  given: Record<string, number> | undefined,
  names: readonly string[],
  canCompute: boolean,
): void {
  const metrics: Record<string, unknown> = given ?? side.model?.artifact.manifest.metrics ?? {};
  const dataset = evaluationDatasetOf(side.model);
  for (const name of names) {
    const found = findMetric(metrics, name, dataset);
    const label = roleLabel(side.model, role);
    if (found === undefined) {
      const stored = Object.keys(metrics).sort();
      const known = parseMetricKey(name);
      const hint =
        known === undefined
          ? ""
          : known.dataset === undefined
            ? canCompute
              ? ""
              : `; give evaluation data (--data) to compute ${name} for both models`
            : `; ${name} is ${known.metric.name} on the "${known.dataset}" dataset`;
      throw new MlopsError(
        "gate_metric_missing",
        `${name} is not among the metrics of ${label} ` +
          `(${stored.length === 0 ? "it has none" : `it has: ${stored.join(", ")}`})${hint}.`,
      );
    }
    if (typeof found.value !== "number") {
      throw new MlopsError(
        "gate_metric_missing",
        `${label} stores ${found.key} as ${JSON.stringify(found.value)}, not a number.`,
      );
    }
    side.values.set(name, found.value);
  }
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
  if (model.predictions !== undefined) {
    if (model.predictions.length !== data.rowCount) {
      throw new MlopsError(
        "gate_data_invalid",
        `The ${role} model's predictions have ${model.predictions.length} values for ` +
          `${data.rowCount} evaluation rows; expected one per row.`,
      );
    }
    return model.predictions;
  }
  if (!isNativeArtifact(model.artifact)) {
    throw new MlopsError(
      "gate_data_invalid",
      `The ${role} model is an ONNX model: score the evaluation data with ` +
        "`await predictFrame(artifact, data)` and pass the result as its `predictions` " +
        "(runGate and `mlops gate` do this).",
    );
  }
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

/**
 * Computes each metric from the predictions on the evaluation data. A metric that cannot be
 * computed there (r² on one row) is bad evaluation data, not a regression: `gate_data_invalid`.
 */
function computeOn(
  side: Side,
  role: string,
  y: Float64Array,
  predictions: Float64Array,
  names: readonly string[],
): void {
  for (const name of names) {
    const definition = (parseMetricKey(name) as { metric: MetricDefinition }).metric;
    let value: number;
    try {
      value = definition.compute(y, predictions);
    } catch (error) {
      throw new MlopsError(
        "gate_data_invalid",
        `${name} of ${roleLabel(side.model, role)} cannot be computed on the evaluation data: ` +
          `${messageOf(error)}.`,
        { cause: error },
      );
    }
    if (Number.isNaN(value)) {
      throw new MlopsError(
        "gate_data_invalid",
        `${name} cannot be computed on ${y.length} evaluation row${y.length === 1 ? "" : "s"}` +
          `${y.length < 2 ? ` (${definition.name} needs at least 2 rows)` : ""}; ` +
          "use more evaluation rows or a rule on another metric.",
      );
    }
    side.values.set(name, value);
  }
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
  /** The rule metrics computed on the evaluation data (the others are stored values). */
  computed: ReadonlySet<string>;
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
  const relative = ruleKind(kind).relative;
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
            `${describeRequirement(kind, value, greaterIsBetter)}, and a relative change is undefined at a baseline ` +
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
      `${describeRequirement(kind, value, greaterIsBetter)}.`,
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

/** The number a rule kind holds (a significance check: its confidence). */
function settingOf(rule: GateRule, kind: GateRuleKind): number {
  return kind === "significance"
    ? (rule.significance as SignificanceRule).confidence
    : (rule[kind] as number);
}

function checkRow(rule: GateRule, kind: GateRuleKind, context: CheckContext): GateRow {
  const { metric, greaterIsBetter } = rule;
  const candidate = context.candidate.values.get(metric) as number;
  const baseline = context.baseline?.values.get(metric);
  const setting = settingOf(rule, kind);
  const row: GateRow = {
    metric,
    kind,
    setting,
    rule: ruleShorthand(kind, setting),
    source: context.computed.has(metric) ? "evaluation-data" : "stored-metrics",
    candidate,
    baseline: baseline ?? null,
    delta: null,
    relativeDelta: null,
    greaterIsBetter,
    passed: false,
    reason: "",
  };
  if (baseline !== undefined) {
    row.delta = candidate - baseline;
    row.relativeDelta = baseline === 0 ? null : (candidate - baseline) / Math.abs(baseline);
  }
  const done = (verdict: Verdict): GateRow => {
    row.passed = verdict.passed;
    row.reason = verdict.reason;
    if (verdict.interval !== undefined) row.interval = verdict.interval;
    return row;
  };
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
    // Not reached: a baseline without the metric is reported before any check runs.
    throw new MlopsError("gate_metric_missing", `${metric} is missing from the baseline.`);
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
  const candidate: Side = { model: candidateModel, values: new Map() };
  const baseline: Side | undefined =
    baselineModel !== undefined || baselineMetrics !== undefined
      ? { model: baselineModel, values: new Map() }
      : undefined;
  let evaluation: Evaluation | undefined;
  // Which rule metrics are computed on the evaluation data: built-in metrics by their own name,
  // or qualified with the evaluation data's name. The others are read from stored metrics.
  const dataName = options.dataName;
  const computed = new Set(
    data === undefined
      ? []
      : names.filter((name) => {
          const key = parseMetricKey(name);
          return key !== undefined && (key.dataset === undefined || key.dataset === dataName);
        }),
  );
  const stored = names.filter((name) => !computed.has(name));

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
  }
  for (const rule of rules) {
    if (rule.significance !== undefined && !computed.has(rule.metric)) {
      throw new MlopsError(
        "gate_data_invalid",
        `The significance rule on ${rule.metric} needs evaluation data: it resamples the rows ` +
          "both models predicted" +
          (data === undefined
            ? ", and only stored metrics were given."
            : `, and ${rule.metric} is a stored metric (write the metric's own name to compute it).`),
      );
    }
  }
  // Stored metrics first: a rule on a metric a model does not have fails before any scoring.
  readStored(candidate, "candidate", candidateMetrics, stored, data !== undefined);
  if (baseline !== undefined) {
    readStored(baseline, "baseline", baselineMetrics, stored, data !== undefined);
  }
  const dataLabel = dataName === undefined ? "the evaluation data" : `the "${dataName}" data`;
  if (data !== undefined && candidateModel !== undefined) {
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
    computeOn(candidate, "candidate", y, evaluation.candidate, [...computed]);
    if (baseline !== undefined && evaluation.baseline !== undefined) {
      computeOn(baseline, "baseline", y, evaluation.baseline, [...computed]);
      notes.push(
        `Both models were scored on the same ${data.rowCount} rows of ${dataLabel} ` +
          `(target "${target}").`,
      );
    } else {
      notes.push(
        `The candidate was scored on ${data.rowCount} rows of ${dataLabel} (target "${target}").`,
      );
    }
    if (stored.length > 0) {
      notes.push(
        `${stored.join(", ")} ${stored.length === 1 ? "is a stored metric" : "are stored metrics"}, ` +
          "compared as stored with each model (not computed on the evaluation data).",
      );
    }
  } else if (baseline !== undefined) {
    notes.push(
      "Compared stored metrics, not predictions on shared data: the candidate's and the " +
        "baseline's metrics may come from different data. Pass evaluation data to score both " +
        "models on the same rows.",
    );
  } else {
    notes.push("Checked the candidate's stored metrics (no evaluation data was given).");
  }
  if (baseline === undefined) {
    notes.push(
      requireBaseline
        ? "No baseline, and requireBaseline is set: the gate fails."
        : "No baseline: nothing to compare, so only threshold rules were checked (a first model).",
    );
  }

  const context: CheckContext = { candidate, baseline, requireBaseline, evaluation, computed };
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
    if (dataName !== undefined) result.evaluation.dataset = dataName;
  }
  return result;
}
