import { createRandom, MlopsError, type Random } from "@mlops/core";
import type { Estimator } from "../estimator/estimator.js";
import { CategoricalParzen, NumericParzen, type ParzenSettings } from "./parzen.js";
import { BaseSearch, type SearchOptions, type SearchRunner } from "./search.js";
import type { CandidateOutcome, Params } from "./session.js";
import { type Distribution, isDistribution, type ParamDistributions } from "./space.js";

/**
 * Options of `TPESearch`: Optuna's `TPESampler` settings (its defaults) plus the trial budget.
 *
 * @example
 * const options: TPESearchOptions = {
 *   estimator: new DecisionTreeRegressor(),
 *   paramDistributions: { maxDepth: choice([null, integer(1, 20)]) },
 *   nIter: 50,
 * };
 */
export interface TPESearchOptions<E extends Estimator<object> = Estimator<object>>
  extends SearchOptions<E> {
  /**
   * The space: per parameter a distribution (`uniform`, `logUniform`, `integer` — with
   * `{ log: true }` for a log scale —, `choice`) or a list of values; a value of a choice may be
   * a distribution itself (a conditional parameter, drawn only when chosen); or a list of such
   * spaces (one is chosen per trial).
   */
  paramDistributions: ParamDistributions;
  /** Trials (cross-validated candidates), ≥ 1 (default 50). */
  nIter?: number;
  /** Trials drawn at random before the estimators take over (default 10). */
  nStartupTrials?: number;
  /** Candidates drawn from the good trials' estimator per parameter, the best kept (default 24). */
  nEiCandidates?: number;
  /**
   * How many of `n` trials count as good: a function of `n`, or a fraction `γ` giving
   * `min(⌈γ·n⌉, 25)` (default Optuna's, `min(⌈0.1·n⌉, 25)`).
   */
  gamma?: number | ((n: number) => number);
  /** Weight of the prior in each estimator (default 1). */
  priorWeight?: number;
  /**
   * Candidates proposed together and cross-validated in parallel (default 1: one at a time, the
   * sequential algorithm). Within a batch, the candidates proposed before count as trials with
   * the worst score (the constant liar), so they are not proposed twice.
   */
  batchSize?: number;
  /** Seed of the draws (default 0): the same seed and data give the same trials. */
  seed?: number;
}

/** A parameter of the space as TPE models it. */
type SpaceNode =
  | { type: "float" | "int"; key: string; low: number; high: number; log: boolean }
  | { type: "categorical"; key: string; options: SpaceOption[] };

/** A choice's option: a plain value, or a distribution drawn when it is chosen. */
type SpaceOption = { value: unknown } | { node: SpaceNode };

/** A space: its parameters by name, sorted. */
interface SpaceBranch {
  entries: [string, SpaceNode][];
}

/** The whole space: one branch, or a choice among branches (a list of spaces). */
interface CompiledSpace {
  branches: SpaceBranch[];
}

/** One trial as TPE remembers it: the value of each parameter it drew, and its loss. */
interface Observation {
  /** Per key: the number (numeric) or the option's index (categorical). */
  values: Map<string, number>;
  /** Lower is better; +Infinity for a pending trial (the constant liar). */
  loss: number;
}

const ROOT_KEY = "$space";

function spaceError(context: string, path: string, detail: string): MlopsError {
  return new MlopsError("argument_invalid", `${context}: paramDistributions${path}: ${detail}`);
}

function compileNode(value: unknown, key: string, path: string, context: string): SpaceNode {
  if (Array.isArray(value)) {
    if (value.length === 0) throw spaceError(context, path, "expected a non-empty list of values");
    return compileChoice(value, key, path, context);
  }
  if (!isDistribution(value)) {
    throw spaceError(
      context,
      path,
      "expected a distribution (uniform, logUniform, integer, choice) or a non-empty list of " +
        `values, got ${JSON.stringify(value) ?? String(value)}`,
    );
  }
  const spec = (value as Distribution).spec;
  if (spec === undefined) {
    throw spaceError(
      context,
      path,
      "a custom distribution cannot be modelled by TPE; use uniform, logUniform, integer or choice",
    );
  }
  if (spec.type === "categorical") return compileChoice(spec.values, key, path, context);
  return { type: spec.type, key, low: spec.low, high: spec.high, log: spec.log };
}

function compileChoice(
  values: readonly unknown[],
  key: string,
  path: string,
  context: string,
): SpaceNode {
  return {
    type: "categorical",
    key,
    options: values.map((option, i) =>
      isDistribution(option)
        ? { node: compileNode(option, `${key}[${i}]`, `${path}[${i}]`, context) }
        : { value: option },
    ),
  };
}

