// Serving benchmark: @mlops/serve against the peers' FastAPI service and a bare node:http
// endpoint, side by side in one run, with the peers' own harness and load tool (wrk).
//
//   npm run build --workspace @mlops/core && npm run build --workspace @mlops/serve
//   node bench/serve.mjs [--duration 5] [--reps 2] [--conc 16,64] [--wait 300]
//                        [--skip-harness] [--skip-batch] [--skip-start]
//
// Needs /usr/bin/python3 with python3-sklearn, python3-fastapi, python3-uvicorn and wrk (see
// ../shared/peers/setup.sh).
//
// 1. Copies ../shared/peers to .bench/serve/peers (the original is read-only and the harness
//    writes its model files next to itself), fits the peer's seed-000 tree there
//    (serve/train_model.py) and exports its arrays (bench/serve_export_tree.py), so both
//    services answer with the very same tree.
// 2. Single-row predictions (POST /predict, the 30-field seed body, {"prediction": x}), with
//    serve/bench_serve.py, unchanged: per rep, one after the other, the lean FastAPI service
//    (config numpy_w1: uvicorn, 1 worker, a NumPy handler), ours (bench/serve-entry.mjs:
//    predictRoute with validation, prediction and metrics on) and bench/serve-raw.mjs (a
//    node:http endpoint answering a constant). The harness waits for a quiet machine before
//    each server and redoes a measurement when other processes used more than 0.1 core.
// 3. Batches of 1,000 rows through OIP infer (`POST /v2/models/delivery/infer`: 29 tensors of
//    [1000], and one [1000, 29] tensor) and the named-field route ({"rows": [...]}), with wrk
//    (1 thread, 4 connections): rows/s = requests/s × 1000; every answer is checked.
// 4. Resident memory of our server (VmRSS, and its peak VmHWM) with one model, idle after
//    start and after the load; time from spawn to the first 200 on /v2/health/ready, for
//    bench/serve-entry.mjs and for the mlops-serve executable with a folder registry (best
//    and median of 5 starts).
//
// Prints a table with the ratios the serving issue asks for and writes
// .bench/serve/results.json. The machine is shared and has 2 cores: look at the foreign
// column and rerun when the reps disagree by more than ~20%.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const OUT = join(ROOT, ".bench", "serve");
const PEERS = join(OUT, "peers");
const PEER_SERVE = join(PEERS, "serve");
const PYTHON = "/usr/bin/python3";
const PORT = 18090;

function option(name, fallback) {
  const index = process.argv.indexOf(`--${name}`);
  return index < 0 ? fallback : process.argv[index + 1];
}
const flag = (name) => process.argv.includes(`--${name}`);
const DURATION = Number(option("duration", 5));
const REPS = Number(option("reps", 2));
const CONC = option("conc", "16,64");
const WAIT = Number(option("wait", 300));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ------------------------------------------------------------------ machine

/** Cores busy over one second, from /proc/stat. */
async function busyCores() {
  const sample = () => {
    const numbers = readFileSync("/proc/stat", "utf8")
      .split("\n")[0]
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    return { idle: numbers[3] + numbers[4], total: numbers.reduce((a, b) => a + b, 0) };
  };
  const first = sample();
  await sleep(1000);
  const second = sample();
  const total = second.total - first.total;
  return total > 0 ? (availableParallelism() * (total - (second.idle - first.idle))) / total : 0;
}

/** Waits until under 0.3 of a core is busy, at most `limit` seconds; returns what it saw. */
async function waitForQuiet(limit) {
  const started = Date.now();
  let busy = await busyCores();
  while (busy > 0.3 && Date.now() - started < limit * 1000) {
    process.stdout.write(`  (machine busy: ${busy.toFixed(2)} cores; waiting)\n`);
    await sleep(4000);
    busy = await busyCores();
  }
  return busy;
}

// ------------------------------------------------------------------ setup

