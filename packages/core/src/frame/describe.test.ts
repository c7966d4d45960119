import { describe, expect, it } from "vitest";
import { describeFrame, quantileSorted } from "./describe.js";
import { categoryColumn, Frame, numericColumn } from "./frame.js";

describe("describeFrame", () => {
  it("matches pandas' describe() on a small column", () => {
    // pandas.Series([1, 2, 3, 4, 10]).describe(): mean 4.0, std 3.535534, 25% 2, 50% 3, 75% 4
    const frame = new Frame({ x: numericColumn([1, 2, null, 3, 4, 10]) });
    const [x] = describeFrame(frame);
    expect(x).toMatchObject({
      name: "x",
      count: 5,
      missing: 1,
      mean: 4,
      min: 1,
      p25: 2,
      p50: 3,
      p75: 4,
      max: 10,
    });
    expect(x.kind !== "category" && x.std).toBeCloseTo(3.5355339, 6);
  });

  it("counts category values, most frequent first", () => {
    const frame = new Frame({ c: categoryColumn(["b", "a", "b", null, "c", "b", "a"]) });
    expect(describeFrame(frame, { top: 2 })[0]).toEqual({
      name: "c",
      kind: "category",
      count: 6,
      missing: 1,
      unique: 3,
      top: [
        { value: "b", count: 3 },
        { value: "a", count: 2 },
      ],
    });
  });

  it("interpolates quantiles like numpy", () => {
    // numpy.quantile([1, 2, 3, 4], 0.25) = 1.75
    expect(quantileSorted([1, 2, 3, 4], 0.25)).toBe(1.75);
    expect(quantileSorted([], 0.5)).toBeNaN();
  });
});
