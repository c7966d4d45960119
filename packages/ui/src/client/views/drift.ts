import type { DriftReport, FeatureDrift } from "@mlops/core";
import { bars, COLORS } from "../charts.js";
import { badge, fields, h, section, table } from "../dom.js";
import { num, percent } from "../format.js";

const VERDICT_TONE = { drift: "bad", no_drift: "good", insufficient_data: "warn" } as const;
const VERDICT_TEXT = {
  drift: "drift",
  no_drift: "no drift",
  insufficient_data: "insufficient data",
};

function verdictBadge(drift: FeatureDrift): HTMLElement {
  return badge(VERDICT_TEXT[drift.verdict], VERDICT_TONE[drift.verdict]);
}

/** The statistic that decided, as a short phrase: "KS p = 0.003 (< 0.05)". */
export function statisticText(drift: FeatureDrift): string {
  const names = {
    ks: "KS",
    chi_square: "χ²",
    wasserstein: "Wasserstein/σ",
    psi: "PSI",
    jensen_shannon: "Jensen–Shannon",
  };
  const name = names[drift.method];
  if (drift.method === "ks" || drift.method === "chi_square") {
    return `${name} ${num(drift.statistic)}, p = ${num(drift.pValue)} (drift below ${num(drift.threshold)})`;
  }
  return `${name} ${num(drift.statistic)} (drift from ${num(drift.threshold)})`;
}

/** Reference vs current proportions per bin, for one column. */
export function driftHistogram(name: string, drift: FeatureDrift): HTMLElement {
  const histogram = drift.histogram;
  if (histogram === null)
    return h("p", { class: "muted" }, "No values on one side: nothing to draw.");
  const total = (counts: readonly number[]) => counts.reduce((a, b) => a + b, 0) || 1;
  const referenceTotal = total(histogram.reference);
  const currentTotal = total(histogram.current);
  return bars(
    `${name}: reference vs current`,
    histogram.bins,
    [
      {
        name: "reference",
        values: histogram.reference.map((c) => c / referenceTotal),
        color: COLORS.reference,
      },
      {
        name: "current",
        values: histogram.current.map((c) => c / currentTotal),
        color: COLORS.current,
      },
    ],
    {
      percent: true,
      valueName: "share of rows",
      height: 240,
      description: `${name}: ${VERDICT_TEXT[drift.verdict]}, ${statisticText(drift)}.`,
    },
  );
}

function featureCard(name: string, drift: FeatureDrift): HTMLElement {
  return h(
    "section",
    { class: "card feature", "data-feature": name },
    h("h3", null, name, " ", verdictBadge(drift)),
    h("p", { class: "muted" }, `${drift.kind} · ${statisticText(drift)}`),
    driftHistogram(name, drift),
    h(
      "p",
      { class: "muted small" },
      `reference ${drift.reference.count} values` +
        (drift.reference.mean === null ? "" : `, mean ${num(drift.reference.mean)}`) +
        `, ${percent(drift.reference.missingRate)} missing · current ${drift.current.count} values` +
        (drift.current.mean === null ? "" : `, mean ${num(drift.current.mean)}`) +
        `, ${percent(drift.current.missingRate)} missing`,
    ),
  );
}

/** The drift report: the data set's verdict, a table of features, and each feature's histogram. */
export function driftView(report: DriftReport): HTMLElement {
  const { dataset } = report;
  const root = h("div", { class: "report" });
  const tone =
    dataset.verdict === "drift" ? "bad" : dataset.verdict === "no_drift" ? "good" : "warn";
  root.append(
    h(
      "div",
      { class: `verdict ${tone}`, role: "status" },
      h(
        "strong",
        null,
        dataset.verdict === "drift"
          ? "Data drift"
          : dataset.verdict === "no_drift"
            ? "No data drift"
            : "Not enough data",
      ),
      ` — ${dataset.driftedFeatures} of ${dataset.judged} judged features drifted ` +
        `(${percent(dataset.share)}; the data set drifts from ${percent(dataset.threshold)})`,
    ),
  );
  const rows: [string, FeatureDrift][] = Object.entries(report.features);
  if (report.predictions) rows.push(["predictions", report.predictions]);
  if (report.target) rows.push([`target${reportTargetName(report)}`, report.target]);
  root.append(
    section(
      "Compared",
      fields([
        [
          "reference",
          `${report.reference.rows} rows (${report.reference.source === "profile" ? "the training profile" : "raw data"})`,
        ],
        ["current", `${report.current.rows} rows (${report.current.source})`],
        [
          "features",
          `${dataset.features} compared, ${dataset.judged} judged (≥ ${report.options.minSampleSize} values)`,
        ],
      ]),
      (report as DriftReport & { notes?: string[] }).notes?.length
        ? h(
            "ul",
            { class: "notes" },
            (report as DriftReport & { notes?: string[] }).notes!.map((note) =>
              h("li", null, note),
            ),
          )
        : null,
    ),
    section(
      "Features",
      table(
        ["column", "kind", "method", "statistic", "p-value", "threshold", "verdict"],
        rows.map(([name, drift]) => [
          h("a", { href: `#feature-${encodeURIComponent(name)}` }, name),
          drift.kind,
          drift.method,
          num(drift.statistic),
          num(drift.pValue),
          num(drift.threshold),
          verdictBadge(drift),
        ]),
        { numeric: [false, false, false, true, true, true, false] },
      ),
    ),
  );
  const grid = h("div", { class: "grid" });
  for (const [name, drift] of rows) {
    const card = featureCard(name, drift);
    card.id = `feature-${encodeURIComponent(name)}`;
    grid.append(card);
  }
  root.append(h("h2", { class: "section-title" }, "Reference vs current, per column"), grid);
  return root;
}

function reportTargetName(report: DriftReport): string {
  const name = (report as DriftReport & { targetName?: string | null }).targetName;
  return name ? ` (${name})` : "";
}
