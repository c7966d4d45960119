import { SDK_VERSION } from "@mlops/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  byHand,
  get,
  json,
  linearArtifact,
  post,
  tempRegistry,
  treeArtifact,
} from "../testing/fixtures.js";
import { createInferenceApp, type InferenceApp } from "./app.js";

let app: InferenceApp;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  const temp = await tempRegistry();
  cleanup = temp.cleanup;
  app = createInferenceApp({
    registry: temp.registry,
    models: ["houses@production"],
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
const expected = { predictions: rows.map((row) => byHand(row)) };

function csv(text: string, type = "text/csv"): Request {
  return new Request("http://localhost/invocations", {
    method: "POST",
    headers: { "content-type": type },
    body: text,
  });
}

describe("POST /invocations (MLflow scoring protocol)", () => {
  it("dataframe_split, any column order", async () => {
    const response = await app.fetch(
      post("/invocations", {
        dataframe_split: {
          columns: ["color", "area", "rooms"],
          data: [
            ["red", 120, 3],
            [null, 0.5, 1],
          ],
          index: [0, 1],
        },
      }),
    );
    expect(response.status).toBe(200);
    expect(await json(response)).toEqual(expected);
  });

  it("dataframe_records, with params beside it", async () => {
    const response = await app.fetch(
      post("/invocations", { dataframe_records: rows, params: { ignored: true } }),
    );
    expect(await json(response)).toEqual(expected);
  });

  it("instances and inputs: row objects, arrays in feature order, or columns", async () => {
    for (const body of [
      { instances: rows },
      {
        instances: [
          [3, 120, "red"],
          [1, 0.5, null],
        ],
      },
      { inputs: { rooms: [3, 1], area: [120, 0.5], color: ["red", null] } },
      { inputs: rows },
      {
        inputs: [
          [3, 120, "red"],
          [1, 0.5, null],
        ],
      },
    ]) {
      const response = await app.fetch(
        post("/invocations", body, { "content-type": "application/json; charset=utf-8" }),
      );
      expect(await json(response), JSON.stringify(body)).toEqual(expected);
    }
  });

  it("text/csv, with quotes, CRLF and missing values as core reads files", async () => {
    const body = 'rooms,area,color\r\n3,120,"red"\r\n1,".5",\r\n';
    const response = await app.fetch(csv(body));
    expect(response.status).toBe(200);
    expect(await json(response)).toEqual(expected);
  });

  it("422 with issues for bad CSV values and for bad JSON values", async () => {
    const fromCsv = await app.fetch(csv("rooms,area,color\nthree,1,red\n"));
    expect(fromCsv.status).toBe(422);
    expect((await json(fromCsv)).error.issues).toEqual([
      {
        code: "invalid_type",
        path: [0, "rooms"],
        message: 'expected integer between 1 and 20, got "three"',
        expected: "integer between 1 and 20",
        received: '"three"',
      },
    ]);
    // JSON strings are not numbers: "3" for an integer field is an issue (no coercion).
    const fromJson = await app.fetch(
      post("/invocations", { dataframe_records: [{ rooms: "3", area: 1, color: "red" }] }),
    );
    expect(fromJson.status).toBe(422);
    expect((await json(fromJson)).error.issues[0]).toMatchObject({
      code: "invalid_type",
      path: [0, "rooms"],
    });
  });

  it("400 for a body without exactly one format, and for malformed CSV", async () => {
    const none = await app.fetch(post("/invocations", { data: [] }));
    expect(none.status).toBe(400);
    expect(await json(none)).toEqual({
      error: {
        code: "invalid_request",
        message:
          "the input must be a JSON object with exactly one of dataframe_split, " +
          'dataframe_records, instances, inputs (and optionally "params"); got keys: data',
      },
    });
    const two = await app.fetch(post("/invocations", { instances: [], inputs: [] }));
    expect(two.status).toBe(400);
    for (const [text, message] of [
      // Core's CSV reader answers, in its words, with the body where a file's path would be.
      ["", "CSV body: the file is empty; expected a header line"],
      ["a,b\n1\n", "CSV body:2: expected 2 fields like the header, found 1"],
      [
        'a\n"open\n',
        'CSV body:2: unterminated quoted field in column "a": the quote opened on this line is ' +
          "never closed",
      ],
      ["a,a\n1,2\n", 'CSV body:1: duplicate column "a" in the header, at positions 1 and 2'],
      [
        "a,,b\n1,2,3\n",
        "CSV body:1: column 2 of the header has an empty name; every column needs a name",
      ],
    ]) {
      const response = await app.fetch(csv(text));
      expect(response.status).toBe(400);
      expect(await json(response)).toEqual({ error: { code: "malformed_csv", message } });
    }
  });

  it("415 for other content types and parameters, as MLflow answers", async () => {
    for (const type of [
      "text/plain",
      "application/json; format=pandas-split",
      "text/csv; charset=latin-1",
    ]) {
      const response = await app.fetch(csv("rooms\n1\n", type));
      expect(response.status, type).toBe(415);
      expect((await json(response)).error.code).toBe("unsupported_media_type");
    }
  });
});

describe("GET /ping, /health, /version", () => {
  it("answers 200 when ready and the SDK version", async () => {
    for (const path of ["/ping", "/health"]) {
      const response = await app.fetch(get(path));
      expect(response.status).toBe(200);
      expect(await response.text()).toBe("\n");
    }
    const version = await app.fetch(get("/version"));
    expect(await version.text()).toBe(SDK_VERSION);
  });
});

describe("several models", () => {
  it("need x-model or ?model= to pick one", async () => {
    const several = createInferenceApp({
      models: [
        { name: "linear", artifact: linearArtifact() },
        { name: "tree", artifact: treeArtifact() },
      ],
      metrics: false,
    });
    await several.ready;
    const body = { dataframe_records: rows };
    const unnamed = await several.fetch(post("/invocations", body));
    expect(unnamed.status).toBe(400);
    expect(await json(unnamed)).toEqual({
      error: {
        code: "model_selection_required",
        message:
          'this server serves 2 models (linear, tree); name one with the "x-model" header or ' +
          '"?model=" in the URL',
      },
    });
    const byHeader = await several.fetch(post("/invocations", body, { "x-model": "tree" }));
    expect(await json(byHeader)).toEqual({ predictions: [100, 100] });
    const byQuery = await several.fetch(post("/invocations?model=linear", body));
    expect(await json(byQuery)).toEqual(expected);
    const unknown = await several.fetch(post("/invocations?model=other", body));
    expect(unknown.status).toBe(404);
  });
});
