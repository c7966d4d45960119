// Batch-scoring benchmark: scoreBatch (what mlops-predict runs) against the usual pandas script
// (bench/batch_pandas.py: read_csv → predict → to_csv), same depth-8 tree, same file, same run.
//
//   npx turbo run build --filter=./packages/*      # the script imports the built packages
//   node bench/batch.mjs [--rows 1000000] [--runs 3] [--big-rows 10000000] [--skip-big]
//                        [--baseline DIR]
//
// 1. batch_pandas.py fits DecisionTreeRegressor(max_depth=8) on 100,000 friedman_hash rows and
//    exports its arrays; the same tree becomes a registered `tree` artifact here. (Without
//    sklearn a random depth-8 tree is used and the pandas rows are skipped.)
// 2. `--rows` × 10 friedman_hash values (seed 7, rounded to float32 so both sides compare the
//    very same numbers with the same thresholds) are written once as CSV and as Parquet.
// 3. Each measurement runs in a fresh process (timed from the first read to the renamed output;
//    interpreter start and model load excluded on both sides), `--runs` rounds: the median with
//    the min–max. pandas CSV → CSV (all columns + prediction, single-threaded as pandas is);
//    ours CSV → CSV with 1 and 2 worker threads; ours Parquet → Parquet with 2. The runs are
//    interleaved (round 1 of every measurement, then round 2, …: A B A B), so a change in the
//    machine's load falls on all of them alike. `--baseline DIR` adds CSV → CSV with 1 and 2
//    workers and Parquet → Parquet with 2 for the @mlops/serve built in another checkout
//    (before/after in the same run).
// 4. Both CSV outputs must hold the same predictions (max |difference| 0), every CSV output of
//    ours (1 and 2 workers, the baseline's) must be the same bytes, and our Parquet output must
//    decode to the same table as our CSV output.
// 5. A `--big-rows` CSV (10,000,000 rows ≈ 1.5 GB) is generated in a temporary folder, scored
//    CSV → CSV with 2 workers, its peak RSS reported (max RSS of the process, threads included),
//    and deleted.
// The machine's load average is printed before each measurement; the CPU seconds (user + system,
// every thread) of each run say how much work it took whatever the load. Results go to
// .bench/batch-results.json.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  createArtifact,
  Frame,
  field,
  openFrameWriter,
  openRegistry,
  readFrame,
  schema,
  writeFrame,
} from "../packages/core/dist/index.js";
import { uniformHash } from "./friedman-hash.mjs";

const SCRIPT = fileURLToPath(import.meta.url);
const ROOT = join(dirname(SCRIPT), "..");
const OUT = join(ROOT, ".bench", "batch");
const PYTHON = "/usr/bin/python3";
const FEATURES = 10;
const NAMES = Array.from({ length: FEATURES }, (_, j) => `x${j}`);
const MB = 1024 * 1024;

function option(name, fallback) {
  const index = process.argv.indexOf(`--${name}`);
  if (index < 0) return fallback;
  const value = Number(process.argv[index + 1]);
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`--${name}: expected a positive integer, got ${process.argv[index + 1]}`);
  }
  return value;
}

// ------------------------------------------------------------------ child: one measured run

if (process.argv[2] === "--child") {
  const [, , , registry, input, output, workers, serveDist] = process.argv;
  rmSync(output, { recursive: true, force: true });
  const { scoreBatch } = await import(join(serveDist, "index.js"));
  const start = performance.now();
  const cpuBefore = process.cpuUsage();
  const summary = await scoreBatch({
    registry,
    model: "bench@production",
    input,
    output,
    workers: Number(workers),
  });
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  if (!summary.ok) throw new Error(`the run was not ok: ${JSON.stringify(summary.totals)}`);
  process.stdout.write(
    `${JSON.stringify({ seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, rows: summary.totals.rowsScored, peakBytes: process.resourceUsage().maxRSS * 1024 })}\n`,
  );
  process.exit(0);
}

// ------------------------------------------------------------------ parent

const ROWS = option("rows", 1_000_000);
const baselineAt = process.argv.indexOf("--baseline");
const BASELINE = baselineAt < 0 ? undefined : process.argv[baselineAt + 1];
const SERVE_DIST = join(ROOT, "packages/serve/dist");
const RUNS = option("runs", 3);
const BIG_ROWS = option("big-rows", 10_000_000);
const SKIP_BIG = process.argv.includes("--skip-big");

