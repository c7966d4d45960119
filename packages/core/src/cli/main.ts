import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { SDK_VERSION } from "../artifact/version.js";
import { MlopsError, type MlopsErrorCode } from "../errors/error.js";
import { defaultRegistryPath } from "../registry/actor.js";
import { COMMANDS, type CommandSpec, type OptionSpec } from "./commands.js";
import { styleFor } from "./format.js";

/** Where `main` reads and writes: the process's streams in `bin.ts`, buffers in tests. */
export interface CliIo {
  stdout: { write(text: string): unknown; isTTY?: boolean };
  stderr: { write(text: string): unknown; isTTY?: boolean };
  env: Record<string, string | undefined>;
  cwd: string;
}

/** The exit codes of `mlops`, as documented in `mlops --help` and docs/cli.md. */
export const EXIT_CODES = {
  success: 0,
  /** A check failed: `mlops gate` found a regression. */
  checkFailed: 1,
  /** Usage error or bad input: unknown command or option, bad argument, not found. */
  usage: 2,
  /** Registry error (corrupt registry or artifact, lock timeout, I/O) or an unexpected error. */
  registry: 3,
} as const;

/**
 * Error codes that mean the registry itself is in trouble, not the request: retrying with other
 * arguments will not help, so scripts get exit code 3 to tell them apart from typos (2).
 */
const REGISTRY_FAILURES: ReadonlySet<MlopsErrorCode> = new Set<MlopsErrorCode>([
  "registry_corrupt",
  "registry_lock_timeout",
  "artifact_corrupt",
  "artifact_invalid",
  "file_read",
  "file_write",
]);

/** A mistake in the command line itself; its message says what to type instead. */
class UsageError extends Error {
  constructor(
    message: string,
    readonly helpFor = "mlops",
  ) {
    super(message);
    this.name = "UsageError";
  }
}

const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  registry: {
    type: "string",
    value: "PATH",
    description: "the registry folder (default: $MLOPS_REGISTRY, else ./.mlops)",
  },
  json: { type: "boolean", description: "print one JSON document on stdout instead of text" },
  help: { type: "boolean", short: "h", description: "show help (mlops COMMAND --help for one)" },
  version: { type: "boolean", description: "print the SDK version" },
};

const GROUPS = [...new Set(COMMANDS.map((command) => command.group))];

// ------------------------------------------------------------------ help

function optionUsage(name: string, spec: OptionSpec): string {
  const flag = spec.short ? `-${spec.short}, --${name}` : `--${name}`;
  return spec.type === "string" ? `${flag} ${spec.value ?? "VALUE"}` : flag;
}

/** `models list`, or `gate` for a one-word command. */
function commandWords(command: CommandSpec): string {
  return command.name === "" ? command.group : `${command.group} ${command.name}`;
}

function commandUsage(command: CommandSpec): string {
  const args = command.args.map((arg) => arg.name);
  const options = Object.entries(command.options).map(([name, spec]) => {
    const text = `${optionUsage(name, spec)}${spec.multiple ? " ..." : ""}`;
    return spec.required ? text : `[${text}]`;
  });
  return ["mlops", commandWords(command), ...args, ...options].join(" ");
}

function twoColumns(entries: readonly (readonly [string, string])[]): string {
  const size = Math.max(...entries.map(([left]) => left.length));
  return entries.map(([left, right]) => `  ${left.padEnd(size)}  ${right}\n`).join("");
}

const EXIT_CODE_HELP = twoColumns([
  ["0", "success"],
  ["1", "a check failed: `mlops gate` found a regression"],
  ["2", "usage error or bad input: unknown command or option, missing argument,"],
  ["", "invalid name, URI, version or filter, model/alias/experiment not found,"],
  ["", "no registry at the path"],
  ["3", "registry error: corrupt registry or artifact, lock timeout, I/O error;"],
  ["", "also an unexpected internal error (printed with its stack)"],
]);

const ENVIRONMENT_HELP = twoColumns([
  ["MLOPS_REGISTRY", "the registry folder when --registry is not given (default ./.mlops)"],
  ["GITHUB_ACTOR", "the default --actor of `alias set` and `gate` (else the OS user name)"],
  ["NO_COLOR", "set to turn colour off (colour is only used on a terminal)"],
]);

function globalHelp(): string {
  return [
    "mlops — inspect and manage an @mlops model registry\n",
    "\nUsage: mlops COMMAND [ARGS] [OPTIONS]\n",
    "\nCommands:\n",
    twoColumns(COMMANDS.map((command) => [commandWords(command), command.summary])),
    "\nGlobal options (valid with every command):\n",
    twoColumns(
      Object.entries(GLOBAL_OPTIONS).map(([name, spec]) => [
        optionUsage(name, spec),
        spec.description,
      ]),
    ),
    "\nExit codes:\n",
    EXIT_CODE_HELP,
    "\nEnvironment:\n",
    ENVIRONMENT_HELP,
    '\nRun "mlops COMMAND --help" for the arguments and options of one command.\n',
  ].join("");
}

