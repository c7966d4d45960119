import { createPredictor, type ModelArtifact, predictorKinds } from "@mlops/core";
import type { LoadedModel, ModelRuntime } from "./runtime.js";

/** The smallest and largest leaf value of the tree arrays, for prediction histograms. */
function leafRange(artifact: ModelArtifact): readonly [number, number] | undefined {
  const { kind, model } = artifact.manifest;
  if (kind === "tree") return rangeOf(artifact.arrays["tree.value"]);
  if (kind === "ensemble" && model.aggregation === "mean") {
    let low = Number.POSITIVE_INFINITY;
    let high = Number.NEGATIVE_INFINITY;
    for (let t = 0; t < Number(model.treeCount); t++) {
      const range = rangeOf(artifact.arrays[`trees.${t}.value`]);
      if (range === undefined) return undefined;
      low = Math.min(low, range[0]);
      high = Math.max(high, range[1]);
    }
    return Number.isFinite(low) && Number.isFinite(high) ? [low, high] : undefined;
  }
  return undefined;
}

function rangeOf(values: unknown): readonly [number, number] | undefined {
  if (!(values instanceof Float64Array) || values.length === 0) return undefined;
  let low = values[0];
  let high = values[0];
  for (let i = 1; i < values.length; i++) {
    if (values[i] < low) low = values[i];
    if (values[i] > high) high = values[i];
  }
  return Number.isFinite(low) && Number.isFinite(high) ? [low, high] : undefined;
}

/**
 * The built-in runtime: core's compiled predictors (`tree`, `ensemble`, `linear`). Input is
 * validated by the predictor itself on its fast path, and one row is predicted without
 * building a frame.
 *
 * @example
 * createInferenceApp({ registry, models: ["wine@production"], runtimes: [nativeRuntime] });
 */
export const nativeRuntime: ModelRuntime = Object.freeze({
  name: "native",
  kinds: Object.freeze(predictorKinds()),
  load(artifact: ModelArtifact): LoadedModel {
    const predictor = createPredictor(artifact);
    return {
      schema: predictor.schema,
      predict: (frame) => predictor.predict(frame),
      predictRow: (row) => predictor.predictRow(row),
      validates: true,
      platform: "mlops-native",
      valueRange: leafRange(artifact),
    };
  },
});
