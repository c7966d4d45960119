// Predict benchmark: our tree predictor against scikit-learn's DecisionTreeRegressor.predict on
// the same fitted tree and the same 1,000,000 × 10 rows, plus the single-row path (predictRow).
//
//   npm run build --workspace @mlops/core   # the script imports the built package (dist/)
//   node bench/predict.mjs [--rows 1000000] [--depth 8] [--runs 5] [--calls 1000000]
//       [--baseline DIR]
//
// Both sides: one untimed warm-up run, then --runs timed runs, one thread; the figures are the
// median with the min–max spread, and the machine's load is printed. For another checkout, run
// this file from there (it imports ../packages/core/dist): copy it in, or use that checkout's own.
//
// 1. When `/usr/bin/python3 -c 'import sklearn'` works, bench/predict_sklearn.py fits
//    DecisionTreeRegressor(max_depth=8) on 100,000 friedman_hash rows (seed 42), exports its
//    tree_ arrays, and times predict on 1,000,000 fresh rows (seed 7).
//    Otherwise a random depth-8 tree is built here and only our figures are printed.
// 2. The same tree becomes a `tree` artifact, is encoded and decoded (the predictor runs on the
//    zero-copy arrays of the decoded file, as a server would), and predicts the same rows from a
//    Frame of 10 Float64Array columns, schema validation included.
// 3. Predictions must be identical to sklearn's (max |difference| 0) on the same float64 data:
//    sklearn casts X to float32 inside predict, and the artifact says so (`splitRule:
//    "float32_le"`), which our predictor folds into its thresholds once.
// 4. predictRow is timed over --calls calls cycling through 10,000 row objects parsed from JSON.
//
// 5. --baseline DIR (a checkout whose packages/core/dist is built): that build's predictor runs the
//    same artifact on the same frame in the same process, its runs interleaved with ours
//    (ours, baseline, baseline, ours, …), and must predict the same values.
//
// Results are printed and saved to .bench/predict-results.json.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import {
  createArtifact,
  createPredictor,
  decodeArtifact,
  encodeArtifact,
  Frame,
  field,
  schema,
} from "../packages/core/dist/index.js";
import { uniformHash } from "./friedman-hash.mjs";
import { loadLine, PYTHON, ROOT, spread, summary, option as textOption } from "./lib.mjs";

const OUT = join(ROOT, ".bench", "predict");

function option(name, fallback) {
  const index = process.argv.indexOf(`--${name}`);
  if (index < 0) return fallback;
  const value = Number(process.argv[index + 1]);
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`--${name}: expected a positive integer, got ${process.argv[index + 1]}`);
  }
  return value;
}

const ROWS = option("rows", 1_000_000);
const FEATURES = 10;
const DEPTH = option("depth", 8);
const RUNS = option("runs", 5);
const CALLS = option("calls", 1_000_000);
const BASELINE = textOption("baseline");

// ------------------------------------------------------------------ data

// The portable generator of /work/shared/peers (peerdata.friedman_hash, friedman_hash.mjs):
// counter-hash uniforms, so Python and JavaScript produce bit-identical X.
/** Columns of friedman_hash(n, p, seed)'s X. */
function friedmanColumns(n, p, seed) {
  const columns = Array.from({ length: p }, () => new Float64Array(n));
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < p; j++) columns[j][r] = uniformHash(seed, r * (p + 1) + j);
  }
  return columns;
}

// ------------------------------------------------------------------ the tree

function sklearnTree() {
  const check = spawnSync(PYTHON, ["-c", "import sklearn"], { encoding: "utf8" });
  if (check.status !== 0) {
    return { skipped: `${PYTHON} cannot import sklearn (apt-get install python3-sklearn)` };
  }
  mkdirSync(OUT, { recursive: true });
  const args = [join(ROOT, "bench/predict_sklearn.py"), OUT, "--rows", String(ROWS)];
  args.push("--depth", String(DEPTH), "--runs", String(RUNS), "--features", String(FEATURES));
  const done = spawnSync(PYTHON, args, {
    encoding: "utf8",
    stdio: ["ignore", "inherit", "inherit"],
  });
  if (done.status !== 0) throw new Error(`predict_sklearn.py failed (exit ${done.status})`);
  const tree = JSON.parse(readFileSync(join(OUT, "tree.json"), "utf8"));
  const info = JSON.parse(readFileSync(join(OUT, "sklearn.json"), "utf8"));
  const raw = readFileSync(join(OUT, "predictions.f64"));
  const predictions = new Float64Array(
    raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length),
  );
  return { tree, info, predictions };
}

