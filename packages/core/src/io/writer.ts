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

  constructor(capacity: number, slack = 1024) {
    // Never from the shared pool: the bytes may be transferred to another thread.
    this.bytes = Buffer.allocUnsafeSlow(Math.max(64, capacity));
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
