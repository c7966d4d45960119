import { readFileSync } from "node:fs";
import {
  applyPreprocessing,
  categoryColumn,
  Frame,
  type MlopsError,
  numericColumn,
} from "@mlops/core";
import { describe, expect, it } from "vitest";
import { conformanceRegressionFrame } from "../testing/estimator-conformance.js";
import { describeTransformerConformance } from "../testing/transformer-conformance.js";
import { OneHotEncoder } from "./one-hot-encoder.js";
import { PolynomialFeatures, polynomialPowers } from "./polynomial-features.js";
import { SelectKBest } from "./select-k-best.js";
import { SimpleImputer } from "./simple-imputer.js";
import { StandardScaler } from "./standard-scaler.js";

// Reference values from scikit-learn 1.2.1 (fixtures/make_fixtures.py).
const reference = JSON.parse(
  readFileSync(new URL("./fixtures/preprocessing_reference.json", import.meta.url), "utf8"),
);
const diabetes = JSON.parse(
  readFileSync(new URL("../tree/fixtures/diabetes_reference.json", import.meta.url), "utf8"),
) as { feature_names: string[]; X: number[][]; y: number[] };

type Cell = number | null;
const table = reference.table as {
  numbers: Cell[][];
  numbers_names: string[];
  weights: number[];
  numbers_test: Cell[][];
  colors: (string | null)[];
  sizes: string[];
};

function numbersFrame(rows: Cell[][], names = table.numbers_names): Frame {
  return new Frame(
    names.map((name, j) => [name, numericColumn(rows.map((row) => row[j]))] as const),
  );
}

function rowsOf(frame: Frame, names: readonly string[]): Cell[][] {
  return frame.toRows().map((row) => names.map((name) => row[name] as Cell));
}

function expectClose(
  actual: ArrayLike<number | null>,
  expected: ArrayLike<number | null>,
  tolerance = 1e-12,
): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i];
    const a = actual[i];
    if (e === null) expect(a).toBeNull();
    else
      expect(Math.abs((a as number) - e)).toBeLessThanOrEqual(tolerance * Math.max(1, Math.abs(e)));
  }
}

const diabetesFrame = new Frame([
  ...diabetes.feature_names.map(
    (name, j) => [name, numericColumn(diabetes.X.map((row) => row[j]))] as const,
  ),
  ["y", numericColumn(diabetes.y)] as const,
]);

describe("StandardScaler against scikit-learn", () => {
  const frame = numbersFrame(table.numbers);
  const test = numbersFrame(table.numbers_test);
  const expected = reference.standard_scaler;

  it("learns mean, variance and scale ignoring missing values; a constant column gets 1", () => {
    const scaler = new StandardScaler().fit(frame);
    expectClose(Object.values(scaler.mean), expected.mean);
    expectClose(Object.values(scaler.variance), expected.var);
    expectClose(Object.values(scaler.scale), expected.scale);
    expect(scaler.scale.c).toBe(1);
    const scaled = scaler.transform(test);
    expect(scaled.names).toEqual(table.numbers_names);
    rowsOf(scaled, table.numbers_names).forEach((row, i) => {
      expectClose(row, expected.transform_test[i]);
    });
  });

  it("weights rows with sampleWeight and keeps the mean with withMean: false", () => {
    const weighted = new StandardScaler().fit(frame, undefined, { sampleWeight: table.weights });
    expectClose(Object.values(weighted.mean), expected.weighted_mean);
    expectClose(Object.values(weighted.variance), expected.weighted_var);
    expectClose(Object.values(weighted.scale), expected.weighted_scale);
    const noMean = new StandardScaler({ withMean: false }).fit(frame);
    rowsOf(noMean.transform(test), table.numbers_names).forEach((row, i) => {
      expectClose(row, expected.no_mean_transform_test[i]);
    });
    expect(noMean.toPreprocessing()).toEqual([
      expect.objectContaining({ kind: "standard_scaler", mean: [0, 0, 0, 0] }),
    ]);
  });

  it("scales only the columns asked for, and passes category columns through", () => {
    const mixed = frame.withColumn("color", categoryColumn(table.colors));
    const scaler = new StandardScaler({ columns: ["a"] }).fit(mixed);
    expect(Object.keys(scaler.mean)).toEqual(["a"]);
    const out = scaler.transform(mixed);
    expect(out.column("color")).toEqual(mixed.column("color"));
    expect(out.numeric("b")).toEqual(mixed.numeric("b"));
    expect(() => new StandardScaler({ columns: ["color"] }).fit(mixed)).toThrow(
      /column "color" is category, expected a numeric column/,
    );
  });
});

