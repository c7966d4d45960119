import type { HttpBindings } from "@hono/node-server";
import type { MiddlewareHandler } from "hono";

/** What a route is for; middleware (auth) decides by it — health routes stay open. */
export type RouteScope = "health" | "metadata" | "predict" | "metrics";

/** The wire protocol of a route, which decides its error body. */
export type RouteProtocol = "rest" | "oip" | "mlflow";

/** Set on the context (`c.get("route")`) before any middleware runs. */
export interface RouteInfo {
  /** The route's name in metrics (`"v1_predict"`, `"v2_infer"`, a custom route's path). */
  readonly name: string;
  readonly scope: RouteScope;
  readonly protocol: RouteProtocol;
}

/** The Hono environment of the inference app. */
export interface InferenceEnv {
  /** The Node request and response under `@hono/node-server`; absent under plain `fetch`. */
  Bindings: Partial<HttpBindings>;
  Variables: {
    route: RouteInfo;
    /** The error code of a refused request (for the request log). */
    errorCode: string;
    /** Set when the prediction pipeline answered (and logged) the request. */
    predicted: boolean;
  };
}

/**
 * A Hono middleware that runs before every known route's handler, with `c.get("route")` set.
 * Throw a `ServeError` (401, 403, …) or return a response to stop the request.
 *
 * @example
 * const requireTenant: InferenceMiddleware = async (c, next) => {
 *   if (c.get("route").scope === "predict" && !c.req.header("x-tenant")) {
 *     throw new ServeError("forbidden", "x-tenant header required");
 *   }
 *   await next();
 * };
 */
export type InferenceMiddleware = MiddlewareHandler<InferenceEnv>;

/** What a guard sees of a request: its route, method, path and headers. */
export interface GuardRequest {
  readonly route: RouteInfo;
  readonly method: string;
  readonly path: string;
  /** A request header by name (case-insensitive). */
  header(name: string): string | undefined;
}

/**
 * A synchronous check run before every known route — on the Node fast path too, unlike Hono
 * middleware. Throw a `ServeError` (`unauthorized`, `forbidden`) to refuse the request. This
 * is the place for API-key auth: it keeps prediction routes on the fast path.
 *
 * @example
 * const apiKey: RequestGuard = (request) => {
 *   if (request.route.scope === "health") return;
 *   if (request.header("x-api-key") !== process.env.API_KEY) {
 *     throw new ServeError("unauthorized", "missing or wrong API key");
 *   }
 * };
 */
export type RequestGuard = (request: GuardRequest) => void;
