import type { ModelArtifact } from "@mlops/core";

interface Entry {
  artifact: Promise<ModelArtifact>;
  /** The encoded size, known once loaded (0 while loading). */
  sizeBytes: number;
}

/**
 * Decoded model artifacts by content digest, most recently used last. Versions are immutable
 * and their bytes are verified against the digest when first read, so an entry never goes
 * stale: moving an alias back to a version loaded before, or to one fetched ahead of the move
 * (`version_created`), costs no read. Loads of one digest share one read; a failed load is
 * forgotten. At most `maxBytes` of artifacts are kept beyond the newest one.
 *
 * @example
 * const cache = new ArtifactCache(256 * 1024 * 1024);
 * const artifact = await cache.load(version.digest, () => readAndDecode(version));
 */
export class ArtifactCache {
  readonly #entries = new Map<string, Entry>();
  readonly #maxBytes: number;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /** The artifact of `digest`: from the cache, or read with `read` (and kept). */
  load(
    digest: string,
    read: () => Promise<{ artifact: ModelArtifact; sizeBytes: number }>,
  ): Promise<ModelArtifact> {
    const found = this.#entries.get(digest);
    if (found !== undefined) {
      this.#entries.delete(digest);
      this.#entries.set(digest, found);
      return found.artifact;
    }
    const entry: Entry = {
      artifact: read().then(
        ({ artifact, sizeBytes }) => {
          entry.sizeBytes = sizeBytes;
          this.#trim();
          return artifact;
        },
        (error: unknown) => {
          if (this.#entries.get(digest) === entry) this.#entries.delete(digest);
          throw error;
        },
      ),
      sizeBytes: 0,
    };
    this.#entries.set(digest, entry);
    return entry.artifact;
  }

  /** True when `digest` is kept (loaded or loading). */
  has(digest: string): boolean {
    return this.#entries.has(digest);
  }

  /** How many artifacts are kept (loaded or loading). */
  get size(): number {
    return this.#entries.size;
  }

  /** Drops everything kept. */
  clear(): void {
    this.#entries.clear();
  }

  /** Drops the least recently used entries while over the budget, never the newest. */
  #trim(): void {
    let total = 0;
    for (const entry of this.#entries.values()) total += entry.sizeBytes;
    for (const [digest, entry] of this.#entries) {
      if (total <= this.#maxBytes || this.#entries.size <= 1) break;
      this.#entries.delete(digest);
      total -= entry.sizeBytes;
    }
  }
}
