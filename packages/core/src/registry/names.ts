import { MlopsError } from "../errors/error.js";

/**
 * Validation of every name a caller gives the registry. Names double as file names in the folder
 * store, so the rules are strict and portable: ASCII only (macOS normalises Unicode file names),
 * no path separators, no leading dot, nothing a shell or Windows would trip on. Every check runs
 * before anything touches the disk.
 */

const NAME_MAX = 255;
const KEY_MAX = 250;
const TAG_VALUE_MAX = 8000;
const PARAM_VALUE_MAX = 6000;

const NAME_RULE =
  'expected 1 to 255 characters: letters, digits, "_", "-", "." and spaces, starting with a ' +
  'letter, digit or "_" and not ending with "." or a space';

const ALIAS_RULE = 'expected 1 to 255 lowercase letters, digits, "-" or "_"';

function quote(value: string): string {
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "string" ? quote(value) : typeof value;
}

function invalid(what: string, value: unknown, problem: string, rule: string): never {
  throw new MlopsError(
    "registry_name_invalid",
    `${what} ${describe(value)} is invalid: ${problem}; ${rule}`,
  );
}

/** Why `text` is not a portable name, or undefined when it is one. */
function nameProblem(text: string, max: number): string | undefined {
  if (text.length === 0) return "it is empty";
  if (text.length > max) return `it is ${text.length} characters long (at most ${max})`;
  if (text.includes("\0")) return "it contains a NUL character";
  if (text.includes("/") || text.includes("\\"))
    return 'it contains a path separator ("/" or "\\")';
  if (text.startsWith(".")) return 'it starts with "."';
  const bad = /[^A-Za-z0-9_. -]/.exec(text);
  if (bad) return `it contains ${JSON.stringify(bad[0])} at position ${bad.index + 1}`;
  if (!/^[A-Za-z0-9_]/.test(text)) return `it starts with ${JSON.stringify(text[0])}`;
  if (/[. ]$/.test(text)) return `it ends with ${JSON.stringify(text.at(-1))}`;
  return undefined;
}

/**
 * Checks a model name, experiment name, artifact name or tag key and returns it; throws
 * `registry_name_invalid` saying what is wrong and what is expected.
 *
 * @example
 * validateName("model name", "wine-quality"); // "wine-quality"
 * validateName("model name", "../wine"); // throws: it contains a path separator ...
 */
export function validateName(what: string, value: unknown): string {
  if (typeof value !== "string") invalid(what, value, "it is not a string", NAME_RULE);
  const problem = nameProblem(value, NAME_MAX);
  if (problem) invalid(what, value, problem, NAME_RULE);
  return value;
}

const MODEL_NAME_RULE =
  'expected 1 to 255 characters: letters, digits, "_", "-" and ".", starting with a letter, ' +
  'digit or "_" and not ending with "."';

/**
 * Checks the name of a model to register and returns it; throws `registry_name_invalid` saying
 * what is wrong and the rule. Stricter than `validateName`: a model name goes into `models:/`
 * URIs, shell commands and URLs, so it has no spaces and no "/" (which separates the version in
 * `models:/NAME/VERSION`). Names registered before this rule can still be read.
 *
 * @example
 * validateModelName("housing-v2"); // "housing-v2"
 * validateModelName("team/housing"); // throws: it contains "/" …
 * validateModelName("my housing"); // throws: it contains " " …
 */
export function validateModelName(value: unknown): string {
  const what = "model name";
  if (typeof value !== "string") invalid(what, value, "it is not a string", MODEL_NAME_RULE);
  const problem = nameProblem(value, NAME_MAX);
  const slash = value.indexOf("/");
  if (slash >= 0) {
    invalid(
      what,
      value,
      `it contains "/" at position ${slash + 1} ("/" separates the version in ` +
        "models:/NAME/VERSION; use a name such as team-housing)",
      MODEL_NAME_RULE,
    );
  }
  if (problem) invalid(what, value, problem, MODEL_NAME_RULE);
  const space = value.indexOf(" ");
  if (space >= 0) {
    invalid(
      what,
      value,
      `it contains a space at position ${space + 1} (models:/ URIs and shell commands would ` +
        "need quoting; use _ or -)",
      MODEL_NAME_RULE,
    );
  }
  return value;
}

