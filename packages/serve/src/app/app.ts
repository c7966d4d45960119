import { MlopsError, type Registry } from "@mlops/core";
import { type Handler, Hono } from "hono";
import type { Registry as MetricsRegistry } from "prom-client";
import { type ApiKey, type AuthOptions, apiKeyGuard, resolveApiKeys } from "../auth/api-keys.js";
import { ServeError, toServeError } from "../errors.js";
import { nodeIncoming } from "../http/body.js";
import { ConcurrencyLimiter, type Limits, resolveLimits } from "../limits/limits.js";
import { createRequestLogger, type LoggerOption } from "../logs/request-log.js";
import { type MetricsOptions, NO_METRICS, ServeMetrics } from "../metrics/metrics.js";
import { ModelCatalog, type ModelSource, type ServeEventListener } from "../models/catalog.js";
import { checkUnknownFields, type UnknownFields } from "../models/contract.js";
import { Monitoring, type MonitoringOptions } from "../monitor/monitoring.js";
import type { PredictRouteDefinition } from "../protocols/custom.js";
import { nativeRuntime } from "../runtime/native.js";
import { onnxRuntime } from "../runtime/onnx.js";
import { type ModelRuntime, RuntimeTable } from "../runtime/runtime.js";
import { createNodeFastPath, NODE_FAST_PATH, type NodeFastPath } from "./fast-path.js";
import {
  type AppState,
  answerPrediction,
  errorResponse,
  type PredictionObserver,
  type RouteParams,
  requestId,
  styleOf,
  styleOfPath,
  toResponse,
} from "./pipeline.js";
import { allowedMethods, type RouteEntry, routeTable } from "./routes.js";
import type {
  GuardRequest,
  InferenceEnv,
  InferenceMiddleware,
  RequestGuard,
  RouteInfo,
} from "./types.js";

export interface InferenceAppOptions {
  /** The registry models are loaded from: a `Registry`, or a folder path to open. */
  registry?: Registry | string;
  /**
   * What to serve: registry references (`"wine@production"`, `"housing/3"`, `"wine"` = the
   * latest version), `{ name, reference }`, `{ name, version, artifact }`, or `defineModel(...)`.
   */
  models: readonly ModelSource[];
  /**
   * Runtimes for more model kinds, tried before the built-in ones: native (`tree`, `ensemble`,
   * `linear`) and ONNX (`onnx`, with the optional onnxruntime-node).
   */
  runtimes?: readonly ModelRuntime[];
  limits?: Partial<Limits>;
  /** Prometheus metrics at `GET /metrics` (default on, in a registry of the app's own). */
  metrics?: boolean | MetricsOptions;
  /**
   * Synchronous checks before every known route (API keys): they run on the Node fast path
   * too. Throw a `ServeError` to refuse.
   */
  guards?: readonly RequestGuard[];
  /**
   * Hono middleware before every known route, in order; `c.get("route")` says which. Any
   * middleware sends prediction routes through Hono (off the Node fast path).
   */
  middleware?: readonly InferenceMiddleware[];
  /** Called after each prediction request with its route, model, status, rows and time. */
  onPrediction?: PredictionObserver;
  /**
   * API keys (checked as sha256 hashes, in constant time) and the scope each route family
   * needs. Left out, keys come from `MLOPS_API_KEY_HASHES` when it is set; `false` turns auth
   * off even then. Health routes stay open.
   */
  auth?: AuthOptions | false;
  /**
   * Hot reload: poll the registry for models served by alias (`"wine@production"`) or as the
   * latest version, and swap in the new version when the reference moves (default on, every
   * 2 s; `false` to turn off). `app.models.reload(name)` reloads on demand either way.
   */
  watch?: boolean | { intervalMs?: number };
  /** Model lifecycle events: versions loaded or swapped in, failed loads, versions released. */
  onEvent?: ServeEventListener;
  /**
   * Structured request logs, one JSON line per request (off by default): `true` writes them to
   * stdout, or pass a sink with `write(line)` (`process.stderr`, a file stream, a logger).
   */
  logger?: LoggerOption;
  /**
   * Monitoring (off by default): `true`, or options. Each served version (each variant and
   * shadow) keeps a sliding window of its inputs and predictions against its training profile
   * (`GET /v1/models/{name}/monitoring`, drift gauges in `/metrics`), joins the actual values
   * sent to `POST /v1/feedback` for its online error, and alert rules post to a webhook.
   */
  monitoring?: boolean | MonitoringOptions;
  /** Custom prediction routes (`predictRoute(...)`). */
  routes?: readonly PredictRouteDefinition[];
  /** The server name in `GET /v2` (default `"mlops-serve"`). */
  name?: string;
  /**
   * Fields of a request the model does not read (a client's `id`, the target): `"ignore"`
   * (default, as MLflow does) or `"reject"` (422, the schema as declared).
   */
  unknownFields?: UnknownFields;
}

