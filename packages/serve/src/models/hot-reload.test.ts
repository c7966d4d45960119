import { Agent, request as httpRequest } from "node:http";
import { type Frame, Schema } from "@mlops/core";
import { afterEach, describe, expect, it } from "vitest";
import { createInferenceApp, type InferenceApp } from "../app/app.js";
import { serve } from "../node/serve.js";
import type { ModelRuntime } from "../runtime/runtime.js";
import {
  byHand,
  constantArtifact,
  deferred,
  get,
  json,
  post,
  tempRegistry,
  waitFor,
} from "../testing/fixtures.js";
import type { ServeEvent } from "./catalog.js";

const row = { rooms: 2, area: 10, color: "red" };
const cleanups: (() => Promise<unknown>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function registryApp(options: Parameters<typeof createInferenceApp>[0]) {
  const app = createInferenceApp(options);
  cleanups.push(() => app.close({ timeoutMs: 1000 }));
  return app;
}

/** A logical clock: the order in which requests were sent and answers arrived. */
let clock = 0;
const tick = () => ++clock;

interface Answer {
  /** `tick()` when sent and when answered (an order, not a time). */
  sentAt: number;
  receivedAt: number;
  status: number;
  header: string | undefined;
  version: string | undefined;
  prediction: number | undefined;
}

/** One POST over a keep-alive agent; resolves with what came back (never rejects). */
function postOnce(agent: Agent, port: number, body: string): Promise<Answer> {
  const sentAt = tick();
  return new Promise((resolve) => {
    const fail = () =>
      resolve({
        sentAt,
        receivedAt: tick(),
        status: 0,
        header: undefined,
        version: undefined,
        prediction: undefined,
      });
    const outgoing = httpRequest(
      {
        agent,
        host: "127.0.0.1",
        port,
        method: "POST",
        path: "/v1/models/houses/predict",
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => {
          let parsed: { model?: { version?: string }; predictions?: number[] } = {};
          try {
            parsed = JSON.parse(Buffer.concat(chunks).toString("utf8"));
          } catch {
            // Counted as a failure below (no version).
          }
          resolve({
            sentAt,
            receivedAt: tick(),
            status: response.statusCode ?? 0,
            header: response.headers["x-model-version"] as string | undefined,
            version: parsed.model?.version,
            prediction: parsed.predictions?.[0],
          });
        });
        response.on("error", fail);
      },
    );
    outgoing.on("error", fail);
    outgoing.end(body);
  });
}

