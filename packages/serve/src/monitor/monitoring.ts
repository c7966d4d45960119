import {
  type DriftOptions,
  MlopsError,
  type ResolvedDriftOptions,
  resolveDriftOptions,
  type SketchWindow,
  type TrainingProfile,
} from "@mlops/core";
import { CounterFamily, GaugeFamily } from "../metrics/families.js";
import type { ServeMetrics } from "../metrics/metrics.js";
import {
  AlertManager,
  type AlertRule,
  type AlertSubject,
  type AlertWebhook,
  type DeliveryResult,
} from "./alerts.js";
import { type FeedbackOptions, FeedbackStore, type JoinedFeedback } from "./feedback.js";
import { type MonitoringReport, type VariantRole, VersionMonitor } from "./version.js";

/**
 * Monitoring of served models (`createInferenceApp({ monitoring })`): drift of the inputs and
 * predictions against each model's training profile over a sliding window, feedback joined to
 * predictions for the online error, and alert rules posting to a webhook.
 */
export interface MonitoringOptions {
  /** The window drift and online error are measured over (default the last 10,000 rows). */
  window?: SketchWindow;
  /** Sub-windows the window slides by (default 10). */
  blocks?: number;
  /** Drift thresholds and methods (core's `DriftOptions`; defaults as `mlops drift`). */
  drift?: DriftOptions;
  /** The feedback join store (capacity, time to live, JSON Lines file). */
  feedback?: FeedbackOptions;
  /** Alert rules and where they post. */
  alerts?: {
    rules: readonly (string | AlertRule)[];
    webhook: AlertWebhook;
    /** How often the rules are checked (default 15 s; 0 = only when `evaluateAlerts()` is called). */
    intervalMs?: number;
    /** Waits between delivery attempts (tests pass one that returns at once). */
    sleep?: (ms: number) => Promise<void>;
    /** Called after every delivery attempt sequence. */
    onDelivery?: (result: DeliveryResult) => void;
  };
  /** The clock, in milliseconds (default `Date.now`; tests pass their own). */
  now?: () => number;
}

/** A served model version as monitoring sees it. */
export interface MonitoredVersion {
  name: string;
  version: string;
  variant: string | null;
  role: VariantRole;
  profile: TrainingProfile | undefined;
}

function checkWindow(window: SketchWindow | undefined): SketchWindow {
  if (window === undefined) return { rows: 10_000 };
  if (typeof window !== "object" || window === null) {
    throw new MlopsError(
      "argument_invalid",
      "monitoring.window: expected { rows } or { milliseconds }",
    );
  }
  if ("rows" in window) {
    if (!Number.isInteger(window.rows) || window.rows < 1) {
      throw new MlopsError(
        "argument_invalid",
        `monitoring.window.rows: expected an integer ≥ 1, got ${String(window.rows)}`,
      );
    }
    return { rows: window.rows };
  }
  if ("milliseconds" in window && window.milliseconds > 0)
    return { milliseconds: window.milliseconds };
  throw new MlopsError(
    "argument_invalid",
    `monitoring.window: expected { rows: N } or { milliseconds: N }, got ${JSON.stringify(window)}`,
  );
}

/**
 * The app's monitoring: one `VersionMonitor` per served version (and variant), the feedback
 * store, the alert manager, and their Prometheus gauges.
 */
export class Monitoring {
  readonly window: SketchWindow;
  readonly blocks: number;
  readonly drift: ResolvedDriftOptions;
  readonly feedback: FeedbackStore;
  readonly alerts: AlertManager | undefined;
  readonly now: () => number;
  readonly #monitors = new Map<string, VersionMonitor>();
  readonly #active: () => readonly VersionMonitor[];
  #timer: ReturnType<typeof setInterval> | undefined;
  #feedbackCounter: CounterFamily | undefined;

