import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { RunningUi, UiServerOptions } from "@mlops/core/internal";
import { createUiApp } from "./app.js";

async function toRequest(incoming: IncomingMessage, origin: string): Promise<Request> {
  const headers = new Headers();
  for (const [name, value] of Object.entries(incoming.headers)) {
    if (Array.isArray(value)) for (const item of value) headers.append(name, item);
    else if (value !== undefined) headers.set(name, value);
  }
  const method = incoming.method ?? "GET";
  let body: ArrayBuffer | undefined;
  if (method !== "GET" && method !== "HEAD") {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of incoming) {
      size += (chunk as Buffer).length;
      if (size > 1 << 20) throw new Error("request body over 1 MiB");
      chunks.push(chunk as Buffer);
    }
    const joined = Buffer.concat(chunks);
    body = joined.buffer.slice(
      joined.byteOffset,
      joined.byteOffset + joined.byteLength,
    ) as ArrayBuffer;
  }
  return new Request(new URL(incoming.url ?? "/", origin), { method, headers, body });
}

async function send(response: Response, outgoing: ServerResponse, head: boolean): Promise<void> {
  outgoing.statusCode = response.status;
  for (const [name, value] of response.headers) outgoing.setHeader(name, value);
  const bytes = head ? undefined : Buffer.from(await response.arrayBuffer());
  outgoing.end(bytes);
}

/**
 * Starts `mlops ui` on 127.0.0.1 (by default; a `host` other than a loopback address must be
 * asked for) and resolves once it listens, with its URL and `close()`.
 *
 * @example
 * const ui = await startUi({ store: (await openRegistry()).store, port: 0 });
 * console.log(ui.url); // http://127.0.0.1:41234/
 * await ui.close();
 */
export async function startUi(options: UiServerOptions): Promise<RunningUi> {
  const host = options.host ?? "127.0.0.1";
  const app = createUiApp({
    store: options.store,
    location: options.location,
    writable: options.writable,
  });
  let origin = "";
  const allowedHosts = new Set<string>();
  const server = createServer((incoming, outgoing) => {
    // A page on another site that rebinds its DNS name to 127.0.0.1 sends its own Host: refused.
    if (!allowedHosts.has(incoming.headers.host ?? "")) {
      outgoing.statusCode = 421;
      outgoing.setHeader("content-type", "text/plain; charset=utf-8");
      outgoing.end(`mlops ui answers only at ${origin}\n`);
      return;
    }
    toRequest(incoming, origin)
      .then((request) => app.fetch(request))
      .then((response) => send(response, outgoing, incoming.method === "HEAD"))
      .catch((error: Error) => {
        if (!outgoing.headersSent) outgoing.statusCode = 500;
        outgoing.end(error.message);
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 5000, host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : options.port;
  const shown = host.includes(":") ? `[${host}]` : host;
  origin = `http://${shown}:${port}`;
  allowedHosts.add(`${shown}:${port}`);
  if (host === "127.0.0.1" || host === "::1") allowedHosts.add(`localhost:${port}`);
  // The first page should not wait for a large registry to be read.
  app.warm().catch(() => {});
  return {
    url: `${origin}/`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
