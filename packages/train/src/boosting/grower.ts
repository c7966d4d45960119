import { BIN_STRIDE, buildHistogram, subtractHistogram } from "./histogram.js";
import { type PartitionBuffers, type PartitionKernel, partitionKernel } from "./partition.js";

/** The binned training data a tree grows on (rows in training order). */
export interface GrowerData {
  /**
   * Row-major bin codes in training order: `codes[row * rowStride + f]`, each row padded to
   * `rowStride` bytes (a multiple of 4, so rows move as 32-bit words).
   */
  codes: Uint8Array;
  rowStride: number;
  rowCount: number;
  featureCount: number;
  /** Bins per feature in a histogram: `maxBins + 1` (the last is for missing values). */
  bins: number;
  binsNonMissing: Int32Array;
  /** Features with a missing value somewhere in the training rows. */
  hasMissing: Uint8Array;
  isCategorical: Uint8Array;
}

/** Settings of one tree (scikit-learn's `TreeGrower` arguments). */
export interface GrowerSettings {
  maxLeafNodes: number | null;
  maxDepth: number | null;
  minSamplesLeaf: number;
  l2Regularization: number;
}

/**
 * The rows of the tree being grown, kept in node order: each node's rows lie contiguously at
 * `start..end`, so histograms and partitions read memory in order. Stable partitions keep each
 * node's rows in training order, so every bin is still summed in that order. Shared with the
 * histogram threads when there are some.
 */
export interface NodeRows {
  /** The rows' codes (`codes[k * rowStride + f]` for the k-th row in node order). */
  codes: Uint8Array;
  gradient: Float32Array;
  /** Undefined for constant hessians. */
  hessian: Float32Array | undefined;
  /** The training row at each position. */
  index: Int32Array;
}

/** Allocates node-order rows (on shared memory for threads). */
export function allocateNodeRows(
  data: GrowerData,
  withHessian: boolean,
  shared: boolean,
): NodeRows {
  const n = data.rowCount;
  const buffer = (bytes: number) =>
    shared ? new SharedArrayBuffer(Math.max(8, bytes)) : new ArrayBuffer(Math.max(8, bytes));
  return {
    codes: new Uint8Array(buffer(n * data.rowStride), 0, n * data.rowStride),
    gradient: new Float32Array(buffer(4 * n), 0, n),
    hessian: withHessian ? new Float32Array(buffer(4 * n), 0, n) : undefined,
    index: new Int32Array(buffer(4 * n), 0, n),
  };
}

/**
 * Builds histograms of node-order rows `start..end`; the grower calls it for every node it
 * histograms by brute force. The in-thread builder runs the kernel here; a thread team splits
 * the features among threads.
 */
export interface HistogramBuilder {
  build(start: number, end: number, histogram: Float64Array): void;
}

/** A tree as the grower leaves it: nodes in depth-first order (scikit-learn's predictor order). */
export interface GrownTree {
  left: Int32Array;
  right: Int32Array;
  feature: Int32Array;
  /** The bin a numeric split compares with (`bin <= threshold` goes left). */
  binThreshold: Int32Array;
  /** Node value without shrinkage: −G / (H + λ), or the refitted residual statistic. */
  value: Float64Array;
  missingLeft: Uint8Array;
  count: Float64Array;
  /** Per node: -1, or the index of its bitset (8 words, over bins) in `bitsets`. */
  categorySplit: Int32Array;
  bitsets: Uint32Array;
  /** The leaves' row ranges in the partition, for updating raw predictions. */
  leafStart: Int32Array;
  leafEnd: Int32Array;
  /** Node index (in the arrays above) of each leaf range. */
  leafNode: Int32Array;
}

const MIN_HESSIAN_TO_SPLIT = 1e-3;
const MIN_CATEGORY_SUPPORT = 10;
const VALUE_EPSILON = 1e-15;

/** A candidate split (scikit-learn's `SplitInfo`). */
class SplitInfo {
  gain = -1;
  feature = 0;
  bin = 0;
  missingLeft = false;
  gradientLeft = 0;
  hessianLeft = 0;
  gradientRight = 0;
  hessianRight = 0;
  countLeft = 0;
  countRight = 0;
  valueLeft = 0;
  valueRight = 0;
  categorical = false;
  bitset = new Uint32Array(8);
}

