import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requestContract } from "../models/contract.js";
import {
  byHand,
  get,
  houses,
  json,
  linearArtifact,
  post,
  tempRegistry,
} from "../testing/fixtures.js";
import { createInferenceApp, type InferenceApp } from "./app.js";

let app: InferenceApp;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  const temp = await tempRegistry();
  cleanup = temp.cleanup;
  app = createInferenceApp({
    registry: temp.registry,
    models: [
      "houses@production",
      { name: "houses-next", reference: "houses@staging" },
      "rooms-tree",
    ],
    metrics: { processMetrics: false },
  });
  await app.ready;
});

afterAll(async () => {
  await app.close();
  await cleanup();
});

describe("POST /v1/models/{name}/predict", () => {
  it("predicts one row object, with the version in the body and a header", async () => {
    const row = { rooms: 3, area: 120.5, color: "green" };
    const response = await app.fetch(
      post("/v1/models/houses/predict", row, { "x-request-id": "req-1" }),
    );
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(response.headers.get("x-model-version")).toBe("1");
    expect(await json(response)).toEqual({
      predictions: [byHand(row)],
      model: { name: "houses", version: "1" },
      id: "req-1",
    });
    expect(byHand(row)).toBe(300 + 241 + 20 + 50);
  });

  it('predicts {"rows": [...]} in order, missing nullable values included', async () => {
    const rows = [
      { rooms: 1, area: 0, color: "red" },
      { rooms: 20, area: 1000.25, color: null },
      { rooms: 4, area: 55, color: "blue", price: 999 },
    ];
    const response = await app.fetch(post("/v1/models/houses/predict", { rows }));
    const body = await json(response);
    expect(response.status).toBe(200);
    expect(body.predictions).toEqual(rows.map((row) => byHand(row)));
    expect(body.model).toEqual({ name: "houses", version: "1" });
    expect(body.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("serves another alias under its own name", async () => {
    const response = await app.fetch(
      post("/v1/models/houses-next/predict", { rows: [{ rooms: 2, area: 10, color: null }] }),
    );
    expect(response.headers.get("x-model-version")).toBe("2");
    expect((await json(response)).predictions).toEqual([byHand({ rooms: 2, area: 10 }, 60)]);
  });

  it("predicts with a tree (the latest version of rooms-tree)", async () => {
    const response = await app.fetch(
      post("/v1/models/rooms-tree/predict", {
        rows: [
          { rooms: 3, area: 1 },
          { rooms: 4, area: 1 },
        ],
      }),
    );
    expect((await json(response)).predictions).toEqual([100, 200]);
  });

  it("answers an empty batch with no predictions", async () => {
    const response = await app.fetch(post("/v1/models/houses/predict", { rows: [] }));
    expect(response.status).toBe(200);
    expect((await json(response)).predictions).toEqual([]);
  });

  it("422 lists the schema issues of one row, with [field] paths", async () => {
    // "floor" is not a feature: ignored, so not an issue.
    const response = await app.fetch(
      post("/v1/models/houses/predict", { rooms: 0, area: "12m2", color: "purple", floor: 2 }),
    );
    expect(response.status).toBe(422);
    const { error } = await json(response);
    expect(error.code).toBe("schema_invalid");
    expect(error.issues).toEqual([
      {
        code: "too_small",
        path: ["rooms"],
        message: "expected integer between 1 and 20, got 0",
        expected: "integer between 1 and 20",
        received: "0",
      },
      {
        code: "invalid_type",
        path: ["area"],
        message: 'expected number ≥ 0, got "12m2"',
        expected: "number ≥ 0",
        received: '"12m2"',
      },
      {
        code: "invalid_category",
        path: ["color"],
        message: 'expected one of "red", "green", "blue", got "purple"',
        expected: 'one of "red", "green", "blue"',
        received: '"purple"',
      },
    ]);
  });

  it("422 for a batch uses [row, field] paths (column by column)", async () => {
    const response = await app.fetch(
      post("/v1/models/houses/predict", {
        rows: [
          { rooms: 2, area: 1, color: "red" },
          { rooms: 2, area: -1, color: "red" },
          { area: 3 },
        ],
      }),
    );
    expect(response.status).toBe(422);
    const { error } = await json(response);
    expect(error.issues.map((issue: { path: unknown[] }) => issue.path)).toEqual([
      [2, "rooms"],
      [1, "area"],
    ]);
  });

  it("400 for a body that is neither a row nor rows", async () => {
    for (const [body, message] of [
      ["[1, 2]", 'expected one row object or {"rows": [...]}, got an array'],
      ['"text"', 'expected one row object or {"rows": [...]}, got "text"'],
      ['{"rows": 3}', "rows: expected an array of row objects, got 3"],
      [
        '{"rows": [], "extra": 1}',
        'unexpected key "extra" next to "rows" (send {"rows": [...]} only)',
      ],
    ]) {
      const response = await app.fetch(post("/v1/models/houses/predict", body));
      expect(response.status).toBe(400);
      expect(await json(response)).toEqual({ error: { code: "invalid_request", message } });
    }
  });

  it("404 for an unknown model names the models served", async () => {
    const response = await app.fetch(post("/v1/models/nope/predict", {}));
    expect(response.status).toBe(404);
    expect(await json(response)).toEqual({
      error: {
        code: "model_not_found",
        message: 'no model named "nope" is served (models: houses, houses-next, rooms-tree)',
      },
    });
  });
});

describe("GET /v1/models", () => {
  it("lists the models with versions, aliases and JSON Schema", async () => {
    const response = await app.fetch(get("/v1/models"));
    expect(response.status).toBe(200);
    const { models } = await json(response);
    expect(models.map((m: { name: string }) => m.name)).toEqual([
      "houses",
      "houses-next",
      "rooms-tree",
    ]);
    expect(models[0]).toEqual({
      name: "houses",
      version: "1",
      reference: "houses@production",
      aliases: ["production"],
      state: "ready",
      ready: true,
      kind: "linear",
      runtime: "native",
      platform: "mlops-native",
      digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      loadedAt: expect.any(String),
      features: ["rooms", "area", "color"],
      target: "price",
      // What a request may carry: the features; other fields are ignored.
      schema: requestContract(houses, "ignore").toJSONSchema(),
    });
    expect(models[0].schema).toMatchObject({ additionalProperties: true });
    expect(models[0].schema.properties.price).toBeUndefined();
    expect(models[1]).toMatchObject({
      version: "2",
      aliases: ["staging"],
      reference: "houses@staging",
    });
    expect(models[2]).toMatchObject({
      version: "1",
      aliases: [],
      kind: "tree",
      reference: "rooms-tree",
    });
  });

  it("GET /v1/models/{name} shows one; 404 for an unknown one", async () => {
    const one = await app.fetch(get("/v1/models/rooms-tree"));
    expect(await json(one)).toMatchObject({ name: "rooms-tree", version: "1", kind: "tree" });
    const missing = await app.fetch(get("/v1/models/nope"));
    expect(missing.status).toBe(404);
    expect((await json(missing)).error.code).toBe("model_not_found");
  });
});

describe("embedded artifacts", () => {
  it("serves { name, version, artifact } without a registry", async () => {
    const embedded = createInferenceApp({
      models: [{ name: "local", version: 7, artifact: linearArtifact(0), aliases: ["dev"] }],
      metrics: false,
    });
    await embedded.ready;
    const response = await embedded.fetch(
      post("/v1/models/local/predict", { rooms: 1, area: 1, color: "red" }),
    );
    expect(await json(response)).toMatchObject({
      predictions: [112],
      model: { name: "local", version: "7" },
    });
    const list = await json(embedded.fetch(get("/v1/models")));
    expect(list.models[0]).toMatchObject({ aliases: ["dev"], reference: null, digest: null });
  });
});
