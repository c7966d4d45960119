// Bike rentals, from the command line: train with mlops-train, gate with mlops gate, serve with
// mlops-serve — the three CLIs a new user runs, one after the other, as child processes on real
// files and real HTTP. What one tool hands to the next needs no hand work: the metric names the
// gate reads, the hold-out set registered with the model, a served contract as wide as the model.
//
//   node main.mjs          # work in ./.out (the registry is ./.out/.mlops), print what happens
//   node main.mjs --test   # quiet, in a temporary folder, asserting every step
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const testing = process.argv.includes("--test");
const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const bin = (pkg, name) => join(dirname(require.resolve(`${pkg}/package.json`)), "bin", name);
const MLOPS = bin("@mlops/core", "mlops.js");
const MLOPS_TRAIN = bin("@mlops/train", "mlops-train.js");
const MLOPS_SERVE = bin("@mlops/serve", "mlops-serve.js");
const log = (text) => {
  if (!testing) process.stdout.write(`${text}\n`);
};

const work = testing ? await mkdtemp(join(tmpdir(), "mlops-bike-")) : join(here, ".out");
await mkdir(work, { recursive: true });
await rm(join(work, ".mlops"), { recursive: true, force: true });
await copyFile(join(here, "data", "day.csv"), join(work, "day.csv"));
const env = { PATH: process.env.PATH ?? "", MLOPS_REGISTRY: join(work, ".mlops") };

