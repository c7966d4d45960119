import { fitTree } from "../tree/fit-tree.js";
import type { TreeArrays } from "../tree/nodes.js";
import type { DecisionTreeParams } from "../tree/params.js";
import { predictTree } from "../tree/predict.js";
import type { TreeData } from "../tree/tree-data.js";
import { NumpyRandomState } from "./random-state.js";

/**
 * Everything a tree of a forest is built from; it crosses to worker threads as is (the data,
 * target, weights and seeds live in SharedArrayBuffers, so nothing is copied per tree).
 */
export interface ForestJob {
  data: TreeData;
  y: Float64Array;
  sampleWeight: Float64Array | undefined;
  /** Per tree: the tree's `random_state`, which also seeds its bootstrap draw. */
  treeSeeds: Int32Array;
  /** Rows drawn per tree; 0 = no bootstrap (every row, with `sampleWeight`). */
  bootstrapRows: number;
  params: DecisionTreeParams;
  /**
   * The training profile's rows as feature columns in the trees' split rule (rounded to float32
   * for the exact splitter): each tree predicts them as soon as it is built, while its nodes are
   * still in cache. Undefined when the fit makes no profile.
   */
  profileColumns?: Float64Array[];
}

/**
 * Tree `index`'s predictions on the job's profile rows (`profileColumns`), or undefined without
 * them.
 */
export function profilePredictions(job: ForestJob, tree: TreeArrays): Float64Array | undefined {
  const columns = job.profileColumns;
  if (columns === undefined) return undefined;
  return predictTree(tree, columns, columns.length === 0 ? 0 : columns[0].length);
}

/**
 * scikit-learn's per-tree seeds: `RandomState(seed).randint(2**31 - 1)` once per tree, in order
 * (what `_set_random_states` gives each tree's `random_state`).
 *
 * @example
 * forestTreeSeeds(0, 3); // the random_state of scikit-learn's 3 trees for random_state=0
 */
export function forestTreeSeeds(seed: number, treeCount: number): Int32Array {
  const random = new NumpyRandomState(seed);
  const seeds = new Int32Array(new SharedArrayBuffer(4 * Math.max(treeCount, 1)), 0, treeCount);
  for (let t = 0; t < treeCount; t++) seeds[t] = random.randint(2147483647);
  return seeds;
}

/**
 * scikit-learn's bootstrap sample of one tree: `RandomState(treeSeed).randint(0, n, size)`.
 *
 * @example
 * bootstrapSample(seeds[0], 442, 442); // the rows scikit-learn's first tree is fitted on
 */
export function bootstrapSample(treeSeed: number, rowCount: number, size: number): Int32Array {
  const random = new NumpyRandomState(treeSeed);
  const rows = new Int32Array(size);
  for (let i = 0; i < size; i++) rows[i] = random.randint(rowCount);
  return rows;
}

/** Fits tree `index` of a forest: same seed, same tree, whichever thread builds it. */
export function fitForestTree(job: ForestJob, index: number): TreeArrays {
  const seed = job.treeSeeds[index];
  const rows =
    job.bootstrapRows > 0 ? bootstrapSample(seed, job.data.rowCount, job.bootstrapRows) : undefined;
  return fitTree(job.data, job.y, job.sampleWeight, rows, { ...job.params, seed });
}
