import { formatNumber, formatPercent } from "../format/numbers.js";
import { formatTable, type Style } from "../format/text.js";

const PLAIN: Style = { bold: (text) => text, dim: (text) => text };

import type { DriftReport, FeatureDrift } from "./types.js";

const METHOD_NAMES: Record<FeatureDrift["method"], string> = {
  ks: "KS",
  wasserstein: "Wasserstein/σ",
  psi: "PSI",
  jensen_shannon: "Jensen–Shannon",
  chi_square: "chi-square",
};

function number(value: number | null): string {
  return value === null ? "-" : formatNumber(value);
}

function verdictText(drift: FeatureDrift): string {
  return drift.verdict === "insufficient_data"
    ? "insufficient data"
    : drift.verdict.replace("_", " ");
}

function row(name: string, drift: FeatureDrift): string[] {
  const test = drift.method === "ks" || drift.method === "chi_square";
  return [
    name,
    drift.kind,
    METHOD_NAMES[drift.method],
    number(drift.statistic),
    number(drift.pValue),
    `${test ? "p <" : "≥"} ${formatNumber(drift.threshold)}`,
    `${drift.current.count}`,
    verdictText(drift),
  ];
}

/**
 * The drift report as text for people: one line per feature (method, statistic, p-value where
 * there is one, threshold, current values, verdict), the predictions and target when compared,
 * then the data set's verdict.
 *
 * @example
 * process.stdout.write(formatDriftText(driftReport(profile, current)));
 */
export function formatDriftText(report: DriftReport, style: Style = PLAIN): string {
  const rows = Object.entries(report.features).map(([name, drift]) => row(name, drift));
  if (report.predictions !== null) rows.push(row("(predictions)", report.predictions));
  if (report.target !== null) rows.push(row(`(target) ${targetName(report)}`, report.target));
  const table = formatTable(
    [
      { header: "FEATURE" },
      { header: "KIND" },
      { header: "METHOD" },
      { header: "STATISTIC", align: "right" },
      { header: "P-VALUE", align: "right" },
      { header: "DRIFT IF" },
      { header: "ROWS", align: "right" },
      { header: "VERDICT" },
    ],
    rows,
    style,
  );
  const { dataset } = report;
  const source =
    report.reference.source === "profile" ? "the training profile" : "the reference data";
  const header = `Current data (${report.current.rows} rows) against ${source} (${report.reference.rows} rows)\n\n`;
  let verdict: string;
  if (dataset.verdict === "insufficient_data") {
    verdict =
      `Data set: insufficient data — no feature has ${report.options.minSampleSize} values on ` +
      "both sides to judge.\n";
  } else {
    const share = `${dataset.driftedFeatures} of ${dataset.judged} features drifted (${formatPercent(dataset.share)})`;
    const rule = `drift at ≥ ${formatPercent(dataset.threshold)}`;
    verdict = `Data set: ${dataset.drifted ? style.bold("drift") : "no drift"} — ${share}; ${rule}.\n`;
    const unjudged = dataset.features - dataset.judged;
    if (unjudged > 0) {
      verdict += `${unjudged} feature${unjudged === 1 ? "" : "s"} had too few values to judge (insufficient data).\n`;
    }
  }
  const notes = (report.notes ?? []).map((note) => `Note: ${note}\n`).join("");
  return `${header}${table}\n${verdict}${notes}`;
}

function targetName(report: DriftReport): string {
  return report.targetName ?? "";
}
