import { describe, expect, expectTypeOf, it } from "vitest";
import { MlopsError } from "../errors/error.js";
import { categoryColumn, Frame, numericColumn } from "../frame/frame.js";
import { Field, field } from "./field.js";
import { inferSchema } from "./infer.js";
import { formatIssue, SchemaError } from "./issues.js";
import { type Infer, Schema, schema } from "./schema.js";

const wine = schema(
  {
    alcohol: field.number({ min: 0, max: 100 }),
    residual_sugar: field.number({ min: 0 }).nullable(),
    color: field.category(["red", "white"]),
    organic: field.boolean().optional(),
    quality: field.integer({ min: 0, max: 10 }),
  },
  { target: "quality" },
);

function issuesOf(fn: () => unknown) {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(SchemaError);
    expect(MlopsError.isInstance(error)).toBe(true);
    return (error as SchemaError).issues;
  }
  throw new Error("expected a SchemaError");
}

describe("schema rows", () => {
  it("parses a valid row and infers its type", () => {
    const row = wine.parseRow({ alcohol: 9.4, residual_sugar: null, color: "red", quality: 5 });
    expect(row).toEqual({ alcohol: 9.4, residual_sugar: null, color: "red", quality: 5 });
    expectTypeOf(row.alcohol).toEqualTypeOf<number>();
    expectTypeOf(row.residual_sugar).toEqualTypeOf<number | null>();
    expectTypeOf(row.color).toEqualTypeOf<"red" | "white">();
    expectTypeOf<Infer<typeof wine>["organic"]>().toEqualTypeOf<boolean | null | undefined>();
  });

  it("accepts a row without the target (prediction input)", () => {
    const result = wine.safeParseRow({ alcohol: 9.4, residual_sugar: 1, color: "white" });
    expect(result.success).toBe(true);
  });

  it("reports every problem with code, path, expected and received", () => {
    const issues = issuesOf(() =>
      wine.parseRows([
        { alcohol: 9.4, residual_sugar: 1, color: "red", quality: 5 },
        { alcohol: "abc", residual_sugar: -1, color: "rose", quality: 5.5, extra: 1 },
      ]),
    );
    expect(issues.map((i) => [i.code, i.path])).toEqual([
      ["unknown_field", [1, "extra"]],
      ["invalid_type", [1, "alcohol"]],
      ["too_small", [1, "residual_sugar"]],
      ["invalid_category", [1, "color"]],
      ["not_integer", [1, "quality"]],
    ]);
    expect(formatIssue(issues[1])).toBe(
      'rows[1].alcohol: expected number between 0 and 100, got "abc"',
    );
    expect(issues[2]).toMatchObject({ expected: "number ≥ 0", received: "-1" });
    expect(formatIssue(issues[3])).toBe(
      'rows[1].color: expected one of "red", "white", got "rose"',
    );
  });

  it("formats the message zod-style with the row index and field", () => {
    const rows = Array.from({ length: 13 }, () => ({
      alcohol: 10,
      residual_sugar: 0,
      color: "red",
    }));
    rows[12] = { alcohol: -1, residual_sugar: 0, color: "red" };
    const result = wine.safeParseRows(rows);
    expect(result.success).toBe(false);
    if (!result.success) {
      expect(result.error.code).toBe("schema_invalid");
      expect(result.error.message).toContain(
        "rows[12].alcohol: expected number between 0 and 100, got -1",
      );
    }
  });

  it("rejects missing, NaN, Infinity and null where the field is not nullable", () => {
    const issues = issuesOf(() =>
      wine.parseRows([
        { residual_sugar: 0, color: "red" },
        { alcohol: Number.NaN, residual_sugar: 0, color: "red" },
        { alcohol: Number.POSITIVE_INFINITY, residual_sugar: 0, color: "red" },
        { alcohol: 1, residual_sugar: 0, color: null },
      ]),
    );
    expect(issues.map((i) => [i.code, i.path, i.received])).toEqual([
      ["missing_field", [0, "alcohol"], "nothing"],
      ["missing_value", [1, "alcohol"], "NaN"],
      ["not_finite", [2, "alcohol"], "Infinity"],
      ["missing_value", [3, "color"], "null"],
    ]);
  });

  it("strips unknown fields when asked", () => {
    const loose = schema({ x: field.number() }, { unknownKeys: "strip" });
    expect(loose.parseRow({ x: 1, y: 2 })).toEqual({ x: 1 });
  });

  it("coerces strings only where the field is numeric or boolean", () => {
    const s = schema({
      x: field.number(),
      code: field.category(["1", "2"]),
      flag: field.boolean(),
    });
    expect(s.parseRow({ x: " 12.5 ", code: "1", flag: "yes" }, { coerce: true })).toEqual({
      x: 12.5,
      code: "1",
      flag: true,
    });
    expect(s.parseRow({ x: "1e3", code: 2, flag: "0" }, { coerce: true })).toEqual({
      x: 1000,
      code: "2",
      flag: false,
    });
    const issues = issuesOf(() =>
      s.parseRow({ x: "12km", code: "1", flag: "maybe" }, { coerce: true }),
    );
    expect(issues.map((i) => formatIssue(i))).toEqual([
      'x: expected number, got "12km"',
      'flag: expected boolean, got "maybe"',
    ]);
    // Without coerce (JSON rows), a numeric string is an issue.
    expect(s.safeParseRow({ x: "12", code: "1", flag: true }).success).toBe(false);
  });

  it("fills defaults for missing values", () => {
    const s = schema({ x: field.number().default(3), c: field.category(["a", "b"]).default("b") });
    expect(s.parseRow({})).toEqual({ x: 3, c: "b" });
    expect(s.parseRow({ x: null, c: "a" })).toEqual({ x: 3, c: "a" });
  });

  it("rejects bad declarations", () => {
    expect(() => schema({})).toThrow(/at least one field/);
    expect(() => schema({ x: field.number() }, { target: "y" })).toThrow(/Target "y"/);
    expect(() => field.number({ min: 2, max: 1 })).toThrow(/min \(2\) is greater than max/);
    expect(() => field.category(["a", "a"])).toThrow(/duplicate/);
    expect(() => schema({ x: field.number({ min: 0 }).default(-1) })).toThrow(/default -1/);
  });

  it("rejects a non-array batch and non-object rows", () => {
    expect(issuesOf(() => wine.parseRows("nope"))[0]).toMatchObject({
      code: "invalid_type",
      path: [],
    });
    expect(issuesOf(() => wine.parseRows([42]))[0]).toMatchObject({
      code: "invalid_row",
      path: [0],
    });
  });

  it("stops after maxIssues", () => {
    const rows = Array.from({ length: 500 }, () => ({
      alcohol: -1,
      residual_sugar: 0,
      color: "red",
    }));
    const result = wine.safeParseRows(rows, { maxIssues: 10 });
    expect(result.success || result.error.issues.length).toBe(10);
  });
});

