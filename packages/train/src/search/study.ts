/**
 * A search shared by worker processes through the registry's study store (`SearchOptions.study`):
 * each `evaluate` round becomes a batch of trials; every worker claims trials, runs them on its
 * own trial session, and completes them with their fold scores; results come back from the store,
 * so every worker ends with the same results as one process running the whole search.
 */
import { createHash, randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import {
  type Frame,
  MlopsError,
  type Registry,
  type Study,
  type StudyStore,
  type StudyTrial,
  type TrialClaim,
} from "@mlops/core";
import type { Fold } from "../selection/folds.js";
import type { CandidateOutcome, ErrorScore, Params, TrialSession } from "./session.js";
import type { TrialError } from "./trials.js";

/**
 * Options of a distributed search (`SearchOptions.study`).
 *
 * @example
 * new GridSearch({ estimator, paramGrid, registry, study: { name: "wine-grid" } });
 */
export interface SearchStudyOptions {
  /** The study's name: every worker running the same search passes the same one. */
  name: string;
  /** This worker's name in the study (default `host:pid:random`). */
  worker?: string;
  /**
   * A trial whose worker has not beaten for this long is run again by another worker
   * (default 60 000 ms). Heartbeats are sent four times per grace period.
   */
  graceMs?: number;
  /** Claims of one trial before it is given up (default 3). */
  maxAttempts?: number;
  /**
   * Runs once per study, on the worker that finishes it (after the refit): register the model
   * there. What it returns is stored as the study's result, which every worker reads.
   */
  onFinish?: (study: Study) => Promise<Record<string, unknown>>;
  /** @internal Test seam: awaited after each claim (a test stops the worker there). */
  afterClaim?: (claim: TrialClaim, count: number) => Promise<void>;
}

/** The study's outcome as this worker saw it (`BaseSearch.study`). */
export interface SearchStudyReport {
  name: string;
  worker: string;
  /** Trials this worker ran to completion. */
  trialsRun: number;
  /** Trials this worker took over from a worker that stopped beating. */
  takenOver: number;
  /** True on the worker that finished the study (ran `onFinish`). */
  finished: boolean;
  /** The study as finished (its `result` is what `onFinish` returned). */
  study: Study;
}

/** The default worker name: where and which process. */
export function defaultWorkerName(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`;
}

/** `sha256:` of the search's data and folds: workers on different data must not share a study. */
export function searchDataDigest(
  frame: Frame,
  target: string | ArrayLike<number>,
  folds: Fold[],
): string {
  const hash = createHash("sha256");
  const bytes = (view: ArrayBufferView) =>
    hash.update(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
  for (const name of frame.names) {
    const column = frame.column(name);
    hash.update(`${name}\0${column.kind}\0`);
    if (column.kind === "category") {
      bytes(column.codes);
      hash.update(JSON.stringify(column.dictionary));
    } else {
      bytes(column.values);
    }
  }
  if (typeof target === "string") hash.update(`target\0${target}`);
  else bytes(Float64Array.from(target));
  for (const fold of folds) {
    bytes(fold.train);
    hash.update("|");
    bytes(fold.test);
  }
  return `sha256:${hash.digest("hex")}`;
}

/** A number that survives JSON: non-finite values as strings. */
function put(value: number): number | string {
  return Number.isFinite(value) ? value : String(value);
}

function get(value: unknown): number {
  return typeof value === "number" ? value : Number(value);
}

/** A candidate's outcome as a trial result (plain JSON). */
export function encodeOutcome(outcome: CandidateOutcome): Record<string, unknown> {
  return {
    test: outcome.test.map((row) => row.map(put)),
    ...(outcome.train ? { train: outcome.train.map((row) => row.map(put)) } : {}),
    fitTime: outcome.fitTime.map(put),
    scoreTime: outcome.scoreTime.map(put),
    errors: outcome.errors.map((error) => error ?? null),
    startTime: outcome.startTime,
    endTime: outcome.endTime,
  };
}

/** The outcome a trial result holds. */
export function decodeOutcome(params: Params, result: Record<string, unknown>): CandidateOutcome {
  const rows = (value: unknown) => (value as unknown[][]).map((row) => row.map(get));
  return {
    params,
    test: rows(result.test),
    ...(result.train ? { train: rows(result.train) } : {}),
    fitTime: (result.fitTime as unknown[]).map(get),
    scoreTime: (result.scoreTime as unknown[]).map(get),
    errors: (result.errors as (TrialError | null)[]).map((error) => error ?? undefined),
    startTime: result.startTime as number,
    endTime: result.endTime as number,
  };
}

/** The outcome of a trial given up after its workers died: every fold failed. */
function abandonedOutcome(
  params: Params,
  trial: StudyTrial,
  folds: number,
  metrics: number,
  errorScore: ErrorScore,
): CandidateOutcome {
  const message = String(trial.result?.message ?? "its workers stopped while running it");
  if (errorScore === "raise") {
    throw new MlopsError("argument_invalid", `trial ${trial.number}: ${message}`);
  }
  const error: TrialError = { name: "MlopsError", message };
  const time = trial.completedAt ?? Date.now();
  return {
    params,
    test: Array.from({ length: metrics }, () => new Array<number>(folds).fill(errorScore)),
    fitTime: new Array<number>(folds).fill(0),
    scoreTime: new Array<number>(folds).fill(0),
    errors: new Array<TrialError | undefined>(folds).fill(error),
    startTime: time,
    endTime: time,
  };
}

/** Checks the options and answers the study store of `registry`. */
export function studyStoreOf(
  registry: Registry | undefined,
  options: SearchStudyOptions,
  context: string,
): StudyStore {
  if (options === null || typeof options !== "object" || typeof options.name !== "string") {
    throw new MlopsError("argument_invalid", `${context}: study: expected { name }`);
  }
  if (registry === undefined) {
    throw new MlopsError(
      "argument_invalid",
      `${context}: study "${options.name}" needs a registry (the workers share it)`,
    );
  }
  const studies = registry.store.studies;
  if (studies === undefined) {
    throw new MlopsError(
      "argument_invalid",
      `${context}: the registry at ${registry.store.location} has no study store; ` +
        "use a folder registry (workers on one machine) or a postgres:// registry",
    );
  }
  const grace = options.graceMs;
  if (grace !== undefined && !(typeof grace === "number" && grace > 0 && Number.isFinite(grace))) {
    throw new MlopsError(
      "argument_invalid",
      `${context}: study.graceMs: expected a number of milliseconds > 0, got ${grace}`,
    );
  }
  return studies;
}

/**
 * One worker's share of a study: evaluates rounds of candidates through the store.
 */
export class StudyWorker {
  readonly name: string;
  readonly worker: string;
  readonly #studies: StudyStore;
  readonly #options: SearchStudyOptions;
  readonly #graceMs: number;
  #batch = 0;
  #claims = 0;
  trialsRun = 0;
  takenOver = 0;

  constructor(studies: StudyStore, options: SearchStudyOptions) {
    this.#studies = studies;
    this.#options = options;
    this.name = options.name;
    this.worker = options.worker ?? defaultWorkerName();
    this.#graceMs = options.graceMs ?? 60_000;
  }

  /**
   * Joins the study (creating it and its parent run when it is new); a study of another
   * search or other data is a `registry_conflict`.
   */
  async join(
    spec: Record<string, unknown>,
    dataDigest: string,
    run: {
      experimentId: string;
      runName: string;
      tags: Record<string, string>;
      params: Record<string, string | number | boolean>;
    },
  ): Promise<Study> {
    const { study, created } = await this.#studies.createStudy(this.name, {
      spec,
      dataDigest,
      worker: this.worker,
      run,
    });
    if (created) return study;
    if (study.dataDigest !== dataDigest) {
      throw new MlopsError(
        "registry_conflict",
        `study "${this.name}" searches other data (${study.dataDigest.slice(0, 19)}…, here ` +
          `${dataDigest.slice(0, 19)}…): every worker must read the same rows with the same ` +
          "folds; pick a new study name for a new search",
      );
    }
    const theirs = JSON.stringify(study.spec);
    const ours = JSON.stringify(spec);
    if (theirs !== ours) {
      throw new MlopsError(
        "registry_conflict",
        `study "${this.name}" runs another search (${theirs.slice(0, 200)}; here ` +
          `${ours.slice(0, 200)}): every worker must run the same search; pick a new study name ` +
          "for a new search",
      );
    }
    return study;
  }

  /**
   * Evaluates one round: adds it as the next batch, runs claimed trials on `session` and waits
   * for the others' until every trial of the batch is settled. `onCandidate` sees each
   * candidate once, with `local` true where this worker ran it (and must track it).
   */
  async evaluate(
    session: TrialSession,
    candidates: readonly Params[],
    foldSet: number,
    folds: number,
    metrics: number,
    errorScore: ErrorScore,
    onCandidate: (
      index: number,
      outcome: CandidateOutcome,
      local: boolean,
    ) => Promise<Record<string, unknown>>,
  ): Promise<CandidateOutcome[]> {
    const batch = this.#batch++;
    const name = this.name;
    await this.#studies.addTrials(
      name,
      batch,
      candidates.map((params) => ({ params: params as Record<string, unknown> })),
    );
    const outcomes: CandidateOutcome[] = new Array(candidates.length);
    const settled = new Set<number>();
    const settle = (index: number, outcome: CandidateOutcome) => {
      settled.add(index);
      outcomes[index] = outcome;
    };
    const claimOptions = {
      worker: this.worker,
      graceMs: this.#graceMs,
      batch,
      ...(this.#options.maxAttempts === undefined
        ? {}
        : { maxAttempts: this.#options.maxAttempts }),
    };
    const pollMs = Math.max(20, Math.min(500, this.#graceMs / 8));
    for (;;) {
      const claim = await this.#studies.claimTrial(name, claimOptions);
      if (claim !== undefined) {
        this.#claims += 1;
        if (claim.replaces !== undefined) this.takenOver += 1;
        await this.#options.afterClaim?.(claim, this.#claims);
        const params = candidates[claim.index];
        const beat = setInterval(() => {
          this.#studies.heartbeat(name, claim).catch(() => {});
        }, this.#graceMs / 4);
        let outcome: CandidateOutcome;
        try {
          [outcome] = await session.evaluate([params], foldSet);
        } finally {
          clearInterval(beat);
        }
        // What every worker will read back: the JSON round trip, here too.
        const result = encodeOutcome(outcome);
        const decoded = decodeOutcome(params, JSON.parse(JSON.stringify(result)));
        // The trial's run is tracked before the trial completes: a completed trial always has one.
        const extra = await onCandidate(claim.index, decoded, true);
        if (await this.#studies.completeTrial(name, claim, { ...result, ...extra })) {
          this.trialsRun += 1;
          settle(claim.index, decoded);
        }
        continue;
      }
      const trials = await this.#studies.listTrials(name, { batch });
      for (const trial of trials) {
        if (settled.has(trial.index)) continue;
        const params = candidates[trial.index];
        if (trial.state === "COMPLETE") {
          const outcome = decodeOutcome(params, trial.result!);
          settle(trial.index, outcome);
          await onCandidate(trial.index, outcome, false);
        } else if (trial.state === "FAILED") {
          const outcome = abandonedOutcome(params, trial, folds, metrics, errorScore);
          settle(trial.index, outcome);
          await onCandidate(trial.index, outcome, false);
        }
      }
      if (settled.size === candidates.length) return outcomes;
      // Others are running the rest: look again soon (a stale one becomes ours to claim).
      await sleep(pollMs);
    }
  }

  /** Finishes the study once among its workers (`work` runs on the finishing one only). */
  async finish(
    work: (study: Study) => Promise<Record<string, unknown>>,
  ): Promise<SearchStudyReport> {
    const outcome = await this.#studies.finishStudy(this.name, this.worker, work);
    return {
      name: this.name,
      worker: this.worker,
      trialsRun: this.trialsRun,
      takenOver: this.takenOver,
      finished: outcome.finished,
      study: outcome.study,
    };
  }
}
