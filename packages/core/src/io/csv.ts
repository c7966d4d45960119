import { extname } from "node:path";
import { MlopsError } from "../errors/error.js";
import { type Column, Frame } from "../frame/frame.js";
import type { Field } from "../schema/field.js";
import { Schema } from "../schema/schema.js";
import { applySchema, checkBatchSize } from "./batch.js";
import { type CsvBatch, CsvReader, MODE_NUMERIC, MODE_SKIP, MODE_TEXT } from "./csv-reader.js";
import type {
  EncodeOptions,
  FrameFormat,
  FrameWriter,
  ReadOptions,
  StreamOptions,
  WriteOptions,
} from "./types.js";
import { ByteBuffer, MAX_NUMBER_CHARS, NumberText, TextFrameWriter } from "./writer.js";

/** 1 MiB: large enough that per-read overhead vanishes, small enough to stay in cache. */
const DEFAULT_CHUNK_SIZE = 1 << 20;
/** `writeCsvFile` encodes and writes this many rows at a time. */
const WRITE_CHUNK_ROWS = 65_536;

/** CSV read options, plus the size of each read (exposed for chunk-boundary tests). */
export interface CsvReadOptions extends ReadOptions {
  /** Bytes per read from the file (default 1 MiB). Tiny values exercise chunk boundaries. */
  chunkSize?: number;
}

export interface CsvStreamOptions extends StreamOptions {
  /** Bytes per read from the file (default 1 MiB). */
  chunkSize?: number;
}

/**
 * Reads a CSV (or TSV) file into a Frame, a chunk at a time: memory holds one buffer and the
 * growing columns, never the whole file. Without a schema a column is numeric while every value
 * is a number (or missing), else a category column; with `schema` the frame is conformed to it
 * and problems throw a `SchemaError` whose issues name the file, line and column.
 *
 * @example
 * const frame = await readCsvFile("wine.csv", { schema: wine });
 * const small = await readCsvFile("wine.csv", { columns: ["alcohol", "quality"] });
 */
export async function readCsvFile(path: string, options: CsvReadOptions = {}): Promise<Frame> {
  const reader = await CsvReader.open(path, readerSettings(path, options));
  try {
    const plan = planColumns(reader, options);
    reader.configure(plan.modes, plan.order, options.onInvalidRow !== undefined);
    const batch = await reader.readBatch(Number.MAX_SAFE_INTEGER);
    if (batch.rowCount === 0) throw headerOnly(reader);
    return toFrame(path, batch, plan.schema, 0, options);
  } finally {
    await reader.close();
  }
}

/**
 * Streams a CSV file as Frames of `batchSize` rows (the last one smaller), each conformed to
 * `schema` when given, with issue paths using the row index in the whole file. Breaking out of
 * the loop closes the file. Without a schema, kinds are inferred batch by batch (a column that
 * turned into a category column stays one for the batches after).
 *
 * @example
 * for await (const batch of streamCsvFile("big.csv", { batchSize: 100_000 })) {
 *   total += batch.rowCount;
 * }
 */
export async function* streamCsvFile(
  path: string,
  options: CsvStreamOptions = {},
): AsyncGenerator<Frame, void, undefined> {
  const batchSize = checkBatchSize(options.batchSize);
  const reader = await CsvReader.open(path, readerSettings(path, options));
  try {
    const plan = planColumns(reader, options);
    reader.configure(plan.modes, plan.order, options.onInvalidRow !== undefined);
    let rowOffset = 0;
    while (true) {
      const batch = await reader.readBatch(batchSize);
      if (batch.rowCount === 0) {
        if (rowOffset === 0) throw headerOnly(reader);
        return;
      }
      yield toFrame(path, batch, plan.schema, rowOffset, options);
      rowOffset += batch.rowCount;
    }
  } finally {
    await reader.close();
  }
}

/**
 * CSV held in memory (a request body), read by the same parser and rules as `readCsvFile` —
 * RFC 4180 quoting, LF/CRLF/CR line ends, a leading BOM, blank lines skipped, the first record
 * the header — with every column kept as text (a category column of the raw strings; missing
 * tokens become missing), for a schema's `conformFrame` to parse as it would a file's. Reads at
 * most `maxRows` rows; `truncated` says that more followed. A header without rows is a frame of
 * no rows. Errors are the file reader's (`csv_empty`, `csv_ragged_row`,
 * `csv_unterminated_quote`, `csv_duplicate_column`, `data_invalid` for an empty header name),
 * with `name` where a file's path would be.
 *
 * @example
 * const { frame } = readCsvText(body, { name: "CSV body", maxRows: 1000 });
 */
