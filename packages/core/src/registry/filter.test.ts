import { describe, expect, it } from "vitest";
import { MlopsError } from "../errors/error.js";
import {
  applyRunSearch,
  compareRunsBy,
  matchesRunFilter,
  parseRunFilter,
  parseRunOrderBy,
} from "./filter.js";
import type { Run } from "./types.js";

function run(overrides: Partial<Run>): Run {
  return {
    runId: "r",
    experimentId: "0",
    runName: "run",
    status: "FINISHED",
    startTime: 0,
    params: {},
    metrics: {},
    tags: {},
    ...overrides,
  };
}

describe("parseRunFilter", () => {
  it("parses MLflow clauses into plain data", () => {
    expect(
      parseRunFilter(
        "metrics.rmse < 0.8 and params.max_depth = '5' AND tags.x != \"y\" and " +
          "attributes.status = 'FINISHED'",
      ),
    ).toStrictEqual([
      { entity: "metric", key: "rmse", comparator: "<", value: 0.8 },
      { entity: "param", key: "max_depth", comparator: "=", value: "5" },
      { entity: "tag", key: "x", comparator: "!=", value: "y" },
      { entity: "attribute", key: "status", comparator: "=", value: "FINISHED" },
    ]);
  });

  it("accepts MLflow's entity spellings, quoted keys, negative numbers and IN lists", () => {
    expect(parseRunFilter("metric.`val loss` >= -1.5e-3")).toStrictEqual([
      { entity: "metric", key: "val loss", comparator: ">=", value: -0.0015 },
    ]);
    expect(parseRunFilter("tags.\"mlflow.user\" <> 'ana'")[0]).toMatchObject({
      entity: "tag",
      key: "mlflow.user",
      comparator: "!=",
    });
    expect(parseRunFilter("parameter.a NOT IN ('x', 'it''s')")[0]).toMatchObject({
      entity: "param",
      comparator: "NOT IN",
      value: ["x", "it's"],
    });
    expect(parseRunFilter("run.START_TIME > 5")[0]).toMatchObject({
      entity: "attribute",
      key: "start_time",
    });
    expect(parseRunFilter("metrics.train/loss < 1")[0].key).toBe("train/loss");
    expect(parseRunFilter("   ")).toEqual([]);
  });

  it("reports the position of a problem as the error location", () => {
    let caught: unknown;
    try {
      parseRunFilter("metrics.rmse < 1 and");
    } catch (error) {
      caught = error;
    }
    expect(MlopsError.isInstance(caught)).toBe(true);
    expect((caught as MlopsError).code).toBe("filter_invalid");
    expect((caught as MlopsError).message).toBe(
      'invalid run filter "metrics.rmse < 1 and": expected an identifier like metrics.rmse, ' +
        "params.max_depth, tags.team or attributes.status, found end of input at position 21",
    );
    expect((caught as MlopsError).location).toEqual({ column: 21 });
  });
});

describe("evaluating runs", () => {
  it("matches LIKE patterns literally apart from % and _", () => {
    const clauses = parseRunFilter("tags.file LIKE 'a.b%'");
    expect(matchesRunFilter(run({ tags: { file: "a.b.csv" } }), clauses)).toBe(true);
    expect(matchesRunFilter(run({ tags: { file: "axb.csv" } }), clauses)).toBe(false);
    const ilike = parseRunFilter("tags.file ILIKE 'A_B'");
    expect(matchesRunFilter(run({ tags: { file: "a.b" } }), ilike)).toBe(true);
  });

  it("never reads inherited properties as keys", () => {
    expect(matchesRunFilter(run({}), parseRunFilter("params.constructor LIKE '%'"))).toBe(false);
    expect(matchesRunFilter(run({}), parseRunFilter("metrics.toString != 1"))).toBe(false);
  });

  it("sorts missing keys last in both directions and breaks ties reproducibly", () => {
    const runs = [
      run({ runId: "b", startTime: 1, metrics: { rmse: 2 } }),
      run({ runId: "a", startTime: 1, metrics: { rmse: 2 } }),
      run({ runId: "c", startTime: 2 }),
      run({ runId: "d", startTime: 3, metrics: { rmse: 1 } }),
    ];
    const ids = (keys: string[]) =>
      [...runs].sort(compareRunsBy(parseRunOrderBy(keys))).map((item) => item.runId);
    expect(ids(["metrics.rmse"])).toEqual(["d", "a", "b", "c"]);
    expect(ids(["metrics.rmse desc"])).toEqual(["a", "b", "d", "c"]);
    expect(applyRunSearch(runs, { maxResults: 2 }).map((item) => item.runId)).toEqual(["d", "c"]);
  });
});
