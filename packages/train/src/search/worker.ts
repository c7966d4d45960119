// The worker module of search threads (built as dist/search-worker.js): receives the search data
// once, then runs trials and answers their results. Estimators are built from their specs with
// the classes this package exports.
import type { Estimator } from "../estimator/estimator.js";
import * as api from "../index.js";
import type { WorkerRequest, WorkerResponse } from "./executor.js";
import { decodeEstimator, type EstimatorConstructors } from "./spec.js";
import { TrialRunner } from "./trials.js";

/**
 * Every estimator and transformer class the package exports (a prototype with `getParams` and
 * `clone`), by export name and by class name.
 */
function exportedEstimators(): EstimatorConstructors {
  const constructors = new Map<string, new (params: unknown) => Estimator<object>>();
  for (const [name, value] of Object.entries(api)) {
    if (typeof value !== "function") continue;
    const prototype = value.prototype as Record<string, unknown> | undefined;
    if (typeof prototype?.getParams === "function" && typeof prototype.clone === "function") {
      const Constructor = value as unknown as new (params: unknown) => Estimator<object>;
      constructors.set(name, Constructor);
      constructors.set(value.name, Constructor);
    }
  }
  return constructors;
}

const constructors = exportedEstimators();
let runner: TrialRunner | undefined;

/**
 * Handles one message from the search's thread pool (`@mlops/core/internal`): the data once
 * (`init`, answered `ready` or `unsupported`), prepared data sets and folds (broadcast, no
 * answer), then tasks (answered with their result).
 */
export function onMessage(message: WorkerRequest): WorkerResponse | undefined {
  if (message.type === "init") {
    try {
      if (message.check !== undefined) decodeEstimator(message.check, constructors);
      runner = new TrialRunner(message.data, constructors);
      return { type: "ready" };
    } catch (error) {
      return {
        type: "unsupported",
        message: error instanceof Error ? error.message : String(error),
      };
    }
  }
  if (runner === undefined) throw new Error(`search worker: "${message.type}" before "init"`);
  if (message.type === "dataset") runner.addDataset(message.key, message.data);
  else if (message.type === "folds") runner.addFolds(message.id, message.folds);
  else return { type: "result", result: runner.run(message.task) };
  return undefined;
}
