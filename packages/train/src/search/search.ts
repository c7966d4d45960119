import { type Frame, type MetricDefinition, MlopsError, type Registry } from "@mlops/core";
import { NotFittedError } from "../estimator/errors.js";
import type { Estimator } from "../estimator/estimator.js";
import { isFrame } from "../estimator/training.js";
import { type CvOption, type Fold, resolveFolds } from "../selection/folds.js";
import { isBetter, refitMetric, resolveScoring, type Scoring } from "../selection/scoring.js";
import { buildCvResults, type CvResults } from "./results.js";
import {
  type CandidateOutcome,
  type ErrorScore,
  type Params,
  rebuildError,
  TrialSession,
} from "./session.js";
import {
  type ParamDistributions,
  type ParamGrid,
  parameterGrid,
  parameterSampler,
} from "./space.js";
import { isEstimatorLike } from "./spec.js";
import {
  type SearchStudyOptions,
  type SearchStudyReport,
  StudyWorker,
  searchDataDigest,
  studyStoreOf,
} from "./study.js";
import { paramText, SearchTracker } from "./tracking.js";

/**
 * A progress event of a search: candidates done out of the total, and the best mean CV score so
 * far (of the metric that picks the best).
 *
 * @example
 * const onProgress = ({ done, total }: SearchProgress) => bar.update(done / total);
 * new GridSearch({ estimator, paramGrid, onProgress });
 */
export interface SearchProgress {
  done: number;
  total: number;
  /** The metric of `bestScore` (the refit metric). */
  metric: string;
  bestScore: number | undefined;
  bestParams: Params | undefined;
  /** Milliseconds since `fit` started. */
  elapsedMs: number;
}

/**
 * Options every search takes.
 *
 * @example
 * const options: SearchOptions<DecisionTreeRegressor> = {
 *   estimator: new DecisionTreeRegressor(), cv: 5, scoring: "rmse", nJobs: 2,
 * };
 */
export interface SearchOptions<E extends Estimator<object> = Estimator<object>> {
  /** The estimator whose parameters are searched (any estimator, pipelines included). */
  estimator: E;
  /** Folds: a count (contiguous KFold, default 5), a splitter, or the folds themselves. */
  cv?: CvOption;
  /** Metric name(s) from core's metrics (default `"rmse"`). */
  scoring?: Scoring;
  /**
   * Refit the best candidate on all the data (default true); a metric name picks the best by
   * that metric when `scoring` lists several (otherwise the first metric decides).
   */
  refit?: boolean | string;
  /**
   * Worker threads for trials (default: `os.availableParallelism()`; 1 = on the caller's
   * thread; -1 = every core).
   */
  nJobs?: number;
  /** Score of a failed fit, or `"raise"` to stop (default NaN; fails if every fit fails). */
  errorScore?: ErrorScore;
  /** Also score each fit on its own training rows (`split<k>_train_<metric>`; default false). */
  returnTrainScore?: boolean;
  /** Track the search: a parent run with one nested run per candidate. */
  registry?: Registry;
  /** Experiment of the tracked runs (created when missing; default: the Default experiment). */
  experiment?: string;
  /** Name of the parent run (default: the search's class name). */
  runName?: string;
  /** Called as each candidate completes. */
  onProgress?: (progress: SearchProgress) => void;
  /**
   * Let a plain `DecisionTreeRegressor` or `RandomForestRegressor` take the fast path (data
   * presorted or binned once per search, folds as row subsets; default true). false fits clones
   * on fold frames, as for any estimator: the same scores for the exact splitter, more time.
   */
  fastPath?: boolean;
  /**
   * Share this search with other worker processes through `registry` (its study store): each
   * worker claims trials, every worker ends with the results of the whole search, and the study
   * is finished (its `onFinish` run, the parent run ended) by one of them. Needs `registry`: a
   * folder (workers on one machine) or a `postgres://` registry (workers anywhere).
   */
  study?: SearchStudyOptions;
}

interface Evaluation {
  outcomes: CandidateOutcome[];
  extra?: Record<string, unknown[]>;
  groups?: number[];
  /** Candidates (rows of cvResults) the best is chosen among (default: all). */
  bestAmong?: number[];
}

/**
 * What a search's strategy uses to evaluate candidates (for subclasses of `BaseSearch`).
 *
 * @example
 * protected async runSearch(runner: SearchRunner) {
 *   runner.setTotal(this.candidates.length);
 *   return { outcomes: await runner.evaluate(this.candidates) };
 * }
 */
