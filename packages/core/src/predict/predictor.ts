import { describeArrays } from "../artifact/codec.js";
import { formatZodIssues, modelSections, validateManifest } from "../artifact/manifest.js";
import type {
  EnsembleLink,
  EnsembleModelSection,
  LinearModelSection,
  ModelArtifact,
  ModelManifest,
  SplitRule,
  TreeModelSection,
} from "../artifact/types.js";
import { MlopsError } from "../errors/error.js";
import { Frame } from "../frame/frame.js";
import { Schema } from "../schema/schema.js";
import { InputPlan, inconsistentInput } from "./input.js";
import { ColumnLayout, type LayoutColumn } from "./layout.js";
import { blockRows, type CompiledStep, compileStep } from "./preprocessing.js";
import { CompiledTree, CompiledTrees, treeArrays } from "./tree.js";

/**
 * A loaded model, ready to predict. `predict` takes a columnar frame; `predictRow` one row
 * object (the online hot path). Both validate against the artifact's schema first (a bad value
 * throws `SchemaError`), then apply the artifact's preprocessing, then the model.
 */
export interface Predictor {
  /** One prediction per row of `frame` (validated like `schema.conformFrame`). */
  predict(frame: Frame): Float64Array;
  /** The prediction for one row object (validated like `schema.parseRow`). */
  predictRow(row: Record<string, unknown>): number;
  readonly manifest: ModelManifest;
  readonly schema: Schema;
  /** The columns the model reads after preprocessing (`manifest.model.inputs`). */
  readonly inputs: readonly string[];
}

/** A model compiled against the slots of a pipeline; the predictor's last stage. */
interface CompiledModel {
  /**
   * Writes predictions for rows `0..n-1` of a row-major block (`data[r * stride + slot]`) into
   * `out[offset..]`.
   */
  block(
    data: Float64Array,
    stride: number,
    n: number,
    missing: Uint8Array,
    out: Float64Array,
    offset: number,
  ): void;
  /** The prediction for one row held in `values` (one value per slot). */
  row(values: Float64Array): number;
}

/** What a model compiler gets besides the artifact: where its inputs live. */
interface ModelInputs {
  /** The slot of each of `model.inputs`. */
  slots: Int32Array;
  /** The layout column of each input (kind, dictionary). */
  columns: readonly LayoutColumn[];
}

type ModelCompiler = (
  artifact: ModelArtifact,
  inputs: ModelInputs,
  blockSize: number,
) => CompiledModel;

/**
 * For each input read by categorical splits, the slot's values mapped to the category numbers of
 * the model (`model.categories[input]`; -1 where the model does not know the category, which
 * then goes where missing values go): a category column's codes (positions in its dictionary),
 * or a numeric input's integer values (its categories are written as integers, `"0"`, `"7"`).
 * A category input without categories is an error (a tree reads numbers there); a numeric input
 * without them reads its value as the category number.
 */
function categoryCodes(artifact: ModelArtifact, inputs: ModelInputs): (Int32Array | undefined)[] {
  const declared = artifact.manifest.model.categories as Record<string, string[]> | undefined;
  return inputs.columns.map((column) => {
    const categories = declared?.[column.name];
    if (column.kind !== "category") {
      if (categories === undefined) return undefined;
      let largest = -1;
      for (const [c, category] of categories.entries()) {
        const value = Number(category);
        if (!(/^(0|[1-9][0-9]*)$/.test(category) && value <= 65535)) {
          throw new MlopsError(
            "artifact_invalid",
            `model.categories["${column.name}"][${c}]: a numeric input's categories are ` +
              `integers in 0..65535 written as text, got ${JSON.stringify(category)}`,
          );
        }
        largest = Math.max(largest, value);
      }
      const codes = new Int32Array(largest + 1).fill(-1);
      categories.forEach((category, c) => {
        codes[Number(category)] = c;
      });
      return codes;
    }
    if (categories === undefined) {
      throw new MlopsError(
        "artifact_invalid",
        `model.inputs: "${column.name}" is a category column; ` +
          "the model reads numbers (encode it with a one_hot step), or declares its categories " +
          `in model.categories["${column.name}"] for categorical splits`,
      );
    }
    const number = new Map(categories.map((category, c) => [category, c]));
    const dictionary = column.dictionary ?? [];
    return Int32Array.from(dictionary, (value) => number.get(value) ?? -1);
  });
}

