import { describe, expect, it } from "vitest";
import { z } from "zod";
import { createArtifact } from "../artifact/create.js";
import type { PreprocessingStep } from "../artifact/types.js";
import { MlopsError } from "../errors/error.js";
import { categoryColumn, Frame, numericColumn } from "../frame/frame.js";
import { field } from "../schema/field.js";
import { type Schema, schema } from "../schema/schema.js";
import reference from "./fixtures/sklearn_reference.json" with { type: "json" };
import { createPredictor } from "./predictor.js";
import { applyPreprocessing, registerPreprocessingStep } from "./preprocessing.js";

/** A linear model that returns Σ weights[i] × inputs[i]: reads preprocessed values back. */
function probe(features: Schema, steps: PreprocessingStep[], inputs: string[], weights: number[]) {
  return createPredictor(
    createArtifact({
      kind: "linear",
      schema: features,
      preprocessing: steps,
      model: { inputs, intercept: 0 },
      arrays: { coefficients: Float64Array.from(weights) },
      lineage: { gitCommit: "abc1234" },
    }),
  );
}

function catchError(run: () => unknown): MlopsError {
  try {
    run();
  } catch (error) {
    if (MlopsError.isInstance(error)) return error;
    throw error;
  }
  throw new Error("expected an MlopsError");
}

const numbers = (values: (number | null)[]) => numericColumn(values);

describe("standard_scaler", () => {
  const { mean, scale, input, output } = reference.standard_scaler;
  const step: PreprocessingStep = { kind: "standard_scaler", columns: ["a", "b"], mean, scale };

  it("transforms as in StandardScaler's docstring: [[2, 2]] → [[3, 3]]", () => {
    expect(mean).toEqual([0.5, 0.5]);
    expect(output).toEqual([[3, 3]]);
    const frame = new Frame({ a: numbers([input[0][0]]), b: numbers([input[0][1]]) });
    const scaled = applyPreprocessing(frame, [step]);
    expect(Array.from(scaled.numeric("a"))).toEqual([3]);
    expect(Array.from(scaled.numeric("b"))).toEqual([3]);
    const features = schema({ a: field.number(), b: field.number() });
    expect(probe(features, [step], ["a"], [1]).predictRow({ a: 2, b: 2 })).toBe(3);
    expect(probe(features, [step], ["b"], [1]).predict(frame)[0]).toBe(3);
  });

  it("treats a scale of 0 as 1 (a constant column is only centred)", () => {
    const frame = new Frame({ a: numbers([4, 5]) });
    const scaled = applyPreprocessing(frame, [
      { kind: "standard_scaler", columns: ["a"], mean: [4], scale: [0] },
    ]);
    expect(Array.from(scaled.numeric("a"))).toEqual([0, 1]);
  });

  it("keeps missing values missing", () => {
    const frame = new Frame({ a: numbers([null, 1]) });
    const scaled = applyPreprocessing(frame, [
      { kind: "standard_scaler", columns: ["a"], mean: [1], scale: [2] },
    ]);
    expect(Array.from(scaled.numeric("a"))).toEqual([Number.NaN, 0]);
  });
});

describe("simple_imputer", () => {
  it("fills like scikit-learn's SimpleImputer(strategy='mean') docstring example", () => {
    const { fill, input, output } = reference.simple_imputer;
    expect(fill).toEqual([7, 3.5, 6]);
    const names = ["a", "b", "c"];
    const step: PreprocessingStep = { kind: "simple_imputer", columns: names, fill };
    const frame = new Frame(
      names.map((name, j) => [name, numbers(input.map((row) => row[j]))] as const),
    );
    const filled = applyPreprocessing(frame, [step]);
    names.forEach((name, j) => {
      expect(Array.from(filled.numeric(name))).toEqual(output.map((row) => row[j]));
    });
    const features = schema(
      Object.fromEntries(names.map((name) => [name, field.number().nullable()])),
    );
    const predictor = probe(features, [step], names, [1, 1000, 1000000]);
    const expected = output.map((row) => row[0] + 1000 * row[1] + 1000000 * row[2]);
    expect(Array.from(predictor.predict(frame))).toEqual(expected);
    expect(predictor.predictRow({ a: null, b: 2, c: 3 })).toBe(expected[0]);
  });

  it("fills category columns, adding a fill value the dictionary lacks", () => {
    const frame = new Frame({ color: categoryColumn(["red", null, "blue"]) });
    const filled = applyPreprocessing(frame, [
      { kind: "simple_imputer", columns: ["color"], fill: ["unknown"] },
    ]);
    expect(filled.toRows()).toEqual([{ color: "red" }, { color: "unknown" }, { color: "blue" }]);
  });

  it("checks fill types against the columns", () => {
    const frame = new Frame({ x: numbers([1]), color: categoryColumn(["red"]) });
    const numeric = catchError(() =>
      applyPreprocessing(frame, [{ kind: "simple_imputer", columns: ["x"], fill: ["0"] }]),
    );
    expect(numeric.code).toBe("artifact_invalid");
    expect(numeric.message).toContain('fill[0]: column "x" is numeric');
    const lengths = catchError(() =>
      applyPreprocessing(frame, [{ kind: "simple_imputer", columns: ["x"], fill: [] }]),
    );
    expect(lengths.message).toContain("preprocessing[0]: fill: needs one fill value per column");
  });
});

