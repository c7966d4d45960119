import { describe, expect, it } from "vitest";
import { profileBin } from "../drift/bins.js";
import { createRandom } from "../metrics/random.js";
import { countOnEdges, samplePositions } from "./edges.js";

describe("countOnEdges", () => {
  const random = createRandom(11);
  const lognormal = () =>
    Math.exp(
      3 * Math.sqrt(-2 * Math.log(1 - random.next())) * Math.cos(2 * Math.PI * random.next()),
    );
  const edgeSets: [string, number[]][] = [
    ["one edge", [3]],
    ["two edges", [-1, 1]],
    ["even", Array.from({ length: 101 }, (_, i) => i / 10)],
    // Most edges in the first cell of the first table: a crowded cell gets a table of its own.
    ["heavy tail", Array.from({ length: 113 }, (_, i) => Math.exp(i / 6) - 1)],
    ["skewed", [...new Set(Array.from({ length: 300 }, lognormal))].sort((a, b) => a - b)],
    ["integers with a cap", [1, 2, 3, 4, 5, 50, 50.5, 1e6]],
    ["tiny range", [1, 1 + 1e-15, 1 + 2e-15, 1 + 3e-15, 1 + 4e-15]],
    ["huge range", [-1e308, -1, 0, 1e-300, 1, 1e308]],
  ];
  for (const [name, edges] of edgeSets) {
    it(`${name}: the bins of profileBin, the extremes and moments of every value`, () => {
      const low = edges[0];
      const high = edges[edges.length - 1];
      const values: number[] = [
        ...edges,
        ...edges.map((edge) => edge + 1e-9),
        ...edges.map((edge) => edge - 1e-9),
        ...edges.map((edge) => edge * (1 + Number.EPSILON)),
        ...edges.map((edge) => edge * (1 - Number.EPSILON)),
        Number.NEGATIVE_INFINITY,
        Number.POSITIVE_INFINITY,
        Number.NaN,
        -0,
        low - 5,
        low - 5,
        high + 7,
      ];
      for (let i = 0; i < 5_000; i++) {
        const u = random.next();
        values.push(
          u < 0.3
            ? edges[random.int(edges.length)]
            : u < 0.6
              ? lognormal()
              : low + (high - low) * random.next(),
        );
      }
      const counted = countOnEdges(values, Float64Array.from(edges), 0.5);
      const expected = new Float64Array(2 * edges.length + 1);
      let missing = 0;
      let sum = 0;
      let squares = 0;
      for (const value of values) {
        if (!Number.isFinite(value)) {
          missing++;
          continue;
        }
        expected[profileBin(edges, value)]++;
        sum += value - 0.5;
        squares += (value - 0.5) ** 2;
      }
      expect([...counted.bins]).toEqual([...expected]);
      expect(counted.missing).toBe(missing);
      const finite = values.filter(Number.isFinite);
      const below = finite.filter((value) => value < low);
      const above = finite.filter((value) => value > high);
      const min = Math.min(...below);
      const max = Math.max(...above);
      expect(counted.below).toEqual({
        min,
        atMin: below.filter((value) => value === min).length,
      });
      expect(counted.above).toEqual({
        max,
        atMax: above.filter((value) => value === max).length,
      });
      if (Number.isFinite(sum)) expect(counted.sum).toBeCloseTo(sum, 6);
      if (Number.isFinite(squares)) {
        expect(counted.squares / squares).toBeCloseTo(1, 12);
      }
    });
  }
});

describe("samplePositions", () => {
  it("one position per stratum, ascending, the same every time", () => {
    const positions = samplePositions(1_000, 100);
    expect(positions.length).toBe(100);
    for (let k = 0; k < 100; k++) {
      expect(positions[k]).toBeGreaterThanOrEqual(k * 10);
      expect(positions[k]).toBeLessThan((k + 1) * 10);
    }
    expect([...samplePositions(1_000, 100)]).toEqual([...positions]);
    // Not a fixed stride: the offsets inside the strata vary.
    expect(new Set([...positions].map((position, k) => position - 10 * k)).size).toBeGreaterThan(5);
    expect([...samplePositions(5, 10)]).toEqual([0, 1, 2, 3, 4]);
  });
});
