import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { MlopsError, SDK_VERSION } from "@mlops/core";
import {
  CommandFailure,
  type CommandIo,
  defineCommand,
  ERROR_KINDS,
  type ExitCodes,
  type OptionSpecs,
  type OptionValues,
  type Program,
  runProgram,
  UsageError,
} from "@mlops/core/internal";
import { createInferenceApp, type InferenceApp } from "../app/app.js";
import { type ApiKey, parseApiKeyHashes } from "../auth/api-keys.js";
import { DEFAULT_LIMITS } from "../limits/limits.js";
import { type ModelSource, parseModelReference, type ServeEvent } from "../models/catalog.js";
import {
  parseSplitSpec,
  parseStickyKey,
  type SplitModelSource,
  type StickyKey,
} from "../models/variants.js";
import { parseAlertRule } from "../monitor/alerts.js";
import type { MonitoringOptions } from "../monitor/monitoring.js";
import { type RunningServer, serve } from "../node/serve.js";

/** Where `main` reads and writes: the process's streams in `bin.ts`, buffers in tests. */
export interface ServeCliIo extends CommandIo {
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

const EXIT_CODES: ExitCodes = {
  usage: SERVE_EXIT_CODES.usage,
  not_found: SERVE_EXIT_CODES.usage,
  conflict: SERVE_EXIT_CODES.usage,
  data: SERVE_EXIT_CODES.failed,
  registry: SERVE_EXIT_CODES.registry,
  read: SERVE_EXIT_CODES.registry,
  write: SERVE_EXIT_CODES.registry,
  internal: SERVE_EXIT_CODES.failed,
  help: [
    [0, "shut down cleanly (SIGTERM/SIGINT drain in-flight requests first)"],
    [1, "the server could not start: the port is taken, a model failed to load"],
    [2, "usage error, or no such registry, model, version or alias"],
    [3, "registry error: corrupt registry or artifact, I/O error"],
  ],
};

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

/** A `--model` option: the served name and the registry reference, or a split (A/B) name. */
type ServedReference = { name: string; reference: string } | SplitModelSource;

/** The registry references a served entry needs (one, or each variant and shadow). */
function referencesOf(entry: ServedReference): string[] {
  if (!("variants" in entry)) return [entry.reference];
  const text = (item: string | { reference: string }) =>
    typeof item === "string" ? item : item.reference;
  return [...entry.variants.map(text), ...(entry.shadow ?? []).map(text)];
}

/**
 * The options of `mlops-serve`. To add one: an entry here (parsing, `--help` and "did you mean"
 * follow), then read it in `settings` below.
 */
const SERVE_OPTIONS = {
  model: {
    type: "string",
    value: "REF",
    multiple: true,
    required: true,
    description:
      "a model to serve: NAME@ALIAS (follows the alias), NAME/VERSION (pinned) or NAME (the " +
      "latest version); SERVED=REF serves it under another name (two aliases of one model); " +
      "A,B serves both. With weights, one name is split between variants (A/B) and REF:shadow " +
      "gets a copy of the traffic, never returned: house=house@production:90,house@candidate:10," +
      "house@next:shadow",
  },
  "sticky-key": {
    type: "string",
    value: "header:NAME|field:NAME",
    description:
      "keep a client on one variant of a split model: the request header NAME, or the JSON " +
      "body's field NAME, is hashed to pick the variant (default: weighted round robin)",
  },
  port: {
    type: "string",
    value: "N",
    description: "port to listen on (default 8080; 0 picks a free one)",
  },
  host: {
    type: "string",
    value: "HOST",
    description: "interface to bind (default 127.0.0.1; 0.0.0.0 for all)",
  },
  "api-key-hash": {
    type: "string",
    value: "HEX:SCOPES",
    multiple: true,
    list: true,
    description:
      'accept the API key whose sha256 is HEX, with scopes predict and/or admin joined by "+" ' +
      "(default: the keys in $MLOPS_API_KEY_HASHES, else no auth)",
  },
  log: { type: "boolean", description: "one JSON line per request on stdout" },
  "watch-interval": {
    type: "string",
    value: "MS",
    description:
      "how often to check the registry for moved aliases (default 2000; 0 turns hot reload off)",
  },
  "max-body": {
    type: "string",
    value: "SIZE",
    description: "largest request body: bytes, or 512kb, 1mb, 8mb (default 1mb)",
  },
  "tls-cert": {
    type: "string",
    value: "PATH",
    description: "serve HTTPS with this PEM certificate (chain); needs --tls-key",
  },
  "tls-key": {
    type: "string",
    value: "PATH",
    description: "the PEM private key of --tls-cert",
  },
  monitor: {
    type: "boolean",
    description:
      "watch every served version: drift of its inputs and predictions against its training " +
      "profile (GET /v1/models/NAME/monitoring, drift gauges in /metrics) and POST /v1/feedback",
  },
  "monitor-window": {
    type: "string",
    value: "ROWS|DURATION",
    description:
      "the window drift and online error are measured over: a row count or 30s, 15m, 1h (default 10000 rows)",
  },
  "feedback-file": {
    type: "string",
    value: "PATH",
    description: "JSON Lines file keeping the predictions that wait for feedback across restarts",
  },
  alert: {
    type: "string",
    value: "RULE",
    multiple: true,
    description:
      'an alert rule, e.g. "dataset_drift_share >= 0.5 for 5m" (repeatable; needs --alert-webhook)',
  },
  "alert-webhook": {
    type: "string",
    value: "URL",
    description: "where firing and resolved alerts are POSTed (token: $MLOPS_ALERT_TOKEN)",
  },
  "alert-format": {
    type: "string",
    value: "json|github",
    description: "the webhook body: the alert as JSON (default) or GitHub's repository_dispatch",
  },
  "unknown-fields": {
    type: "string",
    value: "WHAT",
    description:
      "fields a request carries that the model does not read (an id, the target): ignore " +
      "(default, as MLflow does) or reject (422)",
  },
} as const satisfies OptionSpecs;

interface Settings {
  models: ServedReference[];
  port: number;
  host: string;
  keys: ApiKey[] | undefined;
  log: boolean;
  watchIntervalMs: number;
  maxBodyBytes: number;
  tls: { cert: string; key: string } | undefined;
  monitoring: MonitoringOptions | undefined;
  unknownFields: "ignore" | "reject";
}

/** The option values, checked: every mistake is a usage error before anything is opened. */
function settings(values: OptionValues<typeof SERVE_OPTIONS>): Settings {
  const served: ServedReference[] = [];
  let sticky: StickyKey | undefined;
  if (values["sticky-key"] !== undefined) {
    try {
      sticky = parseStickyKey(values["sticky-key"]);
    } catch (error) {
      throw new UsageError(`--sticky-key: ${(error as Error).message}`);
    }
  }
  const items: string[] = [];
  for (const value of values.model) {
    let split: SplitModelSource | undefined;
    try {
      split = parseSplitSpec(value);
    } catch (error) {
      throw new UsageError(`--model ${(error as Error).message}`);
    }
    if (split === undefined) {
      const parts = value.split(",").map((item) => item.trim());
      if (parts.some((item) => item === "")) {
        throw new UsageError(`--model ${value}: an empty entry in the list`);
      }
      items.push(...parts);
      continue;
    }
    for (const reference of referencesOf(split)) {
      try {
        parseModelReference(reference);
      } catch (error) {
        throw new UsageError(`--model ${value}: ${(error as Error).message}`);
      }
    }
    if (served.some((entry) => entry.name === split.name)) {
      throw new UsageError(
        `--model ${value}: another --model is already served as "${split.name}"`,
      );
    }
    served.push(sticky === undefined ? split : { ...split, stickyKey: sticky });
  }
  for (const model of items) {
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
  if (values["api-key-hash"].length > 0) {
    try {
      keys = parseApiKeyHashes(values["api-key-hash"].join(","), "--api-key-hash");
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
  }
  if (sticky !== undefined && !served.some((entry) => "variants" in entry)) {
    throw new UsageError(
      "--sticky-key: no --model is split between variants (NAME=REF:WEIGHT,REF:WEIGHT)",
    );
  }
  return {
    models: served,
    port: integerOption("port", values.port, 0, 65535) ?? 8080,
    host: values.host ?? "127.0.0.1",
    keys,
    log: values.log,
    watchIntervalMs:
      integerOption("watch-interval", values["watch-interval"], 0, 86_400_000) ?? 2000,
    maxBodyBytes:
      values["max-body"] === undefined
        ? DEFAULT_LIMITS.maxBodyBytes
        : parseSize(values["max-body"]),
    unknownFields: unknownFieldsOption(values["unknown-fields"]),
    tls: tlsFiles(values["tls-cert"], values["tls-key"]),
    monitoring: monitoringSettings(values),
  };
}

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;
const DURATION_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/** `--monitor` and its options (any of them turns monitoring on). */
function monitoringSettings(
  values: OptionValues<typeof SERVE_OPTIONS>,
): MonitoringOptions | undefined {
  const window = values["monitor-window"];
  const file = values["feedback-file"];
  const rules = values.alert;
  const webhook = values["alert-webhook"];
  const format = values["alert-format"];
  if (!values.monitor && window === undefined && file === undefined && rules.length === 0) {
    if (webhook !== undefined || format !== undefined) {
      throw new UsageError("--alert-webhook and --alert-format need at least one --alert RULE");
    }
    return undefined;
  }
  const options: MonitoringOptions = {};
  if (window !== undefined) {
    const duration = DURATION.exec(window);
    if (duration !== null) {
      options.window = {
        milliseconds: Number(duration[1]) * DURATION_MS[duration[2] as keyof typeof DURATION_MS],
      };
    } else if (/^\d+$/.test(window) && Number(window) >= 1) {
      options.window = { rows: Number(window) };
    } else {
      throw new UsageError(
        `--monitor-window ${window}: expected a row count (10000) or a duration (30s, 15m, 1h)`,
      );
    }
  }
  if (file !== undefined) options.feedback = { file };
  if (rules.length > 0 || webhook !== undefined) {
    if (rules.length === 0) throw new UsageError("--alert-webhook needs at least one --alert RULE");
    if (webhook === undefined) {
      throw new UsageError("--alert needs --alert-webhook URL (where the alerts are POSTed)");
    }
    if (format !== undefined && format !== "json" && format !== "github") {
      throw new UsageError(`--alert-format ${format}: expected json or github`);
    }
    try {
      for (const rule of rules) parseAlertRule(rule);
    } catch (error) {
      throw new UsageError(`--alert: ${(error as Error).message}`);
    }
    options.alerts = {
      rules,
      webhook: { url: webhook, format: format as "json" | "github" | undefined },
    };
  }
  return options;
}

/** The alert webhook's token, from the environment (never an argument: it would show in `ps`). */
function withAlertToken(
  options: MonitoringOptions | undefined,
  token: string | undefined,
): MonitoringOptions | undefined {
  if (options?.alerts === undefined || token === undefined || token === "") return options;
  return {
    ...options,
    alerts: { ...options.alerts, webhook: { ...options.alerts.webhook, token } },
  };
}

function unknownFieldsOption(text: string | undefined): "ignore" | "reject" {
  if (text === undefined || text === "ignore" || text === "reject") return text ?? "ignore";
  throw new UsageError(`--unknown-fields: expected ignore or reject, got ${JSON.stringify(text)}`);
}

/** `--tls-cert` and `--tls-key`, both or neither. */
function tlsFiles(
  cert: string | undefined,
  key: string | undefined,
): { cert: string; key: string } | undefined {
  if (cert === undefined && key === undefined) return undefined;
  if (cert === undefined || key === undefined) {
    throw new UsageError(
      `--${cert === undefined ? "tls-key" : "tls-cert"} needs ` +
        `--${cert === undefined ? "tls-cert" : "tls-key"} too (HTTPS takes a certificate and its key)`,
    );
  }
  return { cert, key };
}

/** Reads a PEM file named by an option; a missing or unreadable one is a clear error. */
async function readPem(option: string, path: string, cwd: string): Promise<string> {
  const file = resolve(cwd, path);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new MlopsError(
      "file_read",
      `--${option} ${path}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? error})`,
    );
  }
  if (!text.includes("-----BEGIN ")) {
    throw new UsageError(`--${option} ${path}: ${file} is not a PEM file (no "-----BEGIN" line)`);
  }
  return text;
}

function describeEvent(
  event: ServeEvent,
): { stream: "stdout" | "stderr"; text: string } | undefined {
  const label =
    event.type !== "model_released" && event.variant !== undefined
      ? `${event.name} [${event.variant}]`
      : event.name;
  if (event.type === "model_loaded" && event.previousVersion !== undefined) {
    return {
      stream: "stdout",
      text: `reloaded ${label}: version ${event.previousVersion} → ${event.version}\n`,
    };
  }
  if (event.type === "model_load_failed") {
    const which = event.version === undefined ? "" : ` version ${event.version}`;
    const still = event.serving === undefined ? "" : ` (still serving version ${event.serving})`;
    return {
      stream: "stderr",
      text: `mlops-serve: could not load ${label}${which}: ${event.error.message}${still}\n`,
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
    const share = app.models
      .router(holder.name)
      ?.variants.find((variant) => variant.holder === holder);
    const role =
      holder.variant === undefined
        ? ""
        : holder.shadow
          ? " (shadow)"
          : ` (weight ${share?.weight ?? 0})`;
    return [
      `${holder.label}${role}`,
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

/** With the registry's own message: which `--model` named something that is not there. */
function aboutModel(reference: string, error: unknown): unknown {
  if (!MlopsError.isInstance(error) || ERROR_KINDS[error.code] === "registry") return error;
  return new MlopsError(error.code, `--model ${reference}: ${error.message}`, { cause: error });
}

const serveCommand = defineCommand({
  name: "",
  summary: "serve models from an @mlops registry over HTTP",
  usage: ["mlops-serve --model REF [--model REF ...] [OPTIONS]"],
  description:
    "Serves models from an @mlops registry over HTTP: named-field REST " +
    "(/v1/models/NAME/predict), the Open Inference Protocol v2 (/v2/...), MLflow scoring " +
    "(/invocations) and /metrics.",
  options: SERVE_OPTIONS,
  examples: [
    "mlops-serve --model wine@production",
    "mlops-serve --model wine=wine@production,wine-staging=wine@staging --port 0 --log",
    "mlops-serve --model house=house@production:90,house@candidate:10 --sticky-key header:x-user-id",
  ],
  async run({ options, io, openRegistry }) {
    const parsed = settings(options);
    // Unreadable certificates are found before anything is opened.
    const tls =
      parsed.tls === undefined
        ? undefined
        : {
            cert: await readPem("tls-cert", parsed.tls.cert, io.cwd),
            key: await readPem("tls-key", parsed.tls.key, io.cwd),
          };
    const serveIo = io as ServeCliIo;
    // Never created: serving from an empty registry is a typo in --registry. Closed by the
    // command runner when the server has shut down.
    const registry = await openRegistry();
    // Every reference must name something before anything is served.
    for (const model of parsed.models) {
      for (const reference of referencesOf(model)) {
        try {
          await registry.resolve(parseModelReference(reference));
        } catch (error) {
          throw aboutModel(reference, error);
        }
      }
    }

    let app: InferenceApp;
    try {
      app = createInferenceApp({
        registry,
        models: parsed.models as ModelSource[],
        auth: parsed.keys === undefined ? undefined : { keys: parsed.keys },
        logger: parsed.log,
        watch: parsed.watchIntervalMs === 0 ? false : { intervalMs: parsed.watchIntervalMs },
        limits: { maxBodyBytes: parsed.maxBodyBytes },
        monitoring: withAlertToken(parsed.monitoring, io.env.MLOPS_ALERT_TOKEN),
        unknownFields: parsed.unknownFields,
        onEvent: (event) => {
          const line = describeEvent(event);
          if (line !== undefined) io[line.stream].write(line.text);
        },
      });
    } catch (error) {
      // The settings were checked above; what the app still refuses is a usage error too.
      throw MlopsError.isInstance(error)
        ? error
        : new CommandFailure((error as Error)?.message ?? String(error), SERVE_EXIT_CODES.usage);
    }
    try {
      await app.ready;
    } catch (error) {
      await app.close({ timeoutMs: 0 });
      throw MlopsError.isInstance(error)
        ? error
        : new CommandFailure((error as Error)?.message ?? String(error), SERVE_EXIT_CODES.failed);
    }

    let server: RunningServer;
    try {
      server = await serve(app, {
        port: parsed.port,
        host: parsed.host,
        tls,
      });
    } catch (error) {
      await app.close({ timeoutMs: 0 });
      const errno = (error as NodeJS.ErrnoException).code;
      const reason =
        errno === "EADDRINUSE"
          ? `port ${parsed.port} on ${parsed.host} is already in use`
          : (error as Error).message;
      throw new CommandFailure(`cannot listen: ${reason}`, SERVE_EXIT_CODES.failed);
    }
    io.stdout.write(`mlops-serve listening on ${server.url}\n${modelTable(app)}\n`);
    serveIo.onListening?.(server, app);

    const shutdown = serveIo.shutdown ?? processSignals();
    await shutdown;
    io.stdout.write("mlops-serve: shutting down (draining requests in flight)\n");
    await server.close();
    await app.close();
    return SERVE_EXIT_CODES.success;
  },
});

const PROGRAM: Program = {
  name: "mlops-serve",
  summary: "serve models from an @mlops registry over HTTP",
  version: SDK_VERSION,
  commands: [serveCommand],
  exitCodes: EXIT_CODES,
  registry: true,
  environment: [
    ["MLOPS_API_KEY_HASHES", "API key hashes (HEX:SCOPES, comma-separated) when no --api-key-hash"],
    [
      "MLOPS_ALERT_TOKEN",
      "sent as a bearer token with --alert-webhook (a GitHub token for github)",
    ],
  ],
};

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
export function main(argv: readonly string[], io: ServeCliIo): Promise<number> {
  return runProgram(PROGRAM, argv, io);
}
