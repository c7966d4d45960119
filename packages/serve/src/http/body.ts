import type { IncomingMessage } from "node:http";
import { ServeError } from "../errors.js";

/**
 * The request as the routes need it: headers and the body, read with a size limit. Under the
 * Node adapter it reads straight from Node's `IncomingMessage` (no web-stream layer, no
 * `Headers` object); elsewhere from the web `Request`. At least one of the two is present.
 */
export interface RequestSource {
  /** Present when the app runs on Node and the body is still unread. */
  readonly incoming?: IncomingMessage;
  readonly request?: Request;
  /** The request id, once one was chosen (`requestId`). */
  id?: string;
}

/** The Node request behind `env` (the node-server bindings), if its body can still be read. */
export function nodeIncoming(env: unknown): IncomingMessage | undefined {
  const incoming = (env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (
    incoming === undefined ||
    typeof incoming !== "object" ||
    typeof incoming.on !== "function" ||
    typeof incoming.headers !== "object" ||
    // Someone upstream (a parent app's middleware) started reading it: use the web Request.
    incoming.readableDidRead ||
    incoming.readableEnded ||
    incoming.readableFlowing !== null
  ) {
    return undefined;
  }
  return incoming;
}

/** A request header (lower-case name), without building a `Headers` object under Node. */
export function header(source: RequestSource, name: string): string | undefined {
  if (source.incoming !== undefined) {
    const value = source.incoming.headers[name];
    return Array.isArray(value) ? value.join(", ") : value;
  }
  return source.request?.headers.get(name) ?? undefined;
}

/** A byte count as people write it: 1048576 → "1 MiB". */
function sizeText(bytes: number): string {
  if (bytes >= 1024 ** 2 && bytes % 1024 ** 2 === 0) return `${bytes / 1024 ** 2} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}

function tooLarge(limit: number): ServeError {
  return new ServeError(
    "payload_too_large",
    `request body is larger than the limit of ${limit} bytes` +
      `${limit >= 1024 ? ` (${sizeText(limit)})` : ""}: send fewer rows per request, raise the ` +
      "limit (mlops-serve --max-body 8mb, or limits.maxBodyBytes), or score a large file " +
      "offline in batches with mlops-predict",
    { headers: { connection: "close" } },
  );
}

function timedOut(timeoutMs: number): ServeError {
  return new ServeError("timeout", `request body not received within ${timeoutMs} ms`);
}

/**
 * Reads the whole body as UTF-8 text, failing with 413 as soon as more than `limit` bytes have
 * arrived (a `Content-Length` over the limit fails before reading anything), and with 503
 * `timeout` when it has not arrived within `timeoutMs`.
 */
export async function readBody(
  source: RequestSource,
  limit: number,
  timeoutMs: number,
): Promise<string> {
  const body = await readBodyBytes(source, limit, timeoutMs);
  const text = body.bytes.toString("utf8");
  body.recycle?.();
  return text;
}

/** A request body as bytes; `recycle` (when set) hands its memory back once it is parsed. */
export interface BodyBytes {
  readonly bytes: Buffer;
  recycle?(): void;
}

/** As `readBody`, the bytes as they came (for parsers that read bytes). */
export function readBodyBytes(
  source: RequestSource,
  limit: number,
  timeoutMs: number,
): Promise<BodyBytes> {
  const declared = header(source, "content-length");
  if (declared !== undefined && Number(declared) > limit) return Promise.reject(tooLarge(limit));
  if (source.incoming !== undefined) {
    return readIncoming(source.incoming, limit, timeoutMs, Number(declared));
  }
  if (source.request === undefined) return Promise.resolve({ bytes: EMPTY });
  return readWebBody(source.request, limit, timeoutMs).then((bytes) => ({ bytes }));
}

const EMPTY = Buffer.alloc(0);

/**
 * Reusable buffers for large bodies, by power-of-two size: a body that arrives in several
 * chunks is copied into one of them instead of a fresh `Buffer.concat` per request (a stream
 * of large external allocations sets off full garbage collections).
 */
const POOL_MIN = 64 * 1024;
const POOL_MAX = 16 * 1024 * 1024;
const POOL_PER_SIZE = 4;
const pool = new Map<number, Buffer[]>();

function sizeClass(size: number): number {
  let capacity = POOL_MIN;
  while (capacity < size) capacity *= 2;
  return capacity;
}

function takeBuffer(size: number): Buffer {
  return pool.get(sizeClass(size))?.pop() ?? Buffer.allocUnsafe(sizeClass(size));
}

function giveBuffer(buffer: Buffer): void {
  const free = pool.get(buffer.length);
  if (free === undefined) pool.set(buffer.length, [buffer]);
  else if (free.length < POOL_PER_SIZE) free.push(buffer);
}

function readIncoming(
  incoming: IncomingMessage,
  limit: number,
  timeoutMs: number,
  declared: number,
): Promise<BodyBytes> {
  return new Promise<BodyBytes>((resolve, reject) => {
    let first: Buffer | undefined;
    let chunks: Buffer[] | undefined;
    // With a declared length worth pooling, chunks are copied into one reused buffer.
    let pooled: Buffer | undefined;
    let size = 0;
    let done = false;
    const fail = (error: unknown) => {
      if (done) return;
      done = true;
      reads.delete(read);
      incoming.off("data", onData);
      if (pooled !== undefined) giveBuffer(pooled);
      // What the client still sends is drained (or the connection closed) after the answer.
      incoming.pause();
      reject(error);
    };
    const onData = (chunk: Buffer) => {
      const before = size;
      size += chunk.length;
      if (size > limit) fail(tooLarge(limit));
      else if (first === undefined) first = chunk;
      else if (pooled !== undefined) {
        if (size <= pooled.length) chunk.copy(pooled, before);
        else {
          // More than declared: back to a list of chunks.
          chunks = [pooled.subarray(0, before), chunk];
          pooled = undefined;
        }
      } else if (chunks !== undefined) chunks.push(chunk);
      else if (declared >= POOL_MIN && declared <= POOL_MAX) {
        pooled = takeBuffer(declared);
        first.copy(pooled, 0);
        if (size <= pooled.length) chunk.copy(pooled, first.length);
        else {
          chunks = [first, chunk];
          giveBuffer(pooled);
          pooled = undefined;
        }
      } else chunks = [first, chunk];
    };
    // The listeners die with the request; on success only the timer needs clearing.
    incoming.on("data", onData);
    incoming.on("end", () => {
      if (done) return;
      done = true;
      reads.delete(read);
      if (first === undefined) resolve({ bytes: EMPTY });
      else if (pooled !== undefined) {
        const buffer = pooled;
        resolve({ bytes: buffer.subarray(0, size), recycle: () => giveBuffer(buffer) });
      } else if (chunks === undefined) resolve({ bytes: first });
      else resolve({ bytes: Buffer.concat(chunks, size) });
    });
    // A client that goes away mid-body makes Node destroy the request with an error (emitted
    // only because this listener exists). No "close" listener: it costs ~7 µs per request.
    incoming.on("error", (error: Error) =>
      fail(new ServeError("invalid_request", "request body could not be read", { cause: error })),
    );
    const read: PendingRead = {
      deadline: performance.now() + timeoutMs,
      expire: () => fail(timedOut(timeoutMs)),
    };
    watchRead(read);
  });
}

/** A body being read, and what to do when its deadline passes. */
interface PendingRead {
  readonly deadline: number;
  expire(): void;
}

/**
 * Bodies still arriving, checked against their deadlines by one shared timer every
 * `SWEEP_MS` (a timer per request cost more than the rest of reading a small body). A body
 * that is late is refused within `SWEEP_MS` of its deadline.
 */
const reads = new Set<PendingRead>();
const SWEEP_MS = 25;
let sweeper: ReturnType<typeof setInterval> | undefined;

function watchRead(read: PendingRead): void {
  reads.add(read);
  if (sweeper === undefined) {
    sweeper = setInterval(sweep, SWEEP_MS);
    sweeper.unref?.();
  }
}

function sweep(): void {
  const now = performance.now();
  for (const read of reads) if (now >= read.deadline) read.expire();
  if (reads.size === 0 && sweeper !== undefined) {
    clearInterval(sweeper);
    sweeper = undefined;
  }
}

async function readWebBody(request: Request, limit: number, timeoutMs: number): Promise<Buffer> {
  const body = request.body;
  if (body === null) return Buffer.alloc(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timedOut(timeoutMs)), timeoutMs);
  });
  try {
    while (true) {
      const { done, value } = await Promise.race([reader.read(), deadline]);
      if (done) break;
      size += value.byteLength;
      if (size > limit) throw tooLarge(limit);
      chunks.push(value);
    }
  } catch (error) {
    reader.cancel().catch(() => {});
    if (ServeError.isInstance(error)) throw error;
    throw new ServeError("invalid_request", "request body could not be read", { cause: error });
  } finally {
    clearTimeout(timer);
  }
  return Buffer.concat(chunks, size);
}

/** The media type of `Content-Type`, lower case, without parameters (`""` when absent). */
export function mediaType(contentType: string | undefined): string {
  if (contentType === undefined) return "";
  const semicolon = contentType.indexOf(";");
  return (semicolon < 0 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
}

/** True for `application/json` and `application/*+json`. */
export function isJsonType(type: string): boolean {
  return type === "application/json" || (type.startsWith("application/") && type.endsWith("+json"));
}

/** Throws 415 unless the request says it sends JSON. */
export function requireJson(source: RequestSource): void {
  const type = mediaType(header(source, "content-type"));
  if (!isJsonType(type)) {
    throw new ServeError(
      "unsupported_media_type",
      `expected Content-Type application/json, got ${type === "" ? "none" : JSON.stringify(type)}`,
    );
  }
}

/** Parses JSON text; 400 `malformed_json` with the parser's reason when it is not JSON. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ServeError("malformed_json", `request body is not valid JSON: ${reason}`);
  }
}
