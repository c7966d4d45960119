import { availableParallelism } from "node:os";
import { isMainThread } from "node:worker_threads";
import { type GrowerData, type HistogramBuilder, LocalHistogramBuilder } from "./grower.js";

/** A histogram builder the estimator feeds with each iteration's gradients, closed at the end. */
export interface FitHistogramBuilder extends HistogramBuilder {
  setGradients(gradient: Float32Array, hessian: Float32Array | undefined): void;
  close(): void;
}

/**
 * Threads a fit uses: `nJobs`, or for null the machine's available parallelism (1 inside a
 * worker thread, such as a search trial's), never more than there are features (threads split
 * the features).
 */
export function resolveThreads(nJobs: number | null, featureCount: number): number {
  const jobs = nJobs ?? (isMainThread ? availableParallelism() : 1);
  return Math.max(1, Math.min(jobs, featureCount));
}

/** The histogram builder of a fit on `threads` threads. */
export function createHistogramBuilder(data: GrowerData, _threads: number): FitHistogramBuilder {
  const local = new LocalHistogramBuilder(data);
  return {
    setGradients: (gradient, hessian) => local.setGradients(gradient, hessian),
    build: (rows, start, end, histogram) => local.build(rows, start, end, histogram),
    close: () => {},
  };
}
