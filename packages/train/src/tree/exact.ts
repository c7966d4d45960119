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
import { sklearnSort } from "./sklearn-sort.js";
import { featureMajor, type TreeData, takeSingleUse } from "./tree-data.js";

/**
 * scikit-learn's FEATURE_THRESHOLD, a float32: consecutive sorted values `a <= b` count as one
 * value when `b <= float32(a + FEATURE_THRESHOLD)` (added in float32 arithmetic).
 */
const FEATURE_THRESHOLD = Math.fround(1e-7);

/**
 * Largest node (rows × features to re-sort) whose sort by scikit-learn we replay when equal
 * values make its row order ambiguous. Above it the presorted order stands in, and sums of large
 * nodes may differ from scikit-learn's in the last bits (their splits, and the leaves below,
 * stay the same unless two candidate splits tie to the last bit).
 */
const REPLAY_LIMIT = 1 << 13;

/**
 * The exact ("best") split search over presorted features, with scikit-learn's semantics:
 * candidate thresholds between consecutive distinct float32 values, the proxy improvement
 * compared strictly (the first best position wins, features visited in scikit-learn's random
 * order), missing values tried on both sides.
 *
 * Layout: for every feature `f`, `index[f·n + p]` / `values[f·n + p]` hold the node rows in
 * ascending value order inside each node's range `[start, end)` (missing values last). After a
 * split, every feature's range is stably partitioned by the rows' side, so the children's
 * ranges stay sorted: no sorting after the one presort, O(features × rows) per tree level.
 *
 * Beside that layout, `order` keeps the rows in the order scikit-learn's splitter would hold
 * them (sorted by the last feature it visited, then partitioned in place), and node sums are
 * taken in that order: leaf values and impurities come out bit for bit as scikit-learn's. Its
 * sort is only replayed (`sklearnSort`) where equal values make the order ambiguous.
 */
export class ExactSplitter implements NodeSplitter {
  readonly #n: number;
  readonly #index: Int32Array;
  readonly #values: Float32Array;
  readonly #weight: Float64Array | null;
  readonly #weightedY: Float64Array;
  readonly #y: Float64Array;
  readonly #goesLeft: Uint8Array;
  readonly #scratchIndex: Int32Array;
  readonly #scratchValues: Float32Array;
  readonly #skip: Uint8Array;
  readonly #columns: readonly Float32Array[];
  /** Rows in scikit-learn's sample order, node by node. */
  readonly #order: Int32Array;
  readonly #orderScratch: Int32Array;
  readonly #keyScratch: Float32Array;
  /** Features visited at the current node that reorder its rows, and whether they have ties. */
  readonly #visited: Int32Array;
  readonly #visitedTies: Uint8Array;
  #visitedCount = 0;
  readonly #sampler: FeatureSampler;
  readonly #params: KernelParams;
  readonly #rootWeight: number;
  readonly #evaluate: (feature: number) => boolean;
  // The node being searched, and the best split found so far.
  #start = 0;
  #end = 0;
  #nodeWeight = 0;
  #nodeSum = 0;
  #bestProxy = Number.NEGATIVE_INFINITY;
  #bestFeature = -1;
  #bestPosition = 0;
  #bestNonMissingEnd = 0;
  #bestMissingLeft = false;
  #bestThreshold = 0;

