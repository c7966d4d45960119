import {
  type CommandIo,
  defineCommand,
  type ExitCodes,
  type Program,
  REGISTRY_ENVIRONMENT,
  runProgram,
  SDK_VERSION,
} from "@mlops/core/internal";
import { resolveOptions, TRAIN_OPTIONS } from "./options.js";

/** Where output goes: the process's streams in `bin.ts`, buffers in tests. */
export type TrainIo = CommandIo;

/** The exit codes of `mlops-train`, as `--help` and docs/training.md list them. */
export const EXIT_CODES = {
  success: 0,
  /** An unexpected error (a bug or the environment): printed with its stack. */
  unexpected: 1,
  /** Bad options or config file: unknown option, bad value, unknown model or metric. */
  usage: 2,
  /** Bad data: unreadable file, schema violations, unusable target or features, failed fits. */
  data: 3,
  /** Registry error: corrupt registry or artifact, lock timeout, I/O. */
  registry: 4,
} as const;

const TRAIN_EXIT_CODES: ExitCodes = {
  usage: EXIT_CODES.usage,
  not_found: EXIT_CODES.usage,
  conflict: EXIT_CODES.registry,
  data: EXIT_CODES.data,
  read: EXIT_CODES.data,
  registry: EXIT_CODES.registry,
  write: EXIT_CODES.registry,
  internal: EXIT_CODES.unexpected,
  help: [
    [0, "success"],
    [1, "unexpected error (printed with its stack)"],
    [2, "bad options or config file (unknown option or model, bad value, unknown metric)"],
    [
      3,
      "bad data (missing file, schema violations with file:line, unusable target, every fit failed)",
    ],
    [4, "registry error (corrupt registry, lock timeout, I/O)"],
  ],
};

const trainCommand = defineCommand({
  name: "",
  summary: "search hyperparameters with cross-validation, then register the best model",
  usage: [
    "mlops-train --data wine.csv --target quality [--model tree] [--search random]",
    "            [--trials 100] [--cv 5] [--metric rmse] [--register wine --alias staging]",
    "mlops-train --config mlops.train.yaml [OPTIONS]",
  ],
  options: TRAIN_OPTIONS,
  async run({ options, json, io }) {
    const resolved = await resolveOptions(options, json, io.cwd);
    // The search (and what it loads) only past option errors and --help: those answer at once.
    const { train } = await import("./run.js");
    const say = (text: string) => {
      if (!json) io.stdout.write(text);
    };
    const report = await train(resolved, io, say);
    return { json: report };
  },
});

const PROGRAM: Program = {
  name: "mlops-train",
  summary: "search hyperparameters with cross-validation, then register the best model",
  version: SDK_VERSION,
  json: true,
  commands: [trainCommand],
  exitCodes: TRAIN_EXIT_CODES,
  environment: [
    REGISTRY_ENVIRONMENT,
    ["CI", "when set, progress is printed as plain lines (also when not a terminal)"],
  ],
};

/**
 * Runs `mlops-train` and resolves to its exit code; never throws and never calls
 * `process.exit`, so tests can run it in-process with buffers for streams.
 *
 * @example
 * const code = await main(["--data", "wine.csv", "--target", "quality", "--json"], {
 *   stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd(),
 * });
 */
export function main(argv: readonly string[], io: TrainIo): Promise<number> {
  return runProgram(PROGRAM, argv, io);
}
