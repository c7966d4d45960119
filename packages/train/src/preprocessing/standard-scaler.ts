import { MlopsError, type PreprocessingStep } from "@mlops/core";
import { checkBoolean, checkColumnsParam } from "./params.js";
import {
  isCategory,
  Transformer,
  type TransformerInput,
  transformerColumns,
} from "./transformer.js";

/**
 * Hyperparameters of `StandardScaler`.
 *
 * @example
 * const params: StandardScalerParams = { withMean: true, withStd: true, columns: ["age"] };
 */
export interface StandardScalerParams {
  /** Subtract each column's mean. */
  withMean: boolean;
  /** Divide by each column's standard deviation (ddof 0). */
  withStd: boolean;
  /** The columns to scale; null = every numeric column. */
  columns: string[] | null;
}

interface ScalerState {
  columns: string[];
  mean: Float64Array;
  variance: Float64Array;
  scale: Float64Array;
}

/**
 * Standardises numeric columns to `(x − mean) / scale` (scikit-learn's `StandardScaler`):
 * mean and population variance (ddof 0) per column, weighted when `fit` gets `sampleWeight`,
 * missing values (NaN) ignored at fit and kept missing by `transform`. A (near-)constant column
 * gets scale 1, as scikit-learn's `_is_constant_feature` decides. Exported as a core
 * `standard_scaler` step.
 *
 * @example
 * const scaler = new StandardScaler().fit(frame, "price");
 * scaler.mean; // { rooms: 5.2, age: 41.3 }
 * const scaled = scaler.transform(frame);
 */
export class StandardScaler extends Transformer<StandardScalerParams> {
  #state: ScalerState | undefined;

  constructor(params: Partial<StandardScalerParams> = {}) {
    super({ withMean: true, withStd: true, columns: null }, params);
  }

  protected fitSteps({ frame, sampleWeight, context }: TransformerInput): PreprocessingStep[] {
    this.#state = undefined;
    const params = this.getParams();
    const withMean = checkBoolean("withMean", params.withMean);
    const withStd = checkBoolean("withStd", params.withStd);
    const columns = transformerColumns(
      frame,
      checkColumnsParam(params.columns),
      (column) => !isCategory(column),
      "a numeric column (StandardScaler scales numbers)",
      context,
    );
    const n = frame.rowCount;
    const p = columns.length;
    const mean = new Float64Array(p);
    const variance = new Float64Array(p);
    const scale = new Float64Array(p);
    columns.forEach((name, j) => {
      const values = frame.numeric(name);
      // scikit-learn's _incremental_mean_and_var: the corrected two-pass algorithm.
      let sum = 0;
      let count = 0;
      for (let i = 0; i < n; i++) {
        const x = values[i];
        if (Number.isNaN(x)) continue;
        const w = sampleWeight === undefined ? 1 : sampleWeight[i];
        sum += w * x;
        count += w;
      }
      if (!(count > 0)) {
        throw new MlopsError(
          "data_invalid",
          `${context}: column "${name}" has no values (every row is missing or weighs 0)`,
        );
      }
      const average = sum / count;
      let correction = 0;
      let squares = 0;
      for (let i = 0; i < n; i++) {
        const x = values[i];
        if (Number.isNaN(x)) continue;
        const w = sampleWeight === undefined ? 1 : sampleWeight[i];
        const d = x - average;
        correction += w * d;
        squares += w * d * d;
      }
      const v = (squares - (correction * correction) / count) / count;
      mean[j] = average;
      variance[j] = v;
      const eps = Number.EPSILON;
      const constant = v <= count * eps * v + (count * average * eps) ** 2;
      scale[j] = !withStd || constant ? 1 : Math.sqrt(v);
    });
    this.#state = { columns, mean, variance, scale };
    if (p === 0 || (!withMean && !withStd)) return [];
    return [
      {
        kind: "standard_scaler",
        columns,
        mean: withMean ? Array.from(mean) : new Array<number>(p).fill(0),
        scale: withStd ? Array.from(scale) : new Array<number>(p).fill(1),
      },
    ];
  }

  #fitted(action: string): ScalerState {
    this.requireFitted(action);
    return this.#state!;
  }

  #record(values: Float64Array, columns: string[]): Record<string, number> {
    return Object.fromEntries(columns.map((name, j) => [name, values[j]]));
  }

  /** Each scaled column's mean (scikit-learn's `mean_`, also with `withMean: false`). */
  get mean(): Record<string, number> {
    const state = this.#fitted("reading mean");
    return this.#record(state.mean, state.columns);
  }

  /** Each scaled column's population variance (scikit-learn's `var_`). */
  get variance(): Record<string, number> {
    const state = this.#fitted("reading variance");
    return this.#record(state.variance, state.columns);
  }

  /**
   * Each column's divisor: √variance, 1 for a constant column or with `withStd: false`
   * (scikit-learn's `scale_`).
   */
  get scale(): Record<string, number> {
    const state = this.#fitted("reading scale");
    return this.#record(state.scale, state.columns);
  }
}
