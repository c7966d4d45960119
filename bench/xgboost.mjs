// XGBoost benchmark: the imported 150-tree XGBoost model predicting 1,000,000 rows with our
// predictor, against xgboost's own inplace_predict, with 1 and 2 threads — and, with
// --baseline, against another checkout's predictor in the same runs (before/after a change).
//
//   npm run build --workspace @mlops/core   # the script imports the built package (dist/)
//   node bench/xgboost.mjs [--rows 1000000] [--runs 5] [--threads 1,2] [--baseline DIR]
//
// 1. /usr/bin/python3 bench/xgboost_peer.py --serve trains the model (hist, depth 6, eta 0.1,
//    150 trees) on 100,000 friedman_hash rows with 5% missing values, saves it with save_model
//    (JSON), makes 1,000,000 fresh rows (5% missing) and then times one inplace_predict per
//    request with the asked nthread (float64 and float32 input; the faster counts), after one
//    untimed warm-up per thread count.
// 2. Here: importXGBoost(model.json), encoded and decoded as a registry would store it; each
//    side's predictor lives in every thread of a ThreadPool (@mlops/core/internal, the pool
//    behind forests, searches and batch scoring). With T threads the rows are split into T
//    contiguous ranges of shared columns (SharedArrayBuffer, nothing copied), each thread
//    predicts its range with `predictor.predict(frame)` (schema validation included) into a
//    shared output; the time is from posting the work to the last answer. One warm-up each.
// 3. Runs are interleaved: each rep runs every side once per thread count, the order rotating
//    from rep to rep (ours, xgboost, baseline; then xgboost, baseline, ours; …), so a load that
//    comes and goes hits every side alike. Besides wall time, each side's CPU seconds (ours:
//    the threads' own, from /proc/thread-self/stat; xgboost: the process's) and the cores the
//    rest of the machine kept busy meanwhile are printed: on a loaded machine wall ratios move
//    with the load, CPU seconds much less.
// 4. Predictions must equal xgboost's to 1e-5 relative to max(|prediction|, 1) (XGBoost sums
//    its float32 leaves in float32; we sum in float64) — the baseline's too.
//
// --baseline DIR: a checkout whose packages/core/dist is built, e.g.
//   git worktree add /tmp/before main && cd /tmp/before && npm ci && npm run build --workspace @mlops/core
//
// Prints the machine's load and saves .bench/xgboost-results.json.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { ThreadPool } from "../packages/core/dist/internal/index.js";
import { uniformHash } from "./friedman-hash.mjs";
import {
  busyBetween,
  integerList,
  loadLine,
  machineTicks,
  option,
  PYTHON,
  positiveInteger,
  ROOT,
  spread,
  summary,
} from "./lib.mjs";

const OUT = join(ROOT, ".bench", "xgboost");
const FEATURES = 10;
const NAMES = Array.from({ length: FEATURES }, (_, j) => `f${j}`);
const ROWS = positiveInteger("rows", 1_000_000);
const RUNS = positiveInteger("runs", 5);
const THREADS = integerList("threads", "1,2");
const BASELINE = option("baseline");

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

