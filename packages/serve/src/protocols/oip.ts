import { type Column, describeReceived, Frame, SDK_VERSION } from "@mlops/core";
import {
  type AppState,
  jsonAnswer,
  jsonResponse,
  numbersJson,
  type PredictEndpoint,
  type Prepared,
  requestId,
} from "../app/pipeline.js";
import { ServeError } from "../errors.js";
import { parseJson, type RequestSource, requireJson } from "../http/body.js";
import type { ModelHolder } from "../models/holder.js";
import { OUTPUT_NAME, type ServedModel } from "../models/served.js";
import { holderOrNotFound } from "./named.js";
import { type ByteInferRequest, parseInferBytes } from "./oip-bytes.js";
import { checkRowCount, columnsToFrame, matrixToFrame } from "./tabular.js";

/**
 * The Open Inference Protocol v2 (KServe, Triton, MLServer) over REST, for tabular models.
 * Inputs: one tensor per feature named after it (shape `[N]` or `[N, 1]`, MLServer's pandas
 * codec convention), or a single `[N, F]` tensor with the features in schema order (data
 * row-major, flat or nested). Output: one FP64 tensor named `predict`, shape `[N]`.
 */

/**
 * The tensor datatypes `infer` accepts: numbers (FP64, FP32), integers (INT64, INT32),
 * booleans (BOOL) and strings (BYTES); `null` is a missing value in any of them.
 *
 * @example
 * OIP_DATATYPES.includes("FP16" as OipDatatype); // false: answered with 400
 */
export const OIP_DATATYPES = ["FP64", "FP32", "INT64", "INT32", "BOOL", "BYTES"] as const;
export type OipDatatype = (typeof OIP_DATATYPES)[number];

const FLOAT32_MAX = 3.4028234663852886e38;
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

