import { describe, expect, it } from "vitest";
import { createArtifact } from "../artifact/create.js";
import type { ArtifactArray, ModelArtifact } from "../artifact/types.js";
import { MlopsError } from "../errors/error.js";
import { Frame, numericColumn } from "../frame/frame.js";
import { createRandom } from "../metrics/random.js";
import { field } from "../schema/field.js";
import { type Schema, schema } from "../schema/schema.js";
import float32Reference from "./fixtures/float32_reference.json" with { type: "json" };
import reference from "./fixtures/sklearn_reference.json" with { type: "json" };
import { createPredictor } from "./predictor.js";
import { nextFloat32Down } from "./split-rule.js";
import { impurityImportances, treeFeatureImportances, treeImportances } from "./tree.js";

interface TreeSpec {
  left: number[];
  right: number[];
  feature: number[];
  threshold: (number | string)[];
  value: number[];
  missingLeft?: number[];
  nodeSamples?: number[];
  impurity?: number[];
  categorySplit?: number[];
  categoryBits?: number[];
}

function treeArraysOf(spec: TreeSpec, prefix: string): Record<string, ArtifactArray> {
  const arrays: Record<string, ArtifactArray> = {
    [`${prefix}left`]: Int32Array.from(spec.left),
    [`${prefix}right`]: Int32Array.from(spec.right),
    [`${prefix}feature`]: Int32Array.from(spec.feature),
    [`${prefix}threshold`]: Float64Array.from(spec.threshold, Number),
    [`${prefix}value`]: Float64Array.from(spec.value),
  };
  if (spec.missingLeft) arrays[`${prefix}missingLeft`] = Uint8Array.from(spec.missingLeft);
  if (spec.nodeSamples) arrays[`${prefix}nodeSamples`] = Float64Array.from(spec.nodeSamples);
  if (spec.impurity) arrays[`${prefix}impurity`] = Float64Array.from(spec.impurity);
  if (spec.categorySplit) arrays[`${prefix}categorySplit`] = Int32Array.from(spec.categorySplit);
  if (spec.categoryBits) arrays[`${prefix}categoryBits`] = Int32Array.from(spec.categoryBits);
  return arrays;
}

function treeArtifact(features: Schema, inputs: string[], spec: TreeSpec): ModelArtifact {
  return createArtifact({
    kind: "tree",
    schema: features,
    model: { inputs },
    arrays: treeArraysOf(spec, "tree."),
    lineage: { gitCommit: "abc1234" },
  });
}

const xz = schema({ x: field.number().nullable(), z: field.number().nullable() });

//        node0: x <= 0.5
//       /              \
//  node1: z <= 2     node2 = 30
//   /        \
// node3=10  node4=20
const base: TreeSpec = {
  left: [1, 3, -1, -1, -1],
  right: [2, 4, -1, -1, -1],
  feature: [0, 1, -2, -2, -2],
  threshold: [0.5, 2, -2, -2, -2],
  value: [0, 0, 30, 10, 20],
};

function predictBoth(artifact: ModelArtifact, rows: { x: number | null; z: number | null }[]) {
  const predictor = createPredictor(artifact);
  const frame = new Frame({
    x: numericColumn(rows.map((row) => row.x)),
    z: numericColumn(rows.map((row) => row.z)),
  });
  const batch = Array.from(predictor.predict(frame));
  const single = rows.map((row) => predictor.predictRow(row));
  expect(single).toEqual(batch);
  return batch;
}

