import { describeArrays } from "../../artifact/codec.js";
import { formatZodIssues, modelSections, validateManifest } from "../../artifact/manifest.js";
import type {
  DropColumnsStep,
  EnsembleModelSection,
  LinearModelSection,
  ModelArtifact,
  OneHotStep,
  PolynomialFeaturesStep,
  SimpleImputerStep,
  SplitRule,
  StandardScalerStep,
  TreeModelSection,
} from "../../artifact/types.js";
import { SDK_VERSION } from "../../artifact/version.js";
import { MlopsError } from "../../errors/error.js";
import { ColumnLayout } from "../../predict/layout.js";
import { compileStep } from "../../predict/preprocessing.js";
import { float32Threshold } from "../../predict/split-rule.js";
import { checkTree, treeArrays } from "../../predict/tree.js";
import { isMissingToken, Schema } from "../../schema/schema.js";
import { AttributeType, encodeModel, TensorType } from "./proto.js";

/** The name of the output of every exported graph: predictions as a `[N, 1]` float tensor. */
export const ONNX_OUTPUT_NAME = "prediction";

/** Opsets of exported graphs: ONNX 17 and ONNX-ML 3 (onnxruntime ≥ 1.13, onnx ≥ 1.12). */
export const ONNX_OPSETS = Object.freeze({ onnx: 17, onnxMl: 3 });

/** Options of `toOnnx`. */
export interface ToOnnxOptions {
  /** The graph's name (default: `"mlops"`). */
  graphName?: string;
  /** Stored as the model's `doc_string`. */
  description?: string;
  /**
   * `"columns"` (default): one `[N, 1]` input per schema feature, named like it. `"matrix"`: one
   * `[N, F]` float input named `X`, its columns the schema's features in order (the convention of
   * skl2onnx; numeric features only), which onnxruntime binds faster than F inputs.
   */
  inputs?: "columns" | "matrix";
}

/** The name of the single input of a graph exported with `inputs: "matrix"`. */
export const ONNX_MATRIX_INPUT = "X";

type Attribute = Record<string, unknown>;
type Node = Record<string, unknown>;

const ML = "ai.onnx.ml";

function attribute(
  name: string,
  value: number | string | number[] | string[],
  kind?: "int" | "float",
): Attribute {
  const text = new TextEncoder();
  if (typeof value === "string") return { name, type: AttributeType.STRING, s: text.encode(value) };
  if (typeof value === "number") {
    return kind === "int"
      ? { name, type: AttributeType.INT, i: value }
      : { name, type: AttributeType.FLOAT, f: value };
  }
  if (value.length > 0 && typeof value[0] === "string") {
    return {
      name,
      type: AttributeType.STRINGS,
      strings: (value as string[]).map((item) => text.encode(item)),
    };
  }
  return kind === "int"
    ? { name, type: AttributeType.INTS, ints: value as number[] }
    : { name, type: AttributeType.FLOATS, floats: value as number[] };
}

/** What a layout column holds in the graph: a `[N, 1]` float tensor, or int64 category codes. */
interface GraphColumn {
  tensor: string;
  /** Category columns: the values their codes stand for (-1: missing, -2: unknown). */
  dictionary?: readonly string[];
}

/**
 * Builds the graph: nodes, constants (initializers) and unique tensor names. Every column is a
 * `[N, 1]` tensor, so each step's ONNX form mirrors how the predictor applies it column by
 * column; the model's inputs are concatenated into `[N, F]` at the end.
 */
class GraphBuilder {
  readonly nodes: Node[] = [];
  readonly initializers: Record<string, unknown>[] = [];
  /** Types of ONNX-ML outputs, which onnx's shape inference does not derive itself. */
  readonly valueInfo: Record<string, unknown>[] = [];
  readonly columns = new Map<string, GraphColumn>();
  /** Column order, as the predictor's layout has it. */
  order: string[] = [];
  #count = 0;

  name(hint: string): string {
    return `mlops/${hint}/${this.#count++}`;
  }

