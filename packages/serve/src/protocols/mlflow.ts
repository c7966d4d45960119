import { describeReceived, type Frame, SDK_VERSION } from "@mlops/core";
import {
  type AppState,
  jsonAnswer,
  numbersJson,
  type PredictEndpoint,
  type RouteParams,
} from "../app/pipeline.js";
import { ServeError } from "../errors.js";
import { header, mediaType, parseJson, type RequestSource } from "../http/body.js";
import type { ModelHolder } from "../models/holder.js";
import type { ServedModel } from "../models/served.js";
import { parseCsvText } from "./csv.js";
import { holderOrNotFound } from "./named.js";
import { checkRowCount, columnsToFrame, matrixToFrame, recordsToFrame } from "./tabular.js";

/**
 * MLflow's pyfunc scoring protocol (`mlflow models serve`): `POST /invocations` with a JSON
 * object holding exactly one of `dataframe_split`, `dataframe_records`, `instances`, `inputs`
 * (plus optional `params`), or a `text/csv` body → `{"predictions": [...]}`.
 */

const FORMATS = ["dataframe_split", "dataframe_records", "instances", "inputs"] as const;

function bad(message: string): ServeError {
  return new ServeError("invalid_request", message);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Media type and parameters; 415 for anything but JSON or CSV in UTF-8 (as MLflow answers). */
function invocationType(source: RequestSource): "json" | "csv" {
  const contentType = header(source, "content-type");
  const type = mediaType(contentType);
  if (type !== "application/json" && type !== "text/csv") {
    throw new ServeError(
      "unsupported_media_type",
      "/invocations takes Content-Type application/json or text/csv, got " +
        (type === "" ? "none" : JSON.stringify(type)),
    );
  }
  const parameters = (contentType ?? "").split(";").slice(1);
  for (const parameter of parameters) {
    const [key, value = ""] = parameter.split("=").map((part) => part.trim().toLowerCase());
    if (key === "") continue;
    if (key !== "charset") {
      throw new ServeError(
        "unsupported_media_type",
        `unrecognized content type parameter "${key}" (the scoring protocol of MLflow 2 takes ` +
          "the data format in the JSON body: dataframe_split, dataframe_records, instances " +
          "or inputs)",
      );
    }
    if (value.replaceAll('"', "") !== "utf-8") {
      throw new ServeError("unsupported_media_type", "only charset=utf-8 is supported");
    }
  }
  return type === "text/csv" ? "csv" : "json";
}

/** `instances` / `inputs`: rows as objects, rows as arrays (feature order), or columns. */
function tensorInput(served: ServedModel, key: string, value: unknown, maxRows: number): Frame {
  const schema = served.schema;
  if (isRecord(value)) {
    const names = Object.keys(value);
    const columns = names.map((name) => {
      const column = value[name];
      if (!Array.isArray(column)) {
        throw bad(
          `${key}.${name}: expected an array of values (columnar input), ` +
            `got ${describeReceived(column)}`,
        );
      }
      return column;
    });
    checkRowCount(columns[0]?.length ?? 0, maxRows);
    return columnsToFrame(schema, names, columns);
  }
  if (!Array.isArray(value)) {
    throw bad(
      `${key}: expected an array of rows or an object of columns, got ${describeReceived(value)}`,
    );
  }
  checkRowCount(value.length, maxRows);
  const first = value[0];
  if (value.length === 0 || isRecord(first)) return recordsToFrame(schema, value);
  if (Array.isArray(first)) {
    return matrixToFrame(schema, served.featureNames, value, value.length, key);
  }
  if (served.featureNames.length === 1) {
    return columnsToFrame(schema, served.featureNames, [value]);
  }
  throw bad(
    `${key}: expected row objects, arrays of ${served.featureNames.length} values ` +
      `(${served.featureNames.join(", ")}) or an object of columns, ` +
      `got ${describeReceived(first)} rows`,
  );
}

/** The frame of a JSON `/invocations` body. */
export function invocationFrame(served: ServedModel, body: unknown, maxRows: number): Frame {
  if (!isRecord(body)) {
    throw bad(
      `expected a JSON object with exactly one of ${FORMATS.join(", ")}, ` +
        `got ${describeReceived(body)}`,
    );
  }
  const present = FORMATS.filter((format) => body[format] !== undefined);
  const unknown = Object.keys(body).filter(
    (key) => key !== "params" && !(FORMATS as readonly string[]).includes(key),
  );
  if (present.length !== 1 || unknown.length > 0) {
    throw bad(
      `the input must be a JSON object with exactly one of ${FORMATS.join(", ")} ` +
        `(and optionally "params"); got keys: ${Object.keys(body).join(", ") || "none"}`,
    );
  }
  const format = present[0];
  const value = body[format];
  if (format === "dataframe_split") {
    if (!isRecord(value)) {
      throw bad(
        'dataframe_split: expected {"columns": [...], "data": [[...], ...]}, ' +
          `got ${describeReceived(value)}`,
      );
    }
    const { columns = served.featureNames, data } = value;
    if (!Array.isArray(columns)) throw bad(`dataframe_split.columns: expected an array of names`);
    if (!Array.isArray(data)) throw bad(`dataframe_split.data: expected an array of rows`);
    checkRowCount(data.length, maxRows);
    if (data.length > 0 && !Array.isArray(data[0])) {
      throw bad(`dataframe_split.data[0]: expected an array of ${columns.length} values`);
    }
    return matrixToFrame(
      served.schema,
      columns as string[],
      data,
      data.length,
      "dataframe_split.data",
    );
  }
  if (format === "dataframe_records") {
    if (!Array.isArray(value)) {
      throw bad(
        `dataframe_records: expected an array of row objects, got ${describeReceived(value)}`,
      );
    }
    checkRowCount(value.length, maxRows);
    return recordsToFrame(served.schema, value);
  }
  return tensorInput(served, format, value, maxRows);
}

/** The model `/invocations` scores: the only one, or the one `x-model` / `?model=` names. */
function selectInvocationModel(state: AppState, params: RouteParams, source: RequestSource) {
  const names = state.catalog.names();
  if (names.length === 1) return state.catalog.get(names[0])!;
  const name = header(source, "x-model") ?? params.query("model");
  if (name === undefined || name === "") {
    throw new ServeError(
      "model_selection_required",
      `this server serves ${names.length} models (${names.join(", ")}); ` +
        'name one with the "x-model" header or "?model=" in the URL',
    );
  }
  return holderOrNotFound(state, name);
}

/** `POST /invocations`. */
export function invocationsEndpoint(state: AppState): PredictEndpoint {
  return {
    stripsKeyField: true,
    select: (params, source): ModelHolder => selectInvocationModel(state, params, source),
    accept: invocationType,
    prepare(served, text, source) {
      const maxRows = state.limits.maxBatchRows;
      let frame: Frame;
      if (invocationType(source) === "csv") {
        const parsed = served.schema.safeConformFrame(parseCsvText(text, maxRows));
        if (!parsed.success) throw parsed.error;
        frame = parsed.data;
      } else {
        frame = invocationFrame(served, parseJson(text), maxRows);
      }
      return {
        frame,
        respond: (predictions) => jsonAnswer(`{"predictions":${numbersJson(predictions)}}`),
      };
    },
  };
}

/** `GET /ping` and `GET /health`: 200 once every model is loaded (MLflow answers a newline). */
export function ping(state: AppState): Response {
  if (state.closing) throw new ServeError("shutting_down", "the server is shutting down");
  const waiting = state.catalog.list().filter((holder) => holder.current === undefined);
  if (waiting.length > 0) {
    throw new ServeError(
      "model_not_ready",
      `not ready: ${waiting.map((h) => `"${h.label}" (${h.state})`).join(", ")}`,
    );
  }
  return new Response("\n", { status: 200, headers: { "content-type": "application/json" } });
}

/** `GET /version`: the SDK version, as text. */
export function version(): Response {
  return new Response(SDK_VERSION, { headers: { "content-type": "text/plain; charset=utf-8" } });
}
