import {
  categoryColumn,
  createPredictor,
  createRandom,
  Frame,
  MlopsError,
  type MlopsErrorCode,
} from "@mlops/core";
import { describe, expect, it } from "vitest";
import { NotFittedError } from "../estimator/errors.js";
import type { Estimator } from "../estimator/estimator.js";

/**
 * Options of `describeEstimatorConformance`.
 *
 * @example
 * describeEstimatorConformance(() => new Ridge(), { invalidParams: { alpha: -1 } });
 */
export interface EstimatorConformanceOptions {
  /** Title of the describe block (default: the estimator's class name). */
  name?: string;
  /** Training rows of the generated data (default 240). */
  rows?: number;
  /**
   * Parameters the estimator must accept in its constructor without complaint and reject at
   * `fit` with an `argument_invalid` error (scikit-learn validates at fit).
   */
  invalidParams?: Record<string, unknown>;
  /**
   * The artifact's `model.inputs` (default: the feature columns `a, b, c, noise`); a pipeline's
   * preprocessing steps may turn them into other columns.
   */
  modelInputs?: string[];
  /**
   * The estimator reads category columns natively (gradient boosting's categorical splits):
   * instead of expecting one to be rejected, the suite fits with one and checks that its
   * artifact predicts exactly like `predict`, an unseen category included.
   */
  nativeCategories?: boolean;
}

/**
 * A seeded regression data set: four numeric features (one pure noise) and a target `y` with a
 * nonlinear signal, as a Frame with the target column.
 *
 * @example
 * const frame = conformanceRegressionFrame(100, 1); // columns a, b, c, noise, y
 */
export function conformanceRegressionFrame(rows: number, seed: number): Frame {
  const random = createRandom(seed);
  const a = new Float64Array(rows);
  const b = new Float64Array(rows);
  const c = new Float64Array(rows);
  const noise = new Float64Array(rows);
  const y = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    a[i] = random.next() * 10 - 5;
    b[i] = random.next();
    c[i] = Math.round(random.next() * 1000) / 7;
    noise[i] = random.next();
    y[i] = 3 * Math.sin(a[i]) + 4 * b[i] * b[i] + 0.01 * c[i] + 0.2 * (random.next() - 0.5);
  }
  return new Frame({
    a: { kind: "number", values: a },
    b: { kind: "number", values: b },
    c: { kind: "number", values: c },
    noise: { kind: "number", values: noise },
    y: { kind: "number", values: y },
  });
}

function thrown(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  return undefined;
}

function expectMlopsError(action: () => unknown, code: MlopsErrorCode, message?: RegExp): void {
  const error = thrown(action);
  expect(MlopsError.isInstance(error), `expected an MlopsError "${code}", got ${error}`).toBe(true);
  expect((error as MlopsError).code).toBe(code);
  if (message !== undefined) expect((error as MlopsError).message).toMatch(message);
}

/**
 * The behaviour every estimator of @mlops/train must have (scikit-learn's estimator checks):
 * a side-effect-free constructor, `fit` returning `this`, `NotFittedError` before fit,
 * `getParams` / `setParams` / `clone` round trips, unfitted clones, determinism, one prediction
 * per row, artifacts that predict exactly like `predict` through core's `createPredictor`, and
 * clear errors for bad input (NaN target, length mismatch, category features, empty frames).
 * Call it from a test file with a factory returning a new estimator with fixed settings.
 *
 * @example
 * describeEstimatorConformance(() => new DecisionTreeRegressor({ maxDepth: 4 }), {
 *   invalidParams: { maxDepth: 0 },
 * });
 */
