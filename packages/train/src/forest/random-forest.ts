import { type ArtifactModel, Estimator } from "../estimator/estimator.js";
import type { TrainingData } from "../estimator/training.js";
import { type TreeArrays, treeFeatureImportanceArray } from "../tree/nodes.js";
import { resolveSplitter } from "../tree/params.js";
import { float32Columns, predictTree, ruleColumns, splitRuleOf } from "../tree/predict.js";
import { prepareForFit } from "../tree/tree-data.js";
import { type ForestJob, fitForestTree, forestTreeSeeds, profilePredictions } from "./build.js";
import {
  bootstrapSize,
  RANDOM_FOREST_DEFAULTS,
  type RandomForestParams,
  validateForestParams,
} from "./params.js";
import { buildTreesInWorkers, OrderedSum, resolveJobs } from "./pool.js";

interface FittedForest {
  trees: TreeArrays[];
  importances: Float64Array;
  splitter: "best" | "hist";
  jobs: number;
}

/** A copy of `values` in shared memory (worker threads read it without a copy of their own). */
function shared(values: Float64Array): Float64Array {
  const out = new Float64Array(
    new SharedArrayBuffer(8 * Math.max(values.length, 1)),
    0,
    values.length,
  );
  out.set(values);
  return out;
}

/**
 * scikit-learn's forest importances: the mean of the trees' normalised importances (trees that
 * are a lone leaf left out), normalised to sum 1.
 */
function forestImportances(trees: TreeArrays[], featureCount: number): Float64Array {
  const mean = new Float64Array(featureCount);
  let used = 0;
  for (const tree of trees) {
    if (tree.left.length <= 1) continue;
    const importances = treeFeatureImportanceArray(tree, featureCount);
    for (let j = 0; j < featureCount; j++) mean[j] += importances[j];
    used++;
  }
  if (used === 0) return mean;
  let sum = 0;
  for (let j = 0; j < featureCount; j++) {
    mean[j] /= used;
    sum += mean[j];
  }
  for (let j = 0; j < featureCount; j++) mean[j] /= sum;
  return mean;
}

/**
 * A random forest of regression trees (scikit-learn's `RandomForestRegressor`): each tree is
 * fitted on a bootstrap sample of the rows (drawn with replacement; repeats count as sample
 * weights, as there) with `maxFeatures` features tried per split, and the forest predicts the
 * mean of its trees. Every tree parameter of `DecisionTreeRegressor` applies to each tree.
 *
 * The data is prepared once (presorted or binned, in SharedArrayBuffers) and the trees are
 * built on `nJobs` worker threads that read it in place, never copied per tree. `seed` is
 * scikit-learn's `random_state`: the per-tree seeds and bootstrap draws reproduce numpy's
 * generator, so a forest does not depend on `nJobs`, and with the exact splitter on data without
 * missing values it is the very forest scikit-learn grows for the same `random_state`.
 * `fit` blocks its thread until the trees are back. Worker threads need the built package
 * (`dist/forest-worker.js`); `nJobs: 1` builds in the calling thread.
 *
 * @example
 * const forest = new RandomForestRegressor({ nEstimators: 200, maxDepth: 12, seed: 7 });
 * forest.fit(frame, "price");
 * forest.predict(frame);
 * forest.featureImportances; // { rooms: 0.61, age: 0.39 }
 * const artifact = forest.toArtifact(); // kind "ensemble", aggregation "mean"
 */
export class RandomForestRegressor extends Estimator<RandomForestParams> {
  #fitted: FittedForest | undefined;

  constructor(params: Partial<RandomForestParams> = {}) {
    super({ ...RANDOM_FOREST_DEFAULTS }, params);
  }

