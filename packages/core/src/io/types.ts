import type { SourceLocation } from "../errors/error.js";
import type { Frame, RowObject } from "../frame/frame.js";
import type { Issue } from "../schema/issues.js";
import type { Schema } from "../schema/schema.js";

/** The file formats @mlops reads and writes. */
export type FrameFormatName = "csv" | "jsonl" | "parquet" | "arrow";

export interface ReadOptions {
  /**
   * Validate and type the data with this schema: numeric fields are parsed as numbers, category
   * fields checked against their values; unknown columns are rejected or stripped per the schema.
   * Problems throw a `SchemaError` whose issues name the file, line (or row) and column.
   */
  schema?: Schema;
  /** Only these columns (others are skipped while reading where the format allows it). */
  columns?: readonly string[];
  /** CSV only: the field delimiter (default `,`). */
  delimiter?: string;
  /**
   * Called with each row that cannot be read (a CSV record with the wrong number of fields or a
   * quote never closed, a JSON Lines line that is not a JSON object of plain values) or, with
   * `schema`, violates it; the row is then left out of the frame instead of failing the read
   * (pandas' `on_bad_lines` callable, Spark's bad-records path). Problems with the file as a
   * whole (not the format, an empty file, a missing column) still throw.
   */
  onInvalidRow?: (row: InvalidRow) => void;
  /**
   * Called once for each frame a reader returns or yields, just before it does, with where that
   * frame's rows came from in the file (their line and data-row index): what a consumer needs to
   * name the line of a row it rejects later (batch scoring, when the model cannot score a row).
   */
  onFrameOrigin?: (origin: FrameOrigin) => void;
  /**
   * With `schema`: keep the columns it does not declare, as read (not validated), in the
   * file's column order, instead of rejecting or stripping them as its `unknownKeys` says.
   * Batch scoring uses it to carry id columns through.
   */
  keepUnknownColumns?: boolean;
}

/** A row that could not be read or failed the schema, as `onInvalidRow` receives it. */
export interface InvalidRow {
  /** 0-based index of the row among the file's data rows (unreadable ones included). */
  readonly row: number;
  /** Where it is: the file and its 1-based line (the row number for Parquet and Arrow). */
  readonly location: SourceLocation & { file: string; line: number };
  /** The row as read, before the schema typed it (empty for a row that could not be read). */
  readonly values: RowObject;
  /**
   * A row that could not be read: its text as it is in the file (a CSV record, a JSON Lines
   * line), with one `malformed_row` issue saying what is wrong. Undefined for schema violations.
   */
  readonly text?: string;
  /** Every issue of the row (paths `[row, column]`, or `[row]` for a malformed row). */
  readonly issues: readonly Issue[];
}

/** Where the rows of one frame came from, as `onFrameOrigin` receives it. */
export interface FrameOrigin {
  /** The file. */
  readonly file: string;
  /** Rows in the frame. */
  readonly rowCount: number;
  /** 0-based index among the file's data rows (as `InvalidRow.row`) of the frame's row `index`. */
  row(index: number): number;
  /** 1-based file line (the row number for Parquet and Arrow) of the frame's row `index`. */
  line(index: number): number;
}

export interface StreamOptions extends ReadOptions {
  /** Rows per Frame yielded by `streamFrames` (default 65,536). */
  batchSize?: number;
}

export interface WriteOptions {
  /** CSV only: the field delimiter (default `,`). */
  delimiter?: string;
}

/**
 * One file format: every reader/writer implements this, and every one passes the shared
 * conformance suite in `@mlops/core/testing`.
 */
export interface FrameFormat {
  readonly name: FrameFormatName;
  /** File extensions (lower case, with the dot) that select this format. */
  readonly extensions: readonly string[];
  /** Reads the whole file into one Frame. */
  read(path: string, options?: ReadOptions): Promise<Frame>;
  /** Streams the file as Frames of at most `batchSize` rows; memory stays bounded by the batch. */
  stream(path: string, options?: StreamOptions): AsyncIterable<Frame>;
  /** Writes a Frame to `path` (atomically: a temporary file renamed into place). */
  write(path: string, frame: Frame, options?: WriteOptions): Promise<void>;
  /**
   * Opens a streaming writer: frames are appended batch by batch to a temporary file beside
   * `path`, which `close()` renames onto `path`; memory holds one batch, not the whole file.
   */
  openWriter(path: string, options?: WriteOptions): Promise<FrameWriter>;
  /**
   * Row-wise text formats (CSV, JSON Lines) only: the bytes a writer appends for `frame`, as a
   * pure function, so encoding can run on worker threads while one thread appends the results
   * in order with `FrameWriter.writeEncoded`. `first` marks a file's first batch (CSV puts the
   * header before it); `path` picks defaults such as the `.tsv` delimiter.
   */
  encode?(frame: Frame, options: EncodeOptions): Uint8Array;
}

export interface EncodeOptions extends WriteOptions {
  /** The file's first batch: CSV writes the header line before its rows. */
  first: boolean;
  /** The file the bytes are for (its extension picks defaults such as TSV's tab). */
  path?: string;
}

/**
 * A file being written batch by batch. Nothing appears under the final name until `close()`
 * succeeds; after a failure or `abort()` the final name is as it was before.
 *
 * @example
 * const writer = await formats.csv.openWriter("scored.csv");
 * try {
 *   for await (const batch of streamFrames("big.csv")) await writer.write(score(batch));
 *   await writer.close();
 * } catch (error) {
 *   await writer.abort();
 *   throw error;
 * }
 */
export interface FrameWriter {
  /** The final path. */
  readonly path: string;
  /** Rows appended so far. */
  readonly rowCount: number;
  /** Appends a batch; every batch has the columns and kinds of the first. */
  write(frame: Frame): Promise<void>;
  /** Text formats: appends bytes made by the format's `encode` (`rows` rows of them). */
  writeEncoded?(bytes: Uint8Array, rows: number): Promise<void>;
  /** Finishes the file (footer, fsync) and renames it onto `path`. */
  close(): Promise<void>;
  /** Deletes the temporary file; `path` is untouched. Safe after a failed `close`. */
  abort(): Promise<void>;
}