function compileTrees(
  artifact: ModelArtifact,
  inputs: ModelInputs,
  prefixes: readonly string[],
  rule: SplitRule | undefined,
  blockSize: number,
): CompiledTrees {
  const codes = categoryCodes(artifact, inputs);
  const trees = prefixes.map(
    (prefix) =>
      new CompiledTree(
        treeArrays(artifact.arrays, prefix),
        inputs.slots,
        prefix.replace(/\.$/, ""),
        codes,
        rule,
      ),
  );
  return new CompiledTrees(trees, inputs.slots, blockSize);
}

const compileTreeModel: ModelCompiler = (artifact, inputs, blockSize) => {
  const model = section(artifact, "tree");
  const trees = compileTrees(artifact, inputs, ["tree."], model.splitRule, blockSize);
  const [tree] = trees.trees;
  const sum = new Float64Array(blockSize);
  const value = tree.value;
  return {
    block(data, stride, n, missing, out, offset) {
      // -0 + v is v for every v, -0 included: the leaf values themselves.
      sum.fill(-0, 0, n);
      trees.add(data, stride, n, missing, sum);
      for (let r = 0; r < n; r++) out[offset + r] = sum[r];
    },
    row: (values) => value[tree.leafOf(values)],
  };
};

interface Sections {
  tree: TreeModelSection;
  ensemble: EnsembleModelSection;
  linear: LinearModelSection;
}

function section<Kind extends keyof Sections>(artifact: ModelArtifact, kind: Kind): Sections[Kind] {
  const parsed = modelSections[kind].safeParse(artifact.manifest.model);
  if (!parsed.success) {
    throw new MlopsError("artifact_invalid", formatZodIssues(parsed.error, "model"));
  }
  return parsed.data as unknown as Sections[Kind];
}

const compileEnsembleModel: ModelCompiler = (artifact, inputs, blockSize) => {
  const model = section(artifact, "ensemble");
  const compiled = compileTrees(
    artifact,
    inputs,
    Array.from({ length: model.treeCount }, (_, t) => `trees.${t}.`),
    model.splitRule,
    blockSize,
  );
  const trees = compiled.trees;
  const sum = new Float64Array(blockSize);
  const count = trees.length;
  if (model.aggregation === "mean") {
    // scikit-learn's forests: add the trees' predictions in order, then divide by their count.
    return {
      block(data, stride, n, missing, out, offset) {
        sum.fill(0, 0, n);
        compiled.add(data, stride, n, missing, sum);
        for (let r = 0; r < n; r++) out[offset + r] = sum[r] / count;
      },
      row(values) {
        let total = 0;
        for (const tree of trees) total += tree.value[tree.leafOf(values)];
        return total / count;
      },
    };
  }
  // Gradient boosting: start at the baseline, add learningRate × each tree, then the inverse
  // link. A learning rate of 1 (XGBoost, whose leaves hold it already) skips the multiply.
  const learningRate = model.learningRate ?? 1;
  const baseValue = model.baseValue ?? 0;
  const link = inverseLink(model.link ?? "identity");
  if (learningRate !== 1) {
    for (const tree of trees) {
      const value = tree.value;
      for (let k = 0; k < value.length; k++) value[k] *= learningRate;
    }
  }
  return {
    block(data, stride, n, missing, out, offset) {
      sum.fill(baseValue, 0, n);
      compiled.add(data, stride, n, missing, sum);
      if (link === undefined) for (let r = 0; r < n; r++) out[offset + r] = sum[r];
      else for (let r = 0; r < n; r++) out[offset + r] = link(sum[r]);
    },
    row(values) {
      let total = baseValue;
      for (const tree of trees) total += tree.value[tree.leafOf(values)];
      return link === undefined ? total : link(total);
    },
  };
};

/** Score → prediction for a link; undefined for the identity. */
function inverseLink(link: EnsembleLink): ((score: number) => number) | undefined {
  if (link === "log") return Math.exp;
  if (link === "logit") return (score) => 1 / (1 + Math.exp(-score));
  return undefined;
}

