// The served contract as a client meets it: a real Node server on 127.0.0.1, models drafted from
// real California housing rows the way mlops-train drafts them, requests over HTTP.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { inferSchema, openRegistry, readFrame, widenSchema } from "@mlops/core";
import { HOUSING_OCEAN, HOUSING_TREE_PARTS, housingTree } from "@mlops/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createInferenceApp } from "../app/app.js";
import { type RunningServer, serve } from "../node/serve.js";

const fixture = fileURLToPath(
  new URL("../testing/fixtures/california-housing.csv", import.meta.url),
);
const OCEAN = [...HOUSING_OCEAN];
const tree = housingTree;
const parts = HOUSING_TREE_PARTS;

const row = {
  longitude: -122.23,
  latitude: 37.88,
  housing_median_age: 41,
  total_rooms: 880,
  total_bedrooms: 129,
  population: 322,
  households: 126,
  median_income: 8.3252,
  ocean_proximity: "NEAR BAY",
};

let folder = "";
let server: RunningServer;
let strict: RunningServer;

async function post(base: RunningServer, path: string, body: unknown, type = "application/json") {
  const response = await fetch(`${base.url}${path}`, {
    method: "POST",
    headers: { "content-type": type },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  // biome-ignore lint/suspicious/noExplicitAny: the tests read whatever the server answered.
  return { status: response.status, body: (await response.json()) as any };
}

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), "mlops-serve-contract-"));
  const registry = await openRegistry(join(folder, "registry"));
  const draft = inferSchema(await readFrame(fixture), { target: "median_house_value" });
  // As mlops-train registers a model trained without --schema: the draft, widened.
  await registry.registerModel("housing", tree(widenSchema(draft, parts)), {
    aliases: ["production"],
  });
  // A model whose schema the user declared: the contract as declared.
  await registry.registerModel("declared", tree(draft), { aliases: ["production"] });
  const models = ["housing@production", "declared@production"];
  const app = createInferenceApp({ registry, models, metrics: false });
  const strictApp = createInferenceApp({
    registry,
    models,
    metrics: false,
    unknownFields: "reject",
  });
  await Promise.all([app.ready, strictApp.ready]);
  server = await serve(app, { port: 0 });
  strict = await serve(strictApp, { port: 0 });
}, 60_000);

afterAll(async () => {
  await server?.close();
  await strict?.close();
  await rm(folder, { recursive: true, force: true });
});

describe("the served contract follows what the model can take", () => {
  it("takes 41.5 where the CSV had 41.0, a gap, and a category it never saw", async () => {
    const drafted = await readFile(fixture, "utf8");
    expect(drafted).toContain(",41.0,");
    for (const change of [
      { housing_median_age: 41.5 },
      { total_bedrooms: null },
      { ocean_proximity: "LAKE" },
    ]) {
      const answer = await post(server, "/v1/models/housing/predict", { ...row, ...change });
      expect(answer).toMatchObject({ status: 200, body: { predictions: [400_000] } });
      // The declared schema is explicit: the same request is refused.
      const declared = await post(server, "/v1/models/declared/predict", { ...row, ...change });
      expect(declared.status).toBe(422);
    }
    // The same holds for a batch and for MLflow's dataframe_split.
    const split = await post(server, "/invocations?model=housing", {
      dataframe_split: {
        columns: Object.keys(row),
        data: [
          Object.values({ ...row, housing_median_age: 41.5, ocean_proximity: "LAKE" }),
          Object.values({ ...row, median_income: 2, total_bedrooms: null }),
        ],
      },
    });
    expect(split).toEqual({ status: 200, body: { predictions: [400_000, 150_000] } });
  });

  it("states the contract: number, nullable, other values accepted", async () => {
    const response = await fetch(`${server.url}/v1/models/housing`);
    const { schema, target } = (await response.json()) as {
      schema: { properties: Record<string, unknown> };
      target: string;
    };
    expect(target).toBe("median_house_value");
    expect(schema.properties.housing_median_age).toEqual({ type: ["number", "null"] });
    expect(schema.properties.ocean_proximity).toEqual({
      type: ["string", "null"],
      examples: OCEAN,
    });
    expect(schema.properties.median_house_value).toBeUndefined();
    const oip = (await (await fetch(`${server.url}/v2/models/housing`)).json()) as {
      inputs: { name: string }[];
    };
    expect(
      oip.inputs.find((input: { name: string }) => input.name === "housing_median_age"),
    ).toEqual({ name: "housing_median_age", datatype: "FP64", shape: [-1] });
  });
});

