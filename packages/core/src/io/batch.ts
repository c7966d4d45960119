// Helpers every reader shares: batch sizes, re-batching, column checks, schema application.
import { MlopsError } from "../errors/error.js";
import { type Column, cellValue, Frame, type RowObject } from "../frame/frame.js";
import { type Issue, SchemaError } from "../schema/issues.js";
import type { InvalidRow, ReadOptions } from "./types.js";

/** Rows per streamed Frame when `batchSize` is not given. */
export const DEFAULT_BATCH_SIZE = 65_536;

/**
 * Re-slices a stream of frames into frames of exactly `batchSize` rows (the last may be
 * shorter). Slices share memory; only frames straddling a boundary are concatenated.
 * Internal: shared by the Arrow and Parquet readers.
 *
 * @example
 * for await (const batch of rebatchFrames(rowGroups, 1000)) total += batch.rowCount;
 */
export async function* rebatchFrames(
  frames: AsyncIterable<Frame>,
  batchSize: number,
): AsyncGenerator<Frame> {
  let pending: Frame[] = [];
  let pendingRows = 0;
  for await (const frame of frames) {
    let start = 0;
    while (start < frame.rowCount) {
      const take = Math.min(batchSize - pendingRows, frame.rowCount - start);
      pending.push(frame.slice(start, start + take));
      pendingRows += take;
      start += take;
      if (pendingRows === batchSize) {
        yield Frame.concat(pending);
        pending = [];
        pendingRows = 0;
      }
    }
  }
  if (pendingRows > 0) yield Frame.concat(pending);
}

/**
 * Validates `batchSize` (a positive integer; default 65,536). Internal, shared by the readers.
 *
 * @example
 * const batchSize = checkBatchSize(options.batchSize);
 */
export function checkBatchSize(batchSize: number | undefined): number {
  if (batchSize === undefined) return DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new MlopsError(
      "argument_invalid",
      `batchSize: expected a positive integer, got ${String(batchSize)}`,
    );
  }
  return batchSize;
}

/**
 * The frame a reader returns: `columns` checked, then the schema applied with issues located at
 * `{ file, line: row number (1-based), column }`. Internal, shared by the Arrow and Parquet
 * readers, whose "lines" are rows.
 *
 * @example
 * return conformRows(path, frame, options, rowOffset);
 */
export function conformRows(
  path: string,
  frame: Frame,
  options: ReadOptions,
  rowOffset: number,
): Frame {
  return applySchema(frame, options, {
    path,
    rowOffset,
    textMissing: false,
    lineOf: (row) => rowOffset + row + 1,
  });
}

/** A record a reader could not read, kept in its batch as a row of missing values. */
export interface MalformedRecord {
  /** Batch-local row. */
  readonly row: number;
  /** The record's text as it is in the file. */
  readonly text: string;
  /** What is wrong with it (`expected 5 fields like the header, found 6`). */
  readonly message: string;
  readonly expected: string;
  readonly received: string;
}

/** Where a reader's batch came from, for `applySchema`. */
export interface BatchSource {
  path: string;
  /** Rows of the file before this batch. */
  rowOffset: number;
  /** The 1-based file line of a batch row. */
  lineOf(row: number): number;
  /** Text tokens such as "NA" count as missing (CSV only). */
  textMissing?: boolean;
  /**
   * Rows of the batch a lenient reader (one given `onInvalidRow`) could not read: their slots
   * hold missing values, and they go to `onInvalidRow` instead of being conformed.
   */
  malformed?: readonly MalformedRecord[];
}

/**
 * Applies `options.schema` to a batch as every reader does: conform it (throwing `SchemaError`
 * with located issues), or with `onInvalidRow` hand each unreadable or invalid row to the
 * callback and keep the rest; with `keepUnknownColumns` the undeclared columns ride along as
 * read. Then tells `onFrameOrigin` where the returned rows came from. Internal, shared by the
 * readers.
 *
 * @example
 * return applySchema(raw, options, { path, rowOffset, lineOf: (row) => lines[row] });
 */
