import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SDK_VERSION } from "../artifact/version.js";
import { stripEscapes } from "../format/text.js";
import { openRegistry } from "../registry/registry.js";
import { DATA_DIGEST, GIT_COMMIT, populateRegistry, type RegistryFixture } from "./fixture.js";
import { type CliIo, main } from "./main.js";

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(
  argv: string[],
  options: { env?: Record<string, string | undefined>; isTTY?: boolean; cwd?: string } = {},
): Promise<Result> {
  let stdout = "";
  let stderr = "";
  const io: CliIo = {
    stdout: { write: (text: string) => (stdout += text), isTTY: options.isTTY },
    stderr: { write: (text: string) => (stderr += text) },
    env: options.env ?? {},
    cwd: options.cwd ?? tmpdir(),
  };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

let root = "";
let fixture: RegistryFixture;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "mlops-cli-main-"));
  fixture = await populateRegistry(join(root, "registry"));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function registryArgs(): string[] {
  return ["--registry", fixture.path];
}

describe("models list", () => {
  it("aligns one row per model: latest version, aliases, version count", async () => {
    const { code, stdout, stderr } = await cli(["models", "list", ...registryArgs()]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const time = /\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ/g;
    expect(stdout.replace(time, "<time>")).toBe(
      [
        "NAME     LATEST  ALIASES                  VERSIONS  UPDATED",
        "housing       1  -                               1  <time>",
        "wine          3  production→2, staging→3         3  <time>",
        "",
      ].join("\n"),
    );
  });

  it("reads the registry from MLOPS_REGISTRY, relative to the working directory", async () => {
    const { code, stdout } = await cli(["models", "list", "--json"], {
      env: { MLOPS_REGISTRY: "registry" },
      cwd: root,
    });
    expect(code).toBe(0);
    const document = JSON.parse(stdout);
    expect(document.registry).toBe(fixture.path);
    expect(document.models.map((model: { name: string }) => model.name)).toEqual([
      "housing",
      "wine",
    ]);
    const wine = document.models[1];
    expect(wine).toMatchObject({
      latestVersion: 3,
      versionCount: 3,
      aliases: { production: 2, staging: 3 },
    });
    // The last alias move (staging → 3) happened after version 3 was registered.
    const history = await (await openRegistry(fixture.path)).aliasHistory("wine");
    expect(wine.updatedAt).toBe(history.at(-1)!.time);
  });
});

describe("models show", () => {
  it("prints the version, the manifest and a schema table with the target marked", async () => {
    const { code, stdout } = await cli(["models", "show", "wine@production", ...registryArgs()]);
    expect(code).toBe(0);
    const version = await (await openRegistry(fixture.path)).resolve("models:/wine/2");
    expect(stdout).toContain("Model wine, version 2 (models:/wine/2)\n");
    expect(stdout).toContain(`  digest       ${version.digest}\n`);
    expect(stdout).toContain(`  size         `);
    expect(stdout).toContain(`(${version.sizeBytes} bytes)\n`);
    expect(stdout).toContain(`  run id       ${fixture.wineRuns[1]}\n`);
    expect(stdout).toContain("  aliases      production\n");
    expect(stdout).toContain("  tags         team=ml\n");
    expect(stdout).toContain("  description  scaled features\n");
    expect(stdout).toContain("  kind    linear\n");
    expect(stdout).toContain("Metrics\n  mae   0.5\n  rmse  0.65\n");
    expect(stdout).toContain("Params\n  alpha          0.2\n  fit_intercept  true\n");
    expect(stdout).toContain("Schema (4 fields, target quality)\n");
    expect(stdout).toContain(
      [
        "  FIELD      KIND      NULLABLE  RANGE / VALUES  ROLE     NOTES",
        "  alcohol    number    no        ≥ 0             feature",
        "  sulphates  number    yes       0 … 2           feature",
        "  color      category  no        red, white      feature",
        "  quality    integer   no        0 … 10          target",
      ].join("\n"),
    );
    expect(stdout).toContain(
      "Preprocessing\n" +
        "  1. standard_scaler  scales alcohol, sulphates\n" +
        "  2. one_hot          color → color=red, color=white (unknown: ignore)\n",
    );
    expect(stdout).toContain(`  data digest  ${DATA_DIGEST}\n`);
    expect(stdout).toContain("  row count    1599\n");
    expect(stdout).toContain(`  sdk version  ${SDK_VERSION}\n`);
    expect(stdout).toContain(`  git commit   ${GIT_COMMIT}\n`);
  });

  it("defaults to the latest version and says when there is no preprocessing", async () => {
    const latest = await cli(["models", "show", "housing", ...registryArgs()]);
    expect(latest.code).toBe(0);
    expect(latest.stdout).toContain("Model housing, version 1 (models:/housing/1)");
    expect(latest.stdout).toContain("Preprocessing\n  (none)\n");
    expect(latest.stdout).toContain("  description  -\n");
  });

  it("accepts NAME/VERSION and full models:/ URIs", async () => {
    for (const reference of ["wine/1", "models:/wine/1"]) {
      const { code, stdout } = await cli([
        "models",
        "show",
        reference,
        "--json",
        ...registryArgs(),
      ]);
      expect(code).toBe(0);
      const document = JSON.parse(stdout);
      expect(document.uri).toBe("models:/wine/1");
      expect(document.version.version).toBe(1);
      expect(document.manifest.model.inputs).toEqual(["alcohol", "sulphates"]);
    }
  });
});

describe("runs list", () => {
  it("filters, orders and shows the metrics, then the params that differ", async () => {
    const { code, stdout } = await cli([
      "runs",
      "list",
      "--experiment",
      "wine",
      "--filter",
      "metrics.rmse < 0.7",
      "--order-by",
      "metrics.rmse",
      ...registryArgs(),
    ]);
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split("\n");
    expect(lines[0].split(/ {2,}/)).toEqual([
      "RUN ID",
      "NAME",
      "STATUS",
      "START",
      "DURATION",
      "mae",
      "rmse",
      "alpha",
      "max_depth",
    ]);
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(new RegExp(`^${fixture.wineRuns[2]}\\s+wine-3\\s+FINISHED\\s`));
    expect(lines[1]).toMatch(/\s0\.46\s+0\.61\s+0\.3\s+6$/);
    expect(lines[2]).toMatch(new RegExp(`^${fixture.wineRuns[1]}\\s+wine-2\\s`));
  });

  it("names the experiment of each run when the runs shown come from several", async () => {
    const { code, stdout } = await cli(["runs", "list", ...registryArgs()]);
    expect(code).toBe(0);
    expect(stdout.split("\n")[0]).toContain("EXPERIMENT");
    const running = stdout.split("\n").find((line) => line.startsWith(fixture.defaultRun));
    expect(running).toMatch(/exploration\s+Default\s+RUNNING\s+\S+ \S+\s+-\s/);
    const one = await cli(["runs", "list", "--experiment", "wine", ...registryArgs()]);
    expect(one.stdout.split("\n")[0]).not.toContain("EXPERIMENT");
  });

  it("rejects a --max that is not a positive integer", async () => {
    const { code, stderr } = await cli(["runs", "list", "--max", "ten", ...registryArgs()]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^mlops: --max "ten" is invalid: expected a positive integer/);
  });
});

describe("alias set and alias history", () => {
  let path = "";

  beforeAll(async () => {
    path = (await populateRegistry(join(root, "mutable"))).path;
  });

  it("prints the move and appends it to the history", async () => {
    const set = await cli(
      ["alias", "set", "wine", "production", "3", "--reason", "rollforward", "--registry", path],
      { env: { GITHUB_ACTOR: "octocat" } },
    );
    expect(set.stderr).toBe("");
    expect(set.code).toBe(0);
    expect(set.stdout).toBe('wine@production: 2 → 3 (by octocat, reason "rollforward")\n');

    const history = await cli([
      "alias",
      "history",
      "wine",
      "--alias",
      "production",
      "--registry",
      path,
    ]);
    expect(history.code).toBe(0);
    const lines = history.stdout.trimEnd().split("\n");
    expect(lines[0].split(/ {2,}/)).toEqual(["TIME", "ALIAS", "FROM", "TO", "ACTOR", "REASON"]);
    expect(lines.slice(1).map((line) => line.split(/ {2,}/).slice(1))).toEqual([
      ["production", "-", "1", "ana", "first model"],
      ["production", "1", "2", "bob", "gate passed"],
      ["production", "2", "3", "octocat", "rollforward"],
    ]);
  });

  it("takes --actor over the environment and answers JSON", async () => {
    const { code, stdout } = await cli([
      "alias",
      "set",
      "wine",
      "canary",
      "1",
      "--reason=try v1",
      "--actor",
      "ci-bot",
      "--json",
      "--registry",
      path,
    ]);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({
      name: "wine",
      alias: "canary",
      fromVersion: null,
      toVersion: 1,
      actor: "ci-bot",
      reason: "try v1",
    });
  });

  it("alias delete removes an alias, keeps the version and records who and why", async () => {
    await cli(["alias", "set", "wine", "shadow", "2", "--reason", "try", "--registry", path]);
    const removed = await cli(
      ["alias", "delete", "wine", "shadow", "--reason", "shadow ended", "--registry", path],
      { env: { GITHUB_ACTOR: "octocat" } },
    );
    expect(removed.stderr).toBe("");
    expect(removed.code).toBe(0);
    expect(removed.stdout).toBe('wine@shadow: 2 → (deleted) (by octocat, reason "shadow ended")\n');
    const registry = await openRegistry(path);
    expect(await registry.store.listAliases("wine")).not.toHaveProperty("shadow");
    expect((await registry.store.getModelVersion("wine", 2)).version).toBe(2);
    expect((await registry.aliasHistory("wine", { alias: "shadow" })).at(-1)).toMatchObject({
      fromVersion: 2,
      toVersion: null,
      actor: "octocat",
      reason: "shadow ended",
    });

    const again = await cli([
      "alias",
      "delete",
      "wine",
      "shadow",
      "--reason",
      "x",
      "--registry",
      path,
    ]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/^mlops: model "wine" has no alias "shadow"; aliases: /);
    const noReason = await cli(["alias", "delete", "wine", "canary", "--registry", path]);
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toContain("mlops: missing option --reason TEXT\n");
  });

  it("models delete-version refuses a version an alias points at, and never reuses a number", async () => {
    const registry = await openRegistry(path);
    const before = (await registry.store.listModelVersions("wine")).map((v) => v.version);
    const last = before.at(-1)!;
    const aliases = await registry.store.listAliases("wine");
    const held = aliases.production;
    const refused = await cli([
      "models",
      "delete-version",
      "wine",
      String(held),
      "--registry",
      path,
    ]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      new RegExp(`^mlops: version ${held} of model "wine" is not deleted: .*@production`),
    );
    expect((await registry.store.listModelVersions("wine")).length).toBe(before.length);

    for (const [alias, version] of Object.entries(aliases)) {
      if (version === last) await registry.store.deleteAlias("wine", alias);
    }
    const deleted = await cli([
      "models",
      "delete-version",
      "wine",
      String(last),
      "--registry",
      path,
    ]);
    expect(deleted.stderr).toBe("");
    expect(deleted.code).toBe(0);
    expect(deleted.stdout).toMatch(
      new RegExp(
        `^Deleted models:/wine/${last} \\(sha256:.*\\); version ${last} will not be reused\\.\n$`,
      ),
    );
    expect((await registry.store.listModelVersions("wine")).map((v) => v.version)).toEqual(
      before.slice(0, -1),
    );
    const missing = await cli(["models", "show", `wine/${last}`, "--registry", path]);
    expect(missing.code).toBe(2);
    // The number stays taken: the next registration gets the one after it.
    const bytes = await registry.store.readModelArtifact("wine", before[0]);
    const next = await registry.store.createModelVersion("wine", { artifact: bytes });
    expect(next.version).toBe(last + 1);
  });

  it("requires --reason and a numeric version", async () => {
    const noReason = await cli(["alias", "set", "wine", "production", "1", "--registry", path]);
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toContain("mlops: missing option --reason TEXT\n");
    const badVersion = await cli([
      "alias",
      "set",
      "wine",
      "production",
      "v1",
      "--reason",
      "x",
      "--registry",
      path,
    ]);
    expect(badVersion.code).toBe(2);
    expect(badVersion.stderr).toContain('version "v1" is invalid');
    const unknownVersion = await cli([
      "alias",
      "set",
      "wine",
      "production",
      "9",
      "--reason",
      "x",
      "--registry",
      path,
    ]);
    expect(unknownVersion.code).toBe(2);
    expect(unknownVersion.stderr).toMatch(/^mlops: .*version 9/);
  });
});

describe("colour", () => {
  it("bolds headers on a terminal, not when NO_COLOR is set or output is piped", async () => {
    const tty = await cli(["models", "list", ...registryArgs()], { isTTY: true });
    expect(tty.stdout).toContain("\u001b[1mNAME");
    const noColor = await cli(["models", "list", ...registryArgs()], {
      isTTY: true,
      env: { NO_COLOR: "1" },
    });
    expect(noColor.stdout).not.toContain("\u001b[");
    const piped = await cli(["models", "list", ...registryArgs()]);
    expect(piped.stdout).not.toContain("\u001b[");
    // Escapes take no room: the uncoloured and coloured tables align the same.
    expect(stripEscapes(tty.stdout)).toBe(piped.stdout);
  });
});

describe("help, version and errors", () => {
  it("prints help on stdout with exit 0, for the tool, a group and a command", async () => {
    const overall = await cli(["--help"]);
    expect(overall.code).toBe(0);
    expect(overall.stdout).toContain("Exit codes:\n  0  success\n");
    expect(overall.stdout).toContain("MLOPS_REGISTRY");
    const group = await cli(["alias", "--help"]);
    expect(group.stdout).toContain("Usage: mlops alias set|delete|history ...");
    const command = await cli(["help", "runs", "list"]);
    expect(command.code).toBe(0);
    expect(command.stdout).toContain(
      "Usage: mlops runs list [--experiment NAME] [--filter EXPR] [--parent RUN_ID] [--children] " +
        "[--columns KEY ...] [--wide] [--order-by KEY ...] [--max N]",
    );
  });

  it("prints the SDK version", async () => {
    expect(await cli(["--version"])).toEqual({ code: 0, stdout: `${SDK_VERSION}\n`, stderr: "" });
    expect(JSON.parse((await cli(["--version", "--json"])).stdout)).toEqual({
      version: SDK_VERSION,
    });
  });

  it("without a command, prints help on stderr and exits 2", async () => {
    const { code, stdout, stderr } = await cli([]);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toContain("Usage: mlops COMMAND");
    expect(stderr).toContain("mlops: missing command\n");
  });

  it("says which option is wrong", async () => {
    const unknown = await cli(["models", "list", "--experiment", "wine"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe(
      'mlops: unknown option "--experiment"\nRun "mlops models list --help" for usage.\n',
    );
    // One wording for the three tools, with the option meant when one is close.
    const typo = await cli(["runs", "list", "--experment", "wine"]);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toBe(
      'mlops: unknown option "--experment" (did you mean "--experiment"?)\n' +
        'Run "mlops runs list --help" for usage.\n',
    );
    const command = await cli(["runs", "lst"]);
    expect(command.stderr).toMatch(
      /^mlops: unknown command "runs lst" \(did you mean "runs list"\?\)/,
    );
    const noValue = await cli(["runs", "list", "--filter", "--json"]);
    expect(noValue.code).toBe(2);
    expect(noValue.stderr).toMatch(/^mlops: option --filter needs a value/);
    const extra = await cli(["models", "show", "wine", "extra"]);
    expect(extra.stderr).toMatch(/^mlops: unexpected argument "extra"/);
  });

  it("with --json, also writes the error as JSON on stdout", async () => {
    const { code, stdout, stderr } = await cli([
      "models",
      "show",
      "nope",
      "--json",
      ...registryArgs(),
    ]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^mlops: .*nope/);
    const { error } = JSON.parse(stdout);
    expect(error.code).toBe("registry_not_found");
    expect(error.message).toContain("nope");
  });

  it("never creates a missing registry", async () => {
    const missing = join(root, "missing");
    const { code, stderr } = await cli(["runs", "list", "--registry", missing]);
    expect(code).toBe(2);
    expect(stderr).toBe(`mlops: no registry at ${missing} (set --registry or MLOPS_REGISTRY)\n`);
    expect(existsSync(missing)).toBe(false);
    const set = await cli(["alias", "set", "w", "a", "1", "--reason", "r", "--registry", missing]);
    expect(set.code).toBe(2);
    expect(existsSync(missing)).toBe(false);
  });

  it("exits 3 when the registry or an artifact is corrupt", async () => {
    const broken = (await populateRegistry(join(root, "broken"))).path;
    const version = await (await openRegistry(broken)).resolve("models:/housing/1");
    const hex = version.digest.slice("sha256:".length);
    const blobs = join(broken, "blobs", "sha256", hex.slice(0, 2));
    expect(await readdir(blobs)).toContain(hex);
    await writeFile(join(blobs, hex), "tampered");
    const show = await cli(["models", "show", "housing", "--json", "--registry", broken]);
    expect(show.code).toBe(3);
    expect(JSON.parse(show.stdout).error.code).toBe("artifact_corrupt");

    await writeFile(join(broken, "registry.json"), '{"format": "mlops.registry/v9"}');
    const list = await cli(["models", "list", "--registry", broken]);
    expect(list.code).toBe(3);
    expect(list.stderr).toMatch(/^mlops: .*registry\.json: format "mlops\.registry\/v9"/);
  });
});
