// The per-batch work of a batch run: predict, assemble the output columns and, for row-wise text
// formats, encode them. Runs on a worker thread (worker.ts) or, with `workers: 0`, in-thread.
// Only @mlops/core/internal/scoring: each worker thread loads this module and what it imports.
import {
  ByteBuffer,
  type Column,
  createPredictor,
  decodeArtifact,
  encodeCsv,
  encodeJsonl,
  encodeParquetBatch,
  Frame,
  type FrameOrigin,
  type InvalidRow,
  MAX_NUMBER_CHARS,
  MlopsError,
  NumberText,
  type ParquetBatch,
  type ParquetChunk,
  type ParquetChunkFile,
  type Predictor,
  type ReadOptions,
  readCsvChunk,
  readParquetChunk,
} from "@mlops/core/internal/scoring";

/** How a batch's output frame is built from the input batch and the predictions. */
export interface OutputPlan {
  /** Input columns copied to the output, in order (ids first when asked). */
  readonly keep: readonly string[];
  readonly predictionColumn: string;
  /** A constant column with the model version, when asked. */
  readonly versionColumn?: { readonly name: string; readonly version: number };
  /**
   * Encode the output on the scoring thread: as text (CSV, JSON Lines), or as Parquet row
   * groups the writing thread appends (`writeParquetBatch`).
   */
  readonly encode?: {
    readonly format: "csv" | "jsonl" | "parquet";
    readonly first: boolean;
    readonly path: string;
    readonly delimiter?: string;
  };
}

/** A batch sent to the scoring thread: the frame's columns (structured-clonable) and the plan. */
export interface BatchTask {
  readonly kind?: "frame";
  readonly id: number;
  readonly columns: readonly [string, Column][];
  readonly rowCount: number;
  readonly plan: OutputPlan;
}

/** A row the model could not score although the schema accepted it. */
export interface FailedRow {
  /** Index within the batch. */
  readonly row: number;
  readonly code: string;
  readonly message: string;
  /** The row's values, for the rejects file. */
  readonly values: Record<string, unknown>;
}

export interface BatchResult {
  readonly id: number;
  /** Rows of the output batch (the batch's rows less `failed`). */
  readonly rowCount: number;
  /** The output columns, when not encoded. */
  readonly columns?: [string, Column][];
  /** The encoded output, for text formats. */
  readonly bytes?: Uint8Array;
  /** The encoded output, for Parquet. */
  readonly parquet?: ParquetBatch;
  readonly failed: readonly FailedRow[];
}

/** Any task a scoring thread runs. */
export type ScoringTask = BatchTask | CsvChunkTask | ParquetChunkTask;

/** Runs a task of any kind. */
export function runTask(
  predictor: Predictor,
  task: ScoringTask,
): Promise<BatchResult | CsvChunkResult> {
  if (task.kind === "csv") return scoreCsvChunk(predictor, task);
  if (task.kind === "parquet") return scoreParquetChunk(predictor, task);
  return scoreTask(predictor, task);
}

/** Compiles the artifact's bytes (digest verified) into the predictor a scorer uses. */
export function loadPredictor(artifactBytes: Uint8Array, source: string): Predictor {
  return createPredictor(decodeArtifact(artifactBytes, { source }));
}

/**
 * Scores one batch: one prediction per row in order. A row the schema accepted but the model
 * cannot score (a missing value a linear model needs) is reported in `failed` and left out of
 * the output, so the caller can reject it instead of losing the whole file.
 */
export async function scoreTask(predictor: Predictor, task: BatchTask): Promise<BatchResult> {
  const frame = new Frame(task.columns, task.rowCount);
  const scored = predictRows(predictor, frame);
  return await finish(task.id, scored.output, scored.predictions, task.plan, scored.failed);
}

/** A batch's predictions and the rows they are for (`failed` rows left out). */
interface Scored {
  readonly predictions: Float64Array;
  /** The frame's rows that were scored, in order. */
  readonly output: Frame;
  /** Their indices in the frame (undefined: every row). */
  readonly kept: readonly number[] | undefined;
  readonly failed: FailedRow[];
}

