import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MlopsError } from "../errors/error.js";
import { type CategoryColumn, Frame, type NumericColumn } from "../frame/frame.js";
import { field } from "../schema/field.js";
import { SchemaError } from "../schema/issues.js";
import { schema } from "../schema/schema.js";
import { csvFormat, readCsvFile, readCsvText, streamCsvFile, writeCsvFile } from "./csv.js";
import type { FrameOrigin, InvalidRow } from "./types.js";

let directory: string;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), "mlops-csv-"));
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

let fileCount = 0;
/** Writes `content` to a fresh file and returns its path. */
async function file(content: string | Uint8Array, name = "data.csv"): Promise<string> {
  const path = join(directory, `${fileCount++}-${name}`);
  await writeFile(path, content);
  return path;
}

function numbers(frame: Frame, name: string): number[] {
  return [...frame.numeric(name)];
}

function strings(frame: Frame, name: string): (string | null)[] {
  const column = frame.column(name) as CategoryColumn;
  expect(column.kind).toBe("category");
  return [...column.codes].map((code) => (code < 0 ? null : column.dictionary[code]));
}

/** The error a promise rejects with (fails the test when it resolves). */
async function failure(promise: Promise<unknown>): Promise<MlopsError> {
  try {
    await promise;
  } catch (error) {
    expect(MlopsError.isInstance(error)).toBe(true);
    return error as MlopsError;
  }
  throw new Error("expected the promise to reject");
}

async function collect(iterable: AsyncIterable<Frame>): Promise<Frame[]> {
  const frames: Frame[] = [];
  for await (const frame of iterable) frames.push(frame);
  return frames;
}

describe("csvFormat", () => {
  it("declares its name and extensions", () => {
    expect(csvFormat.name).toBe("csv");
    expect(csvFormat.extensions).toEqual([".csv", ".tsv", ".txt"]);
  });

  it("reads numeric and text columns into typed columns", async () => {
    const path = await file("x,y,color\n1,2.5,red\n3,-4e2,blue\n5,,red\n");
    const frame = await csvFormat.read(path);
    expect(frame.names).toEqual(["x", "y", "color"]);
    expect(frame.rowCount).toBe(3);
    expect(frame.column("x").kind).toBe("number");
    expect(frame.numeric("x")).toBeInstanceOf(Float64Array);
    expect(numbers(frame, "x")).toEqual([1, 3, 5]);
    expect(numbers(frame, "y")).toEqual([2.5, -400, Number.NaN]);
    expect(strings(frame, "color")).toEqual(["red", "blue", "red"]);
    expect((frame.column("color") as CategoryColumn).dictionary).toEqual(["red", "blue"]);
  });
});

describe("RFC 4180 parsing", () => {
  it("handles quotes, doubled quotes, delimiters and line breaks inside quotes", async () => {
    const path = await file(
      'id,text\n1,"a, b"\n2,"say ""hi"""\n3,"two\nlines"\n4,""\n5,"crlf\r\ninside"\n',
    );
    const frame = await readCsvFile(path);
    expect(numbers(frame, "id")).toEqual([1, 2, 3, 4, 5]);
    expect(strings(frame, "text")).toEqual([
      "a, b",
      'say "hi"',
      "two\nlines",
      null,
      "crlf\r\ninside",
    ]);
  });

  it("reads CRLF line endings, a BOM, no trailing newline and skips blank lines", async () => {
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    const body = Buffer.from("\r\na,b\r\n1,x\r\n\r\n\r\n2,y\r\n3,z");
    const frame = await readCsvFile(await file(Buffer.concat([bom, body])));
    expect(frame.names).toEqual(["a", "b"]);
    expect(numbers(frame, "a")).toEqual([1, 2, 3]);
    expect(strings(frame, "b")).toEqual(["x", "y", "z"]);
  });

  it("treats a lone CR as a line break", async () => {
    const frame = await readCsvFile(await file("a,b\r1,2\r3,4\r"));
    expect(numbers(frame, "b")).toEqual([2, 4]);
  });

  it("keeps quotes inside unquoted fields and text after a closing quote", async () => {
    const frame = await readCsvFile(await file('a,b\nab"c,"x"yz\n'));
    expect(strings(frame, "a")).toEqual(['ab"c']);
    expect(strings(frame, "b")).toEqual(["xyz"]);
  });

  it("decodes UTF-8 text", async () => {
    const frame = await readCsvFile(await file("名前,値\nçà,1\n日本語 🚀,2\n"));
    expect(frame.names).toEqual(["名前", "値"]);
    expect(strings(frame, "名前")).toEqual(["çà", "日本語 🚀"]);
  });

  it("takes a delimiter option, and a tab by default for .tsv files", async () => {
    const semicolons = await readCsvFile(await file("a;b\n1,5;x\n"), { delimiter: ";" });
    expect(strings(semicolons, "a")).toEqual(["1,5"]);
    expect(strings(semicolons, "b")).toEqual(["x"]);
    const tabs = await readCsvFile(await file("a\tb\n1\t2\n", "data.tsv"));
    expect(numbers(tabs, "b")).toEqual([2]);
    const pipes = await readCsvFile(await file("a|b\n1|2\n", "data.tsv"), { delimiter: "|" });
    expect(numbers(pipes, "a")).toEqual([1]);
  });

  it("rejects a delimiter that is not one ASCII character", async () => {
    const path = await file("a,b\n1,2\n");
    for (const delimiter of [";;", "", '"', "\n", "§"]) {
      const error = await failure(readCsvFile(path, { delimiter }));
      expect(error.code).toBe("argument_invalid");
      expect(error.message).toContain("delimiter");
    }
  });
});

