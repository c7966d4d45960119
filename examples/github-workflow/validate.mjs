// The test of this example (npm test). First it checks the workflow file: it parses, trains on
// push, its gate step uses this repository's action with inputs that action.yml declares (every
// required one given), the data it names exists and its thresholds are valid gate rules. Then it
// runs the gate step for real, as the runner would on main after two pushes: the wine example's
// main job trains twice into a fresh registry, and the bundled action runs with the step's inputs.
// It prints the job summary the action wrote (the README shows it).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gateModelUri, openRegistry, parseGateThresholds } from "@mlops/core";
import { parse } from "yaml";

const here = dirname(fileURLToPath(import.meta.url));
const repository = join(here, "..", "..");
const workflowFile = join(here, ".github", "workflows", "train-and-gate.yml");
const workflow = parse(readFileSync(workflowFile, "utf8"));
const action = parse(readFileSync(join(repository, "packages", "action", "action.yml"), "utf8"));

// ------------------------------------------------------------------ the workflow, statically

assert.ok(workflow.on && "push" in workflow.on, "the workflow runs on push");
const steps = Object.values(workflow.jobs).flatMap((job) => job.steps ?? []);
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
const inputs = Object.fromEntries(
  Object.entries(gate.with).map(([name, value]) => [name, substitute(value, onMain)]),
);
assert.equal(inputs["promote-to"], "production", "promotes on main");
assert.equal(substitute(gate.with["promote-to"], onBranch), "", "promotes nothing elsewhere");
assert.equal(inputs.registry, ".mlops", "gates the registry the main job writes (./.mlops)");
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
try {
  const registryPath = join(workspace, inputs.registry);
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
      [join(repository, "examples", "wine-quality", "main.mjs"), "--quiet"],
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
  process.stdout.write(`\ngithub-workflow: ok (gate passed, wine@production 1 → 2)\n`);
} finally {
  await rm(workspace, { recursive: true, force: true });
}