function bad(message: string): ServeError {
  return new ServeError("invalid_request", message);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Checks every element of `data` against `datatype` (null stands for a missing value). */
function checkElements(data: readonly unknown[], datatype: OipDatatype, where: string): void {
  const fail = (i: number, expected: string): never => {
    throw bad(
      `${where}[${i}]: expected ${expected} for ${datatype}, got ${describeReceived(data[i])}`,
    );
  };
  switch (datatype) {
    case "FP64":
      for (let i = 0; i < data.length; i++) {
        const value = data[i];
        if (typeof value !== "number" && value !== null) fail(i, "a number");
      }
      return;
    case "FP32":
      for (let i = 0; i < data.length; i++) {
        const value = data[i];
        if (value === null) continue;
        if (typeof value !== "number") fail(i, "a number");
        else if (Math.abs(value) > FLOAT32_MAX && Number.isFinite(value)) fail(i, "a 32-bit float");
      }
      return;
    case "INT64":
    case "INT32":
      for (let i = 0; i < data.length; i++) {
        const value = data[i];
        if (value === null) continue;
        if (typeof value !== "number" || !Number.isInteger(value)) fail(i, "an integer");
        else if (datatype === "INT32" && (value < INT32_MIN || value > INT32_MAX)) {
          fail(i, "a 32-bit integer");
        } else if (!Number.isSafeInteger(value)) fail(i, "an integer within ±2^53");
      }
      return;
    case "BOOL":
      for (let i = 0; i < data.length; i++) {
        const value = data[i];
        if (typeof value !== "boolean" && value !== null) fail(i, "true or false");
      }
      return;
    default:
      for (let i = 0; i < data.length; i++) {
        const value = data[i];
        if (typeof value !== "string" && value !== null) fail(i, "a string");
      }
  }
}

interface Tensor {
  name: string;
  shape: number[];
  datatype: OipDatatype;
  data: unknown[];
  /** Row-major elements: `data` itself, or its nested rows flattened. */
  flat: () => unknown[];
}

/** Validates one request input: name, shape, datatype, data that fits the shape. */
function parseTensor(value: unknown, index: number, maxElements: number): Tensor {
  const where = `inputs[${index}]`;
  if (!isRecord(value))
    throw bad(`${where}: expected a tensor object, got ${describeReceived(value)}`);
  const { name, shape, datatype, data } = value;
  if (typeof name !== "string")
    throw bad(`${where}.name: expected a string, got ${describeReceived(name)}`);
  if (
    !Array.isArray(shape) ||
    shape.length === 0 ||
    shape.length > 2 ||
    !shape.every((d) => Number.isSafeInteger(d) && d >= 0)
  ) {
    throw bad(
      `${where}.shape: expected [N] or [N, F] with non-negative integers, ` +
        `got ${JSON.stringify(shape)?.slice(0, 80)}`,
    );
  }
  if (typeof datatype !== "string" || !(OIP_DATATYPES as readonly string[]).includes(datatype)) {
    throw bad(
      `${where}.datatype: expected one of ${OIP_DATATYPES.join(", ")}, ` +
        `got ${describeReceived(datatype)}`,
    );
  }
  if (!Array.isArray(data)) {
    throw bad(
      `${where}.data: expected an array (binary tensor data is not supported), ` +
        `got ${describeReceived(data)}`,
    );
  }
  const elements = shape.reduce((product: number, d: number) => product * d, 1);
  if (elements > maxElements) {
    throw new ServeError(
      "too_many_rows",
      `${where}: ${elements} elements is more than this server accepts per request`,
    );
  }
  let flat: () => unknown[];
  if (data.length > 0 && Array.isArray(data[0])) {
    // Nested: one array per row.
    const [rows, width] = shape.length === 2 ? shape : [shape[0], 1];
    if (shape.length === 1 || data.length !== rows) {
      throw bad(
        `${where}.data: shape ${JSON.stringify(shape)} needs ${elements} values, ` +
          `got ${data.length} nested`,
      );
    }
    for (let r = 0; r < rows; r++) {
      const row = data[r];
      if (!Array.isArray(row) || row.length !== width) {
        throw bad(
          `${where}.data[${r}]: expected an array of ${width} values ` +
            `for shape ${JSON.stringify(shape)}`,
        );
      }
      checkElements(row, datatype as OipDatatype, `${where}.data[${r}]`);
    }
    flat = () => data.flat();
  } else {
    if (data.length !== elements) {
      throw bad(
        `${where}.data: shape ${JSON.stringify(shape)} needs ${elements} values, ` +
          `got ${data.length}`,
      );
    }
    checkElements(data, datatype as OipDatatype, `${where}.data`);
    flat = () => data;
  }
  return { name, shape, datatype: datatype as OipDatatype, data, flat };
}

/** The frame of an inference request's inputs (see the module comment for the layouts). */
export function inputsToFrame(
  served: ServedModel,
  inputs: unknown,
  parameters: Record<string, unknown> | undefined,
  maxBatchRows: number,
): Frame {
  if (!Array.isArray(inputs) || inputs.length === 0) {
    throw bad(`inputs: expected a non-empty array of tensors, got ${describeReceived(inputs)}`);
  }
  const features = served.featureNames;
  const maxElements = maxBatchRows * Math.max(1, features.length);
  const tensors = inputs.map((input, i) => parseTensor(input, i, maxElements));
  const contentType = parameters?.content_type;
  const single = tensors.length === 1 ? tensors[0] : undefined;
  const matrix =
    single !== undefined &&
    single.shape.length === 2 &&
    (contentType === "np" ||
      (contentType !== "pd" && !Object.hasOwn(served.schema.fields, single.name)));
  if (matrix) {
    const [rows, width] = single.shape;
    if (width !== features.length) {
      throw bad(
        `inputs[0]: shape ${JSON.stringify(single.shape)} has ${width} columns, the model reads ` +
          `${features.length} (${features.join(", ")}); or send one tensor per feature`,
      );
    }
    // An OIP tensor has one datatype: a matrix of numbers cannot carry a category's text (a
    // category left missing, null, is fine).
    const flat = single.flat();
    const category =
      single.datatype === "BYTES"
        ? undefined
        : features.find((name, column) => {
            if (served.schema.fields[name].kind !== "category") return false;
            for (let row = 0; row < rows; row++) {
              if (flat[row * width + column] !== null) return true;
            }
            return false;
          });
    if (category !== undefined) {
      throw bad(
        `inputs[0]: a single [N, F] tensor cannot carry the category feature "${category}" ` +
          "(a tensor has one datatype); send one tensor per feature, named after it, e.g. " +
          `{"name": "${category}", "datatype": "BYTES", "shape": [${rows}], "data": [...]} ` +
          `next to {"name": "${features.find((name) => name !== category) ?? features[0]}", ` +
          `"datatype": "FP64", "shape": [${rows}], "data": [...]} (GET /v2/models/${served.name} ` +
          "lists the inputs)",
      );
    }
    checkRowCount(rows, maxBatchRows);
    return matrixToFrame(served.schema, features, flat, rows, "inputs[0].data");
  }
  const rows = tensors[0].shape[0];
  for (const [i, tensor] of tensors.entries()) {
    if (tensor.shape.length === 2 && tensor.shape[1] !== 1) {
      throw bad(
        `inputs[${i}] ("${tensor.name}"): shape ${JSON.stringify(tensor.shape)}: ` +
          "a feature tensor " +
          `has shape [N] or [N, 1]; a single [N, ${features.length}] tensor holds every feature`,
      );
    }
    if (tensor.shape[0] !== rows) {
      throw bad(
        `inputs[${i}] ("${tensor.name}"): ${tensor.shape[0]} rows, expected ${rows} like inputs[0]`,
      );
    }
  }
  checkRowCount(rows, maxBatchRows);
  return columnsToFrame(
    served.schema,
    tensors.map((t) => t.name),
    tensors.map((t) => t.flat()),
  );
}

/** The version `c` asks for, checked against the one served: 404 `version_not_found`. */
function servedVersion(holder: ModelHolder, version: string | undefined): ServedModel {
  const router = holder.router;
  if (version !== undefined && router !== undefined) {
    // A split name serves a version per variant.
    const variant = router.byVersion(version);
    if (variant !== undefined) return variant.holder.require();
    const versions = router.variants.map((item) => item.holder.current?.version ?? "loading");
    throw new ServeError(
      "version_not_found",
      `model "${holder.name}" has no version "${version}" loaded ` +
        `(its variants serve versions ${versions.join(", ")})`,
    );
  }
  const served = holder.require();
  if (version !== undefined && version !== served.version) {
    throw new ServeError(
      "version_not_found",
      `model "${holder.name}" has no version "${version}" loaded ` +
        `(it serves version ${served.version})`,
    );
  }
  return served;
}

/** `POST /v2/models/{name}[/versions/{v}]/infer`. */
export function inferEndpoint(state: AppState): PredictEndpoint {
  return {
    select: (params) => {
      const holder = holderOrNotFound(state, params.param("name") ?? "");
      const version = params.param("version");
      if (version !== undefined) servedVersion(holder, version);
      return holder;
    },
    accept: requireJson,
    prepare(served, text, source) {
      const body = parseJson(text);
      if (!isRecord(body)) {
        throw bad(
          `expected an inference request object with "inputs", got ${describeReceived(body)}`,
        );
      }
      const { id, parameters, outputs } = body;
      if (id !== undefined && typeof id !== "string") {
        throw bad(`id: expected a string, got ${describeReceived(id)}`);
      }
      if (parameters !== undefined && !isRecord(parameters)) {
        throw bad(`parameters: expected an object, got ${describeReceived(parameters)}`);
      }
      if (outputs !== undefined) {
        if (!Array.isArray(outputs))
          throw bad(`outputs: expected an array, got ${describeReceived(outputs)}`);
        for (const [i, output] of outputs.entries()) {
          const name = isRecord(output) ? output.name : undefined;
          if (name !== OUTPUT_NAME) {
            throw bad(
              `outputs[${i}].name: the model has one output, "${OUTPUT_NAME}"; ` +
                `got ${describeReceived(name)}`,
            );
          }
        }
      }
      const frame = inputsToFrame(served, body.inputs, parameters, state.limits.maxBatchRows);
      return inferAnswer(served, frame, id, source);
    },
    prepareBytes(served, bytes, source) {
      const fast = parseInferBytes(bytes, state.limits.maxBatchRows * served.featureNames.length);
      if (fast === undefined) return undefined;
      const frame = byteTensorsToFrame(served, fast, state.limits.maxBatchRows);
      if (frame === undefined) {
        fast.arena.recycle();
        return undefined;
      }
      return {
        ...inferAnswer(served, frame, fast.id, source),
        recycle: () => fast.arena.recycle(),
      };
    },
  };
}

/** The prepared answer of an inference request: the frame, and the response it gets. */
function inferAnswer(
  served: ServedModel,
  frame: Frame,
  id: string | undefined,
  source: RequestSource,
): Prepared {
  const responseId = id ?? requestId(source);
  // The request log shows the id the client gets back.
  source.id = responseId;
  const head =
    `{"model_name":${JSON.stringify(served.name)},` +
    `"model_version":${JSON.stringify(served.version)},` +
    `"id":${JSON.stringify(responseId)},` +
    `"outputs":[{"name":"${OUTPUT_NAME}","datatype":"FP64","shape":[`;
  return {
    frame,
    respond: (predictions) => {
      const n = typeof predictions === "number" ? 1 : predictions.length;
      return jsonAnswer(`${head}${n}],"data":${numbersJson(predictions)}}]}`);
    },
  };
}

/** Every element of `values` fits `datatype` (NaN stands for null), as `checkElements` says. */
function fitsDatatype(values: Float64Array, datatype: string): boolean {
  if (datatype === "FP64") return true;
  const n = values.length;
  if (datatype === "FP32") {
    for (let i = 0; i < n; i++) {
      const value = values[i];
      if (Math.abs(value) > FLOAT32_MAX && Number.isFinite(value)) return false;
    }
    return true;
  }
  const low = datatype === "INT32" ? INT32_MIN : -Number.MAX_SAFE_INTEGER;
  const high = datatype === "INT32" ? INT32_MAX : Number.MAX_SAFE_INTEGER;
  for (let i = 0; i < n; i++) {
    const value = values[i];
    if (Number.isNaN(value)) continue;
    if (!Number.isInteger(value) || value < low || value > high) return false;
  }
  return true;
}

/** A numeric column kind of the schema for `name`, or undefined (not a number/integer field). */
function numericKind(served: ServedModel, name: string): "number" | "integer" | undefined {
  if (!Object.hasOwn(served.schema.fields, name)) return undefined;
  const kind = served.schema.fields[name].kind;
  return kind === "number" || kind === "integer" ? kind : undefined;
}

/**
 * The frame the general path (`inputsToFrame`) would build from these tensors, or undefined
 * when they are anything but the plain numeric cases: then the general path decides.
 */
function byteTensorsToFrame(
  served: ServedModel,
  request: ByteInferRequest,
  maxBatchRows: number,
): Frame | undefined {
  const tensors = request.inputs;
  for (const tensor of tensors) if (!fitsDatatype(tensor.values, tensor.datatype)) return undefined;
  const features = served.featureNames;
  const single = tensors.length === 1 ? tensors[0] : undefined;
  if (
    single !== undefined &&
    single.shape.length === 2 &&
    numericKind(served, single.name) === undefined
  ) {
    // One [N, F] tensor, features in schema order.
    const [rows, width] = single.shape;
    if (width !== features.length || rows > maxBatchRows) return undefined;
    const kinds = features.map((name) => numericKind(served, name));
    if (kinds.includes(undefined)) return undefined;
    const values = single.values;
    // One backing store for every column.
    const store = request.arena.take(rows * width);
    const columns: [string, Column][] = features.map((name, c) => {
      const column = store.subarray(c * rows, (c + 1) * rows);
      for (let r = 0, k = c; r < rows; r++, k += width) column[r] = values[k];
      return [name, { kind: kinds[c]!, values: column }];
    });
    return new Frame(columns, rows);
  }
  const rows = tensors[0].shape[0];
  if (rows > maxBatchRows) return undefined;
  const seen = new Set<string>();
  const columns: [string, Column][] = [];
  for (const tensor of tensors) {
    const kind = numericKind(served, tensor.name);
    if (kind === undefined || seen.has(tensor.name)) return undefined;
    if (tensor.shape[0] !== rows || (tensor.shape.length === 2 && tensor.shape[1] !== 1)) {
      return undefined;
    }
    seen.add(tensor.name);
    columns.push([tensor.name, { kind, values: tensor.values }]);
  }
  return new Frame(columns, rows);
}

/** `GET /v2`: the server metadata. */
export function serverMetadata(name: string): Response {
  return jsonResponse(JSON.stringify({ name, version: SDK_VERSION, extensions: [] }));
}

/** `GET /v2/models/{name}[/versions/{v}]`: the model metadata. */
export function modelMetadata(state: AppState, name: string, version?: string): Response {
  const holder = holderOrNotFound(state, name);
  const served = servedVersion(holder, version);
  const versions =
    version === undefined && holder.router !== undefined
      ? [
          ...new Set(
            holder.router.variants.flatMap((item) =>
              item.holder.current === undefined ? [] : [item.holder.current.version],
            ),
          ),
        ]
      : [served.version];
  return jsonResponse(
    JSON.stringify({
      name: served.name,
      versions,
      platform: served.platform,
      inputs: served.tensors.inputs,
      outputs: served.tensors.outputs,
    }),
  );
}

/** `GET /v2/models/{name}[/versions/{v}]/ready`: 200 with no body when ready. */
export function modelReady(state: AppState, name: string, version?: string): Response {
  servedVersion(holderOrNotFound(state, name), version);
  return new Response(null, { status: 200 });
}

/** `GET /v2/health/ready`: 200 once every model is loaded, else 503 naming the others. */
export function serverReady(state: AppState): Response {
  if (state.closing) throw new ServeError("shutting_down", "the server is shutting down");
  const waiting = state.catalog.list().filter((holder) => holder.current === undefined);
  if (waiting.length > 0) {
    throw new ServeError(
      "model_not_ready",
      `not ready: ${waiting.map((h) => `"${h.label}" (${h.state})`).join(", ")}`,
    );
  }
  return new Response(null, { status: 200 });
}
