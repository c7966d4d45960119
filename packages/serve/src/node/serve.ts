import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { getRequestListener } from "@hono/node-server";
import type { InferenceApp } from "../app/app.js";
import { NODE_FAST_PATH } from "../app/fast-path.js";

type NodeListener = (incoming: IncomingMessage, outgoing: ServerResponse) => Promise<void>;

/**
 * The app as a Node `(req, res)` listener, for `http.createServer`, Express or Fastify's raw
 * handler. Prediction routes are answered straight from Node's request (the fast path, unless
 * the app has Hono middleware); everything else goes through `@hono/node-server`.
 *
 * @example
 * import { createServer } from "node:http";
 * createServer(toNodeListener(app)).listen(8080);
 * // Express: expressApp.use("/ml", toNodeListener(app));
 */
export function toNodeListener(
  app: Pick<InferenceApp, "fetch"> & Partial<Pick<InferenceApp, typeof NODE_FAST_PATH>>,
): NodeListener {
  const hono = getRequestListener((request, env) => app.fetch(request, env));
  const fast = app[NODE_FAST_PATH];
  if (fast === undefined) return hono;
  return (incoming, outgoing) => {
    if (fast(incoming, outgoing)) return Promise.resolve();
    return hono(incoming, outgoing);
  };
}

export interface ServeOptions {
  /** Port to listen on (default 8080; 0 picks a free one). */
  port?: number;
  /** Interface to bind (default `"127.0.0.1"`; `"0.0.0.0"` to accept outside connections). */
  host?: string;
  /** Aborting it shuts the server down gracefully. */
  signal?: AbortSignal;
  /** How long shutdown waits for in-flight requests before closing connections (default 10 s). */
  drainTimeoutMs?: number;
  /**
   * Shut down gracefully on SIGTERM and SIGINT, then exit with code 0 (default false: a
   * library leaves the process's signals alone unless asked).
   */
  handleSignals?: boolean;
  /** Called with the exit code after a signal-triggered shutdown (default `process.exit`). */
  exit?: (code: number) => void;
  /**
   * Serve HTTPS with this certificate chain and private key (PEM text or bytes, as
   * `tls.createSecureContext` takes them); the URL becomes `https://`.
   */
  tls?: { cert: string | Uint8Array; key: string | Uint8Array };
}

/** A running server. */
export interface RunningServer {
  /** `http://host:port`, or `https://host:port` with `tls`. */
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  /**
   * Graceful shutdown: stops accepting connections, lets in-flight requests finish (up to
   * `drainTimeoutMs`, then closes what is left), closes idle keep-alive connections; resolves
   * once the server is closed. Calling it again returns the same promise.
   */
  close(): Promise<void>;
}

/**
 * Runs the app on Node with `@hono/node-server` and resolves once it listens.
 *
 * @example
 * const app = createInferenceApp({ registry: ".mlops", models: ["wine@production"] });
 * await app.ready;
 * const server = await serve(app, { port: 8080, handleSignals: true });
 * console.log(`listening on ${server.url}`);
 */
export async function serve(app: InferenceApp, options: ServeOptions = {}): Promise<RunningServer> {
  const host = options.host ?? "127.0.0.1";
  const drainTimeoutMs = options.drainTimeoutMs ?? 10_000;
  const listener = toNodeListener(app);
  let closing: Promise<void> | undefined;
  const active = new Set<ServerResponse>();
  let drained: (() => void) | undefined;
  // One shared listener (not a closure per request): `this` is the response.
  function onClose(this: ServerResponse) {
    active.delete(this);
    if (active.size === 0) drained?.();
  }
  const handle = (incoming: IncomingMessage, outgoing: ServerResponse) => {
    active.add(outgoing);
    outgoing.on("close", onClose);
    // During shutdown every answer tells the client to reconnect elsewhere.
    if (closing !== undefined) outgoing.shouldKeepAlive = false;
    void listener(incoming, outgoing);
  };
  // An HTTPS server is an HTTP server over TLS: the same requests, responses and close methods.
  const server: Server = options.tls
    ? (createHttpsServer(
        { cert: toPem(options.tls.cert), key: toPem(options.tls.key) },
        handle,
      ) as unknown as Server)
    : createServer(handle);
  // Keep-alive connections outlive a load balancer's idle timeout (60 s on AWS ALB), and the
  // header timeout outlives keep-alive.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 8080, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const urlHost = address.family === "IPv6" ? `[${address.address}]` : address.address;

  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      const finished = new Promise<void>((done) => server.close(() => done()));
      server.closeIdleConnections();
      for (const outgoing of active) if (!outgoing.headersSent) outgoing.shouldKeepAlive = false;
      const allDone = new Promise<void>((done) => {
        if (active.size === 0) done();
        else drained = done;
      });
      const timer = setTimeout(() => server.closeAllConnections(), drainTimeoutMs);
      timer.unref();
      void allDone.then(() => {
        // Connections kept alive by finished requests are idle now.
        server.closeIdleConnections();
      });
      void finished.then(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    return closing;
  };

  const onAbort = () => void close();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (options.signal?.aborted) void close();
  if (options.handleSignals) {
    const exit = options.exit ?? ((code: number) => process.exit(code));
    const onSignal = () => {
      process.off("SIGTERM", onSignal);
      process.off("SIGINT", onSignal);
      void close()
        .then(() => app.close({ timeoutMs: drainTimeoutMs }))
        .then(() => exit(0));
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
    server.once("close", () => {
      process.off("SIGTERM", onSignal);
      process.off("SIGINT", onSignal);
    });
  }
  server.once("close", () => options.signal?.removeEventListener("abort", onAbort));

  const scheme = options.tls ? "https" : "http";
  return { url: `${scheme}://${urlHost}:${address.port}`, port: address.port, server, close };
}

function toPem(value: string | Uint8Array): string | Buffer {
  return typeof value === "string"
    ? value
    : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}
