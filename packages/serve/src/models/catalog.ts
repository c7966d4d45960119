import {
  type AliasWatchEvent,
  decodeArtifact,
  formatModelUri,
  MlopsError,
  type ModelArtifact,
  type ModelUri,
  type ModelVersion,
  openRegistry,
  parseModelUri,
  type Registry,
  Schema,
  type StopWatching,
  type TrainingProfile,
} from "@mlops/core";
import { type ModelInfo, NO_METRICS, type ServeMetrics } from "../metrics/metrics.js";
import type { Monitoring } from "../monitor/monitoring.js";
import type { VersionMonitor } from "../monitor/version.js";
import { isModelDefinition, type ModelDefinition } from "../runtime/define.js";
import type { LoadedModel, RuntimeTable } from "../runtime/runtime.js";
import { ArtifactCache } from "./artifact-cache.js";
import { requestContract, servedArtifact, type UnknownFields } from "./contract.js";
import { ModelHolder } from "./holder.js";
import { type ModelOrigin, type ServedModel, servedModel, withAliases } from "./served.js";
import {
  isSplitSource,
  parseSplitSpec,
  planSplit,
  type SplitModelSource,
  type Variant,
  VariantRouter,
} from "./variants.js";

/** A model already in memory: an artifact, run by the runtime for its kind. */
export interface ArtifactModelSource {
  name: string;
  version?: string | number;
  artifact: ModelArtifact;
  aliases?: readonly string[];
}

/** A registry reference served under another name (two aliases of one model, say). */
export interface ReferenceModelSource {
  name: string;
  reference: string;
}

/**
 * What `models` lists: a registry reference (`"wine@production"`, `"housing/3"`, `"wine"` for
 * the latest version; a `models:/` prefix is optional), the same under another name
 * (`"red=wine@production"` or `{ name, reference }`), an artifact in memory, a `defineModel`
 * model, or one name split between weighted variants with optional shadows
 * (`"house=house@production:90,house@candidate:10"` or a `SplitModelSource`).
 */
export type ModelSource =
  | string
  | ReferenceModelSource
  | ArtifactModelSource
  | ModelDefinition
  | SplitModelSource;

/** Where a planned model sits: its own name, or one variant (or shadow) of a split name. */
interface Slot {
  /** The key of its holder: the name, or name + NUL + variant. */
  key: string;
  variant?: string;
  shadow?: boolean;
}

/** A source with its served name worked out (before anything is loaded). */
type Planned = Slot &
  (
    | { type: "registry"; name: string; reference: string; uri: ModelUri }
    | { type: "artifact"; name: string; source: ArtifactModelSource }
    | { type: "definition"; name: string; source: ModelDefinition }
  );

/** The holder key of a name's variant (the name itself for a plain model). */
function slotKey(name: string, variant: string | undefined): string {
  return variant === undefined ? name : `${name}\u0000${variant}`;
}

function registryPlan(name: string, reference: string, slot?: Omit<Slot, "key">): Planned {
  return {
    type: "registry",
    name,
    reference,
    uri: parseModelReference(reference),
    ...slot,
    key: slotKey(name, slot?.variant),
  };
}

/**
 * Parses a model reference without the `models:/` prefix (`wine@production`, `wine/3`,
 * `wine`); throws `uri_invalid` naming the forms accepted.
 *
 * @example
 * parseModelReference("wine@production"); // { name: "wine", kind: "alias", alias: "production" }
 * parseModelReference("wine"); // { name: "wine", kind: "latest" }
 */
export function parseModelReference(reference: string): ModelUri {
  if (typeof reference !== "string" || reference === "") {
    throw new MlopsError(
      "uri_invalid",
      `model reference ${JSON.stringify(reference)}: expected name@alias, name/version or name`,
    );
  }
  const text = reference.startsWith("models:/") ? reference.slice("models:/".length) : reference;
  const bare = !text.includes("@") && !text.includes("/");
  return parseModelUri(`models:/${text}${bare ? "/latest" : ""}`);
}

