/**
 * A fast path for Open Inference Protocol requests of numeric tabular models: the body's
 * bytes are scanned once and every tensor's numbers are written straight into Float64Arrays —
 * no UTF-8 string of the body, no JS object tree, no array per tensor. Batches are where this
 * pays: `JSON.parse` of a 1,000-row request took about half of the request's time.
 *
 * It takes the common shape only: an object with `inputs` (and an optional string `id`),
 * tensors with `name`, `shape`, `datatype` (FP64, FP32, INT64, INT32) and `data` (numbers and
 * nulls, flat or nested one level), names without escapes. For anything else — other keys,
 * other datatypes, malformed JSON, a shape that does not fit — it returns undefined and the
 * request takes the general path (`JSON.parse`), which answers it or reports the error. So it
 * never decides what is an error on its own: it either produces exactly what the general
 * path would have parsed, or steps aside.
 *
 * Numbers are converted exactly as `JSON.parse` converts them (correctly rounded): up to 16
 * significant digits with a power of ten of at most 22 take Clinger's fast path (one exact
 * integer times or divided by one exact power of ten: a single rounding); longer ones, and
 * larger exponents, go to `Number()`.
 */

import { twoProductError } from "@mlops/core/internal";

/** A tensor as the fast path read it. */
export interface ByteTensor {
  readonly name: string;
  readonly shape: number[];
  readonly datatype: string;
  /** Row-major elements (nested data flattened); null became NaN. */
  readonly values: Float64Array;
  /** The elements that were `null` (NaN in `values`), for datatypes where it matters. */
  readonly nulls: number;
}

/** An inference request as the fast path read it. */
export interface ByteInferRequest {
  readonly id: string | undefined;
  readonly inputs: ByteTensor[];
  /** Where the tensors' values live; more arrays for the same request can be taken from it. */
  readonly arena: Arena;
}

const QUOTE = 0x22;
const COMMA = 0x2c;
const COLON = 0x3a;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const BACKSLASH = 0x5c;
const LOWER_E = 0x65;
const UPPER_E = 0x45;

/** Exact powers of ten as doubles (10^0 … 10^22). */
const POW10 = Array.from({ length: 23 }, (_, k) => Number(`1e${k}`));
const TWO_53 = 2 ** 53;
const NUMERIC = new Set(["FP64", "FP32", "INT64", "INT32"]);

/** `text` of ASCII bytes `start..end` (short: number literals). */
function latin1(bytes: Uint8Array, start: number, end: number): string {
  let text = "";
  for (let i = start; i < end; i++) text += String.fromCharCode(bytes[i]);
  return text;
}

const bits = new Float64Array(1);
const words = new Uint32Array(bits.buffer);
const LITTLE = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;
const HIGH_WORD = LITTLE ? 1 : 0;
const LOW_WORD = 1 - HIGH_WORD;

/**
 * (high · 10^lowDigits + low) · 10^exponent, correctly rounded, for the 16 to 19 significant
 * digits of a decimal (high < 2^53, low < 10^lowDigits, lowDigits ≤ 11, high · 10^lowDigits
 * < 2^64) and |exponent| ≤ 22; NaN when it cannot tell (the caller then uses `Number`).
 *
 * The integer w = high · 10^lowDigits + low needs up to 64 bits: it is held exactly as a
 * double-double (w = wh + wl, Dekker's product and Knuth's sum), the quotient or product by
 * the power of ten is rounded once (q0), and the exact residual decides whether q0 or a
 * neighbour is the nearest double; a residual within 2^-20 of half a step (a near tie)
 * returns NaN.
 */
