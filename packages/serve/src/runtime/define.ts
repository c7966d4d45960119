import { type Frame, MlopsError, Schema } from "@mlops/core";

/**
 * A model written in code, served like a registered one: requests are validated against
 * `schema` before `predict` sees them (it gets a conformed frame: numbers as `Float64Array`,
 * categories as codes), and it answers on every protocol with metrics.
 */
export interface ModelDefinition {
  /** The name it is served under (`/v1/models/{name}/predict`). */
  readonly name: string;
  /** Shown as the model version (default `"1"`). */
  readonly version: string;
  readonly schema: Schema;
  /** One prediction per row of a validated frame. */
  predict(frame: Frame): Float64Array | number[] | Promise<Float64Array | number[]>;
  /** Optional fast path for one validated row object. */
  predictRow?(row: Record<string, unknown>): number | Promise<number>;
  /** Aliases to report in `/v1/models` and `mlops_model_info` (default none). */
  readonly aliases: readonly string[];
  /** The Open Inference Protocol `platform` (default `"mlops-js"`). */
  readonly platform: string;
  /** Inclusive range of predictions, for the prediction-value histogram buckets. */
  readonly valueRange?: readonly [number, number];
}

export interface DefineModelInput {
  name: string;
  version?: string | number;
  schema: Schema;
  predict(frame: Frame): Float64Array | number[] | Promise<Float64Array | number[]>;
  predictRow?(row: Record<string, unknown>): number | Promise<number>;
  aliases?: readonly string[];
  platform?: string;
  valueRange?: readonly [number, number];
}

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * Declares a hand-written model. Pass the result in `createInferenceApp({ models: [...] })`.
 * Throws `argument_invalid` for a bad name or a missing schema / predict function.
 *
 * @example
 * const doubler = defineModel({
 *   name: "doubler",
 *   schema: schema({ x: field.number() }),
 *   predict: (frame) => frame.numeric("x").map((x) => 2 * x),
 * });
 * const app = createInferenceApp({ models: [doubler] });
 */
export function defineModel(input: DefineModelInput): ModelDefinition {
  if (typeof input?.name !== "string" || !NAME_PATTERN.test(input.name)) {
    throw new MlopsError(
      "argument_invalid",
      `defineModel: name ${JSON.stringify(input?.name)} must be 1-128 characters of ` +
        "letters, digits, '.', '_' or '-', starting with a letter or digit",
    );
  }
  if (!(input.schema instanceof Schema)) {
    throw new MlopsError(
      "argument_invalid",
      `defineModel("${input.name}"): schema must be a Schema (use schema({ ... }))`,
    );
  }
  if (typeof input.predict !== "function") {
    throw new MlopsError(
      "argument_invalid",
      `defineModel("${input.name}"): predict must be a function (frame) => predictions`,
    );
  }
  const definition: ModelDefinition = {
    name: input.name,
    version: String(input.version ?? "1"),
    schema: input.schema,
    predict: input.predict,
    predictRow: input.predictRow,
    aliases: Object.freeze([...(input.aliases ?? [])]),
    platform: input.platform ?? "mlops-js",
    valueRange: input.valueRange,
  };
  return Object.freeze(definition);
}

/** True for the value `defineModel` returns (or any object of that shape). */
export function isModelDefinition(value: unknown): value is ModelDefinition {
  const candidate = value as Partial<ModelDefinition> | null;
  return (
    typeof candidate === "object" &&
    candidate !== null &&
    typeof candidate.name === "string" &&
    typeof candidate.predict === "function" &&
    candidate.schema instanceof Schema
  );
}