const compileLinearModel: ModelCompiler = (artifact, modelInputs, blockSize) => {
  const inputSlots = modelInputs.slots;
  for (const column of modelInputs.columns) {
    if (column.kind === "category") {
      throw new MlopsError(
        "artifact_invalid",
        `model.inputs: "${column.name}" is a category column; ` +
          "the model reads numbers (encode it with a one_hot step)",
      );
    }
  }
  const model = section(artifact, "linear");
  const coefficients = artifact.arrays.coefficients;
  if (!(coefficients instanceof Float64Array)) {
    throw new MlopsError(
      "artifact_invalid",
      coefficients === undefined
        ? `arrays: missing "coefficients" (a linear model needs one per input)`
        : `arrays["coefficients"]: expected Float64Array, got ${coefficients.constructor.name}`,
    );
  }
  if (coefficients.length !== inputSlots.length) {
    throw new MlopsError(
      "artifact_invalid",
      `arrays["coefficients"] has ${coefficients.length} entries, ` +
        `expected ${inputSlots.length} (one per model input)`,
    );
  }
  const intercept = model.intercept;
  const inputs = model.inputs;
  const sum = new Float64Array(blockSize);
  const missingInput = (input: number, row: number | undefined): never => {
    const where = row === undefined ? "" : ` at rows[${row}]`;
    throw new MlopsError(
      "predictor_input",
      `linear model input "${inputs[input]}" is missing${where}; ` +
        "a linear model needs every input (add a simple_imputer step)",
    );
  };
  return {
    block(data, stride, n, missing, out, offset) {
      sum.fill(0, 0, n);
      for (let j = 0; j < inputSlots.length; j++) {
        const slot = inputSlots[j];
        if (missing[slot] !== 0) {
          for (let r = 0; r < n; r++)
            if (Number.isNaN(data[r * stride + slot])) missingInput(j, offset + r);
        }
        const c = coefficients[j];
        for (let r = 0, at = slot; r < n; r++, at += stride) sum[r] += c * data[at];
      }
      for (let r = 0; r < n; r++) out[offset + r] = sum[r] + intercept;
    },
    row(values) {
      let total = 0;
      for (let j = 0; j < inputSlots.length; j++) {
        const x = values[inputSlots[j]];
        if (Number.isNaN(x)) missingInput(j, undefined);
        total += coefficients[j] * x;
      }
      return total + intercept;
    },
  };
};

const modelKinds: Record<string, ModelCompiler> = {
  tree: compileTreeModel,
  ensemble: compileEnsembleModel,
  linear: compileLinearModel,
};

/**
 * The model kinds `createPredictor` can run, sorted.
 *
 * @example
 * predictorKinds(); // ["ensemble", "linear", "tree"]
 */
export function predictorKinds(): string[] {
  return Object.keys(modelKinds).sort();
}

/** A Frame, also one from another copy of this package (duplicate installs). */
function isFrame(value: unknown): value is Frame {
  if (value instanceof Frame) return true;
  const candidate = value as Frame | null;
  return (
    typeof candidate === "object" &&
    candidate !== null &&
    typeof candidate.has === "function" &&
    typeof candidate.column === "function" &&
    Array.isArray(candidate.names) &&
    Number.isInteger(candidate.rowCount)
  );
}

class CompiledPredictor implements Predictor {
  readonly manifest: ModelManifest;
  readonly schema: Schema;
  readonly inputs: readonly string[];
  readonly #input: InputPlan;
  readonly #steps: CompiledStep[];
  readonly #model: CompiledModel;
  readonly #blockSize: number;
  readonly #stride: number;
  readonly #block: Float64Array;
  readonly #missing: Uint8Array;
  readonly #row: Float64Array;
  readonly #rowMissing: Uint8Array;

