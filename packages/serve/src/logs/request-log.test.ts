import { afterEach, describe, expect, it, vi } from "vitest";
import { createInferenceApp, type InferenceAppOptions } from "../app/app.js";
import { hashApiKey } from "../auth/api-keys.js";
import { type RunningServer, serve } from "../node/serve.js";
import { byHand, get, json, linearArtifact, post } from "../testing/fixtures.js";
import type { RequestLogLine } from "./request-log.js";

const row = { rooms: 2, area: 10, color: "red" };
const servers: RunningServer[] = [];

afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

function loggedApp(options: Partial<InferenceAppOptions> = {}) {
  const lines: string[] = [];
  const app = createInferenceApp({
    models: [{ name: "houses", artifact: linearArtifact(), version: 4 }],
    metrics: { processMetrics: false },
    logger: { write: (line) => lines.push(line) },
    ...options,
  });
  const parsed = (): RequestLogLine[] =>
    lines.map((line) => {
      expect(line.endsWith("\n")).toBe(true);
      expect(line.indexOf("\n")).toBe(line.length - 1);
      return JSON.parse(line);
    });
  return { app, lines, parsed };
}

describe("structured request logs", () => {
  it("are off by default: nothing is written anywhere", async () => {
    const write = vi.spyOn(process.stdout, "write");
    const app = createInferenceApp({
      models: [{ name: "houses", artifact: linearArtifact() }],
      metrics: false,
    });
    await app.fetch(post("/v1/models/houses/predict", row));
    await app.fetch(get("/v2/health/ready"));
    expect(write.mock.calls.filter(([chunk]) => String(chunk).includes("v1_predict"))).toEqual([]);
  });

  it("logger: true writes one JSON line per request to stdout", async () => {
    const written: string[] = [];
    vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    const app = createInferenceApp({
      models: [{ name: "houses", artifact: linearArtifact() }],
      metrics: false,
      logger: true,
    });
    await app.fetch(post("/v1/models/houses/predict", row, { "x-request-id": "abc-1" }));
    vi.restoreAllMocks();
    const lines = written.filter((chunk) => chunk.includes('"request_id":"abc-1"'));
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toMatchObject({ route: "v1_predict", status: 200, rows: 1 });
  });

  it("one line per prediction: model, version, rows, duration, request id, error", async () => {
    const { app, parsed } = loggedApp();
    await app.fetch(post("/v1/models/houses/predict", row, { "x-request-id": "order-17" }));
    await app.fetch(post("/v1/models/houses/predict", { rows: [row, row, row] }));
    await app.fetch(post("/v1/models/houses/predict", { ...row, rooms: 0 }));
    await app.fetch(
      post("/v2/models/houses/infer", {
        id: "batch-9",
        inputs: [
          { name: "rooms", shape: [2], datatype: "INT64", data: [1, 2] },
          { name: "area", shape: [2], datatype: "FP64", data: [1, 2] },
          { name: "color", shape: [2], datatype: "BYTES", data: [null, "red"] },
        ],
      }),
    );
    await app.fetch(post("/v1/models/nope/predict", row));
    const lines = parsed();
    expect(lines).toHaveLength(5);
    const [one, batch, invalid, infer, unknown] = lines;
    expect(Object.keys(one)).toEqual([
      "time",
      "method",
      "path",
      "route",
      "status",
      "model",
      "version",
      "rows",
      "duration_ms",
      "request_id",
      "error",
    ]);
    expect(one).toEqual({
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      method: "POST",
      path: "/v1/models/houses/predict",
      route: "v1_predict",
      status: 200,
      model: "houses",
      version: "4",
      rows: 1,
      duration_ms: expect.any(Number),
      request_id: "order-17",
      error: null,
    });
    expect(one.duration_ms).toBeGreaterThan(0);
    expect(batch).toMatchObject({ status: 200, rows: 3, error: null });
    expect(batch.request_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(invalid).toMatchObject({ status: 422, rows: 0, error: "schema_invalid", version: "4" });
    expect(infer).toMatchObject({ route: "v2_infer", rows: 2, request_id: "batch-9" });
    expect(unknown).toMatchObject({
      status: 404,
      model: null,
      version: null,
      error: "model_not_found",
    });
  });

  it("logs the other routes too: health, metadata, metrics, 404, 405", async () => {
    const { app, parsed } = loggedApp();
    await app.fetch(get("/v2/health/ready", { "x-request-id": "probe-1" }));
    await app.fetch(get("/v1/models/houses"));
    await app.fetch(get("/metrics"));
    await app.fetch(get("/nowhere"));
    await app.fetch(get("/v1/models/houses/predict"));
    expect(parsed()).toMatchObject([
      {
        method: "GET",
        path: "/v2/health/ready",
        route: "v2_ready",
        status: 200,
        request_id: "probe-1",
      },
      { path: "/v1/models/houses", route: "v1_model", status: 200, model: null, rows: 0 },
      { path: "/metrics", route: "metrics", status: 200, error: null },
      { path: "/nowhere", route: null, status: 404, error: "route_not_found" },
      { path: "/v1/models/houses/predict", status: 405, error: "method_not_allowed" },
    ]);
  });

  it("logs refused keys on the Node fast path and through Hono, once each", async () => {
    const { app, parsed } = loggedApp({
      auth: { keys: [{ sha256: hashApiKey("k"), scopes: ["predict"] }] },
    });
    const server = await serve(app, { port: 0 });
    servers.push(server);
    const refused = await fetch(`${server.url}/v1/models/houses/predict`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": "no-key" },
      body: JSON.stringify(row),
    });
    expect(refused.status).toBe(401);
    const ok = await fetch(`${server.url}/v1/models/houses/predict?debug=1`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": "k" },
      body: JSON.stringify(row),
    });
    expect((await json(ok)).predictions).toEqual([byHand(row)]);
    await app.fetch(post("/v1/models/houses/predict", row));
    await app.fetch(get("/v1/models", { "x-api-key": "k" }));
    expect(parsed()).toMatchObject([
      { route: "v1_predict", status: 401, error: "unauthorized", request_id: "no-key" },
      { path: "/v1/models/houses/predict", status: 200, model: "houses", rows: 1 },
      { route: "v1_predict", status: 401, error: "unauthorized", model: null },
      { route: "v1_models", status: 403, error: "forbidden" },
    ]);
  });

  it("a sink that throws changes no answer", async () => {
    const app = createInferenceApp({
      models: [{ name: "houses", artifact: linearArtifact() }],
      metrics: false,
      logger: {
        write() {
          throw new Error("disk full");
        },
      },
    });
    expect((await app.fetch(post("/v1/models/houses/predict", row))).status).toBe(200);
    expect((await app.fetch(get("/v1/models"))).status).toBe(200);
    expect(() =>
      createInferenceApp({
        models: [{ name: "houses", artifact: linearArtifact() }],
        logger: "yes" as unknown as boolean,
      }),
    ).toThrow("logger: expected true, false or an object with write(line)");
  });
});
