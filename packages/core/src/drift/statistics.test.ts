import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  chiSquareContingency,
  jensenShannonDistance,
  populationStabilityIndex,
} from "./divergence.js";
import { kolmogorovSf, ksTwoSamplePValue, smirnovSf } from "./kolmogorov.js";
import { ksTwoSample, wassersteinDistance } from "./samples.js";

interface Side {
  n: number;
  seed: number;
  shift: number;
  scale: number;
  step: number;
}

const fixture = JSON.parse(
  readFileSync(new URL("./fixtures/drift_reference.json", import.meta.url), "utf8"),
) as {
  scipy: string;
  ks: {
    name: string;
    reference: Side;
    current: Side;
    statistic: number;
    pValue: number;
    wasserstein: number;
    checksum: number;
  }[];
  kolmogorov: { n: number; x: number; sf: number }[];
  smirnov: { n: number; x: number; sf: number }[];
  chiSquare: {
    reference: number[];
    current: number[];
    statistic: number;
    pValue: number;
    dof: number;
  }[];
  divergences: { reference: number[]; current: number[]; psi: number; jensenShannon: number }[];
};

/** The fixture script's sample: xorshift32 uniforms, three per value (see make_fixtures.py). */
function generatedSample(side: Side): Float64Array {
  let x = side.seed >>> 0;
  const next = () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
  const out = new Float64Array(side.n);
  for (let i = 0; i < side.n; i++) {
    const u0 = next();
    const u1 = next();
    const u2 = next();
    let value = (u0 + u1 + u2) * side.scale + side.shift;
    if (side.step) value = Math.floor(value * side.step) / side.step;
    out[i] = value;
  }
  return out;
}

function relative(actual: number, expected: number): number {
  if (expected === 0) return Math.abs(actual);
  return Math.abs(actual - expected) / Math.abs(expected);
}

describe("two-sample statistics against scipy " + fixture.scipy, () => {
  for (const entry of fixture.ks) {
    it(`${entry.name}: KS statistic and Wasserstein to 1e-9, KS p-value to 1e-4`, () => {
      const reference = generatedSample(entry.reference);
      const current = generatedSample(entry.current);
      // The same samples as scipy saw (bit for bit: the sums agree exactly).
      let checksum = 0;
      for (const value of reference) checksum += value;
      let currentSum = 0;
      for (const value of current) currentSum += value;
      expect(relative(checksum + currentSum, entry.checksum)).toBeLessThan(1e-12);
      const result = ksTwoSample(reference, current);
      expect(relative(result.statistic, entry.statistic)).toBeLessThan(1e-9);
      expect(Math.abs(result.pValue - entry.pValue)).toBeLessThan(1e-4);
      expect(relative(wassersteinDistance(reference, current), entry.wasserstein)).toBeLessThan(
        1e-9,
      );
      const mode = Math.max(entry.reference.n, entry.current.n) <= 10_000 ? "exact" : "asymp";
      expect(result.method).toBe(mode);
    });
  }

  it("p-values are far closer to scipy's than the 1e-4 asked for", () => {
    let worst = 0;
    for (const entry of fixture.ks) {
      const result = ksTwoSample(generatedSample(entry.reference), generatedSample(entry.current));
      worst = Math.max(worst, Math.abs(result.pValue - entry.pValue));
    }
    expect(worst).toBeLessThan(1e-9);
  });

  it("kstwo.sf over every algorithm branch (Durbin, Pomeranz, Pelz–Good, Smirnov)", () => {
    for (const { n, x, sf } of fixture.kolmogorov) {
      const actual = kolmogorovSf(n, x);
      expect(Math.abs(actual - sf), `n=${n} x=${x}: ${actual} vs ${sf}`).toBeLessThan(1e-10);
      if (sf > 1e-300) expect(relative(actual, sf), `n=${n} x=${x}`).toBeLessThan(1e-6);
    }
  });

  it("smirnov's one-sided survival function", () => {
    for (const { n, x, sf } of fixture.smirnov) {
      const actual = smirnovSf(n, x);
      expect(Math.abs(actual - sf), `n=${n} x=${x}`).toBeLessThan(1e-9);
      if (sf > 1e-300) expect(relative(actual, sf), `n=${n} x=${x}`).toBeLessThan(1e-8);
    }
  });

  it("chi2_contingency, Yates' correction with one degree of freedom", () => {
    for (const table of fixture.chiSquare) {
      const result = chiSquareContingency(table.reference, table.current);
      expect(result.dof).toBe(table.dof);
      expect(relative(result.statistic, table.statistic)).toBeLessThan(1e-12);
      expect(relative(result.pValue, table.pValue)).toBeLessThan(1e-10);
    }
  });

  it("PSI (empty bins as 0.0001) and Jensen–Shannon (scipy's jensenshannon)", () => {
    for (const histogram of fixture.divergences) {
      expect(
        relative(populationStabilityIndex(histogram.reference, histogram.current), histogram.psi),
      ).toBeLessThan(1e-12);
      expect(
        Math.abs(
          jensenShannonDistance(histogram.reference, histogram.current) - histogram.jensenShannon,
        ),
      ).toBeLessThan(1e-12);
    }
  });
});

describe("KS and Wasserstein by hand", () => {
  it("match worked examples", () => {
    // F₁ and F₂ differ most between 2 and 3: 2/4 vs 0/4.
    expect(ksTwoSample([1, 2, 3, 4], [3, 4, 5, 6]).statistic).toBe(0.5);
    expect(wassersteinDistance([0, 1, 3], [5, 6, 8])).toBe(5);
    expect(wassersteinDistance([1, 1, 1], [1, 1])).toBe(0);
    expect(ksTwoSample([5, 5, 5], [5, 5]).pValue).toBe(1);
  });

  it("leave NaN and ±Infinity out, and refuse an empty sample", () => {
    expect(ksTwoSample([1, Number.NaN, 2, Infinity], [1, 2]).statistic).toBe(0);
    expect(() => ksTwoSample([Number.NaN], [1])).toThrow(/at least one finite value/);
    expect(() => wassersteinDistance([1], [])).toThrow(/at least one finite value/);
  });

  it("far-apart large samples: the asymptotic p-value, without a seconds-long exact count", () => {
    const result = ksTwoSamplePValue(0.45, 5000, 3000);
    expect(result.method).toBe("asymp");
    expect(result.pValue).toBeLessThan(1e-12);
    // Small samples keep the exact count even when far apart (5 vs 4: 2 paths of 126).
    expect(ksTwoSamplePValue(1, 5, 4)).toMatchObject({ method: "exact" });
    expect(ksTwoSamplePValue(1, 5, 4).pValue).toBeCloseTo(2 / 126, 15);
  });

  it("the p-value needs sizes: NaN without them", () => {
    expect(ksTwoSamplePValue(0.5, 0, 10).pValue).toBeNaN();
  });
});
