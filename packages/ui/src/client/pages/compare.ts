import type { CompareResponse } from "../../shared/api.js";
import { getJson } from "../api.js";
import { boxes, COLORS, drawCharts, type ParallelDimension, parallel, scatter } from "../charts.js";
import { h, render, section, table } from "../dom.js";
import { num } from "../format.js";

/** Compare runs: parallel coordinates params → metric, any param vs any metric, CV-fold spread. */
export async function comparePage(
  main: HTMLElement,
  [experimentId]: string[],
  url: URL,
): Promise<void> {
  const ids = url.searchParams.get("runs") ?? "";
  const data = await getJson<CompareResponse>(`/api/compare?runs=${encodeURIComponent(ids)}`);
  document.title = `Compare ${data.runs.length} runs · mlops ui`;
  const runs = data.runs;
  const paramKeys = [...new Set(runs.flatMap((run) => Object.keys(run.params)))].sort();
  // Parameters that vary across the runs: the ones worth an axis.
  const varying = paramKeys.filter((key) => new Set(runs.map((run) => run.params[key])).size > 1);
  const metricKeys = [...new Set(runs.flatMap((run) => Object.keys(run.metrics)))].sort();
  const preferred = metricKeys.find((key) => key.startsWith("mean_test_")) ?? metricKeys[0];
  const metric = url.searchParams.get("metric") ?? preferred;
  const greaterIsBetter = /r2|accuracy|score/.test(metric ?? "");

  const metricSelect = h(
    "select",
    { "aria-label": "metric" },
    metricKeys.map((key) => h("option", { value: key, selected: key === metric }, key)),
  );
  metricSelect.addEventListener("change", () => {
    const next = new URL(location.href);
    next.searchParams.set("metric", metricSelect.value);
    location.href = next.toString();
  });

  const isNumeric = (key: string) =>
    runs.every((run) => run.params[key] === undefined || Number.isFinite(Number(run.params[key])));
  const dimensions: ParallelDimension[] = varying.map((key) =>
    isNumeric(key)
      ? { name: key }
      : {
          name: key,
          categories: [...new Set(runs.map((run) => run.params[key] ?? "(none)"))].sort(),
        },
  );
  dimensions.push({ name: metric ?? "metric" });
  const rows = runs
    .filter((run) => metric !== undefined && run.metrics[metric] !== undefined)
    .map((run) => [
      ...varying.map((key) => {
        const value = run.params[key];
        if (value === undefined) return isNumeric(key) ? null : "(none)";
        return isNumeric(key) ? Number(value) : value;
      }),
      run.metrics[metric!],
    ]);

  const xSelect = h(
    "select",
    { "aria-label": "parameter on the x axis" },
    paramKeys.map((key, i) =>
      h(
        "option",
        {
          value: key,
          selected: key === (varying[0] ?? paramKeys[0]) || (i === 0 && varying.length === 0),
        },
        key,
      ),
    ),
  );
  const scatterBox = h("div");
  function drawScatter(): void {
    const key = xSelect.value;
    if (!key || !metric) return;
    const numeric = isNumeric(key);
    const categories = numeric
      ? undefined
      : [...new Set(runs.map((run) => run.params[key] ?? "(none)"))].sort();
    const points = runs
      .filter((run) => run.metrics[metric] !== undefined && run.params[key] !== undefined)
      .map((run): [number | string, number] => [
        numeric ? Number(run.params[key]) : run.params[key],
        run.metrics[metric],
      ]);
    scatterBox.replaceChildren(
      scatter(
        `${key} vs ${metric}`,
        key,
        metric,
        [{ name: "run", points, color: COLORS.primary }],
        {
          xCategories: categories,
          height: 320,
        },
      ),
    );
    drawCharts();
  }
  xSelect.addEventListener("change", drawScatter);

  // CV folds: the runs' per-fold scores of the chosen metric (test_rmse for mean_test_rmse).
  const foldKey = metric?.startsWith("mean_test_") ? metric.slice(5) : `test_${metric}`;
  const withFolds = runs
    .filter((run) => (data.folds[run.runId]?.[foldKey]?.length ?? 0) > 1)
    .sort(
      (a, b) =>
        (greaterIsBetter ? -1 : 1) * ((a.metrics[metric!] ?? 0) - (b.metrics[metric!] ?? 0)),
    )
    .slice(0, 30);

  render(
    main,
    h(
      "div",
      { class: "crumbs" },
      h("a", { href: "/experiments" }, "Experiments"),
      " / ",
      h("a", { href: `/experiments/${encodeURIComponent(experimentId)}` }, "runs"),
      " / ",
    ),
    h("h1", null, `Compare ${runs.length} runs`),
    h("div", { class: "toolbar" }, h("label", null, "metric ", metricSelect)),
    section(
      "Parameters → metric",
      rows.length > 0 && varying.length > 0
        ? parallel(`${varying.join(", ")} → ${metric}`, dimensions, rows, { greaterIsBetter })
        : h(
            "p",
            { class: "muted" },
            "No parameter varies across these runs, or none has the metric.",
          ),
    ),
    section(
      "A parameter vs the metric",
      h("div", { class: "toolbar" }, h("label", null, "parameter ", xSelect)),
      scatterBox,
    ),
    section(
      "CV-fold spread",
      withFolds.length > 0
        ? boxes(
            `${foldKey} per fold, ${withFolds.length} best runs`,
            withFolds.map((run) => run.runName),
            withFolds.map((run) => data.folds[run.runId][foldKey]),
            foldKey,
            { height: 320 },
          )
        : h("p", { class: "muted" }, `No run logged ${foldKey} per fold (step = fold).`),
    ),
    section(
      "Runs",
      table(
        ["run", ...varying, metric ?? ""],
        runs.map((run) => [
          h("a", { href: `/runs/${run.runId}` }, run.runName),
          ...varying.map((key) => run.params[key] ?? ""),
          metric !== undefined ? num(run.metrics[metric]) : "",
        ]),
        { numeric: [false, ...varying.map(() => false), true] },
      ),
    ),
  );
  drawScatter();
}
