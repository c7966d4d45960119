import { formatZodIssues, modelSections } from "../artifact/manifest.js";
import type { ArtifactArray, ModelArtifact, SplitRule } from "../artifact/types.js";
import { MlopsError } from "../errors/error.js";
import { walkThreshold } from "./split-rule.js";

/**
 * One regression tree as parallel typed arrays, node 0 the root, as `tree` and `ensemble`
 * artifacts store it (scikit-learn's `tree_` layout): a row goes left when
 * `x <= threshold` (compared as the artifact's split rule says), and a missing value (NaN) goes left where `missingLeft` is 1. Declared once
 * here; @mlops/train's fitted trees are this type with the training arrays present.
 *
 * @example
 * const tree: TreeArrays = { left, right, feature, threshold, value };
 * tree.value[tree.left[0]]; // the prediction of the root's left child
 */
export interface TreeArrays {
  /** Left child of each node, -1 for a leaf. */
  left: Int32Array;
  /** Right child of each node, -1 for a leaf. */
  right: Int32Array;
  /**
   * Index into `model.inputs` of the value each split reads; ignored for leaves (-2 there, as
   * scikit-learn writes it).
   */
  feature: Int32Array;
  /** A row goes left when `value <= threshold`; ignored for leaves (-2 there; see `SplitRule`). */
  threshold: Float64Array;
  /** The prediction of each node, the (weighted) mean target of its training rows. */
  value: Float64Array;
  /** 1 where a missing value goes left, 0 where it goes right. */
  missingLeft?: Uint8Array;
  /** Total sample weight of each node's training rows (importances, default missing side). */
  nodeSamples?: Float64Array;
  /** Impurity per node: the weighted variance of its training targets (importances). */
  impurity?: Float64Array;
  /**
   * Categorical splits: per node, -1 for a leaf or a numeric split, else the offset in
   * `categoryBits` of the node's bitset. A row goes left when its category is in the bitset.
   */
  categorySplit?: Int32Array;
  /**
   * The bitsets of the categorical splits, one after another: at each offset the number of
   * 32-bit words `w`, then `w` words; bit `c` (word `c >> 5`, bit `c & 31`) stands for category
   * number `c` (its position in `model.categories[input]`, or the value itself for a numeric
   * input). A missing value, and a category the bitset cannot name, follows `missingLeft`.
   */
  categoryBits?: Int32Array;
}

const REQUIRED = {
  left: Int32Array,
  right: Int32Array,
  feature: Int32Array,
  threshold: Float64Array,
  value: Float64Array,
} as const;
const OPTIONAL = {
  missingLeft: Uint8Array,
  nodeSamples: Float64Array,
  impurity: Float64Array,
  categorySplit: Int32Array,
} as const;

function typeName(array: ArtifactArray): string {
  return array.constructor.name;
}

/**
 * The arrays of the tree stored under `prefix` (`"tree."`, `"trees.3."`), type- and
 * length-checked. Throws `artifact_invalid` naming the array.
 */
export function treeArrays(arrays: Record<string, ArtifactArray>, prefix: string): TreeArrays {
  const out: Record<string, ArtifactArray> = {};
  let count: number | undefined;
  const take = (
    name: string,
    type: typeof Int32Array | typeof Float64Array | typeof Uint8Array,
    required: boolean,
  ) => {
    const array = arrays[prefix + name];
    if (array === undefined) {
      if (required) {
        throw new MlopsError(
          "artifact_invalid",
          `arrays: missing "${prefix}${name}" ` +
            "(a tree needs left, right, feature, threshold, value)",
        );
      }
      return;
    }
    if (!(array instanceof type)) {
      throw new MlopsError(
        "artifact_invalid",
        `arrays["${prefix}${name}"]: expected ${type.name}, got ${typeName(array)}`,
      );
    }
    if (count === undefined) count = array.length;
    else if (array.length !== count) {
      throw new MlopsError(
        "artifact_invalid",
        `arrays["${prefix}${name}"] has ${array.length} entries, ` +
          `expected ${count} like "${prefix}left"`,
      );
    }
    out[name] = array;
  };
  for (const [name, type] of Object.entries(REQUIRED)) take(name, type, true);
  for (const [name, type] of Object.entries(OPTIONAL)) take(name, type, false);
  const bits = arrays[`${prefix}categoryBits`];
  if ((bits === undefined) !== (out.categorySplit === undefined)) {
    throw new MlopsError(
      "artifact_invalid",
      `arrays: "${prefix}categorySplit" and "${prefix}categoryBits" come together ` +
        `(found only "${prefix}${bits === undefined ? "categorySplit" : "categoryBits"}")`,
    );
  }
  if (bits !== undefined) {
    if (!(bits instanceof Int32Array)) {
      throw new MlopsError(
        "artifact_invalid",
        `arrays["${prefix}categoryBits"]: expected Int32Array, got ${typeName(bits)}`,
      );
    }
    out.categoryBits = bits;
  }
  if (count === 0)
    throw new MlopsError(
      "artifact_invalid",
      `arrays["${prefix}left"]: a tree needs at least one node`,
    );
  return out as unknown as TreeArrays;
}

