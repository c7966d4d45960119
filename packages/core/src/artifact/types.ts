import type { TrainingProfile } from "../profile/types.js";
import type { SchemaJSON } from "../schema/schema.js";

/**
 * The format string of every model artifact this SDK writes and reads.
 *
 * @example
 * artifact.manifest.format === MODEL_FORMAT; // "mlops.model/v1"
 */
export const MODEL_FORMAT = "mlops.model/v1";

/** Element types a payload array may have (all stored little-endian). */
export type ArrayDType = "float64" | "int32" | "uint8";

/** A typed array stored in an artifact's binary payload. */
export type ArtifactArray = Float64Array | Int32Array | Uint8Array;

/** Where one array lies in the payload: byte `offset` from the payload start, `length` elements. */
export interface ArrayDescriptor {
  dtype: ArrayDType;
  offset: number;
  length: number;
}

/** Where a model came from. `createdAt` is an ISO 8601 time; `sdkVersion` the core version. */
export interface Lineage {
  /** Digest of the training data (e.g. `sha256:…`). */
  dataDigest?: string;
  /** Rows the model was fitted on. */
  rowCount?: number;
  createdAt: string;
  sdkVersion: string;
  /** The source commit (from `GITHUB_SHA` or `git rev-parse HEAD`). */
  gitCommit?: string;
  /** The tracking run that produced the model. */
  runId?: string;
  [key: string]: unknown;
}

/** The kind-specific model description; every kind names the columns it reads, in order. */
export interface ModelSection {
  /** Column names the model reads after preprocessing; tree `feature` indices point here. */
  inputs: string[];
  [key: string]: unknown;
}

/**
 * How splits compare an input with a threshold (a row goes left when it holds):
 * `"float64_le"` `x <= t` (the default, and the meaning of artifacts without the field);
 * `"float32_le"` `float32(x) <= t` (scikit-learn, our exact splitter); `"float32_lt"`
 * `float32(x) < float32(t)` (XGBoost).
 */
export type SplitRule = "float64_le" | "float32_le" | "float32_lt";

/**
 * How a boosted ensemble's summed score becomes the prediction: `"identity"` (the default),
 * `"log"` (prediction = exp(score): Poisson, gamma, Tweedie objectives) or `"logit"`
 * (prediction = 1 / (1 + exp(-score)): `reg:logistic`).
 */
export type EnsembleLink = "identity" | "log" | "logit";

/** `kind: "tree"`: one regression tree stored in the `tree.*` arrays. */
export interface TreeModelSection extends ModelSection {
  /**
   * For inputs read by categorical splits: the categories in the order the split bitsets number
   * them (bit `c` is `categories[input][c]`), the values of a category column or the integers of
   * a numeric one (`"0"`, `"7"`). A value missing here goes where missing values go. A numeric
   * input without a list reads its integer value as the category number.
   */
  categories?: Record<string, string[]>;
  /** How splits compare (default `"float64_le"`). */
  splitRule?: SplitRule;
}

/** `kind: "ensemble"`: `treeCount` trees in `trees.<i>.*` arrays. */
export interface EnsembleModelSection extends ModelSection {
  /** `"mean"`: average of the trees (random forest); `"sum"`: boosting. */
  aggregation: "mean" | "sum";
  /** Boosting only: prediction = baseValue + learningRate × each tree, summed. Default 1. */
  learningRate?: number;
  /** Boosting only: the initial prediction. Default 0. */
  baseValue?: number;
  /**
   * Boosting only: how the sum becomes a prediction: `"identity"` (default), `"log"`, where
   * the sum is a logarithm and the prediction its `exp` (Poisson, gamma, Tweedie losses), or
   * `"logit"`, where the prediction is `1 / (1 + exp(-sum))` (XGBoost's `reg:logistic`).
   */
  link?: EnsembleLink;
  treeCount: number;
  /** As for `tree`: the numbering of categories of category inputs (categorical splits). */
  categories?: Record<string, string[]>;
  /** How every tree's splits compare (default `"float64_le"`). */
  splitRule?: SplitRule;
}

/** `kind: "linear"`: prediction = Σ coefficients[j] × inputs[j] + intercept. */
export interface LinearModelSection extends ModelSection {
  intercept: number;
}

/** `simple_imputer`: replaces missing values (NaN, or category -1) of `columns[i]` by `fill[i]`. */
export interface SimpleImputerStep {
  kind: "simple_imputer";
  columns: string[];
  fill: (number | string)[];
}

/** `standard_scaler`: `(x - mean[i]) / scale[i]`; a scale of 0 counts as 1 (as in scikit-learn). */
export interface StandardScalerStep {
  kind: "standard_scaler";
  columns: string[];
  mean: number[];
  scale: number[];
}

/**
 * `one_hot`: replaces the category `column` by one 0/1 column per entry of `categories`, named
 * `outputs[i]`. A value outside `categories`, or a missing one, becomes all zeros with
 * `handleUnknown: "ignore"` and a `predictor_input` error with `"error"`.
 */
export interface OneHotStep {
  kind: "one_hot";
  column: string;
  categories: string[];
  handleUnknown: "ignore" | "error";
  outputs: string[];
}

/**
 * `polynomial_features`: replaces the numeric `columns` by one column per row of `powers`,
 * named `outputs[i]`, holding `Π_j columns[j] ^ powers[i][j]` (scikit-learn's `powers_`; a row
 * of zeros is the constant 1). Outputs take the place of the first input column; a missing
 * input makes every output that uses it missing.
 */
export interface PolynomialFeaturesStep {
  kind: "polynomial_features";
  columns: string[];
  powers: number[][];
  outputs: string[];
}

/** `drop_columns`: removes `columns` (a feature selector's unselected inputs, say). */
export interface DropColumnsStep {
  kind: "drop_columns";
  columns: string[];
}

/** A preprocessing step: a built-in kind, or one added with `registerPreprocessingStep`. */
export type PreprocessingStep =
  | SimpleImputerStep
  | StandardScalerStep
  | OneHotStep
  | PolynomialFeaturesStep
  | DropColumnsStep
  | { kind: string; [key: string]: unknown };

/** The JSON half of an artifact: everything except the typed arrays' contents. */
export interface ModelManifest {
  format: typeof MODEL_FORMAT;
  /** `"tree"`, `"ensemble"`, `"linear"`, or a custom kind served by a plug-in runtime. */
  kind: string;
  schema: SchemaJSON;
  preprocessing: PreprocessingStep[];
  model: ModelSection;
  params: Record<string, unknown>;
  metrics: Record<string, number>;
  lineage: Lineage;
  payload: { arrays: Record<string, ArrayDescriptor>; byteLength: number };
  /**
   * The training profile: the data the model was fitted on, sketched (features, target,
   * predictions). Drift is measured against it. Absent from artifacts made before profiles
   * existed, or made without data.
   */
  profile?: TrainingProfile;
  [key: string]: unknown;
}

/** A model in memory: its manifest and its named typed arrays (`tree.left`, …). */
export interface ModelArtifact {
  manifest: ModelManifest;
  arrays: Record<string, ArtifactArray>;
}
