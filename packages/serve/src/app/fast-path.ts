import type { IncomingMessage, ServerResponse } from "node:http";
import { toServeError } from "../errors.js";
import {
  type Answer,
  type AppState,
  answerPrediction,
  errorAnswer,
  type PredictEndpoint,
  type RouteParams,
  requestId,
} from "./pipeline.js";
import type { GuardRequest, RequestGuard, RouteInfo } from "./types.js";

/**
 * Handles a Node request if it is one of the built-in prediction routes, else returns false.
 * Set on the app under `NODE_FAST_PATH` only when no Hono middleware is configured.
 */
export type NodeFastPath = (incoming: IncomingMessage, outgoing: ServerResponse) => boolean;

/** Where an app keeps its Node fast path (read by `toNodeListener`). */
export const NODE_FAST_PATH: unique symbol = Symbol.for("mlops.serve.nodeFastPath");

export interface FastPathEndpoints {
  named: PredictEndpoint;
  infer: PredictEndpoint;
  invocations: PredictEndpoint;
}

/** A custom prediction route with a fixed path, answered on the fast path. */
export interface FastCustomRoute {
  readonly method: string;
  readonly path: string;
  readonly endpoint: PredictEndpoint;
  readonly info: RouteInfo;
}

const NAMED_PREFIX = "/v1/models/";
const NAMED_SUFFIX = "/predict";
const OIP_PREFIX = "/v2/models/";
const OIP_SUFFIX = "/infer";
const VERSIONS = "/versions/";

/** A path segment as Hono gives it: percent-decoded; undefined when it cannot be. */
function segment(text: string): string | undefined {
  if (text === "" || text.includes("/")) return undefined;
  if (!text.includes("%")) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/** The route parameters of a fast-path request (a class: no closures per request). */
class FastParams implements RouteParams {
  constructor(
    readonly url: string,
    readonly queryStart: number,
    readonly name: string | undefined,
    readonly version: string | undefined,
    readonly requestMethod: string,
    readonly requestPath: string,
  ) {}

  param(key: string): string | undefined {
    return key === "name" ? this.name : key === "version" ? this.version : undefined;
  }

  params(): Record<string, string> {
    const out: Record<string, string> = {};
    if (this.name !== undefined) out.name = this.name;
    if (this.version !== undefined) out.version = this.version;
    return out;
  }

  query(key: string): string | undefined {
    return this.queryStart < 0
      ? undefined
      : (new URLSearchParams(this.url.slice(this.queryStart + 1)).get(key) ?? undefined);
  }

  method(): string {
    return this.requestMethod;
  }

  path(): string {
    return this.requestPath;
  }
}

function write(answer: Answer, incoming: IncomingMessage, outgoing: ServerResponse): void {
  const headers = answer.headers;
  headers["content-length"] = String(Buffer.byteLength(answer.body));
  outgoing.writeHead(answer.status, headers);
  outgoing.end(answer.body);
  if (!incoming.readableEnded) {
    // The body was refused before its end (413): let the client finish sending (discarded) so
    // it reads the answer, then close the connection.
    incoming.resume();
    const timer = setTimeout(() => incoming.socket?.destroy(), 500);
    timer.unref();
    incoming.once("end", () => clearTimeout(timer));
  }
}

/**
 * The prediction routes of the app answered straight from Node's request and response —
 * no URL object, no web Request, no router — with the same pipeline (validation, limits,
 * metrics) as through `fetch`. Everything else goes to Hono.
 */
export function createNodeFastPath(
  state: AppState,
  endpoints: FastPathEndpoints,
  routes: { named: RouteInfo; infer: RouteInfo; invocations: RouteInfo },
  guards: readonly RequestGuard[],
  custom: readonly FastCustomRoute[] = [],
): NodeFastPath {
  const customByPath = new Map<string, FastCustomRoute>();
  for (const route of custom) customByPath.set(route.path, route);
  return (incoming, outgoing) => {
    const method = incoming.method;
    const url = incoming.url ?? "";
    const queryStart = url.indexOf("?");
    const path = queryStart < 0 ? url : url.slice(0, queryStart);
    let endpoint: PredictEndpoint;
    let route: RouteInfo;
    let name: string | undefined;
    let version: string | undefined;
    const customRoute = customByPath.size > 0 ? customByPath.get(path) : undefined;
    if (customRoute !== undefined) {
      if (method !== customRoute.method) return false;
      endpoint = customRoute.endpoint;
      route = customRoute.info;
    } else if (method !== "POST") {
      return false;
    } else if (path.startsWith(NAMED_PREFIX) && path.endsWith(NAMED_SUFFIX)) {
      name = segment(path.slice(NAMED_PREFIX.length, -NAMED_SUFFIX.length));
      if (name === undefined) return false;
      endpoint = endpoints.named;
      route = routes.named;
    } else if (path.startsWith(OIP_PREFIX) && path.endsWith(OIP_SUFFIX)) {
      const rest = path.slice(OIP_PREFIX.length, -OIP_SUFFIX.length);
      const at = rest.indexOf(VERSIONS);
      name = segment(at < 0 ? rest : rest.slice(0, at));
      if (at >= 0) {
        version = segment(rest.slice(at + VERSIONS.length));
        if (version === undefined) return false;
      }
      if (name === undefined) return false;
      endpoint = endpoints.infer;
      route = routes.infer;
    } else if (path === "/invocations") {
      endpoint = endpoints.invocations;
      route = routes.invocations;
    } else {
      return false;
    }
    const source = { incoming };
    if (guards.length > 0) {
      const started = performance.now();
      const request: GuardRequest = {
        route,
        method,
        path,
        header: (key) => {
          const value = incoming.headers[key.toLowerCase()];
          return Array.isArray(value) ? value.join(", ") : value;
        },
      };
      try {
        for (const guard of guards) guard(request);
      } catch (error) {
        const refused = toServeError(error);
        write(errorAnswer(refused, endpoint.style), incoming, outgoing);
        state.log?.({
          method,
          path,
          route: route.name,
          status: refused.status,
          seconds: (performance.now() - started) / 1000,
          requestId: requestId(source),
          error: refused.code,
        });
        return true;
      }
    }
    answerPrediction(
      state,
      endpoint,
      source,
      new FastParams(url, queryStart, name, version, method, path),
    ).then(
      (answer) => {
        try {
          write(answer, incoming, outgoing);
        } catch {
          // The connection went away under us; nothing left to answer.
          outgoing.destroy();
        }
      },
      () => outgoing.destroy(),
    );
    return true;
  };
}
