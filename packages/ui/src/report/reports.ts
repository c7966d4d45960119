import type { DriftReport, GateRunReport } from "@mlops/core";
import type { SearchReport } from "@mlops/core/internal";
import { reportDocument } from "./document.js";

/**
 * A hyperparameter search as one self-contained HTML file (what `mlops-train --report` writes):
 * the leaderboard, each parameter against the CV score, the folds of the best candidates, feature
 * importances, and predicted vs actual and residuals on the holdout.
 *
 * @example
 * await writeFile("search.html", renderSearchReport(report));
 */
export function renderSearchReport(report: SearchReport): string {
  return reportDocument("search", report.title, report);
}

/**
 * A gate run (`gateRunReport(run)`) as one self-contained HTML file (what `mlops gate --html`
 * writes): the verdict, each check, candidate vs baseline per metric and the bootstrap intervals.
 *
 * @example
 * await writeFile("gate.html", renderGateReport(gateRunReport(run)));
 */
export function renderGateReport(report: GateRunReport, options: { title?: string } = {}): string {
  const title =
    options.title ??
    `Gate: ${report.candidate.uri} (v${report.candidate.version}) vs ` +
      (report.baseline === null
        ? "no baseline"
        : `${report.baseline.uri} (v${report.baseline.version})`);
  return reportDocument("gate", title, report);
}

/**
 * A drift report (`driftReport(...)`) as one self-contained HTML file (what `mlops drift --html`
 * writes): the data set's verdict, a table of columns, and each column's reference-vs-current
 * histogram with its statistic and verdict.
 *
 * @example
 * await writeFile("drift.html", renderDriftReport(report, { title: "wine: this week" }));
 */
export function renderDriftReport(report: DriftReport, options: { title?: string } = {}): string {
  return reportDocument("drift", options.title ?? "Drift report", report);
}