  constructor(artifact: ModelArtifact) {
    // Artifacts made by hand get the same checks as decoded ones (payload taken from arrays).
    const manifest = validateManifest(
      { ...artifact.manifest, payload: describeArrays(artifact.arrays) },
      "artifact",
    );
    const compile = Object.hasOwn(modelKinds, manifest.kind)
      ? modelKinds[manifest.kind]
      : undefined;
    if (!compile) {
      throw new MlopsError(
        "predictor_unsupported",
        `No built-in predictor for model kind "${manifest.kind}" ` +
          `(known kinds: ${predictorKinds().join(", ")}); ` +
          "serve it with a runtime that supports it",
      );
    }
    this.manifest = manifest;
    this.schema = Schema.fromJSON(manifest.schema);
    this.inputs = Object.freeze([...manifest.model.inputs]);
    const layout = new ColumnLayout();
    this.#input = new InputPlan(this.schema, layout);
    this.#steps = manifest.preprocessing.map((step, i) =>
      compileStep(step, layout, `preprocessing[${i}] (${step.kind})`),
    );
    const columns = this.inputs.map((name) => layout.get(name, "model.inputs"));
    const inputSlots = Int32Array.from(columns, (column) => column.slot);
    if (inputSlots.length === 0)
      throw new MlopsError("artifact_invalid", "model.inputs: the model reads no columns");
    this.#stride = layout.slotCount;
    this.#blockSize = blockRows(this.#stride);
    this.#model = compile(artifact, { slots: inputSlots, columns }, this.#blockSize);
    this.#block = new Float64Array(this.#blockSize * this.#stride);
    this.#missing = new Uint8Array(this.#stride);
    this.#row = new Float64Array(this.#stride);
    this.#rowMissing = new Uint8Array(this.#stride);
  }

  predict(frame: Frame): Float64Array {
    if (!isFrame(frame)) {
      throw new MlopsError(
        "argument_invalid",
        "predict: expected a Frame (use schema.toFrame(rows) for row objects)",
      );
    }
    const out = new Float64Array(frame.rowCount);
    const sources = this.#input.bind(frame, false);
    if (sources !== undefined && this.#run(sources, frame.rowCount, out)) return out;
    // Not valid as it is: the schema reports every issue, or converts a frame that only needed
    // conforming (text numbers, defaults for absent optional columns, …).
    const conformed = this.schema.conformFrame(frame);
    const trusted = this.#input.bind(conformed, true);
    if (trusted === undefined || !this.#run(trusted, conformed.rowCount, out))
      throw inconsistentInput();
    return out;
  }

  #run(sources: NonNullable<ReturnType<InputPlan["bind"]>>, n: number, out: Float64Array): boolean {
    const size = this.#blockSize;
    const stride = this.#stride;
    const data = this.#block;
    const missing = this.#missing;
    const steps = this.#steps;
    for (let start = 0; start < n; start += size) {
      const count = Math.min(size, n - start);
      missing.fill(0);
      if (!this.#input.copyBlock(sources, start, count, data, stride, missing)) return false;
      for (let i = 0; i < steps.length; i++) steps[i].apply(data, stride, count, missing, start);
      this.#model.block(data, stride, count, missing, out, start);
    }
    return true;
  }

  predictRow(row: Record<string, unknown>): number {
    const values = this.#row;
    const missing = this.#rowMissing;
    if (
      typeof row !== "object" ||
      row === null ||
      Array.isArray(row) ||
      !this.#input.readRow(row, values, missing)
    ) {
      const parsed = this.schema.parseRow(row) as Record<string, unknown>;
      if (!this.#input.readRow(parsed, values, missing)) throw inconsistentInput();
    }
    const steps = this.#steps;
    for (let i = 0; i < steps.length; i++) steps[i].apply(values, this.#stride, 1, missing, -1);
    return this.#model.row(values);
  }
}

/**
 * Compiles an artifact into a predictor: the schema checks, preprocessing steps and model are
 * resolved to slots and typed arrays once, so `predict` runs block by block over columns and
 * `predictRow` allocates nothing. Throws `predictor_unsupported` for a model kind it cannot run
 * and `artifact_invalid` for an inconsistent artifact.
 *
 * @example
 * const predictor = createPredictor(await readArtifact("model.mlops"));
 * predictor.predictRow({ alcohol: 9.4, color: "red" }); // 5.2
 * predictor.predict(frame); // Float64Array
 */
export function createPredictor(artifact: ModelArtifact): Predictor {
  return new CompiledPredictor(artifact);
}
