import type { Context, Handler } from "hono";
import { nodeIncoming } from "../http/body.js";
import type { ServeMetrics } from "../metrics/metrics.js";
import { feedbackResponse, monitoringResponse } from "../monitor/routes.js";
import { customEndpoint, type PredictRouteDefinition } from "../protocols/custom.js";
import { invocationsEndpoint, ping, version } from "../protocols/mlflow.js";
import { listModels, namedPredictEndpoint, showModel } from "../protocols/named.js";
import {
  inferEndpoint,
  modelMetadata,
  modelReady,
  serverMetadata,
  serverReady,
} from "../protocols/oip.js";
import type { AppState, PredictEndpoint } from "./pipeline.js";
import type { InferenceEnv, RouteInfo, RouteProtocol, RouteScope } from "./types.js";

/** The methods a route may answer. */
export type RouteMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/**
 * One route of the inference app. The app's routes are ONE table of these (`app.ts`): Hono's
 * router, the Node fast path, the guards, the 405 answers and the error style are all derived
 * from it, so they cannot disagree.
 *
 * To add a route, add one entry to the table:
 * - a prediction route (a body of rows in, predictions out) gives `predict`: it then runs the
 *   prediction pipeline (model selection, content type, limits, body, validation, metrics,
 *   request log) and is answered on the Node fast path too;
 * - any other route (metadata, health, monitoring, feedback) gives a Hono `handle`r.
 * Both kinds pass the app's guards (API keys) for their `info.scope`, answer errors in the style
 * of `info.protocol`, and give `info.name` as the route's label in metrics and logs. The path is
 * a Hono pattern: static segments and `:param` segments (read with `c.req.param(name)` or
 * `RouteParams.param(name)`). When two entries match a request, the first one answers.
 *
 * @example
 * get("/v1/models/:name/monitoring", "v1_monitoring", "metadata", "rest", (c) =>
 *   monitoring(state, param(c, "name")),
 * ),
 * // or, written out:
 * { method: "GET", path: "/v1/models/:name/monitoring",
 *   info: { name: "v1_monitoring", scope: "metadata", protocol: "rest" },
 *   handle: (c) => monitoring(state, c.req.param("name")) }
 */
export type RouteEntry = {
  readonly method: RouteMethod;
  readonly path: string;
  readonly info: RouteInfo;
} & (
  | { readonly predict: PredictEndpoint; readonly handle?: undefined }
  | { readonly handle: Handler<InferenceEnv>; readonly predict?: undefined }
);

/** The methods each path of the table answers (GET brings HEAD), for 405's `allow` header. */
export function allowedMethods(routes: readonly RouteEntry[]): Map<string, string[]> {
  const methods = new Map<string, Set<string>>();
  for (const route of routes) {
    const set = methods.get(route.path) ?? new Set<string>();
    set.add(route.method);
    if (route.method === "GET") set.add("HEAD");
    methods.set(route.path, set);
  }
  return new Map([...methods].map(([path, set]) => [path, [...set]]));
}

/** A route pattern compiled for matching raw request paths (the Node fast path). */
export interface CompiledPattern {
  /** The pattern's path when it has no parameters. */
  readonly staticPath: string | undefined;
  /**
   * The parameters of `path` (percent-decoded, as Hono gives them) when it matches, else
   * undefined. A segment that is empty or cannot be decoded does not match (Hono then answers).
   */
  match(path: string): Record<string, string> | undefined;
}