describe("tree predictor", () => {
  it("goes left when x <= threshold, as scikit-learn does", () => {
    const rows = [
      { x: 0.5, z: 2 },
      { x: 0.5, z: 2.0000000001 },
      { x: 0.5000000001, z: -100 },
      { x: -1, z: -5 },
      { x: 1e300, z: 0 },
    ];
    expect(predictBoth(treeArtifact(xz, ["x", "z"], base), rows)).toEqual([10, 20, 30, 10, 30]);
  });

  it("routes missing values by missingLeft", () => {
    const rows = [
      { x: null, z: 1 },
      { x: 0, z: null },
      { x: null, z: null },
      { x: 3, z: null },
    ];
    const leftThenRight = treeArtifact(xz, ["x", "z"], { ...base, missingLeft: [1, 0, 0, 0, 0] });
    expect(predictBoth(leftThenRight, rows)).toEqual([10, 20, 20, 30]);
    const rightThenLeft = treeArtifact(xz, ["x", "z"], { ...base, missingLeft: [0, 1, 0, 0, 0] });
    expect(predictBoth(rightThenLeft, rows)).toEqual([30, 10, 30, 30]);
  });

  it("without missingLeft sends missing values to the child with more samples (ties right)", () => {
    const rows = [
      { x: null, z: 5 },
      { x: 0, z: null },
    ];
    const bigLeft = treeArtifact(xz, ["x", "z"], { ...base, nodeSamples: [10, 6, 4, 2, 4] });
    expect(predictBoth(bigLeft, rows)).toEqual([20, 20]);
    const tie = treeArtifact(xz, ["x", "z"], { ...base, nodeSamples: [10, 5, 5, 3, 2] });
    expect(predictBoth(tie, rows)).toEqual([30, 10]);
    // neither array: NaN <= threshold is false, so right
    expect(predictBoth(treeArtifact(xz, ["x", "z"], base), rows)).toEqual([30, 20]);
  });

  it("tells missing values from infinite ones, with infinite thresholds too", () => {
    // A standard_scaler with a tiny scale turns ±1e10 into ±Infinity after validation; the
    // walk must still send them by value and NaN by missingLeft (the block walks NaN as ±Infinity).
    const scaled = (threshold: number, missingLeft: number) =>
      createArtifact({
        kind: "tree",
        schema: xz,
        preprocessing: [{ kind: "standard_scaler", columns: ["x"], mean: [0], scale: [1e-300] }],
        model: { inputs: ["x", "z"] },
        arrays: treeArraysOf(
          {
            ...base,
            threshold: [threshold, 2, -2, -2, -2],
            missingLeft: [missingLeft, 0, 0, 0, 0],
          },
          "tree.",
        ),
        lineage: { gitCommit: "abc1234" },
      });
    const rows = [
      { x: 1e10, z: 0 },
      { x: -1e10, z: 0 },
      { x: null, z: 0 },
      { x: 0, z: 3 },
    ];
    // +Infinity goes right of a finite threshold, -Infinity left, NaN where missingLeft says.
    expect(predictBoth(scaled(1e300, 0), rows)).toEqual([30, 10, 30, 20]);
    expect(predictBoth(scaled(1e300, 1), rows)).toEqual([30, 10, 10, 20]);
    // Threshold +Infinity: +Infinity <= +Infinity goes left; NaN still by missingLeft.
    expect(predictBoth(scaled(Number.POSITIVE_INFINITY, 0), rows)).toEqual([10, 10, 30, 20]);
    expect(predictBoth(scaled(Number.POSITIVE_INFINITY, 1), rows)).toEqual([10, 10, 10, 20]);
    // Threshold -Infinity: only -Infinity goes left.
    expect(predictBoth(scaled(Number.NEGATIVE_INFINITY, 0), rows)).toEqual([30, 10, 30, 30]);
  });

  it("keeps the sign of a zero leaf", () => {
    const zero = treeArtifact(xz, ["x", "z"], { ...base, value: [0, 0, -0, 0, 20] });
    const predictions = predictBoth(zero, [
      { x: 1, z: 0 },
      { x: 0, z: 0 },
    ]);
    expect(Object.is(predictions[0], -0)).toBe(true);
    expect(Object.is(predictions[1], 0)).toBe(true);
  });

  it("predicts a single-leaf tree", () => {
    const leaf = treeArtifact(xz, ["x"], {
      left: [-1],
      right: [-1],
      feature: [-2],
      threshold: [-2],
      value: [7],
    });
    expect(
      predictBoth(leaf, [
        { x: 1, z: null },
        { x: null, z: 2 },
      ]),
    ).toEqual([7, 7]);
  });

  it("agrees with a plain node-by-node walk on random deep trees with missing values", () => {
    const generator = createRandom(20240611);
    const random = () => generator.next();
    const names = ["a", "b", "c", "d"];
    const features = schema(
      Object.fromEntries(names.map((name) => [name, field.number().nullable()])),
    );
    for (let trial = 0; trial < 6; trial++) {
      const spec: Required<Pick<TreeSpec, "missingLeft">> & TreeSpec = {
        left: [],
        right: [],
        feature: [],
        threshold: [],
        value: [],
        missingLeft: [],
      };
      // Unbalanced: some branches stop early, one chain runs deep (beyond the 8-level stride).
      let deepest = 0;
      const grow = (depth: number, chain: boolean): number => {
        const id = spec.left.length;
        deepest = Math.max(deepest, depth);
        spec.left.push(-1);
        spec.right.push(-1);
        spec.feature.push(-2);
        spec.threshold.push(-2);
        spec.value.push(Math.round(random() * 1000) / 10);
        spec.missingLeft.push(random() < 0.5 ? 1 : 0);
        const limit = chain ? 21 : 9;
        if (depth < limit && (chain || random() < 0.8)) {
          spec.feature[id] = Math.floor(random() * names.length);
          spec.threshold[id] = Math.round(random() * 100) / 100;
          spec.left[id] = grow(depth + 1, chain);
          spec.right[id] = grow(depth + 1, false);
        }
        return id;
      };
      grow(0, true);
      expect(deepest).toBe(21);
      const n = 2000;
      const columns = names.map(() => new Float64Array(n));
      for (const column of columns) {
        for (let i = 0; i < n; i++) {
          const u = random();
          // some values exactly on a threshold grid, some missing
          column[i] = u < 0.05 ? Number.NaN : u < 0.3 ? Math.round(random() * 100) / 100 : random();
        }
      }
      const walk = (row: number): number => {
        let node = 0;
        while (spec.left[node] !== -1) {
          const value = columns[spec.feature[node]][row];
          const left = Number.isNaN(value)
            ? spec.missingLeft[node] === 1
            : value <= Number(spec.threshold[node]);
          node = left ? spec.left[node] : spec.right[node];
        }
        return spec.value[node];
      };
      const predictor = createPredictor(treeArtifact(features, names, spec));
      const frame = new Frame(
        names.map((name, j) => [name, { kind: "number", values: columns[j] }] as const),
      );
      const batch = predictor.predict(frame);
      for (let i = 0; i < n; i++) {
        const expected = walk(i);
        if (batch[i] !== expected)
          expect.fail(`trial ${trial} row ${i}: ${batch[i]} != ${expected}`);
        const row = Object.fromEntries(
          names.map((name, j) => [name, Number.isNaN(columns[j][i]) ? null : columns[j][i]]),
        );
        if (predictor.predictRow(row) !== expected)
          expect.fail(`trial ${trial} row ${i}: predictRow`);
      }
      // NaN-free frames take the branch-free path; compare it too.
      const clean = frame.filter((i) => names.every((_, j) => !Number.isNaN(columns[j][i])));
      const cleanBatch = predictor.predict(clean);
      const order = Array.from({ length: n }, (_, i) => i).filter((i) =>
        names.every((_, j) => !Number.isNaN(columns[j][i])),
      );
      order.forEach((row, k) => {
        if (cleanBatch[k] !== walk(row)) expect.fail(`trial ${trial} clean row ${row}`);
      });
    }
  });

  it("matches scikit-learn's DecisionTreeRegressor.predict", () => {
    const names = ["f0", "f1", "f2"];
    const features = schema(Object.fromEntries(names.map((name) => [name, field.number()])));
    const predictor = createPredictor(treeArtifact(features, names, reference.tree.arrays));
    const frame = new Frame(
      names.map((name, j) => [name, numericColumn(reference.X_test.map((row) => row[j]))] as const),
    );
    expect(Array.from(predictor.predict(frame))).toEqual(reference.tree.predict);
  });

  describe("split rules", () => {
    // A depth-8 scikit-learn tree on California housing, and float64 inputs within a float32
    // step of its thresholds (make_float32_fixture.py): scikit-learn rounds them to float32.
    const { features: names, tree, X, predict } = float32Reference.california;
    const features = schema(Object.fromEntries(names.map((name) => [name, field.number()])));
    const frame = new Frame(
      names.map((name, j) => [name, numericColumn(X.map((row) => row[j]))] as const),
    );
    const artifactWith = (splitRule?: string) =>
      createArtifact({
        kind: "tree",
        schema: features,
        model: { inputs: names, ...(splitRule ? { splitRule } : {}) },
        arrays: treeArraysOf(tree, "tree."),
        lineage: { gitCommit: "abc1234" },
      });
    const differences = (got: ArrayLike<number>) =>
      predict.filter((value, i) => got[i] !== value).length;

    it('"float32_le" predicts what scikit-learn predicts on every float64 input', () => {
      const predictor = createPredictor(artifactWith("float32_le"));
      expect(differences(predictor.predict(frame))).toBe(0);
      const rows = X.map((row) => Object.fromEntries(names.map((name, j) => [name, row[j]])));
      expect(differences(rows.map((row) => predictor.predictRow(row)))).toBe(0);
    });

    it("artifacts without a rule keep comparing in float64 (and there disagree)", () => {
      const old = createPredictor(artifactWith());
      const explicit = createPredictor(artifactWith("float64_le"));
      expect(Array.from(old.predict(frame))).toEqual(Array.from(explicit.predict(frame)));
      expect(differences(old.predict(frame))).toBeGreaterThan(20);
    });

    it('"float32_lt" sends float32(x) == threshold right, as XGBoost does', () => {
      const split = createArtifact({
        kind: "tree",
        schema: xz,
        model: { inputs: ["x", "z"], splitRule: "float32_lt" },
        arrays: treeArraysOf(
          {
            left: [1, -1, -1],
            right: [2, -1, -1],
            feature: [0, -2, -2],
            threshold: [0.1, -2, -2],
            value: [0, 1, 2],
            missingLeft: [1, 0, 0],
          },
          "tree.",
        ),
        lineage: { gitCommit: "abc1234" },
      });
      // Just below 0.1f in float64 still rounds to 0.1f (right); the float32 below goes left.
      const below = nextAfter(Math.fround(0.1), -1);
      const rows = [
        0.1,
        Math.fround(0.1),
        below,
        nextFloat32Down(Math.fround(0.1)),
        0.09,
        0.11,
        null,
      ];
      expect(
        predictBoth(
          split,
          rows.map((x) => ({ x, z: 0 })),
        ),
      ).toEqual([2, 2, 2, 1, 1, 2, 1]);
    });

    it("rejects an unknown rule", () => {
      expect(() => artifactWith("float16_le")).toThrow(/model\.splitRule/);
    });
  });
});

