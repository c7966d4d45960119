import { describe, expect, it } from "vitest";
import { SklearnRandom, sklearnRandomState } from "./sklearn-random.js";
import { sklearnSort } from "./sklearn-sort.js";

describe("scikit-learn's tree random numbers", () => {
  it("seeds like numpy.random.RandomState(seed).randint(0, 2**31 - 1)", () => {
    // Values printed by numpy 1.24.2 (Debian's python3-numpy).
    expect(sklearnRandomState(0)).toBe(209652396);
    expect(sklearnRandomState(1)).toBe(1791095845);
    expect(sklearnRandomState(42)).toBe(1608637542);
    expect(sklearnRandomState(4294967295)).toBe(419326371);
  });

  it("draws integers in [low, high) with the 32-bit xorshift", () => {
    const random = new SklearnRandom(0);
    // our_rand_r on 209652396: x ^= x << 13; x ^= x >> 17; x ^= x << 5 (mod 2^32), then % 2^31.
    let x = 209652396;
    x = (x ^ (x << 13)) >>> 0;
    x = (x ^ (x >>> 17)) >>> 0;
    x = (x ^ (x << 5)) >>> 0;
    expect(random.int(3, 10)).toBe(3 + ((x % 2 ** 31) % 7));
    for (let i = 0; i < 1000; i++) {
      const value = random.int(2, 5);
      expect(value >= 2 && value < 5).toBe(true);
    }
  });
});

describe("scikit-learn's node sort", () => {
  it("sorts keys with their rows", () => {
    for (const n of [0, 1, 2, 7, 100, 1000]) {
      const keys = Float32Array.from({ length: n }, (_, i) => ((i * 7919) % 13) / 4);
      const rows = Int32Array.from({ length: n }, (_, i) => i);
      const before = Array.from(keys);
      sklearnSort(keys, rows, n);
      for (let i = 1; i < n; i++) expect(keys[i - 1] <= keys[i]).toBe(true);
      for (let i = 0; i < n; i++) expect(keys[i]).toBe(before[rows[i]]);
    }
  });
});
