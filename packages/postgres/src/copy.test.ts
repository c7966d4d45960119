// `mlops registry copy` between a folder and PostgreSQL, both directions, as a user runs it: the
// built CLI in its own process. Digests are verified on the way and a second run changes nothing.
import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type FolderStore, openFolderStore } from "@mlops/core";
import { dumpRegistry } from "@mlops/core/testing";
import { ensureBuilt } from "@mlops/test-support";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { openPostgresStore } from "./store.js";
import { freshSchemaUrl } from "./testing/index.js";

const packageDir = join(dirname(fileURLToPath(import.meta.url)), "..");
const coreDir = join(packageDir, "..", "core");
const bytes = (text: string) => new TextEncoder().encode(text);
let scratch = "";

beforeAll(async () => {
  ensureBuilt({ packageDir: coreDir, outputs: ["index.js", "cli.js"] }, { packageDir });
  scratch = await mkdtemp(join(tmpdir(), "mlops-pg-copy-"));
}, 240_000);

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

function mlops(args: string[]) {
  const result = spawnSync(process.execPath, [join(coreDir, "dist", "cli.js"), ...args], {
    cwd: scratch,
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "" },
    timeout: 120_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

async function populate(store: FolderStore): Promise<void> {
  const experiment = await store.createExperiment("tuning", { tags: { team: "ml" } });
  const parent = await store.createRun({
    experimentId: experiment.experimentId,
    runName: "search",
  });
  const child = await store.createRun({
    experimentId: experiment.experimentId,
    parentRunId: parent.runId,
    runName: "trial",
  });
  await store.logParams(child.runId, { max_depth: 4 });
  await store.logMetrics(child.runId, [
    { key: "rmse", value: 0.8, timestamp: 10, step: 0 },
    { key: "rmse", value: 0.6, timestamp: 20, step: 1 },
  ]);
  await store.logArtifact(child.runId, "notes.txt", bytes("notes"));
  await store.endRun(child.runId, "FINISHED", 1_700_000_000_000);
  // A large artifact crosses several 256 KiB chunks.
  const large = new Uint8Array(700_000).map((_, index) => (index * 7 + 3) & 0xff);
  await store.createModelVersion("wine", {
    artifact: large,
    runId: child.runId,
    metadata: { kind: "tree" },
  });
  await store.createModelVersion("wine", { artifact: bytes("second") });
  await store.setAlias("wine", "production", 1, { actor: "ana", reason: "first" });
  await store.setAlias("wine", "production", 2, { actor: "ci", reason: "gate passed" });
  // A distributed search part-way: one trial done, one running, one waiting.
  await store.studies.createStudy("wine-grid", {
    spec: { search: "GridSearch", grid: { maxDepth: [2, 4, 8] } },
    dataDigest: `sha256:${"cd".repeat(32)}`,
    worker: "host:1",
    run: { experimentId: experiment.experimentId, runName: "wine-grid" },
  });
  await store.studies.addTrials("wine-grid", 0, [
    { maxDepth: 2 },
    { maxDepth: 4 },
    { maxDepth: 8 },
  ]);
  const claim = await store.studies.claimTrial("wine-grid", { worker: "host:1", graceMs: 60_000 });
  await store.studies.completeTrial("wine-grid", claim!, { score: 0.61 });
  await store.studies.claimTrial("wine-grid", { worker: "host:2", graceMs: 60_000 });
}

describe("mlops registry copy", () => {
  it("copies folder → PostgreSQL → folder, verified, and again changes nothing", async () => {
    const folder = await openFolderStore(join(scratch, "source"));
    await populate(folder);
    const url = freshSchemaUrl(inject("postgresUrl"));
    const password = new URL(url).password;

    const first = mlops(["registry", "copy", folder.root, url, "--json"]);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    const summary = JSON.parse(first.stdout);
    expect(summary).toMatchObject({
      runs: { created: 3 },
      versions: { created: 2 },
      studies: { created: 1 },
      blobs: { copied: 3, present: 0 },
    });
    expect(summary.target).not.toContain(password);
    const team = await openPostgresStore(url);
    try {
      expect(await dumpRegistry(team)).toStrictEqual(await dumpRegistry(folder));
      expect((await team.studies.listTrials("wine-grid")).map((trial) => trial.state)).toEqual([
        "COMPLETE",
        "RUNNING",
        "WAITING",
      ]);
      const again = JSON.parse(mlops(["registry", "copy", folder.root, url, "--json"]).stdout);
      expect(again).toMatchObject({
        runs: { created: 0, updated: 0, unchanged: 3 },
        versions: { created: 0, updated: 0, unchanged: 2 },
        aliasHistories: { unchanged: 1 },
        studies: { created: 0, updated: 0, unchanged: 1 },
        blobs: { copied: 0, present: 3 },
      });

      // And back: PostgreSQL into a new folder.
      const back = join(scratch, "back");
      const text = mlops(["registry", "copy", url, back]);
      expect(text.code).toBe(0);
      expect(text.stdout).toMatch(/^Copied postgres:\/\/mlops:\*\*\*@.* → .*back\n/);
      expect(text.stdout).toContain("sha256 verified");
      expect(text.stdout).toMatch(/studies +1 +0 +0/);
      expect(text.stdout + text.stderr).not.toContain(password);
      const copy = await openFolderStore(back);
      expect(await dumpRegistry(copy)).toStrictEqual(await dumpRegistry(folder));
      expect(Buffer.from(await copy.readModelArtifact("wine", 1))).toEqual(
        Buffer.from(await folder.readModelArtifact("wine", 1)),
      );
    } finally {
      await team.close();
    }
  }, 240_000);

  it("stops at a blob that does not match its digest, leaving no version without bytes", async () => {
    const folder = await openFolderStore(join(scratch, "tampered"));
    await populate(folder);
    const version = await folder.getModelVersion("wine", 2);
    const hex = version.digest.slice("sha256:".length);
    await writeFile(join(folder.root, "blobs", "sha256", hex.slice(0, 2), hex), "tampered");
    const url = freshSchemaUrl(inject("postgresUrl"));
    const result = mlops(["registry", "copy", folder.root, url]);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/^mlops: model "wine" version 2: artifact file .* is corrupt/);
    const team = await openPostgresStore(url);
    try {
      expect((await team.listModelVersions("wine")).map((item) => item.version)).toEqual([1]);
      expect(await team.artifacts.has(version.digest)).toBe(false);
    } finally {
      await team.close();
    }
  }, 240_000);
});

describe("mlops models delete-version on PostgreSQL", () => {
  it("refuses a version an alias points at, deletes the other, and never reuses its number", async () => {
    const url = freshSchemaUrl(inject("postgresUrl"));
    const team = await openPostgresStore(url);
    try {
      await team.createModelVersion("wine", { artifact: bytes("one") });
      await team.createModelVersion("wine", { artifact: bytes("two") });
      await team.setAlias("wine", "production", 1);
      const refused = mlops(["models", "delete-version", "wine", "1", "--registry", url]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(
        /^mlops: version 1 of model "wine" is not deleted: @production points at it/,
      );
      const deleted = mlops(["models", "delete-version", "wine", "2", "--registry", url]);
      expect(deleted.stderr).toBe("");
      expect(deleted.code).toBe(0);
      expect(deleted.stdout).toMatch(
        /^Deleted models:\/wine\/2 \(sha256:.*\); version 2 will not be reused\.\n$/,
      );
      expect((await team.listModelVersions("wine")).map((version) => version.version)).toEqual([1]);
      expect((await team.createModelVersion("wine", { artifact: bytes("three") })).version).toBe(3);
    } finally {
      await team.close();
    }
  }, 240_000);
});
