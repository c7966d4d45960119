import type { MlopsErrorCode } from "@mlops/core";
import type { TrainIo } from "./format.js";
import { OPTIONS, parseCommandLine, resolveOptions, UsageError } from "./options.js";

export type { TrainIo } from "./format.js";

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

const USAGE_CODES: ReadonlySet<MlopsErrorCode> = new Set<MlopsErrorCode>([
  "argument_invalid",
  "metric_unknown",
  "schema_definition",
  "registry_name_invalid",
  "uri_invalid",
]);

const REGISTRY_CODES: ReadonlySet<MlopsErrorCode> = new Set<MlopsErrorCode>([
  "registry_not_found",
  "registry_conflict",
  "registry_lock_timeout",
  "registry_corrupt",
  "artifact_corrupt",
  "artifact_invalid",
  "file_write",
]);

function help(): string {
  const rows = Object.entries(OPTIONS).map(([name, spec]) => {
    const short = spec.short ? `-${spec.short}, ` : "";
    const flag = `${short}--${name}${spec.type === "string" ? ` ${spec.value}` : ""}`;
    return [flag, spec.description] as const;
  });
  const width = Math.max(...rows.map(([flag]) => flag.length));
  return [
    "mlops-train — search hyperparameters with cross-validation, then register the best model\n",
    "\nUsage:\n",
    "  mlops-train --data wine.csv --target quality [--model tree] [--search random]\n",
    "              [--trials 100] [--cv 5] [--metric rmse] [--register wine --alias staging]\n",
    "  mlops-train --config mlops.train.yaml [OPTIONS]\n",
    "\nOptions:\n",
    ...rows.map(([flag, description]) => `  ${flag.padEnd(width)}  ${description}\n`),
    "\nExit codes:\n",
    "  0  success\n",
    "  1  unexpected error (printed with its stack)\n",
    "  2  bad options or config file (unknown option or model, bad value, unknown metric)\n",
    "  3  bad data (missing file, schema violations with file:line, unusable target,\n",
    "     every fit failed)\n",
    "  4  registry error (corrupt registry, lock timeout, I/O)\n",
    "\nEnvironment:\n",
    "  MLOPS_REGISTRY  the registry folder when --registry is not given (default ./.mlops)\n",
    "  CI              when set, progress is printed as plain lines (also when not a terminal)\n",
  ].join("");
}

/** core's `MlopsError.isInstance`, without loading core (the brand is a global symbol). */
function isMlopsError(
  error: unknown,
): error is Error & { code: MlopsErrorCode; toJSON(): Record<string, unknown> } {
  return typeof error === "object" && error !== null && Symbol.for("mlops.error") in error;
}

interface ErrorBody {
  code: string;
  message: string;
  issues?: unknown[];
}

/**
 * Runs `mlops-train` and resolves to its exit code; never throws and never calls
 * `process.exit`, so tests can run it in-process with buffers for streams.
 *
 * @example
 * const code = await main(["--data", "wine.csv", "--target", "quality", "--json"], {
 *   stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd(),
 * });
 */
export async function main(argv: readonly string[], io: TrainIo): Promise<number> {
  let json = argv.includes("--json");
  const fail = (code: number, body: ErrorBody, hint?: string): number => {
    io.stderr.write(`mlops-train: ${body.message}\n${hint ? `${hint}\n` : ""}`);
    if (json) io.stdout.write(`${JSON.stringify({ error: body }, null, 2)}\n`);
    return code;
  };
  try {
    const line = parseCommandLine(argv);
    json = line.values.json === true;
    if (line.values.help === true) {
      io.stdout.write(help());
      return EXIT_CODES.success;
    }
    // The SDK loads only past option errors and --help: those answer at once.
    if (line.values.version === true) {
      const { SDK_VERSION } = await import("@mlops/core");
      io.stdout.write(json ? `${JSON.stringify({ version: SDK_VERSION })}\n` : `${SDK_VERSION}\n`);
      return EXIT_CODES.success;
    }
    const options = await resolveOptions(line, io.cwd);
    const { train } = await import("./run.js");
    const say = (text: string) => {
      if (!options.json) io.stdout.write(text);
    };
    const report = await train(options, io, say);
    if (options.json) io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return EXIT_CODES.success;
  } catch (error) {
    if (error instanceof UsageError) {
      return fail(
        EXIT_CODES.usage,
        {
          code: "usage",
          message: error.message,
          ...(error.issues.length > 0 ? { issues: error.issues } : {}),
        },
        'Run "mlops-train --help" for usage.',
      );
    }
    if (isMlopsError(error)) {
      const body = error.toJSON() as unknown as ErrorBody;
      const code = USAGE_CODES.has(error.code)
        ? EXIT_CODES.usage
        : REGISTRY_CODES.has(error.code)
          ? EXIT_CODES.registry
          : EXIT_CODES.data;
      return fail(code, {
        code: error.code,
        message: error.message,
        ...(body.issues ? { issues: body.issues } : {}),
      });
    }
    const message = error instanceof Error ? error.message : String(error);
    const detail = error instanceof Error ? (error.stack ?? message) : message;
    io.stderr.write(`mlops-train: unexpected error: ${detail}\n`);
    if (json) {
      io.stdout.write(`${JSON.stringify({ error: { code: "internal", message } }, null, 2)}\n`);
    }
    return EXIT_CODES.unexpected;
  }
}
