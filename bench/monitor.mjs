// Monitoring benchmark (issue 11): what watching a served model costs.
//
//   npx turbo run build --filter=@mlops/serve --filter=@mlops/train   # the script uses dist/
//   node bench/monitor.mjs [--duration 5] [--reps 3] [--conc 8] [--warm 100000]
//                          [--predictions 1000000] [--drift-rows 1000000]
//                          [--skip-http] [--skip-cpu] [--skip-rss] [--skip-drift]
//
// 1. Single-row predictions over HTTP, monitoring off and on: the same app (one-hot encoding
//    and a depth-8 DecisionTreeRegressor on 8 housing-like features and one category, with its
//    training profile) in a child process (`serve`, the Node fast path), loaded by wrk (1 thread,
//    --conc connections, POST /v1/models/house/predict with one row). Off and on alternate
//    (ABAB), --reps times each: the median requests/s of each with the min–max, and on ÷ off.
//    "On" is everything: the drift sketch of the inputs and the prediction, and the prediction
//    kept for its feedback (50,000 kept, the default).
//    Then the same without sockets (steadier on a shared machine): two apps in one process, off
//    and on, `app.fetch` rounds of 20,000 alternating (2 × --reps rounds each): CPU µs per
//    request, and requests per CPU second on ÷ off.
// 2. Memory: a `node --expose-gc` child makes --warm monitored single-row predictions through
//    `app.fetch` (in process, no sockets: the memory is the app's), then --predictions more,
//    sending the feedback of every 10th through POST /v1/feedback, and prints its RSS and heap
//    after a full GC at the end of the warm-up, at each quarter and at the end; the growth from
//    the warm baseline must stay under 20 MB (the feedback store is full after 50,000 and its
//    gone-id set after 100,000; the windows never grow).
// 3. `mlops drift` end to end as a child process (the built CLI), on --drift-rows current rows
//    (incomes shifted): `--model house@production --current FILE` against the model's stored
//    profile, and `--reference FILE --current FILE` against as many unshifted rows, each in CSV
//    and Parquet; the four take turns, --reps times; wall time and the child's CPU seconds
//    (GNU time). Then `driftReport(profile, frame)` alone on the frame in memory.
//
// The machine's load is printed with every figure: on a shared 2-core machine rerun when the
// reps disagree by more than ~20 %.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const OUT = join(ROOT, ".bench", "monitor");
const PORT = 18190;

function option(name, fallback) {
  const index = process.argv.indexOf(`--${name}`);
  return index < 0 ? fallback : process.argv[index + 1];
}
const flag = (name) => process.argv.includes(`--${name}`);
const DURATION = Number(option("duration", 5));
const REPS = Number(option("reps", 3));
const CONC = Number(option("conc", 8));
const PREDICTIONS = Number(option("predictions", 1_000_000));
const WARM = Number(option("warm", 100_000));
const DRIFT_ROWS = Number(option("drift-rows", 1_000_000));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const load = () =>
  loadavg()
    .map((value) => value.toFixed(2))
    .join(" ");

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}
const spread = (values, digits = 0) =>
  `${median(values).toFixed(digits)} (${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)})`;

// ------------------------------------------------------------------ the model (child and parent)

/** Housing-like rows from a seeded generator; `shift` moves the incomes (a drifted batch). */
export async function housingFrame(rows, seed, shift = 0) {
  const { createRandom, Frame } = await import("@mlops/core");
  const random = createRandom(seed);
  const names = ["income", "age", "rooms", "bedrooms", "population", "occupancy", "lat", "lon"];
  const columns = Object.fromEntries(names.map((name) => [name, new Float64Array(rows)]));
  const codes = new Int32Array(rows);
  const value = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    const income = 1 + random.next() * 9 + shift;
    columns.income[i] = income;
    columns.age[i] = 1 + random.int(52);
    columns.rooms[i] = 2 + random.next() * 6;
    columns.bedrooms[i] = random.next() < 0.01 ? Number.NaN : 0.5 + random.next() * 1.5;
    columns.population[i] = 100 + random.int(3000);
    columns.occupancy[i] = 1 + random.next() * 4;
    columns.lat[i] = 32 + random.next() * 10;
    columns.lon[i] = -124 + random.next() * 10;
    codes[i] = random.int(4);
    value[i] = 40_000 * income + 1_000 * columns.rooms[i] + (codes[i] === 3 ? 50_000 : 0);
  }
  return new Frame({
    ...Object.fromEntries(names.map((name) => [name, { kind: "number", values: columns[name] }])),
    ocean: { kind: "category", codes, dictionary: ["inland", "near_bay", "near_ocean", "island"] },
    value: { kind: "number", values: value },
  });
}