/** A complete random tree of `depth` (sklearn's node order), for machines without sklearn. */
function randomTree(depth) {
  let state = 20240611;
  const random = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state / 4294967296;
  };
  const tree = { left: [], right: [], feature: [], threshold: [], value: [] };
  const grow = (level) => {
    const id = tree.left.length;
    tree.left.push(-1);
    tree.right.push(-1);
    tree.feature.push(-2);
    tree.threshold.push(-2);
    tree.value.push(random() * 20);
    if (level < depth) {
      tree.feature[id] = Math.floor(random() * FEATURES);
      tree.threshold[id] = random();
      tree.left[id] = grow(level + 1);
      tree.right[id] = grow(level + 1);
    }
    return id;
  };
  grow(0);
  return tree;
}

function treeArrays(tree) {
  const arrays = {
    "tree.left": Int32Array.from(tree.left),
    "tree.right": Int32Array.from(tree.right),
    "tree.feature": Int32Array.from(tree.feature),
    "tree.threshold": Float64Array.from(tree.threshold),
    "tree.value": Float64Array.from(tree.value),
  };
  if (tree.missingLeft) arrays["tree.missingLeft"] = Uint8Array.from(tree.missingLeft);
  if (tree.nodeSamples) arrays["tree.nodeSamples"] = Float64Array.from(tree.nodeSamples);
  if (tree.impurity) arrays["tree.impurity"] = Float64Array.from(tree.impurity);
  return arrays;
}

/** One untimed warm-up run, then `runs` timed ones: the summary and the last result. */
function timed(runs, run) {
  let result = run();
  const seconds = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    result = run();
    seconds.push((performance.now() - start) / 1000);
  }
  return { seconds: summary(seconds), result };
}

/** `timed` for two sides, their runs interleaved (a b b a a b …) after one warm-up each. */
function timedPair(runs, a, b) {
  const sides = [a, b].map((run) => ({ run, result: run(), seconds: [] }));
  for (let i = 0; i < runs; i++) {
    const order = i % 2 === 0 ? sides : [...sides].reverse();
    for (const side of order) {
      const start = performance.now();
      side.result = side.run();
      side.seconds.push((performance.now() - start) / 1000);
    }
  }
  return sides.map((side) => ({ seconds: summary(side.seconds), result: side.result }));
}

// ------------------------------------------------------------------ main

const reference = sklearnTree();
if (reference.skipped) console.log(`scikit-learn skipped: ${reference.skipped}; timing ours only.`);
const tree = reference.tree ?? randomTree(DEPTH);
const names = Array.from({ length: FEATURES }, (_, j) => `x${j}`);
const features = schema(
  Object.fromEntries([...names.map((name) => [name, field.number()]), ["y", field.number()]]),
  { target: "y" },
);
const bytes = encodeArtifact(
  createArtifact({
    kind: "tree",
    schema: features,
    model: { inputs: names, splitRule: "float32_le" },
    arrays: treeArrays(tree),
    params: { maxDepth: DEPTH },
    lineage: { gitCommit: "0000000" },
  }),
);
const predictor = createPredictor(decodeArtifact(bytes, { source: "bench tree" }));

const columns = friedmanColumns(ROWS, FEATURES, 7);
const frame = new Frame(names.map((name, j) => [name, { kind: "number", values: columns[j] }]));
console.log(await loadLine());
let ours;
let before;
if (BASELINE === undefined) ours = timed(RUNS, () => predictor.predict(frame));
else {
  const dist = join(resolve(BASELINE), "packages/core/dist/index.js");
  const core = await import(pathToFileURL(dist).href);
  const baseline = core.createPredictor(core.decodeArtifact(bytes, { source: "bench tree" }));
  [ours, before] = timedPair(
    RUNS,
    () => predictor.predict(frame),
    () => baseline.predict(frame),
  );
}
const validation = timed(RUNS, () => features.features().conformFrame(frame));

let maxDifference = 0;
let mismatches = 0;
if (reference.predictions) {
  for (let i = 0; i < ROWS; i++) {
    const difference = Math.abs(ours.result[i] - reference.predictions[i]);
    if (!(difference <= 1e-12)) mismatches++;
    if (!(difference <= maxDifference)) maxDifference = difference;
  }
}