  node(
    opType: string,
    inputs: string[],
    hint: string,
    attributes: Attribute[] = [],
    domain = "",
    output = this.name(hint),
  ): string {
    if (domain === ML && output !== ONNX_OUTPUT_NAME) {
      // onnx's shape inference derives no type for ONNX-ML outputs: declare it.
      const elemType = opType === "LabelEncoder" ? TensorType.INT64 : TensorType.FLOAT;
      this.valueInfo.push(valueInfo(output, elemType));
    }
    this.nodes.push({
      op_type: opType,
      domain,
      input: inputs,
      output: [output],
      name: `${opType}_${this.#count}`,
      attribute: attributes,
    });
    return output;
  }

  floatConstant(values: number[], dims: number[], hint: string): string {
    const name = this.name(hint);
    this.initializers.push({
      name,
      data_type: TensorType.FLOAT,
      dims,
      float_data: values.map(Math.fround),
    });
    return name;
  }

  int64Constant(values: number[], dims: number[], hint: string): string {
    const name = this.name(hint);
    this.initializers.push({ name, data_type: TensorType.INT64, dims, int64_data: values });
    return name;
  }

  get(name: string, context: string): GraphColumn {
    const column = this.columns.get(name);
    if (!column) invalid(context, `no column "${name}" at this point`);
    return column!;
  }

  /** Replaces the named columns by `added` (in order) at the position of the first of them. */
  replace(removed: readonly string[], added: [string, GraphColumn][]): void {
    let at = -1;
    for (const name of removed) {
      const position = this.order.indexOf(name);
      if (position >= 0 && (at < 0 || position < at)) at = position;
      this.columns.delete(name);
    }
    this.order = this.order.filter((name) => !removed.includes(name));
    if (at < 0 || at > this.order.length) at = this.order.length;
    this.order.splice(at, 0, ...added.map(([name]) => name));
    for (const [name, column] of added) this.columns.set(name, column);
  }
}

function invalid(context: string, detail: string): never {
  throw new MlopsError("artifact_invalid", `${context}: ${detail}`);
}

function unsupported(detail: string): never {
  throw new MlopsError("predictor_unsupported", `toOnnx: ${detail}`);
}

// ------------------------------------------------------------------ inputs

/**
 * One graph input per schema feature, named like it: numbers, integers and booleans as `[N, 1]`
 * float (NaN for missing), categories as `[N, 1]` string (`""` or another missing token for
 * missing). Fields with a default get it where the input is missing; category values become
 * codes (-1 missing, -2 a value the schema does not list).
 */
function addInputs(
  graph: GraphBuilder,
  schema: Schema,
  layout: "columns" | "matrix",
): Record<string, unknown>[] {
  const inputs: Record<string, unknown>[] = [];
  const names = schema.featureNames;
  // The matrix's columns, one [N, 1] tensor per feature (no node for a one-column matrix).
  let split: string[] | undefined;
  if (layout === "matrix") {
    const categories = names.filter((name) => schema.fields[name].definition.kind === "category");
    if (categories.length > 0) {
      unsupported(
        `inputs: "matrix" takes numeric features only; ${categories.join(", ")} ` +
          'are categories (export with inputs: "columns")',
      );
    }
    inputs.push(valueInfo(ONNX_MATRIX_INPUT, TensorType.FLOAT, names.length));
    split =
      names.length === 1 ? [ONNX_MATRIX_INPUT] : names.map((name) => graph.name(`${name}/column`));
    if (names.length > 1) {
      graph.nodes.push({
        op_type: "Split",
        domain: "",
        input: [ONNX_MATRIX_INPUT],
        output: split,
        name: "Split_columns",
        attribute: [attribute("axis", 1, "int")],
      });
    }
  }
  for (const [index, name] of names.entries()) {
    const definition = schema.fields[name].definition;
    if (definition.kind === "category") {
      const values = definition.values ?? [];
      inputs.push(valueInfo(name, TensorType.STRING));
      const fallback =
        definition.default === undefined ? -1 : values.indexOf(String(definition.default));
      const keys = [...values, ...MISSING_TOKENS.filter((token) => !values.includes(token))];
      const codes = keys.map((_, code) => (code < values.length ? code : fallback));
      const tensor = graph.node(
        "LabelEncoder",
        [name],
        `${name}/codes`,
        [
          attribute("keys_strings", keys),
          attribute("values_int64s", codes, "int"),
          attribute("default_int64", -2, "int"),
        ],
        ML,
      );
      graph.columns.set(name, { tensor, dictionary: values });
    } else {
      const source = split ? split[index] : name;
      if (!split) inputs.push(valueInfo(name, TensorType.FLOAT));
      let tensor = source;
      if (definition.default !== undefined) {
        const fill = graph.floatConstant([Number(definition.default)], [], `${name}/default`);
        const isMissing = graph.node("IsNaN", [source], `${name}/missing`);
        tensor = graph.node("Where", [isMissing, fill, source], `${name}/filled`);
      }
      graph.columns.set(name, { tensor });
    }
    graph.order.push(name);
  }
  return inputs;
}

