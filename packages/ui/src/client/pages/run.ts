import type { RunResponse } from "../../shared/api.js";
import { getJson } from "../api.js";
import { COLORS, chart } from "../charts.js";
import { fields, h, render, section, table } from "../dom.js";
import { duration, num, time } from "../format.js";

export async function runPage(main: HTMLElement, [runId]: string[]): Promise<void> {
  const data = await getJson<RunResponse>(`/api/runs/${encodeURIComponent(runId)}`);
  const { run, experiment } = data;
  document.title = `${run.runName} · mlops ui`;
  const experimentLink = `/experiments/${encodeURIComponent(experiment.experimentId)}`;
  const curves = Object.entries(data.histories);
  render(
    main,
    h(
      "div",
      { class: "crumbs" },
      h("a", { href: "/experiments" }, "Experiments"),
      " / ",
      h("a", { href: experimentLink }, experiment.name),
      " / ",
    ),
    h("h1", null, run.runName),
    section(
      "Run",
      fields([
        ["id", run.runId],
        ["status", run.status],
        ["started", time(run.startTime)],
        ["took", run.endTime === undefined ? "running" : duration(run.endTime - run.startTime)],
        [
          "parent",
          run.parentRunId ? h("a", { href: `/runs/${run.parentRunId}` }, run.parentRunId) : "none",
        ],
        [
          "nested runs",
          data.children > 0
            ? h("a", { href: experimentLink }, `${data.children} in ${experiment.name}`)
            : "none",
        ],
        [
          "model versions",
          data.versions.length > 0
            ? data.versions.map((version, i) => [
                i > 0 ? ", " : "",
                h(
                  "a",
                  {
                    href: `/models/${encodeURIComponent(version.name)}/versions/${version.version}`,
                  },
                  `${version.name} v${version.version}`,
                ),
              ])
            : "none",
        ],
      ]),
    ),
    h(
      "div",
      { class: "grid two" },
      section(
        "Params",
        table(
          ["param", "value"],
          Object.entries(run.params).sort(([a], [b]) => a.localeCompare(b)),
        ),
      ),
      section(
        "Metrics (latest)",
        table(
          ["metric", "value"],
          Object.entries(run.metrics)
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([key, value]) => [key, num(value)]),
          { numeric: [false, true] },
        ),
      ),
    ),
    curves.length > 0
      ? section(
          "Metric history",
          h(
            "div",
            { class: "grid" },
            curves.map(([key, history]) =>
              chart(
                {
                  grid: { left: 56, right: 16, top: 16, bottom: 36 },
                  tooltip: { trigger: "axis" },
                  xAxis: {
                    type: "value",
                    name: "step",
                    nameLocation: "middle",
                    nameGap: 24,
                    minInterval: 1,
                  },
                  yAxis: { type: "value", scale: true },
                  series: [
                    {
                      type: "line",
                      name: key,
                      data: history.map((point) => [point.step, point.value]),
                      itemStyle: { color: COLORS.primary },
                    },
                  ],
                },
                `${key} by step`,
                { height: 220 },
              ),
            ),
          ),
        )
      : null,
    Object.keys(run.tags).length > 0
      ? section("Tags", table(["tag", "value"], Object.entries(run.tags)))
      : null,
    data.artifacts.length > 0
      ? section(
          "Artifacts",
          table(
            ["name", "size", "digest"],
            data.artifacts.map((artifact) => [
              artifact.name,
              `${artifact.sizeBytes} B`,
              artifact.digest.slice(0, 19),
            ]),
          ),
        )
      : null,
  );
}
