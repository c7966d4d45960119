import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { open, rename, stat, unlink } from "node:fs/promises";
import { MlopsError } from "../errors/error.js";
import { digestHex, sha256Hex } from "./common.js";
import {
  ensureDirectory,
  fileError,
  isErrno,
  readIfExists,
  syncDirectory,
  temporaryPath,
  writeFileAtomic,
} from "./files.js";
import { FolderRoot, type FolderStoreOptions } from "./folder-root.js";
import type { ArtifactStore, BlobInfo, BlobReadOptions } from "./types.js";

/**
 * Blobs in the registry folder, one file per sha256 digest: `<root>/blobs/sha256/<ab>/<hex>`.
 * A blob is written to a temporary file, flushed and renamed into place, so it is whole or
 * absent; reads check the digest.
 *
 * @example
 * const artifacts = new FolderArtifactStore("./.mlops");
 * const { digest } = await artifacts.put(new TextEncoder().encode("hello"));
 */
export class FolderArtifactStore implements ArtifactStore {
  readonly root: FolderRoot;

  constructor(root: string | FolderRoot, options: FolderStoreOptions = {}) {
    this.root = typeof root === "string" ? new FolderRoot(root, options) : root;
  }

  private blobPath(hex: string): string {
    return this.root.join("blobs", "sha256", hex.slice(0, 2), hex);
  }

  async put(content: Uint8Array | AsyncIterable<Uint8Array>): Promise<BlobInfo> {
    await this.root.ensure();
    if (content instanceof Uint8Array) {
      const hex = sha256Hex(content);
      const path = this.blobPath(hex);
      const existing = await readIfExists(path).catch(() => undefined);
      // Rewrite a blob that exists but is damaged, so storing the bytes again repairs it.
      if (existing === undefined || sha256Hex(existing) !== hex) {
        await ensureDirectory(this.root.join("blobs", "sha256", hex.slice(0, 2)));
        await writeFileAtomic(path, content);
      }
      return { digest: `sha256:${hex}`, sizeBytes: content.byteLength };
    }
    if (content === null || typeof content !== "object" || !(Symbol.asyncIterator in content)) {
      throw new MlopsError(
        "argument_invalid",
        "put: expected a Uint8Array or an async iterable of Uint8Array chunks",
      );
    }
    // A stream: hash while writing a temporary file, then rename it to its digest.
    const staging = this.root.join("blobs", "sha256");
    await ensureDirectory(staging);
    const temporary = temporaryPath(this.root.join("blobs", "sha256", "upload"));
    const hash = createHash("sha256");
    let sizeBytes = 0;
    let handle: Awaited<ReturnType<typeof open>> | undefined;
    try {
      handle = await open(temporary, "wx", 0o644);
      for await (const chunk of content) {
        if (!(chunk instanceof Uint8Array)) {
          throw new MlopsError("argument_invalid", "put: every chunk must be a Uint8Array");
        }
        hash.update(chunk);
        sizeBytes += chunk.byteLength;
        await handle.write(chunk);
      }
      await handle.sync();
      await handle.close();
      handle = undefined;
      const hex = hash.digest("hex");
      await ensureDirectory(this.root.join("blobs", "sha256", hex.slice(0, 2)));
      await rename(temporary, this.blobPath(hex));
      await syncDirectory(this.root.join("blobs", "sha256", hex.slice(0, 2)));
      return { digest: `sha256:${hex}`, sizeBytes };
    } catch (error) {
      await handle?.close().catch(() => {});
      await unlink(temporary).catch(() => {});
      if (MlopsError.isInstance(error)) throw error;
      throw fileError("write", temporary, error);
    }
  }

  async get(digest: string, options: BlobReadOptions = {}): Promise<Uint8Array> {
    const what = options.what ?? `blob ${digest}`;
    const hex = digestHex(digest, what);
    const path = this.blobPath(hex);
    const bytes = await readIfExists(path);
    if (bytes === undefined) throw missing(what, path);
    const actual = sha256Hex(bytes);
    if (actual !== hex) throw corrupt(what, path, digest, actual);
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  async *stream(digest: string, options: BlobReadOptions = {}): AsyncIterable<Uint8Array> {
    const what = options.what ?? `blob ${digest}`;
    const hex = digestHex(digest, what);
    const path = this.blobPath(hex);
    const hash = createHash("sha256");
    try {
      for await (const chunk of createReadStream(path, { highWaterMark: 256 * 1024 })) {
        hash.update(chunk as Buffer);
        yield chunk as Buffer;
      }
    } catch (error) {
      if (isErrno(error, "ENOENT", "ENOTDIR")) throw missing(what, path);
      throw fileError("read", path, error);
    }
    const actual = hash.digest("hex");
    if (actual !== hex) throw corrupt(what, path, digest, actual);
  }

  async has(digest: string): Promise<boolean> {
    const hex = digestHex(digest, `blob ${digest}`);
    try {
      return (await stat(this.blobPath(hex))).isFile();
    } catch {
      return false;
    }
  }
}

function missing(what: string, path: string): MlopsError {
  return new MlopsError("artifact_corrupt", `${what}: artifact file ${path} is missing`, {
    location: { file: path },
  });
}

function corrupt(what: string, path: string, digest: string, actual: string): MlopsError {
  return new MlopsError(
    "artifact_corrupt",
    `${what}: artifact file ${path} is corrupt: expected ${digest}, got sha256:${actual}`,
    { location: { file: path } },
  );
}
