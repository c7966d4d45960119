import { parseArgs } from "node:util";
import { didYouMean } from "./suggest.js";

/**
 * One option of a command line: how it is parsed and how `--help` shows it. The name is the key
 * of the record it is declared in (`trials` for `--trials`).
 *
 * @example
 * const options = {
 *   trials: { type: "string", value: "N", description: "settings to try (default 50)" },
 *   drop: { type: "string", value: "COLUMN", multiple: true, list: true, description: "…" },
 *   json: { type: "boolean", description: "print one JSON document on stdout" },
 * } satisfies OptionSpecs;
 */
export interface OptionSpec {
  /** `string` takes a value (`--trials 5`, `--trials=5`); `boolean` is a switch (`--json`). */
  type: "string" | "boolean";
  /** The value's placeholder in help (`N`, `NAME`, `PATH`); default `VALUE`. */
  value?: string;
  /** One line (or a few, joined by "\n") for `--help`. */
  description: string;
  /** A one-letter alias (`h` for `-h`). */
  short?: string;
  /** The option may be repeated; its value is then always an array (empty when absent). */
  multiple?: boolean;
  /**
   * With `multiple`: a value may also be a comma-separated list, `--drop a,b` being the same as
   * `--drop a --drop b`. Leave it off where a value may itself hold commas (gate rules).
   */
  list?: boolean;
  /** Missing is a usage error (`missing option --reason TEXT`). */
  required?: boolean;
}

export type OptionSpecs = Record<string, OptionSpec>;

/** The value type of one option: `boolean`, `string`, or `string[]` when `multiple`. */
export type OptionValue<S extends OptionSpec> = S["type"] extends "boolean"
  ? boolean
  : S extends { multiple: true }
    ? string[]
    : string;

type RequiredKeys<O extends OptionSpecs> = {
  [K in keyof O]: O[K] extends { type: "boolean" } | { multiple: true } | { required: true }
    ? K
    : never;
}[keyof O];

/**
 * Parsed option values, typed from the specs: switches are `true`/`false`, repeatable options
 * arrays (empty when absent), required options strings, the others `string | undefined`.
 */
export type OptionValues<O extends OptionSpecs> = string extends keyof O
  ? // Specs not known in detail (a list of commands): any option's value.
    Record<string, string | boolean | string[] | undefined>
  : {
      [K in RequiredKeys<O>]: OptionValue<O[K]>;
    } & {
      [K in Exclude<keyof O, RequiredKeys<O>>]?: OptionValue<O[K]>;
    };

const usageMarker = Symbol.for("mlops.usage_error");

/**
 * A mistake in the command line: an unknown option, a missing value or argument. The tools print
 * its message and a line naming the `--help` to read, and exit 2.
 */
export class UsageError extends Error {
  /** Brand checked by `isInstance`: a global symbol, shared by every copy of this module. */
  readonly [usageMarker] = true;
  /** Plain-data problems behind the message (a config file's issues), for `--json`. */
  readonly issues: unknown[];
  /** The command whose `--help` explains the usage (`mlops runs list`); the tool's when unset. */
  readonly helpFor: string | undefined;

  constructor(message: string, options: { issues?: unknown[]; helpFor?: string } = {}) {
    super(message);
    this.name = "UsageError";
    this.issues = options.issues ?? [];
    this.helpFor = options.helpFor;
  }

  /** True for any UsageError, also one from another copy of this module (CJS and ESM builds). */
  static isInstance(value: unknown): value is UsageError {
    return typeof value === "object" && value !== null && usageMarker in value;
  }
}

/** `--trials N`, `-h, --help`: how help and messages write an option. */
export function optionUsage(name: string, spec: OptionSpec): string {
  const flag = spec.short ? `-${spec.short}, --${name}` : `--${name}`;
  return spec.type === "string" ? `${flag} ${spec.value ?? "VALUE"}` : flag;
}

