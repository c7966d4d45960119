/**
 * The command-line toolkit of `mlops`, `mlops-train`, `mlops-serve` (and every tool to come):
 * one parser, one wording for mistakes, "did you mean" everywhere, help generated from the same
 * declarations, one error report and exit-code table, one launcher. Reached by the other packages
 * through `@mlops/core/internal`; not a public API.
 *
 * ## A tool is a `Program`, a command is a `Command`
 *
 * ```ts
 * import { defineCommand, launch, runProgram, type Program } from "@mlops/core/internal";
 *
 * const predict = defineCommand({
 *   name: "",                       // the tool's only command; "models list" for a subcommand
 *   summary: "score a file with a registered model",
 *   options: {
 *     model: { type: "string", value: "REF", required: true, description: "the model" },
 *     column: { type: "string", value: "NAME", multiple: true, list: true, description: "…" },
 *     "dry-run": { type: "boolean", description: "check the input, predict nothing" },
 *   },
 *   async run({ options, io }) {
 *     options.model;       // string (required)
 *     options.column;      // string[] (`--column a,b` or `--column a --column b`)
 *     options["dry-run"];  // boolean
 *     io.stdout.write("…");
 *     return { json: { … }, text: "…\n" };   // printed as --json asks; or return an exit code
 *   },
 * });
 *
 * const program: Program = {
 *   name: "mlops-predict",
 *   summary: "score files with a registered model",
 *   version: SDK_VERSION,
 *   json: true,                     // adds --json: one JSON document on stdout, errors too
 *   commands: [predict],
 *   exitCodes: { … },               // every ErrorKind → a code, plus `internal` and the help rows
 * };
 *
 * export const main = (argv, io) => runProgram(program, argv, io);   // tests call this
 * // bin.ts: launch(main);
 * ```
 *
 * ## Adding a flag
 * Add one entry to the command's `options` (or to the program's `options` for a flag that every
 * command takes, like `mlops --registry`). Parsing, `--help`, "did you mean", `required` checks and
 * the value's type in `run` follow from it. `multiple: true` makes it repeatable (an array);
 * `list: true` also accepts `--flag a,b`.
 *
 * ## Adding a command to `mlops`
 * Write `defineMlopsCommand({ name: "alias delete", … })` in packages/core/src/cli/ and add it to
 * `COMMANDS` (packages/core/src/cli/commands.ts); its group (`alias`) and its place in `mlops
 * --help` follow. Throw `MlopsError` for anticipated failures (its code picks the exit code through
 * `ERROR_KINDS`), `UsageError` for a command-line mistake, `CommandFailure` for anything else
 * anticipated; anything else is reported as a bug, with its stack.
 */
import { parseArgs } from "node:util";
import { type Style, styleFor } from "../format/text.js";
import type { Registry } from "../registry/registry.js";
import { type ExitCodes, reportFailure } from "./exit.js";
import { optionSynopsis, optionsHelp, twoColumns, wrapText } from "./help.js";
import {
  checkRequired,
  type OptionSpec,
  type OptionSpecs,
  type OptionValues,
  parseCommandLine,
  UsageError,
} from "./options.js";
import {
  CommandRegistries,
  type CommandRegistryOptions,
  REGISTRY_ENVIRONMENT,
  REGISTRY_OPTION,
  registryLocation,
} from "./registry.js";
import { closestName, didYouMean } from "./suggest.js";

/** Where a tool reads and writes: the process's streams in bin.ts, buffers in tests. */
export interface CommandIo {
  stdout: { write(text: string): unknown; isTTY?: boolean };
  stderr: { write(text: string): unknown; isTTY?: boolean; columns?: number };
  env: Record<string, string | undefined>;
  /** The working directory: relative paths in arguments are resolved against it. */
  cwd: string;
}

/** A positional argument of a command. */
export interface ArgumentSpec {
  /** Its placeholder in usage and help (`NAME`, `VERSION`). */
  name: string;
  description: string;
  /** May be left out (only after the required ones). */
  optional?: boolean;
}