function newest(path) {
  const stats = statSync(path);
  if (!stats.isDirectory()) return stats.mtimeMs;
  return Math.max(
    0,
    ...readdirSync(path)
      .filter((e) => !e.endsWith(".test.ts"))
      .map((e) => newest(join(path, e))),
  );
}

function ensureBuilt() {
  const serve = join(ROOT, "packages", "serve");
  const built = join(serve, "dist", "cli.js");
  if (!existsSync(join(ROOT, "packages", "core", "dist", "index.js"))) {
    throw new Error("build @mlops/core first: npm run build --workspace @mlops/core");
  }
  if (!existsSync(built) || statSync(built).mtimeMs < newest(join(serve, "src"))) {
    console.log("building @mlops/serve (dist is older than src)");
    execFileSync("npx", ["tsup", "--no-dts"], { cwd: serve, stdio: "ignore" });
  }
}

function preparePeers() {
  if (!existsSync(join(PEER_SERVE, "bench_serve.py"))) {
    rmSync(PEERS, { recursive: true, force: true });
    cpSync(join(ROOT, "..", "shared", "peers"), PEERS, { recursive: true });
    execFileSync("chmod", ["-R", "u+w", PEERS]);
  }
  if (!existsSync(join(PEER_SERVE, "model_np.joblib"))) {
    execFileSync(PYTHON, [join(PEER_SERVE, "train_model.py")], { stdio: "inherit" });
  }
  const tree = join(OUT, "tree.json");
  if (!existsSync(tree)) {
    execFileSync(PYTHON, [join(ROOT, "bench", "serve_export_tree.py"), PEER_SERVE, tree], {
      stdio: "inherit",
    });
  }
  return JSON.parse(readFileSync(tree, "utf8"));
}

// ------------------------------------------------------------------ single rows (the harness)

const CONFIGS = [
  {
    name: "fastapi_numpy_w1",
    label: "FastAPI + uvicorn, NumPy handler (lean)",
    args: ["--configs", "numpy_w1"],
  },
  {
    name: "mlops_ts",
    label: "@mlops/serve (predictRoute, validation + metrics)",
    args: ["--external", "node bench/serve-entry.mjs --port {port}", "--external-name", "mlops_ts"],
  },
  {
    name: "node_raw",
    label: "node:http constant (floor)",
    args: ["--external", "node bench/serve-raw.mjs --port {port}", "--external-name", "node_raw"],
  },
];

function harness(config, rep) {
  const out = join(OUT, `harness-${config.name}-${rep}.json`);
  const args = [
    join(PEER_SERVE, "bench_serve.py"),
    ...config.args,
    "--duration",
    String(DURATION),
    "--warmup",
    "2",
    "--reps",
    "1",
    "--conc",
    CONC,
    "--port",
    String(PORT),
    "--out",
    out,
  ];
  const result = spawnSync(PYTHON, args, {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "inherit"],
    encoding: "utf8",
  });
  if (result.status !== 0)
    throw new Error(`bench_serve.py ${config.name} failed:\n${result.stdout}`);
  return JSON.parse(readFileSync(out, "utf8")).rows.map((row) => ({
    config: config.name,
    rep,
    conc: row.conc,
    rps: row.rps,
    p50Ms: row.lat_p50_us / 1000,
    p99Ms: row.lat_p99_us / 1000,
    errors: row.err_status + row.err_timeout + row.err_connect + row.err_read + row.err_write,
    foreign: row.foreign_cores,
    serverCpu: row.server_cpu_s,
  }));
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length % 2
    ? sorted[(sorted.length - 1) / 2]
    : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
};

// ------------------------------------------------------------------ our server, spawned

