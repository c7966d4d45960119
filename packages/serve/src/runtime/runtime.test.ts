import { createArtifact, type Frame, field, Schema, schema } from "@mlops/core";
import { describe, expect, it } from "vitest";
import { createInferenceApp } from "../app/app.js";
import { get, houses, json, linearArtifact, post, tempRegistry } from "../testing/fixtures.js";
import { defineModel } from "./define.js";
import { nativeRuntime } from "./native.js";
import type { ModelRuntime } from "./runtime.js";

describe("nativeRuntime", () => {
  it("runs core's predictors and validates on its own", async () => {
    expect([...nativeRuntime.kinds]).toEqual(["ensemble", "linear", "tree"]);
    const model = await nativeRuntime.load(linearArtifact(0));
    expect(model.validates).toBe(true);
    expect(model.predictRow?.({ rooms: 1, area: 1, color: null })).toBe(102);
    expect(() => model.predictRow?.({ rooms: 1 })).toThrow(/area/);
  });
});

describe("a runtime of the user's own", () => {
  // A "scaled" kind: prediction = factor × rooms. The runtime knows nothing about HTTP.
  const scaled: ModelRuntime = {
    name: "scaled-js",
    kinds: ["scaled"],
    load(artifact) {
      const factor = Number(artifact.manifest.model.factor);
      return {
        schema: Schema.fromJSON(artifact.manifest.schema),
        predict: (frame: Frame) => frame.numeric("rooms").map((rooms) => rooms * factor),
      };
    },
  };

  it("serves an artifact of its kind on every protocol, validated by the server", async () => {
    const temp = await tempRegistry();
    try {
      await temp.registry.registerModel(
        "scaled",
        createArtifact({
          kind: "scaled",
          schema: houses,
          model: { inputs: ["rooms"], factor: 1.5 },
          lineage: { gitCommit: "0123456789abcdef0123456789abcdef01234567" },
        }),
        { aliases: ["production"] },
      );
      const app = createInferenceApp({
        registry: temp.registry,
        models: ["scaled@production"],
        runtimes: [scaled],
        metrics: { processMetrics: false },
      });
      await app.ready;
      const row = { rooms: 4, area: 1, color: "red" };
      const named = await app.fetch(post("/v1/models/scaled/predict", row));
      expect(await json(named)).toMatchObject({ predictions: [6], model: { version: "1" } });
      const oip = await app.fetch(
        post("/v2/models/scaled/infer", {
          inputs: [
            { name: "rooms", shape: [1], datatype: "INT64", data: [2] },
            { name: "area", shape: [1], datatype: "FP64", data: [1] },
            { name: "color", shape: [1], datatype: "BYTES", data: [null] },
          ],
        }),
      );
      expect((await json(oip)).outputs[0].data).toEqual([3]);
      const mlflow = await app.fetch(post("/invocations", { dataframe_records: [row, row] }));
      expect(await json(mlflow)).toEqual({ predictions: [6, 6] });
      const invalid = await app.fetch(post("/v1/models/scaled/predict", { ...row, rooms: 0 }));
      expect(invalid.status).toBe(422);
      expect((await json(invalid)).error.issues[0].path).toEqual(["rooms"]);
      const metadata = await json(app.fetch(get("/v2/models/scaled")));
      expect(metadata.platform).toBe("scaled-js");
      const metrics = await (await app.fetch(get("/metrics"))).text();
      expect(metrics).toContain(
        'mlops_model_info{name="scaled",version="1",alias="production",' +
          'kind="scaled",runtime="scaled-js"} 1',
      );
      expect(metrics).toContain(
        'mlops_validation_failures_total{model="scaled",version="1",route="v1_predict"} 1',
      );
    } finally {
      await temp.cleanup();
    }
  });

  it("takes precedence over the native runtime for a kind both load (the ONNX seam)", async () => {
    const override: ModelRuntime = {
      name: "override",
      kinds: ["linear"],
      load: (artifact) => ({
        schema: Schema.fromJSON(artifact.manifest.schema),
        predict: (frame: Frame) => new Float64Array(frame.rowCount).fill(-1),
      }),
    };
    const app = createInferenceApp({
      models: [{ name: "houses", artifact: linearArtifact() }],
      runtimes: [override],
      metrics: false,
    });
    const response = await app.fetch(
      post("/v1/models/houses/predict", { rooms: 1, area: 1, color: null }),
    );
    expect((await json(response)).predictions).toEqual([-1]);
  });
});

