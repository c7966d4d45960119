import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { MlopsError, type Predictor } from "@mlops/core";
import {
  type BatchResult,
  type BatchTask,
  loadPredictor,
  scoreTask,
  transferable,
} from "./scorer.js";
import type { BatchWorkerRequest, BatchWorkerResponse } from "./worker.js";

/** Scores batches, here or on worker threads; results come back as promises. */
export interface BatchScorer {
  readonly threads: number;
  score(task: BatchTask): Promise<BatchResult>;
  close(): Promise<void>;
}

/** `workers: 0`: every batch scored on the calling thread. */
export class InThreadScorer implements BatchScorer {
  readonly threads = 0;
  readonly #predictor: Predictor;

  constructor(artifact: Uint8Array, source: string) {
    this.#predictor = loadPredictor(artifact, source);
  }

  async score(task: BatchTask): Promise<BatchResult> {
    return scoreTask(this.#predictor, task);
  }

  async close(): Promise<void> {}
}

/**
 * The built worker entry `dist/batch-worker.js` of @mlops/serve, found from this module's place
 * (`src/batch/` in tests, `dist/` once built and installed).
 */
export function batchWorkerPath(): string {
  let directory = dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 6; up++) {
    const manifest = join(directory, "package.json");
    if (existsSync(manifest)) {
      try {
        const { name } = JSON.parse(readFileSync(manifest, "utf8")) as { name?: string };
        if (name === "@mlops/serve") return join(directory, "dist", "batch-worker.js");
      } catch {
        // Not a readable manifest: keep looking upwards.
      }
    }
    const parent = dirname(directory);
    if (parent === directory) break;
    directory = parent;
  }
  return join(dirname(fileURLToPath(import.meta.url)), "batch-worker.js");
}

/**
 * The parent's Node flags minus the `@mlops/source` condition (the worker runs built code) and
 * flags about the parent's entry point.
 */
function workerExecArgv(): string[] {
  const out: string[] = [];
  const flags = process.execArgv;
  for (let i = 0; i < flags.length; i++) {
    const flag = flags[i];
    if (flag === "--conditions=@mlops/source" || flag === "-C=@mlops/source") continue;
    // Flags about the parent's own entry (`node --input-type=module -e …`) do not apply to it,
    // and V8 heap sizes are per process (a worker refuses them; resourceLimits sets its own).
    if (flag.startsWith("--input-type") || flag.startsWith("--max-")) continue;
    if ((flag === "--conditions" || flag === "-C") && flags[i + 1] === "@mlops/source") {
      i++;
      continue;
    }
    out.push(flag);
  }
  return out;
}

interface Pending {
  task: BatchTask;
  resolve: (result: BatchResult) => void;
  reject: (error: unknown) => void;
}

interface Slot {
  worker: Worker;
  busy: Pending[];
}

/** Batches each worker holds at once: one scoring, one queued behind it. */
const PER_WORKER = 2;

/** Young-generation size of each worker's heap, in MiB (V8's default is about 48). */
const YOUNG_GENERATION_MB = 8;

/**
 * `threads` worker threads running dist/batch-worker.js, each with its own compiled copy of
 * the model; batches go to the least busy worker and results resolve per batch (the caller
 * keeps the order).
 */
export class WorkerScorer implements BatchScorer {
  readonly threads: number;
  readonly #slots: Slot[];
  readonly #queue: Pending[] = [];
  #failure: unknown;
  #closed = false;

  private constructor(workers: Worker[]) {
    this.threads = workers.length;
    this.#slots = workers.map((worker) => ({ worker, busy: [] }));
    for (const slot of this.#slots) {
      slot.worker.on("message", (message: BatchWorkerResponse) => {
        if (message.type === "ready") return;
        const id = message.type === "result" ? message.result.id : message.id;
        const at = slot.busy.findIndex((item) => item.task.id === id);
        if (at < 0) {
          if (message.type === "error") this.#fail(toError(message));
          return;
        }
        const [done] = slot.busy.splice(at, 1);
        if (message.type === "result") done.resolve(message.result);
        else done.reject(toError(message));
        this.#pump();
      });
      slot.worker.on("error", (error) => this.#fail(error));
      slot.worker.on("exit", (code) => {
        if (!this.#closed) {
          this.#fail(new MlopsError("batch_failed", `a batch worker exited with code ${code}`));
        }
      });
    }
  }

  /** Starts `threads` workers and compiles the model in each. */
  static async open(threads: number, artifact: Uint8Array, source: string): Promise<WorkerScorer> {
    const path = batchWorkerPath();
    if (!existsSync(path)) {
      throw new MlopsError(
        "file_not_found",
        `the batch worker ${path} is missing: build @mlops/serve (npm run build) or score ` +
          "with workers: 0",
      );
    }
    const workers: Worker[] = [];
    try {
      const ready: Promise<void>[] = [];
      for (let i = 0; i < threads; i++) {
        const worker = new Worker(path, {
          execArgv: workerExecArgv(),
          // Encoding makes many short-lived strings; a small young generation keeps each
          // worker's heap (and the process's RSS) small, at no measurable cost in speed.
          resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
        });
        workers.push(worker);
        ready.push(
          new Promise((resolve, reject) => {
            worker.once("message", (message: BatchWorkerResponse) =>
              message.type === "ready" ? resolve() : reject(toError(message as never)),
            );
            worker.once("error", reject);
          }),
        );
        worker.postMessage({ type: "init", artifact, source } satisfies BatchWorkerRequest);
      }
      await Promise.all(ready);
    } catch (error) {
      await Promise.all(workers.map((worker) => worker.terminate()));
      throw error;
    }
    return new WorkerScorer(workers);
  }

  score(task: BatchTask): Promise<BatchResult> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      this.#queue.push({ task, resolve, reject });
      this.#pump();
    });
  }

  #pump(): void {
    for (let depth = 0; depth < PER_WORKER && this.#queue.length > 0; depth++) {
      for (const slot of this.#slots) {
        if (this.#queue.length === 0) return;
        if (slot.busy.length > depth) continue;
        const next = this.#queue.shift()!;
        slot.busy.push(next);
        const { task, transfer } = transferable(next.task);
        slot.worker.postMessage({ type: "task", task } satisfies BatchWorkerRequest, transfer);
      }
    }
  }

  #fail(error: unknown): void {
    if (this.#failure !== undefined) return;
    this.#failure = error;
    for (const slot of this.#slots)
      for (const pending of slot.busy.splice(0)) pending.reject(error);
    for (const pending of this.#queue.splice(0)) pending.reject(error);
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#slots.map(({ worker }) => worker.terminate()));
  }
}

function toError(message: { code?: string; message: string }): MlopsError {
  return new MlopsError(
    (message.code as ConstructorParameters<typeof MlopsError>[0]) ?? "batch_failed",
    message.message,
  );
}
