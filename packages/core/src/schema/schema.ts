import { z } from "zod";
import { didYouMean } from "../command/suggest.js";
import { MlopsError, type SourceLocation } from "../errors/error.js";
import { type Column, Frame } from "../frame/frame.js";
import { Field, type FieldDefinition, type FieldOutput, type Simplify } from "./field.js";
import {
  describeReceived,
  type Issue,
  type IssueCode,
  type SafeParseResult,
  SchemaError,
} from "./issues.js";

export type Shape = Record<string, Field<unknown, boolean>>;

type OptionalKeys<S extends Shape> = {
  [K in keyof S]: S[K] extends Field<unknown, true> ? K : never;
}[keyof S];

/** The row type a schema accepts after parsing: `Infer<typeof wine>`. */
export type Infer<S extends Schema<Shape>> = S extends Schema<infer T> ? InferShape<T> : never;
export type InferShape<S extends Shape> = Simplify<
  { [K in Exclude<keyof S, OptionalKeys<S>>]: FieldOutput<S[K]> } & {
    [K in OptionalKeys<S>]?: FieldOutput<S[K]>;
  }
>;

export interface SchemaOptions {
  /** The field a model predicts; it may be absent from rows and files used for prediction. */
  target?: string;
  /** What to do with fields the schema does not declare: `"reject"` (default) or `"strip"`. */
  unknownKeys?: "reject" | "strip";
  description?: string;
}

export interface ParseOptions {
  /**
   * Coerce strings to numbers/booleans where the field is numeric/boolean (as CSV cells need).
   * Off by default for row objects: JSON `"12"` for a number field is an issue.
   */
  coerce?: boolean;
  /** Stop collecting after this many issues (default 100). */
  maxIssues?: number;
}

export interface ConformOptions {
  /** Maps a row index to where it came from (file and line), for issue messages. */
  locate?: (row: number) => SourceLocation;
  /** Row index of the frame's first row in the whole data set (streamed batches). */
  rowOffset?: number;
  maxIssues?: number;
  /**
   * Treat the text tokens "", "NA", "N/A", "NaN", "null" and "None" as missing values (default
   * true: CSV has no other way to say "missing"). Typed formats (Parquet, Arrow, JSON Lines)
   * pass false, so such strings stay values.
   */
  textMissing?: boolean;
}

/** The schema as plain JSON (`format: "mlops.schema/v1"`), the form stored in model artifacts. */
export interface SchemaJSON {
  format: "mlops.schema/v1";
  fields: Record<string, FieldDefinition>;
  target?: string;
  unknownKeys: "reject" | "strip";
  description?: string;
}

/** Open Inference Protocol tensor metadata for one input. */
export interface TensorMetadata {
  name: string;
  datatype: "FP64" | "INT64" | "BOOL" | "BYTES";
  shape: number[];
}

const MISSING_TOKENS = new Set(["", "na", "n/a", "nan", "null", "none"]);
const NUMBER_PATTERN = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const INFINITY_PATTERN = /^[+-]?(inf|infinity)$/i;
const TRUE_TOKENS = new Set(["true", "1", "yes", "t", "y"]);
const FALSE_TOKENS = new Set(["false", "0", "no", "f", "n"]);

/** Parses a CSV-style number: decimal or exponent notation, ±Infinity; NaN for anything else. */
export function parseNumberText(text: string): number {
  const trimmed = text.trim();
  if (NUMBER_PATTERN.test(trimmed)) return Number(trimmed);
  if (INFINITY_PATTERN.test(trimmed)) return trimmed.startsWith("-") ? -Infinity : Infinity;
  return Number.NaN;
}

/** True for the strings that mean "no value" in a CSV cell: empty, NA, N/A, NaN, null, None. */
export function isMissingToken(text: string): boolean {
  return MISSING_TOKENS.has(text.trim().toLowerCase());
}

