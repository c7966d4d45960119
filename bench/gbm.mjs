// Gradient boosting benchmark: our HistGradientBoostingRegressor against scikit-learn's
// HistGradientBoostingRegressor and XGBoost's hist booster, in the same run, on the peers'
// friedman_hash data (10 features).
//
//   npm run build --workspace @mlops/core && npm run build --workspace @mlops/train
//   node bench/gbm.mjs [--rows 1000000,100000] [--threads 2] [--runs 3] [--iters 100]
//                      [--leaves 31] [--bins 255] [--holdout 100000] [--peers sklearn,xgboost]
//
// Every fit runs in a fresh process, the sides interleaved run by run: ours in a `node` child
// (bench/gbm.mjs --child), the peers in /usr/bin/python3 (bench/gbm_peers.py; python3-sklearn
// 1.2.1 and python3-xgboost 1.7 from Debian). Each side first fits 5 iterations on 2,000 other
// rows (JIT, imports, thread pools), then fits friedman_hash(rows, 10, seed 42) with no early
// stopping, `iters` trees of at most `leaves` leaves grown best-first, `bins` bins, learning
// rate 0.1, no L2 penalty, on `threads` threads (nJobs, OpenMP); scikit-learn and ours keep
// min_samples_leaf 20, XGBoost gets min_child_weight 20 (the same, for squared error).
// Reported per side: fit seconds (median of --runs, with min–max), hold-out RMSE on
// friedman_hash(holdout, 10, seed 7), and the peak memory of the fit: the peak RSS during the
// fit (reset just before it through /proc/self/clear_refs) minus the RSS before it, as a
// multiple of the data (rows × 11 float64: features and target).
//
// The machine's 1-minute load average is printed with every run: on a shared machine the
// figures move with it. Results are saved to .bench/gbm/results.json.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { friedmanColumns } from "./friedman-hash.mjs";
import { loadLine } from "./lib.mjs";

const SCRIPT = fileURLToPath(import.meta.url);
const ROOT = join(dirname(SCRIPT), "..");
const OUT = join(ROOT, ".bench", "gbm");

function option(name, fallback) {
  const index = process.argv.indexOf(`--${name}`);
  return index < 0 ? fallback : process.argv[index + 1];
}

function statusBytes(field) {
  const line = readFileSync("/proc/self/status", "utf8")
    .split("\n")
    .find((text) => text.startsWith(`${field}:`));
  return Number(line.split(/\s+/)[1]) * 1024;
}