function load() {
  return loadavg()
    .map((value) => value.toFixed(2))
    .join(" ");
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function hasPandas() {
  const check = spawnSync(PYTHON, ["-c", "import pandas, sklearn"], { encoding: "utf8" });
  return check.status === 0;
}

/** The tree: sklearn's (fitted by batch_pandas.py) or a random complete one. */
function loadTree(peer) {
  if (peer) {
    const fitted = spawnSync(PYTHON, [join(ROOT, "bench/batch_pandas.py"), "fit", OUT], {
      encoding: "utf8",
      stdio: ["ignore", "inherit", "inherit"],
    });
    if (fitted.status !== 0) throw new Error(`batch_pandas.py fit failed (${fitted.status})`);
    return JSON.parse(readFileSync(join(OUT, "tree.json"), "utf8"));
  }
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
    if (level < 8) {
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

/** friedman_hash X rows [from, from + n) of seed 7, rounded to float32, as a Frame. */
function rowsFrame(from, n) {
  const columns = NAMES.map(() => new Float64Array(n));
  for (let r = 0; r < n; r++) {
    const row = from + r;
    for (let j = 0; j < FEATURES; j++) {
      columns[j][r] = Math.fround(uniformHash(7, row * (FEATURES + 1) + j));
    }
  }
  return new Frame(NAMES.map((name, j) => [name, { kind: "number", values: columns[j] }]));
}

/** Writes `rows` rows to `path` batch by batch (memory stays small for the 10M-row file). */
async function writeRows(path, rows) {
  const writer = await openFrameWriter(path);
  for (let from = 0; from < rows; from += 65_536) {
    await writer.write(rowsFrame(from, Math.min(65_536, rows - from)));
  }
  await writer.close();
}

function runOurs(registry, input, output, workers, serveDist = SERVE_DIST) {
  const done = spawnSync(
    process.execPath,
    [SCRIPT, "--child", registry, input, output, String(workers), serveDist],
    { encoding: "utf8", maxBuffer: 16 * MB },
  );
  if (done.status !== 0) throw new Error(`child failed (${done.status}):\n${done.stderr}`);
  return JSON.parse(done.stdout.trim().split("\n").pop());
}

function runPandas(input, output) {
  const done = spawnSync(
    PYTHON,
    [join(ROOT, "bench/batch_pandas.py"), "score", OUT, input, output],
    { encoding: "utf8" },
  );
  if (done.status !== 0) throw new Error(`batch_pandas.py score failed:\n${done.stderr}`);
  return JSON.parse(done.stdout.trim());
}

/** Runs every measurement `RUNS` times, interleaved (A B A B …); median and min–max each. */
function measureAll(plans) {
  const runs = plans.map(() => ({ seconds: [], cpu: [], loads: [], last: undefined }));
  for (let i = 0; i < RUNS; i++) {
    plans.forEach((plan, index) => {
      const into = runs[index];
      into.loads.push(load());
      into.last = plan.run();
      into.seconds.push(into.last.seconds);
      into.cpu.push(into.last.cpuSeconds);
      process.stderr.write(
        `  ${plan.label} run ${i + 1}: ${into.last.seconds.toFixed(2)} s (load ${into.loads.at(-1)})\n`,
      );
    });
  }
  return plans.map((plan, index) => {
    const { seconds, cpu, loads, last } = runs[index];
    const middle = median(seconds);
    return {
      label: plan.label,
      seconds: middle,
      min: Math.min(...seconds),
      max: Math.max(...seconds),
      rowsPerSecond: last.rows / middle,
      cpuSeconds: median(cpu),
      peakMB: last.peakBytes / MB,
      loads,
    };
  });
}

mkdirSync(OUT, { recursive: true });
const peer = hasPandas();
if (!peer)
  process.stderr.write(`${PYTHON} cannot import pandas and sklearn: pandas rows skipped\n`);
const tree = loadTree(peer);
const registryPath = join(OUT, "registry");
rmSync(registryPath, { recursive: true, force: true });
const registry = await openRegistry(registryPath);
await registry.registerModel(
  "bench",
  createArtifact({
    kind: "tree",
    schema: schema(Object.fromEntries(NAMES.map((name) => [name, field.number()]))),
    model: { inputs: NAMES },
    arrays: {
      "tree.left": Int32Array.from(tree.left),
      "tree.right": Int32Array.from(tree.right),
      "tree.feature": Int32Array.from(tree.feature),
      "tree.threshold": Float64Array.from(tree.threshold),
      "tree.value": Float64Array.from(tree.value),
    },
    lineage: {},
  }),
  { aliases: ["production"] },
);

const csv = join(OUT, `data-${ROWS}.csv`);
const parquet = join(OUT, `data-${ROWS}.parquet`);
if (!existsSync(csv)) await writeRows(csv, ROWS);
if (!existsSync(parquet)) await writeFrame(parquet, await readFrame(csv));
process.stderr.write(
  `${ROWS.toLocaleString("en-US")} rows × ${FEATURES}: CSV ${(statSync(csv).size / MB).toFixed(1)} MB, ` +
    `Parquet ${(statSync(parquet).size / MB).toFixed(1)} MB; load ${load()}\n`,
);

const pandasOut = join(OUT, "pandas-out.csv");
const oursCsv = (name) => join(OUT, `ours-csv-${name}`);
const baselineDist = BASELINE && join(BASELINE, "packages/serve/dist");
const plans = [
  ...(peer ? [{ label: "pandas CSV → CSV (1 thread)", run: () => runPandas(csv, pandasOut) }] : []),
  ...(baselineDist
    ? [
        {
          label: "baseline CSV → CSV, 1 worker",
          run: () => runOurs(registryPath, csv, oursCsv("b1"), 1, baselineDist),
        },
      ]
    : []),
  { label: "@mlops CSV → CSV, 1 worker", run: () => runOurs(registryPath, csv, oursCsv("1"), 1) },
  ...(baselineDist
    ? [
        {
          label: "baseline CSV → CSV, 2 workers",
          run: () => runOurs(registryPath, csv, oursCsv("b2"), 2, baselineDist),
        },
      ]
    : []),
  { label: "@mlops CSV → CSV, 2 workers", run: () => runOurs(registryPath, csv, oursCsv("2"), 2) },
  ...(baselineDist
    ? [
        {
          label: "baseline Parquet → Parquet, 2 workers",
          run: () => runOurs(registryPath, parquet, join(OUT, "ours-parquet-b"), 2, baselineDist),
        },
      ]
    : []),
  {
    label: "@mlops Parquet → Parquet, 2 workers",
    run: () => runOurs(registryPath, parquet, join(OUT, "ours-parquet"), 2),
  },
];
const results = measureAll(plans);
const byLabel = (prefix) => results.find((result) => result.label.startsWith(prefix));
const one = byLabel("@mlops CSV → CSV, 1");
const two = byLabel("@mlops CSV → CSV, 2");
const pq = byLabel("@mlops Parquet");
const baseOne = byLabel("baseline CSV → CSV, 1");
const baseTwo = byLabel("baseline CSV → CSV, 2");

// Every CSV output of ours holds the same bytes, whatever the workers (and the baseline's).
const outputName = `data-${ROWS}.csv`;
const reference = readFileSync(join(oursCsv("1"), outputName));
for (const name of ["2", ...(baselineDist ? ["b1", "b2"] : [])]) {
  if (!reference.equals(readFileSync(join(oursCsv(name), outputName)))) {
    throw new Error(`the CSV output of run "${name}" differs from the 1-worker output`);
  }
}

// The Parquet output holds the CSV output's table: the same columns, values and predictions.
{
  const fromCsv = await readFrame(join(oursCsv("2"), outputName));
  const fromParquet = await readFrame(join(OUT, "ours-parquet", `data-${ROWS}.parquet`));
  if (
    fromCsv.rowCount !== fromParquet.rowCount ||
    fromCsv.names.join() !== fromParquet.names.join()
  ) {
    throw new Error("the Parquet output's rows or columns differ from the CSV output's");
  }
  for (const name of fromCsv.names) {
    const a = fromCsv.numeric(name);
    const b = fromParquet.numeric(name);
    for (let i = 0; i < a.length; i++) {
      if (a[i] !== b[i]) throw new Error(`Parquet output ${name}[${i}]: ${b[i]}, CSV: ${a[i]}`);
    }
  }
}

let agreement = "not checked (no pandas)";
if (peer) {
  const ours = (await readFrame(join(oursCsv("1"), outputName))).numeric("prediction");
  const theirs = (await readFrame(pandasOut)).numeric("prediction");
  let worst = 0;
  for (let i = 0; i < ours.length; i++) worst = Math.max(worst, Math.abs(ours[i] - theirs[i]));
  if (ours.length !== theirs.length || worst !== 0) {
    throw new Error(
      `predictions differ: ${ours.length} vs ${theirs.length} rows, max |d| ${worst}`,
    );
  }
  agreement = `identical (${ours.length.toLocaleString("en-US")} rows, max |difference| 0)`;
}

let big;
if (!SKIP_BIG) {
  const folder = await mkdtemp(join(tmpdir(), "mlops-batch-big-"));
  try {
    const path = join(folder, "big.csv");
    process.stderr.write(`generating ${BIG_ROWS.toLocaleString("en-US")} rows in ${folder} …\n`);
    await writeRows(path, BIG_ROWS);
    const size = statSync(path).size;
    process.stderr.write(`  ${(size / MB).toFixed(0)} MB; scoring (load ${load()})\n`);
    const run = runOurs(registryPath, path, join(folder, "out"), 2);
    big = {
      rows: BIG_ROWS,
      fileMB: size / MB,
      seconds: run.seconds,
      rowsPerSecond: run.rows / run.seconds,
      peakMB: run.peakBytes / MB,
      load: load(),
    };
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

const base = peer ? results[0].seconds : undefined;
console.log(
  `\n| run | median s (min–max) | rows/s | × pandas rows/s | CPU s (median) | CPU µs/row | peak RSS |\n| --- | --- | --- | --- | --- | --- | --- |`,
);
for (const result of results) {
  const ratio = base === undefined ? "—" : `${(base / result.seconds).toFixed(2)}×`;
  console.log(
    `| ${result.label} | ${result.seconds.toFixed(2)} (${result.min.toFixed(2)}–${result.max.toFixed(2)}) | ` +
      `${Math.round(result.rowsPerSecond).toLocaleString("en-US")} | ${ratio} | ` +
      `${result.cpuSeconds.toFixed(2)} | ${((1e6 * result.cpuSeconds) / ROWS).toFixed(2)} | ` +
      `${result.peakMB.toFixed(0)} MB |`,
  );
}
console.log(
  `\n2 workers ÷ 1 worker (CSV → CSV): ${(one.seconds / two.seconds).toFixed(2)}× the rows/s, ` +
    `at ${(two.cpuSeconds / one.cpuSeconds).toFixed(2)}× the CPU seconds`,
);
if (baseOne && baseTwo) {
  console.log(
    `ours ÷ baseline (CSV → CSV rows/s): 1 worker ${(baseOne.seconds / one.seconds).toFixed(2)}×, ` +
      `2 workers ${(baseTwo.seconds / two.seconds).toFixed(2)}×; baseline 2 ÷ 1 workers ` +
      `${(baseOne.seconds / baseTwo.seconds).toFixed(2)}×`,
  );
}
console.log("CSV outputs of ours: the same bytes with 1 and 2 workers (and the baseline's)");
console.log(
  `Parquet → Parquet ÷ CSV → CSV (2 workers): ${(two.seconds / pq.seconds).toFixed(2)}× faster, ` +
    `${(pq.cpuSeconds / two.cpuSeconds).toFixed(2)}× the CPU seconds; the same table`,
);
console.log(`Predictions, ours vs pandas: ${agreement}`);
if (big) {
  console.log(
    `${big.rows.toLocaleString("en-US")}-row CSV (${big.fileMB.toFixed(0)} MB) → CSV, 2 workers: ` +
      `${big.seconds.toFixed(1)} s, ${Math.round(big.rowsPerSecond).toLocaleString("en-US")} rows/s, ` +
      `peak RSS ${big.peakMB.toFixed(0)} MB (load ${big.load})`,
  );
}
writeFileSync(
  join(ROOT, ".bench", "batch-results.json"),
  `${JSON.stringify({ rows: ROWS, runs: RUNS, results, big, agreement }, null, 2)}\n`,
);
