import { readFileSync } from "node:fs";
import {
  createPredictor,
  decodeArtifact,
  encodeArtifact,
  Frame,
  inferSchema,
  type MlopsError,
  numericColumn,
  profileFrame,
} from "@mlops/core";
import { beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt } from "../search/dist-fixture.js";
import { describeEstimatorConformance } from "../testing/estimator-conformance.js";
import { bootstrapSample, forestTreeSeeds } from "./build.js";
import type { RandomForestParams } from "./params.js";
import { OrderedSum, resolveForestWorker, resolveJobs } from "./pool.js";
import { RandomForestRegressor } from "./random-forest.js";

// Worker threads run the built dist/forest-worker.js: build it first when it is missing or older
// than the sources (CI builds before testing, so there this only compares timestamps).
beforeAll(() => ensureBuilt(), 180_000);

// scikit-learn 1.2.1 forests on the diabetes split (fixtures/make_fixtures.py).
interface Case {
  name: string;
  params: Record<string, number | string | boolean>;
  tree_random_states: number[];
  node_counts: number[];
  feature_importances: number[];
  test_predictions: number[];
  test_rmse: number;
}
const reference = JSON.parse(
  readFileSync(new URL("./fixtures/forest_reference.json", import.meta.url), "utf8"),
) as { cases: Case[] };
const diabetes = JSON.parse(
  readFileSync(new URL("../tree/fixtures/diabetes_reference.json", import.meta.url), "utf8"),
) as {
  feature_names: string[];
  X: number[][];
  y: number[];
  train_idx: number[];
  test_idx: number[];
  y_test: number[];
};
const frame = new Frame([
  ...diabetes.feature_names.map(
    (name, j) => [name, numericColumn(diabetes.X.map((row) => row[j]))] as const,
  ),
  ["y", numericColumn(diabetes.y)] as const,
]);
const train = frame.take(diabetes.train_idx);
const test = frame.take(diabetes.test_idx).drop(["y"]);
// scikit-learn's trees round inputs to float32 before comparing them with thresholds, where
// these models (and core's predictor) compare the float64 value: a test value a hair above its
// own float32 rounding, at a threshold equal to that rounding, goes the other way. Rounded
// test rows make both sides compare the same numbers.
const test32 = new Frame(
  diabetes.feature_names.map(
    (name) => [name, { kind: "number", values: test.numeric(name).map(Math.fround) }] as const,
  ),
);

function paramsOf(c: Case): Partial<RandomForestParams> {
  const p = c.params;
  return {
    nEstimators: p.n_estimators as number,
    seed: p.random_state as number,
    maxDepth: (p.max_depth as number | undefined) ?? null,
    minSamplesLeaf: (p.min_samples_leaf as number | undefined) ?? 1,
    maxFeatures: (p.max_features as RandomForestParams["maxFeatures"] | undefined) ?? null,
    maxSamples: (p.max_samples as number | undefined) ?? null,
    bootstrap: (p.bootstrap as boolean | undefined) ?? true,
    splitter: "best",
  };
}

function rmse(predictions: ArrayLike<number>, truth: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < truth.length; i++) sum += (predictions[i] - truth[i]) ** 2;
  return Math.sqrt(sum / truth.length);
}

describe("RandomForestRegressor against scikit-learn 1.2.1 (diabetes)", () => {
  it("draws scikit-learn's per-tree random states and bootstrap rows", () => {
    const seeds = forestTreeSeeds(0, 5);
    expect(Array.from(seeds)).toEqual(reference.cases[0].tree_random_states);
    // numpy: RandomState(209652396).randint(0, 353, 5)
    const rows = bootstrapSample(seeds[0], 353, 5);
    expect(rows).toHaveLength(5);
    for (const row of rows) expect(row >= 0 && row < 353).toBe(true);
  });

  for (const c of reference.cases) {
    it(`${c.name}: the same trees and test predictions`, () => {
      const forest = new RandomForestRegressor({ ...paramsOf(c), nJobs: 1 }).fit(train, "y");
      expect(forest.trees.map((tree) => tree.left.length)).toEqual(c.node_counts);
      const predictions = forest.predict(test32);
      // The same trees summed in the same order: the same numbers, bit for bit.
      expect(Array.from(predictions)).toEqual(c.test_predictions);
      expect(rmse(predictions, diabetes.y_test)).toBeCloseTo(c.test_rmse, 9);
      const importances = Object.values(forest.featureImportances);
      importances.forEach((value, j) => {
        expect(value).toBeCloseTo(c.feature_importances[j], 12);
      });
    });
  }
});

