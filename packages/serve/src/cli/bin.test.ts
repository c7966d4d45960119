// End-to-end: runs the built `mlops-serve` executable (dist/cli.js) in a child process, as a
// user or a container would, against a registry written through the SDK.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureBuilt } from "@mlops/test-support";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { hashApiKey } from "../auth/api-keys.js";
import { byHand, tempRegistry } from "../testing/fixtures.js";

const packageDir = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const binary = join(packageDir, "dist", "cli.js");

let temp: Awaited<ReturnType<typeof tempRegistry>>;
let registryPath = "";
const children: ChildProcess[] = [];

beforeAll(async () => {
  ensureBuilt({ packageDir, outputs: ["cli.js"] });
  temp = await tempRegistry();
  registryPath = join(temp.dir, ".mlops");
}, 60_000);

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
});

afterAll(async () => {
  await temp.cleanup();
});

/** A clean environment: no registry or keys inherited from the developer's shell. */
const env = (extra: Record<string, string> = {}) => ({ PATH: process.env.PATH ?? "", ...extra });

function run(args: string[], extra: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [binary, ...args], {
    cwd: temp.dir,
    encoding: "utf8",
    env: env(extra),
    timeout: 100_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

interface Running {
  child: ChildProcess;
  url: string;
  output: { stdout: string; stderr: string };
  exited: Promise<number | null>;
  waitForOutput(pattern: RegExp): Promise<RegExpMatchArray>;
}

/** Starts the server and resolves once it printed where it listens. */
async function start(args: string[]): Promise<Running> {
  const child = spawn(process.execPath, [binary, ...args], { cwd: temp.dir, env: env() });
  children.push(child);
  const output = { stdout: "", stderr: "" };
  child.stdout!.setEncoding("utf8").on("data", (text: string) => {
    output.stdout += text;
  });
  child.stderr!.setEncoding("utf8").on("data", (text: string) => {
    output.stderr += text;
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  // Resolves when stdout shows `pattern`, rejects when the process exits first (no deadline of
  // its own: the test's timeout ends a wait that never comes).
  const waitForOutput = (pattern: RegExp) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const check = () => {
        const match = output.stdout.match(pattern);
        if (match) {
          child.stdout!.off("data", check);
          child.off("exit", exit);
          resolve(match);
        }
      };
      const exit = () => {
        check();
        reject(new Error(`no ${pattern} in stdout: ${output.stdout}\nstderr: ${output.stderr}`));
      };
      child.stdout!.on("data", check);
      child.once("exit", exit);
      check();
      if (child.exitCode !== null) exit();
    });
  const [, url] = await waitForOutput(/listening on (http:\/\/127\.0\.0\.1:\d+)\n/);
  return { child, url, output, exited, waitForOutput };
}

async function predict(url: string, rooms: number, headers: Record<string, string> = {}) {
  const row = { rooms, area: 10, color: "red" };
  const response = await fetch(`${url}/v1/models/houses/predict`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(row),
  });
  return { response, row };
}

// Child processes on a loaded CI machine: generous time (a timeout is not an assertion).
describe("mlops-serve (the built executable)", { timeout: 120_000 }, () => {
  it.skipIf(process.platform === "win32")("is executable through its shebang", () => {
    expect(statSync(binary).mode & 0o111).not.toBe(0);
    const direct = spawnSync(binary, ["--help"], { encoding: "utf8" });
    expect(direct.status).toBe(0);
    expect(direct.stdout).toMatch(/^mlops-serve — serve models/);
    expect(direct.stdout).toContain("  mlops-serve --model REF [--model REF ...] [OPTIONS]\n");
  });

  it("serves, prints URL and versions, follows the alias, exits 0 on SIGTERM", async () => {
    const key = "cli-test-key";
    const server = await start([
      "--registry",
      registryPath,
      "--model",
      "houses@production",
      "--model",
      "rooms-tree/1",
      "--port",
      "0",
      "--api-key-hash",
      `${hashApiKey(key)}:predict`,
      "--watch-interval",
      "50",
    ]);
    const table = server.output.stdout.split("\n").slice(1, 3);
    expect(table).toEqual([
      "  houses      version 1  @production  linear (native)  houses@production",
      "  rooms-tree  version 1  -            tree (native)    rooms-tree/1",
    ]);

    expect((await predict(server.url, 2)).response.status).toBe(401);
    const { response, row } = await predict(server.url, 2, { authorization: `Bearer ${key}` });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-model-version")).toBe("1");
    expect(((await response.json()) as { predictions: number[] }).predictions).toEqual([
      byHand(row, 50),
    ]);
    expect((await fetch(`${server.url}/v2/health/ready`)).status).toBe(200);

    await temp.registry.setAlias("houses", "production", 2, { reason: "cli test" });
    await server.waitForOutput(/reloaded houses: version 1 → 2\n/);
    const after = await predict(server.url, 2, { "x-api-key": key });
    expect(after.response.headers.get("x-model-version")).toBe("2");
    await temp.registry.setAlias("houses", "production", 1, { reason: "cli test: back" });
    await server.waitForOutput(/reloaded houses: version 2 → 1\n/);

    server.child.kill("SIGTERM");
    expect(await server.exited).toBe(0);
    expect(server.output.stdout).toContain("shutting down");
    expect(server.output.stderr).toBe("");
  }, 120_000);

  it("--log writes one JSON line per request", async () => {
    const server = await start([
      "--registry",
      registryPath,
      "--model",
      "houses@production",
      "--port",
      "0",
      "--log",
      "--watch-interval",
      "0",
      "--max-body",
      "64kb",
    ]);
    await predict(server.url, 3, { "x-request-id": "cli-1" });
    const tooLarge = await fetch(`${server.url}/v1/models/houses/predict`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ rooms: 1, area: 1, pad: "x".repeat(70_000) }),
    });
    expect(tooLarge.status).toBe(413);
    const [line] = await server.waitForOutput(/\{"time":[^\n]*"request_id":"cli-1"[^\n]*\}\n/);
    expect(JSON.parse(line)).toMatchObject({ route: "v1_predict", status: 200, version: "1" });
    await server.waitForOutput(/"status":413[^\n]*"error":"payload_too_large"/);
    server.child.kill("SIGTERM");
    expect(await server.exited).toBe(0);
  }, 120_000);

  it("exit 2 for a missing registry, without creating it", () => {
    const missing = join(temp.dir, "no-registry-here");
    const { code, stderr, stdout } = run(["--registry", missing, "--model", "houses@production"]);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toBe(
      `mlops-serve: no registry at ${missing} ` + "(set --registry or MLOPS_REGISTRY)\n",
    );
    expect(existsSync(missing)).toBe(false);
    // MLOPS_REGISTRY is read when --registry is not given.
    const fromEnv = run(["--model", "houses"], { MLOPS_REGISTRY: missing });
    expect(fromEnv.code).toBe(2);
    expect(fromEnv.stderr).toContain(`no registry at ${missing}`);
  });

  it("exit 2 for an unknown model, version or alias", () => {
    for (const [model, reason] of [
      ["wine@production", 'model "wine" not found'],
      ["houses@champion", 'model "houses" has no alias "champion"'],
      ["houses/9", "houses"],
    ]) {
      const { code, stderr } = run(["--registry", registryPath, "--model", model, "--port", "0"]);
      expect(code, model).toBe(2);
      expect(stderr, model).toContain(`mlops-serve: --model ${model}: `);
      expect(stderr, model).toContain(reason);
    }
    // Three processes in a row: generous on a loaded machine (a timeout is not an assertion).
  }, 120_000);

  it("exit 2 for bad options, with a pointer to --help", () => {
    for (const [args, message] of [
      [[], "missing option --model REF"],
      [
        ["--model", "houses", "--port", "http"],
        '--port: expected an integer from 0 to 65535, got "http"',
      ],
      [["--model", "houses", "--max-body", "lots"], "--max-body: expected a size such as"],
      [
        ["--model", "houses", "--api-key-hash", "abc:predict"],
        "--api-key-hash: entry 1 must start",
      ],
      [["--model", "houses", "--watch-interval", "-5"], "--watch-interval"],
      [["--model", "houses", "--turbo"], 'unknown option "--turbo"'],
      [["--model", "houses", "--prot", "0"], 'unknown option "--prot" (did you mean "--port"?)'],
      [["--model", "bad name!"], "--model bad name!: "],
      [["--model", "houses", "--model", "houses@staging"], 'already served as "houses"'],
    ] as const) {
      const { code, stderr } = run(["--registry", registryPath, ...args]);
      expect(code, args.join(" ")).toBe(2);
      expect(stderr, args.join(" ")).toContain(message);
      expect(stderr).toContain('Run "mlops-serve --help" for usage.');
    }
    // Ten processes in a row: generous on a loaded machine (a timeout is not an assertion).
  }, 180_000);

  it("exit 1 when the port is taken", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const { port } = blocker.address() as { port: number };
    try {
      const { code, stderr } = run([
        "--registry",
        registryPath,
        "--model",
        "houses@production",
        "--port",
        String(port),
      ]);
      expect(code).toBe(1);
      expect(stderr).toBe(
        `mlops-serve: cannot listen: port ${port} on 127.0.0.1 is already in use\n`,
      );
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
