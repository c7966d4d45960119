import { LineCounter, parseDocument } from "yaml";
import { z } from "zod";
import { didYouMean } from "../command/suggest.js";
import { locateYamlPath } from "../config/yaml.js";
import { formatLocation, MlopsError, type SourceLocation } from "../errors/error.js";
import { parseMetricKey } from "../metrics/keys.js";
import { metricNames } from "../metrics/metrics.js";
import { type GateRuleKind, gateRuleKinds, ruleKind } from "./kinds.js";

export { type GateRuleKind, gateRuleKinds } from "./kinds.js";

/**
 * The paired-bootstrap settings of a `significance` rule.
 *
 * @example
 * const settings: SignificanceRule = { confidence: 0.95, resamples: 1000, seed: 0 };
 */
export interface SignificanceRule {
  /** Central coverage of the interval, in (0, 1). Default 0.95. */
  confidence: number;
  /** Bootstrap resamples. Default 1000. */
  resamples: number;
  /** Seed of the row sampler: the same seed gives the same interval. Default 0. */
  seed: number;
}

/**
 * One metric's rules as written by a user (in code, a gate config or a `--threshold` string).
 * Each rule key present becomes one check; see `GateRule` for what each one means.
 *
 * @example
 * const rule: GateRuleInput = { metric: "rmse", maxRelativeRegression: 0.02, significance: true };
 */
export interface GateRuleInput {
  metric: string;
  threshold?: number;
  minAbsoluteChange?: number;
  minRelativeChange?: number;
  /** Defaults from the metric's definition; required for a metric that is not built in. */
  greaterIsBetter?: boolean;
  maxAbsoluteRegression?: number;
  maxRelativeRegression?: number;
  /** `true` for the defaults, or some of `{ confidence, resamples, seed }`; `false` for none. */
  significance?: boolean | Partial<SignificanceRule>;
}

/**
 * One metric's validated rules, with `greaterIsBetter` resolved. "Better" and "worse" below are
 * in the metric's direction (lower is better for rmse, greater for r2).
 *
 * - `threshold`: the candidate must be ≥ it (greater is better) or ≤ it (MLflow).
 * - `minAbsoluteChange`: the candidate must beat the baseline by at least this much (MLflow).
 * - `minRelativeChange`: … by at least this fraction of |baseline| (MLflow; 0.05 = 5 %).
 * - `maxAbsoluteRegression`: the candidate may be worse than the baseline by at most this much.
 * - `maxRelativeRegression`: … by at most this fraction of |baseline| (0.02 = "at most 2 % worse").
 * - `significance`: fail only when a paired bootstrap on the evaluation rows shows the candidate
 *   worse with the given confidence.
 *
 * @example
 * parseThreshold("rmse:maxRelativeRegression=0.02");
 * // { metric: "rmse", greaterIsBetter: false, maxRelativeRegression: 0.02 }
 */
export interface GateRule {
  metric: string;
  greaterIsBetter: boolean;
  threshold?: number;
  minAbsoluteChange?: number;
  minRelativeChange?: number;
  maxAbsoluteRegression?: number;
  maxRelativeRegression?: number;
  significance?: SignificanceRule;
}

/**
 * A gate config: the rules plus whether a missing baseline fails the gate.
 *
 * @example
 * const config = parseGateConfig("requireBaseline: true\nthresholds: [rmse:threshold=0.8]");
 * // { rules: [{ metric: "rmse", greaterIsBetter: false, threshold: 0.8 }], requireBaseline: true }
 */
export interface GateConfig {
  rules: GateRule[];
  /** When true, a gate with no baseline to compare with fails. Default false. */
  requireBaseline: boolean;
}

/**
 * The rules as `evaluateGate` and `parseGateRules` take them: a list of rule objects or
 * `--threshold` strings, or a map from metric name to its rules.
 *
 * @example
 * const rules: GateRulesInput = [
 *   "rmse:maxRelativeRegression=0.02",
 *   { metric: "r2", threshold: 0.3 },
 * ];
 */
export type GateRulesInput =
  | readonly (GateRuleInput | GateRule | string)[]
  | Readonly<Record<string, Omit<GateRuleInput, "metric">>>;

