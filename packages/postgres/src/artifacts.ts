import { createHash } from "node:crypto";
import { type ArtifactStore, type BlobInfo, type BlobReadOptions, MlopsError } from "@mlops/core";
import { digestHex, sha256Hex } from "@mlops/core/internal";
import type pg from "pg";
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
 * Reads PostgreSQL's binary COPY format as it arrives: `push` the stream's buffers (cut
 * anywhere) and get back the rows completed so far, each a list of fields, raw bytes or null;
 * `end` checks that the trailer came. At most one unfinished row is held.
 */
export class BinaryCopyReader {
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #headerRead = false;
  #ended = false;

  #broken(detail: string): never {
    throw new Error(`unexpected binary COPY data from PostgreSQL: ${detail}`);
  }

  push(part: Buffer): (Buffer | null)[][] {
    if (this.#ended) this.#broken("data after the trailer");
    this.#pending.push(part);
    this.#pendingBytes += part.length;
    const bytes = this.#pending.length === 1 ? part : Buffer.concat(this.#pending);
    let offset = 0;
    const rows: (Buffer | null)[][] = [];
    if (!this.#headerRead) {
      if (bytes.length < 19) return this.#keep(bytes, offset, rows);
      if (!bytes.subarray(0, 11).equals(COPY_SIGNATURE)) this.#broken("no signature");
      const header = 19 + bytes.readUInt32BE(15);
      if (bytes.length < header) return this.#keep(bytes, offset, rows);
      offset = header;
      this.#headerRead = true;
    }
    for (;;) {
      if (offset + 2 > bytes.length) break;
      const fields = bytes.readInt16BE(offset);
      if (fields === -1) {
        this.#ended = true;
        offset += 2;
        break;
      }
      // The whole row, or wait for more.
      let end = offset + 2;
      const row: (Buffer | null)[] = [];
      for (let field = 0; field < fields && end !== -1; field += 1) {
        if (end + 4 > bytes.length) {
          end = -1;
          break;
        }
        const length = bytes.readInt32BE(end);
        end += 4;
        if (length === -1) {
          row.push(null);
        } else if (end + length > bytes.length) {
          end = -1;
        } else {
          row.push(bytes.subarray(end, end + length));
          end += length;
        }
      }
      if (end === -1) break;
      rows.push(row);
      offset = end;
    }
    return this.#keep(bytes, offset, rows);
  }

  #keep(bytes: Buffer, offset: number, rows: (Buffer | null)[][]): (Buffer | null)[][] {
    const rest = bytes.subarray(offset);
    this.#pending = rest.length > 0 ? [rest] : [];
    this.#pendingBytes = rest.length;
    return rows;
  }

  end(): void {
    if (!this.#ended)
      this.#broken(this.#pendingBytes > 0 ? "a field runs past the end" : "no trailer");
    if (this.#pendingBytes > 0) this.#broken("data after the trailer");
  }
}

/**
 * The rows of a whole `COPY … TO STDOUT (FORMAT binary)`: each a list of fields, raw bytes or
 * null. Throws on anything that is not that format.
 */
export function parseBinaryCopy(bytes: Buffer): (Buffer | null)[][] {
  const reader = new BinaryCopyReader();
  const rows = reader.push(bytes);
  reader.end();
  return rows;
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
    let chunks = 0;
    let client: pg.PoolClient;
    try {
      client = await this.#database.pool.connect();
    } catch (error) {
      throw this.#database.translate(error, "read a blob");
    }
    // A reader that stops early leaves the COPY unfinished: that connection is not reused.
    let finished = false;
    try {
      // One binary COPY, read as it arrives: memory stays at about one chunk whatever the
      // blob's size (the stream pauses the connection while the reader is busy).
      const copy = client.query(
        copyTo(
          `COPY (SELECT chunk, data FROM blob_chunks WHERE blob_id = ${Number(blob.blob_id)}
           ORDER BY chunk) TO STDOUT (FORMAT binary)`,
        ),
      );
      const reader = new BinaryCopyReader();
      const rows = async function* () {
        for await (const part of copy) yield* reader.push(part as Buffer);
        reader.end();
      };
      let iterator: AsyncIterator<(Buffer | null)[]>;
      try {
        iterator = rows()[Symbol.asyncIterator]();
      } catch (error) {
        throw this.#database.translate(error, "read a blob");
      }
      for (;;) {
        let next: IteratorResult<(Buffer | null)[]>;
        try {
          next = await iterator.next();
        } catch (error) {
          throw this.#database.translate(error, "read a blob");
        }
        if (next.done) {
          finished = true;
          break;
        }
        const [chunk, data] = next.value;
        if (chunk === null || data === null || chunk.readInt32BE(0) !== chunks) break;
        hash.update(data);
        sizeBytes += data.byteLength;
        chunks += 1;
        yield data;
      }
    } finally {
      client.release(finished ? undefined : true);
    }
    const actual = hash.digest("hex");
    if (`sha256:${actual}` !== digest || chunks !== blob.chunk_count) {
      throw this.#corrupt(what, digest, actual, sizeBytes);
    }
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
