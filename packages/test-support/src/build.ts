// Test support for packages whose tests run built JavaScript as real processes or threads
// (CLIs, worker threads, the bundled Action): build when the output is missing or older than its
// sources. CI builds before testing, so there this only compares timestamps.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface EnsureBuiltOptions {
  /** The package folder (holding src/, tsup.config.ts, package.json and dist/). */
  packageDir: string;
  /** Files under dist/ that must exist and be newer than the sources (default `["index.js"]`). */
  outputs?: readonly string[];
  /** More source files or folders the build reads (e.g. a bundled dependency's src/). */
  extraSources?: readonly string[];
  /** tsup arguments (default `--no-dts`: tests run JavaScript; declarations triple the time). */
  tsupArgs?: readonly string[];
}

/** The newest modification time of the files a build reads (tests and fixtures excluded). */
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

function isStale(options: EnsureBuiltOptions): boolean {
  const { packageDir } = options;
  const sources = Math.max(
    newestSource(join(packageDir, "src")),
    newestSource(join(packageDir, "tsup.config.ts")),
    newestSource(join(packageDir, "package.json")),
    ...(options.extraSources ?? []).map(newestSource),
  );
  return (options.outputs ?? ["index.js"]).some((output) => {
    const path = join(packageDir, "dist", output);
    return !existsSync(path) || statSync(path).mtimeMs < sources;
  });
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Builds each package whose outputs are stale, in order, under a lock per package folder shared
 * by every test file (vitest runs files in parallel, and two builds into one dist/ would remove
 * each other's files).
 *
 * @example
 * beforeAll(() => ensureBuilt({ packageDir, outputs: ["cli.js"] }), 60_000);
 */
export function ensureBuilt(...packages: EnsureBuiltOptions[]): void {
  for (const options of packages) {
    const key = createHash("sha256").update(options.packageDir).digest("hex").slice(0, 12);
    const lock = join(tmpdir(), `mlops-build-${key}.lock`);
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
      if (isStale(options)) {
        execFileSync("npx", ["tsup", ...(options.tsupArgs ?? ["--no-dts"])], {
          cwd: options.packageDir,
          stdio: "pipe",
          shell: process.platform === "win32",
        });
      }
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
}
