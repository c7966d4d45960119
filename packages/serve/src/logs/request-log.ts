import { MlopsError } from "@mlops/core";
import type { PredictionEvent, RequestLogEntry } from "../app/pipeline.js";

/**
 * Where request logs go: anything with `write(line)`, such as `process.stderr` or a file
 * stream. Each line is one JSON object and ends with `\n`.
 *
 * @example
 * const lines: string[] = [];
 * createInferenceApp({ models, logger: { write: (line) => lines.push(line) } });
 */
export interface LogSink {
  write(line: string): unknown;
}

/**
 * One line of the request log (JSON, keys in this order). `model`, `version` and `error` are
 * `null` where they do not apply; `rows` is 0 for requests that predicted nothing.
 *
 * @example
 * // {"time":"2025-01-01T12:00:00.000Z","method":"POST","path":"/v1/models/wine/predict",
 * //  "route":"v1_predict","status":200,"model":"wine","version":"3","rows":1,
 * //  "duration_ms":0.412,"request_id":"order-17","error":null}
 */
export interface RequestLogLine {
  time: string;
  method: string;
  path: string;
  /** The route's name (`"v1_predict"`, `"v2_ready"`, a custom route's path); null for 404s. */
  route: string | null;
  status: number;
  model: string | null;
  version: string | null;
  rows: number;
  duration_ms: number;
  request_id: string;
  /** The error code of a failed request (`"schema_invalid"`, `"unauthorized"`, …). */
  error: string | null;
  /** The variant that answered, for a split (A/B) name (absent otherwise). */
  variant?: string;
  /**
   * `true` on a shadow's line: a mirrored request's prediction, not returned to the client
   * (same `request_id` as the answered request). Absent otherwise.
   */
  shadow?: true;
}

/**
 * The `logger` option: `true` for JSON lines on stdout, or a sink of your own.
 *
 * @example
 * createInferenceApp({ models, logger: process.stderr });
 */
export type LoggerOption = boolean | LogSink;

/** Milliseconds with microsecond precision. */
function milliseconds(seconds: number): number {
  return Math.round(seconds * 1e6) / 1e3;
}

/**
 * Writes one JSON line per request: predictions (from the prediction pipeline, with model,
 * version and rows) and every other route (health, metadata, metrics, 404s, refused keys).
 * The library never writes to the console on its own: `process.stdout` is used only when the
 * app was created with `logger: true`.
 */
export class RequestLogger {
  readonly #sink: LogSink;

  constructor(sink: LogSink) {
    this.#sink = sink;
  }

  /** Logs an answered prediction request (an `onPrediction` observer). */
  readonly prediction = (event: PredictionEvent): void => {
    this.#write({
      time: new Date().toISOString(),
      method: event.method,
      path: event.path,
      route: event.route,
      status: event.status,
      model: event.model ?? null,
      version: event.version ?? null,
      rows: event.rows,
      duration_ms: milliseconds(event.seconds),
      request_id: event.requestId,
      error: event.error ?? null,
      ...(event.variant === undefined ? {} : { variant: event.variant }),
      ...(event.shadow ? { shadow: true as const } : {}),
    });
  };

  /** Logs a request answered outside the prediction pipeline. */
  readonly request = (entry: RequestLogEntry): void => {
    this.#write({
      time: new Date().toISOString(),
      method: entry.method,
      path: entry.path,
      route: entry.route ?? null,
      status: entry.status,
      model: null,
      version: null,
      rows: 0,
      duration_ms: milliseconds(entry.seconds),
      request_id: entry.requestId,
      error: entry.error ?? null,
    });
  };

  #write(line: RequestLogLine): void {
    try {
      this.#sink.write(`${JSON.stringify(line)}\n`);
    } catch {
      // A broken log sink must not change the answer.
    }
  }
}

/** The app's logger for its `logger` option; undefined when logging is off (the default). */
export function createRequestLogger(option: LoggerOption | undefined): RequestLogger | undefined {
  if (option === undefined || option === false) return undefined;
  if (option === true) return new RequestLogger({ write: (line) => process.stdout.write(line) });
  if (typeof option !== "object" || option === null || typeof option.write !== "function") {
    throw new MlopsError(
      "argument_invalid",
      "logger: expected true, false or an object with write(line)",
    );
  }
  return new RequestLogger(option);
}
