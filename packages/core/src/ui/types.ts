import type { DriftReport } from "../drift/types.js";
import type { GateRunReport } from "../gate/report.js";
import type { RegistryStore } from "../registry/types.js";

/**
 * What `mlops-train --report` draws: a hyperparameter search, its candidates as columns (like
 * scikit-learn's `cv_results_`), the best model's feature importances, and its predictions on the
 * holdout rows. Plain JSON.
 *
 * @example
 * const report: SearchReport = {
 *   title: "wine: random search", createdAt: Date.now(),
 *   data: { path: "wine.csv", rows: 1599, target: "quality", features: ["alcohol", "pH"] },
 *   estimator: "RandomForestRegressor",
 *   search: { kind: "random", cv: 5, metric: "rmse", greaterIsBetter: false, seconds: 12.3, trainRows: 1279 },
 *   best: { index: 4, params: { maxDepth: 8 }, cvScore: 0.58, cvStd: 0.02 },
 *   candidates: { params: [...], mean: [...], std: [...], rank: [...], fitTime: [...], splits: [[...]] },
 *   featureImportances: { alcohol: 0.41, pH: 0.08 },
 *   holdout: { rows: 320, metrics: { rmse: 0.57 }, actual: [...], predicted: [...] },
 *   run: null, registered: null,
 * };
 */
export interface SearchReport {
  title: string;
  /** Milliseconds since the Unix epoch. */
  createdAt: number;
  data: { path: string; rows: number; target: string; features: string[] };
  /** The estimator's class name (`RandomForestRegressor`). */
  estimator: string;
  search: {
    kind: string;
    cv: number;
    metric: string;
    greaterIsBetter: boolean;
    seconds: number;
    trainRows: number;
  };
  best: { index: number; params: Record<string, unknown>; cvScore: number; cvStd: number };
  /** One entry per candidate, in `cvResults` order; `splits[k][i]` is fold k's score of candidate i. */
  candidates: {
    params: Record<string, unknown>[];
    mean: number[];
    std: number[];
    rank: number[];
    fitTime: number[];
    splits: number[][];
  };
  /** Impurity-based importances of the refitted best model (trees, forests, boosting), or null. */
  featureImportances: Record<string, number> | null;
  /**
   * The refitted best model on the holdout rows: its metrics, and the targets and predictions
   * (at most `sampled` rows of them, evenly spaced, when the holdout is larger).
   */
  holdout: {
    rows: number;
    metrics: Record<string, number>;
    actual: number[];
    predicted: number[];
    sampled: number;
  } | null;
  run: { id: string; experiment: string } | null;
  registered: { name: string; version: number; uri: string } | null;
}

/** What `startUi` takes: the registry and where to listen. */
export interface UiServerOptions {
  store: RegistryStore;
  /** Default `127.0.0.1`. */
  host?: string;
  /** Default 5000, as `mlflow ui`; 0 picks a free port. */
  port?: number;
  /** Where the registry is, shown in the page header. */
  location?: string;
  /** Allow moving aliases from the UI (every move recorded in the alias history). Default false. */
  writable?: boolean;
}

/** A running `mlops ui`: its URL, and `close()` to stop it. */
export interface RunningUi {
  url: string;
  close(): Promise<void>;
}

/**
 * The `@mlops/ui` package as core reaches it: HTML reports and the web app. Core never imports
 * it; `loadUi()` loads it when a command asks for it.
 */
export interface UiModule {
  renderSearchReport(report: SearchReport): string;
  renderGateReport(report: GateRunReport, options?: { title?: string }): string;
  renderDriftReport(report: DriftReport, options?: { title?: string }): string;
  startUi(options: UiServerOptions): Promise<RunningUi>;
}
