// The entry of search worker threads (built as dist/search-worker.js): receives the search data
// once, then runs trials and posts their results. Estimators are built from their specs with
// the classes this package exports.
import { parentPort } from "node:worker_threads";
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

const port = parentPort;
if (port !== null) {
  const constructors = exportedEstimators();
  let runner: TrialRunner | undefined;
  port.on("message", (message: WorkerRequest) => {
    if (message.type === "init") {
      try {
        if (message.check !== undefined) decodeEstimator(message.check, constructors);
        runner = new TrialRunner(message.data, constructors);
        port.postMessage({ type: "ready" } satisfies WorkerResponse);
      } catch (error) {
        port.postMessage({
          type: "unsupported",
          message: error instanceof Error ? error.message : String(error),
        } satisfies WorkerResponse);
      }
    } else if (message.type === "dataset") {
      runner?.addDataset(message.key, message.data);
    } else if (message.type === "folds") {
      runner?.addFolds(message.id, message.folds);
    } else if (message.type === "task" && runner !== undefined) {
      port.postMessage({
        type: "result",
        result: runner.run(message.task),
      } satisfies WorkerResponse);
    }
  });
}
