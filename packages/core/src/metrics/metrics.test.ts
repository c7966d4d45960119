import { describe, expect, it } from "vitest";
import { MlopsError } from "../errors/error.js";
import {
  bootstrapInterval,
  computeMetrics,
  explainedVariance,
  getMetric,
  type MetricDefinition,
  mae,
  mape,
  maxError,
  medianAbsoluteError,
  metricNames,
  metrics,
  mse,
  r2,
  rmse,
} from "./metrics.js";
import { createRandom } from "./random.js";

function caught(action: () => unknown): MlopsError {
  try {
    action();
  } catch (error) {
    if (MlopsError.isInstance(error)) return error;
    throw error;
  }
  throw new Error("expected an MlopsError, but nothing was thrown");
}

// The example used throughout scikit-learn's regression-metric docstrings.
const yTrue = [3, -0.5, 2, 7];
const yPred = [2.5, 0.0, 2, 8];
const weights = [1, 2, 3, 4];

/** Rows with uniform(-1, 1) noise on targets in [0, 10), from a fixed seed. */
function noisyRows(rows: number, seed: number): { yTrue: Float64Array; yPred: Float64Array } {
  const random = createRandom(seed);
  const truth = new Float64Array(rows);
  const prediction = new Float64Array(rows);
  for (let index = 0; index < rows; index++) {
    truth[index] = random.next() * 10;
    prediction[index] = truth[index] + (random.next() * 2 - 1);
  }
  return { yTrue: truth, yPred: prediction };
}

describe("regression metrics: scikit-learn docstring values", () => {
  // Residuals y − ŷ = [0.5, −0.5, 0, −1].

  it("mse: (0.25 + 0.25 + 0 + 1) / 4 = 0.375", () => {
    expect(mse(yTrue, yPred)).toBe(0.375);
  });

  it("rmse: √0.375 = 0.6123724356957945 (docstring 0.612...)", () => {
    expect(rmse(yTrue, yPred)).toBeCloseTo(0.6123724356957945, 15);
  });

  it("mae: (0.5 + 0.5 + 0 + 1) / 4 = 0.5", () => {
    expect(mae(yTrue, yPred)).toBe(0.5);
  });

  it("r2: ȳ = 11.5 / 4 = 2.875, SS_tot = 29.1875, 1 − 1.5 / 29.1875 = 0.948608...", () => {
    // SS_tot = 0.125² + 3.375² + 0.875² + 4.125² = 0.015625 + 11.390625 + 0.765625 + 17.015625.
    expect(r2(yTrue, yPred)).toBeCloseTo(0.9486081370449679, 14);
  });

  it("explained variance: mean residual −0.25, 1 − 0.3125 / 7.296875 = 0.957173...", () => {
    // Centred residuals [0.75, −0.25, 0.25, −0.75]: variance (0.5625 + 0.0625) · 2 / 4 = 0.3125.
    // Var(y) = 29.1875 / 4 = 7.296875.
    expect(explainedVariance(yTrue, yPred)).toBeCloseTo(0.9571734475374732, 14);
  });

  it("median absolute error: sorted |errors| [0, 0.5, 0.5, 1] → (0.5 + 0.5) / 2 = 0.5", () => {
    expect(medianAbsoluteError(yTrue, yPred)).toBe(0.5);
  });

  it("max error([3, 2, 7, 1], [4, 2, 7, 1]) = 1", () => {
    expect(maxError([3, 2, 7, 1], [4, 2, 7, 1])).toBe(1);
  });

  it("mape: (0.5/3 + 0.5/0.5 + 0/2 + 1/7) / 4 = 0.327380952...", () => {
    expect(mape(yTrue, yPred)).toBeCloseTo(0.3273809523809524, 15);
    // Docstring: [1, 10, 1e6] vs [0.9, 15, 1.2e6] → (0.1 + 0.5 + 0.2) / 3 = 0.2666...
    expect(mape([1, 10, 1e6], [0.9, 15, 1.2e6])).toBeCloseTo(0.26666666666666666, 14);
    // Docstring: a zero target divides by ε = 2.22e-16: (0.2 + 0.1/ε + 0 + 1/7) / 4.
    expect(mape([1, 0, 2.4, 7], [1.2, 0.1, 2.4, 8]) / 112589990684262.48).toBeCloseTo(1, 12);
  });

  it("r2 docstring cases: perfect, mean predictor, reversed", () => {
    expect(r2([1, 2, 3], [1, 2, 3])).toBe(1);
    expect(r2([1, 2, 3], [2, 2, 2])).toBe(0);
    // SS_res = 4 + 0 + 4 = 8, SS_tot = 2 → 1 − 4 = −3.
    expect(r2([1, 2, 3], [3, 2, 1])).toBe(-3);
  });
});