/**
 * Checks that the arrays form one tree rooted at node 0 (every node reached exactly once, so no
 * cycles), with features inside `inputCount` and comparable thresholds. Returns the breadth-first
 * order of the nodes and the depth (a lone leaf has depth 0).
 */
export function checkTree(
  tree: TreeArrays,
  inputCount: number,
  prefix: string,
): { order: Int32Array; depth: number } {
  const { left, right, feature, threshold, categorySplit, categoryBits } = tree;
  const n = left.length;
  const bad = (node: number, detail: string): never => {
    throw new MlopsError("artifact_invalid", `${prefix}: node ${node}: ${detail}`);
  };
  const bitCount = categoryBits === undefined ? 0 : categoryBits.length;
  const order = new Int32Array(n);
  const level = new Int32Array(n);
  const seen = new Uint8Array(n);
  seen[0] = 1;
  let size = 1;
  let depth = 0;
  for (let q = 0; q < size; q++) {
    const node = order[q];
    const l = left[node];
    const r = right[node];
    if (l === -1 && r === -1) {
      if (level[node] > depth) depth = level[node];
      continue;
    }
    if (!(l >= 0 && l < n && r >= 0 && r < n)) {
      bad(
        node,
        `children ${l} and ${r}: expected two nodes in 0..${n - 1}, or -1 and -1 for a leaf`,
      );
    }
    if (seen[l] || seen[r] || l === r)
      bad(node, `child ${seen[l] ? l : r} already has a parent (not a tree)`);
    if (!(feature[node] >= 0 && feature[node] < inputCount)) {
      bad(node, `feature ${feature[node]} is outside 0..${inputCount - 1} (model.inputs)`);
    }
    const offset = categorySplit === undefined ? -1 : categorySplit[node];
    if (offset >= 0) {
      const words = offset < bitCount ? categoryBits![offset] : -1;
      if (!(words >= 0 && offset + 1 + words <= bitCount)) {
        bad(
          node,
          `categorySplit ${offset}: expected the offset of a bitset in categoryBits ` +
            `(a word count, then that many words; ${bitCount} words in all)`,
        );
      }
    } else if (offset !== -1) {
      bad(node, `categorySplit ${offset}: expected -1 (numeric split) or an offset ≥ 0`);
    } else if (Number.isNaN(threshold[node])) bad(node, "threshold is NaN");
    seen[l] = 1;
    seen[r] = 1;
    level[l] = level[node] + 1;
    level[r] = level[node] + 1;
    order[size++] = l;
    order[size++] = r;
  }
  if (size !== n) {
    const lost = seen.indexOf(0);
    bad(lost, "is not reachable from the root");
  }
  return { order, depth };
}

/**
 * A tree relaid for prediction: breadth-first, so the children of a node are `child` and
 * `child + 1`; a leaf is its own child with threshold +Infinity, so it never moves. That makes a
 * step branch-free, `h = child[h] + (x > threshold[h])`, and lets a block of rows walk the tree
 * level by level, with independent rows in flight at once. The artifact's split rule is folded
 * into the thresholds once (`walkThreshold`), so every rule walks with the same `x <= t`.
 *
 * Missing values: `x > t` is false for NaN, so NaN goes left for free. A split that sends it
 * right reads the input from a second lane where NaN was replaced by +Infinity (and the first
 * lane holds -Infinity), so the step stays one comparison (`CompiledTrees`). A tree with
 * categorical splits walks row by row instead, each categorical node looking its value up in a
 * table of sides.
 */