/** A node while growing. */
class GrowNode {
  start = 0;
  end = 0;
  depth = 0;
  gradient = 0;
  hessian = 0;
  value = 0;
  histogram = -1;
  split: SplitInfo | undefined;
  left: GrowNode | undefined;
  right: GrowNode | undefined;
  isLeaf = false;
  get count(): number {
    return this.end - this.start;
  }
}

function nodeValue(gradient: number, hessian: number, l2: number): number {
  return -gradient / (hessian + l2 + VALUE_EPSILON);
}

/** The loss reduction of a split: the node's loss minus its children's (XGBoost's eq. 7). */
function splitGain(
  lossNode: number,
  gradientLeft: number,
  hessianLeft: number,
  gradientRight: number,
  hessianRight: number,
  l2: number,
): number {
  return (
    lossNode -
    gradientLeft * nodeValue(gradientLeft, hessianLeft, l2) -
    gradientRight * nodeValue(gradientRight, hessianRight, l2)
  );
}

/**
 * Grows one regression tree on gradients and hessians, best-first (leaf-wise) as scikit-learn's
 * `TreeGrower` and LightGBM do: the node with the largest gain is split next, until
 * `maxLeafNodes` leaves; each split partitions the node's rows in place (stable, so every
 * histogram sums its rows in training order); the smaller child's histogram is built from its
 * rows and the larger one's is the parent's minus it. Splits follow scikit-learn 1.2.1 exactly:
 * the same gain, constraints (`minSamplesLeaf`, minimum hessian 1e-3), missing values sent to
 * the side with the better gain, categorical splits over categories ordered by gradient ratio,
 * and the same tie rules (first feature, first bin; the heap of Python's `heapq`).
 *
 * One grower serves a whole fit: its partition and histogram buffers are reused per tree.
 */
export class TreeGrower {
  readonly #data: GrowerData;
  readonly #settings: GrowerSettings;
  readonly #builder: HistogramBuilder;
  readonly #rows: NodeRows;
  readonly #buffers: PartitionBuffers;
  readonly #partition: PartitionKernel;
  readonly #histograms: Float64Array[] = [];
  readonly #free: number[] = [];
  readonly #histogramSize: number;
  #hessian: Float32Array | undefined;
  // Scratch of the categorical split search.
  readonly #categoryBin = new Int32Array(257);
  readonly #categoryValue = new Float64Array(257);
  readonly #categoryOrder = new Int32Array(257);

