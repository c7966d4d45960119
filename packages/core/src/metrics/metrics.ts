import { MlopsError } from "../errors/error.js";
import { createRandom } from "./random.js";

/** The canonical name of a regression metric. */
export type MetricName =
  | "mse"
  | "rmse"
  | "mae"
  | "r2"
  | "mape"
  | "median_absolute_error"
  | "max_error"
  | "explained_variance";

/**
 * A regression metric: how to compute it and how to read it.
 *
 * @example
 * const definition = getMetric("r2_score");
 * definition.name; // "r2"
 * definition.greaterIsBetter; // true
 * definition.compute([3, -0.5, 2, 7], [2.5, 0, 2, 8]); // 0.9486...
 */
export interface MetricDefinition {
  /** The canonical name, used as the key in `metrics`. */
  readonly name: MetricName;
  /** Other names that `getMetric` accepts, such as MLflow's `evaluate()` metric names. */
  readonly aliases: readonly string[];
  /** True for scores (higher is better), false for errors and losses (lower is better). */
  readonly greaterIsBetter: boolean;
  /** Whether `compute` accepts `sampleWeight` (scikit-learn's `max_error` has no weights). */
  readonly supportsSampleWeight: boolean;
  /** One sentence saying what the metric measures. */
  readonly description: string;
  /**
   * Computes the metric. Throws `metric_input` for arrays of different lengths, empty arrays,
   * non-finite values, and negative or all-zero weights.
   */
  compute(
    yTrue: ArrayLike<number>,
    yPred: ArrayLike<number>,
    sampleWeight?: ArrayLike<number>,
  ): number;
}

/** Scratch buffers that a kernel may grow and reuse, so repeated calls do not allocate. */
class Workspace {
  values: Float64Array = new Float64Array(0);
  weights: Float64Array = new Float64Array(0);

  reserve(length: number): void {
    if (this.values.length < length) {
      this.values = new Float64Array(length);
      this.weights = new Float64Array(length);
    }
  }
}

/** A metric over validated inputs: same lengths, at least one row, finite values. */
type Kernel = (
  yTrue: Float64Array,
  yPred: Float64Array,
  weights: Float64Array | undefined,
  workspace: Workspace,
) => number;

// ---------------------------------------------------------------------------------------------
// Validation: done once at the boundary, so kernels run on Float64Arrays only.
// ---------------------------------------------------------------------------------------------

interface Prepared {
  yTrue: Float64Array;
  yPred: Float64Array;
  weights: Float64Array | undefined;
}

function describe(value: unknown): string {
  if (typeof value === "number") return String(value);
  if (typeof value === "string") return JSON.stringify(value);
  if (value === null || value === undefined) return String(value);
  return typeof value;
}

function isArrayLike(value: unknown): value is ArrayLike<unknown> {
  return (
    value !== null &&
    typeof value === "object" &&
    typeof (value as ArrayLike<unknown>).length === "number"
  );
}

/** Validates one input column and returns it as a Float64Array (the same one when it is one). */
function toColumn(
  values: ArrayLike<number>,
  label: string,
  expectedLength: number | undefined,
  nonNegative: boolean,
): Float64Array {
  if (!isArrayLike(values)) {
    throw new MlopsError(
      "metric_input",
      `${label}: expected an array of numbers, got ${describe(values)}`,
    );
  }
  const length = values.length;
  if (expectedLength === undefined && length === 0) {
    throw new MlopsError(
      "metric_input",
      `${label}: expected at least one value, got an empty array`,
    );
  }
  if (expectedLength !== undefined && length !== expectedLength) {
    throw new MlopsError(
      "metric_input",
      `${label}: expected ${expectedLength} values (the length of yTrue), got ${length}`,
    );
  }
  const column = values instanceof Float64Array ? values : new Float64Array(length);
  const expected = nonNegative ? "a finite number >= 0" : "a finite number";
  for (let index = 0; index < length; index++) {
    const value = values[index];
    // `value >= 0` is false for NaN, so one comparison covers both checks for weights.
    const valid =
      typeof value === "number" && Number.isFinite(value) && (!nonNegative || value >= 0);
    if (!valid) {
      throw new MlopsError(
        "metric_input",
        `${label}[${index}]: expected ${expected}, got ${describe(value)}`,
      );
    }
    if (column !== values) column[index] = value;
  }
  return column;
}

