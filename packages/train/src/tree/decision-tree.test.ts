import {
  createPredictor,
  decodeArtifact,
  encodeArtifact,
  Frame,
  inferSchema,
  MlopsError,
  numericColumn,
  profileFrame,
} from "@mlops/core";
import { samplePositions } from "@mlops/core/internal";
import { describe, expect, it } from "vitest";
import { describeEstimatorConformance } from "../testing/estimator-conformance.js";
import { DecisionTreeRegressor } from "./decision-tree.js";
import { fitTree, growTree } from "./fit-tree.js";
import type { DecisionTreeParams } from "./params.js";
import { predictTree, predictTreeRows, sortedLeafPredictions } from "./predict.js";
import { prepareTreeData } from "./tree-data.js";

function frame(columns: Record<string, number[]>): Frame {
  return new Frame(
    Object.entries(columns).map(
      ([name, values]) => [name, { kind: "number", values: Float64Array.from(values) }] as const,
    ),
  );
}

function errorOf(action: () => unknown): MlopsError {
  try {
    action();
  } catch (error) {
    if (MlopsError.isInstance(error)) return error;
    throw error;
  }
  throw new Error("expected an error");
}

describeEstimatorConformance(() => new DecisionTreeRegressor({ maxDepth: 5, splitter: "best" }), {
  name: "DecisionTreeRegressor (best)",
  invalidParams: { maxDepth: 0 },
});
describeEstimatorConformance(
  () => new DecisionTreeRegressor({ maxDepth: 6, splitter: "hist", maxFeatures: 3, seed: 4 }),
  { name: "DecisionTreeRegressor (hist, maxFeatures)", invalidParams: { maxFeatures: "half" } },
);

