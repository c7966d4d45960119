// Parquet files cut into chunks of row groups (decoded elsewhere) and batches encoded elsewhere
// (appended by the writer): both must give what the file reader and writer give on their own.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parquetMetadata, parquetReadObjects } from "hyparquet";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MlopsError } from "../errors/error.js";
import { type Column, categoryColumn, Frame, numericColumn } from "../frame/frame.js";
import { field } from "../schema/field.js";
import { schema } from "../schema/schema.js";
import { expectSameFrame } from "../testing/formats.js";
import { encodeParquetBatch, type ParquetFrameWriter, parquetFormat } from "./parquet.js";
import { ParquetChunker, readParquetChunk } from "./parquet-chunks.js";
import type { InvalidRow } from "./types.js";

let directory = "";
const pathOf = (name: string) => join(directory, name);

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), "mlops-parquet-chunks-"));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

/** `n` rows of every kind, with missing values: ids, integers, numbers, booleans, categories. */
function mixedFrame(n: number, from = 0): Frame {
  const colors = ["red", null, "green", "blue", 'Grün, "dark"'];
  return new Frame([
    ["id", categoryColumn(Array.from({ length: n }, (_, i) => `h${from + i}`))],
    [
      "rooms",
      numericColumn(
        Array.from({ length: n }, (_, i) => ((from + i) % 7) - 1),
        "integer",
      ),
    ],
    [
      "area",
      numericColumn(
        Array.from({ length: n }, (_, i) =>
          (from + i) % 11 === 5 ? Number.NaN : (from + i) * 0.25 - 3,
        ),
      ),
    ],
    [
      "big",
      numericColumn(
        Array.from({ length: n }, (_, i) =>
          (from + i) % 13 === 0 ? Number.NaN : 2 ** 40 + from + i,
        ),
        "integer",
      ),
    ],
    [
      "ok",
      numericColumn(
        Array.from({ length: n }, (_, i) => ((from + i) % 3 === 0 ? Number.NaN : (from + i) % 2)),
        "boolean",
      ),
    ],
    [
      "color",
      categoryColumn(Array.from({ length: n }, (_, i) => colors[(from + i) % colors.length])),
    ],
  ]);
}

/** Writes `sizes.length` row groups of these sizes with the streaming writer. */
async function writeGroups(path: string, sizes: readonly number[]): Promise<Frame[]> {
  const writer = await parquetFormat.openWriter(path);
  const frames: Frame[] = [];
  let from = 0;
  for (const size of sizes) {
    const frame = mixedFrame(size, from);
    await writer.write(frame);
    frames.push(frame);
    from += size;
  }
  await writer.close();
  return frames;
}

function concat(frames: readonly Frame[]): Frame {
  const rows = frames.reduce((total, frame) => total + frame.rowCount, 0);
  const first = frames[0];
  return new Frame(
    first.names.map((name): [string, Column] => {
      const column = first.column(name);
      if (column.kind === "category") {
        const values = frames.flatMap((frame) => {
          const part = frame.column(name);
          return part.kind === "category"
            ? [...part.codes].map((code) => (code < 0 ? null : part.dictionary[code]))
            : [];
        });
        return [name, categoryColumn(values)];
      }
      const values = new Float64Array(rows);
      let at = 0;
      for (const frame of frames) {
        values.set(frame.numeric(name), at);
        at += frame.rowCount;
      }
      return [name, { kind: column.kind, values }];
    }),
    rows,
  );
}

