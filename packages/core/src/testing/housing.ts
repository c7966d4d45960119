import { createArtifact } from "../artifact/create.js";
import type { ModelArtifact, OneHotStep } from "../artifact/types.js";
import type { ModelParts } from "../predict/contract.js";
import type { Schema } from "../schema/schema.js";

/** The `ocean_proximity` values of the California housing samples the tests use. */
export const HOUSING_OCEAN = ["<1H OCEAN", "INLAND", "NEAR BAY", "NEAR OCEAN"] as const;

const numeric = [
  "longitude",
  "latitude",
  "housing_median_age",
  "total_rooms",
  "total_bedrooms",
  "population",
  "households",
  "median_income",
];

const oneHot: OneHotStep = {
  kind: "one_hot",
  column: "ocean_proximity",
  categories: [...HOUSING_OCEAN],
  handleUnknown: "ignore",
  outputs: HOUSING_OCEAN.map((value) => `ocean_proximity_${value}`),
};

/** The kind, preprocessing and inputs of `housingTree` (what `widenSchema` reads). */
export const HOUSING_TREE_PARTS: ModelParts = {
  kind: "tree",
  preprocessing: [oneHot],
  model: { inputs: [...numeric, ...oneHot.outputs] },
};

/**
 * A tree over the California housing columns, as `mlops-train` makes them (`ocean_proximity`
 * one-hot encoded, unknown values ignored), with one split anyone can check by hand:
 * `median_income` above 5 predicts 400 000, else 150 000.
 *
 * @example
 * const artifact = housingTree(widenSchema(draft, HOUSING_TREE_PARTS));
 */
export function housingTree(schema: Schema): ModelArtifact {
  return createArtifact({
    kind: "tree",
    schema,
    preprocessing: [oneHot],
    model: { inputs: [...HOUSING_TREE_PARTS.model.inputs] },
    arrays: {
      "tree.left": Int32Array.of(1, -1, -1),
      "tree.right": Int32Array.of(2, -1, -1),
      "tree.feature": Int32Array.of(7, -2, -2),
      "tree.threshold": Float64Array.of(5, -2, -2),
      "tree.value": Float64Array.of(250_000, 150_000, 400_000),
    },
  });
}
