const marker = Symbol.for("mlops.error");

/** Every error code an @mlops package can throw, as a snake_case string. */
export type MlopsErrorCode =
  | "schema_invalid"
  | "schema_definition"
  | "data_invalid"
  | "file_not_found"
  | "file_read"
  | "file_write"
  | "format_unsupported"
  | "csv_empty"
  | "csv_header_only"
  | "csv_ragged_row"
  | "csv_unterminated_quote"
  | "csv_duplicate_column"
  | "parquet_invalid"
  | "arrow_invalid"
  | "jsonl_invalid"
  | "frame_invalid"
  | "metric_unknown"
  | "metric_input"
  | "gate_config_invalid"
  | "gate_data_invalid"
  | "gate_metric_missing"
  | "argument_invalid"
  | "registry_not_found"
  | "registry_conflict"
  | "registry_name_invalid"
  | "registry_lock_timeout"
  | "registry_corrupt"
  | "registry_location_invalid"
  | "registry_unavailable"
  | "registry_schema_unsupported"
  | "package_missing"
  | "artifact_corrupt"
  | "artifact_invalid"
  | "predictor_unsupported"
  | "predictor_input"
  | "runtime_unavailable"
  | "ui_unavailable"
  | "filter_invalid"
  | "not_fitted"
  | "uri_invalid"
  | "profile_invalid"
  | "batch_no_input"
  | "batch_run_conflict"
  | "batch_failed";

/** Where in a file a problem was found (1-based line and column, as editors show them). */
export interface SourceLocation {
  file?: string;
  line?: number;
  column?: string | number;
}

export interface MlopsErrorOptions {
  cause?: unknown;
  location?: SourceLocation;
}

/**
 * The base of every error thrown by @mlops. Branch on `code`, never on the message.
 *
 * @example
 * try { await readFrame("missing.csv") } catch (error) {
 *   if (MlopsError.isInstance(error) && error.code === "file_not_found") { ... }
 * }
 */
export class MlopsError extends Error {
  /** Brand checked by `isInstance` (a symbol from the global registry, shared by every copy). */
  readonly [marker] = true;
  readonly code: MlopsErrorCode;
  readonly location: SourceLocation | undefined;

  constructor(code: MlopsErrorCode, message: string, options: MlopsErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "MlopsError";
    this.code = code;
    this.location = options.location;
  }

  /** True for any MlopsError, even one created by another copy of this package. */
  static isInstance(value: unknown): value is MlopsError {
    return typeof value === "object" && value !== null && marker in value;
  }

  toJSON(): { code: MlopsErrorCode; message: string; location?: SourceLocation } {
    return this.location
      ? { code: this.code, message: this.message, location: this.location }
      : { code: this.code, message: this.message };
  }
}

/** Formats a location as `file:line` plus the column, for messages. */
export function formatLocation(location: SourceLocation): string {
  let text = location.file ?? "<input>";
  if (location.line !== undefined) text += `:${location.line}`;
  if (location.column !== undefined) {
    text +=
      typeof location.column === "number"
        ? `:${location.column}`
        : ` (column "${location.column}")`;
  }
  return text;
}