describe("regression metrics: edge cases", () => {
  it("r2 and explained variance with a constant yTrue: 1 if perfect, else 0", () => {
    // scikit-learn docstring: r2_score([-2, -2, -2], [-2, -2, -2 + 1e-8]) == 0.0.
    expect(r2([-2, -2, -2], [-2, -2, -2])).toBe(1);
    expect(r2([-2, -2, -2], [-2, -2, -2 + 1e-8])).toBe(0);
    expect(explainedVariance([-2, -2, -2], [-2, -2, -2])).toBe(1);
    expect(explainedVariance([-2, -2, -2], [-2, -2, -2 + 1e-8])).toBe(0);
  });

  it("treats a constant yTrue as constant even when its float mean is not exact", () => {
    // 0.1 + 0.1 + 0.1 = 0.30000000000000004, so a plain mean leaves a 1e-17 spread behind.
    expect(r2([0.1, 0.1, 0.1], [0.1, 0.1, 0.1])).toBe(1);
    expect(r2([0.1, 0.1, 0.1], [0.2, 0.2, 0.2])).toBe(0);
    expect(explainedVariance([0.1, 0.1, 0.1], [0.2, 0.3, 0.2])).toBe(0);
    // A constant offset leaves residuals with zero variance: explained variance is 1.
    expect(explainedVariance([0.1, 0.7, 0.3], [0.2, 0.8, 0.4])).toBe(1);
  });

  it("ignores zero-weight rows when deciding that yTrue is constant", () => {
    // Weighted ȳ = 1, so SS_tot = 1·0 + 1·0 + 0·16 = 0 while SS_res = 1 → 0.
    expect(r2([1, 1, 5], [1, 2, 0], [1, 1, 0])).toBe(0);
    expect(r2([1, 1, 5], [1, 1, 0], [1, 1, 0])).toBe(1);
  });

  it("r2 is NaN for a single row, as scikit-learn returns", () => {
    expect(r2([1], [2])).toBeNaN();
    expect(explainedVariance([1], [2])).toBe(1);
  });

  it("explained variance ignores a constant bias that r2 penalises", () => {
    // Residuals all −1: zero variance → 1. R²: SS_res = 3, SS_tot = 2 → 1 − 1.5 = −0.5.
    expect(explainedVariance([1, 2, 3], [2, 3, 4])).toBe(1);
    expect(r2([1, 2, 3], [2, 3, 4])).toBe(-0.5);
  });

  it("median absolute error of odd and even counts, any order", () => {
    expect(medianAbsoluteError([0, 0, 0], [5, -1, 3])).toBe(3);
    expect(medianAbsoluteError([0, 0, 0, 0], [4, -1, 3, 2])).toBe(2.5);
    expect(medianAbsoluteError([7], [4])).toBe(3);
  });

  it("median absolute error matches a sort-based median on large data with ties", () => {
    const random = createRandom(11);
    for (const rows of [1000, 1001, 4096]) {
      const truth = new Float64Array(rows);
      const prediction = new Float64Array(rows);
      // Errors are multiples of 0.25 in [0, 10), so there are many ties.
      for (let index = 0; index < rows; index++) prediction[index] = random.int(40) / 4;
      const sorted = Array.from(prediction).sort((a, b) => a - b);
      const middle = Math.floor(rows / 2);
      const expected = rows % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
      expect(medianAbsoluteError(truth, prediction)).toBe(expected);
    }
  });

  it("does not modify its inputs", () => {
    const truth = new Float64Array([5, 1, 4, 2, 3]);
    const prediction = new Float64Array([0, 0, 0, 0, 0]);
    const weight = new Float64Array([1, 3, 1, 2, 1]);
    medianAbsoluteError(truth, prediction, weight);
    medianAbsoluteError(truth, prediction);
    expect(Array.from(truth)).toEqual([5, 1, 4, 2, 3]);
    expect(Array.from(weight)).toEqual([1, 3, 1, 2, 1]);
  });
});