export class CompiledTree {
  readonly child: Int32Array;
  /** Slot read by each node (leaves read a valid slot too, and ignore it). */
  readonly slot: Int32Array;
  /**
   * Lane read by each node in a block of lanes (`CompiledTrees`): `2 × input` where a missing
   * value goes left, `2 × input + 1` where it goes right; 0 for leaves.
   */
  readonly lane: Int32Array;
  readonly threshold: Float64Array;
  /** 1 where a missing value goes right (the branch-free step sends NaN left). */
  readonly missingRight: Int32Array;
  readonly value: Float64Array;
  readonly depth: number;
  /** Slots read by splits that send missing values right: where NaN needs the lanes. */
  readonly nanSlots: Int32Array;
  /**
   * The tree walks row by row (`leafAt`): it has categorical splits, or a split with threshold
   * +Infinity that sends missing values right (no lane can tell NaN from +Infinity there).
   */
  readonly rowByRow: boolean;
  /**
   * Categorical splits: per node, -1, or where its table of sides starts in `categorySide`
   * (`categorySide[start + v]` is 0 for left, 1 for right, for the slot value `v`).
   */
  readonly categoryStart: Int32Array | undefined;
  /** Per node: the table's length; values outside it follow the missing-value side. */
  readonly categorySize: Int32Array | undefined;
  readonly categorySide: Uint8Array | undefined;

  /**
   * `categoryCodes[j]`, for an input with declared categories, maps the slot's values (a category
   * column's codes, a numeric input's integers) to category numbers of the artifact (-1: unknown
   * to the model, which goes where missing values go); undefined for other inputs, where a
   * categorical split reads the value itself as the category number. `rule` is the artifact's
   * split rule for numeric splits.
   */
  constructor(
    tree: TreeArrays,
    inputSlots: Int32Array,
    prefix: string,
    categoryCodes: readonly (Int32Array | undefined)[] = [],
    rule: SplitRule = "float64_le",
  ) {
    const { order, depth } = checkTree(tree, inputSlots.length, prefix);
    const n = order.length;
    const position = new Int32Array(n);
    for (let k = 0; k < n; k++) position[order[k]] = k;
    this.child = new Int32Array(n);
    this.slot = new Int32Array(n);
    this.lane = new Int32Array(n);
    this.threshold = new Float64Array(n);
    this.missingRight = new Int32Array(n);
    this.value = new Float64Array(n);
    this.depth = depth;
    const nanSlots = new Set<number>();
    let infiniteRight = false;
    const { left, right, feature, threshold, value, missingLeft, nodeSamples } = tree;
    const { categorySplit, categoryBits } = tree;
    let categoryStart: Int32Array | undefined;
    let categorySize: Int32Array | undefined;
    const sides: Uint8Array[] = [];
    let sideCount = 0;
    for (let k = 0; k < n; k++) {
      const node = order[k];
      this.value[k] = value[node];
      if (left[node] < 0) {
        this.child[k] = k;
        this.slot[k] = inputSlots[0];
        this.threshold[k] = Number.POSITIVE_INFINITY;
        continue;
      }
      const input = feature[node];
      this.child[k] = position[left[node]];
      this.slot[k] = inputSlots[input];
      this.threshold[k] = walkThreshold(threshold[node], rule);
      // scikit-learn >= 1.3: missing_go_to_left; a split that saw no missing values sends them to
      // the child with more samples (ties right). Without either array, NaN <= t is false: right.
      const goesLeft = missingLeft
        ? missingLeft[node] !== 0
        : nodeSamples
          ? nodeSamples[left[node]] > nodeSamples[right[node]]
          : false;
      this.missingRight[k] = goesLeft ? 0 : 1;
      this.lane[k] = 2 * input + this.missingRight[k];
      const offset = categorySplit === undefined ? -1 : categorySplit[node];
      const codes = categoryCodes[input];
      if (offset < 0) {
        if (codes !== undefined) {
          throw new MlopsError(
            "artifact_invalid",
            `${prefix}: node ${node}: a numeric split reads an input with categories ` +
              "(inputs listed in model.categories take categorical splits only)",
          );
        }
        if (!goesLeft) {
          nanSlots.add(inputSlots[input]);
          if (this.threshold[k] === Number.POSITIVE_INFINITY) infiniteRight = true;
        }
        continue;
      }
      categoryStart ??= new Int32Array(n).fill(-1);
      categorySize ??= new Int32Array(n);
      const words = categoryBits![offset];
      const has = (c: number) =>
        c >= 0 && c < words * 32 && (categoryBits![offset + 1 + (c >> 5)] >>> (c & 31)) & 1;
      const missingSide = goesLeft ? 0 : 1;
      let side: Uint8Array;
      if (codes !== undefined) {
        side = new Uint8Array(codes.length);
        for (let code = 0; code < codes.length; code++) {
          side[code] = codes[code] < 0 ? missingSide : has(codes[code]) ? 0 : 1;
        }
      } else {
        side = new Uint8Array(words * 32);
        for (let c = 0; c < side.length; c++) side[c] = has(c) ? 0 : 1;
      }
      categoryStart[k] = sideCount;
      categorySize[k] = side.length;
      sides.push(side);
      sideCount += side.length;
    }
    this.nanSlots = Int32Array.from(nanSlots);
    this.rowByRow = categoryStart !== undefined || infiniteRight;
    this.categoryStart = categoryStart;
    this.categorySize = categorySize;
    if (categoryStart !== undefined) {
      const all = new Uint8Array(sideCount);
      let at = 0;
      for (const side of sides) {
        all.set(side, at);
        at += side.length;
      }
      this.categorySide = all;
    }
  }

