/**
 * `@mlops/core/internal/scoring`: what a batch-scoring worker thread needs to decode a model and
 * read, score and encode a chunk — and nothing else. Each worker thread loads its modules on its
 * own, inside a timed run: this entry keeps the command toolkit, registries, YAML, ONNX export
 * and the like out of it (see `@mlops/core/internal` for the rest). Not a stable API.
 */
export { decodeArtifact } from "../artifact/codec.js";
export { MlopsError } from "../errors/error.js";
export { type Column, Frame } from "../frame/frame.js";
export { encodeCsv, readCsvChunk } from "../io/csv.js";
export { encodeJsonl } from "../io/jsonl.js";
export {
  encodeParquetBatch,
  type ParquetBatch,
  type ParquetChunk,
  type ParquetChunkFile,
  readParquetChunk,
} from "../io/parquet-threads.js";
export type { FrameOrigin, InvalidRow, ReadOptions } from "../io/types.js";
export { ByteBuffer, MAX_NUMBER_CHARS, NumberText } from "../io/writer.js";
export { createPredictor, type Predictor } from "../predict/predictor.js";
export { transferResult } from "./pool.js";
