import { createRandom, MlopsError, type Random } from "@mlops/core";
import type { Params } from "./session.js";

/**
 * A parameter grid: each parameter name with the values to try, or a list of such grids
 * (scikit-learn's `param_grid`).
 *
 * @example
 * const grid: ParamGrid = { maxDepth: [2, 4, 8], minSamplesLeaf: [1, 5] };
 */
export type ParamGrid =
  | Readonly<Record<string, readonly unknown[]>>
  | readonly Readonly<Record<string, readonly unknown[]>>[];

/**
 * What a distribution is, for searches that model it (TPE): a real or integer range (on a log
 * scale or not), or a list of choices (values, or distributions drawn from when chosen).
 *
 * @example
 * logUniform(1e-3, 1).spec; // { type: "float", low: 0.001, high: 1, log: true }
 */
export type DistributionSpec =
  | { type: "float"; low: number; high: number; log: boolean }
  | { type: "int"; low: number; high: number; log: boolean }
  | { type: "categorical"; values: readonly unknown[] };

/**
 * A distribution to draw one parameter from (`uniform`, `logUniform`, `integer`, `choice`).
 *
 * @example
 * const rate: Distribution = logUniform(1e-4, 1e-1);
 * rate.sample(createRandom(0)); // a number in [0.0001, 0.1]
 */
export interface Distribution<T = unknown> {
  readonly kind: "uniform" | "log_uniform" | "integer" | "choice";
  /** The distribution's shape (what TPE models); absent for custom distributions. */
  readonly spec?: DistributionSpec;
  /** Draws one value. */
  sample(random: Random): T;
  /** The distribution as JSON (what tracking and `--json` show). */
  toJSON(): Record<string, unknown>;
}

/**
 * What `RandomSearch` draws from: per parameter a distribution or a list of values (drawn
 * uniformly), or a list of such dictionaries (one is picked per draw).
 *
 * @example
 * const space: ParamDistributions = { maxDepth: integer(2, 12), criterion: ["squared_error"] };
 */
export type ParamDistributions =
  | Readonly<Record<string, Distribution | readonly unknown[]>>
  | readonly Readonly<Record<string, Distribution | readonly unknown[]>>[];

function finite(name: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new MlopsError("argument_invalid", `${name}: expected a finite number, got ${value}`);
  }
  return value;
}

/**
 * Real numbers drawn uniformly from [low, high] (note: scipy's `uniform(loc, scale)` takes a
 * width; this takes the bounds).
 *
 * @example
 * uniform(0, 0.5); // e.g. minImpurityDecrease
 */
export function uniform(low: number, high: number): Distribution<number> {
  finite("uniform: low", low);
  finite("uniform: high", high);
  if (!(low < high)) {
    throw new MlopsError("argument_invalid", `uniform: expected low < high, got ${low}, ${high}`);
  }
  return {
    kind: "uniform",
    spec: { type: "float", low, high, log: false },
    sample: (random) => low + (high - low) * random.next(),
    toJSON: () => ({ distribution: "uniform", low, high }),
  };
}

/**
 * Positive numbers whose logarithm is uniform on [log low, log high] (scipy's `loguniform`):
 * as many draws between 0.001 and 0.01 as between 0.01 and 0.1.
 *
 * @example
 * logUniform(1e-3, 10); // e.g. a ridge alpha
 */
export function logUniform(low: number, high: number): Distribution<number> {
  finite("logUniform: low", low);
  finite("logUniform: high", high);
  if (!(low > 0 && low < high)) {
    throw new MlopsError(
      "argument_invalid",
      `logUniform: expected 0 < low < high, got ${low}, ${high}`,
    );
  }
  const a = Math.log(low);
  const b = Math.log(high);
  return {
    kind: "log_uniform",
    spec: { type: "float", low, high, log: true },
    sample: (random) => Math.min(high, Math.max(low, Math.exp(a + (b - a) * random.next()))),
    toJSON: () => ({ distribution: "log_uniform", low, high }),
  };
}

