import type { SearchReport } from "@mlops/core/internal";
import { bars, boxes, COLORS, scatter } from "../charts.js";
import { fields, h, section, table } from "../dom.js";
import { duration, num, time, value } from "../format.js";

/** How the values of one parameter are drawn: on a number axis or as categories. */
function paramAxis(values: readonly unknown[]): { categories?: string[] } {
  const present = values.filter((v) => v !== undefined && v !== null);
  if (present.length > 0 && present.every((v) => typeof v === "number")) return {};
  return { categories: [...new Set(present.map((v) => value(v)))].sort() };
}

/** Every parameter name the candidates have, sorted. */
function paramNames(report: SearchReport): string[] {
  return [...new Set(report.candidates.params.flatMap((params) => Object.keys(params)))].sort();
}

/** The search report: leaderboard, parameter vs score, folds, importances, residuals. */
export function searchView(report: SearchReport): HTMLElement {
  const { search, candidates, best } = report;
  const metric = search.metric;
  const names = paramNames(report);
  const order = candidates.rank
    .map((rank, index) => ({ rank, index }))
    .sort((a, b) => a.rank - b.rank || a.index - b.index)
    .map((item) => item.index);
  const root = h("div", { class: "report" });

  root.append(
    section(
      "Search",
      fields([
        [
          "data",
          `${report.data.path}: ${report.data.rows} rows, ${report.data.features.length} features, target ${report.data.target}`,
        ],
        ["estimator", report.estimator],
        [
          "search",
          `${search.kind}, ${candidates.mean.length} candidates × ${search.cv}-fold CV on ${search.trainRows} rows`,
        ],
        ["scored by", `${metric} (${search.greaterIsBetter ? "higher" : "lower"} is better)`],
        ["took", duration(search.seconds * 1000)],
        [
          "best",
          `${names.map((name) => `${name}=${value(best.params[name])}`).join(" ")} — CV ${metric} ${num(best.cvScore)} ± ${num(best.cvStd)}`,
        ],
        [
          "holdout",
          report.holdout
            ? Object.entries(report.holdout.metrics)
                .map(([k, v]) => `${k} ${num(v)}`)
                .join(", ") + ` (${report.holdout.rows} rows)`
            : "none (--holdout 0)",
        ],
        ["registered", report.registered ? report.registered.uri : "not registered"],
        [
          "tracked",
          report.run ? `run ${report.run.id} (experiment ${report.run.experiment})` : "not tracked",
        ],
        ["created", time(report.createdAt)],
      ]),
    ),
  );

  const top = order.slice(0, 20);
  root.append(
    section(
      `Leaderboard (top ${top.length} of ${order.length} by mean CV ${metric})`,
      table(
        ["rank", `mean ${metric}`, "± std", "fit", ...names],
        top.map((index) => [
          candidates.rank[index],
          num(candidates.mean[index]),
          num(candidates.std[index]),
          duration(candidates.fitTime[index] * 1000),
          ...names.map((name) => value(candidates.params[index][name])),
        ]),
        { numeric: [true, true, true, true, ...names.map(() => false)] },
      ),
    ),
  );

  if (names.length > 0) {
    const grid = h("div", { class: "grid" });
    for (const name of names) {
      const values = candidates.params.map((params) => params[name]);
      const { categories } = paramAxis(values);
      const points = (index: number): [number | string, number] => [
        categories ? value(values[index]) : (values[index] as number),
        candidates.mean[index],
      ];
      const finite = order.filter(
        (i) => Number.isFinite(candidates.mean[i]) && values[i] !== undefined,
      );
      grid.append(
        scatter(
          `${name} vs mean CV ${metric}`,
          name,
          metric,
          [
            {
              name: "candidate",
              points: finite.filter((i) => i !== best.index).map(points),
              color: COLORS.primary,
            },
            { name: "best", points: [points(best.index)], color: COLORS.best, size: 12 },
          ],
          { xCategories: categories, height: 240 },
        ),
      );
    }
    root.append(section("Parameters vs score", grid));
  }

  const shown = order.slice(0, 10);
  const folds = shown.map((index) => candidates.splits.map((split) => split[index]));
  root.append(
    section(
      "CV folds of the top candidates",
      boxes(
        `${metric} per fold, top ${shown.length} candidates`,
        shown.map((index) => `#${candidates.rank[index]}`),
        folds,
        metric,
      ),
    ),
  );

  if (report.featureImportances) {
    const entries = Object.entries(report.featureImportances).sort((a, b) => b[1] - a[1]);
    root.append(
      section(
        "Feature importances",
        bars(
          "feature importances of the refitted best model",
          entries.map(([name]) => name),
          [{ name: "importance", values: entries.map(([, v]) => v), color: COLORS.primary }],
          {
            horizontal: true,
            valueName: "mean decrease in impurity",
            height: 60 + entries.length * 22,
          },
        ),
      ),
    );
  }

  const holdout = report.holdout;
  if (holdout && holdout.actual.length > 0) {
    const pairs = holdout.actual.map((actual, i): [number, number] => [
      actual,
      holdout.predicted[i],
    ]);
    const residuals = holdout.actual.map((actual, i): [number, number] => [
      holdout.predicted[i],
      actual - holdout.predicted[i],
    ]);
    const note =
      holdout.sampled < holdout.rows
        ? ` (${holdout.sampled} of ${holdout.rows} rows, evenly spaced)`
        : "";
    root.append(
      section(
        `Holdout predictions${note}`,
        h(
          "div",
          { class: "grid two" },
          scatter(
            "predicted vs actual",
            `actual ${report.data.target}`,
            `predicted ${report.data.target}`,
            [{ name: "holdout row", points: pairs, color: COLORS.primary, size: 5 }],
            { identity: true, height: 320 },
          ),
          scatter(
            "residuals vs predicted",
            `predicted ${report.data.target}`,
            "actual − predicted",
            [{ name: "holdout row", points: residuals, color: COLORS.current, size: 5 }],
            { zeroLine: true, height: 320 },
          ),
        ),
        residualHistogram(residuals.map(([, r]) => r)),
      ),
    );
  }
  return root;
}

/** The residuals in about 20 equal-width bins. */
function residualHistogram(residuals: readonly number[]): HTMLElement {
  const low = Math.min(...residuals);
  const high = Math.max(...residuals);
  const count = Math.min(20, Math.max(1, Math.ceil(Math.sqrt(residuals.length))));
  const width = high > low ? (high - low) / count : 1;
  const counts = new Array<number>(count).fill(0);
  for (const r of residuals) counts[Math.min(count - 1, Math.floor((r - low) / width))]++;
  const labels = counts.map((_, i) => num(low + (i + 0.5) * width));
  return bars(
    "distribution of residuals",
    labels,
    [{ name: "rows", values: counts, color: COLORS.current }],
    {
      valueName: "rows",
      categoryName: "actual − predicted (bin centre)",
      height: 220,
    },
  );
}