describe("DecisionTreeRegressor: hand-computed trees", () => {
  // x = 1..4, y = 1, 1, 3, 5. Candidate splits (sum of squared errors of the children):
  // 1.5 → 0 + 8 = 8; 2.5 → 0 + 2 = 2; 3.5 → 8/3 + 0. So the stump splits at 2.5 into means
  // 1 and 4; root impurity = variance of y = 2.75, children 0 and 1.
  const data = frame({ x: [1, 2, 3, 4], y: [1, 1, 3, 5] });

  it("fits a stump on four points", () => {
    const model = new DecisionTreeRegressor({ maxDepth: 1 }).fit(data, "y");
    const { tree } = model;
    expect(Array.from(tree.left)).toEqual([1, -1, -1]);
    expect(Array.from(tree.right)).toEqual([2, -1, -1]);
    expect(Array.from(tree.feature)).toEqual([0, -2, -2]);
    expect(Array.from(tree.threshold)).toEqual([2.5, -2, -2]);
    expect(Array.from(tree.value)).toEqual([2.5, 1, 4]);
    expect(Array.from(tree.impurity)).toEqual([2.75, 0, 1]);
    expect(Array.from(tree.nodeSamples)).toEqual([4, 2, 2]);
    expect(Array.from(model.predict(frame({ x: [0, 2.5, 2.6, 9] })))).toEqual([1, 1, 4, 4]);
    expect(model.featureImportances).toEqual({ x: 1 });
    expect([model.nodeCount, model.depth, model.leafCount]).toEqual([3, 1, 2]);
  });

  it("grows until leaves are pure without maxDepth", () => {
    const model = new DecisionTreeRegressor().fit(data, "y");
    // Left leaf {1, 1} is pure; right {3, 5} splits at 3.5.
    expect(model.leafCount).toBe(3);
    expect(Array.from(model.predict(data))).toEqual([1, 1, 3, 5]);
    expect(model.depth).toBe(2);
  });

  it("weights rows like repeated rows", () => {
    const weighted = new DecisionTreeRegressor({ maxDepth: 1 }).fit(data, "y", {
      sampleWeight: [1, 1, 1, 3],
    });
    const repeated = new DecisionTreeRegressor({ maxDepth: 1 }).fit(
      frame({ x: [1, 2, 3, 4, 4, 4], y: [1, 1, 3, 5, 5, 5] }),
      "y",
    );
    expect(weighted.tree.threshold).toEqual(repeated.tree.threshold);
    expect(weighted.tree.value).toEqual(repeated.tree.value);
    expect(weighted.tree.nodeSamples).toEqual(repeated.tree.nodeSamples);
    // Split at 3.5: {1, 1, 3} mean 5/3 and {5 ×3}.
    expect(weighted.tree.threshold[0]).toBe(3.5);
  });

  it("leaves rows of weight 0 out", () => {
    const model = new DecisionTreeRegressor({ maxDepth: 1 }).fit(data, "y", {
      sampleWeight: [1, 1, 0, 1],
    });
    // Rows x = 1, 2, 4: the split goes between 2 and 4, at 3.
    expect(model.tree.threshold[0]).toBe(3);
    expect(Array.from(model.tree.value)).toEqual([7 / 3, 1, 5]);
  });

  it("respects minSamplesLeaf, minSamplesSplit and minImpurityDecrease", () => {
    const leaf = new DecisionTreeRegressor({ minSamplesLeaf: 2 }).fit(data, "y");
    expect(leaf.leafCount).toBe(2);
    const split = new DecisionTreeRegressor({ minSamplesSplit: 3 }).fit(data, "y");
    // The root splits (4 rows), its children (2 rows each) may not.
    expect(split.leafCount).toBe(2);
    // Root improvement = 2.75 − (2/4·0 + 2/4·1) = 2.25; second split {3, 5}:
    // 2/4 × (1 − 0) = 0.5.
    expect(new DecisionTreeRegressor({ minImpurityDecrease: 0.5 }).fit(data, "y").leafCount).toBe(
      3,
    );
    expect(new DecisionTreeRegressor({ minImpurityDecrease: 0.6 }).fit(data, "y").leafCount).toBe(
      2,
    );
    expect(new DecisionTreeRegressor({ minImpurityDecrease: 2.3 }).fit(data, "y").leafCount).toBe(
      1,
    );
  });

  it("merges float32-equal values like scikit-learn (FEATURE_THRESHOLD)", () => {
    // 1 and 1 + 2^-23 are adjacent float32 values; 1 + 1e-7 rounds up to the second in float32,
    // so scikit-learn sees one value and cannot split between them.
    const near = frame({ x: [1, 1, 1 + 2 ** -23, 1 + 2 ** -23], y: [0, 0, 10, 10] });
    expect(new DecisionTreeRegressor().fit(near, "y").leafCount).toBe(1);
    const apart = frame({ x: [2, 2, 2 + 2 ** -22, 2 + 2 ** -22], y: [0, 0, 10, 10] });
    const split = new DecisionTreeRegressor().fit(apart, "y");
    expect(split.leafCount).toBe(2);
    expect(split.tree.threshold[0]).toBe(2 + 2 ** -23);
  });

  it("grows best-first with maxLeafNodes", () => {
    // y has a big step at 4.5 and a small one at 2.5: with 2 leaves only the big step.
    const steps = frame({ x: [1, 2, 3, 4, 5, 6, 7, 8], y: [0, 0, 1, 1, 10, 10, 10, 10] });
    const two = new DecisionTreeRegressor({ maxLeafNodes: 2 }).fit(steps, "y");
    expect(two.leafCount).toBe(2);
    expect(two.tree.threshold[0]).toBe(4.5);
    const three = new DecisionTreeRegressor({ maxLeafNodes: 3 }).fit(steps, "y");
    expect(three.leafCount).toBe(3);
    expect(Array.from(three.predict(steps))).toEqual([0, 0, 1, 1, 10, 10, 10, 10]);
    expect(new DecisionTreeRegressor({ maxLeafNodes: 50 }).fit(steps, "y").leafCount).toBe(3);
  });
});

