// Running `kind: "onnx"` artifacts with onnxruntime-node, an optional package imported the first
// time an ONNX model is run (never a dependency of @mlops/core). The server's ONNX runtime
// (@mlops/serve) and core's `predictFrame` (the gate) both build on these.
import type { ModelArtifact } from "../../artifact/types.js";
import { MlopsError } from "../../errors/error.js";
import type { Frame } from "../../frame/frame.js";
import { Schema } from "../../schema/schema.js";
import type { OnnxFeeds } from "./import.js";
import { onnxModelOf } from "./model.js";

// The few parts of onnxruntime-node used, typed here so that no @mlops type depends on it.
/** An onnxruntime tensor, as far as @mlops reads one. */
export interface OnnxTensor {
  readonly data: ArrayLike<number> | ArrayLike<string>;
  readonly dims: readonly number[];
}
/** An onnxruntime inference session, as far as @mlops uses one. */
export interface OnnxSession {
  run(feeds: Record<string, OnnxTensor>): Promise<Record<string, OnnxTensor>>;
  release(): Promise<void>;
}
/** The parts of the `onnxruntime-node` module @mlops uses. */
export interface OnnxRuntimeModule {
  Tensor: new (
    type: "float32" | "float64" | "string",
    data: Float32Array | Float64Array | string[],
    dims: readonly number[],
  ) => OnnxTensor;
  InferenceSession: {
    create(bytes: Uint8Array, options?: Record<string, unknown>): Promise<OnnxSession>;
  };
}

const PACKAGE = "onnxruntime-node";

/**
 * Imports onnxruntime-node (or `specifier`); without it, `runtime_unavailable` saying how to
 * install it. Internal: tests name a package that is not installed.
 *
 * @example
 * const ort = await importOnnxRuntime();
 */
export async function importOnnxRuntime(specifier = PACKAGE): Promise<OnnxRuntimeModule> {
  let loaded: { default?: OnnxRuntimeModule } & Partial<OnnxRuntimeModule>;
  try {
    loaded = await import(specifier);
  } catch (error) {
    throw new MlopsError(
      "runtime_unavailable",
      `ONNX models are run by the optional package ${specifier}, which is not installed: ` +
        `npm install ${specifier} (${(error as Error).message.split("\n")[0]})`,
      { cause: error },
    );
  }
  return (loaded.InferenceSession ? loaded : loaded.default) as OnnxRuntimeModule;
}

const DTYPES = { float: "float32", double: "float64", string: "string" } as const;

/**
 * The graph's feeds for `n` rows: `numberAt(feature, row)` gives a number (NaN = missing),
 * `stringAt(feature, row)` a category's text (`""` = missing). Internal.
 */
export function buildOnnxFeeds(
  ort: OnnxRuntimeModule,
  feeds: OnnxFeeds,
  features: readonly string[],
  n: number,
  numberAt: (feature: number, row: number) => number,
  stringAt: (feature: number, row: number) => string,
): Record<string, OnnxTensor> {
  if (feeds.layout === "matrix") {
    const width = features.length;
    const data =
      feeds.elementType === "double" ? new Float64Array(n * width) : new Float32Array(n * width);
    for (let j = 0; j < width; j++) {
      for (let r = 0, at = j; r < n; r++, at += width) data[at] = numberAt(j, r);
    }
    return { [feeds.input]: new ort.Tensor(DTYPES[feeds.elementType], data, [n, width]) };
  }
  const out: Record<string, OnnxTensor> = {};
  for (const input of feeds.inputs) {
    const j = features.indexOf(input.feature);
    if (input.elementType === "string") {
      const values = Array.from({ length: n }, (_, r) => stringAt(j, r));
      out[input.name] = new ort.Tensor("string", values, [n, 1]);
      continue;
    }
    const data = input.elementType === "double" ? new Float64Array(n) : new Float32Array(n);
    for (let r = 0; r < n; r++) data[r] = numberAt(j, r);
    out[input.name] = new ort.Tensor(DTYPES[input.elementType], data, [n, 1]);
  }
  return out;
}

/** One prediction per row from the graph's output `name` (else `predictor_unsupported`). Internal. */
export function onnxOutputValues(
  result: Record<string, OnnxTensor>,
  name: string,
  n: number,
): Float64Array {
  const tensor = result[name];
  if (tensor === undefined || tensor.data.length !== n) {
    throw new MlopsError(
      "predictor_unsupported",
      `the ONNX graph's output "${name}" has ${tensor?.data.length ?? 0} values for ${n} rows ` +
        "(expected one prediction per row)",
    );
  }
  return Float64Array.from(tensor.data as ArrayLike<number>);
}

/** Feeds for the rows of a frame conformed to the model's schema. Internal. */
export function frameFeeds(
  ort: OnnxRuntimeModule,
  feeds: OnnxFeeds,
  features: readonly string[],
  frame: Frame,
): Record<string, OnnxTensor> {
  const columns = features.map((name) => frame.column(name));
  return buildOnnxFeeds(
    ort,
    feeds,
    features,
    frame.rowCount,
    (j, r) => {
      const column = columns[j];
      return column.kind === "category" ? Number.NaN : column.values[r];
    },
    (j, r) => {
      const column = columns[j];
      if (column.kind !== "category") return "";
      const code = column.codes[r];
      return code < 0 ? "" : column.dictionary[code];
    },
  );
}

/** Options of `predictOnnx` and `predictFrame`. */
export interface OnnxPredictOptions {
  /** Loads onnxruntime (default: `import("onnxruntime-node")`). */
  load?: () => Promise<OnnxRuntimeModule>;
  /** Threads of the session (onnxruntime's `intraOpNumThreads`; default 1). */
  threads?: number;
}

/**
 * Predicts every row of `data` with a `kind: "onnx"` artifact on onnxruntime-node: the data is
 * conformed to the artifact's schema (columns it does not declare are ignored), the graph run
 * once, and its output returned. Without onnxruntime-node: `runtime_unavailable`, saying how to
 * install it.
 *
 * @example
 * const predictions = await predictOnnx(artifact, await readFrame("holdout.csv"));
 */
export async function predictOnnx(
  artifact: ModelArtifact,
  data: Frame,
  options: OnnxPredictOptions = {},
): Promise<Float64Array> {
  const { bytes, feeds } = onnxModelOf(artifact);
  const schema = Schema.fromJSON(artifact.manifest.schema);
  const features = artifact.manifest.model.inputs as string[];
  const declared = schema.names.filter((name) => name !== schema.target && data.has(name));
  const frame = schema.conformFrame(data.select(declared));
  for (const name of features) {
    if (!frame.has(name)) {
      throw new MlopsError(
        "schema_invalid",
        `missing column "${name}": the ONNX model reads it (columns: ${data.names.join(", ")})`,
      );
    }
  }
  const ort = await (options.load ?? (() => importOnnxRuntime()))();
  const session = await ort.InferenceSession.create(bytes, {
    intraOpNumThreads: options.threads ?? 1,
    interOpNumThreads: 1,
    executionMode: "sequential",
    graphOptimizationLevel: "all",
  });
  try {
    if (frame.rowCount === 0) return new Float64Array(0);
    const result = await session.run(frameFeeds(ort, feeds, features, frame));
    return onnxOutputValues(result, feeds.output, frame.rowCount);
  } finally {
    await session.release();
  }
}
