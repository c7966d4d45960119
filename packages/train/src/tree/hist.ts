import {
  couldSplit,
  impurityOf,
  type NodeSplitter,
  type NodeTask,
  newTask,
  type SplitRecord,
} from "./builder.js";
import { FeatureSampler } from "./features.js";
import type { KernelParams } from "./params.js";
import { MISSING_BIN, type TreeData } from "./tree-data.js";

/** Histogram slots per feature: 255 value bins at most, then the missing bin. */
const SLOTS = 256;
/** Statistics per slot: row count, weight, weighted target sum. */
const STATS = 3;
const FEATURE_STRIDE = SLOTS * STATS;
/** Memory kept in histograms waiting for a sibling subtraction, at most. */
const HISTOGRAM_BUDGET_BYTES = 64 * 1024 * 1024;

/**
 * The histogram ("hist") split search: each feature binned once (≤ 255 bins + missing), each
 * node summarised by per-bin (count, weight, Σ weight·y), the larger child's histogram taken as
 * parent − smaller child. Candidate splits sit at bin edges, so `x <= edges[b]` reproduces the
 * binned split exactly at prediction time. Missing values are tried on both sides, as in the
 * exact splitter.
 */
export class HistSplitter implements NodeSplitter {
  /** Rows in node order, node by node (the two leaves of a split only with `#keepLeafRows`). */
  readonly #rows: Int32Array;
  /** Whether `rows` of a leaf is asked for: its rows are then partitioned too. */
  readonly #keepLeafRows: boolean;
  readonly #scratch: Int32Array;
  readonly #codes: readonly Uint8Array[];
  readonly #edges: readonly Float64Array[];
  readonly #binCounts: Int32Array;
  readonly #weight: Float64Array | null;
  readonly #weightedY: Float64Array;
  readonly #y: Float64Array;
  readonly #gatherWeight: Float64Array;
  readonly #gatherSum: Float64Array;
  readonly #sampler: FeatureSampler;
  readonly #params: KernelParams;
  readonly #rootWeight: number;
  readonly #featureCount: number;
  readonly #evaluate: (feature: number) => boolean;
  readonly #histograms: Float64Array[] = [];
  readonly #free: number[] = [];
  readonly #maxHistograms: number;
  #live = 0;
  // The node being searched and the best split so far.
  #histogram: Float64Array = new Float64Array(0);
  #count = 0;
  #nodeWeight = 0;
  #nodeSum = 0;
  #bestProxy = Number.NEGATIVE_INFINITY;
  #bestFeature = -1;
  #bestBin = 0;
  #bestMissingLeft = false;
  #bestThreshold = 0;

  constructor(
    data: TreeData,
    y: Float64Array,
    weight: Float64Array | null,
    active: Uint8Array | null,
    activeCount: number,
    params: KernelParams,
    keepLeafRows = false,
  ) {
    const rowCount = data.rowCount;
    this.#keepLeafRows = keepLeafRows;
    this.#featureCount = data.featureNames.length;
    this.#codes = data.codes!;
    this.#edges = data.edges!;
    this.#binCounts = data.binCounts!;
    this.#params = params;
    this.#y = y;
    this.#weight = weight;
    const rows = new Int32Array(activeCount);
    if (active === null) for (let i = 0; i < rowCount; i++) rows[i] = i;
    else {
      let at = 0;
      for (let i = 0; i < rowCount; i++) if (active[i] !== 0) rows[at++] = i;
    }
    this.#rows = rows;
    this.#scratch = new Int32Array(activeCount);
    this.#gatherWeight = new Float64Array(activeCount);
    this.#gatherSum = new Float64Array(activeCount);
    // Unweighted, w·y is y itself.
    let weightedY = y;
    let rootWeight = 0;
    if (weight === null) {
      rootWeight = activeCount;
    } else {
      weightedY = new Float64Array(rowCount);
      for (let i = 0; i < rowCount; i++) {
        weightedY[i] = weight[i] * y[i];
        rootWeight += weight[i];
      }
    }
    this.#weightedY = weightedY;
    this.#rootWeight = rootWeight;
    this.#sampler = new FeatureSampler(this.#featureCount, params.maxFeatures, params.seed);
    this.#evaluate = (feature) => this.#scan(feature);
    const bytes = this.#featureCount * FEATURE_STRIDE * 8;
    this.#maxHistograms = Math.max(8, Math.floor(HISTOGRAM_BUDGET_BYTES / bytes));
  }

