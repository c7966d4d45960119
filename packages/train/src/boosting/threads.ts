import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { fileURLToPath, pathToFileURL } from "node:url";
import { isMainThread, Worker } from "node:worker_threads";
import { MlopsError } from "@mlops/core";
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
 * The worker code each thread starts with (CommonJS, evaluated): it loads the built worker
 * module and runs each fit's team loop. Loading inside the worker's own code reports a module
 * that fails to load through the control words like any other failure.
 */
const BOOTSTRAP = `
const { workerData, parentPort } = require("node:worker_threads");
const loaded = import(workerData.file).then((module) => module, (error) => ({ loadError: error }));
parentPort.on("message", async (setup) => {
  const module = await loaded;
  if (module.loadError) {
    Atomics.store(setup.control, 6, 2);
    Atomics.add(setup.control, 7, 1);
    Atomics.notify(setup.control, 7);
    return;
  }
  module.runTeamWorker(setup);
});
`;

/**
 * The worker module next to this code: `./boosting-worker.js` from `dist/`, or
 * `../../dist/boosting-worker.js` from `src/boosting/` (tests, docs).
 */
function workerFile(): string {
  for (const relative of ["./boosting-worker.js", "../../dist/boosting-worker.js"]) {
    const path = fileURLToPath(new URL(relative, import.meta.url));
    if (existsSync(path)) return path;
  }
  throw new MlopsError(
    "file_not_found",
    "HistGradientBoostingRegressor: the worker module dist/boosting-worker.js of @mlops/train " +
      "is not built; build the package (npm run build -w @mlops/train) or fit with nJobs: 1",
  );
}

/** The parent's Node flags minus the `@mlops/source` condition (the worker imports built code). */
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

/** Idle workers kept between fits (unref'd: they do not keep the process alive). */
const idle: Worker[] = [];

function takeWorkers(count: number): Worker[] {
  const file = pathToFileURL(workerFile()).href;
  while (idle.length < count) {
    let worker: Worker;
    try {
      worker = new Worker(BOOTSTRAP, {
        eval: true,
        execArgv: workerExecArgv(),
        workerData: { file },
      });
    } catch {
      // Flags a worker may not take (--expose-gc, …): the built worker needs none of them.
      worker = new Worker(BOOTSTRAP, { eval: true, execArgv: [], workerData: { file } });
    }
    worker.unref();
    worker.on("exit", () => {
      const at = idle.indexOf(worker);
      if (at >= 0) idle.splice(at, 1);
    });
    idle.push(worker);
  }
  return idle.splice(0, count);
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
  readonly #workers: Worker[];
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
    this.#workers = takeWorkers(threads - 1);
  }

  /** Sends each worker its setup and waits until all are in their loop. */
  #start(): void {
    this.#started = true;
    const control = this.#control;
    const { rowStride, bins } = this.#data;
    const { codes, gradient, hessian } = this.#rows;
    this.#workers.forEach((worker, i) => {
      const [f0, f1] = this.#ranges[i + 1];
      worker.postMessage({
        control,
        codes,
        rowStride,
        bins,
        gradient,
        hessian,
        target: this.#target,
        f0,
        f1,
      } satisfies TeamSetup);
    });
    for (;;) {
      const ready = Atomics.load(control, READY);
      if (ready >= this.#workers.length) break;
      Atomics.wait(control, READY, ready, 1000);
    }
    if (Atomics.load(control, FAILED) !== 0) {
      this.close();
      throw new MlopsError(
        "argument_invalid",
        "HistGradientBoostingRegressor: a worker thread could not load " +
          "dist/boosting-worker.js; rebuild @mlops/train or fit with nJobs: 1",
      );
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
    const others = this.#workers.length;
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
    // The workers return to their event loop and wait for the next fit.
    idle.push(...this.#workers.filter((worker) => worker.threadId >= 0));
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
