// Which charting library draws @mlops's pictures: Apache ECharts, uPlot, Chart.js and Observable
// Plot compared on what the reports and `mlops ui` need.
//
//   node bench/ui-charts.mjs [--runs 7] [--points 10000]
//
// 1. Bundle size: each library's entry bundled and minified with esbuild (the way @mlops/ui
//    bundles its client), raw and gzip -9: the "scatter" entry draws one scatter plot with a
//    tooltip; ECharts also gets the "ui" entry, every chart and component @mlops/ui uses
//    (scatter, line, bar, box plot, parallel coordinates, custom series, data zoom, aria).
// 2. Render time for --points points (seeded, mulberry32): a scatter plot in an 800 × 450 box,
//    animation off, in headless Debian Chromium; the time from the library call to the second
//    animation frame after it (the frame is painted), each run in a fresh page; median and
//    min–max of --runs. The chart is checked to have drawn (non-blank canvas pixels or SVG marks).
// 3. Accessibility: what the accessibility tree holds for the chart with the library's own
//    accessibility options turned on (Chromium's ARIA snapshot), and whether a description of
//    the data is generated for screen readers without hand-written text.
//
// Prints a Markdown table (docs/ui.md quotes it) and the machine's load.
import { mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { launchChromium, loadText, median } from "./browser.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const UI = join(ROOT, "packages", "ui");
const OUT = join(ROOT, ".bench", "ui-charts");
const require = createRequire(join(UI, "package.json"));
const esbuild = require("esbuild");

function option(name, fallback) {
  const index = process.argv.indexOf(`--${name}`);
  return index < 0 ? fallback : Number(process.argv[index + 1]);
}
const RUNS = option("runs", 7);
const POINTS = option("points", 10_000);

// Each entry defines window.draw(element, points) → { kind: "canvas" | "svg" }.
const ENTRIES = {
  echarts: `
    import * as echarts from "echarts/core";
    import { ScatterChart } from "echarts/charts";
    import { GridComponent, TooltipComponent, AriaComponent, TitleComponent } from "echarts/components";
    import { CanvasRenderer } from "echarts/renderers";
    echarts.use([ScatterChart, GridComponent, TooltipComponent, AriaComponent, TitleComponent, CanvasRenderer]);
    window.draw = (element, points) => {
      const chart = echarts.init(element, null, { renderer: "canvas" });
      chart.setOption({
        animation: false,
        aria: { enabled: true },
        title: { text: "max_depth vs rmse", show: false },
        tooltip: {},
        xAxis: { type: "value", name: "max_depth" },
        yAxis: { type: "value", name: "rmse" },
        series: [{ type: "scatter", symbolSize: 4, large: true, data: points }],
      });
      return { kind: "canvas" };
    };`,
  uplot: `
    import uPlot from "uplot";
    window.draw = (element, points) => {
      const sorted = points.slice().sort((a, b) => a[0] - b[0]);
      const data = [sorted.map((p) => p[0]), sorted.map((p) => p[1])];
      new uPlot({
        width: 800, height: 450, title: "max_depth vs rmse",
        scales: { x: { time: false } },
        series: [{ label: "max_depth" }, { label: "rmse", stroke: "#3366cc", paths: () => null,
          points: { show: true, size: 4, fill: "#3366cc" } }],
      }, data, element);
      return { kind: "canvas" };
    };`,
  "chart.js": `
    import { Chart, ScatterController, PointElement, LinearScale, Tooltip } from "chart.js";
    Chart.register(ScatterController, PointElement, LinearScale, Tooltip);
    window.draw = (element, points) => {
      const canvas = document.createElement("canvas");
      canvas.setAttribute("role", "img");
      canvas.setAttribute("aria-label", "max_depth vs rmse");
      element.append(canvas);
      new Chart(canvas, {
        type: "scatter",
        data: { datasets: [{ data: points.map(([x, y]) => ({ x, y })), pointRadius: 2 }] },
        options: { animation: false, parsing: false, normalized: true, responsive: false,
          maintainAspectRatio: false },
      });
      return { kind: "canvas" };
    };`,
  "observable plot": `
    import * as Plot from "@observablehq/plot";
    window.draw = (element, points) => {
      element.append(Plot.plot({
        width: 800, height: 450,
        ariaLabel: "max_depth vs rmse",
        ariaDescription: "A scatter plot of rmse against max_depth",
        marks: [Plot.dot(points, { x: "0", y: "1", r: 2, tip: true })],
      }));
      return { kind: "svg" };
    };`,
};

const UI_ENTRY = `
  import * as echarts from "echarts/core";
  import { BarChart, BoxplotChart, CustomChart, LineChart, ParallelChart, ScatterChart } from "echarts/charts";
  import { AriaComponent, DataZoomComponent, GridComponent, LegendComponent, MarkAreaComponent,
    MarkLineComponent, ParallelComponent, TitleComponent, TooltipComponent, VisualMapComponent } from "echarts/components";
  import { CanvasRenderer } from "echarts/renderers";
  echarts.use([BarChart, BoxplotChart, CustomChart, LineChart, ParallelChart, ScatterChart,
    AriaComponent, DataZoomComponent, GridComponent, LegendComponent, MarkAreaComponent,
    MarkLineComponent, ParallelComponent, TitleComponent, TooltipComponent, VisualMapComponent,
    CanvasRenderer]);
  window.echarts = echarts;`;

async function bundle(name, source) {
  const result = await esbuild.build({
    stdin: { contents: source, resolveDir: UI, loader: "js" },
    bundle: true,
    minify: true,
    format: "iife",
    write: false,
    target: "es2020",
    legalComments: "none",
    logLevel: "silent",
  });
  const code = result.outputFiles[0].text;
  return { name, code, raw: Buffer.byteLength(code), gzip: gzipSync(code, { level: 9 }).length };
}

function points(count) {
  let seed = 20240611;
  const random = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Array.from({ length: count }, () => {
    const depth = 1 + Math.floor(random() * 20);
    return [depth + random() * 0.8, 0.5 + 0.3 / depth + random() * 0.1];
  });
}

const css = (name) =>
  name === "uplot"
    ? require("node:fs").readFileSync(require.resolve("uplot/dist/uPlot.min.css"), "utf8")
    : "";

async function renderOnce(context, library, data) {
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("console", (message) => message.type() === "error" && errors.push(message.text()));
  await page.setContent(
    `<!doctype html><html><head><meta charset="utf-8"><style>${css(library.name)}</style></head>` +
      `<body><div id="chart" style="width:800px;height:450px"></div>` +
      `<script>${library.code}</script></body></html>`,
  );
  const timing = await page.evaluate(async (pointList) => {
    const element = document.getElementById("chart");
    const frame = () => new Promise((resolve) => requestAnimationFrame(() => resolve()));
    const start = performance.now();
    const { kind } = window.draw(element, pointList);
    await frame();
    await frame();
    const ms = performance.now() - start;
    let drawn = 0;
    if (kind === "svg") drawn = element.querySelectorAll("circle").length;
    else {
      for (const canvas of element.querySelectorAll("canvas")) {
        const context = canvas.getContext("2d");
        const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
        for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) drawn++;
      }
    }
    return { ms, drawn, kind };
  }, data);
  const aria = await page.locator("#chart").ariaSnapshot();
  const ariaAttributes = await page.evaluate(() =>
    [...document.querySelectorAll("#chart, #chart *")]
      .flatMap((node) =>
        [...node.attributes]
          .filter((attribute) => attribute.name.startsWith("aria-") || attribute.name === "role")
          .map((attribute) => `${attribute.name}=${attribute.value.slice(0, 160)}`),
      )
      .slice(0, 6),
  );
  await page.close();
  if (errors.length > 0) throw new Error(`${library.name}: ${errors.join("; ")}`);
  if (timing.drawn === 0) throw new Error(`${library.name}: the chart drew nothing`);
  return { ...timing, aria, ariaAttributes };
}

