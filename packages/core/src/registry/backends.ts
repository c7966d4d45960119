/**
 * Where a registry lives, said as one string: a folder path (`./.mlops`, `/srv/registry`,
 * `file:///srv/registry`) or a URL whose scheme picks a backend (`postgres://…`). Core knows the
 * folder backend; others live in their own packages, registered here by scheme and loaded on
 * first use, so core never imports them.
 */
import { stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { MlopsError } from "../errors/error.js";
import { defaultRegistryPath } from "./actor.js";
import { redactLocation } from "./common.js";
import { FolderStore, type FolderStoreOptions } from "./folder.js";
import type { RegistryStore } from "./types.js";

/** Where a registry lives: a folder, or a URL for another backend. */
export type RegistryLocation =
  | { kind: "folder"; path: string }
  | { kind: "url"; scheme: string; url: string };

/**
 * Options of `openStore` and `openRegistry`: where relative paths start, whether a missing
 * registry is an error, and the folder store's own options.
 *
 * @example
 * await openStore("registry", { cwd: "/srv", mustExist: true, hint: "(check --registry)" });
 */
export interface OpenStoreOptions extends FolderStoreOptions {
  /** Relative folder paths are resolved against this (default `process.cwd()`). */
  cwd?: string;
  /**
   * Refuse to create a registry: a folder without `registry.json` is `registry_not_found`
   * (a typo in `--registry` must not leave an empty registry behind). Default false.
   */
  mustExist?: boolean;
  /** Appended to "no registry at PATH": where the caller's location came from. */
  hint?: string;
}

/**
 * A registry backend for URL schemes, as a package provides it (`@mlops/postgres` exports one
 * as `registryBackend`).
 *
 * @example
 * registerRegistryBackend({
 *   name: "in-memory",
 *   schemes: ["memory"],
 *   open: async (url) => createMemoryStore(url),
 * });
 */
export interface RegistryBackend {
  /** What it is, for messages: "PostgreSQL". */
  name: string;
  /** URL schemes it answers, lowercase, without ":" (`["postgres", "postgresql"]`). */
  schemes: readonly string[];
  open(url: string, options: OpenStoreOptions): Promise<RegistryStore>;
}

/** Schemes served by packages that are loaded on first use, and the package for each. */
const LAZY_BACKENDS: Readonly<Record<string, string>> = {
  postgres: "@mlops/postgres",
  postgresql: "@mlops/postgres",
};

// One table per process, shared by every copy of core (an ESM and a CJS build, a bundle).
const TABLE_KEY = Symbol.for("mlops.registryBackends");
function backends(): Map<string, RegistryBackend> {
  const holder = globalThis as { [TABLE_KEY]?: Map<string, RegistryBackend> };
  holder[TABLE_KEY] ??= new Map();
  return holder[TABLE_KEY];
}

/**
 * Makes `backend` the one that opens URLs with its schemes (replacing any earlier one).
 *
 * @example
 * import { registryBackend } from "@mlops/postgres";
 * registerRegistryBackend(registryBackend); // a bundle that cannot import lazily
 */
export function registerRegistryBackend(backend: RegistryBackend): void {
  if (!backend || typeof backend.open !== "function" || !Array.isArray(backend.schemes)) {
    throw new MlopsError(
      "argument_invalid",
      "registerRegistryBackend: expected { name, schemes, open(url, options) }",
    );
  }
  for (const scheme of backend.schemes) backends().set(scheme.toLowerCase(), backend);
}

/** The URL schemes that open a registry: the folder's `file` and every known backend's. */
export function registryBackendSchemes(): string[] {
  return [...new Set(["file", ...backends().keys(), ...Object.keys(LAZY_BACKENDS)])].sort();
}

// Two characters at least, so a Windows drive (C:\models) is a path, not a scheme.
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]+):/;

/**
 * Reads a registry location: a URL with a scheme other than `file:` names a backend; anything
 * else is a folder, resolved against `cwd`.
 *
 * @example
 * parseRegistryLocation("./.mlops", "/work"); // { kind: "folder", path: "/work/.mlops" }
 * parseRegistryLocation("postgres://db/mlops"); // { kind: "url", scheme: "postgres", url: … }
 */