describe("hot reload: the server follows its aliases", () => {
  it("moves @production under load: zero failed requests, answers switch 1 → 2", async () => {
    const temp = await tempRegistry();
    cleanups.push(temp.cleanup);
    const events: ServeEvent[] = [];
    const app = await registryApp({
      registry: temp.registry,
      models: ["houses@production"],
      metrics: { processMetrics: false },
      watch: { intervalMs: 20 },
      onEvent: (event) => events.push(event),
    });
    await app.ready;
    const server = await serve(app, { port: 0 });
    cleanups.push(() => server.close());

    const concurrency = 6;
    const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
    cleanups.push(async () => agent.destroy());
    const body = JSON.stringify(row);
    const answers: Answer[] = [];
    let stop = false;
    const worker = async () => {
      // Bounded: stops when told, or after 20,000 requests in all.
      while (!stop && answers.length < 20_000) {
        answers.push(await postOnce(agent, server.port, body));
      }
    };
    const workers = Array.from({ length: concurrency }, worker);
    const count = (version: string) => answers.filter((a) => a.version === version).length;

    await waitFor(() => count("1") >= 100);
    await temp.registry.setAlias("houses", "production", 2, { reason: "hot reload test" });
    await waitFor(() => count("2") >= 200);
    stop = true;
    await Promise.all(workers);

    const failed = answers.filter((a) => a.status !== 200 || a.version === undefined);
    expect(failed).toEqual([]);
    for (const answer of answers) {
      expect(answer.header).toBe(answer.version);
      expect(answer.prediction).toBe(byHand(row, answer.version === "1" ? 50 : 60));
    }
    // The swap is atomic: once an answer from version 2 has arrived, every request sent later
    // is answered by version 2.
    const firstNew = Math.min(...answers.filter((a) => a.version === "2").map((a) => a.receivedAt));
    const staleAfterSwap = answers.filter((a) => a.sentAt > firstNew && a.version !== "2");
    expect(staleAfterSwap).toEqual([]);
    expect(answers.at(-1)?.version).toBe("2");

    expect(events.filter((e) => e.type === "model_loaded")).toMatchObject([
      { name: "houses", version: "1", previousVersion: undefined, reference: "houses@production" },
      { name: "houses", version: "2", previousVersion: "1", aliases: ["production", "staging"] },
    ]);
    await waitFor(() => events.some((e) => e.type === "model_released"));
    expect(events.find((e) => e.type === "model_released")).toEqual({
      type: "model_released",
      name: "houses",
      version: "1",
    });
    const metrics = await (await app.fetch(get("/metrics"))).text();
    expect(metrics).toContain(
      'mlops_model_info{name="houses",version="2",alias="production",kind="linear",' +
        'runtime="native"} 1',
    );
    expect(metrics).not.toMatch(/mlops_model_info\{name="houses",version="1"/);
    expect(metrics).toContain('mlops_model_loads_total{name="houses",result="loaded"} 2');
  });

  it("a swapped-out version's monitor (its drift window) is released with it", async () => {
    const temp = await tempRegistry();
    cleanups.push(temp.cleanup);
    const events: ServeEvent[] = [];
    const app = await registryApp({
      registry: temp.registry,
      models: ["houses@production"],
      monitoring: true,
      watch: { intervalMs: 20 },
      onEvent: (event) => events.push(event),
    });
    await app.ready;
    expect((await app.fetch(post("/v1/models/houses/predict", row))).status).toBe(200);
    const versions = () => app.monitoring!.kept().map((monitor) => monitor.version);
    expect(versions()).toEqual(["1"]);
    await temp.registry.setAlias("houses", "production", 2, { reason: "hot reload test" });
    await waitFor(() => events.some((e) => e.type === "model_released"));
    expect(versions()).toEqual(["2"]);
  });

  it("a failed load keeps the old version serving, is reported; the next move loads", async () => {
    const temp = await tempRegistry();
    cleanups.push(temp.cleanup);
    // Version 3 is of a kind no runtime loads.
    await temp.registry.registerModel("houses", constantArtifact(7));
    const events: ServeEvent[] = [];
    const app = await registryApp({
      registry: temp.registry,
      models: ["houses@production"],
      metrics: { processMetrics: false },
      watch: { intervalMs: 20 },
      onEvent: (event) => events.push(event),
    });
    await app.ready;
    const predictVersion = async () =>
      (await app.fetch(post("/v1/models/houses/predict", row))).headers.get("x-model-version");

    await temp.registry.setAlias("houses", "production", 3);
    await waitFor(() => events.some((e) => e.type === "model_load_failed"));
    const failure = events.find((e) => e.type === "model_load_failed");
    expect(failure).toMatchObject({
      name: "houses",
      reference: "houses@production",
      version: "3",
      serving: "1",
    });
    expect(failure?.type === "model_load_failed" && failure.error.message).toMatch(
      /kind "constant" and no runtime loads it/,
    );
    expect(await predictVersion()).toBe("1");
    expect((await app.fetch(get("/v2/health/ready"))).status).toBe(200);
    const metrics = await (await app.fetch(get("/metrics"))).text();
    expect(metrics).toMatch(/mlops_model_loads_total\{name="houses",result="failed"\} [1-9]/);
    // An explicit reload tries again at once, and rejects with the cause.
    await expect(app.models.reload("houses")).rejects.toThrow(/no runtime loads it/);
    expect(await predictVersion()).toBe("1");

    await temp.registry.setAlias("houses", "production", 2);
    await waitFor(() => events.some((e) => e.type === "model_loaded" && e.version === "2"));
    expect(await predictVersion()).toBe("2");
  });

  it("refreshes alias labels when another alias moves to the served version", async () => {
    const temp = await tempRegistry();
    cleanups.push(temp.cleanup);
    const app = await registryApp({
      registry: temp.registry,
      models: ["houses@production"],
      metrics: { processMetrics: false },
      watch: { intervalMs: 20 },
    });
    await app.ready;
    expect(app.models.get("houses")?.current?.aliases).toEqual(["production"]);
    await temp.registry.setAlias("houses", "canary", 1);
    await waitFor(() => (app.models.get("houses")?.current?.aliases ?? []).includes("canary"));
    const { models } = await json(app.fetch(get("/v1/models")));
    expect(models[0]).toMatchObject({ version: "1", aliases: ["canary", "production"] });
  });

  it("loads a model whose alias did not exist at start once it appears", async () => {
    const temp = await tempRegistry();
    cleanups.push(temp.cleanup);
    const app = await registryApp({
      registry: temp.registry,
      models: ["houses@champion"],
      metrics: false,
      watch: { intervalMs: 20 },
    });
    await expect(app.ready).rejects.toThrow(/champion/);
    expect((await app.fetch(get("/v2/health/ready"))).status).toBe(503);
    await temp.registry.setAlias("houses", "champion", 2);
    await waitFor(() => app.models.get("houses")?.current !== undefined);
    expect((await app.fetch(get("/v2/health/ready"))).status).toBe(200);
    expect(
      (await app.fetch(post("/v1/models/houses/predict", row))).headers.get("x-model-version"),
    ).toBe("2");
  });

  it("watch: false polls nothing; pinned versions are never polled", async () => {
    const temp = await tempRegistry();
    cleanups.push(temp.cleanup);
    const off = await registryApp({
      registry: temp.registry,
      models: ["houses@production"],
      metrics: false,
      watch: false,
    });
    expect(off.models.watching).toBe(false);
    const pinned = await registryApp({
      registry: temp.registry,
      models: ["houses/1", "rooms-tree"],
      metrics: false,
    });
    expect(pinned.models.followed).toEqual(["rooms-tree"]);
    expect(pinned.models.watching).toBe(true);
    expect(() =>
      createInferenceApp({ models: ["x"], registry: temp.registry, watch: { intervalMs: 0 } }),
    ).toThrow(/watch.intervalMs: expected a number of milliseconds ≥ 10, got 0/);
  });
});

describe("releasing a swapped-out version", () => {
  it("closes the old model only after its in-flight requests finish", async () => {
    const temp = await tempRegistry();
    cleanups.push(temp.cleanup);
    await temp.registry.registerModel("answer", constantArtifact(1), { aliases: ["production"] });
    await temp.registry.registerModel("answer", constantArtifact(2));
    const gate = deferred();
    const closed: number[] = [];
    const runtime: ModelRuntime = {
      name: "closing",
      kinds: ["constant"],
      load(artifact) {
        const value = Number(artifact.manifest.model.value);
        return {
          schema: Schema.fromJSON(artifact.manifest.schema),
          async predict(frame: Frame) {
            if (value === 1) await gate.promise;
            return new Float64Array(frame.rowCount).fill(value);
          },
          close: () => {
            closed.push(value);
          },
        };
      },
    };
    const events: ServeEvent[] = [];
    const app: InferenceApp = await registryApp({
      registry: temp.registry,
      models: ["answer@production"],
      runtimes: [runtime],
      metrics: false,
      watch: false,
      onEvent: (event) => events.push(event),
    });
    await app.ready;
    const slow = app.fetch(post("/v1/models/answer/predict", { rooms: 1, area: 1, color: null }));
    await waitFor(() => app.models.get("answer")!.current!.usage.inFlight === 1);

    await temp.registry.setAlias("answer", "production", 2);
    const { current, previous } = await app.models.reload("answer");
    expect([previous?.version, current.version]).toEqual(["1", "2"]);
    const fresh = await json(app.fetch(post("/v1/models/answer/predict", { rooms: 1, area: 1 })));
    expect(fresh.predictions).toEqual([2]);
    expect(closed).toEqual([]);
    expect(events.some((e) => e.type === "model_released")).toBe(false);

    gate.resolve();
    expect((await json(slow)).predictions).toEqual([1]);
    await waitFor(() => events.some((e) => e.type === "model_released"));
    expect(closed).toEqual([1]);
    expect(previous?.usage.inFlight).toBe(0);
  });
});
