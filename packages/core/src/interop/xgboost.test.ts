import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { MlopsError } from "../errors/error.js";
import { Frame, numericColumn } from "../frame/frame.js";
import { createPredictor } from "../predict/predictor.js";
import { field } from "../schema/field.js";
import { schema } from "../schema/schema.js";
import { importXGBoost } from "./xgboost.js";

// Models trained and saved by python3-xgboost 1.7, and its own predictions on rows with missing
// values (fixtures/make_xgboost_fixtures.py).
const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url);
const expected = JSON.parse(readFileSync(fixture("xgboost-expected.json"), "utf8")) as {
  cases: Record<
    string,
    { features: string[]; objective: string; X: (number | null)[][]; predict: number[] }
  >;
};
const modelText = (name: string) => readFileSync(fixture(`xgboost-${name}.json`), "utf8");

/** Largest |ours − xgboost| / |xgboost| over the rows. */
function worstRelativeError(ours: ArrayLike<number>, theirs: number[]): number {
  let worst = 0;
  theirs.forEach((value, i) => {
    const error = Math.abs(ours[i] - value) / Math.abs(value);
    if (!(error <= worst)) worst = error;
  });
  return worst;
}

describe("importXGBoost", () => {
  for (const [name, { features, objective, X, predict }] of Object.entries(expected.cases)) {
    it(`predicts what xgboost predicts: ${name} (${objective})`, () => {
      const artifact = importXGBoost(modelText(name), { featureNames: features });
      const predictor = createPredictor(artifact);
      const frame = new Frame(
        features.map((feature, j) => [feature, numericColumn(X.map((row) => row[j]))] as const),
      );
      expect(X.some((row) => row.includes(null))).toBe(true);
      const ours = predictor.predict(frame);
      expect(worstRelativeError(ours, predict)).toBeLessThanOrEqual(1e-5);
      const rows = X.map((row) => Object.fromEntries(features.map((f, j) => [f, row[j]])));
      expect(
        worstRelativeError(
          rows.map((row) => predictor.predictRow(row)),
          predict,
        ),
      ).toBe(worstRelativeError(ours, predict));
    });
  }

  it("writes a boosted ensemble with XGBoost's split rule, base margin and link", () => {
    const poisson = importXGBoost(modelText("diabetes-poisson"));
    expect(poisson.manifest.kind).toBe("ensemble");
    expect(poisson.manifest.model).toMatchObject({
      inputs: expected.cases["diabetes-poisson"].features,
      aggregation: "sum",
      splitRule: "float32_lt",
      link: "log",
      treeCount: 40,
      baseValue: Math.log(0.5),
    });
    expect(poisson.manifest.params).toMatchObject({
      source: "xgboost",
      objective: "count:poisson",
      xgboostVersion: "1.7.4",
    });
    const logistic = importXGBoost(modelText("wine-logistic"));
    expect(logistic.manifest.model).toMatchObject({ link: "logit", baseValue: 0 });
  });

  it("needs XGBoost's `x < split`: a `<=` rule sends rows on a split value the other way", () => {
    const { features, X, predict } = expected.cases["california-hist"];
    const artifact = importXGBoost(modelText("california-hist"), { featureNames: features });
    const frame = new Frame(
      features.map((feature, j) => [feature, numericColumn(X.map((row) => row[j]))] as const),
    );
    const withRule = (splitRule: string) =>
      createPredictor({
        ...artifact,
        manifest: { ...artifact.manifest, model: { ...artifact.manifest.model, splitRule } },
      }).predict(frame);
    expect(worstRelativeError(withRule("float32_lt"), predict)).toBeLessThanOrEqual(1e-5);
    expect(worstRelativeError(withRule("float32_le"), predict)).toBeGreaterThan(0.01);
    expect(worstRelativeError(withRule("float64_le"), predict)).toBeGreaterThan(0.01);
  });

  it("names features f0, f1, … when the model has no names, and takes a schema", () => {
    const unnamed = importXGBoost(modelText("california-hist"));
    expect(unnamed.manifest.model.inputs).toEqual(Array.from({ length: 8 }, (_, j) => `f${j}`));
    expect(unnamed.manifest.model.baseValue).toBe(2);
    const { features } = expected.cases["california-hist"];
    const houses = schema({
      ...Object.fromEntries(features.map((f) => [f, field.number().nullable()])),
      ocean_proximity: field.category(["INLAND", "NEAR BAY"]).optional(),
    });
    const named = importXGBoost(modelText("california-hist"), {
      featureNames: features,
      schema: houses,
    });
    expect(named.manifest.schema.fields.ocean_proximity.kind).toBe("category");
    expect(() =>
      importXGBoost(modelText("california-hist"), {
        schema: schema({ f0: field.number() }),
      }),
    ).toThrow(/the schema lacks the model's features f1, f2/);
  });

  it("says what it cannot read and where", () => {
    const model = JSON.parse(modelText("wine-absolute"));
    const error = (change: (m: typeof model) => void) => {
      const copy = structuredClone(model);
      change(copy);
      try {
        importXGBoost(copy);
      } catch (caught) {
        expect(MlopsError.isInstance(caught)).toBe(true);
        return (caught as Error).message;
      }
      throw new Error("expected importXGBoost to throw");
    };
    expect(() => importXGBoost("{not json")).toThrow(/not JSON .*save_model/);
    expect(error((m) => (m.learner.objective.name = "multi:softprob"))).toMatch(
      /learner\.objective\.name: "multi:softprob" is not a regression objective/,
    );
    expect(error((m) => (m.learner.gradient_booster.name = "gblinear"))).toMatch(
      /only tree boosters/,
    );
    expect(
      error((m) => {
        m.learner.gradient_booster.model.trees[3].split_type[0] = 1;
      }),
    ).toMatch(/trees\[3\]: node 0: is a categorical split/);
    expect(
      error((m) => {
        m.learner.gradient_booster.model.trees[2].split_indices[0] = 99;
      }),
    ).toMatch(/trees\[2\]: node 0: feature 99 is outside 0\.\.10/);
    expect(
      error((m) => {
        m.learner.gradient_booster.model.trees[0].left_children[0] = 0;
      }),
    ).toMatch(/trees\[0\]: node 0: child 0 is not a node/);
    expect(
      error((m) => {
        m.learner.gradient_booster.model.trees[1].split_conditions = [1, 2];
      }),
    ).toMatch(/trees\[1\]\.split_conditions: has 2 entries/);
  });

  it("leaves out nodes XGBoost pruned but kept in its arrays", () => {
    const model = JSON.parse(modelText("wine-absolute"));
    const tree = model.learner.gradient_booster.model.trees[0];
    const before = createPredictor(importXGBoost(structuredClone(model)));
    // Append two unreachable nodes, as XGBoost leaves deleted ones.
    for (const key of ["left_children", "right_children"]) tree[key].push(-1, -1);
    for (const key of ["split_indices", "split_conditions", "default_left", "split_type"]) {
      tree[key].push(0, 0);
    }
    for (const key of ["sum_hessian", "base_weights", "loss_changes", "parents"]) {
      tree[key].push(0, 0);
    }
    const after = importXGBoost(model);
    expect(after.arrays["trees.0.left"].length).toBe(tree.left_children.length - 2);
    const row = Object.fromEntries(expected.cases["wine-absolute"].features.map((f) => [f, 1]));
    expect(createPredictor(after).predictRow(row)).toBe(before.predictRow(row));
  });
});
