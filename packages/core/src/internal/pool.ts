import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import {
  MessageChannel,
  type MessagePort,
  type ResourceLimits,
  receiveMessageOnPort,
  type TransferListItem,
  Worker,
} from "node:worker_threads";
import { MlopsError, type MlopsErrorCode } from "../errors/error.js";

/**
 * The code every pool thread starts with (CommonJS, evaluated): it imports the worker module,
 * then hands each message to the module's handler and answers requests. Loading inside the
 * thread's own code means a module that fails to load is reported per message like any other
 * error; a message carrying a `control` array counts itself finished there, errors included, so
 * a thread blocked in `runBlocking` always wakes. A result made by `transferResult` moves its
 * buffers to the caller instead of copying them.
 */
const BOOTSTRAP = `
const { workerData } = require("node:worker_threads");
const { port, file, handler } = workerData;
const TRANSFER = Symbol.for("mlops.pool.transfer");
const loaded = import(file).then((module) => module, (error) => ({ loadError: error }));
const describe = (error) => ({
  name: typeof error?.name === "string" ? error.name : "Error",
  code: typeof error?.code === "string" ? error.code : undefined,
  message: String(error?.message ?? error),
});
port.on("message", async (envelope) => {
  const { id, payload, control } = envelope;
  try {
    const module = await loaded;
    if (module.loadError) throw module.loadError;
    if (typeof module[handler] !== "function") {
      throw new Error("the worker module " + file + " exports no function " + handler);
    }
    const result = await module[handler](payload, port);
    if (id !== undefined) {
      const transfer = result !== null && typeof result === "object" ? result[TRANSFER] : undefined;
      if (transfer === undefined) port.postMessage({ id, result });
      else port.postMessage({ id, result: result.value }, transfer);
    }
  } catch (error) {
    port.postMessage({ id, error: describe(error) });
  } finally {
    if (control !== undefined) {
      Atomics.add(control, 1, 1);
      Atomics.notify(control, 1);
    }
  }
});
`;

/** An error raised in a pool thread, as plain data (errors do not cross threads). */
export interface ThreadError {
  name: string;
  code?: string;
  message: string;
}

/** What the bootstrap posts back: a request's answer, or a failure (`id` undefined: a broadcast's). */
interface Reply {
  id?: number;
  result?: unknown;
  error?: ThreadError;
}

