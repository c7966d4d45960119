import { MlopsError } from "@mlops/core";
import { type AppState, jsonAnswer, type PredictEndpoint } from "../app/pipeline.js";
import { ServeError, toServeError } from "../errors.js";
import { parseJson, requireJson } from "../http/body.js";
import { holderOrNotFound } from "./named.js";
import { checkRowCount, recordsToFrame } from "./tabular.js";

type Row = Record<string, unknown>;

/** What `mapRequest` may see besides the body: the path parameters and the request. */
export interface PredictRouteContext {
  readonly params: Record<string, string>;
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

function isRecord(value: unknown): value is Row {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The endpoint of a custom route. */
export function customEndpoint(state: AppState, route: PredictRouteDefinition): PredictEndpoint {
  return {
    route: route.path,
    style: "rest",
    select: () => holderOrNotFound(state, route.model),
    accept: requireJson,
    prepare(served, text, source, params) {
      const body = parseJson(text);
      let mapped: Row | Row[];
      try {
        mapped = route.mapRequest(body, {
          params: params.params(),
          // Custom routes are answered by Hono, which always has the web Request.
          request: source.request!,
        });
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