async function startServer(command, args, port) {
  const started = performance.now();
  const child = spawn(command, args, { cwd: ROOT, stdio: ["ignore", "ignore", "inherit"] });
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/v2/health/ready`);
      if (response.status === 200) return { child, readyMs: performance.now() - started };
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null) throw new Error(`${args.join(" ")} exited with ${child.exitCode}`);
    await sleep(2);
  }
  child.kill("SIGKILL");
  throw new Error(`${args.join(" ")} not ready within 20 s`);
}

async function stopServer(child) {
  if (child.exitCode !== null) return child.exitCode;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  const code = await Promise.race([exited, sleep(10_000).then(() => "timeout")]);
  if (code === "timeout") child.kill("SIGKILL");
  return code;
}

function memory(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (key) => Number(status.match(new RegExp(`${key}:\\s+(\\d+)`))[1]);
  return { rssMiB: kib("VmRSS") / 1024, peakMiB: kib("VmHWM") / 1024 };
}

function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

// ------------------------------------------------------------------ batches

async function makeBatchBodies(rows) {
  const { deliverySchema, FEATURES, makeDeliveryData } = await import(
    "../examples/delivery-duration/data.mjs"
  );
  const data = makeDeliveryData({ n: rows, seed: 7 });
  const column = (name) => Array.from(data.numeric(name));
  const kind = (name) => (deliverySchema.fields[name].kind === "integer" ? "INT64" : "FP64");
  const flat = [];
  for (let i = 0; i < rows; i++) for (const name of FEATURES) flat.push(data.numeric(name)[i]);
  const bodies = {
    "OIP infer, a tensor per feature": {
      path: "/v2/models/delivery/infer",
      body: {
        inputs: FEATURES.map((name) => ({
          name,
          shape: [rows],
          datatype: kind(name),
          data: column(name),
        })),
      },
    },
    "OIP infer, one [N, 29] tensor": {
      path: "/v2/models/delivery/infer",
      body: {
        inputs: [{ name: "input-0", shape: [rows, FEATURES.length], datatype: "FP64", data: flat }],
      },
    },
    "named fields, {rows: [...]}": {
      path: "/v1/models/delivery/predict",
      body: {
        rows: Array.from({ length: rows }, (_, i) =>
          Object.fromEntries(FEATURES.map((f) => [f, data.numeric(f)[i]])),
        ),
      },
    },
  };
  const lua = join(OUT, "post-body.lua");
  writeFileSync(
    lua,
    `local f = assert(io.open(os.getenv("BODY"), "r"))
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = f:read("*a")
f:close()
done = function(summary, latency, requests)
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "errors": %d, "p99_us": %d}\\n',
    summary.requests, summary.duration,
    summary.errors.status + summary.errors.read + summary.errors.timeout,
    latency:percentile(99)))
end
`,
  );
  return { bodies, lua };
}

async function batches(rows) {
  const { bodies, lua } = await makeBatchBodies(rows);
  const port = PORT + 1;
  const { child } = await startServer(
    process.execPath,
    ["bench/serve-entry.mjs", "--port", String(port)],
    port,
  );
  const results = [];
  try {
    for (const [name, { path, body }] of Object.entries(bodies)) {
      const file = join(OUT, `batch-${results.length}.json`);
      const text = JSON.stringify(body);
      writeFileSync(file, text);
      // Every answer of this body is the same: check one.
      const answer = await (
        await fetch(`http://127.0.0.1:${port}${path}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: text,
        })
      ).json();
      const predictions = answer.outputs?.[0].data ?? answer.predictions;
      if (predictions?.length !== rows)
        throw new Error(`${name}: ${JSON.stringify(answer).slice(0, 300)}`);
      await waitForQuiet(WAIT);
      spawnSync("wrk", ["-t1", "-c4", "-d2s", "-s", lua, `http://127.0.0.1:${port}${path}`], {
        env: { ...process.env, BODY: file },
      });
      const cpu0 = cpuSeconds(child.pid);
      const run = spawnSync(
        "wrk",
        [
          "-t1",
          "-c4",
          `-d${DURATION}s`,
          "--timeout",
          "10s",
          "-s",
          lua,
          `http://127.0.0.1:${port}${path}`,
        ],
        {
          env: { ...process.env, BODY: file },
          encoding: "utf8",
        },
      );
      const cpu = cpuSeconds(child.pid) - cpu0;
      const line = run.stdout.split("\n").find((l) => l.startsWith("WRKJSON "));
      const summary = JSON.parse(line.slice(8));
      const rps = summary.requests / (summary.duration_us / 1e6);
      results.push({
        name,
        bytes: text.length,
        requestsPerSecond: rps,
        rowsPerSecond: rps * rows,
        p99Ms: summary.p99_us / 1000,
        errors: summary.errors,
        serverCpuMsPerRequest: (cpu / summary.requests) * 1000,
      });
    }
    return { results, memory: memory(child.pid) };
  } finally {
    await stopServer(child);
  }
}

