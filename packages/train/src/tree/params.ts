import { MlopsError } from "@mlops/core";
import { checkParamNames, isFiniteNumber, isInteger, paramError } from "../estimator/params.js";

/**
 * How a split's quality is measured (scikit-learn's `criterion`).
 *
 * @example
 * new DecisionTreeRegressor({ criterion: "friedman_mse" });
 */
export type TreeCriterion = "squared_error" | "friedman_mse";

/**
 * How splits are searched: `"best"` scans every distinct value (exact, like scikit-learn);
 * `"hist"` scans ≤ 255 quantile bins per feature; `"auto"` picks `"hist"` from
 * `AUTO_HIST_MIN_ROWS` (200,000) training rows up, `"best"` below.
 *
 * @example
 * new DecisionTreeRegressor({ splitter: "hist", maxBins: 127 });
 */
export type TreeSplitter = "best" | "hist" | "auto";

/**
 * Features considered per split: all (null), a count, a fraction, or sqrt / log2 of all.
 *
 * @example
 * new DecisionTreeRegressor({ maxFeatures: "sqrt", seed: 7 });
 */
export type MaxFeatures = number | "sqrt" | "log2" | null;

/**
 * Hyperparameters of a regression tree (scikit-learn's names, in camelCase).
 *
 * @example
 * const params: Partial<DecisionTreeParams> = { maxDepth: 8, minSamplesLeaf: 5, seed: 0 };
 */
export interface DecisionTreeParams {
  /** `"squared_error"` (default) or `"friedman_mse"` (Friedman's improvement score). */
  criterion: TreeCriterion;
  /** `"best"`, `"hist"` or `"auto"` (default: hist from 200,000 rows, exact below). */
  splitter: TreeSplitter;
  /** Deepest level a node may sit at (root = 0); null = until leaves are pure or small. */
  maxDepth: number | null;
  /** Fewest rows a node needs to be split: an integer ≥ 2, or a fraction in (0, 1) of the rows. */
  minSamplesSplit: number;
  /** Fewest rows each leaf keeps: an integer ≥ 1, or a fraction in (0, 1) of the rows. */
  minSamplesLeaf: number;
  /** Smallest share of the total sample weight each leaf keeps, in [0, 0.5]. */
  minWeightFractionLeaf: number;
  /**
   * Features drawn (without replacement, from `seed`) at each split: null = all, an integer
   * count, a fraction in (0, 1) of the features, `"sqrt"` or `"log2"`.
   */
  maxFeatures: MaxFeatures;
  /** Grow best-first (largest impurity decrease first) up to this many leaves (≥ 2); null = off. */
  maxLeafNodes: number | null;
  /**
   * Split only when `N_t / N × (impurity − N_t_R / N_t × right_impurity − N_t_L / N_t ×
   * left_impurity)` reaches this (weighted sample counts).
   */
  minImpurityDecrease: number;
  /** Bins per feature for the hist splitter, 2..255 (missing values get a bin of their own). */
  maxBins: number;
  /**
   * Seed of the feature draws, scikit-learn's `random_state`: the same seed draws the same
   * features in the same order (which also decides ties between equally good splits).
   */
  seed: number;
}

/**
 * scikit-learn's defaults, except `splitter: "auto"` and a fixed `seed` of 0.
 *
 * @example
 * new DecisionTreeRegressor({ ...DECISION_TREE_DEFAULTS, maxDepth: 6 });
 */
export const DECISION_TREE_DEFAULTS: Readonly<DecisionTreeParams> = Object.freeze({
  criterion: "squared_error",
  splitter: "auto",
  maxDepth: null,
  minSamplesSplit: 2,
  minSamplesLeaf: 1,
  minWeightFractionLeaf: 0,
  maxFeatures: null,
  maxLeafNodes: null,
  minImpurityDecrease: 0,
  maxBins: 255,
  seed: 0,
});

/**
 * Row count from which `splitter: "auto"` uses the hist splitter.
 *
 * @example
 * const splitter = rows >= AUTO_HIST_MIN_ROWS ? "hist" : "best";
 */
export const AUTO_HIST_MIN_ROWS = 200_000;

/** The splitter `"auto"` stands for at `rowCount` rows. */
export function resolveSplitter(splitter: TreeSplitter, rowCount: number): "best" | "hist" {
  if (splitter === "auto") return rowCount >= AUTO_HIST_MIN_ROWS ? "hist" : "best";
  return splitter;
}

const PARAM_NAMES = Object.keys(DECISION_TREE_DEFAULTS);

/**
 * Defaults completed and every value checked, with errors like
 * `maxDepth: expected an integer ≥ 1 or null, got 0` (scikit-learn's `_validate_params`).
 *
 * @example
 * const params = validateTreeParams({ maxDepth: 8 });
 */
