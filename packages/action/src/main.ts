import * as core from "@actions/core";
import {
  formatGateIssue,
  formatGateRunMarkdown,
  formatGateTable,
  type GateConfigIssue,
  type GateRule,
  gateModelUri,
  gateRunReport,
  MlopsError,
  openExistingRegistry,
  parseGateThresholds,
  type RunGateResult,
  resolveRegistryLocation,
  runGate,
} from "@mlops/core";
import { pullRequestOf, upsertGateComment } from "./comment.js";

/**
 * The defaults of the optional inputs, as `action.yml` states them. The runner passes them in
 * `INPUT_*` variables; a run outside GitHub (a test, `node dist/index.js`) gets them from here.
 */
export const INPUT_DEFAULTS = {
  registry: ".mlops",
  candidate: "@staging",
  baseline: "@production",
  data: "",
  "promote-to": "",
  "require-baseline": "false",
  reason: "",
  "github-token": "",
} as const;

/** Every input `run()` reads: a test keeps this list equal to the inputs of `action.yml`. */
export const INPUT_NAMES = [
  "registry",
  "model",
  "candidate",
  "baseline",
  "data",
  "thresholds",
  "promote-to",
  "require-baseline",
  "reason",
  "github-token",
] as const;

type InputName = (typeof INPUT_NAMES)[number];

/** The inputs, parsed. */
interface Inputs {
  registry: string;
  model: string;
  candidate: string;
  baseline: string;
  data: string | undefined;
  rules: GateRule[];
  promoteTo: string | undefined;
  requireBaseline: boolean;
  reason: string | undefined;
}

/** One problem with one input, reported as an error annotation titled with the input. */
interface InputIssue {
  input: InputName;
  message: string;
}

