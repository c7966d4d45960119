// Read benchmark: our CSV reader against pandas.read_csv on the same seeded file, plus our
// streaming CSV read and (when their writers exist) Parquet and Arrow reads of the same data.
//
//   npm run build --workspace @mlops/core   # the script imports the built package
//   node --expose-gc bench/read.mjs [--rows 1000000] [--runs 3]
//
// Each of our reads runs in a fresh `node --expose-gc` child so its peak memory (max RSS minus
// the RSS just before the read) is not polluted by earlier runs; pandas reads in a fresh process
// per run too. Wall times: the median of the runs with the min–max spread; the load is printed.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, renameSync, statSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { formats, readFrame, streamFrames, writeFrame } from "../packages/core/dist/index.js";
import { loadLine, PYTHON, ROOT, spread, summary } from "./lib.mjs";

const SCRIPT = fileURLToPath(import.meta.url);
const DATA = join(ROOT, ".bench");
const COLUMNS = 10;
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

/** Bytes held by a frame's columns (typed arrays only; dictionaries are not counted). */
function frameBytes(frame) {
  let bytes = 0;
  for (const [, column] of frame.columns()) {
    bytes += column.kind === "category" ? column.codes.byteLength : column.values.byteLength;
  }
  return bytes;
}

// ------------------------------------------------------------------ child: one measured read

async function child(kind, path) {
  globalThis.gc?.();
  const before = process.memoryUsage().rss;
  const start = performance.now();
  let rows = 0;
  let bytes = 0;
  let columns = 0;
  if (kind === "stream") {
    for await (const batch of streamFrames(path, { batchSize: 65_536 })) {
      rows += batch.rowCount;
      bytes = Math.max(bytes, frameBytes(batch));
      columns = batch.columnCount;
    }
  } else {
    const frame = await readFrame(path);
    rows = frame.rowCount;
    bytes = frameBytes(frame);
    columns = frame.columnCount;
  }
  const seconds = (performance.now() - start) / 1000;
  const peakBytes = process.resourceUsage().maxRSS * 1024 - before;
  process.stdout.write(
    `${JSON.stringify({ seconds, peakBytes, frameBytes: bytes, rows, columns })}\n`,
  );
}

// ------------------------------------------------------------------ parent