describe("RandomForestRegressor on worker threads", () => {
  const params = { nEstimators: 12, maxDepth: 6, maxFeatures: "sqrt" as const, seed: 42 };

  it("grows the same forest for any nJobs, and serves it exactly", () => {
    const inThread = new RandomForestRegressor({ ...params, nJobs: 1 }).fit(train, "y");
    const parallel = new RandomForestRegressor({ ...params, nJobs: 3 }).fit(train, "y");
    expect(inThread.jobsUsed).toBe(1);
    expect(parallel.jobsUsed).toBe(3);
    expect(parallel.trees).toEqual(inThread.trees);
    expect(parallel.predict(test)).toEqual(inThread.predict(test));
    expect(parallel.featureImportances).toEqual(inThread.featureImportances);
    const artifact = parallel.toArtifact();
    expect(artifact.manifest.kind).toBe("ensemble");
    expect(artifact.manifest.model).toMatchObject({ aggregation: "mean", treeCount: 12 });
    expect(Object.keys(artifact.arrays)).toContain("trees.11.threshold");
    const served = createPredictor(decodeArtifact(encodeArtifact(artifact)));
    const expected = parallel.predict(test);
    expect(served.predict(test)).toEqual(expected);
    test.toRows().forEach((row, i) => {
      expect(served.predictRow(row)).toBe(expected[i]);
    });
  });

  it("uses sample weights the same way on worker threads", () => {
    const weights = Float64Array.from({ length: train.rowCount }, (_, i) => 1 + (i % 3));
    const a = new RandomForestRegressor({ ...params, nJobs: 2 }).fit(train, "y", {
      sampleWeight: weights,
    });
    const b = new RandomForestRegressor({ ...params, nJobs: 1 }).fit(train, "y", {
      sampleWeight: weights,
    });
    expect(a.predict(test)).toEqual(b.predict(test));
    const unweighted = new RandomForestRegressor({ ...params, nJobs: 2 }).fit(train, "y");
    expect(unweighted.predict(test)).not.toEqual(a.predict(test));
  });

  it("reports a tree's error from its worker thread", () => {
    // One row weighs 1, the others 0, and each tree draws a single row: a tree whose draw is a
    // row of weight 0 has nothing to fit (scikit-learn fails the same way).
    const weights = new Float64Array(train.rowCount);
    weights[0] = 1;
    const forest = new RandomForestRegressor({ nEstimators: 4, maxSamples: 1, nJobs: 2 });
    const error = (() => {
      try {
        forest.fit(train, "y", { sampleWeight: weights });
      } catch (caught) {
        return caught as MlopsError;
      }
    })();
    expect(error?.code).toBe("data_invalid");
    expect(error?.message).toMatch(/RandomForestRegressor: fitTree: no row with a weight above 0/);
    expect(forest.isFitted).toBe(false);
  });
});

