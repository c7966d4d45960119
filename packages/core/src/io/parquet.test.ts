import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { parquetMetadata } from "hyparquet";
import { ByteWriter, type ColumnSource, parquetWrite } from "hyparquet-writer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MlopsError } from "../errors/error.js";
import { categoryColumn, Frame, numericColumn } from "../frame/frame.js";
import { field } from "../schema/field.js";
import type { SchemaError } from "../schema/issues.js";
import { schema } from "../schema/schema.js";
import { conformanceFrame, expectSameFrame } from "../testing/formats.js";
import { PARQUET_KINDS_METADATA_KEY, parquetFormat } from "./parquet.js";

let directory = "";
const pathOf = (name: string) => join(directory, name);

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), "mlops-parquet-"));
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

/** Writes a file the way other tools might: hyparquet-writer options we never use ourselves. */
async function writeForeign(
  path: string,
  columnData: ColumnSource[],
  options: { codec?: "SNAPPY" | "UNCOMPRESSED" | "GZIP"; rowGroupSize?: number } = {},
) {
  const writer = new ByteWriter();
  await parquetWrite({
    writer,
    columnData,
    codec: options.codec ?? "SNAPPY",
    rowGroupSize: options.rowGroupSize ?? 4,
    compressors: { GZIP: (input: Uint8Array) => new Uint8Array(gzipSync(input)) },
  });
  await writeFile(path, writer.getBytes());
}

/** A frame of `n` rows spanning several of our 65,536-row row groups. */
function bigFrame(n: number): Frame {
  const x = new Float64Array(n);
  const k = new Float64Array(n);
  const colors: (string | null)[] = new Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = i % 1000 === 0 ? Number.NaN : i * 0.5;
    k[i] = i % 7;
    colors[i] = i % 11 === 0 ? null : `c${i % 13}`;
  }
  return new Frame({
    x: { kind: "number", values: x },
    k: { kind: "integer", values: k },
    color: categoryColumn(colors),
  });
}

describe("parquetFormat.write", () => {
  it("writes DOUBLE, INT64, BOOLEAN, STRING; OPTIONAL only where values are missing", async () => {
    const path = pathOf("types.parquet");
    await parquetFormat.write(path, conformanceFrame().select(["alcohol", "quality", "color"]));
    const frame = new Frame({
      full: numericColumn([1, 2]),
      flag: numericColumn([1, 0], "boolean"),
    });
    const fullPath = pathOf("full.parquet");
    await parquetFormat.write(fullPath, frame);
    const metadata = parquetMetadata(await readFile(path));
    const elements = metadata.schema.slice(1).map((e) => [e.name, e.type, e.repetition_type]);
    expect(elements).toEqual([
      ["alcohol", "DOUBLE", "OPTIONAL"],
      ["quality", "INT64", "OPTIONAL"],
      ["color", "BYTE_ARRAY", "OPTIONAL"],
    ]);
    const kinds = metadata.key_value_metadata?.find((kv) => kv.key === PARQUET_KINDS_METADATA_KEY);
    expect(JSON.parse(kinds?.value ?? "{}")).toEqual({
      alcohol: "number",
      quality: "integer",
      color: "category",
    });
    const fullMetadata = parquetMetadata(await readFile(fullPath));
    expect(fullMetadata.schema.slice(1).map((e) => [e.type, e.repetition_type])).toEqual([
      ["DOUBLE", "REQUIRED"],
      ["BOOLEAN", "REQUIRED"],
    ]);
  });

  it("writes row groups of 65,536 rows", async () => {
    const path = pathOf("groups.parquet");
    await parquetFormat.write(path, bigFrame(150_000));
    const metadata = parquetMetadata(await readFile(path));
    expect(metadata.row_groups.map((group) => Number(group.num_rows))).toEqual([
      65_536, 65_536, 18_928,
    ]);
  });

  it("writes integers INT64 cannot hold exactly as DOUBLE, read back as integers", async () => {
    const path = pathOf("big-integers.parquet");
    await parquetFormat.write(
      path,
      new Frame({ n: numericColumn([1, 2 ** 60, -0, null], "integer") }),
    );
    expect(parquetMetadata(await readFile(path)).schema[1].type).toBe("DOUBLE");
    const frame = await parquetFormat.read(path);
    expect(frame.column("n").kind).toBe("integer");
    const values = [...frame.numeric("n")];
    expect(values.map((v) => (Object.is(v, -0) ? "-0" : String(v)))).toEqual([
      "1",
      String(2 ** 60),
      "-0",
      "NaN",
    ]);
  });
});

