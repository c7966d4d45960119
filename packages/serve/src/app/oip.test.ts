import { SDK_VERSION } from "@mlops/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { byHand, get, json, post, tempRegistry } from "../testing/fixtures.js";
import { createInferenceApp, type InferenceApp } from "./app.js";

let app: InferenceApp;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  const temp = await tempRegistry();
  cleanup = temp.cleanup;
  app = createInferenceApp({
    registry: temp.registry,
    models: ["houses@production", "rooms-tree"],
    metrics: { processMetrics: false },
  });
  await app.ready;
});

afterAll(async () => {
  await app.close();
  await cleanup();
});

const rows = [
  { rooms: 3, area: 120, color: "red" },
  { rooms: 1, area: 0.5, color: null },
];

describe("Open Inference Protocol v2: health and metadata", () => {
  it("GET /v2 gives the server metadata", async () => {
    const response = await app.fetch(get("/v2"));
    expect(response.status).toBe(200);
    expect(await json(response)).toEqual({
      name: "mlops-serve",
      version: SDK_VERSION,
      extensions: [],
    });
  });

  it("health: live and ready answer 200 with no body", async () => {
    for (const path of [
      "/v2/health/live",
      "/v2/health/ready",
      "/v2/models/houses/ready",
      "/v2/models/houses/versions/1/ready",
    ]) {
      const response = await app.fetch(get(path));
      expect(response.status, path).toBe(200);
      expect(await response.text(), path).toBe("");
    }
  });

  it("model metadata lists versions, platform and one input tensor per feature", async () => {
    const expected = {
      name: "houses",
      versions: ["1"],
      platform: "mlops-native",
      inputs: [
        { name: "rooms", datatype: "INT64", shape: [-1] },
        { name: "area", datatype: "FP64", shape: [-1] },
        { name: "color", datatype: "BYTES", shape: [-1] },
      ],
      outputs: [{ name: "predict", datatype: "FP64", shape: [-1] }],
    };
    expect(await json(app.fetch(get("/v2/models/houses")))).toEqual(expected);
    expect(await json(app.fetch(get("/v2/models/houses/versions/1")))).toEqual(expected);
  });

  it('404 {"error": "..."} for an unknown model or version', async () => {
    const model = await app.fetch(get("/v2/models/nope"));
    expect(model.status).toBe(404);
    expect(await json(model)).toEqual({
      error: 'no model named "nope" is served (models: houses, rooms-tree)',
    });
    const version = await app.fetch(get("/v2/models/houses/versions/2/ready"));
    expect(version.status).toBe(404);
    expect(await json(version)).toEqual({
      error: 'model "houses" has no version "2" loaded (it serves version 1)',
    });
  });
});

