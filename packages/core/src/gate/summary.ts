import { formatNumber, formatSigned, formatSignedPercent } from "../format/numbers.js";
import { describeRequirement, ruleKind } from "./kinds.js";
import type { GateResult, GateRow } from "./types.js";

function valueText(value: number | null): string {
  return value === null ? "missing" : formatNumber(value);
}

function requirement(row: GateRow): string {
  return describeRequirement(row.kind, row.setting, row.greaterIsBetter);
}

/** `rmse 0.7257 vs 0.7486 (-3.05 %, at most 2 % worse allowed)` for the rows of one metric. */
function metricText(rows: readonly GateRow[], hasBaseline: boolean): string {
  const [first] = rows;
  // A row without a usable value has a better sentence of its own.
  const broken = rows.find(
    (row) =>
      !row.passed &&
      (!Number.isFinite(row.candidate) ||
        (hasBaseline &&
          ruleKind(row.kind).comparison &&
          (row.baseline === null || !Number.isFinite(row.baseline)))),
  );
  if (broken !== undefined) return broken.reason.replace(/\.$/, "");
  const shown = hasBaseline ? rows : rows.filter((row) => !ruleKind(row.kind).comparison);
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
