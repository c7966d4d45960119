// Hyperparameter-search benchmark: our GridSearch against scikit-learn's GridSearchCV, side by
// side in one run, on the peers' portable friedman_hash data.
//
//   node bench/gridsearch.mjs [--reps 3] [--jobs 1,2] [--wait 180] [--no-sklearn]
//
// The grid is the peers' benchmark 2 (../shared/peers/bench_gridsearch.py): max_depth 2..12 ×
// min_samples_leaf [1, 2, 5, 10, 20, 50, 100, 200, 500] = 99 settings, 5 contiguous folds
// (scikit-learn's cv=5 for a regressor), RMSE, refit on all 20,000 rows of
// friedman_hash(20000, 10, seed 42), the refit model scored on friedman_hash(5000, 10, seed 43).
//
// 1. Bundles @mlops/train and @mlops/core from source (esbuild, the `@mlops/source` condition)
//    into .bench/gridsearch/: `bundle.js` and the search worker `search-worker.js` beside it
//    (where the pool looks for it outside the package), so the numbers are for the code in the
//    tree and need no build step.
// 2. For each n_jobs: waits for a quiet machine, runs /usr/bin/python3 bench/gridsearch_sklearn.py
//    (--reps timed GridSearchCV fits), then --reps fresh `node` children, each timing one
//    `GridSearch.fit` from a cold start (JIT compilation, data preparation, worker start-up and
//    the refit included; scikit-learn's code is compiled ahead of time).
// 3. Compares every setting's mean CV RMSE and every split's RMSE with scikit-learn's (our exact
//    trees are scikit-learn's bit for bit, so they agree to the last bits), the best parameters
//    and the hold-out RMSE of the refit models.
//
// The machine is shared and small: the "busy" column is the CPU other processes used (in cores)
// during our timed runs; rerun when it is above ~0.2 or the reps disagree by more than ~20%.
// Results are printed and saved to .bench/gridsearch/results.json.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { friedmanColumns } from "./friedman-hash.mjs";

const SCRIPT = fileURLToPath(import.meta.url);
const ROOT = join(dirname(SCRIPT), "..");
const OUT = join(ROOT, ".bench", "gridsearch");
const BUNDLE = join(OUT, "bundle.js");
const PYTHON = "/usr/bin/python3";
const TRAIN_SOURCE = join(ROOT, "packages/train/src/index.ts");
const LEAVES = [1, 2, 5, 10, 20, 50, 100, 200, 500];
const DEPTHS = [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];

function option(name, fallback) {
  const index = process.argv.indexOf(`--${name}`);
  return index < 0 ? fallback : process.argv[index + 1];
}

function positiveInteger(name, fallback) {
  const value = Number(option(name, fallback));
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`--${name}: expected a positive integer, got ${option(name, fallback)}`);
  }
  return value;
}

// ------------------------------------------------------------------ child: one timed search

async function child() {
  const jobs = positiveInteger("jobs", 1);
  const out = option("out");
  const { DecisionTreeRegressor, Frame, GridSearch } = await import(pathToFileURL(BUNDLE).href);
  const frameOf = ({ columns, y }) =>
    new Frame([
      ...columns.map((values, j) => [`x${j}`, { kind: "number", values }]),
      ["y", { kind: "number", values: y }],
    ]);
  const train = frameOf(friedmanColumns(20000, 10, 42));
  const holdout = friedmanColumns(5000, 10, 43);
  const ticksBefore = machineTicks();
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  const search = await new GridSearch({
    estimator: new DecisionTreeRegressor({ seed: 0 }),
    paramGrid: { maxDepth: DEPTHS, minSamplesLeaf: LEAVES },
    cv: 5,
    scoring: "rmse",
    nJobs: jobs,
  }).fit(train, "y");
  const wall = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const ticksAfter = machineTicks();
  // Cores other processes kept busy meanwhile: the machine's busy share minus our own CPU
  // (process.cpuUsage counts the worker threads too).
  let foreignCores;
  if (ticksBefore && ticksAfter && ticksAfter.total > ticksBefore.total) {
    const machine =
      (availableParallelism() * (ticksAfter.busy - ticksBefore.busy)) /
      (ticksAfter.total - ticksBefore.total);
    foreignCores = Math.max(0, machine - (cpu.user + cpu.system) / 1e6 / wall);
  }
  const predictions = search.predict(frameOf(holdout));
  let squares = 0;
  for (let i = 0; i < predictions.length; i++) squares += (predictions[i] - holdout.y[i]) ** 2;
  const results = search.cvResults;
  const y = train.numeric("y");
  writeFileSync(
    out,
    JSON.stringify({
      jobs,
      workers: search.workers,
      fastPath: search.fastPath,
      wall,
      // Main thread and workers together (process-wide CPU time).
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      foreignCores,
      bestParams: search.bestParams,
      bestScore: search.bestScore,
      holdoutRmse: Math.sqrt(squares / predictions.length),
      fingerprint: {
        X_last: train.names.slice(0, 10).map((n) => train.numeric(n)[19999]),
        y_last: y[19999],
      },
      table: results.params.map((params, i) => ({
        max_depth: params.maxDepth,
        min_samples_leaf: params.minSamplesLeaf,
        mean: results.mean_test_rmse[i],
        std: results.std_test_rmse[i],
        splits: [0, 1, 2, 3, 4].map((k) => results[`split${k}_test_rmse`][i]),
        rank: results.rank_test_rmse[i],
      })),
    }),
  );
}