function toParseArgsOptions(specs: OptionSpecs) {
  const options: Record<
    string,
    { type: "string" | "boolean"; short?: string; multiple?: boolean }
  > = {};
  for (const [name, spec] of Object.entries(specs)) {
    // parseArgs rejects properties that are present but undefined.
    options[name] = {
      type: spec.type,
      ...(spec.short ? { short: spec.short } : {}),
      ...(spec.multiple ? { multiple: true } : {}),
    };
  }
  return options;
}

/** What `parseCommandLine` found: the positional words and the option values. */
export interface CommandLine<O extends OptionSpecs> {
  positionals: string[];
  values: OptionValues<O>;
}

/**
 * Splits argv into positional words and option values, the same way for every tool. Node's
 * `parseArgs` tokenizes (non-strict) so that this code, not node's generic messages, says what is
 * wrong, in one wording: `unknown option "--trails" (did you mean "--trials"?)`,
 * `option --filter needs a value (EXPR)`, `option --json takes no value`. Required options are
 * checked by the caller (after `--help` had its chance).
 *
 * @example
 * const { values } = parseCommandLine(["--drop", "a,b", "--json"], {
 *   drop: { type: "string", multiple: true, list: true, description: "…" },
 *   json: { type: "boolean", description: "…" },
 * });
 * // values: { drop: ["a", "b"], json: true }
 */
export function parseCommandLine<O extends OptionSpecs>(
  argv: readonly string[],
  specs: O,
  options: { helpFor?: string } = {},
): CommandLine<O> {
  const { helpFor } = options;
  const { tokens } = parseArgs({
    args: [...argv],
    options: toParseArgsOptions(specs),
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const positionals: string[] = [];
  const values: Record<string, string | boolean | string[]> = {};
  for (const [name, spec] of Object.entries(specs)) {
    if (spec.type === "boolean") values[name] = false;
    else if (spec.multiple) values[name] = [];
  }
  for (const token of tokens) {
    if (token.kind === "positional") {
      positionals.push(token.value);
      continue;
    }
    if (token.kind !== "option") continue;
    const spec = specs[token.name];
    if (spec === undefined || !Object.hasOwn(specs, token.name)) {
      const known = Object.keys(specs);
      const hint = token.rawName.startsWith("--")
        ? didYouMean(token.name, known, (name) => `--${name}`)
        : "";
      throw new UsageError(`unknown option ${JSON.stringify(token.rawName)}${hint}`, { helpFor });
    }
    if (spec.type === "boolean") {
      if (token.value !== undefined) {
        throw new UsageError(`option --${token.name} takes no value`, { helpFor });
      }
      values[token.name] = true;
      continue;
    }
    const value = token.value;
    // As node's strict mode does: `--filter --json` is almost surely a forgotten value.
    if (value === undefined || (!token.inlineValue && value.startsWith("-") && value !== "-")) {
      throw new UsageError(
        `option --${token.name} needs a value (${spec.value ?? "VALUE"}); ` +
          `write --${token.name}=VALUE for a value starting with "-"`,
        { helpFor },
      );
    }
    if (spec.multiple) {
      const items = spec.list ? value.split(",").map((item) => item.trim()) : [value];
      if (spec.list && items.some((item) => item === "")) {
        throw new UsageError(
          `option --${token.name}: empty item in ${JSON.stringify(value)}; ` +
            `write --${token.name} A,B or repeat --${token.name}`,
          { helpFor },
        );
      }
      (values[token.name] as string[]).push(...items);
    } else {
      values[token.name] = value;
    }
  }
  return { positionals, values: values as OptionValues<O> };
}

/** Every required option that has no value, as a usage error naming the first. */
export function checkRequired(
  specs: OptionSpecs,
  values: Record<string, unknown>,
  helpFor?: string,
): void {
  for (const [name, spec] of Object.entries(specs)) {
    const value = values[name];
    if (spec.required && (value === undefined || (Array.isArray(value) && value.length === 0))) {
      throw new UsageError(`missing option --${name} ${spec.value ?? "VALUE"}`, { helpFor });
    }
  }
}
