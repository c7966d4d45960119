import { describe, expect, it } from "vitest";
import { createRandom } from "../metrics/random.js";
import { sortFloat64 } from "./sort.js";

/** `values.sort()` and `sortFloat64` on copies of `values`, compared value by value (Object.is). */
function expectSortedLikeBuiltin(values: Float64Array): void {
  const expected = values.slice().sort();
  const actual = sortFloat64(values.slice());
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (!Object.is(actual[i], expected[i])) {
      expect.fail(`index ${i} of ${expected.length}: ${actual[i]}, expected ${expected[i]}`);
    }
  }
}

describe("sortFloat64", () => {
  const random = createRandom(11);
  const awkward = [
    0,
    -0,
    1,
    -1,
    0.1,
    -0.1,
    5e-324,
    -5e-324,
    2.2250738585072014e-308,
    1.7976931348623157e308,
    -1.7976931348623157e308,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    Number.NaN,
    2 ** 53,
    -(2 ** 53),
    1e-300,
    -1e-300,
  ];

  it("orders every kind of double as Float64Array#sort does, at every length", () => {
    for (const length of [0, 1, 2, 511, 512, 513, 4096, 50_000]) {
      const mixed = Float64Array.from({ length }, (_, i) =>
        i % 7 === 0
          ? awkward[random.int(awkward.length)]
          : (random.next() - 0.4) * 10 ** (random.int(40) - 20),
      );
      expectSortedLikeBuiltin(mixed);
    }
  });

  it("handles ties, one repeated value, sorted and reversed input, one magnitude, NaN only", () => {
    const n = 10_000;
    expectSortedLikeBuiltin(Float64Array.from({ length: n }, () => random.int(5) - 2));
    expectSortedLikeBuiltin(new Float64Array(n).fill(3.25));
    expectSortedLikeBuiltin(new Float64Array(n).fill(-0));
    expectSortedLikeBuiltin(Float64Array.from({ length: n }, (_, i) => i / 3));
    expectSortedLikeBuiltin(Float64Array.from({ length: n }, (_, i) => -i / 3));
    expectSortedLikeBuiltin(Float64Array.from({ length: n }, () => 1 + random.next()));
    expectSortedLikeBuiltin(new Float64Array(n).fill(Number.NaN));
    const zeros = Float64Array.from({ length: n }, (_, i) => (i % 2 === 0 ? 0 : -0));
    expectSortedLikeBuiltin(zeros);
  });

  it("sorts with a scratch array passed in, longer than the values", () => {
    const scratch = new Float64Array(9000);
    for (const length of [600, 5000, 9000]) {
      const values = Float64Array.from({ length }, () => (random.next() - 0.5) * 1e3);
      const expected = values.slice().sort();
      expect([...sortFloat64(values, scratch)]).toEqual([...expected]);
    }
  });

  it("sorts a view in place and leaves the rest of its buffer alone", () => {
    const buffer = Float64Array.from({ length: 3000 }, () => random.next() - 0.5);
    const before = buffer.slice();
    const view = buffer.subarray(1000, 2500);
    const expected = view.slice().sort();
    expect(sortFloat64(view)).toBe(view);
    expect([...view]).toEqual([...expected]);
    expect([...buffer.subarray(0, 1000)]).toEqual([...before.subarray(0, 1000)]);
    expect([...buffer.subarray(2500)]).toEqual([...before.subarray(2500)]);
  });
});
