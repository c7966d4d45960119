import type { ModelVersion } from "../registry/types.js";
import { formatGateMarkdown } from "./format.js";
import type { GateEvaluationData, GatePromotion, RunGateResult } from "./run.js";
import type { GateResult } from "./types.js";

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
  /** The evaluation data both models were scored on. */
  evaluationData: GateEvaluationData;
  /** Evaluation rows that were part of a model's training data, as sentences. */
  warnings: string[];
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
    evaluationData: { ...run.evaluationData },
    warnings: [...run.warnings],
  };
}

/**
 * Where the evaluation data came from, in one sentence.
 *
 * @example
 * describeEvaluationData(run.evaluationData, "wine v3");
 * // 'the "holdout" dataset registered with wine v3 (1300 rows, runs:/3f2c…/dataset.holdout.parquet)'
 */
export function describeEvaluationData(data: GateEvaluationData, candidate: string): string {
  switch (data.source) {
    case "file":
      return `${data.path} (${data.rows} rows)`;
    case "frame":
      return `the frame given (${data.rows} rows)`;
    case "registered":
      return (
        `the "${data.name}" dataset registered with ${candidate} (${data.rows} rows, ` +
        `${data.uri})`
      );
    default:
      return "none: the models' stored metrics were compared";
  }
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
    "",
    `Evaluation data: ${describeEvaluationData(run.evaluationData, versionOf(run.candidate))}.`,
  );
  for (const warning of run.warnings) lines.push("", `> **Warning:** ${warning}`);
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
