import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import type * as ArrowModule from "apache-arrow";
import type { Data, DataType, Dictionary, Field, Precision, Table, Vector } from "apache-arrow";
import { MlopsError } from "../errors/error.js";
import { type CategoryColumn, type Column, Frame, type NumericColumn } from "./frame.js";

/**
 * Field metadata key holding a column's kind (`number`, `integer`, `boolean`, `category`), so
 * kinds survive a round trip through Arrow even where the Arrow type alone is ambiguous.
 *
 * @example
 * frameToArrow(frame).schema.fields[0].metadata.get(ARROW_KIND_METADATA_KEY); // "integer"
 */
export const ARROW_KIND_METADATA_KEY = "mlops.kind";

const NUMERIC_KINDS = new Set<string>(["number", "integer", "boolean"]);

/**
 * apache-arrow, loaded on first use rather than with `Frame` (it is ~150 modules: a program that
 * never converts — the `mlops` CLI reading CSV, a server — never pays for them). Loaded
 * synchronously, as the conversions are: in ES modules by `require` of Arrow's ES module entry
 * (Node ≥ 20.19), so the classes are the very ones `import "apache-arrow"` gives. Every use of
 * Arrow in core goes through here, so there is one Arrow whichever way it was loaded.
 */
let a: typeof ArrowModule;

/** apache-arrow (loaded on the first call). */
export function loadArrow(): typeof ArrowModule {
  if (a !== undefined) return a;
  // `import.meta` is empty in the CommonJS build (esbuild), and a bundle (the GitHub Action)
  // has no apache-arrow to resolve: there, `require` — the CommonJS Arrow, or the bundled one.
  const meta = import.meta as Partial<ImportMeta>;
  if (typeof meta.resolve === "function" && meta.url !== undefined) {
    try {
      const entry = fileURLToPath(meta.resolve("apache-arrow"));
      a = createRequire(meta.url)(entry) as typeof ArrowModule;
      return a;
    } catch {
      // Not resolvable from here (a bundle): the bundled Arrow below.
    }
  }
  a = require("apache-arrow") as typeof ArrowModule;
  return a;
}

/**
 * Converts a Frame to an Arrow table with one record batch, sharing memory where Arrow allows:
 *
 * - `number` → Float64; the data buffer *is* the frame's `Float64Array` (NaN slots are marked
 *   null in a validity bitmap, the only new allocation).
 * - `integer` → Int64, as pandas and pyarrow write integers. A column holding values Int64 cannot
 *   represent exactly (fractions, -0, beyond ±2^53) is written as Float64 instead; either way the
 *   field carries `mlops.kind = "integer"` metadata so the kind round-trips.
 * - `boolean` → Bool (bit-packed, so copied).
 * - `category` → Dictionary<Utf8, Int32> whose indices are the frame's `Int32Array` codes, or
 *   plain Utf8 strings with `categories: "utf8"` (streamed IPC files, whose batches cannot each
 *   bring their own dictionary).
 *
 * @example
 * const table = frameToArrow(frame);
 * const bytes = tableToIPC(table, "file");
 */
export function frameToArrow(
  frame: Frame,
  options: { categories?: "dictionary" | "utf8" } = {},
): Table {
  loadArrow();
  const fields: Field[] = [];
  const children: Data[] = [];
  for (const [name, column] of frame.columns()) {
    const data =
      column.kind === "category" && options.categories === "utf8"
        ? categoryToUtf8(column)
        : columnToArrow(column);
    const metadata = new Map([[ARROW_KIND_METADATA_KEY, column.kind]]);
    fields.push(new a.Field(name, data.type, true, metadata));
    children.push(data);
  }
  const schema = new a.Schema(fields);
  const struct = a.makeData({
    type: new a.Struct(fields),
    length: frame.rowCount,
    nullCount: 0,
    children,
  });
  return new a.Table(schema, [new a.RecordBatch(schema, struct)]);
}

