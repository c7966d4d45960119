import { getMetric, type MetricDefinition, MlopsError } from "@mlops/core";

/**
 * The `scoring` option: one metric of core's (`"rmse"`, `"r2"`, an alias such as
 * `"root_mean_squared_error"`) or several. Scores are the metric's own values (an RMSE stays
 * positive); rankings know from the metric whether greater is better.
 *
 * @example
 * const scoring: Scoring = ["rmse", "r2"];
 */
export type Scoring = string | readonly string[];

/** The metrics of a `scoring` option, by canonical name, without repeats. */
export function resolveScoring(scoring: Scoring | undefined, context: string): MetricDefinition[] {
  const names =
    scoring === undefined ? ["rmse"] : typeof scoring === "string" ? [scoring] : scoring;
  if (!Array.isArray(names) || names.length === 0) {
    throw new MlopsError(
      "argument_invalid",
      `${context}: scoring: expected a metric name or a non-empty list of names`,
    );
  }
  const out: MetricDefinition[] = [];
  for (const name of names) {
    const definition = getMetric(name);
    if (!out.some((known) => known.name === definition.name)) out.push(definition);
  }
  return out;
}

/** The metric that picks the best candidate: `refit` when it names one, else the first. */
export function refitMetric(
  metrics: readonly MetricDefinition[],
  refit: boolean | string | undefined,
  context: string,
): MetricDefinition {
  if (typeof refit !== "string") return metrics[0];
  const wanted = getMetric(refit).name;
  const found = metrics.find((metric) => metric.name === wanted);
  if (found === undefined) {
    throw new MlopsError(
      "argument_invalid",
      `${context}: refit: "${refit}" is not one of the scoring metrics ` +
        `(${metrics.map((metric) => metric.name).join(", ")})`,
    );
  }
  return found;
}

/** True when score `a` is strictly better than `b` for the metric (NaN is never better). */
export function isBetter(a: number, b: number, greaterIsBetter: boolean): boolean {
  if (Number.isNaN(a)) return false;
  if (Number.isNaN(b)) return true;
  return greaterIsBetter ? a > b : a < b;
}