function predictRows(predictor: Predictor, frame: Frame): Scored {
  // The model reads its schema's columns; ids and other columns only ride along.
  const features = predictor.schema.names.filter((name) => frame.has(name));
  try {
    return {
      predictions: predictor.predict(frame.select(features)),
      output: frame,
      kept: undefined,
      failed: [],
    };
  } catch (error) {
    if (!MlopsError.isInstance(error)) throw error;
    // Find the rows at fault one by one (the rare path), score the others together.
    const good: number[] = [];
    const failed: FailedRow[] = [];
    for (let row = 0; row < frame.rowCount; row++) {
      try {
        predictor.predict(frame.slice(row, row + 1).select(features));
        good.push(row);
      } catch (rowError) {
        if (!MlopsError.isInstance(rowError)) throw rowError;
        const values: Record<string, unknown> = {};
        for (const name of frame.names) values[name] = frame.get(row, name);
        failed.push({ row, code: rowError.code, message: rowError.message, values });
      }
    }
    if (failed.length === 0) throw error;
    const output = frame.take(good);
    return {
      predictions: predictor.predict(output.select(features)),
      output,
      kept: good,
      failed,
    };
  }
}

/** The output batch (kept columns, prediction, version), encoded when the plan says so. */
async function finish(
  id: number,
  output: Frame,
  predictions: Float64Array,
  plan: OutputPlan,
  failed: readonly FailedRow[],
): Promise<BatchResult> {
  const columns: [string, Column][] = [];
  for (const name of plan.keep) columns.push([name, output.column(name)]);
  columns.push([plan.predictionColumn, { kind: "number", values: predictions }]);
  const version = plan.versionColumn;
  if (version) {
    columns.push([
      version.name,
      { kind: "integer", values: new Float64Array(output.rowCount).fill(version.version) },
    ]);
  }
  const encode = plan.encode;
  if (encode?.format === "parquet") {
    const parquet = await encodeParquetBatch(encode.path, new Frame(columns, output.rowCount));
    return { id, rowCount: output.rowCount, parquet, failed };
  }
  if (encode) {
    const bytes = (encode.format === "csv" ? encodeCsv : encodeJsonl)(
      new Frame(columns, output.rowCount),
      {
        first: encode.first,
        path: encode.path,
        delimiter: encode.delimiter,
      },
    );
    return { id, rowCount: output.rowCount, bytes, failed };
  }
  return { id, rowCount: output.rowCount, columns, failed };
}

// ---------------------------------------------------------------- CSV chunks

/**
 * A CSV output written straight from the input's bytes: each scored record's kept fields are
 * copied as they are in the file (a number is not read and written again; quoted fields keep
 * their quotes), then the prediction (and version) cells are appended.
 */
export interface CsvOutputPlan {
  /** The output's header line (the file's first chunk only), as `encodeCsv` writes it. */
  readonly header?: string;
  /** The output delimiter as a byte. */
  readonly delimiterCode: number;
  /**
   * Header indices of the kept input columns, in output order; undefined when every input
   * column is kept in the file's order (each record is then copied whole).
   */
  readonly columns?: readonly number[];
  /** Kept input columns (0 when only the prediction is written). */
  readonly keptCount: number;
  /**
   * A buffer shared with the writing thread to encode into when it is large enough (else a
   * new shared one is made, and the result's bytes tell the writer which to pass next time).
   */
  readonly output?: SharedArrayBuffer;
}

/** A chunk of a CSV input, parsed, scored and encoded on the scoring thread. */
export interface CsvChunkTask {
  readonly kind: "csv";
  readonly id: number;
  /** Whole records (`CsvChunker`); moved to the thread, not copied. */
  readonly bytes: Uint8Array;
  /** The file line of the first byte. */
  readonly line: number;
  readonly file: { path: string; header: readonly string[]; delimiterCode: number };
  readonly plan: OutputPlan;
  /** Set for CSV outputs: write from the input's bytes. */
  readonly csv?: CsvOutputPlan;
}