const fieldDefinitionJSON = z
  .object({
    kind: z.enum(["number", "integer", "boolean", "category"]),
    nullable: z.boolean().optional(),
    optional: z.boolean().optional(),
    default: z.union([z.number(), z.string(), z.boolean()]).optional(),
    min: z.number().optional(),
    max: z.number().optional(),
    values: z.array(z.string()).min(1).optional(),
    open: z.boolean().optional(),
    description: z.string().optional(),
  })
  .strict()
  .refine((d) => d.kind !== "category" || d.values !== undefined, {
    message: "a category field needs its values",
    path: ["values"],
  })
  .refine((d) => d.open === undefined || d.kind === "category", {
    message: "only a category field can be open",
    path: ["open"],
  });

const schemaJSON = z
  .object({
    format: z.literal("mlops.schema/v1"),
    fields: z.record(z.string(), fieldDefinitionJSON),
    target: z.string().optional(),
    unknownKeys: z.enum(["reject", "strip"]).default("reject"),
    description: z.string().optional(),
  })
  .strict();

const SCHEMA_KEYS = ["format", "fields", "target", "unknownKeys", "description"];
const FIELD_KEYS = [
  "kind",
  "nullable",
  "optional",
  "default",
  "min",
  "max",
  "values",
  "description",
];

/** A value as a message shows it: `"float"`, `12`, `a list`, `nothing`. */
function describeJSONValue(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "an object";
  return JSON.stringify(value);
}

const EXPECTED_TYPE: Record<string, string> = {
  object: "an object",
  record: "an object",
  string: "a string",
  number: "a number",
  boolean: "true or false",
  array: "a list",
};

function jsonValueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let node = root;
  for (const part of path) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<PropertyKey, unknown>)[part as string];
  }
  return node;
}

function jsonPath(path: readonly PropertyKey[]): string {
  let text = "";
  for (const part of path) {
    if (typeof part === "number") text += `[${part}]`;
    else text += text === "" ? String(part) : `.${String(part)}`;
  }
  return text;
}

/**
 * Each problem of a schema file as one line in the file's terms (what is wrong, where, what was
 * expected), not zod's: a reader fixes the file from these lines alone.
 */
function explainSchemaJSON(json: unknown, error: z.ZodError): string[] {
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    return [
      `expected an object with "format": "mlops.schema/v1" and "fields", got ` +
        `${describeJSONValue(json)} (write one with mlops-train --save-schema, or Schema.toJSON())`,
    ];
  }
  const record = json as Record<string, unknown>;
  if (record.format === undefined && ("$schema" in record || "properties" in record)) {
    return [
      "this is a JSON Schema; an @mlops schema is a different format (" +
        '"format": "mlops.schema/v1", "fields": { "alcohol": { "kind": "number" } }): write one ' +
        "with mlops-train --save-schema and edit it",
    ];
  }
  const problems: string[] = [];
  for (const issue of error.issues) {
    const at = jsonPath(issue.path);
    const where = at === "" ? "" : `${at}: `;
    const value = jsonValueAt(json, issue.path);
    const isField = issue.path.length === 2 && issue.path[0] === "fields";
    switch (issue.code) {
      case "unrecognized_keys": {
        const known = isField ? FIELD_KEYS : issue.path.length === 0 ? SCHEMA_KEYS : [];
        for (const key of issue.keys) {
          problems.push(
            `${where}unknown setting "${key}"${didYouMean(key, known)}` +
              (known.length > 0
                ? `; ${isField ? "a field takes" : "a schema takes"} ${known.join(", ")}`
                : ""),
          );
        }
        break;
      }
      case "invalid_value": {
        const expected = issue.values.map((item) => JSON.stringify(item));
        problems.push(
          `${where}expected ${expected.length === 1 ? expected[0] : `one of ${expected.join(", ")}`}` +
            (value === undefined ? ", got nothing" : `, got ${describeJSONValue(value)}`) +
            (at === "format"
              ? " (the format of a schema written by mlops-train --save-schema)"
              : ""),
        );
        break;
      }
      case "invalid_type": {
        const expected =
          at === "fields"
            ? 'an object of fields, e.g. { "alcohol": { "kind": "number" } }'
            : (EXPECTED_TYPE[issue.expected] ?? issue.expected);
        problems.push(
          value === undefined
            ? `${where}missing; expected ${expected}`
            : `${where}expected ${expected}, got ${describeJSONValue(value)}`,
        );
        break;
      }
      case "too_small":
        problems.push(`${where}expected at least one value, got an empty list`);
        break;
      default:
        problems.push(
          issue.message === "a category field needs its values"
            ? `${where}a category field needs its values, e.g. "values": ["red", "white"]`
            : `${where}${issue.message}`,
        );
    }
  }
  return problems
    .slice(0, 10)
    .concat(problems.length > 10 ? [`… and ${problems.length - 10} more`] : []);
}

