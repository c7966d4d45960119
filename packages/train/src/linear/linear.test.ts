import { readFileSync } from "node:fs";
import { createPredictor, Frame, type MlopsError } from "@mlops/core";
import { describe, expect, it } from "vitest";
import { describeEstimatorConformance } from "../testing/estimator-conformance.js";
import { leastSquares } from "./least-squares.js";
import { LinearRegression } from "./linear-regression.js";
import { Ridge } from "./ridge.js";

// scikit-learn 1.2.1's coef_ and intercept_ on the diabetes data (fixtures/make_fixtures.py).
interface Case {
  name: string;
  estimator: "LinearRegression" | "Ridge";
  params: { alpha?: number; fit_intercept: boolean };
  weighted: boolean;
  deficient: boolean;
  coef: number[];
  intercept: number;
  predict_head: number[];
}

const reference = JSON.parse(
  readFileSync(new URL("./fixtures/linear_reference.json", import.meta.url), "utf8"),
) as { cases: Case[] };
const diabetes = JSON.parse(
  readFileSync(new URL("../tree/fixtures/diabetes_reference.json", import.meta.url), "utf8"),
) as { feature_names: string[]; X: number[][]; y: number[] };

const names = diabetes.feature_names;
const n = diabetes.X.length;
const weights = Float64Array.from({ length: n }, (_, i) => (i % 6) * 0.5);

function diabetesFrame(deficient: boolean): Frame {
  const entries: [string, { kind: "number"; values: Float64Array }][] = names.map((name, j) => [
    name,
    { kind: "number", values: Float64Array.from(diabetes.X, (row) => row[j]) },
  ]);
  if (deficient) {
    entries.push(["bmi_copy", { kind: "number", values: Float64Array.from(entries[2][1].values) }]);
    entries.push(["constant", { kind: "number", values: new Float64Array(n).fill(3) }]);
  }
  entries.push(["y", { kind: "number", values: Float64Array.from(diabetes.y) }]);
  return new Frame(entries);
}

function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let worst = 0;
  let scale = 0;
  for (let j = 0; j < expected.length; j++) scale = Math.max(scale, Math.abs(expected[j]));
  for (let j = 0; j < expected.length; j++) {
    worst = Math.max(worst, Math.abs(actual[j] - expected[j]) / scale);
  }
  return worst;
}

describe("LinearRegression and Ridge against scikit-learn 1.2.1 (diabetes)", () => {
  for (const c of reference.cases) {
    it(`${c.name}: coefficients and intercept within 1e-9 relative`, () => {
      const model =
        c.estimator === "Ridge"
          ? new Ridge({ alpha: c.params.alpha, fitIntercept: c.params.fit_intercept })
          : new LinearRegression({ fitIntercept: c.params.fit_intercept });
      const frame = diabetesFrame(c.deficient);
      model.fit(frame, "y", c.weighted ? { sampleWeight: weights } : {});
      expect(relativeError(model.coefficients, c.coef)).toBeLessThan(1e-9);
      expect(Math.abs(model.intercept - c.intercept)).toBeLessThanOrEqual(
        1e-9 * Math.max(1, Math.abs(c.intercept)),
      );
      const head = model.predict(frame.slice(0, 5));
      expect(relativeError(head, c.predict_head)).toBeLessThan(1e-9);
      if (!c.params.fit_intercept) expect(model.intercept).toBe(0);
    });
  }

  it("splits a duplicated column's weight and zeroes a constant one (minimum norm)", () => {
    const model = new LinearRegression().fit(diabetesFrame(true), "y");
    const coefficients = model.coefficients;
    expect(coefficients[2]).toBeCloseTo(coefficients[10], 9);
    expect(Math.abs(coefficients[11])).toBeLessThan(1e-9);
  });
});

describe("leastSquares", () => {
  it("solves a small system by hand: x = [1, 2] for A = [[1, 0], [0, 1], [1, 1]]", () => {
    // b = A [1, 2] exactly, so the residual is 0 and the solution exact.
    const columns = [Float64Array.of(1, 0, 1), Float64Array.of(0, 1, 1)];
    const { solution, rank } = leastSquares(columns, Float64Array.of(1, 2, 3));
    expect(rank).toBe(2);
    expect(solution[0]).toBeCloseTo(1, 14);
    expect(solution[1]).toBeCloseTo(2, 14);
  });

  it("returns the minimum-norm solution of a rank-deficient system", () => {
    // Columns [1, 1, 1] and [2, 2, 2]: any x with x0 + 2 x1 = 3; the shortest is [0.6, 1.2].
    const columns = [Float64Array.of(1, 1, 1), Float64Array.of(2, 2, 2)];
    const { solution, rank } = leastSquares(columns, Float64Array.of(3, 3, 3));
    expect(rank).toBe(1);
    expect(solution[0]).toBeCloseTo(0.6, 14);
    expect(solution[1]).toBeCloseTo(1.2, 14);
  });

  it("returns zeros for an all-zero design", () => {
    const { solution, rank } = leastSquares([new Float64Array(3)], Float64Array.of(1, 2, 3));
    expect(rank).toBe(0);
    expect(Array.from(solution)).toEqual([0]);
  });
});

