// Runs the BUNDLED action (dist/index.js) the way the GitHub runner does: `node dist/index.js` in
// a child process, inputs in INPUT_* variables (defaults filled in from action.yml, as the runner
// does), GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files, against a real folder registry.
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  createArtifact,
  field,
  listReports,
  openRegistry,
  readFrame,
  rowHashes,
  schema,
} from "@mlops/core";
import { ensureBuilt } from "@mlops/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { INPUT_DEFAULTS, INPUT_NAMES } from "./main.js";

const packageDir = join(dirname(fileURLToPath(import.meta.url)), "..");
const coreSource = join(packageDir, "..", "core", "src");
const bundle = join(packageDir, "dist", "index.js");

interface ActionYaml {
  name: string;
  description: string;
  inputs: Record<string, { description: string; required?: boolean; default?: string }>;
  outputs: Record<string, { description: string }>;
  runs: { using: string; main: string };
}

const actionYaml = parse(readFileSync(join(packageDir, "action.yml"), "utf8")) as ActionYaml;

/** The newest modification time of the files the bundle is built from. */

// ------------------------------------------------------------------ the registry

const wine = schema(
  {
    alcohol: field.number({ min: 0 }),
    color: field.category(["red", "white"]),
    quality: field.integer({ min: 0, max: 10 }),
  },
  { target: "quality" },
);

const ALCOHOL = [9, 9.5, 10, 10.5, 11, 11.5, 12, 12.5, 13, 13.5, 14, 14.5];
const QUALITY = [5, 5, 6, 6, 6, 6, 6, 7, 7, 7, 8, 8];

/** quality = intercept + 0.5 · alcohol; scored by hand below. */
function alcoholModel(intercept: number) {
  return createArtifact({
    kind: "linear",
    schema: wine,
    model: { inputs: ["alcohol"], intercept },
    arrays: { coefficients: Float64Array.of(0.5) },
  });
}

// Residuals y − (intercept + 0.5 · alcohol), by hand: SS_res 1.345 (intercept 0.4), 1.125 (0.5),
// 9.945 (1.4); rmse = √(SS_res / 12): 0.3348, 0.3062, 0.9104. SS_tot = 131 / 12.
const RMSE = { v1: "0.3348", v2: "0.3062", v3: "0.9104" };

/** wine: v1 @production, v2 @staging (better), v3 @challenger (worse); fresh: v1 @staging. */
async function makeWorkspace(): Promise<string> {
  const workspace = await mkdtemp(join(root, "workspace-"));
  const registry = await openRegistry(join(workspace, ".mlops"));
  const options = { actor: "ana" };
  await registry.registerModel("wine", alcoholModel(0.4), { ...options, aliases: ["production"] });
  await registry.registerModel("wine", alcoholModel(0.5), { ...options, aliases: ["staging"] });
  await registry.registerModel("wine", alcoholModel(1.4), { ...options, aliases: ["challenger"] });
  await registry.registerModel("fresh", alcoholModel(0.5), { ...options, aliases: ["staging"] });
  const rows = ALCOHOL.map((x, i) => `${x},${i % 2 === 0 ? "red" : "white"},${QUALITY[i]}`);
  await writeFile(join(workspace, "holdout.csv"), `alcohol,color,quality\n${rows.join("\n")}\n`);
  return workspace;
}

// ------------------------------------------------------------------ running the action

interface Annotation {
  command: string;
  properties: Record<string, string>;
  message: string;
}

interface ActionRun {
  code: number | null;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  summary: string;
  /** The `::error …::` workflow commands on stdout, decoded. */
  errors: Annotation[];
  /** The `::warning …::` workflow commands on stdout, decoded. */
  warnings: Annotation[];
}

/** `name<<ghadelimiter_…\nvalue\nghadelimiter_…` blocks, as @actions/core writes them. */
function parseOutputs(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  for (const match of text.matchAll(/^(.+?)<<(ghadelimiter_[\w-]+)\n([\s\S]*?)\n\2$/gm)) {
    outputs[match[1]] = match[3];
  }
  return outputs;
}