/**
 * Checks an alias: lowercase letters, digits, "-" and "_". `latest` is reserved (it means the
 * highest version) and so are version-like names (`3`, `v3`), as in MLflow.
 *
 * @example
 * validateAlias("production"); // "production"
 * validateAlias("latest"); // throws registry_name_invalid
 */
export function validateAlias(value: unknown): string {
  if (typeof value !== "string") invalid("alias", value, "it is not a string", ALIAS_RULE);
  if (value.length === 0) invalid("alias", value, "it is empty", ALIAS_RULE);
  if (value.length > NAME_MAX) {
    invalid("alias", value, `it is ${value.length} characters long`, ALIAS_RULE);
  }
  const bad = /[^a-z0-9_-]/.exec(value);
  if (bad) {
    invalid("alias", value, `it contains ${JSON.stringify(bad[0])}`, ALIAS_RULE);
  }
  if (value === "latest") {
    invalid(
      "alias",
      value,
      '"latest" is reserved: it always means the highest version',
      ALIAS_RULE,
    );
  }
  if (/^v?\d+$/.test(value)) {
    invalid("alias", value, "it looks like a version number", ALIAS_RULE);
  }
  return value;
}

/**
 * Checks a param or metric key as MLflow does: 1 to 250 letters, digits, "_", "-", ".", " " and
 * "/" (for `train/loss`), with no empty, "." or ".." path segment.
 *
 * @example
 * validateKey("metric key", "train/loss"); // "train/loss"
 */
export function validateKey(what: string, value: unknown): string {
  const rule =
    'expected 1 to 250 letters, digits, "_", "-", ".", " " or "/", with no empty, "." or ".." ' +
    "segment between slashes";
  if (typeof value !== "string") invalid(what, value, "it is not a string", rule);
  if (value.length === 0) invalid(what, value, "it is empty", rule);
  if (value.length > KEY_MAX) invalid(what, value, `it is ${value.length} characters long`, rule);
  const bad = /[^A-Za-z0-9_. /-]/.exec(value);
  if (bad) invalid(what, value, `it contains ${JSON.stringify(bad[0])}`, rule);
  if (value.split("/").some((part) => part === "" || part === "." || part === "..")) {
    invalid(what, value, "it has an empty, '.' or '..' segment", rule);
  }
  return value;
}

/**
 * Checks an id the store generated (run id, experiment id): 1 to 64 letters, digits, "_", "-".
 *
 * @example
 * validateId("run id", "3f2c9a..."); // returns it
 */
export function validateId(what: string, value: unknown): string {
  if (typeof value !== "string" || !/^[A-Za-z0-9_-]{1,64}$/.test(value)) {
    invalid(what, value, "it is not an id", 'expected 1 to 64 letters, digits, "_" or "-"');
  }
  return value;
}

/**
 * Checks a model version number: a positive safe integer.
 *
 * @example
 * validateVersion(3); // 3
 */
export function validateVersion(value: unknown, what = "version"): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
    throw new MlopsError(
      "argument_invalid",
      `${what} ${describe(value)} is invalid: expected a positive integer (1, 2, 3, ...)`,
    );
  }
  return value;
}

/**
 * Checks a string value (tag value, param value, description) for type and length.
 *
 * @example
 * validateText("reason", "gate passed", 2000); // "gate passed"
 */
