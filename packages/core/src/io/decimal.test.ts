import { describe, expect, it } from "vitest";
import { createRandom } from "../metrics/random.js";
import { parseLongDecimal, parseLongDecimalInto } from "./decimal.js";

const encoder = new TextEncoder();

/** The fast path's value, or Number's when it declines: always what Number gives. */
function parse(text: string): number {
  const bytes = encoder.encode(text);
  const value = parseLongDecimal(bytes, 0, bytes.length);
  return Number.isNaN(value) ? Number(text) : value;
}

describe("parseLongDecimal", () => {
  it("equals Number on 100,000 doubles as String writes them (mostly 17 digits)", () => {
    const random = createRandom(11);
    let fast = 0;
    for (let i = 0; i < 100_000; i++) {
      const magnitude = 10 ** (random.int(12) - 4);
      const value = random.next() * magnitude;
      const text = String(value);
      const bytes = encoder.encode(text);
      const parsed = parseLongDecimal(bytes, 0, bytes.length);
      if (!Number.isNaN(parsed)) {
        fast++;
        if (parsed !== value) throw new Error(`${text}: got ${parsed}, expected ${value}`);
      }
    }
    // The point of it: nearly all of them take the fast path.
    expect(fast).toBeGreaterThan(80_000);
  });

  it("equals Number on 100,000 random 16–19 digit decimals, with exponents and leading zeros", () => {
    const random = createRandom(12);
    for (let i = 0; i < 100_000; i++) {
      const digits = 16 + random.int(4);
      let text = String(1 + random.int(9));
      for (let d = 1; d < digits; d++) text += String(random.int(10));
      const dot = 1 + random.int(digits - 1);
      text = `${text.slice(0, dot)}.${text.slice(dot)}`;
      if (random.next() < 0.2) text = `0.000${text.replace(".", "")}`;
      const exponent = random.next();
      if (exponent < 0.2) text += `e-${random.int(5)}`;
      else if (exponent < 0.3) text += "E+2";
      const expected = Number(text);
      const got = parse(text);
      if (got !== expected) throw new Error(`${text}: got ${got}, expected ${expected}`);
    }
  });

  it("halfway and near-halfway cases round to even like Number", () => {
    // 2^53 + 1 sits exactly between two doubles; 0.1 + 2^-56-ish neighbours of ties.
    const cases = [
      "9007199254740993.0",
      "9007199254740995.0",
      "0.30000000000000004",
      "0.1000000000000000055511151231257827",
      "1.0000000000000002220446049250313080",
      "1.000000000000000111",
      "1.0000000000000001110",
      "0.9999999999999999445",
      "4503599627370496.5",
      "4503599627370497.5",
      "1.7976931348623157",
      "2.2250738585072014",
      "123456789012345678.9",
    ];
    for (const text of cases) expect(parse(text), text).toBe(Number(text));
  });

  it("declines what it does not handle (NaN): short, long, integer, odd text", () => {
    for (const text of ["1.5", "12345678901234567890.1", "12345678901234567", "1.2.3", "1e", "x"]) {
      const bytes = encoder.encode(text);
      expect(parseLongDecimal(bytes, 0, bytes.length), text).toBeNaN();
    }
  });

  it("parseLongDecimalInto stores the value at the index, and leaves the array when it declines", () => {
    const into = new Float64Array([7, 7, 7]);
    const text = "x,0.7369234561920166,1.5";
    const bytes = encoder.encode(text);
    expect(parseLongDecimalInto(bytes, 2, 20, into, 1)).toBe(true);
    expect(parseLongDecimalInto(bytes, 21, 24, into, 2)).toBe(false);
    expect([...into]).toEqual([7, 0.7369234561920166, 7]);
  });
});
