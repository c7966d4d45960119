import { collectDefaultMetrics, type Metric, Registry } from "prom-client";
import {
  type CounterCell,
  CounterFamily,
  GaugeFamily,
  type HistogramCell,
  HistogramFamily,
  observe,
  observeAll,
} from "./families.js";

/** Options of the app's `metrics`. */
export interface MetricsOptions {
  /** The prom-client registry to register in (default: a new one per app). */
  registry?: Registry;
  /** Node.js process metrics (CPU, memory, event loop, GC) via prom-client (default true). */
  processMetrics?: boolean;
  /** Request latency buckets in seconds. */
  latencyBuckets?: readonly number[];
  /**
   * Prediction-value buckets. Default: ten equal steps across the target's declared range, or
   * the range of a tree model's leaves; else powers of ten from -10⁴ to 10⁴.
   */
  valueBuckets?: readonly number[];
}

/** Seconds; from 100 µs (an in-process tree) to 10 s (the default request timeout). */
const LATENCY_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];
const VALUE_BUCKETS = [-1e4, -1e3, -100, -10, -1, 0, 1, 10, 100, 1e3, 1e4];
/** Shadow vs returned prediction, absolute: from "the same" to "another model entirely". */
const DIFFERENCE_BUCKETS = [0, 1e-9, 1e-6, 1e-3, 0.01, 0.1, 1, 10, 100, 1e3, 1e4];

/** Ten equal-width bounds over [low, high], rounded to 6 significant digits. */
export function linearBuckets(low: number, high: number, steps = 10): number[] {
  if (!(high > low)) return [low];
  const out: number[] = [];
  for (let k = 1; k <= steps; k++)
    out.push(Number((low + ((high - low) * k) / steps).toPrecision(6)));
  return out;
}

/** The metric series of one route of one served model, bound once. */
export interface RouteSeries {
  readonly latency: HistogramCell;
  readonly ok: CounterCell;
  readonly validationFailures: CounterCell;
  readonly byStatus: Map<number, CounterCell>;
}

/** What `mlops_model_info` reports for one served model. */
export interface ModelInfo {
  name: string;
  /** The variant of a split (A/B) name; undefined for a plain model. */
  variant?: string;
  version: string;
  aliases: readonly string[];
  kind: string;
  runtime: string;
  ready: boolean;
}

/**
 * The labels of a model's series: `model`, `version`, and `variant` for a split (A/B) name.
 * A plain model has no `variant` label, which Prometheus reads as `variant=""`.
 */
function modelLabels(
  model: string,
  version: string,
  variant: string | undefined,
): Record<string, string> {
  return variant === undefined ? { model, version } : { model, version, variant };
}

/**
 * The series of one served model (name + version, + variant for a split name). Routes are
 * bound on first use and kept, so recording a request is a Map lookup and a few additions.
 */
export class ModelSeries {
  readonly predictions: CounterCell;
  readonly values: HistogramCell;
  readonly #routes = new Map<string, RouteSeries>();
  #shadow: ShadowSeries | undefined;

  constructor(
    readonly metrics: ServeMetrics,
    readonly model: string,
    readonly version: string,
    valueBuckets: readonly number[] | undefined,
    readonly variant: string | undefined = undefined,
  ) {
    const labels = modelLabels(model, version, variant);
    this.predictions = metrics.predictions.cell(labels);
    this.values = metrics.values.cell(labels, valueBuckets);
  }

  route(route: string): RouteSeries {
    let series = this.#routes.get(route);
    if (series === undefined) {
      const labels = { ...modelLabels(this.model, this.version, this.variant), route };
      series = {
        latency: this.metrics.latency.cell(labels),
        ok: this.metrics.requests.cell({ ...labels, status: "200" }),
        validationFailures: this.metrics.validationFailures.cell(labels),
        byStatus: new Map(),
      };
      this.#routes.set(route, series);
    }
    return series;
  }

  /** Records one answered request: its status, latency and (when it succeeded) predictions. */
  record(route: string, status: number, seconds: number, predictions?: Float64Array | number) {
    const series = this.route(route);
    if (status === 200) series.ok.value++;
    else {
      let cell = series.byStatus.get(status);
      if (cell === undefined) {
        cell = this.metrics.requests.cell({
          ...modelLabels(this.model, this.version, this.variant),
          route,
          status: String(status),
        });
        series.byStatus.set(status, cell);
      }
      cell.value++;
      if (status === 422) series.validationFailures.value++;
    }
    observe(series.latency, seconds);
    if (predictions === undefined) return;
    this.#count(predictions);
  }

