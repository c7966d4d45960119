// A CSV file's data as byte chunks cut at record boundaries, so that records can be parsed (and
// scored, and encoded) on other threads while one thread only reads: what batch scoring sends to
// its workers. `readCsvChunk` (csv.ts) parses a chunk by the file reader's rules.
import { type FileHandle, open } from "node:fs/promises";
import { MlopsError } from "../errors/error.js";
import { csvDelimiter } from "./csv.js";
import { CsvReader } from "./csv-reader.js";

const LF = 10;
const CR = 13;
const QUOTE = 34;

/** Bytes per record guessed for the first chunk, before any record has been seen. */
const FIRST_GUESS_BYTES_PER_ROW = 64;
/** Largest chunk asked for (a record longer than this still fits: the buffer grows). */
const MAX_CHUNK_BYTES = 64 << 20;

/** Data records of a CSV file, whole: a chunk never ends inside a record. */
export interface CsvChunk {
  /**
   * The records' bytes. The view owns its `ArrayBuffer` (never Node's shared pool), so it can be
   * transferred to another thread, and that buffer has at least one byte after the view.
   */
  readonly bytes: Uint8Array;
  /** The file line of the chunk's first byte. */
  readonly line: number;
  /** Line breaks in the chunk (at least its records: a quoted field may hold some). */
  readonly lines: number;
}

/**
 * Reads a CSV file's header (with the file reader's rules and errors: `csv_empty`, duplicate or
 * empty names, a BOM, blank lines first), then its data as chunks of about `rows` records, cut
 * at record boundaries: after a line break that is not inside a quoted field (by RFC 4180, as
 * the reader scans quotes: a quote opens a field only at its start, `""` inside is a quote). A
 * quote still open when the file ends makes the rest of the file one chunk, as the reader would
 * read it. Internal (batch scoring).
 *
 * @example
 * const chunker = await CsvChunker.open("big.csv", { rows: 16_384 });
 * try {
 *   for (let chunk = await chunker.next(); chunk; chunk = await chunker.next()) {
 *     const { frame } = readCsvChunk(chunk.bytes, { ...chunker.records, line: chunk.line });
 *   }
 * } finally {
 *   await chunker.close();
 * }
 */
export class CsvChunker {
  readonly path: string;
  readonly header: readonly string[];
  /** 1-based line of the header. */
  readonly headerLine: number;
  /** The delimiter as a byte. */
  readonly delimiterCode: number;
  readonly #handle: FileHandle;
  readonly #rows: number;
  #position: number;
  #line: number;
  #chunkBytes: number;
  /** Bytes read after the last cut (a partial record), carried into the next chunk. */
  #carry: Buffer = Buffer.alloc(0);
  #eof = false;
  /** With `slots`, chunks are read into these shared buffers in turn, never allocated anew. */
  readonly #slots: SharedArrayBuffer[] = [];
  readonly #slotCount: number;
  readonly #slotBytes: ((bytes: number) => number) | undefined;
  #slot = 0;

  private constructor(
    path: string,
    reader: CsvReader,
    delimiter: number,
    handle: FileHandle,
    rows: number,
    slots: number,
    slotBytes: ((bytes: number) => number) | undefined,
  ) {
    this.#slotCount = slots;
    this.#slotBytes = slotBytes;
    this.path = path;
    this.header = reader.header;
    this.headerLine = reader.headerLine;
    this.delimiterCode = delimiter;
    this.#handle = handle;
    this.#rows = rows;
    this.#position = reader.dataStart.offset;
    this.#line = reader.dataStart.line;
    this.#chunkBytes = Math.min(MAX_CHUNK_BYTES, rows * FIRST_GUESS_BYTES_PER_ROW);
  }

  /**
   * Opens `path` and reads its header; `rows` is the records wanted per chunk (about). With
   * `slots`, chunks are read into that many SharedArrayBuffers in turn (a slot is reused
   * `slots` chunks later: its chunk must be done with by then); `slotBytes(bytes)` is the least
   * size of a slot for a read of `bytes` (the room after a chunk is the reader's to use, e.g. to
   * encode its output next to it), `bytes` by default.
   */
  static async open(
    path: string,
    options: {
      rows: number;
      delimiter?: string;
      slots?: number;
      slotBytes?: (bytes: number) => number;
    },
  ): Promise<CsvChunker> {
    const delimiter = csvDelimiter(path, options.delimiter).charCodeAt(0);
    const reader = await CsvReader.open(path, { delimiter, chunkSize: 1 << 16 });
    await reader.close();
    let handle: FileHandle;
    try {
      handle = await open(path, "r");
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new MlopsError("file_read", `${path}: cannot read (${code ?? String(error)})`, {
        cause: error,
        location: { file: path },
      });
    }
    return new CsvChunker(
      path,
      reader,
      delimiter,
      handle,
      Math.max(1, options.rows),
      options.slots ?? 0,
      options.slotBytes,
    );
  }

  /** What `readCsvChunk` needs besides a chunk's bytes and line. */
  get records(): { path: string; header: readonly string[]; delimiterCode: number } {
    return { path: this.path, header: this.header, delimiterCode: this.delimiterCode };
  }

  /** The error for a file with a header and no data records, as `readCsvFile` words it. */
  headerOnlyError(): MlopsError {
    return new MlopsError(
      "csv_header_only",
      `${this.path}:${this.headerLine}: the file has a header but no data rows`,
      { location: { file: this.path, line: this.headerLine } },
    );
  }

