import type { IncomingMessage, ServerResponse } from "node:http";
import { toServeError } from "../errors.js";
import {
  type Answer,
  type AppState,
  answerPrediction,
  errorAnswer,
  type RouteParams,
  requestId,
  styleOf,
} from "./pipeline.js";
import { type CompiledPattern, compilePattern, type RouteEntry } from "./routes.js";
import type { GuardRequest, RequestGuard } from "./types.js";

/**
 * Handles a Node request if it is for one of the app's prediction routes, else returns false.
 * Set on the app under `NODE_FAST_PATH` only when no Hono middleware is configured.
 */
export type NodeFastPath = (incoming: IncomingMessage, outgoing: ServerResponse) => boolean;

/** Where an app keeps its Node fast path (read by `toNodeListener`). */
export const NODE_FAST_PATH: unique symbol = Symbol.for("mlops.serve.nodeFastPath");

/** The route parameters of a fast-path request (a class: no closures per request). */
class FastParams implements RouteParams {
  constructor(
    readonly url: string,
    readonly queryStart: number,
    readonly values: Record<string, string>,
    readonly requestMethod: string,
    readonly requestPath: string,
  ) {}

  param(key: string): string | undefined {
    return this.values[key];
  }

  params(): Record<string, string> {
    return { ...this.values };
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

/** A route of the table as the fast path matches it: its entry, place and compiled pattern. */
interface FastRoute {
  readonly entry: RouteEntry;
  readonly index: number;
  readonly pattern: CompiledPattern;
}

/** The routes of one method: static paths by path, parametric ones in table order. */
interface MethodRoutes {
  readonly statics: Map<string, FastRoute>;
  readonly dynamic: FastRoute[];
}

/**
 * The routes of the table by method, for matching raw paths. A route whose pattern the fast path
 * cannot compile (a wildcard) ends its method's list: it might match before the routes after it,
 * so those go to Hono too.
 */
function compileTable(routes: readonly RouteEntry[]): Map<string, MethodRoutes> {
  const byMethod = new Map<string, MethodRoutes>();
  const stopped = new Set<string>();
  routes.forEach((entry, index) => {
    if (stopped.has(entry.method)) return;
    const pattern = compilePattern(entry.path);
    if (pattern === undefined) {
      stopped.add(entry.method);
      return;
    }
    let methodRoutes = byMethod.get(entry.method);
    if (methodRoutes === undefined) {
      methodRoutes = { statics: new Map(), dynamic: [] };
      byMethod.set(entry.method, methodRoutes);
    }
    const route: FastRoute = { entry, index, pattern };
    if (pattern.staticPath === undefined) methodRoutes.dynamic.push(route);
    else if (!methodRoutes.statics.has(pattern.staticPath)) {
      methodRoutes.statics.set(pattern.staticPath, route);
    }
  });
  return byMethod;
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
 * The prediction routes of the app's route table answered straight from Node's request and
 * response — no URL object, no web Request, no router — with the same table, guards, pipeline
 * (validation, limits, metrics) and error answers as through `fetch`. A request is taken only
 * when the first route of the table that matches it is a prediction route; everything else
 * (other routes, 404, 405, paths it cannot read) goes to Hono, which answers from the same table.
 */
export function createNodeFastPath(
  state: AppState,
  routes: readonly RouteEntry[],
  guards: readonly RequestGuard[],
): NodeFastPath {
  const table = compileTable(routes);
  return (incoming, outgoing) => {
    const method = incoming.method ?? "";
    const methodRoutes = table.get(method);
    if (methodRoutes === undefined) return false;
    const url = incoming.url ?? "";
    const queryStart = url.indexOf("?");
    const path = queryStart < 0 ? url : url.slice(0, queryStart);
    // The first route of the table that matches: a static one by lookup, or a parametric one
    // that comes before it.
    let found = methodRoutes.statics.get(path);
    let values: Record<string, string> | undefined = found === undefined ? undefined : {};
    for (const route of methodRoutes.dynamic) {
      if (found !== undefined && route.index > found.index) break;
      const matched = route.pattern.match(path);
      if (matched !== undefined) {
        found = route;
        values = matched;
        break;
      }
    }
    if (found === undefined || values === undefined) return false;
    const endpoint = found.entry.predict;
    if (endpoint === undefined) return false;
    const route = found.entry.info;
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
        write(errorAnswer(refused, styleOf(route.protocol)), incoming, outgoing);
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
      route,
      source,
      new FastParams(url, queryStart, values, method, path),
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
