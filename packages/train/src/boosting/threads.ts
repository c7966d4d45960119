import { availableParallelism } from "node:os";
import { isMainThread } from "node:worker_threads";
import { MlopsError } from "@mlops/core";
import {
  builtModulePath,
  sharedThreadPool,
  type ThreadError,
  type ThreadPool,
  threadError,
} from "@mlops/core/internal";
import {
  type GrowerData,
  type HistogramBuilder,
  LocalHistogramBuilder,
  type NodeRows,
} from "./grower.js";
import { BIN_STRIDE, buildHistogram } from "./histogram.js";

/** A histogram builder for a whole fit, closed at its end. */
export interface FitHistogramBuilder extends HistogramBuilder {
  close(): void;
}

/**
 * Threads a fit uses: `nJobs`, or for null the machine's available parallelism (1 inside a
 * worker thread, such as a search trial's), never more than there are features (threads split
 * the features).
 */
export function resolveThreads(nJobs: number | null, featureCount: number): number {
  const jobs = nJobs ?? (isMainThread ? availableParallelism() : 1);
  return Math.max(1, Math.min(jobs, featureCount));
}

/**
 * Rows × features below which a histogram is built on the calling thread alone: waking the
 * other threads costs tens of microseconds.
 */
const PARALLEL_MIN_UPDATES = 1 << 16;

// The shared control words of a team: the generation the workers wait on, the command, the
// rows to histogram, how many workers finished, and the first error.
const GENERATION = 0;
const COMMAND = 1;
const START = 2;
const END = 3;
const FINISHED = 5;
const FAILED = 6;
const READY = 7;
const CONTROL_WORDS = 8;

/** Commands of the control word. */
export const TEAM_BUILD = 1;
export const TEAM_STOP = 2;

/** What a worker receives once per fit (every array on shared memory). */
export interface TeamSetup {
  control: Int32Array;
  /** The node-order rows (see `NodeRows`). */
  codes: Uint8Array;
  rowStride: number;
  bins: number;
  gradient: Float32Array;
  hessian: Float32Array | undefined;
  /** The histogram being built (every thread writes its own features). */
  target: Float64Array;
  /** The features of this worker: `f0..f1`. */
  f0: number;
  f1: number;
}

/**
 * The worker side of a team: waits on the control words, builds its features of each requested
 * histogram, counts itself finished; returns on `TEAM_STOP`. Runs synchronously in the worker
 * until then (the fit's thread blocks too), so nothing else is scheduled on it meanwhile.
 */
export function runTeamWorker(setup: TeamSetup): void {
  const { control, codes, rowStride, bins, gradient, hessian, target, f0, f1 } = setup;
  // Read the generation before saying ready: the first build may follow at once.
  let generation = Atomics.load(control, GENERATION);
  Atomics.add(control, READY, 1);
  Atomics.notify(control, READY);
  for (;;) {
    Atomics.wait(control, GENERATION, generation);
    generation = Atomics.load(control, GENERATION);
    const command = Atomics.load(control, COMMAND);
    if (command === TEAM_STOP) return;
    try {
      const start = control[START];
      const end = control[END];
      target.fill(0, f0 * bins * BIN_STRIDE, f1 * bins * BIN_STRIDE);
      buildHistogram(codes, rowStride, bins, start, end, gradient, hessian, target, f0, f1);
    } catch {
      Atomics.store(control, FAILED, 1);
    }
    Atomics.add(control, FINISHED, 1);
    Atomics.notify(control, FINISHED);
  }
}

/**
 * The built worker module, `dist/boosting-worker.js` of this package, found from this module's
 * place (`dist/` once built, `src/boosting/` in tests and docs).
 */
function workerFile(): string {
  const found = builtModulePath(import.meta.url, "@mlops/train", "boosting-worker.js");
  if (found === undefined) {
    throw new MlopsError(
      "file_not_found",
      "HistGradientBoostingRegressor: the worker module dist/boosting-worker.js of @mlops/train " +
        "is not built; build the package (npm run build -w @mlops/train) or fit with nJobs: 1",
    );
  }
  return found;
}

/** What the pool's threads are sent: a probe (do they load?) or a fit's team setup. */
export type BoostingMessage = { type: "probe" } | ({ type: "team" } & TeamSetup);

/** The pool threads' handler (exported by `dist/boosting-worker.js`). */
export function onBoostingMessage(message: BoostingMessage): void {
  if (message.type === "team") runTeamWorker(message);
}

/**
 * `count` threads of the process's boosting pool (core's `ThreadPool`, shared by every fit), each
 * checked to have loaded the worker module: a thread that cannot load it answers the probe with
 * its error here, instead of leaving the fit waiting for a team member that never comes.
 */
