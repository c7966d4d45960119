// Before/after for small fits, in one process: DecisionTreeRegressor fits of several checkouts
// interleaved fit by fit, so each build sees the same machine at the same moment (a 2-core
// machine's speed drifts by ±15 % over an evening; separate processes, minutes apart, cannot
// tell 1 ms from that drift).
//
//   node bench/fit-interleaved.mjs --tree DIR [--tree DIR …] [--rows 10000] [--reps 200]
//                                  [--splitter best] [--no-profile]
//
// Each `--tree` (this checkout when none is given; `.` names it) is bundled from source (esbuild,
// the `@mlops/source` condition) into .bench/fit-interleaved/. All bundles load in this one
// process, each with its own friedman_hash(rows, 10, seed 42) frame; each fits 3 untimed times
// (V8 compiles every path), then round by round every build fits once, in turn, `--reps` rounds;
// each round starts with the next build (a fit may pay for the garbage the fit before it left).
// It reports each build's CPU milliseconds per fit (process.cpuUsage: user + system, which also
// counts the GC and compiler threads of this process): median with the 25th–75th percentiles
// and the min–max spread. `--no-profile` fits with `profile: false` where a build has the option
// (builds before issue 11 always fit without a profile). The machine's load is printed.
import { mkdirSync } from "node:fs";
import { basename, isAbsolute, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { friedmanColumns } from "./friedman-hash.mjs";
import {
  bundleSources,
  flag,
  loadLine,
  option,
  positiveInteger,
  ROOT,
  writeEntry,
} from "./lib.mjs";

const rows = positiveInteger("rows", 10_000);
const reps = positiveInteger("reps", 200);
const splitter = option("splitter", "best");
if (splitter !== "best" && splitter !== "hist") {
  throw new Error(`--splitter: expected best or hist, got ${splitter}`);
}
const profile = !flag("no-profile");
const trees = process.argv
  .flatMap((arg, i) => (arg === "--tree" ? [process.argv[i + 1]] : []))
  .map((tree) => {
    if (tree === undefined) throw new Error("--tree: expected a checkout's folder");
    return isAbsolute(tree) ? tree : resolve(process.cwd(), tree);
  });
if (trees.length === 0) trees.push(ROOT);

const out = join(ROOT, ".bench", "fit-interleaved");
mkdirSync(out, { recursive: true });
const entries = {};
trees.forEach((tree, i) => {
  entries[`build${i}`] = writeEntry(
    join(out, `build${i}-entry.mjs`),
    `export { DecisionTreeRegressor } from "${tree}/packages/train/src/index.ts";\n` +
      `export { Frame } from "${tree}/packages/core/src/index.ts";\n`,
  );
});
await bundleSources(entries, out);
const builds = await Promise.all(
  trees.map((_, i) => import(pathToFileURL(join(out, `build${i}.js`)).href)),
);

function frameOf({ Frame }, n, seed) {
  const { columns, y } = friedmanColumns(n, 10, seed);
  return new Frame([
    ...columns.map((values, j) => [`x${j}`, { kind: "number", values }]),
    ["y", { kind: "number", values: y }],
  ]);
}

const frames = builds.map((build) => frameOf(build, rows, 42));
const fitOnce = (i) =>
  new builds[i].DecisionTreeRegressor({ maxDepth: 8, splitter }).fit(
    frames[i],
    "y",
    profile ? undefined : { profile: false },
  );
for (let i = 0; i < builds.length; i++) for (let k = 0; k < 3; k++) fitOnce(i);

const load = await loadLine();
const cpu = builds.map(() => []);
for (let r = 0; r < reps; r++) {
  // Each round starts with the next build: a fit can pay for the garbage of the one before it.
  for (let k = 0; k < builds.length; k++) {
    const i = (r + k) % builds.length;
    const start = process.cpuUsage();
    fitOnce(i);
    const used = process.cpuUsage(start);
    cpu[i].push((used.user + used.system) / 1000);
  }
}

const quantile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(p * (sorted.length - 1))];
};
console.log(
  `${rows.toLocaleString("en")} rows × 10, splitter ${splitter}, ` +
    `${profile ? "default profile" : "profile: false"}, ${reps} fits per build interleaved`,
);
console.log(load);
for (let i = 0; i < builds.length; i++) {
  const c = cpu[i];
  console.log(
    `${(trees[i] === ROOT ? "this checkout" : basename(trees[i])).padEnd(20)} CPU ms per fit ` +
      `${quantile(c, 0.5).toFixed(1)} (q25–q75 ${quantile(c, 0.25).toFixed(1)}–` +
      `${quantile(c, 0.75).toFixed(1)}, min–max ${Math.min(...c).toFixed(1)}–` +
      `${Math.max(...c).toFixed(1)})`,
  );
}
