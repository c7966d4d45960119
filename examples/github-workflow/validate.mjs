// The test of this example (npm test). First it checks the workflow file: it parses, trains on
// push, its registry is the PostgreSQL service container (or the MLOPS_REGISTRY_URL secret), its
// gate step uses this repository's action with inputs that action.yml declares (every required
// one given), the data it names exists and its thresholds are valid gate rules. Then it runs the
// steps for real, as the runner would on main after two pushes, against a PostgreSQL 15 server
// started here (in place of the service container): the wine example's main job trains twice
// into it, and the bundled action gates with the step's inputs. It prints the job summary the
// action wrote (the README shows it).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gateModelUri, openRegistry, parseGateThresholds } from "@mlops/core";
import { startPostgresCluster } from "@mlops/postgres/testing";
import { parse } from "yaml";

const here = dirname(fileURLToPath(import.meta.url));
const repository = join(here, "..", "..");
const workflowFile = join(here, ".github", "workflows", "train-and-gate.yml");
const workflow = parse(readFileSync(workflowFile, "utf8"));
const action = parse(readFileSync(join(repository, "packages", "action", "action.yml"), "utf8"));

// ------------------------------------------------------------------ the workflow, statically

assert.ok(workflow.on && "push" in workflow.on, "the workflow runs on push");
const jobs = Object.values(workflow.jobs);
assert.equal(jobs.length, 1, "one job");
const [job] = jobs;
const steps = job.steps ?? [];
assert.ok(
  !steps.some((step) => String(step.uses).startsWith("actions/cache")),
  "the registry is PostgreSQL, not an evictable Actions cache",
);
const train = steps.find(
  (step) => typeof step.run === "string" && step.run.includes("npm run main"),
);
assert.ok(train, "a step trains with the wine example's main job (npm run main)");
const gates = steps.filter((step) => step.uses === "./packages/action");
assert.equal(gates.length, 1, "one step uses ./packages/action");
const [gate] = gates;
assert.ok(steps.indexOf(train) < steps.indexOf(gate), "the gate runs after training");
assert.equal(gate.id, "gate");

const declared = Object.keys(action.inputs);
for (const name of Object.keys(gate.with)) {
  assert.ok(declared.includes(name), `input "${name}" is declared in action.yml`);
}
for (const [name, spec] of Object.entries(action.inputs)) {
  if (spec.required) assert.ok(name in gate.with, `required input "${name}" is given`);
}
const text = readFileSync(workflowFile, "utf8");
for (const match of text.matchAll(/steps\.gate\.outputs\.([\w-]+)/g)) {
  assert.ok(match[1] in action.outputs, `output "${match[1]}" is declared in action.yml`);
}

/** Evaluates the few `${{ }}` forms the workflow uses, in a given context. */
function evaluate(expression, context) {
  const text = expression.trim();
  const choice = /^([\w.]+) == '([^']*)' && '([^']*)' \|\| '([^']*)'$/.exec(text);
  if (choice) return context[choice[1]] === choice[2] ? choice[3] : choice[4];
  const fallback = /^([\w.]+) \|\| '([^']*)'$/.exec(text);
  if (fallback) return context[fallback[1]] || fallback[2];
  if (Object.hasOwn(context, text)) return context[text];
  throw new Error(`validate.mjs cannot evaluate \${{ ${text} }}`);
}

function substitute(value, context) {
  return String(value).replace(/\$\{\{(.*?)\}\}/g, (_, expression) =>
    evaluate(expression, context),
  );
}

const onMain = {
  "github.ref": "refs/heads/main",
  "github.workflow": workflow.name,
  "github.run_id": "1",
  "github.sha": "0123456789abcdef0123456789abcdef01234567",
};
const onBranch = { ...onMain, "github.ref": "refs/heads/feature" };

// The registry: the service container's database unless the repository has the secret.
const service = job.services?.postgres;
assert.ok(service, "a postgres service container");
assert.match(service.image, /^postgres:15\b/, "PostgreSQL 15, the version the tests run");
assert.ok(service.ports.includes("5432:5432"), "the service listens on the runner's port 5432");
assert.match(
  service.options,
  /--health-cmd "pg_isready/,
  "steps wait until it accepts connections",
);
const fallbackUrl = new URL(substitute(job.env.MLOPS_REGISTRY, onMain));
assert.deepEqual(
  [fallbackUrl.protocol, fallbackUrl.hostname, fallbackUrl.port],
  ["postgres:", "localhost", "5432"],
);
assert.deepEqual(
  [fallbackUrl.username, fallbackUrl.password, fallbackUrl.pathname],
  [service.env.POSTGRES_USER, service.env.POSTGRES_PASSWORD, `/${service.env.POSTGRES_DB}`],
  "without the secret, the registry URL names the service's role, password and database",
);
assert.equal(
  substitute(job.env.MLOPS_REGISTRY, {
    ...onMain,
    "secrets.MLOPS_REGISTRY_URL": "postgres://team",
  }),
  "postgres://team",
  "the MLOPS_REGISTRY_URL secret wins",
);
/** The gate step's inputs in `context`, with the job's env as the runner sets it. */
function gateInputs(context) {
  const withEnv = { ...context, "env.MLOPS_REGISTRY": substitute(job.env.MLOPS_REGISTRY, context) };
  return Object.fromEntries(
    Object.entries(gate.with).map(([name, value]) => [name, substitute(value, withEnv)]),
  );
}
let inputs = gateInputs(onMain);
assert.equal(inputs["promote-to"], "production", "promotes on main");
assert.equal(substitute(gate.with["promote-to"], onBranch), "", "promotes nothing elsewhere");
assert.equal(inputs.registry, fallbackUrl.href, "gates the registry the main job writes");
assert.ok(existsSync(join(repository, inputs.data)), `the data ${inputs.data} exists`);
const rules = parseGateThresholds(inputs.thresholds, { source: "thresholds" });
assert.deepEqual(
  rules.map((rule) => rule.metric),
  ["rmse", "r2"],
);
gateModelUri(inputs.model, inputs.candidate);
gateModelUri(inputs.model, inputs.baseline);

