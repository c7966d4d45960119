import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { categoryColumn, createPredictor, Frame, MlopsError, readFrame } from "@mlops/core";
import { beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt } from "../search/dist-fixture.js";
import { describeEstimatorConformance } from "../testing/estimator-conformance.js";
import { HistGradientBoostingRegressor } from "./hist-gradient-boosting.js";
import type { HistGradientBoostingParams } from "./params.js";

// The quality tests and the thread test run the built worker threads (dist/boosting-worker.js).
beforeAll(() => ensureBuilt(), 180_000);

describeEstimatorConformance(
  () => new HistGradientBoostingRegressor({ maxIter: 20, minSamplesLeaf: 5, nJobs: 1 }),
  { invalidParams: { learningRate: 0 }, nativeCategories: true },
);

const fixtures = fileURLToPath(new URL("./fixtures/", import.meta.url));

interface ExactCase {
  params: Record<string, unknown>;
  weighted: boolean;
  poissonTarget: boolean;
  baseline: number;
  nIter: number;
  nodes: number[];
  trainScore: number[];
  validationScore: number[];
  predict: number[];
}
interface QualityCase {
  params: Record<string, unknown>;
  rmse: number;
  nIter: number;
  earlyStopping: boolean;
  predict: number[];
}
const reference = JSON.parse(readFileSync(join(fixtures, "boosting_reference.json"), "utf8")) as {
  exact: {
    X_train: (number | null)[][];
    y_train: number[];
    w_train: number[];
    X_test: (number | null)[][];
    cases: Record<string, ExactCase>;
  };
  quality: Record<string, QualityCase>;
};
const exact = reference.exact;

function column(rows: (number | null)[][], j: number): Float64Array {
  return Float64Array.from(rows, (row) => (row[j] === null ? Number.NaN : (row[j] as number)));
}

/** The synthetic data as scikit-learn saw it: x2 holds integer category codes. */
function exactFrame(rows: (number | null)[][]): Frame {
  return new Frame({
    x0: { kind: "number", values: column(rows, 0) },
    x1: { kind: "number", values: column(rows, 1) },
    x2: { kind: "number", values: column(rows, 2) },
    x3: { kind: "number", values: column(rows, 3) },
  });
}

/** scikit-learn's snake_case parameters in our names. */
function ours(params: Record<string, unknown>): Partial<HistGradientBoostingParams> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(params)) {
    const name =
      key === "random_state" ? "seed" : key.replace(/_([a-z])/g, (_, c) => c.toUpperCase());
    out[name] = value;
  }
  return out as Partial<HistGradientBoostingParams>;
}

function relativeError(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(1e-12, Math.abs(b));
}

describe("HistGradientBoostingRegressor against scikit-learn 1.2.1", () => {
  const train = exactFrame(exact.X_train);
  const test = exactFrame(exact.X_test);
  for (const [name, expected] of Object.entries(exact.cases)) {
    it(`reproduces ${name}`, () => {
      const y = expected.poissonTarget
        ? exact.y_train.map((value) => Math.exp(value / 3))
        : exact.y_train;
      const settings = { ...ours(expected.params), categoricalFeatures: ["x2"] };
      const model = new HistGradientBoostingRegressor(settings).fit(train, y, {
        sampleWeight: expected.weighted ? exact.w_train : undefined,
      });
      expect(model.baseline).toBe(expected.baseline);
      expect(model.nIter).toBe(expected.nIter);
      expect(model.trees.map((tree) => tree.left.length)).toEqual(expected.nodes);
      const predictions = model.predict(test);
      if (expected.poissonTarget) {
        // exp differs from the C library's in the last bit now and then.
        expected.predict.forEach((value, i) => {
          expect(relativeError(predictions[i], value)).toBeLessThan(1e-12);
        });
      } else {
        // The same arithmetic in the same order: the very same numbers.
        expect(Array.from(predictions)).toEqual(expected.predict);
      }
      expect(model.trainScore).toHaveLength(expected.trainScore.length);
      model.validationScore.forEach((score, i) => {
        expect(relativeError(score, expected.validationScore[i])).toBeLessThan(1e-12);
      });
    });
  }
});