function prepare(
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
  sampleWeight: ArrayLike<number> | undefined,
): Prepared {
  const trueColumn = toColumn(yTrue, "yTrue", undefined, false);
  const predColumn = toColumn(yPred, "yPred", trueColumn.length, false);
  if (sampleWeight === undefined || sampleWeight === null) {
    return { yTrue: trueColumn, yPred: predColumn, weights: undefined };
  }
  const weights = toColumn(sampleWeight, "sampleWeight", trueColumn.length, true);
  let total = 0;
  for (let index = 0; index < weights.length; index++) total += weights[index];
  if (!(total > 0)) {
    throw new MlopsError(
      "metric_input",
      `sampleWeight: expected a positive total weight, got ${total}`,
    );
  }
  return { yTrue: trueColumn, yPred: predColumn, weights };
}

function rejectWeights(name: MetricName): never {
  throw new MlopsError(
    "metric_input",
    `sampleWeight: expected no weights for ${name}, which does not support them (as in ` +
      "scikit-learn), got an array",
  );
}

// ---------------------------------------------------------------------------------------------
// Kernels. Each follows scikit-learn's formula for one output (np.average = Σ w·x / Σ w).
// ---------------------------------------------------------------------------------------------

const meanSquaredKernel: Kernel = (yTrue, yPred, weights) => {
  const length = yTrue.length;
  let sum = 0;
  if (weights === undefined) {
    for (let index = 0; index < length; index++) {
      const difference = yTrue[index] - yPred[index];
      sum += difference * difference;
    }
    return sum / length;
  }
  let totalWeight = 0;
  for (let index = 0; index < length; index++) {
    const difference = yTrue[index] - yPred[index];
    sum += difference * difference * weights[index];
    totalWeight += weights[index];
  }
  return sum / totalWeight;
};

const rootMeanSquaredKernel: Kernel = (yTrue, yPred, weights, workspace) =>
  Math.sqrt(meanSquaredKernel(yTrue, yPred, weights, workspace));

const meanAbsoluteKernel: Kernel = (yTrue, yPred, weights) => {
  const length = yTrue.length;
  let sum = 0;
  if (weights === undefined) {
    for (let index = 0; index < length; index++) sum += Math.abs(yPred[index] - yTrue[index]);
    return sum / length;
  }
  let totalWeight = 0;
  for (let index = 0; index < length; index++) {
    sum += Math.abs(yPred[index] - yTrue[index]) * weights[index];
    totalWeight += weights[index];
  }
  return sum / totalWeight;
};

/** np.finfo(np.float64).eps, the floor scikit-learn puts under |y| in MAPE's denominator. */
const mapeEpsilon = Number.EPSILON;

const meanAbsolutePercentageKernel: Kernel = (yTrue, yPred, weights) => {
  const length = yTrue.length;
  let sum = 0;
  let totalWeight = 0;
  for (let index = 0; index < length; index++) {
    const actual = yTrue[index];
    const ratio = Math.abs(yPred[index] - actual) / Math.max(Math.abs(actual), mapeEpsilon);
    if (weights === undefined) sum += ratio;
    else {
      sum += ratio * weights[index];
      totalWeight += weights[index];
    }
  }
  return weights === undefined ? sum / length : sum / totalWeight;
};

/**
 * Weighted mean of `values` (or of `values - offsets` when offsets are given). When every
 * weighted value is identical the mean is returned exactly, so that the spread around it is
 * exactly zero: a float sum like 0.1 + 0.1 + 0.1 would otherwise leave a 1e-17 residue and turn
 * scikit-learn's "constant y_true" branch into a huge negative score.
 */
