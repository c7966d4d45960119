// TPE against random search with the same trial budget: seed 003's decision-tree space on the
// wine quality data, one TPESearch and one RandomSearch per seed, over 20 seeds.
//
//   npm run build --workspace @mlops/core && npm run build --workspace @mlops/train
//   node bench/tpe.mjs [--seeds 20] [--trials 50] [--cv 5] [--jobs 2]
//
// Both searches cross-validate every candidate on the same folds (KFold, shuffled with seed 0;
// the data lists red wines first), score RMSE, and draw from the same space:
// criterion, maxDepth (null | 1..20, conditional), minSamplesSplit 2..20, minSamplesLeaf 1..20,
// maxFeatures (null, sqrt, log2, 0.1..0.9) and maxLeafNodes (null | 2..100). Seed k seeds both
// searches' draws. Reported: how often TPE's best mean CV RMSE beats random's, by how much (the
// difference random − TPE: median, mean, min–max; positive = TPE better), and each side's best
// scores. Speed is not the point here: the table is about the quality of the best trial found.
// Results are printed and saved to .bench/tpe/results.json.
import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { loadLine } from "./lib.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const OUT = join(ROOT, ".bench", "tpe");

function option(name, fallback) {
  const index = process.argv.indexOf(`--${name}`);
  return index < 0 ? fallback : process.argv[index + 1];
}

const core = await import(pathToFileURL(join(ROOT, "packages/core/dist/index.js")).href);
const train = await import(pathToFileURL(join(ROOT, "packages/train/dist/index.js")).href);

const seeds = Number(option("seeds", "20"));
const trials = Number(option("trials", "50"));
const cv = Number(option("cv", "5"));
const jobs = Number(option("jobs", "2"));

const wine = (await core.readFrame(join(ROOT, "examples/wine-quality/data/wine.csv"))).drop([
  "color",
]);
const { choice, integer } = train;
const space = {
  criterion: ["squared_error", "friedman_mse"],
  maxDepth: choice([null, integer(1, 20)]),
  minSamplesSplit: integer(2, 20),
  minSamplesLeaf: integer(1, 20),
  maxFeatures: [null, "sqrt", "log2", 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9],
  maxLeafNodes: choice([null, integer(2, 100)]),
};

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

const rows = [];
const before = await loadLine();
console.log(`before: ${before}\n${seeds} seeds × ${trials} trials, ${cv}-fold CV, ${jobs} workers`);
for (let seed = 0; seed < seeds; seed++) {
  const common = {
    estimator: new train.DecisionTreeRegressor(),
    paramDistributions: space,
    nIter: trials,
    seed,
    cv: new train.KFold({ nSplits: cv, shuffle: true, seed: 0 }),
    scoring: "rmse",
    nJobs: jobs,
    refit: false,
  };
  const started = performance.now();
  const tpe = await new train.TPESearch(common).fit(wine, "quality");
  const random = await new train.RandomSearch(common).fit(wine, "quality");
  const row = {
    seed,
    tpe: tpe.bestScore,
    random: random.bestScore,
    difference: random.bestScore - tpe.bestScore,
    seconds: (performance.now() - started) / 1000,
    load: Number(loadavg()[0].toFixed(2)),
  };
  rows.push(row);
  console.log(JSON.stringify(row));
}

const differences = rows.map((row) => row.difference);
const wins = rows.filter((row) => row.tpe < row.random).length;
const ties = rows.filter((row) => row.tpe === row.random).length;
const after = await loadLine();
console.log(`after: ${after}`);
const summary = {
  before,
  after,
  seeds,
  trials,
  cv,
  tpeWins: wins,
  ties,
  randomWins: seeds - wins - ties,
  difference: {
    median: median(differences),
    mean: differences.reduce((a, b) => a + b, 0) / seeds,
    min: Math.min(...differences),
    max: Math.max(...differences),
  },
  tpe: {
    median: median(rows.map((row) => row.tpe)),
    best: Math.min(...rows.map((row) => row.tpe)),
  },
  random: {
    median: median(rows.map((row) => row.random)),
    best: Math.min(...rows.map((row) => row.random)),
  },
  rows,
};
mkdirSync(OUT, { recursive: true });
writeFileSync(join(OUT, "results.json"), `${JSON.stringify(summary, null, 2)}\n`);
const f = (value) => value.toFixed(4);
console.log(
  `\nTPE's best CV RMSE beats random search's in ${wins} of ${seeds} seeds` +
    (ties ? ` (${ties} ties)` : "") +
    `; random − TPE: median ${f(summary.difference.median)}, mean ${f(summary.difference.mean)}, ` +
    `range ${f(summary.difference.min)} to ${f(summary.difference.max)}` +
    `\nmedian best RMSE: TPE ${f(summary.tpe.median)}, random ${f(summary.random.median)}`,
);
