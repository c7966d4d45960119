import { type FileHandle, open } from "node:fs/promises";
import { MlopsError } from "../errors/error.js";
import type { Column } from "../frame/frame.js";
import { isMissingToken, parseNumberText } from "../schema/schema.js";
import type { MalformedRecord } from "./batch.js";
import { parseLongDecimalInto } from "./decimal.js";
import { assertReadableFile } from "./files.js";

const LF = 10;
const CR = 13;
const QUOTE = 34;
const PLUS = 43;
const MINUS = 45;
const DOT = 46;
const ZERO = 48;
const UPPER_E = 69;
const LOWER_E = 101;

/** 2^53: every integer below it is exact in a double, so digit accumulation stays exact. */
const EXACT_INTEGER_LIMIT = 9007199254740992;
/** 10^0..10^22 are exact doubles: one multiply or divide by them is correctly rounded. */
const POWERS_OF_TEN = new Float64Array(23).map((_, index) => 10 ** index);

// How the reader stores one header column (plain constants: the hot loop compares them per cell).
/** Float64Array; switches to MODE_INFERRED when a text value appears. */
export const MODE_NUMERIC = 0;
/** Dictionary-encoded strings inferred from the data: numbers are kept as `String(n)`. */
export const MODE_INFERRED = 1;
/** Dictionary-encoded raw strings (a category field of the schema): "01" stays "01". */
export const MODE_TEXT = 2;
/** Not materialised: only scanned over. */
export const MODE_SKIP = 3;

type Status = 0 | 1 | 2;
const NEED_MORE: Status = 0;
const LIMIT: Status = 1;
const DONE: Status = 2;

/** `#scanQuoted` in lenient mode: the quote is never closed before the end of the file. */
const UNTERMINATED = -2;

/** Text cells up to this many bytes are looked up by their bytes before a string is made. */
const CACHE_VALUE_BYTES = 24;
/** Direct-mapped cache slots per text column (a power of two). */
const CACHE_SLOTS = 1024;
const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 0x01000193;

/** Capacity when the first chunk holds too few rows to estimate the file's row count. */
const INITIAL_ROWS = 1024;

const EMPTY_VALUES = new Float64Array(0);
const EMPTY_CODES = new Int32Array(0);

export interface CsvReaderSettings {
  /** The delimiter as a byte (validated by the caller: ASCII, not a quote, CR or LF). */
  delimiter: number;
  /** Bytes read per `read()` call; the buffer grows only for a record longer than this. */
  chunkSize: number;
}

/** Rows parsed into columns, plus what is needed to name the line of each row. */
export interface CsvBatch {
  readonly rowCount: number;
  /** `[name, column]` for every materialised column, in `order`. */
  readonly columns: [string, Column][];
  /** The 1-based file line where `row` (batch-local) starts. */
  readonly lineOf: (row: number) => number;
  /**
   * Lenient readers only: records that could not be read (a wrong number of fields, a quote
   * never closed), each holding a row of missing values in the columns.
   */
  readonly malformed: readonly MalformedRecord[];
  /**
   * With `configure(…, bounds: true)`: per row, where its record starts and where its last field
   * ends (before the line break) in the bytes read, as pairs `[start, end]`.
   */
  readonly bounds?: Int32Array;
}

/**
 * A chunked RFC 4180 parser over a file's bytes. It keeps one reusable buffer: a record that
 * crosses the end of the buffer is moved to its start and parsed again once more bytes arrive,
 * so a row counts only once its record is complete. Use `open`, `configure`, then `readBatch`
 * until it returns no rows, then `close`. `csv.ts` builds the public reader on it.
 *
 * @example
 * const reader = await CsvReader.open("data.csv", { delimiter: 44, chunkSize: 1 << 20 });
 * try {
 *   reader.configure(reader.header.map(() => MODE_NUMERIC), reader.header.map((_, i) => i));
 *   const batch = await reader.readBatch(65_536);
 * } finally {
 *   await reader.close();
 * }
 */
export class CsvReader {
  readonly path: string;
  /** Column names from the header line. */
  header: string[] = [];
  /** 1-based line of the header (after any blank lines and a BOM). */
  headerLine = 1;

  #handle: FileHandle | undefined;
  #fileSize = 0;
  #delimiter: number;
  #buffer: Buffer;
  /** Unconsumed bytes are `#buffer[#start, #end)`; `#buffer[#end]` is a LF sentinel. */
  #start = 0;
  #end = 0;
  #eof = false;
  /** File offset of `#buffer[#end]`. */
  #filePosition = 0;
  /** 1-based line at `#start`. */
  #line = 1;
  /** File offset where the data rows start, and rows read before this batch (for estimates). */
  #dataStart = 0;
  #rowsBefore = 0;

