import { createRandom, Frame, MlopsError } from "@mlops/core";
import { describe, expect, it } from "vitest";
import { type ArtifactModel, Estimator } from "../estimator/estimator.js";
import type { TrainingData } from "../estimator/training.js";
import { CategoricalParzen, NumericParzen, normalCdf, observationWeights } from "./parzen.js";
import { RandomSearch } from "./search.js";
import { choice, integer, logUniform, uniform } from "./space.js";
import { defaultGamma, TPESearch } from "./tpe.js";

interface BowlParams {
  a: number;
  rate: number;
  mode: string;
  depth: number | null;
}

/**
 * Predicts the training mean shifted by a known function of its parameters, zero at a = 3,
 * rate = 0.01, mode "x" and depth null or 12: its CV RMSE grows with the shift, so a search's
 * scores are a smooth bowl with a known bottom.
 */
class BowlRegressor extends Estimator<BowlParams> {
  #mean = 0;

  constructor(params: Partial<BowlParams> = {}) {
    super({ a: 0, rate: 1, mode: "z", depth: 1 }, params);
  }

  /** The shift of the predictions for the current parameters. */
  shift(): number {
    const { a, rate, mode, depth } = this.getParams();
    const depthTerm = depth === null ? 0 : ((depth - 12) / 4) ** 2;
    return (a - 3) ** 2 + (Math.log10(rate) + 2) ** 2 + (mode === "x" ? 0 : 3) + depthTerm;
  }

  protected fitData(data: TrainingData): void {
    let sum = 0;
    for (const value of data.target) sum += value;
    this.#mean = sum / data.rowCount + this.shift();
  }

