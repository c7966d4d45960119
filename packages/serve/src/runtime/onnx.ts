import {
  type Frame,
  MlopsError,
  type ModelArtifact,
  type OnnxFeeds,
  onnxModelOf,
  Schema,
} from "@mlops/core";
import type { LoadedModel, ModelRuntime } from "./runtime.js";

// The few parts of onnxruntime-node used here, typed locally so that @mlops/serve's types do not
// depend on the optional package.
interface OrtTensor {
  readonly data: ArrayLike<number> | ArrayLike<string>;
  readonly dims: readonly number[];
}
interface OrtSession {
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}
/** The parts of the `onnxruntime-node` module the ONNX runtime uses. */
export interface OnnxRuntimeModule {
  Tensor: new (
    type: "float32" | "float64" | "string",
    data: Float32Array | Float64Array | string[],
    dims: readonly number[],
  ) => OrtTensor;
  InferenceSession: {
    create(bytes: Uint8Array, options?: Record<string, unknown>): Promise<OrtSession>;
  };
}

/** Options of `createOnnxRuntime`. */
export interface OnnxRuntimeOptions {
  /**
   * Loads onnxruntime (default: `import("onnxruntime-node")`, the first time an ONNX model is
   * loaded). Pass another loader to use a preloaded or differently built module.
   */
  load?: () => Promise<OnnxRuntimeModule>;
  /** Threads per session for one inference (onnxruntime's `intraOpNumThreads`; default 1). */
  threads?: number;
}

const PACKAGE = "onnxruntime-node";

/** Imports onnxruntime (internal: tests name a package that is not installed). */
export async function importOnnxRuntime(specifier = PACKAGE): Promise<OnnxRuntimeModule> {
  let loaded: { default?: OnnxRuntimeModule } & Partial<OnnxRuntimeModule>;
  try {
    loaded = await import(specifier);
  } catch (error) {
    throw new MlopsError(
      "runtime_unavailable",
      `ONNX models are served by the optional package ${specifier}, which is not installed: ` +
        `npm install ${specifier} (${(error as Error).message.split("\n")[0]})`,
      { cause: error },
    );
  }
  const module = (loaded.InferenceSession ? loaded : loaded.default) as OnnxRuntimeModule;
  return module;
}

const DTYPES = { float: "float32", double: "float64", string: "string" } as const;

/** A single-row request waiting for the next batched run. */
interface PendingRow {
  row: Record<string, unknown>;
  resolve(value: number): void;
  reject(error: unknown): void;
}

/** Feeds for `n` rows: `value(feature, row)` gives a number (NaN = missing) or a string. */
function buildFeeds(
  ort: OnnxRuntimeModule,
  feeds: OnnxFeeds,
  features: readonly string[],
  n: number,
  numberAt: (feature: number, row: number) => number,
  stringAt: (feature: number, row: number) => string,
): Record<string, OrtTensor> {
  if (feeds.layout === "matrix") {
    const width = features.length;
    const data =
      feeds.elementType === "double" ? new Float64Array(n * width) : new Float32Array(n * width);
    for (let j = 0; j < width; j++) {
      for (let r = 0, at = j; r < n; r++, at += width) data[at] = numberAt(j, r);
    }
    return { [feeds.input]: new ort.Tensor(DTYPES[feeds.elementType], data, [n, width]) };
  }
  const out: Record<string, OrtTensor> = {};
  feeds.inputs.forEach((input) => {
    const j = features.indexOf(input.feature);
    if (input.elementType === "string") {
      const values = Array.from({ length: n }, (_, r) => stringAt(j, r));
      out[input.name] = new ort.Tensor("string", values, [n, 1]);
      return;
    }
    const data = input.elementType === "double" ? new Float64Array(n) : new Float32Array(n);
    for (let r = 0; r < n; r++) data[r] = numberAt(j, r);
    out[input.name] = new ort.Tensor(DTYPES[input.elementType], data, [n, 1]);
  });
  return out;
}

