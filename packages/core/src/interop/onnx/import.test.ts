import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { decodeArtifact, encodeArtifact } from "../../artifact/codec.js";
import { field } from "../../schema/field.js";
import { Schema, schema } from "../../schema/schema.js";
import { type ExportCase, exportCaseArtifact } from "../../testing/onnx-cases.js";
import { toOnnx } from "./export.js";
import { importOnnx, inspectOnnx, onnxModelOf } from "./import.js";

// An ONNX file made by python3-onnx (serve's runtime/fixtures/make_onnx_fixtures.py): one
// [N, 10] float input "X", a TreeEnsembleRegressor, output "variable".
const treeFile = readFileSync(
  new URL("../../../../serve/src/runtime/fixtures/tree-ensemble.onnx", import.meta.url),
);
const { cases } = JSON.parse(
  readFileSync(new URL("../fixtures/onnx-export-cases.json", import.meta.url), "utf8"),
) as { cases: Record<string, ExportCase> };

describe("inspectOnnx", () => {
  it("reads the signature, opsets and operators of a graph made by another tool", () => {
    expect(inspectOnnx(treeFile)).toEqual({
      irVersion: 8,
      producer: "make_onnx_fixtures.py",
      opsets: { "ai.onnx": 15, "ai.onnx.ml": 3 },
      inputs: [{ name: "X", elementType: "float", shape: [null, 10] }],
      outputs: [{ name: "variable", elementType: "float", shape: [null, 1] }],
      operators: ["ai.onnx.ml:TreeEnsembleRegressor"],
    });
  });

  it("refuses bytes that are not an ONNX model", () => {
    expect(() => inspectOnnx(new TextEncoder().encode("not a model"), "x.onnx")).toThrow(
      /x\.onnx: not an ONNX model/,
    );
  });
});

describe("importOnnx", () => {
  it("drafts F nullable numbers f0… from a [N, F] input of a tree ensemble", () => {
    const artifact = importOnnx(treeFile);
    expect(artifact.manifest.kind).toBe("onnx");
    expect(artifact.manifest.model).toEqual({
      inputs: Array.from({ length: 10 }, (_, j) => `f${j}`),
      onnx: { layout: "matrix", input: "X", elementType: "float", output: "variable" },
    });
    expect(artifact.manifest.schema.fields.f3).toMatchObject({ kind: "number", nullable: true });
    // Stored like every artifact: the digest covers the graph's bytes.
    const decoded = decodeArtifact(encodeArtifact(artifact));
    expect(Buffer.from(onnxModelOf(decoded).bytes).equals(treeFile)).toBe(true);
    const bytes = encodeArtifact(artifact);
    bytes[bytes.length - 5] ^= 1;
    expect(() => decodeArtifact(bytes)).toThrow(/digest|corrupt/i);
  });

  it("names the columns from featureNames or a schema, and checks the count", () => {
    const names = ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"];
    expect(importOnnx(treeFile, { featureNames: names }).manifest.model.inputs).toEqual(names);
    const given = schema(Object.fromEntries(names.map((name) => [name, field.number()])));
    const withSchema = importOnnx(treeFile, { schema: given });
    expect(withSchema.manifest.schema.fields.age.nullable).toBeFalsy();
    expect(() => importOnnx(treeFile, { featureNames: ["a", "b"] })).toThrow(
      /input "X" has 10 columns, but 2 feature names were given/,
    );
  });

  it("reads graphs with one input per feature (toOnnx's form); strings need a schema", () => {
    const forest = exportCaseArtifact(cases["wine-forest"]);
    const imported = importOnnx(toOnnx(forest));
    expect(imported.manifest.model.onnx).toMatchObject({ layout: "columns", output: "prediction" });
    expect(imported.manifest.model.inputs).toEqual(forest.manifest.model.inputs);
    const california = exportCaseArtifact(cases["california-tree"]);
    expect(() => importOnnx(toOnnx(california))).toThrow(
      /inputs ocean_proximity are strings; give a schema that lists their categories/,
    );
    const typed = importOnnx(toOnnx(california), {
      schema: Schema.fromJSON(california.manifest.schema),
    });
    expect(typed.manifest.model.inputs).toContain("ocean_proximity");
  });
});
