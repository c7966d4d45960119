import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { fileURLToPath, pathToFileURL } from "node:url";
import {
  isMainThread,
  MessageChannel,
  type MessagePort,
  receiveMessageOnPort,
  Worker,
} from "node:worker_threads";
import { MlopsError } from "@mlops/core";
import type { TreeArrays } from "../tree/nodes.js";
import type { ForestJob } from "./build.js";

/**
 * The code each worker thread starts with (CommonJS, evaluated): it loads the built worker
 * module, then runs every job posted to it. Loading inside the worker's own code means a
 * module that fails to load is reported per job like any other error, and every job ends by
 * counting itself finished, so the waiting thread always wakes.
 */
const BOOTSTRAP = `
const { workerData } = require("node:worker_threads");
const { port, file } = workerData;
const loaded = import(file).then((module) => module, (error) => ({ loadError: error }));
port.on("message", async (job) => {
  const module = await loaded;
  try {
    if (module.loadError) throw module.loadError;
    module.runForestJob(job, port);
  } catch (error) {
    port.postMessage({
      jobId: job.jobId,
      error: {
        code: typeof error?.code === "string" ? error.code : undefined,
        message: String(error?.message ?? error),
      },
    });
  } finally {
    Atomics.add(job.control, 1, 1);
    Atomics.notify(job.control, 1);
  }
});
`;

/**
 * The worker module next to this code: `./forest-worker.js` when this code runs from `dist/`,
 * `../../dist/forest-worker.js` when it runs from `src/forest/` (tests, docs); the first that
 * `exists`.
 */
export function resolveForestWorker(
  base: string,
  exists: (path: string) => boolean = existsSync,
): string | undefined {
  for (const relative of ["./forest-worker.js", "../../dist/forest-worker.js"]) {
    const path = fileURLToPath(new URL(relative, base));
    if (exists(path)) return path;
  }
  return undefined;
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

/**
 * The parent's Node flags minus the `@mlops/source` condition: tests run on TypeScript sources
 * with it, and the built worker must import built packages.
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

interface PoolWorker {
  worker: Worker;
  port: MessagePort;
}

/** Idle workers kept between fits, per worker module (they do not keep the process alive). */
const pools = new Map<string, PoolWorker[]>();
let nextJobId = 1;

function workers(file: string, count: number): PoolWorker[] {
  const pool = pools.get(file) ?? [];
  pools.set(file, pool);
  while (pool.length < count) {
    const { port1, port2 } = new MessageChannel();
    const worker = new Worker(BOOTSTRAP, {
      eval: true,
      execArgv: workerExecArgv(),
      workerData: { port: port2, file: pathToFileURL(file).href },
      transferList: [port2],
    });
    worker.unref();
    port1.unref();
    // A worker that dies is dropped from the pool; its job reports through the counters.
    worker.on("exit", () => {
      const at = pool.findIndex((entry) => entry.worker === worker);
      if (at >= 0) pool.splice(at, 1);
    });
    pool.push({ worker, port: port1 });
  }
  return pool.slice(0, count);
}

/**
 * The worker threads a fit with `nJobs` uses: `nJobs`, or for null the machine's available
 * parallelism (1 inside a worker thread, such as a search trial's, which is already one of
 * many), never more than there are trees.
 */
export function resolveJobs(nJobs: number | null, treeCount: number): number {
  const jobs = nJobs ?? (isMainThread ? availableParallelism() : 1);
  return Math.max(1, Math.min(jobs, treeCount));
}

/**
 * Builds every tree of `job` on `jobs` worker threads and waits for them (the calling thread
 * blocks in `Atomics.wait`, so `fit` stays synchronous); trees come back in index order. Every
 * job ends by counting itself finished, errors included (the bootstrap's `finally`); a thread
 * killed outright (out of memory) cannot, and the wait would not end: the prepared data is
 * shared, so a worker's own heap holds one tree's scratch arrays only.
 */
export function buildTreesInWorkers(job: ForestJob, jobs: number): TreeArrays[] {
  const file = workerFile();
  const team = workers(file, jobs);
  const control = new Int32Array(new SharedArrayBuffer(8));
  const jobId = nextJobId++;
  const count = job.treeSeeds.length;
  const trees: (TreeArrays | undefined)[] = new Array(count).fill(undefined);
  let failure: { code?: string; message: string } | undefined;
  const drain = (): void => {
    for (const { port } of team) {
      for (;;) {
        const received = receiveMessageOnPort(port);
        if (received === undefined) break;
        const message = received.message as {
          jobId: number;
          index?: number;
          tree?: TreeArrays;
          error?: { code?: string; message: string };
        };
        if (message.jobId !== jobId) continue;
        if (message.error !== undefined) failure ??= message.error;
        else if (message.index !== undefined) trees[message.index] = message.tree;
      }
    }
  };
  for (const { port } of team) port.postMessage({ ...job, jobId, control });
  for (;;) {
    const finished = Atomics.load(control, 1);
    drain();
    if (finished >= team.length) break;
    // Woken by each finishing worker; the timeout only bounds how long trees wait in the ports.
    Atomics.wait(control, 1, finished, 200);
  }
  drain();
  if (failure !== undefined) {
    const code = failure.code as ConstructorParameters<typeof MlopsError>[0] | undefined;
    throw new MlopsError(code ?? "argument_invalid", `RandomForestRegressor: ${failure.message}`);
  }
  const missing = trees.indexOf(undefined);
  if (missing >= 0) {
    throw new MlopsError(
      "argument_invalid",
      `RandomForestRegressor: tree ${missing} never came back from its worker thread`,
    );
  }
  return trees as TreeArrays[];
}