function outputValues(result: Record<string, OrtTensor>, name: string, n: number): Float64Array {
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

/**
 * The runtime for `kind: "onnx"` artifacts (`importOnnx`, `mlops models register --onnx`):
 * runs the stored graph with onnxruntime-node, an optional peer dependency imported the first
 * time an ONNX model loads. Input is validated against the artifact's schema by the server like
 * any model's; numbers are fed as the graph's float or double tensors (NaN for missing),
 * categories as strings (`""` for missing). Without onnxruntime-node, loading an ONNX model
 * fails with `runtime_unavailable` naming the package to install.
 *
 * @example
 * createInferenceApp({ registry, models: ["houses@production"], runtimes: [createOnnxRuntime({ threads: 2 })] });
 */
export function createOnnxRuntime(options: OnnxRuntimeOptions = {}): ModelRuntime {
  const loadModule = options.load ?? (() => importOnnxRuntime());
  let module: Promise<OnnxRuntimeModule> | undefined;
  const threads = options.threads ?? 1;
  return Object.freeze({
    name: "onnx",
    kinds: Object.freeze(["onnx"]),
    async load(artifact: ModelArtifact): Promise<LoadedModel> {
      const { bytes, feeds } = onnxModelOf(artifact);
      module ??= loadModule();
      let ort: OnnxRuntimeModule;
      try {
        ort = await module;
      } catch (error) {
        module = undefined;
        throw error;
      }
      const session = await ort.InferenceSession.create(bytes, {
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        executionMode: "sequential",
        graphOptimizationLevel: "all",
      });
      const schema = Schema.fromJSON(artifact.manifest.schema);
      const features = artifact.manifest.model.inputs;
      const output = feeds.output;
      const categories = features.map(
        (name) => schema.fields[name]?.definition.kind === "category",
      );
      const numberOf = (value: unknown) =>
        typeof value === "number" ? value : typeof value === "boolean" ? Number(value) : Number.NaN;
      let pending: PendingRow[] = [];
      const flush = async () => {
        const batch = pending;
        pending = [];
        try {
          const n = batch.length;
          const result = await session.run(
            buildFeeds(
              ort,
              feeds,
              features,
              n,
              (j, r) => numberOf(batch[r].row[features[j]]),
              (j, r) => {
                const value = batch[r].row[features[j]];
                return categories[j] && typeof value === "string" ? value : "";
              },
            ),
          );
          const values = outputValues(result, output, n);
          for (let r = 0; r < n; r++) batch[r].resolve(values[r]);
        } catch (error) {
          for (const waiting of batch) waiting.reject(error);
        }
      };
      return {
        schema,
        platform: "onnxruntime",
        async predict(frame: Frame) {
          const n = frame.rowCount;
          const columns = features.map((name) => frame.column(name) as never);
          const result = await session.run(
            buildFeeds(
              ort,
              feeds,
              features,
              n,
              (j, r) => (columns[j] as { values: Float64Array }).values[r],
              (j, r) => {
                const column = columns[j] as { codes: Int32Array; dictionary: readonly string[] };
                const code = column.codes[r];
                return code < 0 ? "" : column.dictionary[code];
              },
            ),
          );
          return outputValues(result, output, n);
        },
        predictRow(row: Record<string, unknown>) {
          // Rows that arrive while a batch is pending join it: one onnxruntime run answers
          // every single-row request of the moment (its fixed cost per run dominates a row).
          return new Promise<number>((resolve, reject) => {
            pending.push({ row, resolve, reject });
            if (pending.length === 1) setImmediate(flush);
          });
        },
        close: () => session.release(),
      };
    },
  });
}

/**
 * The ONNX runtime with default options; `createInferenceApp` includes it, so registered ONNX
 * models are served without configuration once onnxruntime-node is installed.
 */
export const onnxRuntime: ModelRuntime = createOnnxRuntime();