  protected predictColumns(_columns: Float64Array[], rowCount: number): Float64Array {
    return new Float64Array(rowCount).fill(this.#mean);
  }

  protected artifactModel(): ArtifactModel {
    return { kind: "linear", model: { intercept: this.#mean }, arrays: {} };
  }
}

const random = createRandom(5);
const frame = new Frame({
  x: { kind: "number", values: Float64Array.from({ length: 60 }, () => random.next()) },
  y: { kind: "number", values: Float64Array.from({ length: 60 }, () => random.next()) },
});

const space = {
  a: uniform(-10, 10),
  rate: logUniform(1e-4, 1),
  mode: ["x", "y", "z"],
  depth: choice([null, integer(1, 20)]),
};

function shiftOf(params: Record<string, unknown>): number {
  return new BowlRegressor(params as Partial<BowlParams>).shift();
}

describe("Parzen estimators", () => {
  it("is a probability density: integrates to 1 on its range, integers sum to 1", () => {
    const settings = { priorWeight: 1 };
    const numeric = new NumericParzen([0.5, 1.5, 1.7, 9], 0, 10, false, false, settings);
    let integral = 0;
    const steps = 100_000;
    for (let i = 0; i < steps; i++)
      integral += Math.exp(numeric.logPdf((i + 0.5) / 10_000)) / 10_000;
    expect(integral).toBeCloseTo(1, 4);
    const logScale = new NumericParzen([0.001, 0.01], 1e-4, 1, true, false, settings);
    let logIntegral = 0;
    for (let i = 0; i < steps; i++) {
      const u = Math.log(1e-4) + ((i + 0.5) / steps) * (Math.log(1) - Math.log(1e-4));
      // ∫ p(x) dx over log space: the density is in log units, so dx = d(log x).
      logIntegral +=
        (Math.exp(logScale.logPdf(Math.exp(u))) * (Math.log(1) - Math.log(1e-4))) / steps;
    }
    expect(logIntegral).toBeCloseTo(1, 4);
    const integers = new NumericParzen([3, 3, 4], 1, 20, false, true, settings);
    let mass = 0;
    for (let k = 1; k <= 20; k++) mass += Math.exp(integers.logPdf(k));
    expect(mass).toBeCloseTo(1, 10);
    const categorical = new CategoricalParzen([0, 0, 2], 4, settings);
    let total = 0;
    for (let c = 0; c < 4; c++) total += Math.exp(categorical.logPdf(c));
    expect(total).toBeCloseTo(1, 12);
    // Observations pull the mass: choice 0, seen twice, is the likeliest.
    expect(categorical.logPdf(0)).toBeGreaterThan(categorical.logPdf(2));
    expect(categorical.logPdf(2)).toBeGreaterThan(categorical.logPdf(1));
  });

  it("draws inside the range, integers as integers, near the observations", () => {
    const draws = createRandom(1);
    const settings = { priorWeight: 1 };
    const numeric = new NumericParzen([2, 2.1, 1.9, 2.05], 0, 10, false, false, settings);
    const integers = new NumericParzen([7, 7, 8], 1, 20, true, true, settings);
    let near = 0;
    for (let i = 0; i < 2000; i++) {
      const x = numeric.sample(draws);
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThanOrEqual(10);
      if (Math.abs(x - 2) < 1) near++;
      const k = integers.sample(draws);
      expect(Number.isInteger(k) && k >= 1 && k <= 20).toBe(true);
    }
    // Four of five kernels sit at 2 (the fifth, the prior, is flat): twice the share of [1, 3]
    // that a uniform draw would give (20 %), though magic clipping keeps the kernels wide.
    expect(near).toBeGreaterThan(800);
  });

  it("uses Optuna's γ and weights", () => {
    expect([1, 10, 11, 100, 250, 1000].map(defaultGamma)).toEqual([1, 1, 2, 10, 25, 25]);
    expect(Array.from(observationWeights(3))).toEqual([1, 1, 1]);
    const weights = observationWeights(30);
    expect(weights[0]).toBeCloseTo(1 / 30, 15);
    expect(weights[4]).toBeCloseTo(1, 15);
    expect(Array.from(weights.subarray(5))).toEqual(new Array(25).fill(1));
    expect(normalCdf(-1.959963984540054)).toBeCloseTo(0.025, 12);
  });
});

describe("TPESearch", () => {
  const run = (options: Record<string, unknown> = {}) =>
    new TPESearch({
      estimator: new BowlRegressor(),
      paramDistributions: space,
      nIter: 40,
      cv: 3,
      nJobs: 1,
      seed: 11,
      ...options,
    }).fit(frame, "y");

  it("is seeded: the same seed gives the same trials, another seed others", async () => {
    const first = await run();
    const second = await run();
    expect(second.cvResults.params).toEqual(first.cvResults.params);
    const other = await run({ seed: 12 });
    expect(other.cvResults.params).not.toEqual(first.cvResults.params);
    expect(first.cvResults.params).toHaveLength(40);
  });

  it("draws the start-up trials at random, then concentrates near the optimum", async () => {
    const search = await run();
    const shifts = search.cvResults.params.map(shiftOf);
    const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
    // The last 20 trials sit much closer to the bottom of the bowl than the 10 random ones.
    expect(mean(shifts.slice(20))).toBeLessThan(mean(shifts.slice(0, 10)) / 3);
    expect(shiftOf(search.bestParams)).toBeLessThan(3);
  });

  it("finds better settings than random search with the same budget, over seeds", async () => {
    let wins = 0;
    let tpeTotal = 0;
    let randomTotal = 0;
    for (let seed = 0; seed < 6; seed++) {
      const tpe = await run({ seed });
      const random = await new RandomSearch({
        estimator: new BowlRegressor(),
        paramDistributions: space,
        nIter: 40,
        cv: 3,
        nJobs: 1,
        seed,
      }).fit(frame, "y");
      if (tpe.bestScore < random.bestScore) wins++;
      tpeTotal += tpe.bestScore;
      randomTotal += random.bestScore;
    }
    expect(wins).toBeGreaterThanOrEqual(4);
    expect(tpeTotal).toBeLessThan(randomTotal);
  });

  it("models conditional parameters only on the trials that drew them", async () => {
    const search = await run();
    const depths = search.cvResults.params.map((params) => params.depth);
    expect(depths.some((depth) => depth === null)).toBe(true);
    expect(depths.some((depth) => typeof depth === "number")).toBe(true);
    for (const depth of depths) {
      if (depth !== null) expect(Number.isInteger(depth) && (depth as number) >= 1).toBe(true);
    }
    // A list of spaces: one branch per trial, its own parameters only.
    const branches = await new TPESearch({
      estimator: new BowlRegressor(),
      paramDistributions: [
        { mode: ["x"], a: uniform(0, 6) },
        { mode: ["y", "z"], rate: logUniform(1e-3, 1) },
      ],
      nIter: 25,
      cv: 3,
      nJobs: 1,
      seed: 2,
    }).fit(frame, "y");
    for (const params of branches.cvResults.params) {
      expect(Object.keys(params).sort()).toEqual(
        params.mode === "x" ? ["a", "mode"] : ["mode", "rate"],
      );
    }
  });

  it("proposes distinct candidates within a batch (the constant liar)", async () => {
    const search = await run({ batchSize: 4, nIter: 36 });
    const params = search.cvResults.params;
    expect(params).toHaveLength(36);
    for (let start = 12; start < 36; start += 4) {
      const batch = params.slice(start, start + 4).map((p) => JSON.stringify(p));
      expect(new Set(batch).size).toBe(4);
    }
    // Reproducible too.
    const again = await run({ batchSize: 4, nIter: 36 });
    expect(again.cvResults.params).toEqual(params);
  });

  it("rejects bad options and spaces, saying where", () => {
    const create = (options: Record<string, unknown>) => () =>
      new TPESearch({
        estimator: new BowlRegressor(),
        paramDistributions: space,
        ...options,
      } as never);
    const rejects = (options: Record<string, unknown>, message: RegExp) => {
      let error: unknown;
      try {
        create(options)();
      } catch (caught) {
        error = caught;
      }
      expect(MlopsError.isInstance(error), String(error)).toBe(true);
      expect((error as MlopsError).code).toBe("argument_invalid");
      expect((error as MlopsError).message).toMatch(message);
    };
    rejects({ nIter: 0 }, /TPESearch: nIter: expected an integer ≥ 1, got 0/);
    rejects({ nStartupTrials: -1 }, /nStartupTrials: expected an integer ≥ 0, got -1/);
    rejects({ nEiCandidates: 1.5 }, /nEiCandidates: expected an integer ≥ 1, got 1.5/);
    rejects({ batchSize: 0 }, /batchSize: expected an integer ≥ 1, got 0/);
    rejects({ gamma: 2 }, /gamma: expected a fraction in \(0, 1\] or a function/);
    rejects({ priorWeight: 0 }, /priorWeight: expected a number > 0, got 0/);
    rejects({ seed: -3 }, /seed: expected an integer ≥ 0, got -3/);
    rejects({ paramDistributions: [] }, /paramDistributions is an empty list/);
    rejects({ paramDistributions: { a: [] } }, /paramDistributions.a: expected a non-empty list/);
    rejects(
      { paramDistributions: { a: 5 } },
      /paramDistributions.a: expected a distribution .* got 5/,
    );
    rejects(
      { paramDistributions: { a: { sample: () => 1, toJSON: () => ({}) } } },
      /paramDistributions.a: a custom distribution cannot be modelled by TPE/,
    );
    rejects({ paramDistributions: [{ a: [1] }, 3] }, /paramDistributions\[1\]: expected an object/);
    expect(() => uniform(2, 1)).toThrow(/uniform: expected low < high, got 2, 1/);
    expect(() => logUniform(0, 1)).toThrow(/logUniform: expected 0 < low < high/);
    expect(() => integer(5, 2)).toThrow(/integer: expected integers low ≤ high, got 5, 2/);
    expect(() => integer(0, 9, { log: true })).toThrow(/a log scale needs low ≥ 1, got 0/);
    expect(() => choice([])).toThrow(/choice: expected a non-empty list/);
  });
});