describe("RandomForestRegressor's training profile", () => {
  // 20,000 rows: past the profile's sample size (16,384), so its predictions are on a sample.
  const n = 20_000;
  const big = new Frame([
    ...[0, 1, 2].map(
      (j) =>
        [
          `x${j}`,
          numericColumn(Float64Array.from({ length: n }, (_, i) => Math.sin(i * (j + 1.3)) * 10)),
        ] as const,
    ),
    ["y", numericColumn(Float64Array.from({ length: n }, (_, i) => Math.cos(i * 0.7) + (i % 9)))],
  ]);
  const features = big.drop(["y"]);

  /** The profile made from `predict` on the rows the profile samples, after the fit. */
  function profileAfter(forest: RandomForestRegressor, data: Frame) {
    return profileFrame(data, inferSchema(data, { target: "y" }), {
      predict: (rows) => forest.predict(data.drop(["y"]).take(rows)),
    });
  }

  it("has the profile made after the fit, with predictions made while the trees were built", () => {
    for (const splitter of ["best", "hist"] as const) {
      for (const nJobs of [1, 2]) {
        const forest = new RandomForestRegressor({
          nEstimators: 5,
          maxDepth: 7,
          splitter,
          nJobs,
          seed: 1,
        }).fit(big, "y");
        expect(forest.trainingProfile?.sampleSize).toBe(16_384);
        // The whole profile: features (from the presorted columns for "best"), target, predictions.
        expect(forest.trainingProfile).toEqual(profileAfter(forest, big));
      }
    }
    const small = new RandomForestRegressor({ nEstimators: 4, nJobs: 2, seed: 1 }).fit(train, "y");
    expect(small.trainingProfile).toEqual(profileAfter(small, train));
    expect(small.trainingProfile?.predictions?.count).toBe(train.rowCount);
  });

  it("sums tree predictions in tree order whatever order they arrive in", () => {
    // 1 + 1e16 rounds to 1e16, so tree order gives 0; arrival order (2, 1, 0) would give 1.
    const sum = new OrderedSum(2);
    sum.add(2, Float64Array.of(-1e16, 0));
    expect(sum.added).toBe(0);
    sum.add(1, Float64Array.of(1e16, 2));
    expect(sum.added).toBe(0);
    expect([...sum.sum]).toEqual([0, 0]);
    sum.add(0, Float64Array.of(1, 3));
    expect(sum.added).toBe(3);
    expect([...sum.sum]).toEqual([0, 5]);
    sum.add(3, Float64Array.of(2, 1));
    expect(sum.added).toBe(4);
    expect([...sum.sum]).toEqual([2, 6]);
  });

  it("is made at fit unless profile is false, for any nJobs, from the same trees", () => {
    const params = { nEstimators: 3, maxDepth: 8, nJobs: 2, seed: 4 };
    const plain = new RandomForestRegressor(params).fit(big, "y", { profile: false });
    expect(plain.trainingProfile).toBeUndefined();
    const profiled = new RandomForestRegressor(params).fit(big, "y");
    expect(profiled.trees).toEqual(plain.trees);
    expect(profiled.predict(features)).toEqual(plain.predict(features));
  });
});

describe("RandomForestRegressor parameters", () => {
  it("checks the forest's own parameters and every tree parameter", () => {
    const fitWith = (params: Partial<RandomForestParams>) => () =>
      new RandomForestRegressor({ ...params, nJobs: 1 }).fit(train, "y");
    expect(fitWith({ nEstimators: 0 })).toThrow(/nEstimators: expected an integer ≥ 1, got 0/);
    expect(fitWith({ bootstrap: false, maxSamples: 0.5 })).toThrow(
      /maxSamples: expected null when/,
    );
    expect(fitWith({ maxSamples: 1.5 })).toThrow(/maxSamples: expected null, an integer/);
    expect(fitWith({ maxSamples: 400 })).toThrow(/maxSamples: expected at most 353/);
    expect(fitWith({ maxDepth: 0 })).toThrow(/maxDepth: expected an integer ≥ 1 or null/);
    expect(() => new RandomForestRegressor({ nJobs: 0 }).fit(train, "y")).toThrow(/nJobs/);
    const defaults = new RandomForestRegressor().getParams();
    expect(defaults).toMatchObject({ nEstimators: 100, bootstrap: true, maxFeatures: null });
  });

  it("uses at most one thread per tree, and every core by default on the main thread", () => {
    expect(resolveJobs(4, 2)).toBe(2);
    expect(resolveJobs(1, 100)).toBe(1);
    expect(resolveJobs(null, 1000)).toBeGreaterThanOrEqual(1);
  });

  it("finds its worker module in dist/ from either layout", () => {
    const files = new Set(["/x/train/package.json", "/x/train/dist/forest-worker.js"]);
    const exists = (path: string) => files.has(path);
    const manifest = () => JSON.stringify({ name: "@mlops/train" });
    expect(resolveForestWorker("file:///x/train/dist/index.js", exists, manifest)).toBe(
      "/x/train/dist/forest-worker.js",
    );
    expect(resolveForestWorker("file:///x/train/src/forest/pool.ts", exists, manifest)).toBe(
      "/x/train/dist/forest-worker.js",
    );
    expect(resolveForestWorker("file:///x/other/src/forest/pool.ts", () => false)).toBeUndefined();
  });
});

describeEstimatorConformance(
  () => new RandomForestRegressor({ nEstimators: 8, maxDepth: 5, nJobs: 1 }),
  {
    invalidParams: { nEstimators: 0 },
  },
);
describeEstimatorConformance(
  () => new RandomForestRegressor({ nEstimators: 6, maxFeatures: 2, minSamplesLeaf: 3, nJobs: 2 }),
  { name: "RandomForestRegressor (2 worker threads)", invalidParams: { maxSamples: -1 } },
);
