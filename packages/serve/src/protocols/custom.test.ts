import { describe, expect, it } from "vitest";
import { createInferenceApp } from "../app/app.js";
import { ServeError } from "../errors.js";
import { byHand, json, linearArtifact, post } from "../testing/fixtures.js";
import { predictRoute } from "./custom.js";

interface DeliveryRequest {
  id: string;
  features: { rooms: number; area: number; color?: string | null };
}

const duration = predictRoute({
  model: "houses",
  path: "/api/predict/delivery/duration",
  mapRequest: (body: DeliveryRequest) => {
    if (typeof body?.features !== "object") {
      throw new ServeError("invalid_request", 'expected {"id", "features": {...}}');
    }
    return { color: null, ...body.features };
  },
  mapResponse: ([seconds], _rows, body) => ({ id: body.id, duration_time: seconds }),
});

const batch = predictRoute({
  model: "houses",
  path: "/score/:region",
  method: "PUT",
  mapRequest: (body: { items: Record<string, unknown>[] }, { params }) =>
    body.items.map((item) => ({ ...item, color: params.region === "north" ? "blue" : "red" })),
  mapResponse: (predictions) => ({ scores: predictions }),
});

function app() {
  return createInferenceApp({
    models: [{ name: "houses", artifact: linearArtifact() }],
    routes: [duration, batch],
    metrics: { processMetrics: false },
  });
}

describe("predictRoute", () => {
  it("keeps a seed's contract: POST /api/predict/delivery/duration → duration_time", async () => {
    const response = await app().fetch(
      post("/api/predict/delivery/duration", { id: "order-9", features: { rooms: 2, area: 30 } }),
    );
    expect(response.status).toBe(200);
    expect(await json(response)).toEqual({
      id: "order-9",
      duration_time: byHand({ rooms: 2, area: 30 }),
    });
  });

  it("maps batches, with path parameters and another method", async () => {
    const items = [
      { rooms: 1, area: 1 },
      { rooms: 2, area: 2 },
    ];
    const response = await app().fetch(
      new Request("http://localhost/score/north", {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ items }),
      }),
    );
    expect(await json(response)).toEqual({
      scores: items.map((item) => byHand({ ...item, color: "blue" })),
    });
  });

  it("validates mapped rows (422) and turns mapRequest failures into 400", async () => {
    const invalid = await app().fetch(
      post("/api/predict/delivery/duration", { id: "x", features: { rooms: 99, area: 1 } }),
    );
    expect(invalid.status).toBe(422);
    expect((await json(invalid)).error.issues[0].path).toEqual(["rooms"]);
    const unmapped = await app().fetch(post("/api/predict/delivery/duration", { id: "x" }));
    expect(unmapped.status).toBe(400);
    expect(await json(unmapped)).toEqual({
      error: { code: "invalid_request", message: 'expected {"id", "features": {...}}' },
    });
    const thrown = await app().fetch(
      new Request("http://localhost/score/south", {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: "{}",
      }),
    );
    expect(thrown.status).toBe(400);
    expect((await json(thrown)).error.message).toMatch(/^the request body does not fit this route/);
  });

  it("is refused for a model that is not served", () => {
    expect(() =>
      createInferenceApp({
        models: [{ name: "houses", artifact: linearArtifact() }],
        routes: [predictRoute({ ...duration, model: "other", mapRequest: () => ({}) })],
      }),
    ).toThrow(/uses model "other", which is not served/);
    expect(() => predictRoute({ ...duration, path: "api" })).toThrow(/path must start with/);
  });
});
