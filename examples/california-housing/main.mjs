// Seed 002 (California housing), closed loop, end to end:
//   data → mlops-train: the linear model (@production) and a tree (@candidate) → one server,
//   seed 002's contract, `house` split 90/10 between them → a normal day of requests and their
//   true values (feedback): no alert → a drifted batch (incomes 30 % higher) → the drift alert
//   fires and posts to the webhook receiver → it retrains with mlops-train on the fresh data →
//   the gate compares with @production on the same evaluation rows → @production moves → the
//   server hot-reloads, and the same batch is answered by the new version.
//
//   node main.mjs            # registry ./.mlops and ./work (kept), then exits
//   node main.mjs --test     # what the tests run: temporary folders, every step asserted
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { openRegistry, writeFrame } from "@mlops/core";
import {
  housingSchema,
  readHousing,
  requestBody,
  shiftIncomes,
  splitHousing,
  TARGET,
} from "./features.mjs";
import { mlopsTrain, retrain, startReceiver, trainArgs } from "./receiver.mjs";
import { startHousingServer } from "./server.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const testing = process.argv.includes("--test");
const log = (...parts) => console.log(...parts);
/** Incomes (and house values with them) this much higher: the world after the shift. */
const SHIFT = 1.3;
/** The drift rule: seed 002 alerts on feature means; here the income's drift statistic. */
const RULE = 'feature_drift{feature="median_income_in_block"} >= 0.1';

// 0. Where things go: temporary folders for the tests, else ./work and the registry ./.mlops.
const temporary = testing ? await mkdtemp(join(tmpdir(), "mlops-housing-")) : undefined;
const work = temporary ? join(temporary, "work") : join(here, "work");
const registryPath = temporary
  ? join(temporary, ".mlops")
  : (process.env.MLOPS_REGISTRY ?? join(process.env.INIT_CWD ?? process.cwd(), ".mlops"));
await mkdir(work, { recursive: true });

const closers = [];
try {
  await run();
} finally {
  for (const close of closers.reverse()) await close();
  if (temporary) await rm(temporary, { recursive: true, force: true });
}

async function run() {
  // 1. Seed 002's fields from the census file, split by row: train, live, fresh, evaluation.
  const { frame, dropped } = await readHousing(join(here, "data", "housing.csv"));
  const parts = splitHousing(frame);
  log(
    `Data: ${frame.rowCount} block groups (${dropped} without total_bedrooms dropped): ` +
      Object.entries(parts)
        .map(([name, part]) => `${part.rowCount} ${name}`)
        .join(", "),
  );
  const trainCsv = join(work, "train.csv");
  const freshCsv = join(work, "fresh.csv");
  await writeFrame(trainCsv, parts.train);
  // What arrives after the shift, with its true values: the retrain's data and the gate's.
  await writeFrame(freshCsv, shiftIncomes(parts.fresh, SHIFT));
  const evaluation = shiftIncomes(parts.evaluation, SHIFT);
  // Seed 002's contract, given to mlops-train: every model validates requests by it.
  const schemaPath = join(work, "schema.json");
  await writeFile(schemaPath, JSON.stringify(housingSchema.toJSON(), null, 2));

  // 2. Seed 002's two models, trained and registered by mlops-train (real child processes).
  const linear = await mlopsTrain(
    trainArgs({ data: trainCsv, model: "linear", alias: "production", registryPath, schemaPath }),
  );
  const tree = await mlopsTrain(
    trainArgs({ data: trainCsv, model: "tree", alias: "candidate", registryPath, schemaPath }),
  );
  for (const [name, summary] of [
    ["linear", linear],
    ["tree", tree],
  ]) {
    log(
      `mlops-train ${name}: house v${summary.registered.version} @${summary.registered.aliases.join(" @")}, ` +
        `hold-out rmse ${Math.round(summary.holdout.metrics.rmse)}`,
    );
  }
  const registry = await openRegistry(registryPath);
  closers.push(() => registry.close?.());

  // 3. The receiver the alert posts to; it runs the retrain and the gate.
  const receiver = await startReceiver({
    onAlert: (alert) => {
      log(`\nAlert ${alert.status}: ${alert.rule} on house v${alert.version} = ${alert.value}`);
      return retrain({ registry, registryPath, schemaPath, freshCsv, evaluation, alert });
    },
  });
  closers.push(() => receiver.close());

  // 4. The service: seed 002's routes, `house` split 90/10, monitored, the drift rule posting
  //    to the receiver.
  const events = [];
  const server = await startHousingServer({
    registry,
    watchMs: 100,
    onEvent: (event) => events.push(event),
    monitoring: {
      window: { rows: parts.live.rowCount },
      alerts: { rules: [RULE], webhook: { url: receiver.url }, intervalMs: 0 },
    },
  });
  closers.push(() => server.close());
  const { app } = server;
  log(`\nServing ${server.url}: house = house@production (90 %) + house@candidate (10 %)`);

  const heartbeat = await fetch(`${server.url}/health/heartbeat`);
  assert.equal(heartbeat.status, 200);
  assert.equal((await heartbeat.json()).is_alive, true);
  const bad = await post(server.url, { ...requestBody(parts.live, 0), block_latitude: "north" });
  assert.equal(bad.status, 422);

  // 5. A normal day: every live block asked once by one of 300 clients, the true values sent
  //    back as feedback. Nothing drifts, nothing fires.
  const day = await askAll(server.url, parts.live, "day1");
  report("Normal day", day);
  await sendFeedback(server.url, day);
  await app.monitoring.evaluateAlerts();
  assert.equal(receiver.notifications.length, 0, "no alert on a normal day");

  // 6. The drifted batch: the same blocks with incomes 30 % higher (and their values with them).
  const drifted = shiftIncomes(parts.live, SHIFT);
  const before = await askAll(server.url, drifted, "day2");
  report("Drifted batch", before);
  await sendFeedback(server.url, before);
  await app.monitoring.evaluateAlerts();
  assert.ok(
    receiver.notifications.some((alert) => alert.status === "firing" && alert.rule === RULE),
    "the drift alert fired",
  );

  // What the alert saw, per variant: the income drifted, the others did not; the feedback
  // gives each variant its online error.
  const monitored = await (
    await fetch(`${server.url}/v1/models/house/monitoring?variant=house%40production`)
  ).json();
  const income = monitored.features.median_income_in_block;
  assert.equal(income.drifted, true);
  assert.equal(monitored.features.median_house_age_in_block.drifted, false);
  assert.ok(monitored.online.count > 0);
  log(
    `Monitoring of ${monitored.model.variant} v${monitored.model.version}: income drift ` +
      `${income.method} ${income.statistic.toFixed(3)} (p ${income.pValue.toExponential(1)}), ` +
      `online rmse ${Math.round(monitored.online.rmse)} over ${monitored.online.count} feedback`,
  );

  // 7. The receiver retrains and gates; the server follows @production.
  const outcome = await receiver.retrained;
  const promoted = String(outcome.trained.registered.version);
  log(
    `mlops-train linear on ${outcome.trained.data.rows} fresh rows: house v${promoted} @retrained`,
  );
  log(outcome.table);
  assert.equal(outcome.gate.result.passed, true, "the retrained model passes the gate");
  await waitFor(
    () =>
      events.some(
        (event) =>
          event.type === "model_loaded" &&
          event.variant === "house@production" &&
          event.version === promoted,
      ),
    "the server to hot-reload @production",
  );
  log(`@production → v${promoted}; the server reloaded it`);

  // 8. The same batch again: production's share is answered by the new version, better.
  const after = await askAll(server.url, drifted, "day3");
  report("After the retrain", after);
  const production = after.filter((answer) => answer.variant === "house@production");
  assert.ok(production.every((answer) => answer.version === promoted));
  const rmse = (answers) =>
    Math.sqrt(answers.reduce((sum, a) => sum + (a.value - a.actual) ** 2, 0) / answers.length);
  const old = before.filter((answer) => answer.variant === "house@production");
  assert.ok(rmse(production) < rmse(old), "the new version is closer to the true values");
}

