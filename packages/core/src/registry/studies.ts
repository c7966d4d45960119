/**
 * Studies: one hyperparameter search shared by any number of worker processes, as Optuna's RDB
 * storage shares one. A study is stored once (its spec and data digest, which every worker must
 * match); its trials are claimed atomically, kept alive by heartbeats, re-run when their worker
 * stops beating for longer than a grace period, and completed with their results; the study is
 * finished (its best model registered) by exactly one worker. The `StudyStore` is the queue;
 * what a trial means (parameters, folds, scores) is the searcher's business, so payloads and
 * results are plain JSON here.
 */
import { isDeepStrictEqual } from "node:util";
import { MlopsError } from "../errors/error.js";
import { validateName } from "./names.js";
import type { ImportOutcome, Run, TrackingStore } from "./types.js";

/** A study's lifecycle: trials being run, or finished (results final, best model registered). */
export type StudyState = "RUNNING" | "COMPLETE";

/**
 * A trial's lifecycle: `WAITING` to be claimed, `RUNNING` on a worker (with heartbeats),
 * `COMPLETE` with its result, or `FAILED` when its workers died `maxAttempts` times running it.
 */
export type TrialState = "WAITING" | "RUNNING" | "COMPLETE" | "FAILED";

/**
 * One shared search.
 *
 * @example
 * const study = await store.studies!.getStudy("wine-grid");
 * study?.state; // "RUNNING"
 */
export interface Study {
  name: string;
  /** Unique for this study (a study deleted and created again gets a new id). */
  studyId: string;
  /** What every worker must agree on (the searcher's settings), as created. */
  spec: Record<string, unknown>;
  /** The digest of the data the study searches (`sha256:<hex>`). */
  dataDigest: string;
  state: StudyState;
  /** The study's parent run in the tracking store; every trial's run is nested under it. */
  runId: string;
  experimentId: string;
  createdAt: number;
  /** The worker that created it. */
  createdBy: string;
  completedAt?: number;
  /** The worker that finished it. */
  finishedBy?: string;
  /** What the finishing worker recorded (the registered model, the best trial…). */
  result?: Record<string, unknown>;
}

/**
 * One trial of a study: a payload (the candidate's parameters…) added in a numbered batch, run
 * by one worker at a time.
 *
 * @example
 * const [first] = await studies.listTrials("wine-grid");
 * first.state; // "COMPLETE"
 */
export interface StudyTrial {
  /** 0, 1, 2… across the study, in the order the batches added them. */
  number: number;
  /** The batch that added it (a grid search has one; successive halving one per round). */
  batch: number;
  /** Its position in the batch. */
  index: number;
  payload: Record<string, unknown>;
  state: TrialState;
  /** How many times it was claimed (a re-run after a dead worker claims it again). */
  attempt: number;
  /** The worker running it now, or the one that completed it. */
  worker?: string;
  /** The last heartbeat of its running attempt, on the store's clock. */
  heartbeatAt?: number;
  completedAt?: number;
  result?: Record<string, unknown>;
}

/** What `createStudy` takes. */
export interface CreateStudyOptions {
  spec: Record<string, unknown>;
  dataDigest: string;
  /** Who creates it (`host:pid:…`). */
  worker: string;
  /** The parent run created with the study (in the same transaction where the backend can). */
  run: {
    experimentId: string;
    runName: string;
    tags?: Record<string, string>;
    params?: Record<string, string | number | boolean>;
  };
}

/** What `claimTrial` takes. */
export interface ClaimTrialOptions {
  worker: string;
  /** A running trial whose last heartbeat is older than this is taken over (ms). */
  graceMs: number;
  /**
   * Claims of one trial before it is given up as `FAILED` instead of run again: a trial that
   * kills every worker that runs it must not kill them all (default 3).
   */
  maxAttempts?: number;
  /** Only trials of this batch (a worker claims within the round it is evaluating). */
  batch?: number;
}

/** A claimed trial: the worker runs it, beats for it and completes it with this claim. */
export interface TrialClaim {
  number: number;
  batch: number;
  index: number;
  payload: Record<string, unknown>;
  /** This claim's attempt (1 for the first run); heartbeats and completion must match it. */
  attempt: number;
  worker: string;
  /** The worker whose attempt this one replaces (it stopped beating), if any. */
  replaces?: string;
}

/**
 * A study with all its trials, as `importStudy` takes it (and `copyRegistry` moves it).
 *
 * @example
 * const record: StudyRecord = { study, trials: await studies.listTrials(study.name) };
 */
