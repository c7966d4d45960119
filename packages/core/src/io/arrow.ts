import { type FileHandle, open, readFile } from "node:fs/promises";
import type { Schema as ArrowSchema, Table } from "apache-arrow";
import { MlopsError } from "../errors/error.js";
import { frameFromArrow, frameToArrow, loadArrow } from "../frame/arrow.js";
import type { Frame } from "../frame/frame.js";
import { checkBatchSize, checkColumns, conformRows, rebatchFrames } from "./batch.js";
import { AtomicFile, assertReadableFile, writeError, writeFileAtomic } from "./files.js";
import type { FrameFormat, FrameWriter, ReadOptions, StreamOptions } from "./types.js";

/** Rows per Frame yielded by `stream` when no `batchSize` is given. */

/** Rows per record batch in files we write: readers stream them one batch at a time. */
const WRITE_BATCH_ROWS = 65_536;

const FILE_MAGIC = "ARROW1";

/**
 * Arrow IPC files (`.arrow`, `.feather` — Feather v2 — and `.ipc`), file or stream format.
 * Columns map to kinds as `frameFromArrow` describes; reads share memory with the file's bytes
 * where they can. Files are written in the IPC file format, in record batches of 65,536 rows.
 * With a schema, issues carry `{ file, line, column }` where `line` is the 1-based row number.
 *
 * @example
 * await arrowFormat.write("scored.arrow", frame);
 * const back = await arrowFormat.read("scored.arrow", { schema: wine });
 */
export const arrowFormat: FrameFormat = {
  name: "arrow",
  extensions: [".arrow", ".feather", ".ipc"],
  read: readArrow,
  stream: streamArrow,
  write: writeArrow,
  openWriter: (path) => ArrowFrameWriter.open(path),
};

async function readArrow(path: string, options: ReadOptions = {}): Promise<Frame> {
  await assertReadableFile(path);
  // The library first: what loading it leaves behind can go before the file's bytes arrive.
  const arrow = loadArrow();
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw readError(path, error);
  }
  // Arrow views its buffers in place, which needs 8-byte alignment of the file's bytes.
  if (bytes.byteOffset % 8 !== 0) bytes = bytes.slice();
  const tail = bytes.subarray(Math.max(0, bytes.length - 6));
  checkIpcLayout(path, bytes.subarray(0, 8), tail, bytes.length);
  const table = decode(path, () => arrow.tableFromIPC(bytes));
  return conformRows(path, toFrame(path, table, options.columns), options, 0);
}

async function* streamArrow(path: string, options: StreamOptions = {}): AsyncGenerator<Frame> {
  const batchSize = checkBatchSize(options.batchSize);
  const size = await assertReadableFile(path);
  let handle: FileHandle;
  try {
    handle = await open(path, "r");
  } catch (error) {
    throw readError(path, error);
  }
  try {
    const head = new Uint8Array(8);
    const tail = new Uint8Array(Math.min(6, size));
    await handle.read(head, 0, Math.min(8, size), 0);
    await handle.read(tail, 0, tail.length, size - tail.length);
    checkIpcLayout(path, head.subarray(0, Math.min(8, size)), tail, size);
    // A FileHandle gives Arrow random access: it reads the footer, then one batch at a time.
    const reader = await decodeAsync(path, async () => {
      const opened = await loadArrow().RecordBatchReader.from(handle);
      return await opened.open();
    });
    const batches = (async function* () {
      const iterator = reader[Symbol.asyncIterator]();
      while (true) {
        const next = await decodeAsync(path, () => Promise.resolve(iterator.next()));
        if (next.done) return;
        yield toFrame(path, new (loadArrow().Table)([next.value]), options.columns);
      }
    })();
    let offset = 0;
    for await (const batch of rebatchFrames(batches, batchSize)) {
      yield conformRows(path, batch, options, offset);
      offset += batch.rowCount;
    }
  } finally {
    await handle.close().catch(() => {});
  }
}

async function writeArrow(path: string, frame: Frame): Promise<void> {
  const table = frameToArrow(frame);
  const batch = table.batches[0];
  await writeFileAtomic(path, async (handle) => {
    const writer = new (loadArrow().RecordBatchFileWriter)();
    // The writer queues views of the frame's own buffers; drain them to the file as they come.
    const drained = (async () => {
      for await (const chunk of writer) await handle.writeFile(chunk);
    })();
    try {
      if (frame.rowCount === 0) writer.write(batch);
      for (let start = 0; start < frame.rowCount; start += WRITE_BATCH_ROWS) {
        writer.write(batch.slice(start, start + WRITE_BATCH_ROWS));
      }
      writer.finish();
    } catch (error) {
      // Close the queue so the drain loop ends instead of waiting forever.
      writer.abort(error);
      await drained.catch(() => {});
      throw error;
    }
    await drained;
  });
}

/**
 * Streams record batches into an Arrow IPC file. Category columns are written as Utf8 (read
 * back as categories) rather than dictionaries: each batch has its own dictionary, and the IPC
 * file format cannot replace a dictionary between batches.
 */