/**
 * An inference server as a web-standard `fetch` handler. Mount it in any server that speaks
 * `Request`/`Response` (Hono, Next.js, Bun, Deno) or run it on Node with `serve(app)`.
 */
export interface InferenceApp {
  /** Answers one request. Under `@hono/node-server` pass its bindings as `env`. */
  fetch(request: Request, env?: unknown): Response | Promise<Response>;
  /** Resolves when every model is loaded; rejects with the first load error. */
  readonly ready: Promise<void>;
  /** The served models (one holder per name; `holder.swap` / `models.reload` for hot reload). */
  readonly models: ModelCatalog;
  /** The monitoring (drift windows, feedback, alerts); undefined when it is off. */
  readonly monitoring: Monitoring | undefined;
  /** The prom-client registry behind `GET /metrics` (undefined when metrics are off). */
  readonly metricsRegistry: MetricsRegistry | undefined;
  readonly limits: Readonly<Limits>;
  /** Prediction requests being answered now. */
  readonly inFlight: number;
  /** The Hono app inside, for `parent.route()` or adding routes. */
  readonly hono: Hono<InferenceEnv>;
  /** The Node fast path for prediction routes (used by `serve` and `toNodeListener`). */
  readonly [NODE_FAST_PATH]: NodeFastPath | undefined;
  /**
   * Stops taking predictions (new ones get 503 `shutting_down`), waits up to `timeoutMs` for
   * those in flight, then releases the models.
   */
  close(options?: { timeoutMs?: number }): Promise<void>;
}

/**
 * Creates the inference app: every listed model behind the named-field REST API
 * (`/v1/models/{name}/predict`), the Open Inference Protocol v2 (`/v2/...`), MLflow's scoring
 * protocol (`/invocations`), `/metrics`, and any custom routes. Models load in the background:
 * until then their routes answer 503 and `/v2/health/ready` is not ready. Throws for a bad
 * reference, a duplicate name or a custom route for an unknown model.
 *
 * @example
 * const registry = await openRegistry(".mlops");
 * const app = createInferenceApp({ registry, models: ["wine@production"] });
 * await app.ready;
 * const response = await app.fetch(
 *   new Request("http://localhost/v1/models/wine/predict", {
 *     method: "POST",
 *     headers: { "content-type": "application/json" },
 *     body: JSON.stringify({ alcohol: 9.4, color: "red" }),
 *   }),
 * );
 * await response.json();
 * // { predictions: [5.2], model: { name: "wine", version: "3" }, id: "…" }
 */