/**
 * One problem in gate rules, as plain data.
 *
 * @example
 * // { path: ["thresholds", 0, "threshold"], message: "expected a finite number, got \"x\"",
 * //   location: { file: "gate.yaml", line: 4, column: 5 } }
 */
export interface GateConfigIssue {
  /** Where in the config: `["thresholds", 0, "maxRelativeRegression"]`; `[]` for the whole. */
  path: (string | number)[];
  /** What was expected and what was found. */
  message: string;
  /** For a `--threshold` string: the `key=value` token at fault. */
  token?: string;
  /** File and line, when the rules came from a file. */
  location?: SourceLocation;
}

/** Renders a config path: `thresholds[0].maxRelativeRegression`. */
function formatConfigPath(path: readonly (string | number)[]): string {
  let text = "";
  for (const part of path) {
    if (typeof part === "number") text += `[${part}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(part)) text += text === "" ? part : `.${part}`;
    else text += `[${JSON.stringify(part)}]`;
  }
  return text;
}

/**
 * One issue as a line: `gate.yaml:4: thresholds[0].maxRelativeRegression: expected …`.
 *
 * @example
 * formatGateIssue({ path: ["thresholds", 0, "threshold"], message: "expected a finite number" });
 * // "thresholds[0].threshold: expected a finite number"
 */
export function formatGateIssue(issue: GateConfigIssue): string {
  const parts: string[] = [];
  if (issue.location) parts.push(formatLocation(issue.location));
  if (issue.path.length > 0) parts.push(formatConfigPath(issue.path));
  if (issue.token !== undefined) parts.push(JSON.stringify(issue.token));
  parts.push(issue.message);
  return parts.join(": ");
}

/**
 * Thrown for invalid gate rules (code `gate_config_invalid`); `issues` lists every problem with
 * its path, so a CLI can print them and a GitHub Action can annotate each one.
 *
 * @example
 * try { parseThreshold("rmse:maxRelativeRegression=two") } catch (error) {
 *   if (error instanceof GateConfigError) error.issues[0].token; // "maxRelativeRegression=two"
 * }
 */
export class GateConfigError extends MlopsError {
  readonly issues: GateConfigIssue[];

  constructor(issues: GateConfigIssue[], subject: string) {
    const lines = issues.map(formatGateIssue);
    super(
      "gate_config_invalid",
      lines.length === 1
        ? `Invalid ${subject}: ${lines[0]}`
        : `Invalid ${subject} (${lines.length} problems):\n` +
            lines.map((line) => `  - ${line}`).join("\n"),
      { location: issues[0]?.location },
    );
    this.name = "GateConfigError";
    this.issues = issues;
  }

  override toJSON(): {
    code: "gate_config_invalid";
    message: string;
    issues: GateConfigIssue[];
  } {
    return { code: "gate_config_invalid", message: this.message, issues: this.issues };
  }
}

/**
 * `{ success: true, data }` or `{ success: false, error }`, like zod's `safeParse`.
 *
 * @example
 * const result = safeParseThreshold(text);
 * if (!result.success) for (const issue of result.error.issues) report(formatGateIssue(issue));
 */
export type SafeGateResult<T> =
  | { success: true; data: T }
  | { success: false; error: GateConfigError };

// ---------------------------------------------------------------------------------------------
// Shape of one rule (zod).
// ---------------------------------------------------------------------------------------------

function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (typeof value === "string")
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}...` : value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return "a list";
  return typeof value === "object" ? "an object" : typeof value;
}

function numberField(expected: string, accept: (value: number) => boolean = () => true) {
  return z.custom<number>(
    (value) => typeof value === "number" && Number.isFinite(value) && accept(value),
    { error: (issue) => `expected ${expected}, got ${describeValue(issue.input)}` },
  );
}

const expectedNumbers = {
  confidence: ruleKind("significance").expected,
  resamples: "a whole number >= 1",
  seed: "a whole number (a safe integer)",
} as const;

/** The zod check of one rule kind's setting, from its description in `kinds.ts`. */
function settingField(kind: Exclude<GateRuleKind, "significance">) {
  const spec = ruleKind(kind);
  return numberField(spec.expected, spec.accepts).optional();
}

const significanceKeys = ["confidence", "resamples", "seed"] as const;

const significanceShape = z.strictObject(
  {
    confidence: numberField(
      expectedNumbers.confidence,
      ruleKind("significance").accepts,
    ).optional(),
    resamples: numberField(
      expectedNumbers.resamples,
      (n) => Number.isSafeInteger(n) && n >= 1,
    ).optional(),
    seed: numberField(expectedNumbers.seed, Number.isSafeInteger).optional(),
  },
  {
    error: (issue) =>
      issue.code === "invalid_type"
        ? "expected true, false or { confidence, resamples, seed }, " +
          `got ${describeValue(issue.input)}`
        : undefined,
  },
);

const ruleKeys = [
  "metric",
  "threshold",
  "minAbsoluteChange",
  "minRelativeChange",
  "greaterIsBetter",
  "maxAbsoluteRegression",
  "maxRelativeRegression",
  "significance",
] as const;

const ruleShape = z.strictObject(
  {
    metric: z.custom<string>((value) => typeof value === "string" && value.trim() !== "", {
      error: (issue) => `expected a metric name such as "rmse", got ${describeValue(issue.input)}`,
    }),
    threshold: settingField("threshold"),
    minAbsoluteChange: settingField("minAbsoluteChange"),
    minRelativeChange: settingField("minRelativeChange"),
    greaterIsBetter: z
      .custom<boolean>((value) => typeof value === "boolean", {
        error: (issue) => `expected true or false, got ${describeValue(issue.input)}`,
      })
      .optional(),
    maxAbsoluteRegression: settingField("maxAbsoluteRegression"),
    maxRelativeRegression: settingField("maxRelativeRegression"),
    significance: z
      .preprocess(
        (value) => (value === true ? {} : value === false ? undefined : value),
        significanceShape.optional(),
      )
      .optional(),
  },
  {
    error: (issue) =>
      issue.code === "invalid_type"
        ? 'expected a rule such as { metric: "rmse", maxRelativeRegression: 0.02 }, ' +
          `got ${describeValue(issue.input)}`
        : undefined,
  },
);

/** `(did you mean …?)` for a key close to a known one (the tools' one "did you mean"). */
function suggest(key: string, known: readonly string[]): string {
  return didYouMean(key, known);
}

/** Zod issues as gate issues: one per unknown key, each naming what was expected. */
function fromZod(error: z.ZodError, prefix: readonly (string | number)[]): GateConfigIssue[] {
  const issues: GateConfigIssue[] = [];
  for (const issue of error.issues) {
    const path = [...prefix, ...(issue.path as (string | number)[])];
    if (issue.code === "unrecognized_keys") {
      const inSignificance = issue.path[issue.path.length - 1] === "significance";
      const known = inSignificance ? significanceKeys : ruleKeys;
      for (const key of issue.keys) {
        issues.push({
          path: [...path, key],
          message:
            `unknown ${inSignificance ? "significance setting" : "rule"} "${key}"` +
            `${suggest(key, known)}; expected one of ${known.join(", ")}`,
        });
      }
    } else {
      issues.push({ path, message: issue.message });
    }
  }
  return issues;
}

/**
 * Validates one rule object and resolves `greaterIsBetter`; problems are pushed to `issues`
 * (with paths under `prefix`), and undefined is returned for an invalid rule.
 */
function checkRule(
  value: unknown,
  prefix: readonly (string | number)[],
  issues: GateConfigIssue[],
): GateRule | undefined {
  const parsed = ruleShape.safeParse(value);
  if (!parsed.success) {
    issues.push(...fromZod(parsed.error, prefix));
    return undefined;
  }
  const input = parsed.data;
  const metric = input.metric.trim();
  if (!gateRuleKinds.some((key) => input[key] !== undefined)) {
    issues.push({
      path: [...prefix],
      message: `no rule for "${metric}": expected at least one of ${gateRuleKinds.join(", ")}`,
    });
    return undefined;
  }
  let greaterIsBetter = input.greaterIsBetter;
  if (greaterIsBetter === undefined) {
    const known = parseMetricKey(metric);
    if (known === undefined) {
      issues.push({
        path: [...prefix, "greaterIsBetter"],
        message:
          `required for "${metric}", which is not a built-in metric ` +
          `(${metricNames.join(", ")}) nor one qualified by a dataset (holdout_rmse, ` +
          "rmse_on_data_holdout): say whether greater is better (true or false)",
      });
      return undefined;
    }
    greaterIsBetter = known.metric.greaterIsBetter;
  }
  const rule: GateRule = { metric, greaterIsBetter };
  for (const key of gateRuleKinds) {
    if (key === "significance") continue;
    if (input[key] !== undefined) rule[key] = input[key];
  }
  if (input.significance !== undefined) {
    rule.significance = {
      confidence: input.significance.confidence ?? 0.95,
      resamples: input.significance.resamples ?? 1000,
      seed: input.significance.seed ?? 0,
    };
  }
  return rule;
}

// ---------------------------------------------------------------------------------------------
// `--threshold` strings.
// ---------------------------------------------------------------------------------------------

const NUMBER_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

const shorthandKeys = [
  "threshold",
  "minAbsoluteChange",
  "minRelativeChange",
  "greaterIsBetter",
  "maxAbsoluteRegression",
  "maxRelativeRegression",
  "significance",
  "significance.confidence",
  "significance.resamples",
  "significance.seed",
] as const;

const THRESHOLD_FORMAT =
  '"metric:rule=value[,rule=value…]", e.g. "rmse:maxRelativeRegression=0.02"';

/** Parses a `--threshold` string into a rule object; problems go to `issues`. */
function readShorthand(
  text: unknown,
  prefix: readonly (string | number)[],
  issues: GateConfigIssue[],
): GateRule | undefined {
  const problem = (message: string, token?: string): undefined => {
    issues.push(
      token === undefined ? { path: [...prefix], message } : { path: [...prefix], token, message },
    );
    return undefined;
  };
  if (typeof text !== "string") {
    return problem(`expected a threshold string ${THRESHOLD_FORMAT}, got ${describeValue(text)}`);
  }
  const colon = text.indexOf(":");
  if (colon < 0) {
    return problem(
      `expected ${THRESHOLD_FORMAT}, got ${describeValue(text)} (no ":" after the metric)`,
    );
  }
  const metric = text.slice(0, colon).trim();
  if (metric === "" || /[\s=,]/.test(metric)) {
    return problem(
      `expected a metric name before ":" (${THRESHOLD_FORMAT}), got ${describeValue(metric)}`,
    );
  }
  const rest = text.slice(colon + 1);
  const tokens = rest.split(",").map((token) => token.trim());
  const object: Record<string, unknown> = { metric };
  const significance: Record<string, unknown> = {};
  const tokenOf = new Map<string, string>();
  const before = issues.length;
  for (const token of tokens) {
    if (token === "") {
      problem(
        rest.trim() === ""
          ? `expected at least one rule after "${metric}:", ` +
              `e.g. "${metric}:maxRelativeRegression=0.02"`
          : "expected rule=value between the commas, got an empty rule",
      );
      continue;
    }
    const equals = token.indexOf("=");
    const key = (equals < 0 ? token : token.slice(0, equals)).trim();
    const valueText = equals < 0 ? undefined : token.slice(equals + 1).trim();
    if (!(shorthandKeys as readonly string[]).includes(key)) {
      problem(
        `unknown rule "${key}"${suggest(key, shorthandKeys)}; ` +
          `expected one of ${shorthandKeys.join(", ")}`,
        token,
      );
      continue;
    }
    if (tokenOf.has(key)) {
      problem(`rule "${key}" is given twice (first as "${tokenOf.get(key)}")`, token);
      continue;
    }
    tokenOf.set(key, token);
    let value: unknown;
    if (key === "greaterIsBetter") {
      if (valueText !== "true" && valueText !== "false") {
        problem(`expected greaterIsBetter=true or greaterIsBetter=false`, token);
        continue;
      }
      value = valueText === "true";
    } else if (
      key === "significance" &&
      (valueText === undefined || !NUMBER_TEXT.test(valueText))
    ) {
      if (valueText !== undefined && valueText !== "true" && valueText !== "false") {
        problem(
          "expected significance, significance=true|false or significance=<confidence> such as " +
            `0.95, got ${describeValue(valueText)}`,
          token,
        );
        continue;
      }
      value = valueText !== "false";
    } else {
      if (valueText === undefined || valueText === "") {
        problem(`expected ${key}=<number>`, token);
        continue;
      }
      if (!NUMBER_TEXT.test(valueText)) {
        const hint = valueText.endsWith("%") ? " (write a fraction: 0.02 for 2 %)" : "";
        problem(`expected a number, got ${describeValue(valueText)}${hint}`, token);
        continue;
      }
      value = Number(valueText);
    }
    const setting =
      key === "significance" && typeof value === "number"
        ? "confidence"
        : key.startsWith("significance.")
          ? key.slice("significance.".length)
          : undefined;
    if (setting !== undefined) {
      if (setting in significance) {
        problem("the significance confidence is given twice", token);
        continue;
      }
      significance[setting] = value;
    } else if (key === "significance") {
      object.significance = value;
    } else {
      object[key] = value;
    }
  }
  if (issues.length > before) return undefined;
  if (Object.keys(significance).length > 0) {
    if (object.significance === false) {
      return problem(
        "significance=false cannot take settings; drop the significance.* rules or the false",
        tokenOf.get("significance"),
      );
    }
    object.significance = significance;
  }
  // The shape check runs on the object; its issues are reported against the token they came from.
  const checked: GateConfigIssue[] = [];
  const rule = checkRule(object, [], checked);
  for (const issue of checked) {
    const [first, second] = issue.path;
    const key =
      first === "significance" && typeof second === "string"
        ? `significance.${second}`
        : String(first ?? "");
    const token =
      tokenOf.get(key) ?? (first === "significance" ? tokenOf.get("significance") : undefined);
    issues.push(
      token === undefined
        ? { path: [...prefix, ...issue.path], message: issue.message }
        : { path: [...prefix], token, message: issue.message },
    );
  }
  return rule;
}

/**
 * Parses the CLI shorthand `metric:rule=value[,rule=value…]` into a validated rule. Rule keys
 * are those of `GateRuleInput`; `significance` alone (or `=true`) turns the bootstrap on,
 * `significance=0.99` sets its confidence, `significance.resamples=2000` / `significance.seed=1`
 * its other settings. Throws `GateConfigError` naming the bad token and what was expected.
 *
 * @example
 * parseThreshold("rmse:maxRelativeRegression=0.02");
 * // { metric: "rmse", greaterIsBetter: false, maxRelativeRegression: 0.02 }
 * parseThreshold("r2:minAbsoluteChange=0,threshold=0.1");
 * // { metric: "r2", greaterIsBetter: true, threshold: 0.1, minAbsoluteChange: 0 }
 */
export function parseThreshold(text: string): GateRule {
  const result = safeParseThreshold(text);
  if (!result.success) throw result.error;
  return result.data;
}

/**
 * `parseThreshold` without throwing: `{ success: true, data }` or `{ success: false, error }`.
 *
 * @example
 * const result = safeParseThreshold("rmse:maxRelativeRegression=2%");
 * if (!result.success) result.error.issues[0].message; // 'expected a number, got "2%" (…)'
 */
export function safeParseThreshold(text: string): SafeGateResult<GateRule> {
  const issues: GateConfigIssue[] = [];
  const rule = readShorthand(text, [], issues);
  if (rule === undefined || issues.length > 0) {
    const subject = typeof text === "string" ? `threshold ${JSON.stringify(text)}` : "threshold";
    return { success: false, error: new GateConfigError(issues, subject) };
  }
  return { success: true, data: rule };
}

// ---------------------------------------------------------------------------------------------
// Lists and maps of rules.
// ---------------------------------------------------------------------------------------------

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Reads the list or map form of rules at `prefix`; problems go to `issues`. */
export function readRules(
  value: unknown,
  prefix: readonly (string | number)[],
  issues: GateConfigIssue[],
): GateRule[] {
  const rules: GateRule[] = [];
  const add = (rule: GateRule | undefined) => {
    if (rule !== undefined) rules.push(rule);
  };
  if (Array.isArray(value)) {
    if (value.length === 0) {
      issues.push({ path: [...prefix], message: "expected at least one rule, got an empty list" });
    }
    value.forEach((entry, index) => {
      add(
        typeof entry === "string"
          ? readShorthand(entry, [...prefix, index], issues)
          : checkRule(entry, [...prefix, index], issues),
      );
    });
    return rules;
  }
  if (isPlainObject(value)) {
    const entries = Object.entries(value);
    if (entries.length === 0) {
      issues.push({ path: [...prefix], message: "expected at least one metric, got an empty map" });
    }
    for (const [metric, rule] of entries) {
      if (isPlainObject(rule) && "metric" in rule) {
        issues.push({
          path: [...prefix, metric, "metric"],
          message: `not allowed in the map form: the key "${metric}" names the metric`,
        });
        continue;
      }
      add(checkRule(isPlainObject(rule) ? { metric, ...rule } : rule, [...prefix, metric], issues));
    }
    return rules;
  }
  issues.push({
    path: [...prefix],
    message:
      "expected a list of rules ([{ metric: rmse, maxRelativeRegression: 0.02 }]) or a map from " +
      `metric to rules ({ rmse: { maxRelativeRegression: 0.02 } }), got ${describeValue(value)}`,
  });
  return rules;
}

/**
 * Validates rules given in code: a list of rule objects or `--threshold` strings, or a map from
 * metric name to rules. Fills `greaterIsBetter` from the metric's definition and the
 * significance defaults. Throws `GateConfigError` listing every problem with its path.
 *
 * @example
 * parseGateRules({ rmse: { maxRelativeRegression: 0.02 }, r2: { minAbsoluteChange: 0 } });
 * parseGateRules(["rmse:maxRelativeRegression=0.02", { metric: "r2", threshold: 0.3 }]);
 */
export function parseGateRules(rules: unknown): GateRule[] {
  const issues: GateConfigIssue[] = [];
  const parsed = readRules(rules, [], issues);
  if (issues.length > 0) throw new GateConfigError(issues, "gate rules");
  return parsed;
}

// ---------------------------------------------------------------------------------------------
// Gate config files (YAML or JSON).
// ---------------------------------------------------------------------------------------------

/**
 * Options for `parseGateConfig`.
 *
 * @example
 * parseGateConfig(text, { source: "gate.yaml" }); // issues read "gate.yaml:4:5: …"
 */
export interface ParseGateConfigOptions {
  /** The file name, used in messages and issue locations (e.g. `gate.yaml`). */
  source?: string;
}

const configKeys = ["thresholds", "requireBaseline"] as const;

const POSITION = / at line \d+, column \d+:?$/;

/**
 * Parses a gate config file (YAML, or JSON, which is YAML too):
 *
 * ```yaml
 * requireBaseline: true
 * thresholds:
 *   - metric: rmse
 *     maxRelativeRegression: 0.02
 *   - r2:minAbsoluteChange=0          # the --threshold shorthand works in the list too
 * ```
 *
 * or `thresholds: { rmse: { maxRelativeRegression: 0.02 } }`. Throws `GateConfigError` whose
 * issues name the path and, with `source`, the file and line of each problem.
 *
 * @example
 * const config = parseGateConfig(await readFile("gate.yaml", "utf8"), { source: "gate.yaml" });
 * evaluateGate({ candidate, baseline, data, ...config });
 */
export function parseGateConfig(text: string, options: ParseGateConfigOptions = {}): GateConfig {
  const result = safeParseGateConfig(text, options);
  if (!result.success) throw result.error;
  return result.data;
}

/**
 * `parseGateConfig` without throwing: `{ success: true, data }` or `{ success: false, error }`.
 *
 * @example
 * const result = safeParseGateConfig("thresholds: { rmse: { maxRelativeRegression: -1 } }");
 * if (!result.success) result.error.issues[0].path;
 * // ["thresholds", "rmse", "maxRelativeRegression"]
 */
export function safeParseGateConfig(
  text: string,
  options: ParseGateConfigOptions = {},
): SafeGateResult<GateConfig> {
  const source = options.source;
  // Each issue's location names the file, so the subject does not repeat it.
  const fail = (issues: GateConfigIssue[]): SafeGateResult<GateConfig> => ({
    success: false,
    error: new GateConfigError(issues, "gate config"),
  });
  const parsed = readYaml(text, "the config text", source);
  if (!parsed.success) return fail(parsed.issues);
  const { value } = parsed;
  const issues: GateConfigIssue[] = [];
  let rules: GateRule[] = [];
  let requireBaseline = false;
  if (!isPlainObject(value)) {
    issues.push({
      path: [],
      message:
        "expected a gate config such as { thresholds: [...], requireBaseline: true }, " +
        `got ${value === null || value === undefined ? "an empty document" : describeValue(value)}`,
    });
  } else {
    for (const key of Object.keys(value)) {
      if (!(configKeys as readonly string[]).includes(key)) {
        issues.push({
          path: [key],
          message:
            `unknown setting "${key}"${suggest(key, configKeys)}; ` +
            `expected one of ${configKeys.join(", ")}`,
        });
      }
    }
    if (value.thresholds === undefined) {
      issues.push({
        path: ["thresholds"],
        message: "missing: expected a list of rules or a map from metric to rules",
      });
    } else {
      rules = readRules(value.thresholds, ["thresholds"], issues);
    }
    if (value.requireBaseline !== undefined) {
      if (typeof value.requireBaseline === "boolean") requireBaseline = value.requireBaseline;
      else {
        issues.push({
          path: ["requireBaseline"],
          message: `expected true or false, got ${describeValue(value.requireBaseline)}`,
        });
      }
    }
  }
  if (issues.length > 0) return fail(parsed.locate(issues));
  return { success: true, data: { rules, requireBaseline } };
}

/** A YAML (or JSON) text read for gate rules, or the syntax problems that stopped it. */
export type YamlRules =
  | {
      success: true;
      value: unknown;
      /** Puts the file, line and column on each issue (by its path), in file order. */
      locate(issues: GateConfigIssue[]): GateConfigIssue[];
    }
  | { success: false; issues: GateConfigIssue[] };

/**
 * Parses YAML for the gate (a config file, the Action's `thresholds` block), keeping what is
 * needed to point every later issue at the line and column where the user wrote it.
 */
export function readYaml(text: unknown, what: string, source: string | undefined): YamlRules {
  if (typeof text !== "string") {
    return {
      success: false,
      issues: [{ path: [], message: `expected ${what}, got ${describeValue(text)}` }],
    };
  }
  const lines = new LineCounter();
  const document = parseDocument(text, { lineCounter: lines, prettyErrors: true });
  if (document.errors.length > 0) {
    return {
      success: false,
      issues: document.errors.map((error) => {
        const position = error.linePos?.[0];
        const issue: GateConfigIssue = {
          path: [],
          // The position goes into `location`; the message keeps the first line only.
          message: `not valid YAML: ${error.message.split("\n")[0].replace(POSITION, "")}`,
        };
        if (source !== undefined || position !== undefined) {
          issue.location = { file: source, line: position?.line, column: position?.col };
        }
        return issue;
      }),
    };
  }
  return {
    success: true,
    value: document.toJS(),
    locate(issues) {
      for (const issue of issues) {
        const position = locateYamlPath(document, lines, issue.path);
        if (source !== undefined || position !== undefined) {
          issue.location = { file: source, line: position?.line, column: position?.column };
        }
      }
      // In file order, as an editor lists problems.
      const line = (issue: GateConfigIssue) => issue.location?.line ?? 0;
      const column = (issue: GateConfigIssue) => Number(issue.location?.column ?? 0);
      return issues.sort((a, b) => line(a) - line(b) || column(a) - column(b));
    },
  };
}
