import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { mkdir, open, readFile, rename, unlink } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { MlopsError } from "../errors/error.js";

/**
 * Durable file primitives for the folder store: atomic replace (temp file in the same directory,
 * fsync, rename, fsync the directory), torn-line-tolerant JSON Lines, and error wrapping that
 * names the file. Internal to the registry.
 */

/** Is this a Node file-system error with one of these codes? */
export function isErrno(error: unknown, ...codes: string[]): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === "string" && codes.includes(code);
}

/** Wraps an fs error as `file_write` / `file_read` naming the path; MlopsErrors pass through. */
export function fileError(operation: "read" | "write", path: string, error: unknown): MlopsError {
  if (MlopsError.isInstance(error)) return error;
  const code = (error as NodeJS.ErrnoException).code ?? String(error);
  return new MlopsError(
    operation === "read" ? "file_read" : "file_write",
    `${path}: cannot ${operation} (${code})`,
    { cause: error, location: { file: path } },
  );
}

/**
 * Flushes a directory's entries (new names, renames) to disk. Platforms that cannot open a
 * directory (Windows) make rename durable themselves, so failing to open one is not an error.
 */
export async function syncDirectory(path: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(path, constants.O_RDONLY);
    await handle.sync();
  } catch (error) {
    if (!isErrno(error, "EISDIR", "EPERM", "EACCES", "EINVAL", "ENOTSUP")) {
      throw fileError("write", path, error);
    }
  } finally {
    await handle?.close().catch(() => {});
  }
}

/** Creates a directory and its parents, syncing each parent that gained an entry. */
export async function ensureDirectory(path: string): Promise<void> {
  let first: string | undefined;
  try {
    first = await mkdir(path, { recursive: true });
  } catch (error) {
    throw fileError("write", path, error);
  }
  if (first === undefined) return;
  // mkdir returns the first directory it created: sync the parent of it and of each one below.
  const created = resolve(first);
  const levels: string[] = [];
  let current = resolve(path);
  while (current !== dirname(current)) {
    levels.push(dirname(current));
    if (current === created) break;
    current = dirname(current);
  }
  for (const level of levels.reverse()) await syncDirectory(level);
}

/**
 * The temporary name a write to `path` goes through: dot-prefixed so listings skip it, and cut
 * short so that a 255-character name still gives a valid temporary name.
 */
export function temporaryPath(path: string): string {
  const stem = basename(path).slice(0, 200);
  return join(dirname(path), `.${stem}.${randomBytes(6).toString("hex")}.tmp`);
}

/** A test seam: awaited between steps of a write so a test can stop the process there. */
export type WritePause = () => Promise<void> | void;

/**
 * Replaces `path` atomically: the new content is written to a temporary file in the same
 * directory, flushed, renamed over `path`, and the directory is flushed. Readers see the old file
 * or the new one, never a mix; a failure or a crash leaves the old file (and at most an orphan
 * temporary file, which listings ignore).
 */
export async function writeFileAtomic(
  path: string,
  data: Uint8Array | string,
  options: { beforeRename?: WritePause } = {},
): Promise<void> {
  const temporary = temporaryPath(path);
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(temporary, "wx", 0o644);
    await handle.writeFile(data);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await options.beforeRename?.();
    await rename(temporary, path);
  } catch (error) {
    await handle?.close().catch(() => {});
    await unlink(temporary).catch(() => {});
    throw fileError("write", path, error);
  }
  await syncDirectory(dirname(path));
}

/** Reads a file, or returns undefined when it does not exist. */
export async function readIfExists(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (error) {
    if (isErrno(error, "ENOENT", "ENOTDIR")) return undefined;
    throw fileError("read", path, error);
  }
}

/** Parses a JSON file written by the store; throws `registry_corrupt` naming it when it is not. */
export function parseStoredJson<T>(path: string, bytes: Uint8Array): T {
  try {
    return JSON.parse(Buffer.from(bytes).toString("utf8")) as T;
  } catch (error) {
    throw new MlopsError("registry_corrupt", `${path}: not valid JSON (${String(error)})`, {
      cause: error,
      location: { file: path },
    });
  }
}

/** Reads and parses a JSON file, or returns undefined when it does not exist. */
export async function readJsonIfExists<T>(path: string): Promise<T | undefined> {
  const bytes = await readIfExists(path);
  return bytes === undefined ? undefined : parseStoredJson<T>(path, bytes);
}

/**
 * Parses JSON Lines written by `appendLines`. A last line without its newline was cut short by a
 * crash mid-append: it never happened, so it is ignored. A broken line before the last is real
 * damage: `registry_corrupt` naming the file and line.
 */
export function parseJsonLines<T>(path: string, bytes: Uint8Array, firstLine = 1): T[] {
  const text = Buffer.from(bytes).toString("utf8");
  const complete = text.slice(0, text.lastIndexOf("\n") + 1);
  const records: T[] = [];
  let lineNumber = firstLine - 1;
  for (const line of complete.split("\n")) {
    lineNumber += 1;
    if (line === "") continue;
    try {
      records.push(JSON.parse(line) as T);
    } catch (error) {
      throw new MlopsError(
        "registry_corrupt",
        `${path}:${lineNumber}: not a valid JSON line (${String(error)})`,
        { cause: error, location: { file: path, line: lineNumber } },
      );
    }
  }
  return records;
}

/**
 * Appends JSON lines durably. The caller holds the lock that guards the file, so a torn last
 * line (a previous writer killed mid-append) is cut off first. `midAppend` is a test seam: when
 * given, the bytes are written in two halves with a pause between, as a crash would cut them.
 * Returns the file's size after the append.
 */
export async function appendLines(
  path: string,
  records: readonly unknown[],
  midAppend?: WritePause,
): Promise<number> {
  const payload = Buffer.from(records.map((record) => `${JSON.stringify(record)}\n`).join(""));
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  let created = false;
  try {
    try {
      handle = await open(path, "r+");
    } catch (error) {
      if (!isErrno(error, "ENOENT")) throw error;
      handle = await open(path, "wx+", 0o644);
      created = true;
    }
    const { size } = await handle.stat();
    let end = size;
    if (size > 0) {
      // Find the last newline; everything after it is a torn line to repair.
      const chunk = Buffer.alloc(Math.min(size, 64 * 1024));
      let position = size;
      let found = -1;
      while (position > 0 && found < 0) {
        const length = Math.min(chunk.length, position);
        position -= length;
        await handle.read(chunk, 0, length, position);
        const index = chunk.subarray(0, length).lastIndexOf(0x0a);
        if (index >= 0) found = position + index;
      }
      end = found + 1;
      if (end < size) await handle.truncate(end);
    }
    if (midAppend) {
      const half = Math.max(1, Math.floor(payload.length / 2));
      await handle.write(payload, 0, half, end);
      await handle.sync();
      await midAppend();
      await handle.write(payload, half, payload.length - half, end + half);
    } else {
      await handle.write(payload, 0, payload.length, end);
    }
    await handle.sync();
    await handle.close();
    handle = undefined;
    if (created) await syncDirectory(dirname(path));
    return end + payload.length;
  } catch (error) {
    await handle?.close().catch(() => {});
    throw fileError("write", path, error);
  }
}