// ------------------------------------------------------------------ parent

async function bundle() {
  const { build } = await import("esbuild");
  const entry = join(OUT, "entry.mjs");
  writeFileSync(
    entry,
    [
      `export { DecisionTreeRegressor, GridSearch } from ${JSON.stringify(TRAIN_SOURCE)};`,
      `export { Frame } from ${JSON.stringify(join(ROOT, "packages/core/src/index.ts"))};`,
      "",
    ].join("\n"),
  );
  await build({
    entryPoints: {
      bundle: entry,
      "search-worker": join(ROOT, "packages/train/src/search/worker.ts"),
    },
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    conditions: ["@mlops/source"],
    outdir: OUT,
    // CommonJS dependencies bundled into an ES module may call require().
    banner: {
      js:
        "import { createRequire } from 'node:module'; " +
        "const require = createRequire(import.meta.url);",
    },
    logLevel: "warning",
  });
}

function run(command, args) {
  const result = spawnSync(command, args, { cwd: ROOT, encoding: "utf8", stdio: "pipe" });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(" ")} failed:\n${result.stdout}\n${result.stderr}`);
  }
  return result.stdout;
}

/** CPU ticks of the whole machine (busy, total), from /proc/stat. */
function machineTicks() {
  try {
    const fields = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/);
    const numbers = fields.slice(1).map(Number);
    const total = numbers.reduce((a, b) => a + b, 0);
    return { busy: total - numbers[3] - (numbers[4] ?? 0), total };
  } catch {
    return undefined;
  }
}

/** Cores busy over one second. */
async function busyCores() {
  const first = machineTicks();
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const second = machineTicks();
  if (!first || !second || second.total === first.total) return 0;
  return (availableParallelism() * (second.busy - first.busy)) / (second.total - first.total);
}

/** Waits until under 0.3 of a core is busy (other engineers' jobs), at most `limit` seconds. */
async function waitForQuiet(limit) {
  const started = Date.now();
  let busy = await busyCores();
  while (busy > 0.3 && Date.now() - started < limit * 1000) {
    await new Promise((resolve) => setTimeout(resolve, 4000));
    busy = await busyCores();
  }
  return busy;
}

/** Runs one timed child and returns its result. */
function timedChild(jobs, file) {
  run(process.execPath, [SCRIPT, "--child", "--jobs", String(jobs), "--out", file]);
  return JSON.parse(readFileSync(file, "utf8"));
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

function compareTables(ours, theirs) {
  let maxMean = 0;
  let maxSplit = 0;
  let identicalSplits = 0;
  let closeMeans = 0;
  let closeSplits = 0;
  let sameRanks = 0;
  for (let i = 0; i < theirs.length; i++) {
    const a = ours[i];
    const b = theirs[i];
    if (a.max_depth !== b.max_depth || a.min_samples_leaf !== b.min_samples_leaf) {
      throw new Error(`cv table row ${i}: settings differ (grid order)`);
    }
    const meanDiff = Math.abs(a.mean - b.mean);
    maxMean = Math.max(maxMean, meanDiff);
    if (meanDiff <= 1e-12) closeMeans++;
    if (a.rank === b.rank) sameRanks++;
    for (let k = 0; k < 5; k++) {
      const diff = Math.abs(a.splits[k] - b.splits[k]);
      maxSplit = Math.max(maxSplit, diff);
      if (diff <= 1e-12) closeSplits++;
      if (a.splits[k] === b.splits[k]) identicalSplits++;
    }
  }
  return {
    rows: theirs.length,
    maxMean,
    maxSplit,
    closeMeans,
    closeSplits,
    identicalSplits,
    sameRanks,
  };
}

async function parent() {
  const reps = positiveInteger("reps", 3);
  const jobsList = option("jobs", "1,2").split(",").map(Number);
  const wait = Number(option("wait", 180));
  const withSklearn =
    !process.argv.includes("--no-sklearn") &&
    spawnSync(PYTHON, ["-c", "import sklearn"], { stdio: "ignore" }).status === 0;
  mkdirSync(OUT, { recursive: true });
  await bundle();
  if (!withSklearn)
    console.log("scikit-learn not run (--no-sklearn, or /usr/bin/python3 lacks it)");
  const rows = [];
  const agreements = [];
  for (const jobs of jobsList) {
    const busyBefore = await waitForQuiet(wait);
    let sklearn;
    if (withSklearn) {
      run(PYTHON, [
        join(ROOT, "bench/gridsearch_sklearn.py"),
        "--n-jobs",
        String(jobs),
        "--reps",
        String(reps),
        "--out",
        OUT,
      ]);
      sklearn = JSON.parse(readFileSync(join(OUT, `sklearn-jobs${jobs}.json`), "utf8"));
    }
    await waitForQuiet(wait);
    const ours = [];
    for (let rep = 0; rep < reps; rep++)
      ours.push(timedChild(jobs, join(OUT, `ours-jobs${jobs}-${rep}.json`)));
    const last = ours[ours.length - 1];
    if (sklearn && JSON.stringify(last.fingerprint) !== JSON.stringify(sklearn.fingerprint)) {
      throw new Error("friedman_hash differs between Python and JavaScript");
    }
    const oursWall = median(ours.map((result) => result.wall));
    const row = {
      jobs,
      ours: {
        wall: oursWall,
        walls: ours.map((result) => result.wall),
        workers: last.workers,
        fastPath: last.fastPath,
        bestParams: last.bestParams,
        bestScore: last.bestScore,
        holdoutRmse: last.holdoutRmse,
        busy: Math.max(...ours.map((result) => result.foreignCores ?? 0)),
      },
      busyBefore,
    };
    if (sklearn) {
      const sklearnWall = median(sklearn.walls);
      row.sklearn = {
        version: sklearn.sklearn,
        wall: sklearnWall,
        walls: sklearn.walls,
        bestParams: sklearn.best_params,
        bestScore: sklearn.best_cv_rmse,
        holdoutRmse: sklearn.holdout_rmse,
      };
      row.ratio = oursWall / sklearnWall;
      row.agreement = compareTables(last.table, sklearn.cv_table);
      row.sameBest =
        last.bestParams.maxDepth === sklearn.best_params.max_depth &&
        last.bestParams.minSamplesLeaf === sklearn.best_params.min_samples_leaf;
      agreements.push(row.agreement);
    }
    rows.push(row);
    console.log(`n_jobs=${jobs} done (busy cores before: ${busyBefore.toFixed(2)})`);
  }
  const s = (value) => value.toFixed(2);
  const params = (p) =>
    p.maxDepth !== undefined
      ? `max_depth=${p.maxDepth}, min_samples_leaf=${p.minSamplesLeaf}`
      : `max_depth=${p.max_depth}, min_samples_leaf=${p.min_samples_leaf}`;
  const header = [
    "n_jobs",
    "implementation",
    "wall (median)",
    "all reps (s)",
    "÷ sklearn",
    "target",
    "best params",
    "best CV RMSE",
    "hold-out RMSE",
    "busy",
  ];
  const lines = [`| ${header.join(" | ")} |`, `|${"---|".repeat(header.length)}`];
  const tableRow = (cells) => lines.push(`| ${cells.join(" | ")} |`);
  for (const row of rows) {
    const { ours, sklearn } = row;
    const how = `${ours.workers > 1 ? `${ours.workers} workers` : "in-thread"}`;
    tableRow([
      row.jobs,
      `@mlops GridSearch (${how}${ours.fastPath ? ", fast path" : ""})`,
      `${s(ours.wall)} s`,
      ours.walls.map(s).join(", "),
      row.ratio === undefined ? "-" : `${row.ratio.toFixed(3)}×`,
      row.jobs === 1 ? "≤ 0.25×" : "≤ 0.5×",
      params(ours.bestParams),
      ours.bestScore.toFixed(6),
      ours.holdoutRmse.toFixed(6),
      ours.busy.toFixed(2),
    ]);
    if (sklearn) {
      tableRow([
        row.jobs,
        `sklearn ${sklearn.version} GridSearchCV`,
        `${s(sklearn.wall)} s`,
        sklearn.walls.map(s).join(", "),
        "1",
        "",
        params(sklearn.bestParams),
        sklearn.bestScore.toFixed(6),
        sklearn.holdoutRmse.toFixed(6),
        "",
      ]);
    }
  }
  console.log(lines.join("\n"));
  for (const row of rows) {
    if (!row.agreement) continue;
    const a = row.agreement;
    console.log(
      `n_jobs=${row.jobs}: same best params: ${row.sameBest ? "yes" : "NO"}; cv table: ` +
        `${a.closeMeans}/${a.rows} mean RMSEs within 1e-12 ` +
        `(max |Δ| ${a.maxMean.toExponential(2)}), ${a.closeSplits}/${a.rows * 5} split RMSEs ` +
        `within 1e-12 (max |Δ| ${a.maxSplit.toExponential(2)}, ${a.identicalSplits} ` +
        `bit-identical), ${a.sameRanks}/${a.rows} identical ranks`,
    );
  }
  writeFileSync(
    join(OUT, "results.json"),
    JSON.stringify({ node: process.version, reps, rows }, null, 1),
  );
}

if (process.argv.includes("--child")) await child();
else await parent();
