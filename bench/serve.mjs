// Serving benchmark: @mlops/serve against the peers' FastAPI service and a bare node:http
// endpoint, side by side in one run, with the peers' own harness and load tool (wrk).
//
//   npm run build --workspace @mlops/core && npm run build --workspace @mlops/serve
//   node bench/serve.mjs [--duration 5] [--reps 3] [--conc 16,64] [--wait 300]
//                        [--baseline DIR] [--skip-harness] [--skip-batch] [--skip-start]
//
// Needs /usr/bin/python3 with python3-sklearn, python3-fastapi, python3-uvicorn,
// python3-uvloop, python3-httptools and wrk (Debian packages; see bench/README.md).
//
// `--baseline DIR` adds a row for the @mlops/serve of another checkout (built: its
// bench/serve-entry.mjs and packages' dist/), measured in the same reps — how the figures before
// a change are taken: `git worktree add /tmp/before <commit>`, build it, pass its path.
//
// 1. Copies ../shared/peers to .bench/serve/peers (the original is read-only and the harness
//    writes its model files next to itself), fits the peer's seed-000 tree there
//    (serve/train_model.py) and exports its arrays (bench/serve_export_tree.py), so both
//    services answer with the very same tree.
// 2. Single-row predictions (POST /predict, the 30-field seed body, {"prediction": x}), with
//    serve/bench_serve.py, unchanged: per rep, one after the other, the peer as FastAPI's
//    experts configure it (bench/serve_fastapi.py: an `async def` handler, uvicorn with uvloop
//    and httptools, 1 worker, NumPy row → the same scikit-learn tree), the peers' own lean
//    service (config numpy_w1: a sync `def` handler, for comparison with earlier figures), ours
//    (bench/serve-entry.mjs: predictRoute with validation, prediction and metrics on) and
//    bench/serve-raw.mjs (a node:http endpoint answering a constant). Every server gets the same
//    warm-up (2 s of wrk) and the same single wrk thread. The harness waits for a quiet machine
//    before each server and redoes a measurement when other processes used more than 0.1 core.
// 3. Batches of 1,000 rows through OIP infer (`POST /v2/models/delivery/infer`: 29 tensors of
//    [1000], and one [1000, 29] tensor) and the named-field route ({"rows": [...]}), with wrk
//    (1 thread, 4 connections): rows/s = requests/s × 1000; every answer is checked.
// 4. Resident memory of our server (VmRSS, and its peak VmHWM) with one model, idle after
//    start and after the load; time from spawn to the first 200 on /v2/health/ready, for
//    bench/serve-entry.mjs and for the mlops-serve executable with a folder registry (median
//    and min–max of 5 starts).
//
// Every figure is the median of the reps with the min–max spread; the machine's load is printed
// before and after. Prints the tables (ratios against the async FastAPI peer) and writes
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
import { isAbsolute, join, resolve } from "node:path";
import {
  flag,
  loadLine,
  markdownTable,
  option,
  PYTHON,
  positiveInteger,
  ROOT,
  spread,
  summary,
  waitForQuiet,
} from "./lib.mjs";

const OUT = join(ROOT, ".bench", "serve");
const PEERS = join(OUT, "peers");
const PEER_SERVE = join(PEERS, "serve");
const PORT = 18090;

const DURATION = positiveInteger("duration", 5);
const REPS = positiveInteger("reps", 3);
const CONC = option("conc", "16,64");
const WAIT = Number(option("wait", 300));
const BASELINE = option("baseline");
const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

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
    // ../shared/peers beside the checkout (or beside a worktree's parent folder, or --peers DIR).
    const source = [
      option("peers"),
      join(ROOT, "..", "shared", "peers"),
      join(ROOT, "..", "..", "shared", "peers"),
    ]
      .filter((path) => path !== undefined)
      .find((path) => existsSync(join(path, "serve", "bench_serve.py")));
    if (source === undefined) throw new Error("no ../shared/peers: pass --peers DIR");
    cpSync(source, PEERS, { recursive: true });
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

const PEER_ASYNC =
  `${PYTHON} -m uvicorn serve_fastapi:app --app-dir bench --host 127.0.0.1 --port {port} ` +
  "--workers 1 --loop uvloop --http httptools --no-access-log";