/** What a CSV chunk adds to a batch result: its records and the rows it could not take. */
export interface CsvChunkResult extends BatchResult {
  /** Records read from the chunk (unreadable ones included): the next chunk's first row. */
  readonly records: number;
  /** Unreadable and invalid rows, rows numbered from 0 in the chunk (lines are the file's). */
  readonly invalid: InvalidRow[];
  /** Rows the model could not score: `row` numbered from 0 in the chunk, `line` the file's. */
  readonly failed: (FailedRow & { line: number })[];
  /** Rows in `invalid` and `failed` are the file's, not numbered from 0 (Parquet chunks). */
  readonly fileRows?: true;
}

/** Row groups of a Parquet input, decoded, checked, scored and encoded on the scoring thread. */
export interface ParquetChunkTask {
  readonly kind: "parquet";
  readonly id: number;
  readonly file: ParquetChunkFile;
  /** Its bytes move to the thread, not copied. */
  readonly chunk: ParquetChunk;
  readonly plan: OutputPlan;
}

/**
 * Decodes a chunk of Parquet row groups by core's reader rules (schema, invalid rows kept
 * aside, rows numbered as in the file), scores it and encodes the output as the plan says.
 */
export async function scoreParquetChunk(
  predictor: Predictor,
  task: ParquetChunkTask,
): Promise<CsvChunkResult> {
  const report = new ChunkReport(predictor);
  const frame = await readParquetChunk(task.file, task.chunk, report.options);
  const { scored, failed } = scoreChunk(predictor, frame, report.origin, task.chunk.row);
  const result = await finish(task.id, scored.output, scored.predictions, task.plan, failed);
  const records = task.chunk.rowCount;
  return { ...result, failed, records, invalid: report.invalid, fileRows: true };
}

/** What a chunk's reader reports besides its frame: the rows it set aside, where the rest are. */
class ChunkReport {
  readonly invalid: InvalidRow[] = [];
  origin: FrameOrigin | undefined;
  readonly options: ReadOptions;

  constructor(predictor: Predictor) {
    this.options = {
      schema: predictor.schema,
      keepUnknownColumns: true,
      onInvalidRow: (row) => this.invalid.push(row),
      onFrameOrigin: (where) => {
        this.origin = where;
      },
    };
  }
}

/** Scores a chunk's frame; the rows the model failed numbered by `origin` (else from `first`). */
function scoreChunk(
  predictor: Predictor,
  frame: Frame,
  origin: FrameOrigin | undefined,
  first: number,
): { scored: Scored; failed: (FailedRow & { line: number })[] } {
  const scored: Scored =
    frame.rowCount === 0
      ? { predictions: new Float64Array(0), output: frame, kept: undefined, failed: [] }
      : predictRows(predictor, frame);
  const failed = scored.failed.map((row) => ({
    ...row,
    row: origin === undefined ? first + row.row : origin.row(row.row),
    line: origin === undefined ? Number.NaN : origin.line(row.row),
  }));
  return { scored, failed };
}

/**
 * Parses a chunk of CSV records by core's reader rules (schema, unreadable rows kept aside),
 * scores it and encodes the output: for a CSV output the kept fields are copied from the input
 * bytes, for other formats the output frame is encoded (text) or returned (binary). Row numbers
 * in the result start at 0 for the chunk; the caller, which knows the rows before, shifts them.
 */
export async function scoreCsvChunk(
  predictor: Predictor,
  task: CsvChunkTask,
): Promise<CsvChunkResult> {
  const report = new ChunkReport(predictor);
  const { frame, records, bounds } = readCsvChunk(task.bytes, {
    ...task.file,
    line: task.line,
    ...report.options,
  });
  const where = report.origin;
  const rowOf = (index: number) => (where === undefined ? index : where.row(index));
  const { scored, failed } = scoreChunk(predictor, frame, where, 0);
  const invalid = report.invalid;
  if (task.csv === undefined) {
    const result = await finish(task.id, scored.output, scored.predictions, task.plan, failed);
    return { ...result, failed, records, invalid };
  }
  // The record of each output row, in the chunk's bytes.
  const rows = new Int32Array(scored.output.rowCount);
  for (let index = 0; index < rows.length; index++) {
    rows[index] = rowOf(scored.kept === undefined ? index : scored.kept[index]);
  }
  const bytes = encodeFromRecords(task, bounds, rows, scored.predictions);
  return { id: task.id, rowCount: rows.length, bytes, failed, records, invalid };
}

