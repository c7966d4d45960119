import type { GateRunReport } from "@mlops/core";
import { bars, COLORS, intervals } from "../charts.js";
import { badge, fields, h, section, table } from "../dom.js";
import { num, percent, signed } from "../format.js";

/** The gate report: verdict, each rule's check, candidate vs baseline, bootstrap intervals. */
export function gateView(report: GateRunReport): HTMLElement {
  const { result } = report;
  const root = h("div", { class: "report" });
  const passed = result.passed;
  root.append(
    h(
      "div",
      { class: `verdict ${passed ? "good" : "bad"}`, role: "status" },
      h("strong", null, passed ? "Gate passed" : "Gate failed"),
      ` — ${result.rows.filter((row) => row.passed).length} of ${result.rows.length} checks passed`,
    ),
  );
  const promoted = report.promoted;
  root.append(
    section(
      "Compared",
      fields([
        ["candidate", `${report.candidate.uri} (version ${report.candidate.version})`],
        [
          "baseline",
          report.baseline === null
            ? "none: a first model"
            : `${report.baseline.uri} (version ${report.baseline.version})`,
        ],
        [
          "on",
          result.comparedOn === "evaluation-data"
            ? `evaluation data: ${result.evaluation?.rows ?? "?"} rows, target ${result.evaluation?.target ?? "?"}` +
              (result.evaluation?.dataset ? ` (${result.evaluation.dataset})` : "")
            : "the metrics stored with each model (they may come from different data)",
        ],
        [
          "promotion",
          promoted === null
            ? "none asked for, or the gate failed"
            : promoted.moved
              ? `${promoted.name}@${promoted.alias}: ${promoted.from ?? "(none)"} → ${promoted.to} by ${promoted.actor}`
              : `${promoted.name}@${promoted.alias} already pointed at ${promoted.to}`,
        ],
      ]),
      result.notes.length > 0
        ? h(
            "ul",
            { class: "notes" },
            result.notes.map((note) => h("li", null, note)),
          )
        : null,
    ),
  );

  root.append(
    section(
      "Checks",
      table(
        ["metric", "rule", "candidate", "baseline", "Δ", "Δ %", "result", "why"],
        result.rows.map((row) => [
          row.metric,
          row.rule,
          num(row.candidate),
          num(row.baseline),
          signed(row.delta),
          percent(row.relativeDelta, true),
          badge(row.passed ? "pass" : "fail", row.passed ? "good" : "bad"),
          row.reason,
        ]),
        { numeric: [false, false, true, true, true, true, false, false] },
      ),
    ),
  );

  const metrics = [...new Set(result.rows.map((row) => row.metric))];
  if (metrics.length > 0) {
    const grid = h("div", { class: "grid" });
    for (const metric of metrics) {
      const row = result.rows.find((item) => item.metric === metric)!;
      const categories = row.baseline === null ? ["candidate"] : ["baseline", "candidate"];
      const values = row.baseline === null ? [row.candidate] : [row.baseline, row.candidate];
      grid.append(
        bars(
          `${metric}: candidate vs baseline (${row.greaterIsBetter ? "higher" : "lower"} is better)`,
          categories,
          [{ name: metric, values, color: COLORS.primary }],
          { valueName: metric, height: 220 },
        ),
      );
    }
    root.append(section("Candidate vs baseline", grid));
  }

  const significance = result.rows.filter((row) => row.interval !== undefined);
  if (significance.length > 0) {
    root.append(
      section(
        "Bootstrap intervals",
        h(
          "p",
          { class: "muted" },
          "How much worse the candidate is than the baseline, in the metric's units (positive = worse), " +
            "with the paired bootstrap interval; the check fails when the whole interval is above 0.",
        ),
        intervals(
          "candidate worse by (paired bootstrap)",
          significance.map((row) => ({
            label: `${row.metric} (${percent(row.interval!.confidence)})`,
            estimate: row.interval!.estimate,
            lower: row.interval!.lower,
            upper: row.interval!.upper,
            good: row.passed,
          })),
          "worse by",
        ),
        table(
          ["metric", "estimate", "lower", "upper", "confidence", "resamples", "seed"],
          significance.map((row) => [
            row.metric,
            num(row.interval!.estimate),
            num(row.interval!.lower),
            num(row.interval!.upper),
            percent(row.interval!.confidence),
            row.interval!.resamples,
            row.interval!.seed,
          ]),
          { numeric: [false, true, true, true, true, true, true] },
        ),
      ),
    );
  }
  return root;
}
