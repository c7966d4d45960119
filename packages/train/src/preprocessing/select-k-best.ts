import { MlopsError, type PreprocessingStep } from "@mlops/core";
import { isInteger, paramError } from "../estimator/params.js";
import { checkChoice, checkColumnsParam } from "./params.js";
import { fRegression, mutualInfoRegression } from "./scores.js";
import {
  isCategory,
  Transformer,
  type TransformerInput,
  transformerColumns,
} from "./transformer.js";

/**
 * How `SelectKBest` scores a column against the target.
 *
 * @example
 * new SelectKBest({ scoreFunc: "mutual_info_regression", k: 5, seed: 0 });
 */
export type ScoreFunction = "f_regression" | "mutual_info_regression";

/**
 * Hyperparameters of `SelectKBest`.
 *
 * @example
 * const params: SelectKBestParams = {
 *   k: 10, scoreFunc: "f_regression", nNeighbors: 3, seed: 0, columns: null,
 * };
 */
export interface SelectKBestParams {
  /** How many of the scored columns to keep (an integer ≥ 0), or `"all"`. */
  k: number | "all";
  /**
   * `"f_regression"` (the F statistic of each column's correlation with the target) or
   * `"mutual_info_regression"` (a k-nearest-neighbour mutual information estimate).
   */
  scoreFunc: ScoreFunction;
  /** Neighbours of the mutual information estimate (scikit-learn's `n_neighbors`). */
  nNeighbors: number;
  /** Seed of the mutual information estimate's noise (scikit-learn's `random_state`). */
  seed: number;
  /** The numeric columns to score; null = every numeric column. Others pass through. */
  columns: string[] | null;
}

interface Selection {
  columns: string[];
  scores: Float64Array;
  pvalues: Float64Array | undefined;
  selected: string[];
}

/**
 * Keeps the `k` numeric columns that score highest against the target (scikit-learn's
 * `SelectKBest` with `f_regression` or `mutual_info_regression`); ties go to the later column,
 * as scikit-learn's stable sort decides. The unselected columns are removed by a core
 * `drop_columns` step; category columns and columns outside `columns` pass through.
 *
 * `mutual_info_regression` reproduces scikit-learn's estimator: features and target scaled to
 * unit variance, jittered with the same `1e-10`-sized noise drawn from numpy's generator seeded
 * with `seed` (scikit-learn's `random_state`), the Kraskov k-nearest-neighbour estimate with
 * `nNeighbors`. scikit-learn's default `random_state=None` is unseeded; here the default seed is
 * 0. Scored columns must have no missing values (impute first).
 *
 * @example
 * const select = new SelectKBest({ k: 5 }).fit(frame, "price");
 * select.selected; // the 5 kept column names, in frame order
 * select.scores; // { rooms: 310.2, age: 12.9, ... }
 */
export class SelectKBest extends Transformer<SelectKBestParams> {
  #selection: Selection | undefined;

  constructor(params: Partial<SelectKBestParams> = {}) {
    super({ k: 10, scoreFunc: "f_regression", nNeighbors: 3, seed: 0, columns: null }, params);
  }

  protected fitSteps({ frame, target, context }: TransformerInput): PreprocessingStep[] {
    this.#selection = undefined;
    const params = this.getParams();
    const k = params.k;
    if (!(k === "all" || (isInteger(k) && k >= 0))) {
      throw paramError("k", `an integer ≥ 0 or "all"`, k);
    }
    const scoreFunc = checkChoice("scoreFunc", params.scoreFunc, [
      "f_regression",
      "mutual_info_regression",
    ] as const);
    if (!(isInteger(params.nNeighbors) && params.nNeighbors >= 1)) {
      throw paramError("nNeighbors", "an integer ≥ 1", params.nNeighbors);
    }
    if (!(isInteger(params.seed) && params.seed >= 0 && params.seed <= 4294967295)) {
      throw paramError("seed", "an integer in 0..4294967295", params.seed);
    }
    if (target === undefined) {
      throw new MlopsError(
        "argument_invalid",
        `${context}: SelectKBest scores columns against the target: call fit(frame, target)`,
      );
    }
    const columns = transformerColumns(
      frame,
      checkColumnsParam(params.columns),
      (column) => !isCategory(column),
      "a numeric column (SelectKBest scores numbers)",
      context,
    );
    if (k !== "all" && k > columns.length) {
      throw paramError("k", `at most ${columns.length} (the number of scored columns) or "all"`, k);
    }
    const values = columns.map((name) => {
      const column = frame.numeric(name);
      const row = column.findIndex(Number.isNaN);
      if (row >= 0) {
        throw new MlopsError(
          "data_invalid",
          `${context}: column "${name}" has a missing value (NaN) at row ${row}; impute first`,
        );
      }
      return column;
    });
    let scores: Float64Array;
    let pvalues: Float64Array | undefined;
    if (scoreFunc === "f_regression") ({ scores, pvalues } = fRegression(values, target));
    else scores = mutualInfoRegression(values, target, params.nNeighbors, params.seed);
    const keep = supportMask(scores, k);
    const selected = columns.filter((_, j) => keep[j]);
    const dropped = columns.filter((_, j) => !keep[j]);
    this.#selection = { columns, scores, pvalues, selected };
    return dropped.length === 0 ? [] : [{ kind: "drop_columns", columns: dropped }];
  }

  #fitted(action: string): Selection {
    this.requireFitted(action);
    return this.#selection!;
  }

  /** Each scored column's score (scikit-learn's `scores_`). */
  get scores(): Record<string, number> {
    const { columns, scores } = this.#fitted("reading scores");
    return Object.fromEntries(columns.map((name, j) => [name, scores[j]]));
  }

  /** Each scored column's p-value (`f_regression` only; scikit-learn's `pvalues_`). */
  get pvalues(): Record<string, number> | undefined {
    const { columns, pvalues } = this.#fitted("reading pvalues");
    return pvalues && Object.fromEntries(columns.map((name, j) => [name, pvalues[j]]));
  }

  /** The kept columns, in frame order (scikit-learn's `get_support()` as names). */
  get selected(): string[] {
    return [...this.#fitted("reading selected").selected];
  }
}

/**
 * scikit-learn's `_get_support_mask`: a stable ascending sort of the scores (NaN lowest),
 * the last `k` kept.
 */
function supportMask(scores: Float64Array, k: number | "all"): Uint8Array {
  const count = scores.length;
  const mask = new Uint8Array(count);
  if (k === "all") return mask.fill(1);
  const clean = Float64Array.from(scores, (s) => (Number.isNaN(s) ? -Number.MAX_VALUE : s));
  const order = Array.from({ length: count }, (_, j) => j).sort((a, b) =>
    clean[a] < clean[b] ? -1 : clean[a] > clean[b] ? 1 : a - b,
  );
  for (let i = count - k; i < count; i++) mask[order[i]] = 1;
  return mask;
}
