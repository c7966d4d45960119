import { randomBytes } from "node:crypto";
import { link, open, readFile, stat, unlink } from "node:fs/promises";
import { hostname } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { MlopsError } from "../errors/error.js";
import { fileError, isErrno, temporaryPath, type WritePause } from "./files.js";

/**
 * A cross-process lock file. The lock file is created whole and atomically (its content is
 * written to a temporary file that is then hard-linked to the lock name, which fails if the name
 * exists), so a holder is always identifiable: pid, hostname, time and a random token.
 *
 * A lock is stale when its holder is a dead process on this host, or when it is older than
 * `staleMs` (a holder on another host, or a reused pid). Breaking a stale lock is itself guarded
 * by a second lock file (`<lock>.break`), so two waiters can never both break the same lock and
 * delete a fresh one by mistake. Release only removes the lock if it still holds our token.
 */

/** Who holds a lock, as written in the lock file. */
export interface LockHolder {
  pid: number;
  hostname: string;
  createdAt: number;
  token: string;
}

export interface LockOptions {
  /** Give up with `registry_lock_timeout` after this long. */
  timeoutMs: number;
  /** A lock older than this is stale whatever its holder. */
  staleMs: number;
  /** Test seam: awaited right after the lock is taken. */
  onAcquired?: WritePause;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return !isErrno(error, "ESRCH");
  }
}

async function tryCreate(path: string, holder: LockHolder): Promise<boolean> {
  const content = JSON.stringify(holder);
  const temporary = temporaryPath(path);
  try {
    const handle = await open(temporary, "wx", 0o644);
    try {
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await link(temporary, path);
      return true;
    } catch (error) {
      if (isErrno(error, "EEXIST")) return false;
      if (!isErrno(error, "EPERM", "ENOTSUP", "ENOSYS", "EOPNOTSUPP", "EXDEV")) throw error;
    }
    // No hard links on this file system: fall back to an exclusive create (a crash between the
    // create and the write leaves an empty lock file, which goes stale by age).
    try {
      const handle = await open(path, "wx", 0o644);
      try {
        await handle.writeFile(content);
        await handle.sync();
      } finally {
        await handle.close();
      }
      return true;
    } catch (error) {
      if (isErrno(error, "EEXIST")) return false;
      throw error;
    }
  } catch (error) {
    throw fileError("write", path, error);
  } finally {
    await unlink(temporary).catch(() => {});
  }
}

interface LockState {
  holder: LockHolder | undefined;
  since: number;
}

async function readLock(path: string): Promise<LockState | undefined> {
  try {
    const [text, info] = await Promise.all([readFile(path, "utf8"), stat(path)]);
    try {
      const holder = JSON.parse(text) as LockHolder;
      if (typeof holder.pid === "number" && typeof holder.token === "string") {
        return { holder, since: holder.createdAt };
      }
    } catch {
      // An empty or partial lock file (the no-hard-link fallback): judged by its age alone.
    }
    return { holder: undefined, since: info.mtimeMs };
  } catch (error) {
    if (isErrno(error, "ENOENT")) return undefined;
    throw fileError("read", path, error);
  }
}

function isStale(state: LockState, staleMs: number): boolean {
  const { holder } = state;
  if (holder && holder.hostname === hostname() && !isAlive(holder.pid)) return true;
  return Date.now() - state.since > staleMs;
}

async function removeIfToken(path: string, token: string | undefined): Promise<void> {
  const current = await readLock(path);
  if (current && current.holder?.token === token) await unlink(path).catch(() => {});
}

/** Removes a stale lock, unless another waiter is already doing so or has replaced it. */
async function breakStale(path: string, stale: LockState, staleMs: number): Promise<void> {
  const breakPath = `${path}.break`;
  const breaker: LockHolder = {
    pid: process.pid,
    hostname: hostname(),
    createdAt: Date.now(),
    token: randomBytes(8).toString("hex"),
  };
  if (!(await tryCreate(breakPath, breaker))) {
    // Another waiter is breaking it. If that waiter died doing so, clear its marker (it is only
    // ever held for a few file operations) and let the caller retry.
    const other = await readLock(breakPath);
    if (other && isStale(other, staleMs)) await removeIfToken(breakPath, other.holder?.token);
    return;
  }
  try {
    const current = await readLock(path);
    if (current && current.holder?.token === stale.holder?.token && current.since === stale.since) {
      await unlink(path).catch(() => {});
    }
  } finally {
    await unlink(breakPath).catch(() => {});
  }
}

/**
 * Runs `work` while holding the lock file at `path`; waits (polling with backoff) while a live
 * holder has it and recovers stale locks. `subject` names what is locked, for the timeout error.
 */
export async function withLock<T>(
  path: string,
  subject: string,
  options: LockOptions,
  work: () => Promise<T>,
): Promise<T> {
  const holder: LockHolder = {
    pid: process.pid,
    hostname: hostname(),
    createdAt: Date.now(),
    token: randomBytes(8).toString("hex"),
  };
  const deadline = Date.now() + options.timeoutMs;
  let delay = 2;
  for (;;) {
    holder.createdAt = Date.now();
    if (await tryCreate(path, holder)) break;
    const current = await readLock(path);
    if (current === undefined) continue; // released between our attempt and the read
    if (isStale(current, options.staleMs)) {
      await breakStale(path, current, options.staleMs);
      continue;
    }
    if (Date.now() >= deadline) {
      const who = current.holder
        ? `pid ${current.holder.pid} on ${current.holder.hostname}`
        : "an unknown process";
      throw new MlopsError(
        "registry_lock_timeout",
        `could not lock ${subject} within ${options.timeoutMs} ms: ${path} is held by ${who} ` +
          `since ${new Date(current.since).toISOString()}; if that process is gone, delete the ` +
          "lock file",
        { location: { file: path } },
      );
    }
    await sleep(delay + Math.random() * delay);
    delay = Math.min(delay * 2, 50);
  }
  try {
    await options.onAcquired?.();
    return await work();
  } finally {
    await removeIfToken(path, holder.token);
  }
}
