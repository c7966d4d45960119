import {
  formatModelUri,
  MlopsError,
  type ModelArtifact,
  type ModelUri,
  openRegistry,
  parseModelUri,
  type Registry,
} from "@mlops/core";
import { type ModelInfo, NO_METRICS, type ServeMetrics } from "../metrics/metrics.js";
import { isModelDefinition, type ModelDefinition } from "../runtime/define.js";
import type { LoadedModel, RuntimeTable } from "../runtime/runtime.js";
import { ModelHolder } from "./holder.js";
import { type ModelOrigin, type ServedModel, servedModel } from "./served.js";

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
 * the latest version; a `models:/` prefix is optional), the same under another name, an
 * artifact in memory, or a `defineModel` model.
 */
export type ModelSource = string | ReferenceModelSource | ArtifactModelSource | ModelDefinition;

/** A source with its served name worked out (before anything is loaded). */
type Planned =
  | { type: "registry"; name: string; reference: string; uri: ModelUri }
  | { type: "artifact"; name: string; source: ArtifactModelSource }
  | { type: "definition"; name: string; source: ModelDefinition };

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

function plan(source: ModelSource): Planned {
  if (typeof source === "string") {
    const uri = parseModelReference(source);
    return { type: "registry", name: uri.name, reference: source, uri };
  }
  if (isModelDefinition(source)) return { type: "definition", name: source.name, source };
  if (typeof source === "object" && source !== null) {
    if ("reference" in source && typeof source.reference === "string") {
      return {
        type: "registry",
        name: String(source.name),
        reference: source.reference,
        uri: parseModelReference(source.reference),
      };
    }
    if ("artifact" in source && typeof source.name === "string") {
      return { type: "artifact", name: source.name, source };
    }
  }
  throw new MlopsError(
    "argument_invalid",
    'models: each entry must be a reference string ("wine@production"), ' +
      "{ name, reference }, { name, artifact } or a defineModel(...) model",
  );
}

export interface CatalogOptions {
  registry: Registry | string | undefined;
  runtimes: RuntimeTable;
  metrics: ServeMetrics | undefined;
}

/**
 * The served models, by name: one `ModelHolder` each, created at once (so routing knows every
 * name while versions still load) and filled in the background. `reload` is the seam for hot
 * reload: it resolves a registry reference again and swaps when the version changed.
 *
 * @example
 * const catalog = new ModelCatalog(["wine@production"], { registry, runtimes, metrics });
 * await catalog.ready;
 * catalog.get("wine")?.current?.version; // "3"
 */
export class ModelCatalog {
  readonly ready: Promise<void>;
  readonly #holders = new Map<string, ModelHolder>();
  readonly #plans = new Map<string, Planned>();
  readonly #options: CatalogOptions;
  #registry: Promise<Registry> | undefined;

  constructor(sources: readonly ModelSource[], options: CatalogOptions) {
    this.#options = options;
    if (!Array.isArray(sources) || sources.length === 0) {
      throw new MlopsError("argument_invalid", "models: list at least one model to serve");
    }
    for (const source of sources) {
      const planned = plan(source);
      if (this.#plans.has(planned.name)) {
        throw new MlopsError(
          "argument_invalid",
          `models: two entries are served as "${planned.name}"; ` +
            'give one another name with { name: "…", reference: "…" }',
        );
      }
      if (planned.type === "registry" && options.registry === undefined) {
        throw new MlopsError(
          "argument_invalid",
          `models: "${planned.reference}" is a registry reference but no registry was given`,
        );
      }
      this.#plans.set(planned.name, planned);
      this.#holders.set(
        planned.name,
        new ModelHolder(planned.name, planned.type === "registry" ? planned.reference : undefined),
      );
    }
    const loads = [...this.#plans.values()].map((planned) => this.#loadInto(planned));
    this.ready = Promise.all(loads).then(() => undefined);
    // Awaiting `ready` still rejects; an app nobody awaits must not crash on a failed load.
    this.ready.catch(() => {});
  }

