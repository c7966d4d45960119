import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { createInferenceApp } from "../app/app.js";
import { get, linearArtifact, post, treeArtifact } from "../testing/fixtures.js";
import { linearBuckets } from "./metrics.js";

function lines(text: string, prefix: string): string[] {
  return text.split("\n").filter((line) => line.startsWith(prefix));
}

describe("GET /metrics", () => {
  it("counts requests, rows, validation failures and predicted values per model", async () => {
    const app = createInferenceApp({
      models: [
        {
          name: "houses",
          artifact: linearArtifact(),
          version: 3,
          aliases: ["production", "stable"],
        },
        { name: "tree", artifact: treeArtifact() },
      ],
      metrics: { processMetrics: false },
    });
    await app.ready;
    const row = { rooms: 2, area: 10, color: "red" };
    await app.fetch(post("/v1/models/houses/predict", row));
    await app.fetch(post("/v1/models/houses/predict", { rows: [row, row, row] }));
    await app.fetch(post("/v1/models/houses/predict", { ...row, rooms: 0 }));
    await app.fetch(post("/invocations", { dataframe_records: [row] }, { "x-model": "tree" }));
    await app.fetch(post("/v1/models/nope/predict", row));

    const response = await app.fetch(get("/metrics"));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const text = await response.text();
    expect(lines(text, "mlops_requests_total")).toEqual([
      'mlops_requests_total{model="houses",version="3",route="v1_predict",status="200"} 2',
      'mlops_requests_total{model="houses",version="3",route="v1_predict",status="422"} 1',
      'mlops_requests_total{model="tree",version="1",route="invocations",status="200"} 1',
      'mlops_requests_total{model="",version="",route="v1_predict",status="404"} 1',
    ]);
    expect(lines(text, "mlops_predictions_total")).toEqual([
      'mlops_predictions_total{model="houses",version="3"} 4',
      'mlops_predictions_total{model="tree",version="1"} 1',
    ]);
    expect(lines(text, 'mlops_validation_failures_total{model="houses"')).toEqual([
      'mlops_validation_failures_total{model="houses",version="3",route="v1_predict"} 1',
    ]);
    expect(lines(text, "mlops_request_duration_seconds_count")).toEqual([
      'mlops_request_duration_seconds_count{model="houses",version="3",route="v1_predict"} 3',
      'mlops_request_duration_seconds_count{model="tree",version="1",route="invocations"} 1',
      'mlops_request_duration_seconds_count{model="",version="",route="v1_predict"} 1',
    ]);
    // houses: the target's range 0..10,000 in ten steps; every prediction (280) is ≤ 1000.
    const houseValues = lines(text, 'mlops_prediction_value_bucket{model="houses"');
    expect(houseValues[0]).toBe(
      'mlops_prediction_value_bucket{model="houses",version="3",le="1000"} 4',
    );
    expect(houseValues.at(-1)).toBe(
      'mlops_prediction_value_bucket{model="houses",version="3",le="+Inf"} 4',
    );
    expect(lines(text, 'mlops_prediction_value_sum{model="houses"')).toEqual([
      `mlops_prediction_value_sum{model="houses",version="3"} ${4 * 280}`,
    ]);
    expect(lines(text, "mlops_model_info")).toEqual([
      'mlops_model_info{name="houses",version="3",alias="production",kind="linear",' +
        'runtime="native"} 1',
      'mlops_model_info{name="houses",version="3",alias="stable",kind="linear",runtime="native"} 1',
      'mlops_model_info{name="tree",version="1",alias="",kind="tree",runtime="native"} 1',
    ]);
    expect(lines(text, "mlops_model_ready")).toEqual([
      'mlops_model_ready{name="houses"} 1',
      'mlops_model_ready{name="tree"} 1',
    ]);
    expect(text).toContain("# TYPE mlops_request_duration_seconds histogram");
    expect(text).not.toContain("process_cpu");
  });

  it("registers in a given registry, with process metrics by default", async () => {
    const registry = new Registry();
    const app = createInferenceApp({
      models: [{ name: "tree", artifact: treeArtifact() }],
      metrics: { registry },
    });
    expect(app.metricsRegistry).toBe(registry);
    const text = await registry.metrics();
    expect(text).toContain("process_cpu_user_seconds_total");
    expect(text).toContain("mlops_model_info");
  });

  it("is absent with metrics: false", async () => {
    const app = createInferenceApp({
      models: [{ name: "tree", artifact: treeArtifact() }],
      metrics: false,
    });
    expect((await app.fetch(get("/metrics"))).status).toBe(404);
  });

  it("buckets a range in ten equal steps", () => {
    expect(linearBuckets(0, 10)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(linearBuckets(5, 5)).toEqual([5]);
  });
});
