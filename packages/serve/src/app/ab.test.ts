// A/B and shadow over real HTTP on 127.0.0.1: which variant answered, counted per key.
import { Agent, request as httpRequest } from "node:http";
import { createArtifact, field, type Registry, schema } from "@mlops/core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { main } from "../cli/main.js";
import type { ServeEvent } from "../models/catalog.js";
import { type RunningServer, serve } from "../node/serve.js";
import {
  byHand,
  constantArtifact,
  deferred,
  gatedRuntime,
  linearArtifact,
  tempRegistry,
  waitFor,
} from "../testing/fixtures.js";
import { createInferenceApp, type InferenceApp } from "./app.js";
import type { PredictionEvent } from "./pipeline.js";

const row = { rooms: 2, area: 10, color: "red" };
let temp: Awaited<ReturnType<typeof tempRegistry>>;
let registry: Registry;
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  temp = await tempRegistry();
  registry = temp.registry;
  // house: v1 @production (intercept 50), v2 @candidate (60), v3 @challenger (70).
  await registry.registerModel("house", linearArtifact(50), { aliases: ["production"] });
  await registry.registerModel("house", linearArtifact(60), { aliases: ["candidate"] });
  await registry.registerModel("house", linearArtifact(70), { aliases: ["challenger"] });
  // A shadow that refuses every request: it needs a "floor" the rows do not carry (a field it
  // does not read, such as "color", is ignored, as MLflow does).
  const narrow = schema(
    { rooms: field.integer(), area: field.number(), floor: field.integer(), price: field.number() },
    {
      target: "price",
    },
  );
  await registry.registerModel(
    "narrow",
    createArtifact({
      kind: "linear",
      schema: narrow,
      model: { inputs: ["rooms", "area", "floor"], intercept: 0 },
      arrays: { coefficients: Float64Array.of(1, 1, 1) },
      lineage: { gitCommit: "0123456789abcdef0123456789abcdef01234567" },
    }),
  );
  await registry.registerModel("stuck", constantArtifact(1));
}, 60_000);

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

afterAll(async () => {
  await temp.cleanup();
});

async function start(options: Partial<Parameters<typeof createInferenceApp>[0]>) {
  const app = createInferenceApp({ registry, watch: false, ...options } as Parameters<
    typeof createInferenceApp
  >[0]);
  cleanups.push(() => app.close({ timeoutMs: 1000 }));
  await app.ready;
  const server = await serve(app, { port: 0 });
  cleanups.push(() => server.close());
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  cleanups.push(async () => agent.destroy());
  return { app, server, agent };
}

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  // biome-ignore lint/suspicious/noExplicitAny: test assertions read arbitrary JSON.
  body: any;
}

function send(
  agent: Agent,
  server: RunningServer,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Reply> {
  const text = JSON.stringify(body);
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      {
        agent,
        host: url.hostname,
        port: url.port,
        method: path === "/metrics" ? "GET" : "POST",
        path,
        headers:
          path === "/metrics"
            ? headers
            : {
                "content-type": "application/json",
                "content-length": Buffer.byteLength(text),
                ...headers,
              },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => {
          const raw = Buffer.concat(chunks).toString("utf8");
          let parsed: unknown = raw;
          try {
            parsed = JSON.parse(raw);
          } catch {
            // Prometheus text.
          }
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body: parsed });
        });
      },
    );
    outgoing.on("error", reject);
    if (path !== "/metrics") outgoing.write(text);
    outgoing.end();
  });
}