export const ROW = {
  income: 4.2,
  age: 30,
  rooms: 5.1,
  bedrooms: 1.1,
  population: 1200,
  occupancy: 2.7,
  lat: 37.5,
  lon: -122.1,
  ocean: "near_bay",
};

async function artifact() {
  const { DecisionTreeRegressor, OneHotEncoder, Pipeline } = await import("@mlops/train");
  const training = await housingFrame(20_000, 1);
  return new Pipeline([
    ["ocean", new OneHotEncoder()],
    ["tree", new DecisionTreeRegressor({ maxDepth: 8, seed: 0 })],
  ])
    .fit(training, "value")
    .toArtifact();
}

// ------------------------------------------------------------------ children

async function childServer(monitored) {
  const { createInferenceApp, serve } = await import("@mlops/serve");
  const app = createInferenceApp({
    models: [{ name: "house", artifact: await artifact() }],
    watch: false,
    monitoring: monitored,
  });
  await app.ready;
  const server = await serve(app, { port: PORT, host: "127.0.0.1" });
  process.stdout.write("ready\n");
  process.on("SIGTERM", async () => {
    await server.close();
    process.exit(0);
  });
}

async function childMemory() {
  const { createInferenceApp } = await import("@mlops/serve");
  const app = createInferenceApp({
    models: [{ name: "house", artifact: await artifact() }],
    watch: false,
    monitoring: true,
  });
  await app.ready;
  const body = JSON.stringify(ROW);
  const headers = { "content-type": "application/json" };
  const sample = () => {
    globalThis.gc();
    globalThis.gc();
    const usage = process.memoryUsage();
    return { rss: usage.rss / 2 ** 20, heap: usage.heapUsed / 2 ** 20 };
  };
  let joined = 0;
  // Every 10th prediction gets its feedback (the actual value), through POST /v1/feedback.
  const predict = async (count) => {
    for (let i = 0; i < count; i++) {
      const response = await app.fetch(
        new Request("http://localhost/v1/models/house/predict", { method: "POST", headers, body }),
      );
      if (response.status !== 200) throw new Error(`HTTP ${response.status}`);
      const answer = await response.json();
      if (i % 10 === 0) {
        const sent = await app.fetch(
          new Request("http://localhost/v1/feedback", {
            method: "POST",
            headers,
            body: JSON.stringify({ id: answer.id, actual: answer.predictions[0] + 1000 }),
          }),
        );
        if (sent.status !== 200) throw new Error(`feedback: HTTP ${sent.status}`);
        await sent.arrayBuffer();
        joined++;
      }
    }
  };
  await predict(WARM);
  const before = sample();
  const started = performance.now();
  const samples = [];
  const step = Math.max(1, Math.floor(PREDICTIONS / 4));
  for (let done = 0; done < PREDICTIONS; done += step) {
    await predict(Math.min(step, PREDICTIONS - done));
    samples.push(sample().rss);
  }
  const seconds = (performance.now() - started) / 1000;
  const after = sample();
  const report = app.monitoring.reports()[0];
  process.stdout.write(
    `${JSON.stringify({ before: before.rss, after: after.rss, heapBefore: before.heap, heapAfter: after.heap, samples, seconds, joined, windowRows: report.window.rows, predictions: report.window.predictions, online: report.online.count, kept: app.monitoring.feedback.size, footprint: app.monitoring.feedback.footprint })}\n`,
  );
  await app.close();
}

// ------------------------------------------------------------------ parent

