import type { Table } from "apache-arrow";
import { MlopsError } from "../errors/error.js";
import { frameFromArrow, frameToArrow } from "./arrow.js";

/** How a column stores its values. Numeric kinds use `Float64Array` (NaN = missing). */
export type ColumnKind = "number" | "integer" | "boolean" | "category";

/** A numeric column: one float64 per row, NaN where the value is missing. Booleans are 0/1. */
export interface NumericColumn {
  readonly kind: "number" | "integer" | "boolean";
  readonly values: Float64Array;
}

/** A category column: one code per row into `dictionary`, -1 where the value is missing. */
export interface CategoryColumn {
  readonly kind: "category";
  readonly codes: Int32Array;
  readonly dictionary: readonly string[];
}

export type Column = NumericColumn | CategoryColumn;

/** A value in a row object: numbers, booleans, category strings, or null for missing. */
export type CellValue = number | string | boolean | null;
export type RowObject = Record<string, CellValue>;

export function isCategoryColumn(column: Column): column is CategoryColumn {
  return column.kind === "category";
}

function columnLength(column: Column): number {
  return column.kind === "category" ? column.codes.length : column.values.length;
}

/**
 * Columnar data: one typed array per column, all of the same length.
 * Frames are immutable views: `select`, `slice` share memory, `take` and `filter` copy.
 *
 * @example
 * const frame = new Frame({ x: { kind: "number", values: new Float64Array([1, 2]) } });
 * frame.rowCount; // 2
 */
export class Frame {
  readonly rowCount: number;
  readonly names: readonly string[];
  readonly #columns: Map<string, Column>;

