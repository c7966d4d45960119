import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { MlopsError } from "@mlops/core";
import type { Estimator } from "../estimator/estimator.js";
import type { Fold } from "../selection/folds.js";
import type { TreeData } from "../tree/tree-data.js";
import type { EstimatorSpec } from "./spec.js";
import {
  type TrialData,
  type TrialResult,
  TrialRunner,
  type TrialTask,
  toTrialError,
} from "./trials.js";

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

/** The directory of this module (the CommonJS build gets `import.meta.url` from tsup's shims). */
function moduleDirectory(): string {
  return dirname(fileURLToPath(import.meta.url));
}

/**
 * The built worker entry, `dist/search-worker.js` of this package, found from this module's
 * place (the package's `src/search/` in tests, its `dist/` once built and installed).
 */
export function searchWorkerPath(): string {
  let directory = moduleDirectory();
  for (let up = 0; up < 6; up++) {
    const manifest = join(directory, "package.json");
    if (existsSync(manifest)) {
      try {
        const { name } = JSON.parse(readFileSync(manifest, "utf8")) as { name?: string };
        if (name === "@mlops/train") return join(directory, "dist", "search-worker.js");
      } catch {
        // Not a readable manifest: keep looking upwards.
      }
    }
    const parent = dirname(directory);
    if (parent === directory) break;
    directory = parent;
  }
  return join(moduleDirectory(), "search-worker.js");
}

/**
 * The parent's Node flags minus the `@mlops/source` condition (tests run on TypeScript sources
 * with it; the built worker must import built packages).
 */
function workerExecArgv(): string[] {
  const out: string[] = [];
  const flags = process.execArgv;
  for (let i = 0; i < flags.length; i++) {
    const flag = flags[i];
    if (flag === "--conditions=@mlops/source" || flag === "-C=@mlops/source") continue;
    if ((flag === "--conditions" || flag === "-C") && flags[i + 1] === "@mlops/source") {
      i++;
      continue;
    }
    out.push(flag);
  }
  return out;
}

interface Pending {
  task: TrialTask;
  resolve: (result: TrialResult) => void;
  reject: (error: unknown) => void;
}

interface PoolWorker {
  worker: Worker;
  busy: Pending[];
}

/** Tasks each worker holds at once: one running and one queued hides the message round trip. */
const PER_WORKER = 2;

/**
 * A pool of `size` worker threads running `dist/search-worker.js`. Data, prepared tree data and
 * folds are posted once per worker (typed arrays on SharedArrayBuffers are shared, not copied);
 * each task is a small message. `open` resolves to undefined when a worker cannot build the
 * estimator (a class the package does not export): the caller then runs trials in-thread.
 */
export class WorkerPool implements TrialExecutor {
  readonly parallel: number;
  readonly #workers: PoolWorker[];
  readonly #queue: Pending[] = [];
  #failure: unknown;
  #closed = false;

  private constructor(workers: Worker[]) {
    this.parallel = workers.length;
    this.#workers = workers.map((worker) => ({ worker, busy: [] }));
    for (const entry of this.#workers) {
      entry.worker.on("message", (message: WorkerResponse) => {
        if (message.type !== "result") return;
        const index = entry.busy.findIndex((item) => item.task.id === message.result.id);
        if (index < 0) return;
        const [done] = entry.busy.splice(index, 1);
        done.resolve(message.result);
        this.#pump();
      });
      entry.worker.on("error", (error) => this.#fail(error));
      entry.worker.on("exit", (code) => {
        if (!this.#closed) {
          this.#fail(new MlopsError("argument_invalid", `search worker exited with code ${code}`));
        }
      });
    }
  }

  /** Starts `size` workers and sends them the data; undefined when they cannot run it. */
  static async open(
    size: number,
    data: TrialData,
    check: EstimatorSpec | undefined,
  ): Promise<WorkerPool | undefined> {
    const path = searchWorkerPath();
    if (!existsSync(path)) {
      throw new MlopsError(
        "file_not_found",
        `the search worker ${path} is missing: build @mlops/train (npm run build) or use nJobs: 1`,
      );
    }
    const workers: Worker[] = [];
    try {
      const answers = [];
      for (let i = 0; i < size; i++) {
        const worker = new Worker(path, { execArgv: workerExecArgv() });
        workers.push(worker);
        answers.push(
          new Promise<WorkerResponse>((resolve, reject) => {
            worker.once("message", resolve);
            worker.once("error", reject);
          }),
        );
        worker.postMessage({ type: "init", data, check } satisfies WorkerRequest);
      }
      const replies = await Promise.all(answers);
      if (replies.some((reply) => reply.type === "unsupported")) {
        await Promise.all(workers.map((worker) => worker.terminate()));
        return undefined;
      }
    } catch (error) {
      await Promise.all(workers.map((worker) => worker.terminate()));
      throw error;
    }
    return new WorkerPool(workers);
  }

  addDataset(key: string, data: TreeData): void {
    for (const { worker } of this.#workers) {
      worker.postMessage({ type: "dataset", key, data } satisfies WorkerRequest);
    }
  }

  addFolds(id: number, folds: Fold[]): void {
    for (const { worker } of this.#workers) {
      worker.postMessage({ type: "folds", id, folds } satisfies WorkerRequest);
    }
  }

  run(task: TrialTask): Promise<TrialResult> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      this.#queue.push({ task, resolve, reject });
      this.#pump();
    });
  }

  #pump(): void {
    for (let slot = 0; slot < PER_WORKER && this.#queue.length > 0; slot++) {
      for (const entry of this.#workers) {
        if (this.#queue.length === 0) return;
        if (entry.busy.length > slot) continue;
        const next = this.#queue.shift()!;
        entry.busy.push(next);
        entry.worker.postMessage({ type: "task", task: next.task } satisfies WorkerRequest);
      }
    }
  }

  #fail(error: unknown): void {
    if (this.#failure !== undefined) return;
    this.#failure =
      error instanceof Error
        ? error
        : new MlopsError(
            "argument_invalid",
            `search worker failed: ${toTrialError(error).message}`,
          );
    for (const entry of this.#workers) {
      for (const pending of entry.busy.splice(0)) pending.reject(this.#failure);
    }
    for (const pending of this.#queue.splice(0)) pending.reject(this.#failure);
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#workers.map(({ worker }) => worker.terminate()));
  }
}