const QUOTE = 34;
const LF = 10;

/** Records (line breaks) of a chunk's start that `warmUpCsv` scores. */
const WARM_UP_LINES = 60;
/**
 * Made-up values `warmUpCsv` adds a record of each of (every field the same): numbers that take
 * the reader's rarer paths (exponents, more digits than the exact parse takes, a sign).
 */
const WARM_UP_VALUES = [
  "1.5e-7",
  "1.2345678901234567e-7",
  "0.12345678901234567890123",
  "-2.5E+3",
  "7",
];

/**
 * Scores the first records of a thread's first CSV chunk, and a few made-up ones, once, result
 * discarded, before the chunk itself. A chunk is one long call of the reader's loop: the
 * optimizing compiler compiles it while it runs and, without this, has not seen the loop's end,
 * the last rows of a batch, nor the rare number forms a file may hold further on, so that code
 * is thrown away when they come and compiled again (each thread pays that, and with two threads
 * on two cores the compiler's threads take time from the workers). Works on a copy in a buffer
 * of its own; fails silently (the chunk itself reports what is wrong with it).
 */
export async function warmUpCsv(predictor: Predictor, task: CsvChunkTask): Promise<void> {
  const bytes = task.bytes;
  let end = 0;
  for (let line = 0; line < WARM_UP_LINES; line++) {
    const next = bytes.indexOf(LF, end);
    if (next < 0) break;
    end = next + 1;
  }
  const delimiter = String.fromCharCode(task.file.delimiterCode);
  const fields = task.file.header.length;
  const madeUp = Buffer.from(
    WARM_UP_VALUES.map((value) => `${Array(fields).fill(value).join(delimiter)}\n`).join(""),
  );
  const length = end + madeUp.length;
  const rows = WARM_UP_LINES + WARM_UP_VALUES.length;
  const room = csvOutputCapacity(
    Buffer.byteLength(task.csv?.header ?? ""),
    length,
    rows,
    csvRowTail(task.plan),
  );
  const copy = new Uint8Array(new SharedArrayBuffer(alignUp(length) + room), 0, length);
  copy.set(bytes.subarray(0, end));
  copy.set(madeUp, end);
  const csv = task.csv && { ...task.csv, output: undefined };
  await scoreCsvChunk(predictor, { ...task, bytes: copy, csv }).catch(() => {});
}

/** Most bytes a CSV output row adds after its kept fields: prediction, version, delimiters, LF. */
export function csvRowTail(plan: OutputPlan): number {
  const version = plan.versionColumn;
  return MAX_NUMBER_CHARS + (version ? String(version.version).length : 0) + 4;
}

/**
 * Most bytes of a chunk's CSV output when its records are copied whole: the header, the kept
 * input bytes, a tail per row (the non-whole path may need more, and grows its buffer then).
 */
export function csvOutputCapacity(
  header: number,
  keptBytes: number,
  rows: number,
  tail: number,
): number {
  return header + keptBytes + rows * tail;
}

/** `offset` rounded up to a multiple of 8 (where a chunk's output starts in its slot). */
export function alignUp(offset: number): number {
  return Math.ceil(offset / 8) * 8;
}
/** One instance serves every chunk of a thread: it keeps no state between values. */
const numberText = new NumberText();

/**
 * The CSV output of a chunk's scored records: per row, the kept fields as they are in the input
 * (re-quoted only when the output delimiter differs and a field then needs quotes), the
 * prediction as `String(n)` spells it (missing: an empty cell), the version.
 */
