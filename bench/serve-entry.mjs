// The seed-000 service on @mlops/serve, for the peers' serving harness (bench_serve.py
// --external): POST /predict with the 30-field body → {"prediction": x}, through
// predictRoute with the whole stack on: schema validation, the native tree predictor,
// Prometheus metrics (process metrics included), limits. Every standard route is served too
// (/v1, /v2 OIP, /invocations, /metrics); the model is served as "delivery".
//
//   node bench/serve-entry.mjs --port 8080 [--tree .bench/serve/tree.json]
//
// The tree is the peer's own: scikit-learn's tree_ arrays exported by serve_export_tree.py
// (bench/serve.mjs does that), so both services answer with the same model. Without that file
// it falls back to our DecisionTreeRegressor(max_depth=8) trained on the example's synthetic
// data. Uses the built packages (dist/).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createArtifact } from "@mlops/core";
import { createInferenceApp, predictRoute, serve } from "@mlops/serve";
import { deliverySchema, FEATURES } from "../examples/delivery-duration/data.mjs";

function option(name, fallback) {
  const index = process.argv.indexOf(`--${name}`);
  return index < 0 ? fallback : process.argv[index + 1];
}

const here = new URL(".", import.meta.url).pathname;
const port = Number(option("port", 8080));
const treeFile = option("tree", join(here, "..", ".bench", "serve", "tree.json"));

async function artifact() {
  if (!existsSync(treeFile)) {
    const { DecisionTreeRegressor } = await import("@mlops/train");
    const { makeDeliveryData } = await import("../examples/delivery-duration/data.mjs");
    const data = makeDeliveryData().select([...FEATURES, "duration_time"]);
    const tree = new DecisionTreeRegressor({ maxDepth: 8, seed: 0 }).fit(data, "duration_time");
    return tree.toArtifact({ schema: deliverySchema });
  }
  const tree = JSON.parse(readFileSync(treeFile, "utf8"));
  if (tree.features.join() !== FEATURES.join()) throw new Error(`${treeFile}: other features`);
  return createArtifact({
    kind: "tree",
    schema: deliverySchema,
    model: { inputs: FEATURES },
    arrays: {
      "tree.left": Int32Array.from(tree.left),
      "tree.right": Int32Array.from(tree.right),
      // scikit-learn marks leaves with feature -2; ours read 0 there (ignored for leaves).
      "tree.feature": Int32Array.from(tree.feature, (f) => Math.max(f, 0)),
      "tree.threshold": Float64Array.from(tree.threshold),
      "tree.value": Float64Array.from(tree.value),
    },
  });
}

const predict = predictRoute({
  model: "delivery",
  path: "/predict",
  // The body is the seed's: 29 features and `id`, which the schema strips.
  mapRequest: (body) => body,
  mapResponse: ([prediction]) => ({ prediction }),
});

const app = createInferenceApp({
  models: [{ name: "delivery", version: 1, artifact: await artifact() }],
  routes: [predict],
});
await app.ready;
await serve(app, { port, host: "127.0.0.1", handleSignals: true });
