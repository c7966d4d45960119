import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createPredictor,
  createRandom,
  driftReport,
  type ModelArtifact,
  profileFrame,
} from "@mlops/core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createInferenceApp, type InferenceApp } from "../app/app.js";
import { main } from "../cli/main.js";
import { serve } from "../node/serve.js";
import { houses, linearArtifact, post, tempRegistry } from "../testing/fixtures.js";
import { parseAlertRule } from "./alerts.js";

type Row = { rooms: number; area: number; color: string | null };

/** Houses from a seeded generator; `bigger` adds to the area (a drifted batch). */
function rows(seed: number, n: number, bigger = 0): Row[] {
  const random = createRandom(seed);
  return Array.from({ length: n }, () => ({
    rooms: 1 + random.int(6),
    area: 40 + bigger + random.next() * 120,
    color: random.next() < 0.1 ? null : ["red", "green", "blue"][random.int(3)],
  }));
}

function profiledArtifact(): ModelArtifact {
  const base = linearArtifact(50);
  const training = houses.features().toFrame(rows(1, 5_000));
  const predictions = createPredictor(base).predict(training);
  return {
    ...base,
    manifest: { ...base.manifest, profile: profileFrame(training, houses, { predictions }) },
  };
}

const artifact = profiledArtifact();
let clock = Date.UTC(2026, 0, 1);
const now = () => clock;

function app(options: Parameters<typeof createInferenceApp>[0]["monitoring"] = {}): InferenceApp {
  return createInferenceApp({
    models: [{ name: "house", artifact }],
    metrics: { processMetrics: false },
    watch: false,
    monitoring: { now, window: { rows: 2_000 }, ...(typeof options === "object" ? options : {}) },
  });
}

async function predictOne(
  target: InferenceApp,
  row: Row,
): Promise<{ id: string; prediction: number }> {
  const response = await target.fetch(post("/v1/models/house/predict", row));
  expect(response.status).toBe(200);
  const body = (await response.json()) as { predictions: number[]; id: string };
  return { id: body.id, prediction: body.predictions[0] };
}

async function monitoring(target: InferenceApp) {
  const response = await target.fetch(new Request("http://localhost/v1/models/house/monitoring"));
  expect(response.status).toBe(200);
  return (await response.json()) as Record<string, any>;
}

