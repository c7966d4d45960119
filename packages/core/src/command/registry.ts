import { resolveRegistryLocation } from "../registry/backends.js";
import { openExistingRegistry } from "../registry/existing.js";
import { openRegistry, type Registry } from "../registry/registry.js";
import { type OptionSpec, UsageError } from "./options.js";
import type { CommandIo } from "./program.js";

/** `--registry LOCATION`, the same in every tool that reads a registry. */
export const REGISTRY_OPTION: OptionSpec = {
  type: "string",
  value: "LOCATION",
  description:
    "the registry: a folder or a postgres:// URL (default: $MLOPS_REGISTRY, else ./.mlops)",
};

/** The help's line for `MLOPS_REGISTRY`. */
export const REGISTRY_ENVIRONMENT: readonly [string, string] = [
  "MLOPS_REGISTRY",
  "the registry (a folder or a postgres:// URL) when --registry is not given (default ./.mlops)",
];

/** The registry a command line names: `--registry`, else `$MLOPS_REGISTRY`, else ./.mlops. */
export function registryLocation(value: unknown, io: Pick<CommandIo, "env" | "cwd">): string {
  if (value === "") throw new UsageError("option --registry: expected a folder or a URL");
  return resolveRegistryLocation(
    typeof value === "string" ? value : undefined,
    io.env as NodeJS.ProcessEnv,
    io.cwd,
  );
}

/** Options of a command's `openRegistry`. */
export interface CommandRegistryOptions {
  /** Create the registry when there is none (commands that write); default false. */
  create?: boolean;
}

/**
 * Opens registries for one command and closes them when it ends (a PostgreSQL registry holds
 * connections that would keep the process alive).
 */
export class CommandRegistries {
  readonly #opened: Registry[] = [];

  constructor(readonly location: string) {}

  async open(options: CommandRegistryOptions = {}, location = this.location): Promise<Registry> {
    const registry = options.create
      ? await openRegistry(location)
      : await openExistingRegistry(location, { hint: "(set --registry or MLOPS_REGISTRY)" });
    this.#opened.push(registry);
    return registry;
  }

  async close(): Promise<void> {
    const opened = this.#opened.splice(0);
    await Promise.all(opened.map((registry) => registry.close().catch(() => {})));
  }
}