describe("parquetFormat.read and stream", () => {
  it("reads a multi-row-group file and streams it in batches equal to the read", async () => {
    const path = pathOf("big.parquet");
    const frame = bigFrame(150_000);
    await parquetFormat.write(path, frame);
    const read = await parquetFormat.read(path);
    expectSameFrame(read, frame);
    const batches = await collect(parquetFormat.stream(path, { batchSize: 40_000 }));
    expect(batches.map((batch) => batch.rowCount)).toEqual([40_000, 40_000, 40_000, 30_000]);
    expectSameFrame(Frame.concat(batches), frame);
    const defaults = await collect(parquetFormat.stream(path));
    expect(defaults.map((batch) => batch.rowCount)).toEqual([65_536, 65_536, 18_928]);
  });

  it("streams a row group larger than a batch in parts when it has an offset index", async () => {
    const n = 200_000;
    const values = Float64Array.from({ length: n }, (_, i) => i / 4);
    for (const offsetIndex of [true, false]) {
      const path = pathOf(`one-group-${offsetIndex}.parquet`);
      // One 200,000-row group of two 1 MiB pages: parts of 65,536 rows read only their pages.
      await writeForeign(
        path,
        [{ name: "x", data: values, type: "DOUBLE", nullable: false, offsetIndex }],
        { codec: "UNCOMPRESSED", rowGroupSize: n },
      );
      const chunk = parquetMetadata(await readFile(path)).row_groups[0].columns[0];
      expect(chunk.offset_index_offset !== undefined).toBe(offsetIndex);
      const batches = await collect(parquetFormat.stream(path, { batchSize: 30_000 }));
      expect(batches.map((batch) => batch.rowCount)).toEqual([
        30_000, 30_000, 30_000, 30_000, 30_000, 30_000, 20_000,
      ]);
      expectSameFrame(Frame.concat(batches), new Frame({ x: { kind: "number", values } }));
    }
  });

  it("round-trips a frame with columns but no rows, kinds included", async () => {
    const path = pathOf("empty.parquet");
    const empty = conformanceFrame().slice(0, 0);
    await parquetFormat.write(path, empty);
    expectSameFrame(await parquetFormat.read(path), empty);
    expect(await collect(parquetFormat.stream(path))).toEqual([]);
  });

  it("reads only the requested columns, in the requested order", async () => {
    const path = pathOf("columns.parquet");
    await parquetFormat.write(path, conformanceFrame());
    const frame = await parquetFormat.read(path, { columns: ["color", "alcohol"] });
    expectSameFrame(frame, conformanceFrame().select(["color", "alcohol"]));
    const error = await captureError(() => parquetFormat.read(path, { columns: ["nope"] }));
    expect(error.code).toBe("argument_invalid");
    expect(error.message).toContain('columns: no column "nope" in the file');
  });

  it("reports schema issues with the file, the row number as line, and the column", async () => {
    const path = pathOf("schema.parquet");
    await parquetFormat.write(path, new Frame({ age: numericColumn([30, 41, 25, 52, -3, 44]) }));
    const ages = schema({ age: field.number({ min: 0 }) });
    const error = (await captureError(() =>
      parquetFormat.read(path, { schema: ages }),
    )) as SchemaError;
    expect(error.code).toBe("schema_invalid");
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]).toMatchObject({
      code: "too_small",
      path: [4, "age"],
      location: { file: path, line: 5, column: "age" },
    });
    const streamed = (await captureError(() =>
      collect(parquetFormat.stream(path, { schema: ages, batchSize: 4 })),
    )) as SchemaError;
    expect(streamed.issues[0]).toMatchObject({
      path: [4, "age"],
      location: { file: path, line: 5, column: "age" },
    });
  });

  it("reads other writers' layouts: dictionary doubles, INT32, FLOAT, bytes, nulls", async () => {
    const path = pathOf("foreign.parquet");
    await writeForeign(path, [
      { name: "d", data: [1.5, 1.5, null, 2.5, 1.5, null], type: "DOUBLE" },
      { name: "dd", data: new Float64Array([3, 3, 3, 4, 4, 3]), encoding: "RLE_DICTIONARY" },
      { name: "i32", data: new Int32Array([1, -2, 3, 4, 5, 6]) },
      { name: "f32", data: new Float32Array([0.5, 1, 2, 4, 8, 16]) },
      { name: "i64", data: [1n, null, 3n, 4n, 5n, 6n], type: "INT64" },
      { name: "b", data: [true, false, null, true, true, false], type: "BOOLEAN" },
      { name: "s", data: ["x", "y", null, "x", "é", "y"], type: "STRING" },
      {
        name: "raw",
        data: ["p", "q", "p", "p", "q", "p"].map((s) => new TextEncoder().encode(s)),
        type: "BYTE_ARRAY",
      },
    ]);
    const frame = await parquetFormat.read(path);
    expect(Object.fromEntries([...frame.columns()].map(([name, c]) => [name, c.kind]))).toEqual({
      d: "number",
      dd: "number",
      i32: "integer",
      f32: "number",
      i64: "integer",
      b: "boolean",
      s: "category",
      raw: "category",
    });
    expect(frame.toRows()[2]).toEqual({
      d: null,
      dd: 3,
      i32: 3,
      f32: 2,
      i64: 3,
      b: null,
      s: null,
      raw: "p",
    });
    expect(frame.toRows().map((row) => row.s)).toEqual(["x", "y", null, "x", "é", "y"]);
    expect([...frame.numeric("dd")]).toEqual([3, 3, 3, 4, 4, 3]);
    const batches = await collect(parquetFormat.stream(path, { batchSize: 5 }));
    expect(batches.map((batch) => batch.rowCount)).toEqual([5, 1]);
    expectSameFrame(Frame.concat(batches), frame);
  });

  it("names unsupported column types, which the columns option can leave out", async () => {
    const path = pathOf("timestamps.parquet");
    await writeForeign(path, [
      { name: "x", data: [1.5, 2.5], type: "DOUBLE" },
      { name: "when", data: [new Date(0), new Date(1000)], type: "TIMESTAMP" },
    ]);
    const error = await captureError(() => parquetFormat.read(path));
    expect(error.code).toBe("parquet_invalid");
    expect(error.message).toContain(`${path}: column "when" has unsupported Parquet type INT64`);
    expect(error.location).toMatchObject({ file: path, column: "when" });
    const frame = await parquetFormat.read(path, { columns: ["x"] });
    expect([...frame.numeric("x")]).toEqual([1.5, 2.5]);
  });

  it("says which compression it cannot read", async () => {
    const path = pathOf("gzip.parquet");
    await writeForeign(path, [{ name: "x", data: [1.5, 2.5], type: "DOUBLE" }], { codec: "GZIP" });
    const error = await captureError(() => parquetFormat.read(path));
    expect(error.code).toBe("parquet_invalid");
    expect(error.message).toBe(
      `${path}: column "x" is compressed with GZIP; supported compression: SNAPPY or none`,
    );
  });
});