describe("ParquetChunker and readParquetChunk", () => {
  it("cuts a file into whole row groups of about `rows` rows that decode to the file's rows", async () => {
    const path = pathOf("groups.parquet");
    await writeGroups(path, [7, 50, 1, 100, 3, 3, 3, 142]);
    const chunker = await ParquetChunker.open(path, { rows: 20 });
    expect(chunker.chunkable).toBe(true);
    expect(chunker.rowCount).toBe(309);
    const chunks = [];
    const frames: Frame[] = [];
    try {
      for (let chunk = await chunker.next(); chunk; chunk = await chunker.next()) {
        chunks.push({ row: chunk.row, rows: chunk.rowCount, groups: chunk.rowGroups.length });
        // Decoded from a copy of the bytes alone, as a worker thread would.
        const copy = { ...chunk, bytes: new Uint8Array(chunk.bytes) };
        frames.push(await readParquetChunk(chunker.file, structuredClone(copy)));
      }
    } finally {
      await chunker.close();
    }
    expect(chunks).toEqual([
      { row: 0, rows: 57, groups: 2 },
      { row: 57, rows: 101, groups: 2 },
      // Three small groups are not enough: the big one after them joins them.
      { row: 158, rows: 151, groups: 4 },
    ]);
    expectSameFrame(concat(frames), await parquetFormat.read(path));
  });

  it("stops a chunk before it would pass maxBytes, and is not chunkable when a group does", async () => {
    const path = pathOf("bytes.parquet");
    await writeGroups(path, [400, 400, 400]);
    const small = await ParquetChunker.open(path, { rows: 10_000, maxBytes: 1 });
    expect(small.chunkable).toBe(false);
    const sizes = [];
    for (let chunk = await small.next(); chunk; chunk = await small.next()) {
      sizes.push(chunk.rowCount);
    }
    await small.close();
    // One row group a chunk: a chunk always takes at least one.
    expect(sizes).toEqual([400, 400, 400]);
    const whole = await ParquetChunker.open(path, { rows: 10_000 });
    expect(whole.chunkable).toBe(true);
    expect((await whole.next())?.rowCount).toBe(1200);
    expect(await whole.next()).toBeUndefined();
    await whole.close();
  });

  it("checks the schema with the file's row numbers, as streaming the file does", async () => {
    const path = pathOf("rejects.parquet");
    await writeGroups(path, [30, 30, 30]);
    const rules = schema({
      rooms: field.integer({ min: 0 }),
      area: field.number(),
      color: field.category(["red", "green", "blue"]).nullable(),
    });
    const streamed: InvalidRow[] = [];
    const expected: Frame[] = [];
    for await (const frame of parquetFormat.stream(path, {
      schema: rules,
      keepUnknownColumns: true,
      batchSize: 30,
      onInvalidRow: (row) => streamed.push(row),
    })) {
      expected.push(frame);
    }
    const chunked: InvalidRow[] = [];
    const origins: number[][] = [];
    const frames: Frame[] = [];
    const chunker = await ParquetChunker.open(path, { rows: 30 });
    for (let chunk = await chunker.next(); chunk; chunk = await chunker.next()) {
      frames.push(
        await readParquetChunk(chunker.file, chunk, {
          schema: rules,
          keepUnknownColumns: true,
          onInvalidRow: (row) => chunked.push(row),
          onFrameOrigin: (origin) => origins.push([origin.row(0), origin.line(0)]),
        }),
      );
    }
    await chunker.close();
    // rooms -1 (too small), area missing, color "Grün": rows of every chunk, numbered in the file.
    expect(chunked.length).toBeGreaterThan(20);
    expect(chunked.some((row) => row.row >= 60)).toBe(true);
    expect(chunked).toEqual(streamed);
    expect(chunked[0]).toMatchObject({ location: { file: path, line: chunked[0].row + 1 } });
    expectSameFrame(concat(frames), concat(expected));
    expect(origins[1]).toEqual([30, 31]);
  });

  it("gives the columns (and schema errors) of a file with no row group read", async () => {
    const path = pathOf("probe.parquet");
    await writeGroups(path, [5]);
    const chunker = await ParquetChunker.open(path, { rows: 5 });
    const empty = { bytes: new Uint8Array(0), start: 0, rowGroups: [], row: 0, rowCount: 0 };
    const frame = await readParquetChunk(chunker.file, empty);
    expect(frame.names).toEqual(["id", "rooms", "area", "big", "ok", "color"]);
    expect(frame.rowCount).toBe(0);
    const missing = schema({ rooms: field.integer(), price: field.number() });
    await expect(readParquetChunk(chunker.file, empty, { schema: missing })).rejects.toThrow(
      /price/,
    );
    await chunker.close();
  });

  it("says a chunk's bytes do not hold a column chunk instead of decoding garbage", async () => {
    const path = pathOf("short.parquet");
    await writeGroups(path, [20]);
    const chunker = await ParquetChunker.open(path, { rows: 20 });
    const chunk = (await chunker.next())!;
    await chunker.close();
    const cut = { ...chunk, bytes: chunk.bytes.subarray(0, chunk.bytes.length - 10) };
    const error = await readParquetChunk(chunker.file, cut).catch((caught: unknown) => caught);
    expect(MlopsError.isInstance(error) && error.code).toBe("parquet_invalid");
    expect(String((error as Error).message)).toMatch(/short\.parquet: .*outside the row groups/);
  });

  it("throws parquet_invalid naming the file for a corrupt footer", async () => {
    const path = pathOf("corrupt.parquet");
    await writeGroups(path, [20]);
    const bytes = new Uint8Array(await readFile(path));
    const footerLength = new DataView(bytes.buffer).getUint32(bytes.length - 8, true);
    bytes.fill(0xff, bytes.length - 8 - footerLength, bytes.length - 8);
    await writeFile(path, bytes);
    const error = await ParquetChunker.open(path, { rows: 10 }).catch((caught: unknown) => caught);
    expect(MlopsError.isInstance(error) && error.code).toBe("parquet_invalid");
    expect(String((error as Error).message)).toContain(`${path}: truncated or not a Parquet file`);
  });
});

