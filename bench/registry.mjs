// Registry backends side by side, in one run: the folder registry and PostgreSQL (a throwaway
// PostgreSQL 15 cluster in a temporary folder, fsync on, as a server would run).
//
//   npm run build && node bench/registry.mjs [--runs 3] [--versions 24] [--moves 20]
//                                            [--only register,load,moves]
//
// 1. Register a version with a 1 MB artifact: versions per second with 1 writer and with 8
//    concurrent writers (8 store instances, as 8 processes would hold), median of --runs runs
//    with the min–max spread.
// 2. Resolve + load by alias (`registry.loadModel("models:/bench@production")`): p50 / p99.
// 3. Alias move → every replica serving the new version: two inference apps on their own
//    registry connections; a move is timed from `setAlias` to both apps' `model_loaded` events.
//    PostgreSQL pushes the move (LISTEN/NOTIFY); the folder is polled every 2 s (the default) and
//    every 100 ms. Moves go "back" to a version the replicas served before (its artifact still
//    in their cache), to a "new" version registered just before the move, or to one registered
//    1 s before ("new, 1 s": PostgreSQL replicas have prefetched it). p50 / p99 over --moves
//    moves, each the median of --runs runs with the min–max spread.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { createArtifact, field, openRegistry, schema } from "@mlops/core";
import { startPostgresCluster } from "@mlops/postgres/testing";
import { createInferenceApp } from "@mlops/serve";

const argument = (name, fallback) => {
  const index = process.argv.indexOf(`--${name}`);
  return index < 0 ? fallback : Number(process.argv[index + 1]);
};
const RUNS = argument("runs", 3);
const VERSIONS = argument("versions", 24);
const MOVES = argument("moves", 20);
const ONLY = process.argv.includes("--only")
  ? process.argv[process.argv.indexOf("--only") + 1].split(",")
  : ["register", "load", "moves"];

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
};
const fixed = (value, digits = 1) => value.toFixed(digits);

const houses = schema(
  { rooms: field.integer({ min: 1 }), area: field.number({ min: 0 }), price: field.number() },
  { target: "price" },
);
/**
 * A regression tree of about 1 MB (37,449 nodes in flat typed arrays, as a fitted forest's trees
 * are stored), its thresholds and leaf values random: distinct bytes every time. The size is in
 * the arrays, not in params: a version's metadata copies the params, so padding them would make
 * every version lookup carry the megabyte too.
 */
function artifactOfAboutOneMb(intercept) {
  const nodes = 37_449; // odd: every inner node of the heap layout has both children
  const left = new Int32Array(nodes);
  const right = new Int32Array(nodes);
  const feature = new Int32Array(nodes);
  const threshold = new Float64Array(nodes);
  const value = new Float64Array(nodes);
  for (let node = 0; node < nodes; node += 1) {
    const inner = 2 * node + 1 < nodes;
    left[node] = inner ? 2 * node + 1 : -1;
    right[node] = inner ? 2 * node + 2 : -1;
    feature[node] = inner ? node % 2 : -2;
    threshold[node] = inner ? Math.random() * 100 : -2;
    value[node] = inner ? 0 : intercept + Math.random() * 1e6;
  }
  return createArtifact({
    kind: "tree",
    schema: houses,
    model: { inputs: ["rooms", "area"] },
    arrays: {
      "tree.left": left,
      "tree.right": right,
      "tree.feature": feature,
      "tree.threshold": threshold,
      "tree.value": value,
    },
  });
}

