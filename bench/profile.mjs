// What the training profile costs a fit: each model fitted with its default profile and with
// `profile: false`, and `profileFrame` alone, on friedman_hash data, for this tree and
// (optionally) another checkout side by side.
//
//   node bench/profile.mjs [--rows 1000000] [--reps 5] [--models tree-exact,tree-hist,forest,gbm]
//                          [--baseline DIR] [--wait 180]
//
// Models (one thread each): tree-exact / tree-hist = DecisionTreeRegressor({ maxDepth: 8 }) with
// the "best" / "hist" splitter (bench/train_tree.mjs's trees), forest =
// RandomForestRegressor({ nEstimators: 20, maxDepth: 8, nJobs: 1, seed: 0 }), gbm =
// HistGradientBoostingRegressor({ maxIter: 30, earlyStopping: false, nJobs: 1 }). A checkout
// without the model (a forest or gbm before they existed) is skipped for it; one from before
// training profiles existed times the same fit both ways. `profileFrame` alone: the training
// frame's features and target (no predictions, which only a model gives).
//
// Each (tree, model) runs in a fresh `node --expose-gc` child: it generates
// friedman_hash(rows, 10, seed 42) into Frame columns, fits once on 2,000 other rows (warm-up),
// then alternates a fit with the profile and one without, --reps times each, a GC before each.
// For each model the trees run one after the other (ours, then the baseline). The table gives the
// median with the min–max spread of wall seconds and of the process's CPU seconds (which leave
// out waiting for a core on a busy machine), and the machine's load; the difference of the
// medians is what the profile costs the fit. Results: .bench/profile/results.json.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { friedmanColumns } from "./friedman-hash.mjs";
import {
  bundleSources,
  flag,
  loadLine,
  markdownTable,
  option,
  positiveInteger,
  ROOT,
  run,
  spread,
  summary,
  waitForQuiet,
  writeEntry,
} from "./lib.mjs";

const SCRIPT = fileURLToPath(import.meta.url);
const OUT = join(ROOT, ".bench", "profile");
const MODELS = {
  "tree-exact": ["DecisionTreeRegressor", { maxDepth: 8, splitter: "best" }],
  "tree-hist": ["DecisionTreeRegressor", { maxDepth: 8, splitter: "hist" }],
  forest: ["RandomForestRegressor", { nEstimators: 20, maxDepth: 8, nJobs: 1, seed: 0 }],
  gbm: ["HistGradientBoostingRegressor", { maxIter: 30, earlyStopping: false, nJobs: 1 }],
};

async function child() {
  const rows = positiveInteger("rows");
  const reps = positiveInteger("reps");
  const [className, params] = MODELS[option("model")];
  const library = await import(pathToFileURL(option("bundle")).href);
  const Model = library[className];
  const result = {
    withProfile: [],
    without: [],
    withProfileCpu: [],
    withoutCpu: [],
    profileFrame: [],
    profiled: false,
  };
  if (Model === undefined) {
    writeFileSync(option("out"), JSON.stringify({ ...result, missing: true }));
    return;
  }
  const frameOf = ({ columns, y }) =>
    new library.Frame([
      ...columns.map((values, j) => [`x${j}`, { kind: "number", values }]),
      ["y", { kind: "number", values: y }],
    ]);
  const train = frameOf(friedmanColumns(rows, 10, 42));
  new Model(params).fit(frameOf(friedmanColumns(2000, 10, 1)), "y");
  const cpuSeconds = () => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1e6;
  };
  // Wall seconds, CPU seconds (the process's, so time spent waiting for a core on a busy
  // machine is left out), and the result.
  const time = (fn) => {
    globalThis.gc();
    const cpu = cpuSeconds();
    const started = performance.now();
    const value = fn();
    return [(performance.now() - started) / 1000, cpuSeconds() - cpu, value];
  };
  for (let rep = 0; rep < reps; rep++) {
    const [seconds, cpu, model] = time(() => new Model(params).fit(train, "y"));
    result.withProfile.push(seconds);
    result.withProfileCpu.push(cpu);
    result.profiled = model.trainingProfile !== undefined;
    const [plainSeconds, plainCpu] = time(() =>
      new Model(params).fit(train, "y", { profile: false }),
    );
    result.without.push(plainSeconds);
    result.withoutCpu.push(plainCpu);
    if (library.profileFrame !== undefined) {
      const schema = library.inferSchema(train, { target: "y" });
      result.profileFrame.push(time(() => library.profileFrame(train, schema))[0]);
    }
  }
  writeFileSync(option("out"), JSON.stringify(result));
}

