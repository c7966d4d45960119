import { createHash } from "node:crypto";
import { type ArtifactStore, type BlobInfo, type BlobReadOptions, MlopsError } from "@mlops/core";
import { digestHex, sha256Hex } from "@mlops/core/internal";
import { to as copyTo } from "pg-copy-streams";
import type { Database, Queryable } from "./connection.js";

/** Blobs are stored in chunks of this many bytes (the last one shorter). */
export const CHUNK_BYTES = 256 * 1024;

/** A test seam: awaited at points of a write so a test can kill the process or the connection. */
export type PostgresStorePhase =
  | "blob-chunk-written"
  | "version-before-commit"
  | "alias-before-commit";

export type PauseAt = (phase: PostgresStorePhase, subject: string) => Promise<void> | void;

/** Re-cuts a stream into `size`-byte chunks (the last one shorter). */
async function* rechunk(
  source: AsyncIterable<Uint8Array>,
  size: number,
): AsyncIterable<Uint8Array> {
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  for await (const chunk of source) {
    if (!(chunk instanceof Uint8Array)) {
      throw new MlopsError("argument_invalid", "put: every chunk must be a Uint8Array");
    }
    let offset = 0;
    while (offset < chunk.byteLength) {
      const take = Math.min(size - pendingBytes, chunk.byteLength - offset);
      pending.push(chunk.subarray(offset, offset + take));
      pendingBytes += take;
      offset += take;
      if (pendingBytes === size) {
        yield Buffer.concat(pending);
        pending = [];
        pendingBytes = 0;
      }
    }
  }
  if (pendingBytes > 0) yield Buffer.concat(pending);
}

/** The 11-byte signature that opens PostgreSQL's binary COPY format. */
const COPY_SIGNATURE = Buffer.from("PGCOPY\n\xff\r\n\0", "latin1");

/**
 * The rows of a `COPY … TO STDOUT (FORMAT binary)`: each a list of fields, raw bytes or null
 * (subarrays of `bytes`, no copy). Throws on anything that is not that format.
 */
export function parseBinaryCopy(bytes: Buffer): (Buffer | null)[][] {
  const broken = (detail: string): never => {
    throw new Error(`unexpected binary COPY data from PostgreSQL: ${detail}`);
  };
  if (bytes.length < 19 || !bytes.subarray(0, 11).equals(COPY_SIGNATURE)) broken("no signature");
  let offset = 15 + 4 + bytes.readUInt32BE(15);
  const rows: (Buffer | null)[][] = [];
  for (;;) {
    if (offset + 2 > bytes.length) broken("no trailer");
    const fields = bytes.readInt16BE(offset);
    offset += 2;
    if (fields === -1) return rows;
    const row: (Buffer | null)[] = [];
    for (let field = 0; field < fields; field += 1) {
      if (offset + 4 > bytes.length) broken("a field runs past the end");
      const length = bytes.readInt32BE(offset);
      offset += 4;
      if (length === -1) {
        row.push(null);
        continue;
      }
      if (offset + length > bytes.length) broken("a field runs past the end");
      row.push(bytes.subarray(offset, offset + length));
      offset += length;
    }
    rows.push(row);
  }
}

async function* single(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}

/**
 * Blobs in PostgreSQL: `blobs` (one row per sha256 digest) over `blob_chunks` (256 KiB `bytea`
 * pieces). A blob is written in one transaction — whole or not at all, even if the writer is
 * killed — and verified against its digest on every read.
 *
 * @example
 * const { digest } = await store.artifacts.put(bytes);
 * for await (const chunk of store.artifacts.stream(digest)) process.stdout.write(chunk);
 */
export class PostgresArtifactStore implements ArtifactStore {
  readonly #database: Database;
  readonly #pauseAt: PauseAt | undefined;

  constructor(database: Database, options: { pauseAt?: PauseAt } = {}) {
    this.#database = database;
    this.#pauseAt = options.pauseAt;
  }