interface Pending {
  payload: unknown;
  transfer: readonly TransferListItem[] | undefined;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

interface Thread {
  worker: Worker;
  port: MessagePort;
  /** Requests posted to this thread and not answered yet, by id. */
  busy: Map<number, Pending>;
  exited: boolean;
}

export interface ThreadPoolOptions {
  /** Absolute path of the built worker module (JavaScript, ES module or CommonJS). */
  module: string;
  /** The module's export that handles a message: `(payload, port) => result` (default `"onMessage"`). */
  handler?: string;
  /** Threads to start (at least 1). */
  size: number;
  /** Requests one thread holds at once: one running and one queued hides the round trip (default 2). */
  perThread?: number;
  /** Who uses the pool, for error messages (`"RandomForestRegressor"`, `"search"`). */
  name: string;
  /** Heap limits of each thread (batch scoring keeps the young generation small). */
  resourceLimits?: ResourceLimits;
}

const TRANSFER = Symbol.for("mlops.pool.transfer");

/**
 * What a worker module's handler returns to move buffers to the caller instead of copying them
 * (`value` arrives as the request's result; the buffers are unusable in the thread after).
 *
 * @example
 * export function onMessage(task) {
 *   const bytes = encode(task);
 *   return transferResult({ bytes }, [bytes.buffer]);
 * }
 */
export function transferResult<T>(value: T, transfer: readonly TransferListItem[]): T {
  return { [TRANSFER]: transfer, value } as unknown as T;
}

/**
 * The parent's Node flags minus the `@mlops/source` condition (this repository's tests run on
 * TypeScript sources with it, and a worker module is built JavaScript that imports built
 * packages), flags about the parent's own entry (`node --input-type=module -e …`: the threads
 * start from evaluated CommonJS) and V8 heap sizes (per process; a thread refuses them, and
 * `resourceLimits` sets its own).
 */
export function workerExecArgv(flags: readonly string[] = process.execArgv): string[] {
  const out: string[] = [];
  for (let i = 0; i < flags.length; i++) {
    const flag = flags[i];
    if (flag === "--conditions=@mlops/source" || flag === "-C=@mlops/source") continue;
    if ((flag === "--conditions" || flag === "-C") && flags[i + 1] === "@mlops/source") {
      i++;
      continue;
    }
    if (flag.startsWith("--input-type") || flag.startsWith("--max-")) continue;
    out.push(flag);
  }
  return out;
}

/**
 * A built worker module: `<file>` beside `from` (a module URL: the package's `dist/`, or a bundle
 * that copied its workers beside it), else `dist/<file>` of the package named `packageName`,
 * found by walking up from `from` to its `package.json` (this repository's tests run from
 * `src/<concept>/`); undefined when there is no such file.
 *
 * @example
 * builtModulePath(import.meta.url, "@mlops/train", "forest-worker.js");
 */
export function builtModulePath(
  from: string,
  packageName: string,
  file: string,
  exists: (path: string) => boolean = existsSync,
  readManifest: (path: string) => string = (path) => readFileSync(path, "utf8"),
): string | undefined {
  let directory = dirname(fileURLToPath(from));
  const beside = join(directory, file);
  if (exists(beside)) return beside;
  for (let up = 0; up < 8; up++) {
    const manifest = join(directory, "package.json");
    if (exists(manifest)) {
      let name: string | undefined;
      try {
        name = (JSON.parse(readManifest(manifest)) as { name?: string }).name;
      } catch {
        // Not a readable manifest: keep looking upwards.
      }
      if (name === packageName) {
        const path = join(directory, "dist", file);
        return exists(path) ? path : undefined;
      }
    }
    const parent = dirname(directory);
    if (parent === directory) break;
    directory = parent;
  }
  return undefined;
}

/**
 * A pool of worker threads running one worker module, for CPU-bound work that shares its data
 * through SharedArrayBuffers (forests, hyperparameter search, batch scoring). Two ways to use it:
 *
 * - `run(payload)` sends a request to the least busy thread and resolves to what the module's
 *   handler returned (at most `perThread` requests wait in a thread; the rest queue here).
 *   `broadcast(payload)` sends state every thread keeps (a data set, folds) before later requests.
 * - `runBlocking(payload, onMessage)` sends one job to every thread and blocks the calling thread
 *   in `Atomics.wait` until each has finished, handing every message a thread posts on its port
 *   to `onMessage` — for APIs that must stay synchronous (`fit`).
 *
 * Idle threads do not keep the process alive. A thread that fails fails the requests it holds
 * (and, through `onFailure`, whoever owns the pool); `close()` terminates the threads.
 *
 * Why our own pool and not piscina or tinypool: both are promise-only (a synchronous `fit` cannot
 * wait on them), neither can post state to every thread, and on this workload they measured
 * slower (`bench/pool.mjs`).
 *
 * @example
 * const pool = new ThreadPool({ module: path, size: 2, name: "search" });
 * pool.broadcast({ type: "dataset", data });
 * const result = await pool.run({ type: "task", task });
 * await pool.close();
 */
export class ThreadPool {
  readonly name: string;
  readonly #module: string;
  readonly #handler: string;
  readonly #perThread: number;
  readonly #resourceLimits: ResourceLimits | undefined;
  readonly #threads: Thread[] = [];
  readonly #queue: Pending[] = [];
  #nextId = 1;
  #closed = false;
  /** Called once when a thread dies or reports an error outside a request. */
  onFailure: ((error: MlopsError) => void) | undefined;

