import { MlopsError } from "@mlops/core";
import type { Estimator } from "../estimator/estimator.js";
import {
  choice,
  type Distribution,
  integer,
  logUniform,
  type ParamDistributions,
  uniform,
} from "../search/space.js";
import type { DistributionEntry, ModelName, SpaceEntry } from "./options.js";

type Space = Record<string, Distribution | readonly unknown[]>;

/** What `mlops-train` knows about a model: its class's export name and default search spaces. */
interface ModelEntry {
  exportName: string;
  /** Default space of random, halving and TPE searches. */
  random: Space;
  /** Default grid of grid search. */
  grid: Record<string, readonly unknown[]>;
  /** Reads category columns itself (no one-hot encoding before it). */
  nativeCategories?: boolean;
}

const range = (low: number, high: number) =>
  Array.from({ length: high - low + 1 }, (_, i) => low + i);

export const MODEL_ENTRIES: Record<ModelName, ModelEntry> = {
  tree: {
    exportName: "DecisionTreeRegressor",
    random: {
      maxDepth: choice([...range(2, 16), null]),
      minSamplesSplit: integer(2, 40),
      minSamplesLeaf: integer(1, 40),
      maxLeafNodes: choice([null, 8, 16, 32, 64, 128, 256]),
      criterion: choice(["squared_error", "friedman_mse"]),
    },
    grid: {
      maxDepth: [3, 6, 10, null],
      minSamplesSplit: [2, 20],
      minSamplesLeaf: [1, 10],
      maxLeafNodes: [null, 64],
      criterion: ["squared_error", "friedman_mse"],
    },
  },
  forest: {
    exportName: "RandomForestRegressor",
    random: {
      nEstimators: choice([50, 100, 200]),
      maxDepth: choice([null, 6, 10, 16]),
      minSamplesLeaf: integer(1, 20),
      maxFeatures: choice([null, "sqrt", 0.5]),
    },
    grid: {
      nEstimators: [100],
      maxDepth: [null, 10],
      minSamplesLeaf: [1, 5],
      maxFeatures: [null, "sqrt"],
    },
  },
  gbm: {
    // What practitioners tune on histogram gradient boosting (the scikit-learn and LightGBM
    // tuning guides): the learning rate on a log scale together with the number of iterations,
    // the size of the trees (leaves; a depth limit, or none), the leaf size and L2
    // regularisation (none, or a log-scale amount). maxBins stays 255: fewer bins trade accuracy
    // for speed. Early stopping stays "auto" (on from 10,000 rows).
    exportName: "HistGradientBoostingRegressor",
    nativeCategories: true,
    random: {
      learningRate: logUniform(0.01, 0.3),
      maxIter: integer(50, 500, { log: true }),
      maxLeafNodes: integer(8, 128, { log: true }),
      maxDepth: choice([null, integer(3, 12)]),
      minSamplesLeaf: integer(5, 100, { log: true }),
      l2Regularization: choice([0, logUniform(1e-3, 10)]),
    },
    grid: {
      learningRate: [0.05, 0.1, 0.2],
      maxLeafNodes: [15, 31, 63],
      minSamplesLeaf: [10, 20, 50],
      l2Regularization: [0, 1],
    },
  },
  linear: { exportName: "LinearRegression", random: {}, grid: {} },
  ridge: {
    exportName: "Ridge",
    random: { alpha: logUniform(1e-3, 1e3) },
    grid: { alpha: [0.001, 0.01, 0.1, 1, 10, 100, 1000] },
  },
};

/** A loaded model: a factory and its search spaces (entries the estimator lacks left out). */
export interface LoadedModel {
  name: ModelName;
  className: string;
  create(): Estimator<object>;
  random: ParamDistributions;
  grid: Record<string, readonly unknown[]>;
  /** Reads category columns itself (no one-hot encoding before it). */
  nativeCategories: boolean;
}

type EstimatorClass = new (params?: Record<string, unknown>) => Estimator<object>;

/**
 * Finds the model's class among this package's exports, imported on first use so that models
 * another part of the package adds later need no change here.
 */
export async function loadModel(name: ModelName): Promise<LoadedModel> {
  const entry = MODEL_ENTRIES[name];
  const api = (await import("../index.js")) as unknown as Record<string, unknown>;
  const Constructor = api[entry.exportName] as EstimatorClass | undefined;
  if (typeof Constructor !== "function") {
    throw new MlopsError(
      "argument_invalid",
      `model ${name} is not available in this build of @mlops/train ` +
        `(${entry.exportName} is not exported); available: ${availableModels(api).join(", ")}`,
    );
  }
  const known = Object.keys(new Constructor().getParams());
  const keep = <T>(space: Record<string, T>) =>
    Object.fromEntries(Object.entries(space).filter(([key]) => known.includes(key)));
  return {
    name,
    className: entry.exportName,
    create: () => new Constructor(),
    random: keep(entry.random),
    grid: keep(entry.grid),
    nativeCategories: entry.nativeCategories === true,
  };
}

function availableModels(api: Record<string, unknown>): string[] {
  return (Object.keys(MODEL_ENTRIES) as ModelName[]).filter(
    (model) => typeof api[MODEL_ENTRIES[model].exportName] === "function",
  );
}

/** A config file's `space` as distributions (random, halving, TPE) or lists (grid). */
export function spaceFromConfig(space: Record<string, SpaceEntry>, forGrid: boolean): Space {
  const out: Space = {};
  for (const [key, entry] of Object.entries(space)) {
    const where = `space.${key}`;
    if (forGrid) {
      const values = Array.isArray(entry) ? entry : "choice" in entry ? entry.choice : undefined;
      if (values === undefined || values.some(isDistributionEntry)) {
        throw new MlopsError(
          "argument_invalid",
          `${where}: a grid search needs a list of values, got a distribution`,
        );
      }
      out[key] = values;
      continue;
    }
    out[key] = Array.isArray(entry)
      ? entry.map((value, i) => valueFromConfig(value, `${where}[${i}]`))
      : distributionFromConfig(entry, where);
  }
  return out;
}

function isDistributionEntry(value: unknown): value is DistributionEntry {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function valueFromConfig(value: unknown, where: string): unknown {
  return isDistributionEntry(value) ? distributionFromConfig(value, where) : value;
}

/** One distribution of a config file (its bounds checked, errors saying which entry). */
function distributionFromConfig(entry: DistributionEntry, where: string): Distribution {
  try {
    if ("integer" in entry) {
      return integer(entry.integer[0], entry.integer[1], { log: entry.log === true });
    }
    if ("uniform" in entry) return uniform(entry.uniform[0], entry.uniform[1]);
    if ("logUniform" in entry) return logUniform(entry.logUniform[0], entry.logUniform[1]);
    return choice(entry.choice.map((value, i) => valueFromConfig(value, `${where}.choice[${i}]`)));
  } catch (error) {
    if (MlopsError.isInstance(error) && !error.message.startsWith("space.")) {
      throw new MlopsError(error.code, `${where}: ${error.message}`);
    }
    throw error;
  }
}
