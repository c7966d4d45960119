// Correctly rounded decimal → double for the 16 to 19 significant digits that `String(x)` writes
// for most doubles (17 for a typical random value), without making a string: the CSV reader's
// digit loop is exact only below 2^53, and `Number(text)` costs a string per cell.
//
// The value is D / 10^k with D < 10^19 and 1 ≤ k ≤ 22 (10^k is then an exact double). D is held
// exactly as the sum of two doubles, a candidate quotient x is rounded once, and the exact
// residual D − x·10^k (Dekker's error-free product) says whether x is the nearest double: within
// half an ulp·10^k it is; past it, the neighbour on that side is tried. Anything else — more
// digits, another exponent, a residual too close to the half-way point to be sure — returns NaN
// and the caller parses the text (`Number`), so the result is always what `Number` gives.

const POWERS_OF_TEN = new Float64Array(23).map((_, index) => 10 ** index);
/** Veltkamp's splitter for doubles: 2^27 + 1. */
const SPLITTER = 134217729;
const TWO_26 = 67108864;
const ZERO = 48;
const DOT = 46;
const LOWER_E = 101;
const UPPER_E = 69;
const MINUS = 45;
const PLUS = 43;

const bits = new Float64Array(1);
const words = new Uint32Array(bits.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const HIGH_WORD = LITTLE_ENDIAN ? 1 : 0;
const LOW_WORD = LITTLE_ENDIAN ? 0 : 1;

/** The distance from positive normal `x` to the next larger double. */
function ulp(x: number): number {
  bits[0] = x;
  const exponent = (words[HIGH_WORD] >>> 20) & 0x7ff;
  // 2^(exponent − 1075), built directly (x is normal here: exponent ≥ 53 keeps it normal).
  words[HIGH_WORD] = (exponent - 52) << 20;
  words[LOW_WORD] = 0;
  return bits[0];
}

/** The next double after positive `x`, up (`step` 1) or down (`step` -1). */
function neighbour(x: number, step: number): number {
  bits[0] = x;
  let low = words[LOW_WORD] + step;
  let high = words[HIGH_WORD];
  if (low > 0xffffffff) {
    low = 0;
    high++;
  } else if (low < 0) {
    low = 0xffffffff;
    high--;
  }
  words[LOW_WORD] = low;
  words[HIGH_WORD] = high;
  return bits[0];
}

/**
 * The rounding error of `a · b` rounded to `product`: a · b = product + error exactly (Dekker's
 * product with Veltkamp's split; no overflow or underflow assumed).
 *
 * @example
 * twoProductError(0.1, 3, 0.1 * 3); // 1.3877787807814457e-17 (0.1·3 is not 0.30000000000000004)
 */
export function twoProductError(a: number, b: number, product: number): number {
  let c = SPLITTER * a;
  const aHigh = c - (c - a);
  const aLow = a - aHigh;
  c = SPLITTER * b;
  const bHigh = c - (c - b);
  const bLow = b - bHigh;
  return aHigh * bHigh - product + aHigh * bLow + aLow * bHigh + aLow * bLow;
}

/**
 * The positive value of the plain decimal in `bytes[start, end)` (digits, at most one dot, an
 * optional exponent; no sign), correctly rounded, when it has 16 to 19 significant digits and
 * its decimal scale is 10^-1 to 10^-22; else NaN (the caller then parses the text).
 *
 * @example
 * parseLongDecimal(Buffer.from("4.9311369389991775"), 0, 18); // 4.9311369389991775
 */
export function parseLongDecimal(bytes: Uint8Array, start: number, end: number): number {
  return parseLongDecimalInto(bytes, start, end, scratch, 0) ? scratch[0] : Number.NaN;
}

const scratch = new Float64Array(1);

/**
 * `parseLongDecimal` storing the value in `into[index]`: true when it did, false where
 * `parseLongDecimal` gives NaN (`into` is then left as it was). For the CSV reader's hot loop: a
 * double returned from a call that is not inlined is boxed (a heap number per value, garbage
 * for the collector); a boolean is not.
 */
export function parseLongDecimalInto(
  bytes: Uint8Array,
  start: number,
  end: number,
  into: Float64Array,
  index: number,
): boolean {
  // The significant digits as head (the first 15, exact) and tail (the 1 to 4 after them), and
  // the scale: value = (head·10^tailDigits + tail) · 10^scale.
  let head = 0;
  let tail = 0;
  let digits = 0;
  let scale = 0;
  let afterDot = false;
  let position = start;
  for (; position < end; position++) {
    const byte = bytes[position];
    const digit = byte - ZERO;
    if (digit >= 0 && digit <= 9) {
      if (afterDot) scale--;
      if (digits === 0 && digit === 0) continue;
      digits++;
      if (digits <= 15) head = head * 10 + digit;
      else if (digits <= 19) tail = tail * 10 + digit;
      else return false;
    } else if (byte === DOT && !afterDot) {
      afterDot = true;
    } else if (byte === LOWER_E || byte === UPPER_E) {
      let exponentSign = 1;
      let at = position + 1;
      if (bytes[at] === MINUS) {
        exponentSign = -1;
        at++;
      } else if (bytes[at] === PLUS) {
        at++;
      }
      let exponent = 0;
      if (at >= end) return false;
      for (; at < end; at++) {
        const exponentDigit = bytes[at] - ZERO;
        if (exponentDigit < 0 || exponentDigit > 9 || exponent > 1000) return false;
        exponent = exponent * 10 + exponentDigit;
      }
      scale += exponentSign * exponent;
      break;
    } else {
      return false;
    }
  }
  if (digits < 16 || scale >= 0 || scale < -22) return false;
  const power = POWERS_OF_TEN[-scale];
  const tailPower = POWERS_OF_TEN[digits - 15];
  // D = head·10^t + tail exactly, as big + small: head < 10^15 splits at 2^26 so each product
  // below is exact, and big ≥ 2^49 while small < 2^40 (head ≥ 10^14: it has 15 digits).
  const headHigh = Math.floor(head / TWO_26);
  const big = headHigh * tailPower * TWO_26;
  const small = (head - headHigh * TWO_26) * tailPower + tail;
  let x = (big + small) / power;
  for (let attempt = 0; attempt < 3; attempt++) {
    const product = x * power;
    const error = twoProductError(x, power, product);
    // big − product is exact (Sterbenz: they are within a factor 2), and so is adding small (an
    // integer sum below 2^53); only the last subtraction rounds, by at most 2^-53 relative.
    const residual = big - product + small - error;
    // Below a power of two the gap to the next smaller double is half as wide: leave it to Number.
    bits[0] = x;
    if (residual < 0 && words[LOW_WORD] === 0 && (words[HIGH_WORD] & 0xfffff) === 0) {
      return false;
    }
    const half = (ulp(x) * power) / 2;
    const distance = Math.abs(residual);
    if (distance < half * (1 - 1e-9)) {
      into[index] = x;
      return true;
    }
    if (distance <= half * (1 + 1e-9)) return false;
    x = neighbour(x, residual > 0 ? 1 : -1);
  }
  return false;
}
