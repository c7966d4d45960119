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

function tooLarge(limit: number): ServeError {
  return new ServeError(
    "payload_too_large",
    `request body is larger than the limit of ${limit} bytes`,
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
export function readBody(source: RequestSource, limit: number, timeoutMs: number): Promise<string> {
  const declared = header(source, "content-length");
  if (declared !== undefined && Number(declared) > limit) return Promise.reject(tooLarge(limit));
  if (source.incoming !== undefined) return readIncoming(source.incoming, limit, timeoutMs);
  if (source.request === undefined) return Promise.resolve("");
  return readWebBody(source.request, limit, timeoutMs);
}

function readIncoming(incoming: IncomingMessage, limit: number, timeoutMs: number) {
  return new Promise<string>((resolve, reject) => {
    let first: Buffer | undefined;
    let chunks: Buffer[] | undefined;
    let size = 0;
    let done = false;
    const fail = (error: unknown) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      incoming.off("data", onData);
      // What the client still sends is drained (or the connection closed) after the answer.
      incoming.pause();
      reject(error);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) fail(tooLarge(limit));
      else if (first === undefined) first = chunk;
      else if (chunks === undefined) chunks = [first, chunk];
      else chunks.push(chunk);
    };
    // The listeners die with the request; on success only the timer needs clearing.
    incoming.on("data", onData);
    incoming.once("end", () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (first === undefined) resolve("");
      else if (chunks === undefined) resolve(first.toString("utf8"));
      else resolve(Buffer.concat(chunks, size).toString("utf8"));
    });
    // A client that goes away mid-body makes Node destroy the request with an error (emitted
    // only because this listener exists). No "close" listener: it costs ~7 µs per request.
    incoming.once("error", (error: Error) =>
      fail(new ServeError("invalid_request", "request body could not be read", { cause: error })),
    );
    const timer = setTimeout(() => fail(timedOut(timeoutMs)), timeoutMs);
  });
}

async function readWebBody(request: Request, limit: number, timeoutMs: number): Promise<string> {
  const body = request.body;
  if (body === null) return "";
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
  return Buffer.concat(chunks, size).toString("utf8");
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