/** The float64 next to `value` towards `direction` (+1 or -1). */
function nextAfter(value: number, direction: number): number {
  const buffer = new Float64Array([value]);
  const bits = new BigInt64Array(buffer.buffer);
  bits[0] += BigInt(value > 0 === direction > 0 ? 1 : -1);
  return buffer[0];
}

function expectInvalid(run: () => unknown, text: string) {
  let error: unknown;
  try {
    run();
  } catch (caught) {
    error = caught;
  }
  expect(MlopsError.isInstance(error), `expected artifact_invalid containing ${text}`).toBe(true);
  expect((error as MlopsError).code).toBe("artifact_invalid");
  expect((error as MlopsError).message).toContain(text);
}

describe("tree validation", () => {
  const make = (spec: Partial<TreeSpec>) => () =>
    createPredictor(treeArtifact(xz, ["x", "z"], { ...base, ...spec }));

  it("rejects cycles and shared children", () => {
    expectInvalid(
      make({ left: [1, 0, -1, -1, -1], right: [2, 4, -1, -1, -1] }),
      "already has a parent",
    );
    expectInvalid(
      make({ left: [1, 3, -1, -1, -1], right: [2, 3, -1, -1, -1] }),
      "already has a parent",
    );
  });

  it("rejects unreachable nodes, bad children, features and thresholds", () => {
    expectInvalid(
      make({ left: [1, -1, -1, -1, -1], right: [2, -1, -1, -1, -1] }),
      "node 3: is not reachable",
    );
    expectInvalid(
      make({ left: [1, 3, -1, -1, -1], right: [2, 9, -1, -1, -1] }),
      "node 1: children 3 and 9",
    );
    expectInvalid(
      make({ left: [1, 3, -1, -1, -1], right: [2, -1, -1, -1, -1] }),
      "node 1: children 3 and -1",
    );
    expectInvalid(make({ feature: [0, 2, -2, -2, -2] }), "node 1: feature 2 is outside 0..1");
    expectInvalid(make({ threshold: [Number.NaN, 2, -2, -2, -2] }), "node 0: threshold is NaN");
  });

  it("rejects missing arrays, wrong types and lengths", () => {
    const artifact = treeArtifact(xz, ["x", "z"], base);
    const without = { ...artifact, arrays: { ...artifact.arrays } };
    delete without.arrays["tree.value"];
    expectInvalid(() => createPredictor(without), '"tree.value"');
    const wrongType = {
      ...artifact,
      arrays: { ...artifact.arrays, "tree.left": Float64Array.of(1, 3, -1, -1, -1) },
    };
    expectInvalid(
      () => createPredictor(wrongType),
      'arrays["tree.left"]: expected Int32Array, got Float64Array',
    );
    const short = {
      ...artifact,
      arrays: { ...artifact.arrays, "tree.threshold": Float64Array.of(0.5) },
    };
    expectInvalid(
      () => createPredictor(short),
      'arrays["tree.threshold"] has 1 entries, expected 5',
    );
  });

  it("rejects model inputs that do not exist or are categories", () => {
    expectInvalid(() => createPredictor(treeArtifact(xz, ["x", "w"], base)), 'no column "w"');
    const colored = schema({ x: field.number(), color: field.category(["red", "blue"]) });
    expectInvalid(() => createPredictor(treeArtifact(colored, ["x", "color"], base)), "one_hot");
  });
});

