import { profileSortedColumn, sampledRows } from "@mlops/core/internal";
import { type ArtifactModel, Estimator } from "../estimator/estimator.js";
import type { TrainingData } from "../estimator/training.js";
import type { OnLeaf } from "./builder.js";
import { growTree } from "./fit-tree.js";
import { type TreeArrays, treeDepth, treeFeatureImportanceArray, treeLeafCount } from "./nodes.js";
import {
  DECISION_TREE_DEFAULTS,
  type DecisionTreeParams,
  resolveSplitter,
  validateTreeParams,
} from "./params.js";
import { predictTree, predictTreeRows, sortedLeafPredictions, splitRuleOf } from "./predict.js";
import { markSingleUse, prepareForFit } from "./tree-data.js";

interface FittedTree {
  tree: TreeArrays;
  splitter: "best" | "hist";
  importances: Float64Array;
  depth: number;
  leafCount: number;
}

/**
 * A CART regression tree (scikit-learn's `DecisionTreeRegressor`) over Frame columns.
 *
 * - `splitter: "best"` searches every threshold exactly as scikit-learn does (features cast to
 *   float32, thresholds at midpoints of consecutive distinct float32 values, values closer than
 *   its FEATURE_THRESHOLD merged, the same proxy improvement with the same tie rules). With
 *   `seed` equal to scikit-learn's `random_state`, features are drawn in scikit-learn's order
 *   (its generator is reproduced; it shuffles features even with `max_features=None`), so even
 *   ties between equally good splits are broken the same way, and node sums are taken in its
 *   order: on data without missing values the tree is scikit-learn's bit for bit (thresholds,
 *   leaf values, impurities). On very large nodes with repeated values the order of sums is
 *   approximated, so leaf values there may differ in the last bit. Like scikit-learn, `predict`
 *   rounds inputs to float32 before comparing them with the thresholds, and the artifact says so
 *   (`model.splitRule: "float32_le"`), so core's predictor walks the same way on any input.
 * - `splitter: "hist"` bins every feature once into ≤ `maxBins` quantile bins (missing values in
 *   a bin of their own) and searches bin edges: much faster on large data, nearly as accurate.
 * - `splitter: "auto"` (default) is `"hist"` from 200,000 training rows up (`AUTO_HIST_MIN_ROWS`),
 *   `"best"` below.
 *
 * Missing values (NaN) in features are handled as scikit-learn ≥ 1.3 does: each split tries
 * sending them left and right and keeps the better; where a split saw none during training,
 * NaN goes to the child with more training rows. `maxLeafNodes` grows the tree best-first.
 * Rows of weight 0 are left out, as in scikit-learn.
 *
 * @example
 * const tree = new DecisionTreeRegressor({ maxDepth: 6, minSamplesLeaf: 5 }).fit(frame, "price");
 * tree.predict(frame); // Float64Array
 * tree.featureImportances; // { rooms: 0.71, age: 0.29 }
 * const artifact = tree.toArtifact({ metrics: { rmse: 2.3 } });
 */
export class DecisionTreeRegressor extends Estimator<DecisionTreeParams> {
  #fitted: FittedTree | undefined;

  constructor(params: Partial<DecisionTreeParams> = {}) {
    super({ ...DECISION_TREE_DEFAULTS }, params);
  }

