// CsvChunker + readCsvChunk must read a file exactly as readCsvFile does, wherever the chunks are
// cut: same rows, same lines, same rejected records; and each record's bounds are its bytes.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Frame } from "../frame/frame.js";
import { field } from "../schema/field.js";
import { schema } from "../schema/schema.js";
import { readCsvChunk, readCsvFile } from "./csv.js";
import { CsvChunker } from "./csv-chunks.js";
import type { InvalidRow } from "./types.js";

let directory: string;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), "mlops-csv-chunks-"));
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

let count = 0;
async function file(content: string): Promise<string> {
  const path = join(directory, `${count++}.csv`);
  await writeFile(path, content);
  return path;
}

const rowsSchema = schema({ a: field.number(), b: field.category(["x", "y", 'say "hi"']) });

/** Every chunk read with readCsvChunk: the rows, their lines and the records' text. */
async function byChunks(path: string, rows: number) {
  const chunker = await CsvChunker.open(path, { rows });
  const frames: Frame[] = [];
  const lines: number[] = [];
  const records: string[] = [];
  const invalid: [number, number][] = [];
  let before = 0;
  let chunks = 0;
  try {
    for (let chunk = await chunker.next(); chunk; chunk = await chunker.next()) {
      chunks++;
      let origin: { line(index: number): number; row(index: number): number } | undefined;
      const {
        frame,
        records: read,
        bounds,
      } = readCsvChunk(chunk.bytes, {
        ...chunker.records,
        line: chunk.line,
        schema: rowsSchema,
        keepUnknownColumns: true,
        onInvalidRow: (row: InvalidRow) => invalid.push([row.location.line, before + row.row]),
        onFrameOrigin: (where) => {
          origin = where;
        },
      });
      frames.push(frame);
      for (let index = 0; index < frame.rowCount; index++) {
        lines.push(origin!.line(index));
        const raw = origin!.row(index);
        records.push(
          Buffer.from(chunk.bytes.subarray(bounds[2 * raw], bounds[2 * raw + 1])).toString(),
        );
      }
      before += read;
    }
  } finally {
    await chunker.close();
  }
  return { frame: Frame.concat(frames), lines, records, invalid, chunks, rowsIn: before };
}

async function whole(path: string) {
  const invalid: [number, number][] = [];
  const lines: number[] = [];
  const frame = await readCsvFile(path, {
    schema: rowsSchema,
    keepUnknownColumns: true,
    onInvalidRow: (row) => invalid.push([row.location.line, row.row]),
    onFrameOrigin: (where) => {
      for (let index = 0; index < where.rowCount; index++) lines.push(where.line(index));
    },
  });
  return { frame, lines, invalid };
}