type Checked = { ok: true; value: number | string | boolean | null } | { ok: false; issue: Issue };

/**
 * The feature contract: declared once, it validates rows, batches and frames, gives the
 * TypeScript row type, exports JSON Schema and OIP metadata, and travels inside model artifacts.
 *
 * @example
 * const wine = schema({ alcohol: field.number({ min: 0 }), quality: field.integer() },
 *   { target: "quality" });
 * const row = wine.parseRow({ alcohol: 9.4, quality: 5 });
 */
export class Schema<S extends Shape = Shape> {
  readonly fields: Readonly<S>;
  readonly names: readonly string[];
  readonly target: string | undefined;
  readonly unknownKeys: "reject" | "strip";
  readonly description: string | undefined;

  constructor(fields: S, options: SchemaOptions = {}) {
    const names = Object.keys(fields);
    if (names.length === 0) {
      throw new MlopsError("schema_definition", "A schema needs at least one field");
    }
    for (const name of names) {
      if (!(fields[name] instanceof Field)) {
        throw new MlopsError(
          "schema_definition",
          `Field "${name}": expected a field (field.number(), field.category([...]), ...), got ${describeReceived(fields[name])}`,
        );
      }
      const { kind, default: fallback } = fields[name].definition;
      if (fallback !== undefined) {
        const ok =
          kind === "category"
            ? typeof fallback === "string" && fields[name].codeOf(fallback) >= 0
            : kind === "boolean"
              ? typeof fallback === "boolean"
              : typeof fallback === "number" && fields[name].checkNumber(fallback) === undefined;
        if (!ok) {
          throw new MlopsError(
            "schema_definition",
            `Field "${name}": default ${describeReceived(fallback)} is not a valid ${fields[name].expected()}`,
          );
        }
      }
    }
    if (options.target !== undefined && !names.includes(options.target)) {
      throw new MlopsError(
        "schema_definition",
        `Target "${options.target}" is not a field of the schema (fields: ${names.join(", ")})`,
      );
    }
    this.fields = Object.freeze({ ...fields });
    this.names = Object.freeze(names);
    this.target = options.target;
    this.unknownKeys = options.unknownKeys ?? "reject";
    this.description = options.description;
  }

  /** Field names a model reads: every field except the target, in declaration order. */
  get featureNames(): string[] {
    return this.names.filter((name) => name !== this.target);
  }

  /** The field called `name` (throws `schema_definition` naming the fields that exist). */
  field(name: string): Field<unknown, boolean> {
    const found = this.fields[name];
    if (!found) {
      throw new MlopsError(
        "schema_definition",
        `Unknown field "${name}"; the schema has: ${this.names.join(", ")}`,
      );
    }
    return found;
  }

  /** The same schema without its target: what a prediction request must carry. */
  features(): Schema<S> {
    const fields: Shape = {};
    for (const name of this.featureNames) fields[name] = this.fields[name];
    return new Schema(fields as S, {
      unknownKeys: this.unknownKeys,
      description: this.description,
    });
  }

  // ---------------------------------------------------------------- rows

  /** Validates one row object; throws `SchemaError`. Paths are `[field]`. */
  parseRow(row: unknown, options: ParseOptions = {}): InferShape<S> {
    const result = this.safeParseRow(row, options);
    if (!result.success) throw result.error;
    return result.data;
  }