describe("HistGradientBoostingRegressor quality on real data (scikit-learn's defaults)", () => {
  const datasets: [string, string, string][] = [
    ["california-housing", join(fixtures, "california-housing.csv"), "median_house_value"],
    [
      "california-housing-early-stopping",
      join(fixtures, "california-housing.csv"),
      "median_house_value",
    ],
    [
      "wine",
      join(fixtures, "..", "..", "..", "..", "..", "examples", "wine-quality", "data", "wine.csv"),
      "quality",
    ],
    ["bike-sharing", join(fixtures, "bike-sharing-hour.csv"), "cnt"],
  ];
  for (const [name, path, target] of datasets) {
    it(`${name}: scikit-learn's very predictions (hold-out RMSE within 1%, same iterations)`, async () => {
      const expected = reference.quality[name];
      const frame = await readFrame(path);
      const rows = Array.from({ length: frame.rowCount }, (_, i) => i);
      const trainFrame = frame.take(Int32Array.from(rows.filter((i) => i % 5 !== 0)));
      const testFrame = frame.take(Int32Array.from(rows.filter((i) => i % 5 === 0)));
      const model = new HistGradientBoostingRegressor({ ...ours(expected.params), seed: 0 }).fit(
        trainFrame,
        target,
      );
      const predictions = model.predict(testFrame);
      const y = testFrame.numeric(target);
      let sum = 0;
      for (let i = 0; i < y.length; i++) sum += (predictions[i] - y[i]) ** 2;
      const rmse = Math.sqrt(sum / y.length);
      expect(Math.abs(rmse - expected.rmse) / expected.rmse).toBeLessThan(0.01);
      expect(model.earlyStoppingUsed).toBe(expected.earlyStopping);
      expect(model.nIter).toBe(expected.nIter);
      expect(Array.from(predictions)).toEqual(expected.predict);
      // The artifact serves the same predictions.
      const served = createPredictor(model.toArtifact()).predict(testFrame);
      expect(Array.from(served)).toEqual(Array.from(predictions));
    });
  }
});