export interface SearchRunner {
  readonly rowCount: number;
  /** The folds of `cv` over the whole data, registered as fold set 0. */
  readonly folds: Fold[];
  /** Registers more folds (row subsets) and returns their fold-set id. */
  addFolds(folds: Fold[]): number;
  /** Sets the total for progress events. */
  setTotal(total: number): void;
  /** Evaluates candidates on a fold set; rows are appended to the search's results. */
  evaluate(
    candidates: readonly Params[],
    foldSet?: number,
    tags?: Record<string, string>,
  ): Promise<CandidateOutcome[]>;
}

function checkOptions(options: SearchOptions, context: string): void {
  if (options === null || typeof options !== "object") {
    throw new MlopsError("argument_invalid", `${context}: expected an options object`);
  }
  if (!isEstimatorLike(options.estimator)) {
    throw new MlopsError(
      "argument_invalid",
      `${context}: estimator: expected an estimator (fit, predict, getParams, setParams, clone)`,
    );
  }
  if (options.onProgress !== undefined && typeof options.onProgress !== "function") {
    throw new MlopsError("argument_invalid", `${context}: onProgress: expected a function`);
  }
  const errorScore = options.errorScore;
  if (errorScore !== undefined && errorScore !== "raise" && typeof errorScore !== "number") {
    throw new MlopsError(
      "argument_invalid",
      `${context}: errorScore: expected "raise" or a number, got ${JSON.stringify(errorScore)}`,
    );
  }
}

/** The id of experiment `name` (created when missing; the Default experiment without one). */
async function experimentIdOf(registry: Registry, name: string | undefined): Promise<string> {
  if (name === undefined) return "0";
  const existing = await registry.store.getExperimentByName(name);
  if (existing !== undefined) return existing.experimentId;
  try {
    return (await registry.store.createExperiment(name)).experimentId;
  } catch (error) {
    // Another worker created it in between: use theirs.
    const created = await registry.store.getExperimentByName(name);
    if (created !== undefined) return created.experimentId;
    throw error;
  }
}

/** A score as a study result holds it (JSON has no NaN). */
function finite(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}

/** Candidate and fold of the first failed fit. */
function firstError(outcomes: readonly CandidateOutcome[]): [number, number] {
  for (let i = 0; i < outcomes.length; i++) {
    const fold = outcomes[i].errors.findIndex((error) => error !== undefined);
    if (fold >= 0) return [i, fold];
  }
  return [0, 0];
}

/**
 * The machinery shared by `GridSearch`, `RandomSearch` and `SuccessiveHalving`: folds, the
 * trial session (worker pool, tree fast path), results as columns, the best candidate by its
 * cross-validated score (never its training score), the refit, tracking and progress.
 *
 * @example
 * const search: BaseSearch = new GridSearch({ estimator, paramGrid: { maxDepth: [2, 4] } });
 * await search.fit(frame, "quality");
 * search.bestParams; // { maxDepth: 4 }
 */
export abstract class BaseSearch<E extends Estimator<object> = Estimator<object>> {
  readonly options: SearchOptions<E>;
  readonly metrics: readonly MetricDefinition[];
  /** The metric that picks the best candidate. */
  readonly metric: MetricDefinition;
  #results: CvResults | undefined;
  #bestIndex = -1;
  #bestEstimator: E | undefined;
  #refitTime: number | undefined;
  #nSplits = 0;
  #runId: string | undefined;
  #parallel = 0;
  #fastPath = false;
  #study: SearchStudyReport | undefined;

  protected constructor(options: SearchOptions<E>) {
    const context = this.constructor.name;
    checkOptions(options as SearchOptions, context);
    this.options = { ...options };
    this.metrics = resolveScoring(options.scoring, context);
    this.metric = refitMetric(this.metrics, options.refit, context);
  }

  /** The candidates' evaluation strategy. */
  protected abstract runSearch(runner: SearchRunner): Promise<Evaluation>;

  /** Parameters the parent run records about the strategy. */
  protected abstract describe(): Record<string, string | number | boolean>;

