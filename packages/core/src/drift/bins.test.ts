import { describe, expect, it } from "vitest";
import { createRandom } from "../metrics/random.js";
import { BinLocator, binNumbers, profileBin, profileBinCount } from "./bins.js";

describe("BinLocator", () => {
  const random = createRandom(7);
  const edgeSets: [string, number[]][] = [
    ["no edges", []],
    ["one edge", [3]],
    ["even", Array.from({ length: 101 }, (_, i) => i / 10)],
    ["heavy tail", Array.from({ length: 113 }, (_, i) => Math.exp(i / 6) - 1)],
    ["integers with a cap", [1, 2, 3, 4, 5, 50, 50.5, 1e6]],
    ["tiny range", [1, 1 + 1e-15, 1 + 2e-15]],
    ["huge range", [-1e308, 0, 1e308]],
  ];
  for (const [name, edges] of edgeSets) {
    it(`${name}: the same bin as profileBin for every value`, () => {
      const locator = new BinLocator(edges);
      const probes = [
        ...edges,
        ...edges.map((edge) => edge + 1e-9),
        ...edges.map((edge) => edge - 1e-9),
        ...edges.map((edge) => edge * (1 + Number.EPSILON)),
        Number.NEGATIVE_INFINITY,
        Number.POSITIVE_INFINITY,
        Number.NaN,
        -0,
      ];
      const low = edges[0] ?? 0;
      const high = edges.at(-1) ?? 1;
      for (let i = 0; i < 5_000; i++) probes.push(low + (high - low) * (random.next() * 1.2 - 0.1));
      for (const value of probes) {
        expect(locator.bin(value), `value ${value}`).toBe(profileBin(edges, value));
      }
    });
  }
});

describe("binNumbers", () => {
  it("counts every finite value in its bin, with the moments, and the rest as missing", () => {
    const edges = [1, 2, 3];
    const values = [0.5, 2, 2.5, Number.NaN, 3, 9, Number.POSITIVE_INFINITY];
    const binned = binNumbers(edges, values, 2);
    const expected = new Float64Array(profileBinCount(edges.length));
    for (const value of values) if (Number.isFinite(value)) expected[profileBin(edges, value)]++;
    expect(binned.counts).toEqual(expected);
    expect(binned).toMatchObject({ kind: "bins", missing: 2, min: 0.5, max: 9, shift: 2 });
    expect(binned.sum).toBeCloseTo(-1.5 + 0 + 0.5 + 1 + 7, 12);
    expect(binned.sumSquares).toBeCloseTo(2.25 + 0 + 0.25 + 1 + 49, 12);
  });
});
