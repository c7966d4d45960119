import { randomBytes } from "node:crypto";
import { isDeepStrictEqual } from "node:util";
import { ensureDirectory, readJsonIfExists, writeFileAtomic } from "./files.js";
import type { FolderRoot } from "./folder-root.js";
import { storedJson } from "./folder-root.js";
import { withLock } from "./lock.js";
import {
  abandonedResult,
  batchConflict,
  batchOutOfOrder,
  type ClaimTrialOptions,
  type CreateStudyOptions,
  checkClaimOptions,
  checkCreateStudy,
  checkStudyJson,
  checkStudyRecord,
  checkTrialBatch,
  type FinishOutcome,
  type Study,
  type StudyRecord,
  type StudyStore,
  type StudyTrial,
  startStudyRun,
  studyConflict,
  studyNotFound,
  type TrialClaim,
  validateStudyName,
} from "./studies.js";
import type { ImportOutcome, TrackingStore } from "./types.js";

/** One study on disk: the study and all its trials, rewritten whole under the study's lock. */
interface StudyFile {
  study: Study;
  trials: StudyTrial[];
}

/** A day: how long a worker waits for another to finish a study before giving up. */
const FINISH_WAIT_MS = 24 * 60 * 60 * 1000;

/**
 * Studies in the registry folder, for workers on one machine (or a shared volume with working
 * locks): `studies/<name>/study.json` holds the study and its trials and is replaced atomically
 * under `studies/<name>/.lock`; `studies/<name>/.finish.lock` is held by the worker finishing
 * the study, and is only broken when that process is dead.
 *
 * @example
 * const store = await openFolderStore("./.mlops");
 * const claim = await store.studies.claimTrial("wine-grid", { worker: "a", graceMs: 60_000 });
 */
export class FolderStudyStore implements StudyStore {
  readonly #root: FolderRoot;
  readonly #tracking: TrackingStore;

  constructor(root: FolderRoot, tracking: TrackingStore) {
    this.#root = root;
    this.#tracking = tracking;
  }