/**
 * Converts an Arrow table to a Frame. A Float64 column with one chunk and no nulls is not copied:
 * its `Float64Array` is a view of the Arrow data buffer; likewise the codes of a single-chunk
 * Dictionary<Utf8, Int32> column without nulls. Other columns are copied once, with nulls
 * becoming NaN (numbers) or -1 (categories), and chunks concatenated.
 *
 * Accepted types: Float16/32/64 (→ number), Int8–64 and Uint8–64 (→ integer),
 * Bool (→ boolean), Utf8, LargeUtf8 and Dictionary of strings (→ category), and Null
 * (→ number, all missing).
 * `mlops.kind` field metadata, when present, overrides the kind of a numeric column.
 * Anything else throws `arrow_invalid` naming the column and its type.
 *
 * @example
 * const frame = frameFromArrow(tableFromIPC(bytes));
 */
export function frameFromArrow(table: Table): Frame {
  loadArrow();
  const entries: [string, Column][] = [];
  const fields = table.schema.fields;
  for (let index = 0; index < fields.length; index++) {
    const field = fields[index];
    const vector = table.getChildAt(index);
    const chunks = vector ? (vector.data as Data[]) : [];
    entries.push([field.name, columnFromArrow(field, chunks, table.numRows)]);
  }
  return new Frame(entries, table.numRows);
}

// ---------------------------------------------------------------- frame → arrow

function columnToArrow(column: Column): Data {
  if (column.kind === "category") return categoryToArrow(column);
  const { values } = column;
  const validity = nanValidity(values);
  if (column.kind === "boolean") {
    const n = values.length;
    const bits = new Uint8Array((n + 7) >> 3);
    for (let i = 0; i < n; i++) {
      const value = values[i];
      if (!Number.isNaN(value) && value !== 0) bits[i >> 3] |= 1 << (i & 7);
    }
    return a.makeData({ type: new a.Bool(), length: n, data: bits, ...validity });
  }
  if (column.kind === "integer" && fitsInt64(values)) {
    const n = values.length;
    const integers = new BigInt64Array(n);
    for (let i = 0; i < n; i++) {
      const value = values[i];
      if (!Number.isNaN(value)) integers[i] = BigInt(value);
    }
    return a.makeData({ type: new a.Int64(), length: n, data: integers, ...validity });
  }
  // The data buffer is the frame's own array: Arrow never reads the slots marked null.
  return a.makeData({ type: new a.Float64(), length: values.length, data: values, ...validity });
}

/** A category column as plain strings (one Utf8 value per row, null when missing). */
function categoryToUtf8(column: CategoryColumn): Data {
  const { codes, dictionary } = column;
  const strings: (string | null)[] = new Array(codes.length);
  for (let i = 0; i < codes.length; i++) strings[i] = codes[i] < 0 ? null : dictionary[codes[i]];
  return a.vectorFromArray(strings, new a.Utf8()).data[0];
}

function categoryToArrow(column: CategoryColumn): Data {
  const { codes } = column;
  const n = codes.length;
  let nullCount = 0;
  for (let i = 0; i < n; i++) if (codes[i] < 0) nullCount++;
  let nullBitmap: Uint8Array | undefined;
  if (nullCount > 0) {
    nullBitmap = new Uint8Array((n + 7) >> 3);
    for (let i = 0; i < n; i++) if (codes[i] >= 0) nullBitmap[i >> 3] |= 1 << (i & 7);
  }
  const dictionary = a.vectorFromArray([...column.dictionary], new a.Utf8());
  return a.makeData({
    type: new a.Dictionary(new a.Utf8(), new a.Int32()),
    length: n,
    nullCount,
    nullBitmap,
    data: codes,
    dictionary,
  });
}

/** A validity bitmap for the NaN slots, or nothing when there are none. */
function nanValidity(values: Float64Array): { nullCount: number; nullBitmap?: Uint8Array } {
  const n = values.length;
  let nullCount = 0;
  for (let i = 0; i < n; i++) if (Number.isNaN(values[i])) nullCount++;
  if (nullCount === 0) return { nullCount };
  const nullBitmap = new Uint8Array((n + 7) >> 3);
  for (let i = 0; i < n; i++) if (!Number.isNaN(values[i])) nullBitmap[i >> 3] |= 1 << (i & 7);
  return { nullCount, nullBitmap };
}