/** What a command's `run` gets. */
export interface CommandContext<O extends OptionSpecs = OptionSpecs> {
  /** The positional arguments after the command's words. */
  args: string[];
  /** The command's own option values, typed from its specs. */
  options: OptionValues<O>;
  /** The program-wide option values (`registry`, `json`). */
  globals: Record<string, string | boolean | string[] | undefined>;
  /** `--json` was given: print one JSON document on stdout. */
  json: boolean;
  /**
   * In a tool with `registry: true`: where the registry is (`--registry`, else
   * `$MLOPS_REGISTRY`, else ./.mlops; a folder resolved, a URL as given).
   */
  registry: string;
  /**
   * Opens the registry (by default it must exist; `{ create: true }` for commands that write a
   * new one), or another one at `location`; closed when the command ends.
   */
  openRegistry(options?: CommandRegistryOptions, location?: string): Promise<Registry>;
  io: CommandIo;
  env: Record<string, string | undefined>;
  cwd: string;
  /** Bold and dim on a terminal without NO_COLOR, plain text otherwise. */
  style: Style;
}

/**
 * What a command produces: one JSON document for `--json` and text for people otherwise (each
 * printed only if given), and its exit code when it ran but its check failed (`mlops gate`).
 * A command may also write to `io` itself as it goes and return only an exit code.
 */
export interface CommandResult {
  json?: unknown;
  text?: string;
  exitCode?: number;
}

/** One command of a tool: its words, arguments, options, help, and what it does. */
export interface Command<O extends OptionSpecs = OptionSpecs, X = unknown> {
  /** The words after the tool's name (`models list`, `gate`), or "" for a tool's only command. */
  name: string;
  /** One line, for the tool's command list and the top of the command's help. */
  summary: string;
  /** More help, after the usage: paragraphs separated by blank lines. */
  description?: string;
  /** Usage lines when the generated synopsis would be too long to read. */
  usage?: readonly string[];
  args?: readonly ArgumentSpec[];
  options: O;
  examples?: readonly string[];
  /** The help's exit-code line, when it differs from the tool's `commandExitCodes`. */
  exitCodes?: string;
  run(context: CommandContext<O> & X): Promise<CommandResult | number | undefined>;
}

/**
 * A command, with its option values typed from its option specs.
 *
 * @example
 * const hello = defineCommand({
 *   name: "hello",
 *   summary: "say hello",
 *   options: { name: { type: "string", value: "NAME", required: true, description: "who" } },
 *   async run({ options }) {
 *     return { text: `hello ${options.name}\n`, json: { hello: options.name } };
 *   },
 * });
 */
export function defineCommand<const O extends OptionSpecs, X = unknown>(
  command: Command<O, X>,
): Command<O, X> {
  return command;
}

/** A command-line tool: its name, its commands, its program-wide options and exit codes. */
export interface Program<X = unknown> {
  /** The executable's name (`mlops-train`): the prefix of every error line. */
  name: string;
  /** One line, after the name at the top of `--help`. */
  summary: string;
  /** What `--version` prints. */
  version: string;
  /** Options every command takes. `--help` and `--version` are added. */
  options?: OptionSpecs;
  /**
   * The tool reads a registry: adds `--registry LOCATION` (a folder or a `postgres://` URL) and
   * `MLOPS_REGISTRY` to every command, which gets `registry` and `openRegistry()`.
   */
  registry?: boolean;
  /** Adds `--json`: results, and errors, as one JSON document on stdout. */
  json?: boolean;
  /** The commands: one named "" for a tool that is one command, else `group name` words. */
  commands: readonly Command<OptionSpecs, X>[];
  exitCodes: ExitCodes;
  /** The exit-code line of a command's help, for a tool with several commands. */
  commandExitCodes?: string;
  /** The help's "Environment:" table. */
  environment?: readonly (readonly [string, string])[];
  /** Extra context every command gets, made from the program-wide option values. */
  context?(
    globals: Record<string, string | boolean | string[] | undefined>,
    io: CommandIo,
  ): X | Promise<X>;
}

const HELP: OptionSpec = {
  type: "boolean",
  short: "h",
  description: "show this help",
};
const VERSION: OptionSpec = { type: "boolean", description: "print the version" };
const JSON_OPTION: OptionSpec = {
  type: "boolean",
  description: "print one JSON document on stdout instead of text (errors too)",
};

