import { MlopsError } from "@mlops/core";
import { growBestFirst, growDepthFirst, type NodeSplitter, type OnLeaf } from "./builder.js";
import { ExactSplitter } from "./exact.js";
import { HistSplitter } from "./hist.js";
import { NodeStore, type TreeArrays } from "./nodes.js";
import { type DecisionTreeParams, resolveKernelParams, validateTreeParams } from "./params.js";
import type { TreeData } from "./tree-data.js";

/**
 * Fits one regression tree on prepared data, the kernel under `DecisionTreeRegressor` and the
 * building block of cross-validation, search and forests: prepare once, fit many.
 *
 * - `y`: the target for every row of `data` (finite where used).
 * - `sampleWeight`: one weight ≥ 0 per row of `data`, or undefined for 1s.
 * - `rows`: the rows to fit on (a CV fold, a bootstrap sample; repeats count as weights, as
 *   scikit-learn's forests pass bootstrap counts), or undefined for all. Selecting rows filters
 *   each presorted feature in O(rows), no sorting.
 * - `params`: the tree's hyperparameters (`splitter` is ignored: `data.splitter` decides).
 *
 * Rows of weight 0 are left out, as in scikit-learn.
 *
 * @example
 * const data = prepareTreeData(frame, ["x1", "x2"], { splitter: "best" });
 * const y = frame.numeric("y");
 * const tree = fitTree(data, y, undefined, foldRows, { maxDepth: 5, minSamplesLeaf: 3 });
 * tree.value[0]; // mean of y over the fold
 */
export function fitTree(
  data: TreeData,
  y: ArrayLike<number>,
  sampleWeight: ArrayLike<number> | undefined,
  rows: Int32Array | undefined,
  params: Partial<DecisionTreeParams> = {},
): TreeArrays {
  return growTree(data, y, sampleWeight, rows, params, undefined);
}

/** `fitTree`, telling `onLeaf` each leaf's rows as it is made (rows of weight 0 are in none). */
export function growTree(
  data: TreeData,
  y: ArrayLike<number>,
  sampleWeight: ArrayLike<number> | undefined,
  rows: Int32Array | undefined,
  params: Partial<DecisionTreeParams>,
  onLeaf: OnLeaf | undefined,
): TreeArrays {
  const checked = validateTreeParams(params, "fitTree");
  const rowCount = data.rowCount;
  const featureCount = data.featureNames.length;
  if (featureCount === 0) throw new MlopsError("data_invalid", "fitTree: the data has no features");
  if (y === null || y === undefined || y.length !== rowCount) {
    throw new MlopsError(
      "data_invalid",
      `fitTree: y has ${y?.length} values, expected ${rowCount} (one per row of the data)`,
    );
  }
  if (sampleWeight !== undefined && sampleWeight.length !== rowCount) {
    throw new MlopsError(
      "data_invalid",
      `fitTree: sampleWeight has ${sampleWeight.length} values, expected ${rowCount}`,
    );
  }
  const target = y instanceof Float64Array ? y : Float64Array.from(y);
  // Per-row weights: sampleWeight × multiplicity in `rows`; null when all used rows weigh 1.
  let weight: Float64Array | null = null;
  let active: Uint8Array | null = null;
  let activeCount = rowCount;
  let totalWeight = rowCount;
  const sampleCount = rows === undefined ? rowCount : rows.length;
  if (rows !== undefined || sampleWeight !== undefined) {
    weight = new Float64Array(rowCount);
    if (rows === undefined) weight.fill(1);
    else {
      for (let k = 0; k < rows.length; k++) {
        const row = rows[k];
        if (!(Number.isInteger(row) && row >= 0 && row < rowCount)) {
          throw new MlopsError(
            "argument_invalid",
            `fitTree: rows[${k}] = ${row} is outside 0..${rowCount - 1}`,
          );
        }
        weight[row] += 1;
      }
    }
    active = new Uint8Array(rowCount);
    activeCount = 0;
    totalWeight = 0;
    let unit = true;
    for (let i = 0; i < rowCount; i++) {
      let w = weight[i];
      if (sampleWeight !== undefined && w !== 0) {
        const s = sampleWeight[i];
        if (!(s >= 0 && s < Number.POSITIVE_INFINITY)) {
          throw new MlopsError(
            "data_invalid",
            `fitTree: sampleWeight[${i}]: expected a finite number ≥ 0, got ${s}`,
          );
        }
        w *= s;
        weight[i] = w;
      }
      if (w > 0) {
        active[i] = 1;
        activeCount++;
        totalWeight += w;
        if (w !== 1) unit = false;
      }
    }
    if (activeCount === 0) {
      throw new MlopsError("data_invalid", "fitTree: no row with a weight above 0 to fit on");
    }
    if (unit) weight = null;
    if (activeCount === rowCount) active = null;
  }
  if (rowCount === 0) throw new MlopsError("data_invalid", "fitTree: the data has no rows");
  for (let i = 0; i < rowCount; i++) {
    if ((active === null || active[i] !== 0) && !Number.isFinite(target[i])) {
      throw new MlopsError(
        "data_invalid",
        `fitTree: y[${i}] is ${target[i]}; the target must be finite`,
      );
    }
  }
  const kernel = resolveKernelParams(checked, sampleCount, featureCount, totalWeight);
  const splitter: NodeSplitter =
    data.splitter === "best"
      ? new ExactSplitter(data, target, weight, active, activeCount, kernel)
      : new HistSplitter(data, target, weight, active, activeCount, kernel, onLeaf !== undefined);
  const nodes = new NodeStore(64);
  if (kernel.maxLeafNodes > 0) growBestFirst(splitter, kernel, nodes, onLeaf);
  else growDepthFirst(splitter, kernel, nodes, onLeaf);
  return nodes.finish();
}
