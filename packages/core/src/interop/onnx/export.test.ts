import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createArtifact } from "../../artifact/create.js";
import { MlopsError } from "../../errors/error.js";
import { createPredictor } from "../../predict/predictor.js";
import { field } from "../../schema/field.js";
import { schema } from "../../schema/schema.js";
import { type ExportCase, exportCaseArtifact, exportCaseFrame } from "../../testing/onnx-cases.js";
import { importXGBoost } from "../xgboost.js";
import { toOnnx } from "./export.js";
import { inspectOnnx } from "./import.js";

// scikit-learn models fitted on wine, California housing and diabetes
// (fixtures/make_onnx_export_fixtures.py), and an XGBoost model with missing values.
const fixtures = new URL("../fixtures/", import.meta.url);
const { cases } = JSON.parse(readFileSync(new URL("onnx-export-cases.json", fixtures), "utf8")) as {
  cases: Record<string, ExportCase>;
};
const folder = mkdtempSync(join(tmpdir(), "mlops-onnx-export-"));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe("toOnnx", () => {
  const written: string[] = [];

  for (const [name, exportCase] of Object.entries(cases)) {
    it(`exports ${name}: one input per feature, one output`, () => {
      const artifact = exportCaseArtifact(exportCase);
      // The fixture's conversion is right: our predictor predicts what scikit-learn predicts.
      const ours = createPredictor(artifact).predict(exportCaseFrame(exportCase, artifact));
      const rows = exportCase.sklearnRows ?? exportCase.rows.map((_, i) => i);
      rows.forEach((row, k) => {
        const expected = exportCase.sklearn[k];
        expect(Math.abs(ours[row] - expected)).toBeLessThanOrEqual(1e-9 * Math.abs(expected));
      });
      const bytes = toOnnx(artifact);
      const info = inspectOnnx(bytes);
      expect(info.inputs.map((input) => input.name)).toEqual(
        exportCase.features.map((feature) => feature.name),
      );
      expect(info.inputs.map((input) => input.elementType)).toEqual(
        exportCase.features.map((feature) => (feature.kind === "category" ? "string" : "float")),
      );
      expect(info.outputs).toEqual([{ name: "prediction", elementType: "float", shape: ["N", 1] }]);
      expect(info.opsets).toEqual({ "ai.onnx": 17, "ai.onnx.ml": 3 });
      expect(info.producer).toMatch(/^@mlops\/core /);
      const file = join(folder, `${name}.onnx`);
      writeFileSync(file, bytes);
      written.push(file);
    });
  }

  it("exports an imported XGBoost model (boosting, float32_lt, log link)", () => {
    const model = readFileSync(new URL("xgboost-diabetes-poisson.json", fixtures), "utf8");
    const info = inspectOnnx(toOnnx(importXGBoost(model)));
    expect(info.operators).toEqual(["Concat", "Exp", "ai.onnx.ml:TreeEnsembleRegressor"]);
    const file = join(folder, "xgboost-poisson.onnx");
    writeFileSync(file, toOnnx(importXGBoost(model)));
    written.push(file);
  });

  it('exports one [N, F] input "X" with inputs: "matrix" (numeric schemas)', () => {
    const wine = exportCaseArtifact(cases["wine-linear"]);
    const matrix = inspectOnnx(toOnnx(wine, { inputs: "matrix" }));
    expect(matrix.inputs).toEqual([{ name: "X", elementType: "float", shape: ["N", 11] }]);
    expect(matrix.operators).toContain("Split");
    // A model reading the features as they come gets the matrix itself: no Split, no Concat.
    const model = readFileSync(new URL("xgboost-diabetes-poisson.json", fixtures), "utf8");
    const direct = toOnnx(importXGBoost(model), { inputs: "matrix" });
    expect(inspectOnnx(direct).operators).toEqual(["Exp", "ai.onnx.ml:TreeEnsembleRegressor"]);
    for (const [name, bytes] of [
      ["wine-matrix", toOnnx(wine, { inputs: "matrix" })],
      ["xgboost-matrix", direct],
    ] as const) {
      const file = join(folder, `${name}.onnx`);
      writeFileSync(file, bytes);
      written.push(file);
    }
    const california = exportCaseArtifact(cases["california-tree"]);
    expect(() => toOnnx(california, { inputs: "matrix" })).toThrow(
      /"matrix" takes numeric features only; ocean_proximity are categories/,
    );
  });

  it("writes graphs that onnx.checker accepts (python3-onnx, full check)", () => {
    expect(written.length).toBe(Object.keys(cases).length + 3);
    const script = [
      "import sys, onnx",
      "for path in sys.argv[1:]:",
      "    onnx.checker.check_model(onnx.load(path), full_check=True)",
      "    print('ok', path)",
    ].join("\n");
    const output = execFileSync("/usr/bin/python3", ["-c", script, ...written], {
      encoding: "utf8",
    });
    expect(output.trim().split("\n")).toEqual(written.map((file) => `ok ${file}`));
  });

  it("refuses what has no ONNX form, naming it", () => {
    const houses = schema({ rooms: field.number() });
    const custom = createArtifact({
      kind: "scaled",
      schema: houses,
      model: { inputs: ["rooms"] },
      lineage: { gitCommit: "0000000" },
    });
    expect(() => toOnnx(custom)).toThrow(/model kind "scaled" has no ONNX form/);
    const step = createArtifact({
      kind: "linear",
      schema: houses,
      preprocessing: [{ kind: "log1p", columns: ["rooms"] }],
      model: { inputs: ["rooms"], intercept: 0 },
      arrays: { coefficients: Float64Array.of(1) },
      lineage: { gitCommit: "0000000" },
    });
    let error: unknown;
    try {
      toOnnx(step);
    } catch (caught) {
      error = caught;
    }
    expect(MlopsError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/preprocessing\[0\].*"log1p"/);
  });
});
