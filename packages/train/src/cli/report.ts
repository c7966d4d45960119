import { writeFile } from "node:fs/promises";
import { type Frame, MlopsError } from "@mlops/core";
import { loadUi, type SearchReport, type UiModule } from "@mlops/core/internal";
import type { BaseSearch } from "../search/search.js";
import type { TrainReport } from "./run.js";

/** Holdout rows drawn in the report at most: a scatter of more says nothing more. */
const MAX_POINTS = 2000;

/** Loads @mlops/ui before the search, so that a missing package fails at once. */
export function loadReportRenderer(): Promise<UiModule> {
  return loadUi("renderSearchReport");
}

/** Every `step`-th row, at most `limit` of them, evenly spread over the data. */
function evenly(length: number, limit: number): number[] {
  if (length <= limit) return Array.from({ length }, (_, i) => i);
  return Array.from({ length: limit }, (_, i) => Math.floor((i * length) / limit));
}

function importancesOf(model: unknown): Record<string, number> | null {
  try {
    const importances = (model as { featureImportances?: unknown }).featureImportances;
    if (importances && typeof importances === "object") {
      return importances as Record<string, number>;
    }
  } catch {
    // An estimator without importances (linear models) or a pipeline: none drawn.
  }
  return null;
}

/**
 * The search as `SearchReport` data (what `--report` draws): the candidates as columns, the
 * refitted best model's importances and its holdout predictions.
 */
export function searchReport(
  trained: TrainReport,
  search: BaseSearch,
  target: string,
  testFrame: Frame | undefined,
): SearchReport {
  const results = search.cvResults;
  const metric = search.metric.name;
  const splits: number[][] = [];
  for (let k = 0; ; k++) {
    const column = results[`split${k}_test_${metric}`] as number[] | undefined;
    if (column === undefined) break;
    splits.push(column);
  }
  let holdout: SearchReport["holdout"] = null;
  if (testFrame !== undefined && trained.holdout !== null) {
    const actual = testFrame.numeric(target);
    const predicted = search.bestEstimator.predict(testFrame);
    const rows = evenly(actual.length, MAX_POINTS);
    holdout = {
      rows: actual.length,
      metrics: trained.holdout.metrics,
      actual: rows.map((row) => actual[row]),
      predicted: rows.map((row) => predicted[row]),
      sampled: rows.length,
    };
  }
  return {
    title: `${trained.registered?.name ?? trained.model}: ${trained.search.kind} search of ${trained.estimator}`,
    createdAt: Date.now(),
    data: {
      path: trained.data.path,
      rows: trained.data.rows,
      target,
      features: trained.data.features,
    },
    estimator: trained.estimator,
    search: {
      kind: trained.search.kind,
      cv: trained.search.cv,
      metric,
      greaterIsBetter: trained.search.greaterIsBetter,
      seconds: trained.search.seconds,
      trainRows: trained.search.trainRows,
    },
    best: trained.best,
    candidates: {
      params: results.params,
      mean: results[`mean_test_${metric}`] as number[],
      std: results[`std_test_${metric}`] as number[],
      rank: results[`rank_test_${metric}`] as number[],
      fitTime: results.mean_fit_time,
      splits,
    },
    featureImportances: importancesOf(search.bestEstimator),
    holdout,
    run: trained.run,
    registered: trained.registered && {
      name: trained.registered.name,
      version: trained.registered.version,
      uri: trained.registered.uri,
    },
  };
}

/** Renders the report and writes it to `path`. */
export async function writeSearchReport(
  ui: UiModule,
  path: string,
  report: SearchReport,
): Promise<void> {
  try {
    await writeFile(path, ui.renderSearchReport(report));
  } catch (error) {
    throw new MlopsError(
      "file_write",
      `cannot write the report ${path} (${(error as NodeJS.ErrnoException).code ?? error})`,
      { cause: error, location: { file: path } },
    );
  }
}