export interface StudyRecord {
  study: Study;
  trials: StudyTrial[];
}

/** What `finishStudy` answers. */
export interface FinishOutcome {
  study: Study;
  /** True when `work` ran here and its result was recorded; false when another finished it. */
  finished: boolean;
}

/**
 * The queue of a distributed search, part of a registry backend (`RegistryStore.studies`).
 * Every method is atomic across processes (and machines, where the backend is shared). Every
 * implementation must pass `describeStudyStoreConformance` from `@mlops/core/testing`.
 *
 * @example
 * const { study } = await studies.createStudy("wine-grid", { spec, dataDigest, worker, run });
 * await studies.addTrials("wine-grid", 0, candidates.map((params) => ({ params })));
 * const claim = await studies.claimTrial("wine-grid", { worker, graceMs: 60_000 });
 * if (claim) await studies.completeTrial("wine-grid", claim, { score: 0.61 });
 */
export interface StudyStore {
  /**
   * Creates the study and its parent run, or answers the study that exists under that name
   * (`created: false`, whatever its spec: comparing is the caller's job).
   */
  createStudy(
    name: string,
    options: CreateStudyOptions,
  ): Promise<{ study: Study; created: boolean }>;
  /** The study, or undefined when there is none of that name. */
  getStudy(name: string): Promise<Study | undefined>;
  listStudies(): Promise<Study[]>;
  /**
   * Adds batch `batch` as trials in the order given, unless the batch exists: then its payloads
   * must be these (else `registry_conflict`: workers disagree on the search). Batches are added
   * in order (0, 1, …): adding batch n before n − 1 is `argument_invalid`. Answers the batch's
   * trials.
   */
  addTrials(
    name: string,
    batch: number,
    payloads: readonly Record<string, unknown>[],
  ): Promise<StudyTrial[]>;
  /** The study's trials by number (one batch's with `batch`). */
  listTrials(name: string, options?: { batch?: number }): Promise<StudyTrial[]>;
  /**
   * Claims the first trial (by number) that waits, or whose worker stopped beating for
   * `graceMs` (its attempt is taken over; after `maxAttempts` it is `FAILED` instead). Answers
   * undefined when no trial can be claimed now.
   */
  claimTrial(name: string, options: ClaimTrialOptions): Promise<TrialClaim | undefined>;
  /** Records that the claim's worker is alive; false when the claim was taken over or ended. */
  heartbeat(name: string, claim: TrialClaim): Promise<boolean>;
  /**
   * Completes the claimed trial with `result`; false (nothing written) when the claim was taken
   * over meanwhile or the trial is already complete.
   */
  completeTrial(name: string, claim: TrialClaim, result: Record<string, unknown>): Promise<boolean>;
  /**
   * Finishes the study exactly once: waits until no other worker is finishing it, then, unless
   * it is already `COMPLETE`, runs `work` and records its result (state `COMPLETE`). A worker
   * that dies inside `work` lets the next waiter run it (so `work` must tolerate a half-done
   * predecessor); one that is merely slow keeps the others waiting.
   */
  finishStudy(
    name: string,
    worker: string,
    work: (study: Study) => Promise<Record<string, unknown>>,
  ): Promise<FinishOutcome>;
  /**
   * Writes a study and its trials exactly as given (ids, states, attempts, workers, times,
   * results): how `copyRegistry` moves studies between backends. Its parent run must be here.
   * The same record again is `unchanged`; the same study (same `studyId`) with other contents
   * (it went on since) is replaced, `updated`; another study under that name is
   * `registry_conflict`.
   */
  importStudy(record: StudyRecord): Promise<ImportOutcome>;
}

/** Claims of one trial before it is `FAILED`, when `claimTrial` is not told. */
export const DEFAULT_MAX_ATTEMPTS = 3;

const STUDY_STATES: readonly StudyState[] = ["RUNNING", "COMPLETE"];
const TRIAL_STATES: readonly TrialState[] = ["WAITING", "RUNNING", "COMPLETE", "FAILED"];

/**
 * Checks what `importStudy` takes and answers a plain copy without undefined fields; anything
 * else is `argument_invalid` saying where.
 */