// ------------------------------------------------------------------ start-up

async function registryForCli(tree) {
  const { createArtifact, openRegistry } = await import("@mlops/core");
  const { deliverySchema, FEATURES } = await import("../examples/delivery-duration/data.mjs");
  const dir = join(OUT, "registry");
  rmSync(dir, { recursive: true, force: true });
  const registry = await openRegistry(dir);
  await registry.registerModel(
    "delivery",
    createArtifact({
      kind: "tree",
      schema: deliverySchema,
      model: { inputs: FEATURES },
      arrays: {
        "tree.left": Int32Array.from(tree.left),
        "tree.right": Int32Array.from(tree.right),
        "tree.feature": Int32Array.from(tree.feature, (f) => Math.max(f, 0)),
        "tree.threshold": Float64Array.from(tree.threshold),
        "tree.value": Float64Array.from(tree.value),
      },
    }),
    { aliases: ["production"] },
  );
  return dir;
}

async function startup(tree) {
  const registry = await registryForCli(tree);
  const port = PORT + 2;
  const commands = {
    "bench/serve-entry.mjs": ["bench/serve-entry.mjs", "--port", String(port)],
    "mlops-serve (folder registry)": [
      "packages/serve/dist/cli.js",
      "--registry",
      registry,
      "--model",
      "delivery@production",
      "--port",
      String(port),
    ],
  };
  const out = {};
  for (const [name, args] of Object.entries(commands)) {
    const times = [];
    let idle;
    let loaded;
    for (let i = 0; i < 5; i++) {
      const { child, readyMs } = await startServer(process.execPath, args, port);
      times.push(readyMs);
      if (i === 0) {
        await sleep(500);
        idle = memory(child.pid);
        // Then a single-row load like the harness's (c64, 3 s), and memory again.
        spawnSync(
          "wrk",
          ["-t1", "-c64", "-d3s", "-s", "post.lua", `http://127.0.0.1:${port}/predict`],
          { cwd: PEER_SERVE, stdio: "ignore" },
        );
        loaded = memory(child.pid);
      }
      const code = await stopServer(child);
      if (code !== 0) throw new Error(`${name}: exit code ${code} after SIGTERM`);
    }
    out[name] = { readyMsBest: Math.min(...times), readyMsMedian: median(times), idle, loaded };
  }
  return out;
}

// ------------------------------------------------------------------ main

const fmt = (value, digits = 0) =>
  value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

