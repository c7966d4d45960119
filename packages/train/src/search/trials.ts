import type { SplitRule } from "@mlops/core";
import {
  type Column,
  type ColumnKind,
  Frame,
  getMetric,
  type MetricDefinition,
  type MetricName,
  MlopsError,
} from "@mlops/core";
import type { Estimator } from "../estimator/estimator.js";
import { bootstrapSample, forestTreeSeeds } from "../forest/build.js";
import { bootstrapSize } from "../forest/params.js";
import type { Fold } from "../selection/folds.js";
import { fitTree } from "../tree/fit-tree.js";
import type { TreeArrays } from "../tree/nodes.js";
import type { DecisionTreeParams } from "../tree/params.js";
import { predictTree, ruleColumns, splitRuleOf } from "../tree/predict.js";
import type { TreeData } from "../tree/tree-data.js";
import { decodeEstimator, type EstimatorConstructors, type EstimatorSpec } from "./spec.js";

/** One column of the search data, as workers receive it (arrays on shared memory). */
export interface SharedColumn {
  name: string;
  kind: ColumnKind;
  values?: Float64Array;
  codes?: Int32Array;
  dictionary?: readonly string[];
}

/**
 * What every trial of a search reads, sent once to each worker: the frame's columns, the
 * target's name, the metrics, and how trials fit (`"tree"` and `"forest"`: `fitTree` on data
 * prepared once; `"generic"`: clones of the estimator fitted on fold frames).
 */
export interface TrialData {
  mode: "tree" | "forest" | "generic";
  rowCount: number;
  columns: SharedColumn[];
  target: string;
  featureNames: string[];
  metrics: MetricName[];
  returnTrainScore: boolean;
}

/** One fit and score: candidate parameters on one fold. */
export interface TrialTask {
  id: number;
  foldSet: number;
  fold: number;
  /**
   * Tree and forest modes: the complete tree parameters, the key of the prepared data to fit on,
   * and for a forest its own settings.
   */
  tree?: { params: DecisionTreeParams; dataset: string; forest?: ForestSettings };
  /** Generic mode in a worker: the estimator to build, fit and score. */
  spec?: EstimatorSpec;
}

/** What a forest adds to its trees' parameters (see `RandomForestRegressor`). */
export interface ForestSettings {
  nEstimators: number;
  bootstrap: boolean;
  maxSamples: number | null;
}

/** A trial's failure as plain data (errors do not cross threads). */
export interface TrialError {
  name: string;
  code?: string;
  message: string;
}

/** What a trial measured: seconds, and one score per metric (NaN when it failed). */
export interface TrialResult {
  id: number;
  fitTime: number;
  scoreTime: number;
  test: number[];
  train?: number[];
  error?: TrialError;
}

interface FoldCache {
  yTest?: Float64Array;
  /** The fold's test rows of each feature, as the split rule reads them (rounded once). */
  testColumns?: Partial<Record<SplitRule, Float64Array[]>>;
  trainFrame?: Frame;
  testFrame?: Frame;
}

/** Frames of folds are kept per runner up to this many bytes; beyond, they are rebuilt. */
const FOLD_CACHE_BYTES = 256 * 1024 * 1024;

/** The error as plain data. */
export function toTrialError(error: unknown): TrialError {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return {
      name: error.name,
      message: error.message,
      ...(typeof code === "string" ? { code } : {}),
    };
  }
  return { name: "Error", message: String(error) };
}

/** A frame over shared columns. */
export function frameOfColumns(columns: readonly SharedColumn[], rowCount: number): Frame {
  const entries: [string, Column][] = columns.map((column) => [
    column.name,
    column.kind === "category"
      ? { kind: "category", codes: column.codes!, dictionary: [...column.dictionary!] }
      : { kind: column.kind, values: column.values! },
  ]);
  return new Frame(entries, rowCount);
}

function gather(values: Float64Array, rows: Int32Array): Float64Array {
  const out = new Float64Array(rows.length);
  for (let i = 0; i < rows.length; i++) out[i] = values[rows[i]];
  return out;
}

/**
 * Runs trials on one thread (a worker, or the caller's): keeps the data, the prepared tree
 * data and the folds it was given, caches what each fold needs, and turns every failure into a
 * `TrialResult` with an `error`.
 */