  safeParseRow(row: unknown, options: ParseOptions = {}): SafeParseResult<InferShape<S>> {
    const issues: Issue[] = [];
    const out = this.#checkRow(row, [], options.coerce ?? false, issues, options.maxIssues ?? 100);
    if (issues.length > 0)
      return { success: false, error: new SchemaError(issues, { subject: "row" }) };
    return { success: true, data: out as InferShape<S> };
  }

  /** Validates a batch of row objects; issue paths are `[rowIndex, field]`. */
  parseRows(rows: unknown, options: ParseOptions = {}): InferShape<S>[] {
    const result = this.safeParseRows(rows, options);
    if (!result.success) throw result.error;
    return result.data;
  }

  safeParseRows(rows: unknown, options: ParseOptions = {}): SafeParseResult<InferShape<S>[]> {
    const issues: Issue[] = [];
    const maxIssues = options.maxIssues ?? 100;
    if (!Array.isArray(rows)) {
      issues.push(issue("invalid_type", [], "array of rows", describeReceived(rows)));
      return { success: false, error: new SchemaError(issues, { subject: "rows" }) };
    }
    const out: Record<string, unknown>[] = new Array(rows.length);
    for (let i = 0; i < rows.length && issues.length < maxIssues; i++) {
      out[i] = this.#checkRow(rows[i], [i], options.coerce ?? false, issues, maxIssues);
    }
    if (issues.length > 0) {
      return {
        success: false,
        error: new SchemaError(issues, { subject: "rows", truncated: issues.length >= maxIssues }),
      };
    }
    return { success: true, data: out as InferShape<S>[] };
  }

  /** Validates row objects straight into a columnar Frame (the boundary with JSON). */
  toFrame(rows: readonly unknown[], options: ParseOptions = {}): Frame {
    const result = this.safeToFrame(rows, options);
    if (!result.success) throw result.error;
    return result.data;
  }

  safeToFrame(rows: readonly unknown[], options: ParseOptions = {}): SafeParseResult<Frame> {
    const issues: Issue[] = [];
    const maxIssues = options.maxIssues ?? 100;
    const coerce = options.coerce ?? false;
    if (!Array.isArray(rows)) {
      issues.push(issue("invalid_type", [], "array of rows", describeReceived(rows)));
      return { success: false, error: new SchemaError(issues, { subject: "rows" }) };
    }
    const n = rows.length;
    const present = this.names.filter(
      (name) =>
        name !== this.target || rows.some((row) => isObject(row) && row[name] !== undefined),
    );
    const columns = present.map((name) =>
      this.fields[name].kind === "category" ? new Int32Array(n) : new Float64Array(n),
    );
    for (let i = 0; i < n && issues.length < maxIssues; i++) {
      const row = rows[i];
      if (!isObject(row)) {
        issues.push(issue("invalid_row", [i], "object", describeReceived(row)));
        continue;
      }
      this.#checkUnknown(row, [i], issues, maxIssues);
      for (let c = 0; c < present.length; c++) {
        const name = present[c];
        const fieldDef = this.fields[name];
        const checked = checkValue(fieldDef, row[name], name in row, [i, name], coerce);
        if (!checked.ok) {
          if (issues.length < maxIssues) issues.push(checked.issue);
          continue;
        }
        const value = checked.value;
        const column = columns[c];
        if (column instanceof Int32Array)
          column[i] = value === null ? -1 : fieldDef.codeOf(value as string);
        else
          column[i] =
            value === null
              ? Number.NaN
              : typeof value === "boolean"
                ? Number(value)
                : (value as number);
      }
    }
    if (issues.length > 0) {
      return {
        success: false,
        error: new SchemaError(issues, { subject: "rows", truncated: issues.length >= maxIssues }),
      };
    }
    const entries: [string, Column][] = present.map((name, c) => {
      const fieldDef = this.fields[name];
      const column = columns[c];
      return [
        name,
        column instanceof Int32Array
          ? { kind: "category", codes: column, dictionary: fieldDef.definition.values ?? [] }
          : { kind: fieldDef.kind as "number" | "integer" | "boolean", values: column },
      ];
    });
    return { success: true, data: new Frame(entries, n) };
  }

