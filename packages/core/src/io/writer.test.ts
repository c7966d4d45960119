// NumberText must spell every double exactly as Number#toString does (the shortest text that
// reads back to the same double; pandas writes repr, the same digits), -0 as "-0".
import { describe, expect, it } from "vitest";
import { Frame } from "../frame/frame.js";
import { encodeCsv } from "./csv.js";
import { ByteBuffer, MAX_NUMBER_CHARS, NumberText } from "./writer.js";

const text = new NumberText();

function spell(value: number): string {
  const out = new ByteBuffer(64);
  out.reserve(MAX_NUMBER_CHARS);
  text.write(out, value);
  return out.result().toString("latin1");
}

/** The reference: String(n), with the sign of zero kept. */
function reference(value: number): string {
  return Object.is(value, -0) ? "-0" : String(value);
}

/** A fixed-seed generator (mulberry32), so a failure names the same values every run. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("NumberText", () => {
  it("spells awkward values as String(n) does", () => {
    const awkward = [
      0.1 + 0.2, // 0.30000000000000004
      1e21, // the first exponent form: 1e+21
      1e21 - 65536, // 999999999999999900000 (the largest double below 1e21)
      5e-324, // the smallest subnormal
      -5e-324,
      Number.MAX_VALUE,
      Number.MIN_VALUE,
      Number.EPSILON,
      1e-7, // 1e-7 is exponent form, 0.000001 is not
      1e-6,
      1e-6 - 2 ** -72, // just below 1e-6: exponent form
      0.0000015,
      1e15,
      1e15 - 0.5, // 999999999999999.5: 16 significant digits
      999999999999999.9,
      123456789012345.6,
      2 ** 53,
      2 ** 53 - 1,
      -(2 ** 53 - 1),
      2 ** 53 + 2,
      2 ** 60,
      4.35,
      1.005,
      0.5,
      100,
      -42,
      1 / 3,
      2 / 3,
      Math.fround(0.1), // 0.10000000149011612: a float32 read as a double
      Math.PI,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
    ];
    for (const value of awkward) expect(spell(value), String(value)).toBe(reference(value));
    expect(spell(0)).toBe("0");
    expect(spell(-0)).toBe("-0");
  });

  it("agrees with String(n) on a sweep of every kind of double", () => {
    const next = random(20261207);
    const bits = new Float64Array(1);
    const words = new Uint32Array(bits.buffer);
    const kinds: (() => number)[] = [
      () => {
        words[0] = next() * 2 ** 32;
        words[1] = next() * 2 ** 32;
        return bits[0];
      },
      () => Math.fround(next()),
      () => Math.round(next() * 10 ** Math.floor(next() * 16)) / 10 ** Math.floor(next() * 23),
      () => (next() - 0.5) * 10 ** (Math.floor(next() * 44) - 22),
      () => Math.round((next() - 0.5) * 2 ** 54),
      () => Number((next() * 10 ** (next() * 30 - 10)).toPrecision(1 + Math.floor(next() * 17))),
      () => Math.floor(next() * 1e6) * 10 ** (Math.floor(next() * 30) - 15),
    ];
    const mismatches: string[] = [];
    for (const kind of kinds) {
      for (let index = 0; index < 20_000; index++) {
        const value = kind();
        if (Number.isNaN(value)) continue;
        if (spell(value) !== reference(value)) mismatches.push(reference(value));
      }
    }
    // Every decimal with 1 to 6 fraction digits, near each power of ten.
    for (let digits = 1; digits <= 6; digits++) {
      for (let index = 0; index < 2_000; index++) {
        const value = (index + 0.5 * (digits % 2)) / 10 ** digits;
        if (spell(value) !== reference(value)) mismatches.push(reference(value));
      }
    }
    expect(mismatches).toEqual([]);
  });

  it("writes every column kind of a CSV through it: missing values stay empty cells", () => {
    const frame = new Frame([
      ["x", { kind: "number", values: Float64Array.of(0.1 + 0.2, Number.NaN, -0, 5e-324, 1e21) }],
      ["n", { kind: "integer", values: Float64Array.of(1, -2, Number.NaN, 2 ** 53, 0) }],
    ]);
    const bytes = encodeCsv(frame, { first: true });
    expect(Buffer.from(bytes).toString("utf8")).toBe(
      "x,n\n0.30000000000000004,1\n,-2\n-0,\n5e-324,9007199254740992\n1e+21,0\n",
    );
  });
});
