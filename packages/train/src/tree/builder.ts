import type { NodeStore } from "./nodes.js";
import type { KernelParams } from "./params.js";

/** Machine epsilon: impurities at or below it count as pure (scikit-learn's EPSILON). */
export const EPSILON = 2.220446049250313e-16;

/** A node waiting to be evaluated: its rows `[start, end)` in the splitter's arrays. */
export interface NodeTask {
  start: number;
  end: number;
  depth: number;
  parent: number;
  isLeft: boolean;
  /** Impurity, from the parent's split (the root computes its own). */
  impurity: number;
  /** Features known constant here (the sampler's `constants[0..constants)`). */
  constants: number;
  /** Sample weight, weighted target sum and weighted sum of squares of the node's rows. */
  weight: number;
  sum: number;
  squares: number;
  /** Splitter-specific: the hist splitter's histogram of the node (-1 when none). */
  slot: number;
}

/** The best split of a node, as the splitters report it. */
export interface SplitRecord {
  feature: number;
  threshold: number;
  missingLeft: boolean;
  /** Rows going left. */
  leftCount: number;
  improvement: number;
  impurityLeft: number;
  impurityRight: number;
  leftWeight: number;
  leftSum: number;
  leftSquares: number;
  /** Constants known after the node's search (passed on by depth-first growth). */
  constants: number;
  /** Splitter-specific positions (split position, non-missing end, bin). */
  position: number;
  nonMissingEnd: number;
}

/** What the tree builders need from a split search (exact or histogram). */
export interface NodeSplitter {
  /** The root task, with its weight, sum, squares and impurity computed. */
  root(): NodeTask;
  /** Fills weight, sum and squares of a task (not the root), before it is evaluated. */
  prepare(task: NodeTask): void;
  /** Searches the best split; false when no valid split exists. */
  split(task: NodeTask, out: SplitRecord): boolean;
  /** Moves the task's rows to the children (whose `constants` are set); sets their ranges. */
  partition(task: NodeTask, split: SplitRecord, left: NodeTask, right: NodeTask): void;
  /** The task became a leaf: release what it holds. */
  release(task: NodeTask): void;
  /** The rows of a task (a view; each row once, in no particular order). */
  rows(task: NodeTask): Int32Array;
}

/** Told each leaf's node id and its rows (a view, valid during the call), as leaves are made. */
export type OnLeaf = (id: number, rows: Int32Array) => void;

export function newTask(): NodeTask {
  return {
    start: 0,
    end: 0,
    depth: 0,
    parent: -1,
    isLeft: false,
    impurity: 0,
    constants: 0,
    weight: 0,
    sum: 0,
    squares: 0,
    slot: -1,
  };
}

export function newSplit(): SplitRecord {
  return {
    feature: -1,
    threshold: 0,
    missingLeft: false,
    leftCount: 0,
    improvement: Number.NEGATIVE_INFINITY,
    impurityLeft: 0,
    impurityRight: 0,
    leftWeight: 0,
    leftSum: 0,
    leftSquares: 0,
    constants: 0,
    position: 0,
    nonMissingEnd: 0,
  };
}

/** Weighted variance from weight, sum and sum of squares (scikit-learn's MSE impurity). */
export function impurityOf(weight: number, sum: number, squares: number): number {
  const mean = sum / weight;
  return squares / weight - mean * mean;
}

function children(task: NodeTask, id: number, split: SplitRecord, constants: number): NodeTask[] {
  const left = newTask();
  const right = newTask();
  left.depth = right.depth = task.depth + 1;
  left.parent = right.parent = id;
  left.isLeft = true;
  left.impurity = split.impurityLeft;
  right.impurity = split.impurityRight;
  left.constants = right.constants = constants;
  left.weight = split.leftWeight;
  left.sum = split.leftSum;
  left.squares = split.leftSquares;
  right.weight = task.weight - split.leftWeight;
  right.sum = task.sum - split.leftSum;
  right.squares = task.squares - split.leftSquares;
  return [left, right];
}

/**
 * Whether a node with the range, depth and parent-given statistics of `task` could be split at
 * all; when neither child of a split could, splitters skip reordering their rows.
 */
export function couldSplit(task: NodeTask, params: KernelParams): boolean {
  const count = task.end - task.start;
  return (
    task.depth < params.maxDepth &&
    count >= params.minSamplesSplit &&
    count >= 2 * params.minSamplesLeaf
  );
}

function isLeafBySize(task: NodeTask, params: KernelParams): boolean {
  const count = task.end - task.start;
  return (
    task.depth >= params.maxDepth ||
    count < params.minSamplesSplit ||
    count < 2 * params.minSamplesLeaf ||
    task.weight < 2 * params.minWeightLeaf ||
    task.impurity <= EPSILON
  );
}

