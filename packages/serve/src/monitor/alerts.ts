import { MlopsError } from "@mlops/core";
import type { MonitoringReport } from "./version.js";

/** The figures an alert rule can watch, per served model version. */
export type AlertMetric =
  | "dataset_drift_share"
  | "prediction_drift"
  | "feature_drift"
  | "feature_missing_ratio"
  | "online_rmse"
  | "online_mae"
  | "online_bias"
  | "feedback_count";

const METRICS: readonly AlertMetric[] = [
  "dataset_drift_share",
  "prediction_drift",
  "feature_drift",
  "feature_missing_ratio",
  "online_rmse",
  "online_mae",
  "online_bias",
  "feedback_count",
];

export type AlertOperator = ">" | ">=" | "<" | "<=";

/**
 * An alert rule: `metric op threshold for duration`, e.g. `dataset_drift_share >= 0.5 for 5m`
 * or `online_rmse > 1449 for 5m` (seed 002's Grafana rules). `feature_drift` and
 * `feature_missing_ratio` name their feature: `feature_drift{feature="median_income"} >= 0.1`.
 */
export interface AlertRule {
  /** The rule as written (its identity in notifications). */
  text: string;
  metric: AlertMetric;
  feature?: string;
  operator: AlertOperator;
  threshold: number;
  /** How long the condition must hold before the alert fires, in milliseconds (0: at once). */
  forMs: number;
}

const RULE =
  /^\s*([a-z_]+)(?:\{\s*feature\s*=\s*"([^"]+)"\s*\})?\s*(>=|<=|>|<)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(?:for\s+(\d+(?:\.\d+)?)\s*(ms|s|m|h))?\s*$/;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/**
 * Parses a rule like `dataset_drift_share >= 0.5 for 5m`. Throws `argument_invalid` saying
 * what was expected.
 *
 * @example
 * parseAlertRule("online_rmse > 1449 for 5m");
 * // { metric: "online_rmse", operator: ">", threshold: 1449, forMs: 300000, … }
 */
export function parseAlertRule(text: string): AlertRule {
  const match = typeof text === "string" ? RULE.exec(text) : null;
  const metric = match?.[1] as AlertMetric | undefined;
  if (match === null || metric === undefined || !METRICS.includes(metric)) {
    throw new MlopsError(
      "argument_invalid",
      `alert rule ${JSON.stringify(text)}: expected METRIC OP NUMBER [for DURATION], e.g. ` +
        `"dataset_drift_share >= 0.5 for 5m"; METRIC is one of ${METRICS.join(", ")}; ` +
        'OP one of >, >=, <, <=; DURATION like 30s, 5m, 1h; feature_drift{feature="NAME"} names a feature',
    );
  }
  const feature = match[2];
  const perFeature = metric === "feature_drift" || metric === "feature_missing_ratio";
  if (perFeature !== (feature !== undefined)) {
    throw new MlopsError(
      "argument_invalid",
      `alert rule ${JSON.stringify(text)}: ${
        perFeature
          ? `${metric} needs its feature: ${metric}{feature="NAME"}`
          : `${metric} takes no feature`
      }`,
    );
  }
  const forMs =
    match[5] === undefined ? 0 : Number(match[5]) * UNIT_MS[match[6] as keyof typeof UNIT_MS];
  return {
    text: text.trim(),
    metric,
    ...(feature !== undefined ? { feature } : {}),
    operator: match[3] as AlertOperator,
    threshold: Number(match[4]),
    forMs,
  };
}

/** The value `rule` watches in a monitoring report (null when there is none yet). */
export function ruleValue(rule: AlertRule, report: MonitoringReport): number | null {
  switch (rule.metric) {
    case "dataset_drift_share":
      return report.dataset.verdict === "insufficient_data" ? null : report.dataset.share;
    case "prediction_drift":
      return report.predictions?.verdict === "insufficient_data"
        ? null
        : (report.predictions?.statistic ?? null);
    case "feature_drift": {
      const feature = report.features[rule.feature as string];
      return feature === undefined || feature.verdict === "insufficient_data"
        ? null
        : feature.statistic;
    }
    case "feature_missing_ratio": {
      const feature = report.features[rule.feature as string];
      return feature === undefined || feature.current.count + feature.current.missingRate === 0
        ? null
        : feature.current.missingRate;
    }
    case "online_rmse":
      return report.online.rmse;
    case "online_mae":
      return report.online.mae;
    case "online_bias":
      return report.online.bias;
    case "feedback_count":
      return report.online.count;
  }
}

