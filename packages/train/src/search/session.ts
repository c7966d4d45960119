import { availableParallelism } from "node:os";
import { type Frame, type MetricDefinition, MlopsError } from "@mlops/core";
import type { Estimator } from "../estimator/estimator.js";
import { resolveTarget } from "../estimator/target.js";
import { featureColumns } from "../estimator/training.js";
import { validateForestParams } from "../forest/params.js";
import { RandomForestRegressor } from "../forest/random-forest.js";
import type { Fold } from "../selection/folds.js";
import { DecisionTreeRegressor } from "../tree/decision-tree.js";
import { type DecisionTreeParams, resolveSplitter, validateTreeParams } from "../tree/params.js";
import { prepareTreeData } from "../tree/tree-data.js";
import { InThreadExecutor, type TrialExecutor, WorkerPool } from "./executor.js";
import { type EstimatorSpec, encodeEstimator, NotTransferableError } from "./spec.js";
import type {
  ForestSettings,
  SharedColumn,
  TrialData,
  TrialError,
  TrialResult,
  TrialTask,
} from "./trials.js";

/**
 * Candidate parameters: `{ maxDepth: 4 }`, or `{ tree__maxDepth: 4 }` for a pipeline.
 *
 * @example
 * const params: Params = { tree__maxDepth: 4, tree__criterion: "friedman_mse" };
 */
export type Params = Record<string, unknown>;

/**
 * How a failed fit is scored: `"raise"` stops the search with the error, a number (default
 * NaN, as scikit-learn's `error_score`) stands in for the score.
 *
 * @example
 * new GridSearch({ estimator, paramGrid, errorScore: "raise" });
 */
export type ErrorScore = "raise" | number;

/**
 * One candidate's results over the folds of one evaluation (what `cvResults` is built from).
 *
 * @example
 * const outcome: CandidateOutcome = outcomes[0];
 * outcome.test[0]; // the first metric's score on each fold
 */
export interface CandidateOutcome {
  params: Params;
  /** Per metric, per fold. */
  test: number[][];
  train?: number[][];
  fitTime: number[];
  scoreTime: number[];
  errors: (TrialError | undefined)[];
  startTime: number;
  endTime: number;
}

/** What a trial session needs: the estimator, the data, the metrics and the execution. */
export interface SessionSetup {
  estimator: Estimator<object>;
  frame: Frame;
  target: string | ArrayLike<number>;
  metrics: readonly MetricDefinition[];
  returnTrainScore: boolean;
  nJobs: number | undefined;
  errorScore: ErrorScore;
  context: string;
  /** Largest number of trials the session will run at once (caps the worker count). */
  maxTasks: number;
  /** Use the tree fast path where the estimator allows it (default true). */
  fastPath?: boolean;
}

/** `nJobs` as a worker count: a positive integer, or −1 for every core. */
export function resolveJobs(nJobs: number | undefined, context: string): number {
  const cores = availableParallelism();
  if (nJobs === undefined) return cores;
  if (nJobs === -1) return cores;
  if (!(Number.isInteger(nJobs) && nJobs >= 1)) {
    throw new MlopsError(
      "argument_invalid",
      `${context}: nJobs: expected an integer ≥ 1 (or -1 for every core), got ${nJobs}`,
    );
  }
  return nJobs;
}

function shareFloat64(values: Float64Array, share: boolean): Float64Array {
  if (!share || values.buffer instanceof SharedArrayBuffer) return values;
  const out = new Float64Array(
    new SharedArrayBuffer(Math.max(8, values.byteLength)),
    0,
    values.length,
  );
  out.set(values);
  return out;
}

function shareInt32(values: Int32Array, share: boolean): Int32Array {
  if (!share || values.buffer instanceof SharedArrayBuffer) return values;
  const out = new Int32Array(
    new SharedArrayBuffer(Math.max(8, values.byteLength)),
    0,
    values.length,
  );
  out.set(values);
  return out;
}

/**
 * The fast path an estimator can take: exactly `DecisionTreeRegressor` or
 * `RandomForestRegressor` (a subclass may fit differently), else none.
 */
function fastKernel(estimator: Estimator<object>): "tree" | "forest" | undefined {
  if (estimator.constructor === DecisionTreeRegressor) return "tree";
  if (estimator.constructor === RandomForestRegressor) return "forest";
  return undefined;
}

/**
 * The trials of one search (or one cross-validation) over one data set: the data is checked
 * and shared once, tree data prepared once per splitter setting, and each `evaluate` runs
 * candidates × folds on the executor (worker pool or in-thread).
 *
 * A plain `DecisionTreeRegressor` or `RandomForestRegressor` takes the fast path: the rows are
 * presorted (or binned) once for the whole search, every fold is a row subset of that
 * (`fitTree`'s `rows`; a forest's bootstrap draws map into the fold's rows), and workers receive
 * parameters only. Any other estimator is cloned with the candidate's parameters and fitted on
 * fold frames.
 */
