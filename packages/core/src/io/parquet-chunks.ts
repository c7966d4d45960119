// Parquet files cut into chunks of whole row groups, so batch scoring can decode them on worker
// threads: `ParquetChunker` (the reading thread) reads the footer and each chunk's bytes;
// `readParquetChunk` (any thread) decodes a chunk by the file reader's rules.
import type { AsyncBuffer, FileMetaData, RowGroup } from "hyparquet";
import type { Frame } from "../frame/frame.js";
import { conformRows } from "./batch.js";
import {
  type ColumnPlan,
  chunkRange,
  invalid,
  type OpenFile,
  openParquet,
  readRows,
} from "./parquet.js";
import type { ReadOptions } from "./types.js";

/**
 * A chunk's row groups may hold at most this many bytes of selected (uncompressed) column
 * chunks: a worker holds a chunk's bytes and its decoded columns at once. A file with a larger
 * row group is not cut (`ParquetChunker#chunkable` is false): read it with the file reader,
 * which reads big row groups in parts.
 */
export const MAX_CHUNK_BYTES = 16 << 20;

export interface ParquetChunkerOptions {
  readonly rows: number;
  readonly maxBytes?: number;
  readonly columns?: readonly string[];
}

/** What every chunk of a file shares: its path, size, footer (without row groups) and columns. */
export interface ParquetChunkFile {
  readonly path: string;
  readonly size: number;
  /** The footer, `row_groups` left empty (each chunk carries its own). */
  readonly metadata: FileMetaData;
  readonly plan: readonly ColumnPlan[];
}

/** Consecutive row groups of a file and the bytes of their selected column chunks. */
export interface ParquetChunk {
  /** The bytes `[start, start + bytes.length)` of the file. */
  readonly bytes: Uint8Array;
  readonly start: number;
  readonly rowGroups: RowGroup[];
  /** Data rows of the file before the chunk. */
  readonly row: number;
  readonly rowCount: number;
}

/**
 * Reads a Parquet file's footer (checked as the file reader checks it), then its row groups as
 * chunks of about `rows` rows: consecutive whole row groups, each chunk's bytes one read of the
 * range their selected column chunks span. Internal (batch scoring).
 *
 * @example
 * const chunker = await ParquetChunker.open("big.parquet", { rows: 16_384 });
 * try {
 *   for (let chunk = await chunker.next(); chunk; chunk = await chunker.next()) {
 *     const frame = await readParquetChunk(chunker.file, chunk); // on any thread
 *   }
 * } finally {
 *   await chunker.close();
 * }
 */
export class ParquetChunker {
  readonly file: ParquetChunkFile;
  /** True when every row group fits a chunk (`MAX_CHUNK_BYTES`). */
  readonly chunkable: boolean;
  readonly #opened: OpenFile;
  readonly #rows: number;
  readonly #selected: Set<string>;
  readonly #maxBytes: number;
  #group = 0;
  #row = 0;

  private constructor(opened: OpenFile, path: string, rows: number, maxBytes: number) {
    this.#opened = opened;
    this.#rows = rows;
    this.#maxBytes = maxBytes;
    this.#selected = new Set(opened.plan.map((column) => column.name));
    this.file = {
      path,
      size: opened.size,
      metadata: { ...opened.metadata, row_groups: [] },
      plan: opened.plan,
    };
    this.chunkable = opened.metadata.row_groups.every(
      (group) => this.#groupBytes(group) <= maxBytes,
    );
  }

  /**
   * `rows`: rows a chunk holds at least (unless the file ends); `maxBytes`: column-chunk bytes a
   * chunk holds at most, unless one row group has more (default `MAX_CHUNK_BYTES`).
   */
  static async open(path: string, options: ParquetChunkerOptions): Promise<ParquetChunker> {
    const opened = await openParquet(path, options.columns);
    return new ParquetChunker(
      opened,
      path,
      Math.max(1, options.rows),
      options.maxBytes ?? MAX_CHUNK_BYTES,
    );
  }

  /** Data rows of the file, by its footer. */
  get rowCount(): number {
    return Number(this.#opened.metadata.num_rows);
  }

  /** The next chunk, or undefined after the last. */
  async next(): Promise<ParquetChunk | undefined> {
    const groups = this.#opened.metadata.row_groups;
    if (this.#group >= groups.length) return undefined;
    const rowGroups: RowGroup[] = [];
    let rowCount = 0;
    let bytes = 0;
    let start = Number.POSITIVE_INFINITY;
    let end = 0;
    while (this.#group < groups.length && rowCount < this.#rows) {
      const group = groups[this.#group];
      const size = this.#groupBytes(group);
      if (rowGroups.length > 0 && bytes + size > this.#maxBytes) break;
      for (const chunk of group.columns) {
        const meta = chunk.meta_data;
        if (!meta || !this.#selected.has(meta.path_in_schema[0])) continue;
        const [from, to] = chunkRange(meta);
        start = Math.min(start, from);
        end = Math.max(end, to);
      }
      rowGroups.push(group);
      rowCount += Number(group.num_rows);
      bytes += size;
      this.#group++;
    }
    if (end <= start) start = end = 0;
    const chunk: ParquetChunk = {
      bytes: new Uint8Array(await this.#opened.file.slice(start, end)),
      start,
      rowGroups,
      row: this.#row,
      rowCount,
    };
    this.#row += rowCount;
    return chunk;
  }

  async close(): Promise<void> {
    await this.#opened.handle.close().catch(() => {});
  }

  #groupBytes(group: RowGroup): number {
    let total = 0;
    for (const chunk of group.columns) {
      const meta = chunk.meta_data;
      if (meta && this.#selected.has(meta.path_in_schema[0])) {
        total += Math.max(Number(meta.total_uncompressed_size), Number(meta.total_compressed_size));
      }
    }
    return total;
  }
}

/**
 * Decodes a chunk of `ParquetChunker` into a Frame by the file reader's rules (types, nulls,
 * `options.schema`, `onInvalidRow` and `onFrameOrigin` with the file's row numbers).
 */
export async function readParquetChunk(
  file: ParquetChunkFile,
  chunk: ParquetChunk,
  options: ReadOptions = {},
): Promise<Frame> {
  const { bytes, start } = chunk;
  const buffer: AsyncBuffer = {
    byteLength: file.size,
    slice(from: number, to = file.size): ArrayBuffer {
      if (from < start || to > start + bytes.byteLength) {
        throw invalid(
          file.path,
          `a column chunk spans bytes ${from}–${to}, outside the row groups' ${start}–` +
            `${start + bytes.byteLength}`,
        );
      }
      const at = bytes.byteOffset - start;
      return bytes.buffer.slice(at + from, at + to) as ArrayBuffer;
    },
  };
  const metadata: FileMetaData = {
    ...file.metadata,
    row_groups: chunk.rowGroups,
    num_rows: BigInt(chunk.rowCount),
  };
  const frame = await readRows(
    file.path,
    { file: buffer, metadata, plan: file.plan },
    chunk.rowCount > 0 ? [[0, chunk.rowCount]] : [],
    false,
  );
  return conformRows(file.path, frame, options, chunk.row);
}