/**
 * scikit-learn's DepthFirstTreeBuilder: nodes numbered in pre-order (left subtree first), a
 * node is a leaf at `maxDepth`, below `minSamplesSplit` or twice `minSamplesLeaf` rows (or
 * weight), when pure, when no split is valid, or when the split's weighted impurity decrease
 * + ε is below `minImpurityDecrease`.
 */
export function growDepthFirst(
  splitter: NodeSplitter,
  params: KernelParams,
  nodes: NodeStore,
  onLeaf?: OnLeaf,
): void {
  const stack: NodeTask[] = [splitter.root()];
  const split = newSplit();
  while (stack.length > 0) {
    const task = stack.pop()!;
    if (task.parent >= 0) splitter.prepare(task);
    let isLeaf = isLeafBySize(task, params);
    if (!isLeaf) {
      isLeaf =
        !splitter.split(task, split) || split.improvement + EPSILON < params.minImpurityDecrease;
    }
    const id = nodes.add(
      task.parent,
      task.isLeft,
      isLeaf,
      split.feature,
      split.threshold,
      split.missingLeft,
      task.impurity,
      task.weight,
      task.sum / task.weight,
    );
    if (isLeaf) {
      onLeaf?.(id, splitter.rows(task));
      splitter.release(task);
      continue;
    }
    const [left, right] = children(task, id, split, split.constants);
    splitter.partition(task, split, left, right);
    stack.push(right, left);
  }
}

interface FrontierEntry {
  id: number;
  task: NodeTask;
  split: SplitRecord | undefined;
  improvement: number;
}

/** Max-heap order: larger improvement first, then the older node. */
function before(a: FrontierEntry, b: FrontierEntry): boolean {
  return a.improvement > b.improvement || (a.improvement === b.improvement && a.id < b.id);
}

function heapPush(heap: FrontierEntry[], entry: FrontierEntry): void {
  heap.push(entry);
  let i = heap.length - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (!before(heap[i], heap[parent])) break;
    [heap[i], heap[parent]] = [heap[parent], heap[i]];
    i = parent;
  }
}

function heapPop(heap: FrontierEntry[]): FrontierEntry {
  const top = heap[0];
  const last = heap.pop()!;
  if (heap.length > 0) {
    heap[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && before(heap[l], heap[m])) m = l;
      if (r < heap.length && before(heap[r], heap[m])) m = r;
      if (m === i) break;
      [heap[i], heap[m]] = [heap[m], heap[i]];
      i = m;
    }
  }
  return top;
}

/**
 * scikit-learn's BestFirstTreeBuilder (`maxLeafNodes`): every node's best split is computed
 * when the node is created, and the frontier node with the largest weighted impurity decrease
 * is expanded next, until `maxLeafNodes − 1` splits are made. Ties in improvement go to the
 * older node.
 */
export function growBestFirst(
  splitter: NodeSplitter,
  params: KernelParams,
  nodes: NodeStore,
  onLeaf?: OnLeaf,
): void {
  const heap: FrontierEntry[] = [];
  const evaluate = (task: NodeTask): FrontierEntry => {
    if (task.parent >= 0) splitter.prepare(task);
    const split = newSplit();
    let isLeaf = isLeafBySize(task, params);
    if (!isLeaf) {
      isLeaf =
        !splitter.split(task, split) || split.improvement + EPSILON < params.minImpurityDecrease;
    }
    const id = nodes.add(
      task.parent,
      task.isLeft,
      isLeaf,
      split.feature,
      split.threshold,
      split.missingLeft,
      task.impurity,
      task.weight,
      task.sum / task.weight,
    );
    if (isLeaf) {
      onLeaf?.(id, splitter.rows(task));
      splitter.release(task);
      return { id, task, split: undefined, improvement: 0 };
    }
    return { id, task, split, improvement: split.improvement };
  };
  heapPush(heap, evaluate(splitter.root()));
  let splitsLeft = params.maxLeafNodes - 1;
  while (heap.length > 0) {
    const entry = heapPop(heap);
    if (entry.split === undefined) continue;
    if (splitsLeft <= 0) {
      nodes.makeLeaf(entry.id);
      onLeaf?.(entry.id, splitter.rows(entry.task));
      splitter.release(entry.task);
      continue;
    }
    splitsLeft--;
    // Known constants are not carried over: the feature order changes between expansions.
    const [left, right] = children(entry.task, entry.id, entry.split, 0);
    splitter.partition(entry.task, entry.split, left, right);
    heapPush(heap, evaluate(left));
    heapPush(heap, evaluate(right));
  }
}
