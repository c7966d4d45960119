// Two mlops-serve replicas behind nginx (least_conn, as seed 002 runs them), one PostgreSQL
// registry. While clients send predictions through nginx, @production moves from version 1 to
// version 2: each replica hears the move over LISTEN/NOTIFY and reloads. The run checks that no
// request failed and that both replicas switched, waiting on their reload lines, not on time.
//
//   node main.mjs          uses $MLOPS_REGISTRY (a postgres:// URL), else a throwaway cluster
//   node main.mjs --test   always a throwaway cluster (CI)
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createArtifact, field, openRegistry, schema } from "@mlops/core";
import { startPostgresCluster } from "@mlops/postgres/testing";

const testing = process.argv.includes("--test");
const require = createRequire(import.meta.url);
const serveBin = join(
  dirname(require.resolve("@mlops/serve/package.json")),
  "bin",
  "mlops-serve.js",
);
const NGINX = process.env.NGINX ?? "/usr/sbin/nginx";

const cleanups = [];
const cleanup = async () => {
  for (const step of cleanups.reverse()) await step().catch(() => {});
};
process.on("SIGINT", () => cleanup().finally(() => process.exit(130)));

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** A child whose output lines can be awaited: `until(/reloaded/)`. */
function start(command, args, env) {
  const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"] });
  const lines = [];
  const waiters = [];
  const onLine = (line) => {
    lines.push(line);
    for (const waiter of [...waiters]) {
      if (waiter.pattern.test(line)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  };
  for (const stream of [child.stdout, child.stderr]) {
    let buffer = "";
    stream.setEncoding("utf8");
    stream.on("data", (chunk) => {
      buffer += chunk;
      const parts = buffer.split("\n");
      buffer = parts.pop();
      for (const line of parts) onLine(line);
    });
  }
  const exited = once(child, "exit");
  const until = (pattern) =>
    new Promise((resolve, reject) => {
      const found = lines.find((line) => pattern.test(line));
      if (found) return resolve(found);
      waiters.push({ pattern, resolve });
      exited.then(([code]) =>
        reject(new Error(`${command} exited (${code}) before ${pattern}:\n${lines.join("\n")}`)),
      );
    });
  return { child, lines, until, exited };
}

// 1. The registry: two versions of a linear model, @production on version 1.
let url = testing ? undefined : process.env.MLOPS_REGISTRY;
if (!url?.startsWith("postgres")) {
  const cluster = await startPostgresCluster();
  cleanups.push(() => cluster.stop());
  url = cluster.url;
}
try {
  const houses = schema(
    { rooms: field.integer({ min: 1 }), area: field.number({ min: 0 }), price: field.number() },
    { target: "price" },
  );
  const linear = (intercept) =>
    createArtifact({
      kind: "linear",
      schema: houses,
      model: { inputs: ["rooms", "area"], intercept },
      arrays: { coefficients: Float64Array.of(100, 2) },
    });
  const registry = await openRegistry(url);
  cleanups.push(() => registry.close());
  const first = await registry.registerModel("houses", linear(50), { aliases: ["production"] });
  const second = await registry.registerModel("houses", linear(60));

  // 2. Two replicas on the same registry, each on its own port.
  const env = { PATH: process.env.PATH ?? "", MLOPS_REGISTRY: url };
  const replicas = [];
  for (let index = 0; index < 2; index += 1) {
    // Polling every 10 minutes: a reload within the run can only come from LISTEN/NOTIFY.
    const replica = start(
      process.execPath,
      [serveBin, "--model", "houses@production", "--port", "0", "--watch-interval", "600000"],
      env,
    );
    cleanups.push(async () => {
      replica.child.kill("SIGTERM");
      await replica.exited;
    });
    const line = await replica.until(/^mlops-serve listening on /);
    replica.url = line.slice("mlops-serve listening on ".length).trim();
    replicas.push(replica);
  }

  // 3. nginx in front, least_conn over both (its own prefix: config, logs, temp files).
  const prefix = await mkdtemp(join(tmpdir(), "mlops-nginx-"));
  cleanups.push(() => rm(prefix, { recursive: true, force: true }));
  const nginxPort = await freePort();
  const upstreams = replicas
    .map((replica) => `    server ${new URL(replica.url).host};`)
    .join("\n");
  await writeFile(
    join(prefix, "nginx.conf"),
    `worker_processes 1;
error_log ${prefix}/error.log warn;
pid ${prefix}/nginx.pid;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${prefix}/body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  upstream replicas {
    least_conn;
${upstreams}
    keepalive 16;
  }
  server {
    listen 127.0.0.1:${nginxPort};
    location / {
      proxy_pass http://replicas;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`,
  );
  const nginx = start(
    NGINX,
    ["-p", prefix, "-c", join(prefix, "nginx.conf"), "-g", "daemon off;"],
    env,
  );
  cleanups.push(async () => {
    nginx.child.kill("SIGQUIT");
    await nginx.exited;
  });
  const front = `http://127.0.0.1:${nginxPort}`;
  for (;;) {
    // nginx is up once it answers; a refused connection means it is still starting.
    const ready = await fetch(`${front}/v2/health/ready`).then(
      (response) => response.status === 200,
      () => false,
    );
    if (ready) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }

  // 4. Load through nginx while @production moves; stop once both replicas reloaded and a
  //    further batch of requests was answered by version 2.
  const outcomes = { ok: 0, failed: [], versions: new Map() };
  let stop = false;
  const body = JSON.stringify({ rooms: 3, area: 120 });
  const client = async () => {
    while (!stop) {
      try {
        const response = await fetch(`${front}/v1/models/houses/predict`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
        });
        const answer = await response.json();
        if (response.status !== 200) {
          outcomes.failed.push(`${response.status} ${JSON.stringify(answer)}`);
          continue;
        }
        outcomes.ok += 1;
        const version = answer.model.version;
        outcomes.versions.set(version, (outcomes.versions.get(version) ?? 0) + 1);
      } catch (error) {
        outcomes.failed.push(String(error));
      }
    }
  };
  const clients = Array.from({ length: 8 }, client);
  // Some answers from version 1 first, so the move happens under load.
  while ((outcomes.versions.get(String(first.version)) ?? 0) < 50 && outcomes.failed.length === 0) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const movedAt = performance.now();
  await registry.setAlias("houses", "production", second.version, { reason: "replica example" });
  const reloaded = await Promise.all(
    replicas.map((replica) => replica.until(/^reloaded houses: version 1 → 2$/)),
  );
  const switchMs = performance.now() - movedAt;
  const afterSwitch = outcomes.ok;
  while (outcomes.ok < afterSwitch + 200 && outcomes.failed.length === 0) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  stop = true;
  await Promise.all(clients);

  // 5. Each replica, asked directly, serves version 2.
  for (const replica of replicas) {
    const models = await (await fetch(`${replica.url}/v1/models`)).json();
    const served = JSON.stringify(models);
    if (!served.includes('"version":"2"')) throw new Error(`${replica.url} still serves ${served}`);
  }
  if (outcomes.failed.length > 0) {
    throw new Error(`${outcomes.failed.length} requests failed, first: ${outcomes.failed[0]}`);
  }
  if (reloaded.length !== 2 || !outcomes.versions.get("2")) {
    throw new Error(`not every replica switched: ${JSON.stringify([...outcomes.versions])}`);
  }
  const counts = [...outcomes.versions]
    .map(([version, count]) => `v${version}: ${count}`)
    .join(", ");
  console.log(
    `replicas: ok (${outcomes.ok} requests through nginx, 0 failed; ${counts}; ` +
      `both replicas reloaded ${Math.round(switchMs)} ms after the move)`,
  );
} finally {
  await cleanup();
}
