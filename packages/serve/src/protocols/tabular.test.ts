import { type Frame, field, SchemaError, schema } from "@mlops/core";
import { describe, expect, it } from "vitest";
import type { ServeError } from "../errors.js";
import { houses } from "../testing/fixtures.js";
import { columnsToFrame, matrixToFrame, recordsToFrame } from "./tabular.js";

function catchError(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error("expected an error");
}

function values(frame: Frame) {
  const out: Record<string, unknown[]> = {};
  for (const [name, column] of frame.columns()) {
    out[name] =
      column.kind === "category"
        ? Array.from(column.codes, (code) => (code < 0 ? null : column.dictionary[code]))
        : Array.from(column.values);
  }
  return out;
}

describe("tabular conversions (JSON semantics)", () => {
  const expected = { rooms: [3, 1], area: [120, Number.NaN], color: ["red", null] };

  it("records, columns and matrices give the same frame", () => {
    expect(
      values(
        recordsToFrame(houses, [
          { rooms: 3, area: 120, color: "red", price: 1 },
          { rooms: 1, area: null },
        ]),
      ),
    ).toEqual(expected);
    expect(
      values(
        columnsToFrame(
          houses,
          ["rooms", "area", "color"],
          [
            [3, 1],
            [120, null],
            ["red", null],
          ],
        ),
      ),
    ).toEqual(expected);
    expect(
      values(
        matrixToFrame(
          houses,
          ["rooms", "area", "color"],
          [
            [3, 120, "red"],
            [1, null, null],
          ],
          2,
        ),
      ),
    ).toEqual(expected);
    expect(
      values(matrixToFrame(houses, ["rooms", "area", "color"], [3, 120, "red", 1, null, null], 2)),
    ).toEqual(expected);
  });

  it("a value of the wrong JSON type goes to the schema, which lists every issue", () => {
    const error = catchError(() =>
      recordsToFrame(houses, [
        { rooms: "3", area: 1, color: 7 },
        { rooms: 2, area: true, color: "red" },
      ]),
    );
    expect(SchemaError.isInstance(error)).toBe(true);
    expect((error as SchemaError).issues.map((issue) => [issue.code, ...issue.path])).toEqual([
      ["invalid_type", 0, "rooms"],
      ["invalid_type", 0, "color"],
      ["invalid_type", 1, "area"],
    ]);
    const unknown = catchError(() =>
      recordsToFrame(houses, [{ rooms: 1, area: 1, color: null, extra: 1 }]),
    );
    expect((unknown as SchemaError).issues[0]).toMatchObject({
      code: "unknown_field",
      path: [0, "extra"],
    });
    const notRow = catchError(() => recordsToFrame(houses, [42]));
    expect((notRow as SchemaError).issues[0]).toMatchObject({ code: "invalid_row", path: [0] });
  });

  it("strip schemas ignore unknown keys; booleans are 0/1", () => {
    const flags = schema({ on: field.boolean() }, { unknownKeys: "strip" });
    expect(values(recordsToFrame(flags, [{ on: true, other: 1 }, { on: false }]))).toEqual({
      on: [1, 0],
    });
  });

  it("400 for shapes that do not fit", () => {
    const shape = catchError(() =>
      matrixToFrame(houses, ["rooms", "area"], [1, 2, 3], 2),
    ) as ServeError;
    expect(shape.code).toBe("invalid_request");
    expect(shape.message).toBe("data: expected 4 values (2 rows × 2 columns), got 3");
    const ragged = catchError(() =>
      matrixToFrame(houses, ["rooms", "area"], [[1, 2], [3]], 2),
    ) as ServeError;
    expect(ragged.message).toBe(
      "data[1]: expected an array of 2 values (rooms, area), got 1 values",
    );
    const uneven = catchError(() =>
      columnsToFrame(houses, ["rooms", "area"], [[1, 2], [3]]),
    ) as ServeError;
    expect(uneven.message).toBe('column "area" has 1 values, expected 2 like "rooms"');
    const duplicate = catchError(() =>
      columnsToFrame(houses, ["rooms", "rooms"], [[1], [2]]),
    ) as ServeError;
    expect(duplicate.message).toBe('duplicate column "rooms"');
  });
});