const CONFIGS = [
  {
    name: "fastapi_async",
    label: "FastAPI + uvicorn, async def handler (peer)",
    args: ["--external", PEER_ASYNC, "--external-name", "fastapi_async"],
  },
  {
    name: "fastapi_numpy_w1",
    label: "FastAPI + uvicorn, sync def handler (peers' numpy_w1)",
    args: ["--configs", "numpy_w1"],
  },
  {
    name: "mlops_ts",
    label: "@mlops/serve (predictRoute, validation + metrics)",
    args: ["--external", "node bench/serve-entry.mjs --port {port}", "--external-name", "mlops_ts"],
  },
  ...(BASELINE === undefined
    ? []
    : [
        {
          name: "mlops_baseline",
          label: `@mlops/serve of ${BASELINE}`,
          args: [
            "--external",
            `node ${join(isAbsolute(BASELINE) ? BASELINE : resolve(BASELINE), "bench/serve-entry.mjs")} ` +
              `--port {port} --tree ${join(OUT, "tree.json")}`,
            "--external-name",
            "mlops_baseline",
          ],
        },
      ]),
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
      const runs = [];
      for (let rep = 0; rep < REPS; rep++) {
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
          { env: { ...process.env, BODY: file }, encoding: "utf8" },
        );
        const cpu = cpuSeconds(child.pid) - cpu0;
        const line = run.stdout.split("\n").find((l) => l.startsWith("WRKJSON "));
        const result = JSON.parse(line.slice(8));
        const rps = result.requests / (result.duration_us / 1e6);
        runs.push({
          rps,
          p99Ms: result.p99_us / 1000,
          errors: result.errors,
          cpuMs: (cpu / result.requests) * 1000,
        });
      }
      results.push({
        name,
        bytes: text.length,
        requestsPerSecond: summary(runs.map((r) => r.rps)),
        rowsPerSecond: summary(runs.map((r) => r.rps * rows)),
        p99Ms: summary(runs.map((r) => r.p99Ms)),
        errors: runs.reduce((total, r) => total + r.errors, 0),
        serverCpuMsPerRequest: summary(runs.map((r) => r.cpuMs)),
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
    out[name] = { readyMs: summary(times), idle, loaded };
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
  const load = await loadLine();
  results.loadBefore = load;
  console.log(`node ${process.version}; ${load}`);

  if (!flag("skip-harness")) {
    process.env.PEER_MODEL = join(PEER_SERVE, "model_np.joblib");
    console.log(
      `single rows: bench_serve.py, ${REPS} rep(s) × ${CONFIGS.length} servers, ` +
        `c=${CONC}, ${DURATION} s each, 2 s warm-up each, wrk -t1`,
    );
    const rows = [];
    // Interleaved: a load that comes and goes hits every server alike.
    for (let rep = 0; rep < REPS; rep++) {
      for (const config of CONFIGS) rows.push(...harness(config, rep));
    }
    results.harness = rows;
    const table = [];
    for (const conc of CONC.split(",").map(Number)) {
      const stats = (name) => {
        const runs = rows.filter((r) => r.config === name && r.conc === conc);
        return {
          rps: summary(runs.map((r) => r.rps)),
          p99: summary(runs.map((r) => r.p99Ms)),
          errors: runs.reduce((a, r) => a + r.errors, 0),
          foreign: Math.max(...runs.map((r) => r.foreign)),
        };
      };
      const byName = Object.fromEntries(CONFIGS.map((c) => [c.name, stats(c.name)]));
      table.push({ conc, byName });
    }
    results.singleRow = table;
    console.log();
    console.log(
      markdownTable(
        ["c", "server", "req/s", "p99 ms", "errors", "foreign cores (max)"],
        table.flatMap((row) =>
          CONFIGS.map((config) => {
            const s = row.byName[config.name];
            return [
              row.conc,
              config.label,
              spread(s.rps),
              spread(s.p99),
              s.errors,
              s.foreign.toFixed(2),
            ];
          }),
        ),
      ),
    );
    console.log();
    const ratio = (a, b) => `${(a / b).toFixed(2)}×`;
    console.log(
      markdownTable(
        [
          "c",
          "ours ÷ async FastAPI (req/s)",
          "ours p99 ÷ async FastAPI p99",
          "ours ÷ node:http (req/s)",
          ...(BASELINE === undefined ? [] : ["ours ÷ baseline (req/s)"]),
        ],
        table.map(({ conc, byName }) => {
          const ours = byName.mlops_ts;
          const cells = [
            conc,
            ratio(ours.rps.median, byName.fastapi_async.rps.median),
            (ours.p99.median / byName.fastapi_async.p99.median).toFixed(3),
            ratio(ours.rps.median, byName.node_raw.rps.median),
          ];
          if (BASELINE !== undefined) {
            cells.push(ratio(ours.rps.median, byName.mlops_baseline.rps.median));
          }
          return cells;
        }),
      ),
    );
    console.log("(ratios of the medians; each cell above: median (min–max) of the reps)");
  }

  if (!flag("skip-batch")) {
    console.log(
      `\nbatches of 1,000 rows (wrk -t1 -c4, ${REPS} runs of ${DURATION} s after 2 s of warm-up):`,
    );
    const { results: batch, memory: afterLoad } = await batches(1000);
    results.batches = batch;
    results.memoryAfterLoad = afterLoad;
    console.log(
      markdownTable(
        ["route", "body", "rows/s (M)", "req/s", "p99 ms", "server CPU ms/request", "errors"],
        batch.map((b) => [
          b.name,
          `${Math.round(b.bytes / 1024)} KiB`,
          spread({
            ...b.rowsPerSecond,
            median: b.rowsPerSecond.median / 1e6,
            min: b.rowsPerSecond.min / 1e6,
            max: b.rowsPerSecond.max / 1e6,
          }),
          spread(b.requestsPerSecond),
          spread(b.p99Ms),
          spread(b.serverCpuMsPerRequest),
          b.errors,
        ]),
      ),
    );
    console.log(
      `memory after the batch load: RSS ${fmt(afterLoad.rssMiB)} MiB, ` +
        `peak ${fmt(afterLoad.peakMiB)} MiB`,
    );
  }

  if (!flag("skip-start")) {
    await waitForQuiet(WAIT);
    const start = await startup(tree);
    results.startup = start;
    console.log();
    console.log(
      markdownTable(
        [
          "server",
          "ready ms (5 starts)",
          "RSS idle, one model",
          "RSS (peak) after c64 single rows",
        ],
        Object.entries(start).map(([name, s]) => [
          name,
          spread(s.readyMs),
          `${fmt(s.idle.rssMiB)} MiB`,
          `${fmt(s.loaded.rssMiB)} (${fmt(s.loaded.peakMiB)}) MiB`,
        ]),
      ),
    );
  }

  console.log(`\n${await loadLine()}`);
  writeFileSync(join(OUT, "results.json"), `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\nwrote ${join(OUT, "results.json")}`);
}

await main();
