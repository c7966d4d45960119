import { availableParallelism } from "node:os";
import { isMainThread } from "node:worker_threads";
import { MlopsError, type MlopsErrorCode } from "@mlops/core";
import { builtModulePath, sharedThreadPool, type ThreadError } from "@mlops/core/internal";
import type { TreeArrays } from "../tree/nodes.js";
import type { ForestJob } from "./build.js";

/**
 * The built worker module of forests, `dist/forest-worker.js` of this package, found from this
 * module's place (`dist/` once built, `src/forest/` in tests and docs).
 */
export function resolveForestWorker(
  base: string,
  exists?: (path: string) => boolean,
  readManifest?: (path: string) => string,
): string | undefined {
  return builtModulePath(base, "@mlops/train", "forest-worker.js", exists, readManifest);
}

function workerFile(): string {
  const found = resolveForestWorker(import.meta.url);
  if (found === undefined) {
    throw new MlopsError(
      "file_not_found",
      "RandomForestRegressor: the worker module dist/forest-worker.js of @mlops/train is not " +
        "built; build the package (npm run build -w @mlops/train) or fit with nJobs: 1",
    );
  }
  return found;
}

let nextJobId = 1;

/**
 * The worker threads a fit with `nJobs` uses: `nJobs`, or for null the machine's available
 * parallelism (1 inside a worker thread, such as a search trial's, which is already one of
 * many), never more than there are trees.
 */
export function resolveJobs(nJobs: number | null, treeCount: number): number {
  const jobs = nJobs ?? (isMainThread ? availableParallelism() : 1);
  return Math.max(1, Math.min(jobs, treeCount));
}

/** What a forest thread posts: a tree (and its profile predictions), or its error. */
interface ForestMessage {
  jobId?: number;
  index?: number;
  tree?: TreeArrays;
  predictions?: Float64Array;
  error?: ThreadError;
}

/** The trees of a forest built on threads, and their summed predictions on the profile rows. */
export interface BuiltTrees {
  trees: TreeArrays[];
  /** Per profile row, the sum of the trees' predictions in tree order (with `profileColumns`). */
  profileSum: Float64Array | undefined;
}

/**
 * Adds per-tree predictions to a sum in tree order, whatever order the trees arrive in (a
 * floating-point sum depends on its order: the forest's is tree 0, 1, 2, …). Holds only the
 * trees that arrived ahead of a missing one.
 */
export class OrderedSum {
  readonly sum: Float64Array;
  readonly #waiting = new Map<number, Float64Array>();
  #next = 0;

  constructor(length: number) {
    this.sum = new Float64Array(length);
  }

  /** Trees added to `sum` so far (0 … added − 1). */
  get added(): number {
    return this.#next;
  }

  add(index: number, values: Float64Array): void {
    this.#waiting.set(index, values);
    const { sum } = this;
    for (;;) {
      const ready = this.#waiting.get(this.#next);
      if (ready === undefined) return;
      this.#waiting.delete(this.#next);
      for (let i = 0; i < sum.length; i++) sum[i] += ready[i];
      this.#next++;
    }
  }
}

/**
 * Builds every tree of `job` on `jobs` threads of the process's forest pool and waits for them
 * (the calling thread blocks, so `fit` stays synchronous); trees come back in index order. The
 * threads take tree indices from a shared counter; the prepared data is shared, so a thread's
 * own heap holds one tree's scratch arrays only. With `job.profileColumns` each thread also
 * predicts those rows with each tree it builds, and the predictions are summed here in tree
 * order as they arrive.
 */
export function buildTreesInWorkers(job: ForestJob, jobs: number): BuiltTrees {
  const pool = sharedThreadPool({
    module: workerFile(),
    handler: "runForestJob",
    size: jobs,
    name: "RandomForestRegressor",
  });
  const jobId = nextJobId++;
  const count = job.treeSeeds.length;
  const trees: (TreeArrays | undefined)[] = new Array(count).fill(undefined);
  const profileRows = job.profileColumns?.[0]?.length ?? 0;
  const sum = job.profileColumns === undefined ? undefined : new OrderedSum(profileRows);
  let failure: ThreadError | undefined;
  pool.runBlocking(
    (control) => ({ ...job, jobId, control }),
    (received) => {
      const message = received as ForestMessage;
      if (message.error !== undefined) failure ??= message.error;
      else if (message.jobId === jobId && message.index !== undefined) {
        trees[message.index] = message.tree;
        if (sum !== undefined && message.predictions !== undefined) {
          sum.add(message.index, message.predictions);
        }
      }
    },
  );
  if (failure !== undefined) {
    const code = failure.code as MlopsErrorCode | undefined;
    throw new MlopsError(code ?? "argument_invalid", `RandomForestRegressor: ${failure.message}`);
  }
  const missing = trees.indexOf(undefined);
  if (missing >= 0) {
    throw new MlopsError(
      "argument_invalid",
      `RandomForestRegressor: tree ${missing} never came back from its worker thread`,
    );
  }
  if (sum !== undefined && sum.added !== count) {
    throw new MlopsError(
      "argument_invalid",
      `RandomForestRegressor: the predictions of tree ${sum.added} never came back from its ` +
        "worker thread",
    );
  }
  return { trees: trees as TreeArrays[], profileSum: sum?.sum };
}