/**
 * Integers drawn uniformly from low..high, both included (scipy's `randint(low, high + 1)`);
 * with `{ log: true }`, on a log scale (as many from 1..10 as from 10..100; low ≥ 1).
 *
 * @example
 * integer(2, 12); // e.g. maxDepth
 * integer(10, 1000, { log: true }); // e.g. maxIter
 */
export function integer(
  low: number,
  high: number,
  options: { log?: boolean } = {},
): Distribution<number> {
  if (!(Number.isSafeInteger(low) && Number.isSafeInteger(high) && low <= high)) {
    throw new MlopsError(
      "argument_invalid",
      `integer: expected integers low ≤ high, got ${low}, ${high}`,
    );
  }
  const log = options?.log === true;
  if (log && low < 1) {
    throw new MlopsError("argument_invalid", `integer: a log scale needs low ≥ 1, got ${low}`);
  }
  // A log scale draws uniformly in [log(low − ½), log(high + ½)) and rounds: each integer
  // gets the share of the log range its cell covers.
  const a = Math.log(low - 0.5);
  const b = Math.log(high + 0.5);
  return {
    kind: "integer",
    spec: { type: "int", low, high, log },
    sample: log
      ? (random) => Math.min(high, Math.max(low, Math.round(Math.exp(a + (b - a) * random.next()))))
      : (random) => low + random.int(high - low + 1),
    toJSON: () => ({ distribution: "integer", low, high, ...(log ? { log } : {}) }),
  };
}

/**
 * One of `values`, each equally likely (a plain list in a search space means the same). A value
 * that is itself a distribution is drawn from when chosen: a conditional parameter, such as
 * hyperopt's `hp.choice("max_depth", [None, hp.quniform(…)])`.
 *
 * @example
 * choice(["squared_error", "friedman_mse"]);
 * choice([null, integer(1, 20)]); // maxDepth: unlimited, or 1..20
 */
export function choice<T>(values: readonly T[]): Distribution<T> {
  if (!Array.isArray(values) || values.length === 0) {
    throw new MlopsError("argument_invalid", "choice: expected a non-empty list of values");
  }
  const copy = [...values];
  return {
    kind: "choice",
    spec: { type: "categorical", values: copy },
    sample: (random) => drawValue(copy[random.int(copy.length)], random) as T,
    toJSON: () => ({
      distribution: "choice",
      values: copy.map((value) => (isDistribution(value) ? value.toJSON() : value)),
    }),
  };
}

/** A value of a list, drawn from when it is a distribution itself. */
function drawValue(value: unknown, random: Random): unknown {
  return isDistribution(value) ? value.sample(random) : value;
}

/** True for a `Distribution` made by the helpers (or anything with `sample`). */
export function isDistribution(value: unknown): value is Distribution {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    typeof (value as Distribution).sample === "function"
  );
}

function gridList(
  grid: ParamGrid,
  context: string,
): Readonly<Record<string, readonly unknown[]>>[] {
  const list = Array.isArray(grid) ? grid : [grid];
  if (list.length === 0) {
    throw new MlopsError("argument_invalid", `${context}: the parameter grid is an empty list`);
  }
  list.forEach((item, i) => {
    const where = Array.isArray(grid) ? `[${i}]` : "";
    if (item === null || typeof item !== "object" || Array.isArray(item)) {
      throw new MlopsError(
        "argument_invalid",
        `${context}: paramGrid${where}: expected an object of parameter → list of values`,
      );
    }
    for (const [name, values] of Object.entries(item)) {
      if (!Array.isArray(values) || values.length === 0) {
        throw new MlopsError(
          "argument_invalid",
          `${context}: paramGrid${where}.${name}: expected a non-empty list of values, got ` +
            (Array.isArray(values) ? "an empty list" : (JSON.stringify(values) ?? String(values))),
        );
      }
    }
  });
  return list as Readonly<Record<string, readonly unknown[]>>[];
}

/**
 * Every combination of a grid, in scikit-learn's `ParameterGrid` order: grids in list order;
 * within one, parameter names sorted and the last name varying fastest.
 *
 * @example
 * parameterGrid({ b: [1, 2], a: ["x", "y"] });
 * // [{ a: "x", b: 1 }, { a: "x", b: 2 }, { a: "y", b: 1 }, { a: "y", b: 2 }]
 */