function centre(
  values: Float64Array,
  offsets: Float64Array | undefined,
  weights: Float64Array | undefined,
): number {
  const length = values.length;
  let sum = 0;
  let totalWeight = 0;
  let first = Number.NaN;
  let constant = true;
  for (let index = 0; index < length; index++) {
    const weight = weights === undefined ? 1 : weights[index];
    const value = offsets === undefined ? values[index] : values[index] - offsets[index];
    sum += value * weight;
    totalWeight += weight;
    if (weight > 0) {
      if (Number.isNaN(first)) first = value;
      else if (value !== first) constant = false;
    }
  }
  return constant ? first : sum / totalWeight;
}

/** scikit-learn's `_assemble_r2_explained_variance` for one output with force_finite=True. */
function assembleScore(numerator: number, denominator: number): number {
  if (numerator === 0) return 1;
  if (denominator === 0) return 0;
  return 1 - numerator / denominator;
}

const r2Kernel: Kernel = (yTrue, yPred, weights) => {
  const length = yTrue.length;
  // scikit-learn warns and returns NaN: R² is not well-defined with fewer than two samples.
  if (length < 2) return Number.NaN;
  const mean = centre(yTrue, undefined, weights);
  // Only a bootstrap resample can reach this: all of its drawn rows have weight zero.
  if (Number.isNaN(mean)) return Number.NaN;
  let numerator = 0;
  let denominator = 0;
  for (let index = 0; index < length; index++) {
    const weight = weights === undefined ? 1 : weights[index];
    const residual = yTrue[index] - yPred[index];
    const deviation = yTrue[index] - mean;
    numerator += weight * (residual * residual);
    denominator += weight * (deviation * deviation);
  }
  return assembleScore(numerator, denominator);
};

const explainedVarianceKernel: Kernel = (yTrue, yPred, weights) => {
  const length = yTrue.length;
  const residualMean = centre(yTrue, yPred, weights);
  const trueMean = centre(yTrue, undefined, weights);
  let numerator = 0;
  let denominator = 0;
  let totalWeight = 0;
  for (let index = 0; index < length; index++) {
    const weight = weights === undefined ? 1 : weights[index];
    const residual = yTrue[index] - yPred[index] - residualMean;
    const deviation = yTrue[index] - trueMean;
    numerator += residual * residual * weight;
    denominator += deviation * deviation * weight;
    totalWeight += weight;
  }
  return assembleScore(numerator / totalWeight, denominator / totalWeight);
};

const maxErrorKernel: Kernel = (yTrue, yPred) => {
  const length = yTrue.length;
  let largest = 0;
  for (let index = 0; index < length; index++) {
    const error = Math.abs(yTrue[index] - yPred[index]);
    if (error > largest) largest = error;
  }
  return largest;
};

const medianAbsoluteKernel: Kernel = (yTrue, yPred, weights, workspace) => {
  const length = yTrue.length;
  workspace.reserve(length);
  const errors = workspace.values;
  for (let index = 0; index < length; index++)
    errors[index] = Math.abs(yPred[index] - yTrue[index]);
  if (weights === undefined) return median(errors, length);
  const sortedWeights = workspace.weights;
  sortedWeights.set(weights);
  return averagedWeightedMedian(errors, sortedWeights, length);
};

/** np.median of values[0, length): the middle value, or the mean of the two middle values. */
function median(values: Float64Array, length: number): number {
  const middle = (length - 1) >>> 1;
  const lower = selectInPlace(values, length, middle);
  if (length % 2 === 1) return lower;
  // selectInPlace leaves everything after `middle` >= values[middle]; the next order statistic
  // is the smallest of them.
  let upper = values[middle + 1];
  for (let index = middle + 2; index < length; index++) {
    if (values[index] < upper) upper = values[index];
  }
  return (lower + upper) / 2;
}

