import {
  Bool,
  type Data,
  Dictionary,
  Field,
  Float32,
  Float64,
  Int8,
  Int16,
  Int32,
  Int64,
  LargeUtf8,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  Table,
  TimestampMillisecond,
  Type,
  Uint8,
  Uint32,
  Utf8,
  vectorFromArray,
} from "apache-arrow";
import { describe, expect, it } from "vitest";
import { MlopsError } from "../errors/error.js";
import { ARROW_KIND_METADATA_KEY, frameFromArrow, frameToArrow } from "./arrow.js";
import { categoryColumn, Frame, numericColumn } from "./frame.js";

function sample(): Frame {
  return new Frame({
    x: numericColumn([1.5, -0, null, 1e-300, 1.7976931348623157e308]),
    count: numericColumn([1, 2, null, -4, 9007199254740991], "integer"),
    flag: numericColumn([1, 0, null, 1, 0], "boolean"),
    color: categoryColumn(["red", "wh,ite", null, 'say "hi"\nthere', "ünï"]),
  });
}

/** A table from hand-made record batches (one Data per column per batch). */
function tableOf(fields: Field[], batches: Data[][]): Table {
  const schema = new Schema(fields);
  return new Table(
    schema,
    batches.map(
      (children) =>
        new RecordBatch(
          schema,
          makeData({
            type: new Struct(fields),
            length: children[0].length,
            nullCount: 0,
            children,
          }),
        ),
    ),
  );
}

function expectSameValues(actual: Float64Array, expected: readonly number[]) {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    expect(Object.is(actual[i], expected[i]), `row ${i}: ${actual[i]} vs ${expected[i]}`).toBe(
      true,
    );
  }
}

describe("frameToArrow", () => {
  it("maps kinds to Float64, Int64, Bool and Dictionary<Utf8, Int32>, kind in metadata", () => {
    const table = frameToArrow(sample());
    const types = table.schema.fields.map((field) => String(field.type));
    expect(types).toEqual(["Float64", "Int64", "Bool", "Dictionary<Int32, Utf8>"]);
    expect(table.schema.fields.map((field) => field.metadata.get(ARROW_KIND_METADATA_KEY))).toEqual(
      ["number", "integer", "boolean", "category"],
    );
    expect(table.numRows).toBe(5);
    // Missing values become Arrow nulls.
    expect(table.getChild("x")?.toArray()[2]).toBe(Number.NaN);
    expect(table.getChild("x")?.get(2)).toBeNull();
    expect(table.getChild("count")?.get(2)).toBeNull();
    expect(table.getChild("count")?.get(4)).toBe(9007199254740991n);
    expect(table.getChild("flag")?.get(0)).toBe(true);
    expect(table.getChild("flag")?.get(2)).toBeNull();
    expect(table.getChild("color")?.get(2)).toBeNull();
    expect(table.getChild("color")?.get(3)).toBe('say "hi"\nthere');
    expect(table.getChild("color")?.nullCount).toBe(1);
  });

  it("shares the frame's Float64Array and Int32Array codes with the Arrow buffers", () => {
    const frame = sample();
    const table = frameToArrow(frame);
    const x = table.getChild("x")!.data[0];
    expect(x.values).toBe(frame.numeric("x"));
    const codes = table.getChild("color")!.data[0].values as Int32Array;
    const column = frame.column("color");
    expect(column.kind === "category" && codes.buffer === column.codes.buffer).toBe(true);
  });

  it("writes integers Int64 cannot hold exactly as Float64, keeping the integer kind", () => {
    const frame = new Frame({ big: numericColumn([1, 2 ** 60, -0], "integer") });
    const table = frameToArrow(frame);
    expect(table.schema.fields[0].type.typeId).toBe(Type.Float);
    const back = frameFromArrow(table);
    expect(back.column("big").kind).toBe("integer");
    expectSameValues(back.numeric("big"), [1, 2 ** 60, -0]);
  });
});