export function validateText(what: string, value: unknown, max: number): string {
  if (typeof value !== "string") {
    throw new MlopsError("argument_invalid", `${what}: expected a string, got ${describe(value)}`);
  }
  if (value.length > max) {
    throw new MlopsError(
      "argument_invalid",
      `${what}: expected at most ${max} characters, got ${value.length}`,
    );
  }
  if (value.includes("\0")) {
    throw new MlopsError("argument_invalid", `${what}: must not contain a NUL character`);
  }
  return value;
}

function assertRecord(what: string, value: unknown): asserts value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new MlopsError("argument_invalid", `${what}: expected an object, got ${describe(value)}`);
  }
}

/**
 * Checks a tag map (keys as names, values strings up to 8000 characters) and returns a copy.
 *
 * @example
 * validateTags({ team: "ml" }, "run tags"); // { team: "ml" }
 */
export function validateTags(value: unknown, what = "tags"): Record<string, string> {
  if (value === undefined) return {};
  assertRecord(what, value);
  const tags: Record<string, string> = {};
  for (const [key, text] of Object.entries(value)) {
    validateName("tag key", key);
    tags[key] = validateText(`${what}.${key}`, text, TAG_VALUE_MAX);
  }
  return tags;
}

/**
 * Checks params (keys as MLflow keys; values strings, numbers or booleans, stored as strings).
 *
 * @example
 * validateParams({ max_depth: 5 }); // { max_depth: "5" }
 */
export function validateParams(value: unknown): Record<string, string> {
  assertRecord("params", value);
  const params: Record<string, string> = {};
  for (const [key, raw] of Object.entries(value)) {
    validateKey("param key", key);
    if (typeof raw === "number" && !Number.isFinite(raw)) {
      throw new MlopsError(
        "argument_invalid",
        `params.${key}: expected a finite number, got ${raw}`,
      );
    }
    const text = typeof raw === "number" || typeof raw === "boolean" ? String(raw) : raw;
    params[key] = validateText(`params.${key}`, text, PARAM_VALUE_MAX);
  }
  return params;
}

/**
 * Checks a time in milliseconds since the epoch (a non-negative integer).
 *
 * @example
 * validateTime("startTime", Date.now());
 */
export function validateTime(what: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new MlopsError(
      "argument_invalid",
      `${what}: expected milliseconds since the Unix epoch (a non-negative integer), ` +
        `got ${describe(value)}`,
    );
  }
  return value;
}

/**
 * Checks that `value` is plain JSON (null, booleans, finite numbers, strings, arrays, plain
 * objects) so that it survives a JSON round trip unchanged; throws `argument_invalid` naming the
 * path of the first value that would not.
 *
 * @example
 * validateJson({ kind: "tree", metrics: { rmse: 0.6 } }, "metadata");
 */
export function validateJson(value: unknown, path: string, ancestors: object[] = []): void {
  if (value === null || typeof value === "string" || typeof value === "boolean") return;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) {
      throw new MlopsError("argument_invalid", `${path}: expected a finite number, got ${value}`);
    }
    return;
  }
  if (typeof value === "object") {
    if (ancestors.includes(value)) {
      throw new MlopsError("argument_invalid", `${path}: expected plain JSON, got a cycle`);
    }
    const inner = [...ancestors, value];
    if (Array.isArray(value)) {
      value.forEach((item, index) => {
        validateJson(item, `${path}[${index}]`, inner);
      });
      return;
    }
    const prototype = Object.getPrototypeOf(value);
    if (prototype !== Object.prototype && prototype !== null) {
      const kind = (value as object).constructor?.name ?? "object";
      throw new MlopsError("argument_invalid", `${path}: expected plain JSON, got a ${kind}`);
    }
    // An undefined property is dropped by JSON, which is what the caller means by it.
    for (const [key, item] of Object.entries(value)) {
      if (item !== undefined) validateJson(item, `${path}.${key}`, inner);
    }
    return;
  }
  throw new MlopsError("argument_invalid", `${path}: expected plain JSON, got ${typeof value}`);
}
