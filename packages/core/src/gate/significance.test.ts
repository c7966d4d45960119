import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { createArtifact } from "../artifact/create.js";
import type { ModelArtifact } from "../artifact/types.js";
import { quantileSorted } from "../frame/describe.js";
import { Frame, numericColumn } from "../frame/frame.js";
import { createRandom } from "../metrics/random.js";
import { field } from "../schema/field.js";
import { schema } from "../schema/schema.js";
import { evaluateGate } from "./evaluate.js";
import type { GateRow } from "./types.js";

const points = schema({ x: field.number(), y: field.number() }, { target: "y" });

function linear(coefficient: number, intercept: number): ModelArtifact {
  return createArtifact({
    kind: "linear",
    schema: points,
    model: { inputs: ["x"], intercept },
    arrays: { coefficients: Float64Array.of(coefficient) },
    lineage: { createdAt: "2024-01-01T00:00:00.000Z", gitCommit: "abc1234" },
  });
}

// 400 rows of y = 2x + 1 + noise (noise: a sum of 12 uniforms minus 6, about N(0, 1)).
const n = 400;
const random = createRandom(11);
const xs = new Float64Array(n);
const ys = new Float64Array(n);
for (let i = 0; i < n; i++) {
  xs[i] = 10 * random.next();
  let noise = -6;
  for (let k = 0; k < 12; k++) noise += random.next();
  ys[i] = 2 * xs[i] + 1 + noise;
}
const data = new Frame({ x: numericColumn(xs), y: numericColumn(ys) });
const truth = linear(2, 1);
const biased = linear(2, 1.5); // every prediction 0.5 too high: clearly worse
const nearlyEqual = linear(2.002, 1); // at most 0.02 off the true line

function significance(candidate: ModelArtifact, rule: string): GateRow {
  const result = evaluateGate({ candidate, baseline: truth, data, rules: [rule] });
  expect(result.rows).toHaveLength(1);
  return result.rows[0];
}

/**
 * numpy's paired bootstrap (fixtures/make_bootstrap_reference.py, Debian's python3-numpy): its
 * own data, generator, metrics and percentiles, for 30 seeds per case.
 */
interface BootstrapReference {
  resamples: number;
  confidence: number;
  models: Record<string, [number, number]>;
  x: number[];
  y: number[];
  cases: {
    candidate: string;
    metric: string;
    estimate: number;
    lower: { mean: number; std: number };
    upper: { mean: number; std: number };
  }[];
  quantiles: { values: number[]; probabilities: number[]; quantiles: number[] }[];
}

const reference = JSON.parse(
  readFileSync(new URL("./fixtures/bootstrap_reference.json", import.meta.url), "utf8"),
) as BootstrapReference;

