// Read benchmark: our CSV reader against pandas.read_csv on the same seeded file, plus our
// streaming CSV read and (when their writers exist) Parquet and Arrow reads of the same data.
//
//   npm run build --workspace @mlops/core   # the script imports the built package
//   node --expose-gc bench/read.mjs [--rows 1000000] [--runs 3] [--baseline DIR]
//
// Each of our reads runs in a fresh `node --expose-gc` child so its peak memory (max RSS minus
// the RSS just before the read) is not polluted by earlier runs; pandas reads in a fresh process
// per run too. Wall times: the median of the runs with the min–max spread; the load is printed.
//
// A child imports @mlops/core, reads the file, then reads it again, and reports three times:
// the import, the first read ("read", the table's main column, as pandas' read_csv is timed
// after `import pandas`) and the second read ("again"). Libraries a format needs (Arrow,
// Parquet) load on their first use since 898b5db, inside the first read; they used to load with
// @mlops/core. So "import + read" compares builds fairly, and "again" is a read with everything
// loaded. Peak memory: the max RSS minus the RSS before the read ("peak mem", as pandas'), and
// minus the RSS before the import ("+ import": the libraries' code counted on both builds,
// wherever it loads). `--baseline DIR` runs the same children against the built @mlops/core of another
// checkout (before/after in one run; the files are written by this checkout's build).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, renameSync, statSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
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

