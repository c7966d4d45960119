import { type Column, type Frame, MlopsError, type NumericProfile } from "@mlops/core";
import { isFrame, resolveTarget } from "./target.js";

/**
 * Options of `fit` beyond the data.
 *
 * @example
 * tree.fit(frame, "price", { sampleWeight: weights });
 */
export interface FitOptions {
  /**
   * One non-negative weight per row (scikit-learn's `sample_weight`). Rows with weight 0 are
   * left out of the fit; forests pass bootstrap counts here.
   */
  sampleWeight?: ArrayLike<number>;
  /**
   * Profile the training data (default true): the features, the target and the model's
   * predictions on them, stored by `toArtifact` so drift can be measured against them later.
   * Searches and cross-validation pass false for the models they only score.
   */
  profile?: boolean;
}

/**
 * What `fit` works on once its inputs are checked: columns by name, the target, weights. An
 * estimator receives it in `fitData`.
 *
 * @example
 * protected fitData({ columns, target, sampleWeight }: TrainingData): void { ... }
 */
export interface TrainingData {
  /** The feature columns, in frame order (the target column excluded). */
  featureNames: string[];
  /** One Float64Array per feature, shared with the frame (NaN = missing). */
  columns: Float64Array[];
  /** The column kind of each feature (`number`, `integer` or `boolean`). */
  featureKinds: NumericKind[];
  /**
   * Only for estimators that read category columns natively (`categoryFeatures` of
   * `resolveTrainingData`): per feature, the dictionary of a category column — whose entry in
   * `columns` then holds its codes as numbers, NaN for a missing value — or undefined.
   */
  categories?: (readonly string[] | undefined)[];
  /** The target, finite, one value per row. */
  target: Float64Array;
  /** The target's name: the column named by `fit`, else `"target"` (made unique). */
  targetName: string;
  /** Checked weights, or undefined when every row weighs 1. */
  sampleWeight: Float64Array | undefined;
  rowCount: number;
  /**
   * Set by `fit` when it will profile the training data: the rows (ascending) whose predictions
   * the profile asks for after `fitData`, which may predict them on the way (see
   * `profilePredictions`).
   */
  profileRows?: Int32Array;
  /**
   * Set by `fitData` when it has profiled feature columns on the way (a tree's splitter sorts
   * the features anyway: see `prepareForFit`): the training profile takes them as they are.
   */
  featureProfiles?: Map<string, NumericProfile>;
  /**
   * Set by `fitData` when it has predicted `profileRows` on the way (a tree from its prepared
   * columns, a forest tree by tree as it builds, each tree still in cache): the profile takes
   * them instead of asking `predictTrainingRows`.
   */
  profilePredictions?: Float64Array;
  /**
   * Set by `fitData` when it has profiled the predictions on `profileRows` itself (a tree from
   * its leaves' sizes: see `sortedTrainingPredictions`), with the default settings.
   */
  predictionProfile?: NumericProfile;
}

/**
 * The kinds a feature column may have (category columns must be encoded first).
 *
 * @example
 * const kind: NumericKind = "integer";
 */
export type NumericKind = "number" | "integer" | "boolean";

export { isFrame } from "./target.js";

function categoryError(context: string, name: string): MlopsError {
  return new MlopsError(
    "data_invalid",
    `${context}: feature "${name}" is a category column; encode it first ` +
      "(OneHotEncoder, or a one_hot preprocessing step): this estimator reads numbers",
  );
}

/**
 * The Float64Array of each named feature column of `frame`, checked: the column exists and is
 * numeric (a category column gets an error suggesting OneHotEncoder).
 *
 * @example
 * const [rooms, age] = featureColumns(frame, ["rooms", "age"], "predict");
 */
