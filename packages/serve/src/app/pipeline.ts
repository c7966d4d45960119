import { randomUUID } from "node:crypto";
import type { Frame } from "@mlops/core";
import { errorHeaders, oipErrorBody, restErrorBody, ServeError, toServeError } from "../errors.js";
import { type BodyBytes, header, type RequestSource, readBodyBytes } from "../http/body.js";
import type { ConcurrencyLimiter, Limits } from "../limits/limits.js";
import { withTimeout } from "../limits/limits.js";
import type { RequestRecorder } from "../metrics/metrics.js";
import type { ModelCatalog } from "../models/catalog.js";
import type { ModelHolder } from "../models/holder.js";
import { type ModelUsage, predictFrame, predictRow, type ServedModel } from "../models/served.js";
import {
  keyFromBody,
  stripKeyField,
  type Variant,
  type VariantRouter,
} from "../models/variants.js";
import type { Monitoring } from "../monitor/monitoring.js";
import type { RouteInfo, RouteProtocol } from "./types.js";

/** The error body style of a route: REST/MLflow `{"error":{code,message}}` or OIP's. */
export type ErrorStyle = "rest" | "oip";

/** The error style of a protocol: OIP's `{"error": "..."}`, else REST's `{"error": {...}}`. */
export function styleOf(protocol: RouteProtocol): ErrorStyle {
  return protocol === "oip" ? "oip" : "rest";
}

/** The style of a path no route matched (404, 405): OIP's under `/v2`, else REST's. */
export function styleOfPath(path: string): ErrorStyle {
  return path === "/v2" || path.startsWith("/v2/") ? "oip" : "rest";
}

/** What one answered prediction request looked like (for request logs). */
export interface PredictionEvent {
  /** The route's metric label (`"v1_predict"`, `"v2_infer"`, `"invocations"`, a custom path). */
  readonly route: string;
  readonly method: string;
  /** The request path, without the query. */
  readonly path: string;
  /**
   * The request id: the one answered with (named-field `id`, OIP `id`), else the client's
   * `x-request-id` when it is a short token, else a new UUID.
   */
  readonly requestId: string;
  /** The served model and version, when the request got as far as choosing one. */
  readonly model: string | undefined;
  readonly version: string | undefined;
  /** The variant that answered, for a split (A/B) name. */
  readonly variant?: string;
  /**
   * True for a shadow's prediction of a mirrored request (same `requestId` as the answered
   * one); its answer was not returned, and `status` is what it would have been.
   */
  readonly shadow?: boolean;
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
  /** Drift windows, feedback and alerts (undefined when the app does not monitor). */
  readonly monitoring: Monitoring | undefined;
  /** Logs requests answered outside the prediction pipeline (a guard refused on the fast path). */
  readonly log: ((entry: RequestLogEntry) => void) | undefined;
  closing: boolean;
  /** Shadow predictions running now (bounded by `limits.maxConcurrent`; more are dropped). */
  shadowInFlight?: number;
}

/** One request for the request log, when it did not go through the prediction pipeline. */
export interface RequestLogEntry {
  readonly method: string;
  readonly path: string;
  readonly route: string | undefined;
  readonly status: number;
  readonly seconds: number;
  readonly requestId: string;
  readonly error: string | undefined;
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
  /** The method and the path without the query (read only for request logs). */
  method(): string;
  path(): string;
}

/** A parsed prediction request: one row (the fast path) or a frame, and how to answer. */
export interface Prepared {
  readonly row?: Record<string, unknown>;
  readonly frame?: Frame;
  respond(predictions: Float64Array | number): Answer;
  /**
   * Hands the frame's memory back for reuse. Called only when a native (core) predictor
   * answered synchronously: it keeps nothing of its input.
   */
  recycle?(): void;
}

/**
 * One prediction route: how it picks the model, checks the request and parses the body. Its
 * name (the `route` label of metrics) and error style come from its entry in the route table.
 */
export interface PredictEndpoint {
  /** The holder of the model the request is for (throws 404 / 400). */
  select(params: RouteParams, source: RequestSource): ModelHolder;
  /** Throws 415 for a content type the route does not take. */
  accept(source: RequestSource): void;
  /** Parses the body (throws 400 / 413 / 422). */
  prepare(served: ServedModel, body: string, source: RequestSource, params: RouteParams): Prepared;
  /**
   * True when a sticky-key field the model does not take as a feature is removed from the
   * rows before `prepare` (built-in routes); custom routes see the body as it came.
   */
  readonly stripsKeyField?: boolean;
  /**
   * A faster parser of the body's bytes for the common case; undefined hands the request to
   * `prepare` (which answers it or reports the error). It never throws for bad input.
   */
  prepareBytes?(
    served: ServedModel,
    body: Buffer,
    source: RequestSource,
    params: RouteParams,
  ): Prepared | undefined;
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
  if (source.id !== undefined) return source.id;
  const given = header(source, "x-request-id");
  source.id = given !== undefined && SAFE_ID.test(given) ? given : flatUuid();
  return source.id;
}

