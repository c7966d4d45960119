import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openRegistry } from "../registry/registry.js";
import { main } from "./main.js";

let root = "";
let registryPath = "";
/** Two searches as mlops-train tracks them: a parent run each, its trials as child runs. */
const searches: { parent: string; trials: string[] }[] = [];

async function cli(argv: string[]) {
  let stdout = "";
  let stderr = "";
  const code = await main([...argv, "--registry", registryPath], {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env: {},
    cwd: root,
  });
  return { code, stdout, stderr };
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "mlops-cli-runs-"));
  registryPath = join(root, ".mlops");
  const registry = await openRegistry(registryPath);
  const plans = [
    {
      search: "RandomSearch",
      best: 0.74,
      trials: [
        [4, 0.78],
        [8, 0.74],
        [12, 0.76],
      ],
    },
    {
      search: "GridSearch",
      best: 0.72,
      trials: [
        [5, 0.72],
        [9, 0.73],
      ],
    },
  ] as const;
  for (const plan of plans) {
    const parent = await registry.startRun({
      experiment: "wine",
      runName: `mlops-train tree ${plan.search}`,
      params: { search: plan.search, cv: 3, scoring: "rmse" },
    });
    await registry.logMetrics(parent.runId, {
      best_cv_rmse: plan.best,
      best_index: 1,
      refit_time: 0.5,
    });
    const trials: string[] = [];
    for (const [index, [maxDepth, score]] of plan.trials.entries()) {
      const trial = await registry.startRun({
        experiment: "wine",
        runName: `trial-00${index}`,
        parentRunId: parent.runId,
        params: { maxDepth, criterion: "squared_error" },
      });
      await registry.logMetrics(trial.runId, { mean_test_rmse: score, fit_time: 0.01 });
      await registry.endRun(trial.runId);
      trials.push(trial.runId);
    }
    await registry.store.logArtifact(parent.runId, "leaderboard.csv", Buffer.from("rank\n1\n"));
    await registry.endRun(parent.runId);
    searches.push({ parent: parent.runId, trials });
  }
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const header = (stdout: string) => stdout.split("\n")[0].split(/ {2,}/);

