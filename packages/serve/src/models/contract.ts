import { MlopsError, type ModelArtifact, Schema } from "@mlops/core";

/**
 * What the server does with a field (or column) of a request that the model does not read: a
 * client's `id`, a timestamp, the target.
 *
 * - `"ignore"` (default): it is ignored, as MLflow's scoring server ignores extra columns; the
 *   target is never read, whatever value it holds.
 * - `"reject"`: the request gets 422 naming the field, and a target value must be valid for the
 *   target's declared kind (the schema as declared, to the letter).
 *
 * @example
 * createInferenceApp({ registry, models: ["housing@production"], unknownFields: "reject" });
 */
export type UnknownFields = "ignore" | "reject";

/** The accepted values of `unknownFields`, for option checks. */
export const UNKNOWN_FIELDS: readonly UnknownFields[] = ["ignore", "reject"];

/** Checks the `unknownFields` option (default `"ignore"`). */
export function checkUnknownFields(value: unknown): UnknownFields {
  if (value === undefined) return "ignore";
  if (value === "ignore" || value === "reject") return value;
  throw new MlopsError(
    "argument_invalid",
    `unknownFields: expected "ignore" or "reject", got ${JSON.stringify(value)}`,
  );
}

/**
 * The contract requests to a model are checked against: the model's features as its schema
 * declares them (a schema drafted by `mlops-train` or `inferSchema` was widened to what the model
 * takes when it was trained). By default the target and any field the model does not read are
 * left out of the check, so they are ignored; with `"reject"` the schema is the contract as
 * declared, unknown fields refused.
 *
 * @example
 * requestContract(housing, "ignore").fields.median_house_value; // undefined
 */
export function requestContract(schema: Schema, unknownFields: UnknownFields): Schema {
  if (unknownFields === "reject") {
    if (schema.unknownKeys === "reject") return schema;
    return Schema.fromJSON({ ...schema.toJSON(), unknownKeys: "reject" });
  }
  const json = schema.toJSON();
  if (json.target !== undefined) delete json.fields[json.target];
  delete json.target;
  json.unknownKeys = "strip";
  return Schema.fromJSON(json);
}

/**
 * The artifact a runtime loads: the same model with `requestContract` as its schema, so that
 * every runtime (the native predictor, ONNX) checks requests against the served contract.
 */
export function servedArtifact(
  artifact: ModelArtifact,
  unknownFields: UnknownFields,
): ModelArtifact {
  const declared = Schema.fromJSON(artifact.manifest.schema);
  const contract = requestContract(declared, unknownFields);
  if (contract === declared) return artifact;
  return { ...artifact, manifest: { ...artifact.manifest, schema: contract.toJSON() } };
}