  #path(name: string, file = "study.json"): string {
    return this.#root.join("studies", name, file);
  }

  async #read(name: string): Promise<StudyFile | undefined> {
    return readJsonIfExists<StudyFile>(this.#path(name));
  }

  async #require(name: string): Promise<StudyFile> {
    const file = await this.#read(name);
    if (file === undefined) {
      throw studyNotFound(
        name,
        this.#root.path,
        (await this.listStudies()).map((s) => s.name),
      );
    }
    return file;
  }

  async #write(name: string, file: StudyFile): Promise<void> {
    await writeFileAtomic(this.#path(name), storedJson(file));
  }

  /** Runs `work` on the study's file under its lock; `work` returns whether to write it back. */
  async #update<T>(
    name: string,
    work: (
      file: StudyFile,
    ) => { value: T; changed: boolean } | Promise<{ value: T; changed: boolean }>,
  ): Promise<T> {
    validateStudyName(name);
    await this.#root.ensure();
    await ensureDirectory(this.#root.join("studies", name));
    return this.#root.lock(this.#path(name, ".lock"), `study "${name}"`, async () => {
      const file = await this.#require(name);
      const { value, changed } = await work(file);
      if (changed) await this.#write(name, file);
      return value;
    });
  }

  async createStudy(
    name: string,
    options: CreateStudyOptions,
  ): Promise<{ study: Study; created: boolean }> {
    checkCreateStudy(name, options);
    await this.#root.ensure();
    await ensureDirectory(this.#root.join("studies", name));
    return this.#root.lock(this.#path(name, ".lock"), `study "${name}"`, async () => {
      const existing = await this.#read(name);
      if (existing !== undefined) return { study: existing.study, created: false };
      const run = await startStudyRun(this.#tracking, name, options.run);
      const study: Study = {
        name,
        studyId: randomBytes(8).toString("hex"),
        spec: options.spec,
        dataDigest: options.dataDigest,
        state: "RUNNING",
        runId: run.runId,
        experimentId: run.experimentId,
        createdAt: Date.now(),
        createdBy: options.worker,
      };
      await this.#write(name, { study, trials: [] });
      return { study, created: true };
    });
  }

  async importStudy(record: StudyRecord): Promise<ImportOutcome> {
    const { study, trials } = checkStudyRecord(record);
    const name = study.name;
    // Its parent run must be here (runs are copied first): registry_not_found names it.
    await this.#tracking.getRun(study.runId);
    await this.#root.ensure();
    await ensureDirectory(this.#root.join("studies", name));
    return this.#root.lock(this.#path(name, ".lock"), `study "${name}"`, async () => {
      const existing = await this.#read(name);
      if (existing !== undefined && existing.study.studyId !== study.studyId) {
        throw studyConflict(name, existing.study.studyId, study.studyId);
      }
      if (existing !== undefined && isDeepStrictEqual(existing, { study, trials })) {
        return "unchanged";
      }
      await this.#write(name, { study, trials });
      return existing === undefined ? "created" : "updated";
    });
  }

  async getStudy(name: string): Promise<Study | undefined> {
    validateStudyName(name);
    return (await this.#read(name))?.study;
  }

  async listStudies(): Promise<Study[]> {
    const names = await this.#root.list(this.#root.join("studies"));
    const studies: Study[] = [];
    for (const name of names) {
      const file = await this.#read(name);
      if (file !== undefined) studies.push(file.study);
    }
    return studies;
  }

  async addTrials(
    name: string,
    batch: number,
    payloads: readonly Record<string, unknown>[],
  ): Promise<StudyTrial[]> {
    checkTrialBatch(name, batch, payloads);
    return this.#update(name, (file) => {
      const stored = file.trials.filter((trial) => trial.batch === batch);
      if (stored.length > 0) {
        const conflict = batchConflict(
          name,
          batch,
          stored.map((trial) => trial.payload),
          payloads,
        );
        if (conflict) throw conflict;
        return { value: stored, changed: false };
      }
      const next = nextBatch(file.trials);
      if (batch !== next) throw batchOutOfOrder(name, batch, next);
      const added = payloads.map(
        (payload, index): StudyTrial => ({
          number: file.trials.length + index,
          batch,
          index,
          payload,
          state: "WAITING",
          attempt: 0,
        }),
      );
      file.trials.push(...added);
      return { value: added, changed: true };
    });
  }

  async listTrials(name: string, options: { batch?: number } = {}): Promise<StudyTrial[]> {
    validateStudyName(name);
    const file = await this.#require(name);
    return options.batch === undefined
      ? file.trials
      : file.trials.filter((trial) => trial.batch === options.batch);
  }

  async claimTrial(name: string, options: ClaimTrialOptions): Promise<TrialClaim | undefined> {
    const { worker, graceMs, maxAttempts, batch } = checkClaimOptions(options);
    return this.#update(name, (file) => {
      const now = Date.now();
      let changed = false;
      for (const trial of file.trials) {
        if (batch !== undefined && trial.batch !== batch) continue;
        const stale = trial.state === "RUNNING" && now - (trial.heartbeatAt ?? 0) > graceMs;
        if (trial.state !== "WAITING" && !stale) continue;
        if (stale && trial.attempt >= maxAttempts) {
          trial.state = "FAILED";
          trial.result = abandonedResult(trial.attempt, trial.worker);
          trial.completedAt = now;
          changed = true;
          continue;
        }
        const replaces = stale ? trial.worker : undefined;
        trial.state = "RUNNING";
        trial.attempt += 1;
        trial.worker = worker;
        trial.heartbeatAt = now;
        const claim: TrialClaim = {
          number: trial.number,
          batch: trial.batch,
          index: trial.index,
          payload: trial.payload,
          attempt: trial.attempt,
          worker,
          ...(replaces === undefined ? {} : { replaces }),
        };
        return { value: claim, changed: true };
      }
      return { value: undefined, changed };
    });
  }

  async heartbeat(name: string, claim: TrialClaim): Promise<boolean> {
    return this.#update(name, (file) => {
      const trial = file.trials[claim.number];
      if (!holds(trial, claim)) return { value: false, changed: false };
      trial.heartbeatAt = Date.now();
      return { value: true, changed: true };
    });
  }

  async completeTrial(
    name: string,
    claim: TrialClaim,
    result: Record<string, unknown>,
  ): Promise<boolean> {
    checkStudyJson(`study "${name}" trial ${claim?.number}: result`, result);
    return this.#update(name, (file) => {
      const trial = file.trials[claim.number];
      if (!holds(trial, claim)) return { value: false, changed: false };
      trial.state = "COMPLETE";
      trial.result = result;
      trial.completedAt = Date.now();
      return { value: true, changed: true };
    });
  }

  async finishStudy(
    name: string,
    worker: string,
    work: (study: Study) => Promise<Record<string, unknown>>,
  ): Promise<FinishOutcome> {
    validateStudyName(name);
    await this.#require(name);
    // Held for as long as `work` runs: broken only when its holder is a dead process.
    return withLock(
      this.#path(name, ".finish.lock"),
      `the finishing of study "${name}"`,
      { timeoutMs: FINISH_WAIT_MS, staleMs: Number.POSITIVE_INFINITY },
      async () => {
        const before = (await this.#require(name)).study;
        if (before.state === "COMPLETE") return { study: before, finished: false };
        const result = checkStudyJson(`study "${name}": result`, await work(before));
        const study = await this.#update(name, (file) => {
          file.study = {
            ...file.study,
            state: "COMPLETE",
            completedAt: Date.now(),
            finishedBy: worker,
            result,
          };
          return { value: file.study, changed: true };
        });
        return { study, finished: true };
      },
    );
  }
}

/** The batch number `addTrials` takes next. */
function nextBatch(trials: readonly StudyTrial[]): number {
  return trials.length === 0 ? 0 : trials[trials.length - 1].batch + 1;
}

/** Whether `claim` still holds `trial` (running, same attempt). */
function holds(trial: StudyTrial | undefined, claim: TrialClaim): trial is StudyTrial {
  return (
    trial !== undefined &&
    trial.state === "RUNNING" &&
    trial.attempt === claim.attempt &&
    trial.worker === claim.worker
  );
}