function holds(operator: AlertOperator, value: number, threshold: number): boolean {
  switch (operator) {
    case ">":
      return value > threshold;
    case ">=":
      return value >= threshold;
    case "<":
      return value < threshold;
    case "<=":
      return value <= threshold;
  }
}

/** Where alerts go: a generic JSON webhook or GitHub's `repository_dispatch`. */
export interface AlertWebhook {
  /** The URL to POST to (for GitHub: `https://api.github.com/repos/OWNER/REPO/dispatches`). */
  url: string;
  /** `"json"` (default): the alert as JSON; `"github"`: `{ event_type, client_payload }`. */
  format?: "json" | "github";
  /** `event_type` of a GitHub dispatch (default `"mlops-alert"`). */
  eventType?: string;
  /** Sent as `Authorization: Bearer TOKEN` (a GitHub token for dispatches). */
  token?: string;
  /** More request headers. */
  headers?: Record<string, string>;
  /** Attempts per notification (default 5), waiting `retryBaseMs` × 2^k between (default 500). */
  attempts?: number;
  retryBaseMs?: number;
  /** Longest wait between attempts (default 30 s). */
  retryMaxMs?: number;
  /** Per-attempt time limit (default 10 s). */
  timeoutMs?: number;
}

/** What a notification says: an alert began firing, or it resolved. */
export interface AlertNotification {
  status: "firing" | "resolved";
  rule: string;
  metric: AlertMetric;
  feature: string | null;
  threshold: number;
  operator: AlertOperator;
  /** The value now (when resolved: the value that cleared it). */
  value: number | null;
  model: string;
  version: string;
  variant: string | null;
  /** When the condition began to hold, and when this was sent (ISO 8601). */
  since: string;
  at: string;
  /** The figures behind it: the data set's drift and the online error. */
  values: {
    dataset_drift_share: number;
    online_rmse: number | null;
    online_mae: number | null;
    feedback_count: number;
    window_rows: number;
  };
}

/** The body POSTed for a notification in `format`. */
export function webhookBody(notification: AlertNotification, webhook: AlertWebhook): unknown {
  if (webhook.format === "github") {
    // GitHub allows at most 10 top-level keys in client_payload.
    return {
      event_type: webhook.eventType ?? "mlops-alert",
      client_payload: {
        status: notification.status,
        rule: notification.rule,
        model: notification.model,
        version: notification.version,
        variant: notification.variant,
        value: notification.value,
        values: notification.values,
        since: notification.since,
        at: notification.at,
      },
    };
  }
  return notification;
}

/** One rule's state for one model version. */
interface RuleState {
  /** When the condition began to hold (undefined while it does not). */
  since: number | undefined;
  firing: boolean;
}

/** A monitored version the alerts look at. */
export interface AlertSubject {
  readonly key: string;
  report(): MonitoringReport;
}

/** What happened to one delivery. */
export interface DeliveryResult {
  notification: AlertNotification;
  delivered: boolean;
  attempts: number;
  error?: string;
}

export interface AlertManagerOptions {
  rules: readonly (string | AlertRule)[];
  webhook: AlertWebhook;
  now: () => number;
  /** Waits between attempts (tests pass one that does not wait). */
  sleep?: (ms: number) => Promise<void>;
  /** Called after each delivery (success or not), e.g. for metrics or logs. */
  onDelivery?: (result: DeliveryResult) => void;
}

/**
 * Evaluates alert rules against the monitored versions, Prometheus-style: a rule whose
 * condition holds for its `for` duration starts firing and posts one notification (no more
 * while it keeps firing), and posts a resolved notification when the condition clears.
 * Deliveries retry with exponential backoff. Time comes from `now`, so tests drive it.
 */
export class AlertManager {
  readonly rules: readonly AlertRule[];
  readonly webhook: AlertWebhook;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #onDelivery: ((result: DeliveryResult) => void) | undefined;
  readonly #states = new Map<string, RuleState>();
  /** Notifications delivered and failed (all attempts used). */
  delivered = 0;
  failed = 0;

  constructor(options: AlertManagerOptions) {
    this.rules = options.rules.map((rule) =>
      typeof rule === "string" ? parseAlertRule(rule) : rule,
    );
    const webhook = options.webhook;
    if (typeof webhook?.url !== "string" || !/^https?:\/\//.test(webhook.url)) {
      throw new MlopsError(
        "argument_invalid",
        `monitoring.alerts.webhook.url: expected an http(s) URL, got ${JSON.stringify(webhook?.url)}`,
      );
    }
    if (webhook.format !== undefined && webhook.format !== "json" && webhook.format !== "github") {
      throw new MlopsError(
        "argument_invalid",
        `monitoring.alerts.webhook.format: expected "json" or "github", got ${JSON.stringify(webhook.format)}`,
      );
    }
    this.webhook = webhook;
    this.#now = options.now;
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#onDelivery = options.onDelivery;
  }