describe("regression metrics: sample weights", () => {
  // Weights [1, 2, 3, 4], total 10. Residuals [0.5, −0.5, 0, −1].

  it("mse: (1·0.25 + 2·0.25 + 3·0 + 4·1) / 10 = 0.475", () => {
    expect(mse(yTrue, yPred, weights)).toBeCloseTo(0.475, 15);
    expect(rmse(yTrue, yPred, weights)).toBeCloseTo(Math.sqrt(0.475), 15);
  });

  it("mae: (0.5 + 1 + 0 + 4) / 10 = 0.55", () => {
    expect(mae(yTrue, yPred, weights)).toBeCloseTo(0.55, 15);
  });

  it("mape: (1·(1/6) + 2·1 + 3·0 + 4·(1/7)) / 10 = 0.273809...", () => {
    expect(mape(yTrue, yPred, weights)).toBeCloseTo((1 / 6 + 2 + 4 / 7) / 10, 15);
  });

  it("r2: weighted ȳ = 3.6, SS_res = 4.75, SS_tot = 87.9 → 0.945961...", () => {
    // SS_tot = 1·0.6² + 2·4.1² + 3·1.6² + 4·3.4² = 0.36 + 33.62 + 7.68 + 46.24 = 87.9.
    expect(r2(yTrue, yPred, weights)).toBeCloseTo(1 - 4.75 / 87.9, 14);
  });

  it("explained variance: mean residual −0.45, 1 − 0.2725 / 8.79 = 0.968998...", () => {
    // Centred residuals [0.95, −0.05, 0.45, −0.55]; weighted squares 0.9025 + 0.005 + 0.6075 +
    // 1.21 = 2.725, /10 = 0.2725. Var(y) = 87.9 / 10 = 8.79.
    expect(explainedVariance(yTrue, yPred, weights)).toBeCloseTo(1 - 0.2725 / 8.79, 14);
  });

  it("weighted median is scikit-learn's averaged inverted CDF", () => {
    // |errors| [1, 2, 3, 4], weights [3, 1, 1, 1], half the total = 3. From below the cumulative
    // weight reaches 3 at 1; from above (1, 2, 3) at 2. Mean (1 + 2) / 2 = 1.5.
    // numpy: (quantile(a, .5, weights=w, method="inverted_cdf") − quantile(−a, …)) / 2 = 1.5.
    const zeros = [0, 0, 0, 0];
    expect(medianAbsoluteError(zeros, [1, 2, 3, 4], [3, 1, 1, 1])).toBe(1.5);
    // From below 1, 2, 3 reaches 3 at 3; from above the 4 alone carries 3. (3 + 4) / 2 = 3.5.
    expect(medianAbsoluteError(zeros, [1, 2, 3, 4], [1, 1, 1, 3])).toBe(3.5);
    // Equal weights give np.median, 2.5 (older scikit-learn gave the lower middle value, 2).
    expect(medianAbsoluteError(zeros, [1, 2, 3, 4], [1, 1, 1, 1])).toBe(2.5);
    expect(medianAbsoluteError(yTrue, yPred, weights)).toBe(0.5);
  });

  it("matches numpy on a data set with fractional and zero weights", () => {
    // Reference values from numpy's np.average and weighted np.quantile on the same rows.
    const truth = [1, 4, 2, 8, 5, 7, 3];
    const prediction = [1.5, 3, 2.5, 10, 5.25, 6, 0];
    const weight = [0.5, 2, 1, 0, 3, 1, 0.25];
    expect(mse(truth, prediction, weight)).toBeCloseTo(0.75, 14);
    expect(mae(truth, prediction, weight)).toBeCloseTo(0.6774193548387096, 14);
    expect(r2(truth, prediction, weight)).toBeCloseTo(0.710774478330658, 14);
    expect(explainedVariance(truth, prediction, weight)).toBeCloseTo(0.7432784911717496, 14);
    expect(mape(truth, prediction, weight)).toBeCloseTo(0.19907834101382488, 14);
    expect(medianAbsoluteError(truth, prediction, weight)).toBe(0.5);
  });

  it("unit weights give the unweighted value and integer weights equal repeated rows", () => {
    const { yTrue: truth, yPred: prediction } = noisyRows(101, 5);
    const ones = new Float64Array(truth.length).fill(1);
    const counts = new Float64Array(truth.length);
    const repeatedTrue: number[] = [];
    const repeatedPred: number[] = [];
    const random = createRandom(6);
    for (let index = 0; index < truth.length; index++) {
      counts[index] = random.int(4);
      for (let copy = 0; copy < counts[index]; copy++) {
        repeatedTrue.push(truth[index]);
        repeatedPred.push(prediction[index]);
      }
    }
    for (const name of metricNames.filter((metric) => metrics[metric].supportsSampleWeight)) {
      const { compute } = metrics[name];
      expect(compute(truth, prediction, ones), name).toBeCloseTo(compute(truth, prediction), 12);
      expect(compute(truth, prediction, counts), name).toBeCloseTo(
        compute(repeatedTrue, repeatedPred),
        12,
      );
    }
  });
});

