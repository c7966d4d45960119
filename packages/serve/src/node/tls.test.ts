// HTTPS with a self-signed certificate made by openssl in the test: the SDK's serve({ tls }) and
// mlops-serve --tls-cert/--tls-key, each asked over TLS with the certificate as the only CA.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureBuilt } from "@mlops/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createInferenceApp } from "../app/app.js";
import { tempRegistry } from "../testing/fixtures.js";
import { serve } from "./serve.js";

const packageDir = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
let dir = "";
let cert = "";
let key = "";
let temp: Awaited<ReturnType<typeof tempRegistry>>;

beforeAll(async () => {
  ensureBuilt({ packageDir, outputs: ["cli.js"] });
  dir = await mkdtemp(join(tmpdir(), "mlops-tls-"));
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "1",
      "-keyout",
      join(dir, "key.pem"),
      "-out",
      join(dir, "cert.pem"),
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
    ],
    { stdio: "ignore" },
  );
  cert = await readFile(join(dir, "cert.pem"), "utf8");
  key = await readFile(join(dir, "key.pem"), "utf8");
  temp = await tempRegistry();
}, 120_000);

afterAll(async () => {
  await temp?.cleanup();
  await rm(dir, { recursive: true, force: true });
});

/** A POST over HTTPS that trusts only the test's certificate. */
function post(url: string, body: unknown): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      url,
      { method: "POST", ca: cert, headers: { "content-type": "application/json" } },
      (response) => {
        let text = "";
        response.setEncoding("utf8");
        response.on("data", (chunk) => {
          text += chunk;
        });
        response.on("end", () =>
          resolve({ status: response.statusCode ?? 0, json: JSON.parse(text) }),
        );
      },
    );
    outgoing.on("error", reject);
    outgoing.end(JSON.stringify(body));
  });
}

describe("HTTPS", () => {
  it("serve({ tls }) answers over TLS with the given certificate", async () => {
    const app = createInferenceApp({ registry: temp.registry, models: ["houses@production"] });
    await app.ready;
    const server = await serve(app, { port: 0, tls: { cert, key } });
    try {
      expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const answer = await post(`${server.url}/v1/models/houses/predict`, { rooms: 3, area: 120 });
      expect(answer.status).toBe(200);
      expect(answer.json).toMatchObject({ model: { name: "houses" } });
      // A client that does not trust the certificate is refused by TLS, not served.
      await expect(
        fetch(`${server.url}/v2/health/live`).then((response) => response.status),
      ).rejects.toThrow();
    } finally {
      await server.close();
      await app.close();
    }
  });

  it("mlops-serve --tls-cert --tls-key serves HTTPS; half a pair is a usage error", async () => {
    const binary = join(packageDir, "dist", "cli.js");
    const registry = join(temp.dir, ".mlops");
    const child: ChildProcess = spawn(
      process.execPath,
      [
        binary,
        "--registry",
        registry,
        "--model",
        "houses@production",
        "--port",
        "0",
        "--tls-cert",
        join(dir, "cert.pem"),
        "--tls-key",
        join(dir, "key.pem"),
      ],
      { env: { PATH: process.env.PATH ?? "" } },
    );
    try {
      let output = "";
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout!.setEncoding("utf8").on("data", (text: string) => {
          output += text;
          const match = /listening on (https:\/\/\S+)/.exec(output);
          if (match) resolve(match[1]);
        });
        child.once("exit", (code) => reject(new Error(`mlops-serve exited ${code}: ${output}`)));
      });
      const answer = await post(`${url}/v1/models/houses/predict`, { rooms: 2, area: 80 });
      expect(answer.status).toBe(200);
    } finally {
      child.kill("SIGTERM");
      await once(child, "exit");
    }
    const half = spawn(
      process.execPath,
      [
        binary,
        "--registry",
        registry,
        "--model",
        "houses@production",
        "--tls-cert",
        join(dir, "cert.pem"),
      ],
      { env: { PATH: process.env.PATH ?? "" } },
    );
    let stderr = "";
    half.stderr!.setEncoding("utf8").on("data", (text: string) => {
      stderr += text;
    });
    const [code] = await once(half, "exit");
    expect(code).toBe(2);
    expect(stderr).toContain("--tls-cert needs --tls-key too");
  }, 120_000);
});
