import { readFileSync } from "node:fs";
import {
  categoryColumn,
  createPredictor,
  decodeArtifact,
  encodeArtifact,
  Frame,
  type MlopsError,
  numericColumn,
} from "@mlops/core";
import { describe, expect, it } from "vitest";
import { LinearRegression } from "../linear/linear-regression.js";
import { Ridge } from "../linear/ridge.js";
import { OneHotEncoder } from "../preprocessing/one-hot-encoder.js";
import { PolynomialFeatures } from "../preprocessing/polynomial-features.js";
import { SelectKBest } from "../preprocessing/select-k-best.js";
import { SimpleImputer } from "../preprocessing/simple-imputer.js";
import { StandardScaler } from "../preprocessing/standard-scaler.js";
import {
  conformanceRegressionFrame,
  describeEstimatorConformance,
} from "../testing/estimator-conformance.js";
import { DecisionTreeRegressor } from "../tree/decision-tree.js";
import { Pipeline } from "./pipeline.js";

// scikit-learn 1.2.1 pipelines on the diabetes split (fixtures/make_fixtures.py).
const reference = JSON.parse(
  readFileSync(new URL("./fixtures/pipeline_reference.json", import.meta.url), "utf8"),
) as { cases: { name: string; selected: string[] | null; test_predictions: number[] }[] };
const diabetes = JSON.parse(
  readFileSync(new URL("../tree/fixtures/diabetes_reference.json", import.meta.url), "utf8"),
) as {
  feature_names: string[];
  X: number[][];
  y: number[];
  train_idx: number[];
  test_idx: number[];
};

const diabetesFrame = new Frame([
  ...diabetes.feature_names.map(
    (name, j) => [name, numericColumn(diabetes.X.map((row) => row[j]))] as const,
  ),
  ["y", numericColumn(diabetes.y)] as const,
]);
const diabetesTrain = diabetesFrame.take(diabetes.train_idx);
const diabetesTest = diabetesFrame.take(diabetes.test_idx).drop(["y"]);

function milkPricePipeline(): Pipeline {
  return new Pipeline([
    ["scaler", new StandardScaler()],
    ["poly", new PolynomialFeatures({ degree: 2 })],
    ["select", new SelectKBest({ k: 10 })],
    ["ridge", new Ridge()],
  ]);
}

function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / Math.abs(expected[i]));
  }
  return worst;
}

describe("Pipeline against scikit-learn 1.2.1 (diabetes)", () => {
  const cases = Object.fromEntries(reference.cases.map((c) => [c.name, c]));

  it("scaler → poly → select (f_regression, k=10) → ridge: same columns and predictions", () => {
    const pipeline = milkPricePipeline().fit(diabetesTrain, "y");
    const expected = cases.scaler_poly_select_ridge;
    expect(pipeline.transform(diabetesTest).names).toEqual(expected.selected);
    expect(relativeError(pipeline.predict(diabetesTest), expected.test_predictions)).toBeLessThan(
      1e-9,
    );
  });

  it("scaler → select (mutual information, k=5) → poly → ridge", () => {
    const pipeline = new Pipeline([
      ["scaler", new StandardScaler()],
      ["select", new SelectKBest({ k: 5, scoreFunc: "mutual_info_regression", seed: 0 })],
      ["poly", new PolynomialFeatures({ degree: 2, includeBias: false })],
      ["ridge", new Ridge({ alpha: 10 })],
    ]).fit(diabetesTrain, "y");
    const expected = cases.scaler_select_poly_ridge;
    expect(pipeline.transform(diabetesTest).names).toEqual(expected.selected);
    expect(relativeError(pipeline.predict(diabetesTest), expected.test_predictions)).toBeLessThan(
      1e-9,
    );
  });

  it("poly (with its constant column) → linear regression", () => {
    const pipeline = new Pipeline([
      ["poly", new PolynomialFeatures({ degree: 2 })],
      ["linear", new LinearRegression()],
    ]).fit(diabetesTrain, "y");
    expect(
      relativeError(pipeline.predict(diabetesTest), cases.poly_linear.test_predictions),
    ).toBeLessThan(1e-9);
  });
});