  /**
   * `active[row]` (or every row when null) selects the rows; `weight` is null when every
   * active row weighs 1.
   */
  constructor(
    data: TreeData,
    y: Float64Array,
    weight: Float64Array | null,
    active: Uint8Array | null,
    activeCount: number,
    params: KernelParams,
  ) {
    const featureCount = data.featureNames.length;
    const n = activeCount;
    const rowCount = data.rowCount;
    this.#n = n;
    this.#params = params;
    this.#y = y;
    this.#weight = weight;
    const order = data.order!;
    const sortedValues = data.sorted!;
    // A single fit of all rows works in the prepared buffers themselves; otherwise it copies
    // the active rows, reading each feature's values in sorted order (not row by row).
    const owned = takeSingleUse(data) && active === null;
    const ownIndex = owned ? featureMajor(order, n) : undefined;
    const ownValues = owned ? featureMajor(sortedValues, n) : undefined;
    if (ownIndex !== undefined && ownValues !== undefined) {
      this.#index = ownIndex;
      this.#values = ownValues;
    } else {
      this.#index = new Int32Array(featureCount * n);
      this.#values = new Float32Array(featureCount * n);
      for (let f = 0; f < featureCount; f++) {
        const sorted = order[f];
        const inOrder = sortedValues[f];
        const index = this.#index;
        const out = this.#values;
        let at = f * n;
        if (active === null) {
          index.set(sorted, at);
          out.set(inOrder, at);
        } else {
          for (let k = 0; k < rowCount; k++) {
            const row = sorted[k];
            if (active[row] !== 0) {
              index[at] = row;
              out[at] = inOrder[k];
              at++;
            }
          }
        }
      }
    }
    // Unweighted, w·y is y itself.
    let weightedY = y;
    let rootWeight = 0;
    if (weight === null) {
      rootWeight = n;
    } else {
      weightedY = new Float64Array(rowCount);
      for (let i = 0; i < rowCount; i++) {
        weightedY[i] = weight[i] * y[i];
        rootWeight += weight[i];
      }
    }
    this.#weightedY = weightedY;
    this.#rootWeight = rootWeight;
    this.#goesLeft = new Uint8Array(rowCount);
    this.#scratchIndex = new Int32Array(n);
    this.#scratchValues = new Float32Array(n);
    this.#skip = new Uint8Array(featureCount);
    this.#columns = data.values!;
    this.#order = new Int32Array(n);
    if (active === null) for (let i = 0; i < n; i++) this.#order[i] = i;
    else {
      let at = 0;
      for (let i = 0; i < rowCount; i++) if (active[i] !== 0) this.#order[at++] = i;
    }
    this.#orderScratch = new Int32Array(n);
    this.#keyScratch = new Float32Array(n);
    this.#visited = new Int32Array(featureCount);
    this.#visitedTies = new Uint8Array(featureCount);
    this.#sampler = new FeatureSampler(featureCount, params.maxFeatures, params.seed);
    this.#evaluate = (feature) => this.#scan(feature);
  }

  root(): NodeTask {
    const task = newTask();
    task.start = 0;
    task.end = this.#n;
    this.prepare(task);
    task.impurity = impurityOf(task.weight, task.sum, task.squares);
    return task;
  }

  prepare(task: NodeTask): void {
    // scikit-learn's criterion init: sums over the node's rows in its sample order.
    const order = this.#order;
    const weight = this.#weight;
    const wy = this.#weightedY;
    const y = this.#y;
    let w = 0;
    let sum = 0;
    let squares = 0;
    for (let p = task.start; p < task.end; p++) {
      const row = order[p];
      const v = wy[row];
      w += weight === null ? 1 : weight[row];
      sum += v;
      squares += v * y[row];
    }
    task.weight = w;
    task.sum = sum;
    task.squares = squares;
  }

