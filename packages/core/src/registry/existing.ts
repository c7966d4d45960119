import { stat } from "node:fs/promises";
import { join } from "node:path";
import { MlopsError } from "../errors/error.js";
import { openRegistry, type Registry } from "./registry.js";

function errnoCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/**
 * Options for `openExistingRegistry`.
 *
 * @example
 * await openExistingRegistry(path, { hint: "(check the registry input)" });
 */
export interface OpenExistingRegistryOptions {
  /** Appended to the "no registry at PATH" message: where the caller's path came from. */
  hint?: string;
}

/**
 * Opens the folder registry at `path` only if one is there. `openRegistry` creates a missing
 * registry (right for code that is about to write), but a typo in a CLI's `--registry` or an
 * Action's `registry` input must not leave an empty `.mlops` folder behind and then report
 * "no models": it is a `registry_not_found` error that names the path.
 *
 * @example
 * const registry = await openExistingRegistry("/srv/registry"); // throws if none is there
 */
export async function openExistingRegistry(
  path: string,
  options: OpenExistingRegistryOptions = {},
): Promise<Registry> {
  const hint = options.hint ? ` ${options.hint}` : "";
  try {
    await stat(join(path, "registry.json"));
  } catch (error) {
    const code = errnoCode(error);
    if (code !== "ENOENT" && code !== "ENOTDIR") {
      throw new MlopsError("file_read", `${path}: cannot read the registry (${code ?? error})`, {
        cause: error,
        location: { file: path },
      });
    }
    let exists = false;
    try {
      exists = (await stat(path)).isDirectory();
    } catch {
      exists = false;
    }
    throw new MlopsError(
      "registry_not_found",
      exists
        ? `no registry at ${path}: the folder has no registry.json${hint}`
        : `no registry at ${path}${hint}`,
      { location: { file: path } },
    );
  }
  return openRegistry(path);
}