describe("DecisionTreeRegressor: missing values (scikit-learn ≥ 1.3 semantics)", () => {
  it("sends missing values to the better side and records it", () => {
    // NaN rows have large targets like the right side, so they go right... with x <= 2.5.
    const data = frame({
      x: [1, 2, 3, 4, Number.NaN, Number.NaN],
      y: [0, 0, 10, 10, 10, 10],
    });
    const model = new DecisionTreeRegressor({ maxDepth: 1, splitter: "best" }).fit(data, "y");
    expect(model.tree.threshold[0]).toBe(2.5);
    expect(model.tree.missingLeft[0]).toBe(0);
    expect(Array.from(model.predict(frame({ x: [Number.NaN, 0] })))).toEqual([10, 0]);
    const left = frame({ x: [1, 2, 3, 4, Number.NaN, Number.NaN], y: [0, 0, 10, 10, 0, 0] });
    const leftModel = new DecisionTreeRegressor({ maxDepth: 1 }).fit(left, "y");
    expect(leftModel.tree.missingLeft[0]).toBe(1);
    expect(Array.from(leftModel.predict(frame({ x: [Number.NaN] })))).toEqual([0]);
  });

  it("splits missing against present values with threshold +Infinity", () => {
    const data = frame({ x: [1, 2, 3, Number.NaN, Number.NaN], y: [1, 1, 1, 9, 9] });
    for (const splitter of ["best", "hist"] as const) {
      const model = new DecisionTreeRegressor({ maxDepth: 1, splitter }).fit(data, "y");
      expect(model.tree.threshold[0]).toBe(Number.POSITIVE_INFINITY);
      expect(model.tree.missingLeft[0]).toBe(0);
      const probe = frame({ x: [Number.NaN, 1e300] });
      expect(Array.from(model.predict(probe))).toEqual([9, 1]);
      // The +Infinity threshold survives the artifact's binary payload.
      const served = createPredictor(decodeArtifact(encodeArtifact(model.toArtifact())));
      expect(Array.from(served.predict(probe))).toEqual([9, 1]);
    }
  });

  it("sends NaN to the child with more training rows where a split saw none", () => {
    const data = frame({ x: [1, 2, 3, 4, 5], y: [0, 10, 10, 10, 10] });
    const model = new DecisionTreeRegressor({ maxDepth: 1 }).fit(data, "y");
    expect(model.tree.missingLeft[0]).toBe(0); // 1 row left, 4 right
    expect(model.predict(frame({ x: [Number.NaN] }))[0]).toBe(10);
    const mirrored = new DecisionTreeRegressor({ maxDepth: 1 }).fit(
      frame({ x: [1, 2, 3, 4, 5], y: [0, 0, 0, 0, 10] }),
      "y",
    );
    expect(mirrored.tree.missingLeft[0]).toBe(1);
    expect(mirrored.predict(frame({ x: [Number.NaN] }))[0]).toBe(0);
  });

  it("routes NaN the same way in predict and in the served artifact", () => {
    const n = 300;
    const x = Array.from({ length: n }, (_, i) => (i % 5 === 0 ? Number.NaN : (i * 7) % 13));
    const z = Array.from({ length: n }, (_, i) => (i % 7 === 0 ? Number.NaN : (i * 3) % 11));
    const y = x.map((v, i) => (Number.isNaN(v) ? 5 : v) + (Number.isNaN(z[i]) ? -3 : z[i] / 2));
    const data = frame({ x, z, y });
    for (const splitter of ["best", "hist"] as const) {
      const model = new DecisionTreeRegressor({ maxDepth: 6, splitter }).fit(data, "y");
      const predictor = createPredictor(model.toArtifact());
      const probe = frame({
        x: [Number.NaN, 3, Number.NaN, 12],
        z: [1, Number.NaN, Number.NaN, 4],
      });
      expect(predictor.predict(probe)).toEqual(model.predict(probe));
      // The tree learned the missing-value effects.
      let error = 0;
      const fitted = model.predict(data);
      for (let i = 0; i < n; i++) error += (fitted[i] - y[i]) ** 2;
      expect(error / n).toBeLessThan(0.5);
    }
  });
});