  split(task: NodeTask, out: SplitRecord): boolean {
    this.#start = task.start;
    this.#end = task.end;
    this.#nodeWeight = task.weight;
    this.#nodeSum = task.sum;
    this.#bestProxy = Number.NEGATIVE_INFINITY;
    this.#bestFeature = -1;
    this.#visitedCount = 0;
    out.constants = this.#sampler.visit(task.constants, this.#evaluate);
    if (this.#bestFeature < 0) return false;
    const feature = this.#bestFeature;
    const position = this.#bestPosition;
    const nonMissingEnd = this.#bestNonMissingEnd;
    const missingLeft = this.#bestMissingLeft;
    const leftCount = position - task.start + (missingLeft ? task.end - nonMissingEnd : 0);
    this.#replayOrder(task.start, task.end, feature, this.#bestThreshold, missingLeft);
    // Children statistics as scikit-learn's criterion computes them after its partition:
    // the left sums forward, or the total minus the right rows when those are fewer.
    const order = this.#order;
    const weight = this.#weight;
    const wy = this.#weightedY;
    const y = this.#y;
    const { start, end } = task;
    const split = start + leftCount;
    let w = 0;
    let sum = 0;
    if (split - start <= end - split) {
      for (let p = start; p < split; p++) {
        const row = order[p];
        w += weight === null ? 1 : weight[row];
        sum += wy[row];
      }
    } else {
      w = task.weight;
      sum = task.sum;
      for (let p = end - 1; p >= split; p--) {
        const row = order[p];
        w -= weight === null ? 1 : weight[row];
        sum -= wy[row];
      }
    }
    let squares = 0;
    for (let p = start; p < split; p++) {
      const row = order[p];
      squares += wy[row] * y[row];
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
    out.position = position;
    out.nonMissingEnd = nonMissingEnd;
    return true;
  }

  /** Scans one feature of the current node; false when it is constant there. */
  #scan(feature: number): boolean {
    const index = this.#index;
    const values = this.#values;
    const wy = this.#weightedY;
    const weight = this.#weight;
    const base = feature * this.#n;
    const start = base + this.#start;
    const end = base + this.#end;
    let nonMissingEnd = end;
    while (nonMissingEnd > start && Number.isNaN(values[nonMissingEnd - 1])) {
      nonMissingEnd--;
    }
    const missing = end - nonMissingEnd;
    if (
      nonMissingEnd === start ||
      values[nonMissingEnd - 1] <= Math.fround(values[start] + FEATURE_THRESHOLD)
    ) {
      // scikit-learn sorted the rows by it anyway: that moves them unless all values are equal.
      if (missing > 0 || values[nonMissingEnd - 1] !== values[start]) this.#logVisit(feature, 1);
      return false;
    }
    const count = end - start;
    const nodeWeight = this.#nodeWeight;
    const nodeSum = this.#nodeSum;
    const { minSamplesLeaf, minWeightLeaf, friedman } = this.#params;
    let missingWeight = 0;
    let missingSum = 0;
    for (let p = nonMissingEnd; p < end; p++) {
      const row = index[p];
      missingWeight += weight === null ? 1 : weight[row];
      missingSum += wy[row];
    }
    const passes = missing > 0 ? 2 : 1;
    const result = scanResult;
    result.best = Number.NEGATIVE_INFINITY;
    result.position = -1;
    result.missingLeft = false;
    result.ties = missing > 0 ? 1 : 0;
    for (let pass = 0; pass < passes; pass++) {
      const missingLeft = pass === 1;
      if (weight === null) {
        scanUnit(
          index,
          values,
          wy,
          start,
          nonMissingEnd,
          count,
          missing,
          missingLeft,
          missingLeft ? missingSum : 0,
          nodeWeight,
          nodeSum,
          minSamplesLeaf,
          minWeightLeaf,
          friedman,
        );
      } else {
        scanWeighted(
          index,
          values,
          wy,
          weight,
          start,
          nonMissingEnd,
          count,
          missing,
          missingLeft,
          missingLeft ? missingWeight : 0,
          missingLeft ? missingSum : 0,
          nodeWeight,
          nodeSum,
          minSamplesLeaf,
          minWeightLeaf,
          friedman,
        );
      }
    }
    let best = result.best;
    let bestPosition = result.position;
    let bestMissingLeft = result.missingLeft;
    const ties = result.ties;
    let infinite = false;
    if (missing > 0) {
      // Every row with a value left, the missing ones right (threshold +Infinity).
      const leftCount = count - missing;
      if (leftCount >= minSamplesLeaf && missing >= minSamplesLeaf) {
        const leftWeight = nodeWeight - missingWeight;
        if (leftWeight >= minWeightLeaf && missingWeight >= minWeightLeaf) {
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
            bestPosition = nonMissingEnd;
            bestMissingLeft = false;
            infinite = true;
          }
        }
      }
    }
    this.#logVisit(feature, ties);
    // Strictly better than the features visited before (scikit-learn's tie rule).
    if (bestPosition >= 0 && best > this.#bestProxy) {
      this.#bestProxy = best;
      this.#bestFeature = feature;
      this.#bestPosition = bestPosition - base;
      this.#bestNonMissingEnd = nonMissingEnd - base;
      this.#bestMissingLeft = bestMissingLeft;
      if (infinite) {
        this.#bestThreshold = Number.POSITIVE_INFINITY;
      } else {
        // Midpoint of the float32 neighbours, computed in float64; the lower value when the
        // midpoint rounds to the upper one or overflows.
        const low = values[bestPosition - 1];
        const high = values[bestPosition];
        let threshold = low / 2 + high / 2;
        if (threshold === high || !Number.isFinite(threshold)) threshold = low;
        this.#bestThreshold = threshold;
      }
    }
    return true;
  }

