import { MlopsError } from "../errors/error.js";
import type { Frame } from "../frame/frame.js";
import type { FieldKind } from "../schema/field.js";
import { isMissingToken, type Schema } from "../schema/schema.js";
import type { ColumnLayout } from "./layout.js";

/** One schema field, compiled: where it goes and what a valid value is. */
interface FieldPlan {
  readonly name: string;
  readonly kind: FieldKind;
  readonly slot: number;
  readonly isTarget: boolean;
  /** Null / NaN / absent is kept as missing (nullable or optional, no default). */
  readonly allowMissing: boolean;
  readonly hasDefault: boolean;
  /** The default as stored: a number, 0/1, or a category code. */
  readonly fill: number;
  /** Inclusive finite bounds for numeric kinds (NaN and ±Infinity fail `lo <= v <= hi`). */
  readonly lo: number;
  readonly hi: number;
  /** Absent column of an optional field is allowed (filled with missing or the default). */
  readonly optional: boolean;
  readonly codes: ReadonlyMap<string, number> | undefined;
  /** An open category field: an unknown value is read as missing. */
  readonly open: boolean;
}

/** Where a block of one field comes from in a bound frame. */
type Source =
  | { type: "numeric"; values: Float64Array }
  | { type: "category"; codes: Int32Array; lookup: Int32Array | undefined }
  | { type: "constant" }
  | { type: "skip" };

/** Codes of a category lookup besides valid codes. */
const MISSING = -2;
const INVALID = -3;

/**
 * The schema compiled for prediction: per-field checks with the semantics of `parseRow` and
 * `conformFrame` (no coercion), precomputed so the hot paths run on indices and typed arrays.
 * Any check that fails makes the caller fall back to the schema itself, which throws the
 * `SchemaError` with every issue (or converts a frame that only needed conforming).
 */
export class InputPlan {
  readonly #plans: FieldPlan[];
  readonly #fieldNames: ReadonlySet<string>;
  readonly #rejectUnknown: boolean;

