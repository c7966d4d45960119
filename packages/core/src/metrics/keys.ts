import { getMetric, type MetricDefinition } from "./metrics.js";

/**
 * A stored metric key read as MLflow names evaluation metrics: the metric's own name, or that
 * name qualified by the dataset it was computed on.
 *
 * @example
 * parseMetricKey("holdout_rmse"); // { key: "holdout_rmse", metric: rmse, dataset: "holdout" }
 */
export interface MetricKey {
  /** The key as written. */
  key: string;
  /** The built-in metric it measures. */
  metric: MetricDefinition;
  /** The dataset it was computed on; undefined for a plain name (the model's own evaluation). */
  dataset: string | undefined;
}

/** MLflow's `evaluate()` key with dataset information: `<metric>_on_data_<dataset>`. */
const ON_DATA = /^(.+)_on_data_([A-Za-z0-9][\w.-]*)$/;
/** A one-word dataset before the metric: `holdout_rmse`, `cv_rmse`. */
const PREFIXED = /^([A-Za-z][A-Za-z0-9]*)_(.+)$/;

function definitionOf(name: string): MetricDefinition | undefined {
  try {
    return getMetric(name);
  } catch {
    return undefined;
  }
}

/**
 * Reads a metric key. The naming scheme, for every tool of @mlops:
 *
 * - `rmse` (or an alias such as MLflow's `root_mean_squared_error`): the metric on the model's
 *   own evaluation data — for `mlops-train`, its hold-out set, registered with the model. This
 *   is how MLflow's `evaluate()` logs a metric: under its own name.
 * - `<dataset>_<metric>` (`holdout_rmse`, `cv_rmse`) or `<metric>_on_data_<dataset>` (MLflow's
 *   dataset-qualified form): the metric on a named dataset. `cv` is the mean over
 *   cross-validation folds.
 *
 * Returns undefined for a key that is not a built-in metric in either form (`cv_rmse_std`).
 *
 * @example
 * parseMetricKey("rmse")?.dataset; // undefined
 * parseMetricKey("cv_rmse")?.dataset; // "cv"
 * parseMetricKey("r2_score_on_data_holdout")?.metric.name; // "r2"
 * parseMetricKey("cv_rmse_std"); // undefined
 */
export function parseMetricKey(key: string): MetricKey | undefined {
  if (typeof key !== "string" || key === "") return undefined;
  const plain = definitionOf(key);
  if (plain !== undefined) return { key, metric: plain, dataset: undefined };
  const onData = ON_DATA.exec(key);
  if (onData !== null) {
    const metric = definitionOf(onData[1]);
    if (metric !== undefined) return { key, metric, dataset: onData[2] };
  }
  const prefixed = PREFIXED.exec(key);
  if (prefixed !== null) {
    const metric = definitionOf(prefixed[2]);
    if (metric !== undefined) return { key, metric, dataset: prefixed[1] };
  }
  return undefined;
}

/**
 * Finds the value of metric `key` among stored `metrics`, whichever spelling of the naming
 * scheme they were stored under: the exact key first, then the metric's other names, then the
 * dataset-qualified forms. `evaluationDataset` names the dataset the plain names were computed
 * on (`"holdout"` for models from `mlops-train`): `holdout_rmse` then finds a stored `rmse`,
 * and `rmse` a stored `holdout_rmse`.
 *
 * @example
 * findMetric({ holdout_rmse: 0.7, cv_rmse: 0.8 }, "rmse", "holdout"); // { key: "holdout_rmse", value: 0.7 }
 * findMetric({ rmse: 0.7 }, "holdout_rmse", "holdout"); // { key: "rmse", value: 0.7 }
 * findMetric({ rmse: 0.7 }, "cv_rmse", "holdout"); // undefined
 */
export function findMetric(
  metrics: Readonly<Record<string, unknown>>,
  key: string,
  evaluationDataset = "holdout",
): { key: string; value: unknown } | undefined {
  if (Object.hasOwn(metrics, key)) return { key, value: metrics[key] };
  const parsed = parseMetricKey(key);
  if (parsed === undefined) return undefined;
  const names = [parsed.metric.name, ...parsed.metric.aliases];
  const qualified = (dataset: string) =>
    names.flatMap((name) => [`${dataset}_${name}`, `${name}_on_data_${dataset}`]);
  const candidates =
    parsed.dataset === undefined
      ? [...names, ...qualified(evaluationDataset)]
      : [...qualified(parsed.dataset), ...(parsed.dataset === evaluationDataset ? names : [])];
  for (const candidate of candidates) {
    if (Object.hasOwn(metrics, candidate)) return { key: candidate, value: metrics[candidate] };
  }
  return undefined;
}