  constructor(
    columns: Record<string, Column> | Iterable<readonly [string, Column]>,
    rowCount?: number,
  ) {
    const entries =
      columns instanceof Map || Array.isArray(columns)
        ? [...(columns as Iterable<readonly [string, Column]>)]
        : Object.entries(columns as Record<string, Column>);
    this.#columns = new Map();
    let length = rowCount;
    for (const [name, column] of entries) {
      if (this.#columns.has(name)) {
        throw new MlopsError("frame_invalid", `Duplicate column "${name}" in frame`);
      }
      const n = columnLength(column);
      if (length === undefined) length = n;
      else if (n !== length) {
        throw new MlopsError(
          "frame_invalid",
          `Column "${name}" has ${n} rows, expected ${length} like the other columns`,
        );
      }
      this.#columns.set(name, column);
    }
    this.rowCount = length ?? 0;
    this.names = Object.freeze([...this.#columns.keys()]);
  }

  /** Number of columns. */
  get columnCount(): number {
    return this.#columns.size;
  }

  has(name: string): boolean {
    return this.#columns.has(name);
  }

  /** The column called `name`; throws `frame_invalid` naming the columns that exist. */
  column(name: string): Column {
    const column = this.#columns.get(name);
    if (!column) {
      throw new MlopsError(
        "frame_invalid",
        `Unknown column "${name}"; the frame has: ${this.names.join(", ") || "(no columns)"}`,
      );
    }
    return column;
  }

  /** The Float64Array of a numeric column (throws for a category column). */
  numeric(name: string): Float64Array {
    const column = this.column(name);
    if (column.kind === "category") {
      throw new MlopsError(
        "frame_invalid",
        `Column "${name}" is a category column, expected numeric`,
      );
    }
    return column.values;
  }

  columns(): IterableIterator<[string, Column]> {
    return this.#columns.entries();
  }

  /** A frame with only `names`, in that order. Shares memory. */
  select(names: readonly string[]): Frame {
    return new Frame(
      names.map((name) => [name, this.column(name)] as const),
      this.rowCount,
    );
  }

  /** A frame without `names`. Shares memory. */
  drop(names: readonly string[]): Frame {
    for (const name of names) this.column(name);
    const dropped = new Set(names);
    return this.select(this.names.filter((name) => !dropped.has(name)));
  }

  /** A frame with `column` added or replaced. Shares memory. */
  withColumn(name: string, column: Column): Frame {
    const entries: [string, Column][] = [...this.#columns.entries()];
    const index = entries.findIndex(([existing]) => existing === name);
    if (index >= 0) entries[index] = [name, column];
    else entries.push([name, column]);
    return new Frame(entries, this.#columns.size === 0 ? undefined : this.rowCount);
  }

  /** Rows `start` (inclusive) to `end` (exclusive). Zero-copy: shares memory with this frame. */
  slice(start = 0, end = this.rowCount): Frame {
    const from = Math.max(0, Math.min(start, this.rowCount));
    const to = Math.max(from, Math.min(end, this.rowCount));
    const entries: [string, Column][] = [];
    for (const [name, column] of this.#columns) {
      entries.push([
        name,
        column.kind === "category"
          ? {
              kind: "category",
              codes: column.codes.subarray(from, to),
              dictionary: column.dictionary,
            }
          : { kind: column.kind, values: column.values.subarray(from, to) },
      ]);
    }
    return new Frame(entries, to - from);
  }

  /** The rows at `indices`, in that order (repeats allowed, as bootstrap samples need). */
  take(indices: ArrayLike<number>): Frame {
    const n = indices.length;
    for (let i = 0; i < n; i++) {
      const index = indices[i];
      if (!(index >= 0 && index < this.rowCount) || !Number.isInteger(index)) {
        throw new MlopsError(
          "argument_invalid",
          `take: indices[${i}] = ${index} is outside 0..${this.rowCount - 1}`,
        );
      }
    }
    const entries: [string, Column][] = [];
    for (const [name, column] of this.#columns) {
      if (column.kind === "category") {
        const codes = new Int32Array(n);
        const source = column.codes;
        for (let i = 0; i < n; i++) codes[i] = source[indices[i]];
        entries.push([name, { kind: "category", codes, dictionary: column.dictionary }]);
      } else {
        const values = new Float64Array(n);
        const source = column.values;
        for (let i = 0; i < n; i++) values[i] = source[indices[i]];
        entries.push([name, { kind: column.kind, values }]);
      }
    }
    return new Frame(entries, n);
  }

  /**
   * The rows where `predicate(rowIndex, frame)` is true, or where `mask[rowIndex]` is non-zero.
   *
   * @example
   * const alcohol = frame.numeric("alcohol");
   * const strong = frame.filter((i) => alcohol[i] > 12);
   */
  filter(
    predicate: ((rowIndex: number, frame: Frame) => boolean) | ArrayLike<number | boolean>,
  ): Frame {
    const indices: number[] = [];
    if (typeof predicate === "function") {
      for (let i = 0; i < this.rowCount; i++) if (predicate(i, this)) indices.push(i);
    } else {
      if (predicate.length !== this.rowCount) {
        throw new MlopsError(
          "argument_invalid",
          `filter: mask has ${predicate.length} entries, expected ${this.rowCount}`,
        );
      }
      for (let i = 0; i < this.rowCount; i++) if (predicate[i]) indices.push(i);
    }
    return this.take(Int32Array.from(indices));
  }

  /** The value at (`row`, `name`) as it would appear in a row object (null when missing). */
  get(row: number, name: string): CellValue {
    return cellValue(this.column(name), row);
  }

  /** Row objects, one per row: the boundary with JSON, never the hot path. */
  toRows(): RowObject[] {
    const rows: RowObject[] = new Array(this.rowCount);
    const columns = [...this.#columns.entries()];
    for (let i = 0; i < this.rowCount; i++) {
      const row: RowObject = {};
      for (const [name, column] of columns) row[name] = cellValue(column, i);
      rows[i] = row;
    }
    return rows;
  }

  /**
   * Builds a frame from row objects. With a schema the rows are validated and typed by it
   * (throws `SchemaError`); without one, kinds are taken from the values (number, boolean, string).
   *
   * @example
   * const frame = Frame.fromRows([{ x: 1, color: "red" }, { x: 2, color: null }]);
   */
  static fromRows(
    rows: readonly Record<string, unknown>[],
    schema?: { toFrame(rows: readonly unknown[]): Frame },
  ): Frame {
    if (schema) return schema.toFrame(rows);
    return framefromUntypedRows(rows);
  }

  /**
   * An Apache Arrow table with the same columns. Zero-copy for numeric columns without missing
   * values and for category codes (Dictionary<Utf8, Int32> indices).
   */
  toArrow(): Table {
    return frameToArrow(this);
  }

  /**
   * A Frame from an Apache Arrow table; Float64 columns and Int32 dictionary indices without
   * nulls share memory with the table.
   */
  static fromArrow(table: Table): Frame {
    return frameFromArrow(table);
  }

  /** Concatenates frames with the same column names and kinds; category dictionaries are merged. */
  static concat(frames: readonly Frame[]): Frame {
    if (frames.length === 0) return new Frame({});
    if (frames.length === 1) return frames[0];
    const first = frames[0];
    const total = frames.reduce((sum, frame) => sum + frame.rowCount, 0);
    const entries: [string, Column][] = [];
    for (const name of first.names) {
      const kind = first.column(name).kind;
      for (const frame of frames) {
        const column = frame.column(name);
        if (column.kind !== kind) {
          throw new MlopsError(
            "frame_invalid",
            `concat: column "${name}" is ${column.kind} in one frame and ${kind} in another`,
          );
        }
      }
      if (kind === "category") {
        const dictionary: string[] = [];
        const lookup = new Map<string, number>();
        const codes = new Int32Array(total);
        let offset = 0;
        for (const frame of frames) {
          const column = frame.column(name) as CategoryColumn;
          const remap = column.dictionary.map((value) => {
            let code = lookup.get(value);
            if (code === undefined) {
              code = dictionary.length;
              dictionary.push(value);
              lookup.set(value, code);
            }
            return code;
          });
          for (let i = 0; i < column.codes.length; i++) {
            const code = column.codes[i];
            codes[offset + i] = code < 0 ? -1 : remap[code];
          }
          offset += column.codes.length;
        }
        entries.push([name, { kind, codes, dictionary }]);
      } else {
        const values = new Float64Array(total);
        let offset = 0;
        for (const frame of frames) {
          const column = frame.column(name) as NumericColumn;
          values.set(column.values, offset);
          offset += column.values.length;
        }
        entries.push([name, { kind, values }]);
      }
    }
    for (const frame of frames) {
      if (frame.columnCount !== first.columnCount) {
        throw new MlopsError(
          "frame_invalid",
          `concat: frames have different columns (${first.names.join(", ")} vs ${frame.names.join(", ")})`,
        );
      }
    }
    return new Frame(entries, total);
  }
}

export function cellValue(column: Column, row: number): CellValue {
  if (column.kind === "category") {
    const code = column.codes[row];
    return code < 0 ? null : column.dictionary[code];
  }
  const value = column.values[row];
  if (Number.isNaN(value)) return null;
  return column.kind === "boolean" ? value !== 0 : value;
}

/** A numeric column from plain numbers (null/undefined become NaN). */
export function numericColumn(
  values: ArrayLike<number | null | undefined>,
  kind: NumericColumn["kind"] = "number",
): NumericColumn {
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    out[i] = value === null || value === undefined ? Number.NaN : value;
  }
  return { kind, values: out };
}

/** A category column from strings (null/undefined become missing), dictionary in first-seen order. */
export function categoryColumn(
  values: ArrayLike<string | null | undefined>,
  dictionary?: readonly string[],
): CategoryColumn {
  const codes = new Int32Array(values.length);
  const dict: string[] = dictionary ? [...dictionary] : [];
  const lookup = new Map(dict.map((value, index) => [value, index]));
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (value === null || value === undefined) {
      codes[i] = -1;
      continue;
    }
    let code = lookup.get(value);
    if (code === undefined) {
      if (dictionary) {
        throw new MlopsError(
          "frame_invalid",
          `Value "${value}" at row ${i} is not in the dictionary (${dictionary.join(", ")})`,
        );
      }
      code = dict.length;
      dict.push(value);
      lookup.set(value, code);
    }
    codes[i] = code;
  }
  return { kind: "category", codes, dictionary: dict };
}

function framefromUntypedRows(rows: readonly Record<string, unknown>[]): Frame {
  const names: string[] = [];
  const seen = new Set<string>();
  for (const row of rows) {
    if (typeof row !== "object" || row === null || Array.isArray(row)) {
      throw new MlopsError("argument_invalid", "fromRows: every row must be an object");
    }
    for (const name of Object.keys(row)) {
      if (!seen.has(name)) {
        seen.add(name);
        names.push(name);
      }
    }
  }
  const entries: [string, Column][] = [];
  for (const name of names) {
    let kind: "number" | "boolean" | "string" | undefined;
    for (let i = 0; i < rows.length; i++) {
      const value = rows[i][name];
      if (value === null || value === undefined) continue;
      const valueKind =
        typeof value === "number"
          ? "number"
          : typeof value === "boolean"
            ? "boolean"
            : typeof value === "string"
              ? "string"
              : undefined;
      if (valueKind === undefined) {
        throw new MlopsError(
          "argument_invalid",
          `fromRows: rows[${i}].${name}: expected number, string, boolean or null, got ${typeof value}`,
        );
      }
      if (kind === undefined) kind = valueKind;
      else if (kind !== valueKind) {
        throw new MlopsError(
          "argument_invalid",
          `fromRows: rows[${i}].${name}: expected ${kind} like the rows before, got ${valueKind}`,
        );
      }
    }
    const values = rows.map((row) => row[name] as never);
    if (kind === "string") entries.push([name, categoryColumn(values)]);
    else if (kind === "boolean") {
      entries.push([
        name,
        numericColumn(
          rows.map((row) =>
            row[name] === null || row[name] === undefined ? null : row[name] ? 1 : 0,
          ),
          "boolean",
        ),
      ]);
    } else entries.push([name, numericColumn(values)]);
  }
  return new Frame(entries, rows.length);
}