  async put(content: Uint8Array | AsyncIterable<Uint8Array>): Promise<BlobInfo> {
    if (content instanceof Uint8Array) {
      const digest = `sha256:${sha256Hex(content)}`;
      if (await this.has(digest)) return { digest, sizeBytes: content.byteLength };
      return this.#database.transaction("store a blob", (client) =>
        this.putIn(client, single(content)),
      );
    }
    if (content === null || typeof content !== "object" || !(Symbol.asyncIterator in content)) {
      throw new MlopsError(
        "argument_invalid",
        "put: expected a Uint8Array or an async iterable of Uint8Array chunks",
      );
    }
    return this.#database.transaction("store a blob", (client) => this.putIn(client, content));
  }

  /**
   * Writes a blob inside the caller's transaction (a model version and its bytes commit
   * together). Bytes already stored are not written again.
   */
  async putIn(
    client: Queryable,
    content: AsyncIterable<Uint8Array> | Uint8Array,
  ): Promise<BlobInfo> {
    if (content instanceof Uint8Array) {
      const digest = `sha256:${sha256Hex(content)}`;
      const { rows } = await client.query("SELECT 1 FROM blobs WHERE digest = $1", [digest]);
      if (rows.length > 0) return { digest, sizeBytes: content.byteLength };
      content = single(content);
    }
    const {
      rows: [{ id }],
    } = await client.query<{ id: number }>("SELECT nextval('blob_ids') AS id");
    const hash = createHash("sha256");
    let sizeBytes = 0;
    let chunks = 0;
    for await (const chunk of rechunk(content, CHUNK_BYTES)) {
      hash.update(chunk);
      sizeBytes += chunk.byteLength;
      await client.query("INSERT INTO blob_chunks (blob_id, chunk, data) VALUES ($1, $2, $3)", [
        id,
        chunks,
        Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength),
      ]);
      chunks += 1;
      if (chunks === 1) await this.#pauseAt?.("blob-chunk-written", `blob ${id}`);
    }
    const digest = `sha256:${hash.digest("hex")}`;
    const inserted = await client.query(
      `INSERT INTO blobs (digest, blob_id, size_bytes, chunk_count, created_at)
       VALUES ($1, $2, $3, $4, $5) ON CONFLICT (digest) DO NOTHING RETURNING blob_id`,
      [digest, id, sizeBytes, chunks, Date.now()],
    );
    // Someone stored the same bytes first: theirs stay, ours go.
    if (inserted.rows.length === 0) {
      await client.query("DELETE FROM blob_chunks WHERE blob_id = $1", [id]);
    }
    return { digest, sizeBytes };
  }

  #missing(what: string, digest: string): MlopsError {
    return new MlopsError(
      "artifact_corrupt",
      `${what}: blob ${digest} is missing from PostgreSQL registry ${this.#database.url.display}`,
    );
  }

  #corrupt(what: string, digest: string, actual: string, sizeBytes: number): MlopsError {
    return new MlopsError(
      "artifact_corrupt",
      `${what}: blob ${digest} in PostgreSQL registry ${this.#database.url.display} is corrupt: ` +
        `its ${sizeBytes} bytes hash to sha256:${actual}`,
    );
  }

  async get(digest: string, options: BlobReadOptions = {}): Promise<Uint8Array> {
    const what = options.what ?? `blob ${digest}`;
    digestHex(digest, what);
    // One binary COPY: raw bytes on the wire, where a query's text result would send bytea as
    // hex (twice the bytes, and a string to decode). The digest is checked above (sha256:
    // and 64 hex digits), so it can stand in the statement: COPY takes no parameters.
    const copied = await this.#database.withClient("read a blob", async (client) => {
      const parts: Buffer[] = [];
      const stream = client.query(
        copyTo(
          `COPY (SELECT b.chunk_count, c.chunk, c.data FROM blobs b
           LEFT JOIN blob_chunks c ON c.blob_id = b.blob_id
           WHERE b.digest = '${digest}' ORDER BY c.chunk) TO STDOUT (FORMAT binary)`,
        ),
      );
      for await (const part of stream) parts.push(part as Buffer);
      return parseBinaryCopy(Buffer.concat(parts));
    });
    if (copied.length === 0) throw this.#missing(what, digest);
    const count = copied[0][0]!.readInt32BE(0);
    const parts: Buffer[] = [];
    for (const [, chunk, data] of copied) {
      if (chunk !== null && data !== null && chunk.readInt32BE(0) === parts.length)
        parts.push(data);
    }
    const bytes = Buffer.concat(parts);
    const actual = sha256Hex(bytes);
    if (`sha256:${actual}` !== digest || parts.length !== count) {
      throw this.#corrupt(what, digest, actual, bytes.byteLength);
    }
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  async *stream(digest: string, options: BlobReadOptions = {}): AsyncIterable<Uint8Array> {
    const what = options.what ?? `blob ${digest}`;
    digestHex(digest, what);
    const [blob] = await this.#database.query<{ blob_id: number; chunk_count: number }>(
      "read a blob",
      "SELECT blob_id, chunk_count FROM blobs WHERE digest = $1",
      [digest],
    );
    if (!blob) throw this.#missing(what, digest);
    const hash = createHash("sha256");
    let sizeBytes = 0;
    // One chunk per query: memory stays at one chunk whatever the blob's size.
    for (let chunk = 0; chunk < blob.chunk_count; chunk += 1) {
      const [row] = await this.#database.query<{ data: Buffer }>(
        "read a blob",
        "SELECT data FROM blob_chunks WHERE blob_id = $1 AND chunk = $2",
        [blob.blob_id, chunk],
      );
      if (!row) throw this.#corrupt(what, digest, hash.copy().digest("hex"), sizeBytes);
      hash.update(row.data);
      sizeBytes += row.data.byteLength;
      yield row.data;
    }
    const actual = hash.digest("hex");
    if (`sha256:${actual}` !== digest) throw this.#corrupt(what, digest, actual, sizeBytes);
  }

  async has(digest: string): Promise<boolean> {
    digestHex(digest, `blob ${digest}`);
    const rows = await this.#database.query(
      "look up a blob",
      "SELECT 1 FROM blobs WHERE digest = $1",
      [digest],
    );
    return rows.length > 0;
  }
}
