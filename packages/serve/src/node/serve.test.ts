import { request as httpRequest } from "node:http";
import { connect } from "node:net";
import { Hono } from "hono";
import { afterEach, describe, expect, it } from "vitest";
import { createInferenceApp } from "../app/app.js";
import { NODE_FAST_PATH } from "../app/fast-path.js";
import { ServeError } from "../errors.js";
import {
  byHand,
  constantArtifact,
  deferred,
  gatedRuntime,
  json,
  linearArtifact,
  tempRegistry,
  waitFor,
} from "../testing/fixtures.js";
import { type RunningServer, serve, toNodeListener } from "./serve.js";

const row = { rooms: 2, area: 10, color: "red" };
const servers: RunningServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function start(...args: Parameters<typeof serve>): Promise<RunningServer> {
  const server = await serve(args[0], { port: 0, ...args[1] });
  servers.push(server);
  return server;
}

function postJson(url: string, body: unknown): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

/** Resolves with the error code of a fresh TCP connection (or "connected"). */
function tryConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve("connected");
    });
    socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? "error"));
  });
}

describe("serve() over real HTTP on 127.0.0.1", () => {
  it("answers every protocol from a registry model", async () => {
    const temp = await tempRegistry();
    try {
      const app = createInferenceApp({
        registry: temp.registry,
        models: ["houses@production"],
        metrics: { processMetrics: false },
      });
      await app.ready;
      const server = await start(app);
      expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
      expect((await fetch(`${server.url}/v2/health/ready`)).status).toBe(200);

      const named = await postJson(`${server.url}/v1/models/houses/predict`, row);
      expect(named.status).toBe(200);
      expect(named.headers.get("x-model-version")).toBe("1");
      expect(await json(named)).toMatchObject({ predictions: [byHand(row)] });

      const oip = await postJson(`${server.url}/v2/models/houses/infer`, {
        id: "e2e",
        inputs: [
          { name: "rooms", shape: [1], datatype: "INT64", data: [2] },
          { name: "area", shape: [1], datatype: "FP64", data: [10] },
          { name: "color", shape: [1], datatype: "BYTES", data: ["red"] },
        ],
      });
      expect(await json(oip)).toEqual({
        model_name: "houses",
        model_version: "1",
        id: "e2e",
        outputs: [{ name: "predict", datatype: "FP64", shape: [1], data: [byHand(row)] }],
      });

      const csv = await fetch(`${server.url}/invocations`, {
        method: "POST",
        headers: { "content-type": "text/csv" },
        body: "rooms,area,color\n2,10,red\n",
      });
      expect(await json(csv)).toEqual({ predictions: [byHand(row)] });

      const invalid = await postJson(`${server.url}/v1/models/houses/predict`, {
        ...row,
        rooms: 0,
      });
      expect(invalid.status).toBe(422);
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      expect(metrics).toContain(
        'mlops_requests_total{model="houses",version="1",route="v1_predict",status="422"} 1',
      );
    } finally {
      await temp.cleanup();
    }
  });

  it("413 while a chunked body is still arriving, before the client finished", async () => {
    const app = createInferenceApp({
      models: [{ name: "houses", artifact: linearArtifact() }],
      metrics: false,
      limits: { maxBodyBytes: 10_000, timeoutMs: 600_000 },
    });
    const server = await start(app);
    // A chunked body (no content-length) of more than the limit, never ended: the answer can
    // only come from the limit, not from the end of the body or the body deadline.
    const result = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(
        `${server.url}/v1/models/houses/predict`,
        { method: "POST", headers: { "content-type": "application/json" } },
        (res) => {
          let body = "";
          res.on("data", (chunk) => {
            body += chunk;
          });
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on("error", reject);
      req.write(`[${"1,".repeat(6_000)}`);
    });
    expect(result.status).toBe(413);
    expect(JSON.parse(result.body).error.code).toBe("payload_too_large");
  });

  it("503 timeout for a body that stops arriving, and pooled large bodies", async () => {
    const app = createInferenceApp({
      models: [{ name: "houses", artifact: linearArtifact() }],
      metrics: false,
      limits: { timeoutMs: 100 },
    });
    const server = await start(app);
    const stalled = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(
        `${server.url}/v1/models/houses/predict`,
        { method: "POST", headers: { "content-type": "application/json", "content-length": 100 } },
        (res) => {
          let body = "";
          res.on("data", (chunk) => {
            body += chunk;
          });
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on("error", reject);
      // 10 of the 100 bytes promised, then nothing.
      req.write('{"rooms": ');
    });
    expect(stalled.status).toBe(503);
    expect(JSON.parse(stalled.body).error.code).toBe("timeout");

    // A large body arrives in several chunks (copied into a reused buffer): the same answers.
    const rows = Array.from({ length: 3000 }, (_, i) => ({ ...row, rooms: 1 + (i % 5) }));
    for (let round = 0; round < 3; round++) {
      const response = await postJson(`${server.url}/v1/models/houses/predict`, { rows });
      expect((await json(response)).predictions).toEqual(rows.map((r) => byHand(r)));
    }
  });

  it("graceful shutdown: in-flight requests finish, new connections are refused", async () => {
    const gate = deferred();
    const app = createInferenceApp({
      models: [{ name: "slow", artifact: constantArtifact(5) }],
      runtimes: [gatedRuntime({ predict: () => gate.promise })],
      metrics: false,
    });
    await app.ready;
    const server = await start(app, { drainTimeoutMs: 5_000 });
    const inFlight = postJson(`${server.url}/v1/models/slow/predict`, { rows: [row] });
    await waitFor(() => app.inFlight === 1);

    const closed = server.close();
    expect(await tryConnect(server.port)).toBe("ECONNREFUSED");
    gate.resolve();
    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(response.headers.get("connection")).toBe("close");
    expect((await json(response)).predictions).toEqual([5]);
    await closed;
    expect(server.server.listening).toBe(false);
  });

  it("graceful shutdown gives up on requests still running after drainTimeoutMs", async () => {
    const app = createInferenceApp({
      models: [{ name: "stuck", artifact: constantArtifact(5) }],
      runtimes: [gatedRuntime({ predict: () => new Promise(() => {}) })],
      metrics: false,
      limits: { timeoutMs: 60_000 },
    });
    await app.ready;
    const server = await start(app, { drainTimeoutMs: 150 });
    const inFlight = postJson(`${server.url}/v1/models/stuck/predict`, { rows: [row] }).then(
      (response) => response.status,
      () => "socket closed",
    );
    await waitFor(() => app.inFlight === 1);
    // The model never answers: only the drain deadline can end the shutdown, with the request
    // still running and its connection closed.
    await server.close();
    expect(server.server.listening).toBe(false);
    expect(app.inFlight).toBe(1);
    expect(await inFlight).toBe("socket closed");
  });

  it("SIGTERM (handleSignals) drains, closes the app and exits with 0", async () => {
    const app = createInferenceApp({
      models: [{ name: "houses", artifact: linearArtifact() }],
      metrics: false,
    });
    const exited = deferred<number>();
    const before = process.listenerCount("SIGTERM");
    const server = await start(app, { handleSignals: true, exit: (code) => exited.resolve(code) });
    expect(process.listenerCount("SIGTERM")).toBe(before + 1);
    process.emit("SIGTERM");
    expect(await exited.promise).toBe(0);
    expect(server.server.listening).toBe(false);
    expect(process.listenerCount("SIGTERM")).toBe(before);
    expect(await tryConnect(server.port)).toBe("ECONNREFUSED");
  });

  it("an AbortSignal shuts it down", async () => {
    const app = createInferenceApp({
      models: [{ name: "houses", artifact: linearArtifact() }],
      metrics: false,
    });
    const controller = new AbortController();
    const server = await start(app, { signal: controller.signal });
    expect((await fetch(`${server.url}/v2/health/live`)).status).toBe(200);
    controller.abort();
    await server.close();
    expect(server.server.listening).toBe(false);
  });
});