  constructor(
    data: GrowerData,
    settings: GrowerSettings,
    builder: HistogramBuilder,
    rows: NodeRows,
  ) {
    this.#data = data;
    this.#settings = settings;
    this.#builder = builder;
    this.#rows = rows;
    const n = data.rowCount;
    const words = data.rowStride / 4;
    const int32 = (array: Float32Array) =>
      new Int32Array(array.buffer, array.byteOffset, array.length);
    this.#buffers = {
      codes: rows.codes,
      words: new Int32Array(rows.codes.buffer, rows.codes.byteOffset, n * words),
      gradient: int32(rows.gradient),
      hessian: rows.hessian === undefined ? undefined : int32(rows.hessian),
      index: rows.index,
      scratchWords: new Int32Array(n * words),
      scratchGradient: new Int32Array(n),
      scratchHessian: rows.hessian === undefined ? undefined : new Int32Array(n),
      scratchIndex: new Int32Array(n),
    };
    this.#partition = partitionKernel(data.rowStride, rows.hessian !== undefined);
    this.#histogramSize = data.featureCount * data.bins * BIN_STRIDE;
  }

  /** The training row at each node-order position: after `grow`, leaves hold `leafStart..leafEnd`. */
  get partition(): Int32Array {
    return this.#rows.index;
  }

  #acquire(): number {
    const id = this.#free.pop();
    if (id !== undefined) return id;
    this.#histograms.push(new Float64Array(this.#histogramSize));
    return this.#histograms.length - 1;
  }

  #release(node: GrowNode): void {
    if (node.histogram >= 0) this.#free.push(node.histogram);
    node.histogram = -1;
  }

  /**
   * Grows a tree on `gradient` (and `hessian`, undefined for constant unit hessians) of the
   * training rows.
   */
  grow(gradient: Float32Array, hessian: Float32Array | undefined): GrownTree {
    this.#hessian = hessian;
    const { rowCount } = this.#data;
    const { minSamplesLeaf, maxLeafNodes, maxDepth } = this.#settings;
    // Every tree starts from the training order.
    const rows = this.#rows;
    rows.codes.set(this.#data.codes);
    rows.gradient.set(gradient);
    if (hessian !== undefined) rows.hessian!.set(hessian);
    const index = rows.index;
    for (let i = 0; i < rowCount; i++) index[i] = i;
    const root = new GrowNode();
    root.start = 0;
    root.end = rowCount;
    let sumGradient = 0;
    for (let i = 0; i < rowCount; i++) sumGradient += gradient[i];
    let sumHessian: number;
    if (hessian === undefined) sumHessian = rowCount;
    else {
      sumHessian = 0;
      for (let i = 0; i < rowCount; i++) sumHessian += hessian[i];
    }
    root.gradient = sumGradient;
    root.hessian = sumHessian;
    root.value = 0;
    const leaves: GrowNode[] = [];
    const heap: GrowNode[] = [];
    const finalize = (node: GrowNode) => {
      node.isLeaf = true;
      this.#release(node);
      leaves.push(node);
    };
    if (rowCount < 2 * minSamplesLeaf || sumHessian < MIN_HESSIAN_TO_SPLIT) {
      finalize(root);
    } else {
      root.histogram = this.#acquire();
      const histogram = this.#histograms[root.histogram];
      histogram.fill(0);
      this.#builder.build(0, rowCount, histogram);
      this.#findSplitAndPush(root, heap, finalize);
    }
    while (heap.length > 0) {
      const node = heapPop(heap);
      const split = node.split!;
      const leftCount = this.#partitionRows(node, split);
      const depth = node.depth + 1;
      const leafCount = leaves.length + heap.length + 2;
      const left = new GrowNode();
      const right = new GrowNode();
      left.start = node.start;
      left.end = node.start + leftCount;
      right.start = left.end;
      right.end = node.end;
      left.depth = depth;
      right.depth = depth;
      left.gradient = split.gradientLeft;
      left.hessian = split.hessianLeft;
      left.value = split.valueLeft;
      right.gradient = split.gradientRight;
      right.hessian = split.hessianRight;
      right.value = split.valueRight;
      node.left = left;
      node.right = right;
      if (!this.#data.hasMissing[split.feature]) {
        // Without missing values at fit, they go to the child with more rows at predict.
        split.missingLeft = left.count > right.count;
      }
      if (maxLeafNodes !== null && leafCount === maxLeafNodes) {
        finalize(left);
        finalize(right);
        while (heap.length > 0) finalize(heap.pop()!);
        this.#release(node);
        break;
      }
      if (maxDepth !== null && depth === maxDepth) {
        finalize(left);
        finalize(right);
        this.#release(node);
        continue;
      }
      if (left.count < 2 * minSamplesLeaf) finalize(left);
      if (right.count < 2 * minSamplesLeaf) finalize(right);
      const splitLeft = !left.isLeaf;
      const splitRight = !right.isLeaf;
      if (splitLeft || splitRight) {
        // The smaller child by brute force, the larger as parent − smaller (ties: right smaller).
        const leftSmaller = left.count < right.count;
        const small = leftSmaller ? left : right;
        const large = leftSmaller ? right : left;
        small.histogram = this.#acquire();
        const smallHistogram = this.#histograms[small.histogram];
        smallHistogram.fill(0);
        this.#builder.build(small.start, small.end, smallHistogram);
        if (!large.isLeaf) {
          // The parent's histogram becomes the larger child's.
          const parentHistogram = this.#histograms[node.histogram];
          subtractHistogram(
            parentHistogram,
            smallHistogram,
            parentHistogram,
            this.#data.bins,
            0,
            this.#data.featureCount,
          );
          large.histogram = node.histogram;
          node.histogram = -1;
        }
        if (splitLeft) this.#findSplitAndPush(left, heap, finalize);
        if (splitRight) this.#findSplitAndPush(right, heap, finalize);
        if (small.isLeaf) this.#release(small);
      }
      this.#release(node);
    }
    return this.#export(root, leaves);
  }

  #findSplitAndPush(node: GrowNode, heap: GrowNode[], finalize: (node: GrowNode) => void): void {
    const split = this.#findSplit(node);
    node.split = split;
    if (split.gain <= 0) finalize(node);
    else heapPush(heap, node);
  }

  /** The best split of `node` over every feature (first feature wins ties). */
  #findSplit(node: GrowNode): SplitInfo {
    const { featureCount, isCategorical, hasMissing } = this.#data;
    const histogram = this.#histograms[node.histogram];
    let best: SplitInfo | undefined;
    const candidate = new SplitInfo();
    for (let f = 0; f < featureCount; f++) {
      candidate.gain = -1;
      candidate.feature = f;
      candidate.categorical = isCategorical[f] === 1;
      if (candidate.categorical) {
        this.#scanCategories(f, histogram, node, candidate);
      } else {
        this.#scanLeftToRight(f, histogram, node, candidate);
        if (hasMissing[f]) this.#scanRightToLeft(f, histogram, node, candidate);
      }
      if (best === undefined) {
        best = new SplitInfo();
        copySplit(candidate, best);
      } else if (candidate.gain > best.gain) copySplit(candidate, best);
    }
    return best ?? new SplitInfo();
  }

  /** Missing values (if any) go right; the last non-missing bin may go left when they exist. */
  #scanLeftToRight(f: number, h: Float64Array, node: GrowNode, out: SplitInfo): void {
    const { bins, binsNonMissing, hasMissing } = this.#data;
    const { minSamplesLeaf, l2Regularization: l2 } = this.#settings;
    const constant = this.#hessian === undefined;
    const count = node.count;
    const sumGradient = node.gradient;
    const sumHessian = node.hessian;
    const lossNode = sumGradient * node.value;
    const end = binsNonMissing[f] - 1 + hasMissing[f];
    let countLeft = 0;
    let gradientLeft = 0;
    let hessianLeft = 0;
    let bestGain = -1;
    let bestBin = -1;
    let bestGradient = 0;
    let bestHessian = 0;
    let bestCount = 0;
    const base = f * bins * BIN_STRIDE;
    for (let b = 0; b < end; b++) {
      const slot = base + b * BIN_STRIDE;
      const c = h[slot + 2];
      countLeft += c;
      const countRight = count - countLeft;
      hessianLeft += constant ? c : h[slot + 1];
      const hessianRight = sumHessian - hessianLeft;
      gradientLeft += h[slot];
      const gradientRight = sumGradient - gradientLeft;
      if (countLeft < minSamplesLeaf) continue;
      if (countRight < minSamplesLeaf) break;
      if (hessianLeft < MIN_HESSIAN_TO_SPLIT) continue;
      if (hessianRight < MIN_HESSIAN_TO_SPLIT) break;
      const gain = splitGain(lossNode, gradientLeft, hessianLeft, gradientRight, hessianRight, l2);
      if (gain > bestGain && gain > 0) {
        bestGain = gain;
        bestBin = b;
        bestGradient = gradientLeft;
        bestHessian = hessianLeft;
        bestCount = countLeft;
      }
    }
    if (bestBin >= 0)
      this.#record(out, bestGain, bestBin, false, bestGradient, bestHessian, bestCount, node);
  }

  /** Only with missing values: they go left, non-missing bins are taken from the right. */
  #scanRightToLeft(f: number, h: Float64Array, node: GrowNode, out: SplitInfo): void {
    const { bins, binsNonMissing } = this.#data;
    const { minSamplesLeaf, l2Regularization: l2 } = this.#settings;
    const constant = this.#hessian === undefined;
    const count = node.count;
    const sumGradient = node.gradient;
    const sumHessian = node.hessian;
    const lossNode = sumGradient * node.value;
    let countRight = 0;
    let gradientRight = 0;
    let hessianRight = 0;
    let bestGain = out.gain;
    let bestBin = -1;
    let bestGradient = 0;
    let bestHessian = 0;
    let bestCount = 0;
    const base = f * bins * BIN_STRIDE;
    for (let b = binsNonMissing[f] - 2; b >= 0; b--) {
      const slot = base + (b + 1) * BIN_STRIDE;
      const c = h[slot + 2];
      countRight += c;
      const countLeft = count - countRight;
      hessianRight += constant ? c : h[slot + 1];
      const hessianLeft = sumHessian - hessianRight;
      gradientRight += h[slot];
      const gradientLeft = sumGradient - gradientRight;
      if (countRight < minSamplesLeaf) continue;
      if (countLeft < minSamplesLeaf) break;
      if (hessianRight < MIN_HESSIAN_TO_SPLIT) continue;
      if (hessianLeft < MIN_HESSIAN_TO_SPLIT) break;
      const gain = splitGain(lossNode, gradientLeft, hessianLeft, gradientRight, hessianRight, l2);
      if (gain > bestGain && gain > 0) {
        bestGain = gain;
        bestBin = b;
        bestGradient = gradientLeft;
        bestHessian = hessianLeft;
        bestCount = countLeft;
      }
    }
    if (bestBin >= 0)
      this.#record(out, bestGain, bestBin, true, bestGradient, bestHessian, bestCount, node);
  }

  /**
   * Categories (and missing values, as one more category) with enough support, ordered by
   * `sum_gradients / (sum_hessians + 10)`, scanned from both ends up to the middle; the
   * categories taken go left (scikit-learn's `_find_best_bin_to_split_category`).
   */
  #scanCategories(f: number, h: Float64Array, node: GrowNode, out: SplitInfo): void {
    const { bins, binsNonMissing, hasMissing } = this.#data;
    const { minSamplesLeaf, l2Regularization: l2 } = this.#settings;
    const constant = this.#hessian === undefined;
    const count = node.count;
    const sumGradient = node.gradient;
    const sumHessian = node.hessian;
    const supportFactor = count / sumHessian;
    const base = f * bins * BIN_STRIDE;
    const categoryBin = this.#categoryBin;
    const categoryValue = this.#categoryValue;
    let used = 0;
    const consider = (b: number) => {
      const slot = base + b * BIN_STRIDE;
      const hessianBin = constant ? h[slot + 2] : h[slot + 1];
      if (hessianBin * supportFactor >= MIN_CATEGORY_SUPPORT) {
        categoryBin[used] = b;
        categoryValue[used] = h[slot] / (hessianBin + MIN_CATEGORY_SUPPORT);
        used++;
      }
    };
    for (let b = 0; b < binsNonMissing[f]; b++) consider(b);
    if (hasMissing[f]) consider(bins - 1);
    if (used <= 1) return;
    // qsort with a comparator that never answers "equal" (glibc's merge sort puts the later of
    // two equal values first).
    const order = this.#categoryOrder;
    for (let i = 0; i < used; i++) order[i] = i;
    const sorted = Array.from(order.subarray(0, used)).sort(
      (a, b) => categoryValue[a] - categoryValue[b] || b - a,
    );
    const lossNode = sumGradient * node.value;
    let bestGain = -1;
    let bestThreshold = -1;
    let bestDirection = 0;
    let bestGradient = 0;
    let bestHessian = 0;
    let bestCount = 0;
    for (const direction of [1, -1]) {
      const middle = direction === 1 ? (used + 1) >> 1 : ((used + 1) >> 1) - 1;
      let countLeft = 0;
      let gradientLeft = 0;
      let hessianLeft = 0;
      for (let i = 0; i < middle; i++) {
        const position = direction === 1 ? i : used - 1 - i;
        const slot = base + categoryBin[sorted[position]] * BIN_STRIDE;
        const c = h[slot + 2];
        countLeft += c;
        const countRight = count - countLeft;
        hessianLeft += constant ? c : h[slot + 1];
        const hessianRight = sumHessian - hessianLeft;
        gradientLeft += h[slot];
        const gradientRight = sumGradient - gradientLeft;
        if (countLeft < minSamplesLeaf || hessianLeft < MIN_HESSIAN_TO_SPLIT) continue;
        if (countRight < minSamplesLeaf || hessianRight < MIN_HESSIAN_TO_SPLIT) break;
        const gain = splitGain(
          lossNode,
          gradientLeft,
          hessianLeft,
          gradientRight,
          hessianRight,
          l2,
        );
        if (gain > bestGain && gain > 0) {
          bestGain = gain;
          bestThreshold = position;
          bestDirection = direction;
          bestGradient = gradientLeft;
          bestHessian = hessianLeft;
          bestCount = countLeft;
        }
      }
    }
    if (bestThreshold < 0) return;
    this.#record(out, bestGain, 0, false, bestGradient, bestHessian, bestCount, node);
    const bitset = out.bitset;
    bitset.fill(0);
    if (bestDirection === 1) {
      for (let i = 0; i <= bestThreshold; i++) setBit(bitset, categoryBin[sorted[i]]);
    } else {
      for (let i = used - 1; i >= bestThreshold; i--) setBit(bitset, categoryBin[sorted[i]]);
    }
    if (hasMissing[f]) out.missingLeft = hasBit(bitset, bins - 1);
  }

  #record(
    out: SplitInfo,
    gain: number,
    bin: number,
    missingLeft: boolean,
    gradientLeft: number,
    hessianLeft: number,
    countLeft: number,
    node: GrowNode,
  ): void {
    const l2 = this.#settings.l2Regularization;
    out.gain = gain;
    out.bin = bin;
    out.missingLeft = missingLeft;
    out.gradientLeft = gradientLeft;
    out.gradientRight = node.gradient - gradientLeft;
    out.hessianLeft = hessianLeft;
    out.hessianRight = node.hessian - hessianLeft;
    out.countLeft = countLeft;
    out.countRight = node.count - countLeft;
    out.valueLeft = nodeValue(out.gradientLeft, out.hessianLeft, l2);
    out.valueRight = nodeValue(out.gradientRight, out.hessianRight, l2);
  }

  /**
   * Stable partition of the node's rows (codes, gradients, hessians, training index): the left
   * ones move down in place, the right ones through scratch buffers to the end. Returns how
   * many go left.
   */
  #partitionRows(node: GrowNode, split: SplitInfo): number {
    // Missing values going left count as ≤ the threshold; going right, no code matches 256.
    const missing = split.missingLeft ? this.#data.bins - 1 : 256;
    return this.#partition(
      this.#buffers,
      node.start,
      node.end,
      split.feature,
      split.bin,
      missing,
      split.categorical ? split.bitset : undefined,
    );
  }

  /** The tree in depth-first order (node, left subtree, right subtree). */
  #export(root: GrowNode, leaves: GrowNode[]): GrownTree {
    const order: GrowNode[] = [];
    const stack: GrowNode[] = [root];
    while (stack.length > 0) {
      const node = stack.pop()!;
      order.push(node);
      if (!node.isLeaf) {
        stack.push(node.right!);
        stack.push(node.left!);
      }
    }
    const index = new Map<GrowNode, number>();
    for (let i = 0; i < order.length; i++) index.set(order[i], i);
    const n = order.length;
    const tree: GrownTree = {
      left: new Int32Array(n),
      right: new Int32Array(n),
      feature: new Int32Array(n),
      binThreshold: new Int32Array(n),
      value: new Float64Array(n),
      missingLeft: new Uint8Array(n),
      count: new Float64Array(n),
      categorySplit: new Int32Array(n).fill(-1),
      bitsets: new Uint32Array(0),
      leafStart: new Int32Array(leaves.length),
      leafEnd: new Int32Array(leaves.length),
      leafNode: new Int32Array(leaves.length),
    };
    const bitsets: Uint32Array[] = [];
    order.forEach((node, i) => {
      tree.value[i] = node.value;
      tree.count[i] = node.count;
      if (node.isLeaf) {
        tree.left[i] = -1;
        tree.right[i] = -1;
        tree.feature[i] = -2;
        return;
      }
      const split = node.split!;
      tree.left[i] = index.get(node.left!)!;
      tree.right[i] = index.get(node.right!)!;
      tree.feature[i] = split.feature;
      tree.binThreshold[i] = split.bin;
      tree.missingLeft[i] = split.missingLeft ? 1 : 0;
      if (split.categorical) {
        tree.categorySplit[i] = bitsets.length;
        bitsets.push(Uint32Array.from(split.bitset));
      }
    });
    tree.bitsets = new Uint32Array(bitsets.length * 8);
    bitsets.forEach((bitset, i) => {
      tree.bitsets.set(bitset, i * 8);
    });
    leaves.forEach((leaf, i) => {
      tree.leafStart[i] = leaf.start;
      tree.leafEnd[i] = leaf.end;
      tree.leafNode[i] = index.get(leaf)!;
    });
    return tree;
  }
}