export function checkStudyRecord(record: StudyRecord): StudyRecord {
  const fail = (where: string, expected: string, found: unknown): never => {
    throw new MlopsError(
      "argument_invalid",
      `importStudy: ${where}: expected ${expected}, got ${describeValue(found)}`,
    );
  };
  if (record === null || typeof record !== "object" || !Array.isArray(record.trials)) {
    fail("record", "{ study, trials: [...] }", record);
  }
  const study = record.study;
  if (study === null || typeof study !== "object") fail("study", "an object", study);
  const name = validateStudyName(study.name);
  const where = `study "${name}"`;
  const text = (field: keyof Study) => {
    if (typeof study[field] !== "string" || study[field] === "") {
      fail(`${where}.${field}`, "a non-empty string", study[field]);
    }
  };
  const time = (what: string, value: unknown) => {
    if (!(typeof value === "number" && Number.isSafeInteger(value) && value >= 0)) {
      fail(what, "a time in ms (an integer ≥ 0)", value);
    }
  };
  for (const field of ["studyId", "dataDigest", "runId", "experimentId", "createdBy"] as const) {
    text(field);
  }
  if (!STUDY_STATES.includes(study.state))
    fail(`${where}.state`, STUDY_STATES.join(" or "), study.state);
  checkStudyJson(`${where}.spec`, study.spec);
  time(`${where}.createdAt`, study.createdAt);
  if (study.completedAt !== undefined) time(`${where}.completedAt`, study.completedAt);
  if (study.finishedBy !== undefined) text("finishedBy");
  if (study.result !== undefined) checkStudyJson(`${where}.result`, study.result);
  const numbers = new Set<number>();
  const trials = record.trials.map((trial, position) => {
    const at = `${where}.trials[${position}]`;
    if (trial === null || typeof trial !== "object") fail(at, "a trial object", trial);
    for (const field of ["number", "batch", "index", "attempt"] as const) {
      if (!(Number.isSafeInteger(trial[field]) && trial[field] >= 0)) {
        fail(`${at}.${field}`, "an integer ≥ 0", trial[field]);
      }
    }
    if (numbers.has(trial.number))
      fail(`${at}.number`, "a number no other trial has", trial.number);
    numbers.add(trial.number);
    if (!TRIAL_STATES.includes(trial.state))
      fail(`${at}.state`, TRIAL_STATES.join(", "), trial.state);
    checkStudyJson(`${at}.payload`, trial.payload);
    if (trial.worker !== undefined && typeof trial.worker !== "string") {
      fail(`${at}.worker`, "a string", trial.worker);
    }
    if (trial.heartbeatAt !== undefined) time(`${at}.heartbeatAt`, trial.heartbeatAt);
    if (trial.completedAt !== undefined) time(`${at}.completedAt`, trial.completedAt);
    if (trial.result !== undefined) checkStudyJson(`${at}.result`, trial.result);
    return JSON.parse(JSON.stringify(trial)) as StudyTrial;
  });
  trials.sort((a, b) => a.number - b.number);
  return { study: JSON.parse(JSON.stringify(study)) as Study, trials };
}

/** `registry_conflict` for importing a study over another one of the same name. */
export function studyConflict(name: string, here: string, given: string): MlopsError {
  return new MlopsError(
    "registry_conflict",
    `study "${name}" here is another study (id ${here}, not ${given}); nothing was changed — ` +
      "rename or delete one of them first",
  );
}

/** Checks a study name (a portable name, as model names are). */
export function validateStudyName(name: unknown): string {
  return validateName("study name", name);
}

/** Checks what `createStudy` is given (the name, the spec, the data digest), as every backend does. */
export function checkCreateStudy(name: string, options: CreateStudyOptions): void {
  validateStudyName(name);
  checkStudyJson(`study "${name}": spec`, options.spec);
  if (typeof options.dataDigest !== "string" || options.dataDigest === "") {
    throw new MlopsError("argument_invalid", `study "${name}": dataDigest: expected a string`);
  }
}

/**
 * Creates a new study's parent run (tagged `mlops.study`) with its params, as every backend
 * does when it creates the study.
 */
export async function startStudyRun(
  tracking: Pick<TrackingStore, "createRun" | "logParams">,
  name: string,
  run: CreateStudyOptions["run"],
): Promise<Run> {
  const created = await tracking.createRun({
    experimentId: run.experimentId,
    runName: run.runName,
    tags: { ...run.tags, "mlops.study": name },
  });
  if (run.params && Object.keys(run.params).length > 0) {
    await tracking.logParams(created.runId, run.params);
  }
  return created;
}

/** `value` if it survives a JSON round trip unchanged; else `argument_invalid` naming `what`. */
export function checkStudyJson<T>(what: string, value: T): T {
  let copy: unknown;
  try {
    copy = JSON.parse(JSON.stringify(value));
  } catch (error) {
    throw new MlopsError("argument_invalid", `${what}: not JSON (${(error as Error).message})`);
  }
  if (value === null || typeof value !== "object" || !isDeepStrictEqual(copy, value)) {
    throw new MlopsError(
      "argument_invalid",
      `${what}: expected a JSON object (plain data that survives JSON.stringify unchanged: ` +
        `no NaN, Infinity, undefined, Dates or class instances), got ${describeValue(value)}`,
    );
  }
  return value;
}

