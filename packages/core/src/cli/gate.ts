import { readFile, writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { MlopsError } from "../errors/error.js";
import { formatGateTable } from "../gate/format.js";
import { describeEvaluationData, formatGateRunMarkdown, gateRunReport } from "../gate/report.js";
import {
  GateConfigError,
  type GateConfigIssue,
  type GateRule,
  parseGateConfig,
  safeParseThreshold,
} from "../gate/rules.js";
import { type RunGateResult, runGate } from "../gate/run.js";
import { currentActor } from "../registry/actor.js";
import { REPORT_HTML_ARTIFACT } from "../registry/reports.js";
import { loadUi } from "../ui/load.js";
import { defineMlopsCommand } from "./context.js";

function errnoCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/** Every `--threshold`, parsed; all their problems reported at once. */
function parseThresholds(texts: readonly string[]): GateRule[] {
  const rules: GateRule[] = [];
  const errors: GateConfigError[] = [];
  for (const text of texts) {
    const result = safeParseThreshold(text);
    if (result.success) rules.push(result.data);
    else errors.push(result.error);
  }
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) {
    const issues: GateConfigIssue[] = errors.flatMap((error) => error.issues);
    throw new GateConfigError(issues, "thresholds");
  }
  return rules;
}

async function readConfig(path: string, cwd: string) {
  let text: string;
  try {
    text = await readFile(resolve(cwd, path), "utf8");
  } catch (error) {
    const code = errnoCode(error);
    throw new MlopsError(
      code === "ENOENT" ? "file_not_found" : "gate_config_invalid",
      code === "ENOENT"
        ? `gate config ${path} not found`
        : `cannot read the gate config ${path} (${code ?? error})`,
      { cause: error, location: { file: path } },
    );
  }
  return parseGateConfig(text, { source: path });
}

async function writeReport(cwd: string, path: string, kind: string, text: string): Promise<void> {
  try {
    await writeFile(resolve(cwd, path), text);
  } catch (error) {
    throw new MlopsError(
      "file_write",
      `cannot write the ${kind} report ${path} (${errnoCode(error) ?? error})`,
      { cause: error, location: { file: path } },
    );
  }
}

function versionText(version: number | null): string {
  return version === null ? "(none)" : String(version);
}

function promotionText(run: RunGateResult): string {
  if (run.promoted !== null) {
    const { name, alias, from, to, moved, actor, reason } = run.promoted;
    return moved
      ? `Promoted ${name}@${alias}: ${versionText(from)} → ${to} (by ${actor}, reason ` +
          `${JSON.stringify(reason)})\n`
      : `${name}@${alias} already points at ${to}: nothing to promote.\n`;
  }
  if (run.promote !== null) {
    const alias = `${run.candidate.name}@${run.promote}`;
    return `Not promoted: the gate failed, so ${alias} was not moved.\n`;
  }
  return "";
}

function keptText(run: RunGateResult): string {
  if (run.kept === null) return "";
  const { name, version } = run.candidate;
  return (
    `\nReport kept with ${name} v${version}: run ${run.kept.runId} of experiment ` +
    `${run.kept.experiment} (mlops ui shows it on the version's page)\n`
  );
}

function comparedText(run: RunGateResult): string {
  const candidate = `${run.candidateUri} (version ${run.candidate.version})`;
  const baseline =
    run.baseline === null
      ? `${run.baselineUri} (not set: a first model)`
      : `${run.baselineUri} (version ${run.baseline.version})`;
  const versionOf = `${run.candidate.name} v${run.candidate.version}`;
  const warnings = run.warnings.map((warning) => `Warning: ${warning}\n`).join("");
  return (
    `Candidate ${candidate}, baseline ${baseline}\n` +
    `Evaluation data: ${describeEvaluationData(run.evaluationData, versionOf)}\n` +
    `${warnings}\n`
  );
}