  constructor(options: MonitoringOptions, active: () => readonly VersionMonitor[]) {
    this.now = options.now ?? Date.now;
    this.window = checkWindow(options.window);
    this.blocks = options.blocks ?? 10;
    if (!Number.isInteger(this.blocks) || this.blocks < 1) {
      throw new MlopsError(
        "argument_invalid",
        `monitoring.blocks: expected an integer ≥ 1, got ${String(this.blocks)}`,
      );
    }
    this.drift = resolveDriftOptions(options.drift);
    this.feedback = new FeedbackStore(options.feedback ?? {}, this.now);
    this.#active = active;
    const alerts = options.alerts;
    if (alerts !== undefined) {
      this.alerts = new AlertManager({
        rules: alerts.rules,
        webhook: alerts.webhook,
        now: this.now,
        sleep: alerts.sleep,
        onDelivery: alerts.onDelivery,
      });
      const interval = alerts.intervalMs ?? 15_000;
      if (interval > 0) {
        this.#timer = setInterval(() => {
          this.evaluateAlerts().catch(() => {});
        }, interval);
        this.#timer.unref?.();
      }
    }
  }

  /** The monitor of a version (and variant), made on first use and kept while it is served. */
  monitor(version: MonitoredVersion): VersionMonitor {
    const key = `${version.name}\u0000${version.version}\u0000${version.variant ?? ""}\u0000${version.role}`;
    let monitor = this.#monitors.get(key);
    if (monitor === undefined) {
      monitor = new VersionMonitor(
        version.name,
        version.version,
        version.profile,
        { window: this.window, blocks: this.blocks, now: this.now, drift: this.drift },
        version.variant,
        version.role,
      );
      this.#monitors.set(key, monitor);
    }
    return monitor;
  }

  /** The monitors kept now: the versions served, and old ones still taking feedback. */
  kept(): VersionMonitor[] {
    return [...this.#monitors.values()];
  }

  /** Forgets a version's monitor (it was swapped out and released). */
  release(monitor: VersionMonitor): void {
    for (const [key, value] of this.#monitors) if (value === monitor) this.#monitors.delete(key);
  }

  /** The monitor a joined prediction belongs to (an old version's is made again if needed). */
  #owner(feedback: JoinedFeedback): VersionMonitor {
    for (const monitor of this.#monitors.values()) {
      if (
        monitor.name === feedback.owner.name &&
        monitor.version === feedback.owner.version &&
        monitor.variant === feedback.owner.variant
      ) {
        return monitor;
      }
    }
    return this.monitor({ ...feedback.owner, role: "primary", profile: undefined });
  }

  /** Joins feedback (all or nothing) and counts it in each version's online error. */
  join(items: readonly unknown[], single: boolean): JoinedFeedback[] {
    const joined = this.feedback.join(items, single);
    for (const item of joined) {
      const monitor = this.#owner(item);
      monitor.observeFeedback(item.predicted, item.actual);
      const counter = this.#feedbackCounter;
      if (counter !== undefined) {
        counter.cell(
          monitor.variant === null
            ? { model: monitor.name, version: monitor.version }
            : { model: monitor.name, version: monitor.version, variant: monitor.variant },
        ).value++;
      }
    }
    return joined;
  }

  /** Checks the alert rules against every version served now (also run on the interval). */
  async evaluateAlerts(): Promise<DeliveryResult[]> {
    if (this.alerts === undefined) return [];
    const subjects: AlertSubject[] = this.#active().map((monitor) => ({
      key: `${monitor.name}/${monitor.version}${monitor.variant ? `/${monitor.variant}` : ""}`,
      report: () => monitor.report(),
    }));
    return this.alerts.evaluate(subjects);
  }

  /** Registers the monitoring gauges in the app's Prometheus registry. */
  registerMetrics(metrics: ServeMetrics): void {
    const reports = () => this.#active().map((monitor) => ({ monitor, report: monitor.report() }));
    // An A/B variant or a shadow adds its label; a plain served version has model and version.
    const labelsOf = (monitor: VersionMonitor): Record<string, string> =>
      monitor.variant === null
        ? { model: monitor.name, version: monitor.version }
        : { model: monitor.name, version: monitor.version, variant: monitor.variant };
    // One report per scrape serves every gauge of that scrape.
    let cache: { at: number; value: ReturnType<typeof reports> } | undefined;
    const current = () => {
      const now = performance.now();
      if (cache === undefined || now - cache.at > 100) cache = { at: now, value: reports() };
      return cache.value;
    };
    const families = [
      new GaugeFamily(
        "mlops_feature_drift",
        "Drift of each input feature over the monitoring window: the statistic its method decided by",
        () =>
          current().flatMap(({ monitor, report }) =>
            Object.entries(report.features)
              .filter(([, drift]) => drift.statistic !== null)
              .map(([feature, drift]) => ({
                labels: { ...labelsOf(monitor), feature, method: drift.method },
                value: drift.statistic as number,
              })),
          ),
      ),
      new GaugeFamily(
        "mlops_feature_drifted",
        "1 when a feature's drift verdict is drift, 0 when not, over the monitoring window",
        () =>
          current().flatMap(({ monitor, report }) =>
            Object.entries(report.features)
              .filter(([, drift]) => drift.verdict !== "insufficient_data")
              .map(([feature, drift]) => ({
                labels: { ...labelsOf(monitor), feature },
                value: drift.drifted ? 1 : 0,
              })),
          ),
      ),
      new GaugeFamily(
        "mlops_dataset_drift_share",
        "Share of the features judged that drifted over the monitoring window",
        () =>
          current()
            .filter(({ report }) => report.dataset.verdict !== "insufficient_data")
            .map(({ monitor, report }) => ({
              labels: labelsOf(monitor),
              value: report.dataset.share,
            })),
      ),
      new GaugeFamily(
        "mlops_feature_missing_ratio",
        "Share of missing values of each feature over the monitoring window",
        () =>
          current().flatMap(({ monitor, report }) =>
            Object.entries(report.features).map(([feature, drift]) => ({
              labels: { ...labelsOf(monitor), feature },
              value: drift.current.missingRate,
            })),
          ),
      ),
      new GaugeFamily(
        "mlops_prediction_drift",
        "Drift of the model's predictions from its predictions on the training data",
        () =>
          current()
            .filter(({ report }) => report.predictions?.statistic != null)
            .map(({ monitor, report }) => ({
              labels: { ...labelsOf(monitor), method: report.predictions!.method },
              value: report.predictions!.statistic as number,
            })),
      ),
      new GaugeFamily("mlops_monitoring_window_rows", "Rows in the monitoring window", () =>
        current().map(({ monitor, report }) => ({
          labels: labelsOf(monitor),
          value: report.window.rows,
        })),
      ),
      new GaugeFamily(
        "mlops_online_rmse",
        "Root mean squared error of the predictions that got feedback, over the window",
        () =>
          current()
            .filter(({ report }) => report.online.rmse !== null)
            .map(({ monitor, report }) => ({
              labels: labelsOf(monitor),
              value: report.online.rmse as number,
            })),
      ),
      new GaugeFamily(
        "mlops_online_mae",
        "Mean absolute error of the predictions that got feedback, over the window",
        () =>
          current()
            .filter(({ report }) => report.online.mae !== null)
            .map(({ monitor, report }) => ({
              labels: labelsOf(monitor),
              value: report.online.mae as number,
            })),
      ),
      new GaugeFamily("mlops_online_feedback", "Feedback values joined over the window", () =>
        current().map(({ monitor, report }) => ({
          labels: labelsOf(monitor),
          value: report.online.count,
        })),
      ),
      new GaugeFamily("mlops_feedback_pending", "Predictions kept for their feedback", () => [
        { labels: {}, value: this.feedback.size },
      ]),
      new GaugeFamily(
        "mlops_alert_firing",
        "1 for each alert rule firing, by rule and served version",
        () =>
          (this.alerts?.firing() ?? []).map(({ rule, subject }) => ({
            labels: { rule, subject },
            value: 1,
          })),
      ),
    ];
    const feedback = new CounterFamily(
      "mlops_feedback_total",
      "Feedback values joined to predictions, by model and version",
    );
    const rejected = new CounterFamily(
      "mlops_feedback_rejected_total",
      "Feedback rejected (4xx), by reason: unknown_id, expired, duplicate, invalid",
    );
    const counted = rejected.get.bind(rejected);
    rejected.get = () => {
      for (const [reason, value] of Object.entries(this.feedback.rejected)) {
        rejected.cell({ reason }).value = value;
      }
      return counted();
    };
    for (const family of [...families, feedback, rejected]) {
      metrics.registry.registerMetric(family as never);
    }
    this.#feedbackCounter = feedback;
  }

  /** Every monitor (served now or kept for feedback), with its report. */
  reports(): MonitoringReport[] {
    return [...this.#monitors.values()].map((monitor) => monitor.report());
  }

  /** Stops the alert timer and flushes the feedback file. */
  async close(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    await this.feedback.close();
  }
}