describe("linear models", () => {
  const frame = new Frame({
    x: { kind: "number", values: Float64Array.of(0, 1, 2, 3) },
    y: { kind: "number", values: Float64Array.of(1, 3, 5, 7) },
  });

  it("fit y = 2x + 1 exactly and export a linear artifact", () => {
    const model = new LinearRegression().fit(frame, "y");
    expect(model.coefficients[0]).toBeCloseTo(2, 14);
    expect(model.intercept).toBeCloseTo(1, 14);
    const artifact = model.toArtifact();
    expect(artifact.manifest.kind).toBe("linear");
    expect(artifact.manifest.model.intercept).toBe(model.intercept);
    expect(Array.from(artifact.arrays.coefficients)).toEqual(Array.from(model.coefficients));
    expect(createPredictor(artifact).predictRow({ x: 10 })).toBe(
      model.predict(new Frame({ x: { kind: "number", values: Float64Array.of(10) } }))[0],
    );
  });

  it("shrinks with alpha by hand: Σx²=14 centred 5, Σxy centred 10, β = 10 / (5 + alpha)", () => {
    const model = new Ridge({ alpha: 5 }).fit(frame, "y");
    expect(model.coefficients[0]).toBeCloseTo(1, 14);
    expect(model.intercept).toBeCloseTo(4 - 1.5, 14);
  });

  it("rejects missing values at fit and predict, and bad parameters", () => {
    const missing = frame.withColumn("x", {
      kind: "number",
      values: Float64Array.of(0, Number.NaN, 2, 3),
    });
    expect(() => new Ridge().fit(missing, "y")).toThrow(
      /"x" has a missing value.*row 1.*SimpleImputer/,
    );
    const model = new LinearRegression().fit(frame, "y");
    const error = (() => {
      try {
        model.predict(missing);
      } catch (caught) {
        return caught as MlopsError;
      }
    })();
    expect(error?.code).toBe("data_invalid");
    expect(() => new Ridge({ alpha: -1 }).fit(frame, "y")).toThrow(
      /alpha: expected a number ≥ 0, got -1/,
    );
    expect(() =>
      new LinearRegression({ fitIntercept: "yes" as unknown as boolean }).fit(frame, "y"),
    ).toThrow(/fitIntercept: expected a boolean/);
  });
});

describe("Ridge with more features than rows (the kernel solver)", () => {
  it("solves the centred normal equations (XᵀX + alpha I) β = Xᵀy, like the primal solver", () => {
    // 5 rows, 8 features from a fixed sequence: p > n takes the n × n kernel path.
    const columns: Record<string, number[]> = {};
    for (let j = 0; j < 8; j++) {
      columns[`x${j}`] = [0, 1, 2, 3, 4].map((i) => Math.sin(1 + i * 1.7 + j * 0.9) * (j + 1));
    }
    const y = [0, 1, 2, 3, 4].map((i) => Math.cos(i * 0.7) * 3 + i);
    const frame = Frame.fromRows(
      y.map((target, i) => ({
        ...Object.fromEntries(Object.entries(columns).map(([name, values]) => [name, values[i]])),
        y: target,
      })),
    );
    const alpha = 0.3;
    const model = new Ridge({ alpha }).fit(frame, "y");
    const beta = model.coefficients;
    const names = Object.keys(columns);
    const centred = names.map((name) => {
      const values = columns[name];
      const mean = values.reduce((a, b) => a + b, 0) / values.length;
      return values.map((value) => value - mean);
    });
    const yMean = y.reduce((a, b) => a + b, 0) / y.length;
    const yc = y.map((value) => value - yMean);
    for (let j = 0; j < names.length; j++) {
      let lhs = alpha * beta[j];
      for (let k = 0; k < names.length; k++) {
        let dot = 0;
        for (let i = 0; i < 5; i++) dot += centred[j][i] * centred[k][i];
        lhs += dot * beta[k];
      }
      let rhs = 0;
      for (let i = 0; i < 5; i++) rhs += centred[j][i] * yc[i];
      expect(lhs).toBeCloseTo(rhs, 9);
    }
  });
});

describeEstimatorConformance(() => new LinearRegression(), {
  invalidParams: { fitIntercept: 1 },
});
describeEstimatorConformance(() => new Ridge({ alpha: 0.5 }), { invalidParams: { alpha: -1 } });
