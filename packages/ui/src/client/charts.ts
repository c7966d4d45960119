/**
 * Every picture of @mlops/ui, drawn with Apache ECharts (canvas; see docs/ui.md for why ECharts):
 * only the charts and components used here are bundled. A chart is built detached (`chart()`
 * returns its figure) and drawn by `drawCharts()` once its figure is in the document, so that it
 * knows its width; it then gets `data-rendered` (the tests wait for it) and, through ECharts' aria
 * component, a description of its data for screen readers.
 */
import {
  BarChart,
  BoxplotChart,
  CustomChart,
  LineChart,
  ParallelChart,
  ScatterChart,
} from "echarts/charts";
import {
  AriaComponent,
  DataZoomComponent,
  GridComponent,
  LegendComponent,
  MarkLineComponent,
  ParallelComponent,
  TitleComponent,
  TooltipComponent,
  VisualMapComponent,
} from "echarts/components";
import * as echarts from "echarts/core";
import { CanvasRenderer } from "echarts/renderers";
import { h } from "./dom.js";
import { num } from "./format.js";

echarts.use([
  BarChart,
  BoxplotChart,
  CustomChart,
  LineChart,
  ParallelChart,
  ScatterChart,
  AriaComponent,
  DataZoomComponent,
  GridComponent,
  LegendComponent,
  MarkLineComponent,
  ParallelComponent,
  TitleComponent,
  TooltipComponent,
  VisualMapComponent,
  CanvasRenderer,
]);

type Option = echarts.EChartsCoreOption;

/** The palette every page and report shares (also in style.css). */
export const COLORS = {
  primary: "#2563eb",
  reference: "#94a3b8",
  current: "#ea580c",
  good: "#15803d",
  bad: "#dc2626",
  best: "#dc2626",
  grid: "#e2e8f0",
  text: "#1e293b",
  muted: "#64748b",
};

const SERIES_COLORS = ["#2563eb", "#ea580c", "#15803d", "#9333ea", "#0891b2", "#ca8a04", "#db2777"];

const pending = new Map<HTMLElement, Option>();
const drawn = new Set<echarts.ECharts>();

const axisStyle = {
  axisLine: { lineStyle: { color: COLORS.muted } },
  axisLabel: { color: COLORS.muted, hideOverlap: true },
  splitLine: { lineStyle: { color: COLORS.grid } },
  nameTextStyle: { color: COLORS.text },
};

/**
 * A figure holding one chart: `title` is its caption and, with `description`, what a screen
 * reader announces (ECharts adds the first values of each series).
 */
export function chart(
  option: Option,
  title: string,
  options: { height?: number; description?: string; wide?: boolean } = {},
): HTMLElement {
  const box = h("div", {
    class: "chart",
    style: `height:${options.height ?? 280}px`,
    "data-chart": title,
  });
  const full: Option = {
    animation: false,
    color: SERIES_COLORS,
    textStyle: { fontFamily: "inherit", color: COLORS.text },
    aria: {
      enabled: true,
      label: {
        description: options.description,
        general: { withTitle: `This is a chart about "${title}".`, withoutTitle: title },
      },
    },
    title: { text: title, show: false },
    ...option,
  };
  pending.set(box, full);
  return h(
    "figure",
    { class: options.wide ? "figure wide" : "figure" },
    box,
    h("figcaption", null, title),
  );
}

/** Draws every chart made by `chart()` whose figure is now in the document. */
export function drawCharts(): void {
  for (const [box, option] of pending) {
    if (!box.isConnected) continue;
    pending.delete(box);
    const instance = echarts.init(box, null, { renderer: "canvas" });
    instance.on("finished", () => box.setAttribute("data-rendered", "true"));
    instance.setOption(option);
    drawn.add(instance);
  }
  for (const instance of drawn) {
    if (instance.isDisposed() || !instance.getDom().isConnected) {
      if (!instance.isDisposed()) instance.dispose();
      drawn.delete(instance);
    }
  }
}

if (typeof window !== "undefined") {
  let scheduled = 0;
  window.addEventListener("resize", () => {
    cancelAnimationFrame(scheduled);
    scheduled = requestAnimationFrame(() => {
      for (const instance of drawn) if (!instance.isDisposed()) instance.resize();
    });
  });
}