  constructor(schema: Schema, layout: ColumnLayout) {
    this.#rejectUnknown = schema.unknownKeys === "reject";
    this.#fieldNames = new Set(schema.names);
    const ordered = [...schema.featureNames];
    if (schema.target !== undefined) ordered.push(schema.target);
    this.#plans = ordered.map((name) => {
      const field = schema.fields[name];
      const definition = field.definition;
      const isTarget = name === schema.target;
      const kind = definition.kind;
      const values = definition.values ?? [];
      // The target gets a slot of its own that no step or model reads: it is only validated.
      const slot = isTarget
        ? layout.reserveSlot()
        : layout.add(
            name,
            kind === "category" ? "category" : "numeric",
            "schema",
            kind === "category" ? values : undefined,
          ).slot;
      const fallback = definition.default;
      const fill =
        fallback === undefined
          ? Number.NaN
          : kind === "category"
            ? field.codeOf(String(fallback))
            : Number(fallback);
      const nullable = Boolean(definition.nullable || definition.optional);
      return {
        name,
        kind,
        slot,
        isTarget,
        allowMissing: nullable && fallback === undefined,
        hasDefault: fallback !== undefined,
        fill,
        lo: kind === "boolean" ? 0 : Math.max(definition.min ?? -Infinity, -Number.MAX_VALUE),
        hi: kind === "boolean" ? 1 : Math.min(definition.max ?? Infinity, Number.MAX_VALUE),
        optional: field.acceptsMissing && Boolean(definition.optional),
        codes:
          kind === "category" ? new Map(values.map((value, code) => [value, code])) : undefined,
        open: definition.open === true,
      };
    });
  }

  // ---------------------------------------------------------------- rows

  /**
   * Writes a row object's fields into their slots (and `missing[slot]` for missing values).
   * Returns false when the row is not exactly valid (the caller then lets `schema.parseRow`
   * report it). Allocates nothing.
   */
  readRow(row: Record<string, unknown>, values: Float64Array, missing: Uint8Array): boolean {
    const plans = this.#plans;
    missing.fill(0);
    let present = 0;
    for (let i = 0; i < plans.length; i++) {
      const plan = plans[i];
      const value = row[plan.name];
      if (value === undefined) {
        if (plan.name in row) present++;
        else if (plan.isTarget) continue;
        if (!this.#writeMissing(plan, values, missing)) return false;
        continue;
      }
      present++;
      if (value === null || (typeof value === "number" && Number.isNaN(value))) {
        if (!this.#writeMissing(plan, values, missing)) return false;
        continue;
      }
      switch (plan.kind) {
        case "number":
          if (typeof value !== "number" || !(value >= plan.lo && value <= plan.hi)) return false;
          values[plan.slot] = value;
          break;
        case "integer":
          if (typeof value !== "number" || !(value >= plan.lo && value <= plan.hi)) return false;
          if (Math.floor(value) !== value) return false;
          values[plan.slot] = value;
          break;
        case "boolean":
          if (typeof value !== "boolean") return false;
          values[plan.slot] = value ? 1 : 0;
          break;
        default: {
          if (typeof value !== "string") return false;
          const code = plan.codes!.get(value);
          if (code !== undefined) values[plan.slot] = code;
          else if (plan.open) {
            values[plan.slot] = -1;
            missing[plan.slot] = 1;
          } else return false;
        }
      }
    }
    if (this.#rejectUnknown) {
      let keys = 0;
      for (const _ in row) keys++;
      if (keys !== present) return false;
    }
    return true;
  }

  #writeMissing(plan: FieldPlan, values: Float64Array, missing: Uint8Array): boolean {
    if (plan.hasDefault) values[plan.slot] = plan.fill;
    else if (plan.allowMissing) {
      values[plan.slot] = plan.kind === "category" ? -1 : Number.NaN;
      missing[plan.slot] = 1;
    } else return false;
    return true;
  }

  // ---------------------------------------------------------------- frames

  /**
   * Finds each field's column in `frame`. Returns undefined when the frame is not usable as it
   * is (a missing or extra column, a numeric field stored as text, …): the caller then conforms
   * it with the schema. `trusted` frames come out of `conformFrame` and are taken as they are.
   */
  bind(frame: Frame, trusted: boolean): Source[] | undefined {
    if (this.#rejectUnknown && !trusted) {
      for (const name of frame.names) if (!this.#fieldNames.has(name)) return undefined;
    }
    const sources: Source[] = [];
    for (const plan of this.#plans) {
      if (!frame.has(plan.name)) {
        if (plan.isTarget) sources.push({ type: "skip" });
        else if (plan.optional) sources.push({ type: "constant" });
        else return undefined;
        continue;
      }
      const column = frame.column(plan.name);
      if (plan.kind === "category") {
        if (column.kind !== "category") return undefined;
        let lookup: Int32Array | undefined;
        if (!trusted) {
          const codes = plan.codes!;
          lookup = Int32Array.from(column.dictionary, (value) =>
            isMissingToken(value) ? MISSING : (codes.get(value) ?? INVALID),
          );
        }
        sources.push({ type: "category", codes: column.codes, lookup });
      } else {
        if (column.kind === "category") return undefined;
        sources.push({ type: "numeric", values: column.values });
      }
    }
    return sources;
  }

  /**
   * Copies rows `start..start+n-1` of every bound field into a row-major block
   * (`data[r * stride + slot]`), checking each value. Sets `missing[slot]` for fields with a
   * missing value in the block. Returns false at the first invalid value.
   */
  copyBlock(
    sources: readonly Source[],
    start: number,
    n: number,
    data: Float64Array,
    stride: number,
    missing: Uint8Array,
  ): boolean {
    const plans = this.#plans;
    for (let i = 0; i < plans.length; i++) {
      const plan = plans[i];
      const source = sources[i];
      let ok: boolean;
      switch (source.type) {
        case "numeric":
          ok =
            plan.kind === "number"
              ? copyNumbers(source.values, start, n, data, stride, plan, missing)
              : copyWholeNumbers(source.values, start, n, data, stride, plan, missing);
          break;
        case "category":
          ok = copyCodes(source.codes, source.lookup, start, n, data, stride, plan, missing);
          break;
        case "constant": {
          const value = plan.hasDefault ? plan.fill : plan.kind === "category" ? -1 : Number.NaN;
          for (let r = 0, at = plan.slot; r < n; r++, at += stride) data[at] = value;
          if (!plan.hasDefault) missing[plan.slot] = 1;
          ok = true;
          break;
        }
        default:
          ok = true;
      }
      if (!ok) return false;
    }
    return true;
  }
}

function copyNumbers(
  source: Float64Array,
  start: number,
  n: number,
  data: Float64Array,
  stride: number,
  plan: FieldPlan,
  missing: Uint8Array,
): boolean {
  const lo = plan.lo;
  const hi = plan.hi;
  for (let r = 0, at = plan.slot; r < n; r++, at += stride) {
    const value = source[start + r];
    data[at] = value;
    if (value >= lo && value <= hi) continue;
    if (Number.isNaN(value)) {
      if (plan.hasDefault) data[at] = plan.fill;
      else if (plan.allowMissing) missing[plan.slot] = 1;
      else return false;
    } else return false;
  }
  return true;
}

/** Integer and boolean fields: also whole (booleans: 0 or 1, as `lo`/`hi` say). */
function copyWholeNumbers(
  source: Float64Array,
  start: number,
  n: number,
  data: Float64Array,
  stride: number,
  plan: FieldPlan,
  missing: Uint8Array,
): boolean {
  const lo = plan.lo;
  const hi = plan.hi;
  for (let r = 0, at = plan.slot; r < n; r++, at += stride) {
    const value = source[start + r];
    data[at] = value;
    if (value >= lo && value <= hi && Math.floor(value) === value) continue;
    if (Number.isNaN(value)) {
      if (plan.hasDefault) data[at] = plan.fill;
      else if (plan.allowMissing) missing[plan.slot] = 1;
      else return false;
    } else return false;
  }
  return true;
}

function copyCodes(
  source: Int32Array,
  lookup: Int32Array | undefined,
  start: number,
  n: number,
  data: Float64Array,
  stride: number,
  plan: FieldPlan,
  missing: Uint8Array,
): boolean {
  for (let r = 0, at = plan.slot; r < n; r++, at += stride) {
    const raw = source[start + r];
    const code = raw < 0 ? MISSING : lookup === undefined ? raw : lookup[raw];
    if (code >= 0) {
      data[at] = code;
      continue;
    }
    if (code !== MISSING) {
      // An open field reads a value it does not know as missing.
      if (!plan.open) return false;
      data[at] = -1;
      missing[plan.slot] = 1;
      continue;
    }
    if (plan.hasDefault) data[at] = plan.fill;
    else if (plan.allowMissing) {
      data[at] = -1;
      missing[plan.slot] = 1;
    } else return false;
  }
  return true;
}

/** Thrown when a frame that `conformFrame` accepted still fails the compiled checks (a bug). */
export function inconsistentInput(): MlopsError {
  return new MlopsError(
    "predictor_input",
    "The frame passed schema.conformFrame but not the predictor's compiled checks; " +
      "please report this",
  );
}
