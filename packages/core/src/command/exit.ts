import { MlopsError, type MlopsErrorCode } from "../errors/error.js";
import { UsageError } from "./options.js";

/**
 * What kind of failure an error code is, whichever tool meets it. Each tool maps the kinds to
 * its exit codes (`ExitCodes`), so that one error code means the same exit code wherever it
 * occurs in a tool, and the tools differ only where their help says so.
 */
export type ErrorKind =
  /** The command line or a config names something invalid (a rule, a metric, a name, a URI). */
  | "usage"
  /** A model, version, alias, experiment or run that does not exist. */
  | "not_found"
  /** Something that already exists or cannot change (an alias still pointing at a version). */
  | "conflict"
  /** The data given: a missing or malformed file, schema violations, an unusable column. */
  | "data"
  /** The registry itself is in trouble: corrupt, tampered, locked. */
  | "registry"
  /** A file could not be read (permissions, a directory where a file was expected). */
  | "read"
  /** A file could not be written. */
  | "write";

/**
 * The kind of every error code. A `Record` over the whole union: adding an error code to
 * `MlopsErrorCode` fails to compile until it is given a kind here.
 */
export const ERROR_KINDS: Readonly<Record<MlopsErrorCode, ErrorKind>> = {
  schema_definition: "usage",
  metric_unknown: "usage",
  gate_config_invalid: "usage",
  gate_metric_missing: "usage",
  argument_invalid: "usage",
  registry_name_invalid: "usage",
  filter_invalid: "usage",
  uri_invalid: "usage",
  batch_no_input: "usage",
  registry_not_found: "not_found",
  registry_conflict: "conflict",
  batch_run_conflict: "conflict",
  registry_location_invalid: "usage",
  package_missing: "usage",
  schema_invalid: "data",
  data_invalid: "data",
  file_not_found: "data",
  format_unsupported: "data",
  csv_empty: "data",
  csv_header_only: "data",
  csv_ragged_row: "data",
  csv_unterminated_quote: "data",
  csv_duplicate_column: "data",
  parquet_invalid: "data",
  arrow_invalid: "data",
  jsonl_invalid: "data",
  frame_invalid: "data",
  metric_input: "data",
  gate_data_invalid: "data",
  predictor_unsupported: "data",
  predictor_input: "data",
  runtime_unavailable: "data",
  // An optional package (@mlops/ui) to install: the command line asked for what it draws.
  ui_unavailable: "usage",
  not_fitted: "data",
  profile_invalid: "data",
  batch_failed: "data",
  registry_lock_timeout: "registry",
  registry_corrupt: "registry",
  registry_unavailable: "registry",
  registry_schema_unsupported: "registry",
  artifact_corrupt: "registry",
  artifact_invalid: "registry",
  file_read: "read",
  file_write: "write",
};

/**
 * A tool's exit codes: one per kind of failure, one for a usage error and one for an unexpected
 * error (a bug: printed with its stack), plus the table its `--help` prints.
 */
export interface ExitCodes extends Readonly<Record<ErrorKind, number>> {
  /** An unexpected error. */
  readonly internal: number;
  /** The rows of the help's "Exit codes:" table: code and meaning (wrapped to fit). */
  readonly help: readonly (readonly [code: number, meaning: string])[];
}

const failureMarker = Symbol.for("mlops.command_failure");

/**
 * An anticipated failure that is not an `MlopsError` (a port already in use): printed as one
 * line without a stack, with its own exit code.
 *
 * @example
 * throw new CommandFailure("cannot listen: port 8080 on 127.0.0.1 is already in use", 1);
 */
export class CommandFailure extends Error {
  /** Brand checked by `isInstance`: a global symbol, shared by every copy of this module. */
  readonly [failureMarker] = true;

  constructor(
    message: string,
    readonly exitCode: number,
    readonly code = "failed",
  ) {
    super(message);
    this.name = "CommandFailure";
  }

  /** True for any CommandFailure, also one from another copy of this module. */
  static isInstance(value: unknown): value is CommandFailure {
    return typeof value === "object" && value !== null && failureMarker in value;
  }
}

/** The exit code `error` ends a tool with. */
export function exitCodeFor(error: unknown, codes: ExitCodes): number {
  if (UsageError.isInstance(error)) return codes.usage;
  if (CommandFailure.isInstance(error)) return error.exitCode;
  if (MlopsError.isInstance(error)) return codes[ERROR_KINDS[error.code] ?? "data"];
  return codes.internal;
}

/** Where a failure is reported. */
export interface FailureOutput {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

/**
 * Reports `error` the way every tool does and returns its exit code: one line
 * `tool: message` on stderr (a usage error adds the `--help` to read; an unexpected error its
 * stack), and with `json` the error as one JSON document on stdout,
 * `{ "error": { "code", "message", "issues"? } }`.
 */
export function reportFailure(
  error: unknown,
  options: { program: string; io: FailureOutput; json: boolean; exitCodes: ExitCodes },
): number {
  const { program, io, json, exitCodes } = options;
  let body: { code: string; message: string; issues?: unknown[] };
  if (UsageError.isInstance(error)) {
    body = {
      code: "usage",
      message: error.message,
      ...(error.issues.length > 0 ? { issues: error.issues } : {}),
    };
    io.stderr.write(
      `${program}: ${error.message}\nRun "${error.helpFor ?? program} --help" for usage.\n`,
    );
  } else if (CommandFailure.isInstance(error)) {
    body = { code: error.code, message: error.message };
    io.stderr.write(`${program}: ${error.message}\n`);
  } else if (MlopsError.isInstance(error)) {
    const issues = (error.toJSON() as { issues?: unknown[] }).issues;
    body = { code: error.code, message: error.message, ...(issues ? { issues } : {}) };
    io.stderr.write(`${program}: ${error.message}\n`);
  } else {
    // Not an error the SDK anticipated: a bug or an environment problem. The stack is what a
    // bug report needs, so it is printed in full.
    const message = error instanceof Error ? error.message : String(error);
    body = { code: "internal", message };
    const detail = error instanceof Error ? (error.stack ?? message) : message;
    io.stderr.write(`${program}: unexpected error: ${detail}\n`);
  }
  if (json) io.stdout.write(`${JSON.stringify({ error: body }, null, 2)}\n`);
  return exitCodeFor(error, exitCodes);
}
