import { SDK_VERSION } from "../artifact/version.js";
import type { ExitCodes } from "../command/exit.js";
import { type CommandIo, type Program, runProgram } from "../command/program.js";
import { registryLocation } from "../command/registry.js";
import { COMMANDS } from "./commands.js";
import type { MlopsContext } from "./context.js";

/** Where `main` reads and writes: the process's streams in `bin.ts`, buffers in tests. */
export type CliIo = CommandIo;

/** The exit codes of `mlops`, as documented in `mlops --help` and docs/cli.md. */
export const EXIT_CODES = {
  success: 0,
  /** A check failed: `mlops gate` found a regression. */
  checkFailed: 1,
  /** Usage error or bad input: unknown command or option, bad argument, not found. */
  usage: 2,
  /** Registry error (corrupt registry or artifact, lock timeout, I/O) or an unexpected error. */
  registry: 3,
} as const;

const MLOPS_EXIT_CODES: ExitCodes = {
  usage: EXIT_CODES.usage,
  not_found: EXIT_CODES.usage,
  conflict: EXIT_CODES.usage,
  data: EXIT_CODES.usage,
  registry: EXIT_CODES.registry,
  read: EXIT_CODES.registry,
  write: EXIT_CODES.registry,
  internal: EXIT_CODES.registry,
  help: [
    [0, "success"],
    [1, "a check failed: `mlops gate` found a regression, `mlops drift` found drift"],
    [
      2,
      "usage error or bad input: unknown command or option, missing argument, invalid name, URI, " +
        "version or filter, model/alias/experiment not found, no registry at the path, a version " +
        "an alias still points at",
    ],
    [
      3,
      "registry error: corrupt registry or artifact, lock timeout, I/O error; also an unexpected " +
        "internal error (printed with its stack); for `mlops drift`, bad data",
    ],
  ],
};

/** The `mlops` tool: its commands, global options, exit codes and environment. */
export const PROGRAM: Program<MlopsContext> = {
  name: "mlops",
  summary: "inspect and manage an @mlops model registry",
  version: SDK_VERSION,
  registry: true,
  json: true,
  commands: COMMANDS,
  exitCodes: MLOPS_EXIT_CODES,
  commandExitCodes:
    'Exit codes: 0 success, 2 usage error or bad input, 3 registry error (see "mlops --help").',
  environment: [
    ["GITHUB_ACTOR", "the default --actor of `alias set` and `gate` (else the OS user name)"],
    ["NO_COLOR", "set to turn colour off (colour is only used on a terminal)"],
  ],
  context(globals, io) {
    return { registryPath: registryLocation(globals.registry, io) };
  },
};

/**
 * Runs the `mlops` command line and resolves to its exit code; never throws and never calls
 * `process.exit`, so tests run it in-process with buffers for streams.
 *
 * @example
 * const code = await main(["models", "list", "--json"], {
 *   stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd(),
 * });
 */
export function main(argv: readonly string[], io: CliIo): Promise<number> {
  return runProgram(PROGRAM, argv, io);
}