/** The missing tokens the schema's readers take for a missing category. */
const MISSING_TOKENS = ["", "NA", "N/A", "NaN", "nan", "null", "NULL", "None"].filter(
  isMissingToken,
);

function valueInfo(name: string, elemType: number, width = 1): Record<string, unknown> {
  return {
    name,
    type: {
      tensor_type: {
        elem_type: elemType,
        shape: { dim: [{ dim_param: "N" }, { dim_value: width }] },
      },
    },
  };
}

// ------------------------------------------------------------------ steps

function imputer(graph: GraphBuilder, step: SimpleImputerStep, context: string): void {
  step.columns.forEach((name, i) => {
    const column = graph.get(name, context);
    const fill = step.fill[i];
    if (column.dictionary === undefined) {
      const value = graph.floatConstant([Number(fill)], [], `${name}/fill`);
      const isMissing = graph.node("IsNaN", [column.tensor], `${name}/missing`);
      column.tensor = graph.node("Where", [isMissing, value, column.tensor], `${name}/imputed`);
      return;
    }
    let code = column.dictionary.indexOf(String(fill));
    if (code < 0) {
      code = column.dictionary.length;
      column.dictionary = [...column.dictionary, String(fill)];
    }
    const missing = graph.int64Constant([-1], [], `${name}/missing_code`);
    const value = graph.int64Constant([code], [], `${name}/fill`);
    const isMissing = graph.node("Equal", [column.tensor, missing], `${name}/missing`);
    column.tensor = graph.node("Where", [isMissing, value, column.tensor], `${name}/imputed`);
  });
}

function scaler(graph: GraphBuilder, step: StandardScalerStep, context: string): void {
  step.columns.forEach((name, i) => {
    const column = graph.get(name, context);
    const scale = step.scale[i] === 0 ? 1 : step.scale[i];
    const mean = graph.floatConstant([step.mean[i]], [], `${name}/mean`);
    const divisor = graph.floatConstant([scale], [], `${name}/scale`);
    const centred = graph.node("Sub", [column.tensor, mean], `${name}/centred`);
    column.tensor = graph.node("Div", [centred, divisor], `${name}/scaled`);
  });
}

function oneHot(graph: GraphBuilder, step: OneHotStep, context: string): void {
  const column = graph.get(step.column, context);
  const dictionary = column.dictionary ?? [];
  // Code → position among step.categories (-1: none), then one Equal per output column.
  const keys = dictionary.map((_, code) => code);
  const positions = dictionary.map((value) => step.categories.indexOf(value));
  const position =
    keys.length === 0
      ? graph.node("Sub", [column.tensor, column.tensor], `${step.column}/none`)
      : graph.node(
          "LabelEncoder",
          [column.tensor],
          `${step.column}/position`,
          [
            attribute("keys_int64s", keys, "int"),
            attribute("values_int64s", positions, "int"),
            attribute("default_int64", -1, "int"),
          ],
          ML,
        );
  const outputs: [string, GraphColumn][] = step.outputs.map((output, k) => {
    const index = graph.int64Constant([k], [], `${output}/index`);
    const equal = graph.node("Equal", [position, index], `${output}/equal`);
    const tensor = graph.node("Cast", [equal], output, [attribute("to", TensorType.FLOAT, "int")]);
    return [output, { tensor }];
  });
  graph.replace([step.column], outputs);
}

