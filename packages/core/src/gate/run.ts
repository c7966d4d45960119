import { isAbsolute, resolve } from "node:path";
import { MlopsError } from "../errors/error.js";
import type { Frame } from "../frame/frame.js";
import { readFrame } from "../io/index.js";
import { currentActor } from "../registry/actor.js";
import { validateAlias, validateName } from "../registry/names.js";
import type { LoadedModel, Registry } from "../registry/registry.js";
import type { ModelVersion } from "../registry/types.js";
import { formatModelUri, parseModelUri } from "../registry/uri.js";
import { Schema } from "../schema/schema.js";
import { evaluateGate } from "./evaluate.js";
import { formatGateMarkdown } from "./format.js";
import { formatNumber, formatPercent, formatSigned, formatSignedPercent } from "./numbers.js";
import {
  GateConfigError,
  type GateConfigIssue,
  type GateRule,
  type GateRuleKind,
  type GateRulesInput,
  parseGateRules,
  safeParseGateConfig,
  safeParseThreshold,
} from "./rules.js";
import type { GateResult, GateRow } from "./types.js";

/** The candidate a gate checks unless told otherwise. */
const DEFAULT_CANDIDATE = "@staging";
/** The baseline a gate compares with unless told otherwise. */
const DEFAULT_BASELINE = "@production";

const REFERENCE_FORMS = "@ALIAS, a version (3 or /3), latest or a models:/ URI";

/**
 * The `models:/` URI of a gate's candidate or baseline, written the short way the `mlops gate`
 * command and the GitHub Action accept it: `@staging` (an alias of `model`), `3` or `/3` (a
 * version), `latest`, or a full `models:/` URI (which may name another model). Throws
 * `uri_invalid`, `registry_name_invalid` or `argument_invalid` saying what was expected.
 *
 * @example
 * gateModelUri("wine", "@staging"); // "models:/wine@staging"
 * gateModelUri("wine", "/3"); // "models:/wine/3"
 * gateModelUri("wine", "models:/wine-xgb@production"); // "models:/wine-xgb@production"
 */
export function gateModelUri(model: string, reference: string): string {
  if (typeof reference !== "string" || reference.trim() === "") {
    throw new MlopsError(
      "argument_invalid",
      `expected a model reference (${REFERENCE_FORMS}), got ${JSON.stringify(reference ?? null)}`,
    );
  }
  const text = reference.trim();
  if (text.startsWith("models:/")) return formatModelUri(parseModelUri(text));
  validateName("model name", model);
  let uri: string;
  if (text.startsWith("@")) uri = `models:/${model}${text}`;
  else if (/^\/?\d+$/.test(text) || /^\/?latest$/.test(text)) {
    uri = `models:/${model}/${text.replace(/^\//, "")}`;
  } else {
    throw new MlopsError(
      "argument_invalid",
      `${JSON.stringify(text)} is not a model reference: expected ${REFERENCE_FORMS}`,
    );
  }
  return formatModelUri(parseModelUri(uri));
}

// ---------------------------------------------------------------------------------------------
// The thresholds block of the GitHub Action.
// ---------------------------------------------------------------------------------------------

/**
 * Options for `parseGateThresholds`.
 *
 * @example
 * parseGateThresholds(text, { source: "thresholds" }); // issues read "thresholds:2:3: …"
 */
export interface ParseGateThresholdsOptions {
  /** Where the text came from, for issue locations (an input name, a file name). */
  source?: string;
}

/** A `metric:rule=value` line: a metric name, then a colon with no space after it. */
const SHORTHAND_LINE = /^[A-Za-z_][\w.-]*:\S/;