describe("schema frames", () => {
  it("builds a typed frame from rows", () => {
    const frame = wine.toFrame([
      { alcohol: 9.4, residual_sugar: null, color: "white", quality: 5 },
      { alcohol: 10, residual_sugar: 2, color: "red", quality: 6, organic: true },
    ]);
    expect(frame.names).toEqual(["alcohol", "residual_sugar", "color", "organic", "quality"]);
    expect([...frame.numeric("residual_sugar")]).toEqual([Number.NaN, 2]);
    expect(frame.column("color")).toEqual({
      kind: "category",
      codes: Int32Array.from([1, 0]),
      dictionary: ["red", "white"],
    });
    expect(frame.column("organic").kind).toBe("boolean");
    expect(frame.toRows()[1]).toEqual({
      alcohol: 10,
      residual_sugar: 2,
      color: "red",
      organic: true,
      quality: 6,
    });
  });

  it("conforms a raw frame: parses text, remaps categories, reports locations", () => {
    const raw = new Frame({
      alcohol: {
        kind: "category",
        codes: Int32Array.from([0, 1, 2]),
        dictionary: ["9.5", "abc", "11"],
      },
      residual_sugar: { kind: "number", values: Float64Array.from([1, Number.NaN, 3]) },
      color: {
        kind: "category",
        codes: Int32Array.from([0, 1, 2]),
        dictionary: ["white", "red", "rose"],
      },
    });
    const result = wine.safeConformFrame(raw, {
      locate: (row) => ({ file: "wine.csv", line: row + 2 }),
    });
    expect(result.success).toBe(false);
    if (result.success) return;
    expect(result.error.issues.map((i) => [i.code, i.path, i.location])).toEqual([
      ["invalid_type", [1, "alcohol"], { file: "wine.csv", line: 3, column: "alcohol" }],
      ["invalid_category", [2, "color"], { file: "wine.csv", line: 4, column: "color" }],
    ]);
    expect(result.error.message).toContain(
      'rows[1].alcohol: expected number between 0 and 100, got "abc" (wine.csv:3, column "alcohol")',
    );

    const good = wine.conformFrame(
      raw.take([0, 2]).withColumn("color", {
        kind: "category",
        codes: Int32Array.from([0, 1]),
        dictionary: ["white", "red"],
      }),
    );
    expect([...good.numeric("alcohol")]).toEqual([9.5, 11]);
    expect(good.column("color")).toMatchObject({
      codes: Int32Array.from([1, 0]),
      dictionary: ["red", "white"],
    });
    expect(good.names).toEqual(["alcohol", "residual_sugar", "color", "organic"]);
    expect([...good.numeric("organic")].every(Number.isNaN)).toBe(true);
  });

  it("reports missing and unknown columns", () => {
    const raw = new Frame({
      color: { kind: "category", codes: Int32Array.from([0]), dictionary: ["red"] },
      bogus: { kind: "number", values: new Float64Array(1) },
    });
    const issues = issuesOf(() => wine.conformFrame(raw));
    expect(issues.map((i) => i.message)).toEqual([
      'unknown column "bogus": not declared in the schema (use unknownKeys: "strip" to drop it)',
      'missing column "alcohol": expected number between 0 and 100',
      'missing column "residual_sugar": expected number ≥ 0',
    ]);
  });

  it("flags NaN, Infinity and out-of-range values in numeric columns with the row offset", () => {
    const s = schema({ x: field.integer({ max: 5 }) });
    const raw = new Frame({
      x: {
        kind: "number",
        values: Float64Array.from([1, Number.NaN, Number.POSITIVE_INFINITY, 6, 2.5]),
      },
    });
    const issues = issuesOf(() => s.conformFrame(raw, { rowOffset: 100 }));
    expect(issues.map((i) => [i.code, i.path])).toEqual([
      ["missing_value", [101, "x"]],
      ["not_finite", [102, "x"]],
      ["too_big", [103, "x"]],
      ["not_integer", [104, "x"]],
    ]);
  });
});

