import { ServeError } from "../errors.js";
import { header, type RequestSource, readBody } from "../http/body.js";
import type { Limits } from "../limits/limits.js";
import type { ModelCatalog } from "../models/catalog.js";
import type { ServedModel } from "../models/served.js";
import type { Monitoring } from "./monitoring.js";
import type { MonitoringReport } from "./version.js";

/** The routes' view of the app: its models, monitoring and limits. */
export interface MonitoringRouteState {
  readonly catalog: ModelCatalog;
  readonly monitoring: Monitoring;
  readonly limits: Limits;
}

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });
}

/**
 * `GET /v1/models/{name}/monitoring`: the drift of the served version's window (the JSON of
 * `mlops drift --json`), with the model, the window and the online error. For a split (A/B)
 * name: its first variant's, with `variants` holding every variant's and shadow's report;
 * `?variant=house@candidate` gives that one's.
 */
export function monitoringResponse(
  state: MonitoringRouteState,
  name: string,
  variant?: string,
): Response {
  const holder = state.catalog.get(name);
  if (holder === undefined) {
    throw new ServeError(
      "model_not_found",
      `model "${name}" is not served; served models: ${state.catalog.names().join(", ")}`,
    );
  }
  const router = holder.router;
  if (variant !== undefined) {
    const chosen = state.catalog.get(name, variant);
    if (chosen === undefined || router === undefined) {
      const known =
        router === undefined
          ? []
          : [...router.variants, ...router.shadows].map((each) => each.variant);
      throw new ServeError(
        "model_not_found",
        router === undefined
          ? `model "${name}" has no variants (it is not split); drop ?variant=`
          : `model "${name}" has no variant "${variant}"; its variants: ${known.join(", ")}`,
      );
    }
    return json(reportOf(chosen.require(), name));
  }
  const report: Record<string, unknown> = { ...reportOf(holder.require(), name) };
  if (router !== undefined) {
    const variants: Record<string, MonitoringReport> = {};
    for (const each of [...router.variants, ...router.shadows]) {
      const served = each.holder.current;
      if (served?.monitor !== undefined) variants[each.variant] = served.monitor.report();
    }
    report.variants = variants;
  }
  return json(report);
}

function reportOf(served: ServedModel, name: string): MonitoringReport {
  if (served.monitor === undefined) {
    throw new ServeError("model_not_ready", `model "${name}" has no monitor yet`);
  }
  return served.monitor.report();
}

/**
 * `POST /v1/feedback`: `{ "id", "actual" }`, a JSON array of them, or `{ "feedback": [...] }`.
 * Joins each to its prediction (all or nothing) and counts it in that version's online error.
 * Unknown or expired ids, duplicates and non-numbers are 4xx, counted by reason.
 */
export async function feedbackResponse(
  state: MonitoringRouteState,
  source: RequestSource,
): Promise<Response> {
  const type = header(source, "content-type") ?? "";
  if (!/^application\/json\b/i.test(type)) {
    state.monitoring.feedback.reject("invalid");
    throw new ServeError(
      "unsupported_media_type",
      `feedback must be JSON (content-type: application/json), got ${type === "" ? "no content type" : JSON.stringify(type)}`,
    );
  }
  const text = await readBody(source, state.limits.maxBodyBytes, state.limits.timeoutMs);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    state.monitoring.feedback.reject("invalid");
    throw new ServeError(
      "malformed_json",
      `the feedback is not valid JSON (${error instanceof Error ? error.message : error})`,
    );
  }
  let items: unknown[];
  let single = false;
  if (Array.isArray(body)) items = body;
  else if (
    typeof body === "object" &&
    body !== null &&
    Array.isArray((body as { feedback?: unknown }).feedback)
  ) {
    items = (body as { feedback: unknown[] }).feedback;
  } else {
    items = [body];
    single = true;
  }
  if (items.length === 0) {
    state.monitoring.feedback.reject("invalid");
    throw new ServeError(
      "feedback_invalid",
      "no feedback: expected { id, actual } or a list of them",
    );
  }
  const joined = state.monitoring.join(items, single);
  return json({
    joined: joined.filter((item) => item.shadow !== true).length,
    feedback: joined.map((item) => ({
      model: item.owner.name,
      version: item.owner.version,
      ...(item.owner.variant !== null ? { variant: item.owner.variant } : {}),
      ...(item.shadow === true ? { shadow: true } : {}),
      predicted: item.predicted,
      actual: item.actual,
    })),
  });
}