async function feedback(target: InferenceApp, body: unknown, headers: Record<string, string> = {}) {
  const response = await target.fetch(post("/v1/feedback", body, headers));
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

describe("drift of the served inputs and predictions", () => {
  it("the window's report is the drift report of the same rows, from the sketch", async () => {
    const target = app();
    await target.ready;
    const batch = rows(2, 600, 25);
    // Single rows on the named route, a batch, and OIP: every route counts.
    for (const row of batch.slice(0, 100)) await predictOne(target, row);
    const response = await target.fetch(
      post("/v1/models/house/predict", { rows: batch.slice(100, 400) }),
    );
    expect(response.status).toBe(200);
    const tensors = batch.slice(400);
    const oip = await target.fetch(
      post("/v2/models/house/infer", {
        inputs: [
          {
            name: "rooms",
            datatype: "INT64",
            shape: [tensors.length],
            data: tensors.map((row) => row.rooms),
          },
          {
            name: "area",
            datatype: "FP64",
            shape: [tensors.length],
            data: tensors.map((row) => row.area),
          },
          {
            name: "color",
            datatype: "BYTES",
            shape: [tensors.length],
            data: tensors.map((row) => row.color),
          },
        ],
      }),
    );
    expect(oip.status).toBe(200);
    const report = await monitoring(target);
    expect(report.model).toEqual({ name: "house", version: "1", variant: null, role: "primary" });
    expect(report.window).toEqual({ size: { rows: 2000 }, rows: 600, predictions: 600 });
    expect(report.profiled).toBe(true);
    const frame = houses.features().toFrame(batch);
    const exact = driftReport(artifact.manifest.profile!, frame, {
      predictions: createPredictor(artifact).predict(frame),
    });
    for (const name of ["rooms", "area", "color"]) {
      expect(report.features[name].verdict).toBe(exact.features[name].verdict);
      expect(report.features[name].method).toBe(exact.features[name].method);
      if (exact.features[name].ks !== null) {
        expect(
          Math.abs(report.features[name].ks - (exact.features[name].ks as number)),
        ).toBeLessThanOrEqual(0.01);
      }
      expect(report.features[name].psi).toBeCloseTo(exact.features[name].psi as number, 9);
    }
    expect(report.features.area.verdict).toBe("drift");
    expect(report.features.rooms.verdict).toBe("no_drift");
    expect(report.predictions.verdict).toBe(exact.predictions?.verdict);
    expect(report.dataset).toMatchObject({ drifted: false, driftedFeatures: 1, judged: 3 });
    await target.close();
  });

  it("the Prometheus gauges carry the same figures", async () => {
    const target = app();
    await target.ready;
    await target.fetch(post("/v1/models/house/predict", { rows: rows(3, 500, 60) }));
    const metrics = await (await target.fetch(new Request("http://localhost/metrics"))).text();
    const report = await monitoring(target);
    const area = report.features.area;
    expect(metrics).toContain(
      `mlops_feature_drift{model="house",version="1",feature="area",method="${area.method}"} ${area.statistic}`,
    );
    expect(metrics).toContain(
      `mlops_dataset_drift_share{model="house",version="1"} ${report.dataset.share}`,
    );
    expect(metrics).toMatch(
      /mlops_feature_missing_ratio\{model="house",version="1",feature="color"\} 0\.\d+/,
    );
    expect(metrics).toMatch(
      /mlops_prediction_drift\{model="house",version="1",method="ks"\} 0\.\d+/,
    );
    expect(metrics).toContain('mlops_monitoring_window_rows{model="house",version="1"} 500');
    await target.close();
  });
});

describe("POST /v1/feedback", () => {
  let target: InferenceApp;
  beforeAll(async () => {
    target = app({ feedback: { capacity: 50, ttlMs: 60_000 } });
    await target.ready;
  });
  afterAll(() => target.close());

  it("joins actual values to predictions: online rmse, mae and count per version", async () => {
    const one = await predictOne(target, { rooms: 3, area: 100, color: "red" });
    const two = await predictOne(target, { rooms: 2, area: 50, color: null });
    const first = await feedback(target, { id: one.id, actual: one.prediction + 30 });
    expect(first).toEqual({
      status: 200,
      body: {
        joined: 1,
        feedback: [
          { model: "house", version: "1", predicted: one.prediction, actual: one.prediction + 30 },
        ],
      },
    });
    const second = await feedback(target, [{ id: two.id, actual: two.prediction - 40 }]);
    expect(second.status).toBe(200);
    const report = await monitoring(target);
    expect(report.online).toEqual({
      count: 2,
      rmse: Math.sqrt((30 ** 2 + 40 ** 2) / 2),
      mae: 35,
      bias: -5,
      total: 2,
    });
    const metrics = await (await target.fetch(new Request("http://localhost/metrics"))).text();
    expect(metrics).toContain(`mlops_online_rmse{model="house",version="1"} ${Math.sqrt(1250)}`);
    expect(metrics).toContain('mlops_online_mae{model="house",version="1"} 35');
    expect(metrics).toContain('mlops_feedback_total{model="house",version="1"} 2');
  });

  it("a batch prediction takes one value per row, or an index", async () => {
    const response = await target.fetch(post("/v1/models/house/predict", { rows: rows(4, 3) }));
    const { id, predictions } = (await response.json()) as { id: string; predictions: number[] };
    const all = await feedback(target, { feedback: [{ id, index: 1, actual: predictions[1] }] });
    expect(all.body.joined).toBe(1);
    const rest = await feedback(target, { id, actual: [predictions[0], 0, predictions[2]] });
    // Row 1 already has its feedback: nothing of this one is joined.
    expect(rest.status).toBe(409);
    expect(rest.body.error.code).toBe("feedback_duplicate");
    expect(rest.body.error.message).toMatch(/already has its feedback/);
  });

  it("every bad case is a clear 4xx, counted, and joins nothing", async () => {
    const done = await predictOne(target, { rooms: 1, area: 45, color: "blue" });
    await feedback(target, { id: done.id, actual: 100 });
    const fresh = await predictOne(target, { rooms: 4, area: 90, color: "green" });
    const cases: [unknown, number, string, RegExp][] = [
      [
        { id: "nope", actual: 1 },
        404,
        "feedback_unknown_id",
        /no prediction with id "nope" is waiting for feedback/,
      ],
      [{ id: done.id, actual: 1 }, 409, "feedback_duplicate", /already has its feedback/],
      [
        { id: fresh.id, actual: "12km" },
        422,
        "feedback_invalid",
        /actual: expected a finite number, got "12km"/,
      ],
      [{ id: fresh.id }, 422, "feedback_invalid", /actual: expected a finite number, got nothing/],
      [{ actual: 3 }, 422, "feedback_invalid", /id: expected the prediction's id/],
      [[], 422, "feedback_invalid", /no feedback/],
      [
        [
          { id: fresh.id, actual: 5 },
          { id: "nope", actual: 2 },
        ],
        422,
        "feedback_invalid",
        /nothing joined: 1 problems? \(first: \[1\]\.id: no prediction/,
      ],
    ];
    for (const [body, status, code, message] of cases) {
      const result = await feedback(target, body);
      expect(result.status, JSON.stringify(body)).toBe(status);
      expect(result.body.error.code).toBe(code);
      expect(result.body.error.message).toMatch(message);
    }
    const malformed = await feedback(target, "{not json");
    expect(malformed.status).toBe(400);
    const text = await target.fetch(
      new Request("http://localhost/v1/feedback", {
        method: "POST",
        body: "x",
        headers: { "content-type": "text/plain" },
      }),
    );
    expect(text.status).toBe(415);
    // The batch with one bad item joined nothing: the good one can still be sent.
    expect((await feedback(target, { id: fresh.id, actual: 5 })).status).toBe(200);
    const metrics = await (await target.fetch(new Request("http://localhost/metrics"))).text();
    expect(metrics).toContain('mlops_feedback_rejected_total{reason="unknown_id"} 2');
    expect(metrics).toMatch(/mlops_feedback_rejected_total\{reason="duplicate"\} [2-9]/);
    expect(metrics).toContain('mlops_feedback_rejected_total{reason="invalid"} 6');
  });

  it("an expired prediction is 410; the store keeps the newest `capacity`", async () => {
    const old = await predictOne(target, { rooms: 2, area: 70, color: "red" });
    clock += 61_000;
    const expired = await feedback(target, { id: old.id, actual: 1 });
    expect(expired.status).toBe(410);
    expect(expired.body.error.code).toBe("feedback_expired");
    const first = await predictOne(target, { rooms: 2, area: 70, color: "red" });
    for (const row of rows(5, 60)) await predictOne(target, row);
    expect(target.monitoring?.feedback.size).toBe(50);
    const pushedOut = await feedback(target, { id: first.id, actual: 1 });
    expect(pushedOut.status).toBe(410);
    expect(pushedOut.body.error.message).toMatch(
      /pushed out by newer ones \(the last 50 predictions/,
    );
  });
});

describe("feedback survives a restart with a JSON Lines file", () => {
  let dir = "";
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "mlops-feedback-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("predictions made before the restart still take their feedback after it", async () => {
    const file = join(dir, "feedback.jsonl");
    const before = app({ feedback: { file } });
    await before.ready;
    const one = await predictOne(before, { rooms: 3, area: 80, color: "green" });
    const two = await predictOne(before, { rooms: 5, area: 150, color: "blue" });
    expect((await feedback(before, { id: two.id, actual: 900 })).status).toBe(200);
    await before.close();
    const lines = (await readFile(file, "utf8"))
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(lines.map((line) => line.kind)).toEqual(["prediction", "prediction", "feedback"]);
    const after = app({ feedback: { file } });
    await after.ready;
    expect(after.monitoring?.feedback.size).toBe(2);
    expect((await feedback(after, { id: one.id, actual: 700 })).status).toBe(200);
    expect((await feedback(after, { id: two.id, actual: 900 })).status).toBe(409);
    await after.close();
  });
});

/** A webhook receiver on 127.0.0.1 that answers with the next status of `statuses` (then 200). */
async function receiver(statuses: number[] = []) {
  const received: { body: any; headers: IncomingMessage["headers"] }[] = [];
  const server: Server = createServer((request, response) => {
    let text = "";
    request.on("data", (chunk) => (text += chunk));
    request.on("end", () => {
      received.push({ body: JSON.parse(text), headers: request.headers });
      response.writeHead(statuses.shift() ?? 200).end();
    });
  });
  // Keep-alive connections never time out on this side: a delivery that reuses one the server
  // closed after 5 idle seconds (a slow, loaded machine) would fail and be retried, and the
  // tests below count retries.
  server.keepAliveTimeout = 0;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return { url, received, close: () => new Promise((resolve) => server.close(resolve)) };
}

describe("alerts", () => {
  afterEach(() => {
    clock = Date.UTC(2026, 0, 1);
  });

  it("parses seed 002's rules and says what a bad one lacks", () => {
    expect(parseAlertRule("dataset_drift_share >= 0.5 for 5m")).toEqual({
      text: "dataset_drift_share >= 0.5 for 5m",
      metric: "dataset_drift_share",
      operator: ">=",
      threshold: 0.5,
      forMs: 300_000,
    });
    expect(parseAlertRule("online_rmse > 1449 for 5m")).toMatchObject({
      metric: "online_rmse",
      threshold: 1449,
    });
    expect(parseAlertRule('feature_drift{feature="area"} >= 0.2')).toMatchObject({
      feature: "area",
      forMs: 0,
    });
    expect(() => parseAlertRule("rmse > 3")).toThrow(/METRIC is one of dataset_drift_share/);
    expect(() => parseAlertRule("feature_drift > 0.1")).toThrow(/feature_drift needs its feature/);
  });

  it("fires once after its duration, stays quiet while firing, and resolves (generic JSON)", async () => {
    const hook = await receiver();
    const delays: number[] = [];
    const target = app({
      window: { rows: 500 },
      alerts: {
        rules: ["dataset_drift_share >= 0.5 for 5m", "online_rmse > 1449 for 5m"],
        webhook: { url: hook.url, timeoutMs: 600_000 },
        intervalMs: 0,
        sleep: async (ms) => {
          delays.push(ms);
        },
      },
    });
    await target.ready;
    const monitoringOf = target.monitoring!;
    expect(await monitoringOf.evaluateAlerts()).toEqual([]);
    // A drifted batch: bigger houses, and prices far off.
    const drifted = rows(6, 500, 400).map((row) => ({ ...row, rooms: 9 }));
    const response = await target.fetch(post("/v1/models/house/predict", { rows: drifted }));
    const { id, predictions } = (await response.json()) as { id: string; predictions: number[] };
    await feedback(target, { id, actual: predictions.map((value) => value + 2000) });
    expect(await monitoringOf.evaluateAlerts()).toEqual([]); // pending: not yet 5 minutes
    clock += 4 * 60_000;
    expect(await monitoringOf.evaluateAlerts()).toEqual([]);
    clock += 60_000;
    const fired = await monitoringOf.evaluateAlerts();
    expect(fired.map((result) => [result.notification.rule, result.delivered])).toEqual([
      ["dataset_drift_share >= 0.5 for 5m", true],
      ["online_rmse > 1449 for 5m", true],
    ]);
    expect(hook.received).toHaveLength(2);
    expect(hook.received[0].body).toMatchObject({
      status: "firing",
      rule: "dataset_drift_share >= 0.5 for 5m",
      model: "house",
      version: "1",
      operator: ">=",
      threshold: 0.5,
      since: new Date(clock - 5 * 60_000).toISOString(),
      at: new Date(clock).toISOString(),
    });
    expect(hook.received[0].body.value).toBeGreaterThanOrEqual(0.5);
    expect(hook.received[1].body).toMatchObject({
      status: "firing",
      rule: "online_rmse > 1449 for 5m",
      value: 2000,
    });
    // Still firing: nothing more is sent.
    clock += 60_000;
    expect(await monitoringOf.evaluateAlerts()).toEqual([]);
    expect(hook.received).toHaveLength(2);
    // Normal traffic pushes the drifted rows out of the window: the drift alert resolves.
    await target.fetch(post("/v1/models/house/predict", { rows: rows(7, 500) }));
    const resolved = await monitoringOf.evaluateAlerts();
    expect(resolved.map((result) => result.notification.status)).toEqual(["resolved"]);
    expect(hook.received[2].body).toMatchObject({
      status: "resolved",
      rule: "dataset_drift_share >= 0.5 for 5m",
    });
    expect(delays).toEqual([]);
    await target.close();
    await hook.close();
  });

  it("posts GitHub's repository_dispatch shape and retries with backoff", async () => {
    const hook = await receiver([500, 503]);
    const delays: number[] = [];
    const target = app({
      alerts: {
        rules: ["online_rmse > 10"],
        webhook: {
          url: hook.url,
          format: "github",
          eventType: "retrain",
          token: "secret-token",
          timeoutMs: 600_000,
        },
        intervalMs: 0,
        sleep: async (ms) => {
          delays.push(ms);
        },
      },
    });
    await target.ready;
    const one = await predictOne(target, { rooms: 2, area: 60, color: "red" });
    await feedback(target, { id: one.id, actual: one.prediction + 100 });
    const [result] = await target.monitoring!.evaluateAlerts();
    expect(result).toMatchObject({ delivered: true, attempts: 3 });
    expect(delays).toEqual([500, 1000]);
    expect(hook.received).toHaveLength(3);
    const last = hook.received[2];
    expect(last.headers.authorization).toBe("Bearer secret-token");
    expect(last.headers.accept).toBe("application/vnd.github+json");
    expect(last.body.event_type).toBe("retrain");
    expect(Object.keys(last.body.client_payload).length).toBeLessThanOrEqual(10);
    expect(last.body.client_payload).toMatchObject({
      status: "firing",
      rule: "online_rmse > 10",
      model: "house",
      version: "1",
      value: 100,
    });
    expect(last.body.client_payload.values).toMatchObject({ online_rmse: 100, feedback_count: 1 });
    await target.close();
    await hook.close();
  });

  it("gives up on a 4xx at once, and after the attempts on errors", async () => {
    const hook = await receiver([400]);
    const target = app({
      alerts: {
        rules: ["feedback_count >= 1"],
        webhook: { url: hook.url, attempts: 2 },
        intervalMs: 0,
        sleep: async () => {},
      },
    });
    await target.ready;
    const one = await predictOne(target, { rooms: 2, area: 60, color: "red" });
    await feedback(target, { id: one.id, actual: 1 });
    const [refused] = await target.monitoring!.evaluateAlerts();
    expect(refused).toMatchObject({ delivered: false, attempts: 1, error: "HTTP 400" });
    await target.close();
    await hook.close();
  });
});

describe("over real HTTP on 127.0.0.1 (the Node fast path)", () => {
  it("predicts, reports and takes feedback", async () => {
    const target = app();
    const server = await serve(target, { port: 0, host: "127.0.0.1" });
    try {
      const base = `http://127.0.0.1:${server.port}`;
      const predicted = await fetch(`${base}/v1/models/house/predict`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-request-id": "house-42" },
        body: JSON.stringify({ rooms: 3, area: 90, color: "blue" }),
      });
      const body = (await predicted.json()) as { id: string; predictions: number[] };
      expect(body.id).toBe("house-42");
      const sent = await fetch(`${base}/v1/feedback`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ id: "house-42", actual: body.predictions[0] + 3 }),
      });
      expect(sent.status).toBe(200);
      const report = (await (await fetch(`${base}/v1/models/house/monitoring`)).json()) as Record<
        string,
        any
      >;
      expect(report.window.rows).toBe(1);
      expect(report.online).toMatchObject({ count: 1, rmse: 3, mae: 3 });
      expect((await fetch(`${base}/v1/models/nope/monitoring`)).status).toBe(404);
    } finally {
      await server.close();
    }
  });

  it("off by default: no monitoring routes", async () => {
    const plain = createInferenceApp({ models: [{ name: "house", artifact }], watch: false });
    await plain.ready;
    expect(plain.monitoring).toBeUndefined();
    expect(
      (await plain.fetch(new Request("http://localhost/v1/models/house/monitoring"))).status,
    ).toBe(404);
    await plain.close();
  });
});

