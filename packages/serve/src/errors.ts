import { type Issue, MlopsError } from "@mlops/core";

/**
 * Every error the inference server answers with, as a snake_case code. `ERROR_STATUS` maps each
 * to its HTTP status; nothing else in the package picks a status for an error.
 */
export type ServeErrorCode =
  | "malformed_json"
  | "malformed_csv"
  | "invalid_request"
  | "model_selection_required"
  | "unauthorized"
  | "forbidden"
  | "model_not_found"
  | "version_not_found"
  | "route_not_found"
  | "method_not_allowed"
  | "payload_too_large"
  | "too_many_rows"
  | "unsupported_media_type"
  | "schema_invalid"
  | "feedback_unknown_id"
  | "feedback_expired"
  | "feedback_duplicate"
  | "feedback_invalid"
  | "model_not_ready"
  | "overloaded"
  | "timeout"
  | "shutting_down"
  | "internal";

/**
 * The one table from error code to HTTP status. Bad input is always a 4xx; only `internal`
 * (a bug or a failing model) is a 500.
 *
 * @example
 * ERROR_STATUS.schema_invalid; // 422
 */
export const ERROR_STATUS: Readonly<Record<ServeErrorCode, number>> = Object.freeze({
  malformed_json: 400,
  malformed_csv: 400,
  invalid_request: 400,
  model_selection_required: 400,
  unauthorized: 401,
  forbidden: 403,
  model_not_found: 404,
  version_not_found: 404,
  route_not_found: 404,
  method_not_allowed: 405,
  payload_too_large: 413,
  too_many_rows: 413,
  unsupported_media_type: 415,
  schema_invalid: 422,
  feedback_unknown_id: 404,
  feedback_expired: 410,
  feedback_duplicate: 409,
  feedback_invalid: 422,
  model_not_ready: 503,
  overloaded: 503,
  timeout: 503,
  shutting_down: 503,
  internal: 500,
});

/** Core error codes that describe bad input (never a 500), and the serve code they become. */
const CORE_INPUT_ERRORS: Readonly<Record<string, ServeErrorCode>> = {
  schema_invalid: "schema_invalid",
  predictor_input: "schema_invalid",
  data_invalid: "invalid_request",
  frame_invalid: "invalid_request",
  csv_empty: "malformed_csv",
  csv_header_only: "malformed_csv",
  csv_ragged_row: "malformed_csv",
  csv_unterminated_quote: "malformed_csv",
  csv_duplicate_column: "malformed_csv",
  uri_invalid: "invalid_request",
};

/** Seconds a client should wait before retrying a 503 (the `Retry-After` header). */
const DEFAULT_RETRY_AFTER_SECONDS = 1;

export interface ServeErrorOptions {
  issues?: Issue[];
  /** Seconds for `Retry-After` (503 answers get 1 when not given). */
  retryAfter?: number;
  /** Extra response headers (`Allow` for 405). */
  headers?: Record<string, string>;
  cause?: unknown;
}

const marker = Symbol.for("mlops.error");

/**
 * An error with an HTTP meaning: its `status` comes from `ERROR_STATUS`. Thrown by routes,
 * middleware and custom `mapRequest` functions; the app turns it into the JSON error body.
 * It carries the same brand as core's `MlopsError`, so `MlopsError.isInstance` is true for it.
 *
 * @example
 * throw new ServeError("invalid_request", 'body: expected an object with "rows"');
 */
export class ServeError extends Error {
  readonly [marker] = true;
  readonly code: ServeErrorCode;
  readonly status: number;
  readonly issues: Issue[] | undefined;
  readonly retryAfter: number | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(code: ServeErrorCode, message: string, options: ServeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ServeError";
    this.code = code;
    this.status = ERROR_STATUS[code];
    this.issues = options.issues;
    this.retryAfter =
      options.retryAfter ?? (this.status === 503 ? DEFAULT_RETRY_AFTER_SECONDS : undefined);
    this.headers = options.headers;
  }

  /** True for a ServeError, also one from another copy of this package. */
  static isInstance(value: unknown): value is ServeError {
    return (
      MlopsError.isInstance(value) &&
      typeof (value as { status?: unknown }).status === "number" &&
      (value as { code: string }).code in ERROR_STATUS
    );
  }

  /** The REST body's `error` member: `{ code, message, issues? }`. */
  toJSON(): { code: ServeErrorCode; message: string; issues?: Issue[] } {
    return this.issues
      ? { code: this.code, message: this.message, issues: this.issues }
      : { code: this.code, message: this.message };
  }
}

/**
 * Turns anything thrown while answering a request into a `ServeError`: a ServeError stays as it
 * is, core's input errors (schema, CSV, frame) keep their message and issues with a 4xx code,
 * and everything else becomes a generic `internal` error whose message reveals nothing.
 *
 * @example
 * const error = toServeError(caught);
 * return new Response(JSON.stringify({ error }), { status: error.status });
 */
export function toServeError(error: unknown): ServeError {
  if (ServeError.isInstance(error)) return error;
  if (MlopsError.isInstance(error)) {
    const code = CORE_INPUT_ERRORS[error.code];
    if (code !== undefined) {
      const issues = (error as { issues?: Issue[] }).issues;
      return new ServeError(code, error.message, {
        issues: Array.isArray(issues) ? issues : undefined,
        cause: error,
      });
    }
  }
  return new ServeError("internal", "Internal server error", { cause: error });
}

/**
 * The REST and MLflow error body: `{"error": {"code", "message", "issues"?}}`.
 *
 * @example
 * restErrorBody(new ServeError("model_not_found", 'no model "wine"'));
 * // '{"error":{"code":"model_not_found","message":"no model \"wine\""}}'
 */
export function restErrorBody(error: ServeError): string {
  return JSON.stringify({ error: error.toJSON() });
}

/**
 * The Open Inference Protocol error body: `{"error": "message"}`.
 *
 * @example
 * oipErrorBody(new ServeError("model_not_found", 'no model "wine"'));
 * // '{"error":"no model \"wine\""}'
 */
export function oipErrorBody(error: ServeError): string {
  return JSON.stringify({ error: error.message });
}

/**
 * Response headers for an error: JSON content type, `Retry-After` for 503, any extras.
 *
 * @example
 * errorHeaders(new ServeError("overloaded", "busy"));
 * // { "content-type": "application/json", "retry-after": "1" }
 */
export function errorHeaders(error: ServeError): Record<string, string> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (error.retryAfter !== undefined) headers["retry-after"] = String(error.retryAfter);
  if (error.headers) Object.assign(headers, error.headers);
  return headers;
}
