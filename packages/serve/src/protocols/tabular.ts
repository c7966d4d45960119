import { type Column, type Field, Frame, isMissingToken, type Schema } from "@mlops/core";
import { ServeError } from "../errors.js";

/**
 * JSON tabular data (row objects, columns of values, row-major matrices) to a columnar Frame,
 * with JSON semantics: numbers for number/integer fields, booleans for boolean fields, strings
 * for category fields, `null` for missing. Conversion is one typed write per cell; anything
 * of the wrong JSON type makes the whole batch go through `schema.safeToFrame`, which reports
 * every problem as an issue (`[row, field]` paths) — so the fast path never decides validity
 * on its own. Ranges, categories and required fields are checked later by the model.
 */

const NUMERIC = 0;
const BOOLEAN = 1;
const CATEGORY = 2;
/** A column the schema does not declare: kept (as NaN) only so the schema can report it. */
const UNDECLARED = 3;

/** Writes one column from JSON values; `set` returns false for a value of the wrong type. */
class ColumnWriter {
  readonly #mode: number;
  readonly #kind: Column["kind"];
  readonly #values: Float64Array | undefined;
  readonly #codes: Int32Array | undefined;
  readonly #dictionary: string[] = [];
  readonly #index = new Map<string, number>();

  constructor(field: Field<unknown, boolean> | undefined, n: number) {
    const kind = field?.kind ?? "number";
    this.#kind = kind;
    this.#mode =
      field === undefined
        ? UNDECLARED
        : kind === "category"
          ? CATEGORY
          : kind === "boolean"
            ? BOOLEAN
            : NUMERIC;
    if (this.#mode === CATEGORY) this.#codes = new Int32Array(n);
    else this.#values = new Float64Array(n);
  }

  set(i: number, value: unknown): boolean {
    if (value === null || value === undefined) {
      if (this.#mode === CATEGORY) this.#codes![i] = -1;
      else this.#values![i] = Number.NaN;
      return true;
    }
    switch (this.#mode) {
      case NUMERIC:
        if (typeof value !== "number") return false;
        this.#values![i] = value;
        return true;
      case BOOLEAN:
        if (typeof value !== "boolean") return false;
        this.#values![i] = value ? 1 : 0;
        return true;
      case UNDECLARED:
        this.#values![i] = Number.NaN;
        return true;
      default: {
        if (typeof value !== "string") return false;
        let code = this.#index.get(value);
        if (code === undefined) {
          // "NA", "null", "" … mean missing in CSV only; in JSON they are text (the schema says
          // whether that text is a category), so they take the exact path.
          if (isMissingToken(value)) return false;
          code = this.#dictionary.length;
          this.#dictionary.push(value);
          this.#index.set(value, code);
        }
        this.#codes![i] = code;
        return true;
      }
    }
  }

  /**
   * Writes `values[offset + i * stride]` for rows `0..n-1`; false at the first value of the
   * wrong type. Numeric columns, the batch hot path, get a loop of their own.
   */
  fill(values: readonly unknown[], n: number, offset = 0, stride = 1): boolean {
    if (this.#mode === NUMERIC) {
      const out = this.#values!;
      for (let i = 0, k = offset; i < n; i++, k += stride) {
        const value = values[k];
        if (typeof value === "number") out[i] = value;
        else if (value === null || value === undefined) out[i] = Number.NaN;
        else return false;
      }
      return true;
    }
    for (let i = 0, k = offset; i < n; i++, k += stride) if (!this.set(i, values[k])) return false;
    return true;
  }

  finish(): Column {
    if (this.#mode === CATEGORY) {
      return { kind: "category", codes: this.#codes!, dictionary: this.#dictionary };
    }
    return { kind: this.#kind as "number" | "integer" | "boolean", values: this.#values! };
  }
}

function fieldOf(schema: Schema, name: string): Field<unknown, boolean> | undefined {
  return Object.hasOwn(schema.fields, name) ? schema.fields[name] : undefined;
}

function frameOf(names: readonly string[], writers: ColumnWriter[], n: number): Frame {
  return new Frame(
    names.map((name, c) => [name, writers[c].finish()] as const),
    n,
  );
}

/** The slow, exact path: the schema checks row objects and reports every issue. */
function viaSchema(schema: Schema, rows: unknown[]): Frame {
  const result = schema.safeToFrame(rows);
  if (!result.success) throw result.error;
  return result.data;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Throws 413 `too_many_rows` above the app's batch limit. */
export function checkRowCount(n: number, maxBatchRows: number): void {
  if (n > maxBatchRows) {
    throw new ServeError(
      "too_many_rows",
      `${n} rows is more than the limit of ${maxBatchRows} rows per request`,
    );
  }
}

/**
 * Row objects to a Frame of the schema's feature columns. A target value in a row is ignored
 * (requests may carry it; predictions do not read it).
 *
 * @example
 * recordsToFrame(houses, [{ rooms: 3, color: "red" }]).rowCount; // 1
 */
export function recordsToFrame(schema: Schema, rows: unknown[]): Frame {
  const n = rows.length;
  const target = schema.target;
  const rejectUnknown = schema.unknownKeys === "reject";
  const columns = schema.featureNames;
  const writers = columns.map((name) => new ColumnWriter(schema.fields[name], n));
  const width = columns.length;
  for (let i = 0; i < n; i++) {
    const row = rows[i];
    if (!isRecord(row)) return viaSchema(schema, withoutTarget(rows, target));
    let present = 0;
    for (let c = 0; c < width; c++) {
      const value = row[columns[c]];
      if (value !== undefined) present++;
      if (!writers[c].set(i, value)) return viaSchema(schema, withoutTarget(rows, target));
    }
    if (rejectUnknown) {
      let keys = 0;
      for (const _ in row) keys++;
      if (target !== undefined && row[target] !== undefined) present++;
      if (keys !== present) return viaSchema(schema, withoutTarget(rows, target));
    }
  }
  return frameOf(columns, writers, n);
}

/** The rows without their target values (the error path only: it copies). */
function withoutTarget(rows: unknown[], target: string | undefined): unknown[] {
  if (target === undefined) return rows;
  return rows.map((row) => {
    if (!isRecord(row) || !Object.hasOwn(row, target)) return row;
    const { [target]: _, ...rest } = row;
    return rest;
  });
}

/** Columns (`names[c]` holds `columns[c]`, each of length `n`) back to rows, for `viaSchema`. */
function columnsAsRows(
  names: readonly string[],
  at: (row: number, column: number) => unknown,
  n: number,
) {
  const rows: Record<string, unknown>[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const row: Record<string, unknown> = {};
    for (let c = 0; c < names.length; c++) row[names[c]] = at(i, c);
    rows[i] = row;
  }
  return rows;
}

function checkNames(names: readonly string[]): void {
  const seen = new Set<string>();
  for (const name of names) {
    if (typeof name !== "string") {
      throw new ServeError("invalid_request", `column names must be strings, got ${typeof name}`);
    }
    if (seen.has(name)) throw new ServeError("invalid_request", `duplicate column "${name}"`);
    seen.add(name);
  }
}

/**
 * Named columns of equal length to a Frame (`columns[c]` holds the values of `names[c]`).
 * Columns that are not schema fields stay in the frame, so the schema reports them.
 *
 * @example
 * columnsToFrame(houses, ["rooms", "color"], [[3, 4], ["red", null]]);
 */
export function columnsToFrame(
  schema: Schema,
  names: readonly string[],
  columns: readonly (readonly unknown[])[],
): Frame {
  checkNames(names);
  const n = columns.length === 0 ? 0 : columns[0].length;
  for (let c = 0; c < columns.length; c++) {
    if (columns[c].length !== n) {
      throw new ServeError(
        "invalid_request",
        `column "${names[c]}" has ${columns[c].length} values, expected ${n} like "${names[0]}"`,
      );
    }
  }
  const writers = names.map((name) => new ColumnWriter(fieldOf(schema, name), n));
  for (let c = 0; c < names.length; c++) {
    if (!writers[c].fill(columns[c], n)) {
      return viaSchema(
        schema,
        columnsAsRows(names, (row, column) => columns[column][row], n),
      );
    }
  }
  return frameOf(names, writers, n);
}

/**
 * A row-major matrix to a Frame: `data` is either flat (`n × names.length` values) or `n`
 * arrays of `names.length` values. Throws 400 when the data does not have that shape.
 *
 * @example
 * matrixToFrame(houses, ["rooms", "area"], [[3, 120], [4, 95]], 2);
 * matrixToFrame(houses, ["rooms", "area"], [3, 120, 4, 95], 2);
 */
export function matrixToFrame(
  schema: Schema,
  names: readonly string[],
  data: readonly unknown[],
  n: number,
  where = "data",
): Frame {
  checkNames(names);
  const width = names.length;
  const nested = n > 0 && Array.isArray(data[0]);
  if (nested) {
    if (data.length !== n) {
      throw new ServeError("invalid_request", `${where}: expected ${n} rows, got ${data.length}`);
    }
    for (let i = 0; i < n; i++) {
      const row = data[i];
      if (!Array.isArray(row) || row.length !== width) {
        throw new ServeError(
          "invalid_request",
          `${where}[${i}]: expected an array of ${width} values (${names.join(", ")}), got ${
            Array.isArray(row) ? `${row.length} values` : typeof row
          }`,
        );
      }
    }
  } else if (data.length !== n * width) {
    throw new ServeError(
      "invalid_request",
      `${where}: expected ${n * width} values (${n} rows × ${width} columns), got ${data.length}`,
    );
  }
  const at = nested
    ? (row: number, column: number) => (data[row] as unknown[])[column]
    : (row: number, column: number) => data[row * width + column];
  const writers = names.map((name) => new ColumnWriter(fieldOf(schema, name), n));
  for (let c = 0; c < width; c++) {
    const writer = writers[c];
    if (nested) {
      for (let i = 0; i < n; i++) {
        if (!writer.set(i, (data[i] as unknown[])[c])) {
          return viaSchema(schema, columnsAsRows(names, at, n));
        }
      }
    } else if (!writer.fill(data, n, c, width)) {
      return viaSchema(schema, columnsAsRows(names, at, n));
    }
  }
  return frameOf(names, writers, n);
}