function copySplit(from: SplitInfo, to: SplitInfo): void {
  to.gain = from.gain;
  to.feature = from.feature;
  to.bin = from.bin;
  to.missingLeft = from.missingLeft;
  to.gradientLeft = from.gradientLeft;
  to.hessianLeft = from.hessianLeft;
  to.gradientRight = from.gradientRight;
  to.hessianRight = from.hessianRight;
  to.countLeft = from.countLeft;
  to.countRight = from.countRight;
  to.valueLeft = from.valueLeft;
  to.valueRight = from.valueRight;
  to.categorical = from.categorical;
  to.bitset.set(from.bitset);
}

function setBit(bitset: Uint32Array, bit: number): void {
  bitset[bit >> 5] |= 1 << (bit & 31);
}

function hasBit(bitset: Uint32Array, bit: number): boolean {
  return ((bitset[bit >> 5] >>> (bit & 31)) & 1) === 1;
}

// Python's heapq on nodes ordered by gain, largest first (TreeNode.__lt__ is `gain >`), so ties
// between equal gains resolve as in scikit-learn.

function before(a: GrowNode, b: GrowNode): boolean {
  return a.split!.gain > b.split!.gain;
}

function siftDown(heap: GrowNode[], start: number, position: number): void {
  const item = heap[position];
  let pos = position;
  while (pos > start) {
    const parent = (pos - 1) >> 1;
    if (before(item, heap[parent])) {
      heap[pos] = heap[parent];
      pos = parent;
      continue;
    }
    break;
  }
  heap[pos] = item;
}