/**
 * A random UUID as one flat string. Node's `randomUUID()` builds its text by concatenation: a
 * tree of cons strings of ~490 B on the heap, where the flat text takes ~70 B. The feedback
 * store keeps the ids of 50,000 predictions and of as many expired ones, so that tree alone was
 * ~45 MB of a monitored server's heap. Copying through a Buffer (the text is ASCII) flattens it.
 */
function flatUuid(): string {
  return Buffer.from(randomUUID(), "latin1").toString("latin1");
}

/**
 * Answers a prediction request end to end: model, content type, readiness, concurrency slot,
 * body (size limit, deadline), parsing, prediction, answer — and records the outcome in the
 * model's metrics. Every failure becomes the route's JSON error; it never rejects.
 */
export async function answerPrediction(
  state: AppState,
  endpoint: PredictEndpoint,
  route: RouteInfo,
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
  let usage: ModelUsage | undefined;
  const release = () => {
    limiter.release();
    if (usage !== undefined) usage.inFlight--;
  };
  /** The body as text, kept for the shadows of a split name. */
  let mirrored: string | undefined;
  let router: VariantRouter | undefined;
  try {
    if (state.closing) throw shuttingDown();
    const holder = endpoint.select(params, source);
    endpoint.accept(source);
    router = holder.router;
    const timeoutMs = state.limits.timeoutMs;
    let body: BodyBytes;
    /** The body as text when it had to be read before choosing the variant. */
    let text: string | undefined;
    if (router === undefined) {
      served = holder.require();
      limiter.acquire();
      // Counted in the same tick as `require`: a hot reload releases the old version only once
      // every request that took it is done.
      usage = served.usage;
      usage.inFlight++;
      holdsSlot = true;
      body = await readBodyBytes(source, state.limits.maxBodyBytes, timeoutMs);
    } else {
      limiter.acquire();
      holdsSlot = true;
      body = await readBodyBytes(source, state.limits.maxBodyBytes, timeoutMs);
      const chosen = chooseVariant(router, endpoint, body, source, params);
      text = chosen.text;
      served = chosen.variant.holder.require();
      usage = served.usage;
      usage.inFlight++;
      if (router.shadows.length > 0) mirrored = text ?? body.bytes.toString("utf8");
    }
    let prepared: Prepared;
    try {
      prepared =
        text !== undefined
          ? endpoint.prepare(served, text, source, params)
          : (endpoint.prepareBytes?.(served, body.bytes, source, params) ??
            endpoint.prepare(served, body.bytes.toString("utf8"), source, params));
    } finally {
      // The parsers copy what they keep: the body's memory can serve the next request.
      body.recycle?.();
    }
    let result: Float64Array | number | Promise<Float64Array | number>;
    let observed = false;
    if (prepared.row !== undefined) {
      result = predictRow(served, prepared.row);
    } else if (prepared.recycle !== undefined && served.runtime === "native") {
      try {
        result = predictFrame(served, prepared.frame!);
        if (served.monitor !== undefined && result instanceof Float64Array) {
          // Counted before the frame's memory goes back to the pool.
          observed = observe(state, served, source, prepared, result);
        }
      } finally {
        if (!(result! instanceof Promise)) prepared.recycle();
      }
    } else {
      result = predictFrame(served, prepared.frame!);
    }
    if (typeof result === "object" && !(result instanceof Float64Array)) {
      // An asynchronous model: its slot is freed when it finishes, even after a timeout.
      holdsSlot = false;
      result = await withTimeout(result, timeoutMs - (performance.now() - started), release);
    }
    predictions = result;
    answer = prepared.respond(result);
    if (served.monitor !== undefined && !observed) observe(state, served, source, prepared, result);
    if (served.variant !== undefined) {
      // Every route of a split name says which variant and version answered.
      answer.headers["x-model-variant"] = served.variant;
      answer.headers["x-model-version"] = served.version;
    }
  } catch (error) {
    predictions = undefined;
    failure = toServeError(error);
    answer = errorAnswer(failure, styleOf(route.protocol));
  } finally {
    if (holdsSlot) release();
  }
  const seconds = (performance.now() - started) / 1000;
  (served?.metrics ?? state.unmatched).record(route.name, answer.status, seconds, predictions);
  if (mirrored !== undefined && router !== undefined && predictions !== undefined) {
    // After the answer is written: a shadow never delays, changes or fails the response.
    const text = mirrored;
    const primary = predictions;
    setImmediate(() => {
      for (const shadow of router.shadows) {
        void runShadow(state, endpoint, route, shadow, text, source, params, primary);
      }
    });
  }
  if (state.observers.length > 0) {
    const event: PredictionEvent = {
      route: route.name,
      method: params.method(),
      path: params.path(),
      requestId: requestId(source),
      model: served?.name,
      version: served?.version,
      ...(served?.variant === undefined ? {} : { variant: served.variant }),
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

/**
 * The variant of a split name for this request: the one serving the version asked for (OIP's
 * `/versions/{v}/infer`), else by its sticky key (header, or body field), else in turn by
 * weight. Returns the body as text when it had to be parsed for the key.
 */
function chooseVariant(
  router: VariantRouter,
  endpoint: PredictEndpoint,
  body: BodyBytes,
  source: RequestSource,
  params: RouteParams,
): { variant: Variant; text: string | undefined } {
  const version = params.param("version");
  if (version !== undefined) {
    const variant = router.byVersion(version);
    if (variant !== undefined) return { variant, text: undefined };
  }
  const sticky = router.stickyKey;
  if (sticky === undefined) return { variant: router.pick(undefined), text: undefined };
  if ("header" in sticky) {
    const key = header(source, sticky.header);
    return { variant: router.pick(key === "" ? undefined : key), text: undefined };
  }
  let text = body.bytes.toString("utf8");
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON (CSV, or malformed: `prepare` reports it): routed by weight alone.
    return { variant: router.pick(undefined), text };
  }
  const variant = router.pick(keyFromBody(parsed, sticky.field));
  const schema = variant.holder.current?.schema;
  if (
    endpoint.stripsKeyField &&
    schema !== undefined &&
    !Object.hasOwn(schema.fields, sticky.field) &&
    stripKeyField(parsed, sticky.field)
  ) {
    text = JSON.stringify(parsed);
  }
  return { variant, text };
}

/**
 * Predicts a mirrored request with a shadow version: parsed for its own schema, measured
 * (`mlops_shadow_*`, its variant's prediction metrics), reported to the observers with
 * `shadow: true`, and never returned. At most `limits.maxConcurrent` run at once; more are
 * dropped and counted.
 */
async function runShadow(
  state: AppState,
  endpoint: PredictEndpoint,
  route: RouteInfo,
  shadow: Variant,
  text: string,
  source: RequestSource,
  params: RouteParams,
  primary: Float64Array | number,
): Promise<void> {
  const served = shadow.holder.current;
  if (served === undefined) return;
  const recorder = served.metrics;
  if (state.closing) return;
  const running = state.shadowInFlight ?? 0;
  if (running >= state.limits.maxConcurrent) {
    recorder.recordShadow?.("dropped", 0);
    return;
  }
  state.shadowInFlight = running + 1;
  served.usage.inFlight++;
  const started = performance.now();
  let predictions: Float64Array | number | undefined;
  let failure: ServeError | undefined;
  try {
    const prepared = endpoint.prepare(served, text, source, params);
    const result: Float64Array | number | Promise<Float64Array | number> =
      prepared.row !== undefined
        ? predictRow(served, prepared.row)
        : predictFrame(served, prepared.frame!);
    predictions =
      typeof result === "object" && !(result instanceof Float64Array)
        ? await withTimeout(result, state.limits.timeoutMs, () => {})
        : result;
    // Its drift window, and its prediction kept beside the answered one for the feedback.
    if (served.monitor !== undefined) observe(state, served, source, prepared, predictions);
  } catch (error) {
    failure = toServeError(error);
  } finally {
    state.shadowInFlight = (state.shadowInFlight ?? 1) - 1;
    served.usage.inFlight--;
  }
  const seconds = (performance.now() - started) / 1000;
  recorder.recordShadow?.(failure === undefined ? "ok" : "error", seconds, predictions, primary);
  if (state.observers.length === 0) return;
  const event: PredictionEvent = {
    route: route.name,
    method: params.method(),
    path: params.path(),
    requestId: requestId(source),
    model: served.name,
    version: served.version,
    ...(served.variant === undefined ? {} : { variant: served.variant }),
    shadow: true,
    status: failure?.status ?? 200,
    rows: predictions === undefined ? 0 : typeof predictions === "number" ? 1 : predictions.length,
    seconds,
    error: failure?.code,
  };
  for (const observer of state.observers) {
    try {
      observer(event);
    } catch {
      // An observer must not break the shadow.
    }
  }
}

/** 503 while the app shuts down. */
/**
 * Counts a prediction in the version's monitor (drift window) and keeps it for its feedback
 * under the request id (a shadow's beside the answered one). Monitoring never changes the
 * answer: a failure here is swallowed (and shows as rows missing from the window).
 */
function observe(
  state: AppState,
  served: ServedModel,
  source: RequestSource,
  prepared: Prepared,
  predictions: Float64Array | number,
): boolean {
  const monitor = served.monitor!;
  try {
    if (prepared.row !== undefined) {
      monitor.observeRow(
        prepared.row,
        typeof predictions === "number" ? predictions : predictions[0],
      );
    } else if (prepared.frame !== undefined) {
      monitor.observeFrame(
        prepared.frame,
        typeof predictions === "number" ? Float64Array.of(predictions) : predictions,
      );
    }
    state.monitoring?.feedback.remember(requestId(source), monitor, predictions, served.shadow);
  } catch {
    // Monitoring must not change the answer.
  }
  return true;
}

export function shuttingDown(): ServeError {
  return new ServeError("shutting_down", "the server is shutting down");
}