async function child(kind, path, coreDir) {
  globalThis.gc?.();
  const beforeImport = process.memoryUsage().rss;
  const importStart = performance.now();
  const core = await import(pathToFileURL(join(coreDir, "packages/core/dist/index.js")).href);
  const importSeconds = (performance.now() - importStart) / 1000;
  globalThis.gc?.();
  const read = async () => {
    let rows = 0;
    let bytes = 0;
    let columns = 0;
    if (kind === "stream") {
      for await (const batch of core.streamFrames(path, { batchSize: 65_536 })) {
        rows += batch.rowCount;
        bytes = Math.max(bytes, frameBytes(batch));
        columns = batch.columnCount;
      }
    } else {
      const frame = await core.readFrame(path);
      rows = frame.rowCount;
      bytes = frameBytes(frame);
      columns = frame.columnCount;
    }
    return { rows, bytes, columns };
  };
  const before = process.memoryUsage().rss;
  let start = performance.now();
  const { rows, bytes, columns } = await read();
  const seconds = (performance.now() - start) / 1000;
  const maxRss = process.resourceUsage().maxRSS * 1024;
  const peakBytes = maxRss - before;
  const peakWithImport = maxRss - beforeImport;
  globalThis.gc?.();
  start = performance.now();
  await read();
  const againSeconds = (performance.now() - start) / 1000;
  process.stdout.write(
    `${JSON.stringify({ seconds, importSeconds, againSeconds, peakBytes, peakWithImport, frameBytes: bytes, rows, columns })}\n`,
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
function measure(kind, path, runs, coreDir = ROOT) {
  const results = [];
  for (let run = 0; run < runs; run++) {
    const args = ["--expose-gc", SCRIPT, "--child", kind, path, coreDir];
    const done = spawnSync(process.execPath, args, { encoding: "utf8", maxBuffer: 16 * MB });
    if (done.status !== 0) throw new Error(`${kind} read failed:\n${done.stderr}`);
    results.push(JSON.parse(done.stdout.trim().split("\n").at(-1)));
  }
  return {
    ...results[0],
    seconds: summary(results.map((result) => result.seconds)),
    withImport: summary(results.map((result) => result.importSeconds + result.seconds)),
    again: summary(results.map((result) => result.againSeconds)),
    peakBytes: Math.max(...results.map((result) => result.peakBytes)),
    peakWithImport: Math.max(...results.map((result) => result.peakWithImport)),
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
  // Imported here, not at the top: the children run this script too, and time their import.
  const { formats, readFrame, writeFrame } = await import("../packages/core/dist/index.js");
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
  if (result.skipped) return `${label.padEnd(30)} skipped: ${result.skipped}`;
  const ratio = result.peakBytes / result.frameBytes;
  const versus =
    reference && !reference.skipped
      ? `${(result.seconds.median / reference.seconds.median).toFixed(2)}×`
      : "";
  const seconds = (value) => value.toFixed(3);
  return [
    label.padEnd(30),
    spread(result.seconds, " s", seconds).padStart(26),
    (result.withImport ? spread(result.withImport, " s", seconds) : "-").padStart(26),
    (result.again ? spread(result.again, " s", seconds) : "-").padStart(26),
    `${(result.peakBytes / MB).toFixed(1)} MB`.padStart(11),
    (result.peakWithImport === undefined
      ? "-"
      : `${(result.peakWithImport / MB).toFixed(1)} MB`
    ).padStart(11),
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
      "memory = max RSS − RSS before the read (+ import: before importing @mlops/core)",
  );
  console.log(`${await loadLine()}\n`);

  const baselineOption = process.argv.indexOf("--baseline");
  const baseline =
    baselineOption < 0
      ? undefined
      : isAbsolute(process.argv[baselineOption + 1])
        ? process.argv[baselineOption + 1]
        : resolve(process.argv[baselineOption + 1]);
  const reference = pandas(csvPath, runs);
  const results = [
    ["pandas.read_csv", reference],
    ["pandas (round_trip floats)", pandas(csvPath, runs, "round_trip")],
  ];
  const reads = [
    ["csv read", "read", { path: csvPath }],
    ["csv stream (64Ki)", "stream", { path: csvPath }],
  ];
  for (const [format, extension] of [
    ["parquet", ".parquet"],
    ["arrow", ".arrow"],
  ]) {
    reads.push([`${format} read`, "read", await convert(csvPath, format, extension)]);
  }
  for (const [label, kind, file] of reads) {
    // Ours and the baseline's run by run, interleaved, so a change in load falls on both.
    const sides =
      baseline === undefined
        ? [["@mlops", ROOT]]
        : [
            ["@mlops", ROOT],
            ["baseline", baseline],
          ];
    const measured = sides.map(() => []);
    for (let run = 0; run < runs && !file.skipped; run++) {
      for (const [side, [, dir]] of sides.entries()) {
        measured[side].push(measure(kind, file.path, 1, dir));
      }
    }
    sides.forEach(([side], index) => {
      results.push([`${side} ${label}`, file.skipped ? file : merge(measured[index])]);
    });
  }

  console.log(
    [
      "".padEnd(30),
      "read, median (min–max)".padStart(26),
      "import + read".padStart(26),
      "again (2nd read)".padStart(26),
      "peak mem".padStart(11),
      "+ import".padStart(11),
      "frame".padStart(11),
      "mem/frm".padStart(8),
      "/pandas".padStart(9),
    ].join("  "),
  );
  for (const [label, result] of results) console.log(row(label, result, reference));
  const ours = results.find(([label]) => label === "@mlops csv read")[1];
  if (!reference.skipped) {
    console.log(
      `\nours / pandas: ${(ours.seconds.median / reference.seconds.median).toFixed(2)}× the time; ` +
        `peak memory ${(ours.peakBytes / ours.frameBytes).toFixed(2)}× the frame's size`,
    );
  }
  console.log(await loadLine());
  writeFileSync(join(DATA, "read-results.json"), `${JSON.stringify(results, null, 2)}\n`);
}

/** Single-run measurements of one read as one result: medians and spreads over the runs. */
function merge(parts) {
  const all = (key) => summary(parts.map((part) => part[key].median));
  return {
    ...parts[0],
    seconds: all("seconds"),
    withImport: all("withImport"),
    again: all("again"),
    peakBytes: Math.max(...parts.map((part) => part.peakBytes)),
    peakWithImport: Math.max(...parts.map((part) => part.peakWithImport)),
  };
}

if (process.argv[2] === "--child") await child(process.argv[3], process.argv[4], process.argv[5]);
else await main();