export function applySchema(raw: Frame, options: ReadOptions, source: BatchSource): Frame {
  const { path, rowOffset, lineOf } = source;
  const malformed = source.malformed ?? [];
  // Batch rows still in play (undefined: all of them, in order).
  let kept: number[] | undefined;
  // With malformed rows, every rejected row of the batch is gathered first, to go out in order.
  let gathered: InvalidRow[] | undefined;
  if (malformed.length > 0) {
    if (options.onInvalidRow === undefined) {
      // Readers are lenient only when asked to be; a strict one has thrown already.
      const first = malformed[0];
      throw new MlopsError("data_invalid", `${path}:${lineOf(first.row)}: ${first.message}`, {
        location: { file: path, line: lineOf(first.row) },
      });
    }
    const drop = new Uint8Array(raw.rowCount);
    gathered = [];
    for (const record of malformed) {
      drop[record.row] = 1;
      const row = rowOffset + record.row;
      const line = lineOf(record.row);
      gathered.push({
        row,
        location: { file: path, line },
        values: {},
        text: record.text,
        issues: [
          {
            code: "malformed_row",
            path: [row],
            message: record.message,
            expected: record.expected,
            received: record.received,
            location: { file: path, line },
          },
        ],
      });
    }
    kept = [];
    for (let row = 0; row < raw.rowCount; row++) if (!drop[row]) kept.push(row);
  }
  const readable = kept === undefined ? raw : raw.take(kept);
  const batchRow = (row: number): number => (kept === undefined ? row : kept[row]);
  const collect = gathered;
  const schemaOptions =
    collect === undefined
      ? options
      : { ...options, onInvalidRow: (row: InvalidRow) => void collect.push(row) };
  const { frame, rows } = conformBatch(readable, schemaOptions, {
    ...source,
    // Rows of `readable` are numbered from 0 for the schema, then mapped back to the file.
    rowOffset: 0,
    lineOf: (row) => lineOf(batchRow(row)),
    fileRow: (row) => rowOffset + batchRow(row),
  });
  if (collect !== undefined) {
    collect.sort((a, b) => a.row - b.row);
    for (const row of collect) options.onInvalidRow?.(row);
  }
  if (options.onFrameOrigin !== undefined) {
    const at = (index: number): number => batchRow(rows === undefined ? index : rows[index]);
    options.onFrameOrigin({
      file: path,
      rowCount: frame.rowCount,
      row: (index) => rowOffset + at(index),
      line: (index) => lineOf(at(index)),
    });
  }
  return frame;
}

/**
 * The schema step of `applySchema` over readable rows numbered from 0: the frame, and which of
 * those rows it kept (undefined: all).
 */