function input(name: InputName): string {
  // A YAML block keeps its indentation: trimming the first line could change its structure.
  const value = core.getInput(name, { trimWhitespace: name !== "thresholds" });
  return value === "" ? (INPUT_DEFAULTS[name as keyof typeof INPUT_DEFAULTS] ?? "") : value;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function gateIssuesOf(error: unknown): GateConfigIssue[] | undefined {
  if (!MlopsError.isInstance(error) || error.code !== "gate_config_invalid") return undefined;
  const issues = (error as MlopsError & { issues?: GateConfigIssue[] }).issues;
  return Array.isArray(issues) ? issues : undefined;
}

/** Reads and checks every input, collecting all problems instead of stopping at the first. */
function readInputs(): { inputs: Inputs; issues: InputIssue[] } {
  const issues: InputIssue[] = [];
  const check = <T>(name: InputName, parse: () => T): T | undefined => {
    try {
      return parse();
    } catch (error) {
      const gateIssues = gateIssuesOf(error);
      if (gateIssues === undefined) {
        issues.push({ input: name, message: messageOf(error) });
      } else {
        for (const issue of gateIssues) {
          issues.push({ input: name, message: formatGateIssue(issue) });
        }
      }
      return undefined;
    }
  };

  const model = input("model").trim();
  if (model === "") {
    issues.push({ input: "model", message: "required: the registered model to gate" });
  }
  // The model name is checked once; candidate and baseline are only checked with a valid name.
  const modelValid =
    model !== "" && check("model", () => gateModelUri(model, "latest")) !== undefined;
  const candidate = input("candidate").trim();
  const baseline = input("baseline").trim();
  if (modelValid) {
    check("candidate", () => gateModelUri(model, candidate));
    check("baseline", () => gateModelUri(model, baseline));
  }
  const thresholds = input("thresholds");
  let rules: GateRule[] = [];
  if (thresholds.trim() === "") {
    issues.push({
      input: "thresholds",
      message:
        'required: the gate rules, e.g. a YAML list such as "- rmse:maxRelativeRegression=0.02"',
    });
  } else {
    rules =
      check("thresholds", () => parseGateThresholds(thresholds, { source: "thresholds" })) ?? [];
  }
  const promoteTo = input("promote-to").trim();
  if (promoteTo !== "" && modelValid) {
    check("promote-to", () => gateModelUri(model, `@${promoteTo}`));
  }
  // YAML 1.2 core schema booleans, as `core.getBooleanInput` accepts them.
  const requireText = input("require-baseline").trim();
  const requireBaseline = ["true", "True", "TRUE"].includes(requireText);
  if (!requireBaseline && !["false", "False", "FALSE"].includes(requireText)) {
    issues.push({
      input: "require-baseline",
      message: `expected true or false, got ${JSON.stringify(requireText)}`,
    });
  }
  const data = input("data").trim();
  const reason = input("reason").trim();
  return {
    inputs: {
      registry: input("registry").trim(),
      model,
      candidate,
      baseline,
      data: data === "" ? undefined : data,
      rules,
      promoteTo: promoteTo === "" ? undefined : promoteTo,
      requireBaseline,
      reason: reason === "" ? undefined : reason,
    },
    issues,
  };
}

async function writeSummary(markdown: string): Promise<void> {
  // Outside GitHub there is no job summary to write to; the log has the table already.
  if (!process.env.GITHUB_STEP_SUMMARY) return;
  await core.summary.addRaw(markdown).write();
}

/**
 * With a token, the gate's table as the pull request's one gate comment (edited on later runs).
 * Nothing is sent without a token or outside a pull request; a comment that cannot be posted is a
 * warning, the gate's verdict stands.
 */
async function commentOnPullRequest(token: string, model: string, markdown: string) {
  if (token === "") return;
  core.setSecret(token);
  const target = await pullRequestOf(process.env);
  if (target === undefined) {
    core.info("Not a pull request: no gate comment to post.");
    return;
  }
  try {
    const comment = await upsertGateComment(token, target, model, markdown);
    core.setOutput("comment-url", comment.url);
    core.info(`Gate comment ${comment.action}: ${comment.url}`);
  } catch (error) {
    core.warning(`Could not post the gate comment: ${messageOf(error)}`, {
      title: "Gate comment",
    });
  }
}

function setOutputs(run: RunGateResult): void {
  core.setOutput("passed", String(run.result.passed));
  core.setOutput("candidate-version", String(run.candidate.version));
  core.setOutput("baseline-version", run.baseline === null ? "" : String(run.baseline.version));
  core.setOutput("report", JSON.stringify(gateRunReport(run)));
}

function promotionLine(run: RunGateResult): string | undefined {
  if (run.promoted !== null) {
    const { name, alias, from, to, moved } = run.promoted;
    return moved
      ? `Promoted ${name}@${alias}: ${from ?? "(none)"} → ${to}.`
      : `${name}@${alias} already points at ${to}: nothing to promote.`;
  }
  return run.promote === null
    ? undefined
    : `Not promoted: ${run.candidate.name}@${run.promote} was not moved, because the gate failed.`;
}

/**
 * The GitHub Action: reads the inputs, runs the gate (`runGate` from `@mlops/core`, the same
 * code as `mlops gate`), annotates every invalid input and every failed rule, writes the job
 * summary and the outputs, and ends in `core.setFailed` on a regression or an error.
 *
 * @example
 * // dist/index.js, as the runner starts it: node dist/index.js with INPUT_* variables set.
 * await run();
 */
export async function run(): Promise<void> {
  try {
    const { inputs, issues } = readInputs();
    if (issues.length > 0) {
      for (const issue of issues) {
        core.error(issue.message, { title: `Invalid input "${issue.input}"` });
      }
      core.setOutput("passed", "false");
      await writeSummary(
        "### Model gate: invalid inputs\n\n" +
          issues
            .map((issue) => `- \`${issue.input}\`: ${issue.message.replace(/\s*\n\s*/g, " ")}`)
            .join("\n") +
          "\n",
      );
      const first = issues[0];
      const names = [...new Set(issues.map((issue) => `"${issue.input}"`))].join(", ");
      core.setFailed(
        issues.length === 1
          ? `Invalid input "${first.input}": ${first.message}`
          : `${issues.length} problems in the inputs (${names}); see the annotations`,
      );
      return;
    }
    const registry = await openExistingRegistry(
      resolveRegistryLocation(inputs.registry, {}, process.cwd()),
      { hint: '(check the "registry" input)' },
    );
    let gate: RunGateResult;
    try {
      gate = await runGate(registry, {
        model: inputs.model,
        candidate: inputs.candidate,
        baseline: inputs.baseline,
        data: inputs.data,
        rules: inputs.rules,
        requireBaseline: inputs.requireBaseline,
        promote: inputs.promoteTo,
        reason: inputs.reason,
      });
    } finally {
      await registry.close();
    }
    core.info(formatGateTable(gate.result).trimEnd());
    for (const warning of gate.warnings) core.warning(warning, { title: "Gate: evaluation data" });
    for (const row of gate.result.rows) {
      if (!row.passed) core.error(row.reason, { title: `Gate: ${row.metric} ${row.rule}` });
    }
    setOutputs(gate);
    const markdown = formatGateRunMarkdown(gate);
    await writeSummary(markdown);
    await commentOnPullRequest(input("github-token"), gate.candidate.name, markdown);
    if (gate.kept !== null) {
      const { name, version } = gate.candidate;
      core.info(
        `Gate report kept with ${name} v${version}: run ${gate.kept.runId} (${gate.kept.experiment})`,
      );
    }
    const promotion = promotionLine(gate);
    if (promotion !== undefined) core.info(promotion);
    if (gate.result.passed) core.info(gate.summary);
    else core.setFailed(gate.summary);
  } catch (error) {
    core.setOutput("passed", "false");
    const gateIssues = gateIssuesOf(error);
    for (const issue of gateIssues ?? []) {
      core.error(formatGateIssue(issue), { title: "Invalid gate rules" });
    }
    const message = messageOf(error);
    try {
      await writeSummary(`### Model gate: error\n\n\`\`\`text\n${message}\n\`\`\`\n`);
    } catch {
      // The failure below says it all; a summary that cannot be written must not hide it.
    }
    if (!MlopsError.isInstance(error) && error instanceof Error && error.stack) {
      core.debug(error.stack);
    }
    core.setFailed(MlopsError.isInstance(error) ? message : `Unexpected error: ${message}`);
  }
}
