// Hyperparameter-search benchmark: our GridSearch against scikit-learn's GridSearchCV, side by
// side in one run, on the peers' portable friedman_hash data.
//
//   node bench/gridsearch.mjs [--reps 3] [--jobs 1,2] [--wait 180] [--no-sklearn] [--tree DIR]
//
// Same threads on both sides (n_jobs worker threads against n_jobs loky processes, one OpenMP
// thread each); every rep is a fresh process on both sides; the table gives the median of the
// reps with the min–max spread and the machine's load. `--tree DIR` measures another checkout.
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
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { friedmanColumns } from "./friedman-hash.mjs";
import {
  bundleSources,
  busyBetween,
  flag,
  integerList,
  loadLine,
  machineTicks,
  markdownTable,
  median,
  option,
  PYTHON,
  positiveInteger,
  pythonHas,
  ROOT,
  run,
  sourceTree,
  spread,
  summary,
  waitForQuiet,
  writeEntry,
} from "./lib.mjs";

const SCRIPT = fileURLToPath(import.meta.url);
const OUT = join(ROOT, ".bench", "gridsearch");
const BUNDLE = join(OUT, "bundle.js");
const LEAVES = [1, 2, 5, 10, 20, 50, 100, 200, 500];
const DEPTHS = [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];

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
  const foreignCores = Math.max(
    0,
    busyBetween(ticksBefore, ticksAfter) - (cpu.user + cpu.system) / 1e6 / wall,
  );
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
  const tree = sourceTree();
  const entry = writeEntry(
    join(OUT, "entry.mjs"),
    [
      `export { DecisionTreeRegressor, GridSearch } from ${JSON.stringify(join(tree, "packages/train/src/index.ts"))};`,
      `export { Frame } from ${JSON.stringify(join(tree, "packages/core/src/index.ts"))};`,
      "",
    ].join("\n"),
  );
  // The search worker beside the bundle, where the pool looks for it outside the package.
  await bundleSources(
    { bundle: entry, "search-worker": join(tree, "packages/train/src/search/worker.ts") },
    OUT,
  );
  return tree;
}

/** Runs one timed child and returns its result. */
function timedChild(jobs, file) {
  run(process.execPath, [SCRIPT, "--child", "--jobs", String(jobs), "--out", file]);
  return JSON.parse(readFileSync(file, "utf8"));
}

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
  const jobsList = integerList("jobs", "1,2");
  const wait = Number(option("wait", 180));
  const withSklearn = !flag("no-sklearn") && pythonHas("sklearn");
  mkdirSync(OUT, { recursive: true });
  const tree = await bundle();
  console.log(`node ${process.version}, ${reps} reps per side (fresh process each), tree ${tree}`);
  console.log(await loadLine());
  if (!withSklearn)
    console.log("scikit-learn not run (--no-sklearn, or /usr/bin/python3 lacks it)");
  const rows = [];
  const agreements = [];
  for (const jobs of jobsList) {
    const busyBefore = await waitForQuiet(wait);
    let sklearn;
    if (withSklearn) {
      // n_jobs threads for us, n_jobs loky processes for scikit-learn, one BLAS/OpenMP thread each.
      run(
        PYTHON,
        [
          join(ROOT, "bench/gridsearch_sklearn.py"),
          "--n-jobs",
          String(jobs),
          "--reps",
          String(reps),
          "--out",
          OUT,
        ],
        { env: { ...process.env, OMP_NUM_THREADS: "1" } },
      );
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
        cpus: ours.map((result) => result.cpuSeconds),
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
  const lines = [];
  for (const row of rows) {
    const { ours, sklearn } = row;
    const how = `${ours.workers > 1 ? `${ours.workers} workers` : "in-thread"}`;
    lines.push([
      row.jobs,
      `@mlops GridSearch (${how}${ours.fastPath ? ", fast path" : ""})`,
      spread(summary(ours.walls), " s", s),
      spread(summary(ours.cpus), " s", s),
      row.ratio === undefined ? "-" : `${row.ratio.toFixed(3)}×`,
      params(ours.bestParams),
      ours.bestScore.toFixed(6),
      ours.holdoutRmse.toFixed(6),
      ours.busy.toFixed(2),
    ]);
    if (sklearn) {
      lines.push([
        row.jobs,
        `sklearn ${sklearn.version} GridSearchCV`,
        spread(summary(sklearn.walls), " s", s),
        "-",
        "1",
        params(sklearn.bestParams),
        sklearn.bestScore.toFixed(6),
        sklearn.holdoutRmse.toFixed(6),
        "",
      ]);
    }
  }
  console.log(
    markdownTable(
      [
        "n_jobs",
        "implementation",
        "wall, median (min–max)",
        "CPU, median (min–max)",
        "÷ sklearn (medians)",
        "best params",
        "best CV RMSE",
        "hold-out RMSE",
        "busy",
      ],
      lines,
    ),
  );
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
  console.log(await loadLine());
  writeFileSync(
    join(OUT, "results.json"),
    JSON.stringify({ node: process.version, reps, rows }, null, 1),
  );
}

if (flag("child")) await child();
else await parent();