describe("defineModel", () => {
  const doubler = defineModel({
    name: "doubler",
    version: 2,
    schema: schema({ x: field.number({ min: 0 }), label: field.category(["a", "b"]) }),
    predict: (frame) => Array.from(frame.numeric("x"), (x) => 2 * x),
    aliases: ["live"],
  });

  it("is validated and served with its version", async () => {
    const app = createInferenceApp({ models: [doubler], metrics: false });
    await app.ready;
    const ok = await app.fetch(
      post("/v1/models/doubler/predict", {
        rows: [
          { x: 1.5, label: "a" },
          { x: 4, label: "b" },
        ],
      }),
    );
    expect(await json(ok)).toMatchObject({
      predictions: [3, 8],
      model: { name: "doubler", version: "2" },
    });
    const bad = await app.fetch(post("/v1/models/doubler/predict", { x: -1, label: "c" }));
    expect(bad.status).toBe(422);
    expect((await json(bad)).error.issues.map((i: { code: string }) => i.code)).toEqual([
      "too_small",
      "invalid_category",
    ]);
    const listed = await json(app.fetch(get("/v1/models/doubler")));
    expect(listed).toMatchObject({
      kind: "custom",
      runtime: "custom",
      platform: "mlops-js",
      aliases: ["live"],
    });
  });

  it("uses predictRow for one row, with a parsed row", async () => {
    const seen: unknown[] = [];
    const model = defineModel({
      name: "rowwise",
      schema: schema({ x: field.number() }),
      predict: () => {
        throw new Error("not for one row");
      },
      predictRow: (row) => {
        seen.push(row);
        return Number(row.x) + 1;
      },
    });
    const app = createInferenceApp({ models: [model], metrics: false });
    const response = await app.fetch(post("/v1/models/rowwise/predict", { x: 41 }));
    expect((await json(response)).predictions).toEqual([42]);
    expect(seen).toEqual([{ x: 41 }]);
  });

  it("rejects bad definitions", () => {
    expect(() => defineModel({ name: "bad name", schema: houses, predict: () => [] })).toThrow(
      /name "bad name"/,
    );
    expect(() => defineModel({ name: "x", schema: {} as Schema, predict: () => [] })).toThrow(
      /schema must be a Schema/,
    );
  });

  it("a runtime returning no model, or a version unfit for a header, fails the load", async () => {
    const broken: ModelRuntime = {
      name: "broken",
      kinds: ["linear"],
      load: () => ({}) as never,
    };
    const app = createInferenceApp({
      models: [{ name: "houses", artifact: linearArtifact() }],
      runtimes: [broken],
      metrics: false,
    });
    await expect(app.ready).rejects.toThrow('the runtime "broken" returned no { schema, predict }');
    const spaced = createInferenceApp({
      models: [defineModel({ name: "x", version: "1 beta", schema: houses, predict: () => [] })],
      metrics: false,
    });
    await expect(spaced.ready).rejects.toThrow(/version "1 beta" must be 1-128 visible ASCII/);
  });

  it("a wrong number of predictions is a 500, not a crash", async () => {
    const short = defineModel({
      name: "short",
      schema: schema({ x: field.number() }),
      predict: () => [1],
    });
    const app = createInferenceApp({ models: [short], metrics: false });
    const response = await app.fetch(
      post("/v1/models/short/predict", { rows: [{ x: 1 }, { x: 2 }] }),
    );
    expect(response.status).toBe(500);
    expect(await json(response)).toEqual({
      error: { code: "internal", message: "Internal server error" },
    });
  });
});
