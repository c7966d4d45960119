// Single-row serving: the same model served natively and through the ONNX runtime
// (onnxruntime-node), one POST /v1/models/houses/predict per request, side by side.
//
//   npm run build --workspace @mlops/core && npm run build --workspace @mlops/serve
//   node bench/serve-onnx.mjs [--duration 5] [--reps 3] [--conc 1,16]
//
// The model: the XGBoost fixture on California housing (60 trees, depth 6, 8 features;
// core's interop fixtures), imported with importXGBoost. "native" serves that artifact;
// "onnx-columns" serves toOnnx(artifact) (one input per feature) and "onnx-matrix"
// toOnnx(artifact, { inputs: "matrix" }) (one [N, 8] input), wrapped by importOnnx and run by
// onnxruntime-node (1 thread per inference). Each server is a child process on 127.0.0.1 with the whole stack on (validation,
// metrics, limits); wrk (-t1, keep-alive) sends the same one-row JSON body. For each
// concurrency the two servers alternate, --reps times each; the median requests/s is reported
// with the min–max, and the load average before the run. Needs wrk (apt-get install wrk).
// Results: .bench/serve-onnx-results.json.
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { importOnnx, importXGBoost, Schema, toOnnx } from "../packages/core/dist/index.js";
import { createInferenceApp, serve } from "../packages/serve/dist/index.js";

const SCRIPT = fileURLToPath(import.meta.url);
const ROOT = join(dirname(SCRIPT), "..");
const FIXTURES = join(ROOT, "packages/core/src/interop/fixtures");

function option(name, fallback) {
  const index = process.argv.indexOf(`--${name}`);
  return index < 0 ? fallback : process.argv[index + 1];
}

const RUNTIMES = ["native", "onnx-columns", "onnx-matrix"];

function model(runtime) {
  const expected = JSON.parse(readFileSync(join(FIXTURES, "xgboost-expected.json"), "utf8"));
  const { features, X } = expected.cases.california;
  const artifact = importXGBoost(readFileSync(join(FIXTURES, "xgboost-california.json"), "utf8"), {
    featureNames: features,
  });
  const inputs = runtime === "onnx-matrix" ? "matrix" : "columns";
  const served =
    runtime === "native"
      ? artifact
      : importOnnx(toOnnx(artifact, { inputs }), {
          schema: Schema.fromJSON(artifact.manifest.schema),
        });
  const row = Object.fromEntries(features.map((name, j) => [name, X[0][j] ?? 1]));
  return { served, row };
}

if (option("serve", undefined) !== undefined) {
  // Server mode (a child process of the benchmark).
  const { served } = model(option("serve"));
  const app = createInferenceApp({ models: [{ name: "houses", artifact: served }] });
  await app.ready;
  const server = await serve(app, { port: Number(option("port")), handleSignals: true });
  process.stderr.write(`serving ${option("serve")} on ${server.url}\n`);
} else {
  await main();
}

async function startServer(runtime, port) {
  const child = spawn(process.execPath, [SCRIPT, "--serve", runtime, "--port", String(port)], {
    cwd: ROOT,
    stdio: ["ignore", "ignore", "inherit"],
  });
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/v2/health/ready`);
      if (response.status === 200) return child;
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null) throw new Error(`${runtime} server exited with ${child.exitCode}`);
    await sleep(20);
  }
  child.kill("SIGKILL");
  throw new Error(`${runtime} server not ready within 30 s`);
}

async function stopServer(child) {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await Promise.race([exited, sleep(10_000).then(() => child.kill("SIGKILL"))]);
}

function wrk(port, connections, seconds, script) {
  const run = spawnSync(
    "wrk",
    [
      "-t1",
      `-c${connections}`,
      `-d${seconds}s`,
      "-s",
      script,
      `http://127.0.0.1:${port}/v1/models/houses/predict`,
    ],
    { encoding: "utf8" },
  );
  if (run.status !== 0) throw new Error(`wrk failed: ${run.stderr}`);
  const rate = /Requests\/sec:\s+([\d.]+)/.exec(run.stdout);
  const errors = /Non-2xx or 3xx responses: (\d+)/.exec(run.stdout);
  if (errors) throw new Error(`${errors[1]} failed requests:\n${run.stdout}`);
  return Number(rate[1]);
}

function summary(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1] };
}

async function main() {
  const duration = Number(option("duration", 5));
  const reps = Number(option("reps", 3));
  const concurrencies = option("conc", "1,16").split(",").map(Number);
  const out = join(ROOT, ".bench", "serve-onnx");
  mkdirSync(out, { recursive: true });
  const { row } = model("native");
  // Both answer the same prediction for the row (to float32 precision).
  const lua = join(out, "post.lua");
  writeFileSync(
    lua,
    `wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = '${JSON.stringify(row)}'\n`,
  );
  const load = loadavg();
  console.log(
    `machine: ${cpus().length} cores, load average ${load.map((v) => v.toFixed(2)).join(" ")}`,
  );
  const ports = Object.fromEntries(RUNTIMES.map((runtime, i) => [runtime, 18_611 + i]));
  const servers = {};
  for (const runtime of RUNTIMES) servers[runtime] = await startServer(runtime, ports[runtime]);
  const answers = {};
  for (const runtime of RUNTIMES) {
    const response = await fetch(`http://127.0.0.1:${ports[runtime]}/v1/models/houses/predict`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(row),
    });
    answers[runtime] = (await response.json()).predictions[0];
  }
  console.log(`one row: ${RUNTIMES.map((runtime) => `${runtime} ${answers[runtime]}`).join(", ")}`);
  const results = { duration, reps, load, node: process.version, answers, concurrency: {} };
  try {
    for (const connections of concurrencies) {
      const rates = Object.fromEntries(RUNTIMES.map((runtime) => [runtime, []]));
      for (const runtime of RUNTIMES) wrk(ports[runtime], connections, 1, lua); // warm-up
      for (let rep = 0; rep < reps; rep++) {
        for (const runtime of RUNTIMES) {
          rates[runtime].push(wrk(ports[runtime], connections, duration, lua));
        }
      }
      const figures = Object.fromEntries(
        RUNTIMES.map((runtime) => [runtime, summary(rates[runtime])]),
      );
      results.concurrency[connections] = figures;
      console.log(
        `\n${connections} connection(s), ${reps} × ${duration} s each, median (min–max):`,
      );
      for (const runtime of RUNTIMES) {
        const figure = figures[runtime];
        const ratio = figure.median / figures.native.median;
        console.log(
          `  ${runtime.padEnd(13)} ${figure.median.toFixed(0).padStart(7)} req/s ` +
            `(${figure.min.toFixed(0)}–${figure.max.toFixed(0)})  ${ratio.toFixed(2)}× native`,
        );
      }
    }
  } finally {
    await Promise.all(Object.values(servers).map(stopServer));
  }
  writeFileSync(
    join(ROOT, ".bench", "serve-onnx-results.json"),
    `${JSON.stringify(results, null, 2)}\n`,
  );
}
