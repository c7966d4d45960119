import { createReadStream } from "node:fs";
import { TextDecoder } from "node:util";
import { MlopsError } from "../errors/error.js";
import { type Column, Frame } from "../frame/frame.js";
import { describeReceived } from "../schema/issues.js";
import { applySchema, checkBatchSize, checkColumns, type MalformedRecord } from "./batch.js";
import { assertReadableFile } from "./files.js";
import type {
  EncodeOptions,
  FrameFormat,
  FrameWriter,
  ReadOptions,
  StreamOptions,
} from "./types.js";
import { ByteBuffer, MAX_NUMBER_CHARS, TextFrameWriter } from "./writer.js";

/** Bytes read from the file at a time; lines are cut out of these chunks. */
const READ_CHUNK_BYTES = 1 << 20;

/** Characters of output gathered before each write to the file. */

/**
 * JSON Lines (`.jsonl`, `.ndjson`): one JSON object per line; blank lines are skipped, CRLF line
 * ends and a UTF-8 byte order mark are accepted. The file is read in chunks of lines, so
 * `stream` holds one batch at a time.
 *
 * Without a schema, a column's kind comes from its JSON values: numbers → number, booleans →
 * boolean, strings → category, null (or an absent key) → missing; a column mixing strings with
 * other values (or numbers with booleans) becomes a category of their text. Nested objects and
 * arrays are rejected. When streaming, kinds (and columns) are found per batch: pass a schema
 * for batches of one shape. With a schema, issues carry `{ file, line, column }` with the line
 * of the file the row came from.
 *
 * Writing puts one object per row, keys in column order, `null` for missing values.
 *
 * @example
 * await jsonlFormat.write("rows.jsonl", frame);
 * const frame = await jsonlFormat.read("rows.jsonl", { schema: wine });
 */
export const jsonlFormat: FrameFormat = {
  name: "jsonl",
  extensions: [".jsonl", ".ndjson"],
  read: readJsonl,
  stream: streamJsonl,
  write: writeJsonl,
  openWriter: (path) => openJsonlWriter(path),
  encode: encodeJsonl,
};

// ---------------------------------------------------------------- reading

interface Batch {
  readonly frame: Frame;
  /** The file line (1-based) each row came from. */
  readonly lines: readonly number[];
  /** Every column name seen in the batch, requested or not. */
  readonly seen: readonly string[];
  /** Lenient reads: lines that are not a JSON object of plain values (rows of missing values). */
  readonly malformed: readonly MalformedRecord[];
}

async function readJsonl(path: string, options: ReadOptions = {}): Promise<Frame> {
  let last: Batch | undefined;
  const lenient = options.onInvalidRow !== undefined;
  for await (const batch of parseBatches(
    path,
    Number.POSITIVE_INFINITY,
    options.columns,
    lenient,
  )) {
    last = batch;
  }
  checkColumns(path, last?.seen ?? [], options.columns);
  return conform(
    path,
    last ?? { frame: new Frame({}), lines: [], seen: [], malformed: [] },
    options,
    0,
  );
}

async function* streamJsonl(path: string, options: StreamOptions = {}): AsyncGenerator<Frame> {
  const batchSize = checkBatchSize(options.batchSize);
  let offset = 0;
  const lenient = options.onInvalidRow !== undefined;
  for await (const batch of parseBatches(path, batchSize, options.columns, lenient)) {
    yield conform(path, batch, options, offset);
    offset += batch.frame.rowCount;
  }
}

function conform(path: string, batch: Batch, options: ReadOptions, rowOffset: number): Frame {
  const lines = batch.lines;
  return applySchema(batch.frame, options, {
    path,
    rowOffset,
    textMissing: false,
    lineOf: (row) => lines[row],
    malformed: batch.malformed,
  });
}

/**
 * Parses the file into batches of `batchSize` rows, reading it in chunks of lines. `lenient`:
 * a line that is not a JSON object of plain values becomes a row of missing values listed in
 * the batch's `malformed` instead of an error.
 */
async function* parseBatches(
  path: string,
  batchSize: number,
  columns: readonly string[] | undefined,
  lenient = false,
): AsyncGenerator<Batch> {
  await assertReadableFile(path);
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const stream = createReadStream(path, { highWaterMark: READ_CHUNK_BYTES });
  let builder = new BatchBuilder(path, columns, lenient);
  let pending = "";
  let lineNumber = 0;
  try {
    for await (const chunk of stream) {
      const text = pending + decode(path, decoder, chunk as Buffer, lineNumber, true);
      let start = 0;
      let newline = text.indexOf("\n", start);
      while (newline !== -1) {
        lineNumber++;
        builder.addLine(text.slice(start, newline), lineNumber);
        if (builder.rowCount === batchSize) {
          yield builder.finish();
          builder = new BatchBuilder(path, columns, lenient);
        }
        start = newline + 1;
        newline = text.indexOf("\n", start);
      }
      pending = text.slice(start);
    }
    const rest = pending + decode(path, decoder, undefined, lineNumber, false);
    if (rest.length > 0) builder.addLine(rest, lineNumber + 1);
    if (builder.rowCount > 0) yield builder.finish();
  } catch (error) {
    if (MlopsError.isInstance(error)) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new MlopsError("file_read", `${path}: cannot read (${code ?? String(error)})`, {
      cause: error,
      location: { file: path },
    });
  } finally {
    stream.destroy();
  }
}