export class TrialRunner {
  readonly #data: TrialData;
  readonly #metrics: MetricDefinition[];
  readonly #datasets = new Map<string, TreeData>();
  readonly #foldSets = new Map<number, Fold[]>();
  readonly #cache = new Map<string, FoldCache>();
  readonly #constructors: EstimatorConstructors | undefined;
  readonly #cacheFrames: boolean;
  #frame: Frame | undefined;
  readonly #y: Float64Array;
  readonly #featureColumns: Float64Array[];
  /** `#featureColumns` as each split rule reads them (for train scores). */
  readonly #trainColumns: Partial<Record<SplitRule, Float64Array[]>> = {};

  constructor(data: TrialData, constructors?: EstimatorConstructors) {
    this.#data = data;
    this.#metrics = data.metrics.map((name) => getMetric(name));
    this.#constructors = constructors;
    const byName = new Map(data.columns.map((column) => [column.name, column]));
    this.#y = byName.get(data.target)!.values!;
    this.#featureColumns =
      data.mode === "generic" ? [] : data.featureNames.map((name) => byName.get(name)!.values!);
    this.#cacheFrames = data.rowCount * data.columns.length * 8 <= FOLD_CACHE_BYTES;
  }

  addDataset(key: string, tree: TreeData): void {
    this.#datasets.set(key, tree);
  }

  addFolds(id: number, folds: Fold[]): void {
    this.#foldSets.set(id, folds);
  }

