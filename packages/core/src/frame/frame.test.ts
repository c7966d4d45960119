import { describe, expect, it } from "vitest";
import { MlopsError } from "../errors/error.js";
import { categoryColumn, Frame, numericColumn } from "./frame.js";

function sample() {
  return new Frame({
    x: numericColumn([1, 2, null, 4]),
    color: categoryColumn(["red", "white", null, "red"]),
    flag: numericColumn([1, 0, 1, null], "boolean"),
  });
}

describe("Frame", () => {
  it("stores numbers as Float64Array and categories as codes + dictionary", () => {
    const frame = sample();
    expect(frame.rowCount).toBe(4);
    expect(frame.names).toEqual(["x", "color", "flag"]);
    expect(frame.numeric("x")).toBeInstanceOf(Float64Array);
    expect(frame.column("color")).toEqual({
      kind: "category",
      codes: Int32Array.from([0, 1, -1, 0]),
      dictionary: ["red", "white"],
    });
    expect(frame.toRows()).toEqual([
      { x: 1, color: "red", flag: true },
      { x: 2, color: "white", flag: false },
      { x: null, color: null, flag: true },
      { x: 4, color: "red", flag: null },
    ]);
  });

  it("rejects columns of different lengths and unknown names", () => {
    expect(() => new Frame({ a: numericColumn([1]), b: numericColumn([1, 2]) })).toThrow(
      'Column "b" has 2 rows, expected 1 like the other columns',
    );
    const error = (() => {
      try {
        sample().column("nope");
      } catch (e) {
        return e;
      }
    })();
    expect(MlopsError.isInstance(error) && error.code).toBe("frame_invalid");
    expect(String(error)).toContain("the frame has: x, color, flag");
    expect(() => sample().numeric("color")).toThrow(/category column/);
  });

  it("selects and slices without copying", () => {
    const frame = sample();
    const selected = frame.select(["color", "x"]);
    expect(selected.names).toEqual(["color", "x"]);
    expect(selected.numeric("x")).toBe(frame.numeric("x"));
    const sliced = frame.slice(1, 3);
    expect(sliced.rowCount).toBe(2);
    expect(sliced.numeric("x").buffer).toBe(frame.numeric("x").buffer);
    expect(sliced.toRows()[0]).toEqual({ x: 2, color: "white", flag: false });
    expect(frame.drop(["flag"]).names).toEqual(["x", "color"]);
  });

  it("takes rows by index, with repeats, and checks bounds", () => {
    const frame = sample();
    const taken = frame.take(Int32Array.from([3, 0, 3]));
    expect(taken.toRows().map((r) => r.x)).toEqual([4, 1, 4]);
    expect(taken.numeric("x").buffer).not.toBe(frame.numeric("x").buffer);
    expect(() => frame.take([4])).toThrow("take: indices[0] = 4 is outside 0..3");
    expect(() => frame.take([0.5])).toThrow(/outside/);
  });

  it("filters by predicate or mask", () => {
    const frame = sample();
    const x = frame.numeric("x");
    expect(
      frame
        .filter((i) => x[i] > 1)
        .toRows()
        .map((r) => r.x),
    ).toEqual([2, 4]);
    expect(frame.filter([1, 0, 0, 1]).rowCount).toBe(2);
    expect(() => frame.filter([1])).toThrow(/mask has 1 entries, expected 4/);
  });

  it("builds from untyped rows and reports mixed types", () => {
    const frame = Frame.fromRows([
      { a: 1, b: "x" },
      { a: null, b: "y", c: true },
    ]);
    expect(frame.column("a").kind).toBe("number");
    expect(frame.column("b").kind).toBe("category");
    expect(frame.column("c").kind).toBe("boolean");
    expect(frame.toRows()[0]).toEqual({ a: 1, b: "x", c: null });
    expect(() => Frame.fromRows([{ a: 1 }, { a: "x" }])).toThrow(
      "fromRows: rows[1].a: expected number like the rows before, got string",
    );
    expect(() => Frame.fromRows([{ a: { nested: 1 } }])).toThrow(
      /expected number, string, boolean or null, got object/,
    );
  });

  it("concatenates frames and merges dictionaries", () => {
    const a = new Frame({ x: numericColumn([1]), c: categoryColumn(["b"]) });
    const b = new Frame({ x: numericColumn([2, 3]), c: categoryColumn(["a", "b"]) });
    const both = Frame.concat([a, b]);
    expect(both.toRows()).toEqual([
      { x: 1, c: "b" },
      { x: 2, c: "a" },
      { x: 3, c: "b" },
    ]);
    expect(() =>
      Frame.concat([a, new Frame({ x: categoryColumn(["1"]), c: categoryColumn(["b"]) })]),
    ).toThrow(/column "x" is category in one frame and number in another/);
  });

  it("adds or replaces a column", () => {
    const frame = sample().withColumn("y", numericColumn([0, 0, 0, 0]));
    expect(frame.names).toEqual(["x", "color", "flag", "y"]);
    expect(frame.withColumn("x", numericColumn([9, 9, 9, 9])).get(0, "x")).toBe(9);
  });

  it("checks category values against a fixed dictionary", () => {
    expect(() => categoryColumn(["z"], ["a"])).toThrow(
      'Value "z" at row 0 is not in the dictionary (a)',
    );
  });
});