describe("ensemble predictor", () => {
  const t1: TreeSpec = {
    left: [1, -1, -1],
    right: [2, -1, -1],
    feature: [0, -2, -2],
    threshold: [0, -2, -2],
    value: [0, 1, 2],
  };
  const t2: TreeSpec = {
    left: [1, -1, -1],
    right: [2, -1, -1],
    feature: [1, -2, -2],
    threshold: [10, -2, -2],
    value: [0, 10, 40],
  };
  const ensemble = (model: Record<string, unknown>) =>
    createPredictor(
      createArtifact({
        kind: "ensemble",
        schema: xz,
        model: { inputs: ["x", "z"], treeCount: 2, ...model } as never,
        arrays: { ...treeArraysOf(t1, "trees.0."), ...treeArraysOf(t2, "trees.1.") },
        lineage: { gitCommit: "abc1234" },
      }),
    );
  const rows = [
    { x: -1, z: 5 },
    { x: 1, z: 5 },
    { x: 1, z: 20 },
  ];
  const frame = new Frame({
    x: numericColumn(rows.map((r) => r.x)),
    z: numericColumn(rows.map((r) => r.z)),
  });

  it("averages the trees with aggregation mean", () => {
    const predictor = ensemble({ aggregation: "mean" });
    expect(Array.from(predictor.predict(frame))).toEqual([
      (1 + 10) / 2,
      (2 + 10) / 2,
      (2 + 40) / 2,
    ]);
    expect(rows.map((row) => predictor.predictRow(row))).toEqual([5.5, 6, 21]);
  });

  it("adds baseValue + learningRate × each tree with aggregation sum", () => {
    const predictor = ensemble({ aggregation: "sum", learningRate: 0.5, baseValue: 100 });
    const expected = [100 + 0.5 * 1 + 0.5 * 10, 100 + 0.5 * 2 + 0.5 * 10, 100 + 0.5 * 2 + 0.5 * 40];
    expect(Array.from(predictor.predict(frame))).toEqual(expected);
    expect(rows.map((row) => predictor.predictRow(row))).toEqual(expected);
    expect(Array.from(ensemble({ aggregation: "sum" }).predict(frame))).toEqual([11, 12, 42]);
  });

  it("applies the inverse link to the summed score", () => {
    const scores = [
      [1, 10],
      [2, 10],
      [2, 40],
    ].map(([a, b]) => -1 + 0.1 * a + 0.1 * b);
    const log = ensemble({ aggregation: "sum", baseValue: -1, learningRate: 0.1, link: "log" });
    expect(Array.from(log.predict(frame))).toEqual(scores.map((s) => Math.exp(s)));
    expect(rows.map((row) => log.predictRow(row))).toEqual(scores.map((s) => Math.exp(s)));
    const logit = ensemble({ aggregation: "sum", baseValue: -1, learningRate: 0.1, link: "logit" });
    const sigmoid = scores.map((s) => 1 / (1 + Math.exp(-s)));
    expect(Array.from(logit.predict(frame))).toEqual(sigmoid);
    expect(() => ensemble({ aggregation: "sum", link: "probit" })).toThrow(/model\.link/);
  });

  it("rejects a treeCount with missing trees", () => {
    expectInvalid(() => ensemble({ aggregation: "mean", treeCount: 3 }), '"trees.2.left"');
  });

  const names = ["f0", "f1", "f2"];
  const features = schema(Object.fromEntries(names.map((name) => [name, field.number()])));
  const frameOf = () =>
    new Frame(
      names.map((name, j) => [name, numericColumn(reference.X_test.map((row) => row[j]))] as const),
    );
  const fixtureEnsemble = (trees: TreeSpec[], model: Record<string, unknown>) =>
    createArtifact({
      kind: "ensemble",
      schema: features,
      model: { inputs: names, treeCount: trees.length, ...model } as never,
      arrays: Object.assign({}, ...trees.map((tree, t) => treeArraysOf(tree, `trees.${t}.`))),
      lineage: { gitCommit: "abc1234" },
    });

  it("matches scikit-learn's RandomForestRegressor.predict", () => {
    const artifact = fixtureEnsemble(reference.forest.trees, { aggregation: "mean" });
    expect(Array.from(createPredictor(artifact).predict(frameOf()))).toEqual(
      reference.forest.predict,
    );
  });

  it("matches scikit-learn's GradientBoostingRegressor.predict", () => {
    const { trees, learningRate, baseValue } = reference.boosting;
    const artifact = fixtureEnsemble(trees, { aggregation: "sum", learningRate, baseValue });
    expect(Array.from(createPredictor(artifact).predict(frameOf()))).toEqual(
      reference.boosting.predict,
    );
  });

  it("gives scikit-learn's feature_importances_ for forests and boosting", () => {
    const forest = treeFeatureImportances(
      fixtureEnsemble(reference.forest.trees, { aggregation: "mean" }),
    );
    const { trees, learningRate, baseValue } = reference.boosting;
    const boosting = treeFeatureImportances(
      fixtureEnsemble(trees, { aggregation: "sum", learningRate, baseValue }),
    );
    names.forEach((name, j) => {
      expect(forest[name]).toBeCloseTo(reference.forest.importances[j], 14);
      expect(boosting[name]).toBeCloseTo(reference.boosting.importances[j], 14);
    });
  });
});