describe("numbers", () => {
  const tricky = [
    "0.1",
    "0.2",
    "0.3",
    "1e-300",
    "123456789012345678",
    "5e-324",
    "2.4703282292062327e-324",
    "1.7976931348623157e308",
    "1.7976931348623159e308",
    "-0",
    "-0.0",
    "0e999",
    "1e23",
    "8.98846567431158e307",
    "9007199254740993",
    "9007199254740992",
    "0.30000000000000004",
    "3.141592653589793238462643383279502884197",
    "000000000000000000000000000012.5",
    "0.000000000000000000000000000001",
    "123456789012345678901234567890e-10",
    "2.2250738585072011e-308",
    "2.2250738585072014e-308",
    "4.9406564584124654e-324",
    "1e400",
    "-1e400",
    "1e-400",
    "+5",
    ".5",
    "5.",
    "-.25",
    "1E5",
    "1e+5",
    "7e22",
    "7e30",
    "12345e-22",
    "0.123456789012",
    "-98765.4321e-3",
  ];

  it("parses every value to exactly what Number() gives", async () => {
    const path = await file(`x\n${tricky.join("\n")}\n`);
    const values = numbers(await readCsvFile(path), "x");
    tricky.forEach((text, index) => {
      expect(Object.is(values[index], Number(text)), `${text}: ${values[index]}`).toBe(true);
    });
    expect(values[0]).toBe(0.1);
    expect(Object.is(values[tricky.indexOf("-0")], -0)).toBe(true);
    expect(values[tricky.indexOf("5e-324")]).toBe(Number.MIN_VALUE);
    expect(values[tricky.indexOf("1.7976931348623157e308")]).toBe(Number.MAX_VALUE);
  });

  it("agrees with Number() on 20,000 seeded random decimal strings", async () => {
    let state = 12345;
    const random = () => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return state / 2 ** 32;
    };
    const digits = (count: number) =>
      Array.from({ length: count }, () => Math.floor(random() * 10)).join("");
    const texts: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      let text = random() < 0.3 ? "-" : "";
      text += digits(1 + Math.floor(random() * 20));
      if (random() < 0.7) text += `.${digits(Math.floor(random() * 20))}`;
      if (random() < 0.4) text += `e${random() < 0.5 ? "-" : ""}${Math.floor(random() * 340)}`;
      texts.push(text);
    }
    const values = numbers(await readCsvFile(await file(`x\n${texts.join("\n")}\n`)), "x");
    const wrong = texts.filter((text, index) => !Object.is(values[index], Number(text)));
    expect(wrong).toEqual([]);
  });

  it("reads missing tokens as NaN and infinities as ±Infinity", async () => {
    const cells = ["NaN", "nan", "NA", "N/A", "null", "None", "", '""', "NULL", " "];
    const path = await file(`x,y\n${cells.map((cell) => `${cell},1`).join("\n")}\n`);
    const frame = await readCsvFile(path);
    expect(frame.column("x").kind).toBe("number");
    expect(numbers(frame, "x").every(Number.isNaN)).toBe(true);
    const infinite = await readCsvFile(
      await file("x\nInfinity\n-Infinity\ninf\n-inf\n+inf\nINF\n"),
    );
    expect(numbers(infinite, "x")).toEqual([
      Infinity,
      -Infinity,
      Infinity,
      -Infinity,
      Infinity,
      Infinity,
    ]);
  });

  it("accepts numbers with surrounding spaces or in quotes", async () => {
    const frame = await readCsvFile(await file('x\n 12 \n"3.5"\n" -1e2"\n'));
    expect(numbers(frame, "x")).toEqual([12, 3.5, -100]);
  });
});

