// End-to-end: runs the built `mlops` executable (dist/cli.js) in a child process, as a user or a
// CI job would, against a registry written through the SDK.
import { spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureBuilt } from "@mlops/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SDK_VERSION } from "../artifact/version.js";
import { gateEvaluationCsv, populateGateRegistry } from "../gate/fixture.js";
import { openRegistry } from "../registry/registry.js";
import { populateRegistry, type RegistryFixture } from "./fixture.js";

const packageDir = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const binary = join(packageDir, "dist", "cli.js");

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

let root = "";
let fixture: RegistryFixture;

function mlops(args: string[], env: Record<string, string> = {}): Result {
  const result = spawnSync(process.execPath, [binary, ...args], {
    cwd: root,
    encoding: "utf8",
    // A clean environment: no registry or colour settings inherited from the developer's shell.
    env: { PATH: process.env.PATH ?? "", MLOPS_REGISTRY: fixture.path, ...env },
    timeout: 100_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

beforeAll(async () => {
  ensureBuilt({ packageDir, outputs: ["cli.js"] });
  root = await mkdtemp(join(tmpdir(), "mlops-cli-bin-"));
  fixture = await populateRegistry(join(root, "registry"));
}, 60_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

// Child processes on a loaded CI machine: generous time (a timeout is not an assertion).
describe("mlops (the built executable)", { timeout: 120_000 }, () => {
  it.skipIf(process.platform === "win32")("runs directly through its shebang", () => {
    expect(statSync(binary).mode & 0o111).not.toBe(0);
    const direct = spawnSync(binary, ["--version"], { encoding: "utf8" });
    expect(direct.status).toBe(0);
    expect(direct.stdout).toBe(`${SDK_VERSION}\n`);
  });

  it("lists models as a table (exit 0)", () => {
    const { code, stdout, stderr } = mlops(["models", "list"]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split("\n");
    expect(lines[0]).toBe("NAME     LATEST  ALIASES                  VERSIONS  UPDATED");
    expect(lines[2]).toMatch(/^wine {10}3 {2}production→2, staging→3 {9}3 {2}\d{4}-\d\d-\d\d /);
    expect(stdout).not.toContain("\u001b[");
  });

  it("answers one JSON document with --json", () => {
    const { code, stdout } = mlops(["--json", "models", "list"]);
    expect(code).toBe(0);
    const { models } = JSON.parse(stdout);
    expect(models).toHaveLength(2);
    expect(models[1]).toMatchObject({ name: "wine", latestVersion: 3, versionCount: 3 });
  });

  it("shows a version loaded through the registry, its digest verified", async () => {
    const { code, stdout } = mlops(["models", "show", "wine@staging", "--json"]);
    expect(code).toBe(0);
    const document = JSON.parse(stdout);
    const expected = await (await openRegistry(fixture.path)).loadModel("models:/wine/3");
    expect(document.version).toEqual(expected.version);
    expect(document.manifest).toEqual(expected.artifact.manifest);
    const text = mlops(["models", "show", "wine@staging"]);
    expect(text.stdout).toContain(`  digest       ${expected.version.digest}\n`);
    expect(text.stdout).toContain("  quality    integer   no        0 … 10          target\n");
  });

  it("lists runs with --filter, repeated --order-by and --max", () => {
    const { code, stdout } = mlops([
      "runs",
      "list",
      "--json",
      "--experiment",
      "wine",
      "--filter",
      "params.max_depth != '5'",
      "--order-by",
      "metrics.rmse DESC",
      "--order-by",
      "attributes.run_name",
      "--max",
      "5",
    ]);
    expect(code).toBe(0);
    const { runs } = JSON.parse(stdout);
    expect(runs.map((run: { runId: string }) => run.runId)).toEqual([
      fixture.wineRuns[0],
      fixture.wineRuns[2],
    ]);
    expect(runs[0]).toMatchObject({ status: "FINISHED", params: { max_depth: "4" } });
    expect(runs[0].metrics.rmse).toBe(0.72);
  });

  it("moves an alias and shows the move in the history", async () => {
    const path = (await populateRegistry(join(root, "alias-registry"))).path;
    const set = mlops(
      ["alias", "set", "wine", "production", "1", "--reason", "rollback: drift", "--actor", "ops"],
      { MLOPS_REGISTRY: path },
    );
    expect(set.stderr).toBe("");
    expect(set.code).toBe(0);
    expect(set.stdout).toBe('wine@production: 2 → 1 (by ops, reason "rollback: drift")\n');
    const history = mlops(["alias", "history", "wine", "--json", "--registry", path]);
    expect(history.code).toBe(0);
    const moves = JSON.parse(history.stdout).history;
    expect(moves.at(-1)).toMatchObject({
      alias: "production",
      fromVersion: 2,
      toVersion: 1,
      actor: "ops",
      reason: "rollback: drift",
    });
    expect(moves).toHaveLength(4);
  });

  it("exits 2 for an unknown command", () => {
    const { code, stdout, stderr } = mlops(["modles", "list"]);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toBe(
      'mlops: unknown command "modles" (did you mean "models"?); commands: "models", "alias", "runs", "gate", "drift", "registry", "ui"\n' +
        'Run "mlops --help" for usage.\n',
    );
  });

  it("exits 2 for a missing argument", () => {
    const { code, stderr } = mlops(["models", "show"]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^mlops: missing argument MODEL; usage: mlops models show MODEL\n/);
  });

  it("exits 2 for an unknown model, with the JSON error on stdout", () => {
    const { code, stdout, stderr } = mlops(["models", "show", "cheese", "--json"]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^mlops: model "cheese" not found/);
    expect(JSON.parse(stdout)).toEqual({
      error: { code: "registry_not_found", message: stderr.slice("mlops: ".length).trimEnd() },
    });
  });

  it("exits 2 for a malformed model reference, suggesting an alias for a stage", () => {
    const { code, stdout, stderr } = mlops(["models", "show", "wine/Production", "--json"]);
    expect(code).toBe(2);
    expect(JSON.parse(stdout).error.code).toBe("uri_invalid");
    expect(stderr).toContain("use an alias: models:/wine@production");
  });

  it("exits 2 for an invalid filter", () => {
    const { code, stdout, stderr } = mlops([
      "runs",
      "list",
      "--filter",
      "metrics.rmse <",
      "--json",
    ]);
    expect(code).toBe(2);
    expect(JSON.parse(stdout).error.code).toBe("filter_invalid");
    expect(stderr).toMatch(/^mlops: invalid run filter "metrics\.rmse <"/);
    expect(stderr).not.toContain("    at ");
  });

  it("exits 2 for a missing registry and does not create it", () => {
    const missing = join(root, "nowhere");
    const { code, stderr } = mlops(["models", "list"], { MLOPS_REGISTRY: missing });
    expect(code).toBe(2);
    expect(stderr).toBe(`mlops: no registry at ${missing} (set --registry or MLOPS_REGISTRY)\n`);
    expect(existsSync(missing)).toBe(false);
  });

  it("exits 2 for a registry URL with an unknown scheme and creates no folder for it", () => {
    for (const args of [
      ["models", "list"],
      ["--registry", "mysql://ana:s3cret@db/x", "models", "list"],
    ]) {
      const { code, stderr } = mlops(args, { MLOPS_REGISTRY: "mysql://ana:s3cret@db/x" });
      expect(code).toBe(2);
      expect(stderr).toMatch(
        /^mlops: registry location "mysql:\/\/ana:\*\*\*@db\/x": unknown scheme "mysql:"/,
      );
      expect(stderr).not.toContain("s3cret");
    }
    expect(existsSync(join(root, "mysql:"))).toBe(false);
  });

  it("prints the version and help", () => {
    expect(mlops(["--version"])).toEqual({ code: 0, stdout: `${SDK_VERSION}\n`, stderr: "" });
    const help = mlops(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("  3  registry error: corrupt registry or artifact");
  });
});

// Child processes on a loaded CI machine: generous time (a timeout is not an assertion).
describe("mlops gate (the built executable)", { timeout: 120_000 }, () => {
  const rules = [
    "--threshold",
    "rmse:maxRelativeRegression=0.02",
    "--threshold",
    "r2:minAbsoluteChange=0",
  ];
  let gateDir = "";
  let count = 0;

  /** A fresh gate registry and holdout.csv in their own folder; returns the registry path. */
  async function gateRegistry(): Promise<string> {
    count += 1;
    gateDir = join(root, `gate-${count}`);
    await populateGateRegistry(join(gateDir, "registry"));
    await writeFile(join(gateDir, "holdout.csv"), gateEvaluationCsv());
    return join(gateDir, "registry");
  }

  function gate(args: string[], env: Record<string, string> = {}): Result {
    const result = spawnSync(process.execPath, [binary, "gate", ...args], {
      cwd: gateDir,
      encoding: "utf8",
      env: { PATH: process.env.PATH ?? "", MLOPS_REGISTRY: "registry", ...env },
      timeout: 100_000,
    });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  async function aliasHistory(path: string) {
    return (await openRegistry(path)).aliasHistory("wine", { alias: "production" });
  }

  it("passes and promotes; the alias history keeps the verdict", async () => {
    const path = await gateRegistry();
    const { code, stdout, stderr } = gate(
      ["--model", "wine", "--data", "holdout.csv", ...rules, "--promote", "production"],
      { GITHUB_ACTOR: "octocat" },
    );
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).toContain("Verdict: PASS (all 2 checks passed)\n");
    expect(stdout).toContain("Promoted wine@production: 1 → 2 (by octocat, reason ");
    const history = mlops(["alias", "history", "wine", "--alias", "production", "--json"], {
      MLOPS_REGISTRY: path,
    });
    expect(JSON.parse(history.stdout).history.at(-1)).toMatchObject({
      fromVersion: 1,
      toVersion: 2,
      actor: "octocat",
      reason:
        "gate passed: rmse 0.3062 vs 0.3348 (-8.54 %, at most 2 % worse allowed); " +
        "r2 0.8969 vs 0.8768 (+2.3 %, at least as good required)",
    });
  });

  it("gates an ONNX model registered with --onnx, as candidate and as baseline", async () => {
    const path = await gateRegistry();
    const env = { MLOPS_REGISTRY: path };
    // wine/2 leaves as an ONNX graph and comes back as version 4, a model of kind onnx.
    const exported = mlops(["models", "export", "wine/2", "--onnx", join(gateDir, "v2.onnx")], env);
    expect(exported.code).toBe(0);
    const shown = mlops(["models", "show", "wine/2", "--json"], env);
    await writeFile(join(gateDir, "schema.json"), shown.stdout);
    const registered = mlops(
      [
        "models",
        "register",
        "wine",
        "--onnx",
        join(gateDir, "v2.onnx"),
        "--schema",
        join(gateDir, "schema.json"),
        "--json",
      ],
      env,
    );
    expect(registered.stderr).toBe("");
    expect(registered.code).toBe(0);
    expect(JSON.parse(registered.stdout)).toMatchObject({ uri: "models:/wine/4", kind: "onnx" });
    // The ONNX candidate scores what wine/2 scores (float32): the same verdict and figures.
    const passed = gate([
      "--model",
      "wine",
      "--candidate",
      "4",
      "--data",
      "holdout.csv",
      ...rules,
      "--promote",
      "production",
    ]);
    expect(passed.stderr).toBe("");
    expect(passed.code).toBe(0);
    expect(passed.stdout).toContain("Verdict: PASS (all 2 checks passed)\n");
    expect(passed.stdout).toContain("Promoted wine@production: 1 → 4");
    expect((await aliasHistory(path)).at(-1)?.reason).toContain(
      "gate passed: rmse 0.3062 vs 0.3348 (-8.54 %, at most 2 % worse allowed); " +
        "r2 0.8969 vs 0.8768 (+2.3 %, at least as good required)",
    );
    // Now the ONNX model is the baseline: the challenger (1 too high everywhere) fails against it.
    const failed = gate([
      "--model",
      "wine",
      "--candidate",
      "@challenger",
      "--data",
      "holdout.csv",
      ...rules,
    ]);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain("Verdict: FAIL");
    expect(failed.stdout).toContain("BASELINE wine v4");
    expect(failed.stdout).toContain(
      "rmse 0.9104 is 197 % worse than the baseline 0.3062; at most 2 % worse allowed.",
    );
  }, 120_000);

  it("exits 1 on a regression and does not move the alias", async () => {
    const path = await gateRegistry();
    const { code, stdout } = gate([
      "--model",
      "wine",
      "--candidate",
      "@challenger",
      "--data",
      "holdout.csv",
      ...rules,
      "--promote",
      "production",
    ]);
    expect(code).toBe(1);
    expect(stdout).toContain("Verdict: FAIL (2 of 2 checks failed)\n");
    expect(stdout).toContain("Not promoted: the gate failed, so wine@production was not moved.\n");
    const history = await aliasHistory(path);
    expect(history.map((entry) => entry.toVersion)).toEqual([1]);
  });

  it("passes a first model with a note", async () => {
    await gateRegistry();
    const { code, stdout } = gate([
      "--model",
      "fresh",
      "--data",
      "holdout.csv",
      ...rules,
      "--json",
    ]);
    expect(code).toBe(0);
    const { result, baseline, promoted } = JSON.parse(stdout);
    expect(baseline).toBeNull();
    expect(promoted).toBeNull();
    expect(result.notes).toContain(
      "No baseline: nothing to compare, so only threshold rules were checked (a first model).",
    );
  });

  it("exits 2 for a bad threshold, naming the token", async () => {
    await gateRegistry();
    const { code, stdout, stderr } = gate([
      "--model",
      "wine",
      "--threshold",
      "rmse:maxRelativeRegression=two",
    ]);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toBe(
      'mlops: Invalid threshold "rmse:maxRelativeRegression=two": "maxRelativeRegression=two": ' +
        'expected a number, got "two"\n',
    );
  });

  it("exits 2 for a missing model", async () => {
    await gateRegistry();
    const { code, stderr } = gate(["--model", "cheese", ...rules, "--json"]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^mlops: candidate models:\/cheese@staging: model "cheese" not found/);
  });

  it("reads the rules from --config YAML", async () => {
    const path = await gateRegistry();
    await writeFile(
      join(gateDir, "gate.yaml"),
      "thresholds:\n  rmse: { maxRelativeRegression: 0.02 }\n  r2: { minAbsoluteChange: 0 }\n",
    );
    const passed = gate([
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
    expect((await aliasHistory(path)).map((entry) => entry.toVersion)).toEqual([1, 2]);
    const failed = gate([
      "--model",
      "wine",
      "--candidate",
      "/3",
      "--data",
      "holdout.csv",
      "--config",
      "gate.yaml",
    ]);
    expect(failed.code).toBe(1);
  });
});
