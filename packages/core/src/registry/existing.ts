import { openRegistry, type Registry } from "./registry.js";

/**
 * Options for `openExistingRegistry`.
 *
 * @example
 * await openExistingRegistry(path, { hint: "(check the registry input)" });
 */
export interface OpenExistingRegistryOptions {
  /** Appended to the "no registry at PATH" message: where the caller's path came from. */
  hint?: string;
  /** Relative folder paths are resolved against this (default `process.cwd()`). */
  cwd?: string;
}

/**
 * Opens the registry at `location` only if one is there. `openRegistry` creates a missing
 * folder registry (right for code that is about to write), but a typo in a CLI's `--registry` or
 * an Action's `registry` input must not leave an empty `.mlops` folder behind and then report
 * "no models": it is a `registry_not_found` error that names the path. URLs (`postgres://…`)
 * open their backend, which says itself when the server or database is not there.
 *
 * @example
 * const registry = await openExistingRegistry("/srv/registry"); // throws if none is there
 */
export function openExistingRegistry(
  location: string,
  options: OpenExistingRegistryOptions = {},
): Promise<Registry> {
  return openRegistry(location, { ...options, mustExist: true });
}