/** The program-wide options: the program's own, then --json, --help and --version. */
function globalOptions(program: Program<never>): OptionSpecs {
  const isSuite = !isSingle(program);
  return {
    ...(program.registry ? { registry: REGISTRY_OPTION } : {}),
    ...program.options,
    ...(program.json ? { json: JSON_OPTION } : {}),
    help: isSuite
      ? { ...HELP, description: `show help (${program.name} COMMAND --help for one command)` }
      : HELP,
    version: VERSION,
  };
}

function isSingle(program: Program<never>): boolean {
  return program.commands.length === 1 && program.commands[0].name === "";
}

function words(command: Command<OptionSpecs, never>): string[] {
  return command.name === "" ? [] : command.name.split(" ");
}

/**
 * Every option of every command with the global ones, for the first pass that tells option
 * values from command words; an option declared with two types would make that pass ambiguous.
 */
function allOptions(program: Program<never>): OptionSpecs {
  const all: OptionSpecs = { ...globalOptions(program) };
  for (const command of program.commands) {
    for (const [name, spec] of Object.entries(command.options)) {
      const seen = all[name];
      if (seen !== undefined && seen.type !== spec.type) {
        throw new Error(
          `${program.name}: option --${name} of "${command.name}" is a ${spec.type} option ` +
            `but a ${seen.type} option elsewhere; give one of them another name`,
        );
      }
      all[name] = spec;
    }
  }
  return all;
}

function quoteList(items: readonly string[]): string {
  return items.map((item) => `"${item}"`).join(", ");
}

// ------------------------------------------------------------------ help

function argumentSynopsis(command: Command<OptionSpecs, never>): string[] {
  return (command.args ?? []).map((arg) => (arg.optional ? `[${arg.name}]` : arg.name));
}

function synopsis(program: Program<never>, command: Command<OptionSpecs, never>): string {
  return [
    program.name,
    ...words(command),
    ...argumentSynopsis(command),
    ...Object.entries(command.options).map(([name, spec]) => optionSynopsis(name, spec)),
  ].join(" ");
}

function exitCodeTable(program: Program<never>): string {
  return twoColumns(program.exitCodes.help.map(([code, meaning]) => [String(code), meaning]));
}

function tail(program: Program<never>, parts: string[]): void {
  parts.push("\nExit codes:\n", exitCodeTable(program));
  const environment = [
    ...(program.registry ? [REGISTRY_ENVIRONMENT] : []),
    ...(program.environment ?? []),
  ];
  if (environment.length > 0) parts.push("\nEnvironment:\n", twoColumns(environment));
}

/** The help of a tool that is one command. */
function singleHelp(program: Program<never>, command: Command<OptionSpecs, never>): string {
  const parts = [`${program.name} — ${program.summary}\n`, "\nUsage:\n"];
  const usage = command.usage ?? [synopsis(program, command)];
  parts.push(...usage.map((line) => `  ${line}\n`));
  if (command.description) parts.push("\n", wrapText(command.description));
  if (command.args && command.args.length > 0) {
    parts.push(
      "\nArguments:\n",
      twoColumns(command.args.map((arg) => [arg.name, arg.description])),
    );
  }
  parts.push("\nOptions:\n", optionsHelp({ ...command.options, ...globalOptions(program) }));
  if (command.examples && command.examples.length > 0) {
    parts.push("\nExamples:\n", ...command.examples.map((example) => `  ${example}\n`));
  }
  tail(program, parts);
  return parts.join("");
}

/** The help of a tool with several commands: the commands, the global options, exit codes. */
function suiteHelp(program: Program<never>): string {
  const parts = [
    `${program.name} — ${program.summary}\n`,
    `\nUsage: ${program.name} COMMAND [ARGS] [OPTIONS]\n`,
    "\nCommands:\n",
    twoColumns(program.commands.map((command) => [command.name, command.summary])),
    "\nGlobal options (valid with every command):\n",
    optionsHelp(globalOptions(program)),
  ];
  tail(program, parts);
  parts.push(
    `\nRun "${program.name} COMMAND --help" for the arguments and options of one command.\n`,
  );
  return parts.join("");
}

function groupCommands(program: Program<never>, group: string) {
  return program.commands.filter((command) => words(command)[0] === group);
}

