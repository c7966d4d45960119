// Helpers every reader shares: batch sizes, re-batching, column checks, schema application.
import { MlopsError } from "../errors/error.js";
import { Frame } from "../frame/frame.js";
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
  if (!options.schema) return frame;
  return options.schema.conformFrame(frame, {
    textMissing: false,
    rowOffset,
    locate: (row) => ({ file: path, line: rowOffset + row + 1 }),
  });
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
