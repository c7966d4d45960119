import type { CategoryColumn, Frame } from "@mlops/core";
import { describe, expect, it } from "vitest";
import { parseCsvText } from "./csv.js";

/** Each column's cells: the text, or null for a missing cell (empty or a missing token). */
function texts(frame: Frame): Record<string, (string | null)[]> {
  const out: Record<string, (string | null)[]> = {};
  for (const [name, column] of frame.columns()) {
    const { codes, dictionary } = column as CategoryColumn;
    out[name] = Array.from(codes, (code) => (code < 0 ? null : dictionary[code]));
  }
  return out;
}

describe("parseCsvText (core's CSV reader on a request body)", () => {
  it("reads quoted fields with delimiters, doubled quotes and newlines", () => {
    const frame = parseCsvText('a,b\n"x,y","say ""hi"""\n"line\nbreak",2\n', 10);
    expect(frame.rowCount).toBe(2);
    expect(texts(frame)).toEqual({ a: ["x,y", "line\nbreak"], b: ['say "hi"', "2"] });
  });

  it("takes CRLF, CR, a BOM, blank lines and no final newline", () => {
    const frame = parseCsvText("\uFEFFa,b\r\n1,2\r\n\r\n3,4\r5,6", 10);
    expect(texts(frame)).toEqual({ a: ["1", "3", "5"], b: ["2", "4", "6"] });
  });

  it("reads empty cells as missing and keeps text after a closing quote (Python's csv)", () => {
    const frame = parseCsvText('a,b,c\n,"q"x,NA\n', 10);
    expect(texts(frame)).toEqual({ a: [null], b: ["qx"], c: [null] });
  });

  it("a header alone is zero rows", () => {
    expect(parseCsvText("a,b\n", 10).rowCount).toBe(0);
  });

  it("reports the line of a ragged row and the row limit", () => {
    expect(() => parseCsvText('a,b\n"1\n2",3\n4\n', 10)).toThrow(
      "CSV body:4: expected 2 fields like the header, found 1",
    );
    expect(() => parseCsvText("a\n1\n2\n3\n", 2)).toThrow("more than the limit of 2 rows");
  });
});