function decode(
  path: string,
  decoder: TextDecoder,
  chunk: Buffer | undefined,
  lineNumber: number,
  more: boolean,
): string {
  try {
    return decoder.decode(chunk, { stream: more });
  } catch (error) {
    // The decoder works on whole chunks, so the line is known only to be at or after this one.
    throw new MlopsError(
      "jsonl_invalid",
      `${path}: expected UTF-8 text, found bytes that are not UTF-8 ` +
        `at or after line ${lineNumber + 1}`,
      { cause: error, location: { file: path } },
    );
  }
}

type Cell = number | string | boolean | null;

/** Collects one column's JSON values and which JSON types it has seen. */
class ColumnBuilder {
  readonly values: Cell[] = [];
  numbers = 0;
  strings = 0;
  booleans = 0;

  set(row: number, value: Cell): void {
    const values = this.values;
    // Rows that lacked the key are missing; keep the array packed by filling them as we go.
    while (values.length < row) values.push(null);
    values.push(value);
    if (typeof value === "number") this.numbers++;
    else if (typeof value === "string") this.strings++;
    else if (typeof value === "boolean") this.booleans++;
  }

  finish(rowCount: number): Column {
    const values = this.values;
    while (values.length < rowCount) values.push(null);
    if (this.strings > 0 || (this.numbers > 0 && this.booleans > 0)) {
      const codes = new Int32Array(rowCount);
      const dictionary: string[] = [];
      const lookup = new Map<string, number>();
      for (let i = 0; i < rowCount; i++) {
        const value = values[i];
        if (value === null) {
          codes[i] = -1;
          continue;
        }
        const text = typeof value === "string" ? value : String(value);
        let code = lookup.get(text);
        if (code === undefined) {
          code = dictionary.length;
          dictionary.push(text);
          lookup.set(text, code);
        }
        codes[i] = code;
      }
      return { kind: "category", codes, dictionary };
    }
    const out = new Float64Array(rowCount);
    for (let i = 0; i < rowCount; i++) {
      const value = values[i];
      out[i] = value === null ? Number.NaN : value === true ? 1 : value === false ? 0 : +value;
    }
    return { kind: this.booleans > 0 ? "boolean" : "number", values: out };
  }
}

/** Turns lines into rows, and rows into columns. */
class BatchBuilder {
  readonly #path: string;
  readonly #wanted: ReadonlySet<string> | undefined;
  readonly #requested: readonly string[] | undefined;
  readonly #columns = new Map<string, ColumnBuilder>();
  readonly #seen = new Set<string>();
  readonly #lines: number[] = [];
  readonly #lenient: boolean;
  readonly #malformed: MalformedRecord[] = [];
  rowCount = 0;

  constructor(path: string, columns: readonly string[] | undefined, lenient: boolean) {
    this.#path = path;
    this.#lenient = lenient;
    this.#requested = columns;
    this.#wanted = columns ? new Set(columns) : undefined;
  }