  /** Alerts firing now: rule text and subject key. */
  firing(): { rule: string; subject: string }[] {
    const out: { rule: string; subject: string }[] = [];
    for (const [key, state] of this.#states) {
      if (!state.firing) continue;
      const [subject, rule] = key.split("\u0000");
      out.push({ rule, subject });
    }
    return out;
  }

  /**
   * Checks every rule against every subject now; starts the deliveries it calls for and
   * returns them (each resolves when delivered or given up).
   */
  evaluate(subjects: readonly AlertSubject[]): Promise<DeliveryResult[]> {
    const now = this.#now();
    const sends: Promise<DeliveryResult>[] = [];
    for (const subject of subjects) {
      let report: MonitoringReport | undefined;
      for (const rule of this.rules) {
        report ??= subject.report();
        const key = `${subject.key}\u0000${rule.text}`;
        let state = this.#states.get(key);
        if (state === undefined) {
          state = { since: undefined, firing: false };
          this.#states.set(key, state);
        }
        const value = ruleValue(rule, report);
        const condition = value !== null && holds(rule.operator, value, rule.threshold);
        if (condition) {
          state.since ??= now;
          if (!state.firing && now - state.since >= rule.forMs) {
            state.firing = true;
            sends.push(
              this.#send(this.#notification("firing", rule, report, value, state.since, now)),
            );
          }
        } else {
          const since = state.since ?? now;
          state.since = undefined;
          if (state.firing) {
            state.firing = false;
            sends.push(this.#send(this.#notification("resolved", rule, report, value, since, now)));
          }
        }
      }
    }
    return Promise.all(sends);
  }

  #notification(
    status: AlertNotification["status"],
    rule: AlertRule,
    report: MonitoringReport,
    value: number | null,
    since: number,
    now: number,
  ): AlertNotification {
    return {
      status,
      rule: rule.text,
      metric: rule.metric,
      feature: rule.feature ?? null,
      threshold: rule.threshold,
      operator: rule.operator,
      value,
      model: report.model.name,
      version: report.model.version,
      variant: report.model.variant,
      since: new Date(since).toISOString(),
      at: new Date(now).toISOString(),
      values: {
        dataset_drift_share: report.dataset.share,
        online_rmse: report.online.rmse,
        online_mae: report.online.mae,
        feedback_count: report.online.count,
        window_rows: report.window.rows,
      },
    };
  }

  /** Posts one notification, retrying network errors, 429 and 5xx with exponential backoff. */
  async #send(notification: AlertNotification): Promise<DeliveryResult> {
    const webhook = this.webhook;
    const attempts = Math.max(1, webhook.attempts ?? 5);
    const base = webhook.retryBaseMs ?? 500;
    const longest = webhook.retryMaxMs ?? 30_000;
    const body = JSON.stringify(webhookBody(notification, webhook));
    const headers: Record<string, string> = {
      "content-type": "application/json",
      "user-agent": "mlops-serve",
      ...(webhook.format === "github"
        ? { accept: "application/vnd.github+json", "x-github-api-version": "2022-11-28" }
        : {}),
      ...(webhook.token !== undefined ? { authorization: `Bearer ${webhook.token}` } : {}),
      ...webhook.headers,
    };
    let error = "";
    let attempt = 0;
    for (attempt = 1; attempt <= attempts; attempt++) {
      let retry = true;
      try {
        const response = await fetch(webhook.url, {
          method: "POST",
          headers,
          body,
          signal: AbortSignal.timeout(webhook.timeoutMs ?? 10_000),
        });
        await response.arrayBuffer().catch(() => undefined);
        if (response.ok) {
          const result = { notification, delivered: true, attempts: attempt };
          this.delivered++;
          this.#onDelivery?.(result);
          return result;
        }
        error = `HTTP ${response.status}`;
        retry = response.status === 429 || response.status >= 500;
      } catch (caught) {
        error = caught instanceof Error ? caught.message : String(caught);
      }
      if (!retry || attempt === attempts) break;
      await this.#sleep(Math.min(longest, base * 2 ** (attempt - 1)));
    }
    const result = { notification, delivered: false, attempts: Math.min(attempt, attempts), error };
    this.failed++;
    this.#onDelivery?.(result);
    return result;
  }
}