/** A version of the house model with its training profile, predicting `intercept` more. */
function profiledAt(intercept: number): ModelArtifact {
  const base = linearArtifact(intercept);
  const training = houses.features().toFrame(rows(1, 2_000));
  const predictions = createPredictor(base).predict(training);
  return {
    ...base,
    manifest: { ...base.manifest, profile: profileFrame(training, houses, { predictions }) },
  };
}

describe("A/B variants and shadows are monitored one by one", () => {
  it("keys the windows and the online error by (name, version, variant); a shadow is scored too", async () => {
    const temp = await tempRegistry();
    try {
      await temp.registry.registerModel("house", profiledAt(50), { aliases: ["production"] });
      await temp.registry.registerModel("house", profiledAt(60), { aliases: ["candidate"] });
      await temp.registry.registerModel("house", profiledAt(80), { aliases: ["challenger"] });
      const target = createInferenceApp({
        registry: temp.registry,
        models: [
          {
            name: "house",
            variants: [
              { reference: "house@production", weight: 1 },
              { reference: "house@candidate", weight: 1 },
            ],
            shadow: ["house@challenger"],
          },
        ],
        watch: false,
        metrics: { processMetrics: false },
        monitoring: { now },
      });
      await target.ready;
      const ids: { id: string; variant: string; prediction: number }[] = [];
      for (const row of rows(8, 40)) {
        const response = await target.fetch(post("/v1/models/house/predict", row));
        const body = (await response.json()) as { id: string; predictions: number[] };
        ids.push({
          id: body.id,
          variant: response.headers.get("x-model-variant")!,
          prediction: body.predictions[0],
        });
      }
      // Shadows predict after the answer: wait until the challenger has seen every request.
      const challenger = () =>
        target.monitoring!.reports().find((report) => report.model.role === "shadow");
      while ((challenger()?.window.predictions ?? 0) < 40)
        await new Promise((resolve) => setImmediate(resolve));
      const report = await monitoring(target);
      expect(Object.keys(report.variants).sort()).toEqual([
        "house@candidate",
        "house@challenger",
        "house@production",
      ]);
      expect(report.variants["house@production"].window.rows).toBe(20); // round robin, 1:1
      expect(report.variants["house@candidate"].model).toEqual({
        name: "house",
        version: "2",
        variant: "house@candidate",
        role: "variant",
      });
      expect(report.variants["house@challenger"].window.rows).toBe(40);
      const one = await (
        await target.fetch(
          new Request("http://localhost/v1/models/house/monitoring?variant=house@candidate"),
        )
      ).json();
      expect((one as any).model.variant).toBe("house@candidate");
      expect(
        (
          await target.fetch(
            new Request("http://localhost/v1/models/house/monitoring?variant=nope"),
          )
        ).status,
      ).toBe(404);
      // Feedback for a production answer scores production and the shadow; not the candidate.
      const answered = ids.find((entry) => entry.variant === "house@production")!;
      const sent = await feedback(target, { id: answered.id, actual: answered.prediction + 10 });
      expect(sent.body.joined).toBe(1);
      expect(sent.body.feedback).toEqual([
        {
          model: "house",
          version: "1",
          variant: "house@production",
          predicted: answered.prediction,
          actual: answered.prediction + 10,
        },
        {
          model: "house",
          version: "3",
          variant: "house@challenger",
          shadow: true,
          predicted: answered.prediction + 30,
          actual: answered.prediction + 10,
        },
      ]);
      const after = await monitoring(target);
      expect(after.variants["house@production"].online).toMatchObject({ count: 1, rmse: 10 });
      expect(after.variants["house@challenger"].online).toMatchObject({ count: 1, rmse: 20 });
      expect(after.variants["house@candidate"].online.count).toBe(0);
      const metrics = await (await target.fetch(new Request("http://localhost/metrics"))).text();
      expect(metrics).toContain(
        'mlops_online_rmse{model="house",version="3",variant="house@challenger"} 20',
      );
      await target.close();
    } finally {
      await temp.cleanup();
    }
  }, 60_000);
});