  addLine(raw: string, line: number): void {
    let text = raw.charCodeAt(raw.length - 1) === 13 ? raw.slice(0, -1) : raw;
    if (line === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    if (isBlank(text)) return;
    let row: unknown;
    try {
      row = JSON.parse(text);
    } catch (error) {
      const snippet = text.length > 40 ? `${text.slice(0, 37)}...` : text;
      const message = (error as Error).message;
      const problem = `expected a JSON object, got invalid JSON ${JSON.stringify(snippet)} (${message})`;
      if (this.#lenient) {
        this.#keepMalformed(text, line, problem, "invalid JSON");
        return;
      }
      throw this.#invalid(line, problem, error);
    }
    if (typeof row !== "object" || row === null || Array.isArray(row)) {
      const received = describeReceived(row);
      const problem = `expected a JSON object, got ${received}`;
      if (this.#lenient) {
        this.#keepMalformed(text, line, problem, received);
        return;
      }
      throw this.#invalid(line, problem);
    }
    const index = this.rowCount;
    const record = row as Record<string, unknown>;
    // Every value is checked before any is kept, so a malformed line leaves no cell behind.
    for (const key in record) {
      const value = record[key];
      if (value !== null && typeof value === "object") {
        const received = Array.isArray(value) ? "an array" : "an object";
        const problem = `field ${JSON.stringify(key)}: expected a number, string, boolean or null, got ${received}`;
        if (this.#lenient) {
          this.#keepMalformed(text, line, problem, received);
          return;
        }
        throw this.#invalid(line, problem, undefined, key);
      }
    }
    for (const key in record) {
      const value = record[key];
      this.#seen.add(key);
      if (this.#wanted && !this.#wanted.has(key)) continue;
      let column = this.#columns.get(key);
      if (!column) {
        column = new ColumnBuilder();
        this.#columns.set(key, column);
      }
      column.set(index, value as Cell);
    }
    this.#lines.push(line);
    this.rowCount++;
  }

  finish(): Batch {
    const n = this.rowCount;
    const names = this.#requested ?? [...this.#columns.keys()];
    const entries: [string, Column][] = names.map((name) => [
      name,
      (this.#columns.get(name) ?? new ColumnBuilder()).finish(n),
    ]);
    return {
      frame: new Frame(entries, n),
      lines: this.#lines,
      seen: [...this.#seen],
      malformed: this.#malformed,
    };
  }

  /** Lenient reads: the line becomes a row of missing values, listed as malformed. */
  #keepMalformed(text: string, line: number, message: string, received: string): void {
    this.#malformed.push({
      row: this.rowCount,
      text,
      message,
      expected: "a JSON object of numbers, strings, booleans and nulls",
      received,
    });
    this.#lines.push(line);
    this.rowCount++;
  }

  #invalid(line: number, message: string, cause?: unknown, column?: string): MlopsError {
    return new MlopsError("jsonl_invalid", `${this.#path}:${line}: ${message}`, {
      cause,
      location: { file: this.#path, line, column },
    });
  }
}

function isBlank(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code !== 32 && code !== 9 && code !== 13 && code !== 0xfeff) return false;
  }
  return true;
}

// ---------------------------------------------------------------- writing

/** `writeJsonl` encodes and writes this many rows at a time. */
const WRITE_CHUNK_ROWS = 65_536;

async function writeJsonl(path: string, frame: Frame): Promise<void> {
  const writer = await openJsonlWriter(path);
  try {
    for (let start = 0; start < frame.rowCount; start += WRITE_CHUNK_ROWS) {
      await writer.write(frame.slice(start, start + WRITE_CHUNK_ROWS));
    }
    await writer.close();
  } catch (error) {
    await writer.abort();
    throw error;
  }
}

function openJsonlWriter(path: string): Promise<FrameWriter> {
  return TextFrameWriter.open(path, encodeJsonl, {});
}

/**
 * The JSON Lines bytes of a batch: one object per row, keys in column order, missing values as
 * null. Pure, so batches can be encoded on worker threads.
 */
export function encodeJsonl(frame: Frame, options: EncodeOptions): Uint8Array {
  const path = options.path ?? "frame";
  const names = frame.names;
  const keys = names.map((name, c) =>
    Buffer.from(`${c === 0 ? "{" : ","}${JSON.stringify(name)}:`),
  );
  const columns = names.map((name) => frame.column(name));
  // Category values are quoted once per distinct value, not once per row.
  const quoted = columns.map((column) =>
    column.kind === "category"
      ? column.dictionary.map((value) => Buffer.from(JSON.stringify(value), "utf8"))
      : [],
  );
  let width = 2;
  for (let c = 0; c < columns.length; c++) width += keys[c].length + MAX_NUMBER_CHARS;
  // Sized from the first rows (see encodeCsv).
  const sample = Math.min(frame.rowCount, 64);
  const out = new ByteBuffer(sample * width, width);
  const open = Buffer.from("{");
  for (let row = 0; row < frame.rowCount; row++) {
    if (row === sample)
      out.reserve(Math.ceil((out.length / sample) * (frame.rowCount - row) * 1.1) + width);
    out.reserve(width);
    if (names.length === 0) out.append(open);
    for (let c = 0; c < columns.length; c++) {
      const column = columns[c];
      out.append(keys[c]);
      if (column.kind === "category") {
        const code = column.codes[row];
        if (code < 0) out.ascii("null");
        else out.append(quoted[c][code]);
      } else {
        out.ascii(numberCell(path, names[c], row, column.kind, column.values[row]));
      }
    }
    out.byte(125);
    out.byte(10);
  }
  return out.result();
}

function numberCell(path: string, name: string, row: number, kind: string, value: number): string {
  if (Number.isNaN(value)) return "null";
  if (kind === "boolean") return value !== 0 ? "true" : "false";
  if (value === Number.POSITIVE_INFINITY || value === Number.NEGATIVE_INFINITY) {
    throw new MlopsError(
      "data_invalid",
      `${path}: column "${name}", row ${row}: ${value} has no JSON form (JSON numbers are finite)`,
      { location: { file: path, column: name } },
    );
  }
  // JSON keeps the sign of zero ("-0" parses back to -0); String() would drop it.
  return Object.is(value, -0) ? "-0" : String(value);
}