export function featureColumns(
  frame: Frame,
  names: readonly string[],
  context: string,
  categories?: readonly (readonly string[] | undefined)[],
): Float64Array[] {
  if (!isFrame(frame)) {
    throw new MlopsError(
      "argument_invalid",
      `${context}: expected a Frame (use Frame.fromRows(rows) or schema.toFrame(rows) for rows)`,
    );
  }
  return names.map((name) => {
    if (!frame.has(name)) {
      throw new MlopsError(
        "data_invalid",
        `${context}: the frame has no column "${name}" (the model reads: ${names.join(", ")})`,
      );
    }
    const column: Column = frame.column(name);
    const dictionary = categories?.[names.indexOf(name)];
    if (dictionary !== undefined) {
      if (column.kind !== "category") {
        throw new MlopsError(
          "data_invalid",
          `${context}: feature "${name}" was a category column at fit, got a ${column.kind} column`,
        );
      }
      return categoryCodesIn(column.codes, column.dictionary, dictionary);
    }
    if (column.kind === "category") throw categoryError(context, name);
    return column.values;
  });
}

/**
 * A category column's codes re-expressed as positions in `dictionary` (as numbers; NaN for a
 * missing value or a value `dictionary` lacks).
 */
function categoryCodesIn(
  codes: Int32Array,
  own: readonly string[],
  dictionary: readonly string[],
): Float64Array {
  const position = new Map(dictionary.map((value, i) => [value, i]));
  const map = Float64Array.from(own, (value) => position.get(value) ?? Number.NaN);
  const out = new Float64Array(codes.length);
  for (let i = 0; i < codes.length; i++) out[i] = codes[i] < 0 ? Number.NaN : map[codes[i]];
  return out;
}

/**
 * Checks and unpacks `fit`'s inputs. A string `target` names a numeric column, left out of
 * the features; an array target has one finite value per row and every column is a feature.
 */
export function resolveTrainingData(
  frame: Frame,
  target: string | ArrayLike<number>,
  options: FitOptions,
  context: string,
  categoryFeatures = false,
): TrainingData {
  const { rowCount, targetName, values, featureNames } = resolveTarget(frame, target, context);
  const categories = categoryFeatures
    ? featureNames.map((name) => {
        const column = frame.has(name) ? frame.column(name) : undefined;
        return column?.kind === "category" ? column.dictionary : undefined;
      })
    : undefined;
  const columns = featureColumns(frame, featureNames, context, categories);
  const featureKinds = featureNames.map((name) => {
    const kind = frame.column(name).kind;
    return (kind === "category" ? "integer" : kind) as NumericKind;
  });
  const sampleWeight = checkSampleWeight(options.sampleWeight, rowCount, context);
  return {
    featureNames,
    columns,
    featureKinds,
    ...(categories !== undefined ? { categories } : {}),
    target: values,
    targetName,
    sampleWeight,
    rowCount,
  };
}

/** Checks `sampleWeight`: one finite, non-negative weight per row, not all zero. */
export function checkSampleWeight(
  sampleWeight: ArrayLike<number> | undefined,
  rowCount: number,
  context: string,
): Float64Array | undefined {
  if (sampleWeight === undefined) return undefined;
  if (sampleWeight === null || typeof sampleWeight.length !== "number") {
    throw new MlopsError(
      "argument_invalid",
      `${context}: sampleWeight: expected one number per row, got ${typeof sampleWeight}`,
    );
  }
  if (sampleWeight.length !== rowCount) {
    throw new MlopsError(
      "data_invalid",
      `${context}: sampleWeight has ${sampleWeight.length} values, expected ${rowCount} ` +
        "(one per row)",
    );
  }
  const weights =
    sampleWeight instanceof Float64Array ? sampleWeight : Float64Array.from(sampleWeight);
  let total = 0;
  for (let i = 0; i < rowCount; i++) {
    const value = weights[i];
    if (!(value >= 0) || value === Number.POSITIVE_INFINITY) {
      throw new MlopsError(
        "data_invalid",
        `${context}: sampleWeight[${i}]: expected a finite number ≥ 0, got ${value}`,
      );
    }
    total += value;
  }
  if (!(total > 0)) {
    throw new MlopsError(
      "data_invalid",
      `${context}: sampleWeight: every weight is 0; at least one row must weigh more than 0`,
    );
  }
  return weights;
}