describe("regression metrics: bad input", () => {
  it("rejects arrays of different lengths", () => {
    expect(caught(() => mse([1, 2, 3, 4], [1, 2, 3]))).toMatchObject({
      code: "metric_input",
      message: "yPred: expected 4 values (the length of yTrue), got 3",
    });
  });

  it("rejects empty arrays", () => {
    expect(caught(() => mae([], []))).toMatchObject({
      code: "metric_input",
      message: "yTrue: expected at least one value, got an empty array",
    });
    expect(caught(() => mae([1], [])).message).toBe(
      "yPred: expected 1 values (the length of yTrue), got 0",
    );
  });

  it("rejects NaN and infinite values, naming the array and index", () => {
    expect(caught(() => mse([1, 2, 3, 4], [1, 2, 3, Number.NaN]))).toMatchObject({
      code: "metric_input",
      message: "yPred[3]: expected a finite number, got NaN",
    });
    expect(caught(() => r2(new Float64Array([1, Number.POSITIVE_INFINITY]), [1, 2])).message).toBe(
      "yTrue[1]: expected a finite number, got Infinity",
    );
    expect(caught(() => mape([1, 2], [Number.NEGATIVE_INFINITY, 2])).message).toBe(
      "yPred[0]: expected a finite number, got -Infinity",
    );
  });

  it("rejects values that are not numbers", () => {
    const strings = ["1", "2"] as unknown as number[];
    expect(caught(() => mse([1, 2], strings)).message).toBe(
      'yPred[0]: expected a finite number, got "1"',
    );
    expect(caught(() => mse(undefined as unknown as number[], [1])).message).toBe(
      "yTrue: expected an array of numbers, got undefined",
    );
  });

  it("rejects bad sample weights", () => {
    expect(caught(() => mse([1, 2], [1, 2], [1]))).toMatchObject({
      code: "metric_input",
      message: "sampleWeight: expected 2 values (the length of yTrue), got 1",
    });
    expect(caught(() => mse([1, 2], [1, 2], [1, -1])).message).toBe(
      "sampleWeight[1]: expected a finite number >= 0, got -1",
    );
    expect(caught(() => mse([1, 2], [1, 2], [Number.NaN, 1])).message).toBe(
      "sampleWeight[0]: expected a finite number >= 0, got NaN",
    );
    expect(caught(() => medianAbsoluteError([1, 2], [1, 2], [0, 0])).message).toBe(
      "sampleWeight: expected a positive total weight, got 0",
    );
  });

  it("rejects weights for max_error, which scikit-learn does not weight", () => {
    expect(caught(() => maxError([1, 2], [1, 3], [1, 1]))).toMatchObject({
      code: "metric_input",
      message:
        "sampleWeight: expected no weights for max_error, which does not support them (as in " +
        "scikit-learn), got an array",
    });
  });

  it("every registered metric validates its input", () => {
    for (const name of metricNames) {
      const error = caught(() => metrics[name].compute([1, Number.NaN], [1, 2]));
      expect(error.code, name).toBe("metric_input");
      expect(error.message, name).toBe("yTrue[1]: expected a finite number, got NaN");
    }
  });
});