function encodeFromRecords(
  task: CsvChunkTask,
  bounds: Int32Array,
  rows: Int32Array,
  predictions: Float64Array,
): Uint8Array {
  const csv = task.csv!;
  const source = Buffer.from(task.bytes.buffer, task.bytes.byteOffset, task.bytes.byteLength);
  const inputDelimiter = task.file.delimiterCode;
  const delimiter = csv.delimiterCode;
  const whole = csv.columns === undefined && inputDelimiter === delimiter;
  const fieldCount = task.file.header.length;
  const kept = csv.columns ?? Array.from({ length: fieldCount }, (_, index) => index);
  const version = task.plan.versionColumn
    ? Buffer.from(String(task.plan.versionColumn.version))
    : undefined;
  // A row holding only a missing prediction would be a blank line, which readers skip.
  const lonePrediction = csv.keptCount === 0 && version === undefined;
  const header = csv.header === undefined ? undefined : Buffer.from(csv.header, "utf8");
  const tail = csvRowTail(task.plan);
  const capacity = csvOutputCapacity(
    header?.length ?? 0,
    csv.keptCount > 0 ? task.bytes.byteLength : 0,
    rows.length,
    tail,
  );
  // Encoded into shared memory the writing thread reads, reused chunk after chunk: nothing is
  // allocated or moved per chunk (moving buffers between threads makes their collectors busy).
  // Best, the room after the chunk's own bytes in its slot (`CsvChunker`'s `slotBytes`): kept
  // fields are then copied with `copyWithin` inside one buffer, nothing allocated per record
  // (`Buffer#copy` makes a view per call); else the buffer the writer passed back; else anew.
  const input = task.bytes.buffer;
  const after = alignUp(task.bytes.byteOffset + task.bytes.byteLength);
  const into =
    input instanceof SharedArrayBuffer && input.byteLength - after >= capacity
      ? Buffer.from(input, after, input.byteLength - after)
      : Buffer.from(
          csv.output !== undefined && csv.output.byteLength >= capacity
            ? csv.output
            : new SharedArrayBuffer(Math.ceil(capacity * 1.25)),
        );
  const out = new ByteBuffer(capacity, tail, into);
  // The chunk's slot as one view: input at `base + start`, output at `after + out.length`.
  const slot = into.buffer === input ? new Uint8Array(input) : undefined;
  const base = task.bytes.byteOffset;
  if (header) out.append(header);
  const starts = new Int32Array(fieldCount);
  const ends = new Int32Array(fieldCount);
  for (let index = 0; index < rows.length; index++) {
    const row = rows[index];
    const start = bounds[2 * row];
    const end = bounds[2 * row + 1];
    if (whole) {
      out.reserve(end - start + tail);
      // `capacity` bounds the whole output, so `out.bytes` is still the slot's room here.
      if (slot !== undefined && out.bytes === into) {
        slot.copyWithin(after + out.length, base + start, base + end);
        out.length += end - start;
      } else {
        out.length += source.copy(out.bytes, out.length, start, end);
      }
      if (csv.keptCount > 0) out.bytes[out.length++] = delimiter;
    } else if (csv.keptCount > 0) {
      // Quoting again can double a field's quotes and add two: room for the worst case.
      out.reserve(2 * (end - start) + 3 * kept.length + tail);
      splitFields(source, start, end, inputDelimiter, starts, ends);
      for (const column of kept) {
        writeField(out, source, starts[column], ends[column], inputDelimiter, delimiter);
        out.bytes[out.length++] = delimiter;
      }
    } else {
      out.reserve(tail);
    }
    const prediction = predictions[index];
    if (!Number.isNaN(prediction)) numberText.write(out, prediction);
    else if (lonePrediction) {
      out.bytes[out.length++] = QUOTE;
      out.bytes[out.length++] = QUOTE;
    }
    if (version) {
      out.bytes[out.length++] = delimiter;
      out.bytes.set(version, out.length);
      out.length += version.length;
    }
    out.bytes[out.length++] = LF;
  }
  return out.result();
}

/**
 * The fields of the record `source[start, end)` (a record the reader accepted: exactly one field
 * per header column), as the reader splits them: a quoted field runs to its closing quote (`""`
 * inside is a quote) and any bytes after it up to the delimiter.
 */
function splitFields(
  source: Uint8Array,
  start: number,
  end: number,
  delimiter: number,
  starts: Int32Array,
  ends: Int32Array,
): void {
  let position = start;
  for (let field = 0; field < starts.length; field++) {
    starts[field] = position;
    if (position < end && source[position] === QUOTE) position = pastQuoted(source, position, end);
    while (position < end && source[position] !== delimiter) position++;
    ends[field] = position;
    position++;
  }
}