function decodeCommandValue(text: string): string {
  return text
    .replace(/%0D/g, "\r")
    .replace(/%0A/g, "\n")
    .replace(/%3A/g, ":")
    .replace(/%2C/g, ",")
    .replace(/%25/g, "%");
}

function parseAnnotations(stdout: string, command: string): Annotation[] {
  const out: Annotation[] = [];
  for (const line of stdout.split("\n")) {
    const match = new RegExp(`^::${command}(?: (.*?))?::(.*)$`).exec(line);
    if (!match) continue;
    const properties: Record<string, string> = {};
    for (const pair of (match[1] ?? "").split(",").filter(Boolean)) {
      const at = pair.indexOf("=");
      properties[pair.slice(0, at)] = decodeCommandValue(pair.slice(at + 1));
    }
    out.push({ command, properties, message: decodeCommandValue(match[2]) });
  }
  return out;
}

/** Runs dist/index.js with these inputs, the unset ones taking action.yml's defaults. */
async function runAction(
  workspace: string,
  inputs: Record<string, string>,
  extraEnv: Record<string, string> = {},
): Promise<ActionRun> {
  const outputFile = join(workspace, `output-${Math.random().toString(36).slice(2)}.txt`);
  const summaryFile = join(workspace, `summary-${Math.random().toString(36).slice(2)}.md`);
  await writeFile(outputFile, "");
  await writeFile(summaryFile, "");
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    GITHUB_ACTIONS: "true",
    GITHUB_ACTOR: "octocat",
    GITHUB_WORKSPACE: workspace,
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
  };
  for (const [name, spec] of Object.entries(actionYaml.inputs)) {
    // The runner upper-cases the name and keeps the hyphen: INPUT_PROMOTE-TO.
    const value = inputs[name] ?? spec.default;
    if (value !== undefined) env[`INPUT_${name.toUpperCase()}`] = value;
  }
  Object.assign(env, extraEnv);
  // Asynchronous: a test's stand-in GitHub API answers from this process meanwhile.
  const result = await new Promise<{ status: number | null; stdout: string; stderr: string }>(
    (resolve) => {
      execFile(
        process.execPath,
        [bundle],
        { cwd: workspace, encoding: "utf8", env, timeout: 100_000, maxBuffer: 16 << 20 },
        (error, stdout, stderr) => {
          const code = (error as { code?: unknown } | null)?.code;
          resolve({
            status: error === null ? 0 : typeof code === "number" ? code : null,
            stdout,
            stderr,
          });
        },
      );
    },
  );
  return {
    code: result.status,
    stdout: result.stdout,
    stderr: result.stderr,
    outputs: parseOutputs(await readFile(outputFile, "utf8")),
    summary: await readFile(summaryFile, "utf8"),
    errors: parseAnnotations(result.stdout, "error"),
    warnings: parseAnnotations(result.stdout, "warning"),
  };
}

async function aliasesOf(workspace: string, model = "wine") {
  return (await openRegistry(join(workspace, ".mlops"))).store.listAliases(model);
}

const THRESHOLDS = "- rmse:maxRelativeRegression=0.02\n- r2:minAbsoluteChange=0\n";
let root = "";

