import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MlopsError } from "../errors/error.js";
import { categoryColumn, Frame, numericColumn } from "../frame/frame.js";
import { field } from "../schema/field.js";
import type { SchemaError } from "../schema/issues.js";
import { schema } from "../schema/schema.js";
import { conformanceFrame, conformanceSchema, expectSameFrame } from "../testing/formats.js";
import { jsonlFormat } from "./jsonl.js";
import type { FrameOrigin, InvalidRow } from "./types.js";

let directory = "";
const pathOf = (name: string) => join(directory, name);

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), "mlops-jsonl-"));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

async function captureError(run: () => Promise<unknown>): Promise<MlopsError> {
  try {
    await run();
  } catch (error) {
    if (MlopsError.isInstance(error)) return error;
    throw new Error(`expected an MlopsError, got ${String(error)}`, { cause: error });
  }
  throw new Error("expected an error, got none");
}

async function collect(stream: AsyncIterable<Frame>): Promise<Frame[]> {
  const frames: Frame[] = [];
  for await (const frame of stream) frames.push(frame);
  return frames;
}

async function fileWith(name: string, text: string | Uint8Array): Promise<string> {
  const path = pathOf(name);
  await writeFile(path, text);
  return path;
}

describe("jsonlFormat.write", () => {
  it("writes one object per row: null for missing, -0 kept, booleans, escapes", async () => {
    const path = pathOf("write.jsonl");
    await jsonlFormat.write(
      path,
      new Frame({
        x: numericColumn([1.5, -0, null]),
        n: numericColumn([3, null, 1.7976931348623157e308], "integer"),
        ok: numericColumn([1, 0, null], "boolean"),
        'tag "q"': categoryColumn(['a "b"', "line\nbreak", null]),
      }),
    );
    expect(await readFile(path, "utf8")).toBe(
      [
        '{"x":1.5,"n":3,"ok":true,"tag \\"q\\"":"a \\"b\\""}',
        '{"x":-0,"n":null,"ok":false,"tag \\"q\\"":"line\\nbreak"}',
        '{"x":null,"n":1.7976931348623157e+308,"ok":null,"tag \\"q\\"":null}',
        "",
      ].join("\n"),
    );
  });

  it("refuses infinities, which JSON cannot hold, and leaves no file behind", async () => {
    const path = pathOf("infinite.jsonl");
    const error = await captureError(() =>
      jsonlFormat.write(path, new Frame({ x: numericColumn([1, Number.POSITIVE_INFINITY]) })),
    );
    expect(error.code).toBe("data_invalid");
    expect(error.message).toBe(
      `${path}: column "x", row 1: Infinity has no JSON form (JSON numbers are finite)`,
    );
    expect((await captureError(() => jsonlFormat.read(path))).code).toBe("file_not_found");
  });

  it("writes large frames in chunks that read back whole", async () => {
    const n = 60_000;
    const text = Array.from({ length: n }, (_, i) => (i % 3 === 0 ? null : `välue ${i % 17}`));
    const frame = new Frame({
      i: numericColumn(Array.from({ length: n }, (_, i) => i)),
      text: categoryColumn(text),
    });
    const path = pathOf("large.jsonl");
    await jsonlFormat.write(path, frame);
    // Over 1 MiB of text: written as more than one chunk.
    expect((await readFile(path)).length).toBeGreaterThan(1 << 20);
    expectSameFrame(await jsonlFormat.read(path), frame);
  });
});