describe("SimpleImputer against scikit-learn", () => {
  const frame = numbersFrame(table.numbers);
  const test = numbersFrame(table.numbers_test);
  const expected = reference.simple_imputer;

  for (const strategy of ["mean", "median", "most_frequent", "constant"] as const) {
    it(`strategy ${strategy}: statistics and filled rows`, () => {
      const imputer = new SimpleImputer({ strategy }).fit(frame);
      expectClose(Object.values(imputer.statistics) as number[], expected[strategy].statistics);
      rowsOf(imputer.transform(test), table.numbers_names).forEach((row, i) => {
        expectClose(row, expected[strategy].transform_test[i]);
      });
    });
  }

  it("fills category columns with the most frequent value or a constant", () => {
    const categories = new Frame({
      color: categoryColumn(table.colors),
      size: categoryColumn(table.sizes),
    });
    const frequent = new SimpleImputer({ strategy: "most_frequent" }).fit(categories);
    expect(Object.values(frequent.statistics)).toEqual(expected.category_most_frequent);
    const constant = new SimpleImputer({ strategy: "constant" }).fit(categories);
    expect(Object.values(constant.statistics)).toEqual(expected.category_constant);
    const filled = constant.transform(categories);
    expect(filled.toRows()[3].color).toBe("missing_value");
    // Mean and median leave category columns alone; a typed fillValue picks its columns.
    const mixed = frame.withColumn("color", categoryColumn(table.colors));
    expect(Object.keys(new SimpleImputer().fit(mixed).statistics)).toEqual(["a", "b", "c", "d"]);
    const text = new SimpleImputer({ strategy: "constant", fillValue: "none" }).fit(mixed);
    expect(text.statistics).toEqual({ color: "none" });
  });

  it("refuses a column with no values and a fill of the wrong kind", () => {
    const empty = new Frame({ a: numericColumn([null, null]), b: numericColumn([1, 2]) });
    expect(() => new SimpleImputer().fit(empty)).toThrow(
      /column "a" has no values to compute the mean/,
    );
    const mixed = frame.withColumn("color", categoryColumn(table.colors));
    expect(() =>
      new SimpleImputer({ strategy: "constant", fillValue: 0, columns: ["color"] }).fit(mixed),
    ).toThrow(/column "color" is category, expected a numeric column \(fillValue is a number\)/);
  });
});

describe("OneHotEncoder against scikit-learn", () => {
  const expected = reference.one_hot;
  const frame = new Frame({
    color: categoryColumn(expected.colors),
    size: categoryColumn(table.sizes),
  });
  const test = new Frame({
    color: categoryColumn(expected.test.map((row: string[]) => row[0])),
    size: categoryColumn(expected.test.map((row: string[]) => row[1])),
  });

  it("learns sorted categories, names outputs <column>_<value>, ignores unknown values", () => {
    const encoder = new OneHotEncoder({ handleUnknown: "ignore" }).fit(frame);
    expect(Object.values(encoder.categories)).toEqual(expected.categories);
    expect(encoder.featureNamesOut).toEqual(expected.names);
    const encoded = encoder.transform(test);
    expect(rowsOf(encoded, expected.names)).toEqual(expected.transform_test);
  });

  it('drops the first category with drop: "first"', () => {
    const encoder = new OneHotEncoder({ handleUnknown: "ignore", drop: "first" }).fit(frame);
    expect(encoder.featureNamesOut).toEqual(expected.first_names);
    expect(rowsOf(encoder.transform(test), expected.first_names)).toEqual(
      expected.first_transform_test,
    );
    expect(encoder.toPreprocessing().at(-1)).toEqual({
      kind: "drop_columns",
      columns: ["color_blue", "size_L"],
    });
  });

  it('throws for unknown and missing values with handleUnknown: "error"', () => {
    const encoder = new OneHotEncoder().fit(frame);
    const error = (() => {
      try {
        encoder.transform(test);
      } catch (caught) {
        return caught as MlopsError;
      }
    })();
    expect(error?.code).toBe("predictor_input");
    expect(error?.message).toContain('"purple"');
    const gaps = new Frame({ color: categoryColumn(["red", null]) });
    expect(() => new OneHotEncoder().fit(gaps)).toThrow(/"color" has missing values; impute/);
    expect(
      new OneHotEncoder({ handleUnknown: "ignore" }).fit(gaps).transform(gaps).toRows(),
    ).toEqual([{ color_red: 1 }, { color_red: 0 }]);
  });

  it("takes the categories of a column as given (scikit-learn's categories), in their order", () => {
    const fixed = { color: ["white", "red", "green", "blue", "purple"] };
    const encoder = new OneHotEncoder({ handleUnknown: "ignore", categories: fixed }).fit(frame);
    expect(encoder.categories.color).toEqual(fixed.color);
    expect(encoder.categories.size).toEqual(expected.categories[1]);
    expect(encoder.featureNamesOut.slice(0, 5)).toEqual(fixed.color.map((c) => `color_${c}`));
    const seen = Object.values(encoder.categories).flat();
    expect(seen).toContain("white"); // never seen at fit, still a column
    expect(() => new OneHotEncoder({ categories: { color: ["red"] } }).fit(frame)).toThrow(
      /column "color" has .*not among its categories \(red\)/,
    );
    expect(() => new OneHotEncoder({ categories: { shape: ["round"] } }).fit(frame)).toThrow(
      /categories names "shape", which is not a column it encodes/,
    );
    expect(() => new OneHotEncoder({ categories: { color: [] } }).fit(frame)).toThrow(/categories/);
  });

  it("refuses output names that clash with other columns", () => {
    const clash = frame.withColumn("color_red", numericColumn(new Array(frame.rowCount).fill(1)));
    expect(() => new OneHotEncoder().fit(clash)).toThrow(/"color_red".*clashes/);
  });
});

