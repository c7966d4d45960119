import { describe, expect, it } from "vitest";
import { decodeArtifact, encodeArtifact } from "../artifact/codec.js";
import { createArtifact } from "../artifact/create.js";
import type { ModelArtifact } from "../artifact/types.js";
import { MlopsError } from "../errors/error.js";
import { categoryColumn, Frame, numericColumn } from "../frame/frame.js";
import { field } from "../schema/field.js";
import { SchemaError } from "../schema/issues.js";
import { schema } from "../schema/schema.js";
import { createPredictor } from "./predictor.js";

const houses = schema(
  {
    rooms: field.integer({ min: 1, max: 20 }),
    area: field.number({ min: 0 }).nullable(),
    garden: field.boolean(),
    color: field.category(["red", "green", "blue"]).nullable(),
    floors: field.integer({ min: 1 }).default(1),
    price: field.number(),
  },
  { target: "price" },
);

// area imputed then scaled, color one-hot encoded; the model is linear so values are checkable.
const linearArtifact = createArtifact({
  kind: "linear",
  schema: houses,
  preprocessing: [
    { kind: "simple_imputer", columns: ["area", "color"], fill: [100, "green"] },
    { kind: "standard_scaler", columns: ["area"], mean: [100], scale: [50] },
    {
      kind: "one_hot",
      column: "color",
      categories: ["red", "green", "blue"],
      handleUnknown: "ignore",
      outputs: ["color_red", "color_green", "color_blue"],
    },
  ],
  model: {
    inputs: ["rooms", "area", "garden", "color_red", "color_green", "color_blue", "floors"],
    intercept: 1000,
  },
  arrays: { coefficients: Float64Array.of(10, 100, 5, 1, 2, 3, 7) },
  lineage: { gitCommit: "abc1234" },
});

/** The same pipeline computed by hand. */
function byHand(row: {
  rooms: number;
  area: number | null;
  garden: boolean;
  color: string | null;
  floors?: number;
}) {
  const area = ((row.area ?? 100) - 100) / 50;
  const color = row.color ?? "green";
  return (
    10 * row.rooms +
    100 * area +
    5 * (row.garden ? 1 : 0) +
    1 * (color === "red" ? 1 : 0) +
    2 * (color === "green" ? 1 : 0) +
    3 * (color === "blue" ? 1 : 0) +
    7 * (row.floors ?? 1) +
    1000
  );
}

const rows = [
  { rooms: 3, area: 150, garden: true, color: "red", floors: 2 },
  { rooms: 1, area: null, garden: false, color: null, floors: 1 },
  { rooms: 20, area: 0, garden: true, color: "blue", floors: 3 },
  { rooms: 5, area: 75.5, garden: false, color: "green", floors: 1 },
];

function catchError(run: () => unknown): MlopsError {
  try {
    run();
  } catch (error) {
    if (MlopsError.isInstance(error)) return error;
    throw error;
  }
  throw new Error("expected an MlopsError");
}

