import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { StudyStore, TrialClaim } from "../registry/studies.js";
import type { RegistryStore } from "../registry/types.js";
import { expectMlopsError, INVALID_REGISTRY_NAMES } from "./registry.js";

/** Opens one more store on the registry `store` is open on (as another process would). */
export type ReopenRegistryStore = (store: RegistryStore) => Promise<RegistryStore>;

const DIGEST = `sha256:${"ab".repeat(32)}`;

function studyOptions(worker = "w0") {
  return {
    spec: { search: "GridSearch", cv: 3, grid: { maxDepth: [2, 4] } },
    dataDigest: DIGEST,
    worker,
    run: { experimentId: "0", runName: "grid", params: { cv: 3 } },
  };
}

const payloads = (count: number, offset = 0) =>
  Array.from({ length: count }, (_, index) => ({ params: { maxDepth: index + offset } }));

/** Claims until a claim comes (a stale trial becomes claimable once its grace has passed). */
async function claimWhenStale(
  studies: StudyStore,
  name: string,
  worker: string,
  maxAttempts?: number,
): Promise<TrialClaim | undefined> {
  for (;;) {
    const before = await studies.listTrials(name);
    const claim = await studies.claimTrial(name, { worker, graceMs: 1, maxAttempts });
    if (claim !== undefined) return claim;
    // Nothing claimable and nothing running: every trial is settled.
    if (!before.some((trial) => trial.state === "RUNNING" || trial.state === "WAITING")) {
      return undefined;
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * The behaviour every `StudyStore` (the queue of a distributed search) must have: a study made
 * once, batches added in order and checked against each other, trials claimed without
 * duplicates by concurrent workers, heartbeats and completions tied to their claim, a dead
 * worker's trial taken over and finally given up, and the study finished exactly once.
 *
 * @example
 * import { describeStudyStoreConformance } from "@mlops/core/testing";
 * describeStudyStoreConformance("folder", async () => openFolderStore(await newRoot()),
 *   (store) => openFolderStore(store.location));
 */
export function describeStudyStoreConformance(
  name: string,
  createStore: () => Promise<RegistryStore>,
  reopen: ReopenRegistryStore,
): void {
  describe(`StudyStore conformance: ${name}`, () => {
    let opened: RegistryStore[] = [];
    let store: RegistryStore;
    let studies: StudyStore;

    beforeEach(async () => {
      store = await createStore();
      opened = [store];
      expect(store.studies, "the registry has a study store").toBeDefined();
      studies = store.studies!;
    });

    afterEach(async () => {
      await Promise.all(opened.map((each) => each.close()));
      opened = [];
    });

    async function another(): Promise<StudyStore> {
      const next = await reopen(store);
      opened.push(next);
      return next.studies!;
    }

    it("creates a study once, with its parent run, and answers the existing one after", async () => {
      const { study, created } = await studies.createStudy("grid", studyOptions());
      expect(created).toBe(true);
      expect(study).toMatchObject({
        name: "grid",
        state: "RUNNING",
        dataDigest: DIGEST,
        createdBy: "w0",
        spec: studyOptions().spec,
        experimentId: "0",
      });
      const run = await store.getRun(study.runId);
      expect(run.tags["mlops.study"]).toBe("grid");
      expect(run.params.cv).toBe("3");
      const again = await studies.createStudy("grid", { ...studyOptions("w1"), spec: { x: 1 } });
      expect(again).toStrictEqual({ study, created: false });
      expect(await studies.getStudy("grid")).toStrictEqual(study);
      expect(await studies.getStudy("other")).toBeUndefined();
      expect((await studies.listStudies()).map((each) => each.name)).toStrictEqual(["grid"]);
      expect(JSON.parse(JSON.stringify(study))).toStrictEqual(study);
      // Every backend checks what it is given alike, before anything is stored.
      await expectMlopsError(
        studies.createStudy("new", { ...studyOptions(), dataDigest: "" }),
        "argument_invalid",
        /study "new": dataDigest: expected a string/,
      );
      await expectMlopsError(studies.createStudy("../x", studyOptions()), "registry_name_invalid");
      expect(await studies.getStudy("new")).toBeUndefined();
    });

    it("creates one study when many workers create it at once", async () => {
      const workers = [studies, await another(), await another()];
      const outcomes = await Promise.all(
        workers.map((each, index) => each.createStudy("race", studyOptions(`w${index}`))),
      );
      expect(outcomes.filter((outcome) => outcome.created)).toHaveLength(1);
      expect(new Set(outcomes.map((outcome) => outcome.study.studyId)).size).toBe(1);
    });

    it("adds batches in order; a batch proposed again must be the same", async () => {
      await studies.createStudy("grid", studyOptions());
      const first = await studies.addTrials("grid", 0, payloads(3));
      expect(first.map((trial) => [trial.number, trial.batch, trial.index, trial.state])).toEqual([
        [0, 0, 0, "WAITING"],
        [1, 0, 1, "WAITING"],
        [2, 0, 2, "WAITING"],
      ]);
      expect(await studies.addTrials("grid", 0, payloads(3))).toStrictEqual(first);
      await expectMlopsError(
        studies.addTrials("grid", 0, payloads(3, 1)),
        "registry_conflict",
        /batch 0 trial 0 is .* in the study but .* here: the workers do not run the same search/,
      );
      await expectMlopsError(
        studies.addTrials("grid", 0, payloads(2)),
        "registry_conflict",
        /batch 0 holds 3 trials, this worker proposes 2/,
      );
      await expectMlopsError(
        studies.addTrials("grid", 2, payloads(1)),
        "argument_invalid",
        /cannot add batch 2 before batch 1/,
      );
      const second = await studies.addTrials("grid", 1, payloads(2, 10));
      expect(second.map((trial) => [trial.number, trial.batch, trial.index])).toEqual([
        [3, 1, 0],
        [4, 1, 1],
      ]);
      expect((await studies.listTrials("grid")).map((trial) => trial.number)).toEqual([
        0, 1, 2, 3, 4,
      ]);
      expect(await studies.listTrials("grid", { batch: 1 })).toStrictEqual(second);
    });

    it("refuses what is not plain JSON, bad names and unknown studies", async () => {
      await studies.createStudy("grid", studyOptions());
      await expectMlopsError(
        studies.addTrials("grid", 0, [{ params: { alpha: Number.NaN } }]),
        "argument_invalid",
        /batch 0 trial 0: expected a JSON object/,
      );
      await expectMlopsError(studies.addTrials("grid", 0, []), "argument_invalid", /non-empty/);
      await expectMlopsError(
        studies.createStudy("x", { ...studyOptions(), spec: { when: new Date(0) } as never }),
        "argument_invalid",
        /spec: expected a JSON object/,
      );
      await expectMlopsError(
        studies.claimTrial("grid", { worker: "", graceMs: 1000 }),
        "argument_invalid",
        /worker/,
      );
      await expectMlopsError(
        studies.claimTrial("grid", { worker: "w", graceMs: 0 }),
        "argument_invalid",
        /graceMs/,
      );
      await expectMlopsError(
        studies.claimTrial("nope", { worker: "w", graceMs: 1000 }),
        "registry_not_found",
        /study "nope" not found in .*; studies: grid/,
      );
      await expectMlopsError(studies.listTrials("nope"), "registry_not_found");
      for (const bad of INVALID_REGISTRY_NAMES) {
        await expectMlopsError(studies.createStudy(bad, studyOptions()), "registry_name_invalid");
      }
    });

    it("gives every trial to exactly one of many concurrent claimers, in order", async () => {
      await studies.createStudy("grid", studyOptions());
      await studies.addTrials("grid", 0, payloads(12));
      const workers = [studies, await another(), await another(), await another()];
      const claimed: TrialClaim[] = [];
      await Promise.all(
        workers.map(async (each, index) => {
          for (;;) {
            const claim = await each.claimTrial("grid", { worker: `w${index}`, graceMs: 60_000 });
            if (claim === undefined) return;
            claimed.push(claim);
            expect(await each.completeTrial("grid", claim, { score: claim.number / 10 })).toBe(
              true,
            );
          }
        }),
      );
      expect(claimed.map((claim) => claim.number).sort((a, b) => a - b)).toEqual(
        Array.from({ length: 12 }, (_, index) => index),
      );
      const trials = await studies.listTrials("grid");
      expect(trials.every((trial) => trial.state === "COMPLETE" && trial.attempt === 1)).toBe(true);
      expect(trials.map((trial) => trial.result)).toEqual(
        trials.map((trial) => ({ score: trial.number / 10 })),
      );
    });

    it("claims within a batch when told, and nothing once every trial is taken", async () => {
      await studies.createStudy("grid", studyOptions());
      await studies.addTrials("grid", 0, payloads(1));
      await studies.addTrials("grid", 1, payloads(1, 5));
      const claim = await studies.claimTrial("grid", { worker: "a", graceMs: 60_000, batch: 1 });
      expect(claim).toMatchObject({ number: 1, batch: 1, index: 0, attempt: 1, worker: "a" });
      expect(claim?.payload).toStrictEqual({ params: { maxDepth: 5 } });
      expect(
        await studies.claimTrial("grid", { worker: "a", graceMs: 60_000, batch: 1 }),
      ).toBeUndefined();
      expect(await studies.claimTrial("grid", { worker: "b", graceMs: 60_000 })).toMatchObject({
        number: 0,
      });
      expect(await studies.claimTrial("grid", { worker: "c", graceMs: 60_000 })).toBeUndefined();
    });

    it("takes over a trial whose worker stopped beating; the old claim is void", async () => {
      await studies.createStudy("grid", studyOptions());
      await studies.addTrials("grid", 0, payloads(1));
      const dead = (await studies.claimTrial("grid", { worker: "dead", graceMs: 60_000 }))!;
      expect(await studies.heartbeat("grid", dead)).toBe(true);
      // Within its grace the trial stays with its worker.
      expect(await studies.claimTrial("grid", { worker: "b", graceMs: 60_000 })).toBeUndefined();
      const other = await another();
      const taken = (await claimWhenStale(other, "grid", "b"))!;
      expect(taken).toMatchObject({ number: 0, attempt: 2, worker: "b", replaces: "dead" });
      expect(await studies.heartbeat("grid", dead)).toBe(false);
      expect(await studies.completeTrial("grid", dead, { score: 1 })).toBe(false);
      expect(await other.completeTrial("grid", taken, { score: 2 })).toBe(true);
      expect(await other.completeTrial("grid", taken, { score: 3 })).toBe(false);
      const [trial] = await studies.listTrials("grid");
      expect(trial).toMatchObject({ state: "COMPLETE", attempt: 2, worker: "b" });
      expect(trial.result).toStrictEqual({ score: 2 });
    });

    it("gives up a trial as FAILED after maxAttempts dead workers", async () => {
      await studies.createStudy("grid", studyOptions());
      await studies.addTrials("grid", 0, payloads(1));
      expect(await claimWhenStale(studies, "grid", "a", 2)).toMatchObject({ attempt: 1 });
      expect(await claimWhenStale(studies, "grid", "b", 2)).toMatchObject({ attempt: 2 });
      expect(await claimWhenStale(studies, "grid", "c", 2)).toBeUndefined();
      const [trial] = await studies.listTrials("grid");
      expect(trial.state).toBe("FAILED");
      expect(trial.result).toMatchObject({ abandoned: true });
      expect(String(trial.result?.message)).toMatch(/stopped 2 times .*last: b/);
    });

    it("finishes the study exactly once among concurrent finishers", async () => {
      const { study } = await studies.createStudy("grid", studyOptions());
      const workers = [studies, await another(), await another()];
      let runs = 0;
      const outcomes = await Promise.all(
        workers.map((each, index) =>
          each.finishStudy("grid", `w${index}`, async (current) => {
            runs += 1;
            expect(current.studyId).toBe(study.studyId);
            return { version: 1, by: `w${index}` };
          }),
        ),
      );
      expect(runs).toBe(1);
      const winner = outcomes.find((outcome) => outcome.finished)!;
      expect(outcomes.filter((outcome) => outcome.finished)).toHaveLength(1);
      for (const outcome of outcomes) {
        expect(outcome.study).toMatchObject({
          state: "COMPLETE",
          result: winner.study.result,
          finishedBy: winner.study.finishedBy,
        });
      }
      expect(await studies.getStudy("grid")).toStrictEqual(winner.study);
    });

    it("lets the next finisher run when the first one's work fails", async () => {
      await studies.createStudy("grid", studyOptions());
      await expect(
        studies.finishStudy("grid", "a", async () => {
          throw new Error("registration failed");
        }),
      ).rejects.toThrow("registration failed");
      expect((await studies.getStudy("grid"))?.state).toBe("RUNNING");
      const outcome = await studies.finishStudy("grid", "b", async () => ({ version: 2 }));
      expect(outcome).toMatchObject({ finished: true, study: { result: { version: 2 } } });
    });

    it("imports a study with its trials exactly as given, safe to import again", async () => {
      const { study } = await studies.createStudy("grid", studyOptions());
      await studies.addTrials("grid", 0, payloads(3));
      const claim = await studies.claimTrial("grid", { worker: "a", graceMs: 60_000 });
      await studies.completeTrial("grid", claim!, { score: 0.5, folds: [0.4, 0.6] });
      await studies.claimTrial("grid", { worker: "b", graceMs: 60_000 });
      const trials = await studies.listTrials("grid");
      expect(await studies.importStudy({ study, trials })).toBe("unchanged");

      // The same study under another name, as a copy into another registry would write it.
      const copy = { study: { ...study, name: "grid-copy" }, trials };
      expect(await studies.importStudy(copy)).toBe("created");
      expect(await studies.getStudy("grid-copy")).toStrictEqual(copy.study);
      expect(await studies.listTrials("grid-copy")).toStrictEqual(trials);
      expect(await studies.importStudy(copy)).toBe("unchanged");
      // It is a working queue: the waiting trial is claimed next, then the import puts it back.
      const next = await studies.claimTrial("grid-copy", { worker: "c", graceMs: 60_000 });
      expect(next).toMatchObject({ number: 2, attempt: 1, worker: "c" });
      expect(await studies.importStudy(copy)).toBe("updated");
      expect(await studies.listTrials("grid-copy")).toStrictEqual(trials);

      await expectMlopsError(
        studies.importStudy({ study: { ...copy.study, studyId: "another" }, trials }),
        "registry_conflict",
        /study "grid-copy" here is another study/,
      );
      await expectMlopsError(
        studies.importStudy({
          study: { ...study, name: "orphan", runId: "0123456789abcdef0123456789abcdef" },
          trials,
        }),
        "registry_not_found",
      );
      expect(await studies.getStudy("orphan")).toBeUndefined();
      await expectMlopsError(
        studies.importStudy({
          study: { ...study, name: "broken" },
          trials: [{ ...trials[0], state: "DONE" as never }],
        }),
        "argument_invalid",
        /study "broken"\.trials\[0\]\.state: expected WAITING, RUNNING, COMPLETE, FAILED/,
      );
    });
  });
}