/** The space checked and compiled; throws `argument_invalid` saying where it is wrong. */
export function compileSpace(space: ParamDistributions, context: string): CompiledSpace {
  const list = Array.isArray(space) ? space : [space];
  if (list.length === 0) {
    throw new MlopsError("argument_invalid", `${context}: paramDistributions is an empty list`);
  }
  const branches = list.map((item, i) => {
    const where = Array.isArray(space) ? `[${i}]` : "";
    if (item === null || typeof item !== "object" || Array.isArray(item)) {
      throw spaceError(context, where, "expected an object of parameter → distribution");
    }
    const prefix = Array.isArray(space) ? `[${i}].` : "";
    const entries = Object.keys(item)
      .sort()
      .map(
        (name) =>
          [
            name,
            compileNode(
              (item as Record<string, unknown>)[name],
              prefix + name,
              `${where}.${name}`,
              context,
            ),
          ] as [string, SpaceNode],
      );
    return { entries };
  });
  return { branches };
}

/** Optuna's default γ: the best `min(⌈0.1·n⌉, 25)` trials are the good ones. */
export function defaultGamma(n: number): number {
  return Math.min(Math.ceil(0.1 * n), 25);
}

/**
 * The Tree-structured Parzen Estimator search (Bergstra et al. 2011; hyperopt's `tpe.suggest`
 * and Optuna's `TPESampler`): after `nStartupTrials` random trials, each new candidate is chosen
 * per parameter by splitting the trials so far into the γ best and the rest, fitting a Parzen
 * estimator `l(x)` to the best and `g(x)` to the rest, drawing `nEiCandidates` values from `l`
 * and keeping the one with the largest `l(x) / g(x)` (the expected improvement). Parameters of a
 * conditional branch are modelled on the trials that drew them (the "tree" in the name).
 * Every candidate is cross-validated and tracked like any search's; results come as columns.
 *
 * @example
 * const search = await new TPESearch({
 *   estimator: new DecisionTreeRegressor(),
 *   paramDistributions: {
 *     maxDepth: choice([null, integer(1, 20)]),
 *     minSamplesLeaf: integer(1, 20),
 *     maxFeatures: [null, "sqrt", "log2", 0.5],
 *   },
 *   nIter: 50,
 *   seed: 3,
 * }).fit(frame, "quality");
 * search.bestParams; // { maxDepth: 9, minSamplesLeaf: 14, maxFeatures: null }
 */
export class TPESearch<E extends Estimator<object> = Estimator<object>> extends BaseSearch<E> {
  readonly #space: CompiledSpace;
  readonly #nIter: number;
  readonly #nStartupTrials: number;
  readonly #nEiCandidates: number;
  readonly #gamma: (n: number) => number;
  readonly #settings: ParzenSettings;
  readonly #batchSize: number;
  readonly #seed: number;

  constructor(options: TPESearchOptions<E>) {
    super(options);
    const context = "TPESearch";
    const positive = (name: string, value: unknown, fallback: number, min: number) => {
      const resolved = value ?? fallback;
      if (!(typeof resolved === "number" && Number.isInteger(resolved) && resolved >= min)) {
        throw new MlopsError(
          "argument_invalid",
          `${context}: ${name}: expected an integer ≥ ${min}, got ${JSON.stringify(resolved)}`,
        );
      }
      return resolved;
    };
    this.#nIter = positive("nIter", options.nIter, 50, 1);
    this.#nStartupTrials = positive("nStartupTrials", options.nStartupTrials, 10, 0);
    this.#nEiCandidates = positive("nEiCandidates", options.nEiCandidates, 24, 1);
    this.#batchSize = positive("batchSize", options.batchSize, 1, 1);
    const seed = options.seed ?? 0;
    if (!(Number.isInteger(seed) && seed >= 0)) {
      throw new MlopsError(
        "argument_invalid",
        `${context}: seed: expected an integer ≥ 0, got ${JSON.stringify(seed)}`,
      );
    }
    this.#seed = seed;
    const gamma = options.gamma;
    if (gamma === undefined) this.#gamma = defaultGamma;
    else if (typeof gamma === "function") this.#gamma = gamma;
    else if (typeof gamma === "number" && gamma > 0 && gamma <= 1) {
      this.#gamma = (n) => Math.min(Math.ceil(gamma * n), 25);
    } else {
      throw new MlopsError(
        "argument_invalid",
        `${context}: gamma: expected a fraction in (0, 1] or a function of the trial count, ` +
          `got ${JSON.stringify(gamma)}`,
      );
    }
    const priorWeight = options.priorWeight ?? 1;
    if (!(typeof priorWeight === "number" && priorWeight > 0 && Number.isFinite(priorWeight))) {
      throw new MlopsError(
        "argument_invalid",
        `${context}: priorWeight: expected a number > 0, got ${JSON.stringify(priorWeight)}`,
      );
    }
    this.#settings = { priorWeight };
    this.#space = compileSpace(options.paramDistributions, context);
  }

  protected override maxTasks(nSplits: number): number {
    return this.#batchSize * nSplits;
  }

