import { paramError } from "../estimator/params.js";

/** Checks a `columns` parameter: null (every suitable column) or a list of unique names. */
export function checkColumnsParam(columns: unknown): string[] | null {
  if (columns === null) return null;
  if (
    !Array.isArray(columns) ||
    columns.length === 0 ||
    !columns.every((name) => typeof name === "string" && name.length > 0) ||
    new Set(columns).size !== columns.length
  ) {
    throw paramError("columns", "null or a non-empty list of unique column names", columns);
  }
  return columns as string[];
}

/** Checks a boolean parameter. */
export function checkBoolean(name: string, value: unknown): boolean {
  if (typeof value !== "boolean") throw paramError(name, "a boolean", value);
  return value;
}

/** Checks a parameter against its allowed string values. */
export function checkChoice<T extends string>(
  name: string,
  value: unknown,
  choices: readonly T[],
): T {
  if (!choices.includes(value as T)) {
    throw paramError(name, choices.map((choice) => JSON.stringify(choice)).join(" or "), value);
  }
  return value as T;
}