export function readCsvText(
  bytes: Uint8Array,
  options: { name: string; maxRows: number; delimiter?: string },
): { frame: Frame; truncated: boolean } {
  const delimiter = resolveDelimiter("", options.delimiter).charCodeAt(0);
  const reader = CsvReader.fromBytes(options.name, bytes, delimiter);
  const modes = reader.header.map(() => MODE_TEXT as number);
  reader.configure(
    modes,
    modes.map((_, index) => index),
  );
  const batch = reader.readAllSync(options.maxRows + 1);
  const truncated = batch.rowCount > options.maxRows;
  const frame = new Frame(batch.columns, batch.rowCount);
  return { frame: truncated ? frame.slice(0, options.maxRows) : frame, truncated };
}

/** What `readCsvChunk` needs besides the bytes: the file's header, delimiter and where they are. */
export interface CsvChunkOptions extends Omit<ReadOptions, "delimiter" | "columns"> {
  /** The file, for messages and issue locations. */
  path: string;
  /** The file's header (read once, by `CsvChunker.open`). */
  header: readonly string[];
  /** The delimiter as a byte (`CsvChunker.delimiterCode`). */
  delimiterCode: number;
  /** The file line of the chunk's first byte (`CsvChunk.line`). */
  line: number;
}

/**
 * Reads one chunk of a CSV file's data records — bytes cut at record boundaries by
 * `CsvChunker`, so chunks can be parsed on other threads — by the same parser and rules as
 * `readCsvFile` (`schema`, `onInvalidRow`, `keepUnknownColumns`, `onFrameOrigin` as there).
 * Lines are the file's; rows are numbered from 0 within the chunk (in issue paths,
 * `InvalidRow.row` and the origin): the caller adds the rows of the chunks before. Returns the
 * frame, the records read (unreadable ones included) and each record's `[start, end)` in
 * `bytes` (`bounds`, by record), to copy fields through unchanged. The byte after `bytes` in
 * its buffer, when there is one (`CsvChunk`'s spare byte), is overwritten: the bytes are read
 * in place. Internal (batch scoring).
 *
 * @example
 * const { frame } = readCsvChunk(chunk.bytes, { ...chunker.records, line: chunk.line, schema });
 */
export function readCsvChunk(
  bytes: Uint8Array,
  options: CsvChunkOptions,
): { frame: Frame; records: number; bounds: Int32Array } {
  const reader = CsvReader.fromBytes(options.path, bytes, options.delimiterCode, {
    header: options.header,
    line: options.line,
  });
  const plan = planColumns(reader, options);
  reader.configure(plan.modes, plan.order, options.onInvalidRow !== undefined, true);
  const batch = reader.readAllSync(Number.MAX_SAFE_INTEGER);
  const frame = toFrame(options.path, batch, plan.schema, 0, options);
  return { frame, records: batch.rowCount, bounds: batch.bounds ?? new Int32Array(0) };
}

/**
 * Writes a Frame as CSV: a header, then one line per row. Numbers are written as `String(n)`
 * (the shortest text that reads back to the same double), missing values as empty cells,
 * booleans as true/false; strings are quoted where they contain the delimiter, a quote, a line
 * break, or leading/trailing spaces. The file is replaced atomically.
 *
 * @example
 * await writeCsvFile("scored.csv", frame);
 * await writeCsvFile("scored.tsv", frame); // tab-delimited
 */
export async function writeCsvFile(
  path: string,
  frame: Frame,
  options: WriteOptions = {},
): Promise<void> {
  const writer = await openCsvWriter(path, options);
  try {
    for (let start = 0; start < frame.rowCount || start === 0; start += WRITE_CHUNK_ROWS) {
      await writer.write(frame.slice(start, start + WRITE_CHUNK_ROWS));
    }
    await writer.close();
  } catch (error) {
    await writer.abort();
    throw error;
  }
}

/**
 * Opens a streaming CSV writer: `write(frame)` appends a batch (the first with the header line)
 * to a temporary file, `close()` renames it onto `path`.
 *
 * @example
 * const writer = await openCsvWriter("scored.csv");
 * for await (const batch of streamFrames("big.csv")) await writer.write(batch);
 * await writer.close();
 */
export function openCsvWriter(path: string, options: WriteOptions = {}): Promise<FrameWriter> {
  resolveDelimiter(path, options.delimiter);
  return TextFrameWriter.open(path, encodeCsv, options);
}

/**
 * The CSV bytes of a batch, as the writer appends them: the header line first when `first`,
 * then one line per row (see `writeCsvFile` for how cells are written). Pure, so batches can be
 * encoded on worker threads.
 *
 * @example
 * const bytes = encodeCsv(frame, { first: true });
 */