describe("DecisionTreeRegressor: hist splitter", () => {
  const n = 3000;
  const columns: Record<string, number[]> = { a: [], b: [], c: [], y: [] };
  let state = 7;
  const random = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
  for (let i = 0; i < n; i++) {
    const a = random();
    const b = random();
    const c = random();
    columns.a.push(a);
    columns.b.push(b);
    columns.c.push(c);
    columns.y.push(10 * Math.sin(3 * a) + 5 * b * b + c + 0.3 * random());
  }
  const data = frame(columns);

  it("is close to the exact tree", () => {
    const exact = new DecisionTreeRegressor({ maxDepth: 6, splitter: "best" }).fit(data, "y");
    const hist = new DecisionTreeRegressor({ maxDepth: 6, splitter: "hist" }).fit(data, "y");
    expect(hist.splitterUsed).toBe("hist");
    const y = data.numeric("y");
    const rmse = (p: Float64Array) => {
      let s = 0;
      for (let i = 0; i < n; i++) s += (p[i] - y[i]) ** 2;
      return Math.sqrt(s / n);
    };
    const exactError = rmse(exact.predict(data));
    expect(rmse(hist.predict(data))).toBeLessThan(exactError * 1.02);
    expect(hist.tree.feature[0]).toBe(exact.tree.feature[0]);
    expect(Math.abs(hist.tree.threshold[0] - exact.tree.threshold[0])).toBeLessThan(0.01);
  });

  it("puts thresholds on bin edges that reproduce the binned split", () => {
    const hist = new DecisionTreeRegressor({ maxDepth: 8, splitter: "hist", maxBins: 16 }).fit(
      data,
      "y",
    );
    // Training rows land in leaves whose value is the mean of exactly those rows.
    const leafOf = (row: number) => {
      const { left, right, feature, threshold } = hist.tree;
      const names = ["a", "b", "c"];
      let node = 0;
      while (left[node] >= 0) {
        const x = data.numeric(names[feature[node]])[row];
        node = x <= threshold[node] ? left[node] : right[node];
      }
      return node;
    };
    const sums = new Map<number, [number, number]>();
    const y = data.numeric("y");
    for (let i = 0; i < n; i++) {
      const leaf = leafOf(i);
      const [s, c] = sums.get(leaf) ?? [0, 0];
      sums.set(leaf, [s + y[i], c + 1]);
    }
    for (const [leaf, [s, c]] of sums) {
      expect(hist.tree.nodeSamples[leaf]).toBe(c);
      expect(hist.tree.value[leaf]).toBeCloseTo(s / c, 9);
    }
    // 16 bins: at most 15 distinct thresholds per feature.
    const thresholds = new Set(hist.tree.threshold);
    expect(thresholds.size).toBeLessThanOrEqual(3 * 15 + 1);
  });

  it("grows best-first, with weights and leaf sizes, like the exact splitter", () => {
    const weights = Array.from({ length: n }, (_, i) => (i % 4) * 0.5);
    for (const splitter of ["best", "hist"] as const) {
      const model = new DecisionTreeRegressor({
        splitter,
        maxLeafNodes: 17,
        minSamplesLeaf: 20,
      }).fit(data, "y", { sampleWeight: weights });
      expect(model.leafCount).toBe(17);
      const { left, nodeSamples } = model.tree;
      let total = 0;
      for (let node = 0; node < model.nodeCount; node++) {
        if (left[node] < 0) total += nodeSamples[node];
      }
      // Leaves hold all the weight (rows of weight 0 are left out).
      expect(total).toBeCloseTo(
        weights.reduce((a, b) => a + b, 0),
        9,
      );
    }
  });

  it("uses hist automatically from 200,000 rows", () => {
    const small = new DecisionTreeRegressor({ maxDepth: 2 }).fit(data, "y");
    expect(small.splitterUsed).toBe("best");
    const rows = 200_000;
    const x = Float64Array.from({ length: rows }, (_, i) => (i * 7919) % rows);
    const large = new Frame({
      x: { kind: "number", values: x },
      y: { kind: "number", values: x.map((v) => (v < 50_000 ? 1 : 3)) },
    });
    const auto = new DecisionTreeRegressor({ maxDepth: 2 }).fit(large, "y");
    expect(auto.splitterUsed).toBe("hist");
    // 255 quantile bins: the step at 50,000 falls inside a bin of ~785 values.
    expect(Math.abs(auto.tree.threshold[0] - 50_000)).toBeLessThan(800);
    expect(auto.depth).toBe(2);
  });
});

