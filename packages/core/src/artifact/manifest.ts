import { z } from "zod";
import { MlopsError } from "../errors/error.js";
import { trainingProfileShape } from "../profile/validate.js";
import { Schema } from "../schema/schema.js";
import { MODEL_FORMAT, type ModelManifest } from "./types.js";

const json = z.json();

const descriptor = z.strictObject({
  dtype: z.enum(["float64", "int32", "uint8"]),
  offset: z.number().int().nonnegative(),
  length: z.number().int().nonnegative(),
});

const manifestShape = z.looseObject({
  format: z.literal(MODEL_FORMAT),
  kind: z.string().min(1),
  schema: z.looseObject({ format: z.literal("mlops.schema/v1") }),
  preprocessing: z.array(z.object({ kind: z.string().min(1) }).catchall(json)),
  model: z.object({ inputs: z.array(z.string().min(1)) }).catchall(json),
  params: z.record(z.string(), json),
  metrics: z.record(z.string(), z.number()),
  lineage: z
    .object({
      dataDigest: z.string().optional(),
      rowCount: z.number().int().nonnegative().optional(),
      createdAt: z.iso.datetime({ offset: true }),
      sdkVersion: z.string().min(1),
      gitCommit: z.string().optional(),
      runId: z.string().optional(),
    })
    .catchall(json),
  payload: z.strictObject({
    arrays: z.record(z.string().min(1), descriptor),
    byteLength: z.number().int().nonnegative(),
  }),
  // Artifacts written before profiles existed have none; they still load.
  profile: trainingProfileShape.optional(),
});

const finite = z.number();
const splitRule = z.enum(["float64_le", "float32_le", "float32_lt"]).optional();

/** Model sections of the built-in kinds, checked on load so a bad file fails early. */
const categories = z.record(z.string().min(1), z.array(z.string())).optional();

export const modelSections = {
  tree: z
    .object({ inputs: z.array(z.string().min(1)).min(1), categories, splitRule })
    .catchall(json),
  ensemble: z
    .object({
      inputs: z.array(z.string().min(1)).min(1),
      aggregation: z.enum(["mean", "sum"]),
      learningRate: finite.optional(),
      baseValue: finite.optional(),
      link: z.enum(["identity", "log", "logit"]).optional(),
      treeCount: z.number().int().positive(),
      categories,
      splitRule,
    })
    .catchall(json),
  linear: z.object({ inputs: z.array(z.string().min(1)).min(1), intercept: finite }).catchall(json),
} as const;

/** Renders a zod path the way issue messages do: `preprocessing[0].columns`. */
export function formatZodPath(path: readonly PropertyKey[]): string {
  let text = "";
  for (const part of path) {
    if (typeof part === "number") text += `[${part}]`;
    else text += text === "" ? String(part) : `.${String(part)}`;
  }
  return text || "(root)";
}

/** Formats the first issues of a zod error as `path: message; path: message`. */
export function formatZodIssues(error: z.ZodError, prefix = ""): string {
  const shown = error.issues.slice(0, 8).map((issue) => {
    const path = formatZodPath([...(prefix ? [prefix] : []), ...issue.path]);
    return `${path}: ${issue.message}`;
  });
  if (error.issues.length > 8) shown.push(`… and ${error.issues.length - 8} more`);
  return shown.join("; ");
}

/**
 * Validates a parsed manifest (shape, the embedded schema, the model section of built-in kinds).
 * Throws `artifact_invalid` naming `source` and listing each problem with its path.
 *
 * @example
 * const manifest = validateManifest(JSON.parse(text), "models/house/3/manifest.json");
 */
export function validateManifest(value: unknown, source: string): ModelManifest {
  const fail = (detail: string): never => {
    throw new MlopsError("artifact_invalid", `${source}: invalid model manifest: ${detail}`, {
      location: { file: source },
    });
  };
  const parsed = manifestShape.safeParse(value);
  if (!parsed.success) fail(formatZodIssues(parsed.error));
  const manifest = parsed.data as unknown as ModelManifest;
  try {
    Schema.fromJSON(manifest.schema);
  } catch (error) {
    fail(`schema: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (manifest.profile !== undefined) {
    const unknown = Object.keys(manifest.profile.features).filter(
      (name) => !(name in manifest.schema.fields),
    );
    if (unknown.length > 0) {
      fail(`profile.features: ${unknown.map((name) => `"${name}"`).join(", ")} not in the schema`);
    }
  }
  const section = modelSections[manifest.kind as keyof typeof modelSections];
  if (section) {
    const checked = section.safeParse(manifest.model);
    if (!checked.success) fail(formatZodIssues(checked.error, "model"));
  }
  return manifest;
}
