/** What the JSON API of `mlops ui` answers; the pages read nothing else. Plain JSON. */
import type {
  AliasHistoryEntry,
  Experiment,
  ModelManifest,
  ModelVersion,
  RegisteredModel,
  Run,
} from "@mlops/core";

export interface InfoResponse {
  location: string;
  writable: boolean;
  version: string;
}

export interface ExperimentSummary extends Experiment {
  runs: number;
  lastRunStart: number | null;
}

/**
 * An experiment's runs as columns, compact for thousands of runs: `params[i][k]` is run i's value
 * of `paramKeys[k]` (null when it has none), likewise for metrics and tags.
 */
export interface RunsResponse {
  experiment: Experiment;
  /** When the runs were read (ms), and whether a newer read was started. */
  asOf: number;
  refreshing: boolean;
  /** Runs in the experiment before the filter. */
  total: number;
  paramKeys: string[];
  metricKeys: string[];
  tagKeys: string[];
  runs: {
    id: string;
    name: string;
    status: Run["status"];
    start: number;
    end: number | null;
    parent: string | null;
    params: (string | null)[];
    metrics: (number | null)[];
    tags: (string | null)[];
  }[];
}

export interface RunResponse {
  run: Run;
  experiment: Experiment;
  children: number;
  artifacts: { name: string; digest: string; sizeBytes: number }[];
  /** Every logged value of the metrics logged more than once (training curves, CV folds). */
  histories: Record<string, { step: number; value: number; timestamp: number }[]>;
  /** Model versions made from this run. */
  versions: { name: string; version: number }[];
}

export interface CompareResponse {
  runs: Run[];
  /** Per run, its fold scores by metric (`test_rmse` logged with step = fold). */
  folds: Record<string, Record<string, number[]>>;
}

export interface ModelsResponse {
  models: (RegisteredModel & { versions: number })[];
}

export interface ModelResponse {
  model: RegisteredModel;
  versions: ModelVersion[];
  history: AliasHistoryEntry[];
}

export interface ReportSummary {
  runId: string;
  kind: "gate" | "drift";
  time: number;
  verdict: string;
  title: string;
}

export interface VersionResponse {
  version: ModelVersion;
  /** The manifest without its payload's array descriptors. */
  manifest: Pick<
    ModelManifest,
    | "format"
    | "kind"
    | "schema"
    | "preprocessing"
    | "model"
    | "params"
    | "metrics"
    | "lineage"
    | "profile"
  >;
  history: AliasHistoryEntry[];
  run: { runId: string; runName: string; experimentId: string } | null;
  reports: ReportSummary[];
}

export interface ReportResponse {
  kind: "gate" | "drift";
  title: string;
  report: unknown;
  /** The single-file HTML report kept with it (`mlops gate --html`), at `…/reports/ID/report.html`. */
  html: boolean;
}

export interface ErrorResponse {
  error: { code: string; message: string };
}
