import { formatNumber, formatSigned, formatSignedPercent } from "../format/numbers.js";
import type { GateModelSummary, GateResult, GateRow } from "./types.js";

/**
 * Options for `formatGateTable`.
 *
 * @example
 * formatGateTable(result, { ascii: !process.stdout.isTTY });
 */
export interface GateTableOptions {
  /** PASS / FAIL instead of ✅ / ❌, for terminals and logs without emoji. Default false. */
  ascii?: boolean;
}

// ✅ and ❌ take two columns in a terminal; every other character the gate prints takes one.
const WIDE = new Set(["✅", "❌"]);

function width(text: string): number {
  let size = 0;
  for (const character of text) size += WIDE.has(character) ? 2 : 1;
  return size;
}

function pad(text: string, size: number, right: boolean): string {
  const fill = " ".repeat(Math.max(0, size - width(text)));
  return right ? fill + text : text + fill;
}

function value(number: number | null): string {
  return number === null ? "-" : formatNumber(number);
}

function signed(number: number | null): string {
  return number === null ? "-" : formatSigned(number);
}

function relative(number: number | null): string {
  return number === null ? "-" : formatSignedPercent(number);
}

function modelLabel(summary: GateModelSummary | undefined): string {
  if (summary === undefined) return "";
  if (summary.version === undefined) return summary.name ?? "";
  return summary.name === undefined ? `v${summary.version}` : `${summary.name} v${summary.version}`;
}

function countText(result: GateResult): string {
  const failed = result.rows.filter((row) => !row.passed).length;
  const total = result.rows.length;
  const checks = `${total} check${total === 1 ? "" : "s"}`;
  return failed === 0 ? `all ${checks} passed` : `${failed} of ${checks} failed`;
}

function rowCells(row: GateRow): string[] {
  return [
    row.metric,
    row.rule,
    value(row.candidate),
    value(row.baseline),
    signed(row.delta),
    relative(row.relativeDelta),
  ];
}

/**
 * The gate result as an aligned terminal table — one line per check — followed by the reasons
 * of the failed checks, the notes and the verdict. Deterministic (no colour, no locale).
 *
 * @example
 * process.stdout.write(formatGateTable(result, { ascii: true }));
 * // PASS  rmse    maxRelativeRegression=0.02      0.712     0.702  +0.01  +1.42 %
 * // ...
 * // Verdict: PASS (all 2 checks passed)
 */
export function formatGateTable(result: GateResult, options: GateTableOptions = {}): string {
  const mark = (passed: boolean) =>
    options.ascii ? (passed ? "PASS" : "FAIL") : passed ? "✅" : "❌";
  const candidate = modelLabel(result.candidate);
  const baseline = modelLabel(result.baseline);
  const headers = [
    "",
    "METRIC",
    "RULE",
    candidate === "" ? "CANDIDATE" : `CANDIDATE ${candidate}`,
    baseline === "" ? "BASELINE" : `BASELINE ${baseline}`,
    "DELTA",
    "CHANGE",
  ];
  const right = [false, false, false, true, true, true, true];
  const lines = [headers, ...result.rows.map((row) => [mark(row.passed), ...rowCells(row)])];
  const widths = headers.map((_, column) =>
    Math.max(...lines.map((cells) => width(cells[column]))),
  );
  const out = lines.map((cells) =>
    cells
      .map((cell, column) => pad(cell, widths[column], right[column]))
      .join("  ")
      .trimEnd(),
  );
  const failed = result.rows.filter((row) => !row.passed);
  if (failed.length > 0) {
    out.push("");
    for (const row of failed) out.push(`${mark(false)} ${row.metric} ${row.rule}: ${row.reason}`);
  }
  if (result.notes.length > 0) {
    out.push("");
    for (const note of result.notes) out.push(`Note: ${note}`);
  }
  out.push("");
  out.push(`Verdict: ${result.passed ? "PASS" : "FAIL"} (${countText(result)})`);
  return `${out.join("\n")}\n`;
}

/** Markdown table cells hold one line, and `|` would end the cell. */
function markdownCell(text: string): string {
  return text.replace(/[\r\n]+/g, " ").replace(/\|/g, "\\|");
}

/**
 * The gate result as GitHub-flavoured Markdown for a job summary: a heading naming the models,
 * a table with one row per check (✅/❌, metric, rule, values, delta, change, reason), the notes
 * and the overall verdict.
 *
 * @example
 * await appendFile(process.env.GITHUB_STEP_SUMMARY, formatGateMarkdown(result));
 */
export function formatGateMarkdown(result: GateResult): string {
  const candidate = modelLabel(result.candidate);
  const baseline = modelLabel(result.baseline);
  const title =
    candidate !== "" && baseline !== ""
      ? `### Model gate: ${candidate} vs ${baseline}`
      : candidate !== ""
        ? `### Model gate: ${candidate}`
        : "### Model gate";
  const lines = [
    title,
    "",
    "| | metric | rule | candidate | baseline | delta | change | reason |",
    "| --- | --- | --- | ---: | ---: | ---: | ---: | --- |",
  ];
  for (const row of result.rows) {
    const [metric, rule, ...numbers] = rowCells(row);
    const cells = [
      row.passed ? "✅" : "❌",
      markdownCell(metric),
      `\`${markdownCell(rule)}\``,
      ...numbers,
      markdownCell(row.reason),
    ];
    lines.push(`| ${cells.join(" | ")} |`);
  }
  if (result.notes.length > 0) {
    lines.push("");
    for (const note of result.notes) lines.push(`- ${markdownCell(note)}`);
  }
  lines.push("");
  lines.push(
    result.passed
      ? `**Verdict: ✅ pass** (${countText(result)})`
      : `**Verdict: ❌ fail** (${countText(result)})`,
  );
  return `${lines.join("\n")}\n`;
}

/**
 * Options for `formatGateJSON`.
 *
 * @example
 * formatGateJSON(result, { indent: 0 }); // one line, for an Action output
 */
export interface GateJSONOptions {
  /** Spaces of indentation; 0 for one line. Default 2. */
  indent?: number;
}

/**
 * The gate result as JSON (non-finite numbers become null, as in `JSON.stringify`), ending in
 * a newline: for a `--json` flag or an Action's `report` output.
 *
 * @example
 * const report = JSON.parse(formatGateJSON(result));
 * report.verdict; // "pass"
 */
export function formatGateJSON(result: GateResult, options: GateJSONOptions = {}): string {
  const indent = options.indent ?? 2;
  return `${JSON.stringify(result, null, indent > 0 ? indent : undefined)}\n`;
}
