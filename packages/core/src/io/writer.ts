// What the streaming writers share: a growable byte buffer for text encoders, and the writer of
// row-wise text formats (CSV, JSON Lines) on top of an AtomicFile.
import { MlopsError } from "../errors/error.js";
import type { Frame } from "../frame/frame.js";
import { AtomicFile } from "./files.js";
import type { EncodeOptions, FrameWriter } from "./types.js";

/**
 * A byte buffer that text encoders fill cell by cell: ASCII numbers are copied char by char (no
 * intermediate Buffer per cell), pre-encoded strings with `set`. Internal to the encoders.
 */
export class ByteBuffer {
  bytes: Buffer;
  length = 0;
  /** Room kept free after an `append` that had to grow the buffer (the caller's row reserve). */
  readonly slack: number;

  /**
   * `into`: a buffer to write into while it is large enough (one shared with another thread,
   * reused batch after batch), instead of a new one.
   */
  constructor(capacity: number, slack = 1024, into?: Buffer) {
    // Never from the shared pool: the bytes may be transferred to another thread.
    this.bytes =
      into !== undefined && into.length >= capacity
        ? into
        : Buffer.allocUnsafeSlow(Math.max(64, capacity));
    this.slack = slack;
  }

  /** Makes room for `more` bytes after `length`. */
  reserve(more: number): void {
    const needed = this.length + more;
    if (needed <= this.bytes.length) return;
    const larger = Buffer.allocUnsafeSlow(Math.max(needed, this.bytes.length * 2));
    this.bytes.copy(larger, 0, 0, this.length);
    this.bytes = larger;
  }

  /** Appends an ASCII string (numbers as `String(n)` writes them); room must be reserved. */
  ascii(text: string): void {
    const bytes = this.bytes;
    let at = this.length;
    for (let i = 0; i < text.length; i++) bytes[at++] = text.charCodeAt(i);
    this.length = at;
  }

  /** Appends encoded bytes (making room when needed). */
  append(chunk: Uint8Array): void {
    if (this.length + chunk.length > this.bytes.length) this.reserve(chunk.length + this.slack);
    this.bytes.set(chunk, this.length);
    this.length += chunk.length;
  }

  byte(value: number): void {
    this.bytes[this.length++] = value;
  }

  /**
   * The bytes written: a view, or a trimmed copy when doubling left much more room than used
   * (the buffer may be transferred to another thread whole, and wait there to be written).
   */
  result(): Buffer {
    if (this.bytes.buffer instanceof SharedArrayBuffer) return this.bytes.subarray(0, this.length);
    if (this.length > 1 << 16 && this.bytes.length > this.length * 1.5) {
      const trimmed = Buffer.allocUnsafeSlow(this.length);
      this.bytes.copy(trimmed, 0, 0, this.length);
      return trimmed;
    }
    return this.bytes.subarray(0, this.length);
  }
}

/** Longest `String(n)` of a double: "-1.7976931348623157e+308" and the like (24 characters). */
export const MAX_NUMBER_CHARS = 25;

/** 10^0 … 10^22: exact doubles, so dividing an exact integer by one is correctly rounded. */
const POWERS_OF_TEN = new Float64Array(23).map((_, index) => 10 ** index);
/** 2^53: integers below it are exact, and `String(n)` writes them digit for digit. */
const EXACT_INTEGER_LIMIT = 9007199254740992;
/** A double's two 32-bit halves, to read its binary exponent. */
const EXPONENT_FLOAT = new Float64Array(1);
const EXPONENT_WORDS = new Int32Array(EXPONENT_FLOAT.buffer);
/** 2^52: adding and subtracting it rounds a smaller non-negative double to an integer. */
const ROUNDING = 4503599627370496;

/**
 * `x` (≥ 0) rounded to an integer, ties to even, with two additions instead of `Math.round`'s
 * call (several times slower where the CPU lacks a rounding instruction). Exact below 2^52;
 * above, a result that is off is ≥ 10^15 anyway, which the caller rejects.
 */