/** Hoare quickselect: reorders values[0, length) so values[k] is the k-th smallest; returns it. */
function selectInPlace(values: Float64Array, length: number, k: number): number {
  let left = 0;
  let right = length - 1;
  while (right > left) {
    const pivot = medianOfThree(values[left], values[(left + right) >>> 1], values[right]);
    let i = left;
    let j = right;
    while (i <= j) {
      while (values[i] < pivot) i++;
      while (values[j] > pivot) j--;
      if (i <= j) {
        const swap = values[i];
        values[i] = values[j];
        values[j] = swap;
        i++;
        j--;
      }
    }
    // Now values[left..j] <= pivot <= values[i..right] and everything in between equals pivot.
    if (k <= j) right = j;
    else if (k >= i) left = i;
    else return values[k];
  }
  return values[k];
}

function medianOfThree(a: number, b: number, c: number): number {
  return Math.max(Math.min(a, b), Math.min(Math.max(a, b), c));
}

/**
 * scikit-learn's weighted median (`_weighted_percentile` at rank 50 with averaging, i.e.
 * numpy's "averaged_inverted_cdf"): the mean of the smallest value whose cumulative weight from
 * below reaches half the total and the largest value whose cumulative weight from above does.
 * With equal weights this is np.median. Sorts `values` and `weights` together in place.
 */
function averagedWeightedMedian(values: Float64Array, weights: Float64Array, length: number) {
  sortTogether(values, weights, 0, length - 1);
  // Cumulative sums run in the same order as np.cumsum over the sorted (or reversed) weights.
  let total = 0;
  for (let index = 0; index < length; index++) total += weights[index];
  if (!(total > 0)) return Number.NaN;
  let threshold = 0.5 * total;
  let cumulative = 0;
  let lower = values[length - 1];
  for (let index = 0; index < length; index++) {
    cumulative += weights[index];
    if (cumulative >= threshold) {
      lower = values[index];
      break;
    }
  }
  total = 0;
  for (let index = length - 1; index >= 0; index--) total += weights[index];
  threshold = 0.5 * total;
  cumulative = 0;
  let upper = values[0];
  for (let index = length - 1; index >= 0; index--) {
    cumulative += weights[index];
    if (cumulative >= threshold) {
      upper = values[index];
      break;
    }
  }
  return (lower + upper) / 2;
}

/** Quicksort of keys[left..right] ascending, moving weights with their keys. */
function sortTogether(keys: Float64Array, weights: Float64Array, left: number, right: number) {
  while (right - left > 16) {
    const pivot = medianOfThree(keys[left], keys[(left + right) >>> 1], keys[right]);
    let i = left;
    let j = right;
    while (i <= j) {
      while (keys[i] < pivot) i++;
      while (keys[j] > pivot) j--;
      if (i <= j) {
        const key = keys[i];
        keys[i] = keys[j];
        keys[j] = key;
        const weight = weights[i];
        weights[i] = weights[j];
        weights[j] = weight;
        i++;
        j--;
      }
    }
    // Recurse into the smaller side and loop on the larger, so the stack stays O(log n).
    if (j - left < right - i) {
      sortTogether(keys, weights, left, j);
      left = i;
    } else {
      sortTogether(keys, weights, i, right);
      right = j;
    }
  }
  for (let index = left + 1; index <= right; index++) {
    const key = keys[index];
    const weight = weights[index];
    let position = index - 1;
    while (position >= left && keys[position] > key) {
      keys[position + 1] = keys[position];
      weights[position + 1] = weights[position];
      position--;
    }
    keys[position + 1] = key;
    weights[position + 1] = weight;
  }
}

// ---------------------------------------------------------------------------------------------
// Public metric functions.
// ---------------------------------------------------------------------------------------------

function run(
  kernel: Kernel,
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
  sampleWeight: ArrayLike<number> | undefined,
): number {
  const input = prepare(yTrue, yPred, sampleWeight);
  return kernel(input.yTrue, input.yPred, input.weights, new Workspace());
}

