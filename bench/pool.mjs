// Worker-pool benchmark: @mlops's ThreadPool (@mlops/core/internal) against piscina and
// tinypool, the two pools the issue asked to try, on the shapes of work the packages give a pool.
//
//   node bench/pool.mjs [--threads 2] [--reps 5] [--tiny 20000] [--trials 400] [--wait 60]
//                       [--tree DIR]
//
// Every pool gets the same worker module (bench/pool-worker.mjs), the same thread count, the same
// warm-up (a tenth of each workload, untimed) and runs in a fresh child process per rep:
//
// - start: constructing the pool until every thread has answered once;
// - tiny: --tiny requests that echo a number, all queued at once (the pool's own overhead per
//   request: dispatch, message, answer);
// - trials: --trials requests of ~1 ms of CPU each over a 2M-value column on shared memory, as a
//   hyperparameter search's trials read one shared data set. Ours broadcasts the column once;
//   piscina and tinypool cannot post to every thread, so each request carries it (a
//   SharedArrayBuffer travels by reference: no copy, only the clone of its view).
//
// A forest's `fit` is synchronous, and so must wait for its trees without a promise: only
// ThreadPool.runBlocking can do that (piscina's and tinypool's `run` return promises), so that
// shape is timed by bench/forest.mjs, not here.
//
// Prints the median of the reps with the min–max spread and the machine's load; writes
// .bench/pool/results.json. `--tree DIR` measures the ThreadPool of another checkout.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import {
  bundleSources,
  flag,
  loadLine,
  markdownTable,
  option,
  positiveInteger,
  ROOT,
  runChild,
  sourceTree,
  spread,
  summary,
  versions,
  waitForQuiet,
  withLoad,
  writeEntry,
} from "./lib.mjs";

const SCRIPT = fileURLToPath(import.meta.url);
const OUT = join(ROOT, ".bench", "pool");
const WORKER = fileURLToPath(new URL("./pool-worker.mjs", import.meta.url));
const COLUMN = 2_000_000;
const POOLS = ["mlops", "piscina", "tinypool"];

function column() {
  const values = new Float64Array(new SharedArrayBuffer(COLUMN * 8));
  for (let i = 0; i < COLUMN; i++) values[i] = (i % 1000) / 1000;
  return values;
}

/** The three pools behind one face: start, run, broadcast (ours only), close. */
async function openPool(kind, threads) {
  if (kind === "mlops") {
    const { ThreadPool } = await import(pathToFileURL(join(OUT, "internal.js")).href);
    const pool = new ThreadPool({ module: WORKER, size: threads, name: "bench" });
    return {
      run: (task) => pool.run(task),
      ready: () =>
        Promise.all(
          Array.from({ length: threads }, (_, i) => pool.runOn(i, { type: "echo", value: i })),
        ),
      broadcast: (message) => pool.broadcast(message),
      close: () => pool.close(),
    };
  }
  if (kind === "piscina") {
    const { Piscina } = await import("piscina");
    const pool = new Piscina({ filename: WORKER, minThreads: threads, maxThreads: threads });
    return {
      run: (task) => pool.run(task),
      ready: () =>
        Promise.all(
          Array.from({ length: threads }, (_, i) => pool.run({ type: "echo", value: i })),
        ),
      broadcast: undefined,
      close: () => pool.destroy(),
    };
  }
  const { Tinypool } = await import("tinypool");
  const pool = new Tinypool({ filename: WORKER, minThreads: threads, maxThreads: threads });
  return {
    run: (task) => pool.run(task),
    ready: () =>
      Promise.all(Array.from({ length: threads }, (_, i) => pool.run({ type: "echo", value: i }))),
    broadcast: undefined,
    close: () => pool.destroy(),
  };
}

async function tiny(pool, count) {
  const answers = [];
  for (let i = 0; i < count; i++) answers.push(pool.run({ type: "echo", value: i }));
  const values = await Promise.all(answers);
  if (values[count - 1] !== count - 1) throw new Error("echo answered the wrong value");
}