describe("column kinds without a schema", () => {
  it("switches to a category column at the first text value, keeping earlier numbers", async () => {
    const frame = await readCsvFile(await file("code\n1\n2.50\nnull\nabc\n0x10\n7\nNA\n"));
    expect(strings(frame, "code")).toEqual(["1", "2.5", null, "abc", "0x10", "7", null]);
  });

  it("spells numbers the same way wherever the first text appears", async () => {
    const early = await readCsvFile(await file("v\nx\n1.50\n1e3\n"));
    const late = await readCsvFile(await file("v\n1.50\n1e3\nx\n"));
    expect(strings(early, "v")).toEqual(["x", "1.5", "1000"]);
    expect(strings(late, "v")).toEqual(["1.5", "1000", "x"]);
  });

  it("maps many distinct, colliding and long strings to the right values", async () => {
    // More distinct values than the reader's byte cache has slots, some longer than it keeps.
    const values = Array.from({ length: 6000 }, (_, i) =>
      i % 10 === 0 ? `a long label number ${i} that exceeds the cache` : `v${(i * 7919) % 3001}`,
    );
    values[17] = "NA";
    values[18] = "12.50";
    const path = await file(`label,n\n${values.map((value, i) => `${value},${i}`).join("\n")}\n`);
    const expected = values.map((value) =>
      value === "NA" ? null : value === "12.50" ? "12.5" : value,
    );
    expect(strings(await readCsvFile(path), "label")).toEqual(expected);
    const batches = await collect(streamCsvFile(path, { batchSize: 1000, chunkSize: 4096 }));
    expect(batches.flatMap((batch) => strings(batch, "label"))).toEqual(expected);
    const distinct = [...new Set(values)] as [string, ...string[]];
    const text = schema({
      label: field.category(distinct).nullable(),
      n: field.number(),
    });
    const typed = await readCsvFile(path, { schema: text });
    expect(strings(typed, "label")).toEqual(values.map((value) => (value === "NA" ? null : value)));
  });

  it("keeps an all-missing column numeric", async () => {
    const frame = await readCsvFile(await file("a,b\n,1\nNA,2\n"));
    expect(frame.column("a").kind).toBe("number");
    expect(numbers(frame, "a").every(Number.isNaN)).toBe(true);
  });
});