  protected fitData(data: TrainingData): void {
    this.#fitted = undefined;
    const checked = validateForestParams(this.getParams(), this.estimatorName);
    const splitter = resolveSplitter(checked.tree.splitter, data.rowCount);
    const bootstrapRows = checked.bootstrap ? bootstrapSize(data.rowCount, checked.maxSamples) : 0;
    const jobs = resolveJobs(checked.nJobs, checked.nEstimators);
    // Shared memory only for worker threads to read.
    const prepared = prepareForFit(
      data,
      { splitter, bins: checked.tree.maxBins },
      jobs > 1 ? "shared" : "local",
    );
    const profileRows = data.profileRows;
    const job: ForestJob = {
      data: prepared,
      y: jobs > 1 ? shared(data.target) : data.target,
      sampleWeight:
        data.sampleWeight === undefined || jobs === 1
          ? data.sampleWeight
          : shared(data.sampleWeight),
      treeSeeds: forestTreeSeeds(checked.tree.seed, checked.nEstimators),
      bootstrapRows,
      params: checked.tree,
      profileColumns:
        profileRows === undefined
          ? undefined
          : ruleColumns(data.columns, splitRuleOf(splitter), profileRows, jobs > 1),
    };
    let trees: TreeArrays[];
    let profileSum: Float64Array | undefined;
    if (jobs === 1) {
      trees = [];
      const sum = new OrderedSum(profileRows?.length ?? 0);
      for (let t = 0; t < checked.nEstimators; t++) {
        const tree = fitForestTree(job, t);
        trees.push(tree);
        const predictions = profilePredictions(job, tree);
        if (predictions !== undefined) sum.add(t, predictions);
      }
      if (profileRows !== undefined) profileSum = sum.sum;
    } else {
      ({ trees, profileSum } = buildTreesInWorkers(job, jobs));
    }
    if (profileRows !== undefined && profileSum !== undefined) {
      // Divided once all trees are summed: `predictColumns`' operations, so the same values.
      for (let i = 0; i < profileSum.length; i++) profileSum[i] /= trees.length;
      data.profilePredictions = profileSum;
    }
    this.#fitted = {
      trees,
      importances: forestImportances(trees, data.featureNames.length),
      splitter,
      jobs,
    };
  }

  protected predictColumns(columns: Float64Array[], rowCount: number): Float64Array {
    const { trees, splitter } = this.#forest("predict");
    if (splitRuleOf(splitter) === "float32_le") columns = float32Columns(columns);
    // Summed in tree order, then divided: the operations of core's "mean" ensembles.
    const sum = new Float64Array(rowCount);
    for (const tree of trees) {
      const predictions = predictTree(tree, columns, rowCount);
      for (let r = 0; r < rowCount; r++) sum[r] += predictions[r];
    }
    for (let r = 0; r < rowCount; r++) sum[r] /= trees.length;
    return sum;
  }

  protected artifactModel(): ArtifactModel {
    const { trees, splitter } = this.#forest("toArtifact");
    const arrays: ArtifactModel["arrays"] = {};
    trees.forEach((tree, t) => {
      const prefix = `trees.${t}.`;
      arrays[`${prefix}left`] = tree.left;
      arrays[`${prefix}right`] = tree.right;
      arrays[`${prefix}feature`] = tree.feature;
      arrays[`${prefix}threshold`] = tree.threshold;
      arrays[`${prefix}value`] = tree.value;
      arrays[`${prefix}missingLeft`] = tree.missingLeft;
      arrays[`${prefix}nodeSamples`] = tree.nodeSamples;
      arrays[`${prefix}impurity`] = tree.impurity;
    });
    return {
      kind: "ensemble",
      model: { aggregation: "mean", treeCount: trees.length, splitRule: splitRuleOf(splitter) },
      arrays,
    };
  }

  #forest(action: string): FittedForest {
    this.requireFitted(action);
    return this.#fitted!;
  }

  /** The fitted trees' arrays, in order (scikit-learn's `estimators_[i].tree_`). */
  get trees(): readonly TreeArrays[] {
    return [...this.#forest("reading trees").trees];
  }

  /** Impurity-based importances by feature name: the trees' mean, summing to 1. */
  get featureImportances(): Record<string, number> {
    const { importances } = this.#forest("reading featureImportances");
    return Object.fromEntries(this.featureNames.map((name, j) => [name, importances[j]]));
  }

  /** The splitter the last fit used (`"auto"` resolved). */
  get splitterUsed(): "best" | "hist" {
    return this.#forest("reading splitterUsed").splitter;
  }

  /** Worker threads the last fit used (1 = built in the calling thread). */
  get jobsUsed(): number {
    return this.#forest("reading jobsUsed").jobs;
  }
}