  #modes = new Uint8Array(0);
  #order: number[] = [];
  #numeric: Float64Array[] = [];
  #codes: Int32Array[] = [];
  #lookups: Map<string, number>[] = [];
  #dictionaries: string[][] = [];
  /**
   * Per text column, a direct-mapped cache from a cell's bytes to its code, so a repeated value
   * (the common case in category columns) costs a hash and a compare instead of a new string.
   */
  #cacheBytes: Uint8Array[] = [];
  #cacheLengths: Int32Array[] = [];
  #cacheCodes: Int32Array[] = [];
  #row = 0;
  #capacity = 0;
  #limit = 0;
  /** Rows where `line - row` changes (blank lines, embedded newlines) and the new difference. */
  #lineRows: number[] = [];
  #lineDeltas: number[] = [];
  #lineDelta = Number.NaN;
  /** Each row's record `[start, end)` in the buffer, when asked for (`configure`). */
  #bounds: Int32Array | undefined;
  #keepBounds = false;
  /** Line of the first data record (after the header). */
  #dataLine = 1;

  /** Malformed records are kept as rows (see `configure`) instead of thrown. */
  #lenient = false;
  #malformed: MalformedRecord[] = [];

  /** Set by `#scanQuoted`: the field's text and the line breaks inside it. */
  #quotedText = "";
  #quotedNewlines = 0;

  private constructor(path: string, settings: CsvReaderSettings, buffer?: Buffer) {
    this.path = path;
    this.#delimiter = settings.delimiter;
    // One spare byte holds the sentinel, so scanning loops need no bounds check.
    this.#buffer = buffer ?? Buffer.allocUnsafe(settings.chunkSize + 1);
  }

  /** Opens `path`, reads the header and checks its names (throws MlopsError). */
  static async open(path: string, settings: CsvReaderSettings): Promise<CsvReader> {
    const reader = new CsvReader(path, settings);
    reader.#fileSize = await assertReadableFile(path);
    try {
      reader.#handle = await open(path, "r");
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new MlopsError("file_read", `${path}: cannot read (${code ?? String(error)})`, {
        cause: error,
        location: { file: path },
      });
    }
    try {
      await reader.#readHeader();
    } catch (error) {
      await reader.close();
      throw error;
    }
    return reader;
  }