describe("schemas", () => {
  const wine = schema({
    alcohol: field.number({ min: 0 }),
    color: field.category(["red", "white"]),
    quality: field.integer({ min: 0, max: 10 }),
  });

  it("conforms the frame: kinds, category codes in declared order, column order", async () => {
    const path = await file("quality,color,alcohol\n5,white,9.4\n6,red,10.2\n");
    const frame = await readCsvFile(path, { schema: wine });
    expect(frame.names).toEqual(["alcohol", "color", "quality"]);
    expect(frame.column("quality").kind).toBe("integer");
    expect(numbers(frame, "alcohol")).toEqual([9.4, 10.2]);
    const color = frame.column("color") as CategoryColumn;
    expect(color.dictionary).toEqual(["red", "white"]);
    expect([...color.codes]).toEqual([1, 0]);
  });

  it("reads category fields as strings, so leading zeros survive", async () => {
    const zips = schema({ zip: field.category(["01234", "1234"]), n: field.number() });
    const frame = await readCsvFile(await file("zip,n\n01234,1\n1234,2\n"), { schema: zips });
    expect(strings(frame, "zip")).toEqual(["01234", "1234"]);
  });

  it("reports issues with the file, the line and the column", async () => {
    const path = await file(
      [
        "alcohol,color,quality",
        "9.4,red,5",
        '10,"white",6',
        "abc,red,5",
        "",
        '9,"re',
        'd",5',
        "-1,blue,NaN",
        "Infinity,red,11",
        "",
      ].join("\n"),
    );
    const error = (await failure(readCsvFile(path, { schema: wine }))) as SchemaError;
    expect(error).toBeInstanceOf(SchemaError);
    expect(error.code).toBe("schema_invalid");
    const found = error.issues.map((issue) => [
      issue.code,
      issue.path.join("."),
      issue.location?.line,
      issue.location?.column,
    ]);
    expect(found).toEqual(
      expect.arrayContaining([
        ["invalid_type", "2.alcohol", 4, "alcohol"],
        ["invalid_category", "3.color", 6, "color"],
        ["too_small", "4.alcohol", 8, "alcohol"],
        ["invalid_category", "4.color", 8, "color"],
        ["missing_value", "4.quality", 8, "quality"],
        ["not_finite", "5.alcohol", 9, "alcohol"],
        ["too_big", "5.quality", 9, "quality"],
      ]),
    );
    expect(found).toHaveLength(7);
    expect(error.issues.every((issue) => issue.location?.file === path)).toBe(true);
    expect(error.message).toContain(`${path}:4, column "alcohol"`);
  });

  it("reports unknown columns, or drops them with unknownKeys: strip", async () => {
    const path = await file("alcohol,color,quality,extra\n9.4,red,5,x\n");
    const error = (await failure(readCsvFile(path, { schema: wine }))) as SchemaError;
    expect(error.issues.map((issue) => [issue.code, issue.path.join(".")])).toEqual([
      ["unknown_field", "extra"],
    ]);
    const stripping = schema(wine.fields, { unknownKeys: "strip" });
    const frame = await readCsvFile(path, { schema: stripping });
    expect(frame.names).toEqual(["alcohol", "color", "quality"]);
  });

  it("checks only the picked fields when columns are given", async () => {
    const path = await file("alcohol,color,quality\n9.4,red,5\n");
    const frame = await readCsvFile(path, { schema: wine, columns: ["quality", "alcohol"] });
    expect(frame.names).toEqual(["alcohol", "quality"]);
    expect(numbers(frame, "quality")).toEqual([5]);
  });
});

describe("columns option", () => {
  it("materialises only the named columns, in the order given", async () => {
    const path = await file('a,b,c\n1,"skip, me",3\n4,x,6\n');
    const frame = await readCsvFile(path, { columns: ["c", "a"] });
    expect(frame.names).toEqual(["c", "a"]);
    expect(numbers(frame, "c")).toEqual([3, 6]);
    expect(numbers(frame, "a")).toEqual([1, 4]);
  });

  it("names the header when a column does not exist", async () => {
    const path = await file("a,b,c\n1,2,3\n");
    const error = await failure(readCsvFile(path, { columns: ["a", "z"] }));
    expect(error.code).toBe("argument_invalid");
    expect(error.message).toBe(`${path}:1: no column "z" in the header; the header has: a, b, c`);
    expect(error.location).toEqual({ file: path, line: 1, column: "z" });
  });
});