function decimalToDouble(high: number, low: number, lowDigits: number, exponent: number): number {
  // w = high · 10^lowDigits + low, exactly, as wh + wl.
  const scale = POW10[lowDigits];
  const product = high * scale;
  const productError = twoProductError(high, scale, product);
  const wh = product + low;
  const virtual = wh - product;
  const sumError = product - (wh - virtual) + (low - virtual);
  const wl = productError + sumError;
  if (wl === 0 && wh < TWO_53) {
    return exponent >= 0 ? wh * POW10[exponent] : wh / POW10[-exponent];
  }
  let q0: number;
  let residual: number;
  if (exponent >= 0) {
    const p = POW10[exponent];
    q0 = wh * p;
    // Exact: wh · p = q0 + e; the value is q0 + e + wl · p.
    residual = twoProductError(wh, p, q0) + wl * p;
  } else {
    const d = POW10[-exponent];
    q0 = wh / d;
    // The value is q0 + (w - q0 · d) / d; q0 · d = ph + pl exactly, and wh - ph is exact
    // (Sterbenz: they are within a factor of 2).
    const ph = q0 * d;
    const pl = twoProductError(q0, d, ph);
    residual = (wh - ph - pl + wl) / d;
  }
  if (!(q0 > 0 && q0 < Number.POSITIVE_INFINITY)) return Number.NaN;
  // The gaps to the doubles above and below q0 (below is half as wide at a power of two).
  bits[0] = q0;
  const highWord = words[HIGH_WORD];
  const above = STEP[(highWord >>> 20) & 0x7ff];
  const below = words[LOW_WORD] === 0 && (highWord & 0xfffff) === 0 ? above / 2 : above;
  const gap = residual >= 0 ? above : below;
  const distance = residual >= 0 ? residual : -residual;
  if (distance < gap * NEAR_LOW) return q0;
  if (distance > gap * NEAR_HIGH && distance < gap * 1.5) {
    return residual > 0 ? q0 + above : q0 - below;
  }
  return Number.NaN;
}

/** The gap between consecutive doubles by exponent field: STEP[e] = 2^(e - 1075). */
const STEP = Float64Array.from({ length: 2048 }, (_, e) => 2 ** (Math.max(e, 1) - 1075));
/** Half a gap, less and more 2^-20 of it: residuals between the two are near ties. */
const NEAR_LOW = 0.5 * (1 - 2 ** -20);
const NEAR_HIGH = 0.5 * (1 + 2 ** -20);

/** Thrown inside the scanner to step aside; never escapes `parseInferBytes`. */
const GIVE_UP = Symbol("give up");

/** Where the last `scanNumber` / `readFlat` stopped (module state: JS runs one at a time). */
let cursor = 0;

/**
 * The JSON number at `pos`, converted as `JSON.parse` would; `cursor` is set to its end.
 * Gives up on anything that is not a JSON number.
 */
function scanNumber(bytes: Uint8Array, pos: number, end: number): number {
  const start = pos;
  let negative = false;
  if (pos < end && bytes[pos] === MINUS) {
    negative = true;
    pos++;
  }
  // Significant digits: the first 8 in `high`, the rest in `low` (`lowDigits` of them): both
  // exact while there are at most 19.
  let high = 0;
  let low = 0;
  let lowDigits = 0;
  let digits = 0;
  let exponent = 0;
  let c = pos < end ? bytes[pos] : -1;
  if (c === ZERO) {
    c = ++pos < end ? bytes[pos] : -1;
    // No leading zeros in JSON.
    if (c >= ZERO && c <= NINE) throw GIVE_UP;
  } else if (c >= 0x31 && c <= NINE) {
    do {
      if (digits < 8) high = high * 10 + (c - ZERO);
      else {
        low = low * 10 + (c - ZERO);
        lowDigits++;
      }
      digits++;
      c = ++pos < end ? bytes[pos] : -1;
    } while (c >= ZERO && c <= NINE);
  } else {
    throw GIVE_UP;
  }
  if (c === DOT) {
    c = ++pos < end ? bytes[pos] : -1;
    if (!(c >= ZERO && c <= NINE)) throw GIVE_UP;
    do {
      if (digits === 0 && c === ZERO) {
        // Leading zeros of a fraction (0.000123) are not significant digits.
      } else if (digits < 8) {
        high = high * 10 + (c - ZERO);
        digits++;
      } else {
        low = low * 10 + (c - ZERO);
        lowDigits++;
        digits++;
      }
      exponent--;
      c = ++pos < end ? bytes[pos] : -1;
    } while (c >= ZERO && c <= NINE);
  }
  if (c === LOWER_E || c === UPPER_E) {
    c = ++pos < end ? bytes[pos] : -1;
    let sign = 1;
    if (c === PLUS || c === MINUS) {
      if (c === MINUS) sign = -1;
      c = ++pos < end ? bytes[pos] : -1;
    }
    if (!(c >= ZERO && c <= NINE)) throw GIVE_UP;
    let written = 0;
    do {
      if (written < 100_000) written = written * 10 + (c - ZERO);
      c = ++pos < end ? bytes[pos] : -1;
    } while (c >= ZERO && c <= NINE);
    exponent += sign * written;
  }
  cursor = pos;
  const value = decimalValue(high, low, lowDigits, digits, exponent);
  if (!Number.isNaN(value)) return negative ? -value : value;
  // More than 19 significant digits, a large power of ten or a near tie: the engine's own
  // exact conversion.
  return Number(latin1(bytes, start, pos));
}