function polynomial(graph: GraphBuilder, step: PolynomialFeaturesStep, context: string): void {
  const inputs = step.columns.map((name) => graph.get(name, context).tensor);
  const outputs: [string, GraphColumn][] = step.powers.map((powers, i) => {
    const name = step.outputs[i];
    let product: string | undefined;
    powers.forEach((power, j) => {
      for (let p = 0; p < power; p++) {
        product =
          product === undefined
            ? inputs[j]
            : graph.node("Mul", [product, inputs[j]], `${name}/product`);
      }
    });
    if (product === undefined) {
      // The constant term: ones shaped like the first input.
      const shape = graph.node("Shape", [inputs[0]], `${name}/shape`);
      product = graph.node("ConstantOfShape", [shape], name, [
        {
          name: "value",
          type: AttributeType.TENSOR,
          t: { data_type: TensorType.FLOAT, dims: [1], float_data: [1] },
        },
      ]);
    } else if (product === inputs[powers.findIndex((power) => power > 0)]) {
      product = graph.node("Identity", [product], name);
    }
    return [name, { tensor: product }];
  });
  graph.replace(step.columns, outputs);
}

function dropColumns(graph: GraphBuilder, step: DropColumnsStep, context: string): void {
  for (const name of step.columns) graph.get(name, context);
  graph.replace(step.columns, []);
}

const stepExporters: Record<string, (graph: GraphBuilder, step: never, context: string) => void> = {
  simple_imputer: imputer,
  standard_scaler: scaler,
  one_hot: oneHot,
  polynomial_features: polynomial,
  drop_columns: dropColumns,
};

// ------------------------------------------------------------------ models

function section<T>(artifact: ModelArtifact, kind: "tree" | "ensemble" | "linear"): T {
  const parsed = modelSections[kind].safeParse(artifact.manifest.model);
  if (!parsed.success)
    throw new MlopsError("artifact_invalid", formatZodIssues(parsed.error, "model"));
  return parsed.data as unknown as T;
}

/** TreeEnsembleRegressor attributes for the trees under `prefixes`, leaves scaled by `weight`. */
function treeEnsemble(
  artifact: ModelArtifact,
  prefixes: string[],
  inputCount: number,
  rule: SplitRule,
  weight: number,
  aggregate: "SUM" | "AVERAGE",
  base: number,
): Attribute[] {
  const nodes = {
    treeIds: [] as number[],
    nodeIds: [] as number[],
    featureIds: [] as number[],
    modes: [] as string[],
    values: [] as number[],
    trueIds: [] as number[],
    falseIds: [] as number[],
    missingTrue: [] as number[],
  };
  const targets = {
    treeIds: [] as number[],
    nodeIds: [] as number[],
    ids: [] as number[],
    weights: [] as number[],
  };
  prefixes.forEach((prefix, t) => {
    const tree = treeArrays(artifact.arrays, prefix);
    checkTree(tree, inputCount, prefix.replace(/\.$/, ""));
    const { left, right, feature, threshold, value, missingLeft, nodeSamples } = tree;
    for (let node = 0; node < left.length; node++) {
      nodes.treeIds.push(t);
      nodes.nodeIds.push(node);
      if (left[node] < 0) {
        nodes.featureIds.push(0);
        nodes.modes.push("LEAF");
        nodes.values.push(0);
        nodes.trueIds.push(0);
        nodes.falseIds.push(0);
        nodes.missingTrue.push(0);
        targets.treeIds.push(t);
        targets.nodeIds.push(node);
        targets.ids.push(0);
        targets.weights.push(Math.fround(weight * value[node]));
        continue;
      }
      const split = float32Threshold(threshold[node], rule);
      // The predictor's missing direction: missingLeft, else the child with more samples.
      const goesLeft = missingLeft
        ? missingLeft[node] !== 0
        : nodeSamples
          ? nodeSamples[left[node]] > nodeSamples[right[node]]
          : false;
      nodes.featureIds.push(feature[node]);
      nodes.modes.push(split.operator === "<" ? "BRANCH_LT" : "BRANCH_LEQ");
      nodes.values.push(split.value);
      nodes.trueIds.push(left[node]);
      nodes.falseIds.push(right[node]);
      nodes.missingTrue.push(goesLeft ? 1 : 0);
    }
  });
  return [
    attribute("n_targets", 1, "int"),
    attribute("aggregate_function", aggregate),
    attribute("post_transform", "NONE"),
    attribute("base_values", [base]),
    attribute("nodes_treeids", nodes.treeIds, "int"),
    attribute("nodes_nodeids", nodes.nodeIds, "int"),
    attribute("nodes_featureids", nodes.featureIds, "int"),
    attribute("nodes_modes", nodes.modes),
    attribute("nodes_values", nodes.values),
    attribute("nodes_truenodeids", nodes.trueIds, "int"),
    attribute("nodes_falsenodeids", nodes.falseIds, "int"),
    attribute("nodes_missing_value_tracks_true", nodes.missingTrue, "int"),
    attribute("target_treeids", targets.treeIds, "int"),
    attribute("target_nodeids", targets.nodeIds, "int"),
    attribute("target_ids", targets.ids, "int"),
    attribute("target_weights", targets.weights),
  ];
}