/**
 * Mean squared error, `Σ w·(y − ŷ)² / Σ w` (scikit-learn's `mean_squared_error`).
 *
 * @example
 * mse([3, -0.5, 2, 7], [2.5, 0, 2, 8]); // 0.375
 */
export function mse(
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
  sampleWeight?: ArrayLike<number>,
): number {
  return run(meanSquaredKernel, yTrue, yPred, sampleWeight);
}

/**
 * Root mean squared error, the square root of `mse` (scikit-learn's `root_mean_squared_error`).
 *
 * @example
 * rmse([3, -0.5, 2, 7], [2.5, 0, 2, 8]); // 0.6123...
 */
export function rmse(
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
  sampleWeight?: ArrayLike<number>,
): number {
  return run(rootMeanSquaredKernel, yTrue, yPred, sampleWeight);
}

/**
 * Mean absolute error, `Σ w·|y − ŷ| / Σ w` (scikit-learn's `mean_absolute_error`).
 *
 * @example
 * mae([3, -0.5, 2, 7], [2.5, 0, 2, 8]); // 0.5
 */
export function mae(
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
  sampleWeight?: ArrayLike<number>,
): number {
  return run(meanAbsoluteKernel, yTrue, yPred, sampleWeight);
}

/**
 * Coefficient of determination R² (scikit-learn's `r2_score`, `force_finite=True`): 1 for a
 * perfect fit, 0 for predicting the mean. When `yTrue` is constant it is 1 if the predictions
 * are perfect and 0 otherwise; with fewer than two rows it is NaN, as in scikit-learn.
 *
 * @example
 * r2([3, -0.5, 2, 7], [2.5, 0, 2, 8]); // 0.9486...
 * r2([-2, -2, -2], [-2, -2, -1.99999999]); // 0
 */
export function r2(
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
  sampleWeight?: ArrayLike<number>,
): number {
  return run(r2Kernel, yTrue, yPred, sampleWeight);
}

/**
 * Mean absolute percentage error as a fraction, not a percent (scikit-learn's
 * `mean_absolute_percentage_error`): `Σ w·|y − ŷ| / max(|y|, ε) / Σ w` with ε = 2.22e-16, so a
 * zero in `yTrue` gives a huge but finite value.
 *
 * @example
 * mape([3, -0.5, 2, 7], [2.5, 0, 2, 8]); // 0.3273...
 */
export function mape(
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
  sampleWeight?: ArrayLike<number>,
): number {
  return run(meanAbsolutePercentageKernel, yTrue, yPred, sampleWeight);
}

/**
 * Median absolute error (scikit-learn's `median_absolute_error`). With weights it is the
 * weighted median that scikit-learn computes ("averaged inverted CDF"), which equals the plain
 * median when all weights are equal.
 *
 * @example
 * medianAbsoluteError([3, -0.5, 2, 7], [2.5, 0, 2, 8]); // 0.5
 */
export function medianAbsoluteError(
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
  sampleWeight?: ArrayLike<number>,
): number {
  return run(medianAbsoluteKernel, yTrue, yPred, sampleWeight);
}

/**
 * The largest absolute error (scikit-learn's `max_error`). Takes no weights, as in
 * scikit-learn: passing `sampleWeight` throws `metric_input`.
 *
 * @example
 * maxError([3, 2, 7, 1], [4, 2, 7, 1]); // 1
 */
export function maxError(
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
  sampleWeight?: ArrayLike<number>,
): number {
  if (sampleWeight !== undefined && sampleWeight !== null) rejectWeights("max_error");
  return run(maxErrorKernel, yTrue, yPred, undefined);
}

/**
 * Explained variance score, `1 − Var(y − ŷ) / Var(y)` (scikit-learn's `explained_variance_score`,
 * `force_finite=True`). Unlike R² it ignores a constant bias in the predictions.
 *
 * @example
 * explainedVariance([3, -0.5, 2, 7], [2.5, 0, 2, 8]); // 0.9571...
 */