export function parseRegistryLocation(
  location: string,
  cwd: string = process.cwd(),
): RegistryLocation {
  if (typeof location !== "string" || location.trim() === "") {
    throw new MlopsError(
      "registry_location_invalid",
      `registry location ${JSON.stringify(location)}: expected a folder path or a URL ` +
        "such as postgres://user@host/db",
    );
  }
  const text = location.trim();
  const match = SCHEME.exec(text);
  if (!match) return { kind: "folder", path: resolve(cwd, text) };
  const scheme = match[1].toLowerCase();
  if (scheme !== "file") return { kind: "url", scheme, url: text };
  if (text.toLowerCase().startsWith("file://")) {
    try {
      return { kind: "folder", path: fileURLToPath(text) };
    } catch (error) {
      throw new MlopsError(
        "registry_location_invalid",
        `registry location ${JSON.stringify(text)}: not a valid file: URL (${String(error)})`,
        { cause: error },
      );
    }
  }
  return { kind: "folder", path: resolve(cwd, text.slice("file:".length)) };
}

async function loadBackend(scheme: string, location: string): Promise<RegistryBackend> {
  const known = backends().get(scheme);
  if (known) return known;
  const packageName = LAZY_BACKENDS[scheme];
  if (packageName === undefined) {
    throw new MlopsError(
      "registry_location_invalid",
      `registry location ${JSON.stringify(redactLocation(location))}: unknown scheme ` +
        `"${scheme}:"; expected a folder path or one of ${registryBackendSchemes()
          .map((known) => `${known}:`)
          .join(", ")}`,
    );
  }
  let module: { registryBackend?: RegistryBackend };
  try {
    // A variable specifier: bundlers leave it alone, so core never depends on the package.
    const specifier = packageName;
    module = (await import(specifier)) as { registryBackend?: RegistryBackend };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    const text = String((error as Error | undefined)?.message ?? error);
    if (
      (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") &&
      text.includes(packageName)
    ) {
      throw new MlopsError(
        "package_missing",
        `${scheme}: registries need the ${packageName} package, which is not installed: ` +
          `npm install ${packageName}`,
        { cause: error },
      );
    }
    throw error;
  }
  if (!module.registryBackend) {
    throw new MlopsError(
      "package_missing",
      `${packageName} does not export registryBackend: install a version that matches @mlops/core`,
    );
  }
  registerRegistryBackend(module.registryBackend);
  return backends().get(scheme) ?? module.registryBackend;
}

async function openFolder(path: string, options: OpenStoreOptions): Promise<RegistryStore> {
  if (options.mustExist) {
    const hint = options.hint ? ` ${options.hint}` : "";
    try {
      await stat(join(path, "registry.json"));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException | undefined)?.code;
      if (code !== "ENOENT" && code !== "ENOTDIR") {
        throw new MlopsError("file_read", `${path}: cannot read the registry (${code ?? error})`, {
          cause: error,
          location: { file: path },
        });
      }
      const exists = await stat(path).then(
        (info) => info.isDirectory(),
        () => false,
      );
      throw new MlopsError(
        "registry_not_found",
        exists
          ? `no registry at ${path}: the folder has no registry.json${hint}`
          : `no registry at ${path}${hint}`,
        { location: { file: path } },
      );
    }
  }
  const store = new FolderStore(path, options);
  await store.ensureRoot();
  return store;
}

/**
 * Opens the registry at `location` (default `$MLOPS_REGISTRY`, else `./.mlops`): a folder
 * (created when missing unless `mustExist`), or a URL whose scheme picks the backend —
 * `postgres://` and `postgresql://` load `@mlops/postgres`, with an error naming the package when
 * it is not installed. An unknown scheme is `registry_location_invalid`, never a folder.
 *
 * @example
 * const store = await openStore("postgres://mlops@db.internal/mlops");
 * await store.listRegisteredModels();
 * await store.close();
 */
export async function openStore(
  location: string = defaultRegistryPath(),
  options: OpenStoreOptions = {},
): Promise<RegistryStore> {
  const parsed = parseRegistryLocation(location, options.cwd);
  if (parsed.kind === "folder") return openFolder(parsed.path, options);
  const backend = await loadBackend(parsed.scheme, parsed.url);
  return backend.open(parsed.url, options);
}

/**
 * The registry a command line means: `--registry VALUE` when given (a folder resolved against
 * `cwd`, or a URL kept as it is), else `$MLOPS_REGISTRY`, else `./.mlops`.
 *
 * @example
 * resolveRegistryLocation("reg", {}, "/work"); // "/work/reg"
 * resolveRegistryLocation(undefined, { MLOPS_REGISTRY: "postgres://db/x" }); // "postgres://db/x"
 */
export function resolveRegistryLocation(
  value: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  cwd: string = process.cwd(),
): string {
  if (value === undefined) return defaultRegistryPath(env, cwd);
  const parsed = parseRegistryLocation(value, cwd);
  return parsed.kind === "folder" ? parsed.path : parsed.url;
}