/**
 * The value of a decimal split as `scanNumber` splits it, or NaN when it is not one of the
 * cases converted here. Up to 15 digits: Clinger's fast path (an exact integer times or
 * divided by an exact power of ten: one rounding); 16 to 19: `decimalToDouble`.
 */
function decimalValue(
  high: number,
  low: number,
  lowDigits: number,
  digits: number,
  exponent: number,
): number {
  if (digits > 19 || exponent < -22 || exponent > 22) return Number.NaN;
  const w = lowDigits === 0 ? high : digits <= 15 ? high * POW10[lowDigits] + low : -1;
  if (w >= 0) return exponent >= 0 ? w * POW10[exponent] : w / POW10[-exponent];
  return decimalToDouble(high, low, lowDigits, exponent);
}

/**
 * The value of a decimal of 16 to 19 significant digits without an exponent that ends at
 * `end` (exclusive), from `mantissa` (its digits accumulated in doubles: within 8 units in the
 * 2^-53 place of the true integer w) and its power of ten; NaN to leave it to `scanNumber`.
 *
 * w is split as H · 10^j + L with L its last j = digits − 14 digits (read again, at most 5
 * bytes) and H = round((mantissa − L) / 10^j): the accumulation error divided by 10^j is
 * below 0.1, so H is exact — and its last digit is checked against the byte that holds it.
 */
function longDecimal(bytes: Uint8Array, end: number, mantissa: number, exponent: number): number {
  if (!(mantissa < 1e19) || exponent < -22 || exponent > 22) return Number.NaN;
  const digits = mantissa < 1e16 ? 16 : mantissa < 1e17 ? 17 : mantissa < 1e18 ? 18 : 19;
  const j = digits - 14;
  let low = 0;
  let scale = 1;
  let pos = end - 1;
  for (let read = 0; read < j; read++, pos--) {
    if (bytes[pos] === DOT) pos--;
    low += (bytes[pos] - ZERO) * scale;
    scale *= 10;
  }
  if (bytes[pos] === DOT) pos--;
  const high = Math.round((mantissa - low) / POW10[j]);
  // (A double `%` is a library call; this is exact for integers below 2^53.)
  if (high - Math.floor(high / 10) * 10 !== bytes[pos] - ZERO || !(high >= 1e13 && high < 1e14)) {
    return Number.NaN;
  }
  return decimalToDouble(high, low, j, exponent);
}

/**
 * A flat array of numbers and nulls at `pos` (just after its `[`) into `out`, which it must
 * fill exactly; `cursor` is set after the closing `]`. Returns how many were null (NaN).
 * Numbers without an exponent are converted inline (the hot loop); the others go to
 * `scanNumber`.
 */