/** Runs a CLI to completion, as a shell would: its exit code and output. */
function run(binary, args) {
  const result = spawnSync(process.execPath, [binary, ...args], {
    cwd: work,
    env,
    encoding: "utf8",
    timeout: 300_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Runs a CLI that prints one JSON document, and returns it (failing loudly on a wrong exit). */
function runJson(binary, args, expectedCode = 0) {
  const result = run(binary, [...args, "--json"]);
  assert.equal(result.code, expectedCode, `${args.join(" ")}\n${result.stderr}`);
  return JSON.parse(result.stdout);
}

const TRAIN = [
  "--data",
  "day.csv",
  "--target",
  "cnt",
  // casual + registered = cnt: leaving them in would leak the answer.
  "--drop",
  "instant,dteday,casual,registered",
  "--cv",
  "5",
  "--seed",
  "7",
];
const RULES = [
  "--threshold",
  "rmse:maxRelativeRegression=0.05",
  "--threshold",
  "r2:minAbsoluteChange=0",
];

try {
  // 1. Train a tree; its hold-out set (20 % of the days) is registered with it.
  const first = runJson(MLOPS_TRAIN, [
    ...TRAIN,
    "--trials",
    "20",
    "--register",
    "bikes",
    "--alias",
    "staging",
    "--save-holdout",
    "holdout.csv",
  ]);
  log(
    `1. mlops-train: bikes v${first.registered.version}, hold-out rmse ` +
      `${first.holdout.metrics.rmse.toFixed(1)} rentals on ${first.holdout.rows} days ` +
      `(written to holdout.csv, registered as ${first.datasets[0].source})`,
  );
  assert.deepEqual(
    first.datasets.map((dataset) => [dataset.name, dataset.context, dataset.rows]),
    [
      ["holdout", "evaluation", first.holdout.rows],
      ["training", "training", first.search.trainRows],
    ],
  );

  // 2. Gate it with no --data: scored on its registered hold-out set; the first model passes.
  const gate = runJson(MLOPS, ["gate", "--model", "bikes", ...RULES, "--promote", "production"]);
  assert.equal(gate.evaluationData.source, "registered");
  assert.equal(gate.evaluationData.rows, first.holdout.rows);
  assert.equal(gate.result.candidate.metrics.rmse, first.holdout.metrics.rmse);
  assert.equal(gate.promoted.to, first.registered.version);
  log(`2. mlops gate: ${gate.result.verdict} on the registered hold-out set; @production → v1`);

  // 3. A forest, the same split (same seed): gated against v1 on the same registered rows.
  const second = runJson(MLOPS_TRAIN, [
    ...TRAIN,
    "--model",
    "forest",
    "--trials",
    "4",
    "--register",
    "bikes",
    "--alias",
    "staging",
  ]);
  const rematch = run(MLOPS, ["gate", "--model", "bikes", ...RULES, "--promote", "production"]);
  assert.ok(rematch.code === 0 || rematch.code === 1, rematch.stderr);
  assert.match(
    rematch.stdout,
    /^Evaluation data: the "holdout" dataset registered with bikes v2 /m,
  );
  assert.match(rematch.stdout, /Note: Both models were scored on the same \d+ rows/);
  assert.doesNotMatch(rematch.stdout, /Warning:/);
  log(
    `3. mlops gate: forest v${second.registered.version} vs tree v1 on the same hold-out rows: ` +
      `${rematch.code === 0 ? "pass" : "fail"} (exit ${rematch.code})`,
  );

  // 4. A new user's evaluation file, `tail -n 120 day.csv`: the gate says it overlaps training.
  const lines = (await readFile(join(work, "day.csv"), "utf8")).trimEnd().split("\n");
  await writeFile(join(work, "recent.csv"), `${[lines[0], ...lines.slice(-120)].join("\n")}\n`);
  const tail = run(MLOPS, ["gate", "--model", "bikes", "--data", "recent.csv", ...RULES]);
  const warning =
    /^Warning: (\d+) of 120 evaluation rows .* were part of the candidate's training data/m.exec(
      tail.stdout,
    );
  assert.ok(warning, tail.stdout);
  assert.ok(Number(warning[1]) > 60, warning[0]);
  log(`4. mlops gate --data recent.csv: "${warning[0].slice(9)}"`);

  // 5. Serve @production and ask it the way clients do.
  const server = spawn(
    process.execPath,
    [MLOPS_SERVE, "--model", "bikes@production", "--port", "0", "--max-body", "64kb"],
    { cwd: work, env },
  );
  try {
    let output = "";
    const url = await new Promise((resolve, reject) => {
      server.stdout.on("data", (chunk) => {
        output += chunk;
        const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
        if (match) resolve(match[1]);
      });
      server.on("exit", (code) => reject(new Error(`mlops-serve exited ${code}: ${output}`)));
    });
    const post = async (path, body, type = "application/json") => {
      const response = await fetch(`${url}${path}`, {
        method: "POST",
        headers: { "content-type": type },
        body: typeof body === "string" ? body : JSON.stringify(body),
      });
      return { status: response.status, body: await response.json() };
    };
    const day = {
      season: 3,
      yr: 1,
      mnth: 7,
      holiday: 0,
      weekday: 2,
      workingday: 1,
      weathersit: 1,
      temp: 0.75,
      atemp: 0.7,
      hum: 0.6,
      windspeed: 0.15,
    };
    // What the client has: its own id, the day's count not known yet, a humidity gap, and a
    // weather code 2.5 (the CSV had whole numbers; the tree takes any number).
    const request = { ...day, id: "2012-07-10", cnt: "n/a", hum: null, weathersit: 2.5 };
    const named = await post("/v1/models/bikes/predict", request);
    assert.equal(named.status, 200, JSON.stringify(named.body));
    assert.ok(named.body.predictions[0] > 0);
    const split = await post("/invocations", {
      dataframe_split: {
        columns: [...Object.keys(day), "id"],
        data: [[...Object.values(day), 17]],
      },
    });
    assert.equal(split.status, 200, JSON.stringify(split.body));
    // A year of days as one CSV is over --max-body: the answer says what to do.
    const csv = await readFile(join(work, "day.csv"), "utf8");
    const big = await post("/invocations", csv.repeat(2), "text/csv");
    assert.equal(big.status, 413);
    assert.match(big.body.error.message, /mlops-serve --max-body 8mb.*mlops-predict/);
    log(
      `5. mlops-serve: ${named.body.predictions[0].toFixed(0)} rentals predicted for a request ` +
        "with an id, no count, a humidity gap and weathersit 2.5; a big CSV gets 413 with a hint",
    );
  } finally {
    server.kill("SIGTERM");
  }
  if (testing) console.log("bike-sharing: ok (train → gate → serve through the CLIs)");
} finally {
  if (testing) await rm(work, { recursive: true, force: true });
}
