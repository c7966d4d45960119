import { randomUUID } from "node:crypto";
import type { Frame } from "@mlops/core";
import { errorHeaders, oipErrorBody, restErrorBody, ServeError, toServeError } from "../errors.js";
import { header, type RequestSource, readBody } from "../http/body.js";
import type { ConcurrencyLimiter, Limits } from "../limits/limits.js";
import { withTimeout } from "../limits/limits.js";
import type { RequestRecorder } from "../metrics/metrics.js";
import type { ModelCatalog } from "../models/catalog.js";
import type { ModelHolder } from "../models/holder.js";
import { predictFrame, predictRow, type ServedModel } from "../models/served.js";

/** The error body style of a route: REST/MLflow `{"error":{code,message}}` or OIP's. */
export type ErrorStyle = "rest" | "oip";

/** What one answered prediction request looked like (for request logs). */
export interface PredictionEvent {
  /** The route's metric label (`"v1_predict"`, `"v2_infer"`, `"invocations"`, a custom path). */
  readonly route: string;
  /** The served model and version, when the request got as far as choosing one. */
  readonly model: string | undefined;
  readonly version: string | undefined;
  readonly status: number;
  /** Rows predicted (0 for a failed request). */
  readonly rows: number;
  readonly seconds: number;
  /** The error code of a failed request. */
  readonly error: string | undefined;
}

/** Called after every prediction request, off the response path; must not throw. */
export type PredictionObserver = (event: PredictionEvent) => void;

/** What the routes share: the models, limits and metrics of one app. */
export interface AppState {
  readonly catalog: ModelCatalog;
  readonly limits: Limits;
  readonly limiter: ConcurrencyLimiter;
  /** Where requests that never reached a model (404, 400 before selection) are recorded. */
  readonly unmatched: RequestRecorder;
  readonly observers: readonly PredictionObserver[];
  closing: boolean;
}