const tooltipNumber = (value: unknown) => (typeof value === "number" ? num(value) : String(value));

/** One numeric or category axis. */
function axis(name: string, categories?: readonly string[], extra: object = {}) {
  return categories
    ? {
        type: "category",
        name,
        data: categories,
        nameLocation: "middle",
        nameGap: 28,
        ...axisStyle,
        ...extra,
      }
    : {
        type: "value",
        name,
        scale: true,
        nameLocation: "middle",
        nameGap: 28,
        ...axisStyle,
        axisLabel: { ...axisStyle.axisLabel, formatter: (v: number) => num(v) },
        ...extra,
      };
}

export interface ScatterSeries {
  name: string;
  points: readonly (readonly [number | string, number])[];
  color?: string;
  size?: number;
}

/** A scatter plot: one or more series of (x, y) points, optionally the line y = x. */
export function scatter(
  title: string,
  xName: string,
  yName: string,
  series: readonly ScatterSeries[],
  options: {
    xCategories?: readonly string[];
    identity?: boolean;
    zeroLine?: boolean;
    height?: number;
    description?: string;
  } = {},
): HTMLElement {
  let low = Number.POSITIVE_INFINITY;
  let high = Number.NEGATIVE_INFINITY;
  if (options.identity) {
    for (const item of series) {
      for (const [x, y] of item.points) {
        low = Math.min(low, Number(x), y);
        high = Math.max(high, Number(x), y);
      }
    }
  }
  const markLine = options.identity
    ? {
        silent: true,
        symbol: "none",
        lineStyle: { color: COLORS.muted, type: "dashed" },
        data: [[{ coord: [low, low] }, { coord: [high, high] }]],
      }
    : options.zeroLine
      ? {
          silent: true,
          symbol: "none",
          lineStyle: { color: COLORS.muted, type: "dashed" },
          data: [{ yAxis: 0 }],
        }
      : undefined;
  return chart(
    {
      grid: { left: 64, right: 20, top: series.length > 1 ? 34 : 16, bottom: 48 },
      legend: series.length > 1 ? { top: 0 } : undefined,
      tooltip: {
        trigger: "item",
        formatter: (p: { seriesName: string; value: [unknown, unknown] }) =>
          `${p.seriesName}<br>${xName}: ${tooltipNumber(p.value[0])}<br>${yName}: ${tooltipNumber(p.value[1])}`,
      },
      xAxis: axis(xName, options.xCategories),
      yAxis: axis(yName, undefined, { nameGap: 48 }),
      series: series.map((item, index) => ({
        type: "scatter",
        name: item.name,
        data: item.points,
        symbolSize: item.size ?? 6,
        large: item.points.length > 2000,
        itemStyle: { color: item.color, opacity: item.points.length > 500 ? 0.6 : 0.85 },
        markLine: index === 0 ? markLine : undefined,
      })),
    },
    title,
    { height: options.height, description: options.description },
  );
}

export interface BarSeries {
  name: string;
  values: readonly (number | null)[];
  color?: string;
}

