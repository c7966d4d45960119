import { describe, expect, it } from "vitest";
import { MlopsError } from "../errors/error.js";
import { createRandom, randomFromState } from "./random.js";

function caught(action: () => unknown): MlopsError {
  try {
    action();
  } catch (error) {
    if (MlopsError.isInstance(error)) return error;
    throw error;
  }
  throw new Error("expected an MlopsError, but nothing was thrown");
}

describe("randomFromState", () => {
  it("reproduces the xoshiro128** reference outputs for the state {1, 2, 3, 4}", () => {
    // First outputs of the reference C implementation (Blackman & Vigna) from s = {1, 2, 3, 4}.
    // The first is rotl(2 * 5, 7) * 9 = 1280 * 9 = 11520.
    const random = randomFromState(new Uint32Array([1, 2, 3, 4]));
    const outputs = Array.from({ length: 8 }, () => random.nextUint32());
    expect(outputs).toEqual([
      11520, 0, 5927040, 70819200, 2031721883, 1637235492, 1287239034, 3734860849,
    ]);
  });
});

describe("createRandom", () => {
  it("gives the same sequence for the same seed and a different one for another seed", () => {
    const draw = (seed: number) => {
      const random = createRandom(seed);
      return Array.from({ length: 16 }, () => random.next());
    };
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
    expect(draw(0)).not.toEqual(draw(2 ** 32));
    expect(draw(-1)).not.toEqual(draw(2 ** 32 - 1));
  });

  it("returns floats in [0, 1) with a mean near 1/2", () => {
    const random = createRandom(1);
    let sum = 0;
    let outside = 0;
    for (let index = 0; index < 100_000; index++) {
      const value = random.next();
      if (!(value >= 0 && value < 1)) outside++;
      sum += value;
    }
    expect(outside).toBe(0);
    // The mean of 100 000 uniforms has a standard deviation of 0.000913; 0.005 is over 5 sd.
    expect(Math.abs(sum / 100_000 - 0.5)).toBeLessThan(0.005);
  });

  it("returns integers in [0, n) that hit every value about equally often", () => {
    const random = createRandom(3);
    const counts = new Array<number>(7).fill(0);
    for (let index = 0; index < 70_000; index++) counts[random.int(7)]++;
    // A draw outside 0..6 would be missing from these seven counts.
    expect(counts.reduce((total, count) => total + count, 0)).toBe(70_000);
    // Each count is Binomial(70 000, 1/7): mean 10 000, sd 92.6; 500 is over 5 sd.
    for (const count of counts) expect(Math.abs(count - 10_000)).toBeLessThan(500);
    expect(random.int(1)).toBe(0);
    expect(random.int(2 ** 32)).toBeLessThan(2 ** 32);
  });

  it("rejects seeds and bounds that are not integers", () => {
    expect(caught(() => createRandom(1.5))).toMatchObject({
      code: "argument_invalid",
      message: "seed: expected a safe integer, got 1.5",
    });
    expect(caught(() => createRandom(Number.NaN)).message).toBe(
      "seed: expected a safe integer, got NaN",
    );
    const random = createRandom(0);
    expect(caught(() => random.int(0))).toMatchObject({
      code: "argument_invalid",
      message: "n: expected an integer between 1 and 2^32, got 0",
    });
    expect(caught(() => random.int(2.5)).message).toBe(
      "n: expected an integer between 1 and 2^32, got 2.5",
    );
  });
});
