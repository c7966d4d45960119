import type { MetricDefinition, MetricInput, Registry, Run } from "@mlops/core";
import type { CandidateOutcome, Params } from "./session.js";

/** A parameter value as a tracking param (strings as they are, the rest as JSON). */
export function paramText(value: unknown): string | number | boolean {
  if (typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number") return Number.isFinite(value) ? value : String(value);
  if (value === undefined) return "undefined";
  if (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { getParams?: unknown }).getParams === "function"
  ) {
    return (value as object).constructor.name;
  }
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function paramsOf(params: Params, prefix = ""): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [name, value] of Object.entries(params)) out[`${prefix}${name}`] = paramText(value);
  return out;
}

/** What the parent run records about the search. */
export interface SearchRunInfo {
  experiment?: string;
  runName: string;
  search: string;
  estimator: string;
  params: Record<string, string | number | boolean>;
}

/**
 * Tracks a search in a registry: one parent run, and one nested run per evaluated candidate
 * (its parameters; per-fold scores and fit times with `step` = fold index; their means). Writes
 * are queued so trials never wait for the disk; `finish` waits for them.
 */
export class SearchTracker {
  readonly #registry: Registry;
  readonly #parent: Run;
  readonly #metrics: readonly MetricDefinition[];
  #queue: Promise<void> = Promise.resolve();
  #error: unknown;

  private constructor(registry: Registry, parent: Run, metrics: readonly MetricDefinition[]) {
    this.#registry = registry;
    this.#parent = parent;
    this.#metrics = metrics;
  }

  static async start(
    registry: Registry,
    info: SearchRunInfo,
    metrics: readonly MetricDefinition[],
  ): Promise<SearchTracker> {
    const parent = await registry.startRun({
      experiment: info.experiment,
      runName: info.runName,
      tags: { "mlops.search": info.search, "mlops.estimator": info.estimator },
      params: info.params,
    });
    return new SearchTracker(registry, parent, metrics);
  }

  /** Tracks into an existing parent run (a study's, shared by its workers). */
  static attach(
    registry: Registry,
    parent: Run,
    metrics: readonly MetricDefinition[],
  ): SearchTracker {
    return new SearchTracker(registry, parent, metrics);
  }

  get runId(): string {
    return this.#parent.runId;
  }

  get experimentId(): string {
    return this.#parent.experimentId;
  }

  #enqueue(write: () => Promise<void>): void {
    this.#queue = this.#queue.then(write).catch((error) => {
      this.#error ??= error;
    });
  }

  /** Queues the nested run of one candidate (`index` in `cvResults`). */
  logCandidate(index: number, outcome: CandidateOutcome, tags: Record<string, string> = {}): void {
    this.#enqueue(async () => {
      await this.writeCandidate(index, outcome, tags);
    });
  }

  /** Writes the nested run of one candidate now; answers its run id. */
  async writeCandidate(
    index: number,
    outcome: CandidateOutcome,
    tags: Record<string, string> = {},
  ): Promise<string> {
    const store = this.#registry.store;
    const parent = this.#parent;
    const run = await store.createRun({
      experimentId: parent.experimentId,
      runName: `trial-${String(index).padStart(3, "0")}`,
      parentRunId: parent.runId,
      startTime: outcome.startTime,
      tags: { "mlops.trial": String(index), ...tags },
    });
    if (Object.keys(outcome.params).length > 0) {
      await store.logParams(run.runId, paramsOf(outcome.params));
    }
    const metrics: MetricInput[] = [];
    const timestamp = outcome.endTime;
    const folds = outcome.fitTime.length;
    this.#metrics.forEach((metric, m) => {
      let sum = 0;
      for (let k = 0; k < folds; k++) {
        const value = outcome.test[m][k];
        sum += value;
        if (Number.isFinite(value)) {
          metrics.push({ key: `test_${metric.name}`, value, step: k, timestamp });
        }
        const train = outcome.train?.[m][k];
        if (train !== undefined && Number.isFinite(train)) {
          metrics.push({ key: `train_${metric.name}`, value: train, step: k, timestamp });
        }
      }
      if (Number.isFinite(sum)) {
        metrics.push({ key: `mean_test_${metric.name}`, value: sum / folds, timestamp });
      }
    });
    let fitSum = 0;
    for (let k = 0; k < folds; k++) {
      fitSum += outcome.fitTime[k];
      metrics.push({ key: "fit_time", value: outcome.fitTime[k], step: k, timestamp });
    }
    metrics.push({ key: "mean_fit_time", value: fitSum / folds, timestamp });
    await store.logMetrics(run.runId, metrics);
    const failed = outcome.errors.find((error) => error !== undefined);
    if (failed) await store.setTags(run.runId, { "mlops.error": failed.message.slice(0, 500) });
    await store.endRun(run.runId, failed ? "FAILED" : "FINISHED", outcome.endTime);
    return run.runId;
  }

  /** Waits for queued writes; throws the first that failed. */
  async flush(): Promise<void> {
    await this.#queue;
    if (this.#error !== undefined) throw this.#error;
  }

  /** Waits for queued writes, logs the best candidate on the parent run and ends it. */
  async finish(best: {
    params: Params;
    scores: Record<string, number>;
    index: number;
    refitTime?: number;
  }): Promise<void> {
    await this.flush();
    const metrics: Record<string, number> = { best_index: best.index };
    for (const [name, value] of Object.entries(best.scores)) {
      if (Number.isFinite(value)) metrics[`best_cv_${name}`] = value;
    }
    if (best.refitTime !== undefined) metrics.refit_time = best.refitTime;
    await this.#registry.store.logParams(this.#parent.runId, paramsOf(best.params, "best_"));
    await this.#registry.logMetrics(this.#parent.runId, metrics);
    await this.#registry.endRun(this.#parent.runId, "FINISHED");
  }

  /** Ends the parent run as FAILED (after the queued writes). */
  async fail(): Promise<void> {
    await this.#queue;
    await this.#registry.endRun(this.#parent.runId, "FAILED").catch(() => {});
  }
}
