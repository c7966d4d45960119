import { describe, expect, it } from "vitest";
import type { SplitRule } from "../artifact/types.js";
import { createRandom } from "../metrics/random.js";
import {
  float32Threshold,
  nextFloat32Down,
  nextFloat32Up,
  SPLIT_RULES,
  walkThreshold,
} from "./split-rule.js";

/** The rules as their sources state them, one comparison at a time. */
const reference: Record<SplitRule, (x: number, t: number) => boolean> = {
  float64_le: (x, t) => x <= t,
  float32_le: (x, t) => Math.fround(x) <= t,
  float32_lt: (x, t) => Math.fround(x) < Math.fround(t),
};

const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);
function stepFloat64(value: number, steps: number): number {
  f64[0] = value;
  if (value === 0 && steps < 0) return -Number.MIN_VALUE;
  u64[0] += BigInt(value >= 0 ? steps : -steps);
  return f64[0];
}

/**
 * Finite values around `t` where the rules can disagree: float32 neighbours and their midpoints
 * (the schema lets no infinite value reach a model).
 */
function probesAround(t: number): number[] {
  const probes = [t, Math.fround(t), 0, -0, Number.MAX_VALUE, -Number.MAX_VALUE];
  let low = Math.fround(t);
  for (let k = 0; k < 3; k++) low = nextFloat32Down(low);
  for (let k = 0, f = low; k < 6 && Number.isFinite(f); k++, f = nextFloat32Up(f)) {
    const next = nextFloat32Up(f);
    probes.push(f);
    if (Number.isFinite(next)) {
      const mid = f / 2 + next / 2;
      for (let s = -2; s <= 2; s++) probes.push(stepFloat64(mid, s));
    }
  }
  for (let s = -3; s <= 3; s++) if (t !== 0) probes.push(stepFloat64(t, s));
  return probes.filter(Number.isFinite);
}

describe("split rules", () => {
  it("steps between neighbouring float32 values", () => {
    expect(nextFloat32Up(1)).toBe(1 + 2 ** -23);
    expect(nextFloat32Down(1)).toBe(1 - 2 ** -24);
    expect(nextFloat32Up(0)).toBe(2 ** -149);
    expect(nextFloat32Down(0)).toBe(-(2 ** -149));
    expect(nextFloat32Up(-(2 ** -149)) === 0).toBe(true);
    expect(nextFloat32Up(3.4028234663852886e38)).toBe(Number.POSITIVE_INFINITY);
    expect(nextFloat32Down(Number.POSITIVE_INFINITY)).toBe(3.4028234663852886e38);
  });

  it("turns every rule into one float64 `x <= T` that decides each input the same way", () => {
    const random = createRandom(13);
    const thresholds = [
      0.1, 0.5, 1, -1, 0, -0, 2.5, 1e-45, -1e-45, 1e-300, 3.4028234663852886e38,
      3.4028235677973366e38, -3.4028235677973366e38, 1e39, -1e39, 16777217, 0.30000001192092896,
    ];
    for (let i = 0; i < 400; i++) {
      const magnitude = 10 ** (random.next() * 12 - 6);
      thresholds.push((random.next() - 0.5) * magnitude);
      thresholds.push(Math.fround((random.next() - 0.5) * magnitude));
    }
    let checked = 0;
    for (const rule of SPLIT_RULES) {
      for (const t of thresholds) {
        const walk = walkThreshold(t, rule);
        for (const x of probesAround(t)) {
          const expected = reference[rule](x, t);
          if (x <= walk !== expected) {
            throw new Error(`${rule}: t=${t} x=${x}: x <= ${walk} is ${!expected}`);
          }
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(30_000);
  });

  it("keeps float64 thresholds as they are under the default rule", () => {
    expect(walkThreshold(0.1, "float64_le")).toBe(0.1);
    expect(walkThreshold(0.1, "float32_le")).toBe(0.09999999776482582);
    expect(walkThreshold(Number.POSITIVE_INFINITY, "float32_le")).toBe(Number.POSITIVE_INFINITY);
  });

  it("gives the float32 threshold and operator an ONNX tree uses", () => {
    expect(float32Threshold(0.1, "float32_le")).toEqual({
      value: Math.fround(0.09999999776482582),
      operator: "<=",
    });
    expect(float32Threshold(0.1, "float32_lt")).toEqual({ value: Math.fround(0.1), operator: "<" });
    for (const t of [0.1, 0.7, -3.3, 1e-8]) {
      const { value } = float32Threshold(t, "float32_le");
      for (const x of probesAround(t)) {
        expect(Math.fround(x) <= value).toBe(Math.fround(x) <= t);
      }
    }
  });
});