export function explainedVariance(
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
  sampleWeight?: ArrayLike<number>,
): number {
  return run(explainedVarianceKernel, yTrue, yPred, sampleWeight);
}

// ---------------------------------------------------------------------------------------------
// Registry.
// ---------------------------------------------------------------------------------------------

interface MetricSpec {
  name: MetricName;
  aliases: readonly string[];
  greaterIsBetter: boolean;
  supportsSampleWeight: boolean;
  description: string;
  kernel: Kernel;
  compute: MetricDefinition["compute"];
}

const specs: readonly MetricSpec[] = [
  {
    name: "mse",
    aliases: ["mean_squared_error"],
    greaterIsBetter: false,
    supportsSampleWeight: true,
    description:
      "Mean squared error: the average squared difference between target and prediction.",
    kernel: meanSquaredKernel,
    compute: mse,
  },
  {
    name: "rmse",
    aliases: ["root_mean_squared_error"],
    greaterIsBetter: false,
    supportsSampleWeight: true,
    description: "Root mean squared error: the square root of the mean squared error.",
    kernel: rootMeanSquaredKernel,
    compute: rmse,
  },
  {
    name: "mae",
    aliases: ["mean_absolute_error"],
    greaterIsBetter: false,
    supportsSampleWeight: true,
    description:
      "Mean absolute error: the average absolute difference between target and prediction.",
    kernel: meanAbsoluteKernel,
    compute: mae,
  },
  {
    name: "r2",
    aliases: ["r2_score"],
    greaterIsBetter: true,
    supportsSampleWeight: true,
    description:
      "Coefficient of determination: the share of the target's variance that is explained.",
    kernel: r2Kernel,
    compute: r2,
  },
  {
    name: "mape",
    aliases: ["mean_absolute_percentage_error"],
    greaterIsBetter: false,
    supportsSampleWeight: true,
    description: "Mean absolute percentage error, as a fraction of |target| (0.1 means 10%).",
    kernel: meanAbsolutePercentageKernel,
    compute: mape,
  },
  {
    name: "median_absolute_error",
    aliases: [],
    greaterIsBetter: false,
    supportsSampleWeight: true,
    description: "Median absolute error: the middle absolute error, robust to outliers.",
    kernel: medianAbsoluteKernel,
    compute: medianAbsoluteError,
  },
  {
    name: "max_error",
    aliases: [],
    greaterIsBetter: false,
    supportsSampleWeight: false,
    description: "Max error: the largest absolute difference between target and prediction.",
    kernel: maxErrorKernel,
    compute: maxError,
  },
  {
    name: "explained_variance",
    aliases: ["explained_variance_score"],
    greaterIsBetter: true,
    supportsSampleWeight: true,
    description:
      "Explained variance: 1 minus the variance of the residuals over that of the target.",
    kernel: explainedVarianceKernel,
    compute: explainedVariance,
  },
];

const kernels = new Map<MetricName, Kernel>(specs.map((spec) => [spec.name, spec.kernel]));

/**
 * Every metric definition by canonical name.
 *
 * @example
 * metrics.rmse.greaterIsBetter; // false
 * metrics.r2.compute([1, 2, 3], [1, 2, 3]); // 1
 */
export const metrics: Readonly<Record<MetricName, MetricDefinition>> = Object.freeze(
  Object.fromEntries(
    specs.map((spec) => [
      spec.name,
      Object.freeze({
        name: spec.name,
        aliases: Object.freeze([...spec.aliases]),
        greaterIsBetter: spec.greaterIsBetter,
        supportsSampleWeight: spec.supportsSampleWeight,
        description: spec.description,
        compute: spec.compute,
      }),
    ]),
  ) as Record<MetricName, MetricDefinition>,
);

/**
 * The canonical metric names, in a fixed order.
 *
 * @example
 * metricNames; // ["mse", "rmse", "mae", "r2", "mape", "median_absolute_error", ...]
 */