export function encodeCsv(frame: Frame, options: EncodeOptions): Uint8Array {
  const delimiter = resolveDelimiter(options.path ?? "", options.delimiter);
  const delimiterByte = delimiter.charCodeAt(0);
  const names = frame.names;
  const columnCount = names.length;
  const rowCount = frame.rowCount;
  const cells = names.map((name) => cellEncoder(frame.column(name), delimiter));
  // Room reserved per row: exact bounds for numbers, a guess for strings (which check for room).
  let width = 1;
  for (const cell of cells) width += Math.min(cell.width, 64) + 1;
  const header = options.first
    ? Buffer.from(`${names.map((name) => quote(name, delimiter)).join(delimiter)}\n`, "utf8")
    : undefined;
  // Sized from the first rows: the worst case (25 bytes a number) would hold about twice the
  // bytes needed while batches wait to be written, and doubling from small leaves garbage.
  const sample = Math.min(rowCount, 64);
  const out = new ByteBuffer(sample * width + (header?.length ?? 0), width);
  if (header) out.append(header);
  // A single-column row whose value is missing would be a blank line, which readers skip.
  const loneMissing = columnCount === 1;
  for (let row = 0; row < rowCount; row++) {
    if (row === sample && row < rowCount) {
      const perRow = (out.length - (header?.length ?? 0)) / sample;
      out.reserve(Math.ceil(perRow * (rowCount - row) * 1.1) + width);
    }
    out.reserve(width);
    for (let column = 0; column < columnCount; column++) {
      if (column > 0) out.byte(delimiterByte);
      if (!cells[column].write(out, row) && loneMissing) {
        out.byte(34);
        out.byte(34);
      }
    }
    out.byte(10);
  }
  return out.result();
}

/**
 * CSV and TSV: an RFC 4180 reader working on bytes, in chunks (quotes, `""` escapes, embedded
 * line breaks, CRLF or LF, a UTF-8 BOM), and a writer. `.tsv` files default to tab-delimited.
 *
 * @example
 * const frame = await csvFormat.read("wine.csv", { schema: wine });
 * await csvFormat.write("copy.tsv", frame);
 */
export const csvFormat: FrameFormat = {
  name: "csv",
  extensions: [".csv", ".tsv", ".txt"],
  read: (path, options) => readCsvFile(path, options),
  stream: (path, options) => streamCsvFile(path, options),
  write: (path, frame, options) => writeCsvFile(path, frame, options),
  openWriter: (path, options) => openCsvWriter(path, options),
  encode: encodeCsv,
};

// ---------------------------------------------------------------------- helpers

/**
 * The delimiter a CSV file uses: `delimiter` when given (checked: one ASCII character, not a
 * quote or line break), else a tab for `.tsv` and a comma otherwise. Internal.
 *
 * @example
 * csvDelimiter("scores.tsv", undefined); // "\t"
 */
export function csvDelimiter(path: string, delimiter: string | undefined): string {
  return resolveDelimiter(path, delimiter);
}

function resolveDelimiter(path: string, delimiter: string | undefined): string {
  if (delimiter === undefined) return extname(path).toLowerCase() === ".tsv" ? "\t" : ",";
  const code = delimiter.length === 1 ? delimiter.charCodeAt(0) : -1;
  if (code < 0 || code > 127 || delimiter === '"' || delimiter === "\r" || delimiter === "\n") {
    throw new MlopsError(
      "argument_invalid",
      `delimiter: expected one ASCII character other than a quote or a line break, got ${JSON.stringify(delimiter)}`,
    );
  }
  return delimiter;
}

function readerSettings(path: string, options: CsvReadOptions) {
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  if (!Number.isInteger(chunkSize) || chunkSize < 1) {
    throw new MlopsError(
      "argument_invalid",
      `chunkSize: expected a positive integer, got ${String(chunkSize)}`,
    );
  }
  return { delimiter: resolveDelimiter(path, options.delimiter).charCodeAt(0), chunkSize };
}

interface ColumnPlan {
  /** Storage mode per header column. */
  modes: number[];
  /** Header indices of the materialised columns, in output order. */
  order: number[];
  schema: Schema | undefined;
}

/**
 * Decides which columns are materialised and how: `columns` picks and orders them; category
 * fields of the schema are read as raw strings; columns a stripping schema would drop are
 * skipped. With both `columns` and `schema`, only the picked fields are checked.
 */