  /**
   * Cross-validates every candidate, picks the best by its mean CV score and (with `refit`)
   * fits it on all of `frame`. `target` names a numeric column or gives one value per row.
   */
  async fit(frame: Frame, target: string | ArrayLike<number>): Promise<this> {
    const context = `${this.constructor.name}.fit`;
    const started = performance.now();
    this.#results = undefined;
    this.#bestEstimator = undefined;
    this.#refitTime = undefined;
    this.#runId = undefined;
    const { estimator, registry } = this.options;
    const errorScore = this.options.errorScore ?? Number.NaN;
    if (!isFrame(frame)) throw new MlopsError("argument_invalid", `${context}: expected a Frame`);
    const baseFolds = resolveFolds(this.options.cv, frame.rowCount, context);
    this.#nSplits = baseFolds.length;
    this.#study = undefined;
    let tracker: SearchTracker | undefined;
    let worker: StudyWorker | undefined;
    const runParams = {
      search: this.constructor.name,
      estimator: estimator.constructor.name,
      cv: baseFolds.length,
      scoring: this.metrics.map((metric) => metric.name).join(","),
      ...this.describe(),
    };
    if (this.options.study !== undefined) {
      const studies = studyStoreOf(registry, this.options.study, context);
      worker = new StudyWorker(studies, this.options.study);
      const experimentId = await experimentIdOf(registry!, this.options.experiment);
      const estimatorParams: Record<string, string | number | boolean> = {};
      for (const [name, value] of Object.entries(estimator.getParams())) {
        estimatorParams[name] = paramText(value);
      }
      const study = await worker.join(
        {
          ...runParams,
          estimatorParams,
          refit: this.options.refit ?? true,
          errorScore: String(errorScore),
          returnTrainScore: this.options.returnTrainScore ?? false,
        },
        searchDataDigest(frame, target, baseFolds),
        {
          experimentId,
          runName: this.options.runName ?? this.constructor.name,
          tags: {
            "mlops.search": this.constructor.name,
            "mlops.estimator": estimator.constructor.name,
          },
          params: runParams,
        },
      );
      tracker = SearchTracker.attach(
        registry!,
        await registry!.store.getRun(study.runId),
        this.metrics,
      );
      this.#runId = study.runId;
    } else if (registry !== undefined) {
      tracker = await SearchTracker.start(
        registry,
        {
          experiment: this.options.experiment,
          runName: this.options.runName ?? this.constructor.name,
          search: this.constructor.name,
          estimator: estimator.constructor.name,
          params: runParams,
        },
        this.metrics,
      );
      this.#runId = tracker.runId;
    }
    let session: TrialSession | undefined;
    try {
      session = await TrialSession.open({
        estimator,
        frame,
        target,
        metrics: this.metrics,
        returnTrainScore: this.options.returnTrainScore ?? false,
        nJobs: this.options.nJobs,
        errorScore,
        context,
        maxTasks: this.maxTasks(baseFolds.length),
        fastPath: this.options.fastPath,
      });
      this.#parallel = session.parallel;
      this.#fastPath = session.mode !== "generic";
      const all: CandidateOutcome[] = [];
      let total = 0;
      let done = 0;
      let best: CandidateOutcome | undefined;
      let bestMean = Number.NaN;
      const m = this.metrics.indexOf(this.metric);
      const activeSession = session;
      const foldCounts = [baseFolds.length];
      const runner: SearchRunner = {
        rowCount: session.rowCount,
        folds: baseFolds,
        addFolds: (folds) => {
          const id = activeSession.addFolds(folds);
          foldCounts[id] = folds.length;
          return id;
        },
        setTotal: (value) => {
          total = value;
        },
        evaluate: async (candidates, foldSet = 0, tags = {}) => {
          const offset = all.length;
          const seen = (index: number, outcome: CandidateOutcome, track: boolean) => {
            done++;
            const scores = outcome.test[m];
            const mean = scores.reduce((a, b) => a + b, 0) / scores.length;
            if (best === undefined || isBetter(mean, bestMean, this.metric.greaterIsBetter)) {
              best = outcome;
              bestMean = mean;
            }
            if (track) tracker?.logCandidate(offset + index, outcome, tags);
            this.options.onProgress?.({
              done,
              total: Math.max(total, done),
              metric: this.metric.name,
              bestScore: Number.isNaN(bestMean) ? undefined : bestMean,
              bestParams: best === undefined || Number.isNaN(bestMean) ? undefined : best.params,
              elapsedMs: performance.now() - started,
            });
          };
          const outcomes =
            worker === undefined
              ? await activeSession.evaluate(candidates, foldSet, (index, outcome) =>
                  seen(index, outcome, true),
                )
              : await worker.evaluate(
                  activeSession,
                  candidates,
                  foldSet,
                  foldCounts[foldSet],
                  this.metrics.length,
                  errorScore,
                  async (index, outcome, local) => {
                    seen(index, outcome, false);
                    if (!local || tracker === undefined) return {};
                    // Tracked before the trial completes: every completed trial has its run.
                    const runId = await tracker.writeCandidate(offset + index, outcome, {
                      ...tags,
                      "mlops.worker": worker!.worker,
                    });
                    return { runId };
                  },
                );
          all.push(...outcomes);
          return outcomes;
        },
      };
      session.addFolds(baseFolds);
      const evaluation = await this.runSearch(runner);
      const outcomes = evaluation.outcomes;
      const failed = outcomes.every((outcome) =>
        outcome.errors.every((error) => error !== undefined),
      );
      if (outcomes.length > 0 && failed) {
        const error = rebuildError(outcomes[0].errors[0]!, 0, 0);
        throw new MlopsError(
          error.code,
          `${context}: every fit failed (${outcomes.length} candidates × ` +
            `${outcomes[0].errors.length} folds); the first: ${error.message}`,
        );
      }
      const results = buildCvResults(outcomes, this.metrics, evaluation.extra, evaluation.groups);
      const means = results[`mean_test_${this.metric.name}`] as number[];
      if (means.every(Number.isNaN)) {
        // Some fold fails for every candidate: no score to choose by.
        const [index, fold] = firstError(outcomes);
        const error = rebuildError(outcomes[index].errors[fold]!, index, fold);
        throw new MlopsError(
          error.code,
          `${context}: no candidate has a mean CV score (a fold fails for every one); ` +
            `the first error: ${error.message}`,
        );
      }
      let bestIndex = -1;
      for (const index of evaluation.bestAmong ?? means.map((_, i) => i)) {
        if (
          bestIndex < 0 ||
          isBetter(means[index], means[bestIndex], this.metric.greaterIsBetter)
        ) {
          bestIndex = index;
        }
      }
      this.#results = results;
      this.#bestIndex = bestIndex;
      if (this.options.refit ?? true) {
        const refitStart = performance.now();
        const model = estimator.clone().setParams(results.params[bestIndex] as Partial<object>);
        model.fit(frame, target);
        this.#refitTime = (performance.now() - refitStart) / 1000;
        this.#bestEstimator = model as E;
      }
      const scores: Record<string, number> = {};
      for (const metric of this.metrics) {
        scores[metric.name] = (results[`mean_test_${metric.name}`] as number[])[bestIndex];
      }
      const finishRun = () =>
        tracker!.finish({
          params: results.params[bestIndex],
          scores,
          index: bestIndex,
          refitTime: this.#refitTime,
        });
      if (worker !== undefined) {
        await tracker!.flush();
        // One worker ends the shared parent run and runs `onFinish` (registers the model).
        this.#study = await worker.finish(async (study) => {
          await finishRun();
          const extra = (await this.options.study!.onFinish?.(study)) ?? {};
          return { bestIndex, bestScore: finite(scores[this.metric.name]), ...extra };
        });
      } else if (tracker !== undefined) {
        await finishRun();
      }
      return this;
    } catch (error) {
      // A study's parent run is shared: one worker failing does not end it.
      if (worker === undefined) await tracker?.fail();
      else await tracker?.flush().catch(() => {});
      throw error;
    } finally {
      await session?.close();
    }
  }

  /** Largest number of trials that can run at once (caps the workers started). */
  protected maxTasks(nSplits: number): number {
    return nSplits * 1_000_000;
  }

  #fitted(what: string): CvResults {
    if (this.#results === undefined) throw new NotFittedError(this.constructor.name, what);
    return this.#results;
  }

  /** Results as columns (scikit-learn's `cv_results_`). */
  get cvResults(): CvResults {
    return this.#fitted("reading cvResults");
  }

  /** The row of `cvResults` of the best candidate (by mean CV score of `metric`). */
  get bestIndex(): number {
    this.#fitted("reading bestIndex");
    return this.#bestIndex;
  }

  /** The best candidate's parameters. */
  get bestParams(): Params {
    return { ...this.#fitted("reading bestParams").params[this.#bestIndex] };
  }

  /** The best candidate's mean CV score of `metric` (the metric's own value: RMSE positive). */
  get bestScore(): number {
    const results = this.#fitted("reading bestScore");
    return (results[`mean_test_${this.metric.name}`] as number[])[this.#bestIndex];
  }

  /** The best candidate refitted on all the data (requires `refit`, the default). */
  get bestEstimator(): E {
    this.#fitted("reading bestEstimator");
    if (this.#bestEstimator === undefined) {
      throw new MlopsError(
        "argument_invalid",
        `${this.constructor.name}: bestEstimator is only available with refit: true`,
      );
    }
    return this.#bestEstimator;
  }

  /** Seconds the refit took. */
  get refitTime(): number | undefined {
    this.#fitted("reading refitTime");
    return this.#refitTime;
  }

  /** Folds per candidate. */
  get nSplits(): number {
    this.#fitted("reading nSplits");
    return this.#nSplits;
  }

  /** The tracked parent run (with `registry`). */
  get runId(): string | undefined {
    return this.#runId;
  }

  /**
   * The study of a distributed search (`study` option) as this worker saw it: trials it ran,
   * whether it finished the study, and the study's result (what `onFinish` returned).
   */
  get study(): SearchStudyReport | undefined {
    return this.#study;
  }

  /** Worker threads the last fit used (1 = in-thread). */
  get workers(): number {
    return this.#parallel;
  }

  /** Whether the last fit took the tree/forest fast path (data prepared once, folds as rows). */
  get fastPath(): boolean {
    return this.#fastPath;
  }

  /** Predictions of `bestEstimator`. */
  predict(frame: Frame): Float64Array {
    return this.bestEstimator.predict(frame);
  }
}

/**
 * Options of `GridSearch`.
 *
 * @example
 * const options: GridSearchOptions = { estimator, paramGrid: { maxDepth: [2, 4, 8] } };
 */
export interface GridSearchOptions<E extends Estimator<object> = Estimator<object>>
  extends SearchOptions<E> {
  /** The grid (or list of grids) to search exhaustively. */
  paramGrid: ParamGrid;
}

/**
 * Exhaustive search over a parameter grid with cross-validation (scikit-learn's
 * `GridSearchCV`). Candidates come in `ParameterGrid` order (names sorted, the last varying
 * fastest); the best is chosen by mean CV score and refitted on all the data.
 *
 * @example
 * const search = await new GridSearch({
 *   estimator: new DecisionTreeRegressor(),
 *   paramGrid: { maxDepth: [2, 4, 8], minSamplesLeaf: [1, 5, 20] },
 *   cv: 5,
 *   scoring: "rmse",
 * }).fit(frame, "quality");
 * search.bestParams; // { maxDepth: 8, minSamplesLeaf: 20 }
 * search.cvResults.mean_test_rmse;
 */
export class GridSearch<E extends Estimator<object> = Estimator<object>> extends BaseSearch<E> {
  readonly candidates: Params[];

  constructor(options: GridSearchOptions<E>) {
    super(options);
    this.candidates = parameterGrid(options.paramGrid, "GridSearch");
  }

  protected override maxTasks(nSplits: number): number {
    return this.candidates.length * nSplits;
  }

  protected describe(): Record<string, string | number | boolean> {
    return { n_candidates: this.candidates.length };
  }

  protected async runSearch(runner: SearchRunner): Promise<Evaluation> {
    runner.setTotal(this.candidates.length);
    return { outcomes: await runner.evaluate(this.candidates) };
  }
}

/**
 * Options of `RandomSearch`.
 *
 * @example
 * const options: RandomSearchOptions = {
 *   estimator, paramDistributions: { maxDepth: integer(2, 12) }, nIter: 50, seed: 1,
 * };
 */
export interface RandomSearchOptions<E extends Estimator<object> = Estimator<object>>
  extends SearchOptions<E> {
  /** Distributions (or lists of values) per parameter, or a list of such spaces. */
  paramDistributions: ParamDistributions;
  /** Settings drawn (default 10; at most the grid's size when every entry is a list). */
  nIter?: number;
  /** Seed of the draws (default 0). */
  seed?: number;
}

/**
 * Random search with cross-validation (scikit-learn's `RandomizedSearchCV`): `nIter` settings
 * drawn from the distributions (`uniform`, `logUniform`, `integer`, `choice`, or lists) with a
 * seed, each cross-validated; the best refitted on all the data.
 *
 * @example
 * const search = await new RandomSearch({
 *   estimator: new DecisionTreeRegressor(),
 *   paramDistributions: { maxDepth: integer(2, 12), minSamplesLeaf: integer(1, 50) },
 *   nIter: 50,
 *   seed: 7,
 * }).fit(frame, "quality");
 */
export class RandomSearch<E extends Estimator<object> = Estimator<object>> extends BaseSearch<E> {
  readonly candidates: Params[];

  constructor(options: RandomSearchOptions<E>) {
    super(options);
    this.candidates = parameterSampler(
      options.paramDistributions,
      options.nIter ?? 10,
      options.seed ?? 0,
      "RandomSearch",
    );
  }

  protected override maxTasks(nSplits: number): number {
    return this.candidates.length * nSplits;
  }

  protected describe(): Record<string, string | number | boolean> {
    const options = this.options as RandomSearchOptions<E>;
    return { n_candidates: this.candidates.length, seed: options.seed ?? 0 };
  }

  protected async runSearch(runner: SearchRunner): Promise<Evaluation> {
    runner.setTotal(this.candidates.length);
    return { outcomes: await runner.evaluate(this.candidates) };
  }
}