async function http() {
  const script = join(OUT, "post.lua");
  writeFileSync(
    script,
    `wrk.method = "POST"\nwrk.body = '${JSON.stringify(ROW)}'\nwrk.headers["Content-Type"] = "application/json"\n`,
  );
  const results = { off: [], on: [] };
  for (let rep = 0; rep < REPS; rep++) {
    for (const mode of ["off", "on"]) {
      const child = spawn(
        process.execPath,
        [fileURLToPath(import.meta.url), "--child-server", mode],
        {
          stdio: ["ignore", "pipe", "inherit"],
        },
      );
      await new Promise((resolve, reject) => {
        child.stdout.on("data", (chunk) => chunk.toString().includes("ready") && resolve());
        child.on("exit", (code) => reject(new Error(`server exited with ${code}`)));
      });
      const url = `http://127.0.0.1:${PORT}/v1/models/house/predict`;
      // Warm-up (JIT), then the measurement.
      spawnSync("wrk", ["-t1", `-c${CONC}`, "-d1s", "-s", script, url], { encoding: "utf8" });
      const run = spawnSync("wrk", ["-t1", `-c${CONC}`, `-d${DURATION}s`, "-s", script, url], {
        encoding: "utf8",
      });
      const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(run.stdout)?.[1]);
      const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(run.stdout)?.[1];
      if (!(rps > 0) || non2xx !== undefined)
        throw new Error(`wrk failed:\n${run.stdout}${run.stderr}`);
      results[mode].push(rps);
      console.log(
        `  rep ${rep + 1} monitoring ${mode.padEnd(3)} ${rps.toFixed(0)} req/s  (load ${load()})`,
      );
      child.kill("SIGTERM");
      await new Promise((resolve) => child.on("exit", resolve));
      await sleep(200);
    }
  }
  return results;
}

/**
 * The same comparison without sockets, steadier on a shared machine: two apps in this process
 * (monitoring off, on), the same model, `app.fetch` of single-row predictions, 20,000 per round,
 * rounds alternating off/on; CPU microseconds per request from `process.cpuUsage`.
 */
async function inProcess() {
  const { createInferenceApp } = await import("@mlops/serve");
  const model = await artifact();
  const apps = {
    off: createInferenceApp({ models: [{ name: "house", artifact: model }], watch: false }),
    on: createInferenceApp({
      models: [{ name: "house", artifact: model }],
      watch: false,
      monitoring: true,
    }),
  };
  await Promise.all([apps.off.ready, apps.on.ready]);
  const body = JSON.stringify(ROW);
  const headers = { "content-type": "application/json" };
  const round = async (app, count) => {
    const started = process.cpuUsage();
    for (let i = 0; i < count; i++) {
      const response = await app.fetch(
        new Request("http://localhost/v1/models/house/predict", { method: "POST", headers, body }),
      );
      if (response.status !== 200) throw new Error(`HTTP ${response.status}`);
      await response.arrayBuffer();
    }
    const used = process.cpuUsage(started);
    return (used.user + used.system) / count;
  };
  for (const app of Object.values(apps)) await round(app, 20_000);
  const results = { off: [], on: [] };
  for (let rep = 0; rep < 2 * REPS; rep++) {
    for (const mode of rep % 2 === 0 ? ["off", "on"] : ["on", "off"]) {
      results[mode].push(await round(apps[mode], 20_000));
    }
  }
  console.log(
    `  CPU µs per request off ${results.off.map((v) => v.toFixed(1)).join(", ")} / on ${results.on.map((v) => v.toFixed(1)).join(", ")} (load ${load()})`,
  );
  await Promise.all(Object.values(apps).map((app) => app.close()));
  return results;
}

function memory() {
  const run = spawnSync(
    process.execPath,
    [
      "--expose-gc",
      fileURLToPath(import.meta.url),
      "--child-memory",
      "--predictions",
      String(PREDICTIONS),
      "--warm",
      String(WARM),
    ],
    { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 1 << 20 },
  );
  if (run.status !== 0) throw new Error(`memory child failed (${run.status})`);
  return JSON.parse(run.stdout.trim().split("\n").at(-1));
}

