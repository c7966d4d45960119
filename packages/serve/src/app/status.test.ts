import { field, MlopsError, schema } from "@mlops/core";
import { describe, expect, it } from "vitest";
import { ERROR_STATUS, ServeError } from "../errors.js";
import { defineModel } from "../runtime/define.js";
import {
  constantArtifact,
  deferred,
  gatedRuntime,
  get,
  json,
  linearArtifact,
  post,
  waitFor,
} from "../testing/fixtures.js";
import { createInferenceApp } from "./app.js";

const row = { rooms: 2, area: 10, color: "red" };

function linearApp(limits = {}) {
  return createInferenceApp({
    models: [{ name: "houses", artifact: linearArtifact() }],
    metrics: false,
    limits,
  });
}

describe("error statuses", () => {
  it("404 for an unknown route, in each protocol's error style", async () => {
    const app = linearApp();
    const rest = await app.fetch(get("/v1/nothing"));
    expect(rest.status).toBe(404);
    expect(await json(rest)).toEqual({
      error: { code: "route_not_found", message: "no route GET /v1/nothing" },
    });
    const oip = await app.fetch(get("/v2/nothing"));
    expect(await json(oip)).toEqual({ error: "no route GET /v2/nothing" });
  });

  it("405 with Allow for a known path and another method", async () => {
    const app = linearApp();
    const response = await app.fetch(get("/v1/models/houses/predict"));
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("POST");
    expect(await json(response)).toEqual({
      error: {
        code: "method_not_allowed",
        message: "GET is not allowed on /v1/models/houses/predict (allowed: POST)",
      },
    });
    const oip = await app.fetch(post("/v2/health/live", {}));
    expect(oip.status).toBe(405);
    expect(oip.headers.get("allow")).toBe("GET, HEAD");
    expect(await json(oip)).toEqual({
      error: "POST is not allowed on /v2/health/live (allowed: GET, HEAD)",
    });
  });

  it("413 for a declared length over the limit, before reading", async () => {
    const app = linearApp({ maxBodyBytes: 100 });
    const response = await app.fetch(
      post("/v1/models/houses/predict", { rows: Array(50).fill(row) }),
    );
    expect(response.status).toBe(413);
    expect(response.headers.get("connection")).toBe("close");
    expect(await json(response)).toEqual({
      error: {
        code: "payload_too_large",
        message:
          "request body is larger than the limit of 100 bytes: send fewer rows per request, " +
          "raise the limit (mlops-serve --max-body 8mb, or limits.maxBodyBytes), or score a " +
          "large file offline in batches with mlops-predict",
      },
    });
  });

  it("413 while streaming a body with no length, without reading it all", async () => {
    const app = linearApp({ maxBodyBytes: 1000 });
    let pulled = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        if (pulled > 1000) controller.close();
        else controller.enqueue(new Uint8Array(100).fill(32));
      },
    });
    const response = await app.fetch(
      new Request("http://localhost/v1/models/houses/predict", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: stream,
        duplex: "half",
      } as RequestInit),
    );
    expect(response.status).toBe(413);
    expect(pulled).toBeLessThan(20);
  });

  it("413 for more rows than maxBatchRows", async () => {
    const app = linearApp({ maxBatchRows: 3 });
    const response = await app.fetch(
      post("/v1/models/houses/predict", { rows: Array(4).fill(row) }),
    );
    expect(response.status).toBe(413);
    expect((await json(response)).error).toEqual({
      code: "too_many_rows",
      message: "4 rows is more than the limit of 3 rows per request",
    });
  });

  it("415 for a body that is not declared JSON", async () => {
    const app = linearApp();
    const response = await app.fetch(
      post("/v1/models/houses/predict", JSON.stringify(row), { "content-type": "text/plain" }),
    );
    expect(response.status).toBe(415);
    expect(await json(response)).toEqual({
      error: {
        code: "unsupported_media_type",
        message: 'expected Content-Type application/json, got "text/plain"',
      },
    });
  });

  it("400 for malformed JSON", async () => {
    const app = linearApp();
    const response = await app.fetch(post("/v1/models/houses/predict", '{"rooms": 2,'));
    expect(response.status).toBe(400);
    const { error } = await json(response);
    expect(error.code).toBe("malformed_json");
    expect(error.message).toMatch(/^request body is not valid JSON: /);
  });

  it("503 not ready (with Retry-After) while a model loads, then 200", async () => {
    const gate = deferred();
    const app = createInferenceApp({
      models: [{ name: "slow", artifact: constantArtifact(7) }],
      runtimes: [gatedRuntime({ load: gate.promise })],
      metrics: false,
    });
    const before = await app.fetch(post("/v1/models/slow/predict", row));
    expect(before.status).toBe(503);
    expect(before.headers.get("retry-after")).toBe("1");
    expect(await json(before)).toEqual({
      error: { code: "model_not_ready", message: 'model "slow" is still loading' },
    });
    const ready = await app.fetch(get("/v2/health/ready"));
    expect(ready.status).toBe(503);
    expect(await json(ready)).toEqual({ error: 'not ready: "slow" (loading)' });
    expect((await app.fetch(get("/v2/models/slow/ready"))).status).toBe(503);
    expect((await app.fetch(get("/ping"))).status).toBe(503);
    expect((await app.fetch(get("/v2/health/live"))).status).toBe(200);
    const listed = await json(app.fetch(get("/v1/models")));
    expect(listed.models).toEqual([
      { name: "slow", reference: null, state: "loading", ready: false },
    ]);
    gate.resolve();
    await app.ready;
    const after = await app.fetch(post("/v1/models/slow/predict", row));
    expect(after.status).toBe(200);
    expect((await json(after)).predictions).toEqual([7]);
  });

  it("503 when a model failed to load; ready rejects", async () => {
    const app = createInferenceApp({
      models: [{ name: "odd", artifact: constantArtifact(1) }],
      metrics: false,
    });
    await expect(app.ready).rejects.toThrow(/kind "constant" and no runtime loads it/);
    const response = await app.fetch(post("/v1/models/odd/predict", row));
    expect(response.status).toBe(503);
    expect((await json(response)).error.message).toMatch(/^model "odd" failed to load: /);
  });

  it("503 overloaded with Retry-After when maxConcurrent requests are in flight", async () => {
    const gate = deferred();
    const entered = deferred();
    const app = createInferenceApp({
      models: [{ name: "blocked", artifact: constantArtifact(3) }],
      runtimes: [
        gatedRuntime({
          predict: () => {
            entered.resolve();
            return gate.promise;
          },
        }),
      ],
      metrics: false,
      limits: { maxConcurrent: 1 },
    });
    await app.ready;
    const first = app.fetch(post("/v1/models/blocked/predict", { rows: [row] }));
    // The first request is inside the model: its slot is taken.
    await entered.promise;
    expect(app.inFlight).toBe(1);
    const second = await app.fetch(post("/v1/models/blocked/predict", { rows: [row] }));
    expect(second.status).toBe(503);
    expect(second.headers.get("retry-after")).toBe("1");
    expect(await json(second)).toEqual({
      error: {
        code: "overloaded",
        message: "server is at its limit of 1 concurrent requests; retry shortly",
      },
    });
    gate.resolve();
    expect((await first).status).toBe(200);
    expect(app.inFlight).toBe(0);
    expect((await app.fetch(post("/v1/models/blocked/predict", row))).status).toBe(200);
  });

  it("503 timeout with Retry-After when a prediction takes longer than timeoutMs", async () => {
    const gate = deferred();
    const app = createInferenceApp({
      models: [{ name: "stuck", artifact: constantArtifact(3) }],
      runtimes: [gatedRuntime({ predict: () => gate.promise })],
      metrics: false,
      limits: { timeoutMs: 50, maxConcurrent: 1 },
    });
    await app.ready;
    const response = await app.fetch(
      post("/v2/models/stuck/infer", {
        inputs: [
          { name: "rooms", shape: [1], datatype: "INT64", data: [1] },
          { name: "area", shape: [1], datatype: "FP64", data: [2] },
          { name: "color", shape: [1], datatype: "BYTES", data: ["red"] },
        ],
      }),
    );
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toBe("1");
    expect(await json(response)).toEqual({
      error: "the prediction did not finish in time; retry shortly",
    });
    // The slot stays taken until the model really finishes.
    expect(app.inFlight).toBe(1);
    gate.resolve();
    await waitFor(() => app.inFlight === 0);
    expect(app.inFlight).toBe(0);
  });

  it("500 with a generic message (no stack) when the model itself throws", async () => {
    const broken = defineModel({
      name: "broken",
      schema: schema({ x: field.number() }),
      predict: () => {
        throw new TypeError("secret internals at /srv/model.js:12");
      },
    });
    const app = createInferenceApp({ models: [broken], metrics: false });
    await app.ready;
    const response = await app.fetch(post("/v1/models/broken/predict", { x: 1 }));
    expect(response.status).toBe(500);
    expect(await json(response)).toEqual({
      error: { code: "internal", message: "Internal server error" },
    });
  });

  it("503 shutting_down after close()", async () => {
    const app = linearApp();
    await app.ready;
    await app.close();
    const response = await app.fetch(post("/v1/models/houses/predict", row));
    expect(response.status).toBe(503);
    expect((await json(response)).error.code).toBe("shutting_down");
  });

  it("401/403 from middleware (the auth seam), health left open by scope", async () => {
    const app = createInferenceApp({
      models: [{ name: "houses", artifact: linearArtifact() }],
      metrics: false,
      middleware: [
        async (c, next) => {
          const route = c.get("route");
          if (route.scope !== "health") {
            const key = c.req.header("x-api-key");
            if (key === undefined) throw new ServeError("unauthorized", "API key required");
            if (key !== "good") throw new ServeError("forbidden", "API key lacks scope");
          }
          await next();
        },
      ],
    });
    await app.ready;
    expect((await app.fetch(get("/v2/health/ready"))).status).toBe(200);
    const missing = await app.fetch(post("/v1/models/houses/predict", row));
    expect(missing.status).toBe(401);
    expect(await json(missing)).toEqual({
      error: { code: "unauthorized", message: "API key required" },
    });
    const wrong = await app.fetch(get("/v2/models/houses", { "x-api-key": "bad" }));
    expect(wrong.status).toBe(403);
    expect(await json(wrong)).toEqual({ error: "API key lacks scope" });
    const good = await app.fetch(post("/v1/models/houses/predict", row, { "x-api-key": "good" }));
    expect(good.status).toBe(200);
  });

  it("creation fails fast on bad configuration", () => {
    expect(() => createInferenceApp({ models: [] })).toThrow(/list at least one model/);
    expect(() => createInferenceApp({ models: ["houses@production"] })).toThrow(
      /registry reference but no registry was given/,
    );
    expect(() =>
      createInferenceApp({ registry: "/tmp/x", models: ["houses@prod", "houses@staging"] }),
    ).toThrow(/two entries are served as "houses"/);
    expect(() => createInferenceApp({ registry: "/tmp/x", models: ["houses/01"] })).toThrow(
      MlopsError,
    );
    expect(() => linearApp({ maxConcurrent: 0 })).toThrow(RangeError);
  });

  it("every code maps to a 4xx or 503, except internal", () => {
    for (const [code, status] of Object.entries(ERROR_STATUS)) {
      if (code === "internal") expect(status).toBe(500);
      else expect(status === 503 || (status >= 400 && status < 500), code).toBe(true);
    }
  });
});