  #checkUnknown(
    row: Record<string, unknown>,
    path: (string | number)[],
    issues: Issue[],
    max: number,
  ) {
    if (this.unknownKeys !== "reject") return;
    for (const key in row) {
      if (!Object.hasOwn(this.fields, key) && issues.length < max) {
        issues.push(
          issue(
            "unknown_field",
            [...path, key],
            `no field "${key}" (fields: ${this.names.join(", ")})`,
            describeReceived(row[key]),
            `unknown field "${key}": not declared in the schema`,
          ),
        );
      }
    }
  }

  #checkRow(
    row: unknown,
    path: (string | number)[],
    coerce: boolean,
    issues: Issue[],
    maxIssues: number,
  ): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    if (!isObject(row)) {
      issues.push(issue("invalid_row", path, "object", describeReceived(row)));
      return out;
    }
    this.#checkUnknown(row, path, issues, maxIssues);
    for (const name of this.names) {
      const has = name in row;
      if (name === this.target && !has) continue;
      const checked = checkValue(this.fields[name], row[name], has, [...path, name], coerce);
      if (checked.ok) {
        if (checked.value !== null || has || !this.fields[name].definition.optional)
          out[name] = checked.value;
      } else if (issues.length < maxIssues) issues.push(checked.issue);
    }
    return out;
  }

  // ---------------------------------------------------------------- frames

  /**
   * Checks a Frame (typically read from a file) against the schema and returns a frame typed by
   * it: columns in schema order, category codes in the order of the declared values, defaults
   * filled, numbers parsed from text where a numeric field arrived as strings.
   * Throws `SchemaError` whose issues carry `location` when `locate` is given.
   */
  conformFrame(frame: Frame, options: ConformOptions = {}): Frame {
    const result = this.safeConformFrame(frame, options);
    if (!result.success) throw result.error;
    return result.data;
  }

  safeConformFrame(frame: Frame, options: ConformOptions = {}): SafeParseResult<Frame> {
    const issues: Issue[] = [];
    const maxIssues = options.maxIssues ?? 100;
    const offset = options.rowOffset ?? 0;
    const isMissingText = options.textMissing === false ? () => false : isMissingToken;
    const add = (
      code: IssueCode,
      row: number | undefined,
      name: string,
      expected: string,
      received: string,
    ) => {
      if (issues.length >= maxIssues) return;
      const path = row === undefined ? [name] : [row + offset, name];
      const found = issue(code, path, expected, received);
      if (options.locate && row !== undefined)
        found.location = { ...options.locate(row), column: name };
      issues.push(found);
    };
    if (this.unknownKeys === "reject") {
      for (const name of frame.names) {
        if (!Object.hasOwn(this.fields, name)) {
          add(
            "unknown_field",
            undefined,
            name,
            `no column "${name}" (fields: ${this.names.join(", ")})`,
            "a column",
          );
          issues[issues.length - 1].message =
            `unknown column "${name}": not declared in the schema (use unknownKeys: "strip" to drop it)`;
        }
      }
    }
    const entries: [string, Column][] = [];
    for (const name of this.names) {
      const fieldDef = this.fields[name];
      if (!frame.has(name)) {
        if (name === this.target) continue;
        if (fieldDef.acceptsMissing && fieldDef.definition.optional) {
          entries.push([name, missingColumn(fieldDef, frame.rowCount)]);
        } else {
          add(
            "missing_field",
            undefined,
            name,
            `column "${name}" (${fieldDef.expected()})`,
            "no such column",
          );
          issues[issues.length - 1].message =
            `missing column "${name}": expected ${fieldDef.expected()}`;
        }
        continue;
      }
      entries.push([
        name,
        conformColumn(
          fieldDef,
          frame.column(name),
          frame.rowCount,
          isMissingText,
          (code, row, received) =>
            add(
              code,
              row,
              name,
              code === "not_finite" ? NOT_FINITE_EXPECTED(fieldDef) : fieldDef.expected(),
              received,
            ),
        ),
      ]);
      if (issues.length >= maxIssues) break;
    }
    if (issues.length > 0) {
      return {
        success: false,
        error: new SchemaError(issues, {
          subject: options.locate?.(0).file ?? "frame",
          truncated: issues.length >= maxIssues,
        }),
      };
    }
    return { success: true, data: new Frame(entries, frame.rowCount) };
  }

  // ---------------------------------------------------------------- export

  toJSON(): SchemaJSON {
    const fields: Record<string, FieldDefinition> = {};
    for (const name of this.names) fields[name] = { ...this.fields[name].definition };
    const json: SchemaJSON = { format: "mlops.schema/v1", fields, unknownKeys: this.unknownKeys };
    if (this.target !== undefined) json.target = this.target;
    if (this.description !== undefined) json.description = this.description;
    return json;
  }

  /**
   * Rebuilds a schema from `toJSON()` output (a file written by `mlops-train --save-schema`),
   * validating it. Throws `schema_definition` saying, in the file's own words, what is wrong
   * where: `fields.alcohol.kind: expected one of "number", "integer", "boolean", "category", got
   * "float"`.
   */
  static fromJSON(json: unknown): Schema {
    const parsed = schemaJSON.safeParse(json);
    if (!parsed.success) {
      const problems = explainSchemaJSON(json, parsed.error);
      throw new MlopsError(
        "schema_definition",
        problems.length === 1
          ? `invalid schema: ${problems[0]}`
          : `invalid schema (${problems.length} problems):\n${problems.map((p) => `  - ${p}`).join("\n")}`,
      );
    }
    const fields: Shape = {};
    for (const [name, definition] of Object.entries(parsed.data.fields)) {
      fields[name] = new Field(definition as FieldDefinition);
    }
    return new Schema(fields, {
      target: parsed.data.target,
      unknownKeys: parsed.data.unknownKeys,
      description: parsed.data.description,
    });
  }

  /** JSON Schema (draft 2020-12) of one row; the target is optional. */
  toJSONSchema(): Record<string, unknown> {
    const properties: Record<string, unknown> = {};
    const required: string[] = [];
    for (const name of this.names) {
      properties[name] = this.fields[name].toJSONSchema();
      const def = this.fields[name].definition;
      if (name !== this.target && !def.optional && def.default === undefined) required.push(name);
    }
    const out: Record<string, unknown> = {
      $schema: "https://json-schema.org/draft/2020-12/schema",
      type: "object",
      properties,
      required,
      additionalProperties: this.unknownKeys === "strip",
    };
    if (this.description) out.description = this.description;
    return out;
  }

  /** Open Inference Protocol v2 input metadata: one tensor per feature, shape `[-1]`. */
  toTensorMetadata(): { inputs: TensorMetadata[]; outputs: TensorMetadata[] } {
    const datatype = (kind: string): TensorMetadata["datatype"] =>
      kind === "category"
        ? "BYTES"
        : kind === "integer"
          ? "INT64"
          : kind === "boolean"
            ? "BOOL"
            : "FP64";
    return {
      inputs: this.featureNames.map((name) => ({
        name,
        datatype: datatype(this.fields[name].kind),
        shape: [-1],
      })),
      outputs: [{ name: this.target ?? "predict", datatype: "FP64", shape: [-1] }],
    };
  }

  /** A zod object schema equal to this one, for composing with other zod code. */
  toZod(): z.ZodObject {
    const shape: Record<string, z.ZodType> = {};
    for (const name of this.names) {
      const type = this.fields[name].toZod();
      shape[name] = name === this.target ? type.optional() : type;
    }
    const object = z.object(shape);
    return this.unknownKeys === "reject" ? object.strict() : object.strip();
  }
}