describe("PolynomialFeatures against scikit-learn", () => {
  for (const c of reference.polynomial as {
    name: string;
    params: { degree: number; interaction_only?: boolean; include_bias?: boolean };
    powers: number[][];
    names: string[];
    input: number[][];
    output: number[][];
  }[]) {
    it(`${c.name}: powers, names and values`, () => {
      const frame = numbersFrame(c.input, ["a", "b", "d"]);
      const poly = new PolynomialFeatures({
        degree: c.params.degree,
        interactionOnly: c.params.interaction_only ?? false,
        includeBias: c.params.include_bias ?? true,
      }).fit(frame);
      expect(poly.powers).toEqual(c.powers);
      expect(poly.featureNamesOut).toEqual(c.names);
      rowsOf(poly.transform(frame), c.names).forEach((row, i) => {
        expectClose(row, c.output[i], 1e-15);
      });
    });
  }

  it("expands listed columns in place; others pass through", () => {
    const frame = new Frame({
      x: numericColumn([2]),
      color: categoryColumn(["red"]),
      z: numericColumn([3]),
      w: numericColumn([5]),
    });
    const poly = new PolynomialFeatures({ columns: ["x", "z"], includeBias: false }).fit(frame);
    expect(poly.transform(frame).toRows()).toEqual([
      { x: 2, z: 3, "x^2": 4, "x z": 6, "z^2": 9, color: "red", w: 5 },
    ]);
    expect(polynomialPowers(3, 0, false, true)).toEqual([[0, 0, 0]]);
    expect(() => new PolynomialFeatures({ degree: 0, includeBias: false }).fit(frame)).toThrow(
      /degree/,
    );
  });
});

