import { createArtifact } from "../artifact/create.js";
import type { ArtifactArray, EnsembleLink, Lineage, ModelArtifact } from "../artifact/types.js";
import { MlopsError } from "../errors/error.js";
import { field } from "../schema/field.js";
import { schema as makeSchema, Schema } from "../schema/schema.js";

/**
 * The regression objectives `importXGBoost` reads, and how each turns the summed score into a
 * prediction (XGBoost's `PredTransform`) and `base_score` into a score (`ProbToMargin`).
 */
const OBJECTIVES: Record<string, EnsembleLink> = {
  "reg:squarederror": "identity",
  "reg:linear": "identity",
  "reg:squaredlogerror": "identity",
  "reg:pseudohubererror": "identity",
  "reg:absoluteerror": "identity",
  "reg:logistic": "logit",
  "count:poisson": "log",
  "reg:gamma": "log",
  "reg:tweedie": "log",
};

/** Options of `importXGBoost`. */
export interface ImportXGBoostOptions {
  /**
   * The feature contract. Default: one nullable number per feature, named from the model's
   * `feature_names` (a model trained on a DataFrame) or `f0, f1, …` (XGBoost's own names).
   * A given schema must have every feature the model reads.
   */
  schema?: Schema;
  /** Names for the model's features in order, when the model has none (or to rename them). */
  featureNames?: readonly string[];
  /** Extra lineage (the training run, the data digest). */
  lineage?: Partial<Lineage>;
  /** Metrics to store with the model (e.g. its hold-out RMSE). */
  metrics?: Record<string, number>;
}

interface XGBoostTree {
  left_children: number[];
  right_children: number[];
  split_indices: number[];
  split_conditions: number[];
  default_left: (number | boolean)[];
  split_type?: number[];
  sum_hessian?: number[];
}

function fail(path: string, detail: string): never {
  throw new MlopsError("artifact_invalid", `XGBoost model: ${path}: ${detail}`);
}

function objectAt(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    fail(path, `expected an object, got ${value === null ? "null" : typeof value}`);
  }
  return value as Record<string, unknown>;
}

function numberArray(value: unknown, path: string, length?: number): number[] {
  if (!Array.isArray(value)) fail(path, "expected an array of numbers");
  const array = value as unknown[];
  if (length !== undefined && array.length !== length) {
    fail(path, `has ${array.length} entries, expected ${length} (one per node)`);
  }
  for (let i = 0; i < array.length; i++) {
    const item = array[i];
    if (typeof item === "boolean") continue;
    if (typeof item !== "number" || Number.isNaN(item)) {
      fail(`${path}[${i}]`, `expected a number, got ${JSON.stringify(item)}`);
    }
  }
  return array as number[];
}

/** XGBoost writes its parameters as strings ("5E-1", "150"). */
function numberParameter(value: unknown, path: string): number {
  const number = typeof value === "string" ? Number(value) : value;
  if (typeof number !== "number" || !Number.isFinite(number)) {
    fail(path, `expected a number, got ${JSON.stringify(value)}`);
  }
  return number as number;
}

/** XGBoost's `ProbToMargin`: base_score in the prediction's scale → the score it starts from. */
function baseMargin(baseScore: number, link: EnsembleLink, path: string): number {
  if (link === "identity") return baseScore;
  if (link === "log") {
    if (!(baseScore > 0)) fail(path, `${baseScore}: a log-link objective needs base_score > 0`);
    return Math.log(baseScore);
  }
  if (!(baseScore > 0 && baseScore < 1)) {
    fail(path, `${baseScore}: reg:logistic needs base_score in (0, 1)`);
  }
  return Math.log(baseScore / (1 - baseScore));
}

/**
 * One XGBoost tree as our arrays: nodes renumbered breadth-first from the root (pruned nodes
 * that XGBoost keeps in its arrays are left out), split thresholds as XGBoost's float32 split
 * conditions, leaf values (XGBoost keeps them in `split_conditions`) scaled by `weight` (DART).
 */