/** True when every present value survives Float64 → Int64 → Float64 unchanged. */
function fitsInt64(values: Float64Array): boolean {
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (Number.isNaN(value)) continue;
    if (!Number.isSafeInteger(value) || Object.is(value, -0)) return false;
  }
  return true;
}

// ---------------------------------------------------------------- arrow → frame

function columnFromArrow(field: Field, chunks: readonly Data[], rowCount: number): Column {
  const type = field.type as DataType;
  switch (type.typeId) {
    case a.Type.Float:
    case a.Type.Int:
    case a.Type.Bool:
    case a.Type.Null:
      return numericFromArrow(field, chunks, rowCount);
    case a.Type.Utf8:
    case a.Type.LargeUtf8:
      return stringsFromArrow(chunks, rowCount);
    case a.Type.Dictionary:
      return dictionaryFromArrow(field, chunks, rowCount);
    default:
      throw unsupported(field);
  }
}

function unsupported(field: Field, detail = ""): MlopsError {
  return new MlopsError(
    "arrow_invalid",
    `column "${field.name}": unsupported Arrow type ${String(field.type)}${detail}; expected ` +
      "Float, Int, Uint, Bool, Utf8, LargeUtf8 or Dictionary<Utf8>",
    { location: { column: field.name } },
  );
}

function kindOf(field: Field): NumericColumn["kind"] {
  const declared = field.metadata.get(ARROW_KIND_METADATA_KEY);
  if (declared !== undefined && NUMERIC_KINDS.has(declared)) {
    return declared as NumericColumn["kind"];
  }
  const typeId = (field.type as DataType).typeId;
  if (typeId === a.Type.Int) return "integer";
  if (typeId === a.Type.Bool) return "boolean";
  return "number";
}

function isValid(chunk: Data, index: number): boolean {
  const bitmap = chunk.nullBitmap;
  const bit = chunk.offset + index;
  return (bitmap[bit >> 3] & (1 << (bit & 7))) !== 0;
}

function numericFromArrow(field: Field, chunks: readonly Data[], rowCount: number): NumericColumn {
  const kind = kindOf(field);
  const type = field.type as DataType;
  if (
    chunks.length === 1 &&
    chunks[0].nullCount === 0 &&
    type.typeId === a.Type.Float &&
    (type as unknown as { precision: Precision }).precision === a.Precision.DOUBLE
  ) {
    const values = chunks[0].values as Float64Array;
    return { kind, values: values.length === rowCount ? values : values.subarray(0, rowCount) };
  }
  const out = new Float64Array(rowCount);
  let offset = 0;
  for (const chunk of chunks) {
    copyNumericChunk(field, chunk, out, offset);
    offset += chunk.length;
  }
  return { kind, values: out };
}

function copyNumericChunk(field: Field, chunk: Data, out: Float64Array, offset: number): void {
  const n = chunk.length;
  const typeId = (chunk.type as DataType).typeId;
  if (typeId === a.Type.Null) {
    out.fill(Number.NaN, offset, offset + n);
    return;
  }
  if (typeId === a.Type.Bool) {
    const bits = chunk.values as Uint8Array;
    for (let i = 0; i < n; i++) {
      const bit = chunk.offset + i;
      out[offset + i] = (bits[bit >> 3] >> (bit & 7)) & 1;
    }
  } else if (
    typeId === a.Type.Float &&
    (chunk.type as unknown as { precision: Precision }).precision === a.Precision.HALF
  ) {
    // Float16 is stored as raw half-precision bits; the vector decodes them.
    const vector = a.makeVector(chunk) as Vector;
    for (let i = 0; i < n; i++) out[offset + i] = vector.get(i) ?? Number.NaN;
  } else {
    const values = chunk.values as ArrayLike<number | bigint>;
    if (values instanceof BigInt64Array || values instanceof BigUint64Array) {
      for (let i = 0; i < n; i++) out[offset + i] = Number(values[i]);
    } else if (ArrayBuffer.isView(values)) {
      out.set((values as Float64Array).subarray(0, n), offset);
    } else {
      throw unsupported(field);
    }
  }
  if (chunk.nullCount > 0) {
    for (let i = 0; i < n; i++) if (!isValid(chunk, i)) out[offset + i] = Number.NaN;
  }
}

