import { createRandom, Frame } from "@mlops/core";
import { describe, expect, it } from "vitest";
import { DecisionTreeRegressor } from "../tree/decision-tree.js";
import { SuccessiveHalving } from "./halving.js";
import { integer } from "./space.js";

function dataset(n: number): Frame {
  const random = createRandom(21);
  const a = new Float64Array(n);
  const b = new Float64Array(n);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    a[i] = random.next();
    b[i] = random.next();
    y[i] = 10 * Math.sin(3 * a[i]) + 4 * b[i] + random.next();
  }
  return new Frame({
    a: { kind: "number", values: a },
    b: { kind: "number", values: b },
    y: { kind: "number", values: y },
  });
}

const frame = dataset(1000);
// 27 candidates.
const grid = { maxDepth: [2, 4, 8], minSamplesLeaf: [1, 5, 25], minSamplesSplit: [2, 30, 90] };

describe("SuccessiveHalving", () => {
  it("follows scikit-learn's schedule (hand-computed) and keeps the best third", async () => {
    // 27 candidates, factor 3: 1 + ⌊log₃ 27⌋ = 4 iterations needed; "exhaust" starts at
    // max(2 × 5 folds, ⌊1000 / 3³⌋) = 37 rows, then 111, 333 and 999 rows.
    const search = await new SuccessiveHalving({
      estimator: new DecisionTreeRegressor(),
      paramGrid: grid,
      factor: 3,
      nJobs: 1,
    }).fit(frame, "y");
    expect(search.iterations).toEqual([
      { iter: 0, nCandidates: 27, nResources: 37 },
      { iter: 1, nCandidates: 9, nResources: 111 },
      { iter: 2, nCandidates: 3, nResources: 333 },
      { iter: 3, nCandidates: 1, nResources: 999 },
    ]);
    expect(search.minResources).toBe(37);
    expect(search.maxResources).toBe(1000);
    const results = search.cvResults;
    expect(results.iter).toEqual([
      ...Array(27).fill(0),
      ...Array(9).fill(1),
      ...Array(3).fill(2),
      3,
    ]);
    expect(results.n_resources.slice(26, 28)).toEqual([37, 111]);
    // One id per candidate: the rows of a later round repeat the ids of the ones kept.
    const ids = results.candidate as number[];
    expect(ids.slice(0, 27)).toEqual([...Array(27).keys()]);
    for (let row = 27; row < ids.length; row++) {
      expect(results.params[row]).toEqual(results.params[ids[row]]);
    }
    // The 9 of iteration 1 are the 9 best of iteration 0 (earlier candidates win ties).
    const first = (results.mean_test_rmse as number[]).slice(0, 27);
    const best = first
      .map((_, i) => i)
      .sort((i, j) => first[i] - first[j] || i - j)
      .slice(0, 9)
      .sort((i, j) => i - j);
    expect(results.params.slice(27, 36)).toEqual(best.map((i) => results.params[i]));
    // The best is the last iteration's; ranks put that iteration first.
    expect(search.bestIndex).toBe(39);
    expect(results.rank_test_rmse[39]).toBe(1);
    expect(search.bestEstimator.getParams().maxDepth).toBe(search.bestParams.maxDepth);
  });

  it("subsamples each fold's rows in proportion to the resources", async () => {
    const search = await new SuccessiveHalving({
      estimator: new DecisionTreeRegressor(),
      paramGrid: { maxDepth: [1, 2, 3, 4] },
      factor: 2,
      minResources: "smallest",
      nJobs: 1,
    }).fit(frame, "y");
    // smallest = 2 × 5 folds = 10 rows; 4 candidates need 3 iterations: 10, 20, 40 rows.
    expect(search.iterations.map((item) => item.nResources)).toEqual([10, 20, 40]);
    expect(search.iterations.map((item) => item.nCandidates)).toEqual([4, 2, 1]);
  });

  it("grows a parameter as the resource", async () => {
    const search = await new SuccessiveHalving({
      estimator: new DecisionTreeRegressor(),
      paramGrid: { minSamplesLeaf: [1, 2, 3, 5, 8, 13, 21, 34] },
      resource: "maxLeafNodes",
      minResources: 4,
      maxResources: 64,
      factor: 2,
      nJobs: 1,
    }).fit(frame, "y");
    // 8 candidates, factor 2: 4 iterations, leaves 4, 8, 16, 32.
    expect(search.iterations.map((item) => item.nResources)).toEqual([4, 8, 16, 32]);
    const results = search.cvResults;
    expect(results.param_maxLeafNodes).toEqual(results.n_resources);
    expect(search.bestParams.maxLeafNodes).toBe(32);
  });

  it("draws candidates from distributions", async () => {
    const search = await new SuccessiveHalving({
      estimator: new DecisionTreeRegressor(),
      paramDistributions: { maxDepth: integer(1, 8) },
      nCandidates: 9,
      factor: 3,
      seed: 5,
      nJobs: 1,
    }).fit(frame, "y");
    expect(search.iterations.map((item) => item.nCandidates)).toEqual([9, 3, 1]);
  });

  it("rejects inconsistent settings", () => {
    const estimator = new DecisionTreeRegressor();
    expect(() => new SuccessiveHalving({ estimator })).toThrow(
      "expected either paramGrid or paramDistributions",
    );
    expect(() => new SuccessiveHalving({ estimator, paramGrid: grid, factor: 1 })).toThrow(
      "factor: expected an integer ≥ 2, got 1",
    );
    expect(
      () => new SuccessiveHalving({ estimator, paramGrid: grid, resource: "maxLeafNodes" }),
    ).toThrow('maxResources: expected a number when the resource is the parameter "maxLeafNodes"');
  });
});
