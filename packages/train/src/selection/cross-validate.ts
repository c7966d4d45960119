import { type Frame, MlopsError } from "@mlops/core";
import type { Estimator } from "../estimator/estimator.js";
import { isFrame } from "../estimator/training.js";
import { rebuildError, TrialSession } from "../search/session.js";
import { isEstimatorLike } from "../search/spec.js";
import { type CvOption, resolveFolds } from "./folds.js";
import { resolveScoring, type Scoring } from "./scoring.js";

/**
 * Options of `crossValidate`.
 *
 * @example
 * await crossValidate(model, frame, "quality", { cv: 5, scoring: ["rmse", "r2"] });
 */
export interface CrossValidateOptions {
  /** Folds: a count (contiguous KFold, default 5), a splitter, or the folds themselves. */
  cv?: CvOption;
  /** Metric name(s) from core's metrics (default `"rmse"`). */
  scoring?: Scoring;
  /** Also score each fit on its training rows (`train_<metric>`; default false). */
  returnTrainScore?: boolean;
  /** Worker threads (default 1: the caller's thread; -1 = every core). */
  nJobs?: number;
  /**
   * Let a plain `DecisionTreeRegressor` take the fast path (default true); false fits clones on
   * fold frames.
   */
  fastPath?: boolean;
}

/**
 * Per-fold results of `crossValidate`, keyed as scikit-learn's `cross_validate`: `fit_time` and
 * `score_time` in seconds, `test_<metric>` (and `train_<metric>`) with the metric's own values.
 *
 * @example
 * const { test_rmse, fit_time } = await crossValidate(model, frame, "quality");
 */
export interface CrossValidateResult {
  fit_time: number[];
  score_time: number[];
  [column: `test_${string}` | `train_${string}`]: number[];
}

/**
 * Cross-validates an estimator (scikit-learn's `cross_validate`): for each fold, a clone is fitted
 * on the train rows and scored on the test rows. A plain `DecisionTreeRegressor` takes the fast
 * path (data presorted once, folds as row subsets). Throws the first fit's error, if any.
 *
 * @example
 * const tree = new DecisionTreeRegressor({ maxDepth: 5 });
 * const scores = await crossValidate(tree, frame, "quality", {
 *   cv: new KFold({ nSplits: 5, shuffle: true, seed: 1 }),
 *   scoring: ["rmse", "r2"],
 * });
 * scores.test_rmse; // five RMSEs
 */
export async function crossValidate(
  estimator: Estimator<object>,
  frame: Frame,
  target: string | ArrayLike<number>,
  options: CrossValidateOptions = {},
): Promise<CrossValidateResult> {
  const context = "crossValidate";
  if (!isEstimatorLike(estimator)) {
    throw new MlopsError(
      "argument_invalid",
      `${context}: expected an estimator (fit, predict, getParams, setParams, clone)`,
    );
  }
  if (!isFrame(frame)) {
    throw new MlopsError("argument_invalid", `${context}: expected a Frame`);
  }
  const metrics = resolveScoring(options.scoring, context);
  const folds = resolveFolds(options.cv, frame.rowCount, context);
  const returnTrainScore = options.returnTrainScore ?? false;
  const session = await TrialSession.open({
    estimator,
    frame,
    target,
    metrics,
    returnTrainScore,
    nJobs: options.nJobs ?? 1,
    errorScore: "raise",
    context,
    maxTasks: folds.length,
    fastPath: options.fastPath,
  });
  try {
    const foldSet = session.addFolds(folds);
    const [outcome] = await session.evaluate([{}], foldSet);
    const failure = outcome.errors.findIndex((error) => error !== undefined);
    if (failure >= 0) throw rebuildError(outcome.errors[failure]!, 0, failure);
    const result: CrossValidateResult = {
      fit_time: outcome.fitTime,
      score_time: outcome.scoreTime,
    };
    metrics.forEach((metric, m) => {
      result[`test_${metric.name}`] = outcome.test[m];
      if (outcome.train) result[`train_${metric.name}`] = outcome.train[m];
    });
    return result;
  } finally {
    await session.close();
  }
}
