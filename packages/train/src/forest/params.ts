import { MlopsError } from "@mlops/core";
import { checkParamNames, isFiniteNumber, isInteger, paramError } from "../estimator/params.js";
import {
  DECISION_TREE_DEFAULTS,
  type DecisionTreeParams,
  validateTreeParams,
} from "../tree/params.js";

/**
 * Hyperparameters of `RandomForestRegressor`: every tree parameter (scikit-learn's names in
 * camelCase) plus the forest's own.
 *
 * @example
 * const params: Partial<RandomForestParams> = { nEstimators: 200, maxFeatures: "sqrt", seed: 7 };
 */
export interface RandomForestParams extends DecisionTreeParams {
  /** Trees in the forest, ≥ 1. */
  nEstimators: number;
  /** Fit each tree on a bootstrap sample (rows drawn with replacement); false: every row. */
  bootstrap: boolean;
  /**
   * Rows drawn per tree when bootstrapping: null = as many as the data has, an integer ≥ 1, or
   * a fraction in (0, 1) of the rows.
   */
  maxSamples: number | null;
  /**
   * Worker threads building trees: null = the machine's available parallelism (1 when the fit
   * runs in a worker thread itself, e.g. a search trial), 1 = in this thread. The forest is
   * the same for any value.
   */
  nJobs: number | null;
}

/**
 * scikit-learn's `RandomForestRegressor` defaults (100 trees, bootstrap, every feature at each
 * split: `maxFeatures: null` is scikit-learn's `1.0`), the tree defaults, and a fixed `seed` 0.
 *
 * @example
 * new RandomForestRegressor({ ...RANDOM_FOREST_DEFAULTS, nEstimators: 50 });
 */
export const RANDOM_FOREST_DEFAULTS: Readonly<RandomForestParams> = Object.freeze({
  ...DECISION_TREE_DEFAULTS,
  nEstimators: 100,
  bootstrap: true,
  maxSamples: null,
  nJobs: null,
});

const FOREST_KEYS = ["nEstimators", "bootstrap", "maxSamples", "nJobs"] as const;

/** The checked forest settings and the tree settings each tree is fitted with. */
export interface CheckedForestParams {
  tree: DecisionTreeParams;
  nEstimators: number;
  bootstrap: boolean;
  maxSamples: number | null;
  nJobs: number | null;
}

/** Checks every parameter (errors like `nEstimators: expected an integer ≥ 1, got 0`). */
export function validateForestParams(
  params: Partial<RandomForestParams>,
  owner = "RandomForestRegressor",
): CheckedForestParams {
  if (params === null || typeof params !== "object") {
    throw new MlopsError("argument_invalid", `${owner}: expected an object of parameters`);
  }
  checkParamNames(owner, params, Object.keys(RANDOM_FOREST_DEFAULTS), owner);
  const merged = { ...RANDOM_FOREST_DEFAULTS } as RandomForestParams;
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined) (merged as unknown as Record<string, unknown>)[key] = value;
  }
  const treeParams: Record<string, unknown> = { ...merged };
  for (const key of FOREST_KEYS) delete treeParams[key];
  const tree = validateTreeParams(treeParams as Partial<DecisionTreeParams>, owner);
  const { nEstimators, bootstrap, maxSamples, nJobs } = merged;
  if (!(isInteger(nEstimators) && nEstimators >= 1)) {
    throw paramError("nEstimators", "an integer ≥ 1", nEstimators);
  }
  if (typeof bootstrap !== "boolean") throw paramError("bootstrap", "a boolean", bootstrap);
  if (
    maxSamples !== null &&
    !(
      isFiniteNumber(maxSamples) &&
      (isInteger(maxSamples) ? maxSamples >= 1 : maxSamples > 0 && maxSamples < 1)
    )
  ) {
    throw paramError("maxSamples", "null, an integer ≥ 1 or a fraction in (0, 1)", maxSamples);
  }
  if (!bootstrap && maxSamples !== null) {
    throw paramError("maxSamples", "null when bootstrap is false (every row is used)", maxSamples);
  }
  if (nJobs !== null && !(isInteger(nJobs) && nJobs >= 1)) {
    throw paramError("nJobs", "null (all cores) or an integer ≥ 1", nJobs);
  }
  return { tree, nEstimators, bootstrap, maxSamples, nJobs };
}

/** Rows drawn per tree (scikit-learn's `_get_n_samples_bootstrap`). */
export function bootstrapSize(rowCount: number, maxSamples: number | null): number {
  if (maxSamples === null) return rowCount;
  if (Number.isInteger(maxSamples)) {
    if (maxSamples > rowCount) {
      throw paramError(
        "maxSamples",
        `at most ${rowCount} (the number of rows) or a fraction`,
        maxSamples,
      );
    }
    return maxSamples;
  }
  // Python's round(): halves go to the even neighbour.
  const scaled = rowCount * maxSamples;
  let rounded = Math.round(scaled);
  if (rounded - scaled === 0.5 && rounded % 2 !== 0) rounded -= 1;
  return Math.max(rounded, 1);
}