describe("encodeParquetBatch and writeBatch", () => {
  it("write the same bytes as writing the frames, batch by batch, multi-row-group ones too", async () => {
    // 70,000 rows make two row groups in one batch; nulls, strings, ints and booleans.
    const batches = [
      mixedFrame(3),
      mixedFrame(70_000, 3),
      mixedFrame(0, 70_003),
      mixedFrame(11, 70_003),
    ];
    const written = pathOf("written.parquet");
    const writer = await parquetFormat.openWriter(written);
    for (const frame of batches) await writer.write(frame);
    await writer.close();
    const appended = pathOf("appended.parquet");
    const target = (await parquetFormat.openWriter(appended)) as ParquetFrameWriter;
    for (const frame of batches) {
      // Encoded as a worker thread would, and cloned as posting it back does.
      await target.writeBatch(structuredClone(encodeParquetBatch(appended, frame)));
    }
    expect(target.rowCount).toBe(70_014);
    await target.close();
    const bytes = await readFile(appended);
    expect(bytes.equals(await readFile(written))).toBe(true);
    const metadata = parquetMetadata(new Uint8Array(bytes).buffer);
    expect(metadata.row_groups.map((group) => Number(group.num_rows))).toEqual([
      3, 65_536, 4464, 11,
    ]);
    expectSameFrame(await parquetFormat.read(appended), concat(batches));
    // hyparquet's row reader, which knows nothing of our kinds metadata, agrees.
    const rows = await parquetReadObjects({
      file: new Uint8Array(bytes).buffer,
      rowStart: 69_999,
      rowEnd: 70_004,
    });
    expect(rows[0]).toEqual({
      id: "h69999",
      rooms: (69_999n % 7n) - 1n,
      area: 69_999 * 0.25 - 3,
      big: 2n ** 40n + 69_999n,
      ok: null,
      color: 'Grün, "dark"',
    });
    expect(rows[4]).toMatchObject({ id: "h70003" });
  });

  it("encode doubles without missing values as hyparquet-writer does, byte for byte", async () => {
    // The fast path: DOUBLE columns with no missing value, next to others that are not.
    const awkward = [-0, 0, 5e-324, -1e308, 1e308, Number.POSITIVE_INFINITY, -2.5, 0.1 + 0.2];
    const doubles = (n: number, from: number) =>
      new Frame([
        ["x", numericColumn(Array.from({ length: n }, (_, i) => awkward[(from + i) % 8]))],
        ["y", numericColumn(Array.from({ length: n }, (_, i) => Math.sin(from + i) * 1e3))],
        ["zero", numericColumn(Array.from({ length: n }, (_, i) => ((from + i) % 2 ? -0 : 0)))],
        [
          "k",
          numericColumn(
            Array.from({ length: n }, (_, i) => from + i),
            "integer",
          ),
        ],
        ["m", numericColumn(Array.from({ length: n }, (_, i) => (i === 3 ? Number.NaN : i)))],
      ]);
    const sizes = [1, 7, 8, 9, 65_539, 2];
    const written = pathOf("doubles-written.parquet");
    const appended = pathOf("doubles-appended.parquet");
    const writer = await parquetFormat.openWriter(written);
    const target = (await parquetFormat.openWriter(appended)) as ParquetFrameWriter;
    let from = 0;
    for (const size of sizes) {
      const frame = doubles(size, from);
      await writer.write(frame);
      await target.writeBatch(structuredClone(encodeParquetBatch(appended, frame)));
      from += size;
    }
    await writer.close();
    await target.close();
    const bytes = await readFile(appended);
    expect(bytes.equals(await readFile(written))).toBe(true);
    const read = await parquetFormat.read(appended);
    expect(read.rowCount).toBe(from);
    expect(Object.is(read.numeric("zero")[1], -0)).toBe(true);
    expect([...read.numeric("x").subarray(0, 8)]).toEqual(awkward);
    const metadata = parquetMetadata(new Uint8Array(bytes).buffer);
    expect(metadata.row_groups[4].columns[0].meta_data?.statistics).toMatchObject({
      min_value: -1e308,
      max_value: Number.POSITIVE_INFINITY,
      null_count: 0n,
    });
  });

  it("refuses a batch whose columns differ from the first one's", async () => {
    const path = pathOf("mismatch.parquet");
    const writer = (await parquetFormat.openWriter(path)) as ParquetFrameWriter;
    await writer.writeBatch(encodeParquetBatch(path, mixedFrame(4)));
    const other = new Frame([["id", numericColumn([1, 2])]]);
    await expect(writer.writeBatch(encodeParquetBatch(path, other))).rejects.toThrow(
      /differ from the first batch's/,
    );
    await writer.abort();
  });
});