function roundToInteger(x: number): number {
  return x + ROUNDING - ROUNDING;
}

/**
 * Writes doubles as ASCII bytes exactly as `String(n)` spells them (the shortest text that reads
 * back to the same double), except that -0 is "-0" so it reads back with its sign — without
 * making a string per value where it can help it:
 *
 * - integers below 2^53 are written digit by digit;
 * - a value from 1e-6 to 1e15 that some decimal of at most 15 significant digits reads back to
 *   is found with one multiply, round and divide: with `K` fraction digits chosen so that
 *   `|v|·10^K < 10^15 < 2^50`, the rounding error of the product is under a quarter of a unit,
 *   so `m = round(|v|·10^K)` is the only K-digit candidate, and `m / 10^K === |v|` (an exact
 *   integer divided by an exact power of ten, correctly rounded) says whether it reads back.
 *   The same test for k = 0, 1, … finds the fewest fraction digits that read back, which are
 *   the digits `String` chooses: its shortest decimal, scaled to k digits, is that same unique
 *   candidate (and a value `String` spells with 16 or 17 digits has no ≤ 15-digit candidate);
 * - anything else (17-digit values, very small or large ones) goes through `String(n)` (V8
 *   keeps the strings of recent numbers, so values that repeat, such as a tree's leaf values,
 *   are cheap there).
 *
 * Internal to the text encoders. Stateless: one instance can serve every column.
 *
 * @example
 * const text = new NumberText();
 * const out = new ByteBuffer(64);
 * out.reserve(MAX_NUMBER_CHARS);
 * text.write(out, 0.1 + 0.2); // "0.30000000000000004", as String(0.1 + 0.2)
 */
export class NumberText {
  /**
   * Appends `value` (not NaN) to `out`; the caller has reserved `MAX_NUMBER_CHARS` bytes.
   * NaN has no spelling here: callers write a missing cell instead.
   */
  write(out: ByteBuffer, value: number): void {
    out.length = this.writeAt(out.bytes, out.length, value);
  }

  /** Writes `value` at `bytes[at]` and returns the position after it (room is the caller's). */
  writeAt(bytes: Uint8Array, at: number, value: number): number {
    if (value === 0) {
      if (1 / value < 0) {
        bytes[at] = 45;
        bytes[at + 1] = 48;
        return at + 2;
      }
      bytes[at] = 48;
      return at + 1;
    }
    const magnitude = value < 0 ? -value : value;
    if (magnitude < EXACT_INTEGER_LIMIT && Number.isInteger(magnitude)) {
      if (value < 0) bytes[at++] = 45;
      return writeDecimal(bytes, at, magnitude, 0);
    }
    if (magnitude >= 1e-6 && magnitude < 1e15) {
      // floor(log10 |v|) is floor(e2·log10 2) or one more, e2 the binary exponent: so
      // K = 14 - that estimate is right or one too large, which the bound check corrects.
      // (1233 / 4096 is log10 2 to four digits: an estimate, checked below, never trusted.)
      EXPONENT_FLOAT[0] = magnitude;
      const binary = (EXPONENT_WORDS[1] >>> 20) - 1023;
      let fraction = 14 - ((binary * 1233) >> 12);
      let power = POWERS_OF_TEN[fraction];
      let scaled = roundToInteger(magnitude * power);
      if (scaled >= 1e15) {
        fraction--;
        power = POWERS_OF_TEN[fraction];
        scaled = roundToInteger(magnitude * power);
      }
      if (scaled / power === magnitude) {
        // Some decimal of ≤ K fraction digits reads back: the first k from 0 that does is
        // the shortest (one candidate per k, as above), and typical data has few digits.
        let digits = 0;
        while (digits < fraction) {
          power = POWERS_OF_TEN[digits];
          const candidate = roundToInteger(magnitude * power);
          if (candidate / power === magnitude) {
            scaled = candidate;
            break;
          }
          digits++;
        }
        if (value < 0) bytes[at++] = 45;
        return writeDecimal(bytes, at, scaled, digits);
      }
    }
    // String(n) (V8 keeps recent numbers' strings, so repeated values are cheap there).
    const text = String(value);
    const length = text.length;
    for (let index = 0; index < length; index++) bytes[at + index] = text.charCodeAt(index);
    return at + length;
  }
}

