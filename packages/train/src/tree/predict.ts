import type { TreeArrays } from "./nodes.js";

/**
 * Predictions of one tree for `rowCount` rows given as feature columns (in the tree's feature
 * order). The same rule as core's predictor: `x <= threshold` goes left, NaN goes left where
 * `missingLeft` is 1 and right otherwise.
 *
 * @example
 * const columns = [frame.numeric("x1"), frame.numeric("x2")];
 * const predictions = predictTree(tree, columns, frame.rowCount);
 */
export function predictTree(
  tree: TreeArrays,
  columns: readonly Float64Array[],
  rowCount: number,
): Float64Array {
  const out = new Float64Array(rowCount);
  const { left, right, feature, threshold, value, missingLeft } = tree;
  for (let row = 0; row < rowCount; row++) {
    let node = 0;
    let next = left[0];
    while (next >= 0) {
      const x = columns[feature[node]][row];
      const t = threshold[node];
      node = x <= t ? next : x > t ? right[node] : missingLeft[node] !== 0 ? next : right[node];
      next = left[node];
    }
    out[row] = value[node];
  }
  return out;
}