function convertTree(
  tree: XGBoostTree,
  path: string,
  featureCount: number,
  weight: number,
  prefix: string,
  arrays: Record<string, ArtifactArray>,
): void {
  const left = numberArray(tree.left_children, `${path}.left_children`);
  const n = left.length;
  const right = numberArray(tree.right_children, `${path}.right_children`, n);
  const feature = numberArray(tree.split_indices, `${path}.split_indices`, n);
  const condition = numberArray(tree.split_conditions, `${path}.split_conditions`, n);
  const defaultLeft = numberArray(tree.default_left, `${path}.default_left`, n);
  const splitType = tree.split_type ? numberArray(tree.split_type, `${path}.split_type`, n) : [];
  const hessian = tree.sum_hessian ? numberArray(tree.sum_hessian, `${path}.sum_hessian`, n) : [];
  if (n === 0) fail(`${path}.left_children`, "a tree needs at least one node");
  const order: number[] = [0];
  const position = new Map<number, number>([[0, 0]]);
  for (let q = 0; q < order.length; q++) {
    const node = order[q];
    const l = left[node];
    const r = right[node];
    if (l === -1 && r === -1) continue;
    for (const child of [l, r]) {
      if (!(Number.isInteger(child) && child > 0 && child < n) || position.has(child)) {
        fail(`${path}: node ${node}`, `child ${child} is not a node of this tree`);
      }
      position.set(child, order.length);
      order.push(child);
    }
    if (splitType[node] === 1) {
      fail(
        `${path}: node ${node}`,
        "is a categorical split, which importXGBoost does not read yet " +
          "(train with numeric features, e.g. one-hot encoded)",
      );
    }
    if (!(Number.isInteger(feature[node]) && feature[node] >= 0 && feature[node] < featureCount)) {
      fail(`${path}: node ${node}`, `feature ${feature[node]} is outside 0..${featureCount - 1}`);
    }
  }
  const size = order.length;
  const outLeft = new Int32Array(size);
  const outRight = new Int32Array(size);
  const outFeature = new Int32Array(size);
  const threshold = new Float64Array(size);
  const value = new Float64Array(size);
  const missingLeft = new Uint8Array(size);
  const cover = new Float64Array(size);
  for (let k = 0; k < size; k++) {
    const node = order[k];
    cover[k] = hessian[node] ?? 0;
    if (left[node] === -1) {
      outLeft[k] = -1;
      outRight[k] = -1;
      outFeature[k] = -2;
      threshold[k] = -2;
      // XGBoost adds float32 leaves into a float32 sum; they are float32 values already.
      value[k] = weight === 1 ? condition[node] : Math.fround(condition[node] * weight);
      continue;
    }
    outLeft[k] = position.get(left[node])!;
    outRight[k] = position.get(right[node])!;
    outFeature[k] = feature[node];
    threshold[k] = condition[node];
    missingLeft[k] = defaultLeft[node] ? 1 : 0;
  }
  arrays[`${prefix}left`] = outLeft;
  arrays[`${prefix}right`] = outRight;
  arrays[`${prefix}feature`] = outFeature;
  arrays[`${prefix}threshold`] = threshold;
  arrays[`${prefix}value`] = value;
  arrays[`${prefix}missingLeft`] = missingLeft;
  if (hessian.length === n) arrays[`${prefix}nodeSamples`] = cover;
}

/**
 * Converts a model saved by XGBoost (`booster.save_model("model.json")`, or the object
 * `JSON.parse` makes of it) into a boosted-ensemble artifact our predictors, the server, the
 * gate and the ONNX export take: `kind: "ensemble"`, `aggregation: "sum"`, the margin of
 * `base_score` as `baseValue`, XGBoost's `float32(x) < split` rule (`splitRule: "float32_lt"`),
 * missing values routed by `default_left`, and the objective's inverse link. Reads `gbtree` and
 * `dart` boosters (DART's tree weights are folded into the leaves) with the regression
 * objectives `reg:squarederror`, `reg:squaredlogerror`, `reg:pseudohubererror`,
 * `reg:absoluteerror`, `reg:logistic`, `count:poisson`, `reg:gamma` and `reg:tweedie`.
 * Throws `artifact_invalid` naming the part of the file it cannot read.
 *
 * @example
 * const artifact = importXGBoost(await readFile("model.json", "utf8"));
 * createPredictor(artifact).predictRow({ distance: 3.2, items: 4 }); // what booster.predict says
 */