describe("jsonlFormat.read", () => {
  it("takes kinds from JSON types and skips blank lines, with CRLF and a BOM", async () => {
    const path = await fileWith(
      "kinds.jsonl",
      '\uFEFF{"n":1,"s":"a","b":true,"mixed":1,"nothing":null}\r\n' +
        "\r\n" +
        "   \n" +
        '{"n":2.5,"s":null,"b":false,"mixed":"two","extra":"late"}\r\n' +
        '{"s":"b","mixed":3}',
    );
    const frame = await jsonlFormat.read(path);
    expect(frame.names).toEqual(["n", "s", "b", "mixed", "nothing", "extra"]);
    expect(Object.fromEntries([...frame.columns()].map(([name, c]) => [name, c.kind]))).toEqual({
      n: "number",
      s: "category",
      b: "boolean",
      mixed: "category",
      nothing: "number",
      extra: "category",
    });
    expect(frame.toRows()).toEqual([
      { n: 1, s: "a", b: true, mixed: "1", nothing: null, extra: null },
      { n: 2.5, s: null, b: false, mixed: "two", nothing: null, extra: "late" },
      { n: null, s: "b", b: null, mixed: "3", nothing: null, extra: null },
    ]);
  });

  it("reads only the requested columns, in the requested order", async () => {
    const path = await fileWith("columns.jsonl", '{"a":1,"b":"x","c":true}\n{"a":2,"c":false}\n');
    const frame = await jsonlFormat.read(path, { columns: ["c", "b"] });
    expect(frame.names).toEqual(["c", "b"]);
    expect(frame.toRows()).toEqual([
      { c: true, b: "x" },
      { c: false, b: null },
    ]);
    const error = await captureError(() => jsonlFormat.read(path, { columns: ["d"] }));
    expect(error.code).toBe("argument_invalid");
    expect(error.message).toBe(`${path}: columns: no column "d" in the file (it has: a, b, c)`);
  });

  it("applies a schema, with issues located at the file's line and the column", async () => {
    const path = await fileWith(
      "schema.jsonl",
      '{"age":30,"color":"red"}\n\n{"age":-1,"color":"red"}\n{"age":41,"color":"blue"}\n',
    );
    const people = schema({ age: field.integer({ min: 0 }), color: field.category(["red"]) });
    const error = (await captureError(() =>
      jsonlFormat.read(path, { schema: people }),
    )) as SchemaError;
    expect(error.code).toBe("schema_invalid");
    expect(error.issues.map((issue) => [issue.code, issue.path, issue.location])).toEqual([
      ["too_small", [1, "age"], { file: path, line: 3, column: "age" }],
      ["invalid_category", [2, "color"], { file: path, line: 4, column: "color" }],
    ]);
    const streamed = (await captureError(() =>
      collect(jsonlFormat.stream(path, { schema: people, batchSize: 1 })),
    )) as SchemaError;
    expect(streamed.issues[0]).toMatchObject({
      path: [1, "age"],
      location: { file: path, line: 3, column: "age" },
    });
  });

  it("streams batches of batchSize equal to the whole read, across read chunks", async () => {
    // Long multi-byte lines make the 1 MiB read chunks split characters and lines.
    const lines: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const text = `${"é€😀".repeat(150)}${i % 7}`;
      lines.push(JSON.stringify({ i, text, flag: i % 2 === 0 }));
      if (i % 500 === 0) lines.push("");
    }
    const path = await fileWith("big.jsonl", `${lines.join("\r\n")}\r\n`);
    const whole = await jsonlFormat.read(path);
    expect(whole.rowCount).toBe(3000);
    expect(whole.get(2999, "text")).toBe(`${"é€😀".repeat(150)}${2999 % 7}`);
    const batches = await collect(jsonlFormat.stream(path, { batchSize: 700 }));
    expect(batches.map((batch) => batch.rowCount)).toEqual([700, 700, 700, 700, 200]);
    expectSameFrame(Frame.concat(batches), whole);
  });

  it("streams the conformance fixture with a schema in batches equal to the read", async () => {
    const path = pathOf("fixture.jsonl");
    await jsonlFormat.write(path, conformanceFrame());
    const options = { schema: conformanceSchema() };
    const batches = await collect(jsonlFormat.stream(path, { ...options, batchSize: 2 }));
    expect(batches.map((batch) => batch.rowCount)).toEqual([2, 2, 2, 1]);
    expectSameFrame(Frame.concat(batches), conformanceFrame());
  });
});