describe("createPredictor", () => {
  const predictor = createPredictor(decodeArtifact(encodeArtifact(linearArtifact)));

  it("exposes the manifest, schema and inputs", () => {
    expect(predictor.inputs).toEqual(linearArtifact.manifest.model.inputs);
    expect(predictor.schema.toJSON()).toEqual(houses.toJSON());
    expect(predictor.manifest.kind).toBe("linear");
  });

  it("predicts rows and frames through the preprocessing, as computed by hand", () => {
    const expected = rows.map(byHand);
    expect(rows.map((row) => predictor.predictRow(row))).toEqual(expected);
    expect(Array.from(predictor.predict(houses.toFrame(rows)))).toEqual(expected);
  });

  it("predictRow equals predict on the same rows, with and without the optional parts", () => {
    const frame = houses.toFrame(rows);
    const batch = predictor.predict(frame);
    rows.forEach((row, i) => {
      expect(predictor.predictRow(row)).toBe(batch[i]);
    });
    // defaults fill an absent value, the target may be present
    expect(predictor.predictRow({ rooms: 2, area: 100, garden: false, color: "red" })).toBe(
      byHand({ rooms: 2, area: 100, garden: false, color: "red", floors: 1 }),
    );
    expect(predictor.predictRow({ ...rows[0], price: 123 })).toBe(batch[0]);
  });

  it("accepts frames that need conforming: other dictionaries, text, defaults", () => {
    const frame = new Frame({
      rooms: categoryColumn(["3", "1", "20", "5"]),
      area: numericColumn([150, null, 0, 75.5]),
      garden: numericColumn([1, 0, 1, 0], "boolean"),
      color: categoryColumn(["red", "NA", "blue", "green"]),
      floors: numericColumn([2, null, 3, 1]),
    });
    expect(Array.from(predictor.predict(frame))).toEqual(rows.map(byHand));
    const reordered = new Frame({
      rooms: numericColumn([3, 1]),
      area: numericColumn([150, null]),
      garden: numericColumn([1, 0]),
      color: categoryColumn(["blue", "red"], ["blue", "zebra", "red"]),
      floors: numericColumn([2, null]),
    });
    expect(Array.from(predictor.predict(reordered))).toEqual([
      byHand({ ...rows[0], color: "blue" }),
      byHand({ ...rows[1], color: "red" }),
    ]);
  });

  it("predicts an empty frame", () => {
    expect(predictor.predict(houses.toFrame([])).length).toBe(0);
  });

  it("rejects bad rows with the SchemaError parseRow throws", () => {
    const bad: Record<string, unknown>[] = [
      { area: 10, garden: true, color: "red" },
      { rooms: "3", area: 10, garden: true, color: "red" },
      { rooms: 3.5, area: 10, garden: true, color: "red" },
      { rooms: 30, area: 10, garden: true, color: "red" },
      { rooms: 3, area: -1, garden: true, color: "red" },
      { rooms: 3, area: Number.POSITIVE_INFINITY, garden: true, color: "red" },
      { rooms: 3, area: 10, garden: 1, color: "red" },
      { rooms: 3, area: 10, garden: null, color: "red" },
      { rooms: 3, area: 10, garden: true, color: "purple" },
      { rooms: 3, area: 10, garden: true, color: "red", colour: "red" },
      { rooms: 3, area: 10, garden: true, color: "red", price: "high" },
    ];
    for (const row of bad) {
      let expected: unknown;
      try {
        houses.parseRow(row);
      } catch (error) {
        expected = error;
      }
      expect(expected, JSON.stringify(row)).toBeInstanceOf(SchemaError);
      const error = catchError(() => predictor.predictRow(row));
      expect(error).toBeInstanceOf(SchemaError);
      expect((error as SchemaError).issues).toEqual((expected as SchemaError).issues);
    }
    expect(() => predictor.predictRow(null as never)).toThrow(SchemaError);
    expect(() => predictor.predictRow([1, 2] as never)).toThrow(SchemaError);
  });

  it("rejects bad frames with the SchemaError conformFrame throws", () => {
    const frame = new Frame({
      rooms: numericColumn([3, 0, 2.5]),
      area: numericColumn([1, 2, 3]),
      garden: numericColumn([1, 0, 2]),
      color: categoryColumn(["red", "red", "pink"]),
      floors: numericColumn([1, 1, 1]),
    });
    const error = catchError(() => predictor.predict(frame));
    expect(error).toBeInstanceOf(SchemaError);
    expect((error as SchemaError).issues.map((issue) => [issue.path, issue.code])).toEqual([
      [[1, "rooms"], "too_small"],
      [[2, "rooms"], "not_integer"],
      [[2, "garden"], "invalid_type"],
      [[2, "color"], "invalid_category"],
    ]);
    const extra = new Frame({
      ...Object.fromEntries(houses.toFrame(rows).columns()),
      junk: numericColumn([1, 2, 3, 4]),
    });
    expect(catchError(() => predictor.predict(extra)).message).toContain('unknown column "junk"');
    const missing = houses.toFrame(rows).drop(["rooms"]);
    expect(catchError(() => predictor.predict(missing)).message).toContain(
      'missing column "rooms"',
    );
  });

  it("drops unknown columns and keys when the schema strips them", () => {
    const lenient = schema({ x: field.number() }, { unknownKeys: "strip" });
    const model = createPredictor(
      createArtifact({
        kind: "linear",
        schema: lenient,
        model: { inputs: ["x"], intercept: 1 },
        arrays: { coefficients: Float64Array.of(2) },
        lineage: { gitCommit: "abc1234" },
      }),
    );
    expect(model.predictRow({ x: 3, note: "ignored" })).toBe(7);
    expect(
      Array.from(model.predict(new Frame({ x: numericColumn([3]), note: categoryColumn(["a"]) }))),
    ).toEqual([7]);
  });

  it("requires a Frame", () => {
    expect(catchError(() => predictor.predict(rows as never)).code).toBe("argument_invalid");
  });
});

describe("linear predictor", () => {
  const xy = schema({ x: field.number().nullable(), y: field.number() });
  const model = createPredictor(
    createArtifact({
      kind: "linear",
      schema: xy,
      model: { inputs: ["x", "y"], intercept: 0.5 },
      arrays: { coefficients: Float64Array.of(2, -3) },
      lineage: { gitCommit: "abc1234" },
    }),
  );

  it("is Σ coefficient × input + intercept", () => {
    expect(model.predictRow({ x: 1.5, y: 2 })).toBe(2 * 1.5 - 3 * 2 + 0.5);
    const frame = new Frame({ x: numericColumn([0, 1, -2]), y: numericColumn([0, 1, 4]) });
    expect(Array.from(model.predict(frame))).toEqual([0.5, -0.5, -15.5]);
  });

  it("refuses missing inputs with predictor_input", () => {
    const row = catchError(() => model.predictRow({ x: null, y: 1 }));
    expect(row.code).toBe("predictor_input");
    expect(row.message).toContain('"x" is missing');
    const frame = new Frame({ x: numericColumn([1, null]), y: numericColumn([0, 1]) });
    expect(catchError(() => model.predict(frame)).message).toContain('"x" is missing at rows[1]');
  });

  it("checks its coefficients", () => {
    const artifact = createArtifact({
      kind: "linear",
      schema: xy,
      model: { inputs: ["x", "y"], intercept: 0 },
      arrays: { coefficients: Float64Array.of(1) },
      lineage: { gitCommit: "abc1234" },
    });
    const error = catchError(() => createPredictor(artifact));
    expect(error.code).toBe("artifact_invalid");
    expect(error.message).toContain('arrays["coefficients"] has 1 entries, expected 2');
  });
});

describe("model kinds", () => {
  it("throws predictor_unsupported naming the kind and the kinds known", () => {
    const artifact: ModelArtifact = createArtifact({
      kind: "onnx",
      schema: houses,
      model: { inputs: ["rooms"] },
      arrays: { graph: new Uint8Array(4) },
      lineage: { gitCommit: "abc1234" },
    });
    const error = catchError(() => createPredictor(artifact));
    expect(error.code).toBe("predictor_unsupported");
    expect(error.message).toContain('"onnx"');
    expect(error.message).toContain("ensemble, linear, tree");
  });
});