describe("treeFeatureImportances", () => {
  it("is the normalised weighted impurity decrease per feature (hand computed)", () => {
    // node0 (x): 10·4 − 6·2 − 4·1 = 24; node1 (z): 6·2 − 2·0.5 − 4·1 = 7; total 31
    const artifact = treeArtifact(xz, ["x", "z"], {
      ...base,
      nodeSamples: [10, 6, 4, 2, 4],
      impurity: [4, 2, 1, 0.5, 1],
    });
    const importances = treeFeatureImportances(artifact);
    expect(importances.x).toBeCloseTo(24 / 31, 15);
    expect(importances.z).toBeCloseTo(7 / 31, 15);
  });

  it("matches scikit-learn's feature_importances_", () => {
    const names = ["f0", "f1", "f2"];
    const features = schema(Object.fromEntries(names.map((name) => [name, field.number()])));
    const importances = treeFeatureImportances(
      treeArtifact(features, names, reference.tree.arrays),
    );
    names.forEach((name, j) => {
      expect(importances[name]).toBeCloseTo(reference.tree.importances[j], 15);
    });
  });

  it("gives a grown tree's figures without checking it, and checks an artifact's tree", () => {
    const spec = { ...base, nodeSamples: [10, 6, 4, 2, 4], impurity: [4, 2, 1, 0.5, 1] };
    const tree = {
      left: Int32Array.from(spec.left),
      right: Int32Array.from(spec.right),
      feature: Int32Array.from(spec.feature),
      threshold: Float64Array.from(spec.threshold),
      value: Float64Array.from(spec.value),
      nodeSamples: Float64Array.from(spec.nodeSamples),
      impurity: Float64Array.from(spec.impurity),
    };
    const [x, z] = impurityImportances(tree, 2, true);
    expect(x).toBeCloseTo(24 / 31, 15);
    expect(z).toBeCloseTo(7 / 31, 15);
    expect([...impurityImportances(tree, 2, false)]).toEqual([24 / 10, 7 / 10]);
    expect(impurityImportances(tree, 2, true)).toEqual(treeImportances(tree, 2, true, "tree."));
    // Node 1's right child is node 1 itself: not a tree, and only the checked form says so.
    const looped = { ...tree, right: Int32Array.of(2, 1, -1, -1, -1) };
    expect(() => treeImportances(looped, 2, true, "tree.")).toThrow(/tree: node 1/);
  });

  it("needs nodeSamples and impurity, and a tree model", () => {
    expect(() => treeFeatureImportances(treeArtifact(xz, ["x", "z"], base))).toThrow(
      /tree\.nodeSamples/,
    );
    const linear = createArtifact({
      kind: "linear",
      schema: xz,
      model: { inputs: ["x"], intercept: 0 },
      arrays: { coefficients: Float64Array.of(1) },
      lineage: { gitCommit: "abc1234" },
    });
    expect(() => treeFeatureImportances(linear)).toThrow(/not "linear"/);
  });
});

