/**
 * The `mlops ui` app as a web-standard `fetch` handler over any `RegistryStore`: the pages (one
 * HTML shell, the page drawn by app.js), the assets (served by the app itself: nothing from a
 * CDN), and a read-only JSON API. Writes (moving an alias) only when `writable`, with a token the
 * page carries, so another site cannot make the browser move one.
 */
import { randomBytes } from "node:crypto";
import {
  type AliasHistoryEntry,
  decodeArtifact,
  type Experiment,
  listReports,
  MlopsError,
  matchesRunFilter,
  parseRunFilter,
  REPORT_ARTIFACT,
  REPORT_HTML_ARTIFACT,
  type RegistryStore,
  type Run,
  redactLocation,
} from "@mlops/core";
import { SDK_VERSION } from "@mlops/core/internal";
import { asset } from "../assets.js";
import { escapeHtml, scriptJson } from "../report/document.js";
import type {
  CompareResponse,
  ExperimentSummary,
  ModelResponse,
  ModelsResponse,
  ReportResponse,
  RunResponse,
  RunsResponse,
  VersionResponse,
} from "../shared/api.js";
import { RunCache } from "./cache.js";

export interface UiAppOptions {
  store: RegistryStore;
  /** Shown in the header: where the registry is. */
  location?: string;
  writable?: boolean;
  /** How old (ms) cached runs may be before a request starts a new read (default 2000). */
  staleAfterMs?: number;
}

export interface UiApp {
  fetch(request: Request): Promise<Response>;
  /** Reads every experiment's runs into the cache, so that the first page is quick. */
  warm(): Promise<void>;
}

const STATUS: Record<string, number> = {
  registry_not_found: 404,
  filter_invalid: 400,
  argument_invalid: 400,
  registry_name_invalid: 400,
  uri_invalid: 400,
  registry_conflict: 409,
};

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" },
  });
}

function failure(status: number, code: string, message: string): Response {
  return json({ error: { code, message } }, status);
}

const PAGE_PATTERNS = [
  /^\/experiments$/,
  /^\/experiments\/[^/]+$/,
  /^\/experiments\/[^/]+\/compare$/,
  /^\/runs\/[^/]+$/,
  /^\/models$/,
  /^\/models\/[^/]+$/,
  /^\/models\/[^/]+\/versions\/\d+$/,
  /^\/models\/[^/]+\/versions\/\d+\/reports\/[^/]+$/,
];

/** Every key of `records`, sorted. */
function keysOf(records: readonly Record<string, unknown>[]): string[] {
  const keys = new Set<string>();
  for (const record of records) for (const key of Object.keys(record)) keys.add(key);
  return [...keys].sort();
}

function columns(runs: readonly Run[]) {
  const paramKeys = keysOf(runs.map((run) => run.params));
  const metricKeys = keysOf(runs.map((run) => run.metrics));
  const tagKeys = keysOf(runs.map((run) => run.tags));
  const pick = <T>(record: Record<string, T>, keys: readonly string[]) =>
    keys.map((key) => (Object.hasOwn(record, key) ? record[key] : null));
  return {
    paramKeys,
    metricKeys,
    tagKeys,
    runs: runs.map((run) => ({
      id: run.runId,
      name: run.runName,
      status: run.status,
      start: run.startTime,
      end: run.endTime ?? null,
      parent: run.parentRunId ?? null,
      params: pick(run.params, paramKeys),
      metrics: pick(run.metrics, metricKeys),
      tags: pick(run.tags, tagKeys),
    })),
  };
}

