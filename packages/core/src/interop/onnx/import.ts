import { createArtifact } from "../../artifact/create.js";
import type { Lineage, ModelArtifact } from "../../artifact/types.js";
import { MlopsError } from "../../errors/error.js";
import { field } from "../../schema/field.js";
import { schema as makeSchema, Schema } from "../../schema/schema.js";
import { decodeModel, TensorType } from "./proto.js";

/** The element types an ONNX model's inputs and output may have here. */
export type OnnxElementType = "float" | "double" | "string";

/** One graph input as `inspectOnnx` reports it. */
export interface OnnxTensorInfo {
  name: string;
  /** `undefined` for an element type this SDK does not feed (int64, bool, …). */
  elementType: OnnxElementType | undefined;
  /** Dimensions: a number, or the name of a symbolic one (`"N"`), or null when unknown. */
  shape: (number | string | null)[];
}

/** What `inspectOnnx` finds in an ONNX file. */
export interface OnnxModelInfo {
  irVersion: number;
  producer: string;
  opsets: Record<string, number>;
  /** The graph's real inputs (initializers listed as inputs are left out). */
  inputs: OnnxTensorInfo[];
  outputs: OnnxTensorInfo[];
  /** Operator types used, as `domain:op` (`ai.onnx.ml:TreeEnsembleRegressor`) or `op`. */
  operators: string[];
}

/**
 * How the ONNX runtime feeds an `onnx` artifact's graph: one `[N, F]` tensor (`"matrix"`, the
 * usual form of converted scikit-learn models) or one `[N, 1]` tensor per feature
 * (`"columns"`, the form `toOnnx` writes).
 */
export type OnnxFeeds =
  | { layout: "matrix"; input: string; elementType: "float" | "double"; output: string }
  | {
      layout: "columns";
      inputs: { name: string; feature: string; elementType: OnnxElementType }[];
      output: string;
    };

const ELEMENT_TYPES: Record<number, OnnxElementType> = {
  [TensorType.FLOAT]: "float",
  [TensorType.DOUBLE]: "double",
  [TensorType.STRING]: "string",
};

interface ValueInfo {
  name?: string;
  type?: {
    tensor_type?: {
      elem_type?: number;
      shape?: { dim?: { dim_value?: number; dim_param?: string }[] };
    };
  };
}

function tensorInfo(value: ValueInfo): OnnxTensorInfo {
  const tensor = value.type?.tensor_type;
  return {
    name: value.name ?? "",
    elementType: ELEMENT_TYPES[tensor?.elem_type ?? -1],
    shape: (tensor?.shape?.dim ?? []).map((dim) =>
      dim.dim_value !== undefined ? dim.dim_value : (dim.dim_param ?? null),
    ),
  };
}

/**
 * Reads an ONNX model's header and graph signature (no runtime needed): IR version, opsets,
 * inputs, outputs and the operators it uses. Throws `artifact_invalid` for bytes that are not
 * an ONNX model.
 *
 * @example
 * const info = inspectOnnx(await readFile("model.onnx"));
 * info.inputs; // [{ name: "X", elementType: "float", shape: ["N", 8] }]
 */
export function inspectOnnx(bytes: Uint8Array, source = "ONNX model"): OnnxModelInfo {
  const model = decodeModel(bytes, source) as {
    ir_version?: number;
    producer_name?: string;
    producer_version?: string;
    opset_import?: { domain?: string; version?: number }[];
    graph?: {
      input?: ValueInfo[];
      output?: ValueInfo[];
      initializer?: { name?: string }[];
      node?: { op_type?: string; domain?: string }[];
    };
  };
  const graph = model.graph;
  if (graph === undefined || !graph.output?.length) {
    throw new MlopsError("artifact_invalid", `${source}: the ONNX model has no graph outputs`);
  }
  const initialized = new Set((graph.initializer ?? []).map((tensor) => tensor.name));
  const operators = new Set<string>();
  for (const node of graph.node ?? []) {
    operators.add(node.domain ? `${node.domain}:${node.op_type}` : String(node.op_type));
  }
  return {
    irVersion: model.ir_version ?? 0,
    producer: [model.producer_name, model.producer_version].filter(Boolean).join(" "),
    opsets: Object.fromEntries(
      (model.opset_import ?? []).map((opset) => [opset.domain || "ai.onnx", opset.version ?? 0]),
    ),
    inputs: (graph.input ?? []).filter((input) => !initialized.has(input.name)).map(tensorInfo),
    outputs: graph.output.map(tensorInfo),
    operators: [...operators].sort(),
  };
}

/** Options of `importOnnx`. */
export interface ImportOnnxOptions {
  /**
   * The feature contract. For a graph with one `[N, F]` input, its F features in column order;
   * for a graph with one input per feature, a field named like each input. Default: drafted
   * from the graph (numbers named `f0…` or like the inputs).
   */
  schema?: Schema;
  /** Names of the columns of a `[N, F]` input, in order (when no schema is given). */
  featureNames?: readonly string[];
  lineage?: Partial<Lineage>;
  metrics?: Record<string, number>;
  params?: Record<string, unknown>;
}

function invalid(source: string, detail: string): never {
  throw new MlopsError("artifact_invalid", `${source}: ${detail}`);
}