describe("categorical splits", () => {
  // node0: color in {red, green} → node1 = 10, else node2 = 20; missing goes right.
  const colorTree: TreeSpec = {
    left: [1, -1, -1],
    right: [2, -1, -1],
    feature: [0, -2, -2],
    threshold: [0, -2, -2],
    value: [0, 10, 20],
    missingLeft: [0, 0, 0],
    categorySplit: [0, -1, -1],
    // One word; categories numbered as model.categories.color: red 0, blue 1, green 2.
    categoryBits: [1, 0b101],
  };
  const colored = schema({
    color: field.category(["blue", "green", "red", "violet"]).nullable(),
    size: field.number(),
  });
  const artifact = (spec: TreeSpec, categories: Record<string, string[]> | undefined) =>
    createArtifact({
      kind: "tree",
      schema: colored,
      model: { inputs: ["color", "size"], ...(categories ? { categories } : {}) },
      arrays: treeArraysOf(spec, "tree."),
      lineage: { gitCommit: "abc1234" },
    });

  it("sends a category left when its bit is set, by value not by schema code", () => {
    const predictor = createPredictor(artifact(colorTree, { color: ["red", "blue", "green"] }));
    const rows = [
      { color: "red", size: 1 },
      { color: "blue", size: 1 },
      { color: "green", size: 1 },
      // Known to the schema, unknown to the model: goes where missing values go.
      { color: "violet", size: 1 },
      { color: null, size: 1 },
    ];
    const expected = [10, 20, 10, 20, 20];
    expect(rows.map((row) => predictor.predictRow(row))).toEqual(expected);
    expect(Array.from(predictor.predict(colored.toFrame(rows)))).toEqual(expected);
    const missingLeft = createPredictor(
      artifact({ ...colorTree, missingLeft: [1, 0, 0] }, { color: ["red", "blue", "green"] }),
    );
    expect(Array.from(missingLeft.predict(colored.toFrame(rows)))).toEqual([10, 20, 10, 10, 10]);
  });

  it("reads a numeric input's integer value as the category number without a list", () => {
    const numeric = schema({ code: field.number().nullable(), size: field.number() });
    const predictor = createPredictor(
      createArtifact({
        kind: "tree",
        schema: numeric,
        model: { inputs: ["code", "size"] },
        arrays: treeArraysOf(colorTree, "tree."),
        lineage: { gitCommit: "abc1234" },
      }),
    );
    const codes = [0, 1, 2, 3, 31, 32, 1e9, -1, 0.5, null];
    const rows = codes.map((code) => ({ code, size: 0 }));
    // In the set: 0 and 2. Outside the bitset, negative, fractional or missing: missing side.
    const expected = [10, 20, 10, 20, 20, 20, 20, 20, 20, 20];
    expect(rows.map((row) => predictor.predictRow(row))).toEqual(expected);
    expect(Array.from(predictor.predict(numeric.toFrame(rows)))).toEqual(expected);
  });

  it("rejects bad bitsets, category inputs without categories and numeric splits on them", () => {
    const categories = { color: ["red", "blue", "green"] };
    expectInvalid(
      () => createPredictor(artifact({ ...colorTree, categoryBits: [3, 1] }, categories)),
      "categorySplit 0",
    );
    expectInvalid(
      () => createPredictor(artifact({ ...colorTree, categorySplit: [-5, -1, -1] }, categories)),
      "categorySplit -5",
    );
    const { categoryBits: _, ...noBits } = colorTree;
    expectInvalid(() => createPredictor(artifact(noBits, categories)), "come together");
    expectInvalid(() => createPredictor(artifact(colorTree, undefined)), "model.categories");
    const numericSplit = { ...colorTree, categorySplit: [-1, -1, -1] };
    expectInvalid(() => createPredictor(artifact(numericSplit, categories)), "numeric split");
    const numeric = schema({ code: field.number(), size: field.number() });
    const coded = (list: string[]) =>
      createPredictor(
        createArtifact({
          kind: "tree",
          schema: numeric,
          model: { inputs: ["code", "size"], categories: { code: list } },
          arrays: treeArraysOf(colorTree, "tree."),
          lineage: { gitCommit: "abc1234" },
        }),
      );
    expect(coded(["4", "0", "9"]).predictRow({ code: 9, size: 0 })).toBe(10);
    expect(coded(["4", "0", "9"]).predictRow({ code: 0, size: 0 })).toBe(20);
    expectInvalid(() => coded(["1", "2.5"]), 'model.categories["code"][1]');
  });

  const hist = reference.hist_gradient_boosting;
  const histNames = ["x0", "x1", "x2"];
  const histSchema = schema({
    x0: field.number().nullable(),
    x1: field.number().nullable(),
    x2: field.number(),
  });
  const histArtifact = (fitted: typeof hist.squared_error, extra: Record<string, unknown> = {}) =>
    createArtifact({
      kind: "ensemble",
      schema: histSchema,
      model: {
        inputs: histNames,
        aggregation: "sum",
        treeCount: fitted.trees.length,
        baseValue: fitted.baseValue,
        categories: { x1: fitted.categories },
        ...extra,
      } as never,
      arrays: Object.assign(
        {},
        ...fitted.trees.map((tree, t) => treeArraysOf(tree as TreeSpec, `trees.${t}.`)),
      ),
      lineage: { gitCommit: "abc1234" },
    });
  const histFrame = () =>
    new Frame(
      histNames.map((name, j) => [name, numericColumn(hist.X_test.map((row) => row[j]))] as const),
    );

  it("matches scikit-learn's HistGradientBoostingRegressor.predict (categorical, missing)", () => {
    // Integer categories listed in model.categories: an unknown one (7) goes where missing
    // values go, as in scikit-learn.
    const predictor = createPredictor(histArtifact(hist.squared_error));
    expect(Array.from(predictor.predict(histFrame()))).toEqual(hist.squared_error.predict);
    const rows = hist.X_test.map((row) => Object.fromEntries(histNames.map((n, j) => [n, row[j]])));
    expect(rows.map((row) => predictor.predictRow(row))).toEqual(hist.squared_error.predict);
  });

  it("matches it with the category as a category column", () => {
    // The integer codes as strings c0..c7; -1 (negative: missing for scikit-learn) as null.
    const labels: [string, ...string[]] = ["c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7"];
    const asCategory = schema({
      x0: field.number().nullable(),
      x1: field.category(labels).nullable(),
      x2: field.number(),
    });
    const base = histArtifact(hist.squared_error, {
      categories: { x1: labels.slice(0, 6) },
    });
    const predictor = createPredictor({
      ...base,
      manifest: { ...base.manifest, schema: asCategory.toJSON() },
    });
    const rows = hist.X_test.map((row) => ({
      x0: row[0],
      x1: row[1] === null || (row[1] as number) < 0 ? null : labels[row[1] as number],
      x2: row[2],
    }));
    expect(Array.from(predictor.predict(asCategory.toFrame(rows)))).toEqual(
      hist.squared_error.predict,
    );
  });

  it("applies the log link of the Poisson loss", () => {
    const predictor = createPredictor(histArtifact(hist.poisson, { link: "log" }));
    const predictions = predictor.predict(histFrame());
    hist.poisson.predict.forEach((expected, i) => {
      expect(predictions[i]).toBeCloseTo(expected, 12);
    });
  });
});