function groupHelp(program: Program<never>, group: string): string {
  const commands = groupCommands(program, group);
  const names = commands.map((command) => words(command).slice(1).join(" "));
  return [
    `Usage: ${program.name} ${group} ${names.join("|")} ...\n`,
    "\nCommands:\n",
    twoColumns(commands.map((command) => [command.name, command.summary])),
    `\nRun "${program.name} ${group} COMMAND --help" for details, ` +
      `"${program.name} --help" for global options.\n`,
  ].join("");
}

function commandHelp(program: Program<never>, command: Command<OptionSpecs, never>): string {
  const usage = command.usage ?? [synopsis(program, command)];
  const parts = [
    `Usage: ${usage[0]}\n`,
    ...usage.slice(1).map((line) => `       ${line}\n`),
    `\n${command.summary}\n`,
  ];
  if (command.description) parts.push("\n", wrapText(command.description));
  if (command.args && command.args.length > 0) {
    parts.push(
      "\nArguments:\n",
      twoColumns(command.args.map((arg) => [arg.name, arg.description])),
    );
  }
  if (Object.keys(command.options).length > 0) {
    parts.push("\nOptions:\n", optionsHelp(command.options));
  }
  parts.push("\nGlobal options:\n", optionsHelp(globalOptions(program)));
  if (command.examples && command.examples.length > 0) {
    parts.push("\nExamples:\n", ...command.examples.map((example) => `  ${example}\n`));
  }
  const exit = command.exitCodes ?? program.commandExitCodes;
  if (exit) parts.push("\n", wrapText(exit));
  return parts.join("");
}

/**
 * The `--help` text of a tool, of a group of its commands (`alias`), or of one command
 * (`runs list`); `undefined` when the words name none of them.
 */
export function programHelp<X>(program: Program<X>, path = ""): string | undefined {
  const tool = program as unknown as Program<never>;
  if (isSingle(tool)) return path === "" ? singleHelp(tool, tool.commands[0]) : undefined;
  if (path === "") return suiteHelp(tool);
  const command = tool.commands.find((item) => item.name === path);
  if (command) return commandHelp(tool, command);
  return groupCommands(tool, path).length > 0 ? groupHelp(tool, path) : undefined;
}

// ------------------------------------------------------------------ running

/** The command the words name, and how many words that took; usage errors say what exists. */
function findCommand(
  program: Program<never>,
  positionals: readonly string[],
  help: boolean,
): { command: Command<OptionSpecs, never>; used: number } | { group: string } | "tool" {
  if (isSingle(program)) return { command: program.commands[0], used: 0 };
  if (positionals.length === 0) {
    if (help) return "tool";
    throw new UsageError("missing command");
  }
  // The longest command whose words start the positionals.
  const matches = program.commands
    .filter((command) => words(command).every((word, index) => positionals[index] === word))
    .sort((a, b) => words(b).length - words(a).length);
  if (matches.length > 0 && words(matches[0]).length > 0) {
    return { command: matches[0], used: words(matches[0]).length };
  }
  const groups = [...new Set(program.commands.map((command) => words(command)[0]))];
  const [group, name] = positionals;
  if (!groups.includes(group)) {
    throw new UsageError(
      `unknown command ${JSON.stringify(group)}${didYouMean(group, groups)}; ` +
        `commands: ${quoteList(groups)}`,
    );
  }
  if (help && name === undefined) return { group };
  const names = groupCommands(program, group).map((command) => words(command).slice(1).join(" "));
  if (name === undefined) {
    throw new UsageError(`missing subcommand of "${group}": ${quoteList(names)}`, {
      helpFor: `${program.name} ${group}`,
    });
  }
  const close = closestName(name, names);
  throw new UsageError(
    `unknown command "${group} ${name}"` +
      (close === undefined ? "" : ` (did you mean "${group} ${close}"?)`) +
      `; "${group}" has ${quoteList(names)}`,
    { helpFor: `${program.name} ${group}` },
  );
}

/**
 * Runs a tool's command line and resolves to its exit code; never throws and never calls
 * `process.exit`, so tests run it in-process with buffers for streams (and bin.ts runs it with
 * `launch`). Help goes to stdout with exit 0; mistakes to stderr with the tool's exit codes.
 *
 * @example
 * const code = await runProgram(program, ["runs", "list", "--json"], {
 *   stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd(),
 * });
 */