describe("Pipeline parameters", () => {
  it("reads and sets step__param keys, and rejects unknown ones atomically", () => {
    const pipeline = milkPricePipeline();
    const params = pipeline.getParams();
    expect(params.ridge__alpha).toBe(1);
    expect(params.poly__degree).toBe(2);
    expect(params.select__k).toBe(10);
    expect(params.scaler__withMean).toBe(true);
    pipeline.setParams({ ridge__alpha: 10, poly__degree: 3 });
    expect(pipeline.namedStep("ridge").getParams()).toEqual({ alpha: 10, fitIntercept: true });
    expect(pipeline.getParams().poly__degree).toBe(3);
    expect(() => pipeline.setParams({ ridge__alpha: 5, ridge__beta: 1 })).toThrow(/"beta"/);
    expect(pipeline.getParams().ridge__alpha).toBe(10);
    expect(() => pipeline.setParams({ lasso__alpha: 1 })).toThrow(
      /unknown parameter "lasso__alpha"/,
    );
  });

  it("replaces a whole step by name, and nests pipelines as outer__inner__param", () => {
    const pipeline = milkPricePipeline();
    pipeline.setParams({ ridge: new DecisionTreeRegressor({ maxDepth: 3 }) });
    expect(pipeline.getParams().ridge__maxDepth).toBe(3);
    expect(() => pipeline.setParams({ poly: new Ridge() })).toThrow(/must be a transformer/);
    const outer = new Pipeline([
      ["impute", new SimpleImputer()],
      [
        "inner",
        new Pipeline([
          ["scaler", new StandardScaler()],
          ["ridge", new Ridge()],
        ]),
      ],
    ]);
    outer.setParams({ inner__ridge__alpha: 3 });
    expect(outer.getParams().inner__ridge__alpha).toBe(3);
    const frame = conformanceRegressionFrame(80, 5);
    const artifact = outer.fit(frame, "y").toArtifact();
    expect(artifact.manifest.preprocessing.map((step) => step.kind)).toEqual([
      "simple_imputer",
      "standard_scaler",
    ]);
    expect(createPredictor(artifact).predict(frame)).toEqual(outer.predict(frame));
  });

  it("clones every step, unfitted and independent", () => {
    const pipeline = milkPricePipeline().fit(diabetesTrain, "y");
    const copy = pipeline.clone();
    expect(copy.isFitted).toBe(false);
    expect(copy.namedStep("ridge")).not.toBe(pipeline.namedStep("ridge"));
    expect(copy.namedStep("ridge").isFitted).toBe(false);
    copy.setParams({ ridge__alpha: 100 });
    expect(pipeline.getParams().ridge__alpha).toBe(1);
  });

  it("checks its steps", () => {
    expect(() => new Pipeline([])).toThrow(/non-empty list/);
    expect(() => new Pipeline([["scaler", new StandardScaler()]])).toThrow(/must be an estimator/);
    expect(
      () =>
        new Pipeline([
          ["a", new StandardScaler()],
          ["a", new Ridge()],
        ]),
    ).toThrow(/used twice/);
    expect(() => new Pipeline([["a__b", new Ridge()]])).toThrow(/without "__"/);
    expect(
      () =>
        new Pipeline([
          ["ridge", new Ridge()],
          ["tree", new DecisionTreeRegressor()],
        ]),
    ).toThrow(/must be a transformer/);
  });
});

// ------------------------------------------------------------------ mixed data

/** Houses-like rows: numbers with gaps, a category with gaps, an integer column. */
function housing(rows: number, seed: number): Frame {
  const base = conformanceRegressionFrame(rows, seed);
  const a = Float64Array.from(base.numeric("a"));
  const c = Float64Array.from(base.numeric("c"));
  const y = Float64Array.from(base.numeric("y"));
  const districts = ["north", "south", "east", "west"];
  const district: (string | null)[] = [];
  const rooms = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    if (i % 9 === 4) a[i] = Number.NaN;
    if (i % 13 === 6) c[i] = Number.NaN;
    const d = (i * 5 + seed) % 4;
    district.push(i % 17 === 3 ? null : districts[d]);
    rooms[i] = 1 + ((i * 7 + seed) % 5);
    y[i] += d * 1.5 + 0.3 * rooms[i];
  }
  return new Frame({
    a: { kind: "number", values: a },
    district: categoryColumn(district),
    b: { kind: "number", values: base.numeric("b") },
    rooms: { kind: "integer", values: rooms },
    c: { kind: "number", values: c },
    y: { kind: "number", values: y },
  });
}

