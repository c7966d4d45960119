// Random forest benchmark: our RandomForestRegressor against scikit-learn's, side by side, on
// the peers' portable friedman_hash data, with 1 and 2 worker threads (n_jobs).
//
//   cd packages/core && npx tsup && cd ../train && npx tsup && cd ../..   # built packages
//   node bench/forest.mjs [--rows 100000] [--trees 100] [--jobs 1,2] [--holdout 20000]
//                         [--no-sklearn]
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
// The machine is shared: the script prints the 1-minute load average before each run.
// Results are printed and saved to .bench/forest/results.json.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { friedmanColumns } from "./friedman-hash.mjs";

const SCRIPT = fileURLToPath(import.meta.url);
const ROOT = join(dirname(SCRIPT), "..");
const OUT = join(ROOT, ".bench", "forest");

function option(name, fallback) {
  const index = process.argv.indexOf(`--${name}`);
  return index < 0 ? fallback : process.argv[index + 1];
}

// The peers' friedman_hash (../shared/peers/friedman_hash.mjs), copied: bit-identical to
// peerdata.friedman_hash and to bench/forest_sklearn.py.
async function child() {
  const [rows, trees, jobs, holdout] = process.argv.slice(3).map(Number);
  const core = await import(pathToFileURL(join(ROOT, "packages/core/dist/index.js")).href);
  const train = await import(pathToFileURL(join(ROOT, "packages/train/dist/index.js")).href);
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
  const start = performance.now();
  const forest = new train.RandomForestRegressor({ nEstimators: trees, nJobs: jobs, seed: 0 });
  forest.fit(frame, data.y);
  const seconds = (performance.now() - start) / 1000;
  const test = friedmanColumns(holdout, 10, 7);
  const predictions = forest.predict(frameOf(test.columns, true));
  let sum = 0;
  for (let i = 0; i < holdout; i++) sum += (predictions[i] - test.y[i]) ** 2;
  const nodes = forest.trees.reduce((total, tree) => total + tree.left.length, 0);
  const file = join(OUT, `ours-${rows}-${trees}-${jobs}.f64`);
  writeFileSync(file, new Uint8Array(predictions.buffer));
  process.stdout.write(
    JSON.stringify({ seconds, nodes, rmse: Math.sqrt(sum / holdout), jobs: forest.jobsUsed }),
  );
}

function main() {
  const rows = Number(option("rows", "100000"));
  const trees = Number(option("trees", "100"));
  const holdout = Number(option("holdout", "20000"));
  const jobsList = option("jobs", "1,2").split(",").map(Number);
  const sklearn = !process.argv.includes("--no-sklearn");
  mkdirSync(OUT, { recursive: true });
  const results = [];
  for (const jobs of jobsList) {
    const load = loadavg()[0].toFixed(2);
    const run = spawnSync(
      process.execPath,
      [SCRIPT, "--child", rows, trees, jobs, holdout].map(String),
      { encoding: "utf8", maxBuffer: 1 << 26 },
    );
    if (run.status !== 0) throw new Error(run.stderr);
    const ours = JSON.parse(run.stdout);
    const row = { rows, trees, jobs, load, ours };
    if (sklearn) {
      const py = spawnSync(
        "/usr/bin/python3",
        [
          join(ROOT, "bench/forest_sklearn.py"),
          ...["--rows", rows, "--trees", trees, "--jobs", jobs, "--holdout", holdout],
          ...["--out", OUT],
        ].map(String),
        { encoding: "utf8" },
      );
      if (py.status !== 0) throw new Error(py.stderr);
      const stem = join(OUT, `sklearn-${rows}-${trees}-${jobs}`);
      row.sklearn = JSON.parse(readFileSync(`${stem}.json`, "utf8"));
      const theirs = new Float64Array(readFileSync(`${stem}.f64`).buffer.slice(0));
      const mine = new Float64Array(
        readFileSync(join(OUT, `ours-${rows}-${trees}-${jobs}.f64`)).buffer.slice(0),
      );
      let same = 0;
      for (let i = 0; i < holdout; i++) if (theirs[i] === mine[i]) same++;
      row.identical = same / holdout;
      row.ratio = ours.seconds / row.sklearn.seconds;
    }
    results.push(row);
    console.log(JSON.stringify(row));
  }
  writeFileSync(join(OUT, "results.json"), `${JSON.stringify(results, null, 2)}\n`);
  const header = ["rows", "trees", "jobs", "ours (s)", "sklearn (s)", "ratio", "RMSE ours"];
  header.push("RMSE sklearn", "identical");
  console.log(`\n| ${header.join(" | ")} |`);
  console.log(`|${" --- |".repeat(header.length)}`);
  for (const r of results) {
    const s = r.sklearn;
    const cells = [r.rows, r.trees, r.jobs, r.ours.seconds.toFixed(2)];
    cells.push(s ? s.seconds.toFixed(2) : "-", r.ratio ? `${r.ratio.toFixed(2)}×` : "-");
    cells.push(r.ours.rmse.toFixed(4), s ? s.rmse.toFixed(4) : "-");
    cells.push(r.identical === undefined ? "-" : `${(100 * r.identical).toFixed(1)} %`);
    console.log(`| ${cells.join(" | ")} |`);
  }
}

if (process.argv[2] === "--child") await child();
else main();
