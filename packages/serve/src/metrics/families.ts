/**
 * Metric families that a prom-client `Registry` renders like its own, but whose series are
 * plain objects the request path updates with one addition — no label hashing per request.
 * prom-client's children hash their labels on every `inc`/`observe` (≈ 250 ns each); a
 * prediction batch of 1,000 rows would spend more on its value histogram than on predicting.
 */

type Labels = Record<string, string>;

interface MetricValue {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}

/** What prom-client's `Registry` reads from a metric (`get()`), plus `reset()`. */
interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: "counter" | "gauge" | "histogram";
  readonly aggregator: "sum" | "first";
  get(): Promise<{
    name: string;
    help: string;
    type: string;
    aggregator: string;
    values: MetricValue[];
  }>;
  reset(): void;
}

/** One counter series: `value` only grows. */
export interface CounterCell {
  readonly labels: Labels;
  value: number;
}

/** One histogram series: `counts[i]` rows fell at or below `bounds[i]`, the last at +Inf. */
export interface HistogramCell {
  readonly labels: Labels;
  readonly bounds: Float64Array;
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

function key(labels: Labels): string {
  let text = "";
  for (const name in labels) text += `${labels[name]}\u0000`;
  return text;
}

/** A counter family: `cell(labels)` returns (and keeps) the series for those labels. */
export class CounterFamily implements Family {
  readonly type = "counter" as const;
  readonly aggregator = "sum" as const;
  readonly #cells = new Map<string, CounterCell>();

  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  cell(labels: Labels): CounterCell {
    const id = key(labels);
    let cell = this.#cells.get(id);
    if (cell === undefined) {
      cell = { labels, value: 0 };
      this.#cells.set(id, cell);
    }
    return cell;
  }

  async get() {
    const values: MetricValue[] = [];
    for (const cell of this.#cells.values())
      values.push({ value: cell.value, labels: cell.labels });
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values,
    };
  }

  reset(): void {
    for (const cell of this.#cells.values()) cell.value = 0;
  }
}

/** A histogram family; each series may have its own bucket bounds (sorted, finite). */
export class HistogramFamily implements Family {
  readonly type = "histogram" as const;
  readonly aggregator = "sum" as const;
  readonly #cells = new Map<string, HistogramCell>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly defaultBounds: readonly number[],
  ) {}

  cell(labels: Labels, bounds: readonly number[] = this.defaultBounds): HistogramCell {
    const id = key(labels);
    let cell = this.#cells.get(id);
    if (cell === undefined) {
      const sorted = Float64Array.from(new Set(bounds.filter(Number.isFinite))).sort();
      cell = {
        labels,
        bounds: sorted,
        counts: new Float64Array(sorted.length + 1),
        sum: 0,
        count: 0,
      };
      this.#cells.set(id, cell);
    }
    return cell;
  }

  async get() {
    const values: MetricValue[] = [];
    for (const cell of this.#cells.values()) {
      let cumulative = 0;
      for (let i = 0; i < cell.bounds.length; i++) {
        cumulative += cell.counts[i];
        values.push({
          metricName: `${this.name}_bucket`,
          labels: { ...cell.labels, le: cell.bounds[i] },
          value: cumulative,
        });
      }
      values.push({
        metricName: `${this.name}_bucket`,
        labels: { ...cell.labels, le: "+Inf" },
        value: cell.count,
      });
      values.push({ metricName: `${this.name}_sum`, labels: cell.labels, value: cell.sum });
      values.push({ metricName: `${this.name}_count`, labels: cell.labels, value: cell.count });
    }
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values,
    };
  }

  reset(): void {
    for (const cell of this.#cells.values()) {
      cell.counts.fill(0);
      cell.sum = 0;
      cell.count = 0;
    }
  }
}

/** Adds one observation (NaN is skipped: it belongs to no bucket). */
export function observe(cell: HistogramCell, value: number): void {
  if (Number.isNaN(value)) return;
  const bounds = cell.bounds;
  let i = 0;
  while (i < bounds.length && value > bounds[i]) i++;
  cell.counts[i]++;
  cell.sum += value;
  cell.count++;
}

/** Adds every value of `values` (the prediction batch). */
export function observeAll(cell: HistogramCell, values: Float64Array): void {
  const bounds = cell.bounds;
  const counts = cell.counts;
  const last = bounds.length;
  let sum = 0;
  let count = 0;
  for (let r = 0; r < values.length; r++) {
    const value = values[r];
    if (Number.isNaN(value)) continue;
    let i = 0;
    while (i < last && value > bounds[i]) i++;
    counts[i]++;
    sum += value;
    count++;
  }
  cell.sum += sum;
  cell.count += count;
}

/** A gauge whose series are computed when scraped (model info, readiness). */
export class GaugeFamily implements Family {
  readonly type = "gauge" as const;
  readonly aggregator = "first" as const;

  constructor(
    readonly name: string,
    readonly help: string,
    readonly collect: () => { labels: Labels; value: number }[],
  ) {}

  async get() {
    const values: MetricValue[] = this.collect().map(({ labels, value }) => ({ labels, value }));
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values,
    };
  }

  reset(): void {}
}