  /** The leaf position of one row held in `values` (one value per slot). */
  leafOf(values: Float64Array): number {
    return this.leafAt(values, 0);
  }

  /** The leaf of the row at `data[offset + slot]`, missing values and categories included. */
  leafAt(data: Float64Array, offset: number): number {
    const { child, slot, threshold, missingRight } = this;
    const start = this.categoryStart;
    let h = 0;
    for (;;) {
      const c = child[h];
      if (c === h) return h;
      const x = data[offset + slot[h]];
      const at = start === undefined ? -1 : start[h];
      if (at < 0) {
        h = x <= threshold[h] ? c : x > threshold[h] ? c + 1 : c + missingRight[h];
      } else {
        // Category numbers are integers in the table; anything else is missing or unknown.
        const size = this.categorySize!;
        h =
          x >= 0 && x < size[h] && x === Math.floor(x)
            ? c + this.categorySide![at + x]
            : c + missingRight[h];
      }
    }
  }
}

/**
 * The trees of one model walking blocks of rows: `add` adds every tree's leaf value to each row's
 * sum, tree after tree, so the sums are those of a node-by-node walk, in the same order. When a
 * block has missing values where a split sends them right, the model's inputs are first copied
 * into two lanes each (NaN as -Infinity, then as +Infinity; `CompiledTree.lane`), so the walk has
 * no missing-value test; otherwise the trees read the block itself.
 */
export class CompiledTrees {
  readonly trees: readonly CompiledTree[];
  readonly #inputSlots: Int32Array;
  readonly #nanSlots: Int32Array;
  readonly #lanes: Float64Array;

  constructor(trees: readonly CompiledTree[], inputSlots: Int32Array, blockSize: number) {
    this.trees = trees;
    this.#inputSlots = inputSlots;
    const nanSlots = new Set<number>();
    for (const tree of trees)
      if (!tree.rowByRow) for (const slot of tree.nanSlots) nanSlots.add(slot);
    this.#nanSlots = Int32Array.from(nanSlots);
    this.#lanes = new Float64Array(nanSlots.size > 0 ? blockSize * 2 * inputSlots.length : 0);
  }