/** Adds the model node(s) reading `features` ([N, F] float), writing `prediction`. */
function addModel(graph: GraphBuilder, artifact: ModelArtifact, features: string): void {
  const out = ONNX_OUTPUT_NAME;
  const { kind } = artifact.manifest;
  const inputCount = artifact.manifest.model.inputs.length;
  if (kind === "linear") {
    const model = section<LinearModelSection>(artifact, "linear");
    const coefficients = artifact.arrays.coefficients;
    if (!(coefficients instanceof Float64Array) || coefficients.length !== inputCount) {
      invalid("arrays", `"coefficients" must be a Float64Array of ${inputCount} values`);
    }
    graph.node(
      "LinearRegressor",
      [features],
      "linear",
      [
        attribute("coefficients", Array.from(coefficients)),
        attribute("intercepts", [model.intercept]),
        attribute("targets", 1, "int"),
      ],
      ML,
      out,
    );
    return;
  }
  if (kind === "tree") {
    const model = section<TreeModelSection>(artifact, "tree");
    graph.node(
      "TreeEnsembleRegressor",
      [features],
      "tree",
      treeEnsemble(artifact, ["tree."], inputCount, model.splitRule ?? "float64_le", 1, "SUM", 0),
      ML,
      out,
    );
    return;
  }
  if (kind === "ensemble") {
    const model = section<EnsembleModelSection>(artifact, "ensemble");
    const prefixes = Array.from({ length: model.treeCount }, (_, t) => `trees.${t}.`);
    const rule = model.splitRule ?? "float64_le";
    if (model.aggregation === "mean") {
      graph.node(
        "TreeEnsembleRegressor",
        [features],
        "forest",
        treeEnsemble(artifact, prefixes, inputCount, rule, 1, "AVERAGE", 0),
        ML,
        out,
      );
      return;
    }
    const link = model.link ?? "identity";
    const score = graph.node(
      "TreeEnsembleRegressor",
      [features],
      "boosting",
      treeEnsemble(
        artifact,
        prefixes,
        inputCount,
        rule,
        model.learningRate ?? 1,
        "SUM",
        model.baseValue ?? 0,
      ),
      ML,
      link === "identity" ? out : undefined,
    );
    if (link === "log") graph.node("Exp", [score], "exp", [], "", out);
    if (link === "logit") graph.node("Sigmoid", [score], "logistic", [], "", out);
    return;
  }
  unsupported(`model kind "${kind}" has no ONNX form (tree, ensemble and linear do)`);
}