/**
 * Wraps an ONNX model (from scikit-learn's skl2onnx, onnxmltools, `toOnnx`, …) as an artifact of
 * kind `"onnx"`, so it is registered, digested, gated and served like a native model (served by
 * `@mlops/serve`'s ONNX runtime, which needs `onnxruntime-node`). The graph's bytes are stored
 * as the `onnx.model` array. Two graph signatures are read:
 *
 * - one `[N, F]` float or double input: F numeric features, named from `schema`,
 *   `featureNames`, or `f0 … f{F-1}`;
 * - one `[N, 1]` input per feature (float, double, or string for categories), named like the
 *   features.
 *
 * The drafted schema has plain numbers, nullable where the graph is a tree ensemble (which
 * routes missing values); string inputs need a `schema` that lists their categories. The first
 * graph output (`[N]` or `[N, 1]`, float or double) is the prediction.
 *
 * @example
 * const artifact = importOnnx(await readFile("model.onnx"), { featureNames: ["rooms", "age"] });
 * await registry.registerModel("houses", artifact);
 */
export function importOnnx(
  bytes: Uint8Array,
  options: ImportOnnxOptions = {},
  source = "ONNX model",
): ModelArtifact {
  const info = inspectOnnx(bytes, source);
  const output = info.outputs[0];
  if (output.elementType !== "float" && output.elementType !== "double") {
    invalid(source, `output "${output.name}" must be a float or double tensor`);
  }
  if (info.inputs.length === 0) invalid(source, "the graph has no inputs");
  const nullable = info.operators.some((op) => op.endsWith("TreeEnsembleRegressor"));
  const number = () => (nullable ? field.number().nullable() : field.number());
  let features: Schema;
  let names: string[];
  let feeds: {
    layout: string;
    [key: string]: unknown;
  };
  const single = info.inputs.length === 1 ? info.inputs[0] : undefined;
  const width = single?.shape.length === 2 ? single.shape[1] : undefined;
  const isMatrix =
    single !== undefined &&
    (single.elementType === "float" || single.elementType === "double") &&
    single.shape.length === 2 &&
    !(
      width === 1 &&
      options.schema !== undefined &&
      options.schema.featureNames.includes(single.name)
    );
  if (isMatrix) {
    const count = typeof width === "number" ? width : undefined;
    names = options.schema
      ? options.schema.featureNames.filter(
          (name) => options.schema!.fields[name].definition.kind !== "category",
        )
      : options.featureNames
        ? [...options.featureNames]
        : count !== undefined
          ? Array.from({ length: count }, (_, j) => `f${j}`)
          : invalid(
              source,
              `input "${single.name}" has an unknown width; give the feature names (or a schema)`,
            );
    if (count !== undefined && names.length !== count) {
      throw new MlopsError(
        "argument_invalid",
        `${source}: input "${single.name}" has ${count} columns, but ${names.length} feature ` +
          `names were given (${names.join(", ")})`,
      );
    }
    features =
      options.schema ?? makeSchema(Object.fromEntries(names.map((name) => [name, number()])));
    feeds = {
      layout: "matrix",
      input: single.name,
      elementType: single.elementType as string,
      output: output.name,
    };
  } else {
    for (const input of info.inputs) {
      const flat = input.shape.length === 1 || (input.shape.length === 2 && input.shape[1] === 1);
      if (input.elementType === undefined || !flat) {
        invalid(
          source,
          `input "${input.name}" (shape [${input.shape.join(", ")}]): expected one [N, F] float ` +
            "tensor, or one [N, 1] float, double or string tensor per feature",
        );
      }
    }
    names = info.inputs.map((input) => input.name);
    if (options.schema) {
      features = options.schema;
      const absent = names.filter((name) => !features.featureNames.includes(name));
      if (absent.length > 0) {
        throw new MlopsError(
          "argument_invalid",
          `${source}: the schema has no field for the graph inputs ${absent.join(", ")}`,
        );
      }
    } else {
      const strings = info.inputs.filter((input) => input.elementType === "string");
      if (strings.length > 0) {
        throw new MlopsError(
          "argument_invalid",
          `${source}: inputs ${strings.map((input) => input.name).join(", ")} are strings; ` +
            "give a schema that lists their categories",
        );
      }
      features = makeSchema(Object.fromEntries(names.map((name) => [name, number()])));
    }
    feeds = {
      layout: "columns",
      inputs: info.inputs.map((input) => ({
        name: input.name,
        feature: input.name,
        elementType: input.elementType as string,
      })),
      output: output.name,
    };
  }
  if (!(features instanceof Schema)) {
    throw new MlopsError("argument_invalid", `${source}: schema must be a Schema`);
  }
  return createArtifact({
    kind: "onnx",
    schema: features,
    model: { inputs: names, onnx: feeds },
    arrays: { "onnx.model": bytes instanceof Uint8Array ? new Uint8Array(bytes) : bytes },
    params: {
      source: "onnx",
      producer: info.producer,
      irVersion: info.irVersion,
      opsets: info.opsets,
      ...options.params,
    },
    metrics: options.metrics,
    lineage: options.lineage,
  });
}

// Kept apart (no protobuf): the runtime needs it on every ONNX prediction.
export { onnxModelOf } from "./model.js";
