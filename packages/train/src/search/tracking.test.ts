import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openRegistry, type Registry } from "@mlops/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { conformanceRegressionFrame } from "../testing/estimator-conformance.js";
import { DecisionTreeRegressor } from "../tree/decision-tree.js";
import { GridSearch } from "./search.js";

let root = "";
let registry: Registry;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "mlops-search-tracking-"));
  registry = await openRegistry(join(root, "registry"));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("search tracking", () => {
  it("records one parent run and a nested run per candidate", async () => {
    const frame = conformanceRegressionFrame(200, 3);
    const search = await new GridSearch({
      estimator: new DecisionTreeRegressor(),
      paramGrid: { maxDepth: [2, 4, null], minSamplesLeaf: [1, 8] },
      cv: 3,
      scoring: ["rmse", "r2"],
      nJobs: 1,
      registry,
      experiment: "wine-tuning",
    }).fit(frame, "y");
    const parent = await registry.store.getRun(search.runId!);
    expect(parent.status).toBe("FINISHED");
    expect(parent.runName).toBe("GridSearch");
    expect(parent.tags["mlops.search"]).toBe("GridSearch");
    expect(parent.params).toMatchObject({
      search: "GridSearch",
      estimator: "DecisionTreeRegressor",
      cv: "3",
      scoring: "rmse,r2",
      n_candidates: "6",
      best_maxDepth: String(search.bestParams.maxDepth),
      best_minSamplesLeaf: String(search.bestParams.minSamplesLeaf),
    });
    expect(parent.metrics.best_cv_rmse).toBe(search.bestScore);
    expect(parent.metrics.best_index).toBe(search.bestIndex);
    const experiment = await registry.store.getExperimentByName("wine-tuning");
    expect(parent.experimentId).toBe(experiment!.experimentId);

    const children = await registry.store.searchRuns({ parentRunId: parent.runId });
    expect(children).toHaveLength(6);
    const results = search.cvResults;
    for (const child of children) {
      const index = Number(child.tags["mlops.trial"]);
      expect(child.status).toBe("FINISHED");
      expect(child.runName).toBe(`trial-00${index}`);
      expect(child.parentRunId).toBe(parent.runId);
      expect(child.params.maxDepth).toBe(String(results.params[index].maxDepth));
      expect(child.metrics.mean_test_rmse).toBeCloseTo(results.mean_test_rmse[index] as number, 12);
      const history = await registry.store.getMetricHistory(child.runId, "test_r2");
      expect(history.map((metric) => metric.step)).toEqual([0, 1, 2]);
      expect(history.map((metric) => metric.value)).toEqual(
        [0, 1, 2].map((k) => results[`split${k}_test_r2`][index]),
      );
      const fitTimes = await registry.store.getMetricHistory(child.runId, "fit_time");
      expect(fitTimes).toHaveLength(3);
    }
  });

  it("marks the parent run FAILED when the search fails", async () => {
    const frame = conformanceRegressionFrame(60, 3);
    const search = new GridSearch({
      estimator: new DecisionTreeRegressor(),
      paramGrid: { maxDepth: [0] },
      nJobs: 1,
      registry,
      runName: "broken",
    });
    await expect(search.fit(frame, "y")).rejects.toThrow("every fit failed");
    const parent = await registry.store.getRun(search.runId!);
    expect(parent.status).toBe("FAILED");
    expect(parent.runName).toBe("broken");
  });
});
