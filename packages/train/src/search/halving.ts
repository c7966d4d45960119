import { createRandom, MlopsError } from "@mlops/core";
import type { Estimator } from "../estimator/estimator.js";
import type { Fold } from "../selection/folds.js";
import { BaseSearch, type SearchOptions, type SearchRunner } from "./search.js";
import type { CandidateOutcome, Params } from "./session.js";
import {
  type ParamDistributions,
  type ParamGrid,
  parameterGrid,
  parameterSampler,
} from "./space.js";

/**
 * Options of `SuccessiveHalving` (scikit-learn's `HalvingGridSearchCV` /
 * `HalvingRandomSearchCV`, names in camelCase).
 *
 * @example
 * const options: SuccessiveHalvingOptions = {
 *   estimator, paramGrid: { maxDepth: [2, 4, 6, 8] }, factor: 3, minResources: 200,
 * };
 */
export interface SuccessiveHalvingOptions<E extends Estimator<object> = Estimator<object>>
  extends SearchOptions<E> {
  /** A grid of candidates (as `GridSearch`)… */
  paramGrid?: ParamGrid;
  /** …or distributions to draw `nCandidates` from (as `RandomSearch`). */
  paramDistributions?: ParamDistributions;
  /**
   * Candidates drawn from `paramDistributions` (default `"exhaust"`: as many as the resources
   * allow in the first iteration, `maxResources / minResources`).
   */
  nCandidates?: number | "exhaust";
  /** Each iteration keeps the best `1 / factor` of the candidates, with `factor`× resources. */
  factor?: number;
  /**
   * What grows: `"nSamples"` (default: training rows, each fold's train and test parts
   * subsampled), or the name of an integer parameter (e.g. `"nEstimators"`).
   */
  resource?: string;
  /**
   * Resources of the first iteration: a count, `"smallest"` (2 × nSplits rows) or `"exhaust"`
   * (default: as large as lets the last iteration use nearly `maxResources`).
   */
  minResources?: number | "smallest" | "exhaust";
  /** Resources of a full evaluation (default for `"nSamples"`: the row count). */
  maxResources?: number | "auto";
  /** Run as many iterations as needed to end with few candidates, even at low resources. */
  aggressiveElimination?: boolean;
  /** Seed of the row subsamples and of the draws (default 0). */
  seed?: number;
}

/**
 * One iteration of a halving search: how many candidates, with what resources.
 *
 * @example
 * search.iterations[0]; // { iter: 0, nCandidates: 27, nResources: 240 }
 */
export interface HalvingIteration {
  iter: number;
  nCandidates: number;
  nResources: number;
}

/** ⌊log_factor(n)⌋ in exact integer arithmetic (n ≥ 1). */
function floorLog(n: number, factor: number): number {
  let power = 0;
  let value = factor;
  while (value <= n) {
    power++;
    value *= factor;
  }
  return power;
}

/** `count` rows of `rows`, drawn without replacement, ascending. */
function subsample(rows: Int32Array, count: number, seed: number): Int32Array {
  if (count >= rows.length) return rows;
  const random = createRandom(seed);
  const pool = Int32Array.from(rows);
  for (let i = 0; i < count; i++) {
    const j = i + random.int(pool.length - i);
    const swap = pool[i];
    pool[i] = pool[j];
    pool[j] = swap;
  }
  return pool.subarray(0, count).sort();
}

/**
 * Successive halving (scikit-learn's `HalvingGridSearchCV`): every candidate is first
 * cross-validated with few resources (rows, by default); the best `1 / factor` go on to the next
 * iteration with `factor` times the resources, until one iteration is left or the resources
 * run out. The best candidate is the best of the last iteration (ranks put that iteration
 * first); `cvResults` has a row per evaluation with `iter`, `n_resources` and `candidate` (the
 * candidate's index in the first iteration, the same in every round it reaches) columns.
 *
 * The number of iterations follows scikit-learn: `1 + ⌊log_factor(nCandidates)⌋` needed,
 * `1 + ⌊log_factor(maxResources / minResources)⌋` possible (computed exactly in integers).
 *
 * @example
 * const search = await new SuccessiveHalving({
 *   estimator: new DecisionTreeRegressor(),
 *   paramGrid: { maxDepth: [2, 4, 6, 8, 10, 12], minSamplesLeaf: [1, 5, 20] },
 *   factor: 3,
 * }).fit(frame, "quality");
 * search.iterations; // [{ iter: 0, nCandidates: 18, nResources: … }, …]
 */
