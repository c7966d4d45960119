import type { Frame } from "../frame/frame.js";
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
}