/** `mlops gate`: load candidate and baseline, score both on the same data, maybe promote. */
export const gateCommand = defineMlopsCommand({
  name: "gate",
  summary:
    "Compare a candidate with the baseline on the same data; promote it only if no rule fails.",
  args: [],
  options: {
    model: {
      type: "string",
      value: "NAME",
      description: "the registered model",
      required: true,
    },
    candidate: {
      type: "string",
      value: "REF",
      description:
        "the model that wants promotion: @ALIAS, N, /N or models:/ URI (default @staging)",
    },
    baseline: {
      type: "string",
      value: "REF",
      description: "what it must not regress from (default @production; unset alias = first model)",
    },
    data: {
      type: "string",
      value: "FILE",
      description:
        "evaluation data (CSV, JSONL, Parquet, Arrow), checked with the candidate schema " +
        "(default: the hold-out set registered with the candidate, else stored metrics)",
    },
    threshold: {
      type: "string",
      value: "RULE",
      multiple: true,
      description: "a rule, METRIC:RULE=VALUE[,RULE=VALUE], e.g. rmse:maxRelativeRegression=0.02",
    },
    config: {
      type: "string",
      value: "FILE",
      description:
        "a gate config (YAML or JSON: thresholds, requireBaseline) instead of --threshold",
    },
    "require-baseline": {
      type: "boolean",
      description: "fail when there is no baseline to compare with",
    },
    promote: {
      type: "string",
      value: "ALIAS",
      description: "on a pass, point this alias at the candidate (the verdict is the reason)",
    },
    reason: {
      type: "string",
      value: "TEXT",
      description: "put before the verdict in the alias-history reason",
    },
    actor: {
      type: "string",
      value: "NAME",
      description: "who promotes (default: $GITHUB_ACTOR, else the OS user)",
    },
    markdown: {
      type: "string",
      value: "FILE",
      description: "also write the report as Markdown (a job summary) to FILE",
    },
    html: {
      type: "string",
      value: "FILE",
      description:
        "also write the report as one HTML file with charts and the bootstrap intervals, " +
        "kept with the candidate version too (needs @mlops/ui)",
    },
  },
  examples: [
    "mlops gate --model wine --threshold rmse:maxRelativeRegression=0.02 --promote production",
    "mlops gate --model wine --data holdout.csv --threshold rmse:maxRelativeRegression=0.02 " +
      "--threshold r2:minAbsoluteChange=0 --promote production",
    "mlops gate --model wine --candidate /4 --baseline @production --config gate.yaml --json",
  ],
  exitCodes:
    "Exit codes: 0 the gate passed, 1 it failed (a regression), 2 usage error or bad input " +
    '(rules, data, unknown model), 3 registry error (see "mlops --help").',
  async run({ openRegistry, options, env, cwd }) {
    const thresholds = options.threshold;
    const configPath = options.config;
    if (thresholds.length > 0 && configPath !== undefined) {
      throw new MlopsError(
        "argument_invalid",
        "give the rules with --threshold or with --config, not both",
      );
    }
    if (thresholds.length === 0 && configPath === undefined) {
      throw new MlopsError(
        "argument_invalid",
        "no rules: give --threshold METRIC:RULE=VALUE (repeatable) or --config FILE",
      );
    }
    const config =
      configPath === undefined
        ? { rules: parseThresholds(thresholds), requireBaseline: false }
        : await readConfig(configPath, cwd);
    // Before the gate runs: a missing @mlops/ui fails at once, and nothing is promoted.
    const ui = options.html === undefined ? undefined : await loadUi("renderGateReport");
    const registry = await openRegistry();
    let html: string | undefined;
    const run = await runGate(registry, {
      model: options.model,
      candidate: options.candidate,
      baseline: options.baseline,
      data: options.data,
      cwd,
      rules: config.rules,
      requireBaseline: options["require-baseline"] === true || config.requireBaseline,
      promote: options.promote,
      reason: options.reason,
      actor: options.actor ?? currentActor(env),
      // The HTML file is kept with the report too (as report.html): rendered once, here.
      reportFiles:
        ui === undefined
          ? undefined
          : (report) => {
              html = ui.renderGateReport(report);
              return { [REPORT_HTML_ARTIFACT]: html };
            },
    });
    if (options.markdown !== undefined) {
      await writeReport(cwd, options.markdown, "Markdown", formatGateRunMarkdown(run));
    }
    if (ui !== undefined && options.html !== undefined) {
      html ??= ui.renderGateReport(gateRunReport(run));
      await writeReport(cwd, options.html, "HTML", html);
    }
    return {
      json: gateRunReport(run),
      text:
        comparedText(run) +
        formatGateTable(run.result) +
        (promotionText(run) === "" ? "" : `\n${promotionText(run)}`) +
        keptText(run),
      exitCode: run.result.passed ? 0 : 1,
    };
  },
});