async function trials(pool, count, data) {
  const answers = [];
  for (let i = 0; i < count; i++) {
    const task = {
      type: "trial",
      start: (i * 7919) % (COLUMN - 200_000),
      rows: 200_000,
      passes: 2,
    };
    if (!pool.broadcast) task.data = data;
    answers.push(pool.run(task));
  }
  const values = await Promise.all(answers);
  if (!values.every(Number.isFinite)) throw new Error("a trial answered a non-number");
}

async function child() {
  const kind = option("pool");
  const threads = positiveInteger("threads", 2);
  const tinyCount = positiveInteger("tiny", 20000);
  const trialCount = positiveInteger("trials", 400);
  const data = column();
  const startedAt = performance.now();
  const pool = await openPool(kind, threads);
  await pool.ready();
  const start = (performance.now() - startedAt) / 1000;
  pool.broadcast?.({ type: "data", data });
  // The same warm-up for every pool: a tenth of each workload.
  await tiny(pool, Math.ceil(tinyCount / 10));
  await trials(pool, Math.ceil(trialCount / 10), data);
  let began = performance.now();
  await tiny(pool, tinyCount);
  const tinySeconds = (performance.now() - began) / 1000;
  began = performance.now();
  const measured = await withLoad(() => trials(pool, trialCount, data));
  const trialSeconds = (performance.now() - began) / 1000;
  await pool.close();
  writeFileSync(
    option("out"),
    JSON.stringify({ start, tinySeconds, trialSeconds, busyCores: measured.busyCores }),
  );
}

async function parent() {
  const threads = positiveInteger("threads", 2);
  const reps = positiveInteger("reps", 5);
  const tinyCount = positiveInteger("tiny", 20000);
  const trialCount = positiveInteger("trials", 400);
  const wait = Number(option("wait", 60));
  mkdirSync(OUT, { recursive: true });
  const tree = sourceTree();
  await bundleSources(
    {
      internal: writeEntry(
        join(OUT, "entry.mjs"),
        `export { ThreadPool } from ${JSON.stringify(join(tree, "packages/core/src/internal/index.ts"))};\n`,
      ),
    },
    OUT,
  );
  console.log(`${versions()}, ${threads} threads, ${reps} reps (fresh process each), tree ${tree}`);
  console.log(await loadLine());
  const busy = await waitForQuiet(wait);
  console.log(`busy cores before the runs: ${busy.toFixed(2)}\n`);
  const results = {};
  for (const kind of POOLS) results[kind] = [];
  // Interleaved (ours, piscina, tinypool, ours, …): a load that comes and goes hits all three.
  for (let rep = 0; rep < reps; rep++) {
    for (const kind of POOLS) {
      const args = ["--pool", kind, "--threads", String(threads), "--tiny", String(tinyCount)];
      args.push("--trials", String(trialCount));
      results[kind].push(runChild(SCRIPT, args, join(OUT, `${kind}-${rep}.json`)));
    }
  }
  const rows = POOLS.map((kind) => {
    const runs = results[kind];
    const tinyRate = summary(runs.map((r) => tinyCount / r.tinySeconds));
    return {
      kind,
      start: summary(runs.map((r) => r.start * 1000)),
      tiny: tinyRate,
      trials: summary(runs.map((r) => r.trialSeconds)),
      busy: Math.max(...runs.map((r) => r.busyCores)),
    };
  });
  console.log(
    markdownTable(
      ["pool", "start ms", "tiny requests/s", `${trialCount} trials, s`, "busy cores (max)"],
      rows.map((row) => [
        row.kind,
        spread(row.start),
        spread(row.tiny),
        spread(row.trials),
        row.busy.toFixed(2),
      ]),
    ),
  );
  console.log(
    `\nmedian (min–max) of ${reps} reps; "busy cores" counts every process, ours included`,
  );
  console.log(await loadLine());
  writeFileSync(
    join(OUT, "results.json"),
    JSON.stringify({ threads, reps, rows, results }, null, 2),
  );
}

if (flag("child")) await child();
else await parent();