function withoutComment(line: string): string {
  return line.replace(/(^|\s)#.*$/, "").trim();
}

function shift(issue: GateConfigIssue, source: string | undefined): GateConfigIssue {
  const path = issue.path[0] === "thresholds" ? issue.path.slice(1) : issue.path;
  const shifted: GateConfigIssue = { ...issue, path };
  const location = issue.location;
  if (location !== undefined) {
    // The text was parsed one line down and two columns right of where the user wrote it.
    const line = location.line === undefined ? undefined : Math.max(1, location.line - 1);
    const column =
      typeof location.column === "number" && location.line !== undefined && location.line > 1
        ? Math.max(1, location.column - 2)
        : location.column;
    shifted.location = { file: source, line, column };
    if (line === undefined) delete shifted.location.line;
    if (column === undefined) delete shifted.location.column;
    if (source === undefined) delete shifted.location.file;
  }
  return shifted;
}

/**
 * Parses gate rules written as a block of text — the `thresholds` input of the GitHub Action —
 * in any of three forms: a YAML list (of `metric:rule=value` strings or rule objects), a YAML
 * map from metric to rules, or plain lines of `metric:rule=value`, one rule per line. Throws
 * `GateConfigError` whose issues name the line (and the token at fault) of every problem.
 *
 * @example
 * parseGateThresholds("- rmse:maxRelativeRegression=0.02\n- r2:minAbsoluteChange=0");
 * parseGateThresholds("rmse: { maxRelativeRegression: 0.02 }");
 * parseGateThresholds("rmse:maxRelativeRegression=0.02\nr2:minAbsoluteChange=0");
 * // each: [{ metric: "rmse", … }, { metric: "r2", … }] (the map form: rmse only)
 */
export function parseGateThresholds(
  text: string,
  options: ParseGateThresholdsOptions = {},
): GateRule[] {
  const { source } = options;
  const subject = "thresholds";
  if (typeof text !== "string" || text.trim() === "") {
    throw new GateConfigError(
      [
        {
          path: [],
          message:
            "expected rules such as rmse:maxRelativeRegression=0.02 (a YAML list, a map from " +
            "metric to rules, or one rule per line), got nothing",
        },
      ],
      subject,
    );
  }
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  const content = lines.map(withoutComment);
  if (content.every((line) => line === "" || SHORTHAND_LINE.test(line))) {
    // Plain lines: one `metric:rule=value` per line (`#` starts a comment).
    const rules: GateRule[] = [];
    const issues: GateConfigIssue[] = [];
    content.forEach((line, index) => {
      if (line === "") return;
      const result = safeParseThreshold(line);
      if (result.success) rules.push(result.data);
      else {
        const location =
          source === undefined ? { line: index + 1 } : { file: source, line: index + 1 };
        for (const issue of result.error.issues) issues.push({ ...issue, location });
      }
    });
    if (issues.length > 0) throw new GateConfigError(issues, subject);
    return rules;
  }
  // Parsed as the `thresholds` of a gate config, so that issues get their line and column.
  const indented = lines.map((line) => (line === "" ? "" : `  ${line}`));
  const wrapped = `thresholds:\n${indented.join("\n")}`;
  const result = safeParseGateConfig(wrapped);
  if (result.success) return result.data.rules;
  throw new GateConfigError(
    result.error.issues.map((issue) => shift(issue, source)),
    subject,
  );
}

// ---------------------------------------------------------------------------------------------
// One sentence for the alias history.
// ---------------------------------------------------------------------------------------------

const COMPARISONS: ReadonlySet<GateRuleKind> = new Set<GateRuleKind>([
  "minAbsoluteChange",
  "minRelativeChange",
  "maxAbsoluteRegression",
  "maxRelativeRegression",
  "significance",
]);

function requirement(row: GateRow): string {
  const value = Number(row.rule.slice(row.rule.indexOf("=") + 1));
  switch (row.kind) {
    case "threshold":
      return `threshold ${row.greaterIsBetter ? "≥" : "≤"} ${formatNumber(value)}`;
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
    case "maxRelativeRegression":
      return value === 0
        ? "no regression allowed"
        : `at most ${formatPercent(value)} worse allowed`;
    default:
      return `not worse with ${formatPercent(value)} confidence`;
  }
}

function valueText(value: number | null): string {
  return value === null ? "missing" : formatNumber(value);
}

/** `rmse 0.7257 vs 0.7486 (-3.05 %, at most 2 % worse allowed)` for the rows of one metric. */
function metricText(rows: readonly GateRow[], hasBaseline: boolean): string {
  const [first] = rows;
  // A row without a usable value has a better sentence of its own.
  const broken = rows.find(
    (row) =>
      !row.passed &&
      (row.candidate === null ||
        !Number.isFinite(row.candidate) ||
        (hasBaseline &&
          COMPARISONS.has(row.kind) &&
          (row.baseline === null || !Number.isFinite(row.baseline)))),
  );
  if (broken !== undefined) return broken.reason.replace(/\.$/, "");
  const shown = hasBaseline ? rows : rows.filter((row) => !COMPARISONS.has(row.kind));
  const requirements = shown.map(requirement);
  const candidate = valueText(first.candidate);
  const baselineRow = rows.find((row) => row.baseline !== null);
  if (!hasBaseline || baselineRow === undefined) {
    return requirements.length === 0
      ? `${first.metric} ${candidate}`
      : `${first.metric} ${candidate} (${requirements.join(", ")})`;
  }
  const change =
    baselineRow.relativeDelta !== null
      ? formatSignedPercent(baselineRow.relativeDelta)
      : baselineRow.delta !== null
        ? formatSigned(baselineRow.delta)
        : undefined;
  const details = [change, ...requirements].filter((item) => item !== undefined);
  const baseline = valueText(baselineRow.baseline);
  return `${first.metric} ${candidate} vs ${baseline} (${details.join(", ")})`;
}

/**
 * The gate's verdict in one line, as the alias history keeps it and a CI step fails with: every
 * metric on a pass, only the failed ones on a fail, each with both values, the change and the
 * rule.
 *
 * @example
 * formatGateSummary(result);
 * // "gate passed: rmse 0.7257 vs 0.7486 (-3.05 %, at most 2 % worse allowed); "
 * //   + "r2 0.2632 vs 0.2161 (+21.8 %, at least as good required)"
 */
export function formatGateSummary(result: GateResult): string {
  const hasBaseline = result.baseline !== undefined;
  const rows = result.passed ? result.rows : result.rows.filter((row) => !row.passed);
  const byMetric = new Map<string, GateRow[]>();
  for (const row of rows) byMetric.set(row.metric, [...(byMetric.get(row.metric) ?? []), row]);
  const parts = [...byMetric.values()].map((group) => metricText(group, hasBaseline));
  if (!hasBaseline) {
    parts.unshift(
      result.passed
        ? "first model (no baseline to compare with)"
        : "no baseline to compare with, and a baseline is required",
    );
  }
  const unique = [...new Set(parts)];
  return `gate ${result.passed ? "passed" : "failed"}: ${unique.join("; ")}`;
}

// ---------------------------------------------------------------------------------------------
// Load, evaluate, promote.
// ---------------------------------------------------------------------------------------------

/**
 * What `runGate` compares and what it does on a pass.
 *
 * @example
 * const options: RunGateOptions = {
 *   model: "wine",
 *   data: "holdout.csv",
 *   rules: ["rmse:maxRelativeRegression=0.02"],
 *   promote: "production",
 * };
 */
export interface RunGateOptions {
  /** The registered model whose versions are compared. */
  model: string;
  /** The model that wants promotion: `@alias`, `3`, `/3`, `latest` or a URI. Default `@staging`. */
  candidate?: string;
  /** The model it must not regress from. Default `@production`; an unset alias = a first model. */
  baseline?: string;
  /**
   * Evaluation data: a file path (CSV, JSON Lines, Parquet, Arrow; read with `readFrame` and
   * validated with the candidate's schema) or a Frame. Without it, stored metrics are compared.
   */
  data?: string | Frame;
  /** The directory a relative `data` path is resolved against. Default `process.cwd()`. */
  cwd?: string;
  /** The target column of the data. Default: the candidate schema's target. */
  target?: string;
  /** The rules: rule objects, `--threshold` strings, or a map from metric to rules. */
  rules: GateRulesInput;
  /** Fail when there is no baseline to compare with. Default false. */
  requireBaseline?: boolean;
  /** On a pass, point this alias of the candidate's model at the candidate's version. */
  promote?: string;
  /** Put before the verdict in the alias-history reason (`"nightly retrain"`). */
  reason?: string;
  /** Who promotes, for the alias history. Default `currentActor()`: `GITHUB_ACTOR`, the OS user. */
  actor?: string;
}

/**
 * An alias moved (or confirmed) by a passing gate.
 *
 * @example
 * // { name: "wine", alias: "production", from: 2, to: 3, moved: true, actor: "octocat",
 * //   reason: "gate passed: rmse 0.7257 vs 0.7486 (-3.05 %, at most 2 % worse allowed)" }
 */
export interface GatePromotion {
  name: string;
  alias: string;
  /** The version the alias pointed at before; null when the alias is new. */
  from: number | null;
  to: number;
  /** False when the alias already pointed at the candidate (nothing was written). */
  moved: boolean;
  actor: string;
  /** The alias-history reason: `options.reason`, then the verdict summary. */
  reason: string;
}

/**
 * What `runGate` did: the gate's result, the versions compared and the promotion.
 *
 * @example
 * const run = await runGate(registry, options);
 * if (!run.result.passed) process.exitCode = 1;
 * run.promoted?.to; // 3
 */
export interface RunGateResult {
  result: GateResult;
  /** The candidate's URI as given (`models:/wine@staging`) and the version it resolved to. */
  candidateUri: string;
  candidate: ModelVersion;
  baselineUri: string;
  /** Null when the baseline alias is not set (a first model). */
  baseline: ModelVersion | null;
  /** The alias a pass was to move, null when none was asked for. */
  promote: string | null;
  /** The move, or null when none was asked for or the gate failed. */
  promoted: GatePromotion | null;
  /** `formatGateSummary(result)`. */
  summary: string;
}

function withRole(role: string, uri: string, error: unknown): unknown {
  if (!MlopsError.isInstance(error)) return error;
  return new MlopsError(error.code, `${role} ${uri}: ${error.message}`, {
    cause: error,
    location: error.location,
  });
}

async function loadRole(registry: Registry, role: string, uri: string): Promise<LoadedModel> {
  try {
    return await registry.loadModel(uri);
  } catch (error) {
    throw withRole(role, uri, error);
  }
}

/** The baseline, or null when its alias is not set yet: the candidate is a first model. */
async function loadBaseline(registry: Registry, uri: string): Promise<LoadedModel | null> {
  const parsed = parseModelUri(uri);
  if (parsed.kind === "alias") {
    let aliases: Record<string, number>;
    try {
      aliases = await registry.store.listAliases(parsed.name);
    } catch (error) {
      throw withRole("baseline", uri, error);
    }
    if (!Object.hasOwn(aliases, parsed.alias)) return null;
  }
  return loadRole(registry, "baseline", uri);
}

async function readData(path: string, cwd: string, candidate: LoadedModel): Promise<Frame> {
  const file = isAbsolute(path) ? path : resolve(cwd, path);
  try {
    return await readFrame(file, { schema: Schema.fromJSON(candidate.artifact.manifest.schema) });
  } catch (error) {
    // An unreadable data file is bad input to the gate, not a registry failure.
    if (MlopsError.isInstance(error) && error.code === "file_read") {
      throw new MlopsError(
        "gate_data_invalid",
        `cannot read the evaluation data ${path}: ${error.message}`,
        { cause: error, location: error.location },
      );
    }
    throw error;
  }
}

/**
 * The whole gate, as `mlops gate` and the GitHub Action run it: loads the candidate and the
 * baseline from the registry (digests verified), reads the evaluation data (validated with the
 * candidate's schema), runs `evaluateGate`, and on a pass points `promote` at the candidate,
 * recording the verdict in the alias history. A baseline alias that is not set yet means a first
 * model (it passes with a note unless `requireBaseline`). Everything is checked before anything
 * is loaded, so invalid rules or names fail fast. A failing gate is a result, not an error; errors
 * are `MlopsError`s (`gate_config_invalid`, `gate_data_invalid`, `registry_not_found`, …).
 *
 * @example
 * const registry = await openExistingRegistry(".mlops");
 * const run = await runGate(registry, {
 *   model: "wine",
 *   data: "holdout.csv",
 *   rules: ["rmse:maxRelativeRegression=0.02", "r2:minAbsoluteChange=0"],
 *   promote: "production",
 * });
 * run.result.verdict; // "pass"
 * run.promoted; // { alias: "production", from: 2, to: 3, moved: true, … }
 */
export async function runGate(registry: Registry, options: RunGateOptions): Promise<RunGateResult> {
  if (typeof options !== "object" || options === null) {
    throw new MlopsError("argument_invalid", "runGate: expected an options object");
  }
  validateName("model name", options.model);
  const candidateUri = gateModelUri(options.model, options.candidate ?? DEFAULT_CANDIDATE);
  const baselineUri = gateModelUri(options.model, options.baseline ?? DEFAULT_BASELINE);
  const rules = parseGateRules(options.rules);
  if (options.promote !== undefined) validateAlias(options.promote);
  const actor = options.actor ?? currentActor();

  const candidate = await loadRole(registry, "candidate", candidateUri);
  const baseline = await loadBaseline(registry, baselineUri);
  const data =
    typeof options.data === "string"
      ? await readData(options.data, options.cwd ?? process.cwd(), candidate)
      : options.data;
  const result = evaluateGate({
    candidate: { artifact: candidate.artifact, version: candidate.version },
    baseline:
      baseline === null ? undefined : { artifact: baseline.artifact, version: baseline.version },
    data,
    target: options.target,
    rules,
    requireBaseline: options.requireBaseline === true,
  });
  const summary = formatGateSummary(result);

  let promoted: GatePromotion | null = null;
  if (result.passed && options.promote !== undefined) {
    const { name, version } = candidate.version;
    const alias = options.promote;
    const aliases = await registry.store.listAliases(name);
    const from = Object.hasOwn(aliases, alias) ? aliases[alias] : null;
    // Promoting the alias that was the baseline: it must still be what the gate compared with.
    const parsedBaseline = parseModelUri(baselineUri);
    const expected = baseline === null ? null : baseline.version.version;
    if (
      parsedBaseline.kind === "alias" &&
      parsedBaseline.name === name &&
      parsedBaseline.alias === alias &&
      from !== expected
    ) {
      throw new MlopsError(
        "registry_conflict",
        `${name}@${alias} moved from ${expected ?? "(none)"} to ${from ?? "(none)"} while the ` +
          "gate ran; it was not promoted: run the gate again against the new baseline",
      );
    }
    const reason = options.reason ? `${options.reason}; ${summary}` : summary;
    const moved = from !== version;
    if (moved) await registry.setAlias(name, alias, version, { actor, reason });
    promoted = { name, alias, from, to: version, moved, actor, reason };
  }
  return {
    result,
    candidateUri,
    candidate: candidate.version,
    baselineUri,
    baseline: baseline?.version ?? null,
    promote: options.promote ?? null,
    promoted,
    summary,
  };
}

/**
 * A gate run as one plain JSON document — what `mlops gate --json` prints and the GitHub
 * Action's `report` output holds.
 *
 * @example
 * const report = gateRunReport(run);
 * // { result: { verdict: "pass", rows: [...], ... },
 * //   candidate: { uri: "models:/wine@staging", version: 3 },
 * //   baseline: { uri: "models:/wine@production", version: 2 },
 * //   promoted: { name: "wine", alias: "production", from: 2, to: 3, moved: true, ... } }
 */
export interface GateRunReport {
  result: GateResult;
  candidate: { uri: string; version: number };
  /** Null for a first model (the baseline alias is not set). */
  baseline: { uri: string; version: number } | null;
  promoted: GatePromotion | null;
}

/**
 * The report of a gate run as plain data (`JSON.stringify` it), without the registry's full
 * `ModelVersion` entries.
 *
 * @example
 * process.stdout.write(`${JSON.stringify(gateRunReport(run), null, 2)}\n`);
 */
export function gateRunReport(run: RunGateResult): GateRunReport {
  return {
    result: run.result,
    candidate: { uri: run.candidateUri, version: run.candidate.version },
    baseline:
      run.baseline === null ? null : { uri: run.baselineUri, version: run.baseline.version },
    promoted: run.promoted === null ? null : { ...run.promoted },
  };
}

/**
 * A gate run as Markdown for a job summary or a pull-request comment: `formatGateMarkdown`'s
 * table, notes and verdict, then which models were compared and what happened to the alias.
 *
 * @example
 * await appendFile(process.env.GITHUB_STEP_SUMMARY, formatGateRunMarkdown(run));
 */
export function formatGateRunMarkdown(run: RunGateResult): string {
  const lines = [formatGateMarkdown(run.result).trimEnd(), ""];
  const versionOf = (version: ModelVersion) => `${version.name} v${version.version}`;
  const baseline =
    run.baseline === null
      ? `\`${run.baselineUri}\` is not set (first model)`
      : `\`${run.baselineUri}\` (${versionOf(run.baseline)})`;
  lines.push(
    `Candidate \`${run.candidateUri}\` (${versionOf(run.candidate)}), baseline ${baseline}.`,
  );
  if (run.promoted !== null) {
    const { name, alias, from, to, moved, actor } = run.promoted;
    lines.push(
      "",
      moved
        ? `**Promoted:** \`${name}@${alias}\` v${from ?? "(none)"} → v${to} (by ${actor}).`
        : `**Promoted:** \`${name}@${alias}\` already points at v${to}; nothing to move.`,
    );
  } else if (run.promote !== null) {
    lines.push(
      "",
      `**Not promoted:** \`${run.candidate.name}@${run.promote}\` was not moved, because the ` +
        "gate failed.",
    );
  }
  return `${lines.join("\n")}\n`;
}