/** A path segment as Hono gives it: percent-decoded; undefined when empty or undecodable. */
function decodeSegment(text: string): string | undefined {
  if (text === "") return undefined;
  if (!text.includes("%")) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

const NO_PARAMS: Record<string, string> = Object.freeze({}) as Record<string, string>;

/**
 * Compiles a Hono path pattern made of static and `:param` segments. Matching checks the static
 * prefix and suffix with `startsWith`/`endsWith` and walks the segments between them with
 * `indexOf` (no split, no regular expression), so the fast path stays as quick as hand-written
 * checks. Patterns with wildcards or optional/regex parameters are not compiled (undefined):
 * such routes are answered by Hono only.
 */
export function compilePattern(pattern: string): CompiledPattern | undefined {
  if (!pattern.startsWith("/") || /[*?{}()]/.test(pattern)) return undefined;
  const segments = pattern.split("/").slice(1);
  const first = segments.findIndex((segment) => segment.startsWith(":"));
  if (first < 0) {
    return {
      staticPath: pattern,
      match: (path) => (path === pattern ? NO_PARAMS : undefined),
    };
  }
  let last = segments.length - 1;
  while (!segments[last].startsWith(":")) last--;
  const prefix = `/${segments.slice(0, first).join("/")}${first > 0 ? "/" : ""}`;
  const suffix = last < segments.length - 1 ? `/${segments.slice(last + 1).join("/")}` : "";
  const middle = segments.slice(first, last + 1);
  const names = middle.map((segment) => (segment.startsWith(":") ? segment.slice(1) : undefined));
  const minimum = prefix.length + suffix.length + middle.length * 2 - 1;
  return {
    staticPath: undefined,
    match(path) {
      if (path.length < minimum || !path.startsWith(prefix) || !path.endsWith(suffix)) {
        return undefined;
      }
      const end = path.length - suffix.length;
      const params: Record<string, string> = {};
      let start = prefix.length;
      for (let i = 0; i < middle.length; i++) {
        const slash = path.indexOf("/", start);
        const stop = i === middle.length - 1 ? end : slash;
        if (stop < 0 || stop > end || (i === middle.length - 1 && slash >= 0 && slash < end)) {
          return undefined;
        }
        const text = path.slice(start, stop);
        const name = names[i];
        if (name === undefined) {
          if (text !== middle[i]) return undefined;
        } else {
          const value = decodeSegment(text);
          if (value === undefined) return undefined;
          params[name] = value;
        }
        start = stop + 1;
      }
      return params;
    },
  };
}

/** What the table needs besides the app's state. */
export interface RouteTableOptions {
  /** The server name in `GET /v2`. */
  readonly serverName: string;
  /** The app's metrics (`GET /metrics` exists only with them). */
  readonly metrics: ServeMetrics | undefined;
  /** Custom prediction routes (`predictRoute(...)`), after the built-in ones. */
  readonly custom: readonly PredictRouteDefinition[];
}

/** A GET route answered by a Hono handler. */
function get(
  path: string,
  name: string,
  scope: RouteScope,
  protocol: RouteProtocol,
  handle: Handler<InferenceEnv>,
): RouteEntry {
  return { method: "GET", path, info: { name, scope, protocol }, handle };
}

/** A POST prediction route (`name` is its label in metrics and logs). */
function predict(
  path: string,
  name: string,
  protocol: RouteProtocol,
  endpoint: PredictEndpoint,
): RouteEntry {
  return { method: "POST", path, info: { name, scope: "predict", protocol }, predict: endpoint };
}

function param(c: Context<InferenceEnv>, name: string): string {
  return c.req.param(name) as string;
}

/**
 * THE route table of the inference app: every route it answers, in matching order. Hono's
 * router, the Node fast path, guards, 405s and error styles are all derived from this list (see
 * `RouteEntry`). Add a route here, as one entry.
 */
export function routeTable(state: AppState, options: RouteTableOptions): RouteEntry[] {
  const named = namedPredictEndpoint(state);
  const infer = inferEndpoint(state);
  const { metrics } = options;
  const routes: RouteEntry[] = [
    // Named-field REST.
    get("/v1/models", "v1_models", "metadata", "rest", () => listModels(state)),
    get("/v1/models/:name", "v1_model", "metadata", "rest", (c) =>
      showModel(state, param(c, "name")),
    ),
    predict("/v1/models/:name/predict", "v1_predict", "rest", named),
    // Open Inference Protocol v2.
    get("/v2", "v2_server", "metadata", "oip", () => serverMetadata(options.serverName)),
    get("/v2/health/live", "v2_live", "health", "oip", () => new Response(null, { status: 200 })),
    get("/v2/health/ready", "v2_ready", "health", "oip", () => serverReady(state)),
    get("/v2/models/:name", "v2_model", "metadata", "oip", (c) =>
      modelMetadata(state, param(c, "name")),
    ),
    get("/v2/models/:name/versions/:version", "v2_model", "metadata", "oip", (c) =>
      modelMetadata(state, param(c, "name"), param(c, "version")),
    ),
    get("/v2/models/:name/ready", "v2_model_ready", "health", "oip", (c) =>
      modelReady(state, param(c, "name")),
    ),
    get("/v2/models/:name/versions/:version/ready", "v2_model_ready", "health", "oip", (c) =>
      modelReady(state, param(c, "name"), param(c, "version")),
    ),
    predict("/v2/models/:name/infer", "v2_infer", "oip", infer),
    predict("/v2/models/:name/versions/:version/infer", "v2_infer", "oip", infer),
    // MLflow's scoring protocol.
    predict("/invocations", "invocations", "mlflow", invocationsEndpoint(state)),
    get("/ping", "ping", "health", "mlflow", () => ping(state)),
    get("/health", "health", "health", "mlflow", () => ping(state)),
    get("/version", "version", "health", "mlflow", version),
  ];
  const monitoring = state.monitoring;
  if (monitoring !== undefined) {
    const monitored = { catalog: state.catalog, monitoring, limits: state.limits };
    routes.push(
      get("/v1/models/:name/monitoring", "v1_monitoring", "metadata", "rest", (c) =>
        monitoringResponse(monitored, param(c, "name"), c.req.query("variant")),
      ),
      {
        method: "POST",
        path: "/v1/feedback",
        info: { name: "v1_feedback", scope: "predict", protocol: "rest" },
        handle: (c) =>
          feedbackResponse(monitored, { request: c.req.raw, incoming: nodeIncoming(c.env) }),
      },
    );
  }
  if (metrics !== undefined) {
    routes.push(
      get("/metrics", "metrics", "metrics", "rest", async () => {
        const { contentType, body } = await metrics.scrape();
        return new Response(body, { status: 200, headers: { "content-type": contentType } });
      }),
    );
  }
  // Custom prediction routes, labelled by their path.
  for (const route of options.custom) {
    routes.push({
      method: route.method,
      path: route.path,
      info: { name: route.path, scope: "predict", protocol: "rest" },
      predict: customEndpoint(state, route),
    });
  }
  return routes;
}
