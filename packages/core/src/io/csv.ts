import { extname } from "node:path";
import { MlopsError } from "../errors/error.js";
import { type Column, Frame } from "../frame/frame.js";
import type { Field } from "../schema/field.js";
import { Schema } from "../schema/schema.js";
import { checkBatchSize } from "./batch.js";
import { type CsvBatch, CsvReader, MODE_NUMERIC, MODE_SKIP, MODE_TEXT } from "./csv-reader.js";
import { writeFileAtomic } from "./files.js";
import type { FrameFormat, ReadOptions, StreamOptions, WriteOptions } from "./types.js";

/** 1 MiB: large enough that per-read overhead vanishes, small enough to stay in cache. */
const DEFAULT_CHUNK_SIZE = 1 << 20;
/** The writer hands the file this much text at a time. */
const WRITE_CHUNK_CHARS = 1 << 20;

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
    reader.configure(plan.modes, plan.order);
    const batch = await reader.readBatch(Number.MAX_SAFE_INTEGER);
    if (batch.rowCount === 0) throw headerOnly(reader);
    return toFrame(path, batch, plan.schema, 0);
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
    reader.configure(plan.modes, plan.order);
    let rowOffset = 0;
    while (true) {
      const batch = await reader.readBatch(batchSize);
      if (batch.rowCount === 0) {
        if (rowOffset === 0) throw headerOnly(reader);
        return;
      }
      yield toFrame(path, batch, plan.schema, rowOffset);
      rowOffset += batch.rowCount;
    }
  } finally {
    await reader.close();
  }
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
  const delimiter = resolveDelimiter(path, options.delimiter);
  const names = frame.names;
  const cells = names.map((name) => cellWriter(frame.column(name), delimiter));
  const columnCount = cells.length;
  // A single-column row whose value is missing would be a blank line, which readers skip.
  const missing = columnCount === 1 ? '""' : "";
  await writeFileAtomic(path, async (handle) => {
    let text = `${names.map((name) => quote(name, delimiter)).join(delimiter)}\n`;
    for (let row = 0; row < frame.rowCount; row++) {
      for (let column = 0; column < columnCount; column++) {
        if (column > 0) text += delimiter;
        const cell = cells[column](row);
        text += cell === undefined ? missing : cell;
      }
      text += "\n";
      if (text.length >= WRITE_CHUNK_CHARS) {
        await handle.write(text);
        text = "";
      }
    }
    if (text.length > 0) await handle.write(text);
  });
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
};

// ---------------------------------------------------------------------- helpers

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
    if (schema && !field && schema.unknownKeys === "strip") continue;
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
): Frame {
  const raw = new Frame(batch.columns, batch.rowCount);
  if (!schema) return raw;
  return schema.conformFrame(raw, {
    locate: (row) => ({ file: path, line: batch.lineOf(row) }),
    rowOffset,
  });
}

function headerOnly(reader: CsvReader): MlopsError {
  return new MlopsError(
    "csv_header_only",
    `${reader.path}:${reader.headerLine}: the file has a header but no data rows`,
    { location: { file: reader.path, line: reader.headerLine } },
  );
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

/** Per column, a function from row to cell text (undefined = missing). */
function cellWriter(column: Column, delimiter: string): (row: number) => string | undefined {
  if (column.kind === "category") {
    // Each distinct string is quoted once, not once per row.
    const encoded = column.dictionary.map((value) => quote(value, delimiter));
    const codes = column.codes;
    return (row) => {
      const code = codes[row];
      return code < 0 ? undefined : encoded[code];
    };
  }
  const values = column.values;
  if (column.kind === "boolean") {
    return (row) => {
      const value = values[row];
      return Number.isNaN(value) ? undefined : value !== 0 ? "true" : "false";
    };
  }
  return (row) => {
    const value = values[row];
    if (Number.isNaN(value)) return undefined;
    // String(-0) is "0"; keep the sign so the value reads back identical.
    return value === 0 && 1 / value < 0 ? "-0" : String(value);
  };
}
