import { createHash, timingSafeEqual } from "node:crypto";
import { MlopsError } from "@mlops/core";
import type { GuardRequest, RequestGuard, RouteScope } from "../app/types.js";
import { ServeError } from "../errors.js";

/**
 * What an API key may do: `predict` (prediction routes) and `admin` (metadata, metrics).
 *
 * @example
 * const scopes: ApiKeyScope[] = ["predict", "admin"];
 */
export type ApiKeyScope = "predict" | "admin";

/**
 * Every scope a key can hold.
 *
 * @example
 * API_KEY_SCOPES.includes("admin"); // true
 */
export const API_KEY_SCOPES: readonly ApiKeyScope[] = Object.freeze(["predict", "admin"]);

/**
 * One accepted API key, stored as the sha256 of the key (64 hex digits), never the key itself.
 *
 * @example
 * const key: ApiKey = { name: "checkout", sha256: hashApiKey("s3cret"), scopes: ["predict"] };
 */
export interface ApiKey {
  /** A label for logs and error messages (never the key). */
  name?: string;
  /** sha256 of the key, as 64 hex digits (`echo -n KEY | sha256sum`). */
  sha256: string;
  scopes: readonly ApiKeyScope[];
}

/**
 * API-key authentication of an inference app. Health routes stay open; the other route
 * families need a scope, by default `predict` for prediction routes and `admin` for metadata
 * and `/metrics`.
 *
 * @example
 * createInferenceApp({
 *   registry,
 *   models: ["wine@production"],
 *   auth: { keys: [{ sha256: hashApiKey("s3cret"), scopes: ["predict"] }] },
 * });
 */
export interface AuthOptions {
  /**
   * The accepted keys. Left out: read from the `MLOPS_API_KEY_HASHES` environment variable
   * (`"hex:scope+scope,hex:scope"`, see `parseApiKeyHashes`).
   */
  keys?: readonly ApiKey[];
  /**
   * The scope each route family needs; `null` leaves it open. Default:
   * `{ predict: "predict", metadata: "admin", metrics: "admin", health: null }`.
   */
  scopes?: Partial<Record<RouteScope, ApiKeyScope | null>>;
  /** The realm in `WWW-Authenticate` (default `"mlops-serve"`). */
  realm?: string;
}

/**
 * The environment variable `auth` reads keys from when `keys` is not given.
 *
 * @example
 * process.env[API_KEY_HASHES_ENV] = `${hashApiKey("s3cret")}:predict+admin`;
 */
export const API_KEY_HASHES_ENV = "MLOPS_API_KEY_HASHES";

const DEFAULT_SCOPES: Readonly<Record<RouteScope, ApiKeyScope | null>> = Object.freeze({
  predict: "predict",
  metadata: "admin",
  metrics: "admin",
  health: null,
});

const HEX_SHA256 = /^[0-9a-f]{64}$/i;

/**
 * The sha256 of an API key as 64 lower-case hex digits: what `ApiKey.sha256`,
 * `MLOPS_API_KEY_HASHES` and `mlops-serve --api-key-hash` take.
 *
 * @example
 * hashApiKey("s3cret"); // "1ec1c26b50d5d3c58d9583181af8076655fe00756bf7285940ba3670f99fcba0"
 */
export function hashApiKey(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex");
}

function isScope(value: string): value is ApiKeyScope {
  return (API_KEY_SCOPES as readonly string[]).includes(value);
}

/**
 * Parses API-key hashes as `MLOPS_API_KEY_HASHES` and `--api-key-hash` write them: entries
 * separated by commas (or whitespace), each `HEX:scope+scope` (`HEX` alone means `predict`).
 * Throws `argument_invalid` naming the entry that is wrong.
 *
 * @example
 * parseApiKeyHashes(`${hashApiKey("a")}:predict+admin,${hashApiKey("b")}`);
 * // [{ sha256: "ca97…", scopes: ["predict", "admin"] },
 * //  { sha256: "3e23…", scopes: ["predict"] }]
 */
export function parseApiKeyHashes(text: string, source = API_KEY_HASHES_ENV): ApiKey[] {
  const keys: ApiKey[] = [];
  const entries = text
    .split(/[\s,]+/)
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "");
  for (const [index, entry] of entries.entries()) {
    const colon = entry.indexOf(":");
    const hex = colon < 0 ? entry : entry.slice(0, colon);
    const scopeText = colon < 0 ? "predict" : entry.slice(colon + 1);
    if (!HEX_SHA256.test(hex)) {
      throw new MlopsError(
        "argument_invalid",
        `${source}: entry ${index + 1} must start with a sha256 hash (64 hex digits), ` +
          `got ${JSON.stringify(hex.length > 70 ? `${hex.slice(0, 70)}…` : hex)}`,
      );
    }
    const scopes = scopeText.split("+").filter((scope) => scope !== "");
    const unknown = scopes.filter((scope) => !isScope(scope));
    if (scopes.length === 0 || unknown.length > 0) {
      throw new MlopsError(
        "argument_invalid",
        `${source}: entry ${index + 1} has scopes ${JSON.stringify(scopeText)}; ` +
          `expected ${API_KEY_SCOPES.join(" and/or ")} joined by "+" (HEX:predict+admin)`,
      );
    }
    keys.push({ sha256: hex.toLowerCase(), scopes: scopes as ApiKeyScope[] });
  }
  return keys;
}