describe("errors", () => {
  it("csv_empty for an empty file, blank lines only, or only a BOM", async () => {
    for (const content of ["", "\n\r\n\n", "\ufeff"]) {
      const path = await file(content);
      const error = await failure(readCsvFile(path));
      expect(error.code).toBe("csv_empty");
      expect(error.message).toBe(`${path}: the file is empty; expected a header line`);
    }
  });

  it("csv_header_only when no data row follows the header", async () => {
    const path = await file("\na,b\n\n");
    const error = await failure(readCsvFile(path));
    expect(error.code).toBe("csv_header_only");
    expect(error.message).toBe(`${path}:2: the file has a header but no data rows`);
    const streamed = await failure(collect(streamCsvFile(path)));
    expect(streamed.code).toBe("csv_header_only");
  });

  it("csv_duplicate_column naming both positions", async () => {
    const path = await file("a,b,c,b\n1,2,3,4\n");
    const error = await failure(readCsvFile(path));
    expect(error.code).toBe("csv_duplicate_column");
    expect(error.message).toBe(
      `${path}:1: duplicate column "b" in the header, at positions 2 and 4`,
    );
    expect(error.location).toEqual({ file: path, line: 1, column: "b" });
  });

  it("names an empty header name", async () => {
    const path = await file("a,,c\n1,2,3\n");
    const error = await failure(readCsvFile(path));
    expect(error.code).toBe("data_invalid");
    expect(error.message).toBe(
      `${path}:1: column 2 of the header has an empty name; every column needs a name`,
    );
  });

  it("csv_ragged_row with the line and both counts", async () => {
    const header = Array.from({ length: 12 }, (_, i) => `c${i}`).join(",");
    const row = (count: number) => Array.from({ length: count }, (_, i) => i).join(",");
    const quoted = `1,"a\nb",${row(10)}`;
    const lines = [header, ...Array.from({ length: 10 }, () => row(12)), quoted, row(11), row(12)];
    const path = await file(`${lines.join("\n")}\n`, "wine.csv");
    const error = await failure(readCsvFile(path));
    expect(error.code).toBe("csv_ragged_row");
    // Line 12 holds a quoted line break, so the short row is on line 14.
    expect(error.message).toBe(`${path}:14: expected 12 fields like the header, found 11`);
    expect(error.message.endsWith("wine.csv:14: expected 12 fields like the header, found 11"));
    const short = await file(`${[header, row(12), row(11)].join("\n")}\n`, "wine.csv");
    const shortError = await failure(readCsvFile(short));
    expect(shortError.message).toBe(`${short}:3: expected 12 fields like the header, found 11`);
    expect(shortError.location).toEqual({ file: short, line: 3, column: "c11" });
    const long = await file("a,b\n1,2\n\n1,2,3,4\n");
    const longError = await failure(readCsvFile(long));
    expect(longError.message).toBe(`${long}:4: expected 2 fields like the header, found 4`);
  });

  it("csv_ragged_row after quoted line breaks names the right line", async () => {
    const path = await file('a,b\n"x\ny\nz",1\n\n"p",2\nq\n');
    const error = await failure(readCsvFile(path));
    expect(error.code).toBe("csv_ragged_row");
    expect(error.message).toBe(`${path}:7: expected 2 fields like the header, found 1`);
  });

  it("csv_unterminated_quote naming the line where the quote opened", async () => {
    const path = await file('a,b\n1,2\n3,"open\n4,5\n6,7\n');
    const error = await failure(readCsvFile(path));
    expect(error.code).toBe("csv_unterminated_quote");
    expect(error.message).toBe(
      `${path}:3: unterminated quoted field in column "b": the quote opened on this line is never closed`,
    );
    expect(error.location).toEqual({ file: path, line: 3, column: "b" });
    const tiny = await failure(readCsvFile(path, { chunkSize: 2 }));
    expect(tiny.message).toBe(error.message);
  });

  it("file_not_found for a missing file", async () => {
    const path = join(directory, "missing.csv");
    const error = await failure(readCsvFile(path));
    expect(error.code).toBe("file_not_found");
    expect(error.message).toContain(path);
    expect((await failure(collect(streamCsvFile(path)))).code).toBe("file_not_found");
  });
});