describe("metric registry", () => {
  it("lists the canonical names in a fixed order", () => {
    expect(metricNames).toEqual([
      "mse",
      "rmse",
      "mae",
      "r2",
      "mape",
      "median_absolute_error",
      "max_error",
      "explained_variance",
    ]);
    expect(Object.keys(metrics)).toEqual(metricNames);
    for (const name of metricNames) expect(metrics[name].name).toBe(name);
    expect(Object.isFrozen(metrics)).toBe(true);
    expect(Object.isFrozen(metrics.mse)).toBe(true);
  });

  it("marks scores as greater-is-better and errors as lower-is-better", () => {
    const greater = metricNames.filter((name) => metrics[name].greaterIsBetter);
    expect(greater).toEqual(["r2", "explained_variance"]);
  });

  it("resolves canonical names and MLflow evaluate() names", () => {
    const expected: Record<string, string> = {
      mse: "mse",
      mean_squared_error: "mse",
      root_mean_squared_error: "rmse",
      mean_absolute_error: "mae",
      r2_score: "r2",
      mean_absolute_percentage_error: "mape",
      median_absolute_error: "median_absolute_error",
      max_error: "max_error",
      explained_variance_score: "explained_variance",
    };
    for (const [alias, name] of Object.entries(expected)) {
      expect(getMetric(alias).name, alias).toBe(name);
    }
    expect(getMetric("mean_squared_error")).toBe(metrics.mse);
  });

  it("does not accept scikit-learn scorer names, whose sign is flipped", () => {
    const error = caught(() => getMetric("neg_mean_squared_error"));
    expect(error.code).toBe("metric_unknown");
    expect(error.message).toBe(
      'Unknown metric "neg_mean_squared_error": expected one of mse, rmse, mae, r2, mape, ' +
        "median_absolute_error, max_error, explained_variance or an alias (mean_squared_error, " +
        "root_mean_squared_error, mean_absolute_error, r2_score, mean_absolute_percentage_error, " +
        "explained_variance_score)",
    );
    expect(caught(() => getMetric("MSE")).code).toBe("metric_unknown");
  });

  it("computes through the definitions", () => {
    expect(getMetric("r2_score").compute(yTrue, yPred)).toBeCloseTo(0.9486081370449679, 14);
    expect(metrics.max_error.supportsSampleWeight).toBe(false);
    expect(metrics.mse.description.length).toBeGreaterThan(0);
  });
});

describe("computeMetrics", () => {
  it("computes every metric by default", () => {
    const result = computeMetrics(yTrue, yPred);
    expect(Object.keys(result)).toEqual(metricNames);
    expect(result.mse).toBe(0.375);
    expect(result.mae).toBe(0.5);
    expect(result.median_absolute_error).toBe(0.5);
    expect(result.max_error).toBe(1);
    expect(result.r2).toBeCloseTo(0.9486081370449679, 14);
  });

  it("keys the result by the names as given, aliases included", () => {
    expect(computeMetrics(yTrue, yPred, ["mean_squared_error", "r2"])).toEqual({
      mean_squared_error: 0.375,
      r2: r2(yTrue, yPred),
    });
  });

  it("with weights, defaults to the metrics that take weights", () => {
    const result = computeMetrics(yTrue, yPred, undefined, weights);
    expect(Object.keys(result)).not.toContain("max_error");
    expect(result.mse).toBeCloseTo(0.475, 15);
    expect(caught(() => computeMetrics(yTrue, yPred, ["mse", "max_error"], weights)).code).toBe(
      "metric_input",
    );
  });

  it("rejects unknown names before looking at the data", () => {
    const error = caught(() => computeMetrics([], [], ["mse", "accuracy"]));
    expect(error.code).toBe("metric_unknown");
    expect(error.message).toMatch(/^Unknown metric "accuracy": expected one of mse, /);
  });

  it("rejects bad input like the single metrics", () => {
    expect(caught(() => computeMetrics([1, 2], [1]))).toMatchObject({
      code: "metric_input",
      message: "yPred: expected 2 values (the length of yTrue), got 1",
    });
  });
});