describe("parquetFormat bad input", () => {
  async function validBytes(): Promise<Uint8Array> {
    const path = pathOf("valid.parquet");
    await parquetFormat.write(path, bigFrame(70_000));
    return new Uint8Array(await readFile(path));
  }

  it("throws parquet_invalid, never a TypeError, for a file cut short", async () => {
    const bytes = await validBytes();
    const path = pathOf("data.parquet");
    for (const cut of [1, 4, 8, 100, 5000, Math.floor(bytes.length / 2), bytes.length - 3]) {
      await writeFile(path, bytes.subarray(0, bytes.length - cut));
      for (const run of [
        () => parquetFormat.read(path),
        () => collect(parquetFormat.stream(path)),
      ]) {
        const error = await captureError(run);
        expect(error.code, `cut ${cut}`).toBe("parquet_invalid");
        expect(error.message).toMatch(
          new RegExp(`^${escapeRegExp(path)}: truncated or not a Parquet file \\(`),
        );
        expect(error.location?.file).toBe(path);
      }
    }
  });

  it("throws parquet_invalid for a valid footer over data that was cut", async () => {
    const bytes = await validBytes();
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const footerLength = view.getUint32(bytes.length - 8, true) + 8;
    const footer = bytes.subarray(bytes.length - footerLength);
    const path = pathOf("data.parquet");
    for (const keep of [4, 1000, Math.floor((bytes.length - footerLength) / 2)]) {
      const cut = new Uint8Array(keep + footerLength);
      cut.set(bytes.subarray(0, keep));
      cut.set(footer, keep);
      await writeFile(path, cut);
      const error = await captureError(() => parquetFormat.read(path));
      expect(error.code, `keep ${keep}`).toBe("parquet_invalid");
      expect(error.message).toContain(`${path}: truncated or not a Parquet file (column "x"`);
      const streamed = await captureError(() => collect(parquetFormat.stream(path)));
      expect(streamed.code).toBe("parquet_invalid");
    }
  });

  it("throws parquet_invalid for text and empty files", async () => {
    const path = pathOf("text.parquet");
    await writeFile(path, "x,y\n1,2\n");
    const error = await captureError(() => parquetFormat.read(path));
    expect(error.code).toBe("parquet_invalid");
    expect(error.message).toContain("truncated or not a Parquet file");
    await writeFile(path, "");
    expect((await captureError(() => parquetFormat.read(path))).code).toBe("parquet_invalid");
  });

  it("throws file_not_found and argument_invalid for a bad batchSize", async () => {
    const missing = await captureError(() => parquetFormat.read(pathOf("nope.parquet")));
    expect(missing.code).toBe("file_not_found");
    const path = pathOf("batch.parquet");
    await parquetFormat.write(path, conformanceFrame());
    const error = await captureError(() => collect(parquetFormat.stream(path, { batchSize: 0 })));
    expect(error.code).toBe("argument_invalid");
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

// Files written by independent writers (fixtures/make_fixtures.mjs): Rust's arrow-rs (through
// parquet-wasm) and DuckDB's own C++ writer. None shares code with our reader (hyparquet).
const writtenBy = ["arrow-rs.parquet", "duckdb.parquet"];
describe.each(writtenBy)("Parquet written by another writer: %s", (file) => {
  it("reads every column with the kinds pandas users expect", async () => {
    const frame = await parquetFormat.read(
      fileURLToPath(new URL(`./fixtures/${file}`, import.meta.url)),
    );
    expect(Object.fromEntries([...frame.columns()].map(([name, c]) => [name, c.kind]))).toEqual({
      x: "number",
      n: "integer",
      n_missing: "number",
      i32: "integer",
      flag: "boolean",
      color: "category",
      dict_color: "category",
    });
    expect(frame.toRows()).toEqual([
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
  });
});