function planColumns(reader: CsvReader, options: ReadOptions): ColumnPlan {
  const header = reader.header;
  const position = new Map(header.map((name, index) => [name, index]));
  let picked: number[];
  if (options.columns) {
    picked = [];
    const seen = new Set<string>();
    for (const name of options.columns) {
      const index = position.get(name);
      if (index === undefined) {
        throw new MlopsError(
          "argument_invalid",
          `${reader.path}:${reader.headerLine}: no column "${name}" in the header; ` +
            `the header has: ${header.join(", ")}`,
          { location: { file: reader.path, line: reader.headerLine, column: name } },
        );
      }
      if (seen.has(name)) {
        throw new MlopsError("argument_invalid", `columns: "${name}" is listed twice`);
      }
      seen.add(name);
      picked.push(index);
    }
  } else {
    picked = header.map((_, index) => index);
  }
  let schema = options.schema;
  if (schema && options.columns) schema = restrictSchema(schema, options.columns);
  const modes = header.map(() => MODE_SKIP as number);
  const order: number[] = [];
  for (const index of picked) {
    const field = schema?.fields[header[index]] as Field<unknown, boolean> | undefined;
    if (schema && !field && schema.unknownKeys === "strip" && !options.keepUnknownColumns) continue;
    modes[index] = field?.kind === "category" ? MODE_TEXT : MODE_NUMERIC;
    order.push(index);
  }
  return { modes, order, schema };
}

/** The schema's fields among `columns`, in schema order (the whole schema when none is). */
function restrictSchema(schema: Schema, columns: readonly string[]): Schema {
  const picked = new Set(columns);
  const fields: Record<string, Field<unknown, boolean>> = {};
  for (const name of schema.names) {
    if (picked.has(name)) fields[name] = schema.fields[name];
  }
  if (Object.keys(fields).length === 0) return schema;
  return new Schema(fields, {
    target: schema.target !== undefined && schema.target in fields ? schema.target : undefined,
    unknownKeys: schema.unknownKeys,
    description: schema.description,
  });
}

function toFrame(
  path: string,
  batch: CsvBatch,
  schema: Schema | undefined,
  rowOffset: number,
  options: ReadOptions,
): Frame {
  const raw = new Frame(batch.columns, batch.rowCount);
  return applySchema(
    raw,
    { ...options, schema },
    { path, rowOffset, lineOf: batch.lineOf, malformed: batch.malformed },
  );
}

function headerOnly(reader: CsvReader): MlopsError {
  return new MlopsError(
    "csv_header_only",
    `${reader.path}:${reader.headerLine}: the file has a header but no data rows`,
    { location: { file: reader.path, line: reader.headerLine } },
  );
}

/**
 * Quotes a string as the CSV writer does: when a reader would otherwise split, unquote or trim
 * it. Internal (batch scoring writes headers with it).
 *
 * @example
 * csvQuote('say "hi"', ","); // "\"say \"\"hi\"\"\""
 */
export function csvQuote(text: string, delimiter: string): string {
  return quote(text, delimiter);
}

/** Quotes a string when a reader would otherwise split, unquote or trim it. */
function quote(text: string, delimiter: string): string {
  if (
    text === "" ||
    text.includes(delimiter) ||
    text.includes('"') ||
    text.includes("\n") ||
    text.includes("\r") ||
    text.trim() !== text
  ) {
    return `"${text.replaceAll('"', '""')}"`;
  }
  return text;
}

/** Writes one column's cells into a ByteBuffer; `width` bounds the bytes of any one cell. */
interface CellEncoder {
  readonly width: number;
  /** Writes the cell of `row`; false when it is missing (nothing written). */
  write(out: ByteBuffer, row: number): boolean;
}

/** Per column, an encoder of its cells (room for `width` bytes is reserved per row up front). */
function cellEncoder(column: Column, delimiter: string): CellEncoder {
  if (column.kind === "category") {
    // Each distinct string is quoted and encoded once, not once per row.
    const encoded = column.dictionary.map((value) => Buffer.from(quote(value, delimiter), "utf8"));
    let width = 2;
    for (const bytes of encoded) width = Math.max(width, bytes.length);
    const codes = column.codes;
    return {
      width,
      write(out, row) {
        const code = codes[row];
        if (code < 0) return false;
        out.append(encoded[code]);
        return true;
      },
    };
  }
  const values = column.values;
  if (column.kind === "boolean") {
    return {
      width: 5,
      write(out, row) {
        const value = values[row];
        if (Number.isNaN(value)) return false;
        out.ascii(value !== 0 ? "true" : "false");
        return true;
      },
    };
  }
  // String(n)'s text (with -0 kept as "-0"), written without a string per value where possible.
  const text = new NumberText();
  return {
    width: MAX_NUMBER_CHARS,
    write(out, row) {
      const value = values[row];
      if (Number.isNaN(value)) return false;
      text.write(out, value);
      return true;
    },
  };
}