describe("mlops-serve --monitor", () => {
  function io() {
    const out = { stdout: "", stderr: "" };
    return {
      out,
      io: {
        stdout: { write: (text: string) => (out.stdout += text) },
        stderr: { write: (text: string) => (out.stderr += text) },
        env: {},
        cwd: "/",
      },
    };
  }

  it("says what is wrong with a monitoring option (exit 2) before opening anything", async () => {
    const cases: [string[], RegExp][] = [
      [
        ["--monitor-window", "ten"],
        /--monitor-window ten: expected a row count \(10000\) or a duration/,
      ],
      [["--alert", "online_rmse > 3"], /--alert needs --alert-webhook URL/],
      [["--alert-webhook", "http://127.0.0.1:9/"], /need at least one --alert RULE/],
      [
        ["--alert", "rmse > 3", "--alert-webhook", "http://127.0.0.1:9/"],
        /--alert: alert rule "rmse > 3": expected METRIC OP NUMBER/,
      ],
      [
        [
          "--alert",
          "online_rmse > 3",
          "--alert-webhook",
          "http://127.0.0.1:9/",
          "--alert-format",
          "xml",
        ],
        /--alert-format xml: expected json or github/,
      ],
    ];
    for (const [args, message] of cases) {
      const run = io();
      const code = await main(
        ["--registry", "/nonexistent/.mlops", "--model", "house@production", ...args],
        run.io,
      );
      expect(code, args.join(" ")).toBe(2);
      expect(run.out.stderr).toMatch(message);
    }
  });

  it("serves the monitoring routes with --monitor, --monitor-window and --feedback-file", async () => {
    const temp = await tempRegistry();
    try {
      await temp.registry.registerModel("house", profiledAt(50), { aliases: ["production"] });
      let release: () => void = () => {};
      const shutdown = new Promise<void>((resolve) => (release = resolve));
      let base = "";
      let listening: () => void = () => {};
      const started = new Promise<void>((resolve) => (listening = resolve));
      const run = io();
      const exit = main(
        [
          "--registry",
          `${temp.dir}/.mlops`,
          "--model",
          "house@production",
          "--port",
          "0",
          "--watch-interval",
          "0",
          "--monitor",
          "--monitor-window",
          "15m",
          "--feedback-file",
          `${temp.dir}/feedback.jsonl`,
        ],
        {
          ...run.io,
          shutdown,
          onListening: (server) => {
            base = server.url.replace(/\/$/, "");
            listening();
          },
        } as Parameters<typeof main>[1],
      );
      await Promise.race([started, exit]);
      const predicted = await fetch(`${base}/v1/models/house/predict`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-request-id": "cli-1" },
        body: JSON.stringify({ rooms: 3, area: 90, color: "blue" }),
      });
      expect(predicted.status).toBe(200);
      const report = (await (await fetch(`${base}/v1/models/house/monitoring`)).json()) as Record<
        string,
        any
      >;
      expect(report.window).toMatchObject({ size: { milliseconds: 900_000 }, rows: 1 });
      const sent = await fetch(`${base}/v1/feedback`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ id: "cli-1", actual: 1000 }),
      });
      expect(sent.status).toBe(200);
      release();
      expect(await exit).toBe(0);
      const lines = (await readFile(`${temp.dir}/feedback.jsonl`, "utf8")).trim().split("\n");
      expect(lines.map((line) => JSON.parse(line).kind)).toEqual(["prediction", "feedback"]);
    } finally {
      await temp.cleanup();
    }
  }, 60_000);
});
