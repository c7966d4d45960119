import { z } from "zod";
import type { IssueCode } from "./issues.js";

/** The kinds of feature a schema can declare. */
export type FieldKind = "number" | "integer" | "boolean" | "category";

/** A field as plain JSON: what travels inside a model artifact. */
export interface FieldDefinition {
  kind: FieldKind;
  /** Null / NaN / an empty CSV cell is allowed and kept as missing. */
  nullable?: boolean;
  /** The key may be absent from a row object (and the column from a file); treated as missing. */
  optional?: boolean;
  /** Replaces a missing value (explicit imputation at the boundary). */
  default?: number | string | boolean;
  /** Inclusive bounds for number and integer fields. */
  min?: number;
  max?: number;
  /** The known values of a category field (the closed set, unless `open`). */
  values?: string[];
  /**
   * Category fields: a value outside `values` is accepted and read as missing (code -1) instead
   * of being reported — what a model whose one-hot step ignores unknown values can take.
   */
  open?: boolean;
  description?: string;
}

type Simplify<T> = { [K in keyof T]: T[K] } & {};

/**
 * One declared feature. Builders return new fields (fields are immutable), so
 * `field.number().nullable()` leaves the first field as it was.
 *
 * @example
 * const alcohol = field.number({ min: 0, max: 100 }).describe("% by volume");
 */
export class Field<Output = unknown, IsOptional extends boolean = false> {
  declare readonly _output: Output;
  declare readonly _optional: IsOptional;
  readonly definition: Readonly<FieldDefinition>;
  readonly #valueIndex: Map<string, number> | undefined;

  constructor(definition: FieldDefinition) {
    this.definition = Object.freeze({ ...definition });
    this.#valueIndex = definition.values
      ? new Map(definition.values.map((v, i) => [v, i]))
      : undefined;
  }

  get kind(): FieldKind {
    return this.definition.kind;
  }

  /** True when a missing value is accepted (nullable, optional, or filled by a default). */
  get acceptsMissing(): boolean {
    return (
      Boolean(this.definition.nullable || this.definition.optional) ||
      this.definition.default !== undefined
    );
  }

  /** Allows null (NaN in frames, an empty cell in CSV). */
  nullable(): Field<Output | null, IsOptional> {
    return new Field({ ...this.definition, nullable: true });
  }

  /** Allows the key to be absent; an absent value is missing (null). */
  optional(): Field<Output | null, true> {
    return new Field({ ...this.definition, optional: true });
  }

  /** Fills a missing value with `value` instead of reporting it. */
  default(value: Exclude<Output, null>): Field<Exclude<Output, null>, true> {
    return new Field({ ...this.definition, default: value as number | string | boolean });
  }

  describe(description: string): Field<Output, IsOptional> {
    return new Field({ ...this.definition, description });
  }

  /** The code of a category value, or -1 when it is not in the closed set. */
  codeOf(value: string): number {
    return this.#valueIndex?.get(value) ?? -1;
  }

  /** What a valid value looks like, for messages: `number ≥ 0`, `one of "red", "white"`. */
  expected(): string {
    const { kind, min, max, values } = this.definition;
    if (kind === "category") {
      const shown = (values ?? []).slice(0, 8).map((v) => JSON.stringify(v));
      if ((values ?? []).length > 8) shown.push("…");
      return this.definition.open
        ? `text (known: ${shown.join(", ")})`
        : `one of ${shown.join(", ")}`;
    }
    if (kind === "boolean") return "boolean";
    if (min !== undefined && max !== undefined) return `${kind} between ${min} and ${max}`;
    if (min !== undefined) return `${kind} ≥ ${min}`;
    if (max !== undefined) return `${kind} ≤ ${max}`;
    return kind;
  }

  /**
   * Checks a number already parsed (not NaN). Returns the issue code, or undefined when valid.
   * Shared by row validation and frame conformance so both say the same thing.
   */
  checkNumber(value: number): IssueCode | undefined {
    if (!Number.isFinite(value)) return "not_finite";
    const { kind, min, max } = this.definition;
    if (kind === "integer" && !Number.isInteger(value)) return "not_integer";
    if (kind === "boolean") return value === 0 || value === 1 ? undefined : "invalid_type";
    if (min !== undefined && value < min) return "too_small";
    if (max !== undefined && value > max) return "too_big";
    return undefined;
  }

