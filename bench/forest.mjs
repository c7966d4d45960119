// Random forest benchmark: our RandomForestRegressor against scikit-learn's, side by side, on
// the peers' portable friedman_hash data, with 1 and 2 worker threads (n_jobs).
//
//   cd packages/core && npx tsup && cd ../train && npx tsup && cd ../..   # built packages
//   node bench/forest.mjs [--rows 100000] [--trees 100] [--jobs 1,2] [--holdout 20000]
//                         [--reps 3] [--wait 180] [--no-sklearn] [--tree DIR]
//
// `--tree DIR` times the built packages (dist/) of another checkout.
//
// Each configuration runs in a fresh `node` child: it generates friedman_hash(rows, 10, seed
// 42) straight into Frame columns, fits a 4-tree forest on 2,000 other rows (V8 compiles the
// kernel then), then times RandomForestRegressor({ nEstimators: trees, nJobs, seed: 0 }) with
// every other setting at scikit-learn's default (bootstrap, unlimited depth, all features; the
// exact splitter below 200,000 rows). scikit-learn's fit runs in /usr/bin/python3
// (bench/forest_sklearn.py) with the same settings and random_state=0. Hold-out rows
// (friedman_hash(holdout, 10, seed 7)) are rounded to float32 for both sides (scikit-learn
// rounds inputs inside predict), and the script reports hold-out RMSE, node counts and the
// share of identical predictions: with the same seed the two forests are the same trees.
//
// Both sides get the same warm-up (4 trees on 2,000 other rows) and the same threads (nJobs
// worker threads, n_jobs joblib workers, one OpenMP thread each); reps are interleaved, each a
// fresh process, and the table gives the median with the min–max spread and the machine's load.
// Results are printed and saved to .bench/forest/results.json.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { friedmanColumns } from "./friedman-hash.mjs";
import {
  flag,
  integerList,
  loadLine,
  markdownTable,
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
} from "./lib.mjs";

const SCRIPT = fileURLToPath(import.meta.url);
const OUT = join(ROOT, ".bench", "forest");

// The peers' friedman_hash (../shared/peers/friedman_hash.mjs), copied: bit-identical to
// peerdata.friedman_hash and to bench/forest_sklearn.py.
async function child() {
  const [rows, trees, jobs, holdout] = process.argv.slice(3, 7).map(Number);
  const tree = process.argv[7] ?? ROOT;
  const core = await import(pathToFileURL(join(tree, "packages/core/dist/index.js")).href);
  const train = await import(pathToFileURL(join(tree, "packages/train/dist/index.js")).href);
  const frameOf = (columns, round = false) =>
    new core.Frame(
      columns.map((values, j) => [
        `x${j}`,
        { kind: "number", values: round ? values.map(Math.fround) : values },
      ]),
    );
  const warm = friedmanColumns(2000, 10, 3);
  new train.RandomForestRegressor({ nEstimators: 4, nJobs: jobs }).fit(
    frameOf(warm.columns),
    warm.y,
  );
  const data = friedmanColumns(rows, 10, 42);
  const frame = frameOf(data.columns);
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  const forest = new train.RandomForestRegressor({ nEstimators: trees, nJobs: jobs, seed: 0 });
  forest.fit(frame, data.y);
  const seconds = (performance.now() - start) / 1000;
  // Every thread of the process (the calling thread and the pool's): steadier than wall time on
  // a shared machine, where waiting for a core counts in wall time only.
  const cpu = process.cpuUsage(cpuBefore);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const test = friedmanColumns(holdout, 10, 7);
  const predictions = forest.predict(frameOf(test.columns, true));
  let sum = 0;
  for (let i = 0; i < holdout; i++) sum += (predictions[i] - test.y[i]) ** 2;
  const nodes = forest.trees.reduce((total, tree) => total + tree.left.length, 0);
  const file = join(OUT, `ours-${rows}-${trees}-${jobs}.f64`);
  writeFileSync(file, new Uint8Array(predictions.buffer));
  process.stdout.write(
    JSON.stringify({
      seconds,
      cpuSeconds,
      nodes,
      rmse: Math.sqrt(sum / holdout),
      jobs: forest.jobsUsed,
    }),
  );
}