/** A response before it becomes a web `Response` (Hono) or is written to Node directly. */
export interface Answer {
  readonly status: number;
  /** A new object per answer: writers may add `content-length` to it. */
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** Path parameters and query of the request (from Hono, or from the Node fast path). */
export interface RouteParams {
  param(name: string): string | undefined;
  /** Every path parameter. */
  params(): Record<string, string>;
  query(name: string): string | undefined;
}

/** A parsed prediction request: one row (the fast path) or a frame, and how to answer. */
export interface Prepared {
  readonly row?: Record<string, unknown>;
  readonly frame?: Frame;
  respond(predictions: Float64Array | number): Answer;
}

/** One prediction route: how it picks the model, checks the request and parses the body. */
export interface PredictEndpoint {
  /** The `route` label of its metrics. */
  readonly route: string;
  readonly style: ErrorStyle;
  /** The holder of the model the request is for (throws 404 / 400). */
  select(params: RouteParams, source: RequestSource): ModelHolder;
  /** Throws 415 for a content type the route does not take. */
  accept(source: RequestSource): void;
  /** Parses the body (throws 400 / 413 / 422). */
  prepare(served: ServedModel, body: string, source: RequestSource, params: RouteParams): Prepared;
}

/** A JSON answer with a ready-made body. */
export function jsonAnswer(body: string, status = 200, headers?: Record<string, string>): Answer {
  return {
    status,
    headers: headers
      ? { "content-type": "application/json", ...headers }
      : { "content-type": "application/json" },
    body,
  };
}

/** The error answer of `error` in the route's style. */
export function errorAnswer(error: ServeError, style: ErrorStyle): Answer {
  return {
    status: error.status,
    headers: errorHeaders(error),
    body: style === "oip" ? oipErrorBody(error) : restErrorBody(error),
  };
}

/**
 * The answer as a web `Response`. Under `@hono/node-server` this is its lightweight Response,
 * which writes the plain header object to Node as it is.
 */
export function toResponse(answer: Answer): Response {
  return new Response(answer.body, { status: answer.status, headers: answer.headers });
}

/** A JSON `Response` (metadata routes). */
export function jsonResponse(body: string, status = 200): Response {
  return toResponse(jsonAnswer(body, status));
}

/** An error `Response` in the route's style. */
export function errorResponse(error: ServeError, style: ErrorStyle): Response {
  return toResponse(errorAnswer(error, style));
}

/** A number as JSON (`null` for NaN and ±Infinity, which JSON cannot carry). */
export function numberJson(value: number): string {
  return Number.isFinite(value) ? String(value) : "null";
}

/** Predictions as a JSON array. */
export function numbersJson(values: Float64Array | number): string {
  if (typeof values === "number") return `[${numberJson(values)}]`;
  const n = values.length;
  if (n === 0) return "[]";
  let text = `[${numberJson(values[0])}`;
  for (let i = 1; i < n; i++) {
    const value = values[i];
    text += Number.isFinite(value) ? `,${value}` : ",null";
  }
  return `${text}]`;
}

const SAFE_ID = /^[\w.:@/+=-]{1,128}$/;

/**
 * The request id: the client's `x-request-id` when it is a short token, else a new UUID. Safe
 * to put between JSON quotes as it is.
 */
export function requestId(source: RequestSource): string {
  const given = header(source, "x-request-id");
  return given !== undefined && SAFE_ID.test(given) ? given : randomUUID();
}

/**
 * Answers a prediction request end to end: model, content type, readiness, concurrency slot,
 * body (size limit, deadline), parsing, prediction, answer — and records the outcome in the
 * model's metrics. Every failure becomes the route's JSON error; it never rejects.
 */
export async function answerPrediction(
  state: AppState,
  endpoint: PredictEndpoint,
  source: RequestSource,
  params: RouteParams,
): Promise<Answer> {
  const started = performance.now();
  let served: ServedModel | undefined;
  let predictions: Float64Array | number | undefined;
  let answer: Answer;
  let failure: ServeError | undefined;
  let holdsSlot = false;
  const limiter = state.limiter;
  try {
    if (state.closing) throw shuttingDown();
    const holder = endpoint.select(params, source);
    endpoint.accept(source);
    served = holder.require();
    limiter.acquire();
    holdsSlot = true;
    const timeoutMs = state.limits.timeoutMs;
    const body = await readBody(source, state.limits.maxBodyBytes, timeoutMs);
    const prepared = endpoint.prepare(served, body, source, params);
    let result: Float64Array | number | Promise<Float64Array | number> =
      prepared.row !== undefined
        ? predictRow(served, prepared.row)
        : predictFrame(served, prepared.frame!);
    if (typeof result === "object" && !(result instanceof Float64Array)) {
      // An asynchronous model: its slot is freed when it finishes, even after a timeout.
      holdsSlot = false;
      result = await withTimeout(result, timeoutMs - (performance.now() - started), () =>
        limiter.release(),
      );
    }
    predictions = result;
    answer = prepared.respond(result);
  } catch (error) {
    predictions = undefined;
    failure = toServeError(error);
    answer = errorAnswer(failure, endpoint.style);
  } finally {
    if (holdsSlot) limiter.release();
  }
  const seconds = (performance.now() - started) / 1000;
  (served?.metrics ?? state.unmatched).record(endpoint.route, answer.status, seconds, predictions);
  if (state.observers.length > 0) {
    const event: PredictionEvent = {
      route: endpoint.route,
      model: served?.name,
      version: served?.version,
      status: answer.status,
      rows:
        predictions === undefined ? 0 : typeof predictions === "number" ? 1 : predictions.length,
      seconds,
      error: failure?.code,
    };
    for (const observer of state.observers) {
      try {
        observer(event);
      } catch {
        // An observer (a logger) must not change the answer.
      }
    }
  }
  return answer;
}

/** 503 while the app shuts down. */
export function shuttingDown(): ServeError {
  return new ServeError("shutting_down", "the server is shutting down");
}