  protected describe(): Record<string, string | number | boolean> {
    return {
      n_candidates: this.#nIter,
      n_startup_trials: this.#nStartupTrials,
      n_ei_candidates: this.#nEiCandidates,
      batch_size: this.#batchSize,
      seed: this.#seed,
    };
  }

  protected async runSearch(runner: SearchRunner) {
    runner.setTotal(this.#nIter);
    const random = createRandom(this.#seed);
    const observations: Observation[] = [];
    const outcomes: CandidateOutcome[] = [];
    const m = this.metrics.indexOf(this.metric);
    const sign = this.metric.greaterIsBetter ? -1 : 1;
    while (outcomes.length < this.#nIter) {
      const size = Math.min(this.#batchSize, this.#nIter - outcomes.length);
      const batch: Params[] = [];
      const pending: Observation[] = [];
      for (let j = 0; j < size; j++) {
        const { params, values } = this.#propose(observations, pending, random);
        batch.push(params);
        // The constant liar: proposed, not yet scored, counted as the worst trial.
        pending.push({ values, loss: Number.POSITIVE_INFINITY });
      }
      const results = await runner.evaluate(batch);
      results.forEach((outcome, j) => {
        const scores = outcome.test[m];
        const mean = scores.reduce((a, b) => a + b, 0) / scores.length;
        // A failed candidate (NaN) teaches nothing, as Optuna leaves failed trials out.
        if (!Number.isNaN(mean))
          observations.push({ values: pending[j].values, loss: sign * mean });
      });
      outcomes.push(...results);
    }
    return { outcomes };
  }

  /** The next candidate: drawn at random during start-up, else by TPE, parameter by parameter. */
  #propose(
    completed: readonly Observation[],
    pending: readonly Observation[],
    random: Random,
  ): { params: Params; values: Map<string, number> } {
    const trials = [...completed, ...pending];
    const startup = completed.length + pending.length < this.#nStartupTrials;
    // The γ best trials (lowest loss; ties by age) are the good ones.
    let below = new Set<number>();
    if (!startup) {
      const order = trials
        .map((_, i) => i)
        .sort((a, b) => trials[a].loss - trials[b].loss || a - b);
      below = new Set(order.slice(0, this.#gamma(trials.length)));
    }
    const values = new Map<string, number>();
    const params: Params = {};
    const draw = (node: SpaceNode): unknown => {
      if (node.type === "categorical") {
        const index = startup
          ? random.int(node.options.length)
          : this.#suggest(node, trials, below, random);
        values.set(node.key, index);
        const option = node.options[index];
        return "node" in option ? draw(option.node) : option.value;
      }
      const value = startup
        ? randomValue(node, random)
        : this.#suggest(node, trials, below, random);
      values.set(node.key, value);
      return value;
    };
    const branches = this.#space.branches;
    let branch = branches[0];
    if (branches.length > 1) {
      const root: SpaceNode = {
        type: "categorical",
        key: ROOT_KEY,
        options: branches.map((_, i) => ({ value: i })),
      };
      branch = branches[draw(root) as number];
    }
    for (const [name, node] of branch.entries) params[name] = draw(node);
    return { params, values };
  }

  /** The value of one parameter with the largest l(x) / g(x) among draws from l. */
  #suggest(
    node: SpaceNode,
    trials: readonly Observation[],
    below: Set<number>,
    random: Random,
  ): number {
    const good: number[] = [];
    const rest: number[] = [];
    trials.forEach((trial, i) => {
      const value = trial.values.get(node.key);
      if (value === undefined) return;
      (below.has(i) ? good : rest).push(value);
    });
    const settings = this.#settings;
    const [l, g] =
      node.type === "categorical"
        ? [
            new CategoricalParzen(good, node.options.length, settings),
            new CategoricalParzen(rest, node.options.length, settings),
          ]
        : [
            new NumericParzen(good, node.low, node.high, node.log, node.type === "int", settings),
            new NumericParzen(rest, node.low, node.high, node.log, node.type === "int", settings),
          ];
    let best = 0;
    let bestScore = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < this.#nEiCandidates; i++) {
      const candidate = l.sample(random);
      const score = l.logPdf(candidate) - g.logPdf(candidate);
      if (i === 0 || score > bestScore) {
        best = candidate;
        bestScore = score;
      }
    }
    return best;
  }
}

/** A draw from the prior: uniform (or log-uniform), integers included. */
function randomValue(node: Extract<SpaceNode, { type: "float" | "int" }>, random: Random): number {
  const { low, high, log } = node;
  if (node.type === "int") {
    if (!log) return low + random.int(high - low + 1);
    const a = Math.log(low - 0.5);
    const b = Math.log(high + 0.5);
    return Math.min(high, Math.max(low, Math.round(Math.exp(a + (b - a) * random.next()))));
  }
  if (!log) return low + (high - low) * random.next();
  const a = Math.log(low);
  const b = Math.log(high);
  return Math.min(high, Math.max(low, Math.exp(a + (b - a) * random.next())));
}