async function main() {
  mkdirSync(OUT, { recursive: true });
  const libraries = [];
  for (const [name, source] of Object.entries(ENTRIES)) libraries.push(await bundle(name, source));
  const full = await bundle("echarts (every chart @mlops/ui uses)", UI_ENTRY);
  const data = points(POINTS);
  const browser = await launchChromium();
  const results = [];
  try {
    for (const library of libraries) {
      // One warm-up page (the browser's caches and JIT), then the measured runs.
      await renderOnce(browser.context, library, data);
      const runs = [];
      for (let run = 0; run < RUNS; run++)
        runs.push(await renderOnce(browser.context, library, data));
      const times = runs.map((run) => run.ms);
      results.push({
        name: library.name,
        raw: library.raw,
        gzip: library.gzip,
        median: median(times),
        min: Math.min(...times),
        max: Math.max(...times),
        drawn: runs[0].drawn,
        kind: runs[0].kind,
        aria: runs[0].aria,
        ariaAttributes: runs[0].ariaAttributes,
      });
    }
  } finally {
    await browser.close();
  }
  const kb = (bytes) => `${(bytes / 1024).toFixed(0)} KiB`;
  const lines = [
    `| library | minified | gzip | render ${POINTS.toLocaleString("en")} points, median (min–max) | output |`,
    "| --- | --- | --- | --- | --- |",
    ...results.map(
      (r) =>
        `| ${r.name} | ${kb(r.raw)} | ${kb(r.gzip)} | ${r.median.toFixed(1)} ms (${r.min.toFixed(1)}–${r.max.toFixed(1)}) | ${r.kind} |`,
    ),
    `| ${full.name} | ${kb(full.raw)} | ${kb(full.gzip)} | | |`,
  ];
  console.log(`${POINTS} points, ${RUNS} runs each after one warm-up, ${loadText()}\n`);
  console.log(lines.join("\n"));
  console.log(
    "\nAccessibility tree of each chart (Chromium ARIA snapshot) and its ARIA attributes:",
  );
  for (const r of results) {
    console.log(`\n${r.name}:\n${r.aria || "(nothing)"}\n  ${r.ariaAttributes.join("\n  ")}`);
  }
  writeFileSync(
    join(OUT, "results.json"),
    `${JSON.stringify({ results, full: { raw: full.raw, gzip: full.gzip } }, null, 2)}\n`,
  );
}

await main();