describe("bootstrapInterval", () => {
  const data = noisyRows(400, 1);

  it("is reproducible: the same seed gives the same interval, another seed another", () => {
    const first = bootstrapInterval(data.yTrue, data.yPred, "mae", { seed: 3 });
    const second = bootstrapInterval(data.yTrue, data.yPred, "mae", { seed: 3 });
    const other = bootstrapInterval(data.yTrue, data.yPred, "mae", { seed: 4 });
    expect(second).toEqual(first);
    expect(other.estimate).toBe(first.estimate);
    expect([other.lower, other.upper]).not.toEqual([first.lower, first.upper]);
    expect(first).toMatchObject({ confidence: 0.95, resamples: 1000 });
  });

  it("contains the estimate for every metric", () => {
    for (const name of metricNames) {
      const interval = bootstrapInterval(data.yTrue, data.yPred, name, { resamples: 300 });
      expect(interval.estimate, name).toBe(metrics[name].compute(data.yTrue, data.yPred));
      expect(interval.lower, name).toBeLessThanOrEqual(interval.estimate);
      expect(interval.upper, name).toBeGreaterThanOrEqual(interval.estimate);
      expect(interval.lower, name).toBeLessThan(interval.upper);
    }
  });

  it("gets narrower with more rows", () => {
    const small = noisyRows(100, 2);
    const large = noisyRows(2500, 2);
    const narrow = bootstrapInterval(large.yTrue, large.yPred, "rmse");
    const wide = bootstrapInterval(small.yTrue, small.yPred, "rmse");
    // Width scales like 1/√rows: 25 times the rows should give about a fifth of the width.
    expect(narrow.upper - narrow.lower).toBeLessThan((wide.upper - wide.lower) / 3);
  });

  it("agrees with the normal-theory interval for the mean absolute error", () => {
    // |error| ~ uniform(0, 1) here. For a mean, the percentile bootstrap approaches
    // mean ± z·sd/√n with z = 1.959964 and sd the plug-in standard deviation.
    const rows = data.yTrue.length;
    let sum = 0;
    let sumOfSquares = 0;
    for (let index = 0; index < rows; index++) {
      const error = Math.abs(data.yTrue[index] - data.yPred[index]);
      sum += error;
      sumOfSquares += error * error;
    }
    const mean = sum / rows;
    const halfWidth = (1.959964 * Math.sqrt(sumOfSquares / rows - mean * mean)) / Math.sqrt(rows);
    const interval = bootstrapInterval(data.yTrue, data.yPred, "mae", { resamples: 4000, seed: 9 });
    expect(interval.estimate).toBeCloseTo(mean, 14);
    expect(interval.lower).toBeLessThan(interval.estimate);
    expect(interval.upper).toBeGreaterThan(interval.estimate);
    expect(Math.abs(interval.lower - (mean - halfWidth))).toBeLessThan(0.1 * halfWidth);
    expect(Math.abs(interval.upper - (mean + halfWidth))).toBeLessThan(0.1 * halfWidth);
  });

  it("accepts a custom definition: the mean signed error brackets its estimate", () => {
    const meanError: MetricDefinition = {
      ...metrics.mae,
      compute(truth, prediction) {
        let sum = 0;
        for (let index = 0; index < truth.length; index++) sum += prediction[index] - truth[index];
        return sum / truth.length;
      },
    };
    const interval = bootstrapInterval(data.yTrue, data.yPred, meanError, { confidence: 0.9 });
    expect(interval.estimate).toBeCloseTo(meanError.compute(data.yTrue, data.yPred), 14);
    expect(interval.lower).toBeLessThan(interval.estimate);
    expect(interval.estimate).toBeLessThan(interval.upper);
    expect(interval.confidence).toBe(0.9);
  });

  it("takes numpy's linear percentiles of the resampled metric", () => {
    // Redraw the same rows as the bootstrap (seed 5: `rows` draws of int(rows) per resample),
    // compute each resample's MAE here, and interpolate as np.percentile does: position
    // q·(m − 1) with m = 10 resamples, so 2.5% → 0.225 and 97.5% → 8.775.
    const truth = [0, 1, 2, 3, 4];
    const prediction = [0.5, 1, 4, 2.5, 4];
    const rows = truth.length;
    const random = createRandom(5);
    const resampled: number[] = [];
    for (let resample = 0; resample < 10; resample++) {
      let sum = 0;
      for (let index = 0; index < rows; index++) {
        const row = random.int(rows);
        sum += Math.abs(prediction[row] - truth[row]);
      }
      resampled.push(sum / rows);
    }
    resampled.sort((a, b) => a - b);
    const interval = bootstrapInterval(truth, prediction, "mae", { resamples: 10, seed: 5 });
    expect(interval.lower).toBeCloseTo(resampled[0] + 0.225 * (resampled[1] - resampled[0]), 12);
    expect(interval.upper).toBeCloseTo(resampled[8] + 0.775 * (resampled[9] - resampled[8]), 12);
  });

  it("spans the two extremes for two rows with errors 0 and 1", () => {
    // Resampled MAE is 0, 0.5 or 1 with probabilities 1/4, 1/2, 1/4, so the 2.5% and 97.5%
    // percentiles of 1000 resamples are 0 and 1.
    const interval = bootstrapInterval([0, 0], [0, 1], "mae");
    expect(interval).toEqual({
      estimate: 0.5,
      lower: 0,
      upper: 1,
      confidence: 0.95,
      resamples: 1000,
    });
  });

  it("resamples weights with their rows", () => {
    const weight = new Float64Array(data.yTrue.length);
    for (let index = 0; index < weight.length; index++) weight[index] = 1 + (index % 3);
    const interval = bootstrapInterval(data.yTrue, data.yPred, "median_absolute_error", {
      sampleWeight: weight,
      resamples: 200,
    });
    expect(interval.estimate).toBe(medianAbsoluteError(data.yTrue, data.yPred, weight));
    expect(interval.lower).toBeLessThan(interval.upper);
    expect(
      caught(() => bootstrapInterval([1, 2], [1, 2], "max_error", { sampleWeight: [1, 1] })).code,
    ).toBe("metric_input");
  });

  it("does not modify its inputs", () => {
    const truth = Float64Array.from(data.yTrue);
    const prediction = Float64Array.from(data.yPred);
    bootstrapInterval(truth, prediction, "median_absolute_error", { resamples: 20 });
    expect(truth).toEqual(data.yTrue);
    expect(prediction).toEqual(data.yPred);
  });

  it("gives NaN bounds when the metric is NaN on the resamples", () => {
    const interval = bootstrapInterval([1], [2], "r2", { resamples: 10 });
    expect(interval.estimate).toBeNaN();
    expect(interval.lower).toBeNaN();
    expect(interval.upper).toBeNaN();
  });

  it("rejects bad options, metrics and data", () => {
    expect(caught(() => bootstrapInterval(yTrue, yPred, "mae", { resamples: 0 }))).toMatchObject({
      code: "argument_invalid",
      message: "resamples: expected a positive integer, got 0",
    });
    expect(caught(() => bootstrapInterval(yTrue, yPred, "mae", { resamples: 2.5 })).message).toBe(
      "resamples: expected a positive integer, got 2.5",
    );
    for (const confidence of [0, 1, Number.NaN]) {
      expect(caught(() => bootstrapInterval(yTrue, yPred, "mae", { confidence }))).toMatchObject({
        code: "argument_invalid",
        message: `confidence: expected a number between 0 and 1 (exclusive), got ${confidence}`,
      });
    }
    expect(caught(() => bootstrapInterval(yTrue, yPred, "mae", { seed: 0.5 })).code).toBe(
      "argument_invalid",
    );
    expect(caught(() => bootstrapInterval(yTrue, yPred, "auc")).code).toBe("metric_unknown");
    expect(caught(() => bootstrapInterval(yTrue, [1, 2], "mae"))).toMatchObject({
      code: "metric_input",
      message: "yPred: expected 4 values (the length of yTrue), got 2",
    });
  });
});