/** Bars per category: side by side for several series, horizontal when asked. */
export function bars(
  title: string,
  categories: readonly string[],
  series: readonly BarSeries[],
  options: {
    horizontal?: boolean;
    valueName?: string;
    categoryName?: string;
    height?: number;
    percent?: boolean;
    description?: string;
  } = {},
): HTMLElement {
  const valueAxis = {
    type: "value",
    name: options.valueName ?? "",
    nameLocation: "middle",
    nameGap: 30,
    ...axisStyle,
    axisLabel: {
      ...axisStyle.axisLabel,
      formatter: (v: number) => (options.percent ? `${num(v * 100)} %` : num(v)),
    },
  };
  const categoryAxis = {
    type: "category",
    name: options.categoryName ?? "",
    nameLocation: "middle",
    nameGap: options.horizontal ? 60 : 30,
    data: categories,
    ...axisStyle,
    axisLabel: {
      ...axisStyle.axisLabel,
      hideOverlap: !options.horizontal,
      interval: options.horizontal ? 0 : "auto",
    },
  };
  const longest = Math.max(0, ...categories.map((c) => c.length));
  return chart(
    {
      grid: {
        left: options.horizontal ? Math.min(200, 16 + longest * 7) : 56,
        right: 20,
        top: series.length > 1 ? 34 : 16,
        bottom: options.horizontal ? 40 : 56,
      },
      legend: series.length > 1 ? { top: 0 } : undefined,
      tooltip: {
        trigger: "axis",
        axisPointer: { type: "shadow" },
        valueFormatter: (v: unknown) =>
          typeof v === "number" ? (options.percent ? `${num(v * 100)} %` : num(v)) : String(v),
      },
      xAxis: options.horizontal ? valueAxis : categoryAxis,
      yAxis: options.horizontal ? { ...categoryAxis, inverse: true } : valueAxis,
      series: series.map((item) => ({
        type: "bar",
        name: item.name,
        data: item.values,
        itemStyle: item.color ? { color: item.color } : undefined,
        barMaxWidth: 28,
      })),
    },
    title,
    { height: options.height, description: options.description },
  );
}

/** min, Q1, median, Q3, max (linear interpolation, as numpy's default). */
export function fiveNumbers(values: readonly number[]): [number, number, number, number, number] {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return [Number.NaN, Number.NaN, Number.NaN, Number.NaN, Number.NaN];
  const at = (q: number) => {
    const position = (sorted.length - 1) * q;
    const low = Math.floor(position);
    const high = Math.ceil(position);
    return sorted[low] + (sorted[high] - sorted[low]) * (position - low);
  };
  return [sorted[0], at(0.25), at(0.5), at(0.75), sorted[sorted.length - 1]];
}

/** Box plots of several samples (the CV folds of candidates), with each fold's point on top. */
export function boxes(
  title: string,
  categories: readonly string[],
  samples: readonly (readonly number[])[],
  valueName: string,
  options: { height?: number; description?: string } = {},
): HTMLElement {
  const points: [string, number][] = [];
  samples.forEach((sample, i) => {
    for (const v of sample) if (Number.isFinite(v)) points.push([categories[i], v]);
  });
  return chart(
    {
      grid: { left: 64, right: 20, top: 16, bottom: 56 },
      tooltip: { trigger: "item", valueFormatter: tooltipNumber },
      xAxis: axis("", categories, {
        axisLabel: { ...axisStyle.axisLabel, interval: 0, rotate: categories.length > 8 ? 30 : 0 },
      }),
      yAxis: axis(valueName, undefined, { nameGap: 48 }),
      series: [
        {
          type: "boxplot",
          name: valueName,
          data: samples.map((sample) => fiveNumbers(sample)),
          itemStyle: { color: "#dbeafe", borderColor: COLORS.primary },
        },
        {
          type: "scatter",
          name: "fold",
          data: points,
          symbolSize: 5,
          itemStyle: { color: COLORS.current, opacity: 0.8 },
        },
      ],
    },
    title,
    { height: options.height, description: options.description },
  );
}

export interface ParallelDimension {
  name: string;
  /** Category values, for a category axis; a numeric axis otherwise. */
  categories?: readonly string[];
}

/**
 * Parallel coordinates: one line per row across the dimensions, coloured by the last one (the
 * metric), with a colour scale to pick a range of it.
 */