describe("jsonlFormat bad input", () => {
  const lines = ['{"a":1}', '{"a":2}', "", '{"a":3}', '{"a":4}', '{"a":5}'];

  it("rejects a line that is not valid JSON with file:line", async () => {
    const path = await fileWith("bad.jsonl", [...lines, '{"a":6', '{"a":7}'].join("\n"));
    for (const run of [() => jsonlFormat.read(path), () => collect(jsonlFormat.stream(path))]) {
      const error = await captureError(run);
      expect(error.code).toBe("jsonl_invalid");
      expect(error.message).toMatch(
        new RegExp(`^${escapeRegExp(path)}:7: expected a JSON object, got invalid JSON `),
      );
      expect(error.message).toContain('got invalid JSON "{\\"a\\":6" (');
      expect(error.location).toEqual({ file: path, line: 7, column: undefined });
    }
  });

  it("rejects lines that are JSON but not objects", async () => {
    for (const [line, got] of [
      ["[1,2]", "an array"],
      ["12", "12"],
      ['"text"', '"text"'],
      ["null", "null"],
    ]) {
      const path = await fileWith("not-object.jsonl", [...lines, line].join("\n"));
      const error = await captureError(() => jsonlFormat.read(path));
      expect(error.code).toBe("jsonl_invalid");
      expect(error.message).toBe(`${path}:7: expected a JSON object, got ${got}`);
    }
  });

  it("rejects nested objects and arrays, naming the line and the field", async () => {
    const path = await fileWith("nested.jsonl", '{"a":1}\n{"a":2,"tags":["x"]}\n');
    const error = await captureError(() => jsonlFormat.read(path));
    expect(error.code).toBe("jsonl_invalid");
    expect(error.message).toBe(
      `${path}:2: field "tags": expected a number, string, boolean or null, got an array`,
    );
    expect(error.location).toEqual({ file: path, line: 2, column: "tags" });
    const object = await fileWith("object.jsonl", '{"a":{"b":1}}\n');
    expect((await captureError(() => jsonlFormat.read(object))).message).toContain(
      ':1: field "a": expected a number, string, boolean or null, got an object',
    );
  });

  it("hands unreadable lines to onInvalidRow with their text and line, and reads on", async () => {
    const text = [
      '{"a":1,"b":"x"}',
      '{"a":2,"b":',
      "",
      "[3]",
      '{"a":4,"b":{"c":1}}',
      '{"a":"five","b":"y"}',
      '{"a":6,"b":"z"}',
    ].join("\n");
    const path = await fileWith("lenient.jsonl", text);
    const typed = schema({ a: field.number(), b: field.category(["x", "y", "z"]) });
    for (const batchSize of [2, 100]) {
      const invalid: InvalidRow[] = [];
      const origins: FrameOrigin[] = [];
      const frames = await collect(
        jsonlFormat.stream(path, {
          schema: typed,
          batchSize,
          onInvalidRow: (row) => invalid.push(row),
          onFrameOrigin: (origin) => origins.push(origin),
        }),
      );
      expect(
        invalid.map((row) => [row.row, row.location.line, row.text ?? null, row.issues[0].code]),
      ).toEqual([
        [1, 2, '{"a":2,"b":', "malformed_row"],
        [2, 4, "[3]", "malformed_row"],
        [3, 5, '{"a":4,"b":{"c":1}}', "malformed_row"],
        [4, 6, null, "invalid_type"],
      ]);
      expect(invalid[1].issues[0].message).toBe("expected a JSON object, got an array");
      expect(invalid[2].issues[0].message).toBe(
        'field "b": expected a number, string, boolean or null, got an object',
      );
      const kept = Frame.concat(frames);
      expect([...kept.numeric("a")]).toEqual([1, 6]);
      const located = origins.flatMap((origin) =>
        Array.from({ length: origin.rowCount }, (_, i) => [origin.row(i), origin.line(i)]),
      );
      expect(located).toEqual([
        [0, 1],
        [5, 7],
      ]);
    }
    // Without onInvalidRow the first bad line still fails the read.
    expect((await captureError(() => jsonlFormat.read(path, { schema: typed }))).code).toBe(
      "jsonl_invalid",
    );
  });

  it("rejects bytes that are not UTF-8", async () => {
    const path = await fileWith(
      "latin1.jsonl",
      new Uint8Array([0x7b, 0x22, 0xe9, 0x22, 0x3a, 0x31, 0x7d]),
    );
    const error = await captureError(() => jsonlFormat.read(path));
    expect(error.code).toBe("jsonl_invalid");
    expect(error.message).toContain("not UTF-8");
  });

  it("throws file_not_found, and reads an empty file as an empty frame", async () => {
    expect((await captureError(() => jsonlFormat.read(pathOf("nope.jsonl")))).code).toBe(
      "file_not_found",
    );
    const empty = await fileWith("empty.jsonl", "\n\n");
    const frame = await jsonlFormat.read(empty);
    expect([frame.rowCount, frame.columnCount]).toEqual([0, 0]);
    expect(await collect(jsonlFormat.stream(empty))).toEqual([]);
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
