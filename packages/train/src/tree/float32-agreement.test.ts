import { readFileSync } from "node:fs";
import {
  createArtifact,
  createPredictor,
  Frame,
  field,
  numericColumn,
  readFrame,
  schema,
} from "@mlops/core";
import { describe, expect, it } from "vitest";
import { DecisionTreeRegressor } from "./decision-tree.js";
import { predictTree, splitRuleOf } from "./predict.js";

// A scikit-learn tree fitted on the diabetes data and its predictions on float64 inputs within
// a float32 step of its thresholds (core's predict/fixtures/make_float32_fixture.py). Our exact
// splitter fits the same tree from the same rows; it, and core's predictor on its artifact,
// must then predict what scikit-learn predicts on every one of those inputs.
const fixture = JSON.parse(
  readFileSync(
    new URL("../../../core/src/predict/fixtures/float32_reference.json", import.meta.url),
    "utf8",
  ),
).diabetes as {
  features: string[];
  trainRows: number;
  tree: { threshold: number[]; value: number[]; feature: number[] };
  X: number[][];
  predict: number[];
};

describe("trees from the exact splitter agree with scikit-learn on every input", () => {
  it("fits scikit-learn's tree and walks it as scikit-learn does (float32_le)", async () => {
    const csv = new URL("../../../core/test-data/diabetes.csv", import.meta.url);
    const all = await readFrame(csv.pathname);
    const train = all.take(Int32Array.from({ length: fixture.trainRows }, (_, i) => i));
    const tree = new DecisionTreeRegressor({ maxDepth: 8, seed: 0, splitter: "best" }).fit(
      new Frame(
        [...fixture.features, "target"].map(
          (name) => [name, numericColumn(Array.from(train.numeric(name)))] as const,
        ),
      ),
      "target",
    );
    expect(Array.from(tree.tree.threshold)).toEqual(fixture.tree.threshold);
    expect(Array.from(tree.tree.value)).toEqual(fixture.tree.value);

    const probes = new Frame(
      fixture.features.map(
        (name, j) => [name, numericColumn(fixture.X.map((row) => row[j]))] as const,
      ),
    );
    // The probes move integer features (age) off their training values, so the fitted schema
    // would refuse them: the tree is walked with predictTree, and the artifact with a schema of
    // plain numbers.
    const columns = fixture.features.map((name) => probes.numeric(name));
    const walked = predictTree(tree.tree, columns, probes.rowCount, splitRuleOf("best"));
    expect(Array.from(walked)).toEqual(fixture.predict);
    const artifact = tree.toArtifact();
    expect(artifact.manifest.model.splitRule).toBe("float32_le");
    const numbers = schema(
      Object.fromEntries(fixture.features.map((name) => [name, field.number()])),
    );
    const relaxed = createArtifact({
      ...artifact.manifest,
      schema: numbers,
      arrays: artifact.arrays,
    });
    expect(Array.from(createPredictor(relaxed).predict(probes))).toEqual(fixture.predict);
    // Compared in float64 instead, some probes go the other way.
    const float64 = predictTree(tree.tree, columns, probes.rowCount, "float64_le");
    expect(fixture.predict.filter((value, i) => float64[i] !== value).length).toBeGreaterThan(10);
  });
});