async function main() {
  const rows = positiveInteger("rows", 100000);
  const trees = positiveInteger("trees", 100);
  const holdout = positiveInteger("holdout", 20000);
  const reps = positiveInteger("reps", 3);
  const jobsList = integerList("jobs", "1,2");
  const wait = Number(option("wait", 180));
  const sklearn = !flag("no-sklearn") && pythonHas("sklearn");
  mkdirSync(OUT, { recursive: true });
  const tree = sourceTree();
  console.log(`node ${process.version}, ${reps} reps per side (fresh process each), tree ${tree}`);
  console.log(await loadLine());
  const results = [];
  for (const jobs of jobsList) {
    const busy = await waitForQuiet(wait);
    const ours = [];
    const theirs = [];
    let identical;
    // Interleaved reps, the same threads (nJobs / n_jobs) and warm-up on both sides.
    for (let rep = 0; rep < reps; rep++) {
      ours.push(
        JSON.parse(
          run(process.execPath, [SCRIPT, "--child", rows, trees, jobs, holdout, tree].map(String)),
        ),
      );
      if (!sklearn) continue;
      run(
        PYTHON,
        [
          join(ROOT, "bench/forest_sklearn.py"),
          ...["--rows", rows, "--trees", trees, "--jobs", jobs, "--holdout", holdout],
          ...["--out", OUT],
        ].map(String),
        { env: { ...process.env, OMP_NUM_THREADS: "1" } },
      );
      const stem = join(OUT, `sklearn-${rows}-${trees}-${jobs}`);
      theirs.push(JSON.parse(readFileSync(`${stem}.json`, "utf8")));
      const expected = new Float64Array(readFileSync(`${stem}.f64`).buffer.slice(0));
      const mine = new Float64Array(
        readFileSync(join(OUT, `ours-${rows}-${trees}-${jobs}.f64`)).buffer.slice(0),
      );
      let same = 0;
      for (let i = 0; i < holdout; i++) if (expected[i] === mine[i]) same++;
      identical = same / holdout;
    }
    const row = {
      rows,
      trees,
      jobs,
      busy,
      ours: summary(ours.map((r) => r.seconds)),
      oursCpu: summary(ours.map((r) => r.cpuSeconds)),
      oursRmse: ours[0].rmse,
      oursNodes: ours[0].nodes,
    };
    if (sklearn) {
      row.sklearn = summary(theirs.map((r) => r.seconds));
      row.sklearnRmse = theirs[0].rmse;
      row.ratio = row.ours.median / row.sklearn.median;
      row.identical = identical;
    }
    results.push(row);
    console.log(`nJobs=${jobs} done (busy cores before: ${busy.toFixed(2)})`);
  }
  writeFileSync(join(OUT, "results.json"), `${JSON.stringify(results, null, 2)}\n`);
  const s = (value) => value.toFixed(2);
  console.log(
    markdownTable(
      [
        "rows",
        "trees",
        "threads",
        "@mlops s, median (min–max)",
        "@mlops CPU s",
        "sklearn s",
        "÷ sklearn (medians)",
        "RMSE ours",
        "nodes ours",
        "RMSE sklearn",
        "identical",
        "busy",
      ],
      results.map((r) => [
        r.rows,
        r.trees,
        r.jobs,
        spread(r.ours, "", s),
        spread(r.oursCpu, "", s),
        r.sklearn ? spread(r.sklearn, "", s) : "-",
        r.ratio ? `${r.ratio.toFixed(2)}×` : "-",
        r.oursRmse.toFixed(4),
        r.oursNodes,
        r.sklearnRmse === undefined ? "-" : r.sklearnRmse.toFixed(4),
        r.identical === undefined ? "-" : `${(100 * r.identical).toFixed(1)} %`,
        r.busy.toFixed(2),
      ]),
    ),
  );
  console.log(await loadLine());
}

if (process.argv[2] === "--child") await child();
else await main();