export function importXGBoost(
  model: string | Uint8Array | Record<string, unknown>,
  options: ImportXGBoostOptions = {},
): ModelArtifact {
  let json: unknown = model;
  if (typeof model === "string" || model instanceof Uint8Array) {
    const text = typeof model === "string" ? model : new TextDecoder().decode(model);
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new MlopsError(
        "artifact_invalid",
        "XGBoost model: not JSON (save it with booster.save_model('model.json'); " +
          `the binary and UBJSON formats are not read): ${(error as Error).message}`,
      );
    }
  }
  const root = objectAt(json, "(root)");
  const learner = objectAt(root.learner, "learner");
  const parameters = objectAt(learner.learner_model_param, "learner.learner_model_param");
  const objective = objectAt(learner.objective, "learner.objective");
  const objectiveName = String(objective.name);
  if (!Object.hasOwn(OBJECTIVES, objectiveName)) {
    fail(
      "learner.objective.name",
      `"${objectiveName}" is not a regression objective importXGBoost reads ` +
        `(${Object.keys(OBJECTIVES).join(", ")})`,
    );
  }
  const link = OBJECTIVES[objectiveName];
  const targets = numberParameter(parameters.num_target ?? "1", "learner_model_param.num_target");
  const classes = numberParameter(parameters.num_class ?? "0", "learner_model_param.num_class");
  if (targets !== 1 || classes > 1) {
    fail("learner.learner_model_param", "the model has several outputs; one target is read");
  }
  const featureCount = numberParameter(parameters.num_feature, "learner_model_param.num_feature");
  const baseScore = numberParameter(parameters.base_score, "learner_model_param.base_score");

  let booster = objectAt(learner.gradient_booster, "learner.gradient_booster");
  let weights: number[] | undefined;
  if (booster.name === "dart") {
    weights = numberArray(booster.weight_drop, "learner.gradient_booster.weight_drop");
    booster = objectAt(booster.gbtree, "learner.gradient_booster.gbtree");
  } else if (booster.name !== "gbtree") {
    fail(
      "learner.gradient_booster.name",
      `"${String(booster.name)}": only tree boosters (gbtree, dart) are read`,
    );
  }
  const body = objectAt(booster.model, "gradient_booster.model");
  const trees = body.trees;
  if (!Array.isArray(trees) || trees.length === 0) {
    fail("gradient_booster.model.trees", "expected a non-empty array of trees");
  }
  if (weights !== undefined && weights.length !== trees.length) {
    fail("weight_drop", `has ${weights.length} weights for ${trees.length} trees`);
  }

  const stored = Array.isArray(learner.feature_names) ? (learner.feature_names as string[]) : [];
  const names = options.featureNames
    ? [...options.featureNames]
    : stored.length > 0
      ? stored.map(String)
      : Array.from({ length: featureCount }, (_, j) => `f${j}`);
  if (names.length !== featureCount) {
    throw new MlopsError(
      "argument_invalid",
      `importXGBoost: ${names.length} feature names for a model of ${featureCount} features`,
    );
  }
  const features =
    options.schema ??
    makeSchema(Object.fromEntries(names.map((name) => [name, field.number().nullable()])));
  if (!(features instanceof Schema)) {
    throw new MlopsError("argument_invalid", "importXGBoost: schema must be a Schema");
  }
  const missing = names.filter((name) => !features.featureNames.includes(name));
  if (missing.length > 0) {
    throw new MlopsError(
      "argument_invalid",
      `importXGBoost: the schema lacks the model's features ${missing.join(", ")}`,
    );
  }

  const arrays: Record<string, ArtifactArray> = {};
  trees.forEach((tree, t) => {
    const path = `gradient_booster.model.trees[${t}]`;
    convertTree(
      objectAt(tree, path) as unknown as XGBoostTree,
      path,
      featureCount,
      weights?.[t] ?? 1,
      `trees.${t}.`,
      arrays,
    );
  });
  const version = Array.isArray(root.version) ? root.version.join(".") : undefined;
  return createArtifact({
    kind: "ensemble",
    schema: features,
    model: {
      inputs: names,
      aggregation: "sum",
      baseValue: baseMargin(baseScore, link, "learner_model_param.base_score"),
      treeCount: trees.length,
      splitRule: "float32_lt",
      link,
    },
    arrays,
    params: {
      source: "xgboost",
      objective: objectiveName,
      booster: weights ? "dart" : "gbtree",
      baseScore,
      ...(version ? { xgboostVersion: version } : {}),
    },
    metrics: options.metrics,
    lineage: options.lineage,
  });
}
