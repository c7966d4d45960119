import type { Frame } from "./frame.js";

const scratch = new DataView(new ArrayBuffer(8));

/**
 * Two 32-bit lanes (FNV-1a and a multiply–rotate mix) over the bytes of one row, kept as one
 * 52-bit integer so that it is exact in a float64 and a `Set<number>` compares it.
 */
class RowHasher {
  #a = 0x811c9dc5;
  #b = 0x9747b28c;

  byte(value: number): void {
    this.#a = Math.imul(this.#a ^ value, 0x01000193);
    this.#b = Math.imul((this.#b ^ value) + 0x9e3779b9, 0x85ebca6b);
    this.#b = (this.#b << 13) | (this.#b >>> 19);
  }

  number(value: number): void {
    this.byte(1);
    // One NaN and one zero, whatever their bits.
    scratch.setFloat64(0, Number.isNaN(value) ? Number.NaN : value === 0 ? 0 : value);
    for (let i = 0; i < 8; i++) this.byte(scratch.getUint8(i));
  }

  text(value: string | undefined): void {
    if (value === undefined) {
      this.byte(3);
      return;
    }
    this.byte(2);
    this.number(value.length);
    for (let i = 0; i < value.length; i++) {
      const code = value.charCodeAt(i);
      this.byte(code & 0xff);
      this.byte(code >>> 8);
    }
  }

  finish(): number {
    let b = this.#b ^ (this.#b >>> 16);
    b = Math.imul(b, 0x85ebca6b);
    b ^= b >>> 13;
    const high = (this.#a >>> 0) & 0xfffff;
    const value = high * 0x1_0000_0000 + (b >>> 0);
    this.#a = 0x811c9dc5;
    this.#b = 0x9747b28c;
    return value;
  }
}

/**
 * One fingerprint per row over the named columns, by value: a number hashes the same whether it
 * came from `41`, `41.0` or a Parquet double, a category by its text (whatever its code), a
 * missing value as missing. Two rows with equal values get equal fingerprints; different rows
 * collide with probability about 2⁻⁵² each. The gate compares the evaluation rows' fingerprints
 * with those `mlops-train` records for its training rows, to say when they overlap.
 *
 * @example
 * const seen = new Set(rowHashes(training, names));
 * const reused = rowHashes(evaluation, names).filter((hash) => seen.has(hash)).length;
 */
export function rowHashes(frame: Frame, names: readonly string[]): Float64Array {
  const columns = names.map((name) => frame.column(name));
  const out = new Float64Array(frame.rowCount);
  const hasher = new RowHasher();
  for (let row = 0; row < frame.rowCount; row++) {
    for (const column of columns) {
      if (column.kind === "category") {
        const code = column.codes[row];
        hasher.text(code < 0 ? undefined : column.dictionary[code]);
      } else {
        hasher.number(column.values[row]);
      }
    }
    out[row] = hasher.finish();
  }
  return out;
}
