import { getMetric, MlopsError } from "@mlops/core";
import { type ArtifactModel, Estimator } from "../estimator/estimator.js";
import { paramError } from "../estimator/params.js";
import type { TrainingData } from "../estimator/training.js";
import { NumpyRandomState } from "../forest/random-state.js";
import { BinMapper, knownCategoryValues } from "./binning.js";
import { allocateNodeRows, type GrownTree, TreeGrower } from "./grower.js";
import { type BoostingLossFunction, createLoss } from "./loss.js";
import { numpyPermutation } from "./numpy.js";
import {
  HIST_GRADIENT_BOOSTING_DEFAULTS,
  type HistGradientBoostingParams,
  validateBoostingParams,
} from "./params.js";
import { createHistogramBuilder, resolveThreads } from "./threads.js";

/**
 * One fitted tree in raw units, as core's artifact stores it: `x <= threshold` goes left, NaN
 * goes left where `missingLeft`; a categorical node (`categorySplit` ≥ 0) sends the categories of
 * its bitset (in `categoryBits`, a word count then the words) left.
 */
export interface BoostedTree {
  left: Int32Array;
  right: Int32Array;
  feature: Int32Array;
  threshold: Float64Array;
  /** Leaf values before the learning rate (predictions add `learningRate × value`). */
  value: Float64Array;
  missingLeft: Uint8Array;
  /** Training rows per node. */
  nodeSamples: Float64Array;
  categorySplit: Int32Array;
  categoryBits: Int32Array;
}

interface FittedBoosting {
  trees: BoostedTree[];
  baseline: number;
  link: "identity" | "log";
  learningRate: number;
  /**
   * Per feature: undefined (numeric), or a table from the value's code (a category column's
   * code at fit, or a numeric feature's integer value) to its category number, -1 if unknown.
   */
  categoryNumbers: (Int32Array | undefined)[];
  /** `model.categories` of the artifact. */
  categories: Record<string, string[]>;
  trainScore: number[];
  validationScore: number[];
  earlyStopping: boolean;
}

/** Rows above which `earlyStopping: "auto"` stops early (scikit-learn's rule). */
export const AUTO_EARLY_STOPPING_ROWS = 10_000;

/**
 * Histogram-based gradient boosting for regression, scikit-learn 1.2.1's
 * `HistGradientBoostingRegressor` with its parameter names in camelCase and its semantics:
 * features binned once (≤ `maxBins` bins, missing values in a bin of their own), trees grown
 * leaf-wise on gradient/hessian histograms with the sibling subtraction trick, missing values
 * sent to the side that gains more (learned per split), native categorical splits, sample
 * weights, and early stopping on a validation split drawn as scikit-learn draws it for the
 * same `seed`.
 *
 * Exactness: with `seed` equal to scikit-learn's `random_state`, the bins, the validation split,
 * the baseline, every split and leaf value follow scikit-learn's arithmetic (float32 gradients,
 * the same sums in the same order, numpy's pairwise means and percentiles), so on the same data
 * the model is scikit-learn's, up to exact ties broken by summation order.
 *
 * Category columns are read natively (`categoricalFeatures: "from_dtype"`): no one-hot encoding,
 * at most `maxBins` categories each; categories unseen at fit go where missing values go.
 * `toArtifact()` gives a core `ensemble` artifact (`aggregation: "sum"`, the baseline and the
 * learning rate, categorical splits as bitsets) that predicts exactly like `predict`.
 *
 * Trees grow on `nJobs` threads that split the features among them; the model does not depend
 * on the number of threads.
 *
 * @example
 * const model = new HistGradientBoostingRegressor({ maxIter: 300, learningRate: 0.05 });
 * model.fit(frame, "price");
 * model.nIter; // iterations run (early stopping from 10,000 rows)
 * const artifact = model.toArtifact(); // kind "ensemble", aggregation "sum"
 */
export class HistGradientBoostingRegressor extends Estimator<HistGradientBoostingParams> {
  #fitted: FittedBoosting | undefined;

  constructor(params: Partial<HistGradientBoostingParams> = {}) {
    super({ ...HIST_GRADIENT_BOOSTING_DEFAULTS }, params);
  }

