import type { OptionSpecs } from "../command/options.js";
import type { Command } from "../command/program.js";

/** What every `mlops` command gets besides its options: where the registry is. */
export interface MlopsContext {
  /** `--registry`, else `$MLOPS_REGISTRY`, else ./.mlops, resolved against the working directory. */
  registryPath: string;
}

/**
 * An `mlops` command: a `Command` (../command/program.ts) that also gets `registryPath`. To add
 * one, define it with this and list it in `COMMANDS` (commands.ts).
 */
export function defineMlopsCommand<const O extends OptionSpecs>(
  command: Command<O, MlopsContext>,
): Command<O, MlopsContext> {
  return command;
}
