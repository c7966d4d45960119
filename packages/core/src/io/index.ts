import { extname } from "node:path";
import { MlopsError } from "../errors/error.js";
import type { Frame } from "../frame/frame.js";
import { csvFormat } from "./csv.js";
import { jsonlFormat } from "./jsonl.js";
import type {
  FrameFormat,
  FrameFormatName,
  FrameWriter,
  ReadOptions,
  StreamOptions,
  WriteOptions,
} from "./types.js";

/**
 * A format whose module — and its library (hyparquet, apache-arrow) — is imported on first use,
 * so a program that reads CSV (the `mlops` CLI, a server) never loads them.
 */
function lazyFormat(
  name: FrameFormatName,
  extensions: readonly string[],
  load: () => Promise<FrameFormat>,
): FrameFormat {
  let loaded: Promise<FrameFormat> | undefined;
  const format = () => {
    loaded ??= load();
    return loaded;
  };
  return {
    name,
    extensions,
    read: async (path, options) => (await format()).read(path, options),
    async *stream(path, options) {
      yield* (await format()).stream(path, options);
    },
    write: async (path, frame, options) => (await format()).write(path, frame, options),
    openWriter: async (path, options) => (await format()).openWriter(path, options),
  };
}

/** Every built-in format, by name (Parquet and Arrow load their libraries on first use). */
export const formats: Readonly<Record<FrameFormatName, FrameFormat>> = Object.freeze({
  csv: csvFormat,
  jsonl: jsonlFormat,
  parquet: lazyFormat(
    "parquet",
    [".parquet"],
    async () => (await import("./parquet.js")).parquetFormat,
  ),
  arrow: lazyFormat(
    "arrow",
    [".arrow", ".feather", ".ipc"],
    async () => (await import("./arrow.js")).arrowFormat,
  ),
});

/** The format for `path`: `options.format` when given, else from the file extension. */
export function formatFor(path: string, format?: FrameFormatName): FrameFormat {
  if (format !== undefined) {
    const found = formats[format];
    if (!found) {
      throw new MlopsError(
        "format_unsupported",
        `Unknown format "${format}"; expected one of ${Object.keys(formats).join(", ")}`,
      );
    }
    return found;
  }
  const extension = extname(path.endsWith(".gz") ? path.slice(0, -3) : path).toLowerCase();
  for (const candidate of Object.values(formats)) {
    if (candidate.extensions.includes(extension)) return candidate;
  }
  throw new MlopsError(
    "format_unsupported",
    `${path}: cannot tell the format from the extension "${extension}"; expected ${Object.values(
      formats,
    )
      .flatMap((f) => f.extensions)
      .join(", ")} or pass { format }`,
    { location: { file: path } },
  );
}

/**
 * Reads a whole file into a Frame. The format comes from the extension
 * (`.csv`, `.tsv`, `.jsonl`, `.ndjson`, `.parquet`, `.arrow`, `.feather`, `.ipc`) or `format`.
 *
 * @example
 * const frame = await readFrame("wine.csv", { schema: wine });
 */
export function readFrame(
  path: string,
  options: ReadOptions & { format?: FrameFormatName } = {},
): Promise<Frame> {
  return formatFor(path, options.format).read(path, options);
}

/**
 * Streams a file as Frames of `batchSize` rows, so files larger than memory can be processed.
 *
 * @example
 * for await (const batch of streamFrames("big.csv", { batchSize: 100_000 })) total += batch.rowCount;
 */
export function streamFrames(
  path: string,
  options: StreamOptions & { format?: FrameFormatName } = {},
): AsyncIterable<Frame> {
  return formatFor(path, options.format).stream(path, options);
}

/**
 * Writes a Frame to a file, atomically, in the format of its extension (or `format`).
 *
 * @example
 * await writeFrame("scored.parquet", frame);
 */
export function writeFrame(
  path: string,
  frame: Frame,
  options: WriteOptions & { format?: FrameFormatName } = {},
): Promise<void> {
  return formatFor(path, options.format).write(path, frame, options);
}

/**
 * Opens a streaming writer in the format of the extension (or `format`): batches are appended to
 * a temporary file that `close()` renames onto `path`, so a crash never leaves a half-written
 * file under the final name.
 *
 * @example
 * const writer = await openFrameWriter("scored.parquet");
 * for await (const batch of streamFrames("big.csv")) await writer.write(batch);
 * await writer.close();
 */
export function openFrameWriter(
  path: string,
  options: WriteOptions & { format?: FrameFormatName } = {},
): Promise<FrameWriter> {
  return formatFor(path, options.format).openWriter(path, options);
}