async function drift() {
  const { openRegistry, writeFrame, driftReport } = await import("@mlops/core");
  const registryDir = join(OUT, "registry");
  rmSync(registryDir, { recursive: true, force: true });
  const registry = await openRegistry(registryDir);
  const model = await artifact();
  await registry.registerModel("house", model, { aliases: ["production"] });
  await registry.close?.();
  const frame = (await housingFrame(DRIFT_ROWS, 2, 1.5)).drop(["value"]);
  const files = {};
  for (const ext of ["csv", "parquet"]) {
    files[`current.${ext}`] = join(OUT, `current-${DRIFT_ROWS}.${ext}`);
    files[`reference.${ext}`] = join(OUT, `reference-${DRIFT_ROWS}.${ext}`);
    if (!existsSync(files[`current.${ext}`])) await writeFrame(files[`current.${ext}`], frame);
    if (!existsSync(files[`reference.${ext}`])) {
      await writeFrame(
        files[`reference.${ext}`],
        (await housingFrame(DRIFT_ROWS, 1)).drop(["value"]),
      );
    }
  }
  const bin = join(ROOT, "packages", "core", "bin", "mlops.js");
  const cases = {
    "--model, CSV": [
      "--registry",
      registryDir,
      "--model",
      "house@production",
      "--current",
      files["current.csv"],
    ],
    "--model, Parquet": [
      "--registry",
      registryDir,
      "--model",
      "house@production",
      "--current",
      files["current.parquet"],
    ],
    "--reference, CSV": ["--reference", files["reference.csv"], "--current", files["current.csv"]],
    "--reference, Parquet": [
      "--reference",
      files["reference.parquet"],
      "--current",
      files["current.parquet"],
    ],
  };
  // GNU time gives the child's CPU seconds, the steadier figure on a shared machine.
  const timed = existsSync("/usr/bin/time");
  const out = Object.fromEntries(Object.keys(cases).map((name) => [name, { wall: [], cpu: [] }]));
  // The cases take turns within each rep, so a change of load spreads over all of them.
  for (let rep = 0; rep < REPS; rep++) {
    for (const [name, args] of Object.entries(cases)) {
      const command = [bin, "drift", ...args, "--json"];
      const started = performance.now();
      const run = timed
        ? spawnSync("/usr/bin/time", ["-f", "cpu %U %S", process.execPath, ...command], {
            encoding: "utf8",
            maxBuffer: 1 << 24,
          })
        : spawnSync(process.execPath, command, { encoding: "utf8", maxBuffer: 1 << 24 });
      const wall = (performance.now() - started) / 1000;
      if (run.status !== 0 && run.status !== 1)
        throw new Error(`mlops drift ${name} exited ${run.status}: ${run.stderr}`);
      const report = JSON.parse(run.stdout);
      if (report.current.rows !== DRIFT_ROWS || !report.features.income.drifted) {
        throw new Error(`mlops drift ${name}: unexpected report`);
      }
      const cpu = /cpu ([\d.]+) ([\d.]+)/.exec(run.stderr);
      out[name].wall.push(wall);
      if (cpu) out[name].cpu.push(Number(cpu[1]) + Number(cpu[2]));
      console.log(
        `  mlops drift ${name.padEnd(20)} run ${rep + 1}: ${wall.toFixed(2)} s wall${cpu ? `, ${out[name].cpu.at(-1).toFixed(2)} s CPU` : ""} (load ${load()})`,
      );
    }
  }
  const profile = model.manifest.profile;
  const inMemory = [];
  const cpu = [];
  for (let rep = 0; rep < REPS; rep++) {
    const started = performance.now();
    const startedCpu = process.cpuUsage();
    const report = driftReport(profile, frame);
    const used = process.cpuUsage(startedCpu);
    inMemory.push((performance.now() - started) / 1000);
    cpu.push((used.user + used.system) / 1e6);
    if (!report.features.income.drifted) throw new Error("driftReport: no drift found");
  }
  console.log(
    `  driftReport in memory: ${spread(inMemory, 3)} s wall, ${spread(cpu, 3)} s CPU (load ${load()})`,
  );
  return { cases: out, memory: inMemory, memoryCpu: cpu };
}