export const metricNames: readonly MetricName[] = Object.freeze(specs.map((spec) => spec.name));

const byNameOrAlias = new Map<string, MetricDefinition>();
for (const name of metricNames) {
  const definition = metrics[name];
  byNameOrAlias.set(name, definition);
  for (const alias of definition.aliases) byNameOrAlias.set(alias, definition);
}

/**
 * Looks a metric up by canonical name or alias (case-sensitive). Throws `metric_unknown`,
 * listing the known names, for anything else.
 *
 * @example
 * getMetric("mean_squared_error").name; // "mse"
 * getMetric("neg_mean_squared_error"); // throws MlopsError { code: "metric_unknown" }
 */
export function getMetric(nameOrAlias: string): MetricDefinition {
  const definition = typeof nameOrAlias === "string" ? byNameOrAlias.get(nameOrAlias) : undefined;
  if (definition === undefined) {
    const aliases = metricNames.flatMap((name) => metrics[name].aliases);
    throw new MlopsError(
      "metric_unknown",
      `Unknown metric ${describe(nameOrAlias)}: expected one of ${metricNames.join(", ")} ` +
        `or an alias (${aliases.join(", ")})`,
    );
  }
  return definition;
}

/**
 * Computes several metrics over the same rows, validating the inputs once. Keys of the result
 * are the names as given (an alias stays an alias). By default computes every metric, or, when
 * `sampleWeight` is given, every metric that supports weights; naming `max_error` together with
 * weights throws `metric_input`.
 *
 * @example
 * computeMetrics([3, -0.5, 2, 7], [2.5, 0, 2, 8], ["mse", "r2_score"]);
 * // { mse: 0.375, r2_score: 0.9486... }
 */
