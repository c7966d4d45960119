/** The statistics a drift verdict can be decided by. */
export type DriftMethod = "ks" | "wasserstein" | "psi" | "jensen_shannon" | "chi_square";

/** Methods for numeric columns (`"auto"` picks by sample size). */
export type NumericDriftMethod = "auto" | "ks" | "wasserstein" | "psi" | "jensen_shannon";
/** Methods for category and boolean columns (`"auto"` picks by sample size). */
export type CategoryDriftMethod = "auto" | "chi_square" | "psi" | "jensen_shannon";

/**
 * A verdict: `"drift"`, `"no_drift"`, or `"insufficient_data"` when a sample is below the
 * minimum size — never a silent "no drift".
 */
export type DriftVerdict = "drift" | "no_drift" | "insufficient_data";

/** The summary of one side of a comparison. */
export interface DriftSideSummary {
  /** Values present. */
  count: number;
  missingRate: number;
  /** Numeric columns only (null otherwise or without values). */
  mean: number | null;
  std: number | null;
}

/**
 * The drift of one column. Every statistic that applies to the column's kind is computed
 * (null where it does not apply or a sample is empty), whichever `method` decided.
 */
export interface FeatureDrift {
  kind: "number" | "integer" | "boolean" | "category";
  /** The statistic that decided the verdict. */
  method: DriftMethod;
  /** Its value. */
  statistic: number | null;
  /** Its p-value (KS and chi-square), else null. */
  pValue: number | null;
  /** Drift when `pValue < threshold` (tests) or `statistic ≥ threshold` (distances). */
  threshold: number;
  /** Two-sample KS statistic (numeric). */
  ks: number | null;
  ksPValue: number | null;
  /** First Wasserstein distance, in the column's unit (numeric). */
  wasserstein: number | null;
  /** Wasserstein distance divided by the reference standard deviation (numeric). */
  wassersteinNormed: number | null;
  /** Population stability index on the reference's decile bins or the categories. */
  psi: number | null;
  /** Jensen–Shannon distance (natural log) on the same bins. */
  jensenShannon: number | null;
  /** Chi-square statistic and p-value of the 2 × k contingency table (category, boolean). */
  chiSquare: number | null;
  chiSquarePValue: number | null;
  drifted: boolean;
  verdict: DriftVerdict;
  reference: DriftSideSummary;
  current: DriftSideSummary;
  /** Both sides counted on the same bins, as PSI and Jensen–Shannon saw them (null when a side is empty). */
  histogram: DriftHistogram | null;
}

/**
 * Both sides of a column counted on the same bins, for a picture of the drift. Numeric columns
 * use the reference's coarse quantile bins (deciles by default): the first bin holds the values
 * below the reference minimum, the last those above its maximum (both empty in the reference).
 * Category columns use the values (the reference's order, then unseen ones; `"(other)"` for the
 * rare values a profile summed).
 *
 * @example
 * // { bins: ["< 1", "[1, 2.5]", "(2.5, 4]", "> 4"], bounds: [[null, 1], [1, 2.5], [2.5, 4], [4, null]],
 * //   reference: [0, 50, 50, 0], current: [3, 40, 52, 5] }
 */
export interface DriftHistogram {
  /** One label per bin. */
  bins: string[];
  /** Numeric columns: each bin's lower and upper bound (null: unbounded). */
  bounds?: [number | null, number | null][];
  reference: number[];
  current: number[];
}

/** A drift report: per-feature drift, the drift of the predictions and target, the verdict. */
export interface DriftReport {
  dataset: {
    /** True when `share ≥ threshold` (and some feature could be judged). */
    drifted: boolean;
    /** Drifted features / features judged (0 when none could be judged). */
    share: number;
    threshold: number;
    verdict: DriftVerdict;
    /** Features compared, judged (enough data), and drifted. */
    features: number;
    judged: number;
    driftedFeatures: number;
  };
  features: Record<string, FeatureDrift>;
  /** The model's predictions (when both sides have them). */
  predictions: FeatureDrift | null;
  /** The target (when both sides have it). */
  target: FeatureDrift | null;
  /** The target's name, when the reference has one. */
  targetName: string | null;
  /**
   * Where the reference came from: raw `data` (KS and Wasserstein exact), a stored `profile`
   * (within 1/bins), and whether the current side was raw `data` or a streaming `sketch`.
   */
  reference: { source: "data" | "profile"; rows: number };
  current: { source: "data" | "sketch"; rows: number };
  options: ResolvedDriftOptions;
  /** Anything a reader should know that the figures do not say (a comparison left out, why). */
  notes?: string[];
}

/** Per-column overrides of the method and its threshold. */
export interface ColumnDriftOptions {
  method?: NumericDriftMethod | CategoryDriftMethod;
  threshold?: number;
}

/** Every threshold of the drift verdicts; each has a default. */
export interface DriftOptions {
  /**
   * Fewer present values than this on either side gives `insufficient_data` (default 30).
   */
  minSampleSize?: number;
  /**
   * With `"auto"`, a test decides while the effective sample size n·m/(n+m) is at most this
   * (default 1000); above it an effect size does, because at large n a test flags shifts too
   * small to matter.
   */
  testMaxSampleSize?: number;
  /** Numeric method (default `"auto"`: KS when small, Wasserstein/σ when large). */
  numericMethod?: NumericDriftMethod;
  /** Category and boolean method (default `"auto"`: chi-square when small, JS when large). */
  categoryMethod?: CategoryDriftMethod;
  /** p-value below which KS and chi-square say drift (default 0.05). */
  pValue?: number;
  /** Wasserstein/σ at or above which is drift (default 0.1). */
  wasserstein?: number;
  /** Jensen–Shannon distance at or above which is drift (default 0.1). */
  jensenShannon?: number;
  /** PSI at or above which is drift (default 0.1). */
  psi?: number;
  /** Bins for PSI and Jensen–Shannon on numeric columns (default 10, the reference's deciles). */
  bins?: number;
  /** Share of drifted features at or above which the data set has drifted (default 0.5). */
  datasetShare?: number;
  /** Overrides by column name (features, or `"predictions"` / the target's name). */
  columns?: Record<string, ColumnDriftOptions>;
}

/** The options with every default filled in. */
export interface ResolvedDriftOptions {
  minSampleSize: number;
  testMaxSampleSize: number;
  numericMethod: NumericDriftMethod;
  categoryMethod: CategoryDriftMethod;
  pValue: number;
  wasserstein: number;
  jensenShannon: number;
  psi: number;
  bins: number;
  datasetShare: number;
  columns: Record<string, ColumnDriftOptions>;
}
