import { describe, expect, it } from "vitest";
import { categoryColumn, Frame, numericColumn } from "./frame.js";
import { rowHashes } from "./hash.js";

describe("rowHashes", () => {
  it("fingerprints a row by its values, whatever their encoding", () => {
    const a = new Frame({
      rooms: numericColumn([41, 0, Number.NaN]),
      color: categoryColumn(["red", "blue", null]),
    });
    // The same values: other codes, another dictionary order, -0 for 0, integer kind.
    const b = new Frame({
      rooms: { kind: "integer", values: Float64Array.of(-0, 41, Number.NaN) },
      color: { kind: "category", codes: Int32Array.of(0, 1, -1), dictionary: ["blue", "red"] },
    });
    const [x, y] = [rowHashes(a, ["rooms", "color"]), rowHashes(b, ["rooms", "color"])];
    expect([...y]).toEqual([x[1], x[0], x[2]]);
    for (const hash of x) {
      expect(Number.isSafeInteger(hash)).toBe(true);
      expect(hash).toBeGreaterThanOrEqual(0);
    }
  });

  it("tells different rows apart, column order and missing values included", () => {
    const frame = new Frame({
      p: numericColumn([1, 2, 1, 1]),
      q: numericColumn([2, 1, 2, Number.NaN]),
      s: categoryColumn(["", "", null, ""]),
    });
    const hashes = [...rowHashes(frame, ["p", "q", "s"])];
    expect(new Set(hashes).size).toBe(4);
    expect(rowHashes(frame, ["q", "p"])[0]).not.toBe(rowHashes(frame, ["p", "q"])[0]);
    const many = new Frame({ i: numericColumn(Array.from({ length: 50_000 }, (_, i) => i / 7)) });
    expect(new Set(rowHashes(many, ["i"])).size).toBe(50_000);
  });
});