  /**
   * A reader over bytes already in memory (a request body): the same parser and rules as for a
   * file, read synchronously with `readAllSync`. `name` stands for the file in messages. With
   * `records` (data records of a file whose header was read before, from `line` on), bytes
   * whose buffer has a byte after the view are read in place and that byte is overwritten.
   */
  static fromBytes(
    name: string,
    bytes: Uint8Array,
    delimiter: number,
    records?: { header: readonly string[]; line: number },
  ): CsvReader {
    // A chunk (records given) whose buffer has a byte after it is read in place, that byte
    // becoming the sentinel; anything else is copied first.
    const inPlace =
      records !== undefined && bytes.byteOffset + bytes.length < bytes.buffer.byteLength;
    const reader = new CsvReader(
      name,
      { delimiter, chunkSize: bytes.length },
      inPlace ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length + 1) : undefined,
    );
    if (!inPlace) reader.#buffer.set(bytes, 0);
    reader.#end = bytes.length;
    reader.#fileSize = bytes.length;
    reader.#filePosition = bytes.length;
    reader.#eof = true;
    reader.#buffer[reader.#end] = LF;
    if (records === undefined) reader.#takeHeader();
    else {
      // Data records only (a chunk of a file whose header was read before), from `line` on.
      reader.header = [...records.header];
      reader.headerLine = records.line - 1;
      reader.#line = records.line;
      reader.#dataLine = records.line;
    }
    return reader;
  }

  /** Where the data records start: the byte offset in the file and its line (after `open`). */
  get dataStart(): { offset: number; line: number } {
    return { offset: this.#dataStart, line: this.#dataLine };
  }

  /** The line the reader has reached (the next record's, once a batch ends at a record). */
  get line(): number {
    return this.#line;
  }

  /** Every row of an in-memory reader (`fromBytes`), up to `limit`. */
  readAllSync(limit: number): CsvBatch {
    if (!this.#eof || this.#handle !== undefined) {
      throw new MlopsError("argument_invalid", `${this.path}: readAllSync needs a reader of bytes`);
    }
    this.#startBatch(limit);
    this.#parse();
    return this.#finishBatch();
  }

  async close(): Promise<void> {
    const handle = this.#handle;
    this.#handle = undefined;
    await handle?.close();
  }

  /**
   * Chooses how each header column is stored (`modes`, by header index) and the order of the
   * materialised columns in the batches (`order`, header indices). `lenient`: a record with the
   * wrong number of fields, or whose quote is never closed, becomes a row of missing values
   * listed in the batch's `malformed` (with its text) instead of an error; after an unclosed
   * quote, reading goes on at the next line. `bounds`: batches say where each row's record is
   * in the bytes (`CsvBatch.bounds`; for readers of bytes, whose buffer is those bytes).
   */
  configure(
    modes: readonly number[],
    order: readonly number[],
    lenient = false,
    bounds = false,
  ): void {
    this.#lenient = lenient;
    this.#keepBounds = bounds;
    this.#modes = Uint8Array.from(modes);
    this.#order = [...order];
    this.#numeric = modes.map(() => EMPTY_VALUES);
    this.#codes = modes.map(() => EMPTY_CODES);
    this.#lookups = modes.map(() => new Map());
    this.#dictionaries = modes.map(() => []);
    this.#cacheBytes = modes.map(() => new Uint8Array(0));
    this.#cacheLengths = modes.map(() => EMPTY_CODES);
    this.#cacheCodes = modes.map(() => EMPTY_CODES);
  }

  /** Parses up to `limit` rows (fewer at the end of the file; none once it is exhausted). */
  async readBatch(limit: number): Promise<CsvBatch> {
    this.#startBatch(limit);
    let status = this.#parse();
    while (status === NEED_MORE) {
      await this.#fill();
      status = this.#parse();
    }
    return this.#finishBatch();
  }

  // ------------------------------------------------------------------ buffer

  #offsetOf(position: number): number {
    return this.#filePosition - (this.#end - position);
  }

  /** Keeps the unconsumed bytes (a partial record), moved to the front, and reads after them. */
  async #fill(): Promise<void> {
    if (this.#eof) return;
    let buffer = this.#buffer;
    const kept = this.#end - this.#start;
    const room = buffer.length - 1;
    if (kept * 2 > room) {
      // A record longer than half the buffer: double it so each refill still reads a lot.
      const larger = Buffer.allocUnsafe(room * 2 + 1);
      buffer.copy(larger, 0, this.#start, this.#end);
      buffer = larger;
      this.#buffer = larger;
    } else if (this.#start > 0 && kept > 0) {
      buffer.copyWithin(0, this.#start, this.#end);
    }
    this.#start = 0;
    this.#end = kept;
    let bytesRead: number;
    try {
      ({ bytesRead } = await this.#handle!.read(
        buffer,
        kept,
        buffer.length - 1 - kept,
        this.#filePosition,
      ));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new MlopsError("file_read", `${this.path}: cannot read (${code ?? String(error)})`, {
        cause: error,
        location: { file: this.path },
      });
    }
    if (bytesRead === 0) this.#eof = true;
    this.#end = kept + bytesRead;
    this.#filePosition += bytesRead;
    buffer[this.#end] = LF;
  }

  // ------------------------------------------------------------------ header

  async #readHeader(): Promise<void> {
    while (this.#end - this.#start < 3 && !this.#eof) await this.#fill();
    this.#skipBom();
    let names = this.#parseTextRecord();
    while (names === undefined) {
      await this.#fill();
      names = this.#parseTextRecord();
    }
    this.#checkHeader(names);
  }

  /** The header of an in-memory reader: every byte is there, so no record is ever partial. */
  #takeHeader(): void {
    this.#skipBom();
    const names = this.#parseTextRecord();
    this.#checkHeader(names ?? null);
  }

  #skipBom(): void {
    const buffer = this.#buffer;
    if (
      this.#end - this.#start >= 3 &&
      buffer[0] === 0xef &&
      buffer[1] === 0xbb &&
      buffer[2] === 0xbf
    ) {
      this.#start = 3;
    }
  }

  /** Checks the header's names (none empty, none twice) and keeps them. */
  #checkHeader(names: string[] | null): void {
    if (names === null) {
      throw new MlopsError("csv_empty", `${this.path}: the file is empty; expected a header line`, {
        location: { file: this.path, line: 1 },
      });
    }
    const line = this.headerLine;
    const seen = new Map<string, number>();
    for (let index = 0; index < names.length; index++) {
      const name = names[index];
      if (name === "") {
        throw new MlopsError(
          "data_invalid",
          `${this.path}:${line}: column ${index + 1} of the header has an empty name; ` +
            "every column needs a name",
          { location: { file: this.path, line, column: index + 1 } },
        );
      }
      const first = seen.get(name);
      if (first !== undefined) {
        throw new MlopsError(
          "csv_duplicate_column",
          `${this.path}:${line}: duplicate column "${name}" in the header, ` +
            `at positions ${first + 1} and ${index + 1}`,
          { location: { file: this.path, line, column: name } },
        );
      }
      seen.set(name, index);
    }
    this.header = names;
    this.#dataStart = this.#offsetOf(this.#start);
    this.#dataLine = this.#line;
  }

  /**
   * Parses one record as strings (the header). Returns undefined when more bytes are needed and
   * null when the file holds no record at all (empty, or only blank lines).
   */
  #parseTextRecord(): string[] | null | undefined {
    const buffer = this.#buffer;
    const end = this.#end;
    const eof = this.#eof;
    const delimiter = this.#delimiter;
    let position = this.#start;
    let line = this.#line;
    // Blank lines before the header are skipped; they are consumed even if the record is not.
    while (position < end) {
      const byte = buffer[position];
      if (byte === LF) position++;
      else if (byte === CR) {
        if (position + 1 >= end && !eof) {
          this.#start = position;
          this.#line = line;
          return undefined;
        }
        position += position + 1 < end && buffer[position + 1] === LF ? 2 : 1;
      } else break;
      line++;
    }
    this.#start = position;
    this.#line = line;
    if (position >= end) return eof ? null : undefined;
    this.headerLine = line;
    const fields: string[] = [];
    while (true) {
      let byte = buffer[position];
      if (byte === QUOTE) {
        const next = this.#scanQuoted(position, line, fields.length + 1);
        if (next < 0) return undefined;
        line += this.#quotedNewlines;
        fields.push(this.#quotedText);
        position = next;
      } else {
        const fieldStart = position;
        while (byte !== delimiter && byte !== LF && byte !== CR) byte = buffer[++position];
        if (position >= end && !eof) return undefined;
        fields.push(buffer.toString("utf8", fieldStart, position));
      }
      byte = buffer[position];
      if (position < end && byte === delimiter) {
        position++;
        continue;
      }
      const next = this.#recordEnd(position);
      if (next < 0) return undefined;
      this.#start = next;
      this.#line = line + 1;
      return fields;
    }
  }

  /** The position after the line break at `position`, or -1 when a CR may be half of a CRLF. */
  #recordEnd(position: number): number {
    const end = this.#end;
    if (position >= end) return end;
    if (this.#buffer[position] === LF) return position + 1;
    if (position + 1 < end) return this.#buffer[position + 1] === LF ? position + 2 : position + 1;
    return this.#eof ? position + 1 : -1;
  }

  /**
   * Scans the quoted field opening at `position`. Returns the position of the byte after it (a
   * delimiter, a line break or the end of the file), or -1 when the buffer ends before the field
   * is known to be complete, or UNTERMINATED when `lenient` and the quote is never closed. Sets
   * `#quotedText` (with `""` unescaped, and any bytes between the
   * closing quote and the delimiter appended, as Python's csv module does) and `#quotedNewlines`.
   */
  #scanQuoted(position: number, line: number, column: string | number, lenient = false): number {
    const buffer = this.#buffer;
    const end = this.#end;
    const eof = this.#eof;
    let newlines = 0;
    let escaped = false;
    let cursor = position + 1;
    while (true) {
      if (cursor >= end) {
        if (!eof) return -1;
        if (lenient) return UNTERMINATED;
        throw new MlopsError(
          "csv_unterminated_quote",
          `${this.path}:${line}: unterminated quoted field in column ${
            typeof column === "string" ? `"${column}"` : column
          }: the quote opened on this line is never closed`,
          { location: { file: this.path, line, column } },
        );
      }
      const byte = buffer[cursor];
      if (byte === QUOTE) {
        if (cursor + 1 >= end && !eof) return -1;
        if (cursor + 1 < end && buffer[cursor + 1] === QUOTE) {
          escaped = true;
          cursor += 2;
          continue;
        }
        break;
      }
      if (byte === LF) newlines++;
      else if (byte === CR) {
        if (cursor + 1 >= end && !eof) return -1;
        if (!(cursor + 1 < end && buffer[cursor + 1] === LF)) newlines++;
      }
      cursor++;
    }
    let text = buffer.toString("utf8", position + 1, cursor);
    if (escaped) text = text.replaceAll('""', '"');
    cursor++;
    const delimiter = this.#delimiter;
    let byte = buffer[cursor];
    if (cursor < end && byte !== delimiter && byte !== LF && byte !== CR) {
      const trailing = cursor;
      while (byte !== delimiter && byte !== LF && byte !== CR) byte = buffer[++cursor];
      if (cursor >= end && !eof) return -1;
      text += buffer.toString("utf8", trailing, cursor);
    } else if (cursor >= end && !eof) {
      return -1;
    }
    this.#quotedText = text;
    this.#quotedNewlines = newlines;
    return cursor;
  }

  // ------------------------------------------------------------------ rows

  /** Rows left in the file, estimated from the bytes per row seen so far (rounded up). */
  #estimateRows(position: number, rowsSoFar: number): number {
    const remaining = this.#fileSize - this.#offsetOf(position);
    if (remaining <= 0) return 0;
    let bytesPerRow: number;
    if (rowsSoFar > 0) {
      bytesPerRow = (this.#offsetOf(position) - this.#dataStart) / rowsSoFar;
    } else {
      // No row parsed yet: count line breaks in what the buffer holds (an upper bound on rows).
      let breaks = 0;
      let at = this.#buffer.indexOf(LF, position);
      while (at >= 0 && at < this.#end) {
        breaks++;
        at = this.#buffer.indexOf(LF, at + 1);
      }
      if (this.#eof) return breaks + 1;
      // Too few rows in sight to judge (rows longer than a chunk): start small and let
      // `#grow` estimate again from the rows parsed by then.
      if (breaks < 16) return INITIAL_ROWS;
      bytesPerRow = (this.#end - position) / breaks;
    }
    // 2% headroom: an estimate a little high is trimmed for free, one too low costs a copy.
    return Math.ceil((remaining / Math.max(1, bytesPerRow)) * 1.02) + 16;
  }

  #startBatch(limit: number): void {
    this.#rowsBefore += this.#row;
    this.#row = 0;
    this.#limit = limit;
    this.#lineRows = [];
    this.#lineDeltas = [];
    this.#lineDelta = Number.NaN;
    this.#malformed = [];
    const capacity = Math.min(limit, this.#estimateRows(this.#start, this.#rowsBefore));
    this.#capacity = capacity;
    this.#bounds = this.#keepBounds ? new Int32Array(2 * capacity) : undefined;
    const modes = this.#modes;
    for (let index = 0; index < modes.length; index++) {
      const mode = modes[index];
      this.#numeric[index] = mode === MODE_NUMERIC ? new Float64Array(capacity) : EMPTY_VALUES;
      this.#codes[index] =
        mode === MODE_INFERRED || mode === MODE_TEXT ? new Int32Array(capacity) : EMPTY_CODES;
      // Dictionaries are per batch, so a streamed batch holds only the strings it uses.
      this.#lookups[index] = new Map();
      this.#dictionaries[index] = [];
      this.#resetCache(index);
    }
  }

  /** Makes room for more rows: a modest growth factor or the estimate, whichever is larger. */
  #grow(position: number): void {
    const row = this.#row;
    const estimate = row + this.#estimateRows(position, this.#rowsBefore + row);
    const capacity = Math.min(
      this.#limit,
      Math.max(Math.ceil(this.#capacity * 1.25) + 16, estimate),
    );
    const modes = this.#modes;
    for (let index = 0; index < modes.length; index++) {
      const mode = modes[index];
      if (mode === MODE_NUMERIC) {
        const values = new Float64Array(capacity);
        values.set(this.#numeric[index].subarray(0, row));
        this.#numeric[index] = values;
      } else if (mode !== MODE_SKIP) {
        const codes = new Int32Array(capacity);
        codes.set(this.#codes[index].subarray(0, row));
        this.#codes[index] = codes;
      }
    }
    if (this.#bounds !== undefined) {
      const bounds = new Int32Array(2 * capacity);
      bounds.set(this.#bounds.subarray(0, 2 * row));
      this.#bounds = bounds;
    }
    this.#capacity = capacity;
  }

  #finishBatch(): CsvBatch {
    const rowCount = this.#row;
    const capacity = this.#capacity;
    // A view is kept when the estimate was close (≤ 1/16 spare): copying would briefly double
    // the memory, which is what the estimate is there to avoid.
    const trim = (capacity - rowCount) * 16 > capacity;
    const columns: [string, Column][] = [];
    for (const index of this.#order) {
      const mode = this.#modes[index];
      const name = this.header[index];
      if (mode === MODE_NUMERIC) {
        const values = this.#numeric[index];
        columns.push([
          name,
          {
            kind: "number",
            values: trim ? values.slice(0, rowCount) : values.subarray(0, rowCount),
          },
        ]);
      } else {
        const codes = this.#codes[index];
        columns.push([
          name,
          {
            kind: "category",
            codes: trim ? codes.slice(0, rowCount) : codes.subarray(0, rowCount),
            dictionary: this.#dictionaries[index],
          },
        ]);
      }
    }
    for (let index = 0; index < this.#modes.length; index++) {
      this.#numeric[index] = EMPTY_VALUES;
      this.#codes[index] = EMPTY_CODES;
    }
    const lineRows = this.#lineRows;
    const lineDeltas = this.#lineDeltas;
    const lineOf = (row: number): number => {
      let low = 0;
      let high = lineRows.length - 1;
      while (low < high) {
        const middle = (low + high + 1) >> 1;
        if (lineRows[middle] <= row) low = middle;
        else high = middle - 1;
      }
      return row + (lineDeltas[low] ?? 0);
    };
    const bounds = this.#bounds?.subarray(0, 2 * rowCount);
    this.#bounds = undefined;
    return { rowCount, columns, lineOf, malformed: this.#malformed, bounds };
  }

  /**
   * The hot loop: parses complete records from the buffer into the columns until the buffer
   * runs out (NEED_MORE), the batch is full (LIMIT) or the file ends (DONE). Numbers are parsed
   * from the bytes as they are scanned; strings are created only for text cells.
   */
  #parse(): Status {
    const buffer = this.#buffer;
    const end = this.#end;
    const eof = this.#eof;
    const delimiter = this.#delimiter;
    const modes = this.#modes;
    const columnCount = modes.length;
    const numeric = this.#numeric;
    const limit = this.#limit;
    let position = this.#start;
    let line = this.#line;
    let row = this.#row;
    let lineDelta = this.#lineDelta;
    let bounds = this.#bounds;
    let status: Status;
    records: while (true) {
      if (row >= limit) {
        status = LIMIT;
        break;
      }
      if (position >= end) {
        status = eof ? DONE : NEED_MORE;
        break;
      }
      let byte = buffer[position];
      if (byte === LF || byte === CR) {
        const next = this.#recordEnd(position);
        if (next < 0) {
          status = NEED_MORE;
          break;
        }
        position = next;
        line++;
        continue;
      }
      if (row >= this.#capacity) {
        this.#row = row;
        this.#grow(position);
        bounds = this.#bounds;
      }
      const recordStart = position;
      const recordLine = line;
      let field = 0;
      while (true) {
        const mode = field < columnCount ? modes[field] : MODE_SKIP;
        if (byte === QUOTE) {
          const next = this.#scanQuoted(position, line, this.#columnLabel(field), this.#lenient);
          if (next === UNTERMINATED) {
            // Set the physical line aside (the quote is most likely stray) and go on after it.
            let lineEnd = position;
            while (lineEnd < end && buffer[lineEnd] !== LF && buffer[lineEnd] !== CR) lineEnd++;
            this.#keepMalformed(
              row,
              recordStart,
              lineEnd,
              `unterminated quoted field in column ${describeColumn(this.#columnLabel(field))}: ` +
                `the quote opened on line ${line} is never closed`,
              "a closing quote",
              "none before the end of the file",
            );
            position = lineEnd >= end ? end : this.#recordEnd(lineEnd);
            line++;
            if (recordLine - row !== lineDelta) {
              lineDelta = recordLine - row;
              this.#lineRows.push(row);
              this.#lineDeltas.push(lineDelta);
            }
            row++;
            continue records;
          }
          if (next < 0) {
            position = recordStart;
            line = recordLine;
            status = NEED_MORE;
            break records;
          }
          line += this.#quotedNewlines;
          position = next;
          if (mode !== MODE_SKIP) this.#storeText(field, row, this.#quotedText);
        } else if (mode === MODE_NUMERIC) {
          const fieldStart = position;
          let negative = false;
          if (byte === MINUS) {
            negative = true;
            byte = buffer[++position];
          } else if (byte === PLUS) {
            byte = buffer[++position];
          }
          let mantissa = 0;
          let scale = 0;
          let digit = byte - ZERO;
          const integerStart = position;
          while (digit >= 0 && digit <= 9) {
            mantissa = mantissa * 10 + digit;
            digit = buffer[++position] - ZERO;
          }
          let digits = position - integerStart;
          byte = digit + ZERO;
          if (byte === DOT) {
            const fractionStart = ++position;
            digit = buffer[position] - ZERO;
            while (digit >= 0 && digit <= 9) {
              mantissa = mantissa * 10 + digit;
              digit = buffer[++position] - ZERO;
            }
            scale = fractionStart - position;
            digits -= scale;
            byte = digit + ZERO;
          }
          let valid = digits > 0;
          if (valid && (byte === LOWER_E || byte === UPPER_E)) {
            byte = buffer[++position];
            let exponentNegative = false;
            if (byte === MINUS) {
              exponentNegative = true;
              byte = buffer[++position];
            } else if (byte === PLUS) {
              byte = buffer[++position];
            }
            let exponent = 0;
            let exponentDigits = 0;
            digit = byte - ZERO;
            while (digit >= 0 && digit <= 9) {
              // Clamped: beyond ±100000 the value is 0 or Infinity whatever the digits say.
              if (exponent < 100000) exponent = exponent * 10 + digit;
              exponentDigits++;
              digit = buffer[++position] - ZERO;
            }
            byte = digit + ZERO;
            valid = exponentDigits > 0;
            scale += exponentNegative ? -exponent : exponent;
          }
          if (valid && (byte === delimiter || byte === LF || byte === CR)) {
            if (position >= end && !eof) {
              position = recordStart;
              line = recordLine;
              status = NEED_MORE;
              break records;
            }
            let value: number;
            if (mantissa === 0) value = 0;
            else if (mantissa < EXACT_INTEGER_LIMIT && scale >= -22 && scale <= 22) {
              value =
                scale < 0 ? mantissa / POWERS_OF_TEN[-scale] : mantissa * POWERS_OF_TEN[scale];
            } else if (
              scale > 22 &&
              scale <= 22 + 15 &&
              mantissa * POWERS_OF_TEN[scale - 22] < EXACT_INTEGER_LIMIT
            ) {
              // Clinger's extension: small mantissa, large exponent; the first product is exact.
              value = mantissa * POWERS_OF_TEN[scale - 22] * 1e22;
            } else {
              // 16–19 digits (most doubles as `String` writes them): exact without a string.
              const digitsStart =
                negative || buffer[fieldStart] === PLUS ? fieldStart + 1 : fieldStart;
              // Stored by the callee, not returned: a double returned is a heap number each.
              const column = numeric[field];
              if (!parseLongDecimalInto(buffer, digitsStart, position, column, row)) {
                column[row] = Number(buffer.toString("latin1", digitsStart, position));
              }
              value = column[row];
            }
            numeric[field][row] = negative ? -value : value;
          } else {
            // Not a plain number (text, a missing token, surrounding spaces): classify the text.
            while (byte !== delimiter && byte !== LF && byte !== CR) byte = buffer[++position];
            if (position >= end && !eof) {
              position = recordStart;
              line = recordLine;
              status = NEED_MORE;
              break records;
            }
            if (position === fieldStart) numeric[field][row] = Number.NaN;
            else this.#storeText(field, row, buffer.toString("utf8", fieldStart, position));
          }
        } else if (mode === MODE_SKIP) {
          while (byte !== delimiter && byte !== LF && byte !== CR) byte = buffer[++position];
          if (position >= end && !eof) {
            position = recordStart;
            line = recordLine;
            status = NEED_MORE;
            break records;
          }
        } else {
          const fieldStart = position;
          let hash = FNV_OFFSET;
          while (byte !== delimiter && byte !== LF && byte !== CR) {
            hash = Math.imul(hash ^ byte, FNV_PRIME);
            byte = buffer[++position];
          }
          if (position >= end && !eof) {
            position = recordStart;
            line = recordLine;
            status = NEED_MORE;
            break records;
          }
          this.#storeBytes(field, row, fieldStart, position, hash);
        }
        field++;
        byte = buffer[position];
        if (position < end && byte === delimiter) {
          byte = buffer[++position];
          continue;
        }
        const next = this.#recordEnd(position);
        if (next < 0) {
          position = recordStart;
          line = recordLine;
          status = NEED_MORE;
          break records;
        }
        if (field !== columnCount) {
          if (!this.#lenient) throw this.#raggedRow(recordLine, field);
          this.#keepMalformed(
            row,
            recordStart,
            position,
            `expected ${columnCount} fields like the header, found ${field}`,
            `${columnCount} fields`,
            `${field}`,
          );
        }
        if (bounds !== undefined) {
          bounds[2 * row] = recordStart;
          bounds[2 * row + 1] = position;
        }
        position = next;
        line++;
        if (recordLine - row !== lineDelta) {
          lineDelta = recordLine - row;
          this.#lineRows.push(row);
          this.#lineDeltas.push(lineDelta);
        }
        row++;
        break;
      }
    }
    this.#start = position;
    this.#line = line;
    this.#row = row;
    this.#lineDelta = lineDelta;
    return status;
  }

  /**
   * Lenient mode: records the malformed record `row` (its bytes `[start, end)`) and makes its
   * row all missing values (what was parsed of it may sit in the wrong columns).
   */
  #keepMalformed(
    row: number,
    start: number,
    end: number,
    message: string,
    expected: string,
    received: string,
  ): void {
    const modes = this.#modes;
    for (let field = 0; field < modes.length; field++) {
      const mode = modes[field];
      if (mode === MODE_NUMERIC) this.#numeric[field][row] = Number.NaN;
      else if (mode !== MODE_SKIP) this.#codes[field][row] = -1;
    }
    this.#malformed.push({
      row,
      text: this.#buffer.toString("utf8", start, end),
      message,
      expected,
      received,
    });
  }

  #columnLabel(field: number): string | number {
    return field < this.header.length ? this.header[field] : field + 1;
  }

  #raggedRow(line: number, found: number): MlopsError {
    const expected = this.header.length;
    return new MlopsError(
      "csv_ragged_row",
      `${this.path}:${line}: expected ${expected} fields like the header, found ${found}`,
      {
        location: {
          file: this.path,
          line,
          column: found < expected ? this.header[found] : expected + 1,
        },
      },
    );
  }

  /** Stores an unquoted cell of a text column, through the byte cache when it is short. */
  #storeBytes(field: number, row: number, start: number, end: number, hash: number): void {
    const length = end - start;
    if (length > CACHE_VALUE_BYTES) {
      this.#storeText(field, row, this.#buffer.toString("utf8", start, end));
      return;
    }
    const buffer = this.#buffer;
    const slot = hash & (CACHE_SLOTS - 1);
    const lengths = this.#cacheLengths[field];
    const bytes = this.#cacheBytes[field];
    const offset = slot * CACHE_VALUE_BYTES;
    if (lengths[slot] === length) {
      let same = true;
      for (let index = 0; index < length; index++) {
        if (bytes[offset + index] !== buffer[start + index]) {
          same = false;
          break;
        }
      }
      if (same) {
        this.#codes[field][row] = this.#cacheCodes[field][slot];
        return;
      }
    }
    this.#storeText(field, row, buffer.toString("utf8", start, end));
    // The mode is text or inferred (never numeric again), so these bytes always get this code.
    lengths[slot] = length;
    buffer.copy(bytes, offset, start, end);
    this.#cacheCodes[field][slot] = this.#codes[field][row];
  }

  #resetCache(field: number): void {
    const mode = this.#modes[field];
    if (mode !== MODE_TEXT && mode !== MODE_INFERRED) return;
    if (this.#cacheLengths[field].length === 0) {
      this.#cacheBytes[field] = new Uint8Array(CACHE_SLOTS * CACHE_VALUE_BYTES);
      this.#cacheLengths[field] = new Int32Array(CACHE_SLOTS);
      this.#cacheCodes[field] = new Int32Array(CACHE_SLOTS);
    }
    this.#cacheLengths[field].fill(-1);
  }

  /**
   * Stores a text cell (the slow path): missing tokens, numbers written oddly, or strings. A cell
   * starting with a letter other than n or i can be neither a number nor a missing token (those
   * start with a digit, sign, dot, space, "n" or "i"), which skips the checks for most text.
   */
  #storeText(field: number, row: number, text: string): void {
    const mode = this.#modes[field];
    const first = text.charCodeAt(0) | 0x20;
    const plain = first >= 97 && first <= 122 && first !== 105 && first !== 110;
    if (mode === MODE_TEXT) {
      this.#codes[field][row] = !plain && isMissingToken(text) ? -1 : this.#intern(field, text);
      return;
    }
    const missing = !plain && isMissingToken(text);
    const number = plain ? Number.NaN : missing ? Number.NaN : parseNumberText(text);
    const isText = !missing && Number.isNaN(number);
    if (mode === MODE_NUMERIC) {
      if (!isText) {
        this.#numeric[field][row] = number;
        return;
      }
      this.#toCategory(field, row);
    }
    // Numbers in an inferred category column are spelled String(n) whichever row they are on,
    // so the result does not depend on where the first text value appears.
    this.#codes[field][row] = isText
      ? this.#intern(field, text)
      : missing
        ? -1
        : this.#intern(field, String(number));
  }

  /** A numeric column met text: re-encodes the rows so far as strings (String(n)). */
  #toCategory(field: number, row: number): void {
    const values = this.#numeric[field];
    const codes = new Int32Array(this.#capacity);
    for (let index = 0; index < row; index++) {
      const value = values[index];
      codes[index] = Number.isNaN(value) ? -1 : this.#intern(field, String(value));
    }
    this.#codes[field] = codes;
    this.#numeric[field] = EMPTY_VALUES;
    this.#modes[field] = MODE_INFERRED;
    this.#resetCache(field);
  }

  #intern(field: number, text: string): number {
    const lookup = this.#lookups[field];
    let code = lookup.get(text);
    if (code === undefined) {
      const dictionary = this.#dictionaries[field];
      code = dictionary.length;
      dictionary.push(text);
      lookup.set(text, code);
    }
    return code;
  }
}

function describeColumn(column: string | number): string {
  return typeof column === "string" ? `"${column}"` : String(column);
}
