// `mlops gate`, in-process: main() with buffers for streams, against a registry written by the SDK.
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { GATE_METRICS, gateEvaluationCsv, populateGateRegistry } from "../gate/fixture.js";
import { openRegistry } from "../registry/registry.js";
import { listReports } from "../registry/reports.js";
import { type CliIo, main } from "./main.js";

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

const root = await mkdtemp(join(tmpdir(), "mlops-cli-gate-"));
let dir = "";

async function cli(argv: string[], env: Record<string, string> = {}): Promise<Result> {
  let stdout = "";
  let stderr = "";
  const io: CliIo = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env: { MLOPS_REGISTRY: "registry", ...env },
    cwd: dir,
  };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

/** The gate reports kept with wine vN, newest first, with their artifacts and JSON read back. */
async function keptReports(version: number) {
  const registry = await openRegistry(join(dir, "registry"));
  try {
    const runs = await listReports(registry.store, "wine", version);
    return await Promise.all(
      runs.map(async (run) => ({
        run,
        artifacts: (await registry.store.listArtifacts(run.runId)).map((item) => item.name),
        json: JSON.parse(
          new TextDecoder().decode(await registry.store.readArtifact(run.runId, "report.json")),
        ),
      })),
    );
  } finally {
    await registry.close();
  }
}

async function production(name = "wine"): Promise<number | undefined> {
  return (await (await openRegistry(join(dir, "registry"))).store.listAliases(name)).production;
}

const thresholds = [
  "--threshold",
  "rmse:maxRelativeRegression=0.02",
  "--threshold",
  "r2:minAbsoluteChange=0",
];