describe("HistGradientBoostingRegressor parameters and data checks", () => {
  const frame = exactFrame(exact.X_train);
  const y = exact.y_train;
  const fitModel = (params: Record<string, unknown>, data = frame, target: ArrayLike<number> = y) =>
    new HistGradientBoostingRegressor(params as Partial<HistGradientBoostingParams>).fit(
      data,
      target,
    );
  const rejects = (params: Record<string, unknown>, message: RegExp) => {
    let error: unknown;
    try {
      fitModel(params);
    } catch (caught) {
      error = caught;
    }
    expect(MlopsError.isInstance(error), String(error)).toBe(true);
    expect((error as MlopsError).code).toBe("argument_invalid");
    expect((error as MlopsError).message).toMatch(message);
  };

  it("rejects each bad parameter at fit, naming it and what it expects", () => {
    rejects(
      { loss: "huber" },
      /loss: expected "squared_error", "absolute_error", "poisson", "quantile", got "huber"/,
    );
    rejects(
      { loss: "quantile" },
      /quantile: expected a number in \(0, 1\) with loss "quantile", got null/,
    );
    rejects({ quantile: 1.5 }, /quantile: expected null or a number in \(0, 1\)/);
    rejects({ learningRate: 0 }, /learningRate: expected a number > 0, got 0/);
    rejects({ maxIter: 0 }, /maxIter: expected an integer ≥ 1, got 0/);
    rejects({ maxIter: 2.5 }, /maxIter: expected an integer ≥ 1, got 2.5/);
    rejects({ maxLeafNodes: 1 }, /maxLeafNodes: expected an integer ≥ 2 or null, got 1/);
    rejects({ maxDepth: 0 }, /maxDepth: expected an integer ≥ 1 or null, got 0/);
    rejects({ minSamplesLeaf: 0 }, /minSamplesLeaf: expected an integer ≥ 1, got 0/);
    rejects({ l2Regularization: -1 }, /l2Regularization: expected a number ≥ 0, got -1/);
    rejects({ maxBins: 256 }, /maxBins: expected an integer in 2..255, got 256/);
    rejects({ maxBins: 1 }, /maxBins: expected an integer in 2..255, got 1/);
    rejects({ earlyStopping: "yes" }, /earlyStopping: expected "auto", true or false, got "yes"/);
    rejects(
      { scoring: "accuracy" },
      /scoring: expected "loss", a metric name or null, got "accuracy"/,
    );
    rejects(
      { validationFraction: 1.5 },
      /validationFraction: expected null, a fraction in \(0, 1\) or a count ≥ 1/,
    );
    rejects({ validationFraction: 0 }, /validationFraction/);
    rejects({ nIterNoChange: 0 }, /nIterNoChange: expected an integer ≥ 1, got 0/);
    rejects({ tol: -0.1 }, /tol: expected a number ≥ 0, got -0.1/);
    rejects({ seed: -1 }, /seed: expected an integer in 0..4294967295/);
    rejects({ nJobs: 0 }, /nJobs: expected null \(all cores\) or an integer ≥ 1, got 0/);
    rejects(
      { categoricalFeatures: "auto" },
      /categoricalFeatures: expected "from_dtype", null, or a list/,
    );
    rejects({ categoricalFeatures: [1, "x2"] }, /categoricalFeatures: .*one kind/);
    rejects(
      { categoricalFeatures: ["nope"] },
      /categoricalFeatures: "nope" is not a feature \(features: x0, x1, x2, x3\)/,
    );
    rejects(
      { categoricalFeatures: [true] },
      /categoricalFeatures: expected one boolean per feature \(4: x0, x1, x2, x3\)/,
    );
    rejects({ monotonicCst: [1, 0, 0, 0] }, /unknown parameter "monotonicCst"/);
  });

  it("rejects data it cannot use, saying where", () => {
    const dataError = (run: () => unknown, message: RegExp) => {
      let error: unknown;
      try {
        run();
      } catch (caught) {
        error = caught;
      }
      expect((error as MlopsError).code).toBe("data_invalid");
      expect((error as MlopsError).message).toMatch(message);
    };
    // A numeric categorical feature holds integer codes below maxBins.
    dataError(
      () => fitModel({ categoricalFeatures: ["x0"] }),
      /categorical feature "x0" has -?[0-9.]+ at row \d+; categorical numeric features hold integer codes in 0..254/,
    );
    dataError(
      () => fitModel({ categoricalFeatures: ["x2"], maxBins: 4 }),
      /categorical feature "x2" has [4-7] at row \d+/,
    );
    // A category column with more categories than bins.
    const many = categoryColumn(Array.from({ length: frame.rowCount }, (_, i) => `c${i % 40}`));
    dataError(
      () => fitModel({ maxBins: 16 }, frame.withColumn("shop", many)),
      /categorical feature "shop" has 40 categories; at most maxBins \(16\)/,
    );
    // A category column the estimator is told to read as numbers.
    const colors = categoryColumn(
      Array.from({ length: frame.rowCount }, (_, i) => (i % 2 ? "a" : "b")),
    );
    dataError(
      () => fitModel({ categoricalFeatures: ["x2"] }, frame.withColumn("color", colors)),
      /feature "color" is a category column but categoricalFeatures does not list it/,
    );
    dataError(
      () => fitModel({ categoricalFeatures: null }, frame.withColumn("color", colors)),
      /"color".*OneHotEncoder/,
    );
    dataError(
      () => fitModel({ loss: "poisson" }),
      /loss "poisson" needs a target ≥ 0, got -?[0-9.]+ at row \d+/,
    );
    dataError(
      () =>
        fitModel(
          { earlyStopping: true, validationFraction: 0.1 },
          frame.slice(0, 1),
          y.slice(0, 1),
        ),
      /validationFraction 0.1 of 1 rows leaves 0 to train and 1 to validate/,
    );
    dataError(
      () =>
        fitModel({ earlyStopping: true, validationFraction: 5 }, frame.slice(0, 5), y.slice(0, 5)),
      /leaves 0 to train and 5 to validate; both need at least one/,
    );
  });

  it("grows the same model on any number of threads", () => {
    const settings = { categoricalFeatures: ["x2"], maxIter: 10, minSamplesLeaf: 5 };
    const inThread = fitModel({ ...settings, nJobs: 1 });
    const threads = fitModel({ ...settings, nJobs: 3 });
    expect(threads.predict(frame)).toEqual(inThread.predict(frame));
    // Thousands of rows: the threads share every histogram's features.
    const rows = Int32Array.from({ length: 24_000 }, (_, i) => i % frame.rowCount);
    const large = frame.take(rows);
    const target = Float64Array.from(rows, (row) => y[row] + (row % 7) * 0.01);
    const one = fitModel({ ...settings, nJobs: 1 }, large, target);
    const two = fitModel({ ...settings, nJobs: 2 }, large, target);
    expect(two.predict(frame)).toEqual(one.predict(frame));
  });

  it("takes categorical features by name, index or mask, with the same model", () => {
    const byName = fitModel({ categoricalFeatures: ["x2"], maxIter: 5 }).predict(frame);
    const byIndex = fitModel({ categoricalFeatures: [2], maxIter: 5 }).predict(frame);
    const byMask = fitModel({
      categoricalFeatures: [false, false, true, false],
      maxIter: 5,
    }).predict(frame);
    expect(byIndex).toEqual(byName);
    expect(byMask).toEqual(byName);
    const numeric = fitModel({ maxIter: 5 }).predict(frame);
    expect(numeric).not.toEqual(byName);
  });

  it("stops early on a validation split and keeps the scores", () => {
    const model = fitModel({
      earlyStopping: true,
      maxIter: 500,
      learningRate: 0.5,
      nIterNoChange: 2,
    });
    expect(model.earlyStoppingUsed).toBe(true);
    expect(model.nIter).toBeLessThan(500);
    // One score before the first tree, then one per tree.
    expect(model.validationScore).toHaveLength(model.nIter + 1);
    const scores = model.validationScore;
    const last = scores.length - 1;
    for (let i = last - 1; i <= last; i++)
      expect(scores[i]).toBeLessThanOrEqual(scores[last - 2] + 1e-7);
    // Without a validation split the training loss decides (it keeps improving here).
    const training = fitModel({ earlyStopping: true, validationFraction: null, maxIter: 30 });
    expect(training.validationScore).toEqual([]);
    expect(training.trainScore).toHaveLength(training.nIter + 1);
    expect(fitModel({ maxIter: 30 }).earlyStoppingUsed).toBe(false);
  });
});