function heapPush(heap: GrowNode[], node: GrowNode): void {
  heap.push(node);
  siftDown(heap, 0, heap.length - 1);
}

function heapPop(heap: GrowNode[]): GrowNode {
  const last = heap.pop()!;
  if (heap.length === 0) return last;
  const top = heap[0];
  heap[0] = last;
  // heapq._siftup: move the smaller child up until a leaf, then sift the item down.
  const end = heap.length;
  let pos = 0;
  const item = heap[0];
  let child = 1;
  while (child < end) {
    const right = child + 1;
    if (right < end && !before(heap[child], heap[right])) child = right;
    heap[pos] = heap[child];
    pos = child;
    child = 2 * pos + 1;
  }
  heap[pos] = item;
  siftDown(heap, 0, pos);
  return top;
}

/** The in-thread histogram builder: the kernel over every feature. */
export class LocalHistogramBuilder implements HistogramBuilder {
  readonly #data: GrowerData;
  readonly #rows: NodeRows;

  constructor(data: GrowerData, rows: NodeRows) {
    this.#data = data;
    this.#rows = rows;
  }

  build(start: number, end: number, histogram: Float64Array): void {
    const { featureCount, rowStride, bins } = this.#data;
    const { codes, gradient, hessian } = this.#rows;
    buildHistogram(
      codes,
      rowStride,
      bins,
      start,
      end,
      gradient,
      hessian,
      histogram,
      0,
      featureCount,
    );
  }
}