async function main() {
  mkdirSync(OUT, { recursive: true });
  ensureBuilt();
  const tree = preparePeers();
  const results = { when: new Date().toISOString(), duration: DURATION, reps: REPS, conc: CONC };

  if (!flag("skip-harness")) {
    console.log(
      `single rows: bench_serve.py, ${REPS} rep(s) × ${CONFIGS.length} servers, ` +
        `c=${CONC}, ${DURATION} s each`,
    );
    const rows = [];
    for (let rep = 0; rep < REPS; rep++) {
      for (const config of CONFIGS) rows.push(...harness(config, rep));
    }
    results.harness = rows;
    const table = [];
    for (const conc of CONC.split(",").map(Number)) {
      const pick = (name) => rows.filter((r) => r.config === name && r.conc === conc);
      const summary = (name) => {
        const runs = pick(name);
        return {
          rps: median(runs.map((r) => r.rps)),
          p99: median(runs.map((r) => r.p99Ms)),
          all: runs.map((r) => fmt(r.rps)).join(", "),
          errors: runs.reduce((a, r) => a + r.errors, 0),
          foreign: Math.max(...runs.map((r) => r.foreign)),
        };
      };
      const [peer, ours, raw] = CONFIGS.map((c) => summary(c.name));
      table.push({
        conc,
        peer,
        ours,
        raw,
        vsPeer: ours.rps / peer.rps,
        p99VsPeer: ours.p99 / peer.p99,
        vsRaw: ours.rps / raw.rps,
      });
    }
    results.singleRow = table;
    console.log(
      "\n| c | server | req/s (median) | p99 ms | req/s (all reps) | errors | foreign cores |",
    );
    console.log("|---|---|---|---|---|---|---|");
    for (const row of table) {
      for (const [key, label] of [
        ["peer", CONFIGS[0].label],
        ["ours", CONFIGS[1].label],
        ["raw", CONFIGS[2].label],
      ]) {
        const s = row[key];
        console.log(
          `| ${row.conc} | ${label} | ${fmt(s.rps)} | ${fmt(s.p99, 2)} | ${s.all} | ` +
            `${s.errors} | ${fmt(s.foreign, 2)} |`,
        );
      }
    }
    console.log(
      "\n| c | ours ÷ lean FastAPI (req/s) | ours p99 ÷ FastAPI p99 | " +
        "ours ÷ node:http (req/s) |",
    );
    console.log("|---|---|---|---|");
    for (const row of table) {
      console.log(
        `| ${row.conc} | ${fmt(row.vsPeer, 1)}× (target ≥ 10×) | ` +
          `${fmt(row.p99VsPeer, 3)} (target ≤ 0.2) | ${fmt(row.vsRaw, 2)}× (target ≥ 0.6×) |`,
      );
    }
  }

  if (!flag("skip-batch")) {
    console.log("\nbatches of 1,000 rows (wrk -t1 -c4):");
    const { results: batch, memory: afterLoad } = await batches(1000);
    results.batches = batch;
    results.memoryAfterLoad = afterLoad;
    console.log("| route | body | rows/s | req/s | p99 ms | server CPU ms/request | errors |");
    console.log("|---|---|---|---|---|---|---|");
    for (const b of batch) {
      console.log(
        `| ${b.name} | ${fmt(b.bytes / 1024)} KiB | ${fmt(b.rowsPerSecond / 1e6, 2)} M | ` +
          `${fmt(b.requestsPerSecond)} | ${fmt(b.p99Ms, 1)} | ` +
          `${fmt(b.serverCpuMsPerRequest, 2)} | ${b.errors} |`,
      );
    }
    console.log(
      `memory after the batch load: RSS ${fmt(afterLoad.rssMiB)} MiB, ` +
        `peak ${fmt(afterLoad.peakMiB)} MiB`,
    );
  }

  if (!flag("skip-start")) {
    await waitForQuiet(WAIT);
    const start = await startup(tree);
    results.startup = start;
    console.log(
      "\n| server | ready (best of 5) | ready (median) | RSS idle, one model | " +
        "RSS (peak) after c64 single rows |",
    );
    console.log("|---|---|---|---|---|");
    for (const [name, s] of Object.entries(start)) {
      console.log(
        `| ${name} | ${fmt(s.readyMsBest)} ms | ${fmt(s.readyMsMedian)} ms | ` +
          `${fmt(s.idle.rssMiB)} MiB | ${fmt(s.loaded.rssMiB)} (${fmt(s.loaded.peakMiB)}) MiB |`,
      );
    }
  }

  writeFileSync(join(OUT, "results.json"), `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\nwrote ${join(OUT, "results.json")}`);
}

await main();
