import { MlopsError } from "../errors/error.js";
import { Schema, type SchemaJSON } from "../schema/schema.js";
import { createArtifact } from "./create.js";
import type { Lineage, ModelArtifact } from "./types.js";

/** A node of ml-cart's `DecisionTreeRegression#toJSON()`: a leaf has `distribution`. */
export interface MlCartNode {
  splitValue?: number;
  splitColumn?: number;
  left?: MlCartNode;
  right?: MlCartNode;
  distribution?: number;
  [key: string]: unknown;
}

/** ml-cart's `DecisionTreeRegression#toJSON()` output (or its `JSON.stringify` parsed back). */
export interface MlCartRegressionJSON {
  name: "DTRegression";
  options?: Record<string, unknown>;
  root: MlCartNode;
}

export interface ImportMlCartOptions {
  /** The feature contract of the rows the tree predicts. */
  schema: Schema | SchemaJSON;
  /** Column names in the order of ml-cart's feature columns (its `splitColumn` indices). */
  inputs: string[];
  metrics?: Record<string, number>;
  lineage?: Partial<Lineage>;
}

const bits = new Float64Array(1);
const raw = new BigUint64Array(bits.buffer);

/** The largest double below `x` (x itself for NaN and -Infinity). */
export function nextDown(x: number): number {
  if (Number.isNaN(x) || x === Number.NEGATIVE_INFINITY) return x;
  if (x === 0) return -Number.MIN_VALUE;
  bits[0] = x;
  raw[0] = x > 0 ? raw[0] - 1n : raw[0] + 1n;
  return bits[0];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function jsonParams(options: Record<string, unknown>): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) {
    if (typeof value === "string" || typeof value === "boolean") params[key] = value;
    else if (typeof value === "number")
      params[key] = Number.isFinite(value) ? value : String(value);
  }
  return params;
}

/**
 * Converts an ml-cart regression tree (`DecisionTreeRegression#toJSON()`) into a `tree` artifact
 * that predicts exactly what ml-cart's `predict` does. ml-cart goes left when
 * `x < splitValue`; the artifact goes left when `x <= threshold`, so each threshold is the
 * largest double below `splitValue`. A missing value goes right, as `NaN < v` is false there.
 * Throws `artifact_invalid` naming the node path (`root.left.right`) of a malformed node.
 *
 * @example
 * const tree = new DecisionTreeRegression({ maxDepth: 4 });
 * tree.train(X, y);
 * const artifact = importMlCartTree(tree.toJSON(), { schema: houses, inputs: ["rooms", "age"] });
 */
export function importMlCartTree(json: unknown, options: ImportMlCartOptions): ModelArtifact {
  const fail = (detail: string): never => {
    throw new MlopsError("artifact_invalid", `ml-cart tree: ${detail}`);
  };
  if (!isObject(json) || !isObject(json.root))
    fail("expected DecisionTreeRegression#toJSON() output");
  const model = json as unknown as MlCartRegressionJSON;
  if (model.name !== "DTRegression") {
    fail(
      `name is ${JSON.stringify(model.name)}, expected "DTRegression" ` +
        "(only regression trees import)",
    );
  }
  const schema =
    options.schema instanceof Schema ? options.schema : Schema.fromJSON(options.schema);
  const inputs = options.inputs;
  if (!Array.isArray(inputs) || inputs.length === 0)
    fail("options.inputs must name the tree's columns");
  for (const name of inputs) {
    if (!schema.featureNames.includes(name)) {
      fail(
        `input "${name}" is not a feature of the schema ` +
          `(features: ${schema.featureNames.join(", ")})`,
      );
    }
    if (schema.fields[name].kind === "category") {
      fail(`input "${name}" is a category field; ml-cart splits numbers`);
    }
  }
  const left: number[] = [];
  const right: number[] = [];
  const feature: number[] = [];
  const threshold: number[] = [];
  const value: number[] = [];
  // Depth-first, left before right (scikit-learn's node order), without recursion.
  const stack: { node: unknown; path: string; parent: number; side: "left" | "right" | "" }[] = [
    { node: model.root, path: "root", parent: -1, side: "" },
  ];
  while (stack.length > 0) {
    const { node, path, parent, side } = stack.pop()!;
    if (!isObject(node)) fail(`${path}: expected a node object`);
    const current = node as MlCartNode;
    const id = left.length;
    if (parent >= 0) (side === "left" ? left : right)[parent] = id;
    left.push(-1);
    right.push(-1);
    if (current.distribution !== undefined) {
      if (typeof current.distribution !== "number" || !Number.isFinite(current.distribution)) {
        fail(`${path}.distribution: expected a finite number (a regression leaf)`);
      }
      feature.push(-2);
      threshold.push(-2);
      value.push(current.distribution);
      continue;
    }
    const column = current.splitColumn;
    const split = current.splitValue;
    if (
      typeof column !== "number" ||
      !Number.isInteger(column) ||
      column < 0 ||
      column >= inputs.length
    ) {
      fail(
        `${path}.splitColumn: expected an integer in 0..${inputs.length - 1}, ` +
          `got ${String(column)}`,
      );
    }
    if (typeof split !== "number" || Number.isNaN(split)) {
      fail(`${path}.splitValue: expected a number, got ${String(split)}`);
    }
    feature.push(column as number);
    threshold.push(nextDown(split as number));
    value.push(Number.NaN);
    stack.push({ node: current.right, path: `${path}.right`, parent: id, side: "right" });
    stack.push({ node: current.left, path: `${path}.left`, parent: id, side: "left" });
  }
  return createArtifact({
    kind: "tree",
    schema,
    model: { inputs: [...inputs] },
    arrays: {
      "tree.left": Int32Array.from(left),
      "tree.right": Int32Array.from(right),
      "tree.feature": Int32Array.from(feature),
      "tree.threshold": Float64Array.from(threshold),
      "tree.value": Float64Array.from(value),
      "tree.missingLeft": new Uint8Array(left.length),
    },
    params: { source: "ml-cart", ...jsonParams(isObject(model.options) ? model.options : {}) },
    metrics: options.metrics,
    lineage: options.lineage,
  });
}