/** Scrapes /metrics until it shows `line` (never a fixed sleep; the test's timeout ends it). */
async function scrapeUntil(agent: Agent, server: RunningServer, line: string): Promise<string> {
  for (;;) {
    const text = (await send(agent, server, "/metrics", undefined)).body as string;
    if (text.includes(line)) return text;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const split = "house=house@production:90,house@candidate:10";

describe("A/B: one name, weighted variants", () => {
  it("sends each sticky key to one variant, 90/10 by the hash, over HTTP", async () => {
    const { server, agent } = await start({
      models: [{ ...splitSource(), stickyKey: { header: "x-user-id" } }],
    });
    const counts: Record<string, number> = {};
    const first = new Map<string, string>();
    for (let i = 0; i < 500; i++) {
      const key = `user-${i}`;
      const reply = await send(agent, server, "/v1/models/house/predict", row, {
        "x-user-id": key,
      });
      expect(reply.status).toBe(200);
      const variant = reply.headers["x-model-variant"] as string;
      expect(reply.body.model.variant).toBe(variant);
      const intercept = variant === "house@production" ? 50 : 60;
      expect(reply.body.model.version).toBe(variant === "house@production" ? "1" : "2");
      expect(reply.body.predictions).toEqual([byHand(row, intercept)]);
      counts[variant] = (counts[variant] ?? 0) + 1;
      if (i < 50) first.set(key, variant);
    }
    // The reference hash (computed in Python) puts 54 of these 500 keys past 0.9.
    expect(counts).toEqual({ "house@production": 446, "house@candidate": 54 });
    // Sticky: the same key, the same variant, whatever came in between.
    for (const [key, variant] of first) {
      const reply = await send(agent, server, "/v1/models/house/predict", row, {
        "x-user-id": key,
      });
      expect(reply.headers["x-model-variant"]).toBe(variant);
    }
  }, 60_000);

  it("spreads keyless requests by weight, exactly; metrics and the model list per variant", async () => {
    const { server, agent, app } = await start({ models: [split] });
    const counts: Record<string, number> = {};
    for (let i = 0; i < 100; i++) {
      const reply = await send(agent, server, "/v1/models/house/predict", { rows: [row, row] });
      const variant = reply.headers["x-model-variant"] as string;
      counts[variant] = (counts[variant] ?? 0) + 1;
    }
    expect(counts).toEqual({ "house@production": 90, "house@candidate": 10 });
    const metrics = (await send(agent, server, "/metrics", undefined)).body as string;
    expect(metrics).toContain(
      'mlops_requests_total{model="house",version="1",variant="house@production",route="v1_predict",status="200"} 90',
    );
    expect(metrics).toContain(
      'mlops_requests_total{model="house",version="2",variant="house@candidate",route="v1_predict",status="200"} 10',
    );
    expect(metrics).toContain(
      'mlops_predictions_total{model="house",version="2",variant="house@candidate"} 20',
    );
    expect(metrics).toContain('mlops_model_ready{name="house",variant="house@candidate"} 1');
    const listed = await app.fetch(new Request("http://localhost/v1/models/house"));
    const described = (await listed.json()) as { variants: unknown };
    expect(described.variants).toEqual([
      expect.objectContaining({ variant: "house@production", weight: 90, version: "1" }),
      expect.objectContaining({ variant: "house@candidate", weight: 10, version: "2" }),
    ]);
    // OIP asks for a version: the variant serving it answers.
    const infer = await send(agent, server, "/v2/models/house/versions/2/infer", {
      inputs: [
        { name: "rooms", datatype: "INT64", shape: [1], data: [2] },
        { name: "area", datatype: "FP64", shape: [1], data: [10] },
        { name: "color", datatype: "BYTES", shape: [1], data: ["red"] },
      ],
    });
    expect(infer.status).toBe(200);
    expect(infer.body.model_version).toBe("2");
    // Every route of a split name says which variant and version answered.
    expect(infer.headers["x-model-variant"]).toBe("house@candidate");
    expect(infer.headers["x-model-version"]).toBe("2");
    expect(infer.body.outputs[0].data).toEqual([byHand(row, 60)]);
  }, 60_000);

  it("keys by a body field, stripped before the model sees it, like the same header", async () => {
    const { server, agent } = await start({
      models: [{ ...splitSource(), stickyKey: { field: "user" } }],
    });
    const byField: string[] = [];
    for (let i = 0; i < 40; i++) {
      const reply = await send(agent, server, "/v1/models/house/predict", {
        ...row,
        user: `user-${i}`,
      });
      expect(reply.status).toBe(200);
      byField.push(reply.headers["x-model-variant"] as string);
    }
    const batch = await send(agent, server, "/v1/models/house/predict", {
      rows: [
        { ...row, user: "user-3" },
        { ...row, user: "user-9" },
      ],
    });
    expect(batch.status).toBe(200);
    expect(batch.headers["x-model-variant"]).toBe(byField[3]);
    await cleanups
      .splice(0)
      .reverse()
      .reduce((p, c) => p.then(c), Promise.resolve() as Promise<unknown>);
    const byHeader = await start({
      models: [{ ...splitSource(), stickyKey: { header: "x-user-id" } }],
    });
    for (let i = 0; i < 40; i++) {
      const reply = await send(byHeader.agent, byHeader.server, "/v1/models/house/predict", row, {
        "x-user-id": `user-${i}`,
      });
      expect(reply.headers["x-model-variant"]).toBe(byField[i]);
    }
  }, 60_000);

  it("hot-reloads each variant when its alias moves", async () => {
    const events: ServeEvent[] = [];
    const { server, agent, app } = await start({
      models: [{ ...splitSource(), stickyKey: { header: "x-user-id" } }],
      watch: { intervalMs: 20 },
      onEvent: (event) => events.push(event),
    });
    // user-7 hashes to the candidate (0.908), user-0 to production (0.645).
    const before = await send(agent, server, "/v1/models/house/predict", row, {
      "x-user-id": "user-7",
    });
    expect(before.headers["x-model-variant"]).toBe("house@candidate");
    expect(before.body.model.version).toBe("2");
    await registry.setAlias("house", "candidate", 3);
    try {
      await waitFor(() => app.models.get("house", "house@candidate")?.current?.version === "3");
      const after = await send(agent, server, "/v1/models/house/predict", row, {
        "x-user-id": "user-7",
      });
      expect(after.body.model).toEqual({ name: "house", version: "3", variant: "house@candidate" });
      expect(after.body.predictions).toEqual([byHand(row, 70)]);
      const production = await send(agent, server, "/v1/models/house/predict", row, {
        "x-user-id": "user-0",
      });
      expect(production.body.model.version).toBe("1");
      expect(events).toContainEqual(
        expect.objectContaining({
          type: "model_loaded",
          name: "house",
          variant: "house@candidate",
          version: "3",
          previousVersion: "2",
        }),
      );
    } finally {
      await registry.setAlias("house", "candidate", 2);
    }
  }, 60_000);
});

describe("shadow", () => {
  it("mirrors every request; its answers are logged and measured, never returned", async () => {
    const events: PredictionEvent[] = [];
    const { server, agent } = await start({
      models: ["house=house@production:1,house@challenger:shadow,narrow:shadow"],
      onPrediction: (event) => events.push(event),
    });
    for (let i = 0; i < 20; i++) {
      const reply = await send(agent, server, "/v1/models/house/predict", row, {
        "x-request-id": `req-${i}`,
      });
      // The primary answers, whatever the shadows do (one of them refuses every row).
      expect(reply.status).toBe(200);
      expect(reply.body.model).toEqual({
        name: "house",
        version: "1",
        variant: "house@production",
      });
      expect(reply.body.predictions).toEqual([byHand(row, 50)]);
    }
    await waitFor(() => events.filter((e) => e.shadow).length === 40);
    const challenger = events.filter((e) => e.variant === "house@challenger");
    expect(challenger.map((e) => e.requestId)).toEqual(
      Array.from({ length: 20 }, (_, i) => `req-${i}`),
    );
    expect(challenger.every((e) => e.shadow && e.status === 200 && e.version === "3")).toBe(true);
    const narrow = events.filter((e) => e.variant === "narrow");
    expect(narrow.every((e) => e.status === 422 && e.error === "schema_invalid")).toBe(true);
    const metrics = (await send(agent, server, "/metrics", undefined)).body as string;
    expect(metrics).toContain(
      'mlops_shadow_requests_total{model="house",variant="house@challenger",version="3",result="ok"} 20',
    );
    expect(metrics).toContain(
      'mlops_shadow_requests_total{model="house",variant="narrow",version="1",result="error"} 20',
    );
    // challenger − production = 70 − 50 on every row: all 20 in the (10, 100] bucket.
    expect(metrics).toContain(
      'mlops_shadow_prediction_difference_bucket{model="house",variant="house@challenger",version="3",le="10"} 0',
    );
    expect(metrics).toContain(
      'mlops_shadow_prediction_difference_bucket{model="house",variant="house@challenger",version="3",le="100"} 20',
    );
    expect(metrics).toContain(
      'mlops_predictions_total{model="house",version="3",variant="house@challenger"} 20',
    );
    // Mirrored requests are not client requests.
    expect(metrics).not.toMatch(/mlops_requests_total\{[^}]*variant="house@challenger"/);
  }, 60_000);

  it("never waits for a stuck shadow; beyond the concurrency limit, mirrors are dropped", async () => {
    const gate = deferred();
    const { server, agent } = await start({
      models: ["house=house@production:1,stuck:shadow"],
      runtimes: [gatedRuntime({ predict: () => gate.promise })],
      limits: { maxConcurrent: 3 },
    });
    for (let i = 0; i < 5; i++) {
      const reply = await send(agent, server, "/v1/models/house/predict", row);
      expect(reply.status).toBe(200);
    }
    const dropped =
      'mlops_shadow_requests_total{model="house",variant="stuck",version="1",result="dropped"} 2';
    await scrapeUntil(agent, server, dropped);
    gate.resolve();
    await scrapeUntil(
      agent,
      server,
      'mlops_shadow_requests_total{model="house",variant="stuck",version="1",result="ok"} 3',
    );
  }, 60_000);
});

describe("mlops-serve", () => {
  it("serves a split name from --model NAME=REF:W,REF:W with --sticky-key", async () => {
    const stop = deferred();
    const output = { stdout: "", stderr: "" };
    let running: { server: RunningServer; app: InferenceApp } | undefined;
    const listening = deferred();
    const exit = main(
      [
        "--registry",
        `${temp.dir}/.mlops`,
        "--model",
        `${split},house@challenger:shadow`,
        "--model",
        "houses@production,rooms-tree",
        "--sticky-key",
        "header:X-User-Id",
        "--port",
        "0",
        "--watch-interval",
        "0",
      ],
      {
        stdout: { write: (text: string) => (output.stdout += text) },
        stderr: { write: (text: string) => (output.stderr += text) },
        env: {},
        cwd: "/",
        shutdown: stop.promise,
        onListening: (server, app) => {
          running = { server, app };
          listening.resolve();
        },
      },
    );
    await Promise.race([listening.promise, exit.then(() => undefined)]);
    expect(output.stderr).toBe("");
    expect(output.stdout).toMatch(/house\[house@production\] \(weight 90\)\s+version 1/);
    expect(output.stdout).toMatch(/house\[house@challenger\] \(shadow\)\s+version 3/);
    expect(output.stdout).toMatch(/rooms-tree\s+version 1/);
    const agent = new Agent({ keepAlive: false });
    const reply = await send(agent, running!.server, "/v1/models/house/predict", row, {
      "x-user-id": "user-7",
    });
    expect(reply.headers["x-model-variant"]).toBe("house@candidate");
    stop.resolve();
    expect(await exit).toBe(0);
  }, 60_000);

  it("refuses a split spec without weights or name, and a sticky key with no split", async () => {
    const run = async (args: string[]) => {
      const output = { stdout: "", stderr: "" };
      const code = await main(["--registry", `${temp.dir}/.mlops`, ...args], {
        stdout: { write: (text: string) => (output.stdout += text) },
        stderr: { write: (text: string) => (output.stderr += text) },
        env: {},
        cwd: "/",
      });
      return { code, stderr: output.stderr };
    };
    const unnamed = await run(["--model", "house@production:90,house@candidate:10"]);
    expect(unnamed.code).toBe(2);
    expect(unnamed.stderr).toMatch(/a split model needs a served name first/);
    const sticky = await run(["--model", "houses@production", "--sticky-key", "header:x-user"]);
    expect(sticky.code).toBe(2);
    expect(sticky.stderr).toMatch(/no --model is split between variants/);
    const missing = await run(["--model", "house=house@production:90,house@nope:10"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/house@nope/);
  }, 60_000);
});

function splitSource() {
  return {
    name: "house",
    variants: [
      { reference: "house@production", weight: 90 },
      { reference: "house@candidate", weight: 10 },
    ],
  };
}
