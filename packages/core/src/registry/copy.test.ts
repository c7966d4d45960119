import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dumpRegistry } from "../testing/dump.js";
import { expectMlopsError } from "../testing/registry.js";
import { copyRegistry } from "./copy.js";
import { type FolderStore, openFolderStore } from "./folder.js";

let scratch = "";

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "mlops-copy-"));
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

const bytes = (text: string) => new TextEncoder().encode(text);

/** A registry with a bit of everything: nested runs, metrics, artifacts, versions, moves. */
async function populate(store: FolderStore): Promise<void> {
  const experiment = await store.createExperiment("wine-tuning", { tags: { team: "ml" } });
  const parent = await store.createRun({
    experimentId: experiment.experimentId,
    runName: "search",
    startTime: 1_700_000_000_000,
  });
  const child = await store.createRun({
    experimentId: experiment.experimentId,
    runName: "trial-1",
    parentRunId: parent.runId,
    tags: { trial: "1" },
  });
  await store.logParams(child.runId, { max_depth: 5 });
  await store.logMetrics(child.runId, [
    { key: "rmse", value: 0.9, timestamp: 1000, step: 0 },
    { key: "rmse", value: 0.7, timestamp: 1100, step: 1 },
    { key: "mae", value: 0.5, timestamp: 1100, step: 0 },
  ]);
  await store.logArtifact(child.runId, "importances.json", bytes('{"a": 1}'));
  await store.endRun(child.runId, "FINISHED", 1_700_000_000_500);
  await store.createRun({ runName: "default-experiment-run" });
  await store.createRegisteredModel("wine", { description: "red wine", tags: { owner: "ana" } });
  await store.createModelVersion("wine", {
    artifact: bytes("model one"),
    runId: child.runId,
    metadata: { kind: "tree", metrics: { rmse: 0.7 } },
  });
  await store.createModelVersion("wine", { artifact: bytes("model two"), tags: { note: "x" } });
  await store.setAlias("wine", "production", 1, { actor: "ana", reason: "first" });
  await store.setAlias("wine", "staging", 2, { actor: "ci" });
  await store.setAlias("wine", "production", 2, { actor: "ana", reason: "gate passed" });
  await store.createModelVersion("housing", { artifact: bytes("model one") });
}

describe("copyRegistry between folders", () => {
  it("copies everything as it was, and a second run changes nothing", async () => {
    const source = await openFolderStore(join(scratch, "a"));
    const target = await openFolderStore(join(scratch, "b"));
    await populate(source);
    const first = await copyRegistry(source, target);
    expect(first).toEqual({
      experiments: { created: 1, updated: 0, unchanged: 0 },
      runs: { created: 3, updated: 0, unchanged: 0 },
      models: { created: 2, updated: 0, unchanged: 0 },
      versions: { created: 3, updated: 0, unchanged: 0 },
      aliasHistories: { created: 0, updated: 1, unchanged: 1 },
      studies: { created: 0, updated: 0, unchanged: 0 },
      // "model one" is shared by wine/1 and housing/1: one blob.
      blobs: { copied: 3, present: 0, bytesCopied: 8 + 9 + 9 },
    });
    expect(await dumpRegistry(target)).toStrictEqual(await dumpRegistry(source));
    const again = await copyRegistry(source, target);
    expect(again.runs).toEqual({ created: 0, updated: 0, unchanged: 3 });
    expect(again.versions).toEqual({ created: 0, updated: 0, unchanged: 3 });
    expect(again.aliasHistories).toEqual({ created: 0, updated: 0, unchanged: 2 });
    expect(again.blobs).toEqual({ copied: 0, present: 3, bytesCopied: 0 });

    // What changed since is copied; the rest stays.
    const [run] = await source.searchRuns({
      filter: "attributes.run_name = 'default-experiment-run'",
    });
    await source.endRun(run.runId, "KILLED", 1_700_000_009_000);
    await source.createModelVersion("wine", { artifact: bytes("model three") });
    await source.setAlias("wine", "production", 3, { actor: "bob" });
    const third = await copyRegistry(source, target);
    expect(third.runs).toEqual({ created: 0, updated: 1, unchanged: 2 });
    expect(third.versions).toEqual({ created: 1, updated: 0, unchanged: 3 });
    expect(await dumpRegistry(target)).toStrictEqual(await dumpRegistry(source));
    // The copy goes on numbering after the copied versions.
    expect((await target.createModelVersion("wine", { artifact: bytes("four") })).version).toBe(4);
  });

  it("verifies every blob: a corrupt one stops the copy before its version", async () => {
    const source = await openFolderStore(join(scratch, "c"));
    const target = await openFolderStore(join(scratch, "d"));
    await populate(source);
    const version = await source.getModelVersion("wine", 2);
    const hex = version.digest.slice("sha256:".length);
    await writeFile(join(source.root, "blobs", "sha256", hex.slice(0, 2), hex), "tampered");
    await expectMlopsError(
      copyRegistry(source, target),
      "artifact_corrupt",
      /model "wine" version 2: artifact file .* is corrupt/,
    );
    expect((await target.listModelVersions("wine")).map((item) => item.version)).toEqual([1]);
    const blobs = await readdir(join(target.root, "blobs", "sha256", hex.slice(0, 2))).catch(
      () => [],
    );
    expect(blobs).not.toContain(hex);
  });

  it("refuses a target whose versions diverged, and keeps its versions", async () => {
    const source = await openFolderStore(join(scratch, "e"));
    const target = await openFolderStore(join(scratch, "f"));
    await populate(source);
    await target.createModelVersion("wine", { artifact: bytes("something else") });
    const before = await target.listModelVersions("wine");
    await expectMlopsError(
      copyRegistry(source, target),
      "registry_conflict",
      /model "wine" version 1 already exists here with other contents .*versions are immutable/,
    );
    expect(await target.listModelVersions("wine")).toStrictEqual(before);
  });
});