async function main() {
  mkdirSync(OUT, { recursive: true });
  for (const pkg of ["core", "train", "serve"]) {
    if (!existsSync(join(ROOT, "packages", pkg, "dist", "index.js"))) {
      execFileSync("npx", ["tsup"], { cwd: join(ROOT, "packages", pkg), stdio: "inherit" });
    }
  }
  console.log(`node ${process.version}, load at start ${load()}`);
  const lines = ["", "| figure | value | target |", "| --- | --- | --- |"];
  if (!flag("skip-http")) {
    console.log(`single-row HTTP predictions, wrk -t1 -c${CONC} -d${DURATION}s, ${REPS} reps`);
    const { off, on } = await http();
    const ratio = median(on) / median(off);
    lines.push(`| req/s monitoring off | ${spread(off)} | |`);
    lines.push(`| req/s monitoring on | ${spread(on)} | |`);
    lines.push(`| on ÷ off (medians) | ${ratio.toFixed(3)} | ≥ 0.9 |`);
  }
  if (!flag("skip-cpu")) {
    console.log(
      `single-row predictions in process (app.fetch), off/on alternating, ${2 * REPS} rounds`,
    );
    const { off, on } = await inProcess();
    lines.push(`| CPU µs per request, monitoring off (app.fetch) | ${spread(off, 1)} | |`);
    lines.push(`| CPU µs per request, monitoring on (app.fetch) | ${spread(on, 1)} | |`);
    lines.push(
      `| requests per CPU second, on ÷ off (medians) | ${(median(off) / median(on)).toFixed(3)} | ≥ 0.9 |`,
    );
  }
  if (!flag("skip-rss")) {
    console.log(
      `${WARM.toLocaleString("en")} + ${PREDICTIONS.toLocaleString("en")} monitored predictions in process (app.fetch), feedback for every 10th…`,
    );
    const result = memory();
    const growth = result.after - result.before;
    console.log(
      `  RSS ${result.before.toFixed(1)} → ${result.samples.map((value) => value.toFixed(1)).join(" → ")} MiB, heap ${result.heapBefore.toFixed(1)} → ${result.heapAfter.toFixed(1)} MiB, in ${result.seconds.toFixed(1)} s (load ${load()})`,
    );
    console.log(`  feedback store: ${JSON.stringify(result.footprint)}`);
    lines.push(
      `| RSS after ${WARM.toLocaleString("en")} → after ${(WARM + PREDICTIONS).toLocaleString("en")} predictions | ${result.before.toFixed(1)} → ${result.after.toFixed(1)} MiB | |`,
    );
    lines.push(`| RSS growth | ${growth.toFixed(1)} MiB | < 20 MB |`);
    lines.push(
      `| heap used (after a full GC) | ${result.heapBefore.toFixed(1)} → ${result.heapAfter.toFixed(1)} MiB | |`,
    );
    lines.push(
      `| window rows / predictions kept for feedback / feedback joined | ${result.windowRows} / ${result.kept} / ${result.joined} | bounded |`,
    );
  }
  if (!flag("skip-drift")) {
    console.log(
      `mlops drift on ${DRIFT_ROWS} current rows, against the stored profile (--model) and ${DRIFT_ROWS} reference rows, ${REPS} runs`,
    );
    const result = await drift();
    for (const [name, { wall, cpu }] of Object.entries(result.cases)) {
      const target = name.startsWith("--model") ? "< 1 s" : "";
      lines.push(`| mlops drift ${name}, wall (process) | ${spread(wall, 2)} s | ${target} |`);
      if (cpu.length > 0)
        lines.push(`| mlops drift ${name}, CPU (process) | ${spread(cpu, 2)} s | |`);
    }
    lines.push(
      `| driftReport(profile, frame), in memory, wall | ${spread(result.memory, 3)} s | |`,
    );
    lines.push(
      `| driftReport(profile, frame), in memory, CPU | ${spread(result.memoryCpu, 3)} s | |`,
    );
  }
  lines.push("", `load at the end: ${load()}`);
  console.log(lines.join("\n"));
  writeFileSync(join(OUT, "results.md"), `${lines.join("\n")}\n`);
}

if (process.argv.includes("--child-server")) {
  await childServer(process.argv[process.argv.indexOf("--child-server") + 1] === "on");
} else if (process.argv.includes("--child-memory")) {
  await childMemory();
} else {
  await main();
}
