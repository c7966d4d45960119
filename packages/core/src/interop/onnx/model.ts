import type { ModelArtifact } from "../../artifact/types.js";
import { MlopsError } from "../../errors/error.js";
import type { OnnxFeeds } from "./import.js";

/**
 * The graph bytes and feeds of an `onnx` artifact (what a runtime needs to run it). Throws
 * `artifact_invalid` when the artifact is not a well-formed `onnx` one.
 *
 * @example
 * const { bytes, feeds } = onnxModelOf(artifact);
 */
export function onnxModelOf(artifact: ModelArtifact): { bytes: Uint8Array; feeds: OnnxFeeds } {
  const bytes = artifact.arrays["onnx.model"];
  if (artifact.manifest.kind !== "onnx" || !(bytes instanceof Uint8Array)) {
    throw new MlopsError(
      "artifact_invalid",
      `expected an "onnx" artifact with an "onnx.model" uint8 array, got kind "${artifact.manifest.kind}"`,
    );
  }
  const feeds = artifact.manifest.model.onnx as OnnxFeeds | undefined;
  if (feeds?.layout !== "matrix" && feeds?.layout !== "columns") {
    throw new MlopsError("artifact_invalid", 'model.onnx.layout: expected "matrix" or "columns"');
  }
  return { bytes, feeds };
}