export class SuccessiveHalving<
  E extends Estimator<object> = Estimator<object>,
> extends BaseSearch<E> {
  readonly candidates: Params[];
  #iterations: HalvingIteration[] = [];
  #minResources = 0;
  #maxResources = 0;

  constructor(options: SuccessiveHalvingOptions<E>) {
    super(options);
    const context = "SuccessiveHalving";
    const factor = options.factor ?? 3;
    if (!(typeof factor === "number" && Number.isInteger(factor) && factor >= 2)) {
      throw new MlopsError(
        "argument_invalid",
        `${context}: factor: expected an integer ≥ 2, got ${factor}`,
      );
    }
    if ((options.paramGrid === undefined) === (options.paramDistributions === undefined)) {
      throw new MlopsError(
        "argument_invalid",
        `${context}: expected either paramGrid or paramDistributions (exactly one)`,
      );
    }
    const resource = options.resource ?? "nSamples";
    if (typeof resource !== "string" || resource === "") {
      throw new MlopsError(
        "argument_invalid",
        `${context}: resource: expected "nSamples" or a parameter name`,
      );
    }
    if (resource !== "nSamples" && typeof options.maxResources !== "number") {
      throw new MlopsError(
        "argument_invalid",
        `${context}: maxResources: expected a number when the resource is the parameter ` +
          `"${resource}"`,
      );
    }
    const min = options.minResources ?? "exhaust";
    if (
      !(min === "smallest" || min === "exhaust" || (Number.isInteger(min) && (min as number) >= 1))
    ) {
      throw new MlopsError(
        "argument_invalid",
        `${context}: minResources: expected an integer ≥ 1, "smallest" or "exhaust", ` +
          `got ${JSON.stringify(min)}`,
      );
    }
    const max = options.maxResources ?? "auto";
    if (!(max === "auto" || (Number.isInteger(max) && (max as number) >= 1))) {
      throw new MlopsError(
        "argument_invalid",
        `${context}: maxResources: expected an integer ≥ 1 or "auto", got ${JSON.stringify(max)}`,
      );
    }
    const nCandidates = options.nCandidates ?? "exhaust";
    if (
      !(
        nCandidates === "exhaust" ||
        (Number.isInteger(nCandidates) && (nCandidates as number) >= 1)
      )
    ) {
      throw new MlopsError(
        "argument_invalid",
        `${context}: nCandidates: expected an integer ≥ 1 or "exhaust", ` +
          `got ${JSON.stringify(nCandidates)}`,
      );
    }
    this.candidates =
      options.paramGrid !== undefined ? parameterGrid(options.paramGrid, context) : [];
  }

  get #options(): SuccessiveHalvingOptions<E> {
    return this.options as SuccessiveHalvingOptions<E>;
  }

  /** The iterations of the last fit. */
  get iterations(): HalvingIteration[] {
    return this.#iterations.map((item) => ({ ...item }));
  }

  /** Resources of the first iteration (resolved at fit). */
  get minResources(): number {
    return this.#minResources;
  }

  /** Resources of a full evaluation (resolved at fit). */
  get maxResources(): number {
    return this.#maxResources;
  }

  protected describe(): Record<string, string | number | boolean> {
    return {
      factor: this.#options.factor ?? 3,
      resource: this.#options.resource ?? "nSamples",
      ...(this.#options.paramGrid !== undefined ? { n_candidates: this.candidates.length } : {}),
    };
  }

  protected async runSearch(runner: SearchRunner) {
    const context = "SuccessiveHalving.fit";
    const options = this.#options;
    const factor = options.factor ?? 3;
    const resource = options.resource ?? "nSamples";
    const bySamples = resource === "nSamples";
    const seed = options.seed ?? 0;
    const maxResources =
      options.maxResources === undefined || options.maxResources === "auto"
        ? runner.rowCount
        : options.maxResources;
    const smallest = bySamples ? 2 * runner.folds.length : 1;
    const min = options.minResources ?? "exhaust";
    let minResources = typeof min === "number" ? min : smallest;
    let candidates = this.candidates;
    if (options.paramDistributions !== undefined) {
      const wanted = options.nCandidates ?? "exhaust";
      const count =
        wanted === "exhaust" ? Math.max(1, Math.floor(maxResources / minResources)) : wanted;
      candidates = parameterSampler(options.paramDistributions, count, seed, "SuccessiveHalving");
    }
    const required = 1 + floorLog(candidates.length, factor);
    if (min === "exhaust") {
      minResources = Math.max(minResources, Math.floor(maxResources / factor ** (required - 1)));
    }
    if (minResources > maxResources) {
      throw new MlopsError(
        "argument_invalid",
        `${context}: minResources (${minResources}) is greater than maxResources (${maxResources})`,
      );
    }
    const possible = 1 + floorLog(Math.floor(maxResources / minResources), factor);
    const iterations = options.aggressiveElimination ? required : Math.min(possible, required);
    this.#minResources = minResources;
    this.#maxResources = maxResources;
    // Planned candidates per iteration, for progress totals.
    const planned: number[] = [];
    let left = candidates.length;
    for (let i = 0; i < iterations; i++) {
      planned.push(left);
      left = Math.ceil(left / factor);
    }
    runner.setTotal(planned.reduce((a, b) => a + b, 0));
    const outcomes: CandidateOutcome[] = [];
    const iterColumn: number[] = [];
    const resourcesColumn: number[] = [];
    const candidateColumn: number[] = [];
    // Which first-iteration candidate each evaluation is: one candidate, one id, every round.
    let ids = candidates.map((_, i) => i);
    this.#iterations = [];
    let lastRows: number[] = [];
    for (let iter = 0; iter < iterations; iter++) {
      const power = options.aggressiveElimination ? Math.max(0, iter - required + possible) : iter;
      const nResources = Math.min(Math.floor(factor ** power * minResources), maxResources);
      this.#iterations.push({ iter, nCandidates: candidates.length, nResources });
      let foldSet = 0;
      let evaluated = candidates;
      if (bySamples) {
        if (nResources < runner.rowCount) {
          const fraction = nResources / runner.rowCount;
          const folds: Fold[] = runner.folds.map((fold, k) => ({
            train: subsample(fold.train, Math.floor(fraction * fold.train.length), seed + 2 * k),
            test: subsample(fold.test, Math.floor(fraction * fold.test.length), seed + 2 * k + 1),
          }));
          if (folds.some((fold) => fold.train.length === 0 || fold.test.length === 0)) {
            throw new MlopsError(
              "argument_invalid",
              `${context}: ${nResources} rows leave a fold without train or test rows; raise ` +
                "minResources",
            );
          }
          foldSet = runner.addFolds(folds);
        }
      } else {
        evaluated = candidates.map((params) => ({ ...params, [resource]: nResources }));
      }
      const start = outcomes.length;
      const results = await runner.evaluate(evaluated, foldSet, {
        "mlops.iter": String(iter),
        "mlops.n_resources": String(nResources),
      });
      outcomes.push(...results);
      for (let i = 0; i < results.length; i++) {
        iterColumn.push(iter);
        resourcesColumn.push(nResources);
        candidateColumn.push(ids[i]);
      }
      lastRows = results.map((_, i) => start + i);
      if (iter === iterations - 1) break;
      // Keep the best ⌈n / factor⌉ (stable: earlier candidates win ties).
      const m = this.metrics.indexOf(this.metric);
      const means = results.map(
        (outcome) => outcome.test[m].reduce((a, b) => a + b, 0) / outcome.test[m].length,
      );
      const sign = this.metric.greaterIsBetter ? -1 : 1;
      const order = means
        .map((_, i) => i)
        .sort((a, b) => {
          const x = means[a];
          const y = means[b];
          if (Number.isNaN(x) !== Number.isNaN(y)) return Number.isNaN(x) ? 1 : -1;
          return sign * (x - y) || a - b;
        });
      const keep = Math.ceil(candidates.length / factor);
      const kept = order.slice(0, keep).sort((a, b) => a - b);
      candidates = kept.map((i) => candidates[i]);
      ids = kept.map((i) => ids[i]);
    }
    return {
      outcomes,
      extra: { iter: iterColumn, n_resources: resourcesColumn, candidate: candidateColumn },
      groups: iterColumn,
      bestAmong: lastRows,
    };
  }
}