/** mulberry32: a small seeded generator, so every run benchmarks the very same file. */
function random(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Writes the seeded CSV once: floats with 12 significant digits, magnitudes 0.01..1000. */
async function generate(path, rows) {
  if (existsSync(path)) return;
  mkdirSync(dirname(path), { recursive: true });
  const next = random(20240611);
  const temporary = `${path}.tmp`;
  const handle = await open(temporary, "w");
  const header = Array.from({ length: COLUMNS }, (_, index) => `x${index}`).join(",");
  let text = `${header}\n`;
  for (let row = 0; row < rows; row++) {
    for (let column = 0; column < COLUMNS; column++) {
      const magnitude = 10 ** (Math.floor(next() * 5) - 2);
      const value = (next() - 0.3) * magnitude;
      text += (column > 0 ? "," : "") + value.toPrecision(12);
    }
    text += "\n";
    if (text.length > 4 * MB) {
      await handle.write(text);
      text = "";
    }
  }
  await handle.write(text);
  await handle.close();
  renameSync(temporary, path);
}

/** Runs `kind` in fresh child processes: every wall time, the largest peak memory. */
function measure(kind, path, runs) {
  const results = [];
  for (let run = 0; run < runs; run++) {
    const done = spawnSync(process.execPath, ["--expose-gc", SCRIPT, "--child", kind, path], {
      encoding: "utf8",
      maxBuffer: 16 * MB,
    });
    if (done.status !== 0) throw new Error(`${kind} read failed:\n${done.stderr}`);
    results.push(JSON.parse(done.stdout.trim().split("\n").at(-1)));
  }
  return {
    ...results[0],
    seconds: summary(results.map((result) => result.seconds)),
    peakBytes: Math.max(...results.map((result) => result.peakBytes)),
  };
}

function pandas(path, runs, floatPrecision) {
  const check = spawnSync(PYTHON, ["-c", "import pandas"], { encoding: "utf8" });
  if (check.status !== 0) {
    return { skipped: `${PYTHON} cannot import pandas (apt-get install python3-pandas)` };
  }
  const script = join(ROOT, "bench", "read_pandas.py");
  // A fresh process per run, as ours: both sides read cold.
  const args = [script, path, "--runs", "1"];
  if (floatPrecision) args.push("--float-precision", floatPrecision);
  const results = [];
  for (let run = 0; run < runs; run++) {
    const done = spawnSync(PYTHON, args, { encoding: "utf8", maxBuffer: 16 * MB });
    if (done.status !== 0)
      return { skipped: `pandas failed: ${done.stderr.trim().split("\n").at(-1)}` };
    results.push(JSON.parse(done.stdout.trim().split("\n").at(-1)));
  }
  return {
    ...results[0],
    seconds: summary(results.map((result) => result.seconds)),
    peakBytes: Math.max(...results.map((result) => result.peakBytes)),
  };
}

/** Writes the CSV's data as `extension` with our writer (once), or says why it cannot. */
async function convert(csvPath, format, extension) {
  const path = csvPath.replace(/\.csv$/, extension);
  if (!formats[format]) return { skipped: `no ${format} format in this build` };
  try {
    if (!existsSync(path) || statSync(path).mtimeMs < statSync(csvPath).mtimeMs) {
      await writeFrame(path, await readFrame(csvPath));
    }
    return { path };
  } catch (error) {
    return { skipped: `${format} write failed: ${error.message.split("\n")[0]}` };
  }
}

function row(label, result, reference) {
  if (result.skipped) return `${label.padEnd(26)} skipped: ${result.skipped}`;
  const ratio = result.peakBytes / result.frameBytes;
  const versus =
    reference && !reference.skipped
      ? `${(result.seconds.median / reference.seconds.median).toFixed(2)}×`
      : "";
  return [
    label.padEnd(26),
    spread(result.seconds, " s", (value) => value.toFixed(3)).padStart(26),
    `${(result.peakBytes / MB).toFixed(1)} MB`.padStart(11),
    `${(result.frameBytes / MB).toFixed(1)} MB`.padStart(11),
    `${ratio.toFixed(2)}×`.padStart(8),
    versus.padStart(9),
  ].join("  ");
}

async function main() {
  const rows = option("rows", 1_000_000);
  const runs = option("runs", 3);
  const csvPath = join(DATA, `floats-${rows}x${COLUMNS}.csv`);
  await generate(csvPath, rows);
  const size = statSync(csvPath).size;
  console.log(`${csvPath}: ${rows} rows × ${COLUMNS} columns, ${(size / MB).toFixed(1)} MB`);
  console.log(
    `node ${process.version}, median (min–max) of ${runs} fresh processes per side; ` +
      "memory = max RSS − RSS before the read",
  );
  console.log(`${await loadLine()}\n`);

  const reference = pandas(csvPath, runs);
  const results = [
    ["pandas.read_csv", reference],
    ["pandas (round_trip floats)", pandas(csvPath, runs, "round_trip")],
    ["@mlops csv read", measure("read", csvPath, runs)],
    ["@mlops csv stream (64Ki)", measure("stream", csvPath, runs)],
  ];
  for (const [format, extension] of [
    ["parquet", ".parquet"],
    ["arrow", ".arrow"],
  ]) {
    const converted = await convert(csvPath, format, extension);
    results.push([
      `@mlops ${format} read`,
      converted.skipped ? converted : measure("read", converted.path, runs),
    ]);
  }

  console.log(
    [
      "".padEnd(26),
      "wall, median (min–max)".padStart(26),
      "peak mem".padStart(11),
      "frame".padStart(11),
      "mem/frm".padStart(8),
      "/pandas".padStart(9),
    ].join("  "),
  );
  for (const [label, result] of results) console.log(row(label, result, reference));
  const ours = results[2][1];
  if (!reference.skipped) {
    console.log(
      `\nours / pandas: ${(ours.seconds.median / reference.seconds.median).toFixed(2)}× the time; ` +
        `peak memory ${(ours.peakBytes / ours.frameBytes).toFixed(2)}× the frame's size`,
    );
  }
  console.log(await loadLine());
  writeFileSync(join(DATA, "read-results.json"), `${JSON.stringify(results, null, 2)}\n`);
}

if (process.argv[2] === "--child") await child(process.argv[3], process.argv[4]);
else await main();