function conformBatch(
  batch: Frame,
  options: ReadOptions,
  source: BatchSource & { fileRow(row: number): number },
): { frame: Frame; rows: number[] | undefined } {
  const schema = options.schema;
  if (!schema) return { frame: batch, rows: undefined };
  let raw = batch;
  if (raw.rowCount === 0 && source.malformed !== undefined && source.malformed.length > 0) {
    // Every row of the batch was unreadable: a JSON Lines batch then has no columns to check.
    const entries: [string, Column][] = [...raw.columns()];
    for (const name of schema.names) {
      if (raw.has(name)) continue;
      entries.push([
        name,
        schema.fields[name].kind === "category"
          ? { kind: "category", codes: new Int32Array(0), dictionary: [] }
          : { kind: "number", values: new Float64Array(0) },
      ]);
    }
    raw = new Frame(entries, 0);
  }
  const extras = options.keepUnknownColumns
    ? raw.names.filter((name) => !Object.hasOwn(schema.fields, name))
    : [];
  const declared = extras.length > 0 ? raw.drop(extras) : raw;
  const { path, lineOf, fileRow } = source;
  // Issue paths name the row in the file, whatever was taken out of the batch before.
  const relocate = (issues: readonly Issue[], shift: (row: number) => number): Issue[] =>
    issues.map((found) =>
      typeof found.path[0] === "number"
        ? { ...found, path: [shift(found.path[0]), ...found.path.slice(1)] }
        : found,
    );
  const conformOptions = {
    textMissing: source.textMissing ?? true,
    rowOffset: 0,
    locate: (row: number) => ({ file: path, line: lineOf(row) }),
  };
  const onInvalidRow = options.onInvalidRow;
  if (onInvalidRow === undefined) {
    // Strict: no row was taken out before (a strict reader throws on a malformed record).
    const conformed = schema.conformFrame(declared, { ...conformOptions, rowOffset: fileRow(0) });
    return { frame: withExtras(conformed, raw, extras), rows: undefined };
  }
  const first = schema.safeConformFrame(declared, {
    ...conformOptions,
    maxIssues: Number.POSITIVE_INFINITY,
  });
  if (first.success) return { frame: withExtras(first.data, raw, extras), rows: undefined };
  const byRow = new Map<number, Issue[]>();
  const whole: Issue[] = [];
  for (const found of first.error.issues) {
    const at = found.path[0];
    if (typeof at !== "number") {
      whole.push(found);
      continue;
    }
    const list = byRow.get(at);
    if (list) list.push(found);
    else byRow.set(at, [found]);
  }
  // A missing or unknown column is the file's problem, not one row's: no row could be scored.
  if (whole.length > 0) throw new SchemaError(whole, { subject: path });
  const keep = new Uint8Array(raw.rowCount).fill(1);
  const invalid = [...byRow.keys()].sort((a, b) => a - b);
  for (const row of invalid) {
    keep[row] = 0;
    onInvalidRow({
      row: fileRow(row),
      location: { file: path, line: lineOf(row) },
      values: rowValues(raw, row),
      issues: relocate(byRow.get(row) ?? [], fileRow),
    });
  }
  const indices: number[] = [];
  for (let row = 0; row < raw.rowCount; row++) if (keep[row]) indices.push(row);
  const valid = raw.take(indices);
  const validDeclared = extras.length > 0 ? valid.drop(extras) : valid;
  const conformed = schema.conformFrame(validDeclared, {
    ...conformOptions,
    locate: (row) => ({ file: path, line: lineOf(indices[row]) }),
  });
  return { frame: withExtras(conformed, valid, extras), rows: indices };
}

/**
 * The conformed columns and the undeclared ones (as read) in the file's column order; declared
 * columns the file lacks (filled from defaults) come last.
 */
function withExtras(conformed: Frame, raw: Frame, extras: readonly string[]): Frame {
  if (extras.length === 0) return conformed;
  const entries: [string, Column][] = [];
  for (const name of raw.names) {
    entries.push([name, conformed.has(name) ? conformed.column(name) : raw.column(name)]);
  }
  for (const name of conformed.names) {
    if (!raw.has(name)) entries.push([name, conformed.column(name)]);
  }
  return new Frame(entries, conformed.rowCount);
}

function rowValues(frame: Frame, row: number): RowObject {
  const values: RowObject = {};
  for (const [name, column] of frame.columns()) values[name] = cellValue(column, row);
  return values;
}

/**
 * Throws `argument_invalid` when `columns` names a column the file does not have.
 * Internal, shared by the readers.
 *
 * @example
 * checkColumns(path, ["a", "b"], options.columns);
 */
export function checkColumns(
  path: string,
  available: readonly string[],
  columns: readonly string[] | undefined,
): void {
  if (!columns) return;
  const known = new Set(available);
  for (const name of columns) {
    if (!known.has(name)) {
      throw new MlopsError(
        "argument_invalid",
        `${path}: columns: no column "${name}" in the file ` +
          `(it has: ${available.join(", ") || "no columns"})`,
        { location: { file: path, column: name } },
      );
    }
  }
}