describe("significance (paired bootstrap)", () => {
  it("fails a clearly worse candidate, reporting the interval of 'worse by'", () => {
    const row = significance(biased, "rmse:significance");
    expect(row.passed).toBe(false);
    expect(row.rule).toBe("significance=0.95");
    const interval = row.interval!;
    expect(interval.estimate).toBe((row.candidate ?? 0) - (row.baseline ?? 0));
    expect(interval.lower).toBeGreaterThan(0);
    expect(interval.lower).toBeLessThan(interval.estimate);
    expect(interval.upper).toBeGreaterThan(interval.estimate);
    expect(interval).toMatchObject({ confidence: 0.95, resamples: 1000, seed: 0 });
    const number = (value: number) => `+${Number(value.toPrecision(4))}`;
    expect(row.reason).toBe(
      `rmse worse by ${number(interval.estimate)} for the candidate (95 % interval ` +
        `${number(interval.lower)} to ${number(interval.upper)}; 1000 paired resamples, ` +
        "seed 0): worse with 95 % confidence.",
    );
  });

  it("passes a candidate that is only noisily different", () => {
    for (const metric of ["rmse", "mse", "mae", "r2"]) {
      const row = significance(nearlyEqual, `${metric}:significance`);
      expect(row.passed, metric).toBe(true);
      expect(row.interval!.lower, metric).toBeLessThan(0);
      expect(row.interval!.upper, metric).toBeGreaterThan(0);
      expect(row.reason, metric).toMatch(/: not worse with 95 % confidence\.$/);
    }
  });

  it("fails a clearly worse candidate whichever way the metric points", () => {
    for (const metric of ["mse", "mae", "mape", "r2", "explained_variance", "max_error"]) {
      const row = significance(biased, `${metric}:significance`);
      if (metric === "explained_variance") {
        // A constant offset leaves the variance of the residuals unchanged.
        expect(row.passed, metric).toBe(true);
      } else {
        expect(row.passed, metric).toBe(false);
        expect(row.interval!.lower, metric).toBeGreaterThan(0);
      }
    }
  });

  it("agrees with numpy's paired bootstrap, an independent reference", () => {
    const referenceData = new Frame({
      x: numericColumn(Float64Array.from(reference.x)),
      y: numericColumn(Float64Array.from(reference.y)),
    });
    const model = (name: string) => linear(...reference.models[name]);
    const { resamples, confidence } = reference;
    expect(reference.cases).toHaveLength(10);
    for (const item of reference.cases) {
      const where = `${item.candidate} ${item.metric}`;
      const [row] = evaluateGate({
        candidate: model(item.candidate),
        baseline: model("truth"),
        data: referenceData,
        rules: [
          `${item.metric}:significance=${confidence},significance.resamples=${resamples},` +
            "significance.seed=5",
        ],
      }).rows;
      const interval = row.interval!;
      // The metric on every row: the same number, computed independently.
      expect(interval.estimate, where).toBeCloseTo(item.estimate, 12);
      // Our generator draws other rows than numpy's, so the bounds are compared with the spread
      // of numpy's bounds over 30 seeds: within 4 standard deviations of their mean.
      for (const side of ["lower", "upper"] as const) {
        const { mean, std } = item[side];
        expect(Math.abs(interval[side] - mean), `${where} ${side}`).toBeLessThanOrEqual(
          4 * std + 1e-12,
        );
      }
    }
  });

  it("takes the bounds as numpy.percentile does (linear interpolation)", () => {
    for (const { values, probabilities, quantiles } of reference.quantiles) {
      probabilities.forEach((probability, i) => {
        expect(quantileSorted(values, probability), `${values.length} ${probability}`).toBeCloseTo(
          quantiles[i],
          12,
        );
      });
    }
  });

  it("gives the same interval for the same seed, and another for another seed", () => {
    const first = significance(nearlyEqual, "mae:significance.seed=3").interval;
    const again = significance(nearlyEqual, "mae:significance.seed=3").interval;
    const other = significance(nearlyEqual, "mae:significance.seed=4").interval;
    expect(again).toEqual(first);
    expect(other).not.toEqual(first);
    expect(other?.estimate).toBe(first?.estimate);
  });

  it("widens with the confidence", () => {
    const narrow = significance(nearlyEqual, "rmse:significance=0.8").interval!;
    const wide = significance(nearlyEqual, "rmse:significance=0.99").interval!;
    expect(wide.lower).toBeLessThan(narrow.lower);
    expect(wide.upper).toBeGreaterThan(narrow.upper);
  });

  it("needs evaluation data (an error, not a failed check), and passes without a baseline", () => {
    expect(() =>
      evaluateGate({
        rules: ["rmse:significance"],
        candidateMetrics: { rmse: 1 },
        baselineMetrics: { rmse: 1 },
      }),
    ).toThrow(
      "The significance rule on rmse needs evaluation data: it resamples the rows both models " +
        "predicted, and only stored metrics were given.",
    );
    const first = evaluateGate({ candidate: biased, data, rules: ["rmse:significance"] });
    expect(first.rows[0]).toMatchObject({
      passed: true,
      reason: "No baseline: nothing to compare.",
    });
    expect(first.rows[0].interval).toBeUndefined();
  });
});