/**
 * Exports a `tree`, `ensemble` (forest or boosting) or `linear` artifact, with its preprocessing
 * (`simple_imputer`, `standard_scaler`, `one_hot`, `polynomial_features`, `drop_columns`), as
 * one ONNX graph (IR 8, opsets ONNX 17 + ONNX-ML 3). The graph has one input per schema feature,
 * named like it (`[N, 1]` float, NaN for missing; `[N, 1]` string for categories) and one output,
 * `prediction` (`[N, 1]` float). It computes in float32: thresholds are chosen so that trees
 * split every float32 input as the artifact's split rule does; predictions agree with
 * `createPredictor`'s to float32 precision. Unlike the predictor, the graph cannot refuse input:
 * an unknown category counts as none, and a linear model's missing input gives NaN.
 *
 * @example
 * const bytes = toOnnx(await readArtifact("model.mlops"));
 * await writeFile("model.onnx", bytes);
 */
export function toOnnx(artifact: ModelArtifact, options: ToOnnxOptions = {}): Uint8Array {
  const manifest = validateManifest(
    { ...artifact.manifest, payload: describeArrays(artifact.arrays) },
    "artifact",
  );
  // The predictor's own compilation checks the steps against the columns they read.
  const layout = new ColumnLayout();
  const schema = Schema.fromJSON(manifest.schema);
  for (const name of schema.featureNames) {
    const kind = schema.fields[name].definition.kind;
    layout.add(
      name,
      kind === "category" ? "category" : "numeric",
      "schema",
      schema.fields[name].definition.values,
    );
  }
  manifest.preprocessing.forEach((step, i) => {
    compileStep(step, layout, `preprocessing[${i}] (${step.kind})`);
  });

  const graph = new GraphBuilder();
  const layoutOption = options.inputs ?? "columns";
  if (layoutOption !== "columns" && layoutOption !== "matrix") {
    throw new MlopsError(
      "argument_invalid",
      `toOnnx: inputs must be "columns" or "matrix", got ${JSON.stringify(layoutOption)}`,
    );
  }
  const inputs = addInputs(graph, schema, layoutOption);
  manifest.preprocessing.forEach((step, i) => {
    const exporter = Object.hasOwn(stepExporters, step.kind) ? stepExporters[step.kind] : undefined;
    if (!exporter) unsupported(`preprocessing[${i}]: step kind "${step.kind}" has no ONNX form`);
    exporter!(graph, step as never, `preprocessing[${i}] (${step.kind})`);
  });
  const modelInputs = manifest.model.inputs.map((name) => {
    const column = graph.get(name, "model.inputs");
    if (column.dictionary !== undefined) {
      invalid("model.inputs", `"${name}" is a category column; the model reads numbers`);
    }
    return column.tensor;
  });
  const splitNode = graph.nodes.find((node) => node.name === "Split_columns");
  const splitOutputs = (splitNode?.output as string[] | undefined) ?? [];
  const direct =
    splitNode !== undefined &&
    modelInputs.length === splitOutputs.length &&
    modelInputs.every((tensor, j) => tensor === splitOutputs[j]);
  if (direct) {
    // The model reads the matrix's columns as they are: feed it the matrix, drop the split.
    graph.nodes.splice(graph.nodes.indexOf(splitNode), 1);
  }
  const features = direct
    ? ONNX_MATRIX_INPUT
    : modelInputs.length === 1
      ? modelInputs[0]
      : graph.node("Concat", modelInputs, "features", [attribute("axis", 1, "int")]);
  addModel(graph, { manifest, arrays: artifact.arrays }, features);
  return encodeModel({
    ir_version: 8,
    producer_name: "@mlops/core",
    producer_version: SDK_VERSION,
    model_version: 1,
    doc_string: options.description ?? `@mlops ${manifest.kind} model`,
    opset_import: [
      { domain: "", version: ONNX_OPSETS.onnx },
      { domain: ML, version: ONNX_OPSETS.onnxMl },
    ],
    metadata_props: [
      { key: "mlops.kind", value: manifest.kind },
      { key: "mlops.schema", value: JSON.stringify(manifest.schema) },
    ],
    graph: {
      name: options.graphName ?? "mlops",
      node: graph.nodes,
      initializer: graph.initializers,
      input: inputs,
      output: [valueInfo(ONNX_OUTPUT_NAME, TensorType.FLOAT)],
      value_info: graph.valueInfo,
    },
  });
}