export function parallel(
  title: string,
  dimensions: readonly ParallelDimension[],
  rows: readonly (readonly (number | string | null)[])[],
  options: { height?: number; greaterIsBetter?: boolean; description?: string } = {},
): HTMLElement {
  const last = dimensions.length - 1;
  const metric = rows.map((row) => row[last]).filter((v): v is number => typeof v === "number");
  const low = metric.length ? Math.min(...metric) : 0;
  const high = metric.length ? Math.max(...metric) : 1;
  return chart(
    {
      parallel: { left: 56, right: 90, top: 40, bottom: 28 },
      parallelAxis: dimensions.map((dimension, dim) => ({
        dim,
        name: dimension.name,
        type: dimension.categories ? "category" : "value",
        data: dimension.categories,
        scale: true,
        nameTextStyle: { color: COLORS.text, fontWeight: dim === last ? "bold" : "normal" },
        axisLabel: {
          color: COLORS.muted,
          formatter: dimension.categories ? undefined : (v: number) => num(v),
        },
      })),
      visualMap: {
        type: "continuous",
        dimension: last,
        min: low,
        max: high === low ? low + 1 : high,
        right: 0,
        top: "middle",
        itemHeight: 140,
        calculable: true,
        precision: 4,
        text: [dimensions[last].name, ""],
        textStyle: { color: COLORS.muted },
        inRange: {
          // The best end of the metric is the darkest.
          color: options.greaterIsBetter
            ? ["#fde68a", "#60a5fa", "#1d4ed8"]
            : ["#1d4ed8", "#60a5fa", "#fde68a"],
        },
      },
      series: [
        {
          type: "parallel",
          data: rows,
          lineStyle: { width: 1.2, opacity: rows.length > 300 ? 0.35 : 0.7 },
          progressive: 500,
        },
      ],
    },
    title,
    { height: options.height ?? 340, description: options.description },
  );
}

export interface Interval {
  label: string;
  estimate: number;
  lower: number;
  upper: number;
  good: boolean;
}

/**
 * Confidence intervals as horizontal error bars around their estimate, with the line at 0: a
 * forest plot of how much worse the candidate is than the baseline.
 */
export function intervals(
  title: string,
  items: readonly Interval[],
  valueName: string,
  options: { description?: string } = {},
): HTMLElement {
  const labels = items.map((item) => item.label);
  // The axis always shows 0, the line of no difference.
  const low = Math.min(0, ...items.map((item) => item.lower));
  const high = Math.max(0, ...items.map((item) => item.upper));
  const pad = (high - low) * 0.08 || 1;
  return chart(
    {
      grid: {
        left: Math.min(220, 20 + Math.max(...labels.map((l) => l.length)) * 7),
        right: 30,
        top: 16,
        bottom: 48,
      },
      tooltip: {
        trigger: "item",
        formatter: (p: { dataIndex: number }) => {
          const item = items[p.dataIndex];
          return `${item.label}<br>estimate ${num(item.estimate)}<br>interval [${num(item.lower)}, ${num(item.upper)}]`;
        },
      },
      xAxis: {
        type: "value",
        name: valueName,
        nameLocation: "middle",
        nameGap: 28,
        min: low - pad,
        max: high + pad,
        ...axisStyle,
        axisLabel: { ...axisStyle.axisLabel, formatter: (v: number) => num(v) },
      },
      yAxis: { type: "category", data: labels, inverse: true, ...axisStyle },
      series: [
        {
          type: "custom",
          name: "interval",
          data: items.map((item, i) => [item.lower, item.upper, i, item.estimate]),
          encode: { x: [0, 1, 3], y: 2 },
          renderItem: (
            params: { dataIndex: number },
            api: {
              value(dim: number): number;
              coord(point: [number, number]): [number, number];
              size(size: [number, number]): [number, number];
            },
          ) => {
            const index = api.value(2);
            const low = api.coord([api.value(0), index]);
            const high = api.coord([api.value(1), index]);
            const mid = api.coord([api.value(3), index]);
            const cap = api.size([0, 1])[1] * 0.25;
            const color = items[params.dataIndex].good ? COLORS.good : COLORS.bad;
            const style = { stroke: color, lineWidth: 2 };
            return {
              type: "group",
              children: [
                {
                  type: "line",
                  shape: { x1: low[0], y1: low[1], x2: high[0], y2: high[1] },
                  style,
                },
                {
                  type: "line",
                  shape: { x1: low[0], y1: low[1] - cap, x2: low[0], y2: low[1] + cap },
                  style,
                },
                {
                  type: "line",
                  shape: { x1: high[0], y1: high[1] - cap, x2: high[0], y2: high[1] + cap },
                  style,
                },
                { type: "circle", shape: { cx: mid[0], cy: mid[1], r: 5 }, style: { fill: color } },
              ],
            };
          },
          markLine: {
            silent: true,
            symbol: "none",
            lineStyle: { color: COLORS.muted, type: "dashed" },
            label: { formatter: "no difference", color: COLORS.muted },
            data: [{ xAxis: 0 }],
          },
        },
      ],
    },
    title,
    { height: 60 + items.length * 44, description: options.description },
  );
}

