// XGBoost benchmark: the imported 150-tree XGBoost model predicting 1,000,000 rows with our
// predictor, against xgboost's own inplace_predict, with 1 and 2 threads.
//
//   npm run build --workspace @mlops/core   # the script imports the built package (dist/)
//   node bench/xgboost.mjs [--rows 1000000] [--runs 5]
//
// 1. /usr/bin/python3 bench/xgboost_peer.py trains the model (hist, depth 6, eta 0.1, 150 trees)
//    on 100,000 friedman_hash rows with 5% missing values, saves it with save_model (JSON), and
//    times booster.inplace_predict on 1,000,000 fresh rows (5% missing) with nthread 1 and 2
//    (median of --runs after a warm-up; the faster of float64 and float32 input).
// 2. Here: importXGBoost(model.json), encoded and decoded as a registry would store it, then
//    predictor.predict on a Frame of the same rows (schema validation included), on the main
//    thread, and on 2 worker threads that each predict half of the rows (columns shared, the
//    same warm-up and runs; the time is from posting the work to the last answer).
// 3. Predictions must equal xgboost's to 1e-5 relative to max(|prediction|, 1) (XGBoost sums
//    its float32 leaves in float32; we sum in float64).
//
// Prints the machine's load and saves .bench/xgboost-results.json.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import {
  createPredictor,
  decodeArtifact,
  encodeArtifact,
  Frame,
  importXGBoost,
} from "../packages/core/dist/index.js";
import { uniformHash } from "./friedman-hash.mjs";

const SCRIPT = fileURLToPath(import.meta.url);
const ROOT = join(dirname(SCRIPT), "..");
const OUT = join(ROOT, ".bench", "xgboost");
const FEATURES = 10;
const NAMES = Array.from({ length: FEATURES }, (_, j) => `f${j}`);

/** friedman_hash X (seed 7) with 5% NaN, in shared memory: what xgboost_peer.py predicts. */
function sharedColumns(n) {
  const columns = NAMES.map(() => new Float64Array(new SharedArrayBuffer(8 * n)));
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < FEATURES; j++) {
      const missing = uniformHash(99, r * FEATURES + j) < 0.05;
      columns[j][r] = missing ? Number.NaN : uniformHash(7, r * (FEATURES + 1) + j);
    }
  }
  return columns;
}

function frameOf(columns, start, end) {
  return new Frame(
    NAMES.map((name, j) => [name, { kind: "number", values: columns[j].subarray(start, end) }]),
  );
}

if (!isMainThread) {
  // A worker: compile the artifact once, then predict its share whenever asked.
  const { artifact, columns, start, end } = workerData;
  const predictor = createPredictor(decodeArtifact(new Uint8Array(artifact)));
  const frame = frameOf(columns, start, end);
  parentPort.on("message", () => {
    const out = predictor.predict(frame);
    parentPort.postMessage(out[0]);
  });
} else {
  await main();
}

function option(name, fallback) {
  const index = process.argv.indexOf(`--${name}`);
  if (index < 0) return fallback;
  const value = Number(process.argv[index + 1]);
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`--${name}: expected a positive integer, got ${process.argv[index + 1]}`);
  }
  return value;
}

function summary(times) {
  const sorted = [...times].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1] };
}

async function timedAsync(runs, run) {
  await run();
  const times = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await run();
    times.push((performance.now() - start) / 1000);
  }
  return summary(times);
}

async function main() {
  const ROWS = option("rows", 1_000_000);
  const RUNS = option("runs", 5);
  mkdirSync(OUT, { recursive: true });
  const load = loadavg().map((value) => value.toFixed(2));
  console.log(`machine: ${cpus().length} cores, load average ${load.join(" ")}`);
  const peer = spawnSync(
    "/usr/bin/python3",
    [join(ROOT, "bench/xgboost_peer.py"), OUT, "--rows", String(ROWS), "--runs", String(RUNS)],
    { encoding: "utf8", stdio: ["ignore", "inherit", "inherit"] },
  );
  if (peer.status !== 0) {
    throw new Error("xgboost_peer.py failed (apt-get install python3-xgboost)");
  }
  const info = JSON.parse(readFileSync(join(OUT, "xgboost.json"), "utf8"));
  const raw = readFileSync(join(OUT, "predictions.f32"));
  const theirs = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length));

  const bytes = encodeArtifact(importXGBoost(readFileSync(join(OUT, "model.json"), "utf8")));
  const predictor = createPredictor(decodeArtifact(bytes));
  const columns = sharedColumns(ROWS);
  const frame = frameOf(columns, 0, ROWS);
  let ours;
  const one = await timedAsync(RUNS, () => {
    ours = predictor.predict(frame);
  });

  const half = Math.ceil(ROWS / 2);
  const workers = [
    [0, half],
    [half, ROWS],
  ].map(
    ([start, end]) =>
      new Worker(SCRIPT, { workerData: { artifact: bytes.buffer, columns, start, end } }),
  );
  const ask = (worker) =>
    new Promise((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
      worker.postMessage(0);
    });
  const two = await timedAsync(RUNS, () => Promise.all(workers.map(ask)));
  await Promise.all(workers.map((worker) => worker.terminate()));

  // Relative to max(|xgboost|, 1): a prediction near 0 carries the float32 rounding of the
  // larger partial sums before it.
  let worst = 0;
  let beyond = 0;
  for (let i = 0; i < ROWS; i++) {
    const error = Math.abs(ours[i] - theirs[i]) / Math.max(Math.abs(theirs[i]), 1);
    if (!(error <= 1e-5)) {
      beyond++;
      if (beyond <= 3) console.log(`row ${i}: ours ${ours[i]}, xgboost ${theirs[i]}`);
    }
    if (!(error <= worst)) worst = error;
  }

  const rate = (seconds) => `${(ROWS / seconds / 1e6).toFixed(2)} M rows/s`;
  const line = (label, s) =>
    `${label.padEnd(34)} ${s.median.toFixed(3)} s (${s.min.toFixed(3)}–${s.max.toFixed(3)})  ${rate(s.median)}`;
  console.log(
    `\n${info.trees} trees, depth ${info.depth}, ${ROWS.toLocaleString("en")} rows × ${FEATURES}, ` +
      `5% missing; median of ${RUNS} (min–max)`,
  );
  const results = {
    rows: ROWS,
    runs: RUNS,
    load: loadavg(),
    node: process.version,
    xgboost: info,
    ours: {},
  };
  for (const [threads, ourTimes] of [
    ["1", one],
    ["2", two],
  ]) {
    const theirTimes = info.threads[threads].best;
    console.log(line(`xgboost ${info.xgboost} inplace_predict ×${threads}`, theirTimes));
    console.log(line(`@mlops predict ×${threads}`, ourTimes));
    const ratio = theirTimes.median / ourTimes.median;
    console.log(`${"ratio (ours ÷ xgboost rows/s)".padEnd(34)} ${ratio.toFixed(2)}×\n`);
    results.ours[threads] = { ...ourTimes, ratio };
  }
  console.log(`worst relative difference ${worst.toExponential(2)}; rows beyond 1e-5: ${beyond}`);
  results.worstRelativeDifference = worst;
  results.rowsBeyond = beyond;
  writeFileSync(
    join(ROOT, ".bench", "xgboost-results.json"),
    `${JSON.stringify(results, null, 2)}\n`,
  );
  if (beyond > 0) process.exitCode = 1;
}
