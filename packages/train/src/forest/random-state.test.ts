import { describe, expect, it } from "vitest";
import { NumpyRandomState } from "./random-state.js";

// Values printed by numpy 1.24 (Debian's /usr/bin/python3):
//   r = np.random.RandomState(42); [r.randint(2**31 - 1) for _ in range(3)]
//   r.randint(0, 442, 5).tolist(); r.randint(0, 7, 3).tolist()
//   r = np.random.RandomState(7); r.standard_normal(3).tolist(); r.random_sample()
describe("NumpyRandomState", () => {
  it("draws numpy's masked bounded integers", () => {
    const random = new NumpyRandomState(42);
    const seeds = [0, 1, 2].map(() => random.randint(2 ** 31 - 1));
    expect(seeds).toEqual([1608637542, 1273642419, 1935803228]);
    expect([0, 1, 2, 3, 4].map(() => random.randint(442))).toEqual([270, 106, 71, 188, 20]);
    expect([0, 1, 2].map(() => random.randint(7))).toEqual([6, 1, 2]);
    expect(random.randint(1)).toBe(0);
  });

  it("draws numpy's legacy standard normals (the pair's second value cached)", () => {
    const random = new NumpyRandomState(7);
    const normals = [random.standardNormal(), random.standardNormal(), random.standardNormal()];
    expect(normals[0]).toBeCloseTo(1.690525703800356, 14);
    expect(normals[1]).toBeCloseTo(-0.4659373705408328, 14);
    expect(normals[2]).toBeCloseTo(0.0328201636785844, 14);
    expect(random.randomSample()).toBe(0.5011204636599379);
  });
});