/** Builds a category column from strings, numbering values in first-seen order. */
class CategoryBuilder {
  readonly codes: Int32Array;
  readonly dictionary: string[] = [];
  readonly #lookup = new Map<string, number>();

  constructor(rowCount: number) {
    this.codes = new Int32Array(rowCount);
  }

  code(value: string): number {
    let code = this.#lookup.get(value);
    if (code === undefined) {
      code = this.dictionary.length;
      this.dictionary.push(value);
      this.#lookup.set(value, code);
    }
    return code;
  }

  column(): CategoryColumn {
    return { kind: "category", codes: this.codes, dictionary: this.dictionary };
  }
}

function stringsFromArrow(chunks: readonly Data[], rowCount: number): CategoryColumn {
  const builder = new CategoryBuilder(rowCount);
  let offset = 0;
  for (const chunk of chunks) {
    const vector = a.makeVector(chunk) as Vector;
    for (let i = 0; i < chunk.length; i++) {
      const value = vector.get(i) as string | null;
      builder.codes[offset + i] = value === null ? -1 : builder.code(value);
    }
    offset += chunk.length;
  }
  return builder.column();
}

function dictionaryFromArrow(field: Field, chunks: readonly Data[], rowCount: number): Column {
  const type = field.type as Dictionary;
  const valueTypeId = (type.dictionary as DataType).typeId;
  if (valueTypeId !== a.Type.Utf8 && valueTypeId !== a.Type.LargeUtf8) {
    throw unsupported(field, " (dictionary values must be strings)");
  }
  if (chunks.length === 1 && chunks[0].nullCount === 0 && chunks[0].values instanceof Int32Array) {
    const shared = sharedDictionary(chunks[0], rowCount);
    if (shared) return shared;
  }
  const builder = new CategoryBuilder(rowCount);
  // Batches usually share one dictionary vector; remap each distinct one once.
  const remaps = new Map<unknown, Int32Array>();
  let offset = 0;
  for (const chunk of chunks) {
    const dictionary = chunk.dictionary;
    let remap = remaps.get(dictionary);
    if (!remap) {
      const size = dictionary?.length ?? 0;
      remap = new Int32Array(size);
      for (let i = 0; i < size; i++) {
        const value = dictionary!.get(i) as string | null;
        remap[i] = value === null ? -1 : builder.code(value);
      }
      remaps.set(dictionary, remap);
    }
    const indices = chunk.values as ArrayLike<number | bigint>;
    const bigIndices = indices instanceof BigInt64Array || indices instanceof BigUint64Array;
    const hasNulls = chunk.nullCount > 0;
    for (let i = 0; i < chunk.length; i++) {
      if (hasNulls && !isValid(chunk, i)) {
        builder.codes[offset + i] = -1;
        continue;
      }
      const index = bigIndices ? Number(indices[i]) : (indices[i] as number);
      const code = remap[index];
      if (code === undefined) {
        throw new MlopsError(
          "arrow_invalid",
          `column "${field.name}": dictionary index ${index} at row ${offset + i} is outside ` +
            `the dictionary (${remap.length} values)`,
          { location: { column: field.name } },
        );
      }
      builder.codes[offset + i] = code;
    }
    offset += chunk.length;
  }
  return builder.column();
}

/** The zero-copy case: the Int32 indices become the codes when the dictionary is clean. */
function sharedDictionary(chunk: Data, rowCount: number): CategoryColumn | undefined {
  const vector = chunk.dictionary;
  const size = vector?.length ?? 0;
  const dictionary: string[] = new Array(size);
  const seen = new Set<string>();
  for (let i = 0; i < size; i++) {
    const value = vector!.get(i) as string | null;
    if (value === null || seen.has(value)) return undefined;
    seen.add(value);
    dictionary[i] = value;
  }
  const indices = chunk.values as Int32Array;
  for (let i = 0; i < rowCount; i++) {
    const index = indices[i];
    if (!(index >= 0 && index < size)) return undefined;
  }
  const codes = indices.length === rowCount ? indices : indices.subarray(0, rowCount);
  return { kind: "category", codes, dictionary };
}
