// The per-batch work of a batch run: predict, assemble the output columns and, for row-wise text
// formats, encode them. Runs on a worker thread (worker.ts) or, with `workers: 0`, in-thread.
import {
  type Column,
  createPredictor,
  decodeArtifact,
  Frame,
  formats,
  MlopsError,
  type Predictor,
} from "@mlops/core";

/** How a batch's output frame is built from the input batch and the predictions. */
export interface OutputPlan {
  /** Input columns copied to the output, in order (ids first when asked). */
  readonly keep: readonly string[];
  readonly predictionColumn: string;
  /** A constant column with the model version, when asked. */
  readonly versionColumn?: { readonly name: string; readonly version: number };
  /** Encode the output as this text format (CSV, JSON Lines) on the scoring thread. */
  readonly encode?: {
    readonly format: "csv" | "jsonl";
    readonly first: boolean;
    readonly path: string;
    readonly delimiter?: string;
  };
}

/** A batch sent to the scoring thread: the frame's columns (structured-clonable) and the plan. */
export interface BatchTask {
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
  readonly failed: readonly FailedRow[];
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
export function scoreTask(predictor: Predictor, task: BatchTask): BatchResult {
  const frame = new Frame(task.columns, task.rowCount);
  // The model reads its schema's columns; ids and other columns only ride along.
  const features = predictor.schema.names.filter((name) => frame.has(name));
  const failed: FailedRow[] = [];
  let predictions: Float64Array;
  let output = frame;
  try {
    predictions = predictor.predict(frame.select(features));
  } catch (error) {
    if (!MlopsError.isInstance(error)) throw error;
    // Find the rows at fault one by one (the rare path), score the others together.
    const good: number[] = [];
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
    output = frame.take(good);
    predictions = predictor.predict(output.select(features));
  }
  const columns: [string, Column][] = [];
  for (const name of task.plan.keep) columns.push([name, output.column(name)]);
  columns.push([task.plan.predictionColumn, { kind: "number", values: predictions }]);
  const version = task.plan.versionColumn;
  if (version) {
    columns.push([
      version.name,
      { kind: "integer", values: new Float64Array(output.rowCount).fill(version.version) },
    ]);
  }
  const encode = task.plan.encode;
  if (encode) {
    const format = formats[encode.format];
    const bytes = format.encode!(new Frame(columns, output.rowCount), {
      first: encode.first,
      path: encode.path,
      delimiter: encode.delimiter,
    });
    return { id: task.id, rowCount: output.rowCount, bytes, failed };
  }
  return { id: task.id, rowCount: output.rowCount, columns, failed };
}

/**
 * The task ready to post with a transfer list, so its columns move to the worker instead of
 * being copied. A column that owns its whole buffer moves as it is; one that is a view into a
 * larger buffer (a Parquet row group cut into batches, an Arrow file's bytes) is copied first,
 * since moving the buffer would take the rest of it from the reader, and cloning a view would
 * copy the whole buffer anyway.
 */
export function transferable(task: BatchTask): { task: BatchTask; transfer: ArrayBuffer[] } {
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
