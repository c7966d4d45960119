import type { TreeArrays as StoredTreeArrays } from "@mlops/core";
import { impurityImportances } from "@mlops/core/internal";

/**
 * One fitted regression tree: core's `TreeArrays` (the layout of `tree` and `ensemble`
 * artifacts, declared there once) with the training arrays — `missingLeft`, `nodeSamples`,
 * `impurity` — always present.
 *
 * @example
 * const tree = fitTree(data, y, undefined, undefined, { maxDepth: 2 });
 * tree.feature[0]; // the root's feature; tree.value[tree.left[0]] the left child's mean
 */
export type TreeArrays = StoredTreeArrays &
  Required<Pick<StoredTreeArrays, "missingLeft" | "nodeSamples" | "impurity">>;

export const LEAF = -1;
export const UNDEFINED_FEATURE = -2;

/** Growable node arrays filled by the tree builders. */
export class NodeStore {
  count = 0;
  left: Int32Array;
  right: Int32Array;
  feature: Int32Array;
  threshold: Float64Array;
  value: Float64Array;
  missingLeft: Uint8Array;
  nodeSamples: Float64Array;
  impurity: Float64Array;

  constructor(capacity = 64) {
    this.left = new Int32Array(capacity);
    this.right = new Int32Array(capacity);
    this.feature = new Int32Array(capacity);
    this.threshold = new Float64Array(capacity);
    this.value = new Float64Array(capacity);
    this.missingLeft = new Uint8Array(capacity);
    this.nodeSamples = new Float64Array(capacity);
    this.impurity = new Float64Array(capacity);
  }

  /** Appends a node (a leaf, or a split whose children come later) and links it to `parent`. */
  add(
    parent: number,
    isLeft: boolean,
    isLeaf: boolean,
    feature: number,
    threshold: number,
    missingLeft: boolean,
    impurity: number,
    weight: number,
    value: number,
  ): number {
    if (this.count === this.left.length) this.#grow();
    const id = this.count++;
    if (parent >= 0) {
      if (isLeft) this.left[parent] = id;
      else this.right[parent] = id;
    }
    this.left[id] = LEAF;
    this.right[id] = LEAF;
    if (isLeaf) {
      this.feature[id] = UNDEFINED_FEATURE;
      this.threshold[id] = UNDEFINED_FEATURE;
      this.missingLeft[id] = 0;
    } else {
      this.feature[id] = feature;
      this.threshold[id] = threshold;
      this.missingLeft[id] = missingLeft ? 1 : 0;
    }
    this.impurity[id] = impurity;
    this.nodeSamples[id] = weight;
    this.value[id] = value;
    return id;
  }

  /** Turns a split node that will not be expanded into a leaf. */
  makeLeaf(id: number): void {
    this.left[id] = LEAF;
    this.right[id] = LEAF;
    this.feature[id] = UNDEFINED_FEATURE;
    this.threshold[id] = UNDEFINED_FEATURE;
    this.missingLeft[id] = 0;
  }

  #grow(): void {
    const size = this.left.length * 2;
    const grow = <T extends Int32Array | Float64Array | Uint8Array>(array: T): T => {
      const next = new (array.constructor as new (length: number) => T)(size);
      next.set(array);
      return next;
    };
    this.left = grow(this.left);
    this.right = grow(this.right);
    this.feature = grow(this.feature);
    this.threshold = grow(this.threshold);
    this.value = grow(this.value);
    this.missingLeft = grow(this.missingLeft);
    this.nodeSamples = grow(this.nodeSamples);
    this.impurity = grow(this.impurity);
  }

  /** The arrays trimmed to the nodes added. */
  finish(): TreeArrays {
    const n = this.count;
    return {
      left: this.left.slice(0, n),
      right: this.right.slice(0, n),
      feature: this.feature.slice(0, n),
      threshold: this.threshold.slice(0, n),
      value: this.value.slice(0, n),
      missingLeft: this.missingLeft.slice(0, n),
      nodeSamples: this.nodeSamples.slice(0, n),
      impurity: this.impurity.slice(0, n),
    };
  }
}

/**
 * The depth of a tree: edges on the longest root-to-leaf path (a lone leaf has depth 0).
 *
 * @example
 * treeDepth(fitTree(data, y, undefined, undefined, { maxDepth: 3 })); // ≤ 3
 */
export function treeDepth(tree: TreeArrays): number {
  const { left, right } = tree;
  const depth = new Int32Array(left.length);
  let deepest = 0;
  // Children always come after their parent (both builders append them later).
  for (let node = 0; node < left.length; node++) {
    if (depth[node] > deepest) deepest = depth[node];
    if (left[node] >= 0) {
      depth[left[node]] = depth[node] + 1;
      depth[right[node]] = depth[node] + 1;
    }
  }
  return deepest;
}

/**
 * The number of leaves of a tree.
 *
 * @example
 * treeLeafCount(tree); // 256 for a full tree of depth 8
 */
export function treeLeafCount(tree: TreeArrays): number {
  let leaves = 0;
  for (let node = 0; node < tree.left.length; node++) if (tree.left[node] < 0) leaves++;
  return leaves;
}

/**
 * scikit-learn's impurity-based feature importances of one tree: for each split,
 * `w·impurity − w_left·impurity_left − w_right·impurity_right` added to its feature, divided by
 * the root's weight, then normalised to sum 1 (all zeros for a lone leaf).
 *
 * @example
 * treeFeatureImportanceArray(tree, 3); // Float64Array [0.7, 0.3, 0]
 */
export function treeFeatureImportanceArray(tree: TreeArrays, featureCount: number): Float64Array {
  return impurityImportances(tree, featureCount, true);
}