function teamPool(count: number): ThreadPool {
  const pool = sharedThreadPool({
    module: workerFile(),
    handler: "onBoostingMessage",
    size: count,
    name: "HistGradientBoostingRegressor",
  });
  let failure: ThreadError | undefined;
  pool.runBlocking(
    () => ({ type: "probe" }) satisfies BoostingMessage,
    (received) => {
      const error = (received as { error?: ThreadError }).error;
      if (error !== undefined) failure ??= error;
    },
  );
  if (failure !== undefined) throw threadError(pool.name, failure);
  if (pool.size < count) {
    throw new MlopsError(
      "argument_invalid",
      `HistGradientBoostingRegressor: ${count} worker threads needed, ${pool.size} running`,
    );
  }
  return pool;
}

function sharedFloat64(length: number): Float64Array {
  return new Float64Array(new SharedArrayBuffer(8 * Math.max(1, length)), 0, length);
}

/**
 * A team of threads building each histogram together: the features are split into contiguous
 * ranges, one per thread (the calling thread takes the first); each bin is still summed in row
 * order by one thread, so the model is the same for any number of threads. The calling thread
 * blocks in `Atomics.wait` while the others finish, so `fit` stays synchronous.
 */
class TeamHistogramBuilder implements FitHistogramBuilder {
  readonly #data: GrowerData;
  readonly #control = new Int32Array(new SharedArrayBuffer(4 * CONTROL_WORDS));
  readonly #target: Float64Array;
  readonly #pool: ThreadPool;
  readonly #others: number;
  readonly #ranges: [number, number][];
  readonly #rows: NodeRows;
  #started = false;
  #closed = false;

  constructor(data: GrowerData, threads: number, rows: NodeRows) {
    this.#data = data;
    this.#rows = rows;
    this.#target = sharedFloat64(data.featureCount * data.bins * BIN_STRIDE);
    const per = data.featureCount / threads;
    this.#ranges = Array.from({ length: threads }, (_, t) => [
      Math.round(t * per),
      Math.round((t + 1) * per),
    ]);
    this.#others = threads - 1;
    this.#pool = teamPool(this.#others);
  }

  /** Sends each worker its setup and waits until all are in their loop. */
  #start(): void {
    this.#started = true;
    const control = this.#control;
    const { rowStride, bins } = this.#data;
    const { codes, gradient, hessian } = this.#rows;
    for (let i = 0; i < this.#others; i++) {
      const [f0, f1] = this.#ranges[i + 1];
      const setup: BoostingMessage = {
        type: "team",
        control,
        codes,
        rowStride,
        bins,
        gradient,
        hessian,
        target: this.#target,
        f0,
        f1,
      };
      // The thread stays in its team loop until `close`; the answer comes after the fit.
      this.#pool.runOn(i, setup).catch(() => {});
    }
    for (;;) {
      const ready = Atomics.load(control, READY);
      if (ready >= this.#others) break;
      Atomics.wait(control, READY, ready, 1000);
    }
  }

  build(start: number, end: number, histogram: Float64Array): void {
    const { featureCount, rowStride, bins } = this.#data;
    const { codes, gradient, hessian } = this.#rows;
    if ((end - start) * featureCount < PARALLEL_MIN_UPDATES) {
      buildHistogram(
        codes,
        rowStride,
        bins,
        start,
        end,
        gradient,
        hessian,
        histogram,
        0,
        featureCount,
      );
      return;
    }
    if (!this.#started) this.#start();
    const control = this.#control;
    control[START] = start;
    control[END] = end;
    control[COMMAND] = TEAM_BUILD;
    Atomics.store(control, FINISHED, 0);
    Atomics.add(control, GENERATION, 1);
    Atomics.notify(control, GENERATION);
    const [f0, f1] = this.#ranges[0];
    buildHistogram(codes, rowStride, bins, start, end, gradient, hessian, histogram, f0, f1);
    const others = this.#others;
    for (;;) {
      const finished = Atomics.load(control, FINISHED);
      if (finished >= others) break;
      Atomics.wait(control, FINISHED, finished);
    }
    if (Atomics.load(control, FAILED) !== 0) {
      throw new MlopsError(
        "argument_invalid",
        "HistGradientBoostingRegressor: a worker thread failed",
      );
    }
    const from = f1 * bins * BIN_STRIDE;
    histogram.set(this.#target.subarray(from), from);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#started) {
      const control = this.#control;
      control[COMMAND] = TEAM_STOP;
      Atomics.add(control, GENERATION, 1);
      Atomics.notify(control, GENERATION);
    }
    // The threads leave their team loop and wait in the pool for the next fit.
  }
}

/** The histogram builder of a fit on `threads` threads over the grower's node-order `rows`. */
export function createHistogramBuilder(
  data: GrowerData,
  threads: number,
  rows: NodeRows,
): FitHistogramBuilder {
  if (threads > 1) return new TeamHistogramBuilder(data, threads, rows);
  const local = new LocalHistogramBuilder(data, rows);
  return { build: (start, end, histogram) => local.build(start, end, histogram), close: () => {} };
}
