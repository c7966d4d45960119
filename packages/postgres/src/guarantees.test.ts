// The guarantees of a PostgreSQL registry, each with real processes and a real server:
// concurrent writers, a writer killed mid-transaction, a connection lost mid-operation,
// credentials kept out of every message, and schemas from the future refused.
import { type ChildProcess, fork, spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { MlopsError, openRegistry } from "@mlops/core";
import { expectMlopsError } from "@mlops/core/testing";
import { ensureBuilt } from "@mlops/test-support";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { SCHEMA_VERSION } from "./migrations.js";
import { openPostgresStore, type PostgresStore } from "./store.js";
import { freshSchemaUrl } from "./testing/index.js";

const packageDir = join(dirname(fileURLToPath(import.meta.url)), "..");
const coreDir = join(packageDir, "..", "core");
const worker = join(packageDir, "test", "store-worker.mjs");

let admin: pg.Client;

beforeAll(async () => {
  // The workers and the CLI run the built packages, as users do.
  ensureBuilt({ packageDir: coreDir, outputs: ["index.js", "cli.js"] }, { packageDir });
  admin = new pg.Client({ connectionString: inject("postgresUrl") });
  await admin.connect();
}, 240_000);

afterAll(async () => {
  await admin?.end();
});

interface WorkerMessage {
  ready?: boolean;
  paused?: string;
  done?: boolean;
  versions?: number[];
  error?: { code: string; message: string };
}

/** Starts a worker and resolves once it has opened the store and waits for "go". */
async function startWorker(task: Record<string, unknown>): Promise<{
  child: ChildProcess;
  exited: Promise<unknown[]>;
  next: (key: keyof WorkerMessage) => Promise<WorkerMessage>;
}> {
  const child = fork(worker, [], {
    cwd: packageDir,
    execArgv: [],
    // A clean environment: vitest's NODE_OPTIONS would point the child at the TypeScript sources.
    env: { PATH: process.env.PATH ?? "", MLOPS_TEST_TASK: JSON.stringify(task) },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  // Listened to from the start: a worker may be gone before the test asks.
  const exited = once(child, "exit");
  const messages: WorkerMessage[] = [];
  const waiters: { key: keyof WorkerMessage; resolve: (message: WorkerMessage) => void }[] = [];
  child.on("message", (message: WorkerMessage) => {
    const waiter = waiters.find((item) => message[item.key] !== undefined || message.error);
    if (!waiter) {
      messages.push(message);
      return;
    }
    waiters.splice(waiters.indexOf(waiter), 1);
    waiter.resolve(message);
  });
  const next = (key: keyof WorkerMessage) =>
    new Promise<WorkerMessage>((resolve, reject) => {
      const found = messages.find((message) => message[key] !== undefined || message.error);
      if (found) {
        messages.splice(messages.indexOf(found), 1);
        resolve(found);
        return;
      }
      waiters.push({ key, resolve });
      child.once("exit", (code) => reject(new Error(`worker exited with ${code} before ${key}`)));
    });
  const ready = await next("ready");
  if (ready.error) throw new Error(`worker failed to start: ${ready.error.message}`);
  return { child, exited, next };
}

async function count(schema: string, table: string): Promise<number> {
  const { rows } = await admin.query(`SELECT count(*)::int AS n FROM ${schema}.${table}`);
  return rows[0].n;
}

async function tableCounts(schema: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of [
    "blobs",
    "blob_chunks",
    "registered_models",
    "model_versions",
    "aliases",
    "alias_history",
  ]) {
    counts[table] = await count(schema, table);
  }
  return counts;
}

describe("concurrent writers", () => {
  it("gives 16 processes registering at once gapless versions, nothing lost, every alias move", async () => {
    const url = freshSchemaUrl(inject("postgresUrl"));
    const store = await openPostgresStore(url);
    const workers = 16;
    const perWorker = 4;
    try {
      const started = await Promise.all(
        Array.from({ length: workers }, (_, index) =>
          startWorker({ url, kind: "register", model: "wine", count: perWorker, index }),
        ),
      );
      const results = started.map(({ next }) => next("done"));
      for (const { child } of started) child.send("go");
      const reports = await Promise.all(results);
      for (const report of reports) expect(report.error).toBeUndefined();
      await Promise.all(started.map(({ exited }) => exited));

      const total = workers * perWorker;
      const claimed = reports.flatMap((report) => report.versions!).sort((a, b) => a - b);
      expect(claimed).toEqual(Array.from({ length: total }, (_, index) => index + 1));
      const versions = await store.listModelVersions("wine");
      expect(versions.map((version) => version.version)).toEqual(claimed);
      // Every version holds the bytes its writer sent.
      for (const [index, report] of reports.entries()) {
        for (const [k, number] of report.versions!.entries()) {
          const version = versions[number - 1];
          expect(version.tags).toEqual({ worker: String(index), k: String(k) });
          const bytes = await store.readModelArtifact("wine", number);
          expect(new TextDecoder().decode(bytes)).toBe(`worker ${index} artifact ${k}`);
        }
      }
      // The alias history is complete and chained: each move starts where the previous ended.
      const history = await store.getAliasHistory("wine");
      expect(history).toHaveLength(total);
      expect(history[0].fromVersion).toBeNull();
      for (let index = 1; index < history.length; index += 1) {
        expect(history[index].fromVersion).toBe(history[index - 1].toVersion);
        expect(history[index].time).toBeGreaterThanOrEqual(history[index - 1].time);
      }
      expect(new Set(history.map((entry) => entry.toVersion)).size).toBe(total);
      expect(await store.getAlias("wine", "production")).toBe(history.at(-1)!.toVersion);
    } finally {
      await store.close();
    }
  }, 300_000);
});

describe("a writer killed with SIGKILL mid-transaction", () => {
  for (const phase of ["blob-chunk-written", "version-before-commit", "alias-before-commit"]) {
    it(`leaves nothing half-written (killed at ${phase})`, async () => {
      const url = freshSchemaUrl(inject("postgresUrl"));
      const store = await openPostgresStore(url);
      const { schema } = store;
      try {
        await store.createModelVersion("wine", { artifact: new TextEncoder().encode("v1") });
        await store.setAlias("wine", "production", 1);
        const before = await tableCounts(schema);
        const history = await store.getAliasHistory("wine");
        const { child, exited, next } = await startWorker({
          url,
          kind: phase === "alias-before-commit" ? "alias" : "version",
          model: "wine",
          version: 1,
          // More than one chunk, so the kill lands between chunks of one blob.
          bytes: 1024 * 1024,
          pauseAt: phase,
        });
        const paused = next("paused");
        child.send("go");
        expect((await paused).paused).toBe(phase);
        child.kill("SIGKILL");
        const [, signal] = await exited;
        expect(signal).toBe("SIGKILL");

        // The next writer waits for the dead one's row lock, then finds the registry as it was.
        const next2 = await store.createModelVersion("wine", {
          artifact: new TextEncoder().encode("v2"),
        });
        expect(next2.version).toBe(2);
        const after = await tableCounts(schema);
        expect(after).toEqual({
          ...before,
          blobs: before.blobs + 1,
          blob_chunks: before.blob_chunks + 1,
          model_versions: before.model_versions + 1,
        });
        expect(await store.getAliasHistory("wine")).toStrictEqual(history);
        expect(await store.getAlias("wine", "production")).toBe(1);
      } finally {
        await store.close();
      }
    }, 120_000);
  }
});

describe("a connection lost mid-operation", () => {
  async function terminate(applicationName: string): Promise<number> {
    const { rows } = await admin.query(
      `SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity
       WHERE application_name = $1 AND state = 'idle in transaction'`,
      [applicationName],
    );
    return rows.length;
  }

  it("is a clear registry_unavailable error, nothing partial, and the store goes on", async () => {
    const url = freshSchemaUrl(inject("postgresUrl"));
    const applicationName = `mlops-lost-${randomUUID()}`;
    let terminated = 0;
    let armed = false;
    const store = await openPostgresStore(url, {
      applicationName,
      pauseAt: async (phase) => {
        if (!armed || phase !== "version-before-commit") return;
        armed = false;
        terminated = await terminate(applicationName);
      },
    });
    const password = new URL(inject("postgresUrl")).password;
    try {
      await store.createModelVersion("wine", { artifact: new Uint8Array([1]) });
      armed = true;
      const before = await tableCounts(store.schema);
      const error = await expectMlopsError(
        store.createModelVersion("wine", { artifact: new Uint8Array(600_000).fill(7) }),
        "registry_unavailable",
        /connection was lost or refused .*the transaction was rolled back, nothing was written/,
      );
      expect(terminated).toBe(1);
      expect(error.message).toContain('register a version of model "wine"');
      expect(error.message).not.toContain(password);
      expect(await tableCounts(store.schema)).toEqual(before);
      // The pool drops the dead connection; the next operation gets a new one.
      expect(
        (await store.createModelVersion("wine", { artifact: new Uint8Array([2]) })).version,
      ).toBe(2);
    } finally {
      await store.close();
    }
  });

  it("says so when the server cannot be reached at all", async () => {
    const base = new URL(inject("postgresUrl"));
    base.port = "1"; // nothing listens there
    const error = await expectMlopsError(
      openPostgresStore(base.toString(), { connectTimeoutMs: 5_000 }),
      "registry_unavailable",
      /connection was lost or refused/,
    );
    expect(error.message).toContain(`postgres://mlops:***@127.0.0.1:1/mlops`);
    expect(error.message).not.toContain(base.password);
  });
});

describe("credentials", () => {
  it("never appear in errors, locations or CLI output", async () => {
    const url = freshSchemaUrl(inject("postgresUrl"));
    const password = new URL(url).password;
    const wrong = new URL(url);
    wrong.password = "wrong-secret-password";
    const denied = await expectMlopsError(
      openPostgresStore(wrong.toString()),
      "registry_unavailable",
      /password authentication failed for user "mlops"/,
    );
    expect(denied.message).not.toContain("wrong-secret-password");

    const registry = await openRegistry(url);
    expect(registry.location).not.toContain(password);
    expect(registry.location).toMatch(
      /^postgres:\/\/mlops:\*\*\*@127\.0\.0\.1:\d+\/mlops\?schema=t_/,
    );
    const missing = await expectMlopsError(
      registry.store.getModelVersion("wine", 1),
      "registry_not_found",
    );
    expect(missing.message).not.toContain(password);
    await registry.close();

    const cli = join(coreDir, "dist", "cli.js");
    const run = (args: string[], registry: string) =>
      spawnSync(process.execPath, [cli, ...args], {
        cwd: packageDir,
        encoding: "utf8",
        env: { PATH: process.env.PATH ?? "", MLOPS_REGISTRY: registry },
        timeout: 100_000,
      });
    const listed = run(["models", "list"], url);
    expect(listed.stderr).toBe("");
    expect(listed.status).toBe(0);
    expect(listed.stdout).toMatch(/^No registered models in postgres:\/\/mlops:\*\*\*@/);
    const json = run(["models", "list", "--json"], url);
    expect(JSON.parse(json.stdout).registry).not.toContain(password);
    for (const result of [listed, json, run(["models", "list"], wrong.toString())]) {
      expect(result.stdout + result.stderr).not.toContain(password);
      expect(result.stdout + result.stderr).not.toContain("wrong-secret-password");
    }
    const refused = run(["models", "show", "wine"], wrong.toString());
    expect(refused.status).toBe(3);
    expect(refused.stderr).toMatch(
      /^mlops: PostgreSQL registry postgres:\/\/mlops:\*\*\*@.*password authentication failed/,
    );
  }, 120_000);
});

describe("schema migrations", () => {
  it("create the schema once, even when many processes open a new registry at once", async () => {
    const url = freshSchemaUrl(inject("postgresUrl"));
    const stores = await Promise.all(Array.from({ length: 6 }, () => openPostgresStore(url)));
    const { rows } = await admin.query(
      `SELECT version FROM ${stores[0].schema}.mlops_schema_migrations ORDER BY version`,
    );
    expect(rows.map((row) => row.version)).toEqual(
      Array.from({ length: SCHEMA_VERSION }, (_, index) => index + 1),
    );
    await Promise.all(stores.map((store) => store.close()));
  });

  it("refuse a schema newer than this package, changing nothing", async () => {
    const url = freshSchemaUrl(inject("postgresUrl"));
    const store: PostgresStore = await openPostgresStore(url);
    await store.close();
    await admin.query(
      `INSERT INTO ${store.schema}.mlops_schema_migrations (version, description, applied_at)
       VALUES ($1, 'from the future', 0)`,
      [SCHEMA_VERSION + 1],
    );
    const error = await expectMlopsError(
      openPostgresStore(url),
      "registry_schema_unsupported",
      `its schema is version ${SCHEMA_VERSION + 1}, newer than this @mlops/postgres understands (up to ${SCHEMA_VERSION}); upgrade @mlops/postgres`,
    );
    expect(MlopsError.isInstance(error)).toBe(true);
    expect(await count(store.schema, "mlops_schema_migrations")).toBe(SCHEMA_VERSION + 1);
  });

  it("refuse to create a registry where one must exist", async () => {
    const url = freshSchemaUrl(inject("postgresUrl"));
    await expectMlopsError(
      openRegistry(url, { mustExist: true, hint: "(set --registry)" }),
      "registry_not_found",
      /no registry at postgres:\/\/mlops:\*\*\*@.*: schema "t_[0-9a-f]+" holds no @mlops tables \(set --registry\)/,
    );
    const { rows } = await admin.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [
      new URL(url).searchParams.get("schema"),
    ]);
    expect(rows).toEqual([]);
  });
});