function describeValue(value: unknown): string {
  try {
    return JSON.stringify(value)?.slice(0, 120) ?? String(value);
  } catch {
    return String(value);
  }
}

/** Checks `addTrials`' batch number and payloads. */
export function checkTrialBatch(
  name: string,
  batch: number,
  payloads: readonly Record<string, unknown>[],
): void {
  validateStudyName(name);
  if (!(Number.isInteger(batch) && batch >= 0)) {
    throw new MlopsError(
      "argument_invalid",
      `addTrials: batch: expected an integer ≥ 0, got ${JSON.stringify(batch)}`,
    );
  }
  if (!Array.isArray(payloads) || payloads.length === 0) {
    throw new MlopsError(
      "argument_invalid",
      "addTrials: expected a non-empty array of payload objects",
    );
  }
  payloads.forEach((payload, index) => {
    checkStudyJson(`study "${name}" batch ${batch} trial ${index}`, payload);
  });
}

/** Checks `claimTrial`'s options. */
export function checkClaimOptions(
  options: ClaimTrialOptions,
): Required<Omit<ClaimTrialOptions, "batch">> & { batch: number | undefined } {
  if (options === null || typeof options !== "object") {
    throw new MlopsError("argument_invalid", "claimTrial: expected { worker, graceMs }");
  }
  if (typeof options.worker !== "string" || options.worker === "") {
    throw new MlopsError("argument_invalid", "claimTrial: worker: expected a non-empty string");
  }
  if (!(typeof options.graceMs === "number" && options.graceMs > 0)) {
    throw new MlopsError(
      "argument_invalid",
      `claimTrial: graceMs: expected a number of milliseconds > 0, got ${options.graceMs}`,
    );
  }
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  if (!(Number.isInteger(maxAttempts) && maxAttempts >= 1)) {
    throw new MlopsError(
      "argument_invalid",
      `claimTrial: maxAttempts: expected an integer ≥ 1, got ${options.maxAttempts}`,
    );
  }
  const batch = options.batch;
  if (batch !== undefined && !(Number.isInteger(batch) && batch >= 0)) {
    throw new MlopsError(
      "argument_invalid",
      `claimTrial: batch: expected an integer ≥ 0, got ${JSON.stringify(batch)}`,
    );
  }
  return { worker: options.worker, graceMs: options.graceMs, maxAttempts, batch };
}

/** The error for a batch whose payloads differ from the stored ones. */
export function batchConflict(
  name: string,
  batch: number,
  stored: readonly Record<string, unknown>[],
  given: readonly Record<string, unknown>[],
): MlopsError | undefined {
  if (stored.length !== given.length) {
    return new MlopsError(
      "registry_conflict",
      `study "${name}": batch ${batch} holds ${stored.length} trials, this worker proposes ` +
        `${given.length}: the workers do not run the same search`,
    );
  }
  const index = stored.findIndex((payload, i) => !isDeepStrictEqual(payload, given[i]));
  if (index < 0) return undefined;
  return new MlopsError(
    "registry_conflict",
    `study "${name}": batch ${batch} trial ${index} is ${describeValue(stored[index])} in the ` +
      `study but ${describeValue(given[index])} here: the workers do not run the same search`,
  );
}

/** The error for a batch added before the one it follows. */
export function batchOutOfOrder(name: string, batch: number, next: number): MlopsError {
  return new MlopsError(
    "argument_invalid",
    `study "${name}": cannot add batch ${batch} before batch ${next} (batches are added in order)`,
  );
}

/** The error for a study that does not exist. */
export function studyNotFound(name: string, where: string, names: readonly string[]): MlopsError {
  const list = names.length === 0 ? "none" : names.slice(0, 20).join(", ");
  return new MlopsError(
    "registry_not_found",
    `study "${name}" not found in ${where}; studies: ${list}`,
  );
}

/** The result a trial records when its workers died `maxAttempts` times running it. */
export function abandonedResult(
  attempts: number,
  worker: string | undefined,
): Record<string, unknown> {
  return {
    abandoned: true,
    message:
      `the trial's worker stopped ${attempts} time${attempts === 1 ? "" : "s"} while running it` +
      `${worker ? ` (last: ${worker})` : ""}; it is not tried again`,
  };
}