describe("one_hot", () => {
  const { categories, input, output } = reference.one_hot;
  const sexes = categories[0];
  const levels = categories[1];
  const steps: PreprocessingStep[] = [
    {
      kind: "one_hot",
      column: "sex",
      categories: sexes,
      handleUnknown: "ignore",
      outputs: sexes.map((c) => `sex_${c}`),
    },
    {
      kind: "one_hot",
      column: "level",
      categories: levels,
      handleUnknown: "ignore",
      outputs: levels.map((c) => `level_${c}`),
    },
  ];
  const outputs = [...sexes.map((c) => `sex_${c}`), ...levels.map((c) => `level_${c}`)];

  it("encodes like scikit-learn's OneHotEncoder(handle_unknown='ignore') docstring example", () => {
    expect(output).toEqual([
      [1, 0, 1, 0, 0],
      [0, 1, 0, 0, 0],
    ]);
    const frame = new Frame({
      sex: categoryColumn(input.map((row) => row[0])),
      level: categoryColumn(input.map((row) => row[1])),
    });
    const encoded = applyPreprocessing(frame, steps);
    expect(encoded.names).toEqual(outputs);
    expect(encoded.toRows().map((row) => outputs.map((name) => row[name]))).toEqual(output);
  });

  it("gives the same columns inside a predictor, from frames and from rows", () => {
    const features = schema({
      sex: field.category(["Female", "Male"]),
      level: field.category(["1", "2", "3", "4"]).nullable(),
    });
    const weights = outputs.map((_, i) => 10 ** i);
    const predictor = probe(features, steps, outputs, weights);
    const rows = [
      { sex: "Female", level: "1" },
      { sex: "Male", level: "4" },
      { sex: "Male", level: null },
    ];
    const expected = [
      [1, 0, 1, 0, 0],
      [0, 1, 0, 0, 0],
      [0, 1, 0, 0, 0],
    ].map((row) => row.reduce((sum, v, i) => sum + v * weights[i], 0));
    expect(rows.map((row) => predictor.predictRow(row))).toEqual(expected);
    expect(Array.from(predictor.predict(features.toFrame(rows)))).toEqual(expected);
  });

  it("throws predictor_input for an unknown or missing category with handleUnknown error", () => {
    const features = schema({ color: field.category(["red", "green", "blue"]).nullable() });
    const strict: PreprocessingStep[] = [
      {
        kind: "one_hot",
        column: "color",
        categories: ["red", "green"],
        handleUnknown: "error",
        outputs: ["red", "green"],
      },
    ];
    const predictor = probe(features, strict, ["red", "green"], [1, 2]);
    expect(predictor.predictRow({ color: "green" })).toBe(2);
    const unknown = catchError(() => predictor.predictRow({ color: "blue" }));
    expect(unknown.code).toBe("predictor_input");
    expect(unknown.message).toContain('"blue"');
    const frame = features.toFrame([{ color: "red" }, { color: null }]);
    const missing = catchError(() => predictor.predict(frame));
    expect(missing.code).toBe("predictor_input");
    expect(missing.message).toContain("a missing value at rows[1]");
  });

  it("checks its parameters", () => {
    const frame = new Frame({ x: numbers([1]), color: categoryColumn(["red"]) });
    const numeric = catchError(() =>
      applyPreprocessing(frame, [
        {
          kind: "one_hot",
          column: "x",
          categories: ["a"],
          handleUnknown: "ignore",
          outputs: ["x_a"],
        },
      ]),
    );
    expect(numeric.message).toContain('column "x" is numeric');
    const clash = catchError(() =>
      applyPreprocessing(frame, [
        {
          kind: "one_hot",
          column: "color",
          categories: ["red"],
          handleUnknown: "ignore",
          outputs: ["x"],
        },
      ]),
    );
    expect(clash.message).toContain('column "x" already exists');
    const shape = catchError(() =>
      applyPreprocessing(frame, [
        {
          kind: "one_hot",
          column: "color",
          categories: ["red"],
          handleUnknown: "maybe",
          outputs: [],
        },
      ]),
    );
    expect(shape.code).toBe("artifact_invalid");
    expect(shape.message).toContain("preprocessing[0]: handleUnknown: Invalid option");
    const outputs = catchError(() =>
      applyPreprocessing(frame, [
        {
          kind: "one_hot",
          column: "color",
          categories: ["red"],
          handleUnknown: "error",
          outputs: [],
        },
      ]),
    );
    expect(outputs.message).toContain("outputs: needs one output name per category");
  });
});