beforeAll(async () => {
  ensureBuilt({ packageDir, extraSources: [coreSource], tsupArgs: ["--silent"] });
  root = await mkdtemp(join(tmpdir(), "mlops-action-"));
}, 120_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

// ------------------------------------------------------------------ tests

describe("action.yml", () => {
  it("declares every input the action reads, each described, with the code's defaults", () => {
    expect(Object.keys(actionYaml.inputs)).toEqual([...INPUT_NAMES]);
    for (const [name, spec] of Object.entries(actionYaml.inputs)) {
      expect(spec.description.length, name).toBeGreaterThan(20);
      if (spec.required) expect(spec.default, name).toBeUndefined();
      else expect(spec.default, name).toBe(INPUT_DEFAULTS[name as keyof typeof INPUT_DEFAULTS]);
    }
    expect(
      Object.entries(actionYaml.inputs)
        .filter(([, spec]) => spec.required)
        .map(([name]) => name),
    ).toEqual(["model", "thresholds"]);
    expect(Object.keys(actionYaml.outputs)).toEqual([
      "passed",
      "candidate-version",
      "baseline-version",
      "report",
      "comment-url",
    ]);
    expect(actionYaml.runs).toEqual({ using: "node24", main: "dist/index.js" });
  });
});

describe("the bundled action", () => {
  it("scores on the hold-out set registered with the candidate, and warns of reused rows", async () => {
    const workspace = await makeWorkspace();
    const registry = await openRegistry(join(workspace, ".mlops"));
    const holdout = await readFrame(join(workspace, "holdout.csv"), { schema: wine });
    // As mlops-train registers a model: the hold-out set, and fingerprints of the rows it
    // trained on (here, the first 4 hold-out rows, so that an evaluation file reuses them).
    const run = await registry.startRun({ experiment: "wine" });
    await registry.logDataset(run.runId, {
      name: "holdout",
      context: "evaluation",
      frame: holdout,
    });
    await registry.logDataset(run.runId, {
      name: "training",
      context: "training",
      source: "train.csv",
      rowHashes: rowHashes(holdout.take([0, 1, 2, 3]), wine.names),
    });
    await registry.registerModel("wine", alcoholModel(0.5), {
      runId: run.runId,
      aliases: ["candidate"],
    });
    const registered = await runAction(workspace, {
      model: "wine",
      candidate: "@candidate",
      thresholds: THRESHOLDS,
    });
    expect(registered.code).toBe(0);
    const report = JSON.parse(registered.outputs.report);
    expect(report.evaluationData).toMatchObject({
      source: "registered",
      name: "holdout",
      rows: 12,
    });
    expect(report.result.comparedOn).toBe("evaluation-data");
    expect(registered.summary).toContain('Evaluation data: the "holdout" dataset registered with');
    expect(registered.warnings).toEqual([
      expect.objectContaining({
        properties: { title: "Gate: evaluation data" },
        message: expect.stringMatching(
          /^4 of 12 evaluation rows \(33\.3 %\) were part of the candidate's training data/,
        ),
      }),
    ]);
    expect(registered.summary).toContain("> **Warning:** 4 of 12 evaluation rows");
  });

  it("passes, promotes, and writes outputs and the job summary", async () => {
    const workspace = await makeWorkspace();
    const run = await runAction(workspace, {
      model: "wine",
      data: "holdout.csv",
      thresholds: THRESHOLDS,
      "promote-to": "production",
    });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.errors).toEqual([]);
    expect(run.outputs).toMatchObject({
      passed: "true",
      "candidate-version": "2",
      "baseline-version": "1",
    });
    const report = JSON.parse(run.outputs.report);
    expect(report.result.verdict).toBe("pass");
    expect(report.result.candidate.metrics.rmse).toBeCloseTo(Math.sqrt(1.125 / 12), 12);
    expect(report.result.baseline.metrics.r2).toBeCloseTo(1 - 1.345 / (131 / 12), 12);
    const reason =
      `gate passed: rmse ${RMSE.v2} vs ${RMSE.v1} (-8.54 %, at most 2 % worse allowed); ` +
      "r2 0.8969 vs 0.8768 (+2.3 %, at least as good required)";
    expect(report.promoted).toEqual({
      name: "wine",
      alias: "production",
      from: 1,
      to: 2,
      moved: true,
      actor: "octocat",
      reason,
    });
    expect(run.summary).toBe(
      [
        "### Model gate: wine v2 vs wine v1",
        "",
        "| | metric | rule | candidate | baseline | delta | change | reason |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | --- |",
        `| ✅ | rmse | \`maxRelativeRegression=0.02\` | ${RMSE.v2} | ${RMSE.v1} | -0.0286 | ` +
          `-8.54 % | rmse ${RMSE.v2} is 8.54 % better than the baseline ${RMSE.v1}; at most 2 % ` +
          "worse allowed. |",
        "| ✅ | r2 | `minAbsoluteChange=0` | 0.8969 | 0.8768 | +0.02015 | +2.3 % | r2 0.8969 is " +
          "0.02015 better than the baseline 0.8768; at least as good required. |",
        "",
        '- Both models were scored on the same 12 rows of the evaluation data (target "quality").',
        "",
        "**Verdict: ✅ pass** (all 2 checks passed)",
        "",
        "Candidate `models:/wine@staging` (wine v2), baseline `models:/wine@production` (wine v1).",
        "",
        "Evaluation data: holdout.csv (12 rows).",
        "",
        "**Promoted:** `wine@production` v1 → v2 (by octocat).",
        "",
      ].join("\n"),
    );
    expect(run.stdout).toContain("Verdict: PASS (all 2 checks passed)");
    expect(run.stdout).toContain(`Promoted wine@production: 1 → 2.\n${reason}\n`);
    expect((await aliasesOf(workspace)).production).toBe(2);
    const registry = await openRegistry(join(workspace, ".mlops"));
    const history = await registry.aliasHistory("wine");
    expect(history.at(-1)).toMatchObject({ alias: "production", actor: "octocat", reason });
    // The report is kept with the candidate, as mlops gate keeps it: the `report` output's JSON.
    const [kept] = await listReports(registry.store, "wine", 2);
    expect(kept.tags["mlops.report.verdict"]).toBe("pass");
    expect(run.stdout).toContain(`Gate report kept with wine v2: run ${kept.runId} (mlops-gate)`);
    const stored = await registry.store.readArtifact(kept.runId, "report.json");
    expect(JSON.parse(new TextDecoder().decode(stored))).toEqual(report);
  });

  it("fails a regression: exit 1, passed=false, ❌ rows, annotations, no move", async () => {
    const workspace = await makeWorkspace();
    const run = await runAction(workspace, {
      model: "wine",
      candidate: "@challenger",
      data: "holdout.csv",
      thresholds: THRESHOLDS,
      "promote-to": "production",
    });
    expect(run.code).toBe(1);
    expect(run.outputs).toMatchObject({
      passed: "false",
      "candidate-version": "3",
      "baseline-version": "1",
    });
    expect(JSON.parse(run.outputs.report)).toMatchObject({
      result: { verdict: "fail" },
      promoted: null,
    });
    expect(run.summary).toContain(
      `| ❌ | rmse | \`maxRelativeRegression=0.02\` | ${RMSE.v3} | ${RMSE.v1} | +0.5756 | ` +
        "+172 % | " +
        `rmse ${RMSE.v3} is 172 % worse than the baseline ${RMSE.v1}; at most 2 % worse allowed. |`,
    );
    expect(run.summary).toContain("| ❌ | r2 | `minAbsoluteChange=0` |");
    expect(run.summary).toContain("**Verdict: ❌ fail** (2 of 2 checks failed)");
    // A failed gate's report is kept with its candidate too.
    const registry = await openRegistry(join(workspace, ".mlops"));
    const kept = await listReports(registry.store, "wine", 3);
    expect(kept.map((item) => item.tags["mlops.report.verdict"])).toEqual(["fail"]);
    expect(run.summary).toContain(
      "**Not promoted:** `wine@production` was not moved, because the gate failed.",
    );
    expect(run.errors).toEqual([
      {
        command: "error",
        properties: { title: "Gate: rmse maxRelativeRegression=0.02" },
        message:
          `rmse ${RMSE.v3} is 172 % worse than the baseline ${RMSE.v1}; ` +
          "at most 2 % worse allowed.",
      },
      {
        command: "error",
        properties: { title: "Gate: r2 minAbsoluteChange=0" },
        message: "r2 0.08901 is 0.7878 worse than the baseline 0.8768; at least as good required.",
      },
      {
        command: "error",
        properties: {},
        message:
          `gate failed: rmse ${RMSE.v3} vs ${RMSE.v1} (+172 %, at most 2 % worse allowed); ` +
          "r2 0.08901 vs 0.8768 (-89.8 %, at least as good required)",
      },
    ]);
    expect((await aliasesOf(workspace)).production).toBe(1);
  });

  it("passes a first model with the note, and promotes it", async () => {
    const workspace = await makeWorkspace();
    const run = await runAction(workspace, {
      model: "fresh",
      data: "holdout.csv",
      thresholds: "rmse:maxRelativeRegression=0.02,threshold=0.5\n",
      "promote-to": "production",
    });
    expect(run.code).toBe(0);
    expect(run.outputs).toMatchObject({
      passed: "true",
      "candidate-version": "1",
      "baseline-version": "",
    });
    expect(JSON.parse(run.outputs.report).baseline).toBeNull();
    expect(run.summary).toContain(
      "- No baseline: nothing to compare, so only threshold rules were checked (a first model).",
    );
    expect(run.summary).toContain(
      "| ✅ | rmse | `maxRelativeRegression=0.02` | 0.3062 | - | - | - | No baseline: nothing " +
        "to compare. |",
    );
    expect(run.summary).toContain("baseline `models:/fresh@production` is not set (first model).");
    expect(run.summary).toContain("**Promoted:** `fresh@production` v(none) → v1 (by octocat).");
    expect((await aliasesOf(workspace, "fresh")).production).toBe(1);
  });

  it("fails a first model when require-baseline is true", async () => {
    const workspace = await makeWorkspace();
    const run = await runAction(workspace, {
      model: "fresh",
      data: "holdout.csv",
      thresholds: THRESHOLDS,
      "require-baseline": "true",
    });
    expect(run.code).toBe(1);
    expect(run.outputs.passed).toBe("false");
    expect(run.summary).toContain("- No baseline, and requireBaseline is set: the gate fails.");
  });

  it("annotates every bad threshold token and does not run the gate", async () => {
    const workspace = await makeWorkspace();
    const run = await runAction(workspace, {
      model: "wine",
      data: "holdout.csv",
      thresholds: "- rmse:maxRelativeRegression=two\n- r2:minAbsolutChange=0\n",
      "promote-to": "production",
    });
    expect(run.code).toBe(1);
    expect(run.outputs).toEqual({ passed: "false" });
    const title = 'Invalid input "thresholds"';
    expect(run.errors.slice(0, 2)).toEqual([
      {
        command: "error",
        properties: { title },
        message: 'thresholds:1:3: [0]: "maxRelativeRegression=two": expected a number, got "two"',
      },
      {
        command: "error",
        properties: { title },
        message: expect.stringMatching(
          new RegExp(
            '^thresholds:2:3: \\[1\\]: "minAbsolutChange=0": unknown rule "minAbsolutChange" \\(did you mean "minAbsoluteChange"\\?\\); ' +
              "expected one of threshold, minAbsoluteChange,",
          ),
        ),
      },
    ]);
    expect(run.errors[2].message).toBe(
      '2 problems in the inputs ("thresholds"); see the annotations',
    );
    expect(run.summary).toContain("### Model gate: invalid inputs");
    expect(run.summary).toContain('"maxRelativeRegression=two": expected a number, got "two"');
    expect((await aliasesOf(workspace)).production).toBe(1);
  });

  it("reports each invalid input with its name", async () => {
    const workspace = await makeWorkspace();
    const run = await runAction(workspace, {
      model: "wine",
      candidate: "staging",
      thresholds: "rmse:maxRelativeRegression=0.02",
      "require-baseline": "yes",
    });
    expect(run.code).toBe(1);
    expect(run.errors.map((error) => [error.properties.title, error.message])).toEqual(
      [
        [
          'Invalid input "candidate"',
          '"staging" is not a model reference: expected @ALIAS, a version (3 or /3), latest or a ' +
            "models:/ URI",
        ],
        ['Invalid input "require-baseline"', 'expected true or false, got "yes"'],
        ["", '2 problems in the inputs ("candidate", "require-baseline"); see the annotations'],
      ].map(([title, message]) => [title === "" ? undefined : title, message]),
    );
    const missing = await runAction(workspace, { model: "", thresholds: "" });
    expect(missing.errors.map((error) => error.properties.title)).toEqual([
      'Invalid input "model"',
      'Invalid input "thresholds"',
      undefined,
    ]);
  });

  it("fails for a missing model, naming it", async () => {
    const workspace = await makeWorkspace();
    const run = await runAction(workspace, { model: "cheese", thresholds: THRESHOLDS });
    expect(run.code).toBe(1);
    expect(run.outputs).toEqual({ passed: "false" });
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0].message).toMatch(/^candidate models:\/cheese@staging: model "cheese" /);
    expect(run.errors[0].message).toMatch(/ not found in .*; registered models: fresh, wine$/);
    expect(run.summary).toContain("### Model gate: error");
    expect(run.summary).toContain('model "cheese" not found');
  });

  it("fails for a registry that is not there, without creating it", async () => {
    const workspace = await makeWorkspace();
    const run = await runAction(workspace, {
      model: "wine",
      registry: "typo",
      thresholds: THRESHOLDS,
    });
    expect(run.code).toBe(1);
    expect(run.errors[0].message).toBe(
      `no registry at ${join(workspace, "typo")} (check the "registry" input)`,
    );
    expect(existsSync(join(workspace, "typo"))).toBe(false);
  });

  it("fails for evaluation data the candidate's schema rejects", async () => {
    const workspace = await makeWorkspace();
    await writeFile(join(workspace, "bad.csv"), "alcohol,color,quality\n12,rose,6\n");
    const run = await runAction(workspace, {
      model: "wine",
      data: "bad.csv",
      thresholds: THRESHOLDS,
    });
    expect(run.code).toBe(1);
    expect(run.errors[0].message).toContain("rose");
    expect(run.outputs.passed).toBe("false");
  });
});

