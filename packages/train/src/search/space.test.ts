import { createRandom, MlopsError } from "@mlops/core";
import { describe, expect, it } from "vitest";
import {
  choice,
  gridSize,
  integer,
  logUniform,
  parameterGrid,
  parameterSampler,
  uniform,
} from "./space.js";

describe("parameterGrid", () => {
  it("iterates as scikit-learn's ParameterGrid docs show", () => {
    // >>> list(ParameterGrid({'a': [1, 2], 'b': [True, False]}))
    expect(parameterGrid({ b: [true, false], a: [1, 2] })).toEqual([
      { a: 1, b: true },
      { a: 1, b: false },
      { a: 2, b: true },
      { a: 2, b: false },
    ]);
    // >>> list(ParameterGrid([{'kernel': ['linear']}, {'kernel': ['rbf'], 'gamma': [1, 10]}]))
    expect(parameterGrid([{ kernel: ["linear"] }, { kernel: ["rbf"], gamma: [1, 10] }])).toEqual([
      { kernel: "linear" },
      { gamma: 1, kernel: "rbf" },
      { gamma: 10, kernel: "rbf" },
    ]);
    expect(gridSize([{ kernel: ["linear"] }, { kernel: ["rbf"], gamma: [1, 10] }])).toBe(3);
  });

  it("puts the benchmark grid in GridSearchCV's order (max_depth outer, leaf inner)", () => {
    const grid = parameterGrid({
      minSamplesLeaf: [1, 2, 5, 10, 20, 50, 100, 200, 500],
      maxDepth: [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
    });
    expect(grid).toHaveLength(99);
    expect(grid[0]).toEqual({ maxDepth: 2, minSamplesLeaf: 1 });
    expect(grid[9]).toEqual({ maxDepth: 3, minSamplesLeaf: 1 });
    expect(grid[98]).toEqual({ maxDepth: 12, minSamplesLeaf: 500 });
  });

  it("rejects empty and non-list values", () => {
    expect(() => parameterGrid({ maxDepth: [] })).toThrow(
      "paramGrid.maxDepth: expected a non-empty list of values, got an empty list",
    );
    expect(() => parameterGrid({ maxDepth: 3 as never })).toThrow(
      "paramGrid.maxDepth: expected a non-empty list of values, got 3",
    );
    expect(() => parameterGrid([])).toThrow(MlopsError);
  });
});

describe("distributions", () => {
  const draws = <T>(sample: (random: ReturnType<typeof createRandom>) => T, n = 4000) => {
    const random = createRandom(11);
    return Array.from({ length: n }, () => sample(random));
  };

  it("uniform stays in [low, high] with mean near the middle", () => {
    const values = draws(uniform(2, 4).sample);
    expect(Math.min(...values)).toBeGreaterThanOrEqual(2);
    expect(Math.max(...values)).toBeLessThanOrEqual(4);
    expect(values.reduce((a, b) => a + b, 0) / values.length).toBeCloseTo(3, 1);
  });

  it("logUniform spreads evenly over decades", () => {
    const values = draws(logUniform(1e-3, 10).sample);
    expect(Math.min(...values)).toBeGreaterThanOrEqual(1e-3);
    expect(Math.max(...values)).toBeLessThanOrEqual(10);
    // Four decades: about a quarter of the draws in each.
    const below = values.filter((value) => value < 1e-2).length / values.length;
    expect(below).toBeGreaterThan(0.2);
    expect(below).toBeLessThan(0.3);
  });

  it("integer includes both ends; choice picks listed values", () => {
    const values = draws(integer(2, 4).sample, 300);
    expect(new Set(values)).toEqual(new Set([2, 3, 4]));
    const picks = draws(choice(["a", "b"]).sample, 100);
    expect(new Set(picks)).toEqual(new Set(["a", "b"]));
    expect(integer(1, 3).toJSON()).toEqual({ distribution: "integer", low: 1, high: 3 });
  });

  it("rejects bad bounds", () => {
    expect(() => uniform(1, 1)).toThrow("uniform: expected low < high, got 1, 1");
    expect(() => logUniform(0, 1)).toThrow("logUniform: expected 0 < low < high");
    expect(() => integer(1.5, 3)).toThrow("integer: expected integers low ≤ high");
    expect(() => choice([])).toThrow("choice: expected a non-empty list");
  });
});

describe("parameterSampler", () => {
  it("draws reproducibly from a seed, parameters in sorted order", () => {
    const space = { maxDepth: integer(2, 12), minSamplesLeaf: [1, 5, 20], rate: uniform(0, 1) };
    const a = parameterSampler(space, 20, 5);
    expect(a).toEqual(parameterSampler(space, 20, 5));
    expect(a).not.toEqual(parameterSampler(space, 20, 6));
    for (const params of a) {
      expect(Object.keys(params)).toEqual(["maxDepth", "minSamplesLeaf", "rate"]);
      expect([1, 5, 20]).toContain(params.minSamplesLeaf);
    }
  });

  it("draws distinct grid points when every entry is a list, at most the grid", () => {
    const points = parameterSampler({ a: [1, 2, 3], b: ["x", "y"] }, 4, 0);
    expect(points).toHaveLength(4);
    expect(new Set(points.map((point) => JSON.stringify(point))).size).toBe(4);
    expect(parameterSampler({ a: [1, 2, 3], b: ["x", "y"] }, 50, 0)).toHaveLength(6);
  });

  it("picks one space per draw from a list", () => {
    const points = parameterSampler([{ a: integer(0, 9) }, { b: choice(["x"]) }], 40, 1);
    expect(points.some((point) => "a" in point)).toBe(true);
    expect(points.some((point) => "b" in point)).toBe(true);
  });

  it("rejects malformed spaces", () => {
    expect(() => parameterSampler({ a: 3 as never }, 5)).toThrow(
      "paramDistributions.a: expected a distribution",
    );
    expect(() => parameterSampler({ a: [1] }, 0)).toThrow("nIter: expected an integer ≥ 1");
  });
});