export class TrialSession {
  readonly #setup: SessionSetup;
  readonly #data: TrialData;
  readonly #executor: TrialExecutor;
  readonly #fallback: TrialExecutor | undefined;
  readonly #treeFrame: Frame | undefined;
  readonly #datasets = new Set<string>();
  readonly #foldSets: Fold[][] = [];
  #taskId = 0;

  private constructor(
    setup: SessionSetup,
    data: TrialData,
    executor: TrialExecutor,
    treeFrame: Frame | undefined,
  ) {
    this.#setup = setup;
    this.#data = data;
    this.#executor = executor;
    this.#treeFrame = treeFrame;
    // Candidates a worker cannot build (parameters that are not plain data) run in-thread.
    this.#fallback = executor instanceof WorkerPool ? new InThreadExecutor(data) : undefined;
  }

  /** Checks the data, shares it and starts the executor. */
  static async open(setup: SessionSetup): Promise<TrialSession> {
    const { estimator, frame, target, context } = setup;
    const training = resolveTarget(frame, target, context);
    const jobs = Math.max(1, Math.min(resolveJobs(setup.nJobs, context), setup.maxTasks));
    const kernel = (setup.fastPath ?? true) ? fastKernel(estimator) : undefined;
    const tree = kernel !== undefined;
    // A bare tree or forest reads numbers only: say so now, in the caller's words.
    if (tree) featureColumns(frame, training.featureNames, context);
    let check: EstimatorSpec | undefined;
    let share = jobs > 1;
    if (share && !tree) {
      try {
        check = encodeEstimator(estimator);
      } catch (error) {
        if (!(error instanceof NotTransferableError)) throw error;
        share = false;
      }
    }
    const columns: SharedColumn[] = [];
    const names = tree
      ? training.featureNames
      : frame.names.filter((n) => n !== training.targetName);
    for (const name of names) {
      const column = frame.column(name);
      columns.push(
        column.kind === "category"
          ? {
              name,
              kind: "category",
              codes: shareInt32(column.codes, share),
              dictionary: column.dictionary,
            }
          : { name, kind: column.kind, values: shareFloat64(column.values, share) },
      );
    }
    columns.push({
      name: training.targetName,
      kind: "number",
      values: shareFloat64(training.values, share),
    });
    const data: TrialData = {
      mode: kernel ?? "generic",
      rowCount: training.rowCount,
      columns,
      target: training.targetName,
      featureNames: training.featureNames,
      metrics: setup.metrics.map((metric) => metric.name),
      returnTrainScore: setup.returnTrainScore,
    };
    let executor: TrialExecutor | undefined;
    if (share) executor = await WorkerPool.open(jobs, data, check);
    executor ??= new InThreadExecutor(data);
    return new TrialSession(setup, data, executor, tree ? frame : undefined);
  }

  /** Worker threads in use (1 = in-thread). */
  get parallel(): number {
    return this.#executor.parallel;
  }

  /** Whether trials take the tree (or forest) fast path. */
  get mode(): "tree" | "forest" | "generic" {
    return this.#data.mode;
  }

  get rowCount(): number {
    return this.#data.rowCount;
  }

  /** Registers folds (row subsets of the session's data); returns their id for `evaluate`. */
  addFolds(folds: Fold[]): number {
    const id = this.#foldSets.length;
    const shared = this.#executor instanceof WorkerPool;
    const stored = folds.map((fold) => ({
      train: shareInt32(fold.train, shared),
      test: shareInt32(fold.test, shared),
    }));
    this.#foldSets.push(stored);
    this.#executor.addFolds(id, stored);
    this.#fallback?.addFolds(id, stored);
    return id;
  }

