import { type ChildProcess, fork } from "node:child_process";
import { createHash } from "node:crypto";
import { once } from "node:events";
import { appendFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { MlopsError, type MlopsErrorCode } from "../errors/error.js";
import { describeRegistryStoreConformance, INVALID_REGISTRY_NAMES } from "../testing/registry.js";
import { describeStudyStoreConformance } from "../testing/studies.js";
import { FolderStore, openFolderStore } from "./folder.js";
import { resolveModelUri } from "./uri.js";

let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "mlops-registry-"));
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

async function newRoot(): Promise<string> {
  return mkdtemp(join(scratch, "store-"));
}

describeRegistryStoreConformance("FolderStore", async () => openFolderStore(await newRoot()));
describeStudyStoreConformance(
  "FolderStore",
  async () => openFolderStore(await newRoot()),
  (store) => openFolderStore(store.location),
);

const encode = (text: string) => new TextEncoder().encode(text);
const sha256 = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");

async function rejection(
  action: Promise<unknown>,
  code: MlopsErrorCode,
  message?: RegExp | string,
): Promise<MlopsError> {
  const error = await action.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(MlopsError.isInstance(error), `expected MlopsError ${code}, got ${String(error)}`).toBe(
    true,
  );
  expect((error as MlopsError).code).toBe(code);
  if (message !== undefined) expect((error as MlopsError).message).toMatch(message);
  return error as MlopsError;
}

/** Every path under `root` with a digest of its content, to prove nothing changed. */
async function snapshot(root: string): Promise<Record<string, string>> {
  const result: Record<string, string> = {};
  async function walk(directory: string, prefix: string): Promise<void> {
    for (const entry of await readdir(directory, { withFileTypes: true })) {
      const path = join(directory, entry.name);
      const key = `${prefix}${entry.name}`;
      if (entry.isDirectory()) {
        result[`${key}/`] = "dir";
        await walk(path, `${key}/`);
      } else {
        result[key] = sha256(await readFile(path));
      }
    }
  }
  await walk(root, "");
  return result;
}

async function files(root: string): Promise<string[]> {
  return Object.keys(await snapshot(root)).filter((path) => !path.endsWith("/"));
}

