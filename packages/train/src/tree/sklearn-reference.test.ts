import { readFileSync } from "node:fs";
import { Frame } from "@mlops/core";
import { describe, expect, it } from "vitest";
import { DecisionTreeRegressor } from "./decision-tree.js";
import type { DecisionTreeParams } from "./params.js";

// Reference trees fitted by scikit-learn 1.2.1 (fixtures/make_fixtures.py). With `seed` equal to
// scikit-learn's `random_state` the exact splitter visits features in the same order, breaks
// ties the same way and sums in the same order, so the whole tree is compared bit for bit: node
// structure, thresholds, leaf values, impurities, weights, and every prediction.

interface SklearnTree {
  left: number[];
  right: number[];
  feature: number[];
  threshold: number[];
  value: number[];
  n_node_samples: number[];
  weighted_n_node_samples: number[];
  impurity: number[];
}

interface Case {
  name: string;
  data: string;
  params: Record<string, number | string>;
  random_state: number;
  weighted: boolean;
  node_count: number;
  depth: number;
  n_leaves: number;
  feature_importances: number[];
  tree: SklearnTree;
  test_predictions: number[];
}

interface DataSet {
  X: number[][];
  y: number[];
  X_test: number[][];
  weight?: number[];
}

const fixture = JSON.parse(
  readFileSync(new URL("./fixtures/sklearn_trees.json", import.meta.url), "utf8"),
) as { cases: Case[]; data: Record<string, DataSet> };

const diabetes = JSON.parse(
  readFileSync(new URL("./fixtures/diabetes_reference.json", import.meta.url), "utf8"),
) as {
  feature_names: string[];
  X: number[][];
  y: number[];
  train_idx: number[];
  test_idx: number[];
  models: { kind: string; max_depth?: number; n_leaves?: number; test_predictions: number[] }[];
};

function frameOf(rows: number[][], names?: string[]): Frame {
  const p = rows[0].length;
  return new Frame(
    Array.from(
      { length: p },
      (_, j) =>
        [
          names?.[j] ?? `x${j}`,
          { kind: "number", values: Float64Array.from(rows, (row) => row[j]) },
        ] as const,
    ),
    rows.length,
  );
}

const PARAM_NAMES: Record<string, keyof DecisionTreeParams> = {
  max_depth: "maxDepth",
  min_samples_leaf: "minSamplesLeaf",
  min_samples_split: "minSamplesSplit",
  max_leaf_nodes: "maxLeafNodes",
  min_impurity_decrease: "minImpurityDecrease",
  min_weight_fraction_leaf: "minWeightFractionLeaf",
  max_features: "maxFeatures",
  criterion: "criterion",
};

function ourParams(reference: Case): Partial<DecisionTreeParams> {
  const out: Record<string, unknown> = { splitter: "best", seed: reference.random_state };
  for (const [key, value] of Object.entries(reference.params)) out[PARAM_NAMES[key]] = value;
  return out as Partial<DecisionTreeParams>;
}

describe("DecisionTreeRegressor (exact) against scikit-learn 1.2.1, bit for bit", () => {
  for (const reference of fixture.cases) {
    it(reference.name, () => {
      const data = fixture.data[reference.data];
      const model = new DecisionTreeRegressor(ourParams(reference)).fit(frameOf(data.X), data.y, {
        sampleWeight: reference.weighted ? data.weight : undefined,
      });
      const { tree } = model;
      const sk = reference.tree;
      expect(Array.from(tree.left)).toEqual(sk.left);
      expect(Array.from(tree.right)).toEqual(sk.right);
      expect(Array.from(tree.feature)).toEqual(sk.feature);
      expect(Array.from(tree.threshold)).toEqual(sk.threshold);
      expect(Array.from(tree.value)).toEqual(sk.value);
      expect(Array.from(tree.impurity)).toEqual(sk.impurity);
      expect(Array.from(tree.nodeSamples)).toEqual(sk.weighted_n_node_samples);
      expect([model.nodeCount, model.depth, model.leafCount]).toEqual([
        reference.node_count,
        reference.depth,
        reference.n_leaves,
      ]);
      expect(Array.from(model.predict(frameOf(data.X_test)))).toEqual(reference.test_predictions);
      Object.values(model.featureImportances).forEach((value, j) => {
        expect(value).toBeCloseTo(reference.feature_importances[j], 12);
      });
    });
  }

  it("draws features like random_state: other seeds give other trees", () => {
    const reference = fixture.cases.find((c) => c.name.startsWith("friedman max_features=3"))!;
    const data = fixture.data.friedman;
    const grow = (seed: number) =>
      new DecisionTreeRegressor({ ...ourParams(reference), seed }).fit(frameOf(data.X), data.y)
        .tree;
    expect(Array.from(grow(7).feature)).toEqual(reference.tree.feature);
    expect(Array.from(grow(8).feature)).not.toEqual(reference.tree.feature);
  });
});

describe("diabetes reference predictions (peers' diabetes_reference.json)", () => {
  const names = diabetes.feature_names;
  const train = frameOf(
    diabetes.train_idx.map((i) => diabetes.X[i]),
    names,
  );
  const test = frameOf(
    diabetes.test_idx.map((i) => diabetes.X[i]),
    names,
  );
  const y = Float64Array.from(diabetes.train_idx, (i) => diabetes.y[i]);
  for (const model of diabetes.models.filter((m) => m.kind === "tree")) {
    it(`DecisionTreeRegressor(max_depth=${model.max_depth}, random_state=0)`, () => {
      const tree = new DecisionTreeRegressor({ maxDepth: model.max_depth, splitter: "best" }).fit(
        train,
        y,
      );
      expect(tree.leafCount).toBe(model.n_leaves);
      expect(Array.from(tree.predict(test))).toEqual(model.test_predictions);
    });
  }
});