async function parent() {
  const rows = positiveInteger("rows", 1_000_000);
  const reps = positiveInteger("reps", 5);
  const wait = Number(option("wait", 180));
  const models = String(option("models", Object.keys(MODELS).join(","))).split(",");
  for (const model of models) {
    if (!(model in MODELS)) throw new Error(`--models: unknown ${model}`);
  }
  const trees = [{ label: "this tree", dir: ROOT }];
  const baseline = option("baseline");
  if (baseline !== undefined) trees.push({ label: `baseline ${baseline}`, dir: baseline });
  mkdirSync(OUT, { recursive: true });
  for (const [index, tree] of trees.entries()) {
    const dir = join(OUT, `tree${index}`);
    mkdirSync(dir, { recursive: true });
    const source = (path) => JSON.stringify(join(tree.dir, path));
    const core = source("packages/core/src/index.ts");
    const train = source("packages/train/src/index.ts");
    const entry = writeEntry(
      join(dir, "entry.mjs"),
      [`export * from ${train};`, `export { Frame, inferSchema } from ${core};`, ""].join("\n"),
    );
    // profileFrame arrived with the profiles; an older checkout has none.
    const core_ = readFileSync(join(tree.dir, "packages/core/src/index.ts"), "utf8");
    if (core_.includes("profileFrame")) {
      writeFileSync(entry, `${readFileSync(entry, "utf8")}export { profileFrame } from ${core};\n`);
    }
    await bundleSources({ bundle: entry }, dir);
    tree.bundle = join(dir, "bundle.js");
  }
  console.log(`node ${process.version}, ${rows.toLocaleString("en")} rows × 10, ${reps} reps`);
  console.log(await loadLine());
  const table = [];
  const results = [];
  for (const model of models) {
    const busy = await waitForQuiet(wait);
    for (const [index, tree] of trees.entries()) {
      const out = join(OUT, `${model}-${index}.json`);
      run(process.execPath, [
        "--expose-gc",
        SCRIPT,
        "--child",
        "--bundle",
        tree.bundle,
        "--model",
        model,
        "--rows",
        String(rows),
        "--reps",
        String(reps),
        "--out",
        out,
      ]);
      const result = JSON.parse(readFileSync(out, "utf8"));
      results.push({ model, tree: tree.label, busy, ...result });
      if (result.missing) {
        table.push([
          model,
          tree.label,
          "(no such model)",
          "-",
          "-",
          "-",
          "-",
          "-",
          busy.toFixed(2),
        ]);
        continue;
      }
      const withProfile = summary(result.withProfile);
      const without = summary(result.without);
      const withProfileCpu = summary(result.withProfileCpu);
      const withoutCpu = summary(result.withoutCpu);
      const seconds = (s) => (s < 1 ? s.toFixed(3) : s.toFixed(2));
      const difference = (a, b) => `${((a.median - b.median) * 1000).toFixed(0)} ms`;
      table.push([
        model,
        tree.label,
        `${spread(withProfile, "", seconds)}${result.profiled ? "" : " (no profile)"}`,
        spread(without, "", seconds),
        difference(withProfile, without),
        spread(withProfileCpu, "", seconds),
        spread(withoutCpu, "", seconds),
        difference(withProfileCpu, withoutCpu),
        result.profileFrame.length > 0
          ? `${spread(summary(result.profileFrame.map((s) => s * 1000)), "", (ms) => ms.toFixed(0))} ms`
          : "-",
        busy.toFixed(2),
      ]);
    }
    console.log(`${model} done`);
  }
  console.log(
    markdownTable(
      [
        "model",
        "tree",
        "fit s, default profile",
        "fit s, profile: false",
        "difference",
        "CPU s, default profile",
        "CPU s, profile: false",
        "CPU difference",
        "profileFrame alone",
        "busy before",
      ],
      table,
    ),
  );
  console.log(await loadLine());
  writeFileSync(join(OUT, "results.json"), JSON.stringify({ rows, reps, results }, null, 1));
}

if (flag("child")) await child();
else await parent();
