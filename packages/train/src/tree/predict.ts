import type { TreeArrays } from "./nodes.js";

/**
 * The split rule of trees from a splitter: the exact one compares in float32 as scikit-learn
 * does (it fits on float32 values); the hist one compares float64 values with bin edges.
 */
export function splitRuleOf(splitter: "best" | "hist"): "float32_le" | "float64_le" {
  return splitter === "best" ? "float32_le" : "float64_le";
}

/**
 * Copies of `columns` rounded to float32: `x <= t` on them is `float32(x) <= t` on the originals.
 * For predicting many trees under `"float32_le"`, round once and predict with `"float64_le"`.
 */
export function float32Columns(columns: readonly Float64Array[]): Float64Array[] {
  return columns.map((column) => {
    // A plain loop: `Float64Array.from(Float32Array.from(column))` goes through two iterators
    // and costs more (the same rounding: `Math.fround` is the float32 conversion).
    const out = new Float64Array(column.length);
    for (let i = 0; i < column.length; i++) out[i] = Math.fround(column[i]);
    return out;
  });
}

/**
 * `columns` as trees of `rule` read them — rounded to float32 under `"float32_le"` — taken at
 * `rows` when given (one pass per column: gathered and rounded together), in shared memory when
 * `share` (for worker threads). Without rows under `"float64_le"`, the columns themselves.
 *
 * @example
 * const testColumns = ruleColumns(columns, "float32_le", fold.test);
 */
export function ruleColumns(
  columns: readonly Float64Array[],
  rule: "float64_le" | "float32_le",
  rows?: Int32Array,
  share = false,
): Float64Array[] {
  if (rows === undefined && !share) {
    return rule === "float32_le" ? float32Columns(columns) : [...columns];
  }
  const round = rule === "float32_le";
  return columns.map((column) => {
    const n = rows === undefined ? column.length : rows.length;
    const out = share
      ? new Float64Array(new SharedArrayBuffer(8 * Math.max(n, 1)), 0, n)
      : new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const value = column[rows === undefined ? i : rows[i]];
      out[i] = round ? Math.fround(value) : value;
    }
    return out;
  });
}

/**
 * Predictions of one tree for `rowCount` rows given as feature columns (in the tree's feature
 * order). The same rules as core's predictor: `x <= threshold` goes left (`float32(x) <=
 * threshold` under `"float32_le"`), NaN goes left where `missingLeft` is 1 and right otherwise.
 *
 * @example
 * const columns = [frame.numeric("x1"), frame.numeric("x2")];
 * const predictions = predictTree(tree, columns, frame.rowCount, "float32_le");
 */
export function predictTree(
  tree: TreeArrays,
  columns: readonly Float64Array[],
  rowCount: number,
  splitRule: "float64_le" | "float32_le" = "float64_le",
): Float64Array {
  if (splitRule === "float32_le") columns = float32Columns(columns);
  const out = new Float64Array(rowCount);
  const { left, right, feature, threshold, value, missingLeft } = tree;
  for (let row = 0; row < rowCount; row++) {
    out[row] = value[leafOf(left, right, feature, threshold, missingLeft, columns, row, false)];
  }
  return out;
}

/**
 * The leaf `row` of `columns` reaches: `x <= threshold` goes left (x rounded to float32 first
 * when `round`), NaN by `missingLeft`.
 */
function leafOf(
  left: Int32Array,
  right: Int32Array,
  feature: Int32Array,
  threshold: Float64Array,
  missingLeft: Uint8Array,
  columns: readonly Float64Array[],
  row: number,
  round: boolean,
): number {
  let node = 0;
  let next = left[0];
  while (next >= 0) {
    const value = columns[feature[node]][row];
    const x = round ? Math.fround(value) : value;
    const t = threshold[node];
    node = x <= t ? next : x > t ? right[node] : missingLeft[node] !== 0 ? next : right[node];
    next = left[node];
  }
  return node;
}

/**
 * The predictions of a tree on some of its training rows, sorted ascending (as `sortFloat64`
 * orders them), from how many of those rows each leaf holds (`leaves[k]` holds `counts[k]`):
 * the leaf's value that many times, no walk and no sort. Undefined when the counts do not add
 * up to `total`, or a leaf's value is not finite or is −0 (where the order of equal values
 * would show).
 *
 * @example
 * const sorted = sortedLeafPredictions(tree.value, leafIds, leafCounts, rows.length);
 */
export function sortedLeafPredictions(
  value: Float64Array,
  leaves: readonly number[],
  counts: readonly number[],
  total: number,
): Float64Array | undefined {
  const held: number[] = [];
  let sum = 0;
  for (let k = 0; k < leaves.length; k++) {
    if (counts[k] === 0) continue;
    const leafValue = value[leaves[k]];
    if (!Number.isFinite(leafValue) || Object.is(leafValue, -0)) return undefined;
    held.push(k);
    sum += counts[k];
  }
  if (sum !== total) return undefined;
  held.sort((a, b) => value[leaves[a]] - value[leaves[b]]);
  const out = new Float64Array(total);
  let at = 0;
  for (const k of held) {
    out.fill(value[leaves[k]], at, at + counts[k]);
    at += counts[k];
  }
  return out;
}

/**
 * `predictTree` for the rows `rows` of `columns` (ascending or not), without copies of them.
 *
 * @example
 * const sample = predictTreeRows(tree, columns, profileRows, "float32_le");
 */
export function predictTreeRows(
  tree: TreeArrays,
  columns: readonly Float64Array[],
  rows: Int32Array,
  splitRule: "float64_le" | "float32_le" = "float64_le",
): Float64Array {
  const out = new Float64Array(rows.length);
  const { left, right, feature, threshold, value, missingLeft } = tree;
  const round = splitRule === "float32_le";
  for (let i = 0; i < rows.length; i++) {
    out[i] = value[leafOf(left, right, feature, threshold, missingLeft, columns, rows[i], round)];
  }
  return out;
}