  #count(predictions: Float64Array | number): void {
    if (typeof predictions === "number") {
      this.predictions.value++;
      observe(this.values, predictions);
    } else {
      this.predictions.value += predictions.length;
      observeAll(this.values, predictions);
    }
  }

  /**
   * Records one mirrored request answered by this (shadow) version: its outcome, its time, and
   * how far its predictions were from those returned to the client. Its predictions count in
   * `mlops_predictions_total` and `mlops_prediction_value` under its variant, like any other.
   */
  recordShadow(
    result: ShadowResult,
    seconds: number,
    predictions?: Float64Array | number,
    primary?: Float64Array | number,
  ): void {
    this.#shadow ??= this.metrics.shadowSeries(this.model, this.version, this.variant ?? "");
    const shadow = this.#shadow;
    shadow.results[result].value++;
    if (result !== "ok" && result !== "error") return;
    observe(shadow.latency, seconds);
    if (predictions === undefined) return;
    this.#count(predictions);
    if (primary === undefined) return;
    if (typeof predictions === "number" || typeof primary === "number") {
      const a = typeof predictions === "number" ? predictions : predictions[0];
      const b = typeof primary === "number" ? primary : primary[0];
      observe(shadow.difference, Math.abs(a - b));
      return;
    }
    const n = Math.min(predictions.length, primary.length);
    for (let i = 0; i < n; i++) observe(shadow.difference, Math.abs(predictions[i] - primary[i]));
  }
}

/** How a mirrored request went for a shadow. */
export type ShadowResult = "ok" | "error" | "dropped";

/** The series of one shadow version. */
interface ShadowSeries {
  readonly results: Record<ShadowResult, CounterCell>;
  readonly latency: HistogramCell;
  readonly difference: HistogramCell;
}

/**
 * The app's Prometheus metrics, in its own prom-client `Registry`:
 * `mlops_requests_total{model,version,route,status}`,
 * `mlops_request_duration_seconds{model,version,route}`,
 * `mlops_predictions_total{model,version}` (rows), `mlops_prediction_value{model,version}`,
 * `mlops_validation_failures_total{model,version,route}`,
 * `mlops_model_info{name,version,alias,kind,runtime} 1`, `mlops_model_ready{name}`,
 * `mlops_model_loads_total{name,result}`, and the process metrics.
 *
 * @example
 * const metrics = new ServeMetrics({ processMetrics: false }, () => []);
 * await metrics.registry.metrics(); // Prometheus text
 */
export class ServeMetrics {
  readonly registry: Registry;
  readonly requests = new CounterFamily(
    "mlops_requests_total",
    "Requests answered, by model, version, route and HTTP status",
  );
  readonly latency: HistogramFamily;
  readonly predictions = new CounterFamily(
    "mlops_predictions_total",
    "Rows predicted, by model and version",
  );
  readonly values: HistogramFamily;
  readonly validationFailures = new CounterFamily(
    "mlops_validation_failures_total",
    "Requests rejected by the model's schema (HTTP 422)",
  );
  readonly modelLoads = new CounterFamily(
    "mlops_model_loads_total",
    'Model versions put in place (result="loaded": first load or hot reload) and loads that ' +
      'failed (result="failed"; the version in place keeps serving), by name',
  );
  readonly shadowRequests = new CounterFamily(
    "mlops_shadow_requests_total",
    "Requests mirrored to a shadow version, by result: ok, error (it failed; the client never " +
      "sees it), dropped (too many shadow predictions in flight)",
  );
  readonly shadowLatency: HistogramFamily;
  readonly shadowDifference = new HistogramFamily(
    "mlops_shadow_prediction_difference",
    "Absolute difference between a shadow's prediction and the one returned, per row",
    DIFFERENCE_BUCKETS,
  );
  readonly #valueBuckets: readonly number[] | undefined;
  readonly #series = new Map<string, ModelSeries>();