describe("malformed records with onInvalidRow", () => {
  const strict = schema({
    a: field.number(),
    b: field.number(),
    label: field.category(["v", "w", "x", "y", "z"]).nullable(),
  });
  // Line 3 has one field (text in a numeric column), line 4 four, lines 5-6 hold a quoted line
  // break that the schema rejects, line 8 opens a quote that is never closed.
  const content = [
    "a,b,label",
    "1,2,x",
    "oops",
    "5,6,y,extra",
    '"7\n8",9,z',
    "10,11,w",
    '12,"open,q',
    "13,14,v",
  ].join("\n");

  it("hands each to onInvalidRow with its text and line, and reads on", async () => {
    const path = await file(`${content}\n`);
    for (const [batchSize, chunkSize] of [
      [2, 3],
      [100, 1 << 20],
    ]) {
      const invalid: InvalidRow[] = [];
      const origins: FrameOrigin[] = [];
      const frames = await collect(
        streamCsvFile(path, {
          schema: strict,
          batchSize,
          chunkSize,
          onInvalidRow: (row) => invalid.push(row),
          onFrameOrigin: (origin) => origins.push(origin),
        }),
      );
      expect(
        invalid.map((row) => [row.row, row.location.line, row.text ?? null, row.issues[0].code]),
      ).toEqual([
        [1, 3, "oops", "malformed_row"],
        [2, 4, "5,6,y,extra", "malformed_row"],
        [3, 5, null, "invalid_type"],
        [5, 8, '12,"open,q', "malformed_row"],
      ]);
      expect(invalid[0].issues[0].message).toBe("expected 3 fields like the header, found 1");
      expect(invalid[0].issues[0].path).toEqual([1]);
      expect(invalid[1].issues[0].message).toBe("expected 3 fields like the header, found 4");
      expect(invalid[2].issues[0].path).toEqual([3, "a"]);
      expect(invalid[2].values).toEqual({ a: "7\n8", b: 9, label: "z" });
      expect(invalid[3].issues[0].message).toBe(
        'unterminated quoted field in column "b": the quote opened on line 8 is never closed',
      );
      const kept = Frame.concat(frames);
      expect(numbers(kept, "a")).toEqual([1, 10, 13]);
      expect(numbers(kept, "b")).toEqual([2, 11, 14]);
      expect(strings(kept, "label")).toEqual(["x", "w", "v"]);
      const located = origins.flatMap((origin) =>
        Array.from({ length: origin.rowCount }, (_, i) => [origin.row(i), origin.line(i)]),
      );
      expect(located).toEqual([
        [0, 2],
        [4, 7],
        [6, 9],
      ]);
      expect(origins.map((origin) => origin.rowCount)).toEqual(frames.map((f) => f.rowCount));
    }
  });

  it("without onInvalidRow the first one still fails the read", async () => {
    const path = await file(`${content}\n`);
    const error = await failure(readCsvFile(path, { schema: strict }));
    expect(error.code).toBe("csv_ragged_row");
    expect(error.message).toBe(`${path}:3: expected 3 fields like the header, found 1`);
  });

  it("works without a schema, and when every row is malformed", async () => {
    const invalid: InvalidRow[] = [];
    const path = await file("a,b\n1,2\n3\n4,5\n");
    const frame = await readCsvFile(path, { onInvalidRow: (row) => invalid.push(row) });
    expect(numbers(frame, "a")).toEqual([1, 4]);
    expect(invalid.map((row) => [row.row, row.location.line, row.text])).toEqual([[1, 3, "3"]]);
    const broken: InvalidRow[] = [];
    const all = await file("a,b,label\n1\n2,3,4,5\n");
    const empty = await collect(
      streamCsvFile(all, { schema: strict, onInvalidRow: (row) => broken.push(row) }),
    );
    expect(empty.reduce((rows, f) => rows + f.rowCount, 0)).toBe(0);
    expect(broken.map((row) => row.location.line)).toEqual([2, 3]);
  });
});

describe("streaming", () => {
  const content = `${["i,label,value", ...Array.from({ length: 1000 }, (_, i) => `${i},${i % 7 === 0 ? `"l\n${i % 3}"` : `k${i % 5}`},${i / 8}`)].join("\n")}\n`;

  it("yields batches of batchSize rows, the last one smaller, equal to the whole read", async () => {
    const path = await file(content);
    const whole = await readCsvFile(path);
    const batches = await collect(streamCsvFile(path, { batchSize: 300, chunkSize: 97 }));
    expect(batches.map((batch) => batch.rowCount)).toEqual([300, 300, 300, 100]);
    expect(Frame.concat(batches).toRows()).toEqual(whole.toRows());
    const defaults = await collect(csvFormat.stream(path));
    expect(defaults).toHaveLength(1);
    expect(defaults[0].toRows()).toEqual(whole.toRows());
  });

  it("ends without an empty batch when the rows divide evenly", async () => {
    const path = await file(content);
    const batches = await collect(streamCsvFile(path, { batchSize: 250 }));
    expect(batches.map((batch) => batch.rowCount)).toEqual([250, 250, 250, 250]);
  });

  it("conforms each batch with global row indices and file lines", async () => {
    const rows = Array.from({ length: 10 }, (_, i) => (i === 7 ? "x" : String(i)));
    const path = await file(`n\n${rows.join("\n")}\n`);
    const numbersOnly = schema({ n: field.number() });
    const iterator = streamCsvFile(path, { batchSize: 4, schema: numbersOnly });
    const error = (await failure(collect(iterator))) as SchemaError;
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0].path).toEqual([7, "n"]);
    expect(error.issues[0].location).toEqual({ file: path, line: 9, column: "n" });
  });

  it("closes the file when the loop stops early", async () => {
    const path = await file(content);
    const openFiles = async () => (await readdir("/proc/self/fd").catch(() => [])).length;
    const before = await openFiles();
    for await (const batch of streamCsvFile(path, { batchSize: 10 })) {
      expect(batch.rowCount).toBe(10);
      expect(await openFiles()).toBeGreaterThanOrEqual(before);
      break;
    }
    expect(await openFiles()).toBe(before);
  });

  it("rejects a batchSize that is not a positive integer", async () => {
    const path = await file(content);
    const error = await failure(collect(streamCsvFile(path, { batchSize: 0 })));
    expect(error.code).toBe("argument_invalid");
  });
});

