// A/B and shadow: what routing a served name between variants, and mirroring it to a shadow,
// cost single-row serving. One model served plainly, the same name split 90/10 (keyless:
// weighted round robin; sticky: a header hashed per request), and split with a shadow version
// predicting a copy of every request after the answer is written.
//
//   npm run build --workspace @mlops/core && npm run build --workspace @mlops/serve
//   node bench/ab.mjs [--duration 5] [--reps 3] [--conc 16] [--wait 120]
//
// Each rep starts each configuration's server in a fresh process (interleaved: plain, split,
// sticky, shadow, plain, …), gives it 2 s of wrk as warm-up, then measures requests/s with one
// wrk thread and --conc connections, POSTing one seed-000 row to /v1/models/delivery/predict.
// Every figure is the median of the reps with the min–max spread; ratios are against "plain".
// The machine's load is printed before and after. Needs wrk (Debian package).
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  loadLine,
  markdownTable,
  option,
  positiveInteger,
  ROOT,
  spread,
  summary,
  waitForQuiet,
} from "./lib.mjs";

const OUT = join(ROOT, ".bench", "ab");
const CONFIGS = {
  plain: { models: ["delivery@production"] },
  split: { models: ["delivery=delivery@production:90,delivery@candidate:10"] },
  sticky: {
    models: [
      {
        name: "delivery",
        variants: [
          { reference: "delivery@production", weight: 90 },
          { reference: "delivery@candidate", weight: 10 },
        ],
        stickyKey: { header: "x-user-id" },
      },
    ],
  },
  shadow: {
    models: ["delivery=delivery@production:90,delivery@candidate:10,delivery@next:shadow"],
  },
};

if (process.argv.includes("--serve")) await serveChild();
else await main();

/** The child: a registry with three versions of the delivery tree, one configuration served. */
async function serveChild() {
  const { openRegistry } = await import("@mlops/core");
  const { createInferenceApp, serve } = await import("@mlops/serve");
  const { DecisionTreeRegressor } = await import("@mlops/train");
  const { deliverySchema, FEATURES, makeDeliveryData } = await import(
    "../examples/delivery-duration/data.mjs"
  );
  const config = CONFIGS[option("serve")];
  const registryPath = option("registry");
  const registry = await openRegistry(registryPath);
  const registered = await registry.resolve("models:/delivery@next").then(
    () => true,
    () => false,
  );
  if (!registered) {
    const data = makeDeliveryData({ n: 5000 }).select([...FEATURES, "duration_time"]);
    for (const [depth, alias] of [
      [8, "production"],
      [6, "candidate"],
      [10, "next"],
    ]) {
      const tree = new DecisionTreeRegressor({ maxDepth: depth, seed: 0 }).fit(
        data,
        "duration_time",
      );
      await registry.registerModel("delivery", tree.toArtifact({ schema: deliverySchema }), {
        aliases: [alias],
      });
    }
  }
  const app = createInferenceApp({ registry, models: config.models, watch: false });
  await app.ready;
  const server = await serve(app, { port: Number(option("port")) });
  process.stdout.write(`listening ${server.url}\n`);
}

function wrk(url, seconds, connections, script) {
  const result = spawnSync(
    "wrk",
    ["-t1", `-c${connections}`, `-d${seconds}s`, "-s", script, `${url}/v1/models/delivery/predict`],
    { encoding: "utf8" },
  );
  const match = /Requests\/sec:\s+([\d.]+)/.exec(result.stdout);
  const errors = /Non-2xx or 3xx responses: (\d+)/.exec(result.stdout);
  if (match === null || errors !== null)
    throw new Error(`wrk failed:\n${result.stdout}${result.stderr}`);
  return Number(match[1]);
}

async function startServer(name, registryPath, port) {
  const child = spawn(
    process.execPath,
    [
      fileURLToPath(import.meta.url),
      "--serve",
      name,
      "--registry",
      registryPath,
      "--port",
      String(port),
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const url = await new Promise((resolve, reject) => {
    let text = "";
    child.stdout.setEncoding("utf8").on("data", (chunk) => {
      text += chunk;
      const found = /listening (\S+)/.exec(text);
      if (found) resolve(found[1]);
    });
    child.on("exit", (code) => reject(new Error(`server ${name} exited ${code}`)));
  });
  return { url, stop: () => new Promise((done) => child.once("exit", done).kill("SIGKILL")) };
}

async function main() {
  const duration = positiveInteger("duration", 5);
  const reps = positiveInteger("reps", 3);
  const connections = positiveInteger("conc", 16);
  const wait = Number(option("wait", 120));
  mkdirSync(OUT, { recursive: true });
  const { makeDeliveryData, FEATURES } = await import("../examples/delivery-duration/data.mjs");
  const row = makeDeliveryData({ n: 1 }).select(FEATURES).toRows()[0];
  const script = join(OUT, "post.lua");
  writeFileSync(
    script,
    `wrk.method = "POST"\nwrk.headers["content-type"] = "application/json"\n` +
      `local n = 0\nrequest = function()\n  n = n + 1\n` +
      `  return wrk.format(nil, nil, { ["content-type"] = "application/json", ["x-user-id"] = "user-" .. (n % 1000) }, ${JSON.stringify(JSON.stringify(row))})\nend\n`,
  );
  const registryPath = join(OUT, "registry");
  // Registers the three versions once (the first child), so every server loads the same ones.
  (await startServer("plain", registryPath, 18120)).stop();
  await waitForQuiet(wait);
  console.log(await loadLine());
  const results = Object.fromEntries(Object.keys(CONFIGS).map((name) => [name, []]));
  for (let rep = 0; rep < reps; rep++) {
    for (const name of Object.keys(CONFIGS)) {
      const server = await startServer(name, registryPath, 18121);
      try {
        wrk(server.url, 2, connections, script);
        results[name].push(wrk(server.url, duration, connections, script));
      } finally {
        await server.stop();
      }
    }
  }
  console.log(await loadLine());
  const plain = summary(results.plain).median;
  const rows = Object.entries(results).map(([name, values]) => {
    const stats = summary(values);
    return [name, spread(stats, " req/s"), (stats.median / plain).toFixed(2)];
  });
  console.log(markdownTable(["served as", "requests/s (median, min–max)", "× plain"], rows));
  writeFileSync(
    join(OUT, "results.json"),
    JSON.stringify({ results, connections, duration }, null, 2),
  );
}
