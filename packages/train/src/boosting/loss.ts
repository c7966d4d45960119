import { MlopsError } from "@mlops/core";
import { numpyAverage, numpyMedian, numpyPercentile, weightedPercentile } from "./numpy.js";
import type { BoostingLoss } from "./params.js";

/**
 * A loss as histogram gradient boosting uses it (scikit-learn 1.2.1's `_loss` module): the
 * baseline, per-row gradients and hessians (float32, as there), the mean loss for early
 * stopping, and for the losses of a residual (absolute error, quantile) the leaf refit.
 */
export interface BoostingLossFunction {
  readonly name: BoostingLoss;
  /** The hessian is the same for every row (1, or the row's weight with sample weights). */
  readonly constantHessian: boolean;
  /** Leaves are refitted after growth to a statistic of the residuals (`fitIntercept`). */
  readonly refitLeaves: boolean;
  /** `"log"` when predictions are `exp` of the raw sum (Poisson). */
  readonly link: "identity" | "log";
  /** The best constant raw prediction for `y` (with weights). */
  fitIntercept(y: Float64Array, weight: Float64Array | undefined): number;
  /**
   * Gradients (and hessians, when not constant) of rows `start..end` at `raw`, weighted.
   */
  gradients(
    y: Float64Array,
    raw: Float64Array,
    weight: Float64Array | undefined,
    gradient: Float32Array,
    hessian: Float32Array,
    start: number,
    end: number,
  ): void;
  /** The mean loss (weighted average) of `raw` against `y`. */
  mean(y: Float64Array, raw: Float64Array, weight: Float64Array | undefined): number;
}

const EPSILON = 2.220446049250313e-16;

/**
 * The loss of `name` (`quantile` for the pinball loss). Checks the target where the loss needs it
 * (Poisson: y ≥ 0, sum > 0).
 *
 * @example
 * const loss = createLoss("squared_error", null, false);
 * loss.fitIntercept(y, undefined); // mean of y
 */
export function createLoss(
  name: BoostingLoss,
  quantile: number | null,
  weighted: boolean,
): BoostingLossFunction {
  const constantHessian = !weighted;
  switch (name) {
    case "squared_error":
      return squared(constantHessian);
    case "absolute_error":
      return residualLoss(name, constantHessian, 0.5);
    case "quantile":
      return residualLoss(name, constantHessian, quantile!);
    case "poisson":
      return poisson();
    default:
      throw new MlopsError("argument_invalid", `loss: unknown loss ${JSON.stringify(name)}`);
  }
}

function averaged(loss: Float64Array, weight: Float64Array | undefined): number {
  return numpyAverage(loss, weight);
}

function squared(constantHessian: boolean): BoostingLossFunction {
  return {
    name: "squared_error",
    constantHessian,
    refitLeaves: false,
    link: "identity",
    fitIntercept: (y, weight) => numpyAverage(y, weight),
    gradients(y, raw, weight, gradient, hessian, start, end) {
      if (weight === undefined) {
        for (let i = start; i < end; i++) gradient[i] = raw[i] - y[i];
      } else {
        for (let i = start; i < end; i++) {
          gradient[i] = weight[i] * (raw[i] - y[i]);
          hessian[i] = weight[i];
        }
      }
    },
    mean(y, raw, weight) {
      const loss = new Float64Array(y.length);
      for (let i = 0; i < y.length; i++) {
        const d = raw[i] - y[i];
        loss[i] = 0.5 * d * d;
      }
      return averaged(loss, weight);
    },
  };
}

/**
 * Absolute error (`quantile` 0.5, the median) and the pinball loss: gradients are signs, the
 * hessian is 1, and leaves are refitted to the quantile of their residuals.
 */
function residualLoss(
  name: "absolute_error" | "quantile",
  constantHessian: boolean,
  quantile: number,
): BoostingLossFunction {
  const absolute = name === "absolute_error";
  const fitIntercept = (y: Float64Array, weight: Float64Array | undefined): number => {
    if (weight === undefined) {
      return absolute ? numpyMedian(y) : numpyPercentile(y, 100 * quantile);
    }
    return weightedPercentile(y, weight, 100 * quantile);
  };
  return {
    name,
    constantHessian,
    refitLeaves: true,
    link: "identity",
    fitIntercept,
    gradients(y, raw, weight, gradient, hessian, start, end) {
      for (let i = start; i < end; i++) {
        const g = absolute ? (raw[i] > y[i] ? 1 : -1) : y[i] > raw[i] ? -quantile : 1 - quantile;
        if (weight === undefined) gradient[i] = g;
        else {
          gradient[i] = weight[i] * g;
          hessian[i] = weight[i];
        }
      }
    },
    mean(y, raw, weight) {
      const loss = new Float64Array(y.length);
      for (let i = 0; i < y.length; i++) {
        const d = y[i] - raw[i];
        loss[i] = absolute ? Math.abs(d) : d >= 0 ? quantile * d : (quantile - 1) * d;
      }
      return averaged(loss, weight);
    },
  };
}

/** Half Poisson deviance with a log link: gradient `exp(raw) − y`, hessian `exp(raw)`. */
function poisson(): BoostingLossFunction {
  return {
    name: "poisson",
    // The hessian depends on the raw prediction: never constant.
    constantHessian: false,
    refitLeaves: false,
    link: "log",
    fitIntercept(y, weight) {
      const mean = numpyAverage(y, weight);
      return Math.log(Math.max(mean, 10 * EPSILON));
    },
    gradients(y, raw, weight, gradient, hessian, start, end) {
      for (let i = start; i < end; i++) {
        const e = Math.exp(raw[i]);
        if (weight === undefined) {
          gradient[i] = e - y[i];
          hessian[i] = e;
        } else {
          gradient[i] = weight[i] * (e - y[i]);
          hessian[i] = weight[i] * e;
        }
      }
    },
    mean(y, raw, weight) {
      const loss = new Float64Array(y.length);
      for (let i = 0; i < y.length; i++) loss[i] = Math.exp(raw[i]) - y[i] * raw[i];
      return averaged(loss, weight);
    },
  };
}