  /** A zod type for one value, for users who compose schemas with zod. */
  toZod(): z.ZodType {
    const { kind, min, max, values } = this.definition;
    let type: z.ZodType;
    if (kind === "category") {
      type = this.definition.open ? z.string() : z.enum(values as [string, ...string[]]);
    } else if (kind === "boolean") type = z.boolean();
    else {
      let number = kind === "integer" ? z.number().int() : z.number();
      if (min !== undefined) number = number.min(min);
      if (max !== undefined) number = number.max(max);
      type = number;
    }
    if (this.definition.nullable || this.definition.optional) type = type.nullable();
    if (this.definition.optional || this.definition.default !== undefined) type = type.optional();
    return type;
  }

  /** JSON Schema (draft 2020-12) for one value. */
  toJSONSchema(): Record<string, unknown> {
    const { kind, min, max, values, description } = this.definition;
    const schema: Record<string, unknown> = {};
    if (kind === "category") {
      schema.type = "string";
      if (this.definition.open) schema.examples = [...(values ?? [])];
      else schema.enum = [...(values ?? [])];
    } else if (kind === "boolean") schema.type = "boolean";
    else {
      schema.type = kind === "integer" ? "integer" : "number";
      if (min !== undefined) schema.minimum = min;
      if (max !== undefined) schema.maximum = max;
    }
    if (this.acceptsMissing && (this.definition.nullable || this.definition.optional)) {
      schema.type = [schema.type as string, "null"];
      if (schema.enum) schema.enum = [...(schema.enum as string[]), null];
    }
    if (this.definition.default !== undefined) schema.default = this.definition.default;
    if (description) schema.description = description;
    return schema;
  }
}

/** The TypeScript type of one field's valid value. */
export type FieldOutput<F> = F extends Field<infer Output, boolean> ? Output : never;

interface RangeOptions {
  min?: number;
  max?: number;
  description?: string;
}

function range(kind: "number" | "integer", options: RangeOptions): FieldDefinition {
  const { min, max, description } = options;
  if (min !== undefined && max !== undefined && min > max) {
    throw new RangeError(`field.${kind}: min (${min}) is greater than max (${max})`);
  }
  const definition: FieldDefinition = { kind };
  if (min !== undefined) definition.min = min;
  if (max !== undefined) definition.max = max;
  if (description !== undefined) definition.description = description;
  return definition;
}

/**
 * Field builders: `field.number`, `field.integer`, `field.category`, `field.boolean`.
 *
 * @example
 * const wine = schema({
 *   alcohol: field.number({ min: 0 }),
 *   color: field.category(["red", "white"]),
 *   quality: field.integer({ min: 0, max: 10 }),
 * }, { target: "quality" });
 */
export const field = {
  /** A real number (finite), optionally bounded: `min ≤ x ≤ max`. */
  number(options: RangeOptions = {}): Field<number> {
    return new Field(range("number", options));
  },
  /** A whole number, optionally bounded. Stored as float64 in frames. */
  integer(options: RangeOptions = {}): Field<number> {
    return new Field(range("integer", options));
  },
  /** One of a closed set of strings; stored as Int32 codes into `values`. */
  category<const Values extends readonly [string, ...string[]]>(
    values: Values,
    options: { description?: string } = {},
  ): Field<Values[number]> {
    if (values.length === 0) throw new RangeError("field.category: needs at least one value");
    if (new Set(values).size !== values.length) {
      throw new RangeError(`field.category: duplicate values in ${JSON.stringify(values)}`);
    }
    const definition: FieldDefinition = { kind: "category", values: [...values] };
    if (options.description !== undefined) definition.description = options.description;
    return new Field(definition);
  },
  /** true / false (from CSV: true, false, 1, 0, yes, no). Stored as 0/1 in frames. */
  boolean(options: { description?: string } = {}): Field<boolean> {
    const definition: FieldDefinition = { kind: "boolean" };
    if (options.description !== undefined) definition.description = options.description;
    return new Field(definition);
  },
};

export type { Simplify };