describe("schema export", () => {
  it("round-trips through JSON", () => {
    const json = JSON.parse(JSON.stringify(wine.toJSON()));
    expect(json.format).toBe("mlops.schema/v1");
    const back = Schema.fromJSON(json);
    expect(back.toJSON()).toEqual(wine.toJSON());
    expect(back.parseRow({ alcohol: 1, residual_sugar: 1, color: "red" })).toEqual({
      alcohol: 1,
      residual_sugar: 1,
      color: "red",
    });
  });

  it("explains an invalid schema file in its own terms, every problem with its path", () => {
    const message = (json: unknown) => {
      try {
        Schema.fromJSON(json);
      } catch (error) {
        expect((error as { code: string }).code).toBe("schema_definition");
        return (error as Error).message;
      }
      throw new Error("no error");
    };
    expect(message({ format: "mlops.schema/v2", fields: {} })).toBe(
      'invalid schema: format: expected "mlops.schema/v1", got "mlops.schema/v2" (the format of ' +
        "a schema written by mlops-train --save-schema)",
    );
    expect(
      message({
        format: "mlops.schema/v1",
        fields: {
          alcohol: { kind: "float", minimum: 0 },
          color: { kind: "category" },
          pH: { kind: "number", max: "14" },
        },
        targt: "quality",
      }),
    ).toBe(
      [
        "invalid schema (5 problems):",
        '  - fields.alcohol.kind: expected one of "number", "integer", "boolean", "category", ' +
          'got "float"',
        '  - fields.alcohol: unknown setting "minimum"; a field takes kind, nullable, optional, ' +
          "default, min, max, values, description",
        '  - fields.color.values: a category field needs its values, e.g. "values": ["red", "white"]',
        '  - fields.pH.max: expected a number, got "14"',
        '  - unknown setting "targt" (did you mean "target"?); a schema takes format, fields, ' +
          "target, unknownKeys, description",
      ].join("\n"),
    );
    expect(message({ fields: { x: { kind: "number" } } })).toBe(
      'invalid schema: format: expected "mlops.schema/v1", got nothing (the format of a schema ' +
        "written by mlops-train --save-schema)",
    );
    expect(message({ format: "mlops.schema/v1" })).toBe(
      'invalid schema: fields: missing; expected an object of fields, e.g. { "alcohol": { "kind": ' +
        '"number" } }',
    );
    expect(message([1])).toMatch(/^invalid schema: expected an object with "format": /);
    expect(
      message({ $schema: "https://json-schema.org/draft/2020-12/schema", properties: {} }),
    ).toMatch(/^invalid schema: this is a JSON Schema; an @mlops schema is a different format/);
  });

  it("reads a schema file written without unknownKeys as one that rejects unknown keys", () => {
    const schema = Schema.fromJSON({
      format: "mlops.schema/v1",
      fields: { x: { kind: "number" } },
    });
    expect(schema.unknownKeys).toBe("reject");
  });

  it("exports JSON Schema", () => {
    expect(wine.toJSONSchema()).toMatchObject({
      type: "object",
      required: ["alcohol", "residual_sugar", "color"],
      additionalProperties: false,
      properties: {
        alcohol: { type: "number", minimum: 0, maximum: 100 },
        residual_sugar: { type: ["number", "null"], minimum: 0 },
        color: { type: "string", enum: ["red", "white"] },
        quality: { type: "integer", minimum: 0, maximum: 10 },
      },
    });
  });

  it("exports OIP tensor metadata for the features", () => {
    expect(wine.toTensorMetadata()).toEqual({
      inputs: [
        { name: "alcohol", datatype: "FP64", shape: [-1] },
        { name: "residual_sugar", datatype: "FP64", shape: [-1] },
        { name: "color", datatype: "BYTES", shape: [-1] },
        { name: "organic", datatype: "BOOL", shape: [-1] },
      ],
      outputs: [{ name: "quality", datatype: "FP64", shape: [-1] }],
    });
  });

  it("agrees with its zod twin", () => {
    const zod = wine.toZod();
    expect(zod.safeParse({ alcohol: 1, residual_sugar: null, color: "red" }).success).toBe(true);
    expect(zod.safeParse({ alcohol: -1, residual_sugar: null, color: "red" }).success).toBe(false);
    expect(zod.safeParse({ alcohol: 1, residual_sugar: null, color: "red", x: 1 }).success).toBe(
      false,
    );
  });
});

