import { MlopsError } from "../errors/error.js";
import { type Column, type ColumnKind, categoryColumn, Frame } from "../frame/frame.js";
import type { TrainingProfile } from "../profile/types.js";
import { isMissingToken, parseNumberText } from "../schema/schema.js";

const TRUE_TEXT = new Set(["true", "1", "yes", "t", "y"]);
const FALSE_TEXT = new Set(["false", "0", "no", "f", "n"]);

/** The column kinds a profile describes: its features and its target. */
export function profileKinds(profile: TrainingProfile): Record<string, ColumnKind> {
  const kinds: Record<string, ColumnKind> = {};
  for (const [name, column] of Object.entries(profile.features)) kinds[name] = column.kind;
  if (profile.target !== undefined) kinds[profile.target.name] = profile.target.kind;
  return kinds;
}

function firstRow(codes: Int32Array, code: number): number {
  return codes.indexOf(code);
}

function toNumbers(
  name: string,
  column: Column,
  kind: "number" | "integer" | "boolean",
  side: string,
): Column {
  if (column.kind !== "category")
    return kind === column.kind ? column : { kind, values: column.values };
  const parsed = column.dictionary.map((text, code) => {
    if (isMissingToken(text)) return Number.NaN;
    if (kind === "boolean") {
      const lower = text.trim().toLowerCase();
      if (TRUE_TEXT.has(lower)) return 1;
      if (FALSE_TEXT.has(lower)) return 0;
    } else {
      const value = parseNumberText(text);
      if (!Number.isNaN(value)) return value;
    }
    throw new MlopsError(
      "data_invalid",
      `${side} column "${name}", row ${firstRow(column.codes, code) + 1}: expected ${
        kind === "boolean" ? "true or false" : "a number"
      } as in the reference, got ${JSON.stringify(text)}`,
    );
  });
  const values = new Float64Array(column.codes.length);
  for (let i = 0; i < values.length; i++) {
    const code = column.codes[i];
    values[i] = code < 0 ? Number.NaN : parsed[code];
  }
  return { kind, values };
}

function toCategories(column: Column): Column {
  if (column.kind === "category") return column;
  const texts = Array.from(column.values, (value) =>
    Number.isNaN(value) ? null : column.kind === "boolean" ? String(value !== 0) : String(value),
  );
  return categoryColumn(texts);
}

/**
 * The frame with each named column converted to the kind the reference has — numbers written
 * as text parsed, categories written as numbers turned into text, `true`/`false` read as
 * booleans — so that data read without a schema (where an unseen category or an out-of-range
 * value is drift to measure, not an error) lines up with a profile. Columns not named are left
 * as they are; a value that cannot be converted throws `data_invalid` naming column and row.
 *
 * @example
 * const current = alignColumns(await readFrame("today.csv"), profileKinds(profile));
 */
export function alignColumns(
  frame: Frame,
  kinds: Readonly<Record<string, ColumnKind>>,
  side = "current",
): Frame {
  const entries: [string, Column][] = [];
  for (const [name, column] of frame.columns()) {
    const kind = kinds[name];
    if (kind === undefined) entries.push([name, column]);
    else if (kind === "category") entries.push([name, toCategories(column)]);
    else entries.push([name, toNumbers(name, column, kind, side)]);
  }
  return new Frame(entries, frame.rowCount);
}