  protected override categoryFeatures(): boolean {
    return this.getParams().categoricalFeatures !== null;
  }

  protected fitData(data: TrainingData): void {
    this.#fitted = undefined;
    const context = `${this.estimatorName}.fit`;
    const params = validateBoostingParams(this.getParams(), this.estimatorName);
    const { rowCount: n, featureNames, columns } = data;
    const categorical = resolveCategorical(params, data, context);
    const known = columns.map((column, f) =>
      categorical[f]
        ? knownCategoryValues(
            column,
            featureNames[f],
            params.maxBins,
            context,
            data.categories?.[f] !== undefined,
          )
        : undefined,
    );
    const weighted = data.sampleWeight !== undefined;
    const loss = createLoss(params.loss, params.quantile, weighted);
    if (params.loss === "poisson") checkPoissonTarget(data.target, context);
    // scikit-learn draws one seed from random_state for the split and the bin subsample.
    const randomSeed = new NumpyRandomState(params.seed).randint(4294967295);
    const earlyStopping =
      params.earlyStopping === "auto" ? n > AUTO_EARLY_STOPPING_ROWS : params.earlyStopping;
    let trainRows: Int32Array | undefined;
    let validationRows: Int32Array | undefined;
    if (earlyStopping && params.validationFraction !== null) {
      const split = validationSplit(n, params.validationFraction, randomSeed, context);
      trainRows = split.train;
      validationRows = split.validation;
    }
    const threads = resolveThreads(params.nJobs, featureNames.length);
    const mapper = BinMapper.fit(columns, trainRows, known, params.maxBins, randomSeed);
    const rowStride = (featureNames.length + 3) & ~3;
    const codes = mapper.transform(columns, trainRows, rowStride);
    const trainCount = trainRows === undefined ? n : trainRows.length;
    const featureCount = featureNames.length;
    const hasMissing = new Uint8Array(featureCount);
    for (let i = 0; i < trainCount; i++) {
      for (let f = 0, at = i * rowStride; f < featureCount; f++, at++) {
        if (codes[at] === mapper.missingBin) hasMissing[f] = 1;
      }
    }
    const y = gather(data.target, trainRows);
    const weight =
      data.sampleWeight === undefined ? undefined : gather(data.sampleWeight, trainRows);
    const baseline = loss.fitIntercept(y, weight);
    const raw = new Float64Array(trainCount).fill(baseline);
    const growerData = {
      codes,
      rowStride,
      rowCount: trainCount,
      featureCount,
      bins: params.maxBins + 1,
      binsNonMissing: mapper.binsNonMissing,
      hasMissing,
      isCategorical: mapper.isCategorical,
    };
    const gradient = new Float32Array(trainCount);
    const hessian = loss.constantHessian ? undefined : new Float32Array(trainCount);
    const nodeRows = allocateNodeRows(growerData, hessian !== undefined, threads > 1);
    const builder = createHistogramBuilder(growerData, threads, nodeRows);
    const grower = new TreeGrower(
      growerData,
      {
        maxLeafNodes: params.maxLeafNodes,
        maxDepth: params.maxDepth,
        minSamplesLeaf: params.minSamplesLeaf,
        l2Regularization: params.l2Regularization,
      },
      builder,
      nodeRows,
    );
    const monitor = earlyStopping
      ? new EarlyStopping(
          params,
          loss,
          data,
          trainRows,
          validationRows,
          mapper,
          columns,
          randomSeed,
        )
      : undefined;
    const trees: BoostedTree[] = [];
    const learningRate = params.learningRate;
    try {
      monitor?.record(baseline, raw, y, weight);
      for (let iteration = 0; iteration < params.maxIter; iteration++) {
        loss.gradients(y, raw, weight, gradient, hessian ?? gradient, 0, trainCount);
        const grown = grower.grow(gradient, hessian);
        if (loss.refitLeaves) refitLeaves(grown, grower.partition, loss, y, raw, weight);
        // Raw predictions move by learningRate × leaf value, the artifact's own arithmetic.
        const { leafStart, leafEnd, leafNode, value } = grown;
        const partition = grower.partition;
        for (let leaf = 0; leaf < leafStart.length; leaf++) {
          const step = learningRate * value[leafNode[leaf]];
          for (let k = leafStart[leaf]; k < leafEnd[leaf]; k++) raw[partition[k]] += step;
        }
        trees.push(rawTree(grown, mapper));
        if (monitor?.update(grown, raw, y, weight)) break;
      }
    } finally {
      builder.close();
    }
    this.#fitted = {
      trees,
      baseline,
      link: loss.link,
      learningRate,
      categoryNumbers: known.map((values, _f) =>
        values === undefined ? undefined : categoryNumberTable(values),
      ),
      categories: artifactCategories(known, featureNames, data.categories),
      trainScore: monitor?.trainScore ?? [],
      validationScore: monitor?.validationScore ?? [],
      earlyStopping,
    };
  }

  protected predictColumns(columns: Float64Array[], rowCount: number): Float64Array {
    const fitted = this.#model("predict");
    const { trees, baseline, learningRate, categoryNumbers } = fitted;
    const out = new Float64Array(rowCount).fill(baseline);
    for (const tree of trees) {
      const { left, right, feature, threshold, value, missingLeft, categorySplit, categoryBits } =
        tree;
      for (let row = 0; row < rowCount; row++) {
        let node = 0;
        while (left[node] >= 0) {
          const x = columns[feature[node]][row];
          const offset = categorySplit[node];
          let goLeft: boolean;
          if (offset < 0) {
            const t = threshold[node];
            goLeft = x <= t ? true : x > t ? false : missingLeft[node] !== 0;
          } else {
            const table = categoryNumbers[feature[node]]!;
            const c = x >= 0 && x < table.length && x === Math.floor(x) ? table[x] : -1;
            goLeft =
              c < 0 || c >= categoryBits[offset] * 32
                ? missingLeft[node] !== 0
                : ((categoryBits[offset + 1 + (c >> 5)] >>> (c & 31)) & 1) === 1;
          }
          node = goLeft ? left[node] : right[node];
        }
        out[row] += learningRate * value[node];
      }
    }
    if (fitted.link === "log")
      for (let row = 0; row < rowCount; row++) out[row] = Math.exp(out[row]);
    return out;
  }

  protected artifactModel(): ArtifactModel {
    const fitted = this.#model("toArtifact");
    const arrays: ArtifactModel["arrays"] = {};
    const categorical = Object.keys(fitted.categories).length > 0;
    fitted.trees.forEach((tree, t) => {
      // BoostedTree's fields are the artifact's array names.
      for (const [name, array] of Object.entries(tree)) {
        if (categorical || !name.startsWith("category")) arrays[`trees.${t}.${name}`] = array;
      }
    });
    return {
      kind: "ensemble",
      model: {
        aggregation: "sum",
        treeCount: fitted.trees.length,
        learningRate: fitted.learningRate,
        baseValue: fitted.baseline,
        ...(fitted.link === "log" ? { link: "log" } : {}),
        ...(categorical ? { categories: fitted.categories } : {}),
      },
      arrays,
    };
  }

  #model(action: string): FittedBoosting {
    this.requireFitted(action);
    return this.#fitted!;
  }

  /** Boosting iterations run (scikit-learn's `n_iter_`): fewer than `maxIter` after early stopping. */
  get nIter(): number {
    return this.#model("reading nIter").trees.length;
  }

  /** The fitted trees in raw units (scikit-learn's `_predictors`). */
  get trees(): readonly BoostedTree[] {
    return [...this.#model("reading trees").trees];
  }

  /** The constant the boosting starts from, in raw units (scikit-learn's `_baseline_prediction`). */
  get baseline(): number {
    return this.#model("reading baseline").baseline;
  }

  /** Whether the last fit used early stopping (scikit-learn's `do_early_stopping_`). */
  get earlyStoppingUsed(): boolean {
    return this.#model("reading earlyStoppingUsed").earlyStopping;
  }

  /**
   * Scores on the training rows before the first and after each iteration, with early stopping
   * (scikit-learn's `train_score_`: the negated loss for `scoring: "loss"`, higher is better).
   */
  get trainScore(): number[] {
    return [...this.#model("reading trainScore").trainScore];
  }

  /** As `trainScore`, on the validation rows (scikit-learn's `validation_score_`). */
  get validationScore(): number[] {
    return [...this.#model("reading validationScore").validationScore];
  }
}

/** Which features are categorical, from `categoricalFeatures` and the column kinds. */
function resolveCategorical(
  params: HistGradientBoostingParams,
  data: TrainingData,
  context: string,
): boolean[] {
  const names = data.featureNames;
  const isCategory = names.map((_, f) => data.categories?.[f] !== undefined);
  const spec = params.categoricalFeatures;
  if (spec === "from_dtype") return isCategory;
  if (spec === null) return names.map(() => false);
  const out = names.map(() => false);
  if (spec.length > 0 && typeof spec[0] === "boolean") {
    if (spec.length !== names.length) {
      throw paramError(
        "categoricalFeatures",
        `one boolean per feature (${names.length}: ${names.join(", ")})`,
        spec,
      );
    }
    spec.forEach((flag, f) => {
      out[f] = flag === true;
    });
  } else {
    for (const item of spec) {
      const f = typeof item === "string" ? names.indexOf(item) : (item as number);
      if (!(f >= 0 && f < names.length)) {
        throw new MlopsError(
          "argument_invalid",
          `${context}: categoricalFeatures: ${JSON.stringify(item)} is not a feature ` +
            `(features: ${names.join(", ")})`,
        );
      }
      out[f] = true;
    }
  }
  names.forEach((name, f) => {
    if (isCategory[f] && !out[f]) {
      throw new MlopsError(
        "data_invalid",
        `${context}: feature "${name}" is a category column but categoricalFeatures does not ` +
          'list it; list it, use categoricalFeatures: "from_dtype", or encode it first',
      );
    }
  });
  return out;
}

function checkPoissonTarget(y: Float64Array, context: string): void {
  let sum = 0;
  for (let i = 0; i < y.length; i++) {
    if (y[i] < 0) {
      throw new MlopsError(
        "data_invalid",
        `${context}: loss "poisson" needs a target ≥ 0, got ${y[i]} at row ${i}`,
      );
    }
    sum += y[i];
  }
  if (!(sum > 0)) {
    throw new MlopsError(
      "data_invalid",
      `${context}: loss "poisson" needs a target with a positive sum`,
    );
  }
}

/**
 * scikit-learn's `train_test_split(…, test_size=fraction, random_state=seed)`: the legacy
 * RandomState's permutation, its first `ceil(fraction × n)` rows held out.
 */
export function validationSplit(
  n: number,
  fraction: number,
  seed: number,
  context: string,
): { train: Int32Array; validation: Int32Array } {
  const testCount = Number.isInteger(fraction) ? fraction : Math.ceil(fraction * n);
  const trainCount = n - testCount;
  if (testCount < 1 || trainCount < 1) {
    throw new MlopsError(
      "data_invalid",
      `${context}: validationFraction ${fraction} of ${n} rows leaves ${trainCount} to train and ` +
        `${testCount} to validate; both need at least one (fewer rows: earlyStopping: false)`,
    );
  }
  const permutation = numpyPermutation(new NumpyRandomState(seed), n);
  return {
    validation: permutation.slice(0, testCount),
    train: permutation.slice(testCount, testCount + trainCount),
  };
}

function gather(values: Float64Array, rows: Int32Array | undefined): Float64Array {
  if (rows === undefined) return values;
  const out = new Float64Array(rows.length);
  for (let i = 0; i < rows.length; i++) out[i] = values[rows[i]];
  return out;
}

/** Absolute error and quantile: each leaf's value becomes the quantile of its residuals. */
function refitLeaves(
  tree: GrownTree,
  partition: Int32Array,
  loss: BoostingLossFunction,
  y: Float64Array,
  raw: Float64Array,
  weight: Float64Array | undefined,
): void {
  const { leafStart, leafEnd, leafNode, value } = tree;
  for (let leaf = 0; leaf < leafStart.length; leaf++) {
    const count = leafEnd[leaf] - leafStart[leaf];
    const residual = new Float64Array(count);
    const leafWeight = weight === undefined ? undefined : new Float64Array(count);
    for (let k = 0; k < count; k++) {
      const row = partition[leafStart[leaf] + k];
      residual[k] = y[row] - raw[row];
      if (leafWeight !== undefined) leafWeight[k] = weight![row];
    }
    value[leafNode[leaf]] = loss.fitIntercept(residual, leafWeight);
  }
}

/** The grown tree with raw thresholds and bitsets over category numbers (= bins). */
function rawTree(grown: GrownTree, mapper: BinMapper): BoostedTree {
  const n = grown.left.length;
  const threshold = new Float64Array(n);
  const categoryBits: number[] = [];
  const categorySplit = new Int32Array(n).fill(-1);
  for (let node = 0; node < n; node++) {
    if (grown.left[node] < 0) continue;
    const f = grown.feature[node];
    const bitset = grown.categorySplit[node];
    if (bitset >= 0) {
      const words = Math.ceil(mapper.binsNonMissing[f] / 32);
      categorySplit[node] = categoryBits.length;
      categoryBits.push(words);
      for (let w = 0; w < words; w++) {
        let word = grown.bitsets[bitset * 8 + w];
        // Bits past the categories (the missing-value bin) are left out: missingLeft says.
        const valid = mapper.binsNonMissing[f] - w * 32;
        if (valid < 32) word &= (2 ** valid - 1) >>> 0;
        categoryBits.push(word | 0);
      }
      continue;
    }
    const bin = grown.binThreshold[node];
    // The last bin of values is a split on NaN: every value goes left.
    threshold[node] =
      bin === mapper.binsNonMissing[f] - 1 ? Number.POSITIVE_INFINITY : mapper.edges[f]![bin];
  }
  return {
    left: grown.left,
    right: grown.right,
    feature: grown.feature,
    threshold,
    value: grown.value,
    missingLeft: grown.missingLeft,
    nodeSamples: grown.count,
    categorySplit,
    categoryBits: Int32Array.from(categoryBits),
  };
}

/** From a category's code or value to its number (its bin), -1 when unknown. */
function categoryNumberTable(known: Float64Array): Int32Array {
  const size = known.length === 0 ? 0 : known[known.length - 1] + 1;
  const table = new Int32Array(size).fill(-1);
  known.forEach((value, c) => {
    table[value] = c;
  });
  return table;
}

function artifactCategories(
  known: readonly (Float64Array | undefined)[],
  names: readonly string[],
  dictionaries: readonly (readonly string[] | undefined)[] | undefined,
): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  known.forEach((values, f) => {
    if (values === undefined) return;
    const dictionary = dictionaries?.[f];
    out[names[f]] = Array.from(values, (value) =>
      dictionary === undefined ? String(value) : dictionary[value],
    );
  });
  return out;
}

/** Predictions of a grown tree on binned rows (scikit-learn's `predict_binned`). */
function predictBinned(
  tree: GrownTree,
  codes: Uint8Array,
  featureCount: number,
  missingBin: number,
  learningRate: number,
  raw: Float64Array,
): void {
  const { left, right, feature, binThreshold, missingLeft, categorySplit, bitsets, value } = tree;
  const n = raw.length;
  for (let row = 0; row < n; row++) {
    let node = 0;
    const base = row * featureCount;
    while (left[node] >= 0) {
      const code = codes[base + feature[node]];
      const bitset = categorySplit[node];
      let goLeft: boolean;
      if (code === missingBin) goLeft = missingLeft[node] !== 0;
      else if (bitset >= 0)
        goLeft = ((bitsets[bitset * 8 + (code >> 5)] >>> (code & 31)) & 1) === 1;
      else goLeft = code <= binThreshold[node];
      node = goLeft ? left[node] : right[node];
    }
    raw[row] += learningRate * value[node];
  }
}

/**
 * Early stopping as scikit-learn's: scores before the first tree and after each one (the
 * negated loss, or the metric, signed so that higher is better), on the validation rows when
 * there are some, else on the training rows (at most 10,000 of them for a metric); stop when
 * none of the last `nIterNoChange` scores beats the one before them by more than `tol`.
 */
class EarlyStopping {
  readonly trainScore: number[] = [];
  readonly validationScore: number[] = [];
  readonly #params: HistGradientBoostingParams;
  readonly #loss: BoostingLossFunction;
  readonly #metric: ReturnType<typeof getMetric> | undefined;
  readonly #validation:
    | { codes: Uint8Array; y: Float64Array; weight: Float64Array | undefined; raw: Float64Array }
    | undefined;
  readonly #featureCount: number;
  readonly #missingBin: number;
  readonly #small: Int32Array | undefined;

  constructor(
    params: HistGradientBoostingParams,
    loss: BoostingLossFunction,
    data: TrainingData,
    trainRows: Int32Array | undefined,
    validationRows: Int32Array | undefined,
    mapper: BinMapper,
    columns: readonly Float64Array[],
    randomSeed: number,
  ) {
    this.#params = params;
    this.#loss = loss;
    this.#featureCount = columns.length;
    this.#missingBin = mapper.missingBin;
    const scoring = params.scoring;
    this.#metric = scoring === "loss" ? undefined : getMetric(scoring ?? "r2");
    if (validationRows !== undefined) {
      const y = gather(data.target, validationRows);
      this.#validation = {
        codes: mapper.transform(columns, validationRows, columns.length),
        y,
        weight:
          data.sampleWeight === undefined ? undefined : gather(data.sampleWeight, validationRows),
        raw: new Float64Array(y.length),
      };
    }
    const trainCount = trainRows === undefined ? data.rowCount : trainRows.length;
    if (this.#metric !== undefined && trainCount > 10_000) {
      // scikit-learn's _get_small_trainset: resample(…, n_samples=10000, replace=False).
      this.#small = numpyPermutation(new NumpyRandomState(randomSeed), trainCount).slice(0, 10_000);
    }
  }

  /** Scores of the initial model (the baseline, before any tree). */
  record(
    baseline: number,
    raw: Float64Array,
    y: Float64Array,
    weight: Float64Array | undefined,
  ): void {
    this.#validation?.raw.fill(baseline);
    this.#score(raw, y, weight);
  }

  /** Adds the tree to the validation predictions, scores, and says whether to stop. */
  update(
    tree: GrownTree,
    raw: Float64Array,
    y: Float64Array,
    weight: Float64Array | undefined,
  ): boolean {
    const validation = this.#validation;
    if (validation !== undefined) {
      predictBinned(
        tree,
        validation.codes,
        this.#featureCount,
        this.#missingBin,
        this.#params.learningRate,
        validation.raw,
      );
    }
    this.#score(raw, y, weight);
    return this.#shouldStop(validation !== undefined ? this.validationScore : this.trainScore);
  }

  #score(raw: Float64Array, y: Float64Array, weight: Float64Array | undefined): void {
    const validation = this.#validation;
    this.trainScore.push(this.#value(raw, y, weight, this.#small));
    if (validation !== undefined) {
      this.validationScore.push(
        this.#value(validation.raw, validation.y, validation.weight, undefined),
      );
    }
  }

  #value(
    raw: Float64Array,
    y: Float64Array,
    weight: Float64Array | undefined,
    rows: Int32Array | undefined,
  ): number {
    const metric = this.#metric;
    if (metric === undefined) return -this.#loss.mean(y, raw, weight);
    const pick = (values: Float64Array) => gather(values, rows);
    const predictions = pick(raw);
    if (this.#loss.link === "log") {
      for (let i = 0; i < predictions.length; i++) predictions[i] = Math.exp(predictions[i]);
    }
    const value = metric.compute(
      pick(y),
      predictions,
      weight === undefined ? undefined : pick(weight),
    );
    return metric.greaterIsBetter ? value : -value;
  }

  #shouldStop(scores: number[]): boolean {
    const reference = this.#params.nIterNoChange + 1;
    if (scores.length < reference) return false;
    const threshold = scores[scores.length - reference] + this.#params.tol;
    for (let i = scores.length - reference + 1; i < scores.length; i++) {
      if (scores[i] > threshold) return false;
    }
    return true;
  }
}
