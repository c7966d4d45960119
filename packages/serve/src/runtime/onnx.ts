import {
  type Frame,
  type ModelArtifact,
  type OnnxFeeds,
  type OnnxRuntimeModule,
  type OnnxTensor,
  onnxModelOf,
  Schema,
} from "@mlops/core";
import {
  buildOnnxFeeds,
  frameFeeds,
  importOnnxRuntime,
  onnxOutputValues,
} from "@mlops/core/internal";
import type { LoadedModel, ModelRuntime } from "./runtime.js";

// onnxruntime-node is loaded, fed and read by core's ONNX helpers (the gate runs ONNX models
// too); this module adds the server's side: a session per loaded model, batched single rows.
export type { OnnxRuntimeModule } from "@mlops/core";
export { importOnnxRuntime };

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

/** A single-row request waiting for the next batched run. */
interface PendingRow {
  row: Record<string, unknown>;
  resolve(value: number): void;
  reject(error: unknown): void;
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
      const numberAt = (batch: PendingRow[]) => (j: number, r: number) =>
        numberOf(batch[r].row[features[j]]);
      const stringAt = (batch: PendingRow[]) => (j: number, r: number) => {
        const value = batch[r].row[features[j]];
        return categories[j] && typeof value === "string" ? value : "";
      };
      // A lone row is fed through tensors made once and refilled: a fresh typed array per
      // request (one per input, for a graph with one input per feature) costs more in garbage
      // collection than the run's copy of the input. Only one run holds them at a time.
      const single = buildOnnxFeeds(
        ort,
        feeds,
        features,
        1,
        () => Number.NaN,
        () => "",
      );
      const refill = oneRowFiller(feeds, features, single);
      let singleBusy = false;
      let pending: PendingRow[] = [];
      const flush = async () => {
        const batch = pending;
        pending = [];
        const reuse = batch.length === 1 && !singleBusy;
        try {
          const n = batch.length;
          if (reuse) {
            singleBusy = true;
            refill(numberAt(batch), stringAt(batch));
          }
          const result = await session.run(
            reuse
              ? single
              : buildOnnxFeeds(ort, feeds, features, n, numberAt(batch), stringAt(batch)),
          );
          const values = onnxOutputValues(result, output, n);
          for (let r = 0; r < n; r++) batch[r].resolve(values[r]);
        } catch (error) {
          for (const waiting of batch) waiting.reject(error);
        } finally {
          if (reuse) singleBusy = false;
        }
      };
      return {
        schema,
        platform: "onnxruntime",
        async predict(frame: Frame) {
          const result = await session.run(frameFeeds(ort, feeds, features, frame));
          return onnxOutputValues(result, output, frame.rowCount);
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

/** Writes one row into feeds made by `buildOnnxFeeds` for one row (their typed arrays). */
function oneRowFiller(
  feeds: OnnxFeeds,
  features: readonly string[],
  tensors: Record<string, OnnxTensor>,
): (
  numberAt: (j: number, r: number) => number,
  stringAt: (j: number, r: number) => string,
) => void {
  if (feeds.layout === "matrix") {
    const data = tensors[feeds.input].data as Float32Array | Float64Array;
    return (numberAt) => {
      for (let j = 0; j < features.length; j++) data[j] = numberAt(j, 0);
    };
  }
  const inputs = feeds.inputs.map((input) => ({
    j: features.indexOf(input.feature),
    text: input.elementType === "string",
    data: tensors[input.name].data as Float32Array | Float64Array | string[],
  }));
  return (numberAt, stringAt) => {
    for (const { j, text, data } of inputs) {
      if (text) (data as string[])[0] = stringAt(j, 0);
      else (data as Float32Array | Float64Array)[0] = numberAt(j, 0);
    }
  };
}

/**
 * The ONNX runtime with default options; `createInferenceApp` includes it, so registered ONNX
 * models are served without configuration once onnxruntime-node is installed.
 */
export const onnxRuntime: ModelRuntime = createOnnxRuntime();