function groupHelp(group: string): string {
  const commands = COMMANDS.filter((command) => command.group === group);
  return [
    `Usage: mlops ${group} ${commands.map((command) => command.name).join("|")} ...\n`,
    "\nCommands:\n",
    twoColumns(commands.map((command) => [`${group} ${command.name}`, command.summary])),
    `\nRun "mlops ${group} COMMAND --help" for details, "mlops --help" for global options.\n`,
  ].join("");
}

function commandHelp(command: CommandSpec): string {
  const parts = [`Usage: ${commandUsage(command)}\n`, `\n${command.summary}\n`];
  if (command.args.length > 0) {
    parts.push(
      "\nArguments:\n",
      twoColumns(command.args.map((arg) => [arg.name, arg.description])),
    );
  }
  const options = Object.entries(command.options);
  if (options.length > 0) {
    parts.push(
      "\nOptions:\n",
      twoColumns(
        options.map(([name, spec]) => [
          optionUsage(name, spec),
          spec.description +
            (spec.required ? " (required)" : "") +
            (spec.multiple ? " (repeatable)" : ""),
        ]),
      ),
    );
  }
  parts.push(
    "\nGlobal options:\n",
    twoColumns(
      Object.entries(GLOBAL_OPTIONS).map(([name, spec]) => [
        optionUsage(name, spec),
        spec.description,
      ]),
    ),
    "\nExamples:\n",
    command.examples.map((example) => `  ${example}\n`).join(""),
    `\n${
      command.exitCodes ??
      'Exit codes: 0 success, 2 usage error or bad input, 3 registry error (see "mlops --help").'
    }\n`,
  );
  return parts.join("");
}

// ------------------------------------------------------------------ argument parsing

type OptionValues = Record<string, string | boolean | string[] | undefined>;

/** Every option of every command, so a first pass can tell option values from command words. */
function allOptions(): Record<string, OptionSpec> {
  const all: Record<string, OptionSpec> = { ...GLOBAL_OPTIONS };
  for (const command of COMMANDS) Object.assign(all, command.options);
  return all;
}

