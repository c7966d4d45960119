// Seed 002's service on @mlops/serve: `POST /model/predict` → `{"median_house_value": int}` and
// `GET /health/heartbeat`, next to the standard routes (/v1, /v2, /invocations, /metrics).
// One served name, `house`, is split between the linear model at @production (90 %) and the
// tree at @candidate (10 %) — what seed 002 runs as two services behind nginx — sticky by the
// client's `x-client-id`; each variant follows its alias (hot reload) and is monitored on its own.
//
//   node server.mjs   # after `node main.mjs`: the registry ./.mlops, port 8002
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { openExistingRegistry } from "@mlops/core";
import { createInferenceApp, predictRoute, serve } from "@mlops/serve";
import { FEATURES } from "./features.mjs";

/** The served name, and how its traffic is split. */
export const HOUSE = {
  name: "house",
  variants: [
    { reference: "house@production", weight: 90 },
    { reference: "house@candidate", weight: 10 },
  ],
  stickyKey: { header: "x-client-id" },
};

/** Seed 002's prediction route: the eight fields in, the value in whole dollars out. */
export const seedRoute = predictRoute({
  model: "house",
  path: "/model/predict",
  mapRequest: (body) => body,
  mapResponse: ([value]) => ({ median_house_value: Math.round(value) }),
});

/**
 * Starts the service on 127.0.0.1. `monitoring` goes to `createInferenceApp` as it is (drift
 * windows, feedback, alert rules and their webhook); `watchMs` is how often aliases are checked.
 */
export async function startHousingServer({
  registry,
  port = 0,
  monitoring,
  onEvent,
  watchMs = 2000,
}) {
  const app = createInferenceApp({
    registry,
    models: [HOUSE],
    routes: [seedRoute],
    monitoring,
    onEvent,
    watch: { intervalMs: watchMs },
  });
  app.hono.get("/health/heartbeat", (c) =>
    c.json({ is_alive: app.models.allReady, features: FEATURES }),
  );
  await app.ready;
  const server = await serve(app, { port, host: "127.0.0.1" });
  return {
    app,
    url: server.url,
    async close() {
      await server.close();
      await app.close();
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const registry = await openExistingRegistry(
    process.env.MLOPS_REGISTRY ?? join(process.cwd(), ".mlops"),
  );
  const server = await startHousingServer({ registry, port: Number(process.env.PORT ?? 8002) });
  console.log(`seed 002's routes at ${server.url}/model/predict and /health/heartbeat`);
}
