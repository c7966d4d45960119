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

/**
 * Writes a file atomically: a temporary file beside `path`, fsync, then rename over `path`.
 * A failed or interrupted write leaves any previous file untouched.
 */
export async function writeFileAtomic(
  path: string,
  write: (handle: FileHandle) => Promise<void>,
): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  let handle: FileHandle | undefined;
  try {
    handle = await open(temporary, "wx");
    await write(handle);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(temporary, path);
  } catch (error) {
    await handle?.close().catch(() => {});
    await unlink(temporary).catch(() => {});
    if (MlopsError.isInstance(error)) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new MlopsError("file_write", `${path}: cannot write (${code ?? String(error)})`, {
      cause: error,
      location: { file: path },
    });
  }
}