/**
 * The position just past the closing quote of the quoted field opening at `source[open]`
 * (`""` inside is a quote), or past `end` when the quote is not closed before it.
 */
function pastQuoted(source: Uint8Array, open: number, end: number): number {
  let position = open + 1;
  while (position < end) {
    if (source[position] === QUOTE) {
      if (position + 1 >= end || source[position + 1] !== QUOTE) break;
      position++;
    }
    position++;
  }
  return position + 1;
}

/**
 * Copies the field `source[start, end)` to `out`. With another output delimiter a field may
 * need quotes it did not: then its text (unquoted, `""` read as `"`) is written quoted.
 */
function writeField(
  out: ByteBuffer,
  source: Uint8Array,
  start: number,
  end: number,
  inputDelimiter: number,
  delimiter: number,
): void {
  const bytes = out.bytes;
  let at = out.length;
  let requote = false;
  if (inputDelimiter !== delimiter) {
    // Unquoted: a delimiter or a quote inside needs quotes. Quoted: only the bytes after the
    // closing quote (which the reader appends to the text) can hold a bare delimiter.
    let position = start;
    if (source[start] === QUOTE) {
      position = pastQuoted(source, start, end);
      for (; position < end; position++) if (source[position] === delimiter) requote = true;
    } else {
      for (; position < end; position++) {
        const byte = source[position];
        if (byte === delimiter || byte === QUOTE) requote = true;
      }
    }
  }
  if (!requote) {
    for (let position = start; position < end; position++) bytes[at++] = source[position];
    out.length = at;
    return;
  }
  bytes[at++] = QUOTE;
  let position = start;
  if (source[start] === QUOTE) {
    // The quoted part's text, then the bytes after its closing quote.
    position++;
    while (position < end) {
      const byte = source[position];
      if (byte === QUOTE) {
        if (position + 1 >= end || source[position + 1] !== QUOTE) {
          position++;
          break;
        }
        position++;
      }
      bytes[at++] = byte;
      if (byte === QUOTE) bytes[at++] = QUOTE;
      position++;
    }
  }
  for (; position < end; position++) {
    const byte = source[position];
    bytes[at++] = byte;
    if (byte === QUOTE) bytes[at++] = QUOTE;
  }
  bytes[at++] = QUOTE;
  out.length = at;
}

/**
 * The task ready to post with a transfer list, so its columns move to the worker instead of
 * being copied. A column that owns its whole buffer moves as it is; one that is a view into a
 * larger buffer (a Parquet row group cut into batches, an Arrow file's bytes) is copied first,
 * since moving the buffer would take the rest of it from the reader, and cloning a view would
 * copy the whole buffer anyway.
 */
export function transferable(task: ScoringTask): {
  task: ScoringTask;
  transfer: ArrayBuffer[];
} {
  if (task.kind === "csv") {
    // The chunker gives each chunk a buffer of its own: it moves whole (a shared one is shared).
    const buffer = task.bytes.buffer;
    return { task, transfer: buffer instanceof ArrayBuffer ? [buffer] : [] };
  }
  if (task.kind === "parquet") {
    return { task, transfer: [task.chunk.bytes.buffer as ArrayBuffer] };
  }
  const transfer = new Set<ArrayBuffer>();
  const owned = <T extends Float64Array | Int32Array>(array: T): T => {
    const buffer = array.buffer;
    const whole =
      buffer instanceof ArrayBuffer &&
      array.byteOffset === 0 &&
      array.byteLength === buffer.byteLength &&
      !transfer.has(buffer);
    const moved = whole ? array : (array.slice() as T);
    if (moved.byteLength > 0) transfer.add(moved.buffer as ArrayBuffer);
    return moved;
  };
  const columns = task.columns.map(([name, column]): [string, Column] => [
    name,
    column.kind === "category"
      ? { kind: "category", codes: owned(column.codes), dictionary: column.dictionary }
      : { kind: column.kind, values: owned(column.values) },
  ]);
  return { task: { ...task, columns }, transfer: [...transfer] };
}