describe("Node fast path and Hono path", () => {
  it("guards refuse on both paths; middleware moves predictions to Hono", async () => {
    const events: unknown[] = [];
    const guarded = createInferenceApp({
      models: [{ name: "houses", artifact: linearArtifact() }],
      metrics: false,
      guards: [
        (request) => {
          if (request.route.scope === "health") return;
          if (request.header("x-api-key") !== "k1") {
            throw new ServeError("unauthorized", "missing or wrong API key");
          }
        },
      ],
      onPrediction: (event) => events.push(event),
    });
    const withMiddleware = createInferenceApp({
      models: [{ name: "houses", artifact: linearArtifact() }],
      metrics: false,
      middleware: [
        async (c, next) => {
          await next();
          c.res.headers.set("x-seen-by", c.get("route").name);
        },
      ],
    });
    expect(guarded[NODE_FAST_PATH]).toBeDefined();
    expect(withMiddleware[NODE_FAST_PATH]).toBeUndefined();
    const fast = await start(guarded);
    const hono = await start(withMiddleware);
    const denied = await postJson(`${fast.url}/v1/models/houses/predict`, row);
    expect(denied.status).toBe(401);
    expect(await json(denied)).toEqual({
      error: { code: "unauthorized", message: "missing or wrong API key" },
    });
    const deniedOip = await postJson(`${fast.url}/v2/models/houses/infer`, {});
    expect(await json(deniedOip)).toEqual({ error: "missing or wrong API key" });
    expect((await fetch(`${fast.url}/v2/health/ready`)).status).toBe(200);
    expect((await fetch(`${fast.url}/v1/models`)).status).toBe(401);
    const allowed = await fetch(`${fast.url}/v1/models/houses/predict?ignored=1`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": "k1", "x-request-id": "r-7" },
      body: JSON.stringify(row),
    });
    expect(await json(allowed)).toEqual({
      predictions: [byHand(row)],
      model: { name: "houses", version: "1" },
      id: "r-7",
    });
    expect(events).toEqual([
      {
        route: "v1_predict",
        method: "POST",
        path: "/v1/models/houses/predict",
        requestId: "r-7",
        model: "houses",
        version: "1",
        status: 200,
        rows: 1,
        seconds: expect.any(Number),
        error: undefined,
      },
    ]);
    const viaHono = await postJson(`${hono.url}/v1/models/houses/predict`, row);
    expect(viaHono.headers.get("x-seen-by")).toBe("v1_predict");
    expect((await json(viaHono)).predictions).toEqual([byHand(row)]);
    const percent = await postJson(`${hono.url}/v1/models/hou%73es/predict`, row);
    expect(percent.status).toBe(200);
    const percentFast = await fetch(`${fast.url}/v1/models/hou%73es/predict`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": "k1" },
      body: JSON.stringify(row),
    });
    expect(percentFast.status).toBe(200);
  });

  it("/invocations picks the model named by ?model= or x-model on the fast path", async () => {
    const app = createInferenceApp({
      models: [
        { name: "a", artifact: linearArtifact(0) },
        { name: "b", artifact: linearArtifact(1000) },
      ],
      metrics: false,
    });
    const server = await start(app);
    const body = { dataframe_records: [row] };
    const byQuery = await postJson(`${server.url}/invocations?x=1&model=b`, body);
    expect(await json(byQuery)).toEqual({ predictions: [byHand(row, 1000)] });
    const byHeader = await fetch(`${server.url}/invocations`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-model": "a" },
      body: JSON.stringify(body),
    });
    expect(await json(byHeader)).toEqual({ predictions: [byHand(row, 0)] });
    const none = await postJson(`${server.url}/invocations`, body);
    expect(none.status).toBe(400);
  });

  it("a client that goes away mid-body frees its slot at once", async () => {
    const app = createInferenceApp({
      models: [{ name: "houses", artifact: linearArtifact() }],
      metrics: false,
      limits: { timeoutMs: 60_000 },
    });
    const server = await start(app);
    const request = httpRequest(`${server.url}/v1/models/houses/predict`, {
      method: "POST",
      headers: { "content-type": "application/json", "content-length": "1000" },
    });
    request.on("error", () => {});
    request.write('{"rooms": 2,');
    await waitFor(() => app.inFlight === 1);
    request.destroy();
    // Freed by the close, long before the 60 s body deadline could (the test's own timeout).
    await waitFor(() => app.inFlight === 0);
    expect(app.inFlight).toBe(0);
  });
});

