import type { ModelArtifact } from "../artifact/types.js";
import type { Frame } from "../frame/frame.js";
import { type OnnxPredictOptions, predictOnnx } from "../interop/onnx/runtime.js";
import { createPredictor } from "./predictor.js";

/** True for artifacts core's pure-JS predictors run (`createPredictor`); false for `onnx`. */
export function isNativeArtifact(artifact: ModelArtifact): boolean {
  return artifact.manifest.kind !== "onnx";
}

/**
 * Predicts every row of `data` with any registered model: native kinds (trees, ensembles,
 * linear models) with `createPredictor`, `kind: "onnx"` with onnxruntime-node — an optional
 * package imported on first use, never a dependency of @mlops/core; without it,
 * `runtime_unavailable` says how to install it. What the gate uses to score an ONNX model.
 *
 * @example
 * const { artifact } = await registry.loadModel("models:/houses@production");
 * const predictions = await predictFrame(artifact, await readFrame("holdout.csv"));
 */
export async function predictFrame(
  artifact: ModelArtifact,
  data: Frame,
  options: OnnxPredictOptions = {},
): Promise<Float64Array> {
  if (!isNativeArtifact(artifact)) return predictOnnx(artifact, data, options);
  const predictor = createPredictor(artifact);
  const target = predictor.schema.target;
  // A target column the model's schema does not declare would be an unknown column to it.
  const known = target === undefined || predictor.schema.names.includes(target);
  return predictor.predict(known || !data.has(target) ? data : data.drop([target]));
}
