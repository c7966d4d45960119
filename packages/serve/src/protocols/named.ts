import { describeReceived } from "@mlops/core";
import {
  type AppState,
  jsonAnswer,
  jsonResponse,
  numbersJson,
  type PredictEndpoint,
  requestId,
} from "../app/pipeline.js";
import { ServeError } from "../errors.js";
import { parseJson, requireJson } from "../http/body.js";
import type { ModelHolder } from "../models/holder.js";
import type { ServedModel } from "../models/served.js";
import type { Variant } from "../models/variants.js";
import { checkRowCount, recordsToFrame } from "./tabular.js";

/** The holder of `name`, or 404 `model_not_found` naming the models served. */
export function holderOrNotFound(state: AppState, name: string): ModelHolder {
  const holder = state.catalog.get(name);
  if (holder !== undefined) return holder;
  const names = state.catalog.names();
  throw new ServeError(
    "model_not_found",
    `no model named ${JSON.stringify(name)} is served (models: ${names.join(", ")})`,
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The answer of every named-field prediction: predictions, model and request id. */
function predictionBody(served: ServedModel, predictions: Float64Array | number, id: string) {
  return `{"predictions":${numbersJson(predictions)},"model":${served.modelJson},"id":"${id}"}`;
}

/**
 * `POST /v1/models/{name}/predict`: one row object, or `{"rows": [...]}` (when the schema has
 * no field called `rows`) → `{"predictions": [...], "model": {"name", "version"}, "id"}`, the
 * version also in `x-model-version`.
 */
export function namedPredictEndpoint(state: AppState): PredictEndpoint {
  return {
    stripsKeyField: true,
    select: (params) => holderOrNotFound(state, params.param("name") ?? ""),
    accept: requireJson,
    prepare(served, text, source) {
      const body = parseJson(text);
      if (!isRecord(body)) {
        throw new ServeError(
          "invalid_request",
          `expected one row object or {"rows": [...]}, got ${describeReceived(body)}`,
        );
      }
      const id = requestId(source);
      const respond = (predictions: Float64Array | number) =>
        jsonAnswer(predictionBody(served, predictions, id), 200, {
          "x-model-version": served.version,
        });
      const rows = body.rows;
      if (rows === undefined || Object.hasOwn(served.schema.fields, "rows")) {
        return { row: body, respond };
      }
      if (!Array.isArray(rows)) {
        throw new ServeError(
          "invalid_request",
          `rows: expected an array of row objects, got ${describeReceived(rows)}`,
        );
      }
      for (const key in body) {
        if (key !== "rows") {
          throw new ServeError(
            "invalid_request",
            `unexpected key ${JSON.stringify(key)} next to "rows" (send {"rows": [...]} only)`,
          );
        }
      }
      checkRowCount(rows.length, state.limits.maxBatchRows);
      return { frame: recordsToFrame(served.schema, rows), respond };
    },
  };
}

const descriptions = new WeakMap<ServedModel, Record<string, unknown>>();

/**
 * A served model as `GET /v1/models/{name}` shows it; a split (A/B) name also lists its
 * `variants` (variant, reference, weight, version, state) and `shadows`.
 */
export function describeHolder(holder: ModelHolder): Record<string, unknown> {
  const router = holder.router;
  if (router === undefined) return describeOne(holder);
  const variant = (item: Variant, weight: boolean) => ({
    variant: item.variant,
    reference: item.reference,
    ...(weight ? { weight: item.weight } : {}),
    version: item.holder.current?.version ?? null,
    aliases: item.holder.current?.aliases ?? [],
    state: item.holder.state,
  });
  return {
    ...describeOne(holder),
    variants: router.variants.map((item) => variant(item, true)),
    shadows: router.shadows.map((item) => variant(item, false)),
    stickyKey: router.stickyKey ?? null,
  };
}

function describeOne(holder: ModelHolder): Record<string, unknown> {
  const served = holder.current;
  if (served === undefined) {
    const out: Record<string, unknown> = {
      name: holder.name,
      reference: holder.reference ?? null,
      state: holder.state,
      ready: false,
    };
    if (holder.state === "failed") out.error = holder.error?.message ?? "failed to load";
    return out;
  }
  let description = descriptions.get(served);
  if (description === undefined) {
    description = {
      name: served.name,
      ...(served.variant === undefined ? {} : { variant: served.variant }),
      version: served.version,
      reference: holder.reference ?? null,
      aliases: served.aliases,
      state: "ready",
      ready: true,
      kind: served.kind,
      runtime: served.runtime,
      platform: served.platform,
      digest: served.digest ?? null,
      loadedAt: served.loadedAt,
      features: served.featureNames,
      target: served.target ?? null,
      schema: served.schema.toJSONSchema(),
    };
    descriptions.set(served, description);
  }
  return description;
}

/** `GET /v1/models`: every served name, in the order they were listed. */
export function listModels(state: AppState): Response {
  const models = state.catalog.names().map((name) => describeHolder(state.catalog.get(name)!));
  return jsonResponse(JSON.stringify({ models }));
}

/** `GET /v1/models/{name}`. */
export function showModel(state: AppState, name: string): Response {
  return jsonResponse(JSON.stringify(describeHolder(holderOrNotFound(state, name))));
}
