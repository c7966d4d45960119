import { describe, expect, it } from "vitest";
import { formatNumber } from "./numbers.js";

describe("formatNumber, the one number format of the tools", () => {
  // The same values once printed three ways (`mlops` 6 digits, `mlops-train` 4 digits and
  // 1 decimal from 1000 up, the gate 4 significant digits): one answer each now.
  it("writes four significant digits, whole digits kept, tiny and huge values as exponents", () => {
    const cases: [number, string][] = [
      [0.6123456789, "0.6123"],
      [0.65 - 0.15, "0.5"],
      [42, "42"],
      [1234.5678, "1235"],
      [123456789.123, "123456789"],
      [1.23456789e-12, "1.235e-12"],
      [-0.000123456, "-0.0001235"],
      [0, "0"],
      [-0, "0"],
      [Number.NaN, "NaN"],
      [Number.POSITIVE_INFINITY, "Infinity"],
    ];
    for (const [value, text] of cases) expect(formatNumber(value), String(value)).toBe(text);
  });
});