/**
 * Declares a schema.
 *
 * @example
 * const houses = schema({
 *   median_income: field.number({ min: 0 }),
 *   ocean_proximity: field.category(["<1H OCEAN", "INLAND", "ISLAND", "NEAR BAY", "NEAR OCEAN"]),
 *   median_house_value: field.number({ min: 0 }),
 * }, { target: "median_house_value" });
 * type House = Infer<typeof houses>;
 */
export function schema<S extends Shape>(fields: S, options: SchemaOptions = {}): Schema<S> {
  return new Schema(fields, options);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function issue(
  code: IssueCode,
  path: (string | number)[],
  expected: string,
  received: string,
  message?: string,
): Issue {
  return {
    code,
    path,
    message: message ?? `expected ${expected}, got ${received}`,
    expected,
    received,
  };
}

const NOT_FINITE_EXPECTED = (f: Field<unknown, boolean>) => `finite ${f.expected()}`;

/** Checks one value of a row object. */
function checkValue(
  fieldDef: Field<unknown, boolean>,
  raw: unknown,
  present: boolean,
  path: (string | number)[],
  coerce: boolean,
): Checked {
  const def = fieldDef.definition;
  const expected = fieldDef.expected();
  let value = raw;
  if (coerce && typeof value === "string" && isMissingToken(value)) value = null;
  const missing =
    value === null || value === undefined || (typeof value === "number" && Number.isNaN(value));
  if (missing) {
    if (def.default !== undefined) return { ok: true, value: def.default };
    if (def.nullable || (def.optional && !present) || def.optional)
      return { ok: true, value: null };
    return {
      ok: false,
      issue: issue(
        present ? "missing_value" : "missing_field",
        path,
        expected,
        describeReceived(raw),
        present
          ? `expected ${expected}, got ${describeReceived(raw)}`
          : `required, expected ${expected}`,
      ),
    };
  }
  switch (def.kind) {
    case "category": {
      let text = value;
      if (coerce && typeof value === "number") text = String(value);
      if (typeof text !== "string")
        return { ok: false, issue: issue("invalid_type", path, expected, describeReceived(raw)) };
      if (fieldDef.codeOf(text) < 0 && !def.open)
        return {
          ok: false,
          issue: issue("invalid_category", path, expected, describeReceived(raw)),
        };
      return { ok: true, value: text };
    }
    case "boolean": {
      if (typeof value === "boolean") return { ok: true, value };
      if (coerce && typeof value === "string") {
        const token = value.trim().toLowerCase();
        if (TRUE_TOKENS.has(token)) return { ok: true, value: true };
        if (FALSE_TOKENS.has(token)) return { ok: true, value: false };
      }
      if (coerce && (value === 0 || value === 1)) return { ok: true, value: value === 1 };
      return { ok: false, issue: issue("invalid_type", path, expected, describeReceived(raw)) };
    }
    default: {
      let number: number;
      if (typeof value === "number") number = value;
      else if (coerce && typeof value === "string") {
        number = parseNumberText(value);
        if (Number.isNaN(number))
          return { ok: false, issue: issue("invalid_type", path, expected, describeReceived(raw)) };
      } else
        return { ok: false, issue: issue("invalid_type", path, expected, describeReceived(raw)) };
      const code = fieldDef.checkNumber(number);
      if (code) {
        const exp = code === "not_finite" ? NOT_FINITE_EXPECTED(fieldDef) : expected;
        return { ok: false, issue: issue(code, path, exp, describeReceived(raw)) };
      }
      return { ok: true, value: number };
    }
  }
}

function missingColumn(fieldDef: Field<unknown, boolean>, n: number): Column {
  const fallback = fieldDef.definition.default;
  if (fieldDef.kind === "category") {
    return {
      kind: "category",
      codes: new Int32Array(n).fill(
        fallback === undefined ? -1 : fieldDef.codeOf(fallback as string),
      ),
      dictionary: fieldDef.definition.values ?? [],
    };
  }
  const value = fallback === undefined ? Number.NaN : Number(fallback);
  return { kind: fieldDef.kind as "number", values: new Float64Array(n).fill(value) };
}

type Report = (code: IssueCode, row: number, received: string) => void;

/** Converts and checks one column of a frame against its field; reports per-row problems. */
function conformColumn(
  fieldDef: Field<unknown, boolean>,
  column: Column,
  n: number,
  isMissingToken: (text: string) => boolean,
  report: Report,
): Column {
  const def = fieldDef.definition;
  const fallback = def.default;
  const allowMissing = Boolean(def.nullable || def.optional);
  if (fieldDef.kind === "category") {
    const codes = new Int32Array(n);
    const fallbackCode = fallback === undefined ? -1 : fieldDef.codeOf(String(fallback));
    const lookup =
      column.kind === "category"
        ? column.dictionary.map((value) => (isMissingToken(value) ? -2 : fieldDef.codeOf(value)))
        : undefined;
    // What the row held, for messages only: built when a problem is reported, never per row.
    const receivedAt = (i: number): string => {
      if (column.kind === "category") {
        const raw = column.codes[i];
        return raw < 0 ? "missing value" : describeReceived(column.dictionary[raw]);
      }
      const value = column.values[i];
      if (Number.isNaN(value)) return "missing value";
      return describeReceived(column.kind === "boolean" ? String(value === 1) : String(value));
    };
    for (let i = 0; i < n; i++) {
      let code: number;
      if (column.kind === "category") {
        const raw = column.codes[i];
        code = raw < 0 ? -2 : lookup![raw];
      } else {
        const value = column.values[i];
        code = Number.isNaN(value)
          ? -2
          : fieldDef.codeOf(column.kind === "boolean" ? String(value === 1) : String(value));
      }
      if (code === -2) {
        if (fallbackCode >= 0) code = fallbackCode;
        else if (allowMissing) code = -1;
        else {
          report("missing_value", i, receivedAt(i));
          code = -1;
        }
      } else if (code < 0 && !def.open) report("invalid_category", i, receivedAt(i));
      codes[i] = code;
    }
    return { kind: "category", codes, dictionary: def.values ?? [] };
  }
  // Numeric kinds: number, integer, boolean.
  let values: Float64Array;
  let texts: readonly string[] | undefined;
  if (column.kind === "category") {
    // Strings in a numeric field (a CSV column with text, JSON strings): parse each distinct value once.
    texts = column.dictionary;
    // One parse per distinct string; NaN = missing token, null = not a number (an issue).
    const parsed = column.dictionary.map((text): number | null => {
      if (isMissingToken(text)) return Number.NaN;
      if (fieldDef.kind === "boolean") {
        const token = text.trim().toLowerCase();
        return TRUE_TOKENS.has(token) ? 1 : FALSE_TOKENS.has(token) ? 0 : null;
      }
      const number = parseNumberText(text);
      return Number.isNaN(number) ? null : number;
    });
    values = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const code = column.codes[i];
      const number = code < 0 ? Number.NaN : parsed[code];
      if (number === null) {
        report("invalid_type", i, describeReceived(column.dictionary[code]));
        values[i] = Number.NaN;
        continue;
      }
      values[i] = number;
    }
  } else {
    values = column.values;
  }
  let filled: Float64Array | undefined;
  for (let i = 0; i < n; i++) {
    const value = values[i];
    if (Number.isNaN(value)) {
      if (texts && column.kind === "category") {
        const code = column.codes[i];
        if (code >= 0 && !isMissingToken(texts[code])) continue; // already reported as text
      }
      if (fallback !== undefined) {
        if (!filled) filled = Float64Array.from(values);
        filled[i] = Number(fallback);
      } else if (!allowMissing) report("missing_value", i, "missing value");
      continue;
    }
    const code = fieldDef.checkNumber(value);
    if (code) report(code, i, describeReceived(value));
  }
  return { kind: fieldDef.kind as "number" | "integer" | "boolean", values: filled ?? values };
}
