/**
 * The worker-thread entry of `RandomForestRegressor` (built to `dist/forest-worker.js`): it
 * takes tree indices from the job's shared counter until none are left and posts each fitted
 * tree back (its arrays transferred, not copied). Not part of the public API.
 */
import type { MessagePort } from "node:worker_threads";
import { type ForestJob, fitForestTree, profilePredictions } from "./build.js";

/** A job as posted to a worker: the forest job plus the shared counters. */
export interface WorkerJob extends ForestJob {
  jobId: number;
  /** [next tree index, workers finished]. */
  control: Int32Array;
}

/**
 * Builds trees of `job` until its counter passes the last one; posts `{ index, tree }`, with
 * the tree's `predictions` on the profile rows when the job has them.
 */
export function runForestJob(job: WorkerJob, port: MessagePort): void {
  const count = job.treeSeeds.length;
  for (;;) {
    const index = Atomics.add(job.control, 0, 1);
    if (index >= count) return;
    const tree = fitForestTree(job, index);
    const predictions = profilePredictions(job, tree);
    // The node arrays are fresh ArrayBuffers (NodeStore.finish slices them): move, not copy.
    const buffers = [
      tree.left,
      tree.right,
      tree.feature,
      tree.threshold,
      tree.value,
      tree.missingLeft,
      tree.nodeSamples,
      tree.impurity,
      ...(predictions === undefined ? [] : [predictions]),
    ].map((array) => array.buffer as ArrayBuffer);
    port.postMessage({ jobId: job.jobId, index, tree, predictions }, buffers);
  }
}