interface CompiledKey {
  readonly digest: Buffer;
  readonly scopes: ReadonlySet<ApiKeyScope>;
}

function compileKeys(keys: readonly ApiKey[]): CompiledKey[] {
  if (!Array.isArray(keys)) {
    throw new MlopsError("argument_invalid", "auth.keys: expected an array of { sha256, scopes }");
  }
  return keys.map((key, index) => {
    const where = `auth.keys[${index}]${key?.name ? ` ("${key.name}")` : ""}`;
    if (typeof key?.sha256 !== "string" || !HEX_SHA256.test(key.sha256)) {
      throw new MlopsError(
        "argument_invalid",
        `${where}.sha256: expected the key's sha256 as 64 hex digits (hashApiKey(key))`,
      );
    }
    if (!Array.isArray(key.scopes) || key.scopes.length === 0 || !key.scopes.every(isScope)) {
      throw new MlopsError(
        "argument_invalid",
        `${where}.scopes: expected a non-empty list of ${API_KEY_SCOPES.join(", ")}`,
      );
    }
    return { digest: Buffer.from(key.sha256, "hex"), scopes: new Set(key.scopes) };
  });
}

/** The key a request presents: `Authorization: Bearer KEY`, else `x-api-key`. */
function presentedKey(request: GuardRequest): string | undefined {
  const authorization = request.header("authorization");
  if (authorization !== undefined) {
    const match = /^\s*bearer\s+(\S+)\s*$/i.exec(authorization);
    if (match !== null) return match[1];
  }
  const apiKey = request.header("x-api-key");
  return apiKey === undefined || apiKey.trim() === "" ? undefined : apiKey.trim();
}

/**
 * The keys `auth` accepts: `keys` when given, else `MLOPS_API_KEY_HASHES` from `env`;
 * undefined when neither has any (auth stays off).
 */
export function resolveApiKeys(
  auth: AuthOptions | undefined,
  env: Record<string, string | undefined> = process.env,
): readonly ApiKey[] | undefined {
  if (auth?.keys !== undefined) return auth.keys;
  const text = env[API_KEY_HASHES_ENV];
  if (text === undefined || text.trim() === "") return undefined;
  return parseApiKeyHashes(text);
}

/**
 * A guard (`createInferenceApp({ guards })`) that checks API keys: the sha256 of the
 * presented key (`Authorization: Bearer KEY` or `x-api-key: KEY`) is compared in constant
 * time with every configured hash — always all of them, so the time taken says nothing about
 * which key matched or how much of it. 401 `unauthorized` (with `WWW-Authenticate: Bearer`)
 * when the key is missing or unknown, 403 `forbidden` when it lacks the route's scope.
 * `createInferenceApp({ auth })` installs it for you.
 *
 * @example
 * const guard = apiKeyGuard({ keys: [{ sha256: hashApiKey("s3cret"), scopes: ["predict"] }] });
 * createInferenceApp({ models, guards: [guard] });
 */
export function apiKeyGuard(options: AuthOptions & { keys: readonly ApiKey[] }): RequestGuard {
  const keys = compileKeys(options.keys);
  if (keys.length === 0) {
    throw new MlopsError("argument_invalid", "auth.keys: list at least one key");
  }
  const scopes: Record<RouteScope, ApiKeyScope | null> = { ...DEFAULT_SCOPES };
  for (const [scope, needed] of Object.entries(options.scopes ?? {})) {
    if (!(scope in DEFAULT_SCOPES)) {
      throw new MlopsError(
        "argument_invalid",
        `auth.scopes: unknown route scope "${scope}" (health, metadata, predict, metrics)`,
      );
    }
    if (needed !== null && !isScope(String(needed))) {
      throw new MlopsError(
        "argument_invalid",
        `auth.scopes.${scope}: expected ${API_KEY_SCOPES.join(", ")} or null, got ${needed}`,
      );
    }
    scopes[scope as RouteScope] = needed ?? null;
  }
  const realm = (options.realm ?? "mlops-serve").replace(/["\\]/g, "");
  const challenge = `Bearer realm="${realm}"`;
  const missing = new ServeError("unauthorized", "an API key is required", {
    headers: { "www-authenticate": challenge },
  });
  const invalid = new ServeError("unauthorized", "the API key is not valid", {
    headers: { "www-authenticate": `${challenge}, error="invalid_token"` },
  });
  const forbidden = new Map<ApiKeyScope, ServeError>(
    API_KEY_SCOPES.map((scope) => [
      scope,
      new ServeError("forbidden", `the API key does not have the "${scope}" scope`, {
        headers: {
          "www-authenticate": `${challenge}, error="insufficient_scope", scope="${scope}"`,
        },
      }),
    ]),
  );

  return (request) => {
    const needed = scopes[request.route.scope];
    if (needed === null) return;
    const key = presentedKey(request);
    if (key === undefined) throw missing;
    const digest = createHash("sha256").update(key, "utf8").digest();
    let found: CompiledKey | undefined;
    for (const candidate of keys) {
      // No early exit: every hash is compared whatever matched before.
      const equal = timingSafeEqual(digest, candidate.digest);
      if (equal && found === undefined) found = candidate;
    }
    if (found === undefined) throw invalid;
    if (!found.scopes.has(needed)) throw forbidden.get(needed)!;
  };
}