beforeEach(async () => {
  dir = await mkdtemp(join(root, "case-"));
  await populateGateRegistry(join(dir, "registry"));
  await writeFile(join(dir, "holdout.csv"), gateEvaluationCsv());
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("mlops gate", () => {
  it("passes, prints the table, promotes (the verdict becoming the history reason) and keeps the report", async () => {
    const { code, stdout, stderr } = await cli(
      [
        "gate",
        "--model",
        "wine",
        "--data",
        "holdout.csv",
        ...thresholds,
        "--promote",
        "production",
      ],
      { GITHUB_ACTOR: "octocat" },
    );
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const reason =
      "gate passed: rmse 0.3062 vs 0.3348 (-8.54 %, at most 2 % worse allowed); " +
      "r2 0.8969 vs 0.8768 (+2.3 %, at least as good required)";
    const [report] = await keptReports(2);
    expect(stdout).toBe(
      [
        "Candidate models:/wine@staging (version 2), baseline models:/wine@production (version 1)",
        "Evaluation data: holdout.csv (12 rows)",
        "",
        "    METRIC  RULE                        CANDIDATE wine v2  BASELINE wine v1  " +
          "   DELTA   CHANGE",
        "✅  rmse    maxRelativeRegression=0.02             0.3062            0.3348  " +
          " -0.0286  -8.54 %",
        "✅  r2      minAbsoluteChange=0                    0.8969            0.8768  " +
          "+0.02015   +2.3 %",
        "",
        "Note: Both models were scored on the same 12 rows of the evaluation data " +
          '(target "quality").',
        "",
        "Verdict: PASS (all 2 checks passed)",
        "",
        `Promoted wine@production: 1 → 2 (by octocat, reason ${JSON.stringify(reason)})`,
        "",
        `Report kept with wine v2: run ${report.run.runId} of experiment mlops-gate ` +
          "(mlops ui shows it on the version's page)",
        "",
      ].join("\n"),
    );
    expect(await production()).toBe(2);
    // The report kept with the candidate: the --json document, its metrics as columns.
    expect(report.run.runName).toBe("gate wine v2 vs v1: pass, @production → v2");
    expect(report.run.tags).toMatchObject({
      "mlops.report.kind": "gate",
      "mlops.report.verdict": "pass",
    });
    expect(report.run.metrics.candidate_rmse).toBeCloseTo(GATE_METRICS.v2.rmse, 12);
    expect(report.run.metrics.baseline_r2).toBeCloseTo(GATE_METRICS.v1.r2, 12);
    expect(report.artifacts).toEqual(["report.json"]);
    expect(report.json).toMatchObject({
      result: { verdict: "pass" },
      candidate: { uri: "models:/wine@staging", version: 2 },
      baseline: { uri: "models:/wine@production", version: 1 },
      promoted: { alias: "production", from: 1, to: 2, moved: true, actor: "octocat", reason },
    });
    const history = await (await openRegistry(join(dir, "registry"))).aliasHistory("wine");
    expect(history.at(-1)).toMatchObject({
      alias: "production",
      fromVersion: 1,
      toVersion: 2,
      actor: "octocat",
      reason,
    });
  });

  it("answers --json with the result and the promotion, and writes --markdown", async () => {
    const { code, stdout } = await cli([
      "gate",
      "--json",
      "--model",
      "wine",
      "--candidate",
      "2",
      "--baseline",
      "models:/wine@production",
      "--data",
      "holdout.csv",
      ...thresholds,
      "--promote",
      "production",
      "--actor",
      "ci-bot",
      "--reason",
      "weekly retrain",
      "--markdown",
      "report.md",
    ]);
    expect(code).toBe(0);
    const document = JSON.parse(stdout);
    expect(Object.keys(document)).toEqual([
      "result",
      "candidate",
      "baseline",
      "promoted",
      "evaluationData",
      "warnings",
    ]);
    expect(document.evaluationData).toEqual({ source: "file", path: "holdout.csv", rows: 12 });
    expect(document.warnings).toEqual([]);
    expect(document.result.verdict).toBe("pass");
    expect(document.result.candidate).toEqual({
      name: "wine",
      version: 2,
      metrics: { rmse: expect.any(Number), r2: expect.any(Number) },
    });
    expect(document.result.candidate.metrics.rmse).toBeCloseTo(GATE_METRICS.v2.rmse, 12);
    expect(document.result.baseline.metrics.r2).toBeCloseTo(GATE_METRICS.v1.r2, 12);
    expect(document.candidate).toEqual({ uri: "models:/wine/2", version: 2 });
    expect(document.baseline).toEqual({ uri: "models:/wine@production", version: 1 });
    expect(document.promoted).toMatchObject({ alias: "production", from: 1, to: 2, moved: true });
    expect(document.promoted.actor).toBe("ci-bot");
    expect(document.promoted.reason).toMatch(/^weekly retrain; gate passed: rmse 0\.3062 vs/);
    const markdown = await readFile(join(dir, "report.md"), "utf8");
    expect(markdown).toContain("### Model gate: wine v2 vs wine v1\n");
    expect(markdown).toContain(
      "| ✅ | rmse | `maxRelativeRegression=0.02` | 0.3062 | 0.3348 | -0.0286 | -8.54 % |",
    );
    expect(markdown).toContain("**Promoted:** `wine@production` v1 → v2 (by ci-bot).\n");
  });

  it("exits 1 on a regression and leaves the alias where it was", async () => {
    const { code, stdout, stderr } = await cli([
      "gate",
      "--model",
      "wine",
      "--candidate",
      "@challenger",
      "--data",
      "holdout.csv",
      ...thresholds,
      "--promote",
      "production",
    ]);
    expect(stderr).toBe("");
    expect(code).toBe(1);
    expect(stdout).toContain(
      "❌  rmse    maxRelativeRegression=0.02             0.9104            0.3348  " +
        "+0.5756   +172 %",
    );
    expect(stdout).toContain(
      "❌ rmse maxRelativeRegression=0.02: rmse 0.9104 is 172 % worse than the baseline 0.3348; " +
        "at most 2 % worse allowed.\n",
    );
    expect(stdout).toContain("Verdict: FAIL (2 of 2 checks failed)\n");
    expect(stdout).toContain("Not promoted: the gate failed, so wine@production was not moved.\n");
    expect(stdout).toMatch(
      /\nReport kept with wine v3: run [0-9a-f]{32} of experiment mlops-gate \(mlops ui shows it on the version's page\)\n$/,
    );
    expect(await production()).toBe(1);
    // A failed gate keeps its report too, with the failing verdict.
    const [failed] = await keptReports(3);
    expect(failed.run.runName).toBe("gate wine v3 vs v1: fail");
    expect(failed.run.tags["mlops.report.verdict"]).toBe("fail");
    expect(failed.json).toMatchObject({ result: { verdict: "fail" }, promoted: null });
    const json = await cli([
      "gate",
      "--json",
      "--model",
      "wine",
      "--candidate",
      "/3",
      "--data",
      "holdout.csv",
      ...thresholds,
    ]);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ result: { verdict: "fail" }, promoted: null });
  });

  it("exits 2, not 1, for a metric the models do not store, and lists the ones they do", async () => {
    // Without --data the stored metrics are compared; the fixture stores rmse only.
    const { code, stdout, stderr } = await cli([
      "gate",
      "--model",
      "wine",
      "--candidate",
      "/3",
      ...thresholds,
    ]);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toContain(
      "r2 is not among the metrics of the candidate wine v3 (it has: rmse); give evaluation " +
        "data (--data) to compute r2 for both models.",
    );
  });

  it("passes a first model with a note, and fails it with --require-baseline", async () => {
    const first = await cli([
      "gate",
      "--model",
      "fresh",
      "--data",
      "holdout.csv",
      ...thresholds,
      "--promote",
      "production",
      "--actor",
      "ana",
    ]);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain("baseline models:/fresh@production (not set: a first model)");
    expect(first.stdout).toContain(
      "Note: No baseline: nothing to compare, so only threshold rules were checked " +
        "(a first model).",
    );
    expect(first.stdout).toContain(
      'Promoted fresh@production: (none) → 1 (by ana, reason "gate passed: first model (no ' +
        'baseline to compare with); rmse 0.3062; r2 0.8969")',
    );
    expect(await production("fresh")).toBe(1);

    const required = await cli([
      "gate",
      "--model",
      "fresh",
      "--baseline",
      "@gold",
      "--data",
      "holdout.csv",
      ...thresholds,
      "--require-baseline",
    ]);
    expect(required.code).toBe(1);
    expect(required.stdout).toContain(
      "Note: No baseline, and requireBaseline is set: the gate fails.",
    );
  });

  it("exits 2 naming every bad threshold token, before touching the registry", async () => {
    const { code, stdout, stderr } = await cli([
      "gate",
      "--model",
      "wine",
      "--threshold",
      "rmse:maxRelativeRegression=2%",
      "--threshold",
      "r2:minAbsolutChange=0",
      "--registry",
      "nowhere",
    ]);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toBe(
      "mlops: Invalid thresholds (2 problems):\n" +
        '  - "maxRelativeRegression=2%": expected a number, got "2%" ' +
        "(write a fraction: 0.02 for 2 %)\n" +
        '  - "minAbsolutChange=0": unknown rule "minAbsolutChange" (did you mean "minAbsoluteChange"?); expected one of threshold, ' +
        "minAbsoluteChange, minRelativeChange, greaterIsBetter, maxAbsoluteRegression, " +
        "maxRelativeRegression, significance, significance.confidence, significance.resamples, " +
        "significance.seed\n",
    );
    const one = await cli(["gate", "--json", "--model", "wine", "--threshold", "rmse"]);
    expect(one.code).toBe(2);
    expect(JSON.parse(one.stdout).error).toMatchObject({
      code: "gate_config_invalid",
      issues: [{ path: [], message: expect.stringMatching(/no ":" after the metric/) }],
    });
  });

  it("exits 2 for missing rules, both rule sources, and a missing --model", async () => {
    const none = await cli(["gate", "--model", "wine"]);
    expect(none).toMatchObject({ code: 2 });
    expect(none.stderr).toBe(
      "mlops: no rules: give --threshold METRIC:RULE=VALUE (repeatable) or --config FILE\n",
    );
    const both = await cli(["gate", "--model", "wine", ...thresholds, "--config", "gate.yaml"]);
    expect(both.stderr).toBe("mlops: give the rules with --threshold or with --config, not both\n");
    const model = await cli(["gate", ...thresholds]);
    expect(model.code).toBe(2);
    expect(model.stderr).toBe(
      'mlops: missing option --model NAME\nRun "mlops gate --help" for usage.\n',
    );
  });

  it("exits 2 for an unknown model, alias or data file", async () => {
    const model = await cli(["gate", "--model", "cheese", ...thresholds]);
    expect(model.code).toBe(2);
    expect(model.stderr).toMatch(/^mlops: candidate models:\/cheese@staging: model "cheese" /);
    expect(model.stderr).toMatch(/ not found in .*; registered models: fresh, wine\n$/);
    const alias = await cli(["gate", "--model", "wine", "--candidate", "@nope", ...thresholds]);
    expect(alias.code).toBe(2);
    expect(alias.stderr).toContain('model "wine" has no alias "nope"');
    const data = await cli(["gate", "--model", "wine", "--data", "missing.csv", ...thresholds]);
    expect(data.code).toBe(2);
    await writeFile(join(dir, "bad.csv"), "alcohol,sulphates,color,quality\n12,0.5,rose,6\n");
    const invalid = await cli([
      "gate",
      "--json",
      "--model",
      "wine",
      "--data",
      "bad.csv",
      ...thresholds,
    ]);
    expect(invalid.code).toBe(2);
    expect(JSON.parse(invalid.stdout).error.code).toBe("schema_invalid");
    expect(await production()).toBe(1);
  });

  it("reads rules and requireBaseline from --config YAML; errors name file and line", async () => {
    await writeFile(
      join(dir, "gate.yaml"),
      [
        "requireBaseline: true",
        "thresholds:",
        "  - metric: rmse",
        "    maxRelativeRegression: 0.02",
        "  - r2:minAbsoluteChange=0",
        "",
      ].join("\n"),
    );
    const passed = await cli([
      "gate",
      "--model",
      "wine",
      "--data",
      "holdout.csv",
      "--config",
      "gate.yaml",
      "--promote",
      "production",
    ]);
    expect(passed.code).toBe(0);
    expect(passed.stdout).toContain("Verdict: PASS (all 2 checks passed)");
    expect(await production()).toBe(2);
    const first = await cli([
      "gate",
      "--model",
      "fresh",
      "--data",
      "holdout.csv",
      "--config",
      "gate.yaml",
    ]);
    expect(first.code).toBe(1);

    await writeFile(join(dir, "typo.yaml"), "thresholds:\n  rmse: { maxRelativeRegression: 2% }\n");
    const typo = await cli(["gate", "--model", "wine", "--config", "typo.yaml"]);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toBe(
      "mlops: Invalid gate config: typo.yaml:2:11: thresholds.rmse.maxRelativeRegression: " +
        'expected a fraction >= 0 (0.02 means 2 %), got "2%"\n',
    );
    const missing = await cli(["gate", "--model", "wine", "--config", "none.yaml"]);
    expect(missing).toMatchObject({ code: 2, stderr: "mlops: gate config none.yaml not found\n" });
  });

  it("exits 2 for a missing registry without creating one", async () => {
    const { code, stderr } = await cli(["gate", "--model", "wine", ...thresholds], {
      MLOPS_REGISTRY: "typo",
    });
    expect(code).toBe(2);
    expect(stderr).toBe(
      `mlops: no registry at ${join(dir, "typo")} (set --registry or MLOPS_REGISTRY)\n`,
    );
    expect(existsSync(join(dir, "typo"))).toBe(false);
  });

  it("lists gate in the help, with its exit codes", async () => {
    const overall = await cli(["--help"]);
    // The column width follows the longest command name: match the row, not its padding.
    expect(overall.stdout).toMatch(
      /^ {2}gate +Compare a candidate with the baseline on the same data;/m,
    );
    expect(overall.stdout).toContain(
      "  1  a check failed: `mlops gate` found a regression, `mlops drift` found drift\n",
    );
    const help = await cli(["gate", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: mlops gate --model NAME \[--candidate REF\] /);
    expect(help.stdout).toContain("  --threshold RULE    a rule, METRIC:RULE=VALUE");
    expect(help.stdout).toContain("Exit codes: 0 the gate passed, 1 it failed (a regression), 2");
    const extra = await cli(["gate", "wine", ...thresholds]);
    expect(extra.code).toBe(2);
    expect(extra.stderr).toMatch(/^mlops: unexpected argument "wine"; usage: mlops gate /);
  });
});
