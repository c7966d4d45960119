// Seed 000's service, end to end with @mlops: generate the (synthetic) food-delivery data →
// train a regression tree → import seed 000's kind of model, an XGBoost regressor trained on the
// same rows by python3-xgboost (xgboost/) → register both, XGBoost as delivery@production →
// serve it with the seed's own contract (POST /api/predict/delivery/duration →
// {"duration_time": …}) and every standard route → answer the seed's request.
//
//   node main.mjs                  # registry ./.mlops here, a free port, then exit
//   node main.mjs --keep-serving --port 8080    # ... and keep serving until Ctrl-C
//   node main.mjs --test           # quick and quiet: temporary registry, asserts the answers
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { computeMetrics, createPredictor, Frame, importXGBoost, openRegistry } from "@mlops/core";
import { createInferenceApp, predictRoute, serve } from "@mlops/serve";
import { DecisionTreeRegressor } from "@mlops/train";
import { deliverySchema, FEATURES, makeDeliveryData } from "./data.mjs";

const args = process.argv.slice(2);
const testing = args.includes("--test");
const keepServing = args.includes("--keep-serving");
const portIndex = args.indexOf("--port");
const port = portIndex < 0 ? 0 : Number(args[portIndex + 1]);
const log = (...parts) => {
  if (!testing) console.log(...parts);
};
const here = new URL(".", import.meta.url).pathname;
const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(2)} s`;

// 1. Data: 45,593 synthetic deliveries (seed 2024); the last 20% are held out.
const data = makeDeliveryData();
const cut = Math.floor(data.rowCount * 0.8);
const train = data.slice(0, cut).select([...FEATURES, "duration_time"]);
const holdout = data.slice(cut).select([...FEATURES, "duration_time"]);
log(`1. generated ${data.rowCount} deliveries × ${FEATURES.length} features (${elapsed()})`);

// 2. Train: scikit-learn's DecisionTreeRegressor(max_depth=8, random_state=0), as the seed.
const tree = new DecisionTreeRegressor({ maxDepth: 8, seed: 0 }).fit(train, "duration_time");
const metrics = computeMetrics(holdout.numeric("duration_time"), tree.predict(holdout), [
  "rmse",
  "mae",
  "r2",
]);
log(
  `2. trained a tree (depth ${tree.depth}, ${tree.leafCount} leaves): ` +
    `hold-out rmse ${metrics.rmse.toFixed(3)} min, mae ${metrics.mae.toFixed(3)}, ` +
    `r² ${metrics.r2.toFixed(3)} (${elapsed()})`,
);

// 3. Seed 000's best model is an XGBoost regressor saved as JSON: xgboost/model.json was trained
// by python3-xgboost on the same rows (xgboost/make-model.mjs); import it and score it too.
const xgboost = importXGBoost(await readFile(join(here, "xgboost", "model.json"), "utf8"), {
  schema: deliverySchema,
});
const xgboostMetrics = computeMetrics(
  holdout.numeric("duration_time"),
  createPredictor(xgboost).predict(holdout),
  ["rmse", "mae", "r2"],
);
log(
  `3. imported the XGBoost model (${xgboost.manifest.model.treeCount} trees): hold-out rmse ` +
    `${xgboostMetrics.rmse.toFixed(3)} min, mae ${xgboostMetrics.mae.toFixed(3)}, ` +
    `r² ${xgboostMetrics.r2.toFixed(3)} (${elapsed()})`,
);

// 4. Register both, the tree at @tree and XGBoost at @production.
const registryDir = testing
  ? await mkdtemp(join(tmpdir(), "mlops-delivery-"))
  : join(here, ".mlops");
const registry = await openRegistry(testing ? join(registryDir, ".mlops") : registryDir);
await registry.registerModel("delivery", tree.toArtifact({ metrics, schema: deliverySchema }), {
  aliases: ["tree"],
  reason: "example: a tree trained on synthetic data",
});
const version = await registry.registerModel(
  "delivery",
  importXGBoost(await readFile(join(here, "xgboost", "model.json"), "utf8"), {
    schema: deliverySchema,
    metrics: xgboostMetrics,
  }),
  { aliases: ["production"], reason: "example: seed 000's XGBoost model" },
);
log(`4. registered delivery version ${version.version} (XGBoost) as @production in ${registryDir}`);

// 5. Serve it: the seed's contract as a custom route, next to every standard route.
const duration = predictRoute({
  model: "delivery",
  path: "/api/predict/delivery/duration",
  // The seed's body is the 29 features plus `id`: `id` is not a feature.
  mapRequest: ({ id: _id, ...features }) => features,
  mapResponse: ([minutes]) => ({ duration_time: minutes }),
});
const app = createInferenceApp({
  registry,
  models: ["delivery@production"],
  routes: [duration],
  watch: !testing,
});
await app.ready;
const server = await serve(app, { port, handleSignals: keepServing });
log(`5. serving delivery version ${version.version} at ${server.url} (${elapsed()})`);

// 6. The seed's request.
const request = JSON.parse(await readFile(join(here, "request.json"), "utf8"));
const post = async (path, body) => {
  const response = await fetch(`${server.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
};
const answer = await post("/api/predict/delivery/duration", request);
log(`6. POST /api/predict/delivery/duration → ${answer.status} ${JSON.stringify(answer.body)}`);