describe("POST /v2/models/{name}/infer", () => {
  it("takes one tensor per feature and answers one FP64 output, echoing the id", async () => {
    const response = await app.fetch(
      post("/v2/models/houses/infer", {
        id: "abc-1",
        parameters: { content_type: "pd" },
        inputs: [
          { name: "rooms", shape: [2], datatype: "INT64", data: [3, 1] },
          { name: "area", shape: [2, 1], datatype: "FP64", data: [[120], [0.5]] },
          { name: "color", shape: [2], datatype: "BYTES", data: ["red", null] },
        ],
        outputs: [{ name: "predict" }],
      }),
    );
    expect(response.status).toBe(200);
    expect(await json(response)).toEqual({
      model_name: "houses",
      model_version: "1",
      id: "abc-1",
      outputs: [
        { name: "predict", datatype: "FP64", shape: [2], data: rows.map((r) => byHand(r)) },
      ],
    });
  });

  it("takes one [N, F] tensor in schema order, flat or nested, at a version path", async () => {
    const nested = await app.fetch(
      post("/v2/models/houses/versions/1/infer", {
        inputs: [
          {
            name: "input-0",
            shape: [2, 3],
            datatype: "BYTES",
            data: [
              [3, 120, "red"],
              [1, 0.5, null],
            ],
          },
        ],
      }),
    );
    // BYTES elements must be strings: a mixed matrix is not a BYTES tensor.
    expect(nested.status).toBe(400);
    const tree = await app.fetch(
      post("/v2/models/rooms-tree/infer", {
        inputs: [{ name: "x", shape: [2, 3], datatype: "FP64", data: [3, 1, null, 4, 2, null] }],
      }),
    );
    const body = await json(tree);
    expect(tree.status).toBe(200);
    expect(body.outputs).toEqual([
      { name: "predict", datatype: "FP64", shape: [2], data: [100, 200] },
    ]);
    expect(body.id).toMatch(/^[0-9a-f-]{36}$/);
    const nestedTree = await app.fetch(
      post("/v2/models/rooms-tree/infer", {
        inputs: [
          {
            name: "x",
            shape: [2, 3],
            datatype: "FP32",
            data: [
              [3, 1, null],
              [4, 2, null],
            ],
          },
        ],
      }),
    );
    expect((await json(nestedTree)).outputs[0].data).toEqual([100, 200]);
  });

  it("answers a zero-row request with an empty output", async () => {
    const response = await app.fetch(
      post("/v2/models/rooms-tree/infer", {
        inputs: [
          { name: "rooms", shape: [0], datatype: "INT64", data: [] },
          { name: "area", shape: [0], datatype: "FP64", data: [] },
          { name: "color", shape: [0], datatype: "BYTES", data: [] },
        ],
      }),
    );
    const body = await json(response);
    expect(body.outputs[0]).toEqual({ name: "predict", datatype: "FP64", shape: [0], data: [] });
  });

  it("400 for tensors that break the protocol", async () => {
    const cases: [unknown, string][] = [
      [[], 'expected an inference request object with "inputs", got an array'],
      [{ inputs: [] }, "inputs: expected a non-empty array of tensors, got an array"],
      [{ id: 5, inputs: [] }, "id: expected a string, got 5"],
      [{ parameters: [], inputs: [] }, "parameters: expected an object, got an array"],
      [
        { inputs: [{ name: "rooms", shape: [2], datatype: "FP16", data: [1, 2] }] },
        'inputs[0].datatype: expected one of FP64, FP32, INT64, INT32, BOOL, BYTES, got "FP16"',
      ],
      [
        { inputs: [{ name: "rooms", shape: [3], datatype: "INT64", data: [1, 2] }] },
        "inputs[0].data: shape [3] needs 3 values, got 2",
      ],
      [
        { inputs: [{ name: "rooms", shape: [2], datatype: "INT32", data: [1, 2.5] }] },
        "inputs[0].data[1]: expected an integer for INT32, got 2.5",
      ],
      [
        { inputs: [{ name: "rooms", shape: [1], datatype: "INT32", data: [3e9] }] },
        "inputs[0].data[0]: expected a 32-bit integer for INT32, got 3000000000",
      ],
      [
        { inputs: [{ name: "rooms", shape: [1], datatype: "FP64", data: ["1"] }] },
        'inputs[0].data[0]: expected a number for FP64, got "1"',
      ],
      [
        { inputs: [{ name: "rooms", shape: [1], datatype: "BOOL", data: [1] }] },
        "inputs[0].data[0]: expected true or false for BOOL, got 1",
      ],
      [
        { inputs: [{ name: "rooms", shape: [-1], datatype: "INT64", data: [1] }] },
        "inputs[0].shape: expected [N] or [N, F] with non-negative integers, got [-1]",
      ],
      [
        { inputs: [{ name: "rooms", shape: [1], datatype: "INT64", data: "AAAA" }] },
        'inputs[0].data: expected an array (binary tensor data is not supported), got "AAAA"',
      ],
      [
        {
          inputs: [
            { name: "rooms", shape: [2], datatype: "INT64", data: [1, 2] },
            { name: "area", shape: [1], datatype: "FP64", data: [1] },
          ],
        },
        'inputs[1] ("area"): 1 rows, expected 2 like inputs[0]',
      ],
      [
        { inputs: [{ name: "x", shape: [1, 2], datatype: "FP64", data: [1, 2] }] },
        "inputs[0]: shape [1,2] has 2 columns, the model reads 3 (rooms, area, color); " +
          "or send one tensor per feature",
      ],
      [
        {
          inputs: [{ name: "rooms", shape: [1], datatype: "INT64", data: [1] }],
          outputs: [{ name: "price" }],
        },
        'outputs[0].name: the model has one output, "predict"; got "price"',
      ],
    ];
    for (const [body, error] of cases) {
      const response = await app.fetch(post("/v2/models/houses/infer", body));
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(await json(response)).toEqual({ error });
    }
  });

  it('422 {"error"} for values the schema rejects', async () => {
    const response = await app.fetch(
      post("/v2/models/houses/infer", {
        inputs: [
          { name: "rooms", shape: [1], datatype: "INT64", data: [99] },
          { name: "area", shape: [1], datatype: "FP64", data: [1] },
          { name: "color", shape: [1], datatype: "BYTES", data: ["red"] },
        ],
      }),
    );
    expect(response.status).toBe(422);
    expect(await json(response)).toEqual({
      error: "1 problem in frame:\n  - rows[0].rooms: expected integer between 1 and 20, got 99",
    });
  });

  it("422 names a missing feature tensor; a tensor the model does not read is ignored", async () => {
    const response = await app.fetch(
      post("/v2/models/houses/infer", {
        inputs: [
          { name: "rooms", shape: [1], datatype: "INT64", data: [2] },
          { name: "garage", shape: [1], datatype: "BOOL", data: [true] },
        ],
      }),
    );
    expect(response.status).toBe(422);
    const { error } = await json(response);
    expect(error).toBe(
      "2 problems in frame:\n" +
        '  - area: missing column "area": expected number ≥ 0\n' +
        '  - color: missing column "color": expected one of "red", "green", "blue"',
    );
  });
});