describe("chunk boundaries", () => {
  const text =
    "\ufeffid,name,score\r\n" +
    '1,"Zoë, ""the"" first",0.125\r\n' +
    "\r\n" +
    '2,"multi\r\nline ✓",-7.5e-3\r\n' +
    "3,日本語🚀,123456789012345678\r\n" +
    "4,,\r\n" +
    '5,"",1e-300\r\n' +
    "6,plain,42";
  const expected = [
    { id: 1, name: 'Zoë, "the" first', score: 0.125 },
    { id: 2, name: "multi\r\nline ✓", score: -7.5e-3 },
    { id: 3, name: "日本語🚀", score: Number("123456789012345678") },
    { id: 4, name: null, score: null },
    { id: 5, name: null, score: 1e-300 },
    { id: 6, name: "plain", score: 42 },
  ];

  it("reads the same rows and lines whatever the chunk size", async () => {
    const path = await file(text);
    const bytes = Buffer.byteLength(text);
    const withBadRow = await file(`${text}\r\n7,"x\r\ny"\r\n`);
    for (let chunkSize = 1; chunkSize <= bytes + 1; chunkSize++) {
      const frame = await readCsvFile(path, { chunkSize });
      expect(frame.toRows(), `chunkSize ${chunkSize}`).toEqual(expected);
      const streamed = await collect(streamCsvFile(path, { chunkSize, batchSize: 2 }));
      expect(Frame.concat(streamed).toRows(), `chunkSize ${chunkSize}`).toEqual(expected);
      const error = await failure(readCsvFile(withBadRow, { chunkSize }));
      expect(error.message).toBe(`${withBadRow}:10: expected 3 fields like the header, found 2`);
    }
  });
});

describe("write", () => {
  it("writes a header and rows with quoting, missing values and booleans", async () => {
    const frame = new Frame({
      x: { kind: "number", values: new Float64Array([0.1, Number.NaN, -0, 1e21]) },
      flag: { kind: "boolean", values: new Float64Array([1, 0, Number.NaN, 1]) },
      label: {
        kind: "category",
        codes: new Int32Array([0, 1, 2, -1]),
        dictionary: ["a,b", 'say "hi"', " padded"],
      },
    });
    const path = join(directory, "written.csv");
    await csvFormat.write(path, frame);
    expect(await readFile(path, "utf8")).toBe(
      'x,flag,label\n0.1,true,"a,b"\n,false,"say ""hi"""\n-0,," padded"\n1e+21,true,\n',
    );
  });

  it("round-trips values exactly, including line breaks and tabs in .tsv", async () => {
    const values = new Float64Array([0.1, 1 / 3, -1e-300, 5e-324, Number.MAX_VALUE, -0, 42]);
    const frame = new Frame({
      value: { kind: "number", values },
      text: {
        kind: "category",
        codes: new Int32Array([0, 1, 2, 3, -1, 0, 1]),
        dictionary: ["tab\there", "line\nbreak", "cr\r\nlf", "ünï"],
      },
    });
    for (const name of ["round.csv", "round.tsv"]) {
      const path = join(directory, name);
      await writeCsvFile(path, frame);
      const back = await readCsvFile(path, { chunkSize: 7 });
      expect(back.names).toEqual(["value", "text"]);
      const read = numbers(back, "value");
      expect(read.every((value, index) => Object.is(value, values[index]))).toBe(true);
      expect(strings(back, "text")).toEqual(strings(frame, "text"));
    }
    const tsv = await readFile(join(directory, "round.tsv"), "utf8");
    expect(tsv.startsWith('value\ttext\n0.1\t"tab\there"\n')).toBe(true);
  });

  it("keeps missing values of a single-column frame as rows", async () => {
    const frame = new Frame({
      x: { kind: "number", values: new Float64Array([1, Number.NaN, 3]) },
    });
    const path = join(directory, "single.csv");
    await writeCsvFile(path, frame, { delimiter: ";" });
    expect(await readFile(path, "utf8")).toBe('x\n1\n""\n3\n');
    const back = await readCsvFile(path);
    expect(numbers(back, "x")).toEqual([1, Number.NaN, 3]);
  });

  it("round-trips a frame with a schema: integers, booleans, categories", async () => {
    const people = schema({
      age: field.integer({ min: 0 }),
      member: field.boolean(),
      city: field.category(["Paris", "Köln", "New York, NY"]).nullable(),
    });
    const frame = people.toFrame([
      { age: 31, member: true, city: "Köln" },
      { age: 4, member: false, city: "New York, NY" },
      { age: 70, member: true, city: null },
    ]);
    const path = join(directory, "people.csv");
    await writeCsvFile(path, frame);
    const back = await readCsvFile(path, { schema: people });
    expect(back.toRows()).toEqual(frame.toRows());
    expect((back.column("member") as NumericColumn).kind).toBe("boolean");
  });
});

