import { MlopsError } from "@mlops/core";
import { builtModulePath, ThreadPool } from "@mlops/core/internal";
import type { Estimator } from "../estimator/estimator.js";
import type { Fold } from "../selection/folds.js";
import type { TreeData } from "../tree/tree-data.js";
import type { EstimatorSpec } from "./spec.js";
import { type TrialData, type TrialResult, TrialRunner, type TrialTask } from "./trials.js";

/** Runs trials: on the caller's thread, or on a pool of worker threads. */
export interface TrialExecutor {
  /** Trials that may run at once. */
  readonly parallel: number;
  addDataset(key: string, data: TreeData): void;
  addFolds(id: number, folds: Fold[]): void;
  /** `estimator` (generic mode, in-thread only): the unfitted estimator of the trial. */
  run(task: TrialTask, estimator?: Estimator<object>): Promise<TrialResult>;
  close(): Promise<void>;
}

/** Messages to a search worker. */
export type WorkerRequest =
  | { type: "init"; data: TrialData; check?: EstimatorSpec }
  | { type: "dataset"; key: string; data: TreeData }
  | { type: "folds"; id: number; folds: Fold[] }
  | { type: "task"; task: TrialTask };

/** Messages from a search worker. */
export type WorkerResponse =
  | { type: "ready" }
  | { type: "unsupported"; message: string }
  | { type: "result"; result: TrialResult };

/** Lets timers and I/O (progress output, tracking writes) run between in-thread trials. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Trials on the caller's thread, one at a time (`nJobs: 1`). */
export class InThreadExecutor implements TrialExecutor {
  readonly parallel = 1;
  readonly #runner: TrialRunner;
  #lastTurn = performance.now();

  constructor(data: TrialData) {
    this.#runner = new TrialRunner(data);
  }

  addDataset(key: string, data: TreeData): void {
    this.#runner.addDataset(key, data);
  }

  addFolds(id: number, folds: Fold[]): void {
    this.#runner.addFolds(id, folds);
  }

  async run(task: TrialTask, estimator?: Estimator<object>): Promise<TrialResult> {
    // Yield about every 50 ms of work, not after every trial: a turn costs little, but fast
    // trials are many.
    if (performance.now() - this.#lastTurn > 50) {
      await nextTurn();
      this.#lastTurn = performance.now();
    }
    return this.#runner.run(task, estimator);
  }

  async close(): Promise<void> {}
}

/**
 * The built worker module of searches, `dist/search-worker.js` of this package, found from this
 * module's place (`src/search/` in tests, `dist/` once built and installed).
 */
export function searchWorkerPath(): string | undefined {
  return builtModulePath(import.meta.url, "@mlops/train", "search-worker.js");
}

/**
 * Trials on a pool of worker threads running `dist/search-worker.js`. Data, prepared tree data
 * and folds are broadcast once to every thread (typed arrays on SharedArrayBuffers are shared,
 * not copied); each task is a small message. `open` resolves to undefined when a thread cannot
 * build the estimator (a class the package does not export): the caller then runs trials
 * in-thread.
 */
export class WorkerPool implements TrialExecutor {
  readonly parallel: number;
  readonly #pool: ThreadPool;
  #failure: unknown;

  private constructor(pool: ThreadPool) {
    this.parallel = pool.size;
    this.#pool = pool;
    // A thread that dies fails the whole search (its trials cannot be told apart from bad ones).
    pool.onFailure = (error) => {
      this.#failure ??= error;
    };
  }

  /** Starts `size` threads and sends them the data; undefined when they cannot run it. */
  static async open(
    size: number,
    data: TrialData,
    check: EstimatorSpec | undefined,
  ): Promise<WorkerPool | undefined> {
    const path = searchWorkerPath();
    if (path === undefined) {
      throw new MlopsError(
        "file_not_found",
        "the search worker dist/search-worker.js of @mlops/train is missing: build " +
          "@mlops/train (npm run build) or use nJobs: 1",
      );
    }
    const pool = new ThreadPool({ module: path, size, name: "search" });
    try {
      const init: WorkerRequest = { type: "init", data, check };
      const replies = await Promise.all(
        Array.from({ length: size }, (_, index) => pool.runOn<WorkerResponse>(index, init)),
      );
      if (replies.some((reply) => reply.type === "unsupported")) {
        await pool.close();
        return undefined;
      }
    } catch (error) {
      await pool.close();
      throw error;
    }
    return new WorkerPool(pool);
  }

  addDataset(key: string, data: TreeData): void {
    this.#pool.broadcast({ type: "dataset", key, data } satisfies WorkerRequest);
  }

  addFolds(id: number, folds: Fold[]): void {
    this.#pool.broadcast({ type: "folds", id, folds } satisfies WorkerRequest);
  }

  async run(task: TrialTask): Promise<TrialResult> {
    if (this.#failure !== undefined) throw this.#failure;
    const response = await this.#pool.run<WorkerResponse>({
      type: "task",
      task,
    } satisfies WorkerRequest);
    if (response.type !== "result") {
      throw new MlopsError("argument_invalid", `search worker answered ${response.type} to a task`);
    }
    return response.result;
  }

  close(): Promise<void> {
    return this.#pool.close();
  }
}