export function describeEstimatorConformance<Params extends object>(
  factory: () => Estimator<Params>,
  options: EstimatorConformanceOptions = {},
): void {
  const rows = options.rows ?? 240;
  const name = options.name ?? factory().constructor.name;
  const train = conformanceRegressionFrame(rows, 11);
  const test = conformanceRegressionFrame(60, 12).drop(["y"]);

  describe(`${name}: estimator conformance`, () => {
    it("stores parameters in the constructor and does nothing else", () => {
      const estimator = factory();
      expect(estimator.isFitted).toBe(false);
      expect(factory().getParams()).toEqual(estimator.getParams());
      const params = estimator.getParams();
      expect(JSON.parse(JSON.stringify(params))).toEqual(params);
      // getParams returns a copy.
      (params as Record<string, unknown>).__probe = 1;
      expect(estimator.getParams()).not.toHaveProperty("__probe");
      if (options.invalidParams !== undefined) {
        const Constructor = estimator.constructor as new (
          params: Record<string, unknown>,
        ) => Estimator<Params>;
        const invalid = new Constructor({ ...params, ...options.invalidParams });
        expect(invalid.isFitted).toBe(false);
        expectMlopsError(() => invalid.fit(train, "y"), "argument_invalid");
        expect(invalid.isFitted).toBe(false);
      }
    });

    it("fit returns this and marks the estimator fitted", () => {
      const estimator = factory();
      expect(estimator.fit(train, "y")).toBe(estimator);
      expect(estimator.isFitted).toBe(true);
      expect(estimator.featureNames).toEqual(["a", "b", "c", "noise"]);
    });

    it("throws NotFittedError before fit", () => {
      const estimator = factory();
      for (const action of [
        () => estimator.predict(test),
        () => estimator.toArtifact(),
        () => estimator.featureNames,
      ]) {
        const error = thrown(action);
        expect(error).toBeInstanceOf(NotFittedError);
        expect(MlopsError.isInstance(error)).toBe(true);
        expect((error as MlopsError).code).toBe("not_fitted");
        expect((error as Error).message).toMatch(/fit/);
      }
    });

    it("round-trips parameters through getParams, setParams and clone", () => {
      const estimator = factory();
      const params = estimator.getParams();
      expect(estimator.clone().getParams()).toEqual(params);
      expect(estimator.setParams(params)).toBe(estimator);
      expect(estimator.getParams()).toEqual(params);
      expect(estimator.clone()).toBeInstanceOf(estimator.constructor);
      expectMlopsError(
        () => estimator.setParams({ notAParameter: 1 } as unknown as Partial<Params>),
        "argument_invalid",
        /notAParameter/,
      );
    });

    it("clones are unfitted and independent", () => {
      const estimator = factory().fit(train, "y");
      const copy = estimator.clone();
      expect(copy.isFitted).toBe(false);
      expect(() => copy.predict(test)).toThrow(NotFittedError);
      expect(estimator.isFitted).toBe(true);
      // Refitting the clone leaves the original's model alone.
      const before = estimator.predict(test);
      copy.fit(train.slice(0, Math.floor(rows / 2)), "y");
      expect(estimator.predict(test)).toEqual(before);
      expect(estimator.predict(test)).toHaveLength(test.rowCount);
    });

    it("keeps a training profile of the data it was fitted on, stored in its artifact", () => {
      const estimator = factory().fit(train, "y");
      const profile = estimator.trainingProfile;
      expect(profile?.rowCount).toBe(train.rowCount);
      expect(Object.keys(profile?.features ?? {})).toEqual(
        train.names.filter((name) => name !== "y"),
      );
      expect(profile?.target).toMatchObject({ name: "y", count: train.rowCount });
      // The predictions profiled are the model's on the training rows.
      const fitted = estimator.predict(train);
      let mean = 0;
      for (const value of fitted) mean += value / fitted.length;
      expect(profile?.predictions?.count).toBe(train.rowCount);
      expect(profile?.predictions?.mean).toBeCloseTo(mean, 9);
      expect(estimator.toArtifact().manifest.profile).toEqual(profile);
      expect(estimator.toArtifact({ profile: null }).manifest.profile).toBeUndefined();
      const unprofiled = factory().fit(train, "y", { profile: false });
      expect(unprofiled.trainingProfile).toBeUndefined();
      expect(unprofiled.toArtifact().manifest.profile).toBeUndefined();
      expect(unprofiled.predict(test)).toEqual(estimator.predict(test));
    });

    it("is deterministic: the same settings and data give the same predictions", () => {
      const first = factory().fit(train, "y").predict(test);
      const second = factory().fit(train, "y").predict(test);
      expect(second).toEqual(first);
      const refit = factory().fit(train, "y");
      refit.fit(train, "y");
      expect(refit.predict(test)).toEqual(first);
    });

    it("predicts one finite number per row, no worse than the mean", () => {
      const estimator = factory().fit(train, "y");
      const predictions = estimator.predict(test);
      expect(predictions).toBeInstanceOf(Float64Array);
      expect(predictions).toHaveLength(test.rowCount);
      for (const value of predictions) expect(Number.isFinite(value)).toBe(true);
      // Not worse than predicting the mean on the training rows (beyond shrinkage).
      const y = train.numeric("y");
      const fitted = estimator.predict(train);
      let mean = 0;
      for (const value of y) mean += value / y.length;
      let model = 0;
      let baseline = 0;
      for (let i = 0; i < y.length; i++) {
        model += (y[i] - fitted[i]) ** 2;
        baseline += (y[i] - mean) ** 2;
      }
      expect(model).toBeLessThan(baseline * 1.05);
    });

    it("takes the target as a column name or as values, with the same result", () => {
      const byName = factory().fit(train, "y").predict(test);
      const byValues = factory()
        .fit(train.drop(["y"]), train.numeric("y"))
        .predict(test);
      expect(byValues).toEqual(byName);
      const plain = Array.from(train.numeric("y"));
      expect(
        factory()
          .fit(train.drop(["y"]), plain)
          .predict(test),
      ).toEqual(byName);
    });

    it("exports an artifact that predicts exactly like predict()", () => {
      const estimator = factory().fit(train, "y");
      const artifact = estimator.toArtifact({
        metrics: { rmse: 1.5 },
        lineage: { runId: "conformance" },
      });
      expect(artifact.manifest.model.inputs).toEqual(
        options.modelInputs ?? ["a", "b", "c", "noise"],
      );
      expect(artifact.manifest.metrics).toEqual({ rmse: 1.5 });
      expect(artifact.manifest.lineage.runId).toBe("conformance");
      expect(artifact.manifest.lineage.rowCount).toBe(rows);
      expect(artifact.manifest.schema.target).toBe("y");
      expect(artifact.manifest.params).toEqual(JSON.parse(JSON.stringify(estimator.getParams())));
      const predictor = createPredictor(artifact);
      const expected = estimator.predict(test);
      expect(predictor.predict(test)).toEqual(expected);
      const first = test.toRows()[0];
      expect(predictor.predictRow(first)).toBe(expected[0]);
      // Training rows too (they hold the target column, which the predictor ignores).
      expect(predictor.predict(train)).toEqual(estimator.predict(train));
    });

    it("rejects bad input with clear errors", () => {
      const estimator = factory();
      const y = Float64Array.from(train.numeric("y"));
      y[7] = Number.NaN;
      const withNaN = train.withColumn("y", { kind: "number", values: y });
      expectMlopsError(() => estimator.fit(withNaN, "y"), "data_invalid", /NaN.*row 7/);
      expectMlopsError(
        () => estimator.fit(train.drop(["y"]), new Float64Array(rows - 1)),
        "data_invalid",
        /expected 240|values, expected/,
      );
      const colors = categoryColumn(
        Array.from({ length: rows }, (_, i) => (i % 2 ? "red" : "blue")),
      );
      if (!options.nativeCategories) {
        expectMlopsError(
          () => estimator.fit(train.withColumn("color", colors), "y"),
          "data_invalid",
          /"color".*OneHotEncoder/,
        );
      }
      expectMlopsError(() => estimator.fit(train.slice(0, 0), "y"), "data_invalid", /no rows/);
      expectMlopsError(() => estimator.fit(train, "price"), "data_invalid", /"price"/);
      expectMlopsError(
        () => estimator.fit(train, "y", { sampleWeight: new Float64Array(3) }),
        "data_invalid",
        /sampleWeight/,
      );
      expect(estimator.isFitted).toBe(false);
      estimator.fit(train, "y");
      expectMlopsError(() => estimator.predict(test.drop(["b"])), "data_invalid", /"b"/);
      const letters = categoryColumn(Array.from({ length: test.rowCount }, () => "x"));
      expectMlopsError(
        () => estimator.predict(test.withColumn("a", letters)),
        "data_invalid",
        /OneHotEncoder/,
      );
    });

    if (options.nativeCategories) {
      it("reads category columns natively, and so does its artifact", () => {
        const labels = ["red", "green", "blue"];
        const trainColors = categoryColumn(
          Array.from({ length: rows }, (_, i) => (i % 7 === 3 ? null : labels[i % 3])),
        );
        const y = Float64Array.from(train.numeric("y"), (value, i) =>
          i % 3 === 0 ? value + 2 : value,
        );
        const estimator = factory().fit(
          train.withColumn("color", trainColors).withColumn("y", { kind: "number", values: y }),
          "y",
        );
        expect(estimator.featureNames).toEqual(["a", "b", "c", "noise", "color"]);
        // Another frame's dictionary order, and a category the model never saw.
        const testColors = categoryColumn(
          Array.from({ length: test.rowCount }, (_, i) => ["blue", "red", "green", null][i % 4]),
        );
        const withColors = test.withColumn("color", testColors);
        const predictions = estimator.predict(withColors);
        const artifact = estimator.toArtifact();
        expect(createPredictor(artifact).predict(withColors)).toEqual(predictions);
        const unseen = test.withColumn(
          "color",
          categoryColumn(Array.from({ length: test.rowCount }, () => "violet")),
        );
        const missing = test.withColumn(
          "color",
          categoryColumn(Array.from({ length: test.rowCount }, () => null)),
        );
        expect(estimator.predict(unseen)).toEqual(estimator.predict(missing));
        expectMlopsError(
          () => estimator.predict(test.withColumn("color", test.column("a"))),
          "data_invalid",
          /"color".*category/,
        );
      });
    }
  });
}
