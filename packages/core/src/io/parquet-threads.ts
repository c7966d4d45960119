// What batch scoring needs to decode and encode Parquet on worker threads, loading hyparquet
// (./parquet.js) on first use as the `parquet` format does, so importing @mlops/core/internal
// does not load it.
import type { Frame } from "../frame/frame.js";
import type { ParquetBatch } from "./parquet.js";
import type {
  ParquetChunk,
  ParquetChunker,
  ParquetChunkerOptions,
  ParquetChunkFile,
} from "./parquet-chunks.js";
import type { FrameWriter, ReadOptions } from "./types.js";

export type { ParquetBatch, ParquetChunk, ParquetChunker, ParquetChunkerOptions, ParquetChunkFile };

/** `ParquetChunker.open`: a Parquet file's footer, then its row groups as chunks of bytes. */
export async function openParquetChunker(
  path: string,
  options: ParquetChunkerOptions,
): Promise<ParquetChunker> {
  return (await import("./parquet-chunks.js")).ParquetChunker.open(path, options);
}

/** Decodes a `ParquetChunker` chunk by the Parquet reader's rules (any thread). */
export async function readParquetChunk(
  file: ParquetChunkFile,
  chunk: ParquetChunk,
  options: ReadOptions = {},
): Promise<Frame> {
  return (await import("./parquet-chunks.js")).readParquetChunk(file, chunk, options);
}

/** Encodes a frame as the row groups a Parquet writer appends with `writeParquetBatch`. */
export async function encodeParquetBatch(path: string, frame: Frame): Promise<ParquetBatch> {
  return (await import("./parquet.js")).encodeParquetBatch(path, frame);
}

/** Appends an encoded batch to a writer that `parquetFormat.openWriter` opened. */
export async function writeParquetBatch(writer: FrameWriter, batch: ParquetBatch): Promise<void> {
  const { ParquetFrameWriter } = await import("./parquet.js");
  if (!(writer instanceof ParquetFrameWriter)) {
    throw new TypeError(`${writer.path}: encoded Parquet batches go to a Parquet writer`);
  }
  await writer.writeBatch(batch);
}
