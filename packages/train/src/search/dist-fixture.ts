// Test support (not exported): builds the JavaScript that tests run as real threads and
// processes — dist/search-worker.js and dist/cli.js of this package, and @mlops/core's dist that
// they import — when it is missing or older than its sources. CI builds before testing, so
// there this only checks timestamps.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** This package's folder (packages/train). */
export const trainPackageDir = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const corePackageDir = join(trainPackageDir, "..", "core");

/** The newest modification time of the files a build reads (tests excluded). */
function newestSource(path: string): number {
  if (!existsSync(path)) return 0;
  const stats = statSync(path);
  if (!stats.isDirectory()) return stats.mtimeMs;
  let newest = 0;
  for (const entry of readdirSync(path)) {
    if (entry.endsWith(".test.ts") || entry === "fixtures") continue;
    newest = Math.max(newest, newestSource(join(path, entry)));
  }
  return newest;
}

function isStale(packageDir: string, outputs: readonly string[]): boolean {
  const sources = Math.max(
    newestSource(join(packageDir, "src")),
    newestSource(join(packageDir, "tsup.config.ts")),
    newestSource(join(packageDir, "package.json")),
  );
  return outputs.some((output) => {
    const path = join(packageDir, "dist", output);
    return !existsSync(path) || statSync(path).mtimeMs < sources;
  });
}

function build(packageDir: string): void {
  // JavaScript only: tests run the code, and declaration files would triple the time.
  execFileSync("npx", ["tsup", "--no-dts"], {
    cwd: packageDir,
    stdio: "pipe",
    shell: process.platform === "win32",
  });
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Builds what is stale, under a lock shared by every test file (vitest runs files in parallel,
 * and two builds into one dist/ would remove each other's files).
 */
export function ensureBuilt(): void {
  const key = createHash("sha256").update(trainPackageDir).digest("hex").slice(0, 12);
  const lock = join(tmpdir(), `mlops-train-build-${key}.lock`);
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // A lock left by a killed run is older than any build takes.
      try {
        if (Date.now() - statSync(lock).mtimeMs > 120_000) rmSync(lock, { recursive: true });
      } catch {
        // Removed in between: try again.
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for the build lock ${lock}`);
      sleep(100);
    }
  }
  try {
    if (isStale(corePackageDir, ["index.js"])) build(corePackageDir);
    if (isStale(trainPackageDir, ["index.js", "search-worker.js", "cli.js"]))
      build(trainPackageDir);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