  protected fitData(data: TrainingData): void {
    this.#fitted = undefined;
    const params = validateTreeParams(this.getParams(), this.estimatorName);
    const splitter = resolveSplitter(params.splitter, data.rowCount);
    // Prepared for this one fit: the exact splitter works in the sorted buffers themselves
    // (the features are profiled from them first).
    const prepared = markSingleUse(
      prepareForFit(data, { splitter, bins: params.maxBins }, "local"),
    );
    // The profile's predictions on its rows: counted in the leaves as the tree grows when every
    // row weighs 1 (each row is then in one leaf) and the profile takes every row, or a sample
    // of the exact splitter's rows (the hist splitter would partition the rows of its last
    // splits for it: dearer than predicting the sample); else predicted in place (no copies).
    const rows = data.profileRows;
    const leaves =
      rows !== undefined &&
      data.sampleWeight === undefined &&
      (rows.length === data.rowCount || splitter === "best")
        ? leafCounter(rows, data.rowCount)
        : undefined;
    const tree = growTree(
      prepared,
      data.target,
      data.sampleWeight,
      undefined,
      params,
      leaves?.onLeaf,
    );
    const sorted =
      leaves && rows && sortedLeafPredictions(tree.value, leaves.ids, leaves.counts, rows.length);
    if (sorted !== undefined) data.predictionProfile = profileSortedColumn(sorted, 0);
    else if (rows !== undefined) {
      data.profilePredictions = predictTreeRows(tree, data.columns, rows, splitRuleOf(splitter));
    }
    this.#fitted = {
      tree,
      splitter,
      importances: treeFeatureImportanceArray(tree, data.featureNames.length),
      depth: treeDepth(tree),
      leafCount: treeLeafCount(tree),
    };
  }

  protected predictColumns(columns: Float64Array[], rowCount: number): Float64Array {
    const { tree, splitter } = this.#tree("predict");
    return predictTree(tree, columns, rowCount, splitRuleOf(splitter));
  }

  protected artifactModel(): ArtifactModel {
    const { tree, splitter } = this.#tree("toArtifact");
    return {
      kind: "tree",
      model: { splitRule: splitRuleOf(splitter) },
      arrays: {
        "tree.left": tree.left,
        "tree.right": tree.right,
        "tree.feature": tree.feature,
        "tree.threshold": tree.threshold,
        "tree.value": tree.value,
        "tree.missingLeft": tree.missingLeft,
        "tree.nodeSamples": tree.nodeSamples,
        "tree.impurity": tree.impurity,
      },
    };
  }

  #tree(action: string): FittedTree {
    this.requireFitted(action);
    return this.#fitted!;
  }

  /** The fitted tree's arrays (scikit-learn's `tree_`). */
  get tree(): TreeArrays {
    return this.#tree("reading tree").tree;
  }

  /** The splitter the last fit used (`"auto"` resolved). */
  get splitterUsed(): "best" | "hist" {
    return this.#tree("reading splitterUsed").splitter;
  }

  /** Impurity-based importances by feature name, summing to 1 (scikit-learn's definition). */
  get featureImportances(): Record<string, number> {
    const { importances } = this.#tree("reading featureImportances");
    const out: Record<string, number> = {};
    this.featureNames.forEach((name, j) => {
      out[name] = importances[j];
    });
    return out;
  }

  /** Nodes in the tree (scikit-learn's `tree_.node_count`). */
  get nodeCount(): number {
    return this.#tree("reading nodeCount").tree.left.length;
  }

  /** Depth of the tree (scikit-learn's `get_depth()`). */
  get depth(): number {
    return this.#tree("reading depth").depth;
  }

  /** Leaves in the tree (scikit-learn's `get_n_leaves()`). */
  get leafCount(): number {
    return this.#tree("reading leafCount").leafCount;
  }
}

/**
 * Counts how many of `rows` (ascending, of `rowCount`) each leaf holds, as leaves are made
 * (`growTree`'s `onLeaf`).
 */
function leafCounter(
  rows: Int32Array,
  rowCount: number,
): { onLeaf: OnLeaf; ids: number[]; counts: number[] } {
  const ids: number[] = [];
  const counts: number[] = [];
  const mask = rows.length < rowCount ? sampledRows(rows, rowCount) : undefined;
  const onLeaf: OnLeaf = (id, held) => {
    let count = held.length;
    if (mask !== undefined) {
      count = 0;
      for (let i = 0; i < held.length; i++) count += mask[held[i]];
    }
    ids.push(id);
    counts.push(count);
  };
  return { onLeaf, ids, counts };
}
