// Helpers every reader shares: batch sizes, re-batching, column checks, schema application.
import { MlopsError } from "../errors/error.js";
import { type Column, cellValue, Frame, type RowObject } from "../frame/frame.js";
import { type Issue, SchemaError } from "../schema/issues.js";
import type { ReadOptions } from "./types.js";

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

/** Where a reader's batch came from, for `applySchema`. */
export interface BatchSource {
  path: string;
  /** Rows of the file before this batch. */
  rowOffset: number;
  /** The 1-based file line of a batch row. */
  lineOf(row: number): number;
  /** Text tokens such as "NA" count as missing (CSV only). */
  textMissing?: boolean;
}

/**
 * Applies `options.schema` to a batch as every reader does: conform it (throwing `SchemaError`
 * with located issues), or with `onInvalidRow` hand each invalid row to the callback and keep
 * the rest; with `keepUnknownColumns` the undeclared columns ride along as read. Internal,
 * shared by the readers.
 *
 * @example
 * return applySchema(raw, options, { path, rowOffset, lineOf: (row) => lines[row] });
 */
export function applySchema(raw: Frame, options: ReadOptions, source: BatchSource): Frame {
  const schema = options.schema;
  if (!schema) return raw;
  const extras = options.keepUnknownColumns
    ? raw.names.filter((name) => !Object.hasOwn(schema.fields, name))
    : [];
  const declared = extras.length > 0 ? raw.drop(extras) : raw;
  const { path, rowOffset, lineOf } = source;
  const conformOptions = {
    textMissing: source.textMissing ?? true,
    rowOffset,
    locate: (row: number) => ({ file: path, line: lineOf(row) }),
  };
  const onInvalidRow = options.onInvalidRow;
  if (onInvalidRow === undefined) {
    return withExtras(schema.conformFrame(declared, conformOptions), raw, extras);
  }
  const first = schema.safeConformFrame(declared, {
    ...conformOptions,
    maxIssues: Number.POSITIVE_INFINITY,
  });
  if (first.success) return withExtras(first.data, raw, extras);
  const byRow = new Map<number, Issue[]>();
  const whole: Issue[] = [];
  for (const found of first.error.issues) {
    const at = found.path[0];
    if (typeof at !== "number") {
      whole.push(found);
      continue;
    }
    const row = at - rowOffset;
    const list = byRow.get(row);
    if (list) list.push(found);
    else byRow.set(row, [found]);
  }
  // A missing or unknown column is the file's problem, not one row's: no row could be scored.
  if (whole.length > 0) throw new SchemaError(whole, { subject: path });
  const keep = new Uint8Array(raw.rowCount).fill(1);
  const rows = [...byRow.keys()].sort((a, b) => a - b);
  for (const row of rows) {
    keep[row] = 0;
    onInvalidRow({
      row: rowOffset + row,
      location: { file: path, line: lineOf(row) },
      values: rowValues(raw, row),
      issues: byRow.get(row) ?? [],
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
  return withExtras(conformed, valid, extras);
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