  /** The holder serving `name`. */
  get(name: string): ModelHolder | undefined {
    return this.#holders.get(name);
  }

  /** Every holder, in the order the models were listed. */
  list(): ModelHolder[] {
    return [...this.#holders.values()];
  }

  /** True when every model has a version in place. */
  get allReady(): boolean {
    for (const holder of this.#holders.values()) if (holder.current === undefined) return false;
    return true;
  }

  /** What the `mlops_model_info` and `mlops_model_ready` gauges show. */
  info(): ModelInfo[] {
    return this.list().map((holder) => {
      const current = holder.current;
      return {
        name: holder.name,
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
   * moved), loads that version in the background and swaps it in. Returns the model now
   * served and the one it replaced (the caller closes that one once its requests are done).
   */
  async reload(name: string): Promise<{ current: ServedModel; previous: ServedModel | undefined }> {
    const holder = this.#holders.get(name);
    const planned = this.#plans.get(name);
    if (holder === undefined || planned === undefined) {
      throw new MlopsError("argument_invalid", `reload: no model is served as "${name}"`);
    }
    if (planned.type !== "registry") {
      const current = holder.require();
      return { current, previous: undefined };
    }
    const registry = await this.#openRegistry();
    const version = await registry.resolve(planned.uri);
    const current = holder.current;
    if (current !== undefined && current.version === String(version.version)) {
      return { current, previous: undefined };
    }
    const next = await this.#loadRegistry(planned, registry);
    return { current: next, previous: holder.swap(next) };
  }

  /** Releases every model's resources (`LoadedModel.close`). */
  async close(): Promise<void> {
    await Promise.allSettled(this.list().map((holder) => holder.current?.model.close?.()));
  }

  /**
   * Loads one source into its holder. Models in memory whose runtime loads synchronously are
   * in place before the constructor returns (an embedded app answers at once).
   */
  #loadInto(planned: Planned): Promise<void> {
    const holder = this.#holders.get(planned.name)!;
    const failed = (error: unknown) => {
      holder.fail(error instanceof Error ? error : new Error(String(error)));
      throw error;
    };
    try {
      const loaded = this.#load(planned);
      if (!(loaded instanceof Promise)) {
        holder.swap(loaded);
        return Promise.resolve();
      }
      return loaded.then((served) => {
        holder.swap(served);
      }, failed);
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
      schema: source.schema,
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
    });
  }

  async #loadRegistry(
    planned: Extract<Planned, { type: "registry" }>,
    registry: Registry,
  ): Promise<ServedModel> {
    const { version, artifact } = await registry.loadModel(planned.uri);
    return this.#fromArtifact(planned.name, String(version.version), artifact, {
      aliases: version.aliases,
      origin: { type: "registry", reference: planned.reference, uri: formatModelUri(planned.uri) },
      digest: version.digest,
    });
  }

  #fromArtifact(
    name: string,
    version: string,
    artifact: ModelArtifact,
    extra: { aliases?: readonly string[]; origin: ModelOrigin; digest?: string },
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
    const loaded = runtime.load(artifact);
    const serve = (model: LoadedModel) =>
      this.#serve(name, version, model, { ...extra, kind, runtime: runtime.name });
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
    },
  ): ServedModel {
    const metrics = this.#options.metrics;
    return servedModel({
      name,
      version,
      model,
      ...extra,
      metrics:
        metrics === undefined ? NO_METRICS : metrics.model(name, version, valueRangeOf(model)),
    });
  }
}

/** The target's declared range, else the model's own (tree leaves). */
function valueRangeOf(model: LoadedModel): readonly [number, number] | undefined {
  const target = model.schema.target;
  if (target !== undefined) {
    const { min, max } = model.schema.fields[target].definition;
    if (min !== undefined && max !== undefined && max > min) return [min, max];
  }
  return model.valueRange;
}
