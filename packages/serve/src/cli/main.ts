import { resolve } from "node:path";
import { parseArgs } from "node:util";
import {
  defaultRegistryPath,
  MlopsError,
  openExistingRegistry,
  type Registry,
  SDK_VERSION,
} from "@mlops/core";
import { createInferenceApp, type InferenceApp } from "../app/app.js";
import { type ApiKey, parseApiKeyHashes } from "../auth/api-keys.js";
import { DEFAULT_LIMITS } from "../limits/limits.js";
import { parseModelReference, type ServeEvent } from "../models/catalog.js";
import { type RunningServer, serve } from "../node/serve.js";

/** Where `main` reads and writes: the process's streams in `bin.ts`, buffers in tests. */
export interface ServeCliIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  env: Record<string, string | undefined>;
  cwd: string;
  /**
   * Resolves when the server should shut down (bin.ts: on SIGTERM or SIGINT). Left out, the
   * process's signals are handled.
   */
  shutdown?: Promise<unknown>;
  /** Called once the server listens (tests read the URL from it). */
  onListening?: (server: RunningServer, app: InferenceApp) => void;
}

/** The exit codes of `mlops-serve`, as `mlops-serve --help` lists them. */
export const SERVE_EXIT_CODES = {
  /** Shut down cleanly (SIGTERM, SIGINT) after draining. */
  success: 0,
  /** The server could not start: the port is taken, a model failed to load. */
  failed: 1,
  /** Usage error, no registry at the path, an unknown model, version or alias. */
  usage: 2,
  /** The registry is in trouble: a corrupt registry or artifact, an I/O error. */
  registry: 3,
} as const;

const REGISTRY_FAILURES = new Set([
  "registry_corrupt",
  "registry_lock_timeout",
  "artifact_corrupt",
  "artifact_invalid",
  "file_read",
]);

const USAGE = `Usage: mlops-serve --model REF [--model REF ...] [options]

Serves models from an @mlops registry over HTTP: named-field REST (/v1/models/NAME/predict),
the Open Inference Protocol v2 (/v2/...), MLflow scoring (/invocations) and /metrics.

Options:
  --registry PATH          the registry folder (default: $MLOPS_REGISTRY, else ./.mlops);
                           it must exist: mlops-serve never creates one
  --model REF              a model to serve, repeatable: NAME@ALIAS (follows the alias),
                           NAME/VERSION (pinned) or NAME (the latest version); SERVED=REF
                           serves it under another name (two aliases of one model)
  --port N                 port to listen on (default 8080; 0 picks a free one)
  --host HOST              interface to bind (default 127.0.0.1; 0.0.0.0 for all)
  --api-key-hash HEX:SCOPES
                           accept the API key whose sha256 is HEX, with scopes predict
                           and/or admin joined by "+" (repeatable; default: the keys in
                           $MLOPS_API_KEY_HASHES, else no auth)
  --log                    one JSON line per request on stdout
  --watch-interval MS      how often to check the registry for moved aliases (default
                           2000; 0 turns hot reload off)
  --max-body SIZE          largest request body: bytes, or 512kb, 1mb, 8mb (default 1mb)
  -h, --help               show this help
  --version                print the version

Exit codes: 0 shut down cleanly (SIGTERM/SIGINT drain in-flight requests first), 1 the
server could not start, 2 usage error or no such registry/model/alias, 3 registry error.
`;

class UsageError extends Error {}

/** `"1mb"`, `"512kb"`, `"1048576"` → bytes (k, m, g are powers of 1024). */
export function parseSize(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|kib|k|mb|mib|m|gb|gib|g)?\s*$/i.exec(text);
  if (match === null) {
    throw new UsageError(
      `--max-body: expected a size such as 1048576, 512kb or 1mb, got ${JSON.stringify(text)}`,
    );
  }
  const unit = (match[2] ?? "b").toLowerCase()[0];
  const scale = unit === "k" ? 1024 : unit === "m" ? 1024 ** 2 : unit === "g" ? 1024 ** 3 : 1;
  const bytes = Math.floor(Number(match[1]) * scale);
  if (bytes < 1) throw new UsageError(`--max-body: must be at least 1 byte, got ${text}`);
  return bytes;
}