describe("embedding", () => {
  it("mounts under a parent Hono app and a plain node:http server", async () => {
    const app = createInferenceApp({
      models: [{ name: "houses", artifact: linearArtifact() }],
      metrics: false,
    });
    const parent = new Hono();
    parent.get("/", (c) => c.text("shop"));
    parent.mount("/ml", app.fetch);
    const { serve: honoServe } = await import("@hono/node-server");
    const { createServer } = await import("node:http");
    const honoServer = honoServe({ fetch: parent.fetch, port: 0, hostname: "127.0.0.1" });
    const nodeServer = createServer(toNodeListener(app)).listen(0, "127.0.0.1");
    try {
      await new Promise((resolve) => honoServer.once("listening", resolve));
      if (!nodeServer.listening)
        await new Promise((resolve) => nodeServer.once("listening", resolve));
      for (const [server, prefix] of [
        [honoServer, "/ml"],
        [nodeServer, ""],
      ] as const) {
        const { port } = server.address() as { port: number };
        const response = await postJson(
          `http://127.0.0.1:${port}${prefix}/v1/models/houses/predict`,
          row,
        );
        expect(response.status).toBe(200);
        expect((await json(response)).predictions).toEqual([byHand(row)]);
      }
    } finally {
      honoServer.close();
      nodeServer.close();
      (honoServer as import("node:http").Server).closeAllConnections();
      nodeServer.closeAllConnections();
    }
  });
});