describe("Pipeline artifacts serve exactly what predict gives", () => {
  const train = housing(300, 1);
  const heldOut = housing(120, 2).drop(["y"]);

  function mixedPipeline(): Pipeline {
    return new Pipeline([
      ["impute", new SimpleImputer({ strategy: "median" })],
      ["impute_district", new SimpleImputer({ strategy: "most_frequent", columns: ["district"] })],
      ["encode", new OneHotEncoder({ handleUnknown: "ignore", drop: "first" })],
      ["scaler", new StandardScaler()],
      ["poly", new PolynomialFeatures({ degree: 2, includeBias: false })],
      ["select", new SelectKBest({ k: 8 })],
      ["ridge", new Ridge({ alpha: 0.5 })],
    ]);
  }

  it("imputer → one-hot → scaler → poly → select → ridge: one artifact, equal predictions", () => {
    const pipeline = mixedPipeline().fit(train, "y");
    const artifact = pipeline.toArtifact({ metrics: { rmse: 1 } });
    expect(artifact.manifest.kind).toBe("linear");
    expect(artifact.manifest.preprocessing.map((step) => step.kind)).toEqual([
      "simple_imputer",
      "simple_imputer",
      "one_hot",
      "drop_columns",
      "standard_scaler",
      "polynomial_features",
      "drop_columns",
    ]);
    expect(artifact.manifest.model.inputs).toEqual(pipeline.estimator.featureNames);
    expect(artifact.manifest.model.inputs).toHaveLength(8);
    expect(Object.keys(artifact.manifest.schema.fields)).toEqual([
      "a",
      "district",
      "b",
      "rooms",
      "c",
      "y",
    ]);
    // Through the binary format too: what a registry stores and a server loads.
    const served = createPredictor(decodeArtifact(encodeArtifact(artifact)));
    const expected = pipeline.predict(heldOut);
    expect(served.predict(heldOut)).toEqual(expected);
    const rows = heldOut.toRows();
    expect(rows.some((row) => row.district === null)).toBe(true);
    expect(rows.some((row) => row.a === null)).toBe(true);
    rows.forEach((row, i) => {
      expect(served.predictRow(row)).toBe(expected[i]);
    });
  });

  it("profiles the raw inputs a request carries, not the transformed columns", () => {
    const pipeline = mixedPipeline().fit(train, "y");
    const profile = pipeline.toArtifact().manifest.profile;
    expect(Object.keys(profile?.features ?? {})).toEqual(["a", "district", "b", "rooms", "c"]);
    expect(profile?.features.district.kind).toBe("category");
    expect(profile?.features.a.missing).toBeGreaterThan(0);
    expect(profile?.predictions?.count).toBe(train.rowCount);
    expect(profile?.predictions?.mean).toBeCloseTo(
      pipeline.predict(train).reduce((sum, value) => sum + value, 0) / train.rowCount,
      9,
    );
    // The final estimator is fitted without a profile of its own.
    expect(pipeline.estimator.trainingProfile).toBeUndefined();
  });

  it("serves a tree at the end too (missing values reach the tree)", () => {
    const pipeline = new Pipeline([
      ["encode", new OneHotEncoder({ handleUnknown: "ignore" })],
      ["tree", new DecisionTreeRegressor({ maxDepth: 5 })],
    ]).fit(train, "y");
    const artifact = pipeline.toArtifact();
    expect(artifact.manifest.kind).toBe("tree");
    expect(createPredictor(artifact).predict(heldOut)).toEqual(pipeline.predict(heldOut));
    expect(pipeline.estimator.featureNames).toEqual([
      "a",
      "district_east",
      "district_north",
      "district_south",
      "district_west",
      "b",
      "rooms",
      "c",
    ]);
  });

  it("states what the chain can take: a tree behind an ignoring one-hot step takes gaps and new districts", () => {
    const tree = new Pipeline([
      ["encode", new OneHotEncoder({ handleUnknown: "ignore" })],
      ["tree", new DecisionTreeRegressor({ maxDepth: 5 })],
    ]).fit(train, "y");
    const { fields } = tree.toArtifact().manifest.schema;
    expect(fields.rooms).toEqual({ kind: "number", nullable: true });
    expect(fields.district).toMatchObject({ kind: "category", nullable: true, open: true });
    expect(fields.y).toEqual({ kind: "number" });
    const served = createPredictor(tree.toArtifact());
    const row = heldOut.toRows()[0];
    const zeros = served.predictRow({ ...row, district: null });
    expect(served.predictRow({ ...row, district: "harbour", rooms: 2.5 })).toBe(
      served.predictRow({ ...row, district: null, rooms: 2.5 }),
    );
    expect(Number.isFinite(zeros)).toBe(true);
    // A linear model cannot take a gap: rooms (never missing at fit) stays required.
    const linear = new Pipeline([
      ["encode", new OneHotEncoder({ handleUnknown: "ignore" })],
      ["scaler", new StandardScaler({ columns: ["rooms"] })],
      ["ridge", new Ridge({ alpha: 0.5 })],
    ])
      .fit(train.drop(["a", "c"]), "y")
      .toArtifact().manifest.schema.fields;
    expect(linear.rooms).toEqual({ kind: "number" });
    expect(linear.district).toMatchObject({ nullable: true, open: true });
  });

  it("needs every input column and names the one that is absent", () => {
    const pipeline = mixedPipeline().fit(train, "y");
    const error = (() => {
      try {
        pipeline.predict(heldOut.drop(["rooms"]));
      } catch (caught) {
        return caught as MlopsError;
      }
    })();
    expect(error?.code).toBe("data_invalid");
    expect(error?.message).toContain('no column "rooms"');
  });
});

describeEstimatorConformance(
  () =>
    new Pipeline([
      ["scaler", new StandardScaler()],
      ["ridge", new Ridge({ alpha: 0.1 })],
    ]),
  { name: "Pipeline (scaler → ridge)" },
);
describeEstimatorConformance(
  () =>
    new Pipeline([
      ["impute", new SimpleImputer()],
      ["poly", new PolynomialFeatures({ degree: 2, columns: ["a", "b"], includeBias: false })],
      ["select", new SelectKBest({ k: 4, columns: ["a^2", "a b", "b^2", "c", "noise"] })],
      ["tree", new DecisionTreeRegressor({ maxDepth: 4 })],
    ]),
  {
    name: "Pipeline (impute → poly → select → tree)",
    modelInputs: ["a", "b", "a^2", "a b", "b^2", "c"],
  },
);