function integerOption(name: string, text: string | undefined, min: number, max: number) {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`--${name}: expected an integer from ${min} to ${max}, got "${text}"`);
  }
  return value;
}

/** A `--model` option: the served name and the registry reference. */
interface ServedReference {
  name: string;
  reference: string;
}

interface Parsed {
  registry: string;
  models: ServedReference[];
  port: number;
  host: string;
  keys: ApiKey[] | undefined;
  log: boolean;
  watchIntervalMs: number;
  maxBodyBytes: number;
}

function parse(argv: string[], io: ServeCliIo): Parsed | "help" | "version" {
  let values: ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>["values"];
  try {
    ({ values } = parseArgs({
      args: argv,
      options: OPTIONS,
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  if (values.help) return "help";
  if (values.version) return "version";
  const models = values.model ?? [];
  if (models.length === 0) {
    throw new UsageError("--model is required (e.g. --model wine@production)");
  }
  const served: ServedReference[] = [];
  for (const model of models) {
    const equals = model.indexOf("=");
    const reference = equals < 0 ? model : model.slice(equals + 1);
    let name: string;
    try {
      name = parseModelReference(reference).name;
    } catch (error) {
      throw new UsageError(`--model ${model}: ${(error as Error).message}`);
    }
    if (equals >= 0) name = model.slice(0, equals);
    if (served.some((entry) => entry.name === name)) {
      throw new UsageError(
        `--model ${model}: another --model is already served as "${name}"; ` +
          "serve it under another name with --model OTHER_NAME=REF",
      );
    }
    served.push({ name, reference });
  }
  let keys: ApiKey[] | undefined;
  if (values["api-key-hash"] !== undefined) {
    try {
      keys = parseApiKeyHashes(values["api-key-hash"].join(","), "--api-key-hash");
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
  }
  return {
    registry: values.registry
      ? resolve(io.cwd, values.registry)
      : defaultRegistryPath(io.env as NodeJS.ProcessEnv, io.cwd),
    models: served,
    port: integerOption("port", values.port, 0, 65535) ?? 8080,
    host: values.host ?? "127.0.0.1",
    keys,
    log: values.log ?? false,
    watchIntervalMs:
      integerOption("watch-interval", values["watch-interval"], 0, 86_400_000) ?? 2000,
    maxBodyBytes:
      values["max-body"] === undefined
        ? DEFAULT_LIMITS.maxBodyBytes
        : parseSize(values["max-body"]),
  };
}

const OPTIONS = {
  registry: { type: "string" },
  model: { type: "string", multiple: true },
  port: { type: "string" },
  host: { type: "string" },
  "api-key-hash": { type: "string", multiple: true },
  log: { type: "boolean" },
  "watch-interval": { type: "string" },
  "max-body": { type: "string" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean" },
} as const;

function describeEvent(
  event: ServeEvent,
): { stream: "stdout" | "stderr"; text: string } | undefined {
  if (event.type === "model_loaded" && event.previousVersion !== undefined) {
    return {
      stream: "stdout",
      text: `reloaded ${event.name}: version ${event.previousVersion} → ${event.version}\n`,
    };
  }
  if (event.type === "model_load_failed") {
    const which = event.version === undefined ? "" : ` version ${event.version}`;
    const still = event.serving === undefined ? "" : ` (still serving version ${event.serving})`;
    return {
      stream: "stderr",
      text: `mlops-serve: could not load ${event.name}${which}: ${event.error.message}${still}\n`,
    };
  }
  return undefined;
}

/** The process's SIGTERM/SIGINT as a promise (removed again once it fired). */
function processSignals(): Promise<NodeJS.Signals> {
  return new Promise((resolveSignal) => {
    const on = (signal: NodeJS.Signals) => {
      process.off("SIGTERM", on);
      process.off("SIGINT", on);
      resolveSignal(signal);
    };
    process.on("SIGTERM", on);
    process.on("SIGINT", on);
  });
}

/** One table row per served model: name, version, aliases, kind and runtime. */
function modelTable(app: InferenceApp): string {
  const rows = app.models.list().map((holder) => {
    const served = holder.require();
    return [
      holder.name,
      `version ${served.version}`,
      served.aliases.length > 0 ? served.aliases.map((alias) => `@${alias}`).join(" ") : "-",
      `${served.kind} (${served.runtime})`,
      holder.reference ?? "",
    ];
  });
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  return rows
    .map((row) => `  ${row.map((cell, c) => cell.padEnd(widths[c])).join("  ")}`.trimEnd())
    .join("\n");
}

/**
 * The `mlops-serve` command: opens the registry (never creating one), loads the models,
 * listens, prints the URL and the versions served, and resolves with the exit code once the
 * server has shut down (SIGTERM/SIGINT: stop accepting, drain, exit 0).
 *
 * @example
 * const code = await main(["--registry", ".mlops", "--model", "wine@production"], {
 *   stdout: process.stdout,
 *   stderr: process.stderr,
 *   env: process.env,
 *   cwd: process.cwd(),
 * });
 */
export async function main(argv: string[], io: ServeCliIo): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv, io);
  } catch (error) {
    io.stderr.write(
      `mlops-serve: ${(error as Error).message}\nRun mlops-serve --help for usage.\n`,
    );
    return SERVE_EXIT_CODES.usage;
  }
  if (parsed === "help") {
    io.stdout.write(USAGE);
    return SERVE_EXIT_CODES.success;
  }
  if (parsed === "version") {
    io.stdout.write(`${SDK_VERSION}\n`);
    return SERVE_EXIT_CODES.success;
  }
  const fail = (error: unknown, fallback: number): number => {
    const code = MlopsError.isInstance(error) ? error.code : undefined;
    io.stderr.write(`mlops-serve: ${(error as Error)?.message ?? String(error)}\n`);
    if (code !== undefined && REGISTRY_FAILURES.has(code)) return SERVE_EXIT_CODES.registry;
    return fallback;
  };

  let registry: Registry;
  try {
    registry = await openExistingRegistry(parsed.registry, {
      hint: "(set --registry or MLOPS_REGISTRY to an existing registry)",
    });
  } catch (error) {
    return fail(error, SERVE_EXIT_CODES.usage);
  }
  // Every reference must name something before anything is served.
  for (const model of parsed.models) {
    try {
      await registry.resolve(parseModelReference(model.reference));
    } catch (error) {
      const reason = (error as Error)?.message ?? String(error);
      return fail(
        MlopsError.isInstance(error) && REGISTRY_FAILURES.has(error.code)
          ? error
          : new Error(`--model ${model.reference}: ${reason}`),
        SERVE_EXIT_CODES.usage,
      );
    }
  }

  let app: InferenceApp;
  try {
    app = createInferenceApp({
      registry,
      models: parsed.models.map(({ name, reference }) => ({ name, reference })),
      auth: parsed.keys === undefined ? undefined : { keys: parsed.keys },
      logger: parsed.log,
      watch: parsed.watchIntervalMs === 0 ? false : { intervalMs: parsed.watchIntervalMs },
      limits: { maxBodyBytes: parsed.maxBodyBytes },
      onEvent: (event) => {
        const line = describeEvent(event);
        if (line !== undefined) io[line.stream].write(line.text);
      },
    });
  } catch (error) {
    return fail(error, SERVE_EXIT_CODES.usage);
  }
  try {
    await app.ready;
  } catch (error) {
    await app.close({ timeoutMs: 0 });
    return fail(error, SERVE_EXIT_CODES.failed);
  }

  let server: RunningServer;
  try {
    server = await serve(app, { port: parsed.port, host: parsed.host });
  } catch (error) {
    await app.close({ timeoutMs: 0 });
    const errno = (error as NodeJS.ErrnoException).code;
    const reason =
      errno === "EADDRINUSE"
        ? `port ${parsed.port} on ${parsed.host} is already in use`
        : (error as Error).message;
    return fail(new Error(`cannot listen: ${reason}`), SERVE_EXIT_CODES.failed);
  }
  io.stdout.write(`mlops-serve listening on ${server.url}\n${modelTable(app)}\n`);
  io.onListening?.(server, app);

  const shutdown = io.shutdown ?? processSignals();
  await shutdown;
  io.stdout.write("mlops-serve: shutting down (draining requests in flight)\n");
  await server.close();
  await app.close();
  return SERVE_EXIT_CODES.success;
}
