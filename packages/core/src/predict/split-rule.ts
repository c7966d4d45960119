import type { SplitRule } from "../artifact/types.js";

/** The split rules, the default first. */
export const SPLIT_RULES: readonly SplitRule[] = Object.freeze([
  "float64_le",
  "float32_le",
  "float32_lt",
]);

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);

/** The next float32 above the float32 `value` (`+Infinity` above the largest). */
export function nextFloat32Up(value: number): number {
  if (Number.isNaN(value) || value === Number.POSITIVE_INFINITY) return value;
  if (value === 0) return 2 ** -149;
  f32[0] = value;
  u32[0] += value > 0 ? 1 : -1;
  return f32[0];
}

/** The next float32 below the float32 `value` (`-Infinity` below the lowest). */
export function nextFloat32Down(value: number): number {
  return -nextFloat32Up(-value);
}

/** The float64 just below `value` (finite, nonzero `value`s only are needed here). */
function previousFloat64(value: number): number {
  if (value === 0) return -Number.MIN_VALUE;
  f64[0] = value;
  u64[0] += value > 0 ? -1n : 1n;
  return f64[0];
}

/** The largest float32 `f` with `f <= value` (-Infinity when there is none). */
function float32AtMost(value: number): number {
  const rounded = Math.fround(value);
  return rounded > value ? nextFloat32Down(rounded) : rounded;
}

/**
 * The float64 threshold `T` for which `x <= T` decides every finite float64 `x` exactly as
 * `rule` decides it with `threshold`. The predictor walks trees with `x <= T` alone, whatever the
 * rule, so the hot loop has no branch on it and reads the input as it is.
 *
 * `float32(x) <= t` holds exactly when `float32(x) <= f`, `f` the largest float32 not above
 * `t`; the float64 values that round to at most `f` are those up to the midpoint between `f`
 * and the next float32 (the midpoint itself included when it rounds down, ties to even).
 *
 * @example
 * // float32(x) <= 0.1 holds for x up to the midpoint of 0.099999994f and 0.100000001f:
 * walkThreshold(0.1, "float32_le"); // 0.09999999776482582
 */
export function walkThreshold(threshold: number, rule: SplitRule): number {
  if (rule === "float64_le" || Number.isNaN(threshold)) return threshold;
  if (threshold === Number.POSITIVE_INFINITY) return threshold;
  // float32(x) < s with s a float32 is float32(x) <= the float32 just below s; nothing is
  // below -Infinity.
  if (rule === "float32_lt" && Math.fround(threshold) === Number.NEGATIVE_INFINITY) {
    return Number.NEGATIVE_INFINITY;
  }
  const bound =
    rule === "float32_lt" ? nextFloat32Down(Math.fround(threshold)) : float32AtMost(threshold);
  if (bound === Number.POSITIVE_INFINITY) return bound;
  const next = nextFloat32Up(bound);
  // The midpoint is exact in float64 (float32 has 24 significant bits); past the largest
  // float32 the next one is 2^128 for rounding purposes.
  const upper = next === Number.POSITIVE_INFINITY ? 2 ** 128 : next;
  const lower = bound === Number.NEGATIVE_INFINITY ? -(2 ** 128) : bound;
  const midpoint = lower / 2 + upper / 2;
  return Math.fround(midpoint) <= bound ? midpoint : previousFloat64(midpoint);
}

/**
 * A float32 threshold `s` for which `float32(x) <= s` decides like `rule` (for graphs that read
 * float32 inputs, as ONNX's tree ensembles do), with the comparison to use: `"<="` or `"<"`.
 * Exact for the float32 rules; for `"float64_le"` it is the same as `"float32_le"`, which
 * differs from float64 only for inputs within half a float32 step of the threshold.
 */
export function float32Threshold(
  threshold: number,
  rule: SplitRule,
): { value: number; operator: "<=" | "<" } {
  if (rule === "float32_lt") return { value: Math.fround(threshold), operator: "<" };
  return { value: float32AtMost(threshold), operator: "<=" };
}