function readFlat(bytes: Uint8Array, pos: number, end: number, out: Float64Array): number {
  const total = out.length;
  let k = 0;
  let nulls = 0;
  while (true) {
    let c = pos < end ? bytes[pos] : -1;
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = ++pos < end ? bytes[pos] : -1;
    if (k >= total) throw GIVE_UP;
    if (c === 0x6e) {
      if (
        pos + 3 >= end ||
        bytes[pos + 1] !== 0x75 ||
        bytes[pos + 2] !== 0x6c ||
        bytes[pos + 3] !== 0x6c
      ) {
        throw GIVE_UP;
      }
      out[k++] = Number.NaN;
      nulls++;
      pos += 4;
    } else {
      const start = pos;
      let negative = false;
      if (c === MINUS) {
        negative = true;
        c = ++pos < end ? bytes[pos] : -1;
      }
      // One double accumulates every digit: exact while below 2^53 (15 or 16 digits), which
      // is all the fast path needs; longer numbers are read again by `scanNumber`.
      let mantissa = 0;
      let exponent = 0;
      if (c === ZERO) {
        c = ++pos < end ? bytes[pos] : -1;
        if (c >= ZERO && c <= NINE) throw GIVE_UP;
      } else if (c >= 0x31 && c <= NINE) {
        do {
          mantissa = mantissa * 10 + (c - ZERO);
          c = ++pos < end ? bytes[pos] : -1;
        } while (c >= ZERO && c <= NINE);
      } else {
        throw GIVE_UP;
      }
      if (c === DOT) {
        c = ++pos < end ? bytes[pos] : -1;
        if (!(c >= ZERO && c <= NINE)) throw GIVE_UP;
        do {
          mantissa = mantissa * 10 + (c - ZERO);
          exponent--;
          c = ++pos < end ? bytes[pos] : -1;
        } while (c >= ZERO && c <= NINE);
      }
      if (mantissa < TWO_53 && exponent >= -22 && c !== LOWER_E && c !== UPPER_E) {
        // Clinger's fast path: an exact integer divided by an exact power of ten.
        const value = exponent === 0 ? mantissa : mantissa / POW10[-exponent];
        out[k++] = negative ? -value : value;
      } else {
        const value =
          c === LOWER_E || c === UPPER_E ? Number.NaN : longDecimal(bytes, pos, mantissa, exponent);
        if (!Number.isNaN(value)) {
          out[k++] = negative ? -value : value;
        } else {
          // An exponent, 20 or more digits, or a near tie: the complete reading.
          out[k++] = scanNumber(bytes, start, end);
          pos = cursor;
        }
      }
    }
    let c2 = pos < end ? bytes[pos] : -1;
    while (c2 === 0x20 || c2 === 0x0a || c2 === 0x0d || c2 === 0x09) {
      c2 = ++pos < end ? bytes[pos] : -1;
    }
    pos++;
    if (c2 === COMMA) continue;
    if (c2 === CLOSE_BRACKET) break;
    throw GIVE_UP;
  }
  if (k !== total) throw GIVE_UP;
  cursor = pos;
  return nulls;
}

class Scanner {
  pos = 0;
  readonly bytes: Uint8Array;
  readonly end: number;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.end = bytes.length;
  }

  /** Skips JSON whitespace; returns the next byte (or -1 at the end). */
  peek(): number {
    const bytes = this.bytes;
    let pos = this.pos;
    while (pos < this.end) {
      const c = bytes[pos];
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
      pos++;
    }
    this.pos = pos;
    return pos < this.end ? bytes[pos] : -1;
  }

  expect(byte: number): void {
    if (this.peek() !== byte) throw GIVE_UP;
    this.pos++;
  }

  /** A string without escapes, all ASCII (anything else: give up). */
  string(): string {
    this.expect(QUOTE);
    const bytes = this.bytes;
    const start = this.pos;
    let pos = start;
    while (pos < this.end) {
      const c = bytes[pos];
      if (c === QUOTE) break;
      if (c === BACKSLASH || c >= 0x80 || c < 0x20) throw GIVE_UP;
      pos++;
    }
    if (pos >= this.end) throw GIVE_UP;
    this.pos = pos + 1;
    let text = "";
    // Short ASCII strings (keys, names): building them costs less than a decoder call.
    for (let i = start; i < pos; i++) text += String.fromCharCode(bytes[i]);
    return text;
  }

  /** `true` when the next bytes are the literal `null` (consumed). */
  isNull(): boolean {
    const bytes = this.bytes;
    const pos = this.pos;
    if (
      pos + 3 < this.end &&
      bytes[pos] === 0x6e &&
      bytes[pos + 1] === 0x75 &&
      bytes[pos + 2] === 0x6c &&
      bytes[pos + 3] === 0x6c
    ) {
      this.pos = pos + 4;
      return true;
    }
    return false;
  }

  /** A JSON number, converted as `JSON.parse` would; gives up on anything that is not one. */
  number(): number {
    const value = scanNumber(this.bytes, this.pos, this.end);
    this.pos = cursor;
    return value;
  }

  /** Skips `,` between elements; returns false at the closing byte (consumed). */
  next(close: number): boolean {
    const c = this.peek();
    if (c === COMMA) {
      this.pos++;
      return true;
    }
    if (c === close) {
      this.pos++;
      return false;
    }
    throw GIVE_UP;
  }
}