describe("fields the model does not read", () => {
  it("ignores a client's id and the target, whatever it holds, by default", async () => {
    const extra = { ...row, id: "order-17", median_house_value: "n/a" };
    expect(await post(server, "/v1/models/housing/predict", extra)).toMatchObject({
      status: 200,
      body: { predictions: [400_000] },
    });
    expect(await post(server, "/v1/models/declared/predict", extra)).toMatchObject({
      status: 200,
    });
    expect(
      await post(server, "/invocations?model=housing", {
        dataframe_records: [extra, { ...extra, id: 18 }],
      }),
    ).toEqual({ status: 200, body: { predictions: [400_000, 400_000] } });
    const csv =
      `id,${Object.keys(row).join(",")},median_house_value\n` +
      `a1,${Object.values(row).join(",")},n/a\n`;
    expect(await post(server, "/invocations?model=housing", csv, "text/csv")).toEqual({
      status: 200,
      body: { predictions: [400_000] },
    });
    const tensors = Object.entries({ ...row, id: 7 }).map(([name, value]) => ({
      name,
      shape: [1],
      datatype: typeof value === "string" ? "BYTES" : "FP64",
      data: [value],
    }));
    expect(await post(server, "/v2/models/housing/infer", { inputs: tensors })).toMatchObject({
      status: 200,
      body: { outputs: [{ name: "predict", data: [400_000] }] },
    });
  });

  it('refuses them with unknownFields: "reject"', async () => {
    const answer = await post(strict, "/v1/models/housing/predict", { ...row, id: "order-17" });
    expect(answer.status).toBe(422);
    expect(answer.body.error.issues).toEqual([
      expect.objectContaining({ code: "unknown_field", path: ["id"] }),
    ]);
    const target = await post(strict, "/v1/models/housing/predict", {
      ...row,
      median_house_value: 452600,
    });
    expect(target).toMatchObject({ status: 200, body: { predictions: [400_000] } });
  });
});

describe("errors that say what to do", () => {
  it("an [N, F] tensor with a category feature points to one tensor per feature", async () => {
    const answer = await post(server, "/v2/models/housing/infer", {
      inputs: [
        { name: "input-0", shape: [1, 9], datatype: "FP64", data: [1, 2, 3, 4, 5, 6, 7, 8, 0] },
      ],
    });
    expect(answer.status).toBe(400);
    expect(answer.body.error).toBe(
      'inputs[0]: a single [N, F] tensor cannot carry the category feature "ocean_proximity" ' +
        "(a tensor has one datatype); send one tensor per feature, named after it, e.g. " +
        '{"name": "ocean_proximity", "datatype": "BYTES", "shape": [1], "data": [...]} next to ' +
        '{"name": "longitude", "datatype": "FP64", "shape": [1], "data": [...]} ' +
        "(GET /v2/models/housing lists the inputs)",
    );
  });

  it("413 on a large CSV names --max-body and batch scoring", async () => {
    const line = `${Object.values(row).join(",")}\n`;
    const csv = `${Object.keys(row).join(",")}\n${line.repeat(Math.ceil(1_400_000 / line.length))}`;
    const answer = await post(server, "/invocations?model=housing", csv, "text/csv");
    expect(answer.status).toBe(413);
    expect(answer.body.error.message).toBe(
      "request body is larger than the limit of 1048576 bytes (1 MiB): send fewer rows per " +
        "request, raise the limit (mlops-serve --max-body 8mb, or limits.maxBodyBytes), or " +
        "score a large file offline in batches with mlops-predict",
    );
  });
});
