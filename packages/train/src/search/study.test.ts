import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MlopsError, openRegistry, type Registry } from "@mlops/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { conformanceRegressionFrame } from "../testing/estimator-conformance.js";
import { DecisionTreeRegressor } from "../tree/decision-tree.js";
import { SuccessiveHalving } from "./halving.js";
import { GridSearch } from "./search.js";

let root = "";
let registry: Registry;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "mlops-search-study-"));
  registry = await openRegistry(join(root, "registry"));
});

afterAll(async () => {
  await registry.close();
  await rm(root, { recursive: true, force: true });
});

const grid = { maxDepth: [2, 4, null], minSamplesLeaf: [1, 8] };

describe("a search shared through a study (SDK)", () => {
  it("gives the plain search's results; a worker joining a finished study reads them", async () => {
    const frame = conformanceRegressionFrame(200, 3);
    const options = { estimator: new DecisionTreeRegressor(), paramGrid: grid, cv: 3, nJobs: 1 };
    const plain = await new GridSearch(options).fit(frame, "y");
    let finishes = 0;
    const study = {
      name: "trees",
      onFinish: async () => {
        finishes += 1;
        return { registered: "nothing" };
      },
    };
    const first = await new GridSearch({ ...options, registry, study }).fit(frame, "y");
    const late = await new GridSearch({ ...options, registry, study }).fit(frame, "y");
    for (const search of [first, late]) {
      expect(search.cvResults.mean_test_rmse).toStrictEqual(plain.cvResults.mean_test_rmse);
      expect(search.bestParams).toStrictEqual(plain.bestParams);
    }
    expect(finishes).toBe(1);
    expect(first.study).toMatchObject({ trialsRun: 6, finished: true });
    expect(late.study).toMatchObject({ trialsRun: 0, finished: false });
    expect(late.study?.study.result).toMatchObject({
      registered: "nothing",
      bestIndex: plain.bestIndex,
    });
    expect(late.runId).toBe(first.runId);
    const runs = await registry.store.searchRuns({ parentRunId: first.runId });
    expect(runs).toHaveLength(6);
  });

  it("shares successive halving's rounds as batches", async () => {
    const frame = conformanceRegressionFrame(300, 3);
    const options = {
      estimator: new DecisionTreeRegressor(),
      paramGrid: { maxDepth: [1, 2, 3, 4, 6, 8], minSamplesLeaf: [1, 4] },
      cv: 3,
      nJobs: 1,
      minResources: 60,
    };
    const plain = await new SuccessiveHalving(options).fit(frame, "y");
    const shared = await new SuccessiveHalving({
      ...options,
      registry,
      study: { name: "halving" },
    }).fit(frame, "y");
    expect(shared.cvResults.mean_test_rmse).toStrictEqual(plain.cvResults.mean_test_rmse);
    expect(shared.bestParams).toStrictEqual(plain.bestParams);
    const batches = new Set(
      (await registry.store.studies!.listTrials("halving")).map((trial) => trial.batch),
    );
    expect(batches.size).toBeGreaterThan(1);
  });

  it("refuses a study without a registry, and a study of other data or another search", async () => {
    const frame = conformanceRegressionFrame(120, 3);
    const estimator = new DecisionTreeRegressor();
    const refused = async (search: Promise<unknown>, code: string, message: RegExp) => {
      const error = await search.then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(MlopsError.isInstance(error)).toBe(true);
      expect((error as MlopsError).code).toBe(code);
      expect((error as MlopsError).message).toMatch(message);
    };
    await refused(
      new GridSearch({ estimator, paramGrid: grid, study: { name: "x" } }).fit(frame, "y"),
      "argument_invalid",
      /study "x" needs a registry/,
    );
    await new GridSearch({
      estimator,
      paramGrid: grid,
      cv: 3,
      nJobs: 1,
      registry,
      study: { name: "small" },
    }).fit(frame, "y");
    await refused(
      new GridSearch({
        estimator,
        paramGrid: grid,
        cv: 3,
        nJobs: 1,
        registry,
        study: { name: "small" },
      }).fit(conformanceRegressionFrame(121, 3), "y"),
      "registry_conflict",
      /study "small" searches other data/,
    );
    await refused(
      new GridSearch({
        estimator,
        paramGrid: { maxDepth: [3] },
        cv: 3,
        nJobs: 1,
        registry,
        study: { name: "small" },
      }).fit(frame, "y"),
      "registry_conflict",
      /study "small" runs another search/,
    );
  });
});