/** A source's plans: one, or one per variant and shadow of a split name (with its router). */
function plan(source: ModelSource): { plans: Planned[]; split?: SplitModelSource } {
  if (typeof source === "string") {
    const split = parseSplitSpec(source);
    if (split !== undefined) return plan(split);
    const equals = source.indexOf("=");
    if (equals > 0) {
      return { plans: [registryPlan(source.slice(0, equals), source.slice(equals + 1))] };
    }
    return { plans: [registryPlan(parseModelReference(source).name, source)] };
  }
  if (isModelDefinition(source)) {
    return { plans: [{ type: "definition", name: source.name, source, key: source.name }] };
  }
  if (isSplitSource(source)) {
    const split = planSplit(source);
    return {
      plans: [
        ...split.variants.map((item) =>
          registryPlan(split.name, item.reference, { variant: item.variant }),
        ),
        ...split.shadow.map((item) =>
          registryPlan(split.name, item.reference, { variant: item.variant, shadow: true }),
        ),
      ],
      split: source,
    };
  }
  if (typeof source === "object" && source !== null) {
    if ("reference" in source && typeof source.reference === "string") {
      return { plans: [registryPlan(String(source.name), source.reference)] };
    }
    if ("artifact" in source && typeof source.name === "string") {
      return { plans: [{ type: "artifact", name: source.name, source, key: source.name }] };
    }
  }
  throw new MlopsError(
    "argument_invalid",
    'models: each entry must be a reference string ("wine@production"), ' +
      '{ name, reference }, { name, artifact }, { name, variants } ("house=house@production:90,' +
      'house@candidate:10") or a defineModel(...) model',
  );
}

/**
 * What happens to the served models, for `createInferenceApp({ onEvent })`: a version put in
 * place (the first load, or a hot reload that swapped it in), a load that failed (the version
 * in place, if any, keeps serving), and a swapped-out version released once its requests
 * finished.
 *
 * @example
 * createInferenceApp({
 *   registry,
 *   models: ["wine@production"],
 *   onEvent: (event) => {
 *     if (event.type === "model_load_failed") alert(`${event.name}: ${event.error.message}`);
 *   },
 * });
 */
export type ServeEvent =
  | {
      readonly type: "model_loaded";
      readonly name: string;
      /** The variant of a split (A/B) name; undefined for a plain model. */
      readonly variant?: string;
      readonly version: string;
      /** The version it replaced (hot reload); undefined for the first load. */
      readonly previousVersion: string | undefined;
      readonly aliases: readonly string[];
      /** The registry reference it follows, if any. */
      readonly reference: string | undefined;
      readonly seconds: number;
    }
  | {
      readonly type: "model_load_failed";
      readonly name: string;
      readonly variant?: string;
      readonly reference: string | undefined;
      /** The version that failed to load, when the reference resolved. */
      readonly version: string | undefined;
      /** The version still serving, if any. */
      readonly serving: string | undefined;
      readonly error: Error;
    }
  | {
      readonly type: "model_released";
      readonly name: string;
      readonly variant?: string;
      readonly version: string;
    };

/**
 * Receives `ServeEvent`s; must not throw (what it throws is ignored).
 *
 * @example
 * const onEvent: ServeEventListener = (event) => metrics.increment(event.type);
 */
export type ServeEventListener = (event: ServeEvent) => void;

export interface CatalogOptions {
  registry: Registry | string | undefined;
  runtimes: RuntimeTable;
  metrics: ServeMetrics | undefined;
  /**
   * The app's monitoring: each version served (each variant and shadow of a split name) gets
   * its monitor, keyed by (name, version, variant), with its training profile.
   */
  monitoring?: Monitoring;
  onEvent?: ServeEventListener;
  /** What requests may carry besides the model's features (default `"ignore"`). */
  unknownFields?: UnknownFields;
  /**
   * How long a swapped-out version may keep answering requests before it is released anyway
   * (default 10 s, the default request timeout).
   */
  drainTimeoutMs?: number;
}

/** A model reference that moves: an alias, or the latest version. */
function follows(planned: Planned): planned is Extract<Planned, { type: "registry" }> {
  return planned.type === "registry" && planned.uri.kind !== "version";
}

/** Backoff after a failed load: the version (or resolution) that failed, retried after `until`. */
interface Failure {
  version: string | undefined;
  delayMs: number;
  until: number;
}

const MAX_RETRY_DELAY_MS = 60_000;

