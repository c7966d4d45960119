// What every bench script shares: options, statistics (median with the min–max spread), the
// machine's load, waiting for a quiet machine, child processes and peers, bundling the packages
// from source, and Markdown tables. One copy, so every script reports the same way.
//
// The rules (../bench/README.md): report the median of the runs with the min–max spread, never the
// best run; give both sides the same warm-up and threads; print the machine's load.
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg } from "node:os";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository this script belongs to. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/** Debian's interpreter, which sees the python3-* packages (a pyenv python3 on PATH does not). */
export const PYTHON = "/usr/bin/python3";

// ------------------------------------------------------------------ options

/** `--name value` from the command line, or `fallback`. */
export function option(name, fallback) {
  const index = process.argv.indexOf(`--${name}`);
  return index < 0 ? fallback : process.argv[index + 1];
}

/** Whether `--name` is on the command line. */
export function flag(name) {
  return process.argv.includes(`--${name}`);
}

/** `--name N`: a positive integer. */
export function positiveInteger(name, fallback) {
  const text = option(name, fallback);
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`--${name}: expected a positive integer, got ${text}`);
  }
  return value;
}

/** `--name 1,2,3`: a list of positive integers. */
export function integerList(name, fallback) {
  const text = String(option(name, fallback));
  return text.split(",").map((part) => {
    const value = Number(part);
    if (!Number.isInteger(value) || value < 1) {
      throw new Error(`--${name}: expected positive integers separated by commas, got ${text}`);
    }
    return value;
  });
}

/**
 * The source tree whose packages are measured: `--tree DIR` (another checkout, such as the
 * commit before a change: `git worktree add /tmp/before <commit>`), else this repository. Scripts
 * bundle `DIR/packages/*\/src` with esbuild, so an older checkout needs no build step.
 */
export function sourceTree() {
  const tree = option("tree");
  if (tree === undefined) return ROOT;
  return isAbsolute(tree) ? tree : resolve(process.cwd(), tree);
}

// ------------------------------------------------------------------ statistics

/** The median of `values` (the mean of the two middle ones for an even count). */
export function median(values) {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** `{ median, min, max, runs }` of the measured values. */
export function summary(values) {
  return {
    median: median(values),
    min: Math.min(...values),
    max: Math.max(...values),
    runs: values.length,
  };
}

/**
 * A summary as text: `1.23 (1.20–1.31)`, each number through `format` (default 3 significant
 * digits), with `unit` after the median.
 */
export function spread(stats, unit = "", format = significant) {
  const median = `${format(stats.median)}${unit}`;
  if (stats.runs < 2) return median;
  return `${median} (${format(stats.min)}–${format(stats.max)})`;
}

/** `value` with 3 significant digits, thousands grouped. */
export function significant(value) {
  if (!Number.isFinite(value)) return String(value);
  const magnitude = Math.abs(value);
  if (magnitude >= 1000) return Math.round(value).toLocaleString("en");
  return Number(value.toPrecision(3)).toString();
}

/** Runs `fn` `warmup` times untimed, then `runs` times; the seconds of each timed run. */
export function timeRuns(fn, { runs, warmup = 1 }) {
  for (let i = 0; i < warmup; i++) fn();
  const seconds = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    fn();
    seconds.push((performance.now() - started) / 1000);
  }
  return seconds;
}

// ------------------------------------------------------------------ the machine's load

/** CPU ticks of the whole machine (busy, total), from /proc/stat. */
export function machineTicks() {
  try {
    const fields = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/);
    const numbers = fields.slice(1).map(Number);
    const total = numbers.reduce((a, b) => a + b, 0);
    return { busy: total - numbers[3] - (numbers[4] ?? 0), total };
  } catch {
    return undefined;
  }
}

/** Cores the machine kept busy between two `machineTicks()`. */
export function busyBetween(first, second) {
  if (!first || !second || second.total <= first.total) return 0;
  return (availableParallelism() * (second.busy - first.busy)) / (second.total - first.total);
}

/** Cores busy over `ms` milliseconds. */
export async function busyCores(ms = 1000) {
  const first = machineTicks();
  await new Promise((done) => setTimeout(done, ms));
  return busyBetween(first, machineTicks());
}