  #ensureDataset(params: DecisionTreeParams, trainRows: number): string {
    const splitter = resolveSplitter(params.splitter, trainRows);
    const key = splitter === "hist" ? `hist:${params.maxBins}` : "best";
    if (!this.#datasets.has(key)) {
      const prepared = prepareTreeData(this.#treeFrame!, this.#data.featureNames, {
        splitter,
        bins: params.maxBins,
      });
      this.#executor.addDataset(key, prepared);
      this.#fallback?.addDataset(key, prepared);
      this.#datasets.add(key);
    }
    return key;
  }

  /**
   * Fits and scores every candidate on every fold of `foldSet`; `onCandidate` is called as each
   * candidate completes. Unknown parameter names throw at once (as `setParams` does); a failing
   * fit scores `errorScore`, or stops everything with `"raise"`.
   */
  async evaluate(
    candidates: readonly Params[],
    foldSet: number,
    onCandidate?: (index: number, outcome: CandidateOutcome) => void,
  ): Promise<CandidateOutcome[]> {
    const folds = this.#foldSets[foldSet];
    const metricCount = this.#setup.metrics.length;
    const { estimator, errorScore } = this.#setup;
    const failedScore = errorScore === "raise" ? Number.NaN : errorScore;
    // Prepare every candidate first: a misspelt parameter fails before any fit.
    const plans = candidates.map((params) => {
      const model = estimator.clone().setParams(params as Partial<object>);
      if (this.#data.mode !== "generic") {
        let full: TreePlan | undefined;
        let invalid: unknown;
        try {
          full = treePlan(model.getParams(), this.#data.mode);
        } catch (error) {
          invalid = error;
        }
        return { model, full, invalid, spec: undefined };
      }
      let spec: EstimatorSpec | undefined;
      if (this.#fallback !== undefined) {
        try {
          spec = encodeEstimator(model);
        } catch (error) {
          if (!(error instanceof NotTransferableError)) throw error;
        }
      }
      return { model, full: undefined, invalid: undefined, spec };
    });
    const outcomes: CandidateOutcome[] = candidates.map((params) => ({
      params,
      test: Array.from({ length: metricCount }, () =>
        new Array<number>(folds.length).fill(Number.NaN),
      ),
      ...(this.#setup.returnTrainScore
        ? {
            train: Array.from({ length: metricCount }, () =>
              new Array<number>(folds.length).fill(Number.NaN),
            ),
          }
        : {}),
      fitTime: new Array<number>(folds.length).fill(0),
      scoreTime: new Array<number>(folds.length).fill(0),
      errors: new Array<TrialError | undefined>(folds.length).fill(undefined),
      startTime: Date.now(),
      endTime: 0,
    }));
    const remaining = candidates.map(() => folds.length);
    let raised: unknown;
    let stop: (error: unknown) => void = () => {};
    const stopped = new Promise<never>((_, reject) => {
      stop = reject;
    });
    stopped.catch(() => {});
    const record = (index: number, fold: number, result: TrialResult) => {
      const outcome = outcomes[index];
      outcome.fitTime[fold] = result.fitTime;
      outcome.scoreTime[fold] = result.scoreTime;
      if (result.error !== undefined) {
        outcome.errors[fold] = result.error;
        if (errorScore === "raise") {
          if (raised === undefined) {
            raised = rebuildError(result.error, index, fold);
            stop(raised);
          }
          return;
        }
      }
      for (let m = 0; m < metricCount; m++) {
        outcome.test[m][fold] = result.error ? failedScore : result.test[m];
        if (outcome.train) outcome.train[m][fold] = result.error ? failedScore : result.train![m];
      }
      remaining[index]--;
      if (remaining[index] === 0) {
        outcome.endTime = Date.now();
        onCandidate?.(index, outcome);
      }
    };
    const running: Promise<void>[] = [];
    for (let index = 0; index < candidates.length; index++) {
      const plan = plans[index];
      for (let fold = 0; fold < folds.length; fold++) {
        if (raised !== undefined) break;
        const task: TrialTask = { id: this.#taskId++, foldSet, fold };
        if (plan.invalid !== undefined) {
          record(index, fold, {
            id: task.id,
            fitTime: 0,
            scoreTime: 0,
            test: [],
            error: errorOf(plan.invalid),
          });
          continue;
        }
        let executor = this.#executor;
        let model: Estimator<object> | undefined;
        if (plan.full !== undefined) {
          task.tree = {
            params: plan.full.params,
            dataset: this.#ensureDataset(plan.full.params, folds[fold].train.length),
            ...(plan.full.forest ? { forest: plan.full.forest } : {}),
          };
        } else if (plan.spec !== undefined) {
          task.spec = plan.spec;
        } else {
          executor = this.#fallback ?? this.#executor;
          model = plan.model.clone();
        }
        const promise = executor.run(task, model).then((result) => record(index, fold, result));
        running.push(promise);
        // In-thread trials run one by one; awaiting keeps `raise` prompt and memory flat.
        if (executor.parallel === 1) await promise;
      }
      if (raised !== undefined) break;
    }
    // With `errorScore: "raise"`, the first failure ends the wait (the caller closes the pool).
    await Promise.race([Promise.all(running), stopped]);
    if (raised !== undefined) throw raised;
    return outcomes;
  }

  async close(): Promise<void> {
    await this.#executor.close();
    await this.#fallback?.close();
  }
}

interface TreePlan {
  params: DecisionTreeParams;
  forest?: ForestSettings;
}

/** Checked tree (and forest) settings of a candidate; throws for invalid values. */
function treePlan(params: object, mode: "tree" | "forest"): TreePlan {
  if (mode === "tree") return { params: validateTreeParams(params as Partial<DecisionTreeParams>) };
  const checked = validateForestParams(params);
  return {
    params: checked.tree,
    forest: {
      nEstimators: checked.nEstimators,
      bootstrap: checked.bootstrap,
      maxSamples: checked.maxSamples,
    },
  };
}

function errorOf(error: unknown): TrialError {
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

/** The trial's error as an `MlopsError` (the original when it was one), saying which fit. */
export function rebuildError(error: TrialError, candidate: number, fold: number): MlopsError {
  const code = (error.code ?? "argument_invalid") as MlopsError["code"];
  return new MlopsError(code, `candidate ${candidate}, fold ${fold}: ${error.message}`);
}
