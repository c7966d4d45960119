import type { IncomingMessage } from "node:http";
import { MlopsError } from "@mlops/core";
import {
  type AppState,
  jsonAnswer,
  type PredictEndpoint,
  type RouteParams,
} from "../app/pipeline.js";
import { ServeError, toServeError } from "../errors.js";
import { header, parseJson, type RequestSource, requireJson } from "../http/body.js";
import { holderOrNotFound } from "./named.js";
import { checkRowCount, recordsToFrame } from "./tabular.js";

type Row = Record<string, unknown>;

/** What `mapRequest` may see besides the body: the path parameters, headers and the request. */
export interface PredictRouteContext {
  readonly params: Record<string, string>;
  /** A request header by lower-case name (cheaper than `request.headers` under Node). */
  header(name: string): string | undefined;
  /**
   * The request as a web `Request` (its body already read). Under Node it is built on first
   * use from the Node request: prefer `header` on a hot path.
   */
  readonly request: Request;
}

export interface PredictRouteOptions<Body = unknown, Answer = unknown> {
  /** The served name of the model that answers (`"delivery"`). */
  model: string;
  /** A Hono path (`"/api/predict/delivery/duration"`, `"/score/:region"`). */
  path: string;
  /** HTTP method (default `"POST"`). */
  method?: "POST" | "PUT" | "PATCH";
  /**
   * The request body (parsed JSON) to one row object or an array of rows. Throwing means the
   * body is unusable: a `ServeError` keeps its status, anything else becomes 400.
   */
  mapRequest(body: Body, context: PredictRouteContext): Row | Row[];
  /** The predictions (one per row, in order) to the response body, sent as JSON. */
  mapResponse(predictions: number[], rows: Row[], body: Body): Answer;
}

/** A custom prediction route, as `createInferenceApp({ routes })` takes it. */
export interface PredictRouteDefinition {
  readonly model: string;
  readonly path: string;
  readonly method: "POST" | "PUT" | "PATCH";
  mapRequest(body: unknown, context: PredictRouteContext): Row | Row[];
  mapResponse(predictions: number[], rows: Row[], body: unknown): unknown;
}

/**
 * A prediction route with the request and response shapes of an existing client: the body is
 * mapped to rows, the model validates and predicts them (with limits and metrics as on every
 * route), and the predictions are mapped back.
 *
 * @example
 * const duration = predictRoute({
 *   model: "delivery",
 *   path: "/api/predict/delivery/duration",
 *   mapRequest: (body: { features: Record<string, number> }) => body.features,
 *   mapResponse: ([seconds]) => ({ duration_time: seconds }),
 * });
 * createInferenceApp({ registry, models: ["delivery@production"], routes: [duration] });
 */
export function predictRoute<Body = unknown, Answer = unknown>(
  options: PredictRouteOptions<Body, Answer>,
): PredictRouteDefinition {
  const { model, path, method = "POST", mapRequest, mapResponse } = options;
  if (typeof model !== "string" || model === "") {
    throw new MlopsError("argument_invalid", "predictRoute: model must be a served model name");
  }
  if (typeof path !== "string" || !path.startsWith("/")) {
    throw new MlopsError("argument_invalid", `predictRoute: path must start with "/", got ${path}`);
  }
  if (!["POST", "PUT", "PATCH"].includes(method)) {
    throw new MlopsError("argument_invalid", `predictRoute: method must be POST, PUT or PATCH`);
  }
  if (typeof mapRequest !== "function" || typeof mapResponse !== "function") {
    throw new MlopsError("argument_invalid", "predictRoute: mapRequest and mapResponse are needed");
  }
  return Object.freeze({
    model,
    path,
    method,
    mapRequest: mapRequest as PredictRouteDefinition["mapRequest"],
    mapResponse: mapResponse as PredictRouteDefinition["mapResponse"],
  });
}

/**
 * What `mapRequest` sees besides the body, built lazily: a class (not an object literal with
 * getters, which V8 builds slowly and whose garbage survived young-generation collections).
 */
class RouteContext implements PredictRouteContext {
  readonly #source: RequestSource;
  readonly #routeParams: RouteParams;
  #params: Record<string, string> | undefined;
  #request: Request | undefined;

  constructor(source: RequestSource, routeParams: RouteParams) {
    this.#source = source;
    this.#routeParams = routeParams;
  }

  get params(): Record<string, string> {
    this.#params ??= this.#routeParams.params();
    return this.#params;
  }

  header(name: string): string | undefined {
    return header(this.#source, name.toLowerCase());
  }

  get request(): Request {
    this.#request ??= this.#source.request ?? webRequest(this.#source.incoming!);
    return this.#request;
  }
}

/** A body-less web `Request` with the URL, method and headers of a Node request. */
function webRequest(incoming: IncomingMessage): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(incoming.headers)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) headers.append(name, item);
    else headers.set(name, value);
  }
  const host = incoming.headers.host ?? "localhost";
  return new Request(`http://${host}${incoming.url ?? "/"}`, {
    method: incoming.method,
    headers,
  });
}

function isRecord(value: unknown): value is Row {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The endpoint of a custom route. */
export function customEndpoint(state: AppState, route: PredictRouteDefinition): PredictEndpoint {
  return {
    select: () => holderOrNotFound(state, route.model),
    accept: requireJson,
    prepare(served, text, source, params) {
      const body = parseJson(text);
      let mapped: Row | Row[];
      const context = new RouteContext(source, params);
      try {
        mapped = route.mapRequest(body, context);
      } catch (error) {
        const known = toServeError(error);
        if (known.code !== "internal") throw known;
        const reason = error instanceof Error ? `: ${error.message}` : "";
        throw new ServeError(
          "invalid_request",
          `the request body does not fit this route${reason}`,
        );
      }
      const respond = (rows: Row[]) => (predictions: Float64Array | number) =>
        jsonAnswer(
          JSON.stringify(
            route.mapResponse(
              typeof predictions === "number" ? [predictions] : Array.from(predictions),
              rows,
              body,
            ) ?? null,
          ),
        );
      if (Array.isArray(mapped)) {
        checkRowCount(mapped.length, state.limits.maxBatchRows);
        return { frame: recordsToFrame(served.schema, mapped), respond: respond(mapped) };
      }
      if (!isRecord(mapped)) {
        throw new ServeError(
          "invalid_request",
          "the request body does not fit this route: it maps to no row object",
        );
      }
      return { row: mapped, respond: respond([mapped]) };
    },
  };
}
