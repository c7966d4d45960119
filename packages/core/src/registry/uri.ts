import { MlopsError } from "../errors/error.js";
import { validateAlias, validateName } from "./names.js";
import type { ModelRegistryStore, ModelVersion } from "./types.js";

/**
 * A parsed `models:/` URI: a fixed version (`models:/wine/3`), an alias (`models:/wine@production`)
 * or the highest version (`models:/wine/latest`).
 *
 * @example
 * const uri: ModelUri = { name: "wine", kind: "alias", alias: "production" };
 */
export type ModelUri =
  | { name: string; kind: "version"; version: number }
  | { name: string; kind: "alias"; alias: string }
  | { name: string; kind: "latest" };

/** `{ success: true, data }` or `{ success: false, error }`, as zod's `safeParse` returns. */
export type SafeModelUriResult =
  | { success: true; data: ModelUri }
  | { success: false; error: MlopsError };

const FORMS = "models:/<name>/<version>, models:/<name>@<alias> or models:/<name>/latest";

function fail(uri: string, problem: string, cause?: unknown): never {
  throw new MlopsError("uri_invalid", `model URI ${JSON.stringify(uri)} is invalid: ${problem}`, {
    cause,
  });
}

function checked<T>(uri: string, check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (MlopsError.isInstance(error)) fail(uri, error.message, error);
    throw error;
  }
}

/**
 * Parses a model URI; throws `uri_invalid` saying which forms are accepted. Stages
 * (`models:/wine/Production`) are not supported: use an alias.
 *
 * @example
 * parseModelUri("models:/wine/3"); // { name: "wine", kind: "version", version: 3 }
 * parseModelUri("models:/wine@production"); // { name: "wine", kind: "alias", alias: "production" }
 * parseModelUri("models:/wine/latest"); // { name: "wine", kind: "latest" }
 */
export function parseModelUri(uri: string): ModelUri {
  if (typeof uri !== "string") {
    throw new MlopsError("uri_invalid", `model URI: expected a string like ${FORMS}`);
  }
  const prefix = "models:/";
  if (!uri.startsWith(prefix)) fail(uri, `expected ${FORMS}`);
  const rest = uri.slice(prefix.length);
  const at = rest.indexOf("@");
  if (at >= 0) {
    const name = rest.slice(0, at);
    const alias = rest.slice(at + 1);
    if (name === "" || alias === "") fail(uri, `expected ${FORMS}`);
    checked(uri, () => validateName("model name", name));
    if (alias === "latest") return { name, kind: "latest" };
    checked(uri, () => validateAlias(alias));
    return { name, kind: "alias", alias };
  }
  const slash = rest.indexOf("/");
  if (slash <= 0 || slash === rest.length - 1) fail(uri, `expected ${FORMS}`);
  const name = rest.slice(0, slash);
  const reference = rest.slice(slash + 1);
  checked(uri, () => validateName("model name", name));
  if (reference === "latest") return { name, kind: "latest" };
  if (/^[1-9]\d*$/.test(reference) && Number.isSafeInteger(Number(reference))) {
    return { name, kind: "version", version: Number(reference) };
  }
  if (/^\d+$/.test(reference)) {
    fail(
      uri,
      `version ${JSON.stringify(reference)} is not a positive integer without leading zeros`,
    );
  }
  const hint = /^[A-Za-z]+$/.test(reference)
    ? `; stages are not supported, use an alias: models:/${name}@${reference.toLowerCase()}`
    : "";
  fail(uri, `${JSON.stringify(reference)} is not a version or "latest"${hint}`);
}

/**
 * Parses a model URI without throwing.
 *
 * @example
 * const result = safeParseModelUri(input);
 * if (!result.success) return respond(400, result.error.message);
 */
export function safeParseModelUri(uri: string): SafeModelUriResult {
  try {
    return { success: true, data: parseModelUri(uri) };
  } catch (error) {
    if (MlopsError.isInstance(error)) return { success: false, error };
    throw error;
  }
}

/**
 * Writes a parsed URI back as text.
 *
 * @example
 * formatModelUri({ name: "wine", kind: "alias", alias: "production" });
 * // "models:/wine@production"
 */
export function formatModelUri(uri: ModelUri): string {
  if (uri.kind === "version") return `models:/${uri.name}/${uri.version}`;
  if (uri.kind === "alias") return `models:/${uri.name}@${uri.alias}`;
  return `models:/${uri.name}/latest`;
}

/**
 * Finds the model version a URI points at. Throws `registry_not_found` naming the unknown model,
 * version or alias (and listing the aliases that exist), or `uri_invalid` for a malformed URI.
 *
 * @example
 * const version = await resolveModelUri(store, "models:/wine@production");
 * const bytes = await store.readModelArtifact(version.name, version.version);
 */
export async function resolveModelUri(
  store: Pick<ModelRegistryStore, "getModelVersion" | "getLatestModelVersion" | "getAlias">,
  uri: string | ModelUri,
): Promise<ModelVersion> {
  const parsed = typeof uri === "string" ? parseModelUri(uri) : uri;
  if (parsed.kind === "version") return store.getModelVersion(parsed.name, parsed.version);
  if (parsed.kind === "latest") return store.getLatestModelVersion(parsed.name);
  const version = await store.getAlias(parsed.name, parsed.alias);
  return store.getModelVersion(parsed.name, version);
}