export function validateTreeParams(
  params: Partial<DecisionTreeParams>,
  owner = "DecisionTreeRegressor",
): DecisionTreeParams {
  if (params === null || typeof params !== "object") {
    throw new MlopsError("argument_invalid", `${owner}: expected an object of parameters`);
  }
  checkParamNames(owner, params, PARAM_NAMES, owner);
  const p = { ...DECISION_TREE_DEFAULTS } as DecisionTreeParams;
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined) (p as unknown as Record<string, unknown>)[key] = value;
  }
  if (p.criterion !== "squared_error" && p.criterion !== "friedman_mse") {
    throw paramError("criterion", `"squared_error" or "friedman_mse"`, p.criterion);
  }
  if (p.splitter !== "best" && p.splitter !== "hist" && p.splitter !== "auto") {
    throw paramError("splitter", `"best", "hist" or "auto"`, p.splitter);
  }
  if (p.maxDepth !== null && !(isInteger(p.maxDepth) && p.maxDepth >= 1)) {
    throw paramError("maxDepth", "an integer ≥ 1 or null", p.maxDepth);
  }
  if (!isCountOrFraction(p.minSamplesSplit, 2)) {
    throw paramError(
      "minSamplesSplit",
      "an integer ≥ 2 or a fraction in (0, 1)",
      p.minSamplesSplit,
    );
  }
  if (!isCountOrFraction(p.minSamplesLeaf, 1)) {
    throw paramError("minSamplesLeaf", "an integer ≥ 1 or a fraction in (0, 1)", p.minSamplesLeaf);
  }
  if (!(isFiniteNumber(p.minWeightFractionLeaf) && p.minWeightFractionLeaf >= 0)) {
    throw paramError("minWeightFractionLeaf", "a number in [0, 0.5]", p.minWeightFractionLeaf);
  }
  if (p.minWeightFractionLeaf > 0.5) {
    throw paramError("minWeightFractionLeaf", "a number in [0, 0.5]", p.minWeightFractionLeaf);
  }
  const mf = p.maxFeatures;
  if (!(mf === null || mf === "sqrt" || mf === "log2" || isCountOrFraction(mf, 1))) {
    throw paramError(
      "maxFeatures",
      `null, "sqrt", "log2", an integer ≥ 1 or a fraction in (0, 1)`,
      mf,
    );
  }
  if (p.maxLeafNodes !== null && !(isInteger(p.maxLeafNodes) && p.maxLeafNodes >= 2)) {
    throw paramError("maxLeafNodes", "an integer ≥ 2 or null", p.maxLeafNodes);
  }
  if (!(isFiniteNumber(p.minImpurityDecrease) && p.minImpurityDecrease >= 0)) {
    throw paramError("minImpurityDecrease", "a number ≥ 0", p.minImpurityDecrease);
  }
  if (!(isInteger(p.maxBins) && p.maxBins >= 2 && p.maxBins <= 255)) {
    throw paramError("maxBins", "an integer in 2..255", p.maxBins);
  }
  if (!(isInteger(p.seed) && p.seed >= 0 && p.seed <= 4294967295)) {
    throw paramError("seed", "an integer in 0..4294967295 (scikit-learn's random_state)", p.seed);
  }
  return p;
}

/** An integer ≥ `min`, or a non-integer fraction strictly between 0 and 1. */
function isCountOrFraction(value: unknown, min: number): boolean {
  if (!isFiniteNumber(value)) return false;
  if (Number.isInteger(value)) return value >= min;
  return value > 0 && value < 1;
}

/** Settings as the kernel reads them: counts and weights resolved against the data. */
export interface KernelParams {
  friedman: boolean;
  /** Deepest node depth (2^31 − 1 for unlimited). */
  maxDepth: number;
  minSamplesSplit: number;
  minSamplesLeaf: number;
  /** Smallest leaf weight (`minWeightFractionLeaf` × total weight). */
  minWeightLeaf: number;
  /** Features drawn per split, 1..featureCount. */
  maxFeatures: number;
  /** 0 for depth-first growth, else the leaf budget of best-first growth. */
  maxLeafNodes: number;
  minImpurityDecrease: number;
  seed: number;
}

/**
 * Resolves fractions and named settings as scikit-learn does at fit: `sampleCount` rows
 * (including rows of weight 0), `featureCount` features, `totalWeight` the sum of weights.
 */
export function resolveKernelParams(
  params: DecisionTreeParams,
  sampleCount: number,
  featureCount: number,
  totalWeight: number,
): KernelParams {
  const minSamplesLeaf = Number.isInteger(params.minSamplesLeaf)
    ? params.minSamplesLeaf
    : Math.ceil(params.minSamplesLeaf * sampleCount);
  let minSamplesSplit = Number.isInteger(params.minSamplesSplit)
    ? params.minSamplesSplit
    : Math.max(2, Math.ceil(params.minSamplesSplit * sampleCount));
  minSamplesSplit = Math.max(minSamplesSplit, 2 * minSamplesLeaf);
  const mf = params.maxFeatures;
  let maxFeatures: number;
  if (mf === null) maxFeatures = featureCount;
  else if (mf === "sqrt") maxFeatures = Math.max(1, Math.floor(Math.sqrt(featureCount)));
  else if (mf === "log2") maxFeatures = Math.max(1, Math.floor(Math.log2(featureCount)));
  else if (Number.isInteger(mf)) {
    if (mf > featureCount) {
      throw paramError(
        "maxFeatures",
        `at most ${featureCount} (the number of features) or a fraction`,
        mf,
      );
    }
    maxFeatures = mf;
  } else maxFeatures = Math.max(1, Math.floor(mf * featureCount));
  return {
    friedman: params.criterion === "friedman_mse",
    maxDepth: params.maxDepth ?? 2147483647,
    minSamplesSplit,
    minSamplesLeaf,
    minWeightLeaf: params.minWeightFractionLeaf * totalWeight,
    maxFeatures,
    maxLeafNodes: params.maxLeafNodes ?? 0,
    minImpurityDecrease: params.minImpurityDecrease,
    seed: params.seed,
  };
}