  /**
   * Adds the trees' leaf values to `sum[0..n-1]` for rows `0..n-1` of a row-major block
   * (`data[r * stride + slot]`); `missing[slot]` says whether a slot may hold NaN in this block.
   */
  add(data: Float64Array, stride: number, n: number, missing: Uint8Array, sum: Float64Array): void {
    let useLanes = false;
    const nanSlots = this.#nanSlots;
    for (let i = 0; i < nanSlots.length; i++) if (missing[nanSlots[i]] !== 0) useLanes = true;
    const lanes = this.#lanes;
    const laneStride = 2 * this.#inputSlots.length;
    if (useLanes) fillLanes(data, stride, n, this.#inputSlots, lanes);
    const trees = this.trees;
    for (let t = 0; t < trees.length; t++) {
      const tree = trees[t];
      if (tree.rowByRow) {
        const value = tree.value;
        for (let r = 0, o = 0; r < n; r++, o += stride) sum[r] += value[tree.leafAt(data, o)];
      } else if (useLanes) walk(tree, tree.lane, lanes, laneStride, n, sum);
      else walk(tree, tree.slot, data, stride, n, sum);
    }
  }
}

/** Copies the inputs of rows `0..n-1` into two lanes each: NaN becomes -Infinity, +Infinity. */
function fillLanes(
  data: Float64Array,
  stride: number,
  n: number,
  inputSlots: Int32Array,
  lanes: Float64Array,
): void {
  const laneStride = 2 * inputSlots.length;
  for (let j = 0; j < inputSlots.length; j++) {
    for (let r = 0, at = inputSlots[j], to = 2 * j; r < n; r++, at += stride, to += laneStride) {
      const x = data[at];
      if (Number.isNaN(x)) {
        lanes[to] = Number.NEGATIVE_INFINITY;
        lanes[to + 1] = Number.POSITIVE_INFINITY;
      } else {
        lanes[to] = x;
        lanes[to + 1] = x;
      }
    }
  }
}

// Eight rows walk the tree together, their positions in registers: eight independent chains of
// loads keep the CPU busy where one row would wait on each load. Every eight levels the group
// stops early if all eight rows sit on leaves (unbalanced trees). Each row's leaf value is added
// to its sum. `slot` is the tree's `slot` (reading the block) or `lane` (reading the lanes).

function walk(
  tree: CompiledTree,
  slot: Int32Array,
  data: Float64Array,
  stride: number,
  n: number,
  sum: Float64Array,
): void {
  const { child, threshold, value, depth } = tree;
  let r = 0;
  for (; r + 8 <= n; r += 8) {
    const o0 = r * stride;
    const o1 = o0 + stride;
    const o2 = o1 + stride;
    const o3 = o2 + stride;
    const o4 = o3 + stride;
    const o5 = o4 + stride;
    const o6 = o5 + stride;
    const o7 = o6 + stride;
    let h0 = 0;
    let h1 = 0;
    let h2 = 0;
    let h3 = 0;
    let h4 = 0;
    let h5 = 0;
    let h6 = 0;
    let h7 = 0;
    for (let level = 0; level < depth; level++) {
      h0 = child[h0] + +(data[o0 + slot[h0]] > threshold[h0]);
      h1 = child[h1] + +(data[o1 + slot[h1]] > threshold[h1]);
      h2 = child[h2] + +(data[o2 + slot[h2]] > threshold[h2]);
      h3 = child[h3] + +(data[o3 + slot[h3]] > threshold[h3]);
      h4 = child[h4] + +(data[o4 + slot[h4]] > threshold[h4]);
      h5 = child[h5] + +(data[o5 + slot[h5]] > threshold[h5]);
      h6 = child[h6] + +(data[o6 + slot[h6]] > threshold[h6]);
      h7 = child[h7] + +(data[o7 + slot[h7]] > threshold[h7]);
      if ((level & 7) === 7 && level + 1 < depth) {
        if (
          child[h0] === h0 &&
          child[h1] === h1 &&
          child[h2] === h2 &&
          child[h3] === h3 &&
          child[h4] === h4 &&
          child[h5] === h5 &&
          child[h6] === h6 &&
          child[h7] === h7
        ) {
          break;
        }
      }
    }
    sum[r] += value[h0];
    sum[r + 1] += value[h1];
    sum[r + 2] += value[h2];
    sum[r + 3] += value[h3];
    sum[r + 4] += value[h4];
    sum[r + 5] += value[h5];
    sum[r + 6] += value[h6];
    sum[r + 7] += value[h7];
  }
  for (; r < n; r++) {
    const o = r * stride;
    let h = 0;
    while (child[h] !== h) h = child[h] + +(data[o + slot[h]] > threshold[h]);
    sum[r] += value[h];
  }
}

/**
 * Impurity-based feature importances of one tree, as scikit-learn's
 * `compute_feature_importances`: for each split, `w·impurity − w_left·impurity_left −
 * w_right·impurity_right` added to its feature, divided by the root's weight; normalised to sum 1
 * when `normalize` (and not all zero).
 */
export function treeImportances(
  tree: TreeArrays,
  inputCount: number,
  normalize: boolean,
  prefix: string,
): Float64Array {
  const { nodeSamples, impurity } = tree;
  if (!nodeSamples || !impurity) {
    throw new MlopsError(
      "predictor_unsupported",
      `feature importances need "${prefix}nodeSamples" and "${prefix}impurity" arrays, ` +
        "which this artifact does not have",
    );
  }
  checkTree(tree, inputCount, prefix.replace(/\.$/, ""));
  return impurityImportances(tree, inputCount, normalize);
}

/**
 * `treeImportances` of a tree known to be well formed (one just grown, not read from an
 * artifact): the same figures without walking the tree to check it first, which costs more than
 * the sum itself on a deep tree (a forest's fit takes one per tree).
 *
 * @example
 * impurityImportances(fittedTree, featureCount, true); // sums to 1
 */
export function impurityImportances(
  tree: TreeArrays,
  inputCount: number,
  normalize: boolean,
): Float64Array {
  const { left, right, feature } = tree;
  const nodeSamples = tree.nodeSamples!;
  const impurity = tree.impurity!;
  const importances = new Float64Array(inputCount);
  for (let node = 0; node < left.length; node++) {
    const l = left[node];
    if (l < 0) continue;
    const r = right[node];
    importances[feature[node]] +=
      nodeSamples[node] * impurity[node] -
      nodeSamples[l] * impurity[l] -
      nodeSamples[r] * impurity[r];
  }
  const root = nodeSamples[0];
  for (let j = 0; j < inputCount; j++) importances[j] /= root;
  if (normalize) normalizeInPlace(importances);
  return importances;
}

function normalizeInPlace(values: Float64Array): void {
  let sum = 0;
  for (let j = 0; j < values.length; j++) sum += values[j];
  if (sum > 0) for (let j = 0; j < values.length; j++) values[j] /= sum;
}

/**
 * Impurity-based feature importances of a `tree` or `ensemble` artifact, keyed by
 * `model.inputs`, with scikit-learn's definitions: a tree's normalised total impurity decrease;
 * for `aggregation: "mean"` (forests) the mean of each tree's normalised importances, for
 * `"sum"` (boosting) the mean of the unnormalised ones, then normalised; single-leaf trees are
 * left out. Needs the `nodeSamples` and `impurity` arrays (`predictor_unsupported` otherwise).
 *
 * @example
 * treeFeatureImportances(artifact); // { alcohol: 0.61, sulphates: 0.27, pH: 0.12 }
 */
export function treeFeatureImportances(artifact: ModelArtifact): Record<string, number> {
  const { kind, model } = artifact.manifest;
  const inputs = model.inputs;
  let importances: Float64Array;
  if (kind === "tree") {
    importances = treeImportances(
      treeArrays(artifact.arrays, "tree."),
      inputs.length,
      true,
      "tree.",
    );
  } else if (kind === "ensemble") {
    const section = modelSections.ensemble.safeParse(model);
    if (!section.success) {
      throw new MlopsError("artifact_invalid", formatZodIssues(section.error, "model"));
    }
    const count = section.data.treeCount as number;
    const normalizeEach = section.data.aggregation === "mean";
    importances = new Float64Array(inputs.length);
    let used = 0;
    for (let t = 0; t < count; t++) {
      const prefix = `trees.${t}.`;
      const tree = treeArrays(artifact.arrays, prefix);
      if (tree.left.length <= 1) continue;
      const one = treeImportances(tree, inputs.length, normalizeEach, prefix);
      for (let j = 0; j < inputs.length; j++) importances[j] += one[j];
      used++;
    }
    if (used > 0) {
      for (let j = 0; j < inputs.length; j++) importances[j] /= used;
      normalizeInPlace(importances);
    }
  } else {
    throw new MlopsError(
      "predictor_unsupported",
      `feature importances are defined for "tree" and "ensemble" models, not "${kind}"`,
    );
  }
  const out: Record<string, number> = {};
  inputs.forEach((name, j) => {
    out[name] = importances[j];
  });
  return out;
}