describe("FolderStore on disk", () => {
  let root: string;
  let store: FolderStore;

  beforeEach(async () => {
    root = await newRoot();
    store = await openFolderStore(root);
  });

  it("writes the documented layout", async () => {
    const run = await store.createRun();
    await store.logMetrics(run.runId, [{ key: "rmse", value: 0.5 }]);
    await store.logArtifact(run.runId, "notes.txt", encode("notes"));
    await store.createExperiment("tuning");
    const version = await store.createModelVersion("wine", { artifact: encode("model") });
    await store.setAlias("wine", "production", 1);
    const hex = version.digest.slice("sha256:".length);
    expect((await files(root)).sort()).toEqual(
      [
        "registry.json",
        `blobs/sha256/${sha256(encode("notes")).slice(0, 2)}/${sha256(encode("notes"))}`,
        `blobs/sha256/${hex.slice(0, 2)}/${hex}`,
        "experiments/1.json",
        `runs/${run.runId}/run.json`,
        `runs/${run.runId}/metrics.jsonl`,
        `runs/${run.runId}/artifacts/notes.txt`,
        "models/wine/model.json",
        "models/wine/versions/1.json",
        "models/wine/alias-history.jsonl",
      ].sort(),
    );
    const stored = JSON.parse(await readFile(join(root, "models/wine/versions/1.json"), "utf8"));
    expect(stored).toMatchObject({ name: "wine", version: 1, digest: version.digest });
    expect(JSON.parse(await readFile(join(root, "registry.json"), "utf8"))).toMatchObject({
      format: "mlops.registry/v1",
    });
  });

  it("stores the same bytes once, however often they are registered", async () => {
    const same = encode("the same model bytes");
    const first = await store.createModelVersion("wine", { artifact: same });
    const second = await store.createModelVersion("wine", { artifact: same });
    await store.createModelVersion("housing", { artifact: same });
    const run = await store.createRun();
    await store.logArtifact(run.runId, "model.bin", same);
    expect(second.digest).toBe(first.digest);
    expect(second.version).toBe(2);
    const blobs = (await files(root)).filter((path) => path.startsWith("blobs/"));
    expect(blobs).toEqual([`blobs/sha256/${sha256(same).slice(0, 2)}/${sha256(same)}`]);
    await store.createModelVersion("wine", { artifact: encode("other bytes") });
    expect((await files(root)).filter((path) => path.startsWith("blobs/"))).toHaveLength(2);
  });

  it("refuses unsafe names before touching the disk", async () => {
    const run = await store.createRun();
    await store.createModelVersion("wine", { artifact: encode("v1") });
    const before = await snapshot(root);
    for (const bad of INVALID_REGISTRY_NAMES) {
      const attempts = [
        store.createRegisteredModel(bad),
        store.createModelVersion(bad, { artifact: encode("x") }),
        store.createExperiment(bad),
        store.logArtifact(run.runId, bad, encode("x")),
        store.setAlias("wine", bad, 1),
        store.setAlias(bad, "production", 1),
        store.setTags(run.runId, { [bad]: "x" }),
        store.createRun({ tags: { [bad]: "x" } }),
        store.createModelVersion("wine", { artifact: encode("x"), tags: { [bad]: "x" } }),
      ];
      for (const attempt of attempts) await rejection(attempt, "registry_name_invalid");
    }
    await rejection(store.logParams("../../escape", { a: 1 }), "registry_name_invalid");
    expect(await snapshot(root)).toStrictEqual(before);
  });

  it("leaves the registry as it was when an artifact cannot be written", async () => {
    await store.createModelVersion("wine", { artifact: encode("v1") });
    const bytes = encode("cannot be stored");
    // A plain file where the blob's directory must go makes the artifact write fail.
    await mkdir(join(root, "blobs", "sha256"), { recursive: true });
    await writeFile(join(root, "blobs", "sha256", sha256(bytes).slice(0, 2)), "in the way");
    const before = await snapshot(root);
    await rejection(store.createModelVersion("wine", { artifact: bytes }), "file_write");
    await rejection(store.createModelVersion("beer", { artifact: bytes }), "file_write");
    expect(await snapshot(root)).toStrictEqual(before);
    expect((await store.listModelVersions("wine")).map((version) => version.version)).toEqual([1]);
    await rejection(store.getRegisteredModel("beer"), "registry_not_found");
  });

  it("rolls back a model it created when its first version cannot be written", async () => {
    // A plain file where the versions directory must go makes the version write fail.
    await mkdir(join(root, "models", "beer"), { recursive: true });
    await writeFile(join(root, "models", "beer", "versions"), "in the way");
    const before = await snapshot(root);
    await rejection(store.createModelVersion("beer", { artifact: encode("x") }), "file_write");
    const after = await snapshot(root);
    // Only the (content-addressed, shareable) blob was added.
    const added = Object.keys(after).filter((path) => !(path in before));
    expect(added.every((path) => path.startsWith("blobs/"))).toBe(true);
    for (const path of Object.keys(before)) expect(after[path]).toBe(before[path]);
    await rejection(store.getRegisteredModel("beer"), "registry_not_found");
  });

  it("verifies artifacts against their digest and names the damaged file", async () => {
    const bytes = encode("precious model bytes");
    const version = await store.createModelVersion("wine", { artifact: bytes });
    const run = await store.createRun();
    await store.logArtifact(run.runId, "model.bin", bytes);
    const hex = version.digest.slice("sha256:".length);
    const blob = join(root, "blobs", "sha256", hex.slice(0, 2), hex);
    const damaged = Buffer.from(bytes);
    damaged[3] ^= 1;
    await writeFile(blob, damaged);
    const error = await rejection(
      store.readModelArtifact("wine", 1),
      "artifact_corrupt",
      `model "wine" version 1: artifact file ${blob} is corrupt: expected ${version.digest}`,
    );
    expect(error.location?.file).toBe(blob);
    await rejection(store.readArtifact(run.runId, "model.bin"), "artifact_corrupt", /corrupt/);
    // Registering the same bytes again rewrites the damaged blob.
    await store.createModelVersion("wine", { artifact: bytes });
    expect(Buffer.from(await store.readModelArtifact("wine", 1))).toEqual(Buffer.from(bytes));
    await rm(blob);
    await rejection(store.readModelArtifact("wine", 1), "artifact_corrupt", /is missing/);
  });

  it("reports a damaged history line with its file and line number", async () => {
    await store.createModelVersion("wine", { artifact: encode("v1") });
    await store.setAlias("wine", "production", 1);
    const history = join(root, "models", "wine", "alias-history.jsonl");
    await appendFile(history, "{not json\n");
    // Writers refuse to build on damage they cannot explain, rather than append after it.
    await rejection(store.setAlias("wine", "staging", 1), "registry_corrupt");
    const error = await rejection(
      store.getAliasHistory("wine"),
      "registry_corrupt",
      `${history}:2: not a valid JSON line`,
    );
    expect(error.location).toMatchObject({ file: history, line: 2 });
  });

  it("folds metric lines a killed writer appended, ignores a torn one and repairs it", async () => {
    const { runId } = await store.createRun();
    await store.logMetrics(runId, [{ key: "rmse", value: 0.9, step: 0, timestamp: 1 }]);
    const path = join(root, "runs", runId, "metrics.jsonl");
    // A writer killed after appending its line but before updating run.json, then one killed
    // in the middle of its line.
    await appendFile(
      path,
      `${JSON.stringify({ key: "rmse", value: 0.8, step: 1, timestamp: 2 })}\n`,
    );
    await appendFile(path, '{"key":"rmse","val');
    expect((await store.getRun(runId)).metrics).toStrictEqual({ rmse: 0.8 });
    expect((await store.getMetricHistory(runId, "rmse")).map((metric) => metric.value)).toEqual([
      0.9, 0.8,
    ]);
    await store.logMetrics(runId, [{ key: "rmse", value: 0.7, step: 2, timestamp: 3 }]);
    const text = await readFile(path, "utf8");
    expect(text.endsWith("\n")).toBe(true);
    expect(
      text
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line).value),
    ).toEqual([0.9, 0.8, 0.7]);
    expect((await store.getRun(runId)).metrics).toStrictEqual({ rmse: 0.7 });
  });

  it("times out on a live lock naming the file and holder, and breaks a stale one", async () => {
    await store.createModelVersion("wine", { artifact: encode("v1") });
    const lockPath = join(root, "models", "wine", ".lock");
    const holder = { pid: 424242, hostname: "other-host", createdAt: Date.now(), token: "t" };
    await writeFile(lockPath, JSON.stringify(holder));
    const impatient = new FolderStore(root, { lockTimeoutMs: 50 });
    const error = await rejection(
      impatient.setAlias("wine", "production", 1),
      "registry_lock_timeout",
      `${lockPath} is held by pid 424242 on other-host`,
    );
    expect(error.location?.file).toBe(lockPath);
    // The same lock, written long ago: stale whatever its holder, so the next writer breaks it.
    await writeFile(lockPath, JSON.stringify({ ...holder, createdAt: Date.now() - 60_000 }));
    const patient = new FolderStore(root, { lockTimeoutMs: 5_000, lockStaleMs: 30_000 });
    await patient.setAlias("wine", "production", 1);
    expect(await patient.getAlias("wine", "production")).toBe(1);
    expect(await readdir(join(root, "models", "wine"))).not.toContain(".lock");
  });

  it("refuses a folder that holds other files, and unknown formats", async () => {
    const foreign = await newRoot();
    await writeFile(join(foreign, "notes.txt"), "not a registry");
    const before = await snapshot(foreign);
    await rejection(openFolderStore(foreign), "registry_not_found", /is not an @mlops registry/);
    await rejection(
      new FolderStore(foreign).createModelVersion("wine", { artifact: encode("x") }),
      "registry_not_found",
    );
    expect(await snapshot(foreign)).toStrictEqual(before);
    await writeFile(join(root, "registry.json"), JSON.stringify({ format: "mlops.registry/v9" }));
    await rejection(openFolderStore(root), "registry_corrupt", /mlops.registry\/v9/);
  });

  it("refuses a model name that differs from an existing one only in case", async () => {
    await store.createModelVersion("wine", { artifact: encode("v1") });
    await rejection(
      store.createRegisteredModel("Wine"),
      "registry_conflict",
      /differ only in case/,
    );
    await rejection(
      store.createModelVersion("WINE", { artifact: encode("v2") }),
      "registry_conflict",
    );
  });

  it("leaves no temporary or lock files behind", async () => {
    const run = await store.createRun();
    await store.logParams(run.runId, { a: 1 });
    await store.logMetrics(run.runId, [{ key: "m", value: 1 }]);
    await store.createExperiment("e");
    await store.createModelVersion("wine", { artifact: encode("v1") });
    await store.setAlias("wine", "production", 1);
    await store.deleteAlias("wine", "production");
    const leftovers = (await files(root)).filter((path) => /(^|\/)\./.test(path));
    expect(leftovers).toEqual([]);
  });
});