/**
 * Decoded artifacts kept by digest beyond the newest one (versions swapped out, versions fetched
 * ahead of an alias move): moving an alias back is a swap, not a read.
 */
const ARTIFACT_CACHE_BYTES = 256 * 1024 * 1024;

/** What a reload needs to know of the version it puts in place. */
type Resolved = Pick<ModelVersion, "name" | "version" | "digest" | "aliases">;

/** The aliases of `version` in a model's alias table, sorted (as the registry lists them). */
function aliasesOf(table: Record<string, number>, version: number): string[] {
  return Object.keys(table)
    .filter((alias) => table[alias] === version)
    .sort();
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}

/**
 * The served models, by name: one `ModelHolder` each, created at once (so routing knows every
 * name while versions still load) and filled in the background. `reload` resolves a registry
 * reference again and swaps when the version changed; `watch` does that on a timer for every
 * model that follows an alias (hot reload).
 *
 * @example
 * const catalog = new ModelCatalog(["wine@production"], { registry, runtimes, metrics });
 * await catalog.ready;
 * catalog.get("wine")?.current?.version; // "3"
 */
export class ModelCatalog {
  readonly ready: Promise<void>;
  /** Every holder by its key: plain names, and each variant and shadow of split names. */
  readonly #holders = new Map<string, ModelHolder>();
  readonly #plans = new Map<string, Planned>();
  /** The holder a name's requests start from (a split name's carries its router). */
  readonly #byName = new Map<string, ModelHolder>();
  readonly #options: CatalogOptions;
  /** The load or reload running per name (one at a time). */
  readonly #busy = new Map<string, Promise<unknown>>();
  readonly #failures = new Map<string, Failure>();
  /** Swapped-out versions waiting for their requests to finish. */
  readonly #retiring = new Set<ServedModel>();
  readonly #artifacts = new ArtifactCache(ARTIFACT_CACHE_BYTES);
  #registry: Promise<Registry> | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  /** Stops the registry's push of alias moves (LISTEN/NOTIFY), while subscribed. */
  #stopPush: Promise<StopWatching | undefined> | undefined;
  /** The registry pushes alias moves to this catalog. */
  #pushing = false;
  #intervalMs = 0;
  #closed = false;