  /** The next chunk, or undefined once the file is done. */
  async next(): Promise<CsvChunk | undefined> {
    let want = this.#chunkBytes;
    let again = false;
    while (true) {
      const carried = this.#carry.length;
      if (this.#eof && carried === 0) return undefined;
      // Never from the shared pool: the chunk's buffer is transferred whole to a worker.
      const buffer = this.#buffer(carried + want + 1, again);
      again = true;
      this.#carry.copy(buffer, 0);
      const end = carried + (await this.#read(buffer, carried, want));
      const cut = this.#eof ? end : this.#cut(buffer, end);
      if (cut === 0) {
        // Not one whole record yet (a record longer than the chunk): read on, twice as much.
        this.#carry = buffer.subarray(0, end);
        want = Math.min(Math.max(want * 2, end), 2 ** 31 - 2 - end);
        continue;
      }
      // The partial record after the cut starts the next chunk (copied: this buffer moves).
      this.#carry = Buffer.from(buffer.subarray(cut, end));
      const line = this.#line;
      const lines = countLines(buffer, cut);
      this.#line += lines;
      if (lines > 0) {
        // About `rows` records per chunk from here on.
        this.#chunkBytes = Math.min(
          MAX_CHUNK_BYTES,
          Math.max(64, Math.ceil((cut / lines) * this.#rows)),
        );
      }
      return { bytes: new Uint8Array(buffer.buffer, buffer.byteOffset, cut), line, lines };
    }
  }

  /**
   * A buffer of `size` bytes: the next shared slot (grown when too small), or a new one. `again`:
   * for the chunk the last call was for (a record longer than that read): the same slot, so a
   * chunk always takes exactly one and each is reused only `slots` chunks later.
   */
  #buffer(size: number, again: boolean): Buffer {
    if (this.#slotCount === 0) return Buffer.allocUnsafeSlow(size);
    if (again) this.#slot = (this.#slot + this.#slotCount - 1) % this.#slotCount;
    const index = this.#slot;
    this.#slot = (index + 1) % this.#slotCount;
    let slot = this.#slots[index];
    const least = Math.max(size, this.#slotBytes?.(size) ?? size);
    if (slot === undefined || slot.byteLength < least) {
      // Headroom (a quarter of a read, a tenth of a read and its room): chunks vary a little
      // in size, and slots are not remade for it.
      slot = new SharedArrayBuffer(Math.ceil(least * (this.#slotBytes ? 1.1 : 1.25)));
      this.#slots[index] = slot;
    }
    return Buffer.from(slot, 0, size);
  }

  async close(): Promise<void> {
    await this.#handle.close();
  }

  /** Fills `buffer[at, at + length)` from the file (less at its end); returns the bytes read. */
  async #read(buffer: Buffer, at: number, length: number): Promise<number> {
    let total = 0;
    while (total < length) {
      let bytesRead: number;
      try {
        ({ bytesRead } = await this.#handle.read(
          buffer,
          at + total,
          length - total,
          this.#position,
        ));
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        throw new MlopsError("file_read", `${this.path}: cannot read (${code ?? String(error)})`, {
          cause: error,
          location: { file: this.path },
        });
      }
      if (bytesRead === 0) {
        this.#eof = true;
        break;
      }
      total += bytesRead;
      this.#position += bytesRead;
    }
    return total;
  }

  /**
   * Where the last whole record in `buffer[0, end)` ends (after its line break), 0 when none
   * does. More of the file follows, so a CR at the very end might be half of a CRLF, and a quote
   * open at the end might close later: neither is a boundary yet.
   */
  #cut(buffer: Buffer, end: number): number {
    const quote = buffer.indexOf(QUOTE);
    if (quote < 0 || quote >= end) {
      // No quotes: every line break ends a record.
      const lf = end > 0 ? buffer.lastIndexOf(LF, end - 1) : -1;
      const cr = end > 1 ? buffer.lastIndexOf(CR, end - 2) : -1;
      return Math.max(lf, cr) + 1;
    }
    return lastRecordEnd(buffer, end, this.delimiterCode);
  }
}

/**
 * The reader's grammar, reduced to what decides record boundaries: a quote at the start of a
 * field opens it until a quote that is not doubled; bytes after the closing quote and quotes
 * inside an unquoted field are plain bytes; outside quoted fields every LF, CR or CRLF ends a
 * record. Returns the end of the last whole record in `buffer[0, end)` (0 when none).
 */
function lastRecordEnd(buffer: Buffer, end: number, delimiter: number): number {
  let last = 0;
  let position = 0;
  let fieldStart = true;
  while (position < end) {
    const byte = buffer[position];
    if (fieldStart && byte === QUOTE) {
      let close = position + 1;
      while (true) {
        close = buffer.indexOf(QUOTE, close);
        // Still open, or a quote at the end that may be the first of a doubled pair.
        if (close < 0 || close + 1 >= end) return last;
        if (buffer[close + 1] !== QUOTE) break;
        close += 2;
      }
      position = close + 1;
      fieldStart = false;
    } else if (byte === delimiter) {
      position++;
      fieldStart = true;
    } else if (byte === LF) {
      position++;
      last = position;
      fieldStart = true;
    } else if (byte === CR) {
      if (position + 1 >= end) return last;
      position += buffer[position + 1] === LF ? 2 : 1;
      last = position;
      fieldStart = true;
    } else {
      position++;
      fieldStart = false;
    }
  }
  return last;
}

/** Line breaks (LF, CRLF or a lone CR) in `buffer[0, end)`, as the reader counts lines. */
function countLines(buffer: Buffer, end: number): number {
  let lines = 0;
  for (let at = buffer.indexOf(LF); at >= 0 && at < end; at = buffer.indexOf(LF, at + 1)) lines++;
  for (let at = buffer.indexOf(CR); at >= 0 && at < end; at = buffer.indexOf(CR, at + 1)) {
    // A CR followed by LF was counted with the LF.
    if (at + 1 >= end || buffer[at + 1] !== LF) lines++;
  }
  return lines;
}
