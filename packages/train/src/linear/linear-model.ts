import { MlopsError } from "@mlops/core";
import { type ArtifactModel, Estimator } from "../estimator/estimator.js";
import type { TrainingData } from "../estimator/training.js";

/** A fitted linear model: `prediction = Σ coefficients[j] × x[j] + intercept`. */
export interface LinearFit {
  coefficients: Float64Array;
  intercept: number;
}

/**
 * The data of a linear fit, centred and weighted as scikit-learn's `_preprocess_data` and
 * `_rescale_data` leave it: columns `√w (x − x̄_w)`, target `√w (y − ȳ_w)` (no centring without
 * an intercept), plus the weighted means to recover the intercept.
 */
export interface CenteredData {
  columns: Float64Array[];
  target: Float64Array;
  featureMeans: Float64Array;
  targetMean: number;
}

/** Throws for a missing value in a feature: linear models need every input. */
function missingError(context: string, name: string, row: number): MlopsError {
  return new MlopsError(
    "data_invalid",
    `${context}: feature "${name}" has a missing value (NaN) at row ${row}; ` +
      "a linear model needs every value (impute first, e.g. with SimpleImputer)",
  );
}

/** Centres and weights the training data (see `CenteredData`). */
export function centerData(
  data: TrainingData,
  fitIntercept: boolean,
  context: string,
): CenteredData {
  const { columns, target, sampleWeight, rowCount: n } = data;
  const p = columns.length;
  let totalWeight = n;
  if (sampleWeight !== undefined) {
    totalWeight = 0;
    for (let i = 0; i < n; i++) totalWeight += sampleWeight[i];
  }
  const mean = (values: Float64Array, name: string | undefined): number => {
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const value = values[i];
      if (Number.isNaN(value) && name !== undefined) throw missingError(context, name, i);
      sum += sampleWeight === undefined ? value : sampleWeight[i] * value;
    }
    return sum / totalWeight;
  };
  const featureMeans = new Float64Array(p);
  for (let j = 0; j < p; j++) {
    const m = mean(columns[j], data.featureNames[j]);
    featureMeans[j] = fitIntercept ? m : 0;
  }
  const targetMean = fitIntercept ? mean(target, undefined) : 0;
  let root: Float64Array | undefined;
  if (sampleWeight !== undefined) root = sampleWeight.map(Math.sqrt);
  const centered = (values: Float64Array, offset: number): Float64Array => {
    const out = new Float64Array(n);
    if (root === undefined) for (let i = 0; i < n; i++) out[i] = values[i] - offset;
    else for (let i = 0; i < n; i++) out[i] = root[i] * (values[i] - offset);
    return out;
  };
  return {
    columns: columns.map((column, j) => centered(column, featureMeans[j])),
    target: centered(target, targetMean),
    featureMeans,
    targetMean,
  };
}

/** scikit-learn's `_set_intercept`: `ȳ − x̄ · coefficients` (0 without an intercept). */
export function interceptOf(data: CenteredData, coefficients: Float64Array): number {
  let dot = 0;
  for (let j = 0; j < coefficients.length; j++) dot += data.featureMeans[j] * coefficients[j];
  return data.targetMean - dot;
}

/**
 * `Σ coefficients[j] × x[j] + intercept` per row, summed in feature order then the intercept
 * added: the same operations as core's linear predictor, so both give identical numbers.
 */
export function predictLinear(
  fit: LinearFit,
  columns: readonly Float64Array[],
  rowCount: number,
  names: readonly string[],
  context: string,
): Float64Array {
  const out = new Float64Array(rowCount);
  const { coefficients, intercept } = fit;
  for (let j = 0; j < columns.length; j++) {
    const column = columns[j];
    const c = coefficients[j];
    for (let r = 0; r < rowCount; r++) {
      const x = column[r];
      if (Number.isNaN(x)) throw missingError(context, names[j], r);
      out[r] += c * x;
    }
  }
  for (let r = 0; r < rowCount; r++) out[r] += intercept;
  return out;
}

/**
 * The common half of `LinearRegression` and `Ridge`: fitted coefficients and intercept,
 * predictions and a `"linear"` artifact.
 */
export abstract class LinearModel<Params extends object> extends Estimator<Params> {
  #fit: LinearFit | undefined;

  protected fitData(data: TrainingData): void {
    this.#fit = undefined;
    this.#fit = this.fitLinear(data);
  }

  /** Validates the parameters and solves for the coefficients. */
  protected abstract fitLinear(data: TrainingData): LinearFit;

  protected predictColumns(columns: Float64Array[], rowCount: number): Float64Array {
    return predictLinear(
      this.#fitted("predict"),
      columns,
      rowCount,
      this.featureNames,
      `${this.estimatorName}.predict`,
    );
  }

  protected artifactModel(): ArtifactModel {
    const { coefficients, intercept } = this.#fitted("toArtifact");
    return {
      kind: "linear",
      model: { intercept },
      arrays: { coefficients: Float64Array.from(coefficients) },
    };
  }

  #fitted(action: string): LinearFit {
    this.requireFitted(action);
    return this.#fit!;
  }

  /** The coefficient of each feature, in `featureNames` order (scikit-learn's `coef_`). */
  get coefficients(): Float64Array {
    return Float64Array.from(this.#fitted("reading coefficients").coefficients);
  }

  /** The constant term (scikit-learn's `intercept_`; 0 with `fitIntercept: false`). */
  get intercept(): number {
    return this.#fitted("reading intercept").intercept;
  }
}