  #acquire(): number {
    this.#live++;
    const id = this.#free.pop();
    if (id !== undefined) return id;
    this.#histograms.push(new Float64Array(this.#featureCount * FEATURE_STRIDE));
    return this.#histograms.length - 1;
  }

  #drop(id: number): void {
    if (id < 0) return;
    this.#live--;
    this.#free.push(id);
  }

  /** Fills histogram `id` from the rows `[start, end)`. */
  #build(id: number, start: number, end: number): void {
    const histogram = this.#histograms[id];
    histogram.fill(0);
    const rows = this.#rows;
    const weight = this.#weight;
    const wy = this.#weightedY;
    const gatherWeight = this.#gatherWeight;
    const gatherSum = this.#gatherSum;
    const m = end - start;
    for (let k = 0; k < m; k++) {
      const row = rows[start + k];
      gatherWeight[k] = weight === null ? 1 : weight[row];
      gatherSum[k] = wy[row];
    }
    for (let f = 0; f < this.#featureCount; f++) {
      const codes = this.#codes[f];
      const o = f * FEATURE_STRIDE;
      for (let k = 0; k < m; k++) {
        const slot = o + codes[rows[start + k]] * STATS;
        histogram[slot] += 1;
        histogram[slot + 1] += gatherWeight[k];
        histogram[slot + 2] += gatherSum[k];
      }
    }
  }

  root(): NodeTask {
    const task = newTask();
    task.start = 0;
    task.end = this.#rows.length;
    const rows = this.#rows;
    const weight = this.#weight;
    const wy = this.#weightedY;
    const y = this.#y;
    let w = 0;
    let sum = 0;
    let squares = 0;
    for (let k = 0; k < rows.length; k++) {
      const row = rows[k];
      const v = wy[row];
      w += weight === null ? 1 : weight[row];
      sum += v;
      squares += v * y[row];
    }
    task.weight = w;
    task.sum = sum;
    task.squares = squares;
    task.impurity = impurityOf(w, sum, squares);
    return task;
  }

  prepare(_task: NodeTask): void {}

  split(task: NodeTask, out: SplitRecord): boolean {
    if (task.slot < 0) {
      task.slot = this.#acquire();
      this.#build(task.slot, task.start, task.end);
    }
    this.#histogram = this.#histograms[task.slot];
    this.#count = task.end - task.start;
    this.#nodeWeight = task.weight;
    this.#nodeSum = task.sum;
    this.#bestProxy = Number.NEGATIVE_INFINITY;
    this.#bestFeature = -1;
    out.constants = this.#sampler.visit(task.constants, this.#evaluate);
    if (this.#bestFeature < 0) return false;
    const feature = this.#bestFeature;
    const bin = this.#bestBin;
    const missingLeft = this.#bestMissingLeft;
    // Exact children statistics (squares are not in the histogram).
    const rows = this.#rows;
    const codes = this.#codes[feature];
    const weight = this.#weight;
    const wy = this.#weightedY;
    const y = this.#y;
    let leftCount = 0;
    let w = 0;
    let sum = 0;
    let squares = 0;
    for (let k = task.start; k < task.end; k++) {
      const row = rows[k];
      const code = codes[row];
      if (code === MISSING_BIN ? missingLeft : code <= bin) {
        const v = wy[row];
        leftCount++;
        w += weight === null ? 1 : weight[row];
        sum += v;
        squares += v * y[row];
      }
    }
    const nodeWeight = task.weight;
    const rightWeight = nodeWeight - w;
    const rightSum = task.sum - sum;
    const impurityLeft = impurityOf(w, sum, squares);
    const impurityRight = impurityOf(rightWeight, rightSum, task.squares - squares);
    let improvement: number;
    if (this.#params.friedman) {
      const diff = rightWeight * sum - w * rightSum;
      improvement = (diff * diff) / (w * rightWeight * nodeWeight);
    } else {
      improvement =
        (nodeWeight / this.#rootWeight) *
        (task.impurity -
          (rightWeight / nodeWeight) * impurityRight -
          (w / nodeWeight) * impurityLeft);
    }
    out.feature = feature;
    out.threshold = this.#bestThreshold;
    out.missingLeft = missingLeft;
    out.leftCount = leftCount;
    out.improvement = improvement;
    out.impurityLeft = impurityLeft;
    out.impurityRight = impurityRight;
    out.leftWeight = w;
    out.leftSum = sum;
    out.leftSquares = squares;
    out.position = bin;
    out.nonMissingEnd = 0;
    return true;
  }

  /** Scans one feature's histogram for the current node; false when it is constant there. */
  #scan(feature: number): boolean {
    const h = this.#histogram;
    const o = feature * FEATURE_STRIDE;
    const bins = this.#binCounts[feature];
    let filled = 0;
    for (let b = 0; b < bins && filled < 2; b++) if (h[o + b * STATS] > 0) filled++;
    if (filled < 2) return false;
    const missingSlot = o + MISSING_BIN * STATS;
    const missing = h[missingSlot];
    const missingWeight = h[missingSlot + 1];
    const missingSum = h[missingSlot + 2];
    const count = this.#count;
    const nodeWeight = this.#nodeWeight;
    const nodeSum = this.#nodeSum;
    const { minSamplesLeaf, minWeightLeaf, friedman } = this.#params;
    let best = Number.NEGATIVE_INFINITY;
    let bestBin = -1;
    let bestMissingLeft = false;
    const passes = missing > 0 ? 2 : 1;
    for (let pass = 0; pass < passes; pass++) {
      const missingLeft = pass === 1;
      let leftCount = missingLeft ? missing : 0;
      let leftWeight = missingLeft ? missingWeight : 0;
      let leftSum = missingLeft ? missingSum : 0;
      for (let b = 0; b < bins - 1; b++) {
        const slot = o + b * STATS;
        const c = h[slot];
        if (c === 0) continue;
        leftCount += c;
        leftWeight += h[slot + 1];
        leftSum += h[slot + 2];
        const rightCount = count - leftCount;
        if (leftCount < minSamplesLeaf || rightCount < minSamplesLeaf) continue;
        const rightWeight = nodeWeight - leftWeight;
        if (leftWeight < minWeightLeaf || rightWeight < minWeightLeaf) continue;
        const rightSum = nodeSum - leftSum;
        let proxy: number;
        if (friedman) {
          const diff = rightWeight * leftSum - leftWeight * rightSum;
          proxy = (diff * diff) / (leftWeight * rightWeight);
        } else {
          proxy = (leftSum * leftSum) / leftWeight + (rightSum * rightSum) / rightWeight;
        }
        if (proxy > best) {
          best = proxy;
          bestBin = b;
          bestMissingLeft = missing === 0 ? leftCount > rightCount : missingLeft;
        }
      }
    }
    let infinite = false;
    if (missing > 0) {
      const leftCount = count - missing;
      const leftWeight = nodeWeight - missingWeight;
      if (
        leftCount >= minSamplesLeaf &&
        missing >= minSamplesLeaf &&
        leftWeight >= minWeightLeaf &&
        missingWeight >= minWeightLeaf
      ) {
        const leftSum = nodeSum - missingSum;
        let proxy: number;
        if (friedman) {
          const diff = missingWeight * leftSum - leftWeight * missingSum;
          proxy = (diff * diff) / (leftWeight * missingWeight);
        } else {
          proxy = (leftSum * leftSum) / leftWeight + (missingSum * missingSum) / missingWeight;
        }
        if (proxy > best) {
          best = proxy;
          bestBin = MISSING_BIN - 1;
          bestMissingLeft = false;
          infinite = true;
        }
      }
    }
    if (
      bestBin >= 0 &&
      (best > this.#bestProxy || (best === this.#bestProxy && feature < this.#bestFeature))
    ) {
      this.#bestProxy = best;
      this.#bestFeature = feature;
      this.#bestBin = bestBin;
      this.#bestMissingLeft = bestMissingLeft;
      this.#bestThreshold = infinite ? Number.POSITIVE_INFINITY : this.#edges[feature][bestBin];
    }
    return true;
  }

  partition(task: NodeTask, split: SplitRecord, left: NodeTask, right: NodeTask): void {
    left.start = task.start;
    left.end = task.start + split.leftCount;
    right.start = left.end;
    right.end = task.end;
    if (!couldSplit(left, this.#params) && !couldSplit(right, this.#params)) {
      // Two leaves: their statistics come from the split, their rows are read again only
      // when someone asks for the leaves' rows.
      this.#drop(task.slot);
      task.slot = -1;
      left.slot = -1;
      right.slot = -1;
      if (this.#keepLeafRows) this.#partitionRows(task, split);
      return;
    }
    this.#partitionRows(task, split);
    // The smaller child is counted; the larger one is the parent minus it. Children that will
    // be leaves by size or depth get no histogram.
    const parent = task.slot;
    task.slot = -1;
    left.slot = -1;
    right.slot = -1;
    const leftSmaller = left.end - left.start <= right.end - right.start;
    const small = leftSmaller ? left : right;
    const large = leftSmaller ? right : left;
    const largeMaySplit = couldSplit(large, this.#params);
    if (parent < 0 || this.#live + 1 > this.#maxHistograms || !largeMaySplit) {
      this.#drop(parent);
      return;
    }
    small.slot = this.#acquire();
    this.#build(small.slot, small.start, small.end);
    const smallHistogram = this.#histograms[small.slot];
    const parentHistogram = this.#histograms[parent];
    for (let i = 0; i < parentHistogram.length; i++) parentHistogram[i] -= smallHistogram[i];
    large.slot = parent;
  }

  /** Stable partition of the task's rows: left rows compacted in place, right ones after. */
  #partitionRows(task: NodeTask, split: SplitRecord): void {
    const rows = this.#rows;
    const scratch = this.#scratch;
    const codes = this.#codes[split.feature];
    const bin = split.position;
    const missingLeft = split.missingLeft ? 1 : 0;
    const { start, end } = task;
    let l = start;
    let r = 0;
    for (let k = start; k < end; k++) {
      const row = rows[k];
      const code = codes[row];
      const side = code === MISSING_BIN ? missingLeft : code <= bin ? 1 : 0;
      rows[l] = row;
      scratch[r] = row;
      l += side;
      r += 1 - side;
    }
    rows.set(scratch.subarray(0, r), l);
  }

  release(task: NodeTask): void {
    this.#drop(task.slot);
    task.slot = -1;
  }

  /** A leaf's rows are right only with `keepLeafRows` (see `partition`). */
  rows(task: NodeTask): Int32Array {
    return this.#rows.subarray(task.start, task.end);
  }
}
