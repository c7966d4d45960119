import type { Frame } from "../frame/frame.js";
import { Field, type FieldDefinition } from "./field.js";
import { parseNumberText, Schema, type SchemaOptions, type Shape } from "./schema.js";

export type InferSchemaOptions = SchemaOptions;

/** Share of a text column's present values that must read as numbers to draft a number. */
const NUMERIC_TEXT_SHARE = 0.9;

/**
 * A first draft of a schema from data: integer columns (all whole numbers) become `integer`,
 * other numeric columns `number`, string columns `category` with the values seen (sorted),
 * and a column with missing values is `nullable`. A text column whose present values are
 * nearly all numbers (90 % or more) is drafted as a `number` column with a few bad values, so
 * that reading the data with the draft reports them with their line and column instead of
 * making a category of every distinct number. No bounds are set: review the draft and add the
 * ranges you mean before you rely on it (`widenSchema` widens a draft to what a model takes).
 *
 * @example
 * const draft = inferSchema(await readFrame("wine.csv"), { target: "quality" });
 * console.log(JSON.stringify(draft.toJSON(), null, 2));
 */
export function inferSchema(frame: Frame, options: InferSchemaOptions = {}): Schema {
  const fields: Shape = {};
  for (const [name, column] of frame.columns()) {
    let definition: FieldDefinition;
    let missing = false;
    if (column.kind === "category") {
      const used = new Uint8Array(column.dictionary.length);
      const numeric = column.dictionary.map((value) => Number.isFinite(parseNumberText(value)));
      let present = 0;
      let numbers = 0;
      for (const code of column.codes) {
        if (code < 0) missing = true;
        else {
          used[code] = 1;
          present++;
          if (numeric[code]) numbers++;
        }
      }
      const values = column.dictionary.filter((_, index) => used[index]).sort();
      definition =
        present > 0 && numbers / present >= NUMERIC_TEXT_SHARE
          ? { kind: "number" }
          : { kind: "category", values: values.length > 0 ? values : ["(none)"] };
    } else if (column.kind === "boolean") {
      definition = { kind: "boolean" };
      missing = firstMissing(column.values) >= 0;
    } else {
      const { values } = column;
      const fraction = firstFraction(values);
      missing = firstMissing(values) >= 0;
      definition = { kind: fraction < 0 ? "integer" : "number" };
    }
    if (missing) definition.nullable = true;
    fields[name] = new Field(definition);
  }
  return new Schema(fields, options);
}

/** The index of the first NaN of `values`, or −1. */
function firstMissing(values: Float64Array): number {
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (Number.isNaN(value)) return i;
  }
  return -1;
}

/**
 * The index of the first value of `values` that is neither NaN nor a whole number (±Infinity
 * included, as `Number.isInteger` has it), or −1. One subtraction and compare per value: these
 * loops run over every training row on each `fit`.
 */
function firstFraction(values: Float64Array): number {
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    // 0 for a whole number; a fraction otherwise, NaN for ±Infinity (and NaN, let through).
    if (value - Math.trunc(value) !== 0 && !Number.isNaN(value)) return i;
  }
  return -1;
}