export function createInferenceApp(options: InferenceAppOptions): InferenceApp {
  if (typeof options !== "object" || options === null) {
    throw new MlopsError("argument_invalid", "createInferenceApp: options are required");
  }
  const limits = resolveLimits(options.limits);
  const metricsOption = options.metrics ?? true;
  let catalog: ModelCatalog | undefined;
  const metrics =
    metricsOption === false
      ? undefined
      : new ServeMetrics(metricsOption === true ? {} : metricsOption, () => catalog?.info() ?? []);
  const authGuard = createAuthGuard(options.auth);
  const logger = createRequestLogger(options.logger);
  const watchIntervalMs = resolveWatch(options.watch);
  const monitoringOption = options.monitoring ?? false;
  const monitoring =
    monitoringOption === false
      ? undefined
      : new Monitoring(monitoringOption === true ? {} : monitoringOption, () =>
          catalog === undefined ? [] : catalog.monitors(),
        );
  if (monitoring !== undefined && metrics !== undefined) monitoring.registerMetrics(metrics);
  catalog = new ModelCatalog(options.models, {
    registry: options.registry,
    runtimes: new RuntimeTable([...(options.runtimes ?? []), nativeRuntime, onnxRuntime]),
    metrics,
    monitoring,
    onEvent: options.onEvent,
    drainTimeoutMs: limits.timeoutMs,
    unknownFields: checkUnknownFields(options.unknownFields),
  });
  const observers: PredictionObserver[] = [];
  if (options.onPrediction) observers.push(options.onPrediction);
  if (logger) observers.push(logger.prediction);
  const state: AppState = {
    catalog,
    limits,
    limiter: new ConcurrencyLimiter(limits.maxConcurrent),
    unmatched: metrics === undefined ? NO_METRICS : metrics.unmatched(),
    observers,
    monitoring,
    log: logger?.request,
    closing: false,
  };
  for (const route of options.routes ?? []) {
    if (catalog.get(route.model) === undefined) {
      throw new MlopsError(
        "argument_invalid",
        `routes: ${route.method} ${route.path} uses model "${route.model}", which is not served`,
      );
    }
  }
  const routes = routeTable(state, {
    serverName: options.name ?? "mlops-serve",
    metrics,
    custom: options.routes ?? [],
  });

  const hono = new Hono<InferenceEnv>();
  const guards: RequestGuard[] = [...(options.guards ?? [])];
  if (authGuard !== undefined) guards.unshift(authGuard);
  const middleware: InferenceMiddleware[] = [...(options.middleware ?? [])];
  if (guards.length > 0) middleware.unshift(guardMiddleware(guards));
  if (logger !== undefined) {
    // Every request but those the prediction pipeline logs itself (404s and refusals too).
    hono.use("*", async (c, next) => {
      const started = performance.now();
      await next();
      if (c.get("predicted")) return;
      logger.request({
        method: c.req.method,
        path: c.req.path,
        route: c.get("route")?.name,
        status: c.res.status,
        seconds: (performance.now() - started) / 1000,
        requestId: requestId({ request: c.req.raw }),
        error: c.get("errorCode"),
      });
    });
  }
  for (const route of routes) {
    const handler =
      route.predict === undefined
        ? route.handle
        : predictHandler(state, route, logger !== undefined);
    if (middleware.length === 0 && logger === undefined) {
      // Nothing reads the route info: register the bare handler (one call less per request).
      hono.on(route.method, route.path, handler);
    } else {
      const info = route.info;
      const mark: InferenceMiddleware = async (c, next) => {
        c.set("route", info);
        await next();
      };
      hono.on(route.method, route.path, mark, ...middleware, handler);
    }
  }
  // Known paths with another method: 405 with the methods that exist.
  for (const [path, allowed] of allowedMethods(routes)) {
    const allow = allowed.join(", ");
    hono.all(path, (c) => {
      const error = new ServeError(
        "method_not_allowed",
        `${c.req.method} is not allowed on ${c.req.path} (allowed: ${allow})`,
        { headers: { allow } },
      );
      c.set("errorCode", error.code);
      return errorResponse(error, styleOfPath(c.req.path));
    });
  }
  hono.notFound((c) => {
    c.set("errorCode", "route_not_found");
    return errorResponse(
      new ServeError("route_not_found", `no route ${c.req.method} ${c.req.path}`),
      styleOfPath(c.req.path),
    );
  });
  hono.onError((error, c) => {
    const route = c.get("route") as RouteInfo | undefined;
    const known = toServeError(error);
    c.set("errorCode", known.code);
    return errorResponse(
      known,
      route === undefined ? styleOfPath(c.req.path) : styleOf(route.protocol),
    );
  });

  const fetch = (request: Request, env?: unknown) =>
    hono.fetch(request, env as InferenceEnv["Bindings"]);
  // Hono middleware may answer or change any request: with it, every request goes through Hono.
  const fastPath =
    (options.middleware ?? []).length === 0 ? createNodeFastPath(state, routes, guards) : undefined;
  if (watchIntervalMs !== undefined) catalog.watch(watchIntervalMs);

  const ready =
    monitoring === undefined
      ? catalog.ready
      : Promise.all([catalog.ready, monitoring.feedback.restore()]).then(() => undefined);
  ready.catch(() => {});
  return {
    fetch,
    ready,
    models: catalog,
    monitoring,
    metricsRegistry: metrics?.registry,
    limits: Object.freeze({ ...limits }),
    get inFlight() {
      return state.limiter.inFlight;
    },
    hono,
    [NODE_FAST_PATH]: fastPath,
    async close(closeOptions: { timeoutMs?: number } = {}) {
      state.closing = true;
      const deadline = Date.now() + (closeOptions.timeoutMs ?? limits.timeoutMs);
      while (state.limiter.inFlight > 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await state.catalog.close();
      await monitoring?.close();
    },
  };
}

/** The Hono handler of a prediction route: the prediction pipeline on Hono's request. */
function predictHandler(
  state: AppState,
  route: RouteEntry & { predict: object },
  logged: boolean,
): Handler<InferenceEnv> {
  const { predict: endpoint, info } = route;
  return async (c) => {
    // The pipeline logs this request (the log middleware leaves it alone).
    if (logged) c.set("predicted", true);
    const params: RouteParams = {
      param: (name) => c.req.param(name),
      params: () => c.req.param(),
      query: (name) => c.req.query(name),
      method: () => c.req.method,
      path: () => c.req.path,
    };
    const source = { request: c.req.raw, incoming: nodeIncoming(c.env) };
    return toResponse(await answerPrediction(state, endpoint, info, source, params));
  };
}

/** The API-key guard of `auth` (or of `MLOPS_API_KEY_HASHES`); undefined when auth is off. */
function createAuthGuard(auth: AuthOptions | false | undefined): RequestGuard | undefined {
  if (auth === false) return undefined;
  if (auth !== undefined && (typeof auth !== "object" || auth === null)) {
    throw new MlopsError("argument_invalid", "auth: expected { keys, scopes } or false");
  }
  const keys: readonly ApiKey[] | undefined = resolveApiKeys(auth);
  if (keys === undefined) {
    if (auth === undefined) return undefined;
    // Asked for auth but gave no keys: refuse to start rather than serve unprotected.
    throw new MlopsError(
      "argument_invalid",
      "auth: no keys; give auth.keys or set MLOPS_API_KEY_HASHES (or pass auth: false)",
    );
  }
  return apiKeyGuard({ ...auth, keys });
}

/** The hot-reload interval of `watch` (ms), or undefined when it is off. */
function resolveWatch(watch: InferenceAppOptions["watch"]): number | undefined {
  if (watch === false) return undefined;
  const intervalMs = typeof watch === "object" && watch !== null ? watch.intervalMs : undefined;
  if (intervalMs === undefined) return DEFAULT_WATCH_INTERVAL_MS;
  if (!Number.isFinite(intervalMs) || intervalMs < 10) {
    throw new MlopsError(
      "argument_invalid",
      `watch.intervalMs: expected a number of milliseconds ≥ 10, got ${String(intervalMs)}`,
    );
  }
  return intervalMs;
}

/** How often the registry is polled for aliases that moved, by default. */
const DEFAULT_WATCH_INTERVAL_MS = 2000;

/** The guards as the first Hono middleware of every known route. */
function guardMiddleware(guards: readonly RequestGuard[]): InferenceMiddleware {
  return async (c, next) => {
    const request: GuardRequest = {
      route: c.get("route"),
      method: c.req.method,
      path: c.req.path,
      header: (name) => c.req.header(name),
    };
    for (const guard of guards) guard(request);
    await next();
  };
}