/** POSTs seed 002's body to `/model/predict`. */
function post(url, body, headers = {}) {
  return fetch(`${url}/model/predict`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

/**
 * Asks for every row of `frame` (8 at a time), as client `client-{i mod 300}`, with request id
 * `{tag}-{i}`; returns what answered each one and the true value.
 */
async function askAll(url, frame, tag) {
  const answers = [];
  const actual = frame.numeric(TARGET);
  for (let start = 0; start < frame.rowCount; start += 8) {
    const batch = [];
    for (let i = start; i < Math.min(start + 8, frame.rowCount); i++) {
      batch.push(
        (async () => {
          const id = `${tag}-${i}`;
          const response = await post(url, requestBody(frame, i), {
            "x-client-id": `client-${i % 300}`,
            "x-request-id": id,
          });
          assert.equal(response.status, 200);
          const body = await response.json();
          assert.ok(Number.isInteger(body.median_house_value), "seed 002 answers whole dollars");
          answers.push({
            id,
            value: body.median_house_value,
            actual: actual[i],
            variant: response.headers.get("x-model-variant"),
            version: response.headers.get("x-model-version"),
          });
        })(),
      );
    }
    await Promise.all(batch);
  }
  return answers;
}

/** The true values, as `POST /v1/feedback` batches of 200. */
async function sendFeedback(url, answers) {
  for (let start = 0; start < answers.length; start += 200) {
    const response = await fetch(`${url}/v1/feedback`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(
        answers.slice(start, start + 200).map(({ id, actual }) => ({ id, actual })),
      ),
    });
    assert.equal(response.status, 200, await response.text());
  }
}

/** Requests per variant and version, and the rmse of what each answered. */
function report(title, answers) {
  const groups = new Map();
  for (const answer of answers) {
    const key = `${answer.variant} v${answer.version}`;
    groups.set(key, [...(groups.get(key) ?? []), answer]);
  }
  log(`${title}: ${answers.length} requests`);
  for (const [key, group] of groups) {
    const rmse = Math.sqrt(
      group.reduce((sum, a) => sum + (a.value - a.actual) ** 2, 0) / group.length,
    );
    log(
      `  ${key.padEnd(24)} ${String(group.length).padStart(5)} answered, rmse ${Math.round(rmse)}`,
    );
  }
}

/** Waits for `condition` (checked every 10 ms); fails after a minute. */
async function waitFor(condition, what) {
  const deadline = Date.now() + 60_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