// ------------------------------------------------------------------ the pull-request comment

interface ApiRequest {
  method: string;
  url: string;
  authorization: string | undefined;
  accept: string | undefined;
  apiVersion: string | undefined;
  body: unknown;
}

/** A stand-in for the GitHub REST API's issue comments, recording every request it gets. */
async function fakeGitHub() {
  const requests: ApiRequest[] = [];
  const comments: { id: number; body: string; html_url: string }[] = [
    { id: 7, body: "Looks good to me", html_url: "https://github.test/o/r/pull/42#issuecomment-7" },
  ];
  const readBody = async (request: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    return text === "" ? undefined : JSON.parse(text);
  };
  const server = createServer(async (request, response) => {
    const body = await readBody(request);
    requests.push({
      method: request.method ?? "",
      url: request.url ?? "",
      authorization: request.headers.authorization,
      accept: request.headers.accept,
      apiVersion: request.headers["x-github-api-version"] as string | undefined,
      body,
    });
    const send = (status: number, value: unknown) => {
      response.writeHead(status, { "content-type": "application/json" });
      response.end(JSON.stringify(value));
    };
    const url = new URL(request.url ?? "/", "http://localhost");
    if (request.method === "GET" && url.pathname === "/repos/o/r/issues/42/comments") {
      return send(200, url.searchParams.get("page") === "1" ? comments : []);
    }
    if (request.method === "POST" && url.pathname === "/repos/o/r/issues/42/comments") {
      const comment = {
        id: 100 + comments.length,
        body: body.body,
        html_url: `https://github.test/o/r/pull/42#issuecomment-${100 + comments.length}`,
      };
      comments.push(comment);
      return send(201, comment);
    }
    const patch = /^\/repos\/o\/r\/issues\/comments\/(\d+)$/.exec(url.pathname);
    if (request.method === "PATCH" && patch) {
      const comment = comments.find((item) => item.id === Number(patch[1]));
      if (comment === undefined) return send(404, { message: "Not Found" });
      comment.body = body.body;
      return send(200, comment);
    }
    send(404, { message: "Not Found" });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${address.port}`,
    requests,
    comments,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe("the gate comment on the pull request", () => {
  it("posts one comment, edits it on the next run, and sends nothing without a token", async () => {
    const api = await fakeGitHub();
    try {
      const workspace = await makeWorkspace();
      const eventPath = join(workspace, "event.json");
      await writeFile(eventPath, JSON.stringify({ pull_request: { number: 42 } }));
      const env = {
        GITHUB_API_URL: api.url,
        GITHUB_REPOSITORY: "o/r",
        GITHUB_EVENT_PATH: eventPath,
      };
      const inputs = { model: "wine", data: "holdout.csv", thresholds: THRESHOLDS };

      const silent = await runAction(workspace, inputs, env);
      expect(silent.code).toBe(0);
      expect(api.requests).toEqual([]);

      const first = await runAction(workspace, { ...inputs, "github-token": "t0ken" }, env);
      expect(first.code).toBe(0);
      // The runner masks the token in the log; the action prints it nowhere else.
      expect(first.stdout.split("\n").filter((line) => line.includes("t0ken"))).toEqual([
        "::add-mask::t0ken",
      ]);
      const headers = {
        authorization: "Bearer t0ken",
        accept: "application/vnd.github+json",
        apiVersion: "2022-11-28",
      };
      const markdown = first.summary;
      const body = `<!-- mlops-gate: wine -->\n${markdown}`;
      expect(api.requests).toEqual([
        {
          method: "GET",
          url: "/repos/o/r/issues/42/comments?per_page=100&page=1",
          ...headers,
          body: undefined,
        },
        { method: "POST", url: "/repos/o/r/issues/42/comments", ...headers, body: { body } },
      ]);
      expect(first.outputs["comment-url"]).toBe("https://github.test/o/r/pull/42#issuecomment-101");

      api.requests.length = 0;
      const second = await runAction(
        workspace,
        { ...inputs, thresholds: "- rmse:maxRelativeRegression=0.5\n", "github-token": "t0ken" },
        env,
      );
      expect(second.code).toBe(0);
      const secondBody = `<!-- mlops-gate: wine -->\n${second.summary}`;
      expect(secondBody).not.toBe(body);
      expect(api.requests).toEqual([
        {
          method: "GET",
          url: "/repos/o/r/issues/42/comments?per_page=100&page=1",
          ...headers,
          body: undefined,
        },
        {
          method: "PATCH",
          url: "/repos/o/r/issues/comments/101",
          ...headers,
          body: { body: secondBody },
        },
      ]);
      // Still one gate comment beside the reviewer's, holding the latest table.
      expect(api.comments.map((comment) => comment.id)).toEqual([7, 101]);
      expect(api.comments[1].body).toBe(secondBody);
    } finally {
      await api.close();
    }
  }, 300_000);

  it("a comment the API refuses is a warning; the gate's verdict stands", async () => {
    const workspace = await makeWorkspace();
    const eventPath = join(workspace, "event.json");
    await writeFile(eventPath, JSON.stringify({ pull_request: { number: 9 } }));
    const api = await fakeGitHub();
    try {
      const run = await runAction(
        workspace,
        { model: "wine", data: "holdout.csv", thresholds: THRESHOLDS, "github-token": "t0ken" },
        { GITHUB_API_URL: api.url, GITHUB_REPOSITORY: "o/r", GITHUB_EVENT_PATH: eventPath },
      );
      expect(run.code).toBe(0);
      expect(run.outputs.passed).toBe("true");
      expect(run.stdout).toMatch(
        /::warning title=Gate comment::Could not post the gate comment: GET .*\/repos\/o\/r\/issues\/9\/comments\?per_page=100&page=1 answered 404/,
      );
    } finally {
      await api.close();
    }
  }, 300_000);
});
