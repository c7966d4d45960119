import { randomBytes } from "node:crypto";
import { type FileHandle, open, rename, stat, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { MlopsError } from "../errors/error.js";

/** Throws `file_not_found` (or `file_read` for a directory) naming the path. */
export async function assertReadableFile(path: string): Promise<number> {
  try {
    const info = await stat(path);
    if (!info.isFile()) {
      throw new MlopsError("file_read", `${path}: expected a file, found a directory or device`, {
        location: { file: path },
      });
    }
    return info.size;
  } catch (error) {
    if (MlopsError.isInstance(error)) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") {
      throw new MlopsError("file_not_found", `${path}: no such file`, {
        cause: error,
        location: { file: path },
      });
    }
    throw new MlopsError("file_read", `${path}: cannot read (${code ?? String(error)})`, {
      cause: error,
      location: { file: path },
    });
  }
}

/** Bytes appended between two flushes to disk started in the background (see `AtomicFile`). */
export const FLUSH_EVERY_BYTES = 32 << 20;

/**
 * A file written under a temporary name beside `path` (`.NAME.RANDOM.tmp`) and renamed onto
 * `path` by `commit` once complete (after an fsync), so `path` never holds a half-written file:
 * a failed or interrupted write leaves any previous file untouched, and `abort` removes the
 * temporary file. Every failure becomes a `file_write` MlopsError naming `path`.
 * Internal: the streaming writers of every format are built on it.
 *
 * A large file is flushed to disk as it grows: every `flushEvery` bytes appended (32 MiB by
 * default) an fdatasync starts in the background while appends go on, so the disk writes
 * overlap the work that produces the data and `commit`'s fsync has only the last part left
 * (a 200 MB output otherwise waits ~0.1 s there). A failed background flush fails the next
 * `append` or the `commit`.
 *
 * @example
 * const file = await AtomicFile.create("out.csv");
 * try {
 *   await file.append("a,b\n1,2\n");
 *   await file.commit();
 * } catch (error) {
 *   await file.abort();
 *   throw error;
 * }
 */
export class AtomicFile {
  readonly path: string;
  readonly temporaryPath: string;
  /** Bytes appended so far. */
  bytesWritten = 0;
  #handle: FileHandle | undefined;
  #done = false;
  readonly #flushEvery: number;
  /** Bytes appended since the last background flush started. */
  #unflushed = 0;
  /** The background flush running, if any (it never rejects: a failure lands in #flushError). */
  #flushing: Promise<void> | undefined;
  #flushError: unknown;

  private constructor(path: string, temporary: string, handle: FileHandle, flushEvery: number) {
    this.path = path;
    this.temporaryPath = temporary;
    this.#handle = handle;
    this.#flushEvery = flushEvery;
  }

  /**
   * Creates the temporary file (exclusively) in the folder of `path`. `flushEvery`: bytes
   * appended between background flushes (`Infinity`: none before `commit`).
   */
  static async create(path: string, options: { flushEvery?: number } = {}): Promise<AtomicFile> {
    const temporary = join(
      dirname(path),
      `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`,
    );
    try {
      return new AtomicFile(
        path,
        temporary,
        await open(temporary, "wx"),
        options.flushEvery ?? FLUSH_EVERY_BYTES,
      );
    } catch (error) {
      throw writeError(path, error);
    }
  }

  /** The open temporary file (for writers that need its handle, such as Arrow's and Parquet's). */
  get handle(): FileHandle {
    if (this.#handle === undefined) {
      throw new MlopsError("file_write", `${this.path}: the file is already closed`, {
        location: { file: this.path },
      });
    }
    return this.#handle;
  }

  /** Appends bytes (or text, as UTF-8) at the end of the temporary file. */
  async append(data: Uint8Array | string): Promise<void> {
    const handle = this.handle;
    if (this.#flushError !== undefined) throw writeError(this.path, this.#flushError);
    try {
      if (typeof data === "string") await handle.writeFile(data);
      else {
        // One write for the whole buffer (writeFile cuts it into 512 KiB writes, a round trip
        // to the file thread each); the loop only covers short writes.
        for (let at = 0; at < data.byteLength; ) {
          at += (await handle.write(data, at, data.byteLength - at)).bytesWritten;
        }
      }
    } catch (error) {
      throw writeError(this.path, error);
    }
    const bytes = typeof data === "string" ? Buffer.byteLength(data) : data.byteLength;
    this.bytesWritten += bytes;
    this.#unflushed += bytes;
    // One flush at a time: while one runs, the bytes wait for the next (or for commit).
    if (this.#unflushed >= this.#flushEvery && this.#flushing === undefined) {
      this.#unflushed = 0;
      this.#flushing = handle.datasync().then(
        () => {
          this.#flushing = undefined;
        },
        (error: unknown) => {
          this.#flushError ??= error;
          this.#flushing = undefined;
        },
      );
    }
  }

  /** Flushes the data to disk and renames the temporary file onto `path`. */
  async commit(): Promise<void> {
    const handle = this.handle;
    try {
      await this.#flushing;
      if (this.#flushError !== undefined) throw this.#flushError;
      await handle.sync();
      this.#handle = undefined;
      await handle.close();
      await rename(this.temporaryPath, this.path);
      this.#done = true;
    } catch (error) {
      await this.abort();
      throw writeError(this.path, error);
    }
  }

  /** Closes and deletes the temporary file; `path` is left as it was. Safe to call twice. */
  async abort(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    const handle = this.#handle;
    this.#handle = undefined;
    await this.#flushing;
    await handle?.close().catch(() => {});
    await unlink(this.temporaryPath).catch(() => {});
  }
}

/** A failed write as a `file_write` MlopsError naming `path` (with a hint for common errnos). */
export function writeError(path: string, error: unknown): MlopsError {
  if (MlopsError.isInstance(error)) return error;
  const code = (error as NodeJS.ErrnoException).code;
  const hint =
    code === "ENOSPC"
      ? ": no space left on the device"
      : code === "EACCES" || code === "EPERM"
        ? ": permission denied"
        : code === "ENOENT"
          ? ": the folder does not exist"
          : "";
  return new MlopsError("file_write", `${path}: cannot write (${code ?? String(error)})${hint}`, {
    cause: error,
    location: { file: path },
  });
}

/**
 * Writes a file atomically: a temporary file beside `path`, fsync, then rename over `path`.
 * A failed or interrupted write leaves any previous file untouched.
 */
export async function writeFileAtomic(
  path: string,
  write: (handle: FileHandle) => Promise<void>,
): Promise<void> {
  const file = await AtomicFile.create(path);
  try {
    await write(file.handle);
  } catch (error) {
    await file.abort();
    throw writeError(path, error);
  }
  await file.commit();
}