class ArrowFrameWriter implements FrameWriter {
  readonly path: string;
  rowCount = 0;
  readonly #file: AtomicFile;
  readonly #writer = new (loadArrow().RecordBatchFileWriter)();
  readonly #drained: Promise<void>;
  #schema: ArrowSchema | undefined;
  #failure: unknown;

  private constructor(file: AtomicFile) {
    this.path = file.path;
    this.#file = file;
    const handle = file.handle;
    this.#drained = (async () => {
      for await (const chunk of this.#writer) await handle.writeFile(chunk);
    })();
    // A failed drain is reported by write/close; never as an unhandled rejection.
    this.#drained.catch((error) => {
      this.#failure = error;
    });
  }

  static async open(path: string): Promise<ArrowFrameWriter> {
    return new ArrowFrameWriter(await AtomicFile.create(path));
  }

  async write(frame: Frame): Promise<void> {
    if (this.#failure !== undefined) throw writeError(this.path, this.#failure);
    const table = frameToArrow(frame, { categories: "utf8" });
    if (this.#schema === undefined) this.#schema = table.schema;
    else if (!sameTypes(this.#schema, table.schema)) {
      throw new MlopsError(
        "file_write",
        `${this.path}: this batch's column types (${describeTypes(table.schema)}) differ from ` +
          `the first batch's (${describeTypes(this.#schema)}); an Arrow file has one schema`,
        { location: { file: this.path } },
      );
    }
    // Every batch carries the first batch's schema object, so the writer never sees a "new"
    // schema (which would make it start another file).
    const schema = this.#schema;
    for (const batch of table.batches)
      this.#writer.write(new (loadArrow().RecordBatch)(schema, batch.data));
    this.rowCount += frame.rowCount;
    // Let the queued chunks reach the file before the next batch is encoded.
    await new Promise((resolve) => setImmediate(resolve));
  }

  async close(): Promise<void> {
    this.#writer.finish();
    try {
      await this.#drained;
    } catch (error) {
      await this.#file.abort();
      throw writeError(this.path, error);
    }
    await this.#file.commit();
  }

  async abort(): Promise<void> {
    this.#writer.abort();
    await this.#drained.catch(() => {});
    await this.#file.abort();
  }
}

function sameTypes(a: ArrowSchema, b: ArrowSchema): boolean {
  if (a.fields.length !== b.fields.length) return false;
  return a.fields.every(
    (field, i) =>
      field.name === b.fields[i].name && String(field.type) === String(b.fields[i].type),
  );
}

function describeTypes(schema: ArrowSchema): string {
  return schema.fields.map((field) => `${field.name}: ${String(field.type)}`).join(", ");
}

// ---------------------------------------------------------------- helpers

function toFrame(path: string, table: Table, columns: readonly string[] | undefined): Frame {
  let selected = table;
  if (columns) {
    const names = table.schema.fields.map((field) => field.name);
    checkColumns(path, names, columns);
    selected = table.selectAt(columns.map((name) => names.indexOf(name)));
  }
  try {
    return frameFromArrow(selected);
  } catch (error) {
    if (MlopsError.isInstance(error) && error.code === "arrow_invalid") {
      throw new MlopsError("arrow_invalid", `${path}: ${error.message}`, {
        cause: error,
        location: { ...error.location, file: path },
      });
    }
    throw error;
  }
}

/**
 * Checks the framing Arrow's reader does not: it returns an empty table for an empty file, for
 * a file-format file cut before its footer, or for bytes that happen to look like end-of-stream.
 */
function checkIpcLayout(path: string, head: Uint8Array, tail: Uint8Array, size: number): void {
  if (head.length < 8) throw invalid(path, `${head.length} bytes is too short`);
  const text = (bytes: Uint8Array) => String.fromCharCode(...bytes);
  if (text(head.subarray(0, 4)) === "FEA1") {
    throw invalid(path, "a Feather v1 file; only Feather v2, which is Arrow IPC, is supported");
  }
  if (text(head.subarray(0, 6)) === FILE_MAGIC) {
    if (text(tail) !== FILE_MAGIC)
      throw invalid(path, "the file format's closing magic is missing");
    return;
  }
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const first = view.getInt32(0, true);
  // Stream format: a 0xFFFFFFFF continuation marker then the schema message's length (or, before
  // Arrow 0.15, the length alone). Anything else is not Arrow IPC.
  const length = first === -1 ? view.getInt32(4, true) : first;
  if (!(length > 0 && length <= size)) throw invalid(path, "no Arrow IPC file or stream header");
}

function invalid(path: string, reason: string, cause?: unknown): MlopsError {
  return new MlopsError(
    "arrow_invalid",
    `${path}: truncated or not an Arrow IPC file (${reason})`,
    { cause, location: { file: path } },
  );
}

function decode<T>(path: string, run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (MlopsError.isInstance(error)) throw error;
    throw invalid(path, error instanceof Error ? error.message : String(error), error);
  }
}

async function decodeAsync<T>(path: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (MlopsError.isInstance(error)) throw error;
    throw invalid(path, error instanceof Error ? error.message : String(error), error);
  }
}

function readError(path: string, error: unknown): MlopsError {
  const code = (error as NodeJS.ErrnoException).code;
  return new MlopsError("file_read", `${path}: cannot read (${code ?? String(error)})`, {
    cause: error,
    location: { file: path },
  });
}