describe("polynomial_features", () => {
  // scikit-learn's PolynomialFeatures(degree=2) on [a, b] has powers_ [[0,0],[1,0],[0,1],[2,0],
  // [1,1],[0,2]] and names 1, a, b, a^2, a b, b^2; for a = 2, b = 3: 1, 2, 3, 4, 6, 9.
  const step: PreprocessingStep = {
    kind: "polynomial_features",
    columns: ["a", "b"],
    powers: [
      [0, 0],
      [1, 0],
      [0, 1],
      [2, 0],
      [1, 1],
      [0, 2],
    ],
    outputs: ["1", "a", "b", "a^2", "a b", "b^2"],
  };

  it("expands [a, b] to degree 2 in place of the inputs (hand-computed values)", () => {
    const frame = new Frame({
      before: numbers([7, 8]),
      a: numbers([2, -1.5]),
      c: categoryColumn(["x", "y"]),
      b: numbers([3, 0.5]),
    });
    const expanded = applyPreprocessing(frame, [step]);
    expect(expanded.names).toEqual(["before", "1", "a", "b", "a^2", "a b", "b^2", "c"]);
    const rows = expanded.toRows();
    expect(rows[0]).toEqual({ before: 7, 1: 1, a: 2, b: 3, "a^2": 4, "a b": 6, "b^2": 9, c: "x" });
    expect(rows[1]).toEqual({
      before: 8,
      1: 1,
      a: -1.5,
      b: 0.5,
      "a^2": 2.25,
      "a b": -0.75,
      "b^2": 0.25,
      c: "y",
    });
  });

  it("computes degree 3 and interaction terms, and serves them in a predictor", () => {
    const cubic: PreprocessingStep = {
      kind: "polynomial_features",
      columns: ["a", "b"],
      powers: [
        [3, 0],
        [2, 1],
        [1, 1],
      ],
      outputs: ["a^3", "a^2 b", "a b"],
    };
    const features = schema({ a: field.number(), b: field.number().nullable() });
    const predictor = probe(features, [cubic], ["a^3", "a^2 b", "a b"], [1, 100, 10000]);
    // a = 2, b = 3: a^3 = 8, a^2 b = 12, a b = 6 → 8 + 1200 + 60000.
    expect(predictor.predictRow({ a: 2, b: 3 })).toBe(61208);
    expect(Array.from(predictor.predict(features.toFrame([{ a: -1, b: 2 }])))).toEqual([
      -1 + 200 - 20000,
    ]);
    // A missing input makes the terms that use it missing (the linear model then refuses).
    const missing = catchError(() => predictor.predictRow({ a: 2, b: null }));
    expect(missing.code).toBe("predictor_input");
    expect(missing.message).toContain('"a^2 b" is missing');
    const frame = new Frame({ a: numbers([2]), b: numbers([null]) });
    expect(applyPreprocessing(frame, [cubic]).toRows()).toEqual([
      { "a^3": 8, "a^2 b": null, "a b": null },
    ]);
  });

  it("checks its parameters", () => {
    const frame = new Frame({ a: numbers([1]), c: categoryColumn(["x"]) });
    const category = catchError(() =>
      applyPreprocessing(frame, [
        { kind: "polynomial_features", columns: ["c"], powers: [[1]], outputs: ["c"] },
      ]),
    );
    expect(category.code).toBe("artifact_invalid");
    expect(category.message).toContain('column "c" is a category column');
    const width = catchError(() =>
      applyPreprocessing(frame, [
        { kind: "polynomial_features", columns: ["a"], powers: [[1, 0]], outputs: ["a"] },
      ]),
    );
    expect(width.message).toContain("powers[0]: needs one power per column (1), got 2");
    const names = catchError(() =>
      applyPreprocessing(frame, [
        { kind: "polynomial_features", columns: ["a"], powers: [[1], [2]], outputs: ["a"] },
      ]),
    );
    expect(names.message).toContain("outputs: needs one output name per row of powers");
    const negative = catchError(() =>
      applyPreprocessing(frame, [
        { kind: "polynomial_features", columns: ["a"], powers: [[-1]], outputs: ["1/a"] },
      ]),
    );
    expect(negative.message).toContain("powers[0][0]");
    const clash = catchError(() =>
      applyPreprocessing(frame, [
        { kind: "polynomial_features", columns: ["a"], powers: [[1]], outputs: ["c"] },
      ]),
    );
    expect(clash.message).toContain('column "c" already exists');
  });
});

