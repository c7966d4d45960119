import { openExistingRegistry as openExisting } from "../registry/existing.js";
import type { Registry } from "../registry/registry.js";

/** The registry at `path`, never created; the error says how the CLI is told where it is. */
export function openExistingRegistry(path: string): Promise<Registry> {
  return openExisting(path, { hint: "(set --registry or MLOPS_REGISTRY)" });
}
