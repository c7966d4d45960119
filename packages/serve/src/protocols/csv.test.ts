import type { CategoryColumn, Frame } from "@mlops/core";
import { describe, expect, it } from "vitest";
import { parseCsvText } from "./csv.js";

function texts(frame: Frame): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [name, column] of frame.columns()) {
    const { codes, dictionary } = column as CategoryColumn;
    out[name] = Array.from(codes, (code) => dictionary[code]);
  }
  return out;
}

describe("parseCsvText", () => {
  it("reads quoted fields with delimiters, doubled quotes and newlines", () => {
    const frame = parseCsvText('a,b\n"x,y","say ""hi"""\n"line\nbreak",2\n', 10);
    expect(frame.rowCount).toBe(2);
    expect(texts(frame)).toEqual({ a: ["x,y", "line\nbreak"], b: ['say "hi"', "2"] });
  });

  it("takes CRLF, CR, a BOM, blank lines and no final newline", () => {
    const frame = parseCsvText("\uFEFFa,b\r\n1,2\r\n\r\n3,4\r5,6", 10);
    expect(texts(frame)).toEqual({ a: ["1", "3", "5"], b: ["2", "4", "6"] });
  });

  it("keeps empty cells and text after a closing quote (as Python's csv module)", () => {
    const frame = parseCsvText('a,b,c\n,"q"x,\n', 10);
    expect(texts(frame)).toEqual({ a: [""], b: ["qx"], c: [""] });
  });

  it("a header alone is zero rows", () => {
    expect(parseCsvText("a,b\n", 10).rowCount).toBe(0);
  });

  it("reports the line of a ragged row and the row limit", () => {
    expect(() => parseCsvText('a,b\n"1\n2",3\n4\n', 10)).toThrow("line 4: 1 fields, expected 2");
    expect(() => parseCsvText("a\n1\n2\n3\n", 2)).toThrow("more than the limit of 2 rows");
  });
});
