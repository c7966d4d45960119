import { type Frame, MlopsError, type Schema, type TensorMetadata } from "@mlops/core";
import type { RequestRecorder } from "../metrics/metrics.js";
import type { VersionMonitor } from "../monitor/version.js";
import { recordsToFrame } from "../protocols/tabular.js";
import type { LoadedModel } from "../runtime/runtime.js";

/**
 * The OIP output tensor every served model has: one FP64 prediction per row.
 *
 * @example
 * body.outputs.find((output) => output.name === OUTPUT_NAME)?.data;
 */
export const OUTPUT_NAME = "predict";

/** How a served model was found: its registry reference, or given in code. */
export type ModelOrigin =
  | { type: "registry"; reference: string; uri: string }
  | { type: "artifact" }
  | { type: "definition" };

/**
 * One model version as the server answers with it: immutable, everything a request needs
 * precomputed (metadata, JSON fragments, metric series). A `ModelHolder` swaps whole
 * `ServedModel`s, and a request reads the holder once, so it sees one version throughout.
 */
export interface ServedModel {
  /** The name it is served under. */
  readonly name: string;
  /** Its variant of a split (A/B) name (`"house@candidate"`); undefined for a plain model. */
  readonly variant: string | undefined;
  /** True for a shadow variant (mirrored requests, answers never returned). */
  readonly shadow: boolean;
  /** The version as text (`"3"`): OIP versions, the `x-model-version` header and labels. */
  readonly version: string;
  /** Aliases pointing at this version when it was loaded. */
  readonly aliases: readonly string[];
  readonly origin: ModelOrigin;
  /** The artifact kind (`"tree"`, …) or `"custom"` for `defineModel` models. */
  readonly kind: string;
  /** The runtime that loaded it (`"native"`, …). */
  readonly runtime: string;
  readonly platform: string;
  readonly model: LoadedModel;
  /** The request contract: the features requests are checked against (see `requestContract`). */
  readonly schema: Schema;
  /** The target the model predicts, as its schema declares it (never read from requests). */
  readonly target: string | undefined;
  readonly featureNames: readonly string[];
  /** OIP tensor metadata: one input per feature, one `predict` output. */
  readonly tensors: { inputs: TensorMetadata[]; outputs: TensorMetadata[] };
  /** `{"name":…,"version":…}` (and `"variant"` for a split name) serialized once, for bodies. */
  readonly modelJson: string;
  /** The artifact digest, when loaded from a registry. */
  readonly digest: string | undefined;
  readonly loadedAt: string;
  readonly metrics: RequestRecorder;
  /** Its monitoring (drift window, online error), when the app monitors. */
  readonly monitor: VersionMonitor | undefined;
  /**
   * Prediction requests using this model now. A version swapped out by hot reload is released
   * (`LoadedModel.close`) once this drops to 0.
   */
  readonly usage: ModelUsage;
}

/**
 * The live request count of a loaded model (shared by the snapshots of one model).
 *
 * @example
 * app.models.get("wine")?.current?.usage.inFlight; // 3
 */
export interface ModelUsage {
  inFlight: number;
}

export interface ServedModelInput {
  name: string;
  variant?: string;
  shadow?: boolean;
  version: string;
  aliases?: readonly string[];
  origin: ModelOrigin;
  kind: string;
  runtime: string;
  model: LoadedModel;
  digest?: string;
  /** The declared target (default: the runtime schema's). */
  target?: string;
  metrics: RequestRecorder;
  monitor?: VersionMonitor;
  /** When it was loaded (default now). */
  loadedAt?: string;
  /** Shared with an earlier snapshot of the same loaded model (aliases refreshed). */
  usage?: ModelUsage;
}

const HEADER_SAFE = /^[\x21-\x7e]{1,128}$/;