describe("inferSchema", () => {
  it("drafts kinds, nullability and category values from data", () => {
    const frame = Frame.fromRows([
      { a: 1, b: 1.5, c: "x", d: true },
      { a: 2, b: null, c: "w", d: false },
    ]);
    const draft = inferSchema(frame, { target: "b" });
    expect(draft.toJSON().fields).toEqual({
      a: { kind: "integer" },
      b: { kind: "number", nullable: true },
      c: { kind: "category", values: ["w", "x"] },
      d: { kind: "boolean" },
    });
    expect(draft.target).toBe("b");
  });

  it("drafts a text column of nearly all numbers as a number column with a few bad values", () => {
    const rows = Array.from({ length: 20 }, (_, i) => ({ size: i === 3 ? "12km" : String(i) }));
    const draft = inferSchema(Frame.fromRows(rows));
    expect(draft.toJSON().fields.size).toEqual({ kind: "number" });
    // Reading with the draft names the bad value; text that is mostly words stays a category.
    expect(draft.safeToFrame(rows, { coerce: true }).success).toBe(false);
    const words = Frame.fromRows([{ size: "S" }, { size: "M" }, { size: "12" }]);
    expect(inferSchema(words).toJSON().fields.size).toEqual({
      kind: "category",
      values: ["12", "M", "S"],
    });
  });
  it("drafts integer, number and nullable exactly as Number.isInteger and Number.isNaN say", () => {
    const awkward = [
      0,
      -0,
      1,
      -7,
      2 ** 53,
      -(2 ** 53) - 2,
      1e300,
      0.5,
      -1.5,
      5e-324,
      2 ** 52 + 0.5,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      Number.NaN,
    ];
    const columns: Float64Array[] = [];
    // Every pair of awkward values at the start, the middle and the end of a whole-number column.
    for (const a of awkward) {
      for (const b of awkward) {
        for (const at of [0, 5, 9]) {
          const values = Float64Array.from({ length: 10 }, (_, i) => i * 3);
          values[at] = a;
          values[(at + 4) % 10] = b;
          columns.push(values);
        }
      }
    }
    const frame = new Frame(
      Object.fromEntries(
        columns.map((values, j) => [`c${j}`, { kind: "number" as const, values }]),
      ),
    );
    const fields = inferSchema(frame).toJSON().fields;
    columns.forEach((values, j) => {
      const present = [...values].filter((value) => !Number.isNaN(value));
      const expected: Record<string, unknown> = {
        kind: present.every(Number.isInteger) ? "integer" : "number",
      };
      if (present.length < values.length) expected.nullable = true;
      expect(fields[`c${j}`], `column ${j}: ${[...values]}`).toEqual(expected);
    });
    const flags = new Frame([
      ["ok", { kind: "boolean", values: Float64Array.from([1, 0, 1]) }],
      ["gap", { kind: "boolean", values: Float64Array.from([1, 0, Number.NaN]) }],
    ]);
    expect(inferSchema(flags).toJSON().fields).toEqual({
      ok: { kind: "boolean" },
      gap: { kind: "boolean", nullable: true },
    });
  });
});