describe("frameFromArrow", () => {
  it("round-trips every kind, with NaN / -1 for missing values", () => {
    const frame = sample();
    const back = frameFromArrow(frameToArrow(frame));
    expect(back.names).toEqual(frame.names);
    expect(back.column("count").kind).toBe("integer");
    expect(back.column("flag").kind).toBe("boolean");
    expectSameValues(back.numeric("x"), [1.5, -0, Number.NaN, 1e-300, 1.7976931348623157e308]);
    expectSameValues(back.numeric("count"), [1, 2, Number.NaN, -4, 9007199254740991]);
    expectSameValues(back.numeric("flag"), [1, 0, Number.NaN, 1, 0]);
    expect(back.toRows()).toEqual(frame.toRows());
  });

  it("shares a single-chunk Float64 column without nulls (same ArrayBuffer)", () => {
    const values = new Float64Array([1, 2, 3]);
    const table = tableOf(
      [new Field("x", new Float64())],
      [[makeData({ type: new Float64(), data: values })]],
    );
    const frame = frameFromArrow(table);
    expect(frame.numeric("x").buffer).toBe(values.buffer);
    expect(frame.column("x").kind).toBe("number");
  });

  it("shares the Int32 indices of a clean single-chunk dictionary column", () => {
    const indices = new Int32Array([1, 0, 1]);
    const dictionary = vectorFromArray(["a", "b"], new Utf8());
    const type = new Dictionary(new Utf8(), new Int32());
    const table = tableOf(
      [new Field("c", type)],
      [[makeData({ type, data: indices, dictionary })]],
    );
    const column = frameFromArrow(table).column("c");
    expect(column.kind).toBe("category");
    if (column.kind !== "category") return;
    expect(column.codes.buffer).toBe(indices.buffer);
    expect(column.dictionary).toEqual(["a", "b"]);
  });

  it("copies a column with nulls, leaving the Arrow buffer untouched", () => {
    const values = new Float64Array([1, 2, 3]);
    const nullBitmap = new Uint8Array([0b101]);
    const table = tableOf(
      [new Field("x", new Float64())],
      [[makeData({ type: new Float64(), data: values, nullBitmap, nullCount: 1 })]],
    );
    const x = frameFromArrow(table).numeric("x");
    expect(x.buffer).not.toBe(values.buffer);
    expectSameValues(x, [1, Number.NaN, 3]);
    expectSameValues(values, [1, 2, 3]);
  });

  it("concatenates chunks and remaps per-batch dictionaries", () => {
    const type = new Dictionary(new Utf8(), new Int32());
    const fields = [new Field("x", new Float64()), new Field("c", type)];
    const table = tableOf(fields, [
      [
        makeData({ type: new Float64(), data: new Float64Array([1, 2]) }),
        makeData({
          type,
          data: new Int32Array([0, 1]),
          dictionary: vectorFromArray(["a", "b"], new Utf8()),
        }),
      ],
      [
        makeData({ type: new Float64(), data: new Float64Array([3]) }),
        makeData({
          type,
          data: new Int32Array([0]),
          dictionary: vectorFromArray(["b"], new Utf8()),
        }),
      ],
    ]);
    const frame = frameFromArrow(table);
    expectSameValues(frame.numeric("x"), [1, 2, 3]);
    expect(frame.toRows().map((row) => row.c)).toEqual(["a", "b", "b"]);
    const column = frame.column("c");
    expect(column.kind === "category" && column.dictionary).toEqual(["a", "b"]);
  });

  it("accepts Float32, Int8–64, Uint8–32, Bool, Utf8, LargeUtf8 and Int8 dictionaries", () => {
    const int8Dictionary = new Dictionary(new Utf8(), new Int8());
    const columns = [
      ["f32", new Float32(), new Float32Array([1.5, -2])],
      ["i8", new Int8(), new Int8Array([-128, 127])],
      ["i16", new Int16(), new Int16Array([-300, 300])],
      ["i32", new Int32(), new Int32Array([-70000, 70000])],
      ["i64", new Int64(), new BigInt64Array([-5n, 2n ** 40n])],
      ["u8", new Uint8(), new Uint8Array([0, 255])],
      ["u32", new Uint32(), new Uint32Array([0, 4294967295])],
    ] as const;
    const fields: Field[] = columns.map(([name, type]) => new Field(name, type));
    const data: Data[] = columns.map(([, type, values]) =>
      makeData({ type, data: values } as never),
    );
    fields.push(new Field("b", new Bool()));
    data.push(makeData({ type: new Bool(), data: new Uint8Array([0b10]), length: 2 }));
    fields.push(new Field("s", new Utf8()));
    data.push(vectorFromArray(["x", null], new Utf8()).data[0]);
    fields.push(new Field("ls", new LargeUtf8()));
    data.push(vectorFromArray(["é", "é"], new LargeUtf8()).data[0]);
    fields.push(new Field("d8", int8Dictionary));
    data.push(
      makeData({
        type: int8Dictionary,
        data: new Int8Array([1, 0]),
        dictionary: vectorFromArray(["p", "q"], new Utf8()),
      }),
    );
    const frame = frameFromArrow(tableOf(fields, [data]));
    expect(Object.fromEntries([...frame.columns()].map(([name, c]) => [name, c.kind]))).toEqual({
      f32: "number",
      i8: "integer",
      i16: "integer",
      i32: "integer",
      i64: "integer",
      u8: "integer",
      u32: "integer",
      b: "boolean",
      s: "category",
      ls: "category",
      d8: "category",
    });
    expect(frame.toRows()).toEqual([
      {
        f32: 1.5,
        i8: -128,
        i16: -300,
        i32: -70000,
        i64: -5,
        u8: 0,
        u32: 0,
        b: false,
        s: "x",
        ls: "é",
        d8: "q",
      },
      {
        f32: -2,
        i8: 127,
        i16: 300,
        i32: 70000,
        i64: 2 ** 40,
        u8: 255,
        u32: 4294967295,
        b: true,
        s: null,
        ls: "é",
        d8: "p",
      },
    ]);
  });

  it("honours mlops.kind metadata on numeric columns", () => {
    const field = new Field(
      "n",
      new Float64(),
      true,
      new Map([[ARROW_KIND_METADATA_KEY, "integer"]]),
    );
    const table = tableOf(
      [field],
      [[makeData({ type: new Float64(), data: new Float64Array([3]) })]],
    );
    expect(frameFromArrow(table).column("n").kind).toBe("integer");
  });

  it("throws arrow_invalid naming the column and type for unsupported types", () => {
    const type = new TimestampMillisecond();
    const table = tableOf(
      [new Field("when", type)],
      [[makeData({ type, data: new BigInt64Array([1n]) } as never)]],
    );
    let error: unknown;
    try {
      frameFromArrow(table);
    } catch (caught) {
      error = caught;
    }
    expect(MlopsError.isInstance(error) && error.code).toBe("arrow_invalid");
    expect(String(error)).toMatch(/column "when": unsupported Arrow type Timestamp/);
  });
});
