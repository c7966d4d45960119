/**
 * The built `mlops ui` executable as a child process, as a user starts it: `--port 0`, the URL
 * read from what it prints, everything it writes kept (a test can check its logs), and `stop()`
 * that ends it with SIGTERM and waits for it to exit.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";

const MLOPS = fileURLToPath(new URL("../../../core/bin/mlops.js", import.meta.url));

export interface UiProcess {
  /** `http://127.0.0.1:PORT/`, as `mlops ui` printed it. */
  url: string;
  child: ChildProcess;
  /** Everything it wrote so far, stdout and stderr together. */
  output(): string;
  /** SIGTERM, then waits until it has exited. Safe to call twice. */
  stop(): Promise<void>;
}

/** Starts `mlops ui --registry <registry> --port 0`; resolves once it prints its URL. */
export async function startUiProcess(
  registry: string,
  env: Record<string, string> = {},
): Promise<UiProcess> {
  const child = spawn(process.execPath, [MLOPS, "ui", "--registry", registry, "--port", "0"], {
    env: { ...process.env, NO_COLOR: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = once(child, "exit");
  let output = "";
  child.stderr?.on("data", (chunk) => {
    output += chunk;
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      await exited;
    }
  };
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.on("data", (chunk) => {
      output += chunk;
      const match = /mlops ui: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(output);
      if (match) resolve(match[1]);
    });
    child.once("exit", (code) => reject(new Error(`mlops ui exited ${code}\n${output}`)));
  });
  return { url, child, output: () => output, stop };
}