export function parameterGrid(grid: ParamGrid, context = "parameterGrid"): Params[] {
  const out: Params[] = [];
  for (const item of gridList(grid, context)) {
    const names = Object.keys(item).sort();
    if (names.length === 0) {
      out.push({});
      continue;
    }
    const position = names.map(() => 0);
    for (;;) {
      const params: Params = {};
      names.forEach((name, j) => {
        params[name] = item[name][position[j]];
      });
      out.push(params);
      let j = names.length - 1;
      while (j >= 0) {
        position[j]++;
        if (position[j] < item[names[j]].length) break;
        position[j] = 0;
        j--;
      }
      if (j < 0) break;
    }
  }
  return out;
}

/** The number of combinations of a grid. */
export function gridSize(grid: ParamGrid, context = "parameterGrid"): number {
  let total = 0;
  for (const item of gridList(grid, context)) {
    let size = 1;
    for (const values of Object.values(item)) size *= values.length;
    total += size;
  }
  return total;
}

/**
 * `nIter` parameter settings drawn from distributions, as scikit-learn's `ParameterSampler`:
 * when every entry is a list of values, distinct grid points are drawn without replacement (at
 * most the grid's size); otherwise each draw picks a dictionary (for a list), then samples its
 * parameters in sorted name order. Seeded: the same seed gives the same settings.
 *
 * @example
 * parameterSampler({ maxDepth: integer(2, 12), minSamplesLeaf: [1, 5, 20] }, 3, 0);
 * // three settings, e.g. [{ maxDepth: 7, minSamplesLeaf: 5 }, …]
 */
export function parameterSampler(
  distributions: ParamDistributions,
  nIter: number,
  seed = 0,
  context = "parameterSampler",
): Params[] {
  if (!(Number.isInteger(nIter) && nIter >= 1)) {
    throw new MlopsError(
      "argument_invalid",
      `${context}: nIter: expected an integer ≥ 1, got ${nIter}`,
    );
  }
  const list = Array.isArray(distributions) ? distributions : [distributions];
  if (list.length === 0) {
    throw new MlopsError("argument_invalid", `${context}: paramDistributions is an empty list`);
  }
  let allLists = true;
  list.forEach((item, i) => {
    const where = Array.isArray(distributions) ? `[${i}]` : "";
    if (item === null || typeof item !== "object" || Array.isArray(item)) {
      throw new MlopsError(
        "argument_invalid",
        `${context}: paramDistributions${where}: expected an object of parameter → distribution`,
      );
    }
    for (const [name, value] of Object.entries(item)) {
      if (isDistribution(value)) {
        allLists = false;
      } else if (Array.isArray(value) && value.length > 0 && value.some(isDistribution)) {
        // A list with a distribution among its values: a conditional choice, drawn each time.
        allLists = false;
      } else if (!Array.isArray(value) || value.length === 0) {
        throw new MlopsError(
          "argument_invalid",
          `${context}: paramDistributions${where}.${name}: expected a distribution (uniform, ` +
            "logUniform, integer, choice) or a non-empty list of values",
        );
      }
    }
  });
  const random = createRandom(seed);
  if (allLists) {
    const grid = parameterGrid(list as ParamGrid, context);
    const count = Math.min(nIter, grid.length);
    // A partial Fisher–Yates shuffle: `count` distinct grid points.
    const order = grid.map((_, i) => i);
    const out: Params[] = [];
    for (let i = 0; i < count; i++) {
      const j = i + random.int(order.length - i);
      [order[i], order[j]] = [order[j], order[i]];
      out.push(grid[order[i]]);
    }
    return out;
  }
  const out: Params[] = [];
  for (let draw = 0; draw < nIter; draw++) {
    const item = list.length === 1 ? list[0] : list[random.int(list.length)];
    const params: Params = {};
    for (const name of Object.keys(item).sort()) {
      const value = item[name];
      params[name] = isDistribution(value)
        ? value.sample(random)
        : drawValue(
            (value as readonly unknown[])[random.int((value as readonly unknown[]).length)],
            random,
          );
    }
    out.push(params);
  }
  return out;
}