describe("SelectKBest against scikit-learn (diabetes)", () => {
  const names = diabetes.feature_names;

  it("f_regression: scores and p-values within 1e-9 relative", () => {
    const select = new SelectKBest({ k: 4 }).fit(diabetesFrame, "y");
    expectClose(Object.values(select.scores), reference.f_regression.scores, 1e-10);
    const pvalues = Object.values(select.pvalues!);
    reference.f_regression.pvalues.forEach((expected: number, j: number) => {
      expect(Math.abs(pvalues[j] - expected)).toBeLessThanOrEqual(1e-9 * expected);
    });
    const mask = reference.select_k_best.f_regression_k4 as boolean[];
    expect(select.selected).toEqual(names.filter((_, j) => mask[j]));
    expect(select.transform(diabetesFrame).names).toEqual([...select.selected, "y"]);
  });

  it("mutual_info_regression: scikit-learn's estimate with the same seed", () => {
    const select = new SelectKBest({ k: 3, scoreFunc: "mutual_info_regression", seed: 0 }).fit(
      diabetesFrame,
      "y",
    );
    expectClose(
      Object.values(select.scores),
      reference.mutual_info.n_neighbors_3_random_state_0,
      1e-12,
    );
    const mask = reference.select_k_best.mutual_info_k3_random_state_0 as boolean[];
    expect(select.selected).toEqual(names.filter((_, j) => mask[j]));
    expect(select.pvalues).toBeUndefined();
    const small = diabetesFrame.slice(0, 200).select([...names.slice(0, 4), "y"]);
    const other = new SelectKBest({
      k: "all",
      scoreFunc: "mutual_info_regression",
      nNeighbors: 5,
      seed: 7,
    }).fit(small, "y");
    expectClose(
      Object.values(other.scores),
      reference.mutual_info.first_200_rows_4_features_n_neighbors_5_random_state_7,
      1e-12,
    );
  });

  it("keeps later columns on ties, scores constants 0, and checks k", () => {
    const frame = new Frame({
      a: numericColumn([1, 2, 3, 4]),
      b: numericColumn([1, 2, 3, 4]),
      flat: numericColumn([5, 5, 5, 5]),
      y: numericColumn([2, 4, 6, 9]),
    });
    const select = new SelectKBest({ k: 1 }).fit(frame, "y");
    expect(select.selected).toEqual(["b"]);
    expect(select.scores.flat).toBe(0);
    expect(select.pvalues?.flat).toBe(1);
    expect(() => new SelectKBest({ k: 4 }).fit(frame, "y")).toThrow(/k: expected at most 3/);
    expect(() => new SelectKBest().fit(frame.drop(["y"]))).toThrow(/fit\(frame, target\)/);
  });
});

describe("transformers in a chain", () => {
  it("apply the same numbers through applyPreprocessing as through transform", () => {
    const frame = conformanceRegressionFrame(50, 3);
    const scaler = new StandardScaler().fit(frame, "y");
    const poly = new PolynomialFeatures({ degree: 2 }).fit(scaler.transform(frame), "y");
    const steps = [...scaler.toPreprocessing(), ...poly.toPreprocessing()];
    const direct = poly.transform(scaler.transform(frame));
    expect(applyPreprocessing(frame, steps).toRows()).toEqual(direct.toRows());
  });
});

// ------------------------------------------------------------------ conformance

/** Generated rows with gaps and category columns (same gaps and categories in both parts). */
function mixedFrame(rows: number, seed: number, target: boolean): Frame {
  const base = conformanceRegressionFrame(rows, seed);
  const b = Float64Array.from(base.numeric("b"));
  for (let i = 0; i < rows; i += 7) b[i] = Number.NaN;
  const colors = Array.from({ length: rows }, (_, i) =>
    i % 11 === 0 ? null : ["red", "green", "blue"][i % 3],
  );
  const sizes = Array.from({ length: rows }, (_, i) => ["S", "M", "L"][(i * 7) % 3]);
  const frame = base
    .withColumn("b", { kind: "number", values: b })
    .withColumn("color", categoryColumn(colors))
    .withColumn("size", categoryColumn(sizes));
  return target ? frame.select(["a", "b", "color", "c", "size", "noise", "y"]) : frame.drop(["y"]);
}

const mixed = { train: mixedFrame(240, 11, true), test: mixedFrame(60, 12, false) };

describeTransformerConformance(() => new StandardScaler(), { invalidParams: { withMean: 1 } });
describeTransformerConformance(() => new StandardScaler({ withStd: false }), {
  name: "StandardScaler (mixed columns)",
  ...mixed,
});
describeTransformerConformance(() => new SimpleImputer({ strategy: "median" }), {
  ...mixed,
  invalidParams: { strategy: "mode" },
});
describeTransformerConformance(() => new SimpleImputer({ strategy: "most_frequent" }), {
  name: "SimpleImputer (most_frequent)",
  ...mixed,
});
describeTransformerConformance(() => new OneHotEncoder({ handleUnknown: "ignore" }), {
  ...mixed,
  invalidParams: { drop: "last" },
});
describeTransformerConformance(
  () => new OneHotEncoder({ handleUnknown: "ignore", drop: "first", columns: ["size"] }),
  { name: "OneHotEncoder (drop first)", ...mixed },
);
describeTransformerConformance(() => new PolynomialFeatures({ degree: 2 }), {
  invalidParams: { degree: -1 },
});
describeTransformerConformance(() => new SelectKBest({ k: 2 }), { invalidParams: { k: 9 } });
describeTransformerConformance(
  () => new SelectKBest({ k: 2, scoreFunc: "mutual_info_regression", seed: 3 }),
  { name: "SelectKBest (mutual information)", invalidParams: { scoreFunc: "chi2" } },
);
