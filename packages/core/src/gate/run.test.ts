import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { MlopsError } from "../errors/error.js";
import { openExistingRegistry } from "../registry/existing.js";
import { openRegistry, type Registry } from "../registry/registry.js";
import { listReports } from "../registry/reports.js";
import { caught, GATE_METRICS, gateEvaluationCsv, populateGateRegistry } from "./fixture.js";
import { formatGateRunMarkdown, gateRunReport } from "./report.js";
import { GateConfigError } from "./rules.js";
import { gateModelUri, runGate } from "./run.js";

const root = await mkdtemp(join(tmpdir(), "mlops-gate-run-"));
let dir = "";
let registry: Registry;
const rules = ["rmse:maxRelativeRegression=0.02", "r2:minAbsoluteChange=0"];

beforeEach(async () => {
  dir = await mkdtemp(join(root, "case-"));
  await populateGateRegistry(join(dir, "registry"));
  await writeFile(join(dir, "eval.csv"), gateEvaluationCsv());
  registry = await openRegistry(join(dir, "registry"));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function aliases(name = "wine") {
  return registry.store.listAliases(name);
}

async function rejected(promise: Promise<unknown>): Promise<MlopsError> {
  try {
    await promise;
  } catch (error) {
    if (MlopsError.isInstance(error)) return error;
    throw error;
  }
  throw new Error("expected a rejection");
}

describe("gateModelUri", () => {
  it("reads @alias, N, /N, latest and full URIs", () => {
    expect(gateModelUri("wine", "@staging")).toBe("models:/wine@staging");
    expect(gateModelUri("wine", "3")).toBe("models:/wine/3");
    expect(gateModelUri("wine", "/3")).toBe("models:/wine/3");
    expect(gateModelUri("wine", " latest ")).toBe("models:/wine/latest");
    expect(gateModelUri("wine", "models:/other@production")).toBe("models:/other@production");
  });

  it("says what it expected for anything else", () => {
    expect(() => gateModelUri("wine", "staging")).toThrow(
      '"staging" is not a model reference: expected @ALIAS, a version (3 or /3), latest or a ' +
        "models:/ URI",
    );
    expect(() => gateModelUri("wine", "")).toThrow(/expected a model reference/);
    expect((caught(() => gateModelUri("wine", "@Production")) as MlopsError).code).toBe(
      "uri_invalid",
    );
    expect((caught(() => gateModelUri("wine", "/0")) as MlopsError).code).toBe("uri_invalid");
    expect((caught(() => gateModelUri("../wine", "@staging")) as MlopsError).code).toBe(
      "registry_name_invalid",
    );
  });
});

describe("runGate", () => {
  it("scores both models on the data, passes, promotes with the verdict as reason", async () => {
    const run = await runGate(registry, {
      model: "wine",
      data: "eval.csv",
      cwd: dir,
      rules,
      promote: "production",
      actor: "ci",
    });
    expect(run.result.verdict).toBe("pass");
    expect(run.result.comparedOn).toBe("evaluation-data");
    expect(run.result.candidate.metrics.rmse).toBeCloseTo(GATE_METRICS.v2.rmse, 12);
    expect(run.result.baseline?.metrics.rmse).toBeCloseTo(GATE_METRICS.v1.rmse, 12);
    expect(run.result.candidate.metrics.r2).toBeCloseTo(GATE_METRICS.v2.r2, 12);
    expect(run.candidate.version).toBe(2);
    expect(run.baseline?.version).toBe(1);
    expect(run.summary).toBe(
      "gate passed: rmse 0.3062 vs 0.3348 (-8.54 %, at most 2 % worse allowed); " +
        "r2 0.8969 vs 0.8768 (+2.3 %, at least as good required)",
    );
    expect(run.promoted).toEqual({
      name: "wine",
      alias: "production",
      from: 1,
      to: 2,
      moved: true,
      actor: "ci",
      reason: run.summary,
    });
    expect((await aliases()).production).toBe(2);
    const last = (await registry.aliasHistory("wine")).at(-1);
    expect(last).toMatchObject({ alias: "production", fromVersion: 1, toVersion: 2, actor: "ci" });
    expect(last?.reason).toBe(run.summary);
    expect(formatGateRunMarkdown(run)).toContain(
      "Candidate `models:/wine@staging` (wine v2), baseline `models:/wine@production` (wine v1)." +
        "\n\nEvaluation data: eval.csv (12 rows).\n\n**Promoted:** `wine@production` v1 → v2 " +
        "(by ci).\n",
    );

    // Run again: the alias already points at the candidate, and no move is recorded.
    const again = await runGate(registry, {
      model: "wine",
      candidate: "/2",
      baseline: "/1",
      data: join(dir, "eval.csv"),
      rules,
      promote: "production",
      reason: "nightly",
    });
    expect(again.promoted).toMatchObject({ from: 2, to: 2, moved: false });
    expect(again.promoted?.reason).toBe(`nightly; ${again.summary}`);
    expect(await registry.aliasHistory("wine")).toHaveLength(4);
  });

  it("keeps every run's report with the candidate version, passed or failed", async () => {
    const failed = await runGate(registry, {
      model: "wine",
      candidate: "@challenger",
      data: "eval.csv",
      cwd: dir,
      rules,
      promote: "production",
      reportFiles: (report) => ({
        "report.md": `verdict ${report.result.verdict}, candidate v${report.candidate.version}`,
        "raw.bin": Uint8Array.of(1, 2, 3),
      }),
    });
    expect(failed.kept).toEqual({
      runId: expect.stringMatching(/^[0-9a-f]{32}$/),
      experiment: "mlops-gate",
      title: "gate wine v3 vs v1: fail",
    });
    const [kept] = await listReports(registry.store, "wine", 3);
    expect(kept.runId).toBe(failed.kept?.runId);
    expect(kept.status).toBe("FINISHED");
    expect(kept.tags).toMatchObject({
      "mlops.report.kind": "gate",
      "mlops.report.model": "wine",
      "mlops.report.version": "3",
      "mlops.report.verdict": "fail",
    });
    expect(Object.keys(kept.metrics).sort()).toEqual([
      "baseline_r2",
      "baseline_rmse",
      "candidate_r2",
      "candidate_rmse",
    ]);
    expect(kept.metrics.candidate_rmse).toBe(failed.result.candidate.metrics.rmse);
    const read = async (name: string) => registry.store.readArtifact(kept.runId, name);
    expect(JSON.parse(new TextDecoder().decode(await read("report.json")))).toEqual(
      JSON.parse(JSON.stringify(gateRunReport(failed))),
    );
    expect(new TextDecoder().decode(await read("report.md"))).toBe("verdict fail, candidate v3");
    expect([...(await read("raw.bin"))]).toEqual([1, 2, 3]);

    // keepReport: false compares and promotes without keeping anything.
    const before = await registry.store.searchRuns({});
    const quiet = await runGate(registry, {
      model: "wine",
      data: "eval.csv",
      cwd: dir,
      rules,
      promote: "production",
      keepReport: false,
    });
    expect(quiet.kept).toBeNull();
    expect(quiet.promoted?.moved).toBe(true);
    expect(await registry.store.searchRuns({})).toHaveLength(before.length);
    expect(await listReports(registry.store, "wine", 2)).toEqual([]);
  });

  it("does not promote a regression", async () => {
    const run = await runGate(registry, {
      model: "wine",
      candidate: "@challenger",
      data: "eval.csv",
      cwd: dir,
      rules,
      promote: "production",
    });
    expect(run.result.passed).toBe(false);
    expect(run.result.rows.map((row) => row.passed)).toEqual([false, false]);
    expect(run.promoted).toBeNull();
    expect(run.promote).toBe("production");
    expect((await aliases()).production).toBe(1);
    expect(await registry.aliasHistory("wine")).toHaveLength(3);
    expect(formatGateRunMarkdown(run)).toContain(
      "**Not promoted:** `wine@production` was not moved, because the gate failed.",
    );
    expect(run.summary).toMatch(/^gate failed: rmse 0\.9104 vs 0\.3348 \(\+172 %/);
  });

  it("treats an unset baseline alias as a first model, unless a baseline is required", async () => {
    const run = await runGate(registry, {
      model: "fresh",
      data: "eval.csv",
      cwd: dir,
      rules,
      promote: "production",
    });
    expect(run.baseline).toBeNull();
    expect(run.result.passed).toBe(true);
    expect(run.result.notes).toContain(
      "No baseline: nothing to compare, so only threshold rules were checked (a first model).",
    );
    expect(run.promoted).toMatchObject({ from: null, to: 1, moved: true });
    expect(formatGateRunMarkdown(run)).toContain(
      "baseline `models:/fresh@production` is not set (first model).",
    );

    await registry.store.deleteAlias("fresh", "production", { actor: "ana" });
    const required = await runGate(registry, {
      model: "fresh",
      data: "eval.csv",
      cwd: dir,
      rules,
      requireBaseline: true,
      promote: "production",
    });
    expect(required.result.passed).toBe(false);
    expect(required.promoted).toBeNull();
    expect((await aliases("fresh")).production).toBeUndefined();
  });

  it("compares stored metrics without data, and says so", async () => {
    const run = await runGate(registry, {
      model: "wine",
      candidate: "@challenger",
      rules: [rules[0]],
    });
    expect(run.result.comparedOn).toBe("stored-metrics");
    // The stored training rmse (0.2 vs 0.4) looks better.
    expect(run.result.rows[0].passed).toBe(true);
    expect(run.result.notes[0]).toMatch(/may come from different data/);
  });

  it("a rule on a metric the models do not store is an error that lists what they store", async () => {
    const error = await rejected(
      runGate(registry, { model: "wine", candidate: "@challenger", rules }),
    );
    expect(error.code).toBe("gate_metric_missing");
    expect(error.message).toBe(
      "r2 is not among the metrics of the candidate wine v3 (it has: rmse); give evaluation " +
        "data (--data) to compute r2 for both models.",
    );
  });

  it("refuses to promote when the baseline alias moved while the gate ran", async () => {
    const moving = new Proxy(registry, {
      get(target, property, receiver) {
        if (property === "loadModel") {
          return async (uri: string) => {
            const loaded = await target.loadModel(uri);
            if (uri === "models:/wine@production") {
              await target.setAlias("wine", "production", 3, { actor: "someone" });
            }
            return loaded;
          };
        }
        return Reflect.get(target, property, receiver);
      },
    });
    const error = await rejected(
      runGate(moving, { model: "wine", data: "eval.csv", cwd: dir, rules, promote: "production" }),
    );
    expect(error.code).toBe("registry_conflict");
    expect(error.message).toBe(
      "wine@production moved from 1 to 3 while the gate ran; it was not promoted: run the gate " +
        "again against the new baseline",
    );
    expect((await aliases()).production).toBe(3);
  });

  it("checks names and rules before loading anything", async () => {
    const bad = await rejected(
      runGate(registry, { model: "wine", rules: ["rmse:maxRelativeRegression=two"] }),
    );
    expect(bad).toBeInstanceOf(GateConfigError);
    expect(
      (await rejected(runGate(registry, { model: "wine", rules, promote: "Prod" }))).code,
    ).toBe("registry_name_invalid");
    expect(
      (await rejected(runGate(registry, { model: "wine", candidate: "staging", rules }))).code,
    ).toBe("argument_invalid");
  });

  it("names the role of a model it cannot find", async () => {
    const missing = await rejected(runGate(registry, { model: "cheese", rules }));
    expect(missing.code).toBe("registry_not_found");
    expect(missing.message).toMatch(/^candidate models:\/cheese@staging: model "cheese" not /);
    expect(missing.message).toMatch(/ found in .*; registered models: fresh, wine$/);
    const version = await rejected(runGate(registry, { model: "wine", baseline: "/9", rules }));
    expect(version.message).toMatch(/^baseline models:\/wine\/9: /);
    const alias = await rejected(runGate(registry, { model: "wine", candidate: "@nope", rules }));
    expect(alias.message).toBe(
      'candidate models:/wine@nope: model "wine" has no alias "nope"; aliases: challenger, ' +
        "production, staging",
    );
  });

  it("reports bad evaluation data as data errors", async () => {
    const options = { model: "wine", cwd: dir, rules };
    expect((await rejected(runGate(registry, { ...options, data: "none.csv" }))).code).toBe(
      "file_not_found",
    );
    await writeFile(join(dir, "bad.csv"), "alcohol,sulphates,color,quality\n12,0.5,rose,6\n");
    const schemaError = await rejected(runGate(registry, { ...options, data: "bad.csv" }));
    expect(schemaError.code).toBe("schema_invalid");
    expect(schemaError.message).toContain("rose");
    await writeFile(join(dir, "untargeted.csv"), "alcohol,sulphates,color\n12,0.5,red\n");
    const target = await rejected(runGate(registry, { ...options, data: "untargeted.csv" }));
    expect(target.code).toBe("gate_data_invalid");
    expect(target.message).toMatch(/no target column "quality"/);
    await mkdir(join(dir, "folder.csv"));
    const unreadable = await rejected(runGate(registry, { ...options, data: "folder.csv" }));
    expect(unreadable.code).toBe("gate_data_invalid");
    expect(unreadable.message).toMatch(/^cannot read the evaluation data folder\.csv: /);
  });

  it("never creates a registry it is pointed at", async () => {
    const error = await rejected(
      openExistingRegistry(join(dir, "typo"), { hint: "(check the registry input)" }),
    );
    expect(error.code).toBe("registry_not_found");
    expect(error.message).toBe(`no registry at ${join(dir, "typo")} (check the registry input)`);
  });

  it("accepts a Frame for the data", async () => {
    const { readFrame } = await import("../io/index.js");
    const frame = await readFrame(join(dir, "eval.csv"));
    const run = await runGate(registry, { model: "wine", data: frame, rules });
    expect(run.result.evaluation).toEqual({ rows: 12, target: "quality" });
  });
});