export async function runProgram<X>(
  program: Program<X>,
  argv: readonly string[],
  io: CommandIo,
): Promise<number> {
  const tool = program as unknown as Program<never>;
  let json = program.json === true && argv.includes("--json");
  let registries: CommandRegistries | undefined;
  try {
    const globals = globalOptions(tool);
    // First pass: find the command words and the global flags, whatever the command.
    const first = parseArgs({
      args: [...argv],
      options: Object.fromEntries(
        Object.entries(allOptions(tool)).map(([name, spec]) => [
          name,
          {
            type: spec.type,
            ...(spec.short ? { short: spec.short } : {}),
            ...(spec.multiple ? { multiple: true } : {}),
          },
        ]),
      ),
      strict: false,
      allowPositionals: true,
    });
    const positionals = [...first.positionals];
    let help = first.values.help === true;
    if (!isSingle(tool) && positionals[0] === "help") {
      help = true;
      positionals.shift();
    }
    if (first.values.version === true) {
      io.stdout.write(
        json ? `${JSON.stringify({ version: program.version })}\n` : `${program.version}\n`,
      );
      return 0;
    }
    let found: ReturnType<typeof findCommand>;
    try {
      found = findCommand(tool, positionals, help);
    } catch (error) {
      if (UsageError.isInstance(error) && error.message === "missing command") {
        io.stderr.write(suiteHelp(tool));
      }
      throw error;
    }
    if (found === "tool" || "group" in found) {
      io.stdout.write(programHelp(tool, found === "tool" ? "" : found.group) ?? "");
      return 0;
    }
    const { command, used } = found;
    const helpFor = command.name === "" ? program.name : `${program.name} ${command.name}`;
    if (help) {
      io.stdout.write(programHelp(tool, command.name) ?? "");
      return 0;
    }

    // Second pass, strict for this command: its own options plus the global ones.
    const specs = { ...globals, ...command.options };
    const line = parseCommandLine(argv, specs, { helpFor });
    const values = line.values as Record<string, string | boolean | string[] | undefined>;
    json = values.json === true;
    // Past the command's words (a leading `help` returned above).
    const args = line.positionals.slice(used);
    const declared = command.args ?? [];
    const required = declared.filter((arg) => !arg.optional).length;
    const usageLine = (command.usage ?? [synopsis(tool, command)])[0];
    if (args.length < required) {
      const missing = declared.slice(args.length, required).map((arg) => arg.name);
      throw new UsageError(
        `missing argument${missing.length > 1 ? "s" : ""} ${missing.join(" ")}; ` +
          `usage: ${usageLine}`,
        { helpFor },
      );
    }
    if (args.length > declared.length) {
      const extra = args[declared.length];
      const hint = extra.startsWith("-") ? "" : `; usage: ${usageLine}`;
      throw new UsageError(`unexpected argument ${JSON.stringify(extra)}${hint}`, { helpFor });
    }
    checkRequired(command.options, values, helpFor);

    const globalValues: CommandContext["globals"] = {};
    for (const name of Object.keys(globals)) globalValues[name] = values[name];
    const ownValues: Record<string, unknown> = {};
    for (const name of Object.keys(command.options)) ownValues[name] = values[name];
    const extra = program.context ? await program.context(globalValues, io) : undefined;
    const location = program.registry ? registryLocation(values.registry, io) : "";
    registries = new CommandRegistries(location);
    const opener = registries;
    const result = await command.run({
      ...(extra as object),
      registry: location,
      openRegistry: (options?: CommandRegistryOptions, at?: string) => opener.open(options, at),
      args,
      options: ownValues as OptionValues<OptionSpecs>,
      globals: globalValues,
      json,
      io,
      env: io.env,
      cwd: io.cwd,
      style: styleFor(io.stdout, io.env),
    } as never);
    if (typeof result === "number") return result;
    if (result === undefined) return 0;
    if (json) {
      if (result.json !== undefined) io.stdout.write(`${JSON.stringify(result.json, null, 2)}\n`);
    } else if (result.text !== undefined) {
      io.stdout.write(result.text);
    }
    return result.exitCode ?? 0;
  } catch (error) {
    return reportFailure(error, { program: program.name, io, json, exitCodes: program.exitCodes });
  } finally {
    await registries?.close();
  }
}
