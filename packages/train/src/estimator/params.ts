import { MlopsError } from "@mlops/core";

/**
 * A value as a parameter error shows it: strings quoted, arrays and objects as JSON, others as
 * `String(value)`.
 *
 * @example
 * describeValue("sqrt"); // '"sqrt"'
 * describeValue(null); // "null"
 */
export function describeValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "function") return "a function";
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

/**
 * The error for a hyperparameter that does not fit its contract, in the form
 * `maxDepth: expected an integer ≥ 1 or null, got 0`.
 *
 * @example
 * throw paramError("maxDepth", "an integer ≥ 1 or null", 0);
 */
export function paramError(name: string, expected: string, value: unknown): MlopsError {
  return new MlopsError(
    "argument_invalid",
    `${name}: expected ${expected}, got ${describeValue(value)}`,
  );
}

/** True for a finite integer (as a JS number: `3` and `3.0` are the same value). */
export function isInteger(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value);
}

/** True for a finite number. */
export function isFiniteNumber(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value);
}

/**
 * Checks that `params` has no key outside `known` (a misspelt parameter is an error, as in
 * scikit-learn's `set_params`).
 */
export function checkParamNames(
  owner: string,
  params: object,
  known: readonly string[],
  context: string,
): void {
  for (const key of Object.keys(params)) {
    if (!known.includes(key)) {
      throw new MlopsError(
        "argument_invalid",
        `${context}: unknown parameter "${key}" for ${owner} (valid: ${known.join(", ")})`,
      );
    }
  }
}