describe("open category fields", () => {
  const houses = schema({
    rooms: field.number(),
    ocean: new Field({ kind: "category", values: ["INLAND", "NEAR BAY"], open: true }),
  });

  it("accept a value they do not know and read it as missing", () => {
    expect(houses.parseRow({ rooms: 3, ocean: "LAKE" })).toEqual({ rooms: 3, ocean: "LAKE" });
    const frame = houses.toFrame([
      { rooms: 3, ocean: "LAKE" },
      { rooms: 4, ocean: "INLAND" },
    ]);
    expect(frame.column("ocean")).toMatchObject({ codes: Int32Array.of(-1, 0) });
    const conformed = houses.conformFrame(
      new Frame({ rooms: numericColumn([1, 2]), ocean: categoryColumn(["LAKE", "NEAR BAY"]) }),
    );
    expect(conformed.column("ocean")).toMatchObject({ codes: Int32Array.of(-1, 1) });
  });

  it("still want text, and say so; a closed field still refuses unknown values", () => {
    expect(houses.safeParseRow({ rooms: 3, ocean: 7 }).success).toBe(false);
    expect(houses.fields.ocean.expected()).toBe('text (known: "INLAND", "NEAR BAY")');
    const closed = schema({ ocean: field.category(["INLAND", "NEAR BAY"]) });
    expect(closed.safeParseRow({ ocean: "LAKE" }).success).toBe(false);
    expect(houses.toJSONSchema().properties).toMatchObject({
      ocean: { type: "string", examples: ["INLAND", "NEAR BAY"] },
    });
    expect(() =>
      Schema.fromJSON({
        format: "mlops.schema/v1",
        fields: { rooms: { kind: "number", open: true } },
        unknownKeys: "reject",
      }),
    ).toThrow(/only a category field can be open/);
  });
});