async function child() {
  const [rows, threads, iters, leaves, bins, holdout] = process.argv.slice(3).map(Number);
  const core = await import(pathToFileURL(join(ROOT, "packages/core/dist/index.js")).href);
  const train = await import(pathToFileURL(join(ROOT, "packages/train/dist/index.js")).href);
  const frameOf = (columns) =>
    new core.Frame(columns.map((values, j) => [`x${j}`, { kind: "number", values }]));
  const settings = {
    maxIter: iters,
    maxLeafNodes: leaves,
    maxBins: bins,
    learningRate: 0.1,
    earlyStopping: false,
    nJobs: threads,
    seed: 0,
  };
  const warm = friedmanColumns(2000, 10, 3);
  new train.HistGradientBoostingRegressor({ ...settings, maxIter: 5 }).fit(
    frameOf(warm.columns),
    warm.y,
  );
  const data = friedmanColumns(rows, 10, 42);
  const frame = frameOf(data.columns);
  const test = friedmanColumns(holdout, 10, 7);
  globalThis.gc?.();
  writeFileSync("/proc/self/clear_refs", "5");
  const before = statusBytes("VmRSS");
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  const model = new train.HistGradientBoostingRegressor(settings).fit(frame, data.y);
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  const peak = statusBytes("VmHWM");
  const predictions = model.predict(frameOf(test.columns));
  let sum = 0;
  for (let i = 0; i < holdout; i++) sum += (predictions[i] - test.y[i]) ** 2;
  process.stdout.write(
    JSON.stringify({
      seconds,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      rmse: Math.sqrt(sum / holdout),
      peakBytes: Math.max(0, peak - before),
      dataBytes: rows * 11 * 8,
    }),
  );
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function runOurs(rows, threads, iters, leaves, bins, holdout) {
  const run = spawnSync(
    process.execPath,
    ["--expose-gc", SCRIPT, "--child", rows, threads, iters, leaves, bins, holdout].map(String),
    { encoding: "utf8", maxBuffer: 1 << 26 },
  );
  if (run.status !== 0) throw new Error(run.stderr);
  return JSON.parse(run.stdout);
}

function runPeer(peer, rows, threads, iters, leaves, bins, holdout) {
  const args = ["--peer", peer, "--rows", rows, "--threads", threads, "--iters", iters];
  args.push("--leaves", leaves, "--bins", bins, "--holdout", holdout);
  const run = spawnSync(
    "/usr/bin/python3",
    [join(ROOT, "bench/gbm_peers.py"), ...args.map(String)],
    {
      encoding: "utf8",
    },
  );
  if (run.status !== 0) throw new Error(`${peer}: ${run.stderr}`);
  return JSON.parse(run.stdout.trim().split("\n").pop());
}

function peerAvailable(peer) {
  const module = peer === "sklearn" ? "sklearn" : "xgboost";
  return spawnSync("/usr/bin/python3", ["-c", `import ${module}`]).status === 0;
}

async function main() {
  const rowsList = option("rows", "1000000,100000").split(",").map(Number);
  const threads = Number(option("threads", "2"));
  const runs = Number(option("runs", "3"));
  const iters = Number(option("iters", "100"));
  const leaves = Number(option("leaves", "31"));
  const bins = Number(option("bins", "255"));
  const holdout = Number(option("holdout", "100000"));
  const peers = option("peers", "sklearn,xgboost")
    .split(",")
    .filter(Boolean)
    .filter((peer) => {
      if (peerAvailable(peer)) return true;
      console.log(
        `${peer}: not importable by /usr/bin/python3 (apt-get install python3-${peer}); skipped`,
      );
      return false;
    });
  mkdirSync(OUT, { recursive: true });
  const before = await loadLine();
  console.log(`before: ${before}`);
  const sides = ["ours", ...peers];
  const results = [];
  for (const rows of rowsList) {
    const samples = Object.fromEntries(sides.map((side) => [side, []]));
    for (let run = 0; run < runs; run++) {
      for (const side of sides) {
        const load = loadavg()[0];
        const result =
          side === "ours"
            ? runOurs(rows, threads, iters, leaves, bins, holdout)
            : runPeer(side, rows, threads, iters, leaves, bins, holdout);
        samples[side].push({ ...result, load });
        console.log(JSON.stringify({ rows, side, run, load: load.toFixed(2), ...result }));
      }
    }
    const summary = { rows, threads, iters, leaves, bins, runs, sides: {} };
    for (const side of sides) {
      const seconds = samples[side].map((sample) => sample.seconds);
      summary.sides[side] = {
        seconds: median(seconds),
        min: Math.min(...seconds),
        max: Math.max(...seconds),
        rmse: median(samples[side].map((sample) => sample.rmse)),
        peakBytes: median(samples[side].map((sample) => sample.peakBytes)),
        dataBytes: samples[side][0].dataBytes,
        load: samples[side].map((sample) => Number(sample.load.toFixed(2))),
      };
    }
    results.push(summary);
  }
  const after = await loadLine();
  console.log(`after: ${after}`);
  writeFileSync(
    join(OUT, "results.json"),
    `${JSON.stringify({ before, after, results }, null, 2)}\n`,
  );
  const header = ["rows", "side", "fit (median, min–max)", "÷ ours", "RMSE", "peak ÷ data", "load"];
  console.log(`\n| ${header.join(" | ")} |`);
  console.log(`|${" --- |".repeat(header.length)}`);
  for (const summary of results) {
    const ours = summary.sides.ours;
    for (const side of sides) {
      const s = summary.sides[side];
      const cells = [
        summary.rows.toLocaleString("en-US"),
        side,
        `${s.seconds.toFixed(2)} s (${s.min.toFixed(2)}–${s.max.toFixed(2)})`,
        side === "ours" ? "1.00×" : `${(s.seconds / ours.seconds).toFixed(2)}×`,
        s.rmse.toFixed(4),
        `${(s.peakBytes / s.dataBytes).toFixed(2)}×`,
        s.load.join(", "),
      ];
      console.log(`| ${cells.join(" | ")} |`);
    }
  }
}

if (process.argv[2] === "--child") await child();
else await main();