  constructor(sources: readonly ModelSource[], options: CatalogOptions) {
    this.#options = options;
    if (!Array.isArray(sources) || sources.length === 0) {
      throw new MlopsError("argument_invalid", "models: list at least one model to serve");
    }
    for (const source of sources) {
      const { plans, split } = plan(source);
      const name = plans[0].name;
      if (this.#byName.has(name)) {
        throw new MlopsError(
          "argument_invalid",
          `models: two entries are served as "${name}"; ` +
            'give one another name with { name: "…", reference: "…" }',
        );
      }
      const holders: ModelHolder[] = [];
      for (const planned of plans) {
        if (planned.type === "registry" && options.registry === undefined) {
          throw new MlopsError(
            "argument_invalid",
            `models: "${planned.reference}" is a registry reference but no registry was given`,
          );
        }
        const holder = new ModelHolder(
          planned.name,
          planned.type === "registry" ? planned.reference : undefined,
          planned.variant,
          planned.shadow ?? false,
        );
        this.#plans.set(planned.key, planned);
        this.#holders.set(planned.key, holder);
        holders.push(holder);
      }
      this.#byName.set(name, holders[0]);
      if (split !== undefined) {
        const plannedSplit = planSplit(split);
        const variant = (
          item: { reference: string; variant: string; weight?: number },
          holder: ModelHolder,
        ): Variant => ({
          variant: item.variant,
          reference: item.reference,
          weight: item.weight ?? 0,
          holder,
        });
        const count = plannedSplit.variants.length;
        holders[0].router = new VariantRouter(
          name,
          plannedSplit.variants.map((item, i) => variant(item, holders[i])),
          plannedSplit.shadow.map((item, i) => variant(item, holders[count + i])),
          plannedSplit.stickyKey,
        );
      }
    }
    const loads = [...this.#plans.values()].map((planned) => this.#loadInto(planned));
    this.ready = Promise.all(loads).then(() => undefined);
    // Awaiting `ready` still rejects; an app nobody awaits must not crash on a failed load.
    this.ready.catch(() => {});
  }

  /**
   * The holder serving `name`; for a split (A/B) name, its first variant's, which carries the
   * `router` of all its variants. `get(name, variant)` is one variant's (or shadow's).
   */
  get(name: string, variant?: string): ModelHolder | undefined {
    return variant === undefined
      ? this.#byName.get(name)
      : this.#holders.get(slotKey(name, variant));
  }

  /** The router of a split (A/B) name's variants; undefined for a plain model. */
  router(name: string): VariantRouter | undefined {
    return this.#byName.get(name)?.router;
  }

  /** The served names, in the order they were listed. */
  names(): string[] {
    return [...this.#byName.keys()];
  }

  /**
   * Every holder, in the order the models were listed: a split name's variants and shadows
   * each have their own.
   */
  list(): ModelHolder[] {
    return [...this.#holders.values()];
  }

  /** True when every model has a version in place. */
  get allReady(): boolean {
    for (const holder of this.#holders.values()) if (holder.current === undefined) return false;
    return true;
  }

  /** The served names that follow a moving reference (an alias or the latest version). */
  get followed(): string[] {
    return [...new Set(this.#followedKeys().map((key) => this.#plans.get(key)!.name))];
  }

  /** The holder keys of the models that follow a moving reference. */
  #followedKeys(): string[] {
    return [...this.#plans.values()].filter(follows).map((planned) => planned.key);
  }

  /** What the `mlops_model_info` and `mlops_model_ready` gauges show. */
  info(): ModelInfo[] {
    return this.list().map((holder) => {
      const current = holder.current;
      return {
        name: holder.name,
        variant: holder.variant,
        version: current?.version ?? "",
        aliases: current?.aliases ?? [],
        kind: current?.kind ?? "",
        runtime: current?.runtime ?? "",
        ready: current !== undefined,
      };
    });
  }

  /**
   * Resolves a registry model's reference again and, when it names another version (an alias
   * moved), loads that version in the background and swaps it in: requests already running
   * finish on the old version, which is released (`close`) once they are done. Returns the
   * model now served and the one it replaced. A failed load keeps the old version serving,
   * is reported (`model_load_failed` event, `mlops_model_loads_total{result="failed"}`) and
   * rejects. A model that is not from a registry is returned as it is.
   */
  async reload(
    name: string,
    variant?: string,
  ): Promise<{ current: ServedModel; previous: ServedModel | undefined }> {
    const key = slotKey(name, variant ?? this.#byName.get(name)?.variant);
    const holder = this.#holders.get(key);
    const planned = this.#plans.get(key);
    if (holder === undefined || planned === undefined) {
      throw new MlopsError(
        "argument_invalid",
        `reload: no model is served as "${name}"` +
          (variant === undefined ? "" : ` with a variant "${variant}"`),
      );
    }
    if (planned.type !== "registry") {
      await this.#busy.get(key)?.catch(() => {});
      const current = holder.require();
      return { current, previous: undefined };
    }
    // One load per model at a time: wait for the one running, then look again.
    while (this.#busy.has(key)) await this.#busy.get(key)!.catch(() => {});
    return this.#exclusive(key, () => this.#reloadRegistry(holder, planned, true));
  }

  /**
   * Polls the registry every `intervalMs` for the models that follow an alias (or the latest
   * version) and reloads those whose reference moved. A version that failed to load is tried
   * again after a growing delay (up to a minute) unless the reference moves on. Calling it
   * again changes the interval; `unwatch` stops it. The timer does not keep the process alive.
   */
  watch(intervalMs: number): void {
    if (!Number.isFinite(intervalMs) || intervalMs <= 0) {
      throw new RangeError(`watch: expected a positive interval in ms, got ${intervalMs}`);
    }
    this.unwatch();
    if (this.#closed || this.followed.length === 0) return;
    this.#intervalMs = intervalMs;
    const poll = () => {
      this.#timer = setInterval(() => this.#tick(), intervalMs);
      this.#timer.unref?.();
    };
    // A registry that pushes alias moves (PostgreSQL's LISTEN/NOTIFY) is not polled for them;
    // a folder registry is. Models that follow the latest version are polled either way.
    const subscribing = this.#subscribe();
    this.#stopPush = subscribing;
    subscribing.then(
      (stop) => {
        // Still polled with pushed moves: models that follow "latest" and failed loads to retry.
        if (!this.#closed && this.#stopPush === subscribing) poll();
        // Moves made before the subscription was in place.
        if (stop !== undefined) this.#tick(true);
      },
      () => {
        if (!this.#closed && this.#stopPush === subscribing) poll();
      },
    );
  }

  /** Subscribes to the registry's alias moves when it can push them; undefined when it cannot. */
  async #subscribe(): Promise<StopWatching | undefined> {
    const registry = await this.#openRegistry();
    const store = registry.store;
    if (typeof store.watchAliases !== "function") return undefined;
    const stop = await store.watchAliases((event) => this.#pushed(event));
    if (this.#stopPush === undefined || this.#closed) {
      await stop();
      return undefined;
    }
    this.#pushing = true;
    return async () => {
      this.#pushing = false;
      await stop();
    };
  }

  #followsLatest(key: string): boolean {
    const planned = this.#plans.get(key);
    return planned?.type === "registry" && planned.uri.kind === "latest";
  }

  /**
   * An alias moved, a version was registered, or events may have been missed: reload what
   * follows it. A move that names the version's digest and the model's aliases (PostgreSQL's
   * payload) is applied as it is, without reading the registry back; the artifact comes from
   * the cache when this server loaded or prefetched it before.
   */
  #pushed(event: AliasWatchEvent): void {
    if (this.#closed) return;
    if (event.type === "resync") {
      this.#tick(true);
      return;
    }
    let prefetch = false;
    for (const key of this.#followedKeys()) {
      const planned = this.#plans.get(key) as Extract<Planned, { type: "registry" }>;
      // Labels change too when another alias of a served model moves: any move of the model.
      if (planned.uri.name !== event.name) continue;
      const holder = this.#holders.get(key)!;
      let known: Resolved | undefined;
      if (event.type === "version_created") {
        // A new version is what "latest" names; for an alias it may be next: fetch it ahead.
        if (planned.uri.kind !== "latest") {
          prefetch = true;
          continue;
        }
        known = { name: event.name, version: event.version, digest: event.digest, aliases: [] };
      } else if (
        planned.uri.kind === "alias" &&
        planned.uri.alias === event.alias &&
        event.version !== null &&
        event.digest !== undefined &&
        event.aliases !== undefined
      ) {
        known = {
          name: event.name,
          version: event.version,
          digest: event.digest,
          aliases: aliasesOf(event.aliases, event.version),
        };
      } else if (planned.uri.kind === "alias" && planned.uri.alias === event.alias) {
        known = undefined;
      } else if (event.aliases !== undefined) {
        // Another alias moved: the served version stays, its labels may change.
        const table = event.aliases;
        const relabel = async () => {
          const current = holder.current;
          if (current === undefined) return this.#reloadRegistry(holder, planned, false);
          const aliases = aliasesOf(table, Number(current.version));
          if (!sameList(current.aliases, aliases)) holder.swap(withAliases(current, aliases));
          return { current: holder.current!, previous: undefined };
        };
        this.#after(key, relabel);
        continue;
      }
      this.#after(key, () => this.#reloadRegistry(holder, planned, false, Date.now(), known));
    }
    if (prefetch && event.type === "version_created") {
      this.#openRegistry()
        .then((registry) => this.#artifactOf(registry, event))
        // A version that cannot be read now is read (and reported) if an alias moves to it.
        .catch(() => {});
    }
  }

  /** Runs `work` for `key` after the load running for it, if any (one at a time, in order). */
  #after(key: string, work: () => Promise<unknown>): void {
    // A reload already running may have read the alias before this event: run once more after.
    const busy = this.#busy.get(key);
    const next = busy ? busy.then(work, work) : work();
    this.#exclusive(key, () => next).catch(() => {});
  }

  /** Stops polling the registry and its pushed alias moves. */
  unwatch(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    const stopping = this.#stopPush;
    this.#stopPush = undefined;
    this.#pushing = false;
    stopping
      ?.then(
        (stop) => stop?.(),
        () => {},
      )
      .catch(() => {});
  }

  /** True while the registry is polled or pushes alias moves. */
  get watching(): boolean {
    return this.#timer !== undefined || this.#stopPush !== undefined;
  }

  /** True when the registry pushes alias moves (LISTEN/NOTIFY) instead of being polled. */
  get pushed(): boolean {
    return this.#pushing;
  }

  /**
   * Stops watching and releases every model's resources (`LoadedModel.close`), those swapped
   * out and still draining included.
   */
  async close(): Promise<void> {
    this.#closed = true;
    this.unwatch();
    const models = new Set<LoadedModel>();
    for (const holder of this.list()) if (holder.current) models.add(holder.current.model);
    for (const served of this.#retiring) models.add(served.model);
    this.#retiring.clear();
    this.#artifacts.clear();
    await Promise.allSettled([...models].map((model) => model.close?.()));
  }

  #emit(event: ServeEvent): void {
    const listener = this.#options.onEvent;
    if (listener === undefined) return;
    try {
      listener(event);
    } catch {
      // A listener must not break loading.
    }
  }

  #exclusive<T>(name: string, work: () => Promise<T>): Promise<T> {
    const running = work();
    this.#busy.set(name, running);
    const done = () => {
      if (this.#busy.get(name) === running) this.#busy.delete(name);
    };
    running.then(done, done);
    return running;
  }

  #tick(all = false): void {
    const now = Date.now();
    for (const key of this.#followedKeys()) {
      if (this.#busy.has(key)) continue;
      // With pushed alias moves, the timer only polls what follows "latest" and retries failures.
      if (!all && this.#pushing && !this.#followsLatest(key) && !this.#failures.has(key)) {
        continue;
      }
      const holder = this.#holders.get(key)!;
      const planned = this.#plans.get(key) as Extract<Planned, { type: "registry" }>;
      this.#exclusive(key, () => this.#reloadRegistry(holder, planned, false, now)).catch(() => {});
    }
  }

  /**
   * Resolves `planned` and puts the version it names in place when that is another version.
   * `force` (an explicit reload) ignores the retry delay after a failure and rejects on
   * failure; the watcher (`now` given) skips what is still waiting to be retried. `known` is
   * the version a pushed event named (no resolving).
   */
  async #reloadRegistry(
    holder: ModelHolder,
    planned: Extract<Planned, { type: "registry" }>,
    force: boolean,
    now = Date.now(),
    known?: Resolved,
  ): Promise<{ current: ServedModel; previous: ServedModel | undefined }> {
    const key = planned.key;
    const failure = this.#failures.get(key);
    let version: Resolved;
    let registry: Registry;
    try {
      registry = await this.#openRegistry();
      version = known ?? (await registry.resolve(planned.uri));
    } catch (error) {
      if (!force && failure !== undefined && failure.version === undefined && now < failure.until) {
        throw error;
      }
      throw this.#failed(holder, undefined, error);
    }
    const target = String(version.version);
    const current = holder.current;
    if (current !== undefined && current.version === target) {
      this.#failures.delete(key);
      if (!sameList(current.aliases, version.aliases)) {
        // Another alias moved to or from this version: same model, fresh labels.
        holder.swap(withAliases(current, version.aliases));
      }
      return { current: holder.current!, previous: undefined };
    }
    if (!force && failure !== undefined && failure.version === target && now < failure.until) {
      // The watcher waits before trying a version that failed again.
      return { current: current ?? holder.require(), previous: undefined };
    }
    const started = performance.now();
    let next: ServedModel;
    try {
      // Load the version resolved above (not the reference again: it may have moved since).
      next = await this.#loadRegistry(planned, registry, version);
    } catch (error) {
      throw this.#failed(holder, target, error);
    }
    if (this.#closed) {
      await next.model.close?.();
      throw new MlopsError(
        "argument_invalid",
        `reload: the app closed while "${holder.label}" loaded`,
      );
    }
    const previous = holder.swap(next);
    this.#loaded(next, previous, (performance.now() - started) / 1000);
    return { current: next, previous };
  }

  /** Records a load that failed: state, metric, event, retry delay. Returns the error. */
  #failed(holder: ModelHolder, version: string | undefined, cause: unknown): Error {
    const error = asError(cause);
    holder.fail(error);
    this.#options.metrics?.modelLoad(holder.name, "failed", holder.variant);
    const key = slotKey(holder.name, holder.variant);
    const previous = this.#failures.get(key);
    const base = Math.max(this.#intervalMs, 1000);
    const delayMs =
      previous !== undefined && previous.version === version
        ? Math.min(previous.delayMs * 2, MAX_RETRY_DELAY_MS)
        : base;
    this.#failures.set(key, { version, delayMs, until: Date.now() + delayMs });
    this.#emit({
      type: "model_load_failed",
      name: holder.name,
      ...(holder.variant === undefined ? {} : { variant: holder.variant }),
      reference: holder.reference,
      version,
      serving: holder.current?.version,
      error,
    });
    return error;
  }

  /** Records a version put in place, and retires the one it replaced. */
  #loaded(next: ServedModel, previous: ServedModel | undefined, seconds: number): void {
    const key = slotKey(next.name, next.variant);
    this.#failures.delete(key);
    this.#options.metrics?.modelLoad(next.name, "loaded", next.variant);
    this.#emit({
      type: "model_loaded",
      name: next.name,
      ...(next.variant === undefined ? {} : { variant: next.variant }),
      version: next.version,
      previousVersion: previous?.version,
      aliases: next.aliases,
      reference: this.#holders.get(key)?.reference,
      seconds,
    });
    if (previous !== undefined && previous.model !== next.model) void this.#retire(previous);
  }

  /** Releases a swapped-out version once no request uses it (or after the drain timeout). */
  async #retire(previous: ServedModel): Promise<void> {
    this.#retiring.add(previous);
    const deadline = Date.now() + (this.#options.drainTimeoutMs ?? 10_000);
    while (previous.usage.inFlight > 0 && Date.now() < deadline && this.#retiring.has(previous)) {
      await new Promise((resolve) => setTimeout(resolve, 10).unref?.());
    }
    // Already released by close().
    if (!this.#retiring.delete(previous)) return;
    try {
      await previous.model.close?.();
    } catch {
      // Nothing more to do for a model that fails to close.
    }
    // Its drift window goes with it (unless the version in place shares it: same version again).
    const monitor = previous.monitor;
    if (monitor !== undefined && !this.monitors().includes(monitor)) {
      this.#options.monitoring?.release(monitor);
    }
    this.#emit({
      type: "model_released",
      name: previous.name,
      ...(previous.variant === undefined ? {} : { variant: previous.variant }),
      version: previous.version,
    });
  }

  /**
   * Loads one source into its holder. Models in memory whose runtime loads synchronously are
   * in place before the constructor returns (an embedded app answers at once).
   */
  #loadInto(planned: Planned): Promise<void> {
    const holder = this.#holders.get(planned.key)!;
    const started = performance.now();
    const failed = (error: unknown) => {
      throw this.#failed(holder, undefined, error);
    };
    const done = (served: ServedModel) => {
      holder.swap(served);
      this.#loaded(served, undefined, (performance.now() - started) / 1000);
    };
    try {
      const loaded = this.#load(planned);
      if (!(loaded instanceof Promise)) {
        done(loaded);
        return Promise.resolve();
      }
      return this.#exclusive(planned.key, () => loaded.then(done, failed));
    } catch (error) {
      return Promise.reject(error).catch(failed);
    }
  }

  #openRegistry(): Promise<Registry> {
    const registry = this.#options.registry;
    this.#registry ??=
      typeof registry === "string" ? openRegistry(registry) : Promise.resolve(registry!);
    return this.#registry;
  }

  #load(planned: Planned): ServedModel | Promise<ServedModel> {
    if (planned.type === "registry") {
      return this.#openRegistry().then((registry) => this.#loadRegistry(planned, registry));
    }
    if (planned.type === "artifact") {
      const { source } = planned;
      return this.#fromArtifact(planned.name, String(source.version ?? "1"), source.artifact, {
        aliases: source.aliases,
        origin: { type: "artifact" },
      });
    }
    const { source } = planned;
    const model: LoadedModel = {
      schema: requestContract(source.schema, this.#options.unknownFields ?? "ignore"),
      predict: source.predict as LoadedModel["predict"],
      predictRow: source.predictRow,
      platform: source.platform,
      valueRange: source.valueRange,
    };
    return this.#serve(planned.name, source.version, model, {
      aliases: source.aliases,
      origin: { type: "definition" },
      kind: "custom",
      runtime: "custom",
      declared: source.schema,
    });
  }

  async #loadRegistry(
    planned: Extract<Planned, { type: "registry" }>,
    registry: Registry,
    resolved?: Resolved,
  ): Promise<ServedModel> {
    const version = resolved ?? (await registry.resolve(planned.uri));
    const artifact = await this.#artifactOf(registry, version);
    return this.#fromArtifact(planned.name, String(version.version), artifact, {
      aliases: version.aliases,
      origin: { type: "registry", reference: planned.reference, uri: formatModelUri(planned.uri) },
      digest: version.digest,
      variant: planned.variant,
      shadow: planned.shadow,
    });
  }

  /**
   * A version's artifact: kept by digest, else read from the registry's artifact store
   * (verified against the digest) and decoded (its own sha256 trailer checked).
   */
  #artifactOf(
    registry: Registry,
    version: Pick<ModelVersion, "name" | "version" | "digest">,
  ): Promise<ModelArtifact> {
    return this.#artifacts.load(version.digest, async () => {
      const source = `models:/${version.name}/${version.version}`;
      const bytes = await registry.store.artifacts.get(version.digest, { what: source });
      return { artifact: decodeArtifact(bytes, { source }), sizeBytes: bytes.byteLength };
    });
  }

  #fromArtifact(
    name: string,
    version: string,
    artifact: ModelArtifact,
    extra: {
      aliases?: readonly string[];
      origin: ModelOrigin;
      digest?: string;
      variant?: string;
      shadow?: boolean;
    },
  ): ServedModel | Promise<ServedModel> {
    const kind = artifact.manifest.kind;
    const runtime = this.#options.runtimes.get(kind);
    if (runtime === undefined) {
      throw new MlopsError(
        "predictor_unsupported",
        `model "${name}" is of kind "${kind}" and no runtime loads it ` +
          `(runtimes load: ${this.#options.runtimes.kinds().join(", ")}); ` +
          "pass one in createInferenceApp({ runtimes })",
      );
    }
    const declared = Schema.fromJSON(artifact.manifest.schema);
    const loaded = runtime.load(servedArtifact(artifact, this.#options.unknownFields ?? "ignore"));
    const profile = artifact.manifest.profile;
    const serve = (model: LoadedModel) =>
      this.#serve(name, version, model, {
        ...extra,
        kind,
        runtime: runtime.name,
        declared,
        profile,
      });
    return loaded instanceof Promise ? loaded.then(serve) : serve(loaded);
  }

  #serve(
    name: string,
    version: string,
    model: LoadedModel,
    extra: {
      aliases?: readonly string[];
      origin: ModelOrigin;
      digest?: string;
      kind: string;
      runtime: string;
      variant?: string;
      shadow?: boolean;
      profile?: TrainingProfile;
      /** The schema as the model declares it (the request contract may leave its target out). */
      declared: Schema;
    },
  ): ServedModel {
    const metrics = this.#options.metrics;
    const { profile, declared, ...rest } = extra;
    return servedModel({
      name,
      version,
      model,
      ...rest,
      target: declared.target,
      metrics:
        metrics === undefined
          ? NO_METRICS
          : metrics.model(name, version, valueRangeOf(declared, model), extra.variant),
      monitor: this.#options.monitoring?.monitor({
        name,
        version,
        variant: extra.variant ?? null,
        role:
          extra.shadow === true ? "shadow" : extra.variant !== undefined ? "variant" : "primary",
        profile,
      }),
    });
  }

  /** The monitors of the versions answering now (every variant and shadow). */
  monitors(): VersionMonitor[] {
    const out: VersionMonitor[] = [];
    for (const holder of this.#holders.values()) {
      const monitor = holder.current?.monitor;
      if (monitor !== undefined) out.push(monitor);
    }
    return out;
  }
}

/** The target's declared range, else the model's own (tree leaves). */
function valueRangeOf(declared: Schema, model: LoadedModel): readonly [number, number] | undefined {
  const target = declared.target;
  if (target !== undefined) {
    const { min, max } = declared.fields[target].definition;
    if (min !== undefined && max !== undefined && max > min) return [min, max];
  }
  return model.valueRange;
}