// predictRow: row objects as a server gets them, parsed from JSON.
const pool = Array.from({ length: Math.min(10_000, ROWS) }, (_, i) =>
  JSON.parse(JSON.stringify(Object.fromEntries(names.map((name, j) => [name, columns[j][i]])))),
);
let rowMismatches = 0;
pool.forEach((row, i) => {
  if (predictor.predictRow(row) !== ours.result[i]) rowMismatches++;
});
let sink = 0;
for (let i = 0; i < 200_000; i++) sink += predictor.predictRow(pool[i % pool.length]);
const rowRuns = timed(3, () => {
  for (let i = 0; i < CALLS; i++) sink += predictor.predictRow(pool[i % pool.length]);
  return sink;
});
const rowNanoseconds = (rowRuns.seconds.median * 1e9) / CALLS;

const sklearnTimes = reference.info ? summary(reference.info.predictTimes) : undefined;
const sklearnSeconds = sklearnTimes?.median;
const results = {
  rows: ROWS,
  features: FEATURES,
  tree: reference.info
    ? {
        source: "sklearn",
        nodes: reference.info.nodes,
        leaves: reference.info.leaves,
        depth: reference.info.depth,
      }
    : { source: "random", nodes: tree.left.length, depth: DEPTH },
  node: process.version,
  sklearn: reference.info
    ? {
        version: reference.info.sklearn,
        predictSeconds: sklearnTimes,
        rowsPerSecond: ROWS / sklearnSeconds,
        predictFloat32Seconds: summary(reference.info.predictFloat32Times),
        generator: reference.info.generator,
      }
    : { skipped: reference.skipped },
  ours: {
    predictSeconds: ours.seconds,
    rowsPerSecond: ROWS / ours.seconds.median,
    conformFrameSeconds: validation.seconds,
    predictRowNanoseconds: rowNanoseconds,
  },
  speedup: sklearnSeconds ? sklearnSeconds / ours.seconds.median : undefined,
  maxAbsDifference: reference.predictions ? maxDifference : undefined,
  mismatches: reference.predictions ? mismatches : undefined,
  predictRowMismatches: rowMismatches,
};

const millions = (rate) => `${(rate / 1e6).toFixed(1)} M rows/s`;
const s4 = (value) => value.toFixed(4);
console.log(
  `\ntree: ${JSON.stringify(results.tree)}; ` +
    `${ROWS.toLocaleString("en")} rows × ${FEATURES}, median (min–max) of ${RUNS} after a warm-up`,
);
if (sklearnSeconds) {
  console.log(
    `sklearn ${reference.info.sklearn} predict      ` +
      `${spread(sklearnTimes, " s", s4)}  ${millions(ROWS / sklearnSeconds)}`,
  );
  console.log(`  (float32 input: ${spread(results.sklearn.predictFloat32Seconds, " s", s4)})`);
}
console.log(
  `@mlops predict           ${spread(ours.seconds, " s", s4)}  ` +
    `${millions(ROWS / ours.seconds.median)} (validation included)`,
);
console.log(`  (schema.conformFrame alone, for scale: ${spread(validation.seconds, " s", s4)})`);
let baselineMismatches = 0;
if (before) {
  for (let i = 0; i < ROWS; i++) if (before.result[i] !== ours.result[i]) baselineMismatches++;
  console.log(
    `baseline predict         ${spread(before.seconds, " s", s4)}  ` +
      `${millions(ROWS / before.seconds.median)} (${BASELINE}; runs interleaved with ours)`,
  );
  console.log(
    `ratio baseline ÷ ours    ${(before.seconds.median / ours.seconds.median).toFixed(2)}× ` +
      `(medians); predictions ${baselineMismatches === 0 ? "identical" : `differ in ${baselineMismatches} rows`}`,
  );
  results.baseline = {
    tree: BASELINE,
    predictSeconds: before.seconds,
    mismatches: baselineMismatches,
  };
}
if (sklearnSeconds) {
  console.log(
    `ratio sklearn ÷ ours     ${(sklearnSeconds / ours.seconds.median).toFixed(2)}× (medians)`,
  );
  console.log(`max |ours − sklearn|     ${maxDifference} (${mismatches} rows differ)`);
}
console.log(
  `predictRow               ${rowNanoseconds.toFixed(0)} ns/call ` +
    `over ${CALLS.toLocaleString("en")} calls`,
);
console.log(
  `predictRow == predict    ${rowMismatches === 0 ? "yes" : `NO (${rowMismatches} rows)`}`,
);

mkdirSync(join(ROOT, ".bench"), { recursive: true });
writeFileSync(
  join(ROOT, ".bench", "predict-results.json"),
  `${JSON.stringify(results, null, 2)}\n`,
);
console.log(await loadLine());
if (mismatches > 0 || rowMismatches > 0 || baselineMismatches > 0) {
  console.error("predictions differ");
  process.exitCode = 1;
}