// The same row on the standard routes: the same answer everywhere.
const { id: _id, ...features } = request;
const named = await post("/v1/models/delivery/predict", request);
const oip = await post("/v2/models/delivery/infer", {
  inputs: FEATURES.map((name) => ({
    name,
    shape: [1],
    datatype: deliverySchema.fields[name].kind === "integer" ? "INT64" : "FP64",
    data: [features[name]],
  })),
});
const mlflow = await post("/invocations", { dataframe_records: [features] });
const invalid = await post("/api/predict/delivery/duration", { ...request, distance: "far" });
log("   the same row on the standard routes:");
log(`     /v1/models/delivery/predict  ${named.body.predictions[0]}`);
log(`     /v2/models/delivery/infer    ${oip.body.outputs?.[0].data[0]}`);
log(`     /invocations                 ${mlflow.body.predictions[0]}`);
log(`   a bad request → ${invalid.status} ${JSON.stringify(invalid.body.error.issues?.[0])}`);

if (testing) {
  const offline = createPredictor(xgboost).predict(
    new Frame(
      FEATURES.map((name) => [
        name,
        { kind: deliverySchema.fields[name].kind, values: Float64Array.of(features[name]) },
      ]),
    ),
  )[0];
  // What xgboost itself predicted for this request (xgboost/expected.json, to 1e-5 relative).
  const expected = JSON.parse(await readFile(join(here, "xgboost", "expected.json"), "utf8"));
  assert.ok(Math.abs(offline - expected.request) <= 1e-5 * expected.request);
  const first = createPredictor(xgboost).predict(holdout.slice(0, 100));
  expected.holdout.forEach((value, i) => {
    assert.ok(Math.abs(first[i] - value) <= 1e-5 * Math.abs(value), `hold-out row ${i}`);
  });
  assert.ok(Math.abs(xgboostMetrics.rmse - expected.holdoutRmse) < 1e-4);
  assert.equal(answer.status, 200);
  assert.deepEqual(Object.keys(answer.body), ["duration_time"]);
  assert.equal(answer.body.duration_time, offline);
  assert.ok(offline >= 10 && offline <= 54, `a duration in minutes, got ${offline}`);
  assert.equal(named.body.predictions[0], offline);
  assert.equal(named.body.model.version, String(version.version));
  assert.equal(oip.body.outputs[0].data[0], offline);
  assert.equal(mlflow.body.predictions[0], offline);
  assert.equal(invalid.status, 422);
  assert.deepEqual(invalid.body.error.issues[0].path, ["distance"]);
  // The noise alone has sd 3; a depth-8 tree adds its own approximation error.
  assert.ok(metrics.rmse > 3 && metrics.rmse < 5, `hold-out rmse ${metrics.rmse}`);
  assert.ok(xgboostMetrics.rmse < metrics.rmse, "XGBoost beats the tree on the hold-out");
  const ready = await fetch(`${server.url}/v2/health/ready`);
  assert.equal(ready.status, 200);
  console.log(
    `delivery-duration: ok (duration_time ${answer.body.duration_time.toFixed(3)} min, ` +
      `rmse: tree ${metrics.rmse.toFixed(3)}, XGBoost ${xgboostMetrics.rmse.toFixed(3)}, ` +
      `${elapsed()})`,
  );
}

if (keepServing) {
  log(`   serving until Ctrl-C: curl -s ${server.url}/api/predict/delivery/duration \\`);
  log(`     -H 'content-type: application/json' -d @request.json`);
} else {
  await server.close();
  await app.close();
  if (testing) await rm(registryDir, { recursive: true, force: true });
}