// ------------------------------------------------------------------ the gate step, for real

function parseOutputs(text) {
  const outputs = {};
  for (const match of text.matchAll(/^(.+?)<<(ghadelimiter_[\w-]+)\n([\s\S]*?)\n\2$/gm)) {
    outputs[match[1]] = match[3];
  }
  return outputs;
}

const workspace = await mkdtemp(join(tmpdir(), "mlops-github-workflow-"));
// In place of the service container (or the team's server behind the secret).
const cluster = await startPostgresCluster();
try {
  const runner = { ...onMain, "secrets.MLOPS_REGISTRY_URL": cluster.url };
  inputs = gateInputs(runner);
  const registryPath = substitute(job.env.MLOPS_REGISTRY, runner);
  assert.equal(inputs.registry, cluster.url);
  await mkdir(dirname(join(workspace, inputs.data)), { recursive: true });
  await copyFile(join(repository, inputs.data), join(workspace, inputs.data));
  const outputFile = join(workspace, "github-output");
  const summaryFile = join(workspace, "step-summary.md");
  // Two pushes to main, each: train and register (@staging), then the gate step. The first gate
  // finds no @production (a first model) and promotes v1; the second compares v2 with v1. The
  // registry is carried from one push to the next, as the cache step does.
  for (let push = 1; push <= 2; push++) {
    const trained = spawnSync(
      process.execPath,
      // The second push changes the search (one setting instead of 60): a new model, not a
      // rerun of the first (the main job does not register a model identical to one the
      // registry holds). On these rows it scores better, so the gate passes and promotes it.
      [
        join(repository, "examples", "wine-quality", "main.mjs"),
        "--quiet",
        ...(push === 2 ? ["--trials", "1"] : []),
      ],
      {
        encoding: "utf8",
        env: { ...process.env, MLOPS_REGISTRY: registryPath, MLOPS_EXAMPLE_NO_GATE: "1" },
      },
    );
    assert.equal(trained.status, 0, `the main job failed:\n${trained.stderr}`);
    await writeFile(outputFile, "");
    await writeFile(summaryFile, "");
    const env = {
      PATH: process.env.PATH ?? "",
      GITHUB_ACTIONS: "true",
      MLOPS_REGISTRY: registryPath, // the job's env reaches every step
      GITHUB_ACTOR: "octocat",
      GITHUB_OUTPUT: outputFile,
      GITHUB_STEP_SUMMARY: summaryFile,
    };
    // The runner passes every input, with action.yml's default where the step gives none.
    for (const [name, spec] of Object.entries(action.inputs)) {
      const value = inputs[name] ?? spec.default;
      if (value !== undefined) env[`INPUT_${name.toUpperCase()}`] = value;
    }
    const ran = spawnSync(
      process.execPath,
      [join(repository, "packages", "action", action.runs.main)],
      {
        cwd: workspace,
        encoding: "utf8",
        env,
      },
    );
    assert.equal(
      ran.status,
      0,
      `the gate step of push ${push} failed:\n${ran.stdout}${ran.stderr}`,
    );
  }
  const outputs = parseOutputs(await readFile(outputFile, "utf8"));
  assert.equal(outputs.passed, "true");
  assert.equal(outputs["candidate-version"], "2");
  assert.equal(outputs["baseline-version"], "1");
  const report = JSON.parse(outputs.report);
  assert.equal(report.result.comparedOn, "evaluation-data");
  assert.deepEqual(report.promoted && [report.promoted.from, report.promoted.to], [1, 2]);
  const registry = await openRegistry(registryPath);
  assert.equal((await registry.store.listAliases("wine")).production, 2);
  const [move] = (await registry.aliasHistory("wine", { alias: "production" })).slice(-1);
  assert.equal(move.actor, "octocat");
  assert.match(move.reason, /^Train and gate run 1 at 0123456789abcdef\S*; gate passed: rmse /);
  const summary = await readFile(summaryFile, "utf8");
  assert.match(summary, /\*\*Verdict: ✅ pass\*\*/);
  process.stdout.write(`The job summary of the gate step:\n\n${summary}`);
  await registry.close();
  assert.ok(!summary.includes(cluster.password), "the job summary shows no password");
  process.stdout.write(`\ngithub-workflow: ok (gate passed, wine@production 1 → 2)\n`);
} finally {
  await cluster.stop();
  await rm(workspace, { recursive: true, force: true });
}
