import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  Field,
  makeData,
  RecordBatch,
  RecordBatchReader,
  Schema,
  Struct,
  Table,
  TimestampMillisecond,
  tableToIPC,
} from "apache-arrow";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MlopsError } from "../errors/error.js";
import { frameToArrow } from "../frame/arrow.js";
import { categoryColumn, Frame, numericColumn } from "../frame/frame.js";
import { field } from "../schema/field.js";
import type { SchemaError } from "../schema/issues.js";
import { schema } from "../schema/schema.js";
import { conformanceFrame, conformanceSchema, expectSameFrame } from "../testing/formats.js";
import { arrowFormat } from "./arrow.js";
import { rebatchFrames } from "./batch.js";

let directory = "";
const pathOf = (name: string) => join(directory, name);

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), "mlops-arrow-"));
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

function bigFrame(n: number): Frame {
  const x = new Float64Array(n);
  const colors: (string | null)[] = new Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = i * 0.25;
    colors[i] = i % 9 === 0 ? null : `c${i % 5}`;
  }
  return new Frame({ x: { kind: "number", values: x }, color: categoryColumn(colors) });
}

describe("arrowFormat", () => {
  it("reads Float64 columns as views of the file's bytes, without copying", async () => {
    const path = pathOf("zero-copy.arrow");
    const frame = new Frame({ a: numericColumn([1, 2, 3]), b: numericColumn([4, 5, 6]) });
    await arrowFormat.write(path, frame);
    const read = await arrowFormat.read(path);
    const a = read.numeric("a");
    const b = read.numeric("b");
    // Both columns view one buffer holding the whole file: nothing was copied out of it.
    expect(a.buffer).toBe(b.buffer);
    expect(a.buffer.byteLength).toBeGreaterThanOrEqual((await readFile(path)).length);
    expect([...a, ...b]).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("writes the IPC file format in record batches of 65,536 rows", async () => {
    const path = pathOf("batches.arrow");
    await arrowFormat.write(path, bigFrame(150_000));
    const bytes = await readFile(path);
    expect(bytes.subarray(0, 6).toString()).toBe("ARROW1");
    const reader = RecordBatchReader.from(bytes);
    const sizes = [...reader].map((batch) => batch.numRows);
    expect(sizes).toEqual([65_536, 65_536, 18_928]);
  });

  it("streams in batches of batchSize that concatenate to the whole read", async () => {
    const path = pathOf("stream.arrow");
    const frame = bigFrame(150_000);
    await arrowFormat.write(path, frame);
    expectSameFrame(await arrowFormat.read(path), frame);
    const batches = await collect(arrowFormat.stream(path, { batchSize: 40_000 }));
    expect(batches.map((batch) => batch.rowCount)).toEqual([40_000, 40_000, 40_000, 30_000]);
    expectSameFrame(Frame.concat(batches), frame);
  });

  it("reads the IPC stream format too (.ipc, .feather)", async () => {
    for (const name of ["stream-format.ipc", "stream-format.feather"]) {
      const path = pathOf(name);
      await writeFile(path, tableToIPC(frameToArrow(conformanceFrame()), "stream"));
      expectSameFrame(await arrowFormat.read(path), conformanceFrame());
      const batches = await collect(arrowFormat.stream(path, { batchSize: 2 }));
      expect(batches.map((batch) => batch.rowCount)).toEqual([2, 2, 2, 1]);
      expectSameFrame(Frame.concat(batches), conformanceFrame());
    }
  });

  it("round-trips a frame with columns but no rows, kinds included", async () => {
    const path = pathOf("empty.arrow");
    const empty = conformanceFrame().slice(0, 0);
    await arrowFormat.write(path, empty);
    expectSameFrame(await arrowFormat.read(path), empty);
    expect(await collect(arrowFormat.stream(path))).toEqual([]);
  });

  it("reads only the requested columns, in the requested order", async () => {
    const path = pathOf("columns.arrow");
    await arrowFormat.write(path, conformanceFrame());
    const frame = await arrowFormat.read(path, { columns: ["color", "quality"] });
    expectSameFrame(frame, conformanceFrame().select(["color", "quality"]));
    const error = await captureError(() => arrowFormat.read(path, { columns: ["nope"] }));
    expect(error.code).toBe("argument_invalid");
    expect(error.message).toContain('columns: no column "nope" in the file (it has: alcohol');
  });

  it("reports schema issues with the file, the row number as line, and the column", async () => {
    const path = pathOf("schema.arrow");
    await arrowFormat.write(
      path,
      new Frame({
        grade: categoryColumn(["a", "b", "a", "z", "b"]),
        n: numericColumn([1, 2, 3, 4, 5]),
      }),
    );
    const grades = schema({ grade: field.category(["a", "b"]), n: field.integer() });
    const error = (await captureError(() =>
      arrowFormat.read(path, { schema: grades }),
    )) as SchemaError;
    expect(error.code).toBe("schema_invalid");
    expect(error.issues).toEqual([
      expect.objectContaining({
        code: "invalid_category",
        path: [3, "grade"],
        location: { file: path, line: 4, column: "grade" },
      }),
    ]);
    const streamed = (await captureError(() =>
      collect(arrowFormat.stream(path, { schema: grades, batchSize: 2 })),
    )) as SchemaError;
    expect(streamed.issues[0].location).toEqual({ file: path, line: 4, column: "grade" });
    const strict = schema({ grade: field.category(["a", "b", "z"]) });
    const unknown = (await captureError(() =>
      arrowFormat.read(path, { schema: strict }),
    )) as SchemaError;
    expect(unknown.issues[0]).toMatchObject({ code: "unknown_field", path: ["n"] });
  });

  it("applies a schema: categories recoded to the declared values", async () => {
    const path = pathOf("conform.arrow");
    await arrowFormat.write(path, conformanceFrame());
    const frame = await arrowFormat.read(path, { schema: conformanceSchema() });
    const color = frame.column("color");
    expect(color.kind === "category" && color.dictionary).toEqual(
      conformanceSchema().field("color").definition.values,
    );
  });
});

describe("arrowFormat bad input", () => {
  it("throws arrow_invalid naming the file for garbage, empty and truncated files", async () => {
    const path = pathOf("bad.arrow");
    const valid = pathOf("valid.arrow");
    await arrowFormat.write(valid, conformanceFrame());
    const bytes = await readFile(valid);
    const stream = tableToIPC(frameToArrow(conformanceFrame()), "stream");
    const cases: [string, Uint8Array][] = [
      ["text", new TextEncoder().encode("this is a text file, not an Arrow file at all")],
      ["empty", new Uint8Array(0)],
      ["ones", new Uint8Array(64).fill(255)],
      ["feather v1", new Uint8Array([70, 69, 65, 49, 0, 0, 0, 0, 0, 0, 0, 0, 70, 69, 65, 49])],
      ["file cut by 1", bytes.subarray(0, bytes.length - 1)],
      ["file cut in half", bytes.subarray(0, bytes.length >> 1)],
      ["file head only", bytes.subarray(0, 10)],
      ["stream cut in a message", stream.subarray(0, 100)],
    ];
    for (const [name, content] of cases) {
      await writeFile(path, content);
      for (const run of [() => arrowFormat.read(path), () => collect(arrowFormat.stream(path))]) {
        const error = await captureError(run);
        expect(error.code, name).toBe("arrow_invalid");
        expect(error.message, name).toContain(`${path}: truncated or not an Arrow IPC file (`);
        expect(error.location?.file).toBe(path);
      }
    }
  });

  it("throws arrow_invalid naming the column of an unsupported type", async () => {
    const path = pathOf("timestamp.arrow");
    const type = new TimestampMillisecond();
    const fields = [new Field("when", type)];
    const schemaOf = new Schema(fields);
    const data = makeData({ type, data: new BigInt64Array([1n, 2n]) } as never);
    const table = new Table(schemaOf, [
      new RecordBatch(
        schemaOf,
        makeData({ type: new Struct(fields), length: 2, nullCount: 0, children: [data] }),
      ),
    ]);
    await writeFile(path, tableToIPC(table, "file"));
    const error = await captureError(() => arrowFormat.read(path));
    expect(error.code).toBe("arrow_invalid");
    expect(error.message).toMatch(
      new RegExp(`^${escapeRegExp(path)}: column "when": unsupported Arrow type Timestamp`),
    );
    expect(error.location).toEqual({ file: path, column: "when" });
  });

  it("throws file_not_found, and argument_invalid for a bad batchSize", async () => {
    expect((await captureError(() => arrowFormat.read(pathOf("nope.arrow")))).code).toBe(
      "file_not_found",
    );
    const path = pathOf("batch.arrow");
    await arrowFormat.write(path, conformanceFrame());
    for (const batchSize of [0, -1, 1.5, Number.NaN]) {
      const error = await captureError(() => collect(arrowFormat.stream(path, { batchSize })));
      expect(error.code).toBe("argument_invalid");
    }
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

describe("rebatchFrames", () => {
  it("re-slices frames of any size into exact batches, sharing memory where it can", async () => {
    const whole = bigFrame(10);
    async function* parts() {
      yield whole.slice(0, 4);
      yield whole.slice(4, 4);
      yield whole.slice(4, 9);
      yield whole.slice(9, 10);
    }
    const batches = await collect(rebatchFrames(parts(), 3));
    expect(batches.map((batch) => batch.rowCount)).toEqual([3, 3, 3, 1]);
    expectSameFrame(Frame.concat(batches), whole);
    expect(batches[0].numeric("x").buffer).toBe(whole.numeric("x").buffer);
  });
});

// Files written by other writers (fixtures/make_fixtures.mjs): apache-arrow's JavaScript writer
// (IPC file format, i.e. Feather v2) and Rust's arrow-rs (IPC stream format, through
// parquet-wasm).
const otherWriters = ["apache-arrow.arrow", "arrow-rs.arrow"].map(
  (name) => new URL(`./fixtures/${name}`, import.meta.url),
);
describe("Arrow written by other writers", () => {
  it("reads the IPC file and stream formats with the kinds pandas users expect", async () => {
    for (const url of otherWriters) {
      const frame = await arrowFormat.read(fileURLToPath(url));
      expect(Object.fromEntries([...frame.columns()].map(([name, c]) => [name, c.kind]))).toEqual({
        x: "number",
        n: "integer",
        n_missing: "number",
        i32: "integer",
        flag: "boolean",
        color: "category",
        dict_color: "category",
      });
      expect(frame.toRows(), url.pathname).toEqual([
        { x: 1.5, n: 1, n_missing: 1, i32: 10, flag: true, color: "red", dict_color: "red" },
        { x: null, n: 2, n_missing: null, i32: 20, flag: false, color: null, dict_color: null },
        {
          x: -0.25,
          n: 9007199254740991,
          n_missing: 3,
          i32: -30,
          flag: null,
          color: "wh,ite",
          dict_color: "white",
        },
      ]);
    }
  });
});
