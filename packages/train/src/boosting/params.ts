import { getMetric, MlopsError } from "@mlops/core";
import { checkParamNames, isFiniteNumber, isInteger, paramError } from "../estimator/params.js";

/**
 * The loss a `HistGradientBoostingRegressor` minimises — exactly those of scikit-learn 1.2.1's
 * estimator: `"squared_error"` (half squared error), `"absolute_error"` (leaves refitted to the
 * median residual), `"poisson"` (half Poisson deviance with a log link; needs y ≥ 0 and a
 * positive sum) and `"quantile"` (pinball loss at `quantile`; leaves refitted to that quantile).
 * scikit-learn 1.2.1 has no Huber loss for this estimator (its `GradientBoostingRegressor` does).
 *
 * @example
 * new HistGradientBoostingRegressor({ loss: "quantile", quantile: 0.9 });
 */
export type BoostingLoss = "squared_error" | "absolute_error" | "poisson" | "quantile";

/**
 * Which features are categorical: `"from_dtype"` (the frame's category columns; scikit-learn
 * ≥ 1.4's option and its default from 1.6), null (none: a category column is an error), or
 * scikit-learn 1.2.1's forms — feature names, feature indices, or one boolean per feature.
 * A numeric feature marked categorical must hold integers in `0..maxBins − 1` (or NaN).
 *
 * @example
 * new HistGradientBoostingRegressor({ categoricalFeatures: ["season", "weekday"] });
 */
export type CategoricalFeatures =
  | "from_dtype"
  | null
  | readonly string[]
  | readonly number[]
  | readonly boolean[];

/**
 * Hyperparameters of `HistGradientBoostingRegressor`: scikit-learn 1.2.1's names in camelCase,
 * with its defaults, plus `nJobs`.
 *
 * @example
 * const params: Partial<HistGradientBoostingParams> = { learningRate: 0.05, maxIter: 500 };
 */
export interface HistGradientBoostingParams {
  loss: BoostingLoss;
  /** The quantile `loss: "quantile"` estimates, in (0, 1); null otherwise. */
  quantile: number | null;
  /** Shrinkage: each tree's leaves are multiplied by it, > 0. */
  learningRate: number;
  /** Boosting iterations (trees) at most, ≥ 1. */
  maxIter: number;
  /** Leaves per tree at most (≥ 2), grown best-first; null = no limit. */
  maxLeafNodes: number | null;
  /** Edges from the root to the deepest leaf at most (≥ 1); null = no limit. */
  maxDepth: number | null;
  /** Fewest training rows per leaf, ≥ 1. */
  minSamplesLeaf: number;
  /** L2 penalty on leaf values, ≥ 0. */
  l2Regularization: number;
  /** Bins per feature for values that are not missing, 2..255 (missing values get one more). */
  maxBins: number;
  categoricalFeatures: CategoricalFeatures;
  /**
   * `"auto"`: stop early when the training data has more than 10,000 rows; true / false: always
   * or never. Stops when `nIterNoChange` iterations in a row do not beat the score before them
   * by more than `tol`.
   */
  earlyStopping: "auto" | boolean;
  /**
   * What early stopping watches: `"loss"` (the training loss, on the validation rows) or a
   * metric of core's (`"rmse"`, `"r2"`, …); null means scikit-learn's default scorer, R².
   */
  scoring: string | null;
  /**
   * Rows held out to score early stopping: a fraction in (0, 1) or a count ≥ 1; null = score on
   * the training rows.
   */
  validationFraction: number | null;
  /** Iterations without improvement before stopping, ≥ 1. */
  nIterNoChange: number;
  /** The improvement that counts, ≥ 0. */
  tol: number;
  /**
   * scikit-learn's `random_state` (an integer): the validation split and the rows sampled to
   * place bin edges beyond 200,000 rows are drawn as scikit-learn draws them for that seed.
   */
  seed: number;
  /**
   * Threads growing each tree: null = the machine's available parallelism (1 when the fit runs
   * in a worker thread itself, such as a search trial), 1 = this thread only. The model is the
   * same for any value.
   */
  nJobs: number | null;
}

/**
 * scikit-learn 1.2.1's defaults, except `categoricalFeatures: "from_dtype"`, a fixed `seed` of
 * 0 (scikit-learn's `random_state=None` draws one) and `nJobs`.
 *
 * @example
 * new HistGradientBoostingRegressor({ ...HIST_GRADIENT_BOOSTING_DEFAULTS, maxIter: 300 });
 */
export const HIST_GRADIENT_BOOSTING_DEFAULTS: Readonly<HistGradientBoostingParams> = Object.freeze({
  loss: "squared_error",
  quantile: null,
  learningRate: 0.1,
  maxIter: 100,
  maxLeafNodes: 31,
  maxDepth: null,
  minSamplesLeaf: 20,
  l2Regularization: 0,
  maxBins: 255,
  categoricalFeatures: "from_dtype",
  earlyStopping: "auto",
  scoring: "loss",
  validationFraction: 0.1,
  nIterNoChange: 10,
  tol: 1e-7,
  seed: 0,
  nJobs: null,
});

const LOSSES = ["squared_error", "absolute_error", "poisson", "quantile"];

/**
 * Defaults completed and every value checked, with errors like
 * `learningRate: expected a number > 0, got 0` (scikit-learn's `_validate_params`).
 *
 * @example
 * validateBoostingParams({ maxIter: 200 }).maxLeafNodes; // 31
 */
