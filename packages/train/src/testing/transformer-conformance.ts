import {
  createArtifact,
  createPredictor,
  type Frame,
  inferSchema,
  MlopsError,
  type MlopsErrorCode,
} from "@mlops/core";
import { describe, expect, it } from "vitest";
import { NotFittedError } from "../estimator/errors.js";
import type { Transformer } from "../preprocessing/transformer.js";
import { conformanceRegressionFrame } from "./estimator-conformance.js";

/**
 * Options of `describeTransformerConformance`.
 *
 * @example
 * describeTransformerConformance(() => new SimpleImputer(), {
 *   train: framesWithGaps.train, test: framesWithGaps.test, invalidParams: { strategy: "mode" },
 * });
 */
export interface TransformerConformanceOptions {
  /** Title of the describe block (default: the transformer's class name). */
  name?: string;
  /** Training rows, holding the target column (default: `conformanceRegressionFrame(240, 11)`). */
  train?: Frame;
  /** Rows to transform, without the target (default: 60 more generated rows). */
  test?: Frame;
  /** The target column of `train` (default `"y"`). */
  target?: string;
  /**
   * Parameters the transformer must accept in its constructor without complaint and reject at
   * `fit` with an `argument_invalid` error (scikit-learn validates at fit).
   */
  invalidParams?: Record<string, unknown>;
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

/** A frame's content as plain data (names, and rows with null for missing values). */
function contents(frame: Frame): { names: readonly string[]; rows: unknown[] } {
  return { names: frame.names, rows: frame.toRows() };
}

/**
 * The behaviour every preprocessing transformer of @mlops/train must have, beside its own
 * reference values: a side-effect-free constructor, `fit` returning `this`, `NotFittedError`
 * before fit, `getParams` / `setParams` / `clone` round trips, unfitted independent clones,
 * determinism, `fitTransform` equal to `fit` then `transform`, input frames left alone, output
 * names as `featureNamesOut` says, steps that are plain JSON, and a served model (core's
 * `createPredictor` over the exported steps) that sees exactly the values `transform` gives.
 *
 * @example
 * describeTransformerConformance(() => new StandardScaler(), { invalidParams: { withMean: 1 } });
 */
export function describeTransformerConformance<Params extends object>(
  factory: () => Transformer<Params>,
  options: TransformerConformanceOptions = {},
): void {
  const target = options.target ?? "y";
  const train = options.train ?? conformanceRegressionFrame(240, 11);
  const test = options.test ?? conformanceRegressionFrame(60, 12).drop([target]);
  const features = train.drop([target]);
  const name = options.name ?? factory().constructor.name;

  describe(`${name}: transformer conformance`, () => {
    it("stores parameters in the constructor and does nothing else", () => {
      const transformer = factory();
      expect(transformer.isFitted).toBe(false);
      const params = transformer.getParams();
      expect(factory().getParams()).toEqual(params);
      expect(JSON.parse(JSON.stringify(params))).toEqual(params);
      (params as Record<string, unknown>).__probe = 1;
      expect(transformer.getParams()).not.toHaveProperty("__probe");
      if (options.invalidParams !== undefined) {
        const Constructor = transformer.constructor as new (
          params: Record<string, unknown>,
        ) => Transformer<Params>;
        const invalid = new Constructor({ ...transformer.getParams(), ...options.invalidParams });
        expect(invalid.isFitted).toBe(false);
        expectMlopsError(() => invalid.fit(train, target), "argument_invalid");
        expect(invalid.isFitted).toBe(false);
      }
    });

    it("fit returns this and records the columns seen", () => {
      const transformer = factory();
      expect(transformer.fit(train, target)).toBe(transformer);
      expect(transformer.isFitted).toBe(true);
      expect(transformer.featureNamesIn).toEqual(features.names);
      expect(transformer.transform(features).names).toEqual(transformer.featureNamesOut);
    });

    it("throws NotFittedError before fit", () => {
      const transformer = factory();
      for (const action of [
        () => transformer.transform(test),
        () => transformer.toPreprocessing(),
        () => transformer.featureNamesOut,
        () => transformer.featureNamesIn,
      ]) {
        const error = thrown(action);
        expect(error).toBeInstanceOf(NotFittedError);
        expect((error as MlopsError).code).toBe("not_fitted");
      }
    });

    it("round-trips parameters through getParams, setParams and clone", () => {
      const transformer = factory();
      const params = transformer.getParams();
      expect(transformer.clone().getParams()).toEqual(params);
      expect(transformer.setParams(params)).toBe(transformer);
      expect(transformer.getParams()).toEqual(params);
      expect(transformer.clone()).toBeInstanceOf(transformer.constructor);
      expectMlopsError(
        () => transformer.setParams({ notAParameter: 1 } as unknown as Partial<Params>),
        "argument_invalid",
        /notAParameter/,
      );
    });

    it("clones are unfitted and independent", () => {
      const transformer = factory().fit(train, target);
      const copy = transformer.clone();
      expect(copy.isFitted).toBe(false);
      const before = contents(transformer.transform(test));
      copy.fit(train.slice(0, Math.floor(train.rowCount / 2)), target);
      expect(contents(transformer.transform(test))).toEqual(before);
    });

    it("is deterministic, leaves its input alone, and fitTransform = fit + transform", () => {
      const original = contents(test);
      const first = contents(factory().fit(train, target).transform(test));
      expect(contents(factory().fit(train, target).transform(test))).toEqual(first);
      expect(contents(test)).toEqual(original);
      const fitted = factory().fit(train, target);
      expect(contents(factory().fitTransform(train, target))).toEqual(
        contents(fitted.transform(features)),
      );
      // The target given as values instead of a column name: the same state.
      const byValues = factory().fit(features, train.numeric(target)).transform(test);
      expect(contents(byValues)).toEqual(first);
      // A column it did not see at fit passes through.
      const extra = test.withColumn("__extra", {
        kind: "number",
        values: new Float64Array(test.rowCount).fill(7),
      });
      expect(fitted.transform(extra).numeric("__extra")).toEqual(extra.numeric("__extra"));
    });

    it("exports plain-JSON steps that a served model applies exactly as transform does", () => {
      const fitted = factory().fit(train, target);
      const steps = fitted.toPreprocessing();
      expect(JSON.parse(JSON.stringify(steps))).toEqual(steps);
      const transformed = fitted.transform(test);
      const inputs = transformed.names.filter(
        (column) => transformed.column(column).kind !== "category",
      );
      expect(inputs.length).toBeGreaterThan(0);
      // Rows whose outputs are all present (a linear model needs every input).
      const rows: number[] = [];
      for (let r = 0; r < test.rowCount; r++) {
        if (inputs.every((column) => !Number.isNaN(transformed.numeric(column)[r]))) rows.push(r);
      }
      expect(rows.length).toBeGreaterThan(0);
      const coefficients = Float64Array.from(inputs, (_, j) => 1 + j / 7);
      const artifact = createArtifact({
        kind: "linear",
        schema: inferSchema(features),
        preprocessing: JSON.parse(JSON.stringify(steps)),
        model: { inputs, intercept: 0.5 },
        arrays: { coefficients },
      });
      const predictor = createPredictor(artifact);
      const expected = rows.map((r) => {
        let sum = 0;
        inputs.forEach((column, j) => {
          sum += coefficients[j] * transformed.numeric(column)[r];
        });
        return sum + 0.5;
      });
      expect(Array.from(predictor.predict(test.take(rows)))).toEqual(expected);
      const row = test.take(rows.slice(0, 1)).toRows()[0];
      expect(predictor.predictRow(row)).toBe(expected[0]);
    });

    it("rejects bad input with clear errors", () => {
      const transformer = factory();
      expectMlopsError(() => transformer.fit(train.slice(0, 0), target), "data_invalid", /no rows/);
      expectMlopsError(() => transformer.fit(train, "__nope"), "data_invalid", /"__nope"/);
      expectMlopsError(
        () => transformer.fit([] as unknown as Frame, target),
        "argument_invalid",
        /Frame/,
      );
      expect(transformer.isFitted).toBe(false);
      transformer.fit(train, target);
      const missing = features.names[0];
      expectMlopsError(
        () => transformer.transform(test.drop([missing])),
        "data_invalid",
        new RegExp(`"${missing}"`),
      );
      expectMlopsError(() => transformer.transform({} as Frame), "argument_invalid", /Frame/);
    });
  });
}