describe("runs list", () => {
  it("folds the trials under their search and shows the metrics and the params that differ", async () => {
    const { code, stdout, stderr } = await cli(["runs", "list"]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const lines = stdout.split("\n");
    expect(header(stdout)).toEqual([
      "RUN ID",
      "NAME",
      "STATUS",
      "START",
      "DURATION",
      "CHILDREN",
      "best_cv_rmse",
      "search",
    ]);
    // Newest first: the grid search, then the random one; their trials are counted, not listed.
    expect(lines[1]).toMatch(
      new RegExp(
        `^${searches[1].parent}\\s+mlops-train tree GridSearch\\s.*\\s2\\s+0\\.72\\s+GridSearch$`,
      ),
    );
    expect(lines[2]).toMatch(
      new RegExp(`^${searches[0].parent}\\s.*\\s3\\s+0\\.74\\s+RandomSearch$`),
    );
    expect(stdout).not.toContain("trial-");
    expect(stdout).toContain("\nSame in every run shown: cv=3, scoring=rmse\n");
    expect(stdout).toContain("--children lists them, --parent RUN_ID lists one run's.\n");
    for (const line of lines) expect(line.length).toBeLessThan(150);
  });

  it("lists the trials under their parent with --children", async () => {
    const { stdout } = await cli(["runs", "list", "--children"]);
    const names = stdout
      .trimEnd()
      .split("\n")
      .slice(1)
      .filter((line) => /^[0-9a-f]{32} /.test(line))
      .map((line) => line.split(/ {2,}/)[1]);
    expect(names).toEqual([
      "mlops-train tree GridSearch",
      "└ trial-001",
      "└ trial-000",
      "mlops-train tree RandomSearch",
      "└ trial-002",
      "└ trial-001",
      "└ trial-000",
    ]);
    expect(header(stdout)).toContain("maxDepth");
    expect(header(stdout)).not.toContain("CHILDREN");
  });

  it("lists one search's trials with --parent, ordered by a metric", async () => {
    const { code, stdout } = await cli([
      "runs",
      "list",
      "--parent",
      searches[0].parent,
      "--order-by",
      "metrics.mean_test_rmse,params.maxDepth",
    ]);
    expect(code).toBe(0);
    expect(header(stdout)).toEqual([
      "RUN ID",
      "NAME",
      "STATUS",
      "START",
      "DURATION",
      "mean_test_rmse",
      "maxDepth",
    ]);
    const rows = stdout.split("\n").slice(1, 4);
    expect(rows.map((row) => row.split(/ {2,}/)[0])).toEqual([
      searches[0].trials[1],
      searches[0].trials[2],
      searches[0].trials[0],
    ]);
    expect(stdout).toContain("Same in every run shown: criterion=squared_error\n");
    const missing = await cli(["runs", "list", "--parent", "0".repeat(32)]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^mlops: run 0{32} not found/);
  });

  it("shows the columns asked for, or every one", async () => {
    const chosen = await cli([
      "runs",
      "list",
      "--children",
      "--columns",
      "metrics.fit_time,params.maxDepth",
    ]);
    expect(header(chosen.stdout).slice(5)).toEqual(["fit_time", "maxDepth"]);
    const wide = await cli(["runs", "list", "--wide"]);
    expect(header(wide.stdout).slice(6)).toEqual([
      "best_cv_rmse",
      "best_index",
      "refit_time",
      "cv",
      "scoring",
      "search",
    ]);
    const bad = await cli(["runs", "list", "--columns", "maxDepth"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(
      '--columns "maxDepth" is invalid: expected params.NAME, metrics.NAME or tags.NAME',
    );
  });

  it("gives every run found, flat, with --json", async () => {
    const { stdout } = await cli(["runs", "list", "--json"]);
    const { runs } = JSON.parse(stdout);
    expect(runs).toHaveLength(7);
    expect(runs.filter((run: { parentRunId?: string }) => run.parentRunId)).toHaveLength(5);
  });
});

describe("runs show", () => {
  it("shows a search run: times, children, every param, metric, tag and artifact", async () => {
    const { code, stdout } = await cli(["runs", "show", searches[0].parent]);
    expect(code).toBe(0);
    expect(stdout).toMatch(
      new RegExp(`^Run mlops-train tree RandomSearch \\(${searches[0].parent}\\)\n`),
    );
    expect(stdout).toContain("  experiment  wine (id 1)\n  status      FINISHED\n");
    expect(stdout).toContain(`  children    3 (mlops runs list --parent ${searches[0].parent})\n`);
    expect(stdout).toContain("Params\n  cv       3\n  scoring  rmse\n  search   RandomSearch\n");
    expect(stdout).toContain(
      "Metrics\n  best_cv_rmse  0.74\n  best_index    1\n  refit_time    0.5\n",
    );
    expect(stdout).toContain("Artifacts\n  leaderboard.csv  7 bytes\n");
  });

  it("names a trial's parent, and answers JSON", async () => {
    const { stdout } = await cli(["runs", "show", searches[1].trials[0]]);
    expect(stdout).toContain(`  parent      ${searches[1].parent}\n  children    -\n`);
    const json = JSON.parse((await cli(["runs", "show", searches[1].parent, "--json"])).stdout);
    expect(json.run.runId).toBe(searches[1].parent);
    expect(json.experiment.name).toBe("wine");
    expect(json.children.sort()).toEqual([...searches[1].trials].sort());
    expect(json.artifacts[0]).toMatchObject({ name: "leaderboard.csv", sizeBytes: 7 });
  });

  it("exits 2 for a run that does not exist", async () => {
    const { code, stderr } = await cli(["runs", "show", "nope"]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^mlops: .*nope/);
  });
});