describe("DecisionTreeRegressor: parameters", () => {
  const data = frame({ x: [1, 2, 3, 4, 5, 6], z: [1, 0, 1, 0, 1, 0], y: [1, 2, 3, 4, 5, 6] });
  const cases: [Record<string, unknown>, string][] = [
    [{ maxDepth: 0 }, "maxDepth: expected an integer ≥ 1 or null, got 0"],
    [{ maxDepth: 2.5 }, "maxDepth: expected an integer ≥ 1 or null, got 2.5"],
    [{ maxDepth: "3" }, 'maxDepth: expected an integer ≥ 1 or null, got "3"'],
    [{ criterion: "mae" }, 'criterion: expected "squared_error" or "friedman_mse", got "mae"'],
    [{ splitter: "random" }, 'splitter: expected "best", "hist" or "auto", got "random"'],
    [
      { minSamplesSplit: 1 },
      "minSamplesSplit: expected an integer ≥ 2 or a fraction in (0, 1), got 1",
    ],
    [
      { minSamplesSplit: 1.5 },
      "minSamplesSplit: expected an integer ≥ 2 or a fraction in (0, 1), got 1.5",
    ],
    [
      { minSamplesLeaf: 0 },
      "minSamplesLeaf: expected an integer ≥ 1 or a fraction in (0, 1), got 0",
    ],
    [
      { minSamplesLeaf: -0.5 },
      "minSamplesLeaf: expected an integer ≥ 1 or a fraction in (0, 1), got -0.5",
    ],
    [
      { minWeightFractionLeaf: 0.6 },
      "minWeightFractionLeaf: expected a number in [0, 0.5], got 0.6",
    ],
    [{ minWeightFractionLeaf: -1 }, "minWeightFractionLeaf: expected a number in [0, 0.5], got -1"],
    [
      { maxFeatures: 0 },
      'maxFeatures: expected null, "sqrt", "log2", an integer ≥ 1 or a fraction in (0, 1), got 0',
    ],
    [
      { maxFeatures: "all" },
      "maxFeatures: expected null, " +
        '"sqrt", "log2", an integer ≥ 1 or a fraction in (0, 1), got "all"',
    ],
    [
      { maxFeatures: 3 },
      "maxFeatures: expected at most 2 (the number of features) or a fraction, got 3",
    ],
    [{ maxLeafNodes: 1 }, "maxLeafNodes: expected an integer ≥ 2 or null, got 1"],
    [{ minImpurityDecrease: -0.1 }, "minImpurityDecrease: expected a number ≥ 0, got -0.1"],
    [{ minImpurityDecrease: Number.NaN }, "minImpurityDecrease: expected a number ≥ 0, got NaN"],
    [{ maxBins: 256 }, "maxBins: expected an integer in 2..255, got 256"],
    [
      { seed: -1 },
      "seed: expected an integer in 0..4294967295 (scikit-learn's random_state), got -1",
    ],
    [{ depth: 3 }, 'DecisionTreeRegressor: unknown parameter "depth"'],
  ];
  for (const [params, message] of cases) {
    it(`rejects ${JSON.stringify(params)} at fit`, () => {
      const model = new DecisionTreeRegressor(params as Partial<DecisionTreeParams>);
      const error = errorOf(() => model.fit(data, "y"));
      expect(error.code).toBe("argument_invalid");
      expect(error.message).toContain(message);
      expect(model.isFitted).toBe(false);
    });
  }

  it("accepts fractions and named maxFeatures", () => {
    for (const params of [
      { minSamplesSplit: 0.5, minSamplesLeaf: 0.2 },
      { maxFeatures: "sqrt" as const },
      { maxFeatures: "log2" as const },
      { maxFeatures: 0.5 },
      { maxFeatures: 1, seed: 3 },
      { minWeightFractionLeaf: 0.5 },
      { criterion: "friedman_mse" as const, maxDepth: null },
    ]) {
      expect(new DecisionTreeRegressor(params).fit(data, "y").isFitted).toBe(true);
    }
    // minSamplesLeaf 0.2 of 6 rows = ceil(1.2) = 2 rows per leaf.
    const leafy = new DecisionTreeRegressor({ minSamplesLeaf: 0.2 }).fit(data, "y");
    for (let node = 0; node < leafy.nodeCount; node++) {
      expect(leafy.tree.nodeSamples[node]).toBeGreaterThanOrEqual(2);
    }
  });

  it("changes settings with setParams, validated at the next fit", () => {
    const model = new DecisionTreeRegressor({ maxDepth: 1 }).fit(data, "y");
    expect(model.leafCount).toBe(2);
    model.setParams({ maxDepth: null });
    expect(model.leafCount).toBe(2);
    expect(model.fit(data, "y").leafCount).toBe(6);
    model.setParams({ maxDepth: -1 });
    expect(errorOf(() => model.fit(data, "y")).message).toContain("maxDepth");
  });

  it("draws features with the seed when maxFeatures is below the feature count", () => {
    const wide: Record<string, number[]> = { y: [] };
    for (let j = 0; j < 6; j++) wide[`f${j}`] = [];
    for (let i = 0; i < 200; i++) {
      let y = 0;
      for (let j = 0; j < 6; j++) {
        const v = ((i * (j + 3) * 7919) % 211) / 211;
        wide[`f${j}`].push(v);
        y += (j + 1) * v;
      }
      wide.y.push(y);
    }
    const w = frame(wide);
    const grow = (seed: number) =>
      new DecisionTreeRegressor({ maxDepth: 4, maxFeatures: 2, seed }).fit(w, "y").tree;
    expect(grow(1)).toEqual(grow(1));
    const roots = new Set([1, 2, 3, 4, 5, 6, 7, 8].map((seed) => grow(seed).feature[0]));
    expect(roots.size).toBeGreaterThan(1);
  });
});