  constructor(options: MetricsOptions, models: () => ModelInfo[]) {
    this.registry = options.registry ?? new Registry();
    this.latency = new HistogramFamily(
      "mlops_request_duration_seconds",
      "Time from request to response, in seconds",
      options.latencyBuckets ?? LATENCY_BUCKETS,
    );
    this.values = new HistogramFamily(
      "mlops_prediction_value",
      "Predicted values, by model and version",
      VALUE_BUCKETS,
    );
    this.shadowLatency = new HistogramFamily(
      "mlops_shadow_duration_seconds",
      "Time a shadow version took to answer a mirrored request, in seconds",
      options.latencyBuckets ?? LATENCY_BUCKETS,
    );
    this.#valueBuckets = options.valueBuckets;
    const info = new GaugeFamily(
      "mlops_model_info",
      "The model versions being served (always 1), one series per alias",
      () =>
        models()
          .filter((model) => model.ready)
          .flatMap((model) =>
            (model.aliases.length > 0 ? model.aliases : [""]).map((alias) => ({
              labels: {
                name: model.name,
                ...(model.variant === undefined ? {} : { variant: model.variant }),
                version: model.version,
                alias,
                kind: model.kind,
                runtime: model.runtime,
              },
              value: 1,
            })),
          ),
    );
    const ready = new GaugeFamily(
      "mlops_model_ready",
      "1 when the model is loaded and answering, 0 while it loads or after it failed",
      () =>
        models().map((model) => ({
          labels: (model.variant === undefined
            ? { name: model.name }
            : { name: model.name, variant: model.variant }) as Record<string, string>,
          value: model.ready ? 1 : 0,
        })),
    );
    for (const family of [
      this.requests,
      this.latency,
      this.predictions,
      this.values,
      this.validationFailures,
      info,
      ready,
      this.modelLoads,
      this.shadowRequests,
      this.shadowLatency,
      this.shadowDifference,
    ]) {
      // The families implement what the registry reads (get, reset, name, help, type).
      this.registry.registerMetric(family as unknown as Metric);
    }
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /**
   * The series of `model` at `version`, created on first use. `valueRange` (a target's declared
   * range or a tree's leaf range) sets the prediction-value buckets unless the app set them.
   */
  model(
    model: string,
    version: string,
    valueRange?: readonly [number, number],
    variant?: string,
  ): ModelSeries {
    const id = `${model}\u0000${version}\u0000${variant ?? ""}`;
    let series = this.#series.get(id);
    if (series === undefined) {
      const buckets =
        this.#valueBuckets ??
        (valueRange !== undefined ? linearBuckets(valueRange[0], valueRange[1]) : undefined);
      series = new ModelSeries(this, model, version, buckets, variant);
      this.#series.set(id, series);
    }
    return series;
  }

  /** Counts one model load: `"loaded"` (a version put in place) or `"failed"`. */
  modelLoad(name: string, result: "loaded" | "failed", variant?: string): void {
    this.modelLoads.cell(variant === undefined ? { name, result } : { name, variant, result })
      .value++;
  }

  /** The shadow series of one shadow version (created on first use). */
  shadowSeries(model: string, version: string, variant: string): ShadowSeries {
    const labels = { model, variant, version };
    const results = {} as Record<ShadowResult, CounterCell>;
    for (const result of ["ok", "error", "dropped"] as const) {
      results[result] = this.shadowRequests.cell({ ...labels, result });
    }
    return {
      results,
      latency: this.shadowLatency.cell(labels),
      difference: this.shadowDifference.cell(labels),
    };
  }

  /** Where requests that reached no model are recorded (`model=""`, `version=""`). */
  unmatched(): RequestRecorder {
    return {
      record: (route, status, seconds) => {
        const labels = { model: "", version: "", route };
        this.requests.cell({ ...labels, status: String(status) }).value++;
        observe(this.latency.cell(labels), seconds);
      },
    };
  }

  /** The Prometheus text exposition and its content type. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

/** What a request records into: a model's series, or nothing when metrics are off. */
export interface RequestRecorder {
  record(route: string, status: number, seconds: number, predictions?: Float64Array | number): void;
  /** Records a mirrored request answered (or not) by a shadow version. */
  recordShadow?(
    result: ShadowResult,
    seconds: number,
    predictions?: Float64Array | number,
    primary?: Float64Array | number,
  ): void;
}

/** The recorder used when the app runs without metrics. */
export const NO_METRICS: RequestRecorder = Object.freeze({ record() {}, recordShadow() {} });