describe("a small real-world data set", () => {
  // The first rows of the UCI wine-quality (red) data set, semicolon-separated as published.
  const wineText = [
    '"fixed acidity";"volatile acidity";"citric acid";"residual sugar";"chlorides";"free sulfur dioxide";"total sulfur dioxide";"density";"pH";"sulphates";"alcohol";"quality"',
    "7.4;0.7;0;1.9;0.076;11;34;0.9978;3.51;0.56;9.4;5",
    "7.8;0.88;0;2.6;0.098;25;67;0.9968;3.2;0.68;9.8;5",
    "7.8;0.76;0.04;2.3;0.092;15;54;0.997;3.26;0.65;9.8;5",
    "11.2;0.28;0.56;1.9;0.075;17;60;0.998;3.16;0.58;9.8;6",
    "7.4;0.7;0;1.9;0.076;11;34;0.9978;3.51;0.56;9.4;5",
  ].join("\n");

  it("reads the published format with a schema", async () => {
    const names = wineText
      .split("\n")[0]
      .split(";")
      .map((name) => name.slice(1, -1));
    const fields = Object.fromEntries(
      names.map((name) => [name, name === "quality" ? field.integer() : field.number({ min: 0 })]),
    );
    const wine = schema(fields, { target: "quality" });
    const frame = await readCsvFile(await file(wineText, "winequality-red.csv"), {
      schema: wine,
      delimiter: ";",
    });
    expect(frame.rowCount).toBe(5);
    expect(numbers(frame, "alcohol")).toEqual([9.4, 9.8, 9.8, 9.8, 9.4]);
    expect(numbers(frame, "quality")).toEqual([5, 5, 5, 6, 5]);
    expect(numbers(frame, "density")[3]).toBe(0.998);
  });
});

describe("readCsvText (CSV in memory, as serve reads request bodies)", () => {
  const bytes = (text: string) => new TextEncoder().encode(text);
  const cells = (frame: Frame, name: string) => {
    const { codes, dictionary } = frame.column(name) as CategoryColumn;
    return Array.from(codes, (code) => (code < 0 ? null : dictionary[code]));
  };

  it("reads every column as text, with the file reader's quoting and line ends", () => {
    const { frame, truncated } = readCsvText(
      bytes('\uFEFFa,b\r\n"x,y","say ""hi"""\r\n\r\n01,NA\r"line\nbreak",2'),
      { name: "body", maxRows: 10 },
    );
    expect(truncated).toBe(false);
    expect(frame.rowCount).toBe(3);
    expect(cells(frame, "a")).toEqual(["x,y", "01", "line\nbreak"]);
    expect(cells(frame, "b")).toEqual(['say "hi"', null, "2"]);
  });

  it("says when more rows than maxRows follow, and reads a header alone as no rows", () => {
    const read = readCsvText(bytes("a\n1\n2\n3\n"), { name: "body", maxRows: 2 });
    expect(read.truncated).toBe(true);
    expect(read.frame.rowCount).toBe(2);
    expect(readCsvText(bytes("a,b\n"), { name: "body", maxRows: 2 }).frame.rowCount).toBe(0);
  });

  it("fails as the file reader does, naming the source and line", async () => {
    const dir = await mkdtemp(join(tmpdir(), "csv-text-"));
    try {
      for (const text of ["", "a,b\n1\n", 'a\n"open\n', "a,a\n1,2\n", "a,,b\n1,2,3\n"]) {
        const path = join(dir, "same.csv");
        await writeFile(path, text);
        const fromFile = await readCsvFile(path).catch((error: unknown) => error as MlopsError);
        let fromText: MlopsError | undefined;
        try {
          readCsvText(bytes(text), { name: path, maxRows: 10 });
        } catch (error) {
          fromText = error as MlopsError;
        }
        expect(fromText?.code, JSON.stringify(text)).toBe((fromFile as MlopsError).code);
        expect(fromText?.message, JSON.stringify(text)).toBe((fromFile as MlopsError).message);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
