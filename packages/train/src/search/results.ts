import type { MetricDefinition } from "@mlops/core";
import type { CandidateOutcome, Params } from "./session.js";

/**
 * Search results as columns, scikit-learn's `cv_results_`: one entry per evaluated candidate in
 * every column. Scores are the metrics' own values (an RMSE is positive) and `rank_test_<metric>`
 * ranks them the metric's way (1 = best; ties share the lower rank; failed fits rank last).
 *
 * - `params`: each candidate's parameters; `param_<name>`: one column per parameter name
 *   (undefined where a candidate has no such parameter, as with a list of grids).
 * - `split<k>_test_<metric>`, `mean_test_<metric>`, `std_test_<metric>`, `rank_test_<metric>`;
 *   with `returnTrainScore`, `split<k>_train_<metric>`, `mean_train_<metric>`,
 *   `std_train_<metric>`.
 * - `mean_fit_time`, `std_fit_time`, `mean_score_time`, `std_score_time` (seconds).
 * - `SuccessiveHalving` adds `iter`, `n_resources` and `candidate` (one id per candidate, the
 *   same in every round it reaches).
 *
 * @example
 * const { mean_test_rmse, param_maxDepth } = search.cvResults;
 * mean_test_rmse[search.bestIndex]; // search.bestScore
 */
export interface CvResults {
  params: Params[];
  mean_fit_time: number[];
  std_fit_time: number[];
  mean_score_time: number[];
  std_score_time: number[];
  [column: string]: unknown[];
}

/** Mean and population standard deviation (numpy's defaults); NaN when any value is NaN. */
export function meanAndStd(values: readonly number[]): { mean: number; std: number } {
  let sum = 0;
  for (const value of values) sum += value;
  const mean = sum / values.length;
  let squares = 0;
  for (const value of values) squares += (value - mean) * (value - mean);
  return { mean, std: Math.sqrt(squares / values.length) };
}

/**
 * Ranks with ties sharing the lowest rank (scipy's `rankdata(method="min")`) in the metric's
 * direction; NaN ranks after every number. `groups` (higher first) ranks whole groups ahead of
 * others, as successive halving ranks its last iteration first.
 */
export function rankScores(
  scores: readonly number[],
  greaterIsBetter: boolean,
  groups?: readonly number[],
): number[] {
  const better = (i: number, j: number): boolean => {
    if (groups !== undefined && groups[i] !== groups[j]) return groups[i] > groups[j];
    const a = scores[i];
    const b = scores[j];
    if (Number.isNaN(a)) return false;
    if (Number.isNaN(b)) return true;
    return greaterIsBetter ? a > b : a < b;
  };
  const order = scores.map((_, i) => i);
  order.sort((i, j) => (better(i, j) ? -1 : better(j, i) ? 1 : i - j));
  const ranks = new Array<number>(scores.length);
  for (let position = 0; position < order.length; position++) {
    const index = order[position];
    const previous = order[position - 1];
    ranks[index] =
      position > 0 && !better(previous, index) && !better(index, previous)
        ? ranks[previous]
        : position + 1;
  }
  return ranks;
}

/** Builds `cvResults` from candidate outcomes (`extra` columns are appended as given). */
export function buildCvResults(
  outcomes: readonly CandidateOutcome[],
  metrics: readonly MetricDefinition[],
  extra: Record<string, unknown[]> = {},
  groups?: readonly number[],
): CvResults {
  const results: CvResults = {
    params: outcomes.map((outcome) => ({ ...outcome.params })),
    mean_fit_time: [],
    std_fit_time: [],
    mean_score_time: [],
    std_score_time: [],
  };
  const names = new Set<string>();
  for (const outcome of outcomes) for (const name of Object.keys(outcome.params)) names.add(name);
  for (const name of [...names].sort()) {
    results[`param_${name}`] = outcomes.map((outcome) =>
      Object.hasOwn(outcome.params, name) ? outcome.params[name] : undefined,
    );
  }
  const splits = outcomes.length > 0 ? outcomes[0].fitTime.length : 0;
  const train = outcomes.length > 0 && outcomes[0].train !== undefined;
  metrics.forEach((metric, m) => {
    for (const [part, pick] of [
      ["test", (outcome: CandidateOutcome) => outcome.test[m]],
      ...(train ? [["train", (outcome: CandidateOutcome) => outcome.train![m]] as const] : []),
    ] as const) {
      for (let k = 0; k < splits; k++) {
        results[`split${k}_${part}_${metric.name}`] = outcomes.map((outcome) => pick(outcome)[k]);
      }
      const stats = outcomes.map((outcome) => meanAndStd(pick(outcome)));
      results[`mean_${part}_${metric.name}`] = stats.map((stat) => stat.mean);
      results[`std_${part}_${metric.name}`] = stats.map((stat) => stat.std);
      if (part === "test") {
        results[`rank_test_${metric.name}`] = rankScores(
          stats.map((stat) => stat.mean),
          metric.greaterIsBetter,
          groups,
        );
      }
    }
  });
  for (const outcome of outcomes) {
    const fit = meanAndStd(outcome.fitTime);
    const score = meanAndStd(outcome.scoreTime);
    results.mean_fit_time.push(fit.mean);
    results.std_fit_time.push(fit.std);
    results.mean_score_time.push(score.mean);
    results.std_score_time.push(score.std);
  }
  Object.assign(results, extra);
  return results;
}