/** The `mlops ui` app. */
export function createUiApp(options: UiAppOptions): UiApp {
  const { store } = options;
  const writable = options.writable === true;
  const token = randomBytes(18).toString("base64url");
  const cache = new RunCache(store, options.staleAfterMs ?? 2000);
  // postgres://user:password@host/db: the password never reaches a page or /api/info.
  const location = redactLocation(options.location ?? "");

  function shell(): Response {
    const config = { location, writable, version: SDK_VERSION, token: writable ? token : null };
    const html = [
      "<!doctype html>",
      '<html lang="en">',
      "<head>",
      '<meta charset="utf-8">',
      '<meta name="viewport" content="width=device-width, initial-scale=1">',
      "<title>mlops ui</title>",
      '<link rel="stylesheet" href="/assets/style.css">',
      "</head>",
      "<body>",
      '<header class="top"><a class="brand" href="/experiments">@mlops</a>' +
        '<nav><a href="/experiments">Experiments</a><a href="/models">Models</a></nav>' +
        `<span class="where" title="${escapeHtml(location)}">${escapeHtml(location)}</span></header>`,
      '<main id="app"><p class="muted">Loading…</p></main>',
      `<script type="application/json" id="mlops-config">${scriptJson(config)}</script>`,
      '<script src="/assets/app.js"></script>',
      "</body>",
      "</html>",
    ].join("\n");
    return new Response(html, {
      headers: {
        "content-type": "text/html; charset=utf-8",
        "cache-control": "no-store",
        // Everything comes from this app: no CDN, no inline script but the JSON data.
        "content-security-policy":
          "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:",
        "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer",
      },
    });
  }

  function assetResponse(name: "app.js" | "style.css"): Response {
    return new Response(asset(name), {
      headers: {
        "content-type": name.endsWith(".js")
          ? "text/javascript; charset=utf-8"
          : "text/css; charset=utf-8",
        "cache-control": "no-cache",
        "x-content-type-options": "nosniff",
      },
    });
  }

  async function experiments(): Promise<ExperimentSummary[]> {
    const list = await store.listExperiments();
    return Promise.all(
      list.map(async (experiment) => {
        const { runs } = await cache.runs(experiment.experimentId);
        let last: number | null = null;
        for (const run of runs) if (last === null || run.startTime > last) last = run.startTime;
        return { ...experiment, runs: runs.length, lastRunStart: last };
      }),
    );
  }

  async function runs(id: string, url: URL): Promise<RunsResponse> {
    const experiment: Experiment = await store.getExperiment(id);
    const wait = url.searchParams.get("wait") === "1";
    const snapshot = wait ? await cache.fresh(id) : await cache.runs(id);
    const filter = url.searchParams.get("filter") ?? "";
    const clauses = parseRunFilter(filter);
    const kept =
      clauses.length === 0
        ? snapshot.runs
        : snapshot.runs.filter((run) => matchesRunFilter(run, clauses));
    return {
      experiment,
      asOf: snapshot.asOf,
      refreshing: snapshot.refreshing,
      total: snapshot.runs.length,
      ...columns(kept),
    };
  }

  async function run(id: string): Promise<RunResponse> {
    const found = await store.getRun(id);
    const [experiment, artifacts, children] = await Promise.all([
      store.getExperiment(found.experimentId),
      store.listArtifacts(id),
      cache
        .runs(found.experimentId)
        .then((snapshot) => snapshot.runs.filter((item) => item.parentRunId === id).length),
    ]);
    const histories: RunResponse["histories"] = {};
    for (const key of Object.keys(found.metrics)) {
      const history = await store.getMetricHistory(id, key);
      if (history.length > 1) {
        histories[key] = history.map(({ step, value, timestamp }) => ({ step, value, timestamp }));
      }
    }
    const versions: RunResponse["versions"] = [];
    for (const model of await store.listRegisteredModels()) {
      for (const version of await store.listModelVersions(model.name)) {
        if (version.runId === id) versions.push({ name: model.name, version: version.version });
      }
    }
    return { run: found, experiment, children, artifacts, histories, versions };
  }

  async function compare(url: URL): Promise<CompareResponse> {
    const ids = (url.searchParams.get("runs") ?? "").split(",").filter((id) => id !== "");
    if (ids.length === 0)
      throw new MlopsError("argument_invalid", "compare: no runs (?runs=ID,ID)");
    if (ids.length > 2000) {
      throw new MlopsError("argument_invalid", `compare: ${ids.length} runs; at most 2000`);
    }
    const found = await Promise.all(ids.map((id) => store.getRun(id)));
    const folds: CompareResponse["folds"] = {};
    for (const item of found) {
      const keys = Object.keys(item.metrics).filter((key) => key.startsWith("test_"));
      const perKey: Record<string, number[]> = {};
      for (const key of keys) {
        const history = await store.getMetricHistory(item.runId, key);
        if (history.length > 1) perKey[key] = history.map((metric) => metric.value);
      }
      folds[item.runId] = perKey;
    }
    return { runs: found, folds };
  }

  async function models(): Promise<ModelsResponse> {
    const list = await store.listRegisteredModels();
    return {
      models: list.map((model) => ({ ...model, versions: model.latestVersion ?? 0 })),
    };
  }

  async function model(name: string): Promise<ModelResponse> {
    const [found, versions, history] = await Promise.all([
      store.getRegisteredModel(name),
      store.listModelVersions(name),
      store.getAliasHistory(name),
    ]);
    return { model: found, versions: versions.reverse(), history };
  }

  async function version(name: string, number: number): Promise<VersionResponse> {
    const found = await store.getModelVersion(name, number);
    const bytes = await store.readModelArtifact(name, number);
    const { manifest } = decodeArtifact(bytes, { source: `models:/${name}/${number}` });
    const { payload: _payload, ...rest } = manifest;
    const history = (await store.getAliasHistory(name)).filter(
      (entry: AliasHistoryEntry) => entry.toVersion === number || entry.fromVersion === number,
    );
    let runInfo: VersionResponse["run"] = null;
    if (found.runId) {
      try {
        const tracked = await store.getRun(found.runId);
        runInfo = {
          runId: tracked.runId,
          runName: tracked.runName,
          experimentId: tracked.experimentId,
        };
      } catch (error) {
        if (!(MlopsError.isInstance(error) && error.code === "registry_not_found")) throw error;
      }
    }
    const reports = (await listReports(store, name, number)).map((item) => ({
      runId: item.runId,
      kind: item.tags["mlops.report.kind"] as "gate" | "drift",
      time: item.startTime,
      verdict: item.tags["mlops.report.verdict"] ?? "",
      title: item.runName,
    }));
    return { version: found, manifest: rest, history, run: runInfo, reports };
  }

  /** The run that keeps a report about `name` version `number`, or a 404. */
  async function reportRun(name: string, number: number, runId: string) {
    const item = await store.getRun(runId);
    if (
      item.tags["mlops.report.model"] !== name ||
      item.tags["mlops.report.version"] !== String(number)
    ) {
      throw new MlopsError(
        "registry_not_found",
        `run ${runId} is not a report about ${name} version ${number}`,
      );
    }
    return item;
  }

  async function report(name: string, number: number, runId: string): Promise<ReportResponse> {
    const item = await reportRun(name, number, runId);
    const [bytes, artifacts] = await Promise.all([
      store.readArtifact(runId, REPORT_ARTIFACT),
      store.listArtifacts(runId),
    ]);
    return {
      kind: item.tags["mlops.report.kind"] as "gate" | "drift",
      title: item.runName,
      report: JSON.parse(new TextDecoder().decode(bytes)),
      html: artifacts.some((artifact) => artifact.name === REPORT_HTML_ARTIFACT),
    };
  }

  /** The kept single-file HTML report, as a download (its inline scripts never run here). */
  async function reportHtml(name: string, number: number, runId: string): Promise<Response> {
    const item = await reportRun(name, number, runId);
    const bytes = await store.readArtifact(runId, REPORT_HTML_ARTIFACT);
    const kind = item.tags["mlops.report.kind"] ?? "report";
    const file = `${kind}-${name}-v${number}-${runId.slice(0, 8)}.html`.replace(/[^\w.-]/g, "_");
    return new Response(bytes as Uint8Array<ArrayBuffer>, {
      headers: {
        "content-type": "text/html; charset=utf-8",
        "content-disposition": `attachment; filename="${file}"`,
        "x-content-type-options": "nosniff",
        "content-security-policy": "sandbox",
      },
    });
  }

  async function setAlias(request: Request, name: string, alias: string): Promise<Response> {
    if (!writable)
      return failure(403, "read_only", "mlops ui is read-only (start it with --write)");
    if (request.headers.get("x-mlops-token") !== token) {
      return failure(403, "token_invalid", "missing or wrong X-Mlops-Token header");
    }
    if (request.method === "DELETE") {
      const body = (await request.json().catch(() => ({}))) as { reason?: string };
      return json(
        await store.deleteAlias(name, alias, { reason: body.reason ?? "deleted in mlops ui" }),
      );
    }
    const body = (await request.json().catch(() => undefined)) as
      | { version?: unknown; reason?: unknown }
      | undefined;
    if (typeof body?.version !== "number") {
      return failure(400, "argument_invalid", 'expected a JSON body {"version": N, "reason": "…"}');
    }
    const reason =
      typeof body.reason === "string" && body.reason !== "" ? body.reason : "moved in mlops ui";
    return json(await store.setAlias(name, alias, body.version, { reason }));
  }

  async function api(request: Request, url: URL, path: string[]): Promise<Response> {
    const [resource, id, sub, subId, leaf, leafId] = path;
    const method = request.method;
    if (resource === "models" && sub === "aliases" && subId && path.length === 4) {
      if (method !== "PUT" && method !== "DELETE") {
        return failure(405, "method_not_allowed", `${method} is not allowed here (PUT or DELETE)`);
      }
      return setAlias(request, decodeURIComponent(id), decodeURIComponent(subId));
    }
    if (method !== "GET" && method !== "HEAD") {
      return failure(405, "method_not_allowed", `${method} ${url.pathname}: the API is read-only`);
    }
    if (resource === "info" && path.length === 1) {
      return json({ location, writable, version: SDK_VERSION });
    }
    if (resource === "experiments" && path.length === 1) return json(await experiments());
    if (resource === "experiments" && id && sub === "runs" && path.length === 3) {
      return json(await runs(decodeURIComponent(id), url));
    }
    if (resource === "runs" && id && path.length === 2) return json(await run(id));
    if (resource === "compare" && path.length === 1) return json(await compare(url));
    if (resource === "models" && path.length === 1) return json(await models());
    if (resource === "models" && id && path.length === 2)
      return json(await model(decodeURIComponent(id)));
    if (resource === "models" && id && sub === "versions" && subId && path.length === 4) {
      return json(await version(decodeURIComponent(id), Number(subId)));
    }
    const isReport =
      resource === "models" && id && sub === "versions" && subId && leaf === "reports" && leafId;
    if (isReport && path.length === 6) {
      return json(await report(decodeURIComponent(id), Number(subId), leafId));
    }
    if (isReport && path.length === 7 && path[6] === REPORT_HTML_ARTIFACT) {
      return reportHtml(decodeURIComponent(id), Number(subId), leafId);
    }
    return failure(404, "not_found", `no API at ${url.pathname}`);
  }

  return {
    warm: () => cache.warm(),
    async fetch(request: Request): Promise<Response> {
      const url = new URL(request.url);
      const path = url.pathname;
      try {
        if (path.startsWith("/api/")) {
          return await api(
            request,
            url,
            path
              .slice(5)
              .split("/")
              .filter((part) => part !== ""),
          );
        }
        if (request.method !== "GET" && request.method !== "HEAD") {
          return failure(405, "method_not_allowed", `${request.method} ${path}`);
        }
        if (path === "/") return Response.redirect(new URL("/experiments", url), 302);
        if (path === "/assets/app.js") return assetResponse("app.js");
        if (path === "/assets/style.css") return assetResponse("style.css");
        if (PAGE_PATTERNS.some((pattern) => pattern.test(path))) return shell();
        return failure(404, "not_found", `no page at ${path}`);
      } catch (error) {
        if (MlopsError.isInstance(error)) {
          return failure(STATUS[error.code] ?? 500, error.code, error.message);
        }
        return failure(500, "internal", (error as Error)?.message ?? String(error));
      }
    },
  };
}