// ------------------------------------------------------------------ real processes

const WORKER = `
import { FolderStore } from "./registry.mjs";

const task = JSON.parse(process.env.MLOPS_TEST_TASK);
const encode = (text) => new TextEncoder().encode(text);
const store = new FolderStore(task.root, {
  pauseAt: async (phase) => {
    if (phase !== task.pauseAt) return;
    process.send({ paused: phase, pid: process.pid });
    // Stay here until the test kills this process.
    await new Promise(() => setInterval(() => {}, 1 << 30));
  },
});
const send = (message) => new Promise((resolve) => process.send(message, resolve));

await new Promise((resolve) => {
  process.once("message", resolve);
  process.send({ ready: true });
});
try {
  if (task.kind === "register") {
    const versions = [];
    for (let k = 0; k < task.count; k += 1) {
      const artifact = encode("worker " + task.index + " artifact " + k);
      versions.push((await store.createModelVersion(task.model, { artifact })).version);
    }
    const move = await store.setAlias(task.model, "production", versions.at(-1), {
      actor: "worker-" + task.index,
    });
    await send({ done: true, versions, move });
  } else if (task.kind === "version") {
    const version = await store.createModelVersion(task.model, { artifact: encode(task.text) });
    await send({ done: true, version: version.version });
  } else if (task.kind === "alias") {
    await store.setAlias(task.model, task.alias, task.version, { actor: "worker" });
    await send({ done: true });
  }
} catch (error) {
  await send({ error: String(error?.stack ?? error) });
}
process.disconnect();
`;