describe("CsvChunker and readCsvChunk", () => {
  const records = [
    "1,x,plain",
    '2.5,"y","quoted, with a comma"',
    '-3,x,"two\nlines"',
    '4,"say ""hi""","a ""quote"""',
    "",
    "5,y,after a blank line",
    "6,y,too,many",
    "7,z,not a category",
    '8,x,"three\r\nphysical\nlines"',
    '9,x,"ends"with text',
    "10,y,last",
  ];
  const content = `\uFEFFa,b,id\n${records.join("\n")}\n`;

  it("reads like readCsvFile wherever the chunks are cut (LF, CRLF, CR line ends)", async () => {
    for (const ending of ["\n", "\r\n", "\r"]) {
      const path = await file(content.replaceAll(/\n(?![^"]*"\s*(,|$))/g, ending));
      const expected = await whole(path);
      expect(expected.frame.rowCount).toBe(8);
      for (const rows of [1, 2, 3, 7, 1000]) {
        const got = await byChunks(path, rows);
        expect(got.frame.toRows(), `${JSON.stringify(ending)} rows ${rows}`).toEqual(
          expected.frame.toRows(),
        );
        expect(got.lines).toEqual(expected.lines);
        expect(got.invalid).toEqual(expected.invalid);
        expect(got.rowsIn).toBe(10);
        if (rows === 1) expect(got.chunks).toBeGreaterThan(3);
      }
    }
  });

  it("says where each record's bytes are: fields copied through stay byte for byte", async () => {
    const path = await file(content);
    const got = await byChunks(path, 2);
    expect(got.records).toEqual(
      records.filter((record, index) => record !== "" && index !== 6 && index !== 7),
    );
    expect(got.lines).toEqual([2, 3, 4, 6, 8, 11, 14, 15]);
    expect(got.invalid).toEqual([
      [9, 5],
      [10, 6],
    ]);
  });

  it("keeps a quote never closed to the end of the file in the last chunk, as the reader does", async () => {
    const path = await file('a,b,id\n1,x,ok\n2,"y,open\n3,x,ok\n4,y,ok');
    const expected = await whole(path);
    for (const rows of [1, 2, 100]) {
      const got = await byChunks(path, rows);
      expect(got.frame.toRows()).toEqual(expected.frame.toRows());
      expect(got.invalid).toEqual(expected.invalid);
      expect(got.invalid).toEqual([[3, 1]]);
    }
  });

  it("a header without records gives no chunk, and a record longer than a chunk one whole", async () => {
    const empty = await CsvChunker.open(await file("a,b,id\n\n"), { rows: 10 });
    const chunk = await empty.next();
    expect(
      chunk === undefined ||
        readCsvChunk(chunk.bytes, { ...empty.records, line: chunk.line }).records === 0,
    ).toBe(true);
    expect(empty.headerOnlyError().code).toBe("csv_header_only");
    await empty.close();
    const long = "z".repeat(5000);
    const path = await file(`a,b,id\n1,x,"${long}"\n2,y,${long}\n`);
    const got = await byChunks(path, 1);
    expect(got.frame.rowCount).toBe(2);
    expect(got.records[0]).toBe(`1,x,"${long}"`);
  });

  it("with slots, reads into shared buffers used in turn (grown when a chunk needs more)", async () => {
    let text = "a,b,id\n";
    for (let i = 0; i < 400; i++) text += `${i},x,${i >= 200 && i < 220 ? "z".repeat(3000) : i}\n`;
    const path = await file(text);
    const plain = await CsvChunker.open(path, { rows: 10 });
    const shared = await CsvChunker.open(path, { rows: 10, slots: 3 });
    const buffers: ArrayBufferLike[] = [];
    for (let chunk = await plain.next(); chunk; chunk = await plain.next()) {
      const other = (await shared.next())!;
      expect(other.bytes.buffer).toBeInstanceOf(SharedArrayBuffer);
      // Each chunk's bytes are read before the next one is asked for, as the slots require.
      expect(Buffer.from(other.bytes).equals(Buffer.from(chunk.bytes))).toBe(true);
      expect(other.line).toBe(chunk.line);
      buffers.push(other.bytes.buffer);
    }
    expect(await shared.next()).toBeUndefined();
    await plain.close();
    await shared.close();
    // Three buffers in turn; the long records made some grow (a new buffer in that slot).
    expect(buffers[3]).toBe(buffers[0]);
    expect(buffers[4]).toBe(buffers[1]);
    // A chunk takes one slot, even one read again for a record longer than the chunk: no
    // buffer comes back before three chunks (the chunks in between may still be in use).
    for (let i = 0; i + 2 < buffers.length; i++) {
      expect(buffers[i + 1], `chunk ${i + 1}`).not.toBe(buffers[i]);
      expect(buffers[i + 2], `chunk ${i + 2}`).not.toBe(buffers[i]);
    }
    expect(new Set(buffers).size).toBeGreaterThan(3);
    expect(new Set(buffers).size).toBeLessThan(buffers.length / 2);
  });

  it("with slots, a chunk read again for a record longer than it still takes one slot", async () => {
    // Quoted fields of many short lines: chunks sized by bytes per line are shorter than one
    // record, and each is read again, larger, before a record fits.
    let text = "a,b,id\n";
    for (let i = 0; i < 60; i++) text += `${i},x,"${"z\n".repeat(i % 3 === 0 ? 400 : 1)}"\n`;
    const path = await file(text);
    const plain = await CsvChunker.open(path, { rows: 4 });
    const shared = await CsvChunker.open(path, { rows: 4, slots: 3 });
    const buffers: ArrayBufferLike[] = [];
    let line = 2;
    for (let chunk = await plain.next(); chunk; chunk = await plain.next()) {
      const other = (await shared.next())!;
      expect(Buffer.from(other.bytes).equals(Buffer.from(chunk.bytes))).toBe(true);
      expect(other.line).toBe(chunk.line);
      // Every line break, those inside quoted fields too; the next chunk starts after them.
      expect(other.line).toBe(line);
      expect(other.lines).toBe(Buffer.from(other.bytes).toString().split("\n").length - 1);
      line += other.lines;
      buffers.push(other.bytes.buffer);
    }
    await plain.close();
    await shared.close();
    expect(line).toBe(text.split("\n").length);
    expect(buffers.length).toBeGreaterThan(6);
    for (let i = 0; i + 2 < buffers.length; i++) {
      expect(buffers[i + 1], `chunk ${i + 1}`).not.toBe(buffers[i]);
      expect(buffers[i + 2], `chunk ${i + 2}`).not.toBe(buffers[i]);
    }
  });

  it("with slotBytes, each slot leaves at least the room asked for after its read", async () => {
    let text = "a,b,id\n";
    for (let i = 0; i < 300; i++) text += `${i},x,${i >= 100 && i < 110 ? "z".repeat(2000) : i}\n`;
    const path = await file(text);
    const plain = await CsvChunker.open(path, { rows: 10 });
    const asked: number[] = [];
    const roomy = await CsvChunker.open(path, {
      rows: 10,
      slots: 2,
      slotBytes: (bytes) => {
        asked.push(bytes);
        return 3 * bytes + 100;
      },
    });
    let chunks = 0;
    for (let chunk = await plain.next(); chunk; chunk = await plain.next()) {
      chunks++;
      const other = (await roomy.next())!;
      // The same records; the slot holds them at its start, with room after.
      expect(Buffer.from(other.bytes).equals(Buffer.from(chunk.bytes))).toBe(true);
      expect(other.bytes.byteOffset).toBe(0);
      expect(other.bytes.buffer.byteLength).toBeGreaterThanOrEqual(3 * other.bytes.length + 100);
    }
    expect(await roomy.next()).toBeUndefined();
    await plain.close();
    await roomy.close();
    // Asked for every read (a long record takes more than one).
    expect(chunks).toBeGreaterThan(4);
    expect(asked.length).toBeGreaterThanOrEqual(chunks);
  });
});
