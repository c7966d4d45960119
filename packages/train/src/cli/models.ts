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
import type { ModelName, SpaceEntry } from "./options.js";

type Space = Record<string, Distribution | readonly unknown[]>;

/** What `mlops-train` knows about a model: its class's export name and default search spaces. */
interface ModelEntry {
  exportName: string;
  /** Default space of random and halving searches. */
  random: Space;
  /** Default grid of grid search. */
  grid: Record<string, readonly unknown[]>;
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
  };
}

function availableModels(api: Record<string, unknown>): string[] {
  return (Object.keys(MODEL_ENTRIES) as ModelName[]).filter(
    (model) => typeof api[MODEL_ENTRIES[model].exportName] === "function",
  );
}

/** A config file's `space` as distributions (random, halving) or lists (grid). */
export function spaceFromConfig(space: Record<string, SpaceEntry>, forGrid: boolean): Space {
  const out: Space = {};
  for (const [key, entry] of Object.entries(space)) {
    if (Array.isArray(entry)) {
      out[key] = entry;
      continue;
    }
    if (forGrid) {
      if ("choice" in entry) {
        out[key] = entry.choice;
        continue;
      }
      throw new MlopsError(
        "argument_invalid",
        `space.${key}: a grid search needs a list of values, got a distribution`,
      );
    }
    if ("integer" in entry) out[key] = integer(entry.integer[0], entry.integer[1]);
    else if ("uniform" in entry) out[key] = uniform(entry.uniform[0], entry.uniform[1]);
    else if ("logUniform" in entry) out[key] = logUniform(entry.logUniform[0], entry.logUniform[1]);
    else out[key] = choice(entry.choice);
  }
  return out;
}
