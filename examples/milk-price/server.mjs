// The seed's two routes on @mlops/serve, next to its standard ones (/v1, /v2, /invocations):
//   GET  /api/v1/get_prediction?year=2014&month=10   the batch job's prediction for a month
//   POST /api/v1/get_online_prediction              {"data": {column: [three monthly values]}}
//
//   node server.mjs   # after `node main.mjs`: ./.mlops and ./work/batch_predictions, port 8090
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { openExistingRegistry, readFrame } from "@mlops/core";
import { createInferenceApp, predictRoute, restErrorBody, ServeError, serve } from "@mlops/serve";
import { onlineFeatures, readRaw } from "./features.mjs";

/**
 * Starts the server: `milk-price@production` from `registry` (followed as the alias moves),
 * `predictionsFile` (mlops-predict's output: Periodo, preds) behind the GET route, and the
 * dotted-number references of `raw` for the online route's Banco Central values.
 */
export async function startMilkServer({ registry, predictionsFile, raw, port = 0 }) {
  const predictions = await readFrame(predictionsFile);
  const byPeriod = new Map();
  const preds = predictions.numeric("preds");
  for (let i = 0; i < predictions.rowCount; i++)
    byPeriod.set(predictions.get(i, "Periodo"), preds[i]);

  const online = predictRoute({
    model: "milk-price",
    path: "/api/v1/get_online_prediction",
    // The seed's body: three consecutive months of every series; the features of the last one.
    mapRequest: (body) => {
      if (
        typeof body !== "object" ||
        body === null ||
        typeof body.data !== "object" ||
        body.data === null
      ) {
        throw new ServeError(
          "invalid_request",
          'expected {"data": {column: [three monthly values]}}',
        );
      }
      try {
        return onlineFeatures(body.data, raw.reference);
      } catch (error) {
        throw new ServeError("invalid_request", error.message);
      }
    },
    mapResponse: ([prediction]) => ({ prediction }),
  });
  const app = createInferenceApp({ registry, models: ["milk-price@production"], routes: [online] });
  app.hono.get("/api/v1/get_prediction", (c) => {
    const year = c.req.query("year") ?? "";
    const month = c.req.query("month") ?? "";
    if (!/^\d{4}$/.test(year) || !/^(1[0-2]|[1-9])$/.test(month)) {
      const error = new ServeError("invalid_request", "expected ?year=YYYY&month=1..12");
      return c.body(restErrorBody(error), 400, { "content-type": "application/json" });
    }
    const prediction = byPeriod.get(`${year}-${month}`);
    if (prediction === undefined) {
      const error = new ServeError("route_not_found", `no batch prediction for ${year}-${month}`);
      return c.body(restErrorBody(error), 404, { "content-type": "application/json" });
    }
    return c.json({ prediction });
  });
  await app.ready;
  const server = await serve(app, { port, host: "127.0.0.1" });
  return {
    url: server.url,
    async close() {
      await server.close();
      await app.close();
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const here = fileURLToPath(new URL(".", import.meta.url));
  const registry = await openExistingRegistry(
    process.env.MLOPS_REGISTRY ?? join(process.cwd(), ".mlops"),
  );
  const raw = await readRaw(join(here, "data", "raw"));
  const server = await startMilkServer({
    registry,
    raw,
    predictionsFile: join(here, "work", "batch_predictions", "features.csv"),
    port: Number(process.env.PORT ?? 8090),
  });
  console.log(
    `milk-price routes at ${server.url}/api/v1/get_prediction and /api/v1/get_online_prediction`,
  );
}