describe("DecisionTreeRegressor's training profile", () => {
  /** Columns of the kinds the profile treats apart, `n` rows. */
  function awkward(n: number): Frame {
    const make = (f: (i: number) => number) =>
      numericColumn(Float64Array.from({ length: n }, (_, i) => f(i)));
    return new Frame([
      ["smooth", make((i) => Math.sin(i * 1.7) * 10)],
      ["integers", make((i) => (i * 7919) % 13)],
      ["gaps", make((i) => (i % 13 === 0 ? Number.NaN : Math.cos(i) * 3))],
      // Doubles a few to a float32, and thousands on one (left to the usual profiling).
      ["float32 ties", make((i) => Math.fround(Math.sin(i)) * (1 + (i % 3) * 1e-12))],
      ["one float32", make((i) => 1 + ((i * 31) % 5000) * 1e-13)],
      ["y", make((i) => Math.cos(i * 0.3) + (i % 5))],
    ]);
  }

  it("is the profile of the training frame with the tree's predictions, for both splitters", () => {
    for (const n of [3_000, 20_000]) {
      const frame = awkward(n);
      const features = frame.drop(["y"]);
      for (const splitter of ["best", "hist"] as const) {
        for (const sampleWeight of [undefined, Float64Array.from({ length: n }, (_, i) => i % 4)]) {
          const tree = new DecisionTreeRegressor({ maxDepth: 6, splitter }).fit(frame, "y", {
            sampleWeight,
          });
          const expected = profileFrame(frame, inferSchema(frame, { target: "y" }), {
            predict: (rows) => tree.predict(features.take(rows)),
          });
          expect(tree.trainingProfile).toEqual(expected);
        }
      }
    }
  });

  it("knows each training row's leaf as it grows, and sorts predictions from the leaves", () => {
    const frame = awkward(4_000);
    const features = frame.drop(["y"]);
    const y = frame.numeric("y");
    const columns = features.names.map((name) => features.numeric(name));
    const sample = samplePositions(4_000, 1_500);
    const settings: Partial<DecisionTreeParams>[] = [
      { maxDepth: 3 },
      { maxDepth: 12, minSamplesLeaf: 2 },
      { maxLeafNodes: 40 },
      { maxLeafNodes: 5, maxDepth: 6 },
      { maxDepth: 8, maxFeatures: 2, seed: 3 },
      { maxDepth: 8, minImpurityDecrease: 0.01 },
    ];
    for (const splitter of ["best", "hist"] as const) {
      for (const params of settings) {
        for (const weight of [undefined, Float64Array.from({ length: 4_000 }, (_, i) => i % 3)]) {
          const data = prepareTreeData(features, features.names, { splitter });
          const leafOf = new Int32Array(4_000).fill(-1);
          const ids: number[] = [];
          const counts: number[] = [];
          const twice: number[] = [];
          const tree = growTree(data, y, weight, undefined, params, (id, rows) => {
            let count = 0;
            for (const row of rows) {
              if (leafOf[row] !== -1) twice.push(row);
              leafOf[row] = id;
              if (sample.includes(row)) count++;
            }
            ids.push(id);
            counts.push(count);
          });
          expect(tree).toEqual(fitTree(data, y, weight, undefined, params));
          const rule = splitter === "best" ? "float32_le" : "float64_le";
          const predicted = predictTree(tree, columns, 4_000, rule);
          // Every row of weight above 0 in one leaf, the one predict walks it to; the others in
          // none.
          const wrong: number[] = [];
          for (let row = 0; row < 4_000; row++) {
            const held = weight?.[row] === 0 ? leafOf[row] === -1 : leafOf[row] >= 0;
            if (!held || (leafOf[row] >= 0 && tree.value[leafOf[row]] !== predicted[row])) {
              wrong.push(row);
            }
          }
          expect({ twice, wrong }).toEqual({ twice: [], wrong: [] });
          if (weight === undefined) {
            const sorted = predictTreeRows(tree, columns, sample, rule).sort();
            expect(sortedLeafPredictions(tree.value, ids, counts, sample.length)).toEqual(sorted);
          }
        }
      }
    }
    // Counts that do not add up, a leaf of value −0 (where +0 and −0 would be ordered by row),
    // or one not finite: declined.
    const value = Float64Array.of(0.5, 1, 2);
    expect(sortedLeafPredictions(value, [1, 2], [2, 1], 3)).toEqual(Float64Array.of(1, 1, 2));
    expect(sortedLeafPredictions(value, [1, 2], [2, 1], 4)).toBeUndefined();
    for (const odd of [-0, Number.POSITIVE_INFINITY, Number.NaN]) {
      const leaves = Float64Array.of(0.5, odd, 2);
      expect(sortedLeafPredictions(leaves, [1, 2], [2, 1], 3)).toBeUndefined();
      // A leaf holding none of the rows does not count.
      expect(sortedLeafPredictions(leaves, [1, 2], [0, 3], 3)).toEqual(Float64Array.of(2, 2, 2));
    }
  });
});
