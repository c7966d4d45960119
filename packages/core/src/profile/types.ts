/** The format string of a training profile. */
export const PROFILE_FORMAT = "mlops.profile/v1";

/**
 * The profile of a numeric column (`number` or `integer`).
 *
 * `edges` are values of the data, ascending and distinct: the minimum, then the percentiles
 * (inverted-CDF, so each edge is a value that occurs), with finer levels in both tails, then the
 * maximum. `counts[i]` is the number of values in `(edges[i-1], edges[i]]` (`counts[0]`: equal
 * to the minimum), so the cumulative sum of `counts` is the exact empirical CDF at every edge,
 * and `atEdge[i]` how many of them equal `edges[i]`: a value that repeats (an integer column, a
 * capped one) is a step, not a ramp. Counts, moments, minimum and maximum are always over every
 * value. The percentiles are those of every value for a column of at most the profile's sample
 * size (16384 by default), and then strictly between two edges lie at most 1/bins of the values,
 * which bounds the error of anything computed from the profile instead of the data (a KS
 * statistic is within 1/bins of the exact one). A larger column takes its percentiles from a
 * deterministic sample of that size, so the share between two edges is 1/bins give or take the
 * sample's error (a standard error of about 8 % of 1/bins at the defaults); its tails are refined
 * only as far as the sample reaches.
 */
export interface NumericProfile {
  kind: "number" | "integer";
  /** Values present (finite). */
  count: number;
  /** Values missing (null, NaN or ±Infinity). */
  missing: number;
  /** `missing / (count + missing)`; 0 for an empty column. */
  missingRate: number;
  /** Mean, standard deviation (ddof = 1, as pandas), min and max; null without values. */
  mean: number | null;
  std: number | null;
  min: number | null;
  max: number | null;
  edges: number[];
  counts: number[];
  atEdge: number[];
}

/**
 * The profile of a category or boolean column: how often each value occurs. Category values
 * keep the schema's order; booleans are `"false"` and `"true"`. Past `maxCategories` values the
 * rarest are summed into `other`.
 */
export interface CategoryProfile {
  kind: "category" | "boolean";
  count: number;
  missing: number;
  missingRate: number;
  values: Record<string, number>;
  /** Values beyond the kept ones (0 when every value is kept). */
  other: number;
}

/** The profile of one column. */
export type ColumnProfile = NumericProfile | CategoryProfile;

/**
 * A training profile: a small, deterministic sketch of the data a model was fitted on — every
 * feature, the target, and the model's predictions on that data. Stored in the model artifact
 * (`manifest.profile`); drift is measured against it.
 */
export interface TrainingProfile {
  format: typeof PROFILE_FORMAT;
  /** Rows profiled. */
  rowCount: number;
  /** The number of quantile bins asked for (a column with ties may have fewer). */
  bins: number;
  /**
   * Present when the data had more rows than the sample size: the size of the deterministic
   * sample numeric columns took their edges from (their counts cover every row), and of the
   * rows `predictions` were made on when they came from a `predict` function (then
   * `predictions.count + predictions.missing` is this, not `rowCount`).
   */
  sampleSize?: number;
  /** Every feature of the schema, in schema order. */
  features: Record<string, ColumnProfile>;
  /** The target column, when the data had it. */
  target?: { name: string } & ColumnProfile;
  /**
   * The model's predictions on the profiled rows, or on the sample's rows (see `sampleSize`),
   * when given.
   */
  predictions?: NumericProfile;
}

/** Whether a column profile is numeric (number or integer). */
export function isNumericProfile(profile: ColumnProfile): profile is NumericProfile {
  return profile.kind === "number" || profile.kind === "integer";
}