interface WorkerTask {
  kind: "register" | "version" | "alias";
  root: string;
  model: string;
  pauseAt?: string;
  [key: string]: unknown;
}

interface Worker {
  child: ChildProcess;
  /** Resolves with the first message matching `predicate`; rejects if the child exits first. */
  next(predicate: (message: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
}

describe("FolderStore across processes", () => {
  let workerPath: string;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    const directory = await mkdtemp(join(scratch, "worker-"));
    await build({
      entryPoints: [fileURLToPath(new URL("./folder.ts", import.meta.url))],
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      outfile: join(directory, "registry.mjs"),
      logLevel: "silent",
    });
    workerPath = join(directory, "worker.mjs");
    await writeFile(workerPath, WORKER);
  });

  afterAll(() => {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  });

  function start(task: WorkerTask): Worker {
    const child = fork(workerPath, [], {
      env: { ...process.env, MLOPS_TEST_TASK: JSON.stringify(task) },
      execArgv: [],
      stdio: ["ignore", "ignore", "pipe", "ipc"],
    });
    children.push(child);
    let stderr = "";
    child.stderr?.on("data", (chunk) => {
      stderr += chunk;
    });
    const inbox: Record<string, unknown>[] = [];
    const waiters: (() => void)[] = [];
    child.on("message", (message) => {
      inbox.push(message as Record<string, unknown>);
      for (const wake of waiters.splice(0)) wake();
    });
    let exited = false;
    child.on("exit", () => {
      exited = true;
      for (const wake of waiters.splice(0)) wake();
    });
    return {
      child,
      next: (predicate) =>
        new Promise((resolve, reject) => {
          const check = () => {
            const index = inbox.findIndex(predicate);
            if (index >= 0) return resolve(inbox.splice(index, 1)[0]);
            const failure = inbox.find((message) => "error" in message);
            if (failure) return reject(new Error(`worker failed: ${String(failure.error)}`));
            if (exited) return reject(new Error(`worker exited early: ${stderr}`));
            waiters.push(check);
          };
          check();
        }),
    };
  }

  async function startAll(tasks: WorkerTask[]): Promise<Worker[]> {
    const workers = tasks.map(start);
    await Promise.all(workers.map((worker) => worker.next((message) => message.ready === true)));
    for (const worker of workers) worker.child.send("go");
    return workers;
  }

  async function kill(worker: Worker): Promise<void> {
    const exited = once(worker.child, "exit");
    worker.child.kill("SIGKILL");
    await exited;
  }

  it("gives 10 processes registering at once distinct consecutive versions", async () => {
    const root = await newRoot();
    await openFolderStore(root);
    const count = 3;
    const workers = await startAll(
      Array.from({ length: 10 }, (_, index) => ({
        kind: "register" as const,
        root,
        model: "wine",
        index,
        count,
      })),
    );
    const results = await Promise.all(workers.map((worker) => worker.next((m) => m.done === true)));
    const store = new FolderStore(root);
    const claimed = results.flatMap((result) => result.versions as number[]).sort((a, b) => a - b);
    expect(claimed).toEqual(Array.from({ length: 30 }, (_, index) => index + 1));
    const versions = await store.listModelVersions("wine");
    expect(versions.map((version) => version.version)).toEqual(claimed);
    // Each version holds the bytes of the worker that claimed it.
    for (const [index, result] of results.entries()) {
      for (const [k, number] of (result.versions as number[]).entries()) {
        const bytes = await store.readModelArtifact("wine", number);
        expect(new TextDecoder().decode(bytes)).toBe(`worker ${index} artifact ${k}`);
      }
    }
    expect((await files(root)).filter((path) => path.startsWith("blobs/"))).toHaveLength(30);
    // Every alias move is in the history, each starting where the previous one ended.
    const history = await store.getAliasHistory("wine", { alias: "production" });
    expect(history).toHaveLength(10);
    expect(history.map((entry) => entry.actor).sort()).toEqual(
      Array.from({ length: 10 }, (_, index) => `worker-${index}`).sort(),
    );
    expect(history[0].fromVersion).toBeNull();
    for (let index = 1; index < history.length; index += 1) {
      expect(history[index].fromVersion).toBe(history[index - 1].toVersion);
    }
    expect(await store.getAlias("wine", "production")).toBe(history.at(-1)?.toVersion);
    expect(history).toEqual(expect.arrayContaining(results.map((result) => result.move)));
  });

  it("survives a writer killed between writing a version and renaming it into place", async () => {
    const root = await newRoot();
    const store = await openFolderStore(root);
    await store.createModelVersion("wine", { artifact: encode("v1") });
    const [worker] = await startAll([
      { kind: "version", root, model: "wine", text: "v2", pauseAt: "version-temp-written" },
    ]);
    await worker.next((message) => message.paused === "version-temp-written");
    const versionsDir = join(root, "models", "wine", "versions");
    const temporary = (await readdir(versionsDir)).filter((name) => name.endsWith(".tmp"));
    expect(temporary).toHaveLength(1);
    expect(JSON.parse(await readFile(join(versionsDir, temporary[0]), "utf8")).version).toBe(2);
    const lock = JSON.parse(await readFile(join(root, "models", "wine", ".lock"), "utf8"));
    expect(lock).toMatchObject({ pid: worker.child.pid, hostname: hostname() });
    await kill(worker);

    // Readers see only the complete version 1, without waiting for the dead holder's lock.
    expect((await store.listModelVersions("wine")).map((version) => version.version)).toEqual([1]);
    expect((await resolveModelUri(store, "models:/wine/latest")).version).toBe(1);
    // The next writer recovers the stale lock (dead pid on this host) and cleans the orphan.
    const next = await new FolderStore(root, { lockTimeoutMs: 10_000 }).createModelVersion("wine", {
      artifact: encode("v2 again"),
    });
    expect(next.version).toBe(2);
    expect(await readdir(versionsDir)).toEqual(["1.json", "2.json"]);
    expect(await readdir(join(root, "models", "wine"))).not.toContain(".lock");
  });

  it("makes other writers wait for a live holder, while readers go on", async () => {
    const root = await newRoot();
    const store = await openFolderStore(root);
    await store.createModelVersion("wine", { artifact: encode("v1") });
    await store.createModelVersion("wine", { artifact: encode("v2") });
    await store.setAlias("wine", "production", 1);
    const [worker] = await startAll([
      {
        kind: "alias",
        root,
        model: "wine",
        alias: "production",
        version: 2,
        pauseAt: "lock-acquired",
      },
    ]);
    await worker.next((message) => message.paused === "lock-acquired");
    const lockPath = join(root, "models", "wine", ".lock");
    const error = await rejection(
      new FolderStore(root, { lockTimeoutMs: 100 }).setAlias("wine", "staging", 2),
      "registry_lock_timeout",
      `could not lock model "wine" within 100 ms: ${lockPath} is held by pid ${worker.child.pid}`,
    );
    expect(error.location?.file).toBe(lockPath);
    expect(await store.getAlias("wine", "production")).toBe(1);
    expect((await store.getModelVersion("wine", 2)).version).toBe(2);
    await kill(worker);

    await store.setAlias("wine", "staging", 2, { actor: "parent" });
    const history = await store.getAliasHistory("wine");
    expect(history.map((entry) => [entry.alias, entry.toVersion])).toEqual([
      ["production", 1],
      ["staging", 2],
    ]);
  });

  it("ignores a history line torn by a kill mid-append; the next move repairs it", async () => {
    const root = await newRoot();
    const store = await openFolderStore(root);
    await store.createModelVersion("wine", { artifact: encode("v1") });
    await store.createModelVersion("wine", { artifact: encode("v2") });
    await store.setAlias("wine", "staging", 1);
    const historyPath = join(root, "models", "wine", "alias-history.jsonl");
    const intact = await readFile(historyPath, "utf8");
    const [worker] = await startAll([
      {
        kind: "alias",
        root,
        model: "wine",
        alias: "production",
        version: 2,
        pauseAt: "alias-history-mid-append",
      },
    ]);
    await worker.next((message) => message.paused === "alias-history-mid-append");
    await kill(worker);

    const torn = await readFile(historyPath, "utf8");
    expect(torn.startsWith(intact)).toBe(true);
    expect(torn.length).toBeGreaterThan(intact.length);
    expect(torn.endsWith("\n")).toBe(false);
    expect(await store.listAliases("wine")).toStrictEqual({ staging: 1 });
    expect(await store.getAliasHistory("wine")).toHaveLength(1);
    await rejection(store.getAlias("wine", "production"), "registry_not_found");

    const move = await store.setAlias("wine", "production", 2, { actor: "parent" });
    expect(move.fromVersion).toBeNull();
    const repaired = await readFile(historyPath, "utf8");
    expect(repaired.endsWith("\n")).toBe(true);
    const lines = repaired.trim().split("\n");
    expect(lines.map((line) => JSON.parse(line).alias)).toEqual(["staging", "production"]);
    expect(await store.listAliases("wine")).toStrictEqual({ production: 2, staging: 1 });
  });
});