export interface Span {
  lane: string;
  start: number;
  end: number;
  label: string;
  tooltip: string;
}

/** A timeline: one lane per alias, a bar per version it pointed at, from move to move. */
export function timeline(
  title: string,
  lanes: readonly string[],
  spans: readonly Span[],
  options: { description?: string } = {},
): HTMLElement {
  return chart(
    {
      grid: {
        left: Math.min(160, 24 + Math.max(...lanes.map((l) => l.length)) * 8),
        right: 24,
        top: 16,
        bottom: 40,
      },
      tooltip: {
        trigger: "item",
        formatter: (p: { dataIndex: number }) => spans[p.dataIndex].tooltip,
      },
      xAxis: { type: "time", ...axisStyle },
      yAxis: { type: "category", data: lanes, ...axisStyle },
      series: [
        {
          type: "custom",
          name: "alias",
          data: spans.map((span) => [lanes.indexOf(span.lane), span.start, span.end, span.label]),
          encode: { x: [1, 2], y: 0 },
          renderItem: (
            params: {
              dataIndex: number;
              coordSys: { x: number; y: number; width: number; height: number };
            },
            api: {
              value(dim: number): number;
              coord(point: [number, number]): [number, number];
              size(size: [number, number]): [number, number];
            },
          ) => {
            const lane = api.value(0);
            const start = api.coord([api.value(1), lane]);
            const end = api.coord([api.value(2), lane]);
            const height = api.size([0, 1])[1] * 0.55;
            const x = Math.max(start[0], params.coordSys.x);
            const width = Math.max(
              2,
              Math.min(end[0], params.coordSys.x + params.coordSys.width) - x,
            );
            const label = spans[params.dataIndex].label;
            const color = SERIES_COLORS[Number(label.replace(/\D/g, "")) % SERIES_COLORS.length];
            return {
              type: "group",
              children: [
                {
                  type: "rect",
                  shape: { x, y: start[1] - height / 2, width, height, r: 3 },
                  style: { fill: color, opacity: 0.85 },
                },
                {
                  type: "text",
                  style: {
                    text: width > 26 ? label : "",
                    x: x + 6,
                    y: start[1],
                    fill: "#fff",
                    verticalAlign: "middle",
                    font: "12px sans-serif",
                  },
                },
              ],
            };
          },
        },
      ],
    },
    title,
    { height: 70 + lanes.length * 40, description: options.description },
  );
}

/**
 * The density of a numeric training profile: its quantile bins as a step line of count per
 * unit of value (bins of equal mass are narrow where values crowd).
 */
export function density(
  title: string,
  edges: readonly number[],
  counts: readonly number[],
  options: { height?: number; description?: string } = {},
): HTMLElement {
  const points: [number, number][] = [];
  for (let i = 1; i < edges.length; i++) {
    const width = edges[i] - edges[i - 1];
    const height = width > 0 ? counts[i] / width : 0;
    points.push([edges[i - 1], height], [edges[i], height]);
  }
  return chart(
    {
      grid: { left: 56, right: 16, top: 12, bottom: 32 },
      tooltip: { trigger: "axis", valueFormatter: tooltipNumber },
      xAxis: {
        type: "value",
        scale: true,
        ...axisStyle,
        axisLabel: { ...axisStyle.axisLabel, formatter: (v: number) => num(v) },
      },
      yAxis: {
        type: "value",
        ...axisStyle,
        axisLabel: { ...axisStyle.axisLabel, formatter: (v: number) => num(v) },
      },
      series: [
        {
          type: "line",
          name: "rows per unit",
          data: points,
          symbol: "none",
          lineStyle: { color: COLORS.primary },
          areaStyle: { color: "#bfdbfe" },
        },
      ],
    },
    title,
    { height: options.height ?? 180, description: options.description },
  );
}
