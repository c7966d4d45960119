import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { MlopsError } from "../errors/error.js";
import { listText, redactLocation } from "./common.js";
import {
  ensureDirectory,
  fileError,
  isErrno,
  readIfExists,
  readJsonIfExists,
  writeFileAtomic,
} from "./files.js";
import { withLock } from "./lock.js";

/** The format marker written to `registry.json`. */
export const FOLDER_REGISTRY_FORMAT = "mlops.registry/v1";

/**
 * Points in a write where a test can stop the process (internal test seam): right after a lock
 * is taken, after a version's temporary file is flushed but before it is renamed into place, and
 * halfway through appending an alias-history line.
 */
export type FolderStorePhase =
  | "lock-acquired"
  | "version-temp-written"
  | "alias-history-mid-append";

/**
 * Options of the folder stores.
 *
 * @example
 * const store = await openFolderStore("/srv/registry", { lockTimeoutMs: 5_000 });
 */
export interface FolderStoreOptions {
  /** How long a writer waits for a lock before `registry_lock_timeout` (default 30 000 ms). */
  lockTimeoutMs?: number;
  /** A lock older than this is stale, whoever holds it (default 20 000 ms). */
  lockStaleMs?: number;
  /**
   * @internal Test seam: awaited at each `FolderStorePhase` of a write, so a crash test can kill
   * the process at that exact point. Never set it in production code.
   */
  pauseAt?: (phase: FolderStorePhase, subject: string) => Promise<void> | void;
}

interface Marker {
  format: string;
  createdAt: number;
}

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/**
 * The registry folder the three folder stores share: its paths, its format marker, its locks
 * and its test seam.
 */
export class FolderRoot {
  readonly lockTimeoutMs: number;
  readonly lockStaleMs: number;
  readonly pauseAt: FolderStoreOptions["pauseAt"];
  #marker: Marker | undefined;

  constructor(
    readonly path: string,
    options: FolderStoreOptions = {},
  ) {
    if (typeof path !== "string" || path === "") {
      throw new MlopsError("argument_invalid", "FolderStore: expected the registry folder path");
    }
    if (/^[A-Za-z][A-Za-z0-9+.-]+:/.test(path)) {
      // "postgres://db/x" must never become a folder named "postgres:".
      throw new MlopsError(
        "registry_location_invalid",
        `FolderStore: ${JSON.stringify(redactLocation(path))} is a URL, not a ` +
          "folder: open it with openStore() or openRegistry(), or write ./ before a folder name",
      );
    }
    this.lockTimeoutMs = options.lockTimeoutMs ?? 30_000;
    this.lockStaleMs = options.lockStaleMs ?? 20_000;
    this.pauseAt = options.pauseAt;
  }

  join(...parts: string[]): string {
    return join(this.path, ...parts);
  }

  /** When the registry was created (0 before it exists). */
  get createdAt(): number {
    return this.#marker?.createdAt ?? 0;
  }

  /** Creates the folder and its format marker, or checks that an existing folder is a registry. */
  async ensure(): Promise<void> {
    if (this.#marker) return;
    const markerPath = this.join("registry.json");
    let marker = await readJsonIfExists<Marker>(markerPath);
    if (!marker) {
      let entries: string[] = [];
      try {
        entries = await readdir(this.path);
      } catch (error) {
        if (!isErrno(error, "ENOENT")) throw fileError("read", this.path, error);
      }
      // registry.json itself may have just been written by another process opening the folder.
      const foreign = entries.filter(
        (entry) => !entry.startsWith(".") && entry !== "registry.json",
      );
      if (foreign.length > 0) {
        throw new MlopsError(
          "registry_not_found",
          `${this.path} is not an @mlops registry: it holds ${listText(foreign, 5)} but no ` +
            "registry.json; point MLOPS_REGISTRY at a new or empty folder",
          { location: { file: this.path } },
        );
      }
      await ensureDirectory(this.path);
      const fresh: Marker = { format: FOLDER_REGISTRY_FORMAT, createdAt: Date.now() };
      if ((await readIfExists(markerPath)) === undefined) {
        await writeFileAtomic(markerPath, json(fresh));
      }
      // Processes opening a new folder at once converge on whichever marker landed last.
      marker = (await readJsonIfExists<Marker>(markerPath)) ?? fresh;
    }
    if (marker.format !== FOLDER_REGISTRY_FORMAT) {
      throw new MlopsError(
        "registry_corrupt",
        `${markerPath}: format ${JSON.stringify(marker.format)} is not supported ` +
          `(expected ${FOLDER_REGISTRY_FORMAT})`,
        { location: { file: markerPath } },
      );
    }
    this.#marker = marker;
  }

  /** Reads the marker if there is one, for readers that must not create the folder. */
  async readMarker(): Promise<void> {
    if (this.#marker) return;
    const marker = await readJsonIfExists<Marker>(this.join("registry.json"));
    if (marker?.format === FOLDER_REGISTRY_FORMAT) this.#marker = marker;
  }

  lock<T>(lockPath: string, subject: string, work: () => Promise<T>): Promise<T> {
    const pauseAt = this.pauseAt;
    return withLock(
      lockPath,
      subject,
      {
        timeoutMs: this.lockTimeoutMs,
        staleMs: this.lockStaleMs,
        onAcquired: pauseAt ? () => pauseAt("lock-acquired", subject) : undefined,
      },
      work,
    );
  }

  /** The entries of a folder, without dot files (temporary files, locks), sorted. */
  async list(path: string): Promise<string[]> {
    try {
      return (await readdir(path)).filter((entry) => !entry.startsWith(".")).sort();
    } catch (error) {
      if (isErrno(error, "ENOENT", "ENOTDIR")) return [];
      throw fileError("read", path, error);
    }
  }
}

/** Pretty JSON with a final newline, as every folder-store file is written. */
export function storedJson(value: unknown): string {
  return json(value);
}