describe("drop_columns", () => {
  it("removes the named columns and keeps the others in order", () => {
    const frame = new Frame({ a: numbers([1]), b: numbers([2]), c: categoryColumn(["x"]) });
    const kept = applyPreprocessing(frame, [{ kind: "drop_columns", columns: ["b", "c"] }]);
    expect(kept.toRows()).toEqual([{ a: 1 }]);
    const features = schema({ a: field.number(), b: field.number() });
    const steps: PreprocessingStep[] = [{ kind: "drop_columns", columns: ["b"] }];
    expect(probe(features, steps, ["a"], [2]).predictRow({ a: 1, b: 5 })).toBe(2);
    // The model cannot read a dropped column.
    const dropped = catchError(() => probe(features, steps, ["b"], [1]));
    expect(dropped.code).toBe("artifact_invalid");
    expect(dropped.message).toContain('no column "b"');
  });

  it("rejects unknown columns and an empty list", () => {
    const frame = new Frame({ a: numbers([1]) });
    const unknown = catchError(() =>
      applyPreprocessing(frame, [{ kind: "drop_columns", columns: ["z"] }]),
    );
    expect(unknown.message).toContain('preprocessing[0]: no column "z" at this point');
    const empty = catchError(() =>
      applyPreprocessing(frame, [{ kind: "drop_columns", columns: [] }]),
    );
    expect(empty.code).toBe("artifact_invalid");
    expect(empty.message).toContain("preprocessing[0]: columns:");
  });
});

describe("step registry", () => {
  it("rejects unknown kinds with predictor_unsupported naming the known ones", () => {
    const error = catchError(() =>
      applyPreprocessing(new Frame({ x: numbers([1]) }), [{ kind: "pca", components: 2 }]),
    );
    expect(error.code).toBe("predictor_unsupported");
    expect(error.message).toContain('"pca"');
    expect(error.message).toContain(
      "drop_columns, one_hot, polynomial_features, simple_imputer, standard_scaler",
    );
  });

  it("runs registered kinds in frames and rows", () => {
    registerPreprocessingStep({
      kind: "test_square",
      schema: z.object({ kind: z.literal("test_square"), column: z.string(), output: z.string() }),
      compile(step, layout, context) {
        const from = layout.get(step.column, context).slot;
        const to = layout.add(step.output, "numeric", context).slot;
        return {
          apply(data, stride, n, missing) {
            for (let base = 0; base < n * stride; base += stride) {
              data[base + to] = data[base + from] * data[base + from];
            }
            missing[to] = missing[from];
          },
        };
      },
    });
    const step = { kind: "test_square", column: "x", output: "x2" };
    const frame = new Frame({ x: numbers([3, -2]) });
    expect(Array.from(applyPreprocessing(frame, [step]).numeric("x2"))).toEqual([9, 4]);
    const predictor = probe(schema({ x: field.number() }), [step], ["x", "x2"], [1, 10]);
    expect(predictor.predictRow({ x: 3 })).toBe(93);
    expect(Array.from(predictor.predict(frame))).toEqual([93, 38]);
  });
});