  constructor(options: ThreadPoolOptions) {
    if (!Number.isInteger(options.size) || options.size < 1) {
      throw new MlopsError(
        "argument_invalid",
        `${options.name}: expected a thread count ≥ 1, got ${String(options.size)}`,
      );
    }
    this.name = options.name;
    this.#module = options.module;
    this.#handler = options.handler ?? "onMessage";
    this.#perThread = Math.max(1, options.perThread ?? 2);
    this.#resourceLimits = options.resourceLimits;
    this.resize(options.size);
  }

  /** Threads alive now. */
  get size(): number {
    return this.#threads.length;
  }

  /** Starts threads until there are `size` (threads are never stopped by it). */
  resize(size: number): void {
    while (this.#threads.length < size) this.#threads.push(this.#start());
  }

  #start(): Thread {
    const { port1, port2 } = new MessageChannel();
    const options = (execArgv: string[]) => ({
      eval: true,
      execArgv,
      ...(this.#resourceLimits ? { resourceLimits: this.#resourceLimits } : {}),
      workerData: {
        port: port2,
        file: pathToFileURL(this.#module).href,
        handler: this.#handler,
      },
      transferList: [port2],
    });
    let worker: Worker;
    try {
      worker = new Worker(BOOTSTRAP, options(workerExecArgv()));
    } catch (error) {
      // V8 flags (`node --expose-gc`, `--max-old-space-size`) are refused by worker threads; the
      // built worker module needs none of the parent's flags.
      if ((error as NodeJS.ErrnoException).code !== "ERR_WORKER_INVALID_EXEC_ARGV") throw error;
      worker = new Worker(BOOTSTRAP, options([]));
    }
    const thread: Thread = { worker, port: port1, busy: new Map(), exited: false };
    worker.unref();
    port1.unref();
    port1.on("message", (reply: Reply) => this.#answer(thread, reply));
    // `unref` again: listening refs the port, and idle threads must not hold the process.
    port1.unref();
    worker.on("error", (error) => this.#lose(thread, error));
    worker.on("exit", (code) => {
      if (!this.#closed) {
        this.#lose(thread, new Error(`a worker thread exited with code ${code}`));
      }
    });
    return thread;
  }

  #answer(thread: Thread, reply: Reply): void {
    if (reply.id === undefined) {
      if (reply.error !== undefined) this.#lose(thread, threadError(this.name, reply.error));
      return;
    }
    const pending = thread.busy.get(reply.id);
    if (pending === undefined) return;
    thread.busy.delete(reply.id);
    if (thread.busy.size === 0) thread.port.unref();
    if (reply.error !== undefined) pending.reject(threadError(this.name, reply.error));
    else pending.resolve(reply.result);
    this.#pump();
  }

  /** A thread failed outside a request: fail its requests, drop it, tell the owner. */
  #lose(thread: Thread, cause: unknown): void {
    if (thread.exited) return;
    thread.exited = true;
    const at = this.#threads.indexOf(thread);
    if (at >= 0) this.#threads.splice(at, 1);
    const error = MlopsError.isInstance(cause)
      ? cause
      : new MlopsError(
          "argument_invalid",
          `${this.name}: ${cause instanceof Error ? cause.message : String(cause)}`,
          { cause },
        );
    for (const pending of thread.busy.values()) pending.reject(error);
    thread.busy.clear();
    void thread.worker.terminate();
    if (this.#threads.length === 0) {
      for (const pending of this.#queue.splice(0)) pending.reject(error);
    }
    this.onFailure?.(error);
  }

  /** Sends `payload` to every thread (no answer); later requests see it. */
  broadcast(payload: unknown): void {
    for (const thread of this.#threads) thread.port.postMessage({ payload });
  }

  /** Sends `payload` to thread `index` and resolves to its handler's result. */
  runOn<T = unknown>(index: number, payload: unknown): Promise<T> {
    const thread = this.#threads[index];
    if (thread === undefined) {
      return Promise.reject(new MlopsError("argument_invalid", `${this.name}: no thread ${index}`));
    }
    return new Promise<T>((resolve, reject) => {
      this.#post(thread, {
        payload,
        transfer: undefined,
        resolve: resolve as (value: unknown) => void,
        reject,
      });
    });
  }

  /** Runs `payload` on the least busy thread; resolves to its handler's result. */
  run<T = unknown>(payload: unknown, transfer?: readonly TransferListItem[]): Promise<T> {
    if (this.#closed) {
      return Promise.reject(new MlopsError("argument_invalid", `${this.name}: the pool is closed`));
    }
    if (this.#threads.length === 0) {
      return Promise.reject(
        new MlopsError("argument_invalid", `${this.name}: every worker thread has failed`),
      );
    }
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ payload, transfer, resolve: resolve as (value: unknown) => void, reject });
      this.#pump();
    });
  }

  #post(thread: Thread, pending: Pending): void {
    const id = this.#nextId++;
    if (thread.busy.size === 0) thread.port.ref();
    thread.busy.set(id, pending);
    thread.port.postMessage({ id, payload: pending.payload }, pending.transfer);
  }

  /** Fills every thread up to `perThread` requests, round by round (the least busy first). */
  #pump(): void {
    for (let slot = 0; slot < this.#perThread && this.#queue.length > 0; slot++) {
      for (const thread of this.#threads) {
        if (this.#queue.length === 0) return;
        if (thread.busy.size > slot) continue;
        this.#post(thread, this.#queue.shift()!);
      }
    }
  }

  /**
   * Sends `payload(control)` to every thread and blocks until each has handled it; every message
   * a thread posts meanwhile goes to `onMessage` (in arrival order per thread). `control` is an
   * `Int32Array` on shared memory: slot 0 is free for the job (a shared work counter), slot 1
   * counts finished threads. Errors thrown by the handler arrive as `{ error }` messages.
   *
   * A thread killed outright (out of memory) cannot count itself finished, and the wait would not
   * end: keep what a thread allocates per job small and the data shared.
   */
  runBlocking(
    payload: (control: Int32Array) => unknown,
    onMessage: (message: unknown) => void,
  ): void {
    if (this.#closed) throw new MlopsError("argument_invalid", `${this.name}: the pool is closed`);
    const control = new Int32Array(new SharedArrayBuffer(8));
    const team = [...this.#threads];
    const message = payload(control);
    const drain = (): void => {
      for (const { port } of team) {
        for (;;) {
          const received = receiveMessageOnPort(port);
          if (received === undefined) break;
          onMessage(received.message);
        }
      }
    };
    for (const { port } of team) port.postMessage({ payload: message, control });
    for (;;) {
      const finished = Atomics.load(control, 1);
      drain();
      if (finished >= team.length) break;
      // Woken by each finishing thread; the timeout bounds how long messages wait in the ports.
      Atomics.wait(control, 1, finished, 200);
    }
    drain();
  }

  /** Terminates every thread; requests still waiting are rejected. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const error = new MlopsError("argument_invalid", `${this.name}: the pool was closed`);
    for (const pending of this.#queue.splice(0)) pending.reject(error);
    const threads = this.#threads.splice(0);
    for (const thread of threads) {
      for (const pending of thread.busy.values()) pending.reject(error);
      thread.busy.clear();
    }
    await Promise.all(threads.map((thread) => thread.worker.terminate()));
  }
}

/** A thread's error as an `MlopsError` with its code (when it had one of ours) and message. */
export function threadError(name: string, error: ThreadError): MlopsError {
  return new MlopsError(
    (error.code as MlopsErrorCode | undefined) ?? "argument_invalid",
    `${name}: ${error.message}`,
  );
}

/** Pools kept for the life of the process, one per worker module (`sharedThreadPool`). */
const shared = new Map<string, ThreadPool>();

/**
 * The process-wide pool of `module`, with at least `size` threads: for short synchronous jobs
 * (a forest's `fit`) that would otherwise pay for starting threads every time. Its threads stay
 * idle between jobs and never keep the process alive; never close it.
 */
export function sharedThreadPool(options: ThreadPoolOptions): ThreadPool {
  let pool = shared.get(options.module);
  if (pool === undefined || pool.size === 0) {
    pool = new ThreadPool(options);
    shared.set(options.module, pool);
  } else {
    pool.resize(options.size);
  }
  return pool;
}