/** `[N]` or `[N, F]`: non-negative safe integers. */
function readShape(scanner: Scanner): number[] {
  scanner.expect(OPEN_BRACKET);
  const shape: number[] = [];
  if (scanner.peek() === CLOSE_BRACKET) throw GIVE_UP;
  do {
    scanner.peek();
    const value = scanner.number();
    if (!Number.isSafeInteger(value) || value < 0 || Object.is(value, -0)) throw GIVE_UP;
    shape.push(value);
  } while (scanner.next(CLOSE_BRACKET));
  if (shape.length > 2) throw GIVE_UP;
  return shape;
}

/**
 * The elements of `data` into `out` (its length is what the shape needs): flat numbers, or
 * `rows` arrays of `width` numbers. Gives up when the count or nesting does not fit.
 */
function readData(
  scanner: Scanner,
  out: Float64Array,
  rows: number,
  width: number,
  nestable: boolean,
): number {
  scanner.expect(OPEN_BRACKET);
  let nulls = 0;
  const c = scanner.peek();
  if (c === CLOSE_BRACKET) {
    scanner.pos++;
    if (out.length !== 0) throw GIVE_UP;
    return 0;
  }
  if (c === OPEN_BRACKET) {
    // Nested: one array of `width` values per row (shape [N, F], or [N, 1] per feature).
    if (!nestable) throw GIVE_UP;
    let row = 0;
    do {
      if (row >= rows) throw GIVE_UP;
      scanner.expect(OPEN_BRACKET);
      nulls += readFlat(
        scanner.bytes,
        scanner.pos,
        scanner.end,
        out.subarray(row * width, (row + 1) * width),
      );
      scanner.pos = cursor;
      row++;
    } while (scanner.next(CLOSE_BRACKET));
    if (row !== rows) throw GIVE_UP;
    return nulls;
  }
  nulls = readFlat(scanner.bytes, scanner.pos, scanner.end, out);
  scanner.pos = cursor;
  return nulls;
}

/** One tensor object; its keys in any order, each once. */
/**
 * Hands out Float64Arrays cut from a few large ones: a request's tensors share one or two
 * backing stores instead of one each. Each ArrayBuffer is external memory that the garbage
 * collector tracks, and a stream of them (a 1,000-row batch needs 232 KB) set off a full
 * collection every few dozen requests; `recycle` hands the chunks back for the next request
 * once the model is done with them.
 */
export class Arena {
  #buffer: Float64Array | undefined;
  #used = 0;
  readonly #chunks: Float64Array[] = [];