/**
 * Writes the integer `scaled` (0 ≤ scaled < 2^53) as a decimal with `fraction` digits after the
 * point (`writeDecimal(b, 0, 1234, 2)` → "12.34", `(…, 5, 3)` → "0.005"); returns the end.
 */
function writeDecimal(bytes: Uint8Array, at: number, scaled: number, fraction: number): number {
  let digits = 1;
  while (digits < 16 && scaled >= POWERS_OF_TEN[digits]) digits++;
  // "0.00ddd" when every digit is a fraction digit.
  const integerDigits = digits > fraction ? digits - fraction : 1;
  const end = at + integerDigits + (fraction > 0 ? fraction + 1 : 0);
  // Digits from the right: the low 8 in int32 arithmetic, then the rest (< 2^53 / 10^8 < 2^27).
  let position = end;
  let written = 0;
  let high = scaled;
  if (scaled >= 1e8) {
    high = Math.floor(scaled / 1e8);
    let low = scaled - high * 1e8;
    for (let index = 0; index < 8; index++) {
      if (written === fraction && fraction > 0) bytes[--position] = 46;
      const quotient = (low / 10) | 0;
      bytes[--position] = 48 + low - quotient * 10;
      low = quotient;
      written++;
    }
  }
  let rest = high | 0;
  while (position > at) {
    if (written === fraction && fraction > 0) bytes[--position] = 46;
    const quotient = (rest / 10) | 0;
    bytes[--position] = 48 + rest - quotient * 10;
    rest = quotient;
    written++;
  }
  return end;
}

/**
 * A streaming writer of a row-wise text format: each batch is encoded (here, or on another
 * thread through `writeEncoded`) and appended to a temporary file renamed onto `path` on close.
 * Internal: the CSV and JSON Lines writers.
 */
export class TextFrameWriter implements FrameWriter {
  readonly path: string;
  rowCount = 0;
  readonly #file: AtomicFile;
  readonly #encode: (frame: Frame, options: EncodeOptions) => Uint8Array;
  readonly #options: Omit<EncodeOptions, "first">;
  #batches = 0;
  #failed = false;

  private constructor(
    file: AtomicFile,
    encode: (frame: Frame, options: EncodeOptions) => Uint8Array,
    options: Omit<EncodeOptions, "first">,
  ) {
    this.path = file.path;
    this.#file = file;
    this.#encode = encode;
    this.#options = options;
  }

  static async open(
    path: string,
    encode: (frame: Frame, options: EncodeOptions) => Uint8Array,
    options: Omit<EncodeOptions, "first">,
  ): Promise<TextFrameWriter> {
    return new TextFrameWriter(await AtomicFile.create(path), encode, { ...options, path });
  }

  async write(frame: Frame): Promise<void> {
    const bytes = this.#encode(frame, { ...this.#options, first: this.#batches === 0 });
    await this.writeEncoded(bytes, frame.rowCount);
  }

  async writeEncoded(bytes: Uint8Array, rows: number): Promise<void> {
    this.#check();
    try {
      await this.#file.append(bytes);
    } catch (error) {
      this.#failed = true;
      throw error;
    }
    this.#batches++;
    this.rowCount += rows;
  }

  async close(): Promise<void> {
    this.#check();
    await this.#file.commit();
  }

  abort(): Promise<void> {
    return this.#file.abort();
  }

  #check(): void {
    if (this.#failed) {
      throw new MlopsError(
        "file_write",
        `${this.path}: an earlier write failed; abort() the writer and start again`,
        { location: { file: this.path } },
      );
    }
  }
}
