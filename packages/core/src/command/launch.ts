import type { CommandIo } from "./program.js";

/**
 * Runs a tool's `main` as the process: the executable's whole bin.ts is
 * `launch(main)`. The exit code is set, not forced, so that stdout drains before the process
 * ends; a reader that stops early (`mlops runs list | head`) closing the pipe is not an error.
 * No top-level await: the same entry is also bundled as CommonJS.
 *
 * @example
 * // packages/train/src/cli/bin.ts
 * import { launch } from "@mlops/core/internal";
 * import { main } from "./main.js";
 * launch(main);
 */
export function launch(
  main: (argv: string[], io: CommandIo) => Promise<number>,
  options: {
    /**
     * After `main` resolved, exit anyway once this many milliseconds have passed (a server
     * whose last handles should be gone after its shutdown). Default: wait for the event loop.
     */
    forceExitAfterMs?: number;
  } = {},
): void {
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw error;
  });
  main(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
  }).then((code) => {
    process.exitCode = code;
    if (options.forceExitAfterMs !== undefined) {
      setTimeout(() => process.exit(code), options.forceExitAfterMs).unref();
    }
  });
}