function toParseArgsOptions(specs: Record<string, OptionSpec>) {
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

/**
 * Splits argv into positionals and option values. `parseArgs` runs non-strict so that this code,
 * not node's generic messages, says what is wrong: which option is unknown, which needs a value.
 */
function parseCommandLine(
  argv: readonly string[],
  specs: Record<string, OptionSpec>,
  helpFor: string,
): { positionals: string[]; values: OptionValues } {
  const { tokens } = parseArgs({
    args: [...argv],
    options: toParseArgsOptions(specs),
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const positionals: string[] = [];
  const values: OptionValues = {};
  for (const token of tokens) {
    if (token.kind === "positional") {
      positionals.push(token.value);
      continue;
    }
    if (token.kind !== "option") continue;
    const spec = specs[token.name];
    if (!spec) {
      throw new UsageError(`unknown option ${JSON.stringify(token.rawName)}`, helpFor);
    }
    if (spec.type === "boolean") {
      if (token.value !== undefined) {
        throw new UsageError(`option --${token.name} takes no value`, helpFor);
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
        helpFor,
      );
    }
    if (spec.multiple) {
      const previous = values[token.name];
      values[token.name] = [...(Array.isArray(previous) ? previous : []), value];
    } else {
      values[token.name] = value;
    }
  }
  return { positionals, values };
}

function findCommand(group: string, name: string): CommandSpec | undefined {
  return COMMANDS.find((command) => command.group === group && command.name === name);
}

function quoteList(items: readonly string[]): string {
  return items.map((item) => `"${item}"`).join(", ");
}

// ------------------------------------------------------------------ errors

interface ErrorReport {
  code: string;
  message: string;
  issues?: unknown[];
}

function report(io: CliIo, json: boolean, error: ErrorReport, hint?: string): void {
  io.stderr.write(`mlops: ${error.message}\n${hint ? `${hint}\n` : ""}`);
  if (json) io.stdout.write(`${JSON.stringify({ error }, null, 2)}\n`);
}

function exitCodeFor(error: MlopsError): number {
  return REGISTRY_FAILURES.has(error.code) ? EXIT_CODES.registry : EXIT_CODES.usage;
}

// ------------------------------------------------------------------ main

/**
 * Runs the `mlops` command line and resolves to its exit code; never throws and never calls
 * `process.exit`, so tests run it in-process with buffers for streams.
 *
 * @example
 * const code = await main(["models", "list", "--json"], {
 *   stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd(),
 * });
 */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  let json = false;
  try {
    // First pass: find the command words and the global flags, whatever the command.
    const first = parseArgs({
      args: [...argv],
      options: toParseArgsOptions(allOptions()),
      strict: false,
      allowPositionals: true,
    });
    json = first.values.json === true;
    const words = first.positionals;
    if (words[0] === "help") {
      first.values.help = true;
      words.shift();
    }
    if (first.values.version === true) {
      io.stdout.write(json ? `${JSON.stringify({ version: SDK_VERSION })}\n` : `${SDK_VERSION}\n`);
      return EXIT_CODES.success;
    }
    const help = first.values.help === true;
    if (words.length === 0) {
      if (help) {
        io.stdout.write(globalHelp());
        return EXIT_CODES.success;
      }
      io.stderr.write(globalHelp());
      throw new UsageError("missing command");
    }
    const [group, name] = words;
    if (!GROUPS.includes(group)) {
      throw new UsageError(
        `unknown command ${JSON.stringify(group)}; commands: ${quoteList(GROUPS)}`,
      );
    }
    // A one-word command (`mlops gate`) takes the words after it as its arguments.
    const single = findCommand(group, "");
    const command = single ?? (name === undefined ? undefined : findCommand(group, name));
    if (!command) {
      if (help && name === undefined) {
        io.stdout.write(groupHelp(group));
        return EXIT_CODES.success;
      }
      const names = COMMANDS.filter((item) => item.group === group).map((item) => item.name);
      throw new UsageError(
        name === undefined
          ? `missing subcommand of "${group}": ${quoteList(names)}`
          : `unknown command "${group} ${name}"; "${group}" has ${quoteList(names)}`,
        `mlops ${group}`,
      );
    }
    const helpFor = `mlops ${commandWords(command)}`;
    if (help) {
      io.stdout.write(commandHelp(command));
      return EXIT_CODES.success;
    }

    // Second pass, strict for this command: its own options plus the global ones.
    const specs = { ...GLOBAL_OPTIONS, ...command.options };
    const { positionals, values } = parseCommandLine(argv, specs, helpFor);
    const args = positionals.slice(command.name === "" ? 1 : 2);
    if (args.length < command.args.length) {
      const missing = command.args.slice(args.length).map((arg) => arg.name);
      throw new UsageError(
        `missing argument${missing.length > 1 ? "s" : ""} ${missing.join(" ")}; ` +
          `usage: ${commandUsage(command)}`,
        helpFor,
      );
    }
    if (args.length > command.args.length) {
      throw new UsageError(
        `unexpected argument ${JSON.stringify(args[command.args.length])}; ` +
          `usage: ${commandUsage(command)}`,
        helpFor,
      );
    }
    for (const [option, spec] of Object.entries(command.options)) {
      if (spec.required && values[option] === undefined) {
        throw new UsageError(`missing option --${option} ${spec.value ?? "VALUE"}`, helpFor);
      }
    }
    if (values.registry === "") throw new UsageError("option --registry: expected a path", helpFor);
    const registryPath =
      typeof values.registry === "string"
        ? resolve(io.cwd, values.registry)
        : defaultRegistryPath(io.env, io.cwd);

    const output = await command.run({
      args,
      options: values,
      registryPath,
      env: io.env,
      cwd: io.cwd,
      style: styleFor(io.stdout, io.env),
    });
    io.stdout.write(json ? `${JSON.stringify(output.json, null, 2)}\n` : output.text);
    return output.exitCode ?? EXIT_CODES.success;
  } catch (error) {
    if (error instanceof UsageError) {
      report(
        io,
        json,
        { code: "usage", message: error.message },
        `Run "${error.helpFor} --help" for usage.`,
      );
      return EXIT_CODES.usage;
    }
    if (MlopsError.isInstance(error)) {
      const body = error.toJSON() as ErrorReport;
      report(io, json, {
        code: error.code,
        message: error.message,
        ...(body.issues ? { issues: body.issues } : {}),
      });
      return exitCodeFor(error);
    }
    // Not an error this SDK anticipated: a bug or an environment problem. The stack is what a
    // bug report needs, so it is printed in full.
    const message = error instanceof Error ? error.message : String(error);
    io.stderr.write(
      `mlops: unexpected error: ${error instanceof Error ? (error.stack ?? message) : message}\n`,
    );
    if (json)
      io.stdout.write(`${JSON.stringify({ error: { code: "internal", message } }, null, 2)}\n`);
    return EXIT_CODES.registry;
  }
}