export function computeMetrics(
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
  names?: readonly string[],
  sampleWeight?: ArrayLike<number>,
): Record<string, number> {
  const weighted = sampleWeight !== undefined && sampleWeight !== null;
  const requested =
    names ??
    (weighted ? metricNames.filter((name) => metrics[name].supportsSampleWeight) : metricNames);
  const definitions = requested.map((name) => getMetric(name));
  if (weighted) {
    for (const definition of definitions) {
      if (!definition.supportsSampleWeight) rejectWeights(definition.name);
    }
  }
  const input = prepare(yTrue, yPred, sampleWeight);
  const workspace = new Workspace();
  const result: Record<string, number> = {};
  for (let index = 0; index < requested.length; index++) {
    const kernel = kernels.get(definitions[index].name)!;
    result[requested[index]] = kernel(input.yTrue, input.yPred, input.weights, workspace);
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Bootstrap.
// ---------------------------------------------------------------------------------------------

/** Options for `bootstrapInterval`. */
export interface BootstrapOptions {
  /** How many resamples to draw (default 1000). */
  resamples?: number;
  /** The central coverage of the interval, in (0, 1) (default 0.95). */
  confidence?: number;
  /** Seed of the row sampler; the same seed gives the same interval (default 0). */
  seed?: number;
  /** Row weights, resampled along with their rows. */
  sampleWeight?: ArrayLike<number>;
}

/** A percentile bootstrap confidence interval around a metric. */
export interface BootstrapInterval {
  /** The metric on all rows. */
  estimate: number;
  /** The (1 − confidence) / 2 percentile of the resampled metric. */
  lower: number;
  /** The (1 + confidence) / 2 percentile of the resampled metric. */
  upper: number;
  confidence: number;
  resamples: number;
}

/**
 * The q-quantile (q in [0, 1]) of sorted values by linear interpolation, as numpy's default
 * `method="linear"` computes it, including its two-sided interpolation formula.
 */
function quantileOfSorted(sorted: Float64Array, q: number): number {
  const last = sorted.length - 1;
  if (Number.isNaN(sorted[last])) return Number.NaN;
  const position = q * last;
  const below = Math.floor(position);
  if (below >= last) return sorted[last];
  const fraction = position - below;
  const a = sorted[below];
  const b = sorted[below + 1];
  const difference = b - a;
  return fraction >= 0.5 ? b - difference * (1 - fraction) : a + difference * fraction;
}

/**
 * A percentile bootstrap confidence interval for a metric: resamples rows with replacement,
 * computes the metric on each resample, and takes the (1 ± confidence) / 2 percentiles (numpy's
 * linear interpolation). Seeded and reproducible; the buffers for indices, resampled rows and
 * metric values are allocated once, not per resample. A resample whose metric is NaN (R² of a
 * single row, an all-zero resampled weight) makes the bounds NaN, as numpy's percentile would.
 *
 * @param metric - a metric name or alias, or a definition (a custom one is called through
 *   its `compute`).
 * @example
 * const interval = bootstrapInterval(yTrue, yPred, "mae", { resamples: 2000, seed: 7 });
 * // e.g. { estimate: 0.41, lower: 0.37, upper: 0.45, confidence: 0.95, resamples: 2000 }
 */
export function bootstrapInterval(
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
  metric: string | MetricDefinition,
  options: BootstrapOptions = {},
): BootstrapInterval {
  const { resamples = 1000, confidence = 0.95, seed = 0, sampleWeight } = options;
  if (!Number.isSafeInteger(resamples) || resamples < 1) {
    throw new MlopsError(
      "argument_invalid",
      `resamples: expected a positive integer, got ${describe(resamples)}`,
    );
  }
  if (typeof confidence !== "number" || !(confidence > 0 && confidence < 1)) {
    throw new MlopsError(
      "argument_invalid",
      `confidence: expected a number between 0 and 1 (exclusive), got ${describe(confidence)}`,
    );
  }
  if (typeof metric !== "string" && typeof metric?.compute !== "function") {
    throw new MlopsError(
      "metric_unknown",
      `metric: expected a metric name, alias or definition, got ${describe(metric)}`,
    );
  }
  const definition = typeof metric === "string" ? getMetric(metric) : metric;
  const builtIn = metrics[definition.name] === definition;
  const weighted = sampleWeight !== undefined && sampleWeight !== null;
  if (weighted && builtIn && !definition.supportsSampleWeight) rejectWeights(definition.name);
  const random = createRandom(seed);

  const input = prepare(yTrue, yPred, sampleWeight);
  const length = input.yTrue.length;
  const workspace = new Workspace();
  const kernel: Kernel = builtIn
    ? kernels.get(definition.name)!
    : (sampleTrue, samplePred, sampleWeights) =>
        definition.compute(sampleTrue, samplePred, sampleWeights);

  const estimate = kernel(input.yTrue, input.yPred, input.weights, workspace);
  const rows = new Int32Array(length);
  const sampleTrue = new Float64Array(length);
  const samplePred = new Float64Array(length);
  const sampleWeights = input.weights === undefined ? undefined : new Float64Array(length);
  const values = new Float64Array(resamples);
  for (let resample = 0; resample < resamples; resample++) {
    for (let index = 0; index < length; index++) rows[index] = random.int(length);
    for (let index = 0; index < length; index++) {
      const row = rows[index];
      sampleTrue[index] = input.yTrue[row];
      samplePred[index] = input.yPred[row];
    }
    if (sampleWeights !== undefined && input.weights !== undefined) {
      for (let index = 0; index < length; index++)
        sampleWeights[index] = input.weights[rows[index]];
    }
    values[resample] = kernel(sampleTrue, samplePred, sampleWeights, workspace);
  }
  // Typed-array sort is numeric and puts NaN last, which quantileOfSorted checks for.
  values.sort();
  const tail = (1 - confidence) / 2;
  return {
    estimate,
    lower: quantileOfSorted(values, tail),
    upper: quantileOfSorted(values, 1 - tail),
    confidence,
    resamples,
  };
}