  #logVisit(feature: number, ties: number): void {
    this.#visited[this.#visitedCount] = feature;
    this.#visitedTies[this.#visitedCount] = ties;
    this.#visitedCount++;
  }

  /**
   * Puts the node's rows in the order scikit-learn's splitter leaves them: sorted by the last
   * visited feature (the presorted order of the last one without ties, then its sort replayed
   * for the later ones with ties), then partitioned in place by the chosen split.
   */
  #replayOrder(
    start: number,
    end: number,
    feature: number,
    threshold: number,
    missingLeft: boolean,
  ): void {
    const m = end - start;
    const rows = this.#orderScratch;
    const keys = this.#keyScratch;
    const order = this.#order;
    let k = this.#visitedCount - 1;
    while (k >= 0 && this.#visitedTies[k] !== 0) k--;
    // Too large to replay: the stable presorted order of the last visited feature stands in.
    if ((this.#visitedCount - 1 - k) * m > REPLAY_LIMIT) k = this.#visitedCount - 1;
    if (k >= 0) {
      const base = this.#visited[k] * this.#n;
      rows.set(this.#index.subarray(base + start, base + end));
    } else {
      rows.set(order.subarray(start, end));
    }
    for (let j = k + 1; j < this.#visitedCount; j++) {
      const column = this.#columns[this.#visited[j]];
      for (let i = 0; i < m; i++) keys[i] = column[rows[i]];
      sklearnSort(keys, rows, m);
    }
    // The in-place partition of scikit-learn's splitter (swap with the end).
    const x = this.#columns[feature];
    let p = 0;
    let partitionEnd = m;
    while (p < partitionEnd) {
      const value = x[rows[p]];
      if (value <= threshold || (missingLeft && Number.isNaN(value))) p++;
      else {
        partitionEnd--;
        const swap = rows[p];
        rows[p] = rows[partitionEnd];
        rows[partitionEnd] = swap;
      }
    }
    order.set(rows.subarray(0, m), start);
  }

  partition(task: NodeTask, split: SplitRecord, left: NodeTask, right: NodeTask): void {
    left.start = task.start;
    left.end = task.start + split.leftCount;
    right.start = left.end;
    right.end = task.end;
    // Two leaves: their sums are taken from `order`, the sorted ranges are never read again.
    if (!couldSplit(left, this.#params) && !couldSplit(right, this.#params)) return;
    const n = this.#n;
    const index = this.#index;
    const values = this.#values;
    const goesLeft = this.#goesLeft;
    const scratchIndex = this.#scratchIndex;
    const scratchValues = this.#scratchValues;
    const { start, end } = task;
    const base = split.feature * n;
    const position = base + split.position;
    const nonMissingEnd = base + split.nonMissingEnd;
    const missingLeft = split.missingLeft ? 1 : 0;
    for (let p = base + start; p < base + end; p++) {
      goesLeft[index[p]] = p < position ? 1 : p >= nonMissingEnd ? missingLeft : 0;
    }
    // Features known constant in the children are never read there again.
    const skip = this.#skip;
    const constants = this.#sampler.constants;
    for (let i = 0; i < left.constants; i++) skip[constants[i]] = 1;
    const featureCount = skip.length;
    for (let f = 0; f < featureCount; f++) {
      if (skip[f] !== 0) continue;
      // Stable partition: left rows compacted in place, right rows through the scratch.
      const from = f * n + start;
      const to = f * n + end;
      let l = from;
      let r = 0;
      for (let p = from; p < to; p++) {
        const row = index[p];
        const value = values[p];
        const side = goesLeft[row];
        index[l] = row;
        values[l] = value;
        scratchIndex[r] = row;
        scratchValues[r] = value;
        l += side;
        r += 1 - side;
      }
      index.set(scratchIndex.subarray(0, r), l);
      values.set(scratchValues.subarray(0, r), l);
    }
    for (let i = 0; i < left.constants; i++) skip[constants[i]] = 0;
  }

  release(_task: NodeTask): void {}

  rows(task: NodeTask): Int32Array {
    return this.#order.subarray(task.start, task.end);
  }
}

/** The best split of one pass over a feature's sorted range (see `scanUnit`). */
const scanResult = { best: Number.NEGATIVE_INFINITY, position: -1, missingLeft: false, ties: 0 };

/**
 * One pass of the exact scan over `[start, nonMissingEnd)` with every row weighing 1 (so the
 * left weight is the left count): prefix sums in sorted order, a candidate between each pair of
 * values farther apart than FEATURE_THRESHOLD, scikit-learn's proxy improvement, the first
 * strictly best kept in `scanResult`. Missing rows start on the left when `missingLeft`.
 */
function scanUnit(
  index: Int32Array,
  values: Float32Array,
  y: Float64Array,
  start: number,
  nonMissingEnd: number,
  count: number,
  missing: number,
  missingLeft: boolean,
  initialSum: number,
  nodeWeight: number,
  nodeSum: number,
  minSamplesLeaf: number,
  minWeightLeaf: number,
  friedman: boolean,
): void {
  const result = scanResult;
  let best = result.best;
  let ties = result.ties;
  let leftSum = initialSum;
  const leftBase = (missingLeft ? missing : 0) - start + 1;
  const last = nonMissingEnd - 1;
  let x = values[start];
  for (let p = start; p < last; p++) {
    leftSum += y[index[p]];
    const next = values[p + 1];
    if (next === x) {
      ties = 1;
      continue;
    }
    const merged = next <= Math.fround(x + FEATURE_THRESHOLD);
    x = next;
    if (merged) continue;
    const leftCount = p + leftBase;
    const rightCount = count - leftCount;
    if (leftCount < minSamplesLeaf || rightCount < minSamplesLeaf) continue;
    const leftWeight = leftCount;
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
      result.position = p + 1;
      result.missingLeft = missing === 0 ? leftCount > rightCount : missingLeft;
    }
  }
  result.best = best;
  result.ties = ties;
}

/** `scanUnit` with row weights: the left weight is summed in sorted order, as scikit-learn. */
function scanWeighted(
  index: Int32Array,
  values: Float32Array,
  wy: Float64Array,
  weight: Float64Array,
  start: number,
  nonMissingEnd: number,
  count: number,
  missing: number,
  missingLeft: boolean,
  initialWeight: number,
  initialSum: number,
  nodeWeight: number,
  nodeSum: number,
  minSamplesLeaf: number,
  minWeightLeaf: number,
  friedman: boolean,
): void {
  const result = scanResult;
  let best = result.best;
  let ties = result.ties;
  let leftWeight = initialWeight;
  let leftSum = initialSum;
  const leftBase = (missingLeft ? missing : 0) - start + 1;
  const last = nonMissingEnd - 1;
  let x = values[start];
  for (let p = start; p < last; p++) {
    const row = index[p];
    leftWeight += weight[row];
    leftSum += wy[row];
    const next = values[p + 1];
    if (next === x) {
      ties = 1;
      continue;
    }
    const merged = next <= Math.fround(x + FEATURE_THRESHOLD);
    x = next;
    if (merged) continue;
    const leftCount = p + leftBase;
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
      result.position = p + 1;
      result.missingLeft = missing === 0 ? leftCount > rightCount : missingLeft;
    }
  }
  result.best = best;
  result.ties = ties;
}
