// predictFrame: one call for every model kind. ONNX models run on onnxruntime-node, the optional
// package (installed for this repository's tests with its install scripts skipped).
import { describe, expect, it } from "vitest";
import { MlopsError } from "../errors/error.js";
import { Frame } from "../frame/frame.js";
import { evaluateGate } from "../gate/evaluate.js";
import { alcoholModel, GATE_ALCOHOL, GATE_QUALITY, gateWine } from "../gate/fixture.js";
import { toOnnx } from "../interop/onnx/export.js";
import { importOnnx } from "../interop/onnx/import.js";
import { importOnnxRuntime } from "../interop/onnx/runtime.js";
import { isNativeArtifact, predictFrame } from "./frame.js";

function evaluationFrame(): Frame {
  return gateWine.conformFrame(
    new Frame({
      alcohol: { kind: "number", values: Float64Array.from(GATE_ALCOHOL) },
      sulphates: { kind: "number", values: new Float64Array(12).fill(0.5) },
      color: {
        kind: "category",
        codes: Int32Array.from(GATE_ALCOHOL, (_, i) => i % 2),
        dictionary: ["red", "white"],
      },
      quality: { kind: "integer", values: Float64Array.from(GATE_QUALITY) },
    }),
  );
}

const native = alcoholModel(0.5);
const onnx = importOnnx(toOnnx(native), { schema: gateWine });

describe("predictFrame", () => {
  it("predicts native and ONNX models alike (ONNX to float32 precision)", async () => {
    expect([isNativeArtifact(native), isNativeArtifact(onnx)]).toEqual([true, false]);
    const data = evaluationFrame();
    const expected = GATE_ALCOHOL.map((alcohol) => 0.5 + 0.5 * alcohol);
    expect([...(await predictFrame(native, data))]).toEqual(expected);
    const fromOnnx = await predictFrame(onnx, data);
    expect(fromOnnx).toHaveLength(12);
    for (const [i, value] of fromOnnx.entries()) expect(value).toBeCloseTo(expected[i], 5);
  });

  it("says how to install onnxruntime-node when it is missing", async () => {
    const error = await predictFrame(onnx, evaluationFrame(), {
      load: () => importOnnxRuntime("onnxruntime-node-not-installed"),
    }).catch((caught: unknown) => caught);
    expect(MlopsError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: "runtime_unavailable" });
    expect((error as Error).message).toMatch(
      /^ONNX models are run by the optional package onnxruntime-node-not-installed, which is not installed: npm install onnxruntime-node-not-installed/,
    );
  });

  it("lets evaluateGate compare an ONNX model through its predictions, and says so when missing", async () => {
    const data = evaluationFrame();
    const rules = ["rmse:maxRelativeRegression=0.02"];
    const result = evaluateGate({
      candidate: { artifact: onnx, predictions: await predictFrame(onnx, data) },
      baseline: alcoholModel(0.4),
      data,
      rules,
    });
    expect(result.verdict).toBe("pass");
    expect(result.rows[0].candidate).toBeCloseTo(Math.sqrt(1.125 / 12), 5);
    let error: unknown;
    try {
      evaluateGate({ candidate: onnx, data, rules });
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ code: "gate_data_invalid" });
    expect((error as Error).message).toMatch(/is an ONNX model: score the evaluation data with/);
  });
});