/**
 * Measures how busy the machine is while `fn` runs: `{ result, busyCores }`, the cores every
 * process used meanwhile (ours included); compare with what the measured side used alone.
 */
export async function withLoad(fn) {
  const first = machineTicks();
  const result = await fn();
  return { result, busyCores: busyBetween(first, machineTicks()) };
}

/** The machine's load now, as one line to print with the results. */
export async function loadLine() {
  const [one, five, fifteen] = loadavg();
  const busy = await busyCores(1000);
  return (
    `machine: ${availableParallelism()} cores (${cpus()[0]?.model?.trim() ?? "unknown CPU"}), ` +
    `load average ${one.toFixed(2)} / ${five.toFixed(2)} / ${fifteen.toFixed(2)} (1/5/15 min), ` +
    `${busy.toFixed(2)} cores busy in the last second before the run`
  );
}

/**
 * Waits until under `threshold` cores are busy (other people's jobs), at most `limitSeconds`;
 * returns the busy cores last seen. `--wait 0` measures at once.
 */
export async function waitForQuiet(limitSeconds, threshold = 0.3) {
  const started = Date.now();
  let busy = await busyCores();
  while (busy > threshold && Date.now() - started < limitSeconds * 1000) {
    await new Promise((done) => setTimeout(done, 4000));
    busy = await busyCores();
  }
  return busy;
}

// ------------------------------------------------------------------ processes and peers

/** Runs a command to its end; throws with its output when it fails. Returns stdout. */
export function run(command, args, options = {}) {
  const result = spawnSync(command, args, {
    cwd: ROOT,
    encoding: "utf8",
    stdio: "pipe",
    maxBuffer: 256 * 1024 * 1024,
    ...options,
  });
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(" ")} failed (${result.status ?? result.signal}):\n` +
        `${result.stdout}\n${result.stderr}`,
    );
  }
  return result.stdout;
}

/** Runs `node SCRIPT --child ...args --out FILE` and returns the JSON the child wrote. */
export function runChild(script, args, file, nodeFlags = []) {
  run(process.execPath, [...nodeFlags, script, "--child", ...args, "--out", file]);
  return JSON.parse(readFileSync(file, "utf8"));
}

/** Whether Debian's Python can import every module named. */
export function pythonHas(...modules) {
  const code = modules.map((name) => `import ${name}`).join("; ");
  return spawnSync(PYTHON, ["-c", code], { stdio: "ignore" }).status === 0;
}

/** Runs a Python peer script (`bench/<script>`) with Debian's interpreter; returns stdout. */
export function runPython(script, args) {
  return run(PYTHON, [join(ROOT, "bench", script), ...args]);
}

/**
 * Bundles the packages' sources (the `@mlops/source` condition) of `tree` with esbuild into
 * `outdir`: `entries` maps output names to entry files. The numbers are then for the code in that
 * tree, with no build step.
 */
export async function bundleSources(entries, outdir) {
  const { build } = await import("esbuild");
  await build({
    entryPoints: entries,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    conditions: ["@mlops/source"],
    outdir,
    outExtension: { ".js": ".js" },
    // CommonJS dependencies bundled into an ES module may call require(). The import is renamed:
    // the bundled sources may import createRequire themselves (core's Arrow loader does).
    banner: {
      js:
        "import { createRequire as createBannerRequire } from 'node:module'; " +
        "const require = createBannerRequire(import.meta.url);",
    },
    logLevel: "warning",
  });
}

/** Writes `source` to `file` (an entry module for `bundleSources`) and returns the path. */
export function writeEntry(file, source) {
  writeFileSync(file, source);
  return file;
}

// ------------------------------------------------------------------ output

/** A Markdown table from a header row and rows of cells. */
export function markdownTable(header, rows) {
  const widths = header.map((cell, i) =>
    Math.max(String(cell).length, ...rows.map((row) => String(row[i]).length)),
  );
  const line = (cells) =>
    `| ${cells.map((cell, i) => String(cell).padEnd(widths[i])).join(" | ")} |`;
  return [line(header), line(widths.map((width) => "-".repeat(width))), ...rows.map(line)].join(
    "\n",
  );
}

/** The versions a result depends on, printed with it. */
export function versions() {
  return `node ${process.version}`;
}