export function validateBoostingParams(
  params: Partial<HistGradientBoostingParams>,
  owner = "HistGradientBoostingRegressor",
): HistGradientBoostingParams {
  if (params === null || typeof params !== "object") {
    throw new MlopsError("argument_invalid", `${owner}: expected an object of parameters`);
  }
  checkParamNames(owner, params, Object.keys(HIST_GRADIENT_BOOSTING_DEFAULTS), owner);
  const p = { ...HIST_GRADIENT_BOOSTING_DEFAULTS } as HistGradientBoostingParams;
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined) (p as unknown as Record<string, unknown>)[key] = value;
  }
  if (!LOSSES.includes(p.loss)) {
    throw paramError("loss", LOSSES.map((loss) => `"${loss}"`).join(", "), p.loss);
  }
  if (p.loss === "quantile") {
    if (!(isFiniteNumber(p.quantile) && p.quantile > 0 && p.quantile < 1)) {
      throw paramError("quantile", 'a number in (0, 1) with loss "quantile"', p.quantile);
    }
  } else if (
    p.quantile !== null &&
    !(isFiniteNumber(p.quantile) && p.quantile > 0 && p.quantile < 1)
  ) {
    throw paramError("quantile", "null or a number in (0, 1)", p.quantile);
  }
  if (!(isFiniteNumber(p.learningRate) && p.learningRate > 0)) {
    throw paramError("learningRate", "a number > 0", p.learningRate);
  }
  if (!(isInteger(p.maxIter) && p.maxIter >= 1)) {
    throw paramError("maxIter", "an integer ≥ 1", p.maxIter);
  }
  if (p.maxLeafNodes !== null && !(isInteger(p.maxLeafNodes) && p.maxLeafNodes >= 2)) {
    throw paramError("maxLeafNodes", "an integer ≥ 2 or null", p.maxLeafNodes);
  }
  if (p.maxDepth !== null && !(isInteger(p.maxDepth) && p.maxDepth >= 1)) {
    throw paramError("maxDepth", "an integer ≥ 1 or null", p.maxDepth);
  }
  if (!(isInteger(p.minSamplesLeaf) && p.minSamplesLeaf >= 1)) {
    throw paramError("minSamplesLeaf", "an integer ≥ 1", p.minSamplesLeaf);
  }
  if (!(isFiniteNumber(p.l2Regularization) && p.l2Regularization >= 0)) {
    throw paramError("l2Regularization", "a number ≥ 0", p.l2Regularization);
  }
  if (!(isInteger(p.maxBins) && p.maxBins >= 2 && p.maxBins <= 255)) {
    throw paramError("maxBins", "an integer in 2..255", p.maxBins);
  }
  checkCategoricalFeatures(p.categoricalFeatures);
  if (!(p.earlyStopping === "auto" || typeof p.earlyStopping === "boolean")) {
    throw paramError("earlyStopping", '"auto", true or false', p.earlyStopping);
  }
  if (p.scoring !== null) {
    if (typeof p.scoring !== "string") {
      throw paramError("scoring", '"loss", a metric name or null', p.scoring);
    }
    if (p.scoring !== "loss") {
      try {
        getMetric(p.scoring);
      } catch (error) {
        throw new MlopsError(
          "argument_invalid",
          `scoring: expected "loss", a metric name or null, got ${JSON.stringify(p.scoring)} ` +
            `(${(error as Error).message})`,
        );
      }
    }
  }
  const fraction = p.validationFraction;
  if (
    fraction !== null &&
    !(
      isFiniteNumber(fraction) &&
      (isInteger(fraction) ? fraction >= 1 : fraction > 0 && fraction < 1)
    )
  ) {
    throw paramError("validationFraction", "null, a fraction in (0, 1) or a count ≥ 1", fraction);
  }
  if (!(isInteger(p.nIterNoChange) && p.nIterNoChange >= 1)) {
    throw paramError("nIterNoChange", "an integer ≥ 1", p.nIterNoChange);
  }
  if (!(isFiniteNumber(p.tol) && p.tol >= 0)) {
    throw paramError("tol", "a number ≥ 0", p.tol);
  }
  if (!(isInteger(p.seed) && p.seed >= 0 && p.seed <= 4294967295)) {
    throw paramError("seed", "an integer in 0..4294967295 (scikit-learn's random_state)", p.seed);
  }
  if (p.nJobs !== null && !(isInteger(p.nJobs) && p.nJobs >= 1)) {
    throw paramError("nJobs", "null (all cores) or an integer ≥ 1", p.nJobs);
  }
  return p;
}

function checkCategoricalFeatures(value: unknown): void {
  if (value === null || value === "from_dtype") return;
  const expected = '"from_dtype", null, or a list of feature names, indices or booleans';
  if (!Array.isArray(value)) throw paramError("categoricalFeatures", expected, value);
  const kinds = new Set(value.map((item) => typeof item));
  if (kinds.size > 1) throw paramError("categoricalFeatures", `${expected} (one kind)`, value);
  for (const item of value) {
    const ok =
      typeof item === "string" ||
      typeof item === "boolean" ||
      (isInteger(item) && (item as number) >= 0);
    if (!ok) throw paramError("categoricalFeatures", expected, value);
  }
}