/** Builds the immutable `ServedModel` for a loaded model. */
export function servedModel(input: ServedModelInput): ServedModel {
  if (!HEADER_SAFE.test(input.version)) {
    // It goes into the x-model-version header.
    throw new MlopsError(
      "argument_invalid",
      `model "${input.name}": version ${JSON.stringify(input.version)} must be 1-128 visible ` +
        "ASCII characters",
    );
  }
  const candidate = input.model as Partial<LoadedModel> | undefined;
  // Duck-typed: a runtime may come with its own copy of @mlops/core.
  if (
    typeof candidate?.schema?.toTensorMetadata !== "function" ||
    typeof candidate.predict !== "function"
  ) {
    throw new MlopsError(
      "argument_invalid",
      `model "${input.name}": the runtime "${input.runtime}" returned no { schema, predict }`,
    );
  }
  const schema = input.model.schema;
  const metadata = schema.toTensorMetadata();
  return Object.freeze({
    name: input.name,
    variant: input.variant,
    shadow: input.shadow ?? false,
    version: input.version,
    aliases: Object.freeze([...(input.aliases ?? [])]),
    origin: input.origin,
    kind: input.kind,
    runtime: input.runtime,
    platform: input.model.platform ?? input.runtime,
    model: input.model,
    schema,
    target: input.target ?? schema.target,
    featureNames: Object.freeze(schema.featureNames),
    tensors: {
      inputs: metadata.inputs,
      outputs: [{ name: OUTPUT_NAME, datatype: "FP64" as const, shape: [-1] }],
    },
    modelJson: JSON.stringify(
      input.variant === undefined
        ? { name: input.name, version: input.version }
        : { name: input.name, version: input.version, variant: input.variant },
    ),
    digest: input.digest,
    loadedAt: input.loadedAt ?? new Date().toISOString(),
    metrics: input.metrics,
    monitor: input.monitor,
    usage: input.usage ?? { inFlight: 0 },
  });
}

function checkOutput(values: Float64Array | number[], rowCount: number, name: string) {
  const out = values instanceof Float64Array ? values : Float64Array.from(values);
  if (out.length !== rowCount) {
    // A bug in the model, not in the request: answered as a generic 500 (kept as the cause).
    throw new Error(`model "${name}" returned ${out.length} predictions for ${rowCount} rows`);
  }
  return out;
}

/**
 * Predicts a frame: validated by the model (native) or by the schema first, with JSON
 * semantics (text is not parsed as numbers).
 */
export function predictFrame(
  served: ServedModel,
  frame: Frame,
): Float64Array | Promise<Float64Array> {
  const model = served.model;
  const input = model.validates ? frame : served.schema.conformFrame(frame, { textMissing: false });
  const result = model.predict(input) as Float64Array | number[] | Promise<Float64Array | number[]>;
  if (result instanceof Float64Array) {
    if (result.length === input.rowCount) return result;
    return checkOutput(result, input.rowCount, served.name);
  }
  if (Array.isArray(result)) return checkOutput(result, input.rowCount, served.name);
  return Promise.resolve(result).then((values) => checkOutput(values, input.rowCount, served.name));
}

/**
 * Predicts one row object: the model's `predictRow` when it has one (validated by the model or
 * by `schema.parseRow`), else a one-row frame. Issue paths are `[field]`.
 */
export function predictRow(
  served: ServedModel,
  row: Record<string, unknown>,
): number | Promise<number> {
  const model = served.model;
  if (model.predictRow !== undefined) {
    return model.predictRow(
      model.validates ? row : (served.schema.parseRow(row) as Record<string, unknown>),
    );
  }
  if (!model.validates) served.schema.parseRow(row);
  const result = predictFrame(served, recordsToFrame(served.schema, [row]));
  return result instanceof Float64Array ? result[0] : result.then((values) => values[0]);
}

/**
 * The same loaded model with the aliases the registry shows now (another alias moved to or
 * from its version): a new snapshot for the holder, sharing the model, metrics and usage.
 */
export function withAliases(served: ServedModel, aliases: readonly string[]): ServedModel {
  return servedModel({
    name: served.name,
    variant: served.variant,
    shadow: served.shadow,
    version: served.version,
    aliases,
    origin: served.origin,
    kind: served.kind,
    runtime: served.runtime,
    model: served.model,
    digest: served.digest,
    target: served.target,
    metrics: served.metrics,
    monitor: served.monitor,
    loadedAt: served.loadedAt,
    usage: served.usage,
  });
}
