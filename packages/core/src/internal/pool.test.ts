import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { MlopsError } from "../errors/error.js";
import { builtModulePath, ThreadPool, workerExecArgv } from "./pool.js";

const module = fileURLToPath(new URL("./fixtures/test-worker.mjs", import.meta.url));
const pools: ThreadPool[] = [];

function open(
  size: number,
  perThread?: number,
  resourceLimits?: ConstructorParameters<typeof ThreadPool>[0]["resourceLimits"],
): ThreadPool {
  const pool = new ThreadPool({ module, size, perThread, name: "test pool", resourceLimits });
  pools.push(pool);
  return pool;
}

afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.close()));
});

describe("ThreadPool", () => {
  it("answers requests on every thread, more requests than threads hold", async () => {
    const pool = open(2, 1);
    const values = Array.from({ length: 50 }, (_, i) => i);
    const answers = await Promise.all(values.map((value) => pool.run({ type: "square", value })));
    expect(answers).toEqual(values.map((value) => value * value));
    const later = await Promise.all([1, 2, 3].map((value) => pool.run({ type: "later", value })));
    expect(later).toEqual([1, 2, 3]);
  });

  it("delivers a broadcast to every thread before later requests", async () => {
    const pool = open(3);
    pool.broadcast({ type: "remember", value: "a" });
    pool.broadcast({ type: "remember", value: "b" });
    const states = await Promise.all([0, 1, 2].map((i) => pool.runOn(i, { type: "recall" })));
    const threads = new Set(states.map((answer) => (answer as { threadId: number }).threadId));
    expect(threads.size).toBe(3);
    for (const answer of states) expect((answer as { state: string[] }).state).toEqual(["a", "b"]);
  });

  it("moves a transferResult's buffers to the caller, and applies resourceLimits", async () => {
    const pool = open(1, 2, { maxYoungGenerationSizeMb: 8 });
    const answer = await pool.run<{ bytes: Uint8Array }>({ type: "bytes", values: [1, 2, 3] });
    expect([...answer.bytes]).toEqual([1, 2, 3]);
    // Moved, not copied: the thread's array is detached.
    await expect(pool.run({ type: "sent" })).resolves.toBe(0);
    await expect(pool.run({ type: "heap" })).resolves.toMatchObject({
      maxYoungGenerationSizeMb: 8,
    });
  });

  it("rejects with the thread's error code and message, and keeps serving", async () => {
    const pool = open(1);
    const error = await pool.run({ type: "fail", value: 7 }).catch((caught: unknown) => caught);
    expect(MlopsError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: "data_invalid", message: "test pool: failed on 7" });
    await expect(pool.run({ type: "square", value: 3 })).resolves.toBe(9);
  });

  it("fails the requests of a thread that exits, and tells the owner", async () => {
    const pool = open(1);
    const failures: MlopsError[] = [];
    pool.onFailure = (error) => failures.push(error);
    await expect(pool.run({ type: "exit" })).rejects.toThrow(/exited with code 3/);
    expect(failures).toHaveLength(1);
    expect(pool.size).toBe(0);
    await expect(pool.run({ type: "square", value: 2 })).rejects.toThrow(/every worker thread/);
  });

  it("runs a blocking job on every thread and hands over each message", () => {
    const pool = open(2);
    const seen: number[] = [];
    const threads = new Set<number>();
    pool.runBlocking(
      (control) => ({ type: "count", control, total: 200 }),
      (message) => {
        const { index, threadId } = message as { index: number; threadId: number };
        seen.push(index);
        threads.add(threadId);
      },
    );
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(threads.size).toBeGreaterThanOrEqual(1);
  });

  it("reports a blocking job's error as a message, and wakes", () => {
    const pool = open(2);
    const messages: unknown[] = [];
    pool.runBlocking(
      () => ({ type: "fail", value: 1 }),
      (message) => messages.push(message),
    );
    expect(messages).toHaveLength(2);
    expect(messages[0]).toMatchObject({ error: { code: "data_invalid", message: "failed on 1" } });
  });

  it("refuses work once closed, and a bad size at once", async () => {
    const pool = open(1);
    await pool.close();
    await expect(pool.run({ type: "square", value: 1 })).rejects.toThrow(/closed/);
    expect(() => new ThreadPool({ module, size: 0, name: "x" })).toThrow(/thread count ≥ 1/);
  });

  it("reports a module without the handler on every request", async () => {
    const pool = new ThreadPool({ module, size: 1, name: "test pool", handler: "missing" });
    pools.push(pool);
    await expect(pool.run({})).rejects.toThrow(/exports no function missing/);
  });
});

describe("builtModulePath and workerExecArgv", () => {
  it("finds dist/<file> of the named package from src/ or dist/", () => {
    const files = new Set(["/x/train/package.json", "/x/train/dist/w.js", "/x/package.json"]);
    const exists = (path: string) => files.has(path);
    const manifest = (path: string) =>
      JSON.stringify({ name: path === "/x/package.json" ? "root" : "@mlops/train" });
    for (const from of ["file:///x/train/src/forest/pool.ts", "file:///x/train/dist/index.js"]) {
      expect(builtModulePath(from, "@mlops/train", "w.js", exists, manifest)).toBe(
        "/x/train/dist/w.js",
      );
    }
    expect(builtModulePath("file:///x/a/b.js", "@mlops/train", "w.js", exists, manifest)).toBe(
      undefined,
    );
    expect(
      builtModulePath("file:///x/train/src/a.ts", "@mlops/train", "v.js", exists, manifest),
    ).toBeUndefined();
  });

  it("drops the source condition, entry and heap-size flags, and keeps every other flag", () => {
    expect(
      workerExecArgv([
        "--conditions",
        "@mlops/source",
        "-C=@mlops/source",
        "--expose-gc",
        "--input-type=module",
        "--max-old-space-size=512",
        "-C",
        "x",
      ]),
    ).toEqual(["--expose-gc", "-C", "x"]);
  });

  it("starts threads in a process run with V8 flags, which threads refuse (node --expose-gc)", () => {
    // The built pool, in a child process started as benchmarks start (node --expose-gc).
    const dist = fileURLToPath(new URL("../../dist/internal/index.js", import.meta.url));
    const folder = mkdtempSync(join(tmpdir(), "mlops-pool-flags-"));
    try {
      const script = join(folder, "run.mjs");
      writeFileSync(
        script,
        `const { ThreadPool } = await import(${JSON.stringify(pathToFileURL(dist).href)});\n` +
          `const pool = new ThreadPool({ module: ${JSON.stringify(module)}, size: 2, name: "t" });\n` +
          `console.log(await pool.run({ type: "square", value: 7 }));\n` +
          "await pool.close();\n",
      );
      const result = spawnSync(process.execPath, ["--expose-gc", script], {
        encoding: "utf8",
        timeout: 60_000,
      });
      expect(result.stderr).toBe("");
      expect(result.stdout.trim()).toBe("49");
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