  /** Fits and scores one trial; `estimator` is the unfitted estimator for generic mode. */
  run(task: TrialTask, estimator?: Estimator<object>): TrialResult {
    const nan = () => this.#metrics.map(() => Number.NaN);
    try {
      const fold = this.#foldSets.get(task.foldSet)?.[task.fold];
      if (fold === undefined) throw new Error(`unknown fold ${task.foldSet}/${task.fold}`);
      if (this.#data.mode !== "generic") return this.#runTree(task, fold);
      let model = estimator;
      if (model === undefined) {
        if (task.spec === undefined || this.#constructors === undefined) {
          throw new Error("a generic trial needs an estimator");
        }
        model = decodeEstimator(task.spec, this.#constructors);
      }
      return this.#runGeneric(task, fold, model);
    } catch (error) {
      return {
        id: task.id,
        fitTime: 0,
        scoreTime: 0,
        test: nan(),
        ...(this.#data.returnTrainScore ? { train: nan() } : {}),
        error: toTrialError(error),
      };
    }
  }

  #foldCache(task: TrialTask): FoldCache {
    const key = `${task.foldSet}:${task.fold}`;
    let cache = this.#cache.get(key);
    if (cache === undefined) {
      cache = {};
      this.#cache.set(key, cache);
    }
    return cache;
  }

  #scores(yTrue: Float64Array, yPred: Float64Array): number[] {
    return this.#metrics.map((metric) => metric.compute(yTrue, yPred));
  }

  #runTree(task: TrialTask, fold: Fold): TrialResult {
    const { params, dataset, forest } = task.tree!;
    const prepared = this.#datasets.get(dataset);
    if (prepared === undefined) throw new Error(`no prepared tree data "${dataset}"`);
    const cache = this.#foldCache(task);
    const rule = splitRuleOf(prepared.splitter);
    cache.yTest ??= gather(this.#y, fold.test);
    cache.testColumns ??= {};
    // Every candidate scores on the same test rows: gather (and round) them once per fold.
    let testColumns = cache.testColumns[rule];
    if (testColumns === undefined) {
      testColumns = ruleColumns(this.#featureColumns, rule, fold.test);
      cache.testColumns[rule] = testColumns;
    }
    const fitStart = performance.now();
    const trees = forest
      ? fitForestTrees(prepared, this.#y, fold.train, params, forest)
      : [fitTree(prepared, this.#y, undefined, fold.train, params)];
    const fitEnd = performance.now();
    const test = this.#scores(cache.yTest, predictMean(trees, testColumns, fold.test.length));
    const scoreEnd = performance.now();
    let train: number[] | undefined;
    if (this.#data.returnTrainScore) {
      let columns = this.#trainColumns[rule];
      if (columns === undefined) {
        columns = ruleColumns(this.#featureColumns, rule);
        this.#trainColumns[rule] = columns;
      }
      const all = predictMean(trees, columns, this.#data.rowCount);
      train = this.#scores(gather(this.#y, fold.train), gather(all, fold.train));
    }
    return {
      id: task.id,
      fitTime: (fitEnd - fitStart) / 1000,
      scoreTime: (scoreEnd - fitEnd) / 1000,
      test,
      ...(train ? { train } : {}),
    };
  }

  #runGeneric(task: TrialTask, fold: Fold, estimator: Estimator<object>): TrialResult {
    this.#frame ??= frameOfColumns(this.#data.columns, this.#data.rowCount);
    const frame = this.#frame;
    const cache = this.#cacheFrames ? this.#foldCache(task) : {};
    const trainFrame = cache.trainFrame ?? frame.take(fold.train);
    const testFrame = cache.testFrame ?? frame.take(fold.test);
    if (this.#cacheFrames) {
      cache.trainFrame = trainFrame;
      cache.testFrame = testFrame;
    }
    const target = this.#data.target;
    const fitStart = performance.now();
    // Scored, then dropped: no training profile.
    estimator.fit(trainFrame, target, { profile: false });
    const fitEnd = performance.now();
    const predictions = checkedPredictions(estimator.predict(testFrame), testFrame.rowCount);
    const test = this.#scores(testFrame.numeric(target), predictions);
    const scoreEnd = performance.now();
    const train = this.#data.returnTrainScore
      ? this.#scores(
          trainFrame.numeric(target),
          checkedPredictions(estimator.predict(trainFrame), trainFrame.rowCount),
        )
      : undefined;
    return {
      id: task.id,
      fitTime: (fitEnd - fitStart) / 1000,
      scoreTime: (scoreEnd - fitEnd) / 1000,
      test,
      ...(train ? { train } : {}),
    };
  }
}

/**
 * The trees `RandomForestRegressor` would fit on the frame of the fold's rows: the same tree
 * seeds, and bootstrap draws over the fold's rows (positions in the fold, mapped back to rows of
 * the prepared data), so the forest is identical to one fitted on `frame.take(rows)`.
 */
function fitForestTrees(
  prepared: TreeData,
  y: Float64Array,
  rows: Int32Array,
  params: DecisionTreeParams,
  forest: ForestSettings,
): TreeArrays[] {
  const seeds = forestTreeSeeds(params.seed, forest.nEstimators);
  const size = forest.bootstrap ? bootstrapSize(rows.length, forest.maxSamples) : 0;
  const sample = new Int32Array(size);
  const trees: TreeArrays[] = [];
  for (let t = 0; t < forest.nEstimators; t++) {
    let fitRows = rows;
    if (size > 0) {
      const drawn = bootstrapSample(seeds[t], rows.length, size);
      for (let i = 0; i < size; i++) sample[i] = rows[drawn[i]];
      fitRows = sample;
    }
    trees.push(fitTree(prepared, y, undefined, fitRows, { ...params, seed: seeds[t] }));
  }
  return trees;
}

/**
 * One tree's predictions, or a forest's: summed in tree order, then divided (as it predicts),
 * on columns already in the trees' split rule (`ruleColumns`).
 */
function predictMean(
  trees: readonly TreeArrays[],
  columns: Float64Array[],
  rowCount: number,
): Float64Array {
  if (trees.length === 1) return predictTree(trees[0], columns, rowCount);
  const sum = new Float64Array(rowCount);
  for (const tree of trees) {
    const predictions = predictTree(tree, columns, rowCount);
    for (let r = 0; r < rowCount; r++) sum[r] += predictions[r];
  }
  for (let r = 0; r < rowCount; r++) sum[r] /= trees.length;
  return sum;
}

function checkedPredictions(values: ArrayLike<number>, rowCount: number): Float64Array {
  if (values === null || typeof values !== "object" || values.length !== rowCount) {
    throw new MlopsError(
      "data_invalid",
      `predict returned ${values?.length} values for ${rowCount} rows`,
    );
  }
  return values instanceof Float64Array ? values : Float64Array.from(values);
}