/** The xgboost peer as a child process answering one timed predict per request. */
async function startPeer() {
  const child = spawn(
    PYTHON,
    [join(ROOT, "bench/xgboost_peer.py"), OUT, "--rows", String(ROWS), "--serve"],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async () => {
    const { value, done } = await lines.next();
    if (done) throw new Error("xgboost_peer.py stopped (apt-get install python3-xgboost)");
    return value;
  };
  const ready = await next();
  if (ready !== "ready") throw new Error(`xgboost_peer.py: expected "ready", got ${ready}`);
  return {
    async time(threads) {
      child.stdin.write(`${threads}\n`);
      const answer = JSON.parse(await next());
      const input = answer.float32 < answer.float64 ? "float32" : "float64";
      return { wall: answer[input], cpu: answer[`${input}_cpu`], input };
    },
    stop() {
      child.stdin.end("quit\n");
    },
  };
}

/** A checkout's built core: its dist entry and short commit. */
function sideOf(name, tree) {
  const dist = join(tree, "packages/core/dist/index.js");
  if (!existsSync(dist)) {
    throw new Error(`${dist} does not exist: run npm run build --workspace @mlops/core in ${tree}`);
  }
  let commit = "?";
  try {
    commit = execFileSync("git", ["-C", tree, "rev-parse", "--short", "HEAD"], {
      encoding: "utf8",
    }).trim();
  } catch {}
  const dirty = name === "ours" ? " (working tree)" : "";
  return { name, tree, dist, label: `@mlops ${name} ${commit}${dirty}` };
}

async function main() {
  mkdirSync(OUT, { recursive: true });
  console.log(await loadLine());
  const peer = await startPeer();
  const info = JSON.parse(readFileSync(join(OUT, "xgboost.json"), "utf8"));
  const raw = readFileSync(join(OUT, "predictions.f32"));
  const theirs = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length));
  const model = readFileSync(join(OUT, "model.json"), "utf8");

  const sides = [sideOf("ours", ROOT)];
  if (BASELINE !== undefined) sides.push(sideOf("baseline", resolve(BASELINE)));
  for (const side of sides) {
    // Each side imports and stores the model with its own code, as a registry would.
    const core = await import(side.dist);
    side.artifact = core.encodeArtifact(core.importXGBoost(model)).slice().buffer;
    side.output = new Float64Array(new SharedArrayBuffer(8 * ROWS));
  }
  const columns = sharedColumns(ROWS);
  const size = Math.max(...THREADS);
  const pool = new ThreadPool({
    module: join(ROOT, "bench/xgboost-worker.mjs"),
    size,
    name: "xgboost bench",
  });
  const load = {
    type: "load",
    columns,
    names: NAMES,
    sides: sides.map(({ name, dist, artifact }) => ({ name, dist, artifact })),
  };
  await Promise.all(Array.from({ length: size }, (_, i) => pool.runOn(i, load)));

  const ours = async (side, threads) => {
    const chunk = Math.ceil(ROWS / threads);
    const started = performance.now();
    const answers = await Promise.all(
      Array.from({ length: threads }, (_, i) =>
        pool.runOn(i, {
          side: side.name,
          start: Math.min(ROWS, i * chunk),
          end: Math.min(ROWS, (i + 1) * chunk),
          output: side.output,
        }),
      ),
    );
    const wall = (performance.now() - started) / 1000;
    return { wall, cpu: answers.reduce((total, answer) => total + answer.cpu, 0) };
  };
  const runners = [
    ...sides.map((side) => ({ label: side.label, key: side.name, run: (t) => ours(side, t) })),
    { label: `xgboost ${info.xgboost} inplace_predict`, key: "xgboost", run: (t) => peer.time(t) },
  ];
  // Same warm-up for ours as the peer's: one untimed run per thread count.
  for (const threads of THREADS) for (const side of sides) await ours(side, threads);

  const measured = {};
  for (const threads of THREADS) {
    measured[threads] = Object.fromEntries(
      runners.map((runner) => [runner.key, { wall: [], cpu: [], foreign: [], input: [] }]),
    );
  }
  for (let rep = 0; rep < RUNS; rep++) {
    for (const threads of THREADS) {
      for (let k = 0; k < runners.length; k++) {
        const runner = runners[(k + rep) % runners.length];
        const ticks = machineTicks();
        const result = await runner.run(threads);
        const busy = busyBetween(ticks, machineTicks());
        const slot = measured[threads][runner.key];
        slot.wall.push(result.wall);
        slot.cpu.push(result.cpu);
        // Cores the rest of the machine kept busy during the run (the machine's busy cores
        // minus what this run used).
        slot.foreign.push(Math.max(0, busy - result.cpu / result.wall));
        if (result.input) slot.input.push(result.input);
      }
    }
    process.stdout.write(`rep ${rep + 1}/${RUNS} done\n`);
  }
  peer.stop();
  await pool.close();

  const checks = sides.map((side) => {
    let worst = 0;
    let beyond = 0;
    const predictions = side.output;
    for (let i = 0; i < ROWS; i++) {
      // Relative to max(|xgboost|, 1): a prediction near 0 carries the float32 rounding of the
      // larger partial sums before it.
      const error = Math.abs(predictions[i] - theirs[i]) / Math.max(Math.abs(theirs[i]), 1);
      if (!(error <= 1e-5)) {
        beyond++;
        if (beyond <= 3)
          console.log(`${side.label} row ${i}: ${predictions[i]}, xgboost ${theirs[i]}`);
      }
      if (!(error <= worst)) worst = error;
    }
    return { side: side.name, worst, beyond };
  });

  console.log(
    `\n${info.trees} trees, depth ${info.depth}, ${ROWS.toLocaleString("en")} rows × ${FEATURES}, ` +
      `5% missing; median of ${RUNS} (min–max), reps interleaved`,
  );
  const results = { rows: ROWS, runs: RUNS, node: process.version, xgboost: info, threads: {} };
  const fixed = (value) => value.toFixed(3);
  for (const threads of THREADS) {
    console.log(`\n${threads} thread${threads > 1 ? "s" : ""}`);
    const stats = {};
    for (const runner of runners) {
      const slot = measured[threads][runner.key];
      const wall = summary(slot.wall);
      const cpu = summary(slot.cpu);
      const foreign = summary(slot.foreign);
      stats[runner.key] = { wall, cpu, foreign, input: slot.input[0] };
      console.log(
        `  ${runner.label.padEnd(40)} ${spread(wall, " s", fixed).padEnd(24)} ` +
          `${(ROWS / wall.median / 1e6).toFixed(2)} M rows/s   CPU ${spread(cpu, " s", fixed)}` +
          `   other load ${foreign.median.toFixed(2)} cores`,
      );
    }
    const theirs = stats.xgboost;
    for (const side of sides) {
      const ratio = theirs.wall.median / stats[side.name].wall.median;
      const cpuRatio = theirs.cpu.median / stats[side.name].cpu.median;
      stats[side.name].ratio = ratio;
      stats[side.name].cpuRatio = cpuRatio;
      console.log(
        `  ${`${side.name} ÷ xgboost rows/s`.padEnd(40)} ${ratio.toFixed(2)}× ` +
          `(per CPU second ${cpuRatio.toFixed(2)}×)`,
      );
    }
    if (stats.baseline) {
      const speedup = stats.baseline.wall.median / stats.ours.wall.median;
      stats.ours.speedupOverBaseline = speedup;
      console.log(`  ${"ours ÷ baseline rows/s".padEnd(40)} ${speedup.toFixed(2)}×`);
    }
    results.threads[threads] = stats;
  }
  console.log("");
  for (const check of checks) {
    console.log(
      `${check.side}: worst relative difference ${check.worst.toExponential(2)}; ` +
        `rows beyond 1e-5: ${check.beyond}`,
    );
  }
  results.checks = checks;
  results.baseline = BASELINE === undefined ? undefined : sides[1].label;
  console.log(await loadLine());
  writeFileSync(
    join(ROOT, ".bench", "xgboost-results.json"),
    `${JSON.stringify(results, null, 2)}\n`,
  );
  if (checks.some((check) => check.beyond > 0)) process.exitCode = 1;
}

await main();
