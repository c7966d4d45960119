import { MlopsError, type Predictor } from "@mlops/core";
import { builtModulePath, ThreadPool } from "@mlops/core/internal";
import {
  type BatchResult,
  loadPredictor,
  runTask,
  type ScoringTask,
  transferable,
} from "./scorer.js";
import type { BatchWorkerRequest } from "./worker.js";

/** Scores batches, here or on worker threads; results come back as promises. */
export interface BatchScorer {
  readonly threads: number;
  score<R extends BatchResult = BatchResult>(task: ScoringTask): Promise<R>;
  close(): Promise<void>;
}

/** `workers: 0`: every batch scored on the calling thread. */
export class InThreadScorer implements BatchScorer {
  readonly threads = 0;
  readonly #predictor: Predictor;

  constructor(artifact: Uint8Array, source: string) {
    this.#predictor = loadPredictor(artifact, source);
  }

  async score<R extends BatchResult = BatchResult>(task: ScoringTask): Promise<R> {
    return (await runTask(this.#predictor, task)) as R;
  }

  async close(): Promise<void> {}
}

/**
 * The built worker module `dist/batch-worker.js` of @mlops/serve, found from this module's place
 * (`src/batch/` in tests, `dist/` once built and installed); undefined when it is not built.
 */
export function batchWorkerPath(): string | undefined {
  return builtModulePath(import.meta.url, "@mlops/serve", "batch-worker.js");
}

/**
 * Young-generation size of each worker's heap, in MiB (V8's default is about 48), by the inputs
 * the run reads. A CSV chunk's typed arrays (its columns, bounds, predictions: ~3 MB outside the
 * heap per 16,384 rows) are freed only when the thread next collects, and a CSV worker makes so
 * little garbage on its heap that it collects rarely: with 2 MiB it scavenges about once a chunk
 * (1M rows, 2 workers: peak RSS 165-171 MB, 200-208 MB with 8). Parquet decoding makes more heap
 * garbage and collects often anyway; there 2 MiB costs ~5 % CPU for no memory: 8.
 */
export const YOUNG_GENERATION_MB = { csv: 2, other: 8 } as const;

/**
 * `threads` worker threads of core's `ThreadPool` running dist/batch-worker.js, each with its own
 * compiled copy of the model; batches go to the least busy thread (two held per thread: one
 * scoring, one queued behind it) and results resolve per batch (the caller keeps the order).
 * A thread that dies fails the batches in flight and every later one.
 */
export class WorkerScorer implements BatchScorer {
  readonly threads: number;
  readonly #pool: ThreadPool;
  #failure: unknown;

  private constructor(pool: ThreadPool) {
    this.threads = pool.size;
    this.#pool = pool;
    pool.onFailure = (error) => {
      this.#failure ??= error;
    };
  }

  /**
   * Starts `threads` workers, which begin loading their modules at once (the caller goes on
   * with other work meanwhile); `load` then compiles the model in each.
   */
  static start(
    threads: number,
    youngGenerationMb: number = YOUNG_GENERATION_MB.other,
  ): WorkerScorer {
    const path = batchWorkerPath();
    if (path === undefined) {
      throw new MlopsError(
        "file_not_found",
        "the batch worker dist/batch-worker.js of @mlops/serve is missing: build @mlops/serve " +
          "(npm run build) or score with workers: 0",
      );
    }
    return new WorkerScorer(
      new ThreadPool({
        module: path,
        size: threads,
        perThread: 2,
        name: "batch scoring",
        // A small young generation keeps each worker's heap, and the chunks' arrays it holds
        // until it collects (the process's RSS), small, at no measurable cost in speed.
        resourceLimits: { maxYoungGenerationSizeMb: youngGenerationMb },
      }),
    );
  }

  /** Compiles the model in every thread; closes the pool if one fails. */
  async load(artifact: Uint8Array, source: string): Promise<this> {
    try {
      const init: BatchWorkerRequest = { type: "init", artifact, source };
      await Promise.all(
        Array.from({ length: this.threads }, (_, index) => this.#pool.runOn(index, init)),
      );
    } catch (error) {
      await this.close();
      throw error;
    }
    return this;
  }

  score<R extends BatchResult = BatchResult>(task: ScoringTask): Promise<R> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    // The columns (or a CSV chunk's bytes) move to the thread instead of being copied.
    const moved = transferable(task);
    return this.#pool.run<R>(
      { type: "task", task: moved.task } satisfies BatchWorkerRequest,
      moved.transfer,
    );
  }

  /** Terminates the threads (again: a no-op). */
  close(): Promise<void> {
    return this.#pool.close();
  }
}