  take(length: number): Float64Array {
    if (this.#buffer === undefined || this.#used + length > this.#buffer.length) {
      this.#buffer =
        length <= ARENA_CHUNK
          ? (FREE_CHUNKS.pop() ?? new Float64Array(ARENA_CHUNK))
          : new Float64Array(length);
      this.#used = 0;
      if (this.#buffer.length === ARENA_CHUNK) this.#chunks.push(this.#buffer);
    }
    const out = this.#buffer.subarray(this.#used, this.#used + length);
    this.#used += length;
    return out;
  }

  /** Gives the chunks back; nothing taken from this arena may be used afterwards. */
  recycle(): void {
    for (const chunk of this.#chunks.splice(0)) {
      if (FREE_CHUNKS.length < MAX_FREE_CHUNKS) FREE_CHUNKS.push(chunk);
    }
    this.#buffer = undefined;
  }
}

/** Doubles per arena chunk (256 KiB): a 1,000-row request of 29 features fits in one. */
const ARENA_CHUNK = 32_768;
/** Chunks kept for reuse (2 MiB): enough for a few requests in flight. */
const MAX_FREE_CHUNKS = 8;
const FREE_CHUNKS: Float64Array[] = [];

function readTensor(scanner: Scanner, maxElements: number, arena: Arena): ByteTensor {
  scanner.expect(OPEN_BRACE);
  let name: string | undefined;
  let shape: number[] | undefined;
  let datatype: string | undefined;
  // `data` may come before `shape`: then its start is kept and it is read once shape is known.
  let dataAt = -1;
  let values: Float64Array | undefined;
  let nulls = 0;
  const readValues = () => {
    const elements = shape!.reduce((product, d) => product * d, 1);
    if (elements > maxElements) throw GIVE_UP;
    const rows = shape![0];
    const width = shape!.length === 2 ? shape![1] : 1;
    const out = arena.take(elements);
    nulls = readData(scanner, out, rows, width, shape!.length === 2);
    return out;
  };
  if (scanner.peek() === CLOSE_BRACE) throw GIVE_UP;
  do {
    const key = scanner.string();
    scanner.expect(COLON);
    scanner.peek();
    if (key === "name" && name === undefined) name = scanner.string();
    else if (key === "datatype" && datatype === undefined) datatype = scanner.string();
    else if (key === "shape" && shape === undefined) {
      shape = readShape(scanner);
    } else if (key === "data" && dataAt < 0) {
      dataAt = scanner.pos;
      if (shape !== undefined) values = readValues();
      else skipValue(scanner);
    } else {
      throw GIVE_UP;
    }
  } while (scanner.next(CLOSE_BRACE));
  if (name === undefined || shape === undefined || datatype === undefined || dataAt < 0) {
    throw GIVE_UP;
  }
  if (!NUMERIC.has(datatype)) throw GIVE_UP;
  if (values === undefined) {
    const resume = scanner.pos;
    scanner.pos = dataAt;
    values = readValues();
    scanner.pos = resume;
  }
  return { name, shape, datatype, values, nulls };
}

/** Skips one JSON value of the kinds `data` holds (arrays, numbers, null). */
function skipValue(scanner: Scanner): void {
  const c = scanner.peek();
  if (c === OPEN_BRACKET) {
    scanner.pos++;
    if (scanner.peek() === CLOSE_BRACKET) {
      scanner.pos++;
      return;
    }
    do skipValue(scanner);
    while (scanner.next(CLOSE_BRACKET));
    return;
  }
  if (c === 0x6e) {
    if (!scanner.isNull()) throw GIVE_UP;
    return;
  }
  scanner.number();
}

/**
 * Reads an inference request body from its bytes, or returns undefined when it is not of the
 * shape this fast path takes (the caller then parses it with `JSON.parse`). `maxElements`
 * bounds each tensor (a larger one is left to the general path, which answers 413).
 *
 * @example
 * const request = parseInferBytes(body, 100_000 * 29);
 * if (request === undefined) return general(JSON.parse(body.toString("utf8")));
 */
export function parseInferBytes(
  bytes: Uint8Array,
  maxElements: number,
): ByteInferRequest | undefined {
  const scanner = new Scanner(bytes);
  const arena = new Arena();
  try {
    scanner.expect(OPEN_BRACE);
    let id: string | undefined;
    let inputs: ByteTensor[] | undefined;
    let sawId = false;
    if (scanner.peek() === CLOSE_BRACE) throw GIVE_UP;
    do {
      const key = scanner.string();
      scanner.expect(COLON);
      if (key === "id" && !sawId) {
        sawId = true;
        id = scanner.string();
      } else if (key === "inputs" && inputs === undefined) {
        scanner.expect(OPEN_BRACKET);
        inputs = [];
        if (scanner.peek() === CLOSE_BRACKET) throw GIVE_UP;
        do inputs.push(readTensor(scanner, maxElements, arena));
        while (scanner.next(CLOSE_BRACKET));
      } else {
        throw GIVE_UP;
      }
    } while (scanner.next(CLOSE_BRACE));
    if (scanner.peek() !== -1 || inputs === undefined) {
      arena.recycle();
      return undefined;
    }
    return { id, inputs, arena };
  } catch (error) {
    arena.recycle();
    if (error === GIVE_UP) return undefined;
    throw error;
  }
}