async function registerRate(location, writers) {
  const registries = await Promise.all(
    Array.from({ length: writers }, () => openRegistry(location)),
  );
  const artifacts = Array.from({ length: VERSIONS }, (_, index) => artifactOfAboutOneMb(index));
  const model = `bench-${randomBytes(4).toString("hex")}`;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    registries.map(async (registry) => {
      while (next < artifacts.length) {
        const artifact = artifacts[next++];
        await registry.registerModel(model, artifact);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  await Promise.all(registries.map((registry) => registry.close()));
  return VERSIONS / seconds;
}

async function loadLatencies(location) {
  const registry = await openRegistry(location);
  await registry.registerModel("bench", artifactOfAboutOneMb(1), { aliases: ["production"] });
  const times = [];
  for (let index = 0; index < 50; index += 1) {
    const started = performance.now();
    await registry.loadModel("models:/bench@production");
    times.push(performance.now() - started);
  }
  await registry.close();
  return times;
}

/**
 * `mode` says where each move goes: "back" alternates between two versions both replicas have
 * served before; "new" registers a version and moves the alias to it at once; "new, 1 s" waits
 * a second between the two (as a gate would), so a replica that prefetches has the bytes.
 */
async function moveLatencies(location, intervalMs, mode) {
  const writer = await openRegistry(location);
  const name = `moves-${randomBytes(4).toString("hex")}`;
  await writer.registerModel(name, artifactOfAboutOneMb(0), { aliases: ["production"] });
  await writer.registerModel(name, artifactOfAboutOneMb(1));
  const waiters = [];
  const apps = [];
  const replicas = [];
  for (let index = 0; index < 2; index += 1) {
    const registry = await openRegistry(location);
    replicas.push(registry);
    const app = createInferenceApp({
      registry,
      models: [`${name}@production`],
      watch: { intervalMs },
      onEvent: (event) => {
        if (event.type !== "model_loaded" || event.previousVersion === undefined) return;
        for (const waiter of [...waiters]) waiter(index, event.version);
      },
    });
    await app.ready;
    apps.push(app);
  }
  // The folder's poll timers are unref'd (a server's socket keeps its process alive, not
  // them): without a ref'd handle, awaiting a polled reload lets Node exit with code 13
  // ("unsettled top-level await") — what made an earlier draft of this script stop silently.
  const alive = setInterval(() => {}, 60_000);
  // Let the watchers subscribe (LISTEN) or start polling before the first move.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const times = [];
  // "back" starts with two untimed moves (to 2 and back to 1), so every timed one goes to a
  // version both replicas have served.
  const warmUp = mode === "back" ? 2 : 0;
  for (let move = -warmUp; move < MOVES; move += 1) {
    let version = move % 2 === 0 ? 2 : 1;
    if (mode !== "back") {
      version = (await writer.registerModel(name, artifactOfAboutOneMb(move))).version;
      if (mode === "new, 1 s") await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    const both = new Promise((resolve) => {
      const seen = new Set();
      const waiter = (replica, loaded) => {
        if (loaded !== String(version)) return;
        seen.add(replica);
        if (seen.size === 2) {
          waiters.splice(waiters.indexOf(waiter), 1);
          resolve();
        }
      };
      waiters.push(waiter);
    });
    const started = performance.now();
    await writer.setAlias(name, "production", version);
    await both;
    if (move >= 0) times.push(performance.now() - started);
  }
  clearInterval(alive);
  await Promise.all(apps.map((app) => app.close()));
  await Promise.all([...replicas, writer].map((registry) => registry.close()));
  return times;
}

const scratch = await mkdtemp(join(tmpdir(), "mlops-bench-registry-"));
const cluster = await startPostgresCluster({
  settings: { fsync: "on", synchronous_commit: "on", full_page_writes: "on" },
});
try {
  const backends = [
    ["folder", join(scratch, "registry")],
    ["postgres", cluster.url],
  ];
  console.log(
    `registry bench: Node ${process.version}, ${cpus().length} CPUs, load ${loadavg()
      .map((value) => value.toFixed(2))
      .join(" ")}; ${VERSIONS} versions of ~1 MB per run, ${RUNS} runs, ${MOVES} alias moves\n`,
  );
  const rows = [];
  for (const [label, location] of backends) {
    for (const writers of ONLY.includes("register") ? [1, 8] : []) {
      const rates = [];
      for (let run = 0; run < RUNS; run += 1) rates.push(await registerRate(location, writers));
      rows.push([
        `${label}: register 1 MB, ${writers} writer${writers > 1 ? "s" : ""}`,
        `${fixed(median(rates))} versions/s (${fixed(Math.min(...rates))}–${fixed(Math.max(...rates))})`,
      ]);
    }
    if (!ONLY.includes("load")) continue;
    const loads = await loadLatencies(location);
    rows.push([
      `${label}: resolve + load @production`,
      `p50 ${fixed(percentile(loads, 50))} ms, p99 ${fixed(percentile(loads, 99))} ms`,
    ]);
  }
  for (const [label, location, intervalMs, mode] of [
    ["postgres (NOTIFY)", cluster.url, 2000, "back"],
    ["postgres (NOTIFY)", cluster.url, 2000, "new"],
    ["postgres (NOTIFY)", cluster.url, 2000, "new, 1 s"],
    ["folder (polling 2 s)", join(scratch, "registry"), 2000, "back"],
    ["folder (polling 100 ms)", join(scratch, "registry"), 100, "back"],
    ["folder (polling 100 ms)", join(scratch, "registry"), 100, "new"],
  ]) {
    if (!ONLY.includes("moves")) break;
    const p50s = [];
    const p99s = [];
    for (let run = 0; run < RUNS; run += 1) {
      const moves = await moveLatencies(location, intervalMs, mode);
      p50s.push(percentile(moves, 50));
      p99s.push(percentile(moves, 99));
    }
    const spread = (values) =>
      `${fixed(median(values))} ms (${fixed(Math.min(...values))}–${fixed(Math.max(...values))})`;
    rows.push([
      `${label}: move (${mode}) → both replicas reloaded`,
      `p50 ${spread(p50s)}, p99 ${spread(p99s)}`,
    ]);
  }
  const width = Math.max(...rows.map(([name]) => name.length));
  for (const [name, value] of rows) console.log(`${name.padEnd(width)}  ${value}`);
  console.log(
    `\nload at the end: ${loadavg()
      .map((value) => value.toFixed(2))
      .join(" ")}`,
  );
} finally {
  await cluster.stop();
  await rm(scratch, { recursive: true, force: true });
}
