// The retraining side of seed 002 (its Airflow DAG, called by a Grafana alert): a webhook
// receiver on 127.0.0.1 that takes the server's alert and runs the retrain —
// `mlops-train` on the fresh labelled data (a real child process), registered as
// `house@retrained` — then the gate against @production on the evaluation data, which moves
// @production on a pass. The server follows @production and hot-reloads.
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { formatGateTable, runGate } from "@mlops/core";
import { TARGET } from "./features.mjs";

const require = createRequire(import.meta.url);
const trainBin = join(
  dirname(require.resolve("@mlops/train/package.json")),
  "bin",
  "mlops-train.js",
);

/** Runs `mlops-train` and resolves with its `--json` summary (rejects with its stderr). */
export function mlopsTrain(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [trainBin, ...args, "--json"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (text) => (stdout += text));
    child.stderr.setEncoding("utf8").on("data", (text) => (stderr += text));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolve(JSON.parse(stdout));
      else reject(new Error(`mlops-train exited ${code}:\n${stderr}`));
    });
  });
}

/** The `mlops-train` options every model of this example is trained with. */
export function trainArgs({ data, model, alias, registryPath, schemaPath }) {
  return [
    "--data",
    data,
    "--schema",
    schemaPath,
    "--target",
    TARGET,
    "--model",
    model,
    "--trials",
    "8",
    "--cv",
    "3",
    "--seed",
    "2",
    "--jobs",
    "1",
    "--register",
    "house",
    "--alias",
    alias,
    "--registry",
    registryPath,
  ];
}

/**
 * The retrain the alert starts: fit the production model's kind (linear) on `freshCsv`,
 * register it as @retrained, gate it against @production on `evaluation` (both models on the
 * same rows: no worse in rmse), and promote it to @production on a pass.
 */
export async function retrain({ registry, registryPath, schemaPath, freshCsv, evaluation, alert }) {
  const trained = await mlopsTrain(
    trainArgs({ data: freshCsv, model: "linear", alias: "retrained", registryPath, schemaPath }),
  );
  const gate = await runGate(registry, {
    model: "house",
    candidate: "@retrained",
    baseline: "@production",
    data: evaluation,
    rules: ["rmse:maxRelativeRegression=0"],
    promote: "production",
    reason: `alert: ${alert.rule} on house v${alert.version} (${alert.variant ?? "house"}) = ${alert.value}`,
  });
  return { trained, gate, table: formatGateTable(gate.result) };
}

/**
 * Starts the receiver. Every notification is kept (`notifications`); the first firing alert
 * for `house` starts `onAlert` (the retrain), later ones while it runs or after it are
 * acknowledged and left alone — one retrain per episode. `retrained` resolves with its result.
 */
export async function startReceiver({ onAlert }) {
  const notifications = [];
  let resolveRetrained;
  let rejectRetrained;
  const retrained = new Promise((resolve, reject) => {
    resolveRetrained = resolve;
    rejectRetrained = reject;
  });
  let started = false;
  const server = createServer((request, response) => {
    const chunks = [];
    request.on("data", (chunk) => chunks.push(chunk));
    request.on("end", () => {
      let alert;
      try {
        alert = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        response.writeHead(400).end();
        return;
      }
      notifications.push(alert);
      // Answered at once: the sender retries what is not acknowledged, and a retrain is long.
      response.writeHead(202, { "content-type": "application/json" });
      response.end(JSON.stringify({ accepted: true, retraining: !started }));
      if (alert.status === "firing" && alert.model === "house" && !started) {
        started = true;
        onAlert(alert).then(resolveRetrained, rejectRetrained);
      }
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/alerts`,
    notifications,
    retrained,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
