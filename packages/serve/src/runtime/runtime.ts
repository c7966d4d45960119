import type { Frame, ModelArtifact, Schema } from "@mlops/core";

/**
 * A model ready to answer predictions, as a runtime hands it to the server. `predict` takes a
 * columnar frame and returns one value per row. The server validates input against `schema`
 * before calling it, unless `validates` says the model checks its input itself (the native
 * runtime does, on its compiled fast path).
 *
 * @example
 * const model: LoadedModel = {
 *   schema: houses,
 *   predict: (frame) => frame.numeric("rooms").map((rooms) => rooms * 1000),
 * };
 */
export interface LoadedModel {
  /** The feature contract requests are validated against (it may include the target). */
  readonly schema: Schema;
  /** One prediction per row of `frame`. */
  predict(frame: Frame): Float64Array | Promise<Float64Array>;
  /** Optional fast path for one row object (the single-row online case). */
  predictRow?(row: Record<string, unknown>): number | Promise<number>;
  /**
   * True when `predict` / `predictRow` validate their input against `schema` themselves and
   * throw core's `SchemaError` (so the server does not validate twice).
   */
  readonly validates?: boolean;
  /** The Open Inference Protocol `platform` (default: the runtime's name). */
  readonly platform?: string;
  /** Inclusive range predictions fall in, if known: used for the prediction-value histogram. */
  readonly valueRange?: readonly [number, number];
  /** Releases what the model holds (native handles, worker threads). */
  close?(): void | Promise<void>;
}

/**
 * Turns artifacts of some model kinds into `LoadedModel`s. The built-in native runtime runs
 * `tree`, `ensemble` and `linear`; an ONNX runtime (kind `"onnx"`) plugs in the same way.
 *
 * @example
 * const constant: ModelRuntime = {
 *   name: "constant",
 *   kinds: ["constant"],
 *   load: (artifact) => ({
 *     schema: Schema.fromJSON(artifact.manifest.schema),
 *     predict: (frame) => new Float64Array(frame.rowCount).fill(42),
 *   }),
 * };
 * createInferenceApp({ registry, models: ["answer@production"], runtimes: [constant] });
 */
export interface ModelRuntime {
  /** Shown as the model's runtime in `/v1/models` and metrics (e.g. `"native"`, `"onnx"`). */
  readonly name: string;
  /** The artifact kinds (`manifest.kind`) this runtime loads. */
  readonly kinds: readonly string[];
  load(artifact: ModelArtifact): LoadedModel | Promise<LoadedModel>;
}

/**
 * The runtime for each kind: user runtimes first (they may replace a built-in kind), then the
 * built-in ones. Throws `Error` naming the known kinds when none fits.
 */
export class RuntimeTable {
  readonly #byKind = new Map<string, ModelRuntime>();

  constructor(runtimes: readonly ModelRuntime[]) {
    for (const runtime of runtimes) {
      for (const kind of runtime.kinds)
        if (!this.#byKind.has(kind)) this.#byKind.set(kind, runtime);
    }
  }

  /** The runtime for `kind`, or undefined. */
  get(kind: string): ModelRuntime | undefined {
    return this.#byKind.get(kind);
  }

  /** Every kind some runtime loads, sorted. */
  kinds(): string[] {
    return [...this.#byKind.keys()].sort();
  }
}
