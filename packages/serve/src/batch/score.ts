import { randomUUID } from "node:crypto";
import { mkdir, open, readdir, stat, unlink } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { basename, dirname, extname, join, resolve } from "node:path";
import {
  encodeArtifact,
  Frame,
  type FrameFormat,
  type FrameFormatName,
  type FrameOrigin,
  type FrameWriter,
  formats,
  type InvalidRow,
  type Issue,
  MlopsError,
  openExistingRegistry,
  parseModelUri,
  type Registry,
  type Schema,
  Schema as SchemaClass,
} from "@mlops/core";
import {
  AtomicFile,
  CsvChunker,
  csvDelimiter,
  csvQuote,
  openParquetChunker,
  readCsvChunk,
  readParquetChunk,
  writeParquetBatch,
} from "@mlops/core/internal";
import {
  type FileStatus,
  MANIFEST_FORMAT,
  type ManifestFile,
  manifestPath,
  type RunManifest,
  readManifest,
  writeManifest,
} from "./manifest.js";
import {
  type BatchScorer,
  batchWorkerPath,
  InThreadScorer,
  WorkerScorer,
  YOUNG_GENERATION_MB,
} from "./pool.js";
import {
  alignUp,
  type BatchResult,
  type CsvChunkResult,
  type CsvChunkTask,
  type CsvOutputPlan,
  csvOutputCapacity,
  csvRowTail,
  type OutputPlan,
  type ParquetChunkTask,
} from "./scorer.js";
import { resolveSources, type SourceFile } from "./sources.js";

/** Options of `scoreBatch`. */
export interface ScoreBatchOptions {
  /**
   * The model: a registry reference (`"wine@production"`, `"wine/3"`, `"models:/wine@prod"`,
   * `"wine"` = latest). The version is pinned when the run starts: an alias moving during the run
   * does not change it, and a resumed run keeps the version its manifest recorded.
   */
  model: string;
  /** The registry (default: `$MLOPS_REGISTRY`, else `./.mlops`); a path must hold a registry. */
  registry?: Registry | string;
  /** Input files: a file, a folder (its files in a known format) or a glob; or several. */
  input: string | readonly string[];
  /** The output folder (created if missing). Outputs, rejects files and the run manifest go here. */
  output: string;
  /** Read inputs as this format whatever their extension (default: from each extension). */
  inputFormat?: FrameFormatName | FrameFormat;
  /** Write outputs in this format (default: each input's own format). */
  outputFormat?: FrameFormatName | FrameFormat;
  /**
   * The output file name: `{name}` (the input name without extension), `{ext}` (the output
   * format's extension, with the dot), `{timestamp}` (`YYYYmmddHHMMSS`, UTC, when the run
   * started), `{model}`, `{version}`. Default `"{name}{ext}"`; seed 001 used
   * `"{timestamp}_{name}{ext}"`. Subfolders of a folder or glob input are kept.
   */
  outputName?: string;
  /** The prediction column (default `"prediction"`). */
  predictionColumn?: string;
  /** Input columns copied to the output: all (default `true`), none, or these. */
  keepColumns?: boolean | readonly string[];
  /** Columns carried through to the output first (ids), whatever `keepColumns` says. */
  idColumns?: readonly string[];
  /** Also write the model version used in a column of this name. */
  versionColumn?: string;
  /** Rows per batch (default 16,384): memory holds a few batches, never a whole file. */
  batchSize?: number;
  /** Worker threads scoring batches (default: the machine's parallelism; 0 = this thread). */
  workers?: number;
  /** Largest share of rejected rows (0 to 1) for a successful run (default 0). */
  maxRejectRate?: number;
  /** Discard an unfinished run recorded in the output folder instead of resuming it. */
  restart?: boolean;
  /** CSV delimiter of the inputs (default `,`; `.tsv` files: tab). */
  delimiter?: string;
  /** CSV delimiter of the outputs (default: `delimiter`). */
  outputDelimiter?: string;
  /** Base for relative paths (default `process.cwd()`). */
  cwd?: string;
  /** Called as the run advances (after each batch and each file). */
  onProgress?: (progress: BatchProgress) => void;
}

/** Where a run stands, for progress bars and logs. */
export interface BatchProgress {
  readonly event: "start" | "batch" | "file";
  readonly fileIndex: number;
  readonly fileCount: number;
  /** The input file being scored (or just finished). */
  readonly file: string;
  /** Rows read so far in this run (skipped files not counted). */
  readonly rows: number;
  /** Estimated rows of the whole run (undefined while unknown). */
  readonly estimatedRows: number | undefined;
  readonly elapsedSeconds: number;
  /** The file just finished (`event: "file"`). */
  readonly summary?: BatchFileSummary;
}

/** One input file's outcome; `rowsIn = rowsScored + rowsRejected` when it is done. */
export interface BatchFileSummary {
  readonly input: string;
  readonly output: string;
  /** The rejects file (JSON Lines, next to the output), null when no row was rejected. */
  readonly rejects: string | null;
  /** `skipped`: done by an earlier attempt of this run (resumed). */
  readonly status: "scored" | "skipped" | "failed";
  readonly rowsIn: number;
  readonly rowsScored: number;
  readonly rowsRejected: number;
  readonly error?: { code: string; message: string };
}

/** What `scoreBatch` returns. */
export interface BatchSummary {
  readonly runId: string;
  /** True when every file was scored and the reject share is within `maxRejectRate`. */
  readonly ok: boolean;
  readonly resumed: boolean;
  readonly model: { reference: string; name: string; version: number; digest: string };
  readonly files: readonly BatchFileSummary[];
  readonly totals: {
    readonly files: number;
    readonly failedFiles: number;
    readonly rowsIn: number;
    readonly rowsScored: number;
    readonly rowsRejected: number;
    /** rowsRejected ÷ rowsIn (0 for no rows). */
    readonly rejectRate: number;
  };
  readonly maxRejectRate: number;
  readonly manifest: string;
  readonly seconds: number;
  /** Rows read per second over the files scored by this call. */
  readonly rowsPerSecond: number;
  readonly workers: number;
}

/** Rows per batch: small enough that a few in flight per thread keep the RSS low. */
const DEFAULT_BATCH_SIZE = 16_384;
const DEFAULT_NAME = "{name}{ext}";

/**
 * Scores files with a registered model, batch by batch in bounded memory, on worker threads, and
 * loses nothing: every input row ends in the output (same order) or in a rejects file next to it
 * (`NAME.rejects.jsonl`: the row as read, its file and line, every schema issue), and each file's
 * `rowsIn = rowsScored + rowsRejected` is checked. Outputs are written under a temporary name and
 * renamed when complete; a manifest in the output folder records each finished file with the
 * model version and digest, so a run that was killed and is started again finishes the remaining
 * files with the same version. Files that cannot be read fail alone; the run goes on.
 *
 * @example
 * const summary = await scoreBatch({ model: "wine@production", input: "data/", output: "out/" });
 * summary.totals; // { files: 3, rowsIn: 6497, rowsScored: 6490, rowsRejected: 7, ... }
 */
export async function scoreBatch(options: ScoreBatchOptions): Promise<BatchSummary> {
  const started = performance.now();
  const settings = checkOptions(options);
  const threads: { early?: WorkerScorer } = {};
  try {
    return await runBatch(options, settings, started, threads);
  } finally {
    await threads.early?.close();
  }
}

async function runBatch(
  options: ScoreBatchOptions,
  settings: Settings,
  started: number,
  threads: { early?: WorkerScorer },
): Promise<BatchSummary> {
  const cwd = options.cwd ?? process.cwd();
  const inputFormat = pickFormat(options.inputFormat, "inputFormat");
  const outputFormat = pickFormat(options.outputFormat, "outputFormat");
  const output = resolve(cwd, options.output);
  const sources = await resolveSources(options.input, { cwd, format: inputFormat });
  for (const source of sources) {
    if (dirname(source.path) === output) {
      throw new MlopsError(
        "argument_invalid",
        `input ${source.path} is inside the output folder ${output}: write the outputs elsewhere`,
        { location: { file: source.path } },
      );
    }
  }
  // The worker threads load their modules while this thread opens the registry and the model.
  if (settings.workers > 0 && batchWorkerPath() !== undefined) {
    const csv = sources.some((source) => source.format === formats.csv);
    threads.early = WorkerScorer.start(
      settings.workers,
      csv ? YOUNG_GENERATION_MB.csv : YOUNG_GENERATION_MB.other,
    );
  }
  const early = threads.early;
  const registry =
    typeof options.registry === "object" && options.registry !== null
      ? options.registry
      : await openExistingRegistry(
          resolve(cwd, options.registry ?? process.env.MLOPS_REGISTRY ?? ".mlops"),
        );
  await ensureWritableFolder(output);

  const fingerprint = JSON.stringify({
    model: options.model,
    inputs: sources.map((source) => source.path),
    outputFormat: outputFormat?.name ?? null,
    ...settings.fingerprint,
  });
  const previous = await readManifest(output);
  let manifest: RunManifest;
  let resumed = false;
  const reference = options.model;
  let loaded: Awaited<ReturnType<Registry["loadModel"]>>;
  if (previous && previous.status !== "completed" && !options.restart) {
    if (previous.fingerprint !== fingerprint) {
      throw new MlopsError(
        "batch_run_conflict",
        `${manifestPath(output)}: the output folder holds an unfinished run of ` +
          `${previous.model.reference} (version ${previous.model.version}) with other inputs or ` +
          "options; run it again with the same ones to finish it, or restart to discard it",
        { location: { file: manifestPath(output) } },
      );
    }
    // Resume with the version the run started with, whatever the alias says now.
    loaded = await registry.loadModel(`models:/${previous.model.name}/${previous.model.version}`);
    if (loaded.version.digest !== previous.model.digest) {
      throw new MlopsError(
        "batch_run_conflict",
        `models:/${previous.model.name}/${previous.model.version} has digest ` +
          `${loaded.version.digest}, but the unfinished run used ${previous.model.digest}`,
      );
    }
    manifest = previous;
    resumed = true;
  } else {
    loaded = await registry.loadModel(toModelUri(reference));
    const now = new Date();
    manifest = {
      format: MANIFEST_FORMAT,
      runId: randomUUID(),
      status: "running",
      startedAt: now.toISOString(),
      updatedAt: now.toISOString(),
      timestamp: stamp(now),
      model: {
        reference,
        name: loaded.version.name,
        version: loaded.version.version,
        digest: loaded.version.digest,
      },
      fingerprint,
      files: [],
    };
  }
  const model = manifest.model;
  const schema = SchemaClass.fromJSON(loaded.artifact.manifest.schema);

  // Plan every file's output name and check they do not collide.
  const plans = sources.map((source) => {
    const format = outputFormat ?? source.format;
    const relativeOut = outputRelative(source, format, settings.outputName, manifest);
    return { source, format, outputPath: join(output, relativeOut) };
  });
  const taken = new Map<string, string>();
  for (const plan of plans) {
    const other = taken.get(plan.outputPath);
    if (other !== undefined) {
      throw new MlopsError(
        "argument_invalid",
        `${other} and ${plan.source.path} would both be written to ${plan.outputPath}; ` +
          "use {name} and distinct input names, or score them in separate runs",
      );
    }
    taken.set(plan.outputPath, plan.source.path);
  }
  const entries = new Map(manifest.files.map((file) => [file.input, file]));
  manifest.files = [];
  for (const plan of plans) {
    const info = await stat(plan.source.path);
    const known = entries.get(plan.source.path);
    const unchanged =
      known !== undefined &&
      known.status === "done" &&
      known.inputSize === info.size &&
      known.inputModified === info.mtimeMs &&
      known.output === plan.outputPath &&
      (await exists(plan.outputPath));
    manifest.files.push(
      unchanged
        ? known
        : {
            input: plan.source.path,
            inputSize: info.size,
            inputModified: info.mtimeMs,
            output: plan.outputPath,
            rejects: null,
            status: "pending",
            rowsIn: 0,
            rowsScored: 0,
            rowsRejected: 0,
          },
    );
  }
  manifest.status = "running";
  await writeManifest(output, manifest);

  const artifactBytes = encodeArtifact(loaded.artifact);
  const source = `models:/${model.name}/${model.version}`;
  const todo = manifest.files.filter((file) => file.status !== "done");
  const workers = todo.length === 0 ? 0 : settings.workers;
  if (workers === 0) await early?.close();
  const scorer: BatchScorer =
    workers === 0
      ? new InThreadScorer(artifactBytes, source)
      : await (early ?? WorkerScorer.start(workers)).load(artifactBytes, source);

  const estimated = await estimateRows(todo, sources);
  const summaries: BatchFileSummary[] = [];
  let rows = 0;
  const progress = (event: BatchProgress["event"], index: number, file: string, extra = {}) =>
    options.onProgress?.({
      event,
      fileIndex: index,
      fileCount: manifest.files.length,
      file,
      rows,
      estimatedRows: estimated,
      elapsedSeconds: (performance.now() - started) / 1000,
      ...extra,
    });
  try {
    progress("start", 0, manifest.files[0]?.input ?? "");
    for (let index = 0; index < manifest.files.length; index++) {
      const entry = manifest.files[index];
      const plan = plans[index];
      if (entry.status === "done") {
        const summary = fileSummary(entry, "skipped");
        summaries.push(summary);
        progress("file", index, entry.input, { summary });
        continue;
      }
      const outcome = await scoreFile({
        plan,
        schema,
        scorer,
        settings,
        model,
        onBatch: (count) => {
          rows += count;
          progress("batch", index, entry.input);
        },
      });
      Object.assign(entry, outcome, { finishedAt: new Date().toISOString() });
      await writeManifest(output, manifest);
      const summary = fileSummary(entry, outcome.status === "done" ? "scored" : "failed");
      summaries.push(summary);
      progress("file", index, entry.input, { summary });
    }
  } finally {
    await scorer.close();
  }
  const totals = {
    files: summaries.length,
    failedFiles: summaries.filter((file) => file.status === "failed").length,
    rowsIn: sum(summaries, "rowsIn"),
    rowsScored: sum(summaries, "rowsScored"),
    rowsRejected: sum(summaries, "rowsRejected"),
    rejectRate: 0,
  };
  totals.rejectRate = totals.rowsIn === 0 ? 0 : totals.rowsRejected / totals.rowsIn;
  manifest.status = totals.failedFiles > 0 ? "failed" : "completed";
  manifest.finishedAt = new Date().toISOString();
  await writeManifest(output, manifest);
  const seconds = (performance.now() - started) / 1000;
  return {
    runId: manifest.runId,
    ok: totals.failedFiles === 0 && totals.rejectRate <= settings.maxRejectRate,
    resumed,
    model: { ...model },
    files: summaries,
    totals,
    maxRejectRate: settings.maxRejectRate,
    manifest: manifestPath(output),
    seconds,
    rowsPerSecond: seconds > 0 ? rows / seconds : 0,
    workers,
  };
}

// ---------------------------------------------------------------- one file

interface Settings {
  outputName: string;
  predictionColumn: string;
  keepColumns: boolean | readonly string[];
  idColumns: readonly string[];
  versionColumn: string | undefined;
  batchSize: number;
  workers: number;
  maxRejectRate: number;
  delimiter: string | undefined;
  outputDelimiter: string | undefined;
  fingerprint: Record<string, unknown>;
}

interface FilePlan {
  source: SourceFile;
  format: FrameFormat;
  outputPath: string;
}

interface FileOutcome {
  status: FileStatus;
  rejects: string | null;
  rowsIn: number;
  rowsScored: number;
  rowsRejected: number;
  error?: { code: string; message: string };
}

/** `out/a.csv` → `out/a.rejects.jsonl`. */
export function rejectsPathFor(outputPath: string): string {
  const extension = extname(outputPath);
  const stem = extension ? outputPath.slice(0, -extension.length) : outputPath;
  return `${stem}.rejects.jsonl`;
}

/** Batches in flight per scoring thread (bounds memory: each holds a batch and its output). */
const IN_FLIGHT_PER_THREAD = 2;

async function scoreFile(context: {
  plan: FilePlan;
  schema: Schema;
  scorer: BatchScorer;
  settings: Settings;
  model: RunManifest["model"];
  onBatch: (rows: number) => void;
}): Promise<FileOutcome> {
  const { plan, schema, scorer, settings, model } = context;
  const { source, format, outputPath } = plan;
  const rejectsPath = rejectsPathFor(outputPath);
  await mkdir(dirname(outputPath), { recursive: true });
  await removeLeftovers(outputPath);
  let writer: FrameWriter | undefined;
  let rejects: RejectsFile | undefined;
  let rowsIn = 0;
  let rowsRejected = 0;
  let invalid: InvalidRow[] = [];
  const inFlight: {
    result: Promise<BatchResult | CsvChunkResult>;
    /** Where the batch's rows are in the file (their data-row index and line); a CSV chunk's
     * result says it itself. */
    origin?: FrameOrigin;
    /** A CSV chunk's bytes (their slot may hold its output too). */
    input?: Uint8Array;
  }[] = [];
  /** CSV chunks: the file's data rows in the chunks flushed so far (rows of later chunks follow). */
  let chunkRows = 0;
  const limit = Math.max(1, scorer.threads) * IN_FLIGHT_PER_THREAD;

  const reject = async (rows: RejectLine[]) => {
    if (rows.length === 0) return;
    rejects ??= await RejectsFile.create(rejectsPath);
    await rejects.write(rows);
    rowsRejected += rows.length;
  };
  const flushOne = async () => {
    const next = inFlight.shift()!;
    const result = await next.result;
    if ("records" in result) {
      // A CSV chunk: its rows are numbered from 0, and come after every row flushed before
      // (a Parquet chunk's are the file's already).
      const before = result.fileRows ? 0 : chunkRows;
      chunkRows += result.records;
      rowsIn += result.records;
      const lines = result.invalid.map((row) => fromInvalidRow(shiftRows(row, before)));
      for (const failed of result.failed) {
        const row = before + failed.row;
        lines.push({
          file: source.path,
          line: lineOrNull(failed.line),
          row,
          values: failed.values,
          issues: [{ code: failed.code, path: [row], message: failed.message }],
        });
      }
      await reject(lines.sort((a, b) => a.row - b.row));
      context.onBatch(result.records);
    } else if (result.failed.length > 0) {
      const origin = next.origin!;
      // Rows the schema accepted but the model could not score: rejected, not lost.
      await reject(
        result.failed.map((failed) => {
          const row = origin.row(failed.row);
          return {
            file: source.path,
            line: lineOrNull(origin.line(failed.row)),
            row,
            values: failed.values,
            issues: [{ code: failed.code, path: [row], message: failed.message }],
          };
        }),
      );
    }
    const input = next.input;
    // A CSV chunk's output buffer is shared: the chunk `outputs.length` later encodes into it
    // (unless it is the room after the chunk in its own slot, which the chunker hands out).
    const shared = result.bytes?.buffer;
    if (shared instanceof SharedArrayBuffer && outputs.length > 0 && shared !== input?.buffer) {
      outputs[result.id % outputs.length] = shared;
    }
    if (result.parquet) {
      await writeParquetBatch(writer!, result.parquet);
    } else if (result.bytes) {
      if (result.bytes.length > 0) await writer!.writeEncoded!(result.bytes, result.rowCount);
    } else if (result.rowCount > 0) {
      await writer!.write(new Frame(result.columns!, result.rowCount));
    }
  };

  /**
   * CSV → CSV on worker threads: chunks are read into, and encoded into, buffers shared with
   * the threads, used in turn; one is used again `limit + 2` chunks later, when the chunk that
   * used it has been written (at most `limit` are in flight).
   */
  const slots = scorer.threads > 0 ? limit + 2 : 0;
  const outputs: (SharedArrayBuffer | undefined)[] = new Array(slots);
  /**
   * A CSV output is best encoded in the room after its chunk in the chunk's own slot: the
   * least slot size for a read of `bytes`, from the most line breaks per byte read so far (at
   * least the records; before the first chunk, the chunker's own guess: 64 bytes a record);
   * undefined until the output plan is known.
   */
  let slotRoom: ((bytes: number) => number) | undefined;
  let rowsPerByte: number | undefined;
  /** Sends a chunk to the scorer (its result is awaited in order by flushOne). */
  const submitChunk = async (task: CsvChunkTask | ParquetChunkTask, most = limit) => {
    const result = scorer.score<CsvChunkResult>(task);
    // Until flushOne awaits it, a failure must not count as unhandled.
    result.catch(() => {});
    inFlight.push({ result, input: task.kind === "csv" ? task.bytes : undefined });
    while (inFlight.length >= most) await flushOne();
  };

  try {
    if (source.format === formats.csv) {
      // Core's CSV reader, run on the scoring threads: this thread reads chunks of whole
      // records and writes the results in order; parsing, checking, scoring and encoding are
      // the threads' (a CSV output copies the kept fields from the input bytes).
      const chunker = await CsvChunker.open(source.path, {
        rows: settings.batchSize,
        delimiter: settings.delimiter,
        slots,
        slotBytes: (bytes) => slotRoom?.(bytes) ?? bytes,
      });
      try {
        // The header against the schema first: a missing feature fails the file before any work.
        const probe = readCsvChunk(new Uint8Array(0), {
          ...chunker.records,
          line: chunker.headerLine + 1,
          schema,
          keepUnknownColumns: true,
          onInvalidRow: () => {},
        });
        const plan = outputPlan(probe.frame, source.path, settings, model);
        writer = await format.openWriter(outputPath, { delimiter: settings.outputDelimiter });
        const csv =
          format === formats.csv
            ? csvOutputPlan(chunker.header, plan, outputPath, settings)
            : undefined;
        if (csv !== undefined) {
          const header = Buffer.byteLength(csv.header ?? "");
          const tail = csvRowTail(plan);
          slotRoom = (bytes) =>
            alignUp(bytes) +
            csvOutputCapacity(
              header,
              csv.keptCount > 0 ? bytes : 0,
              Math.ceil(bytes * (rowsPerByte ?? 1 / 64) * 1.1),
              tail,
            );
        }
        let id = 0;
        for (let chunk = await chunker.next(); chunk; chunk = await chunker.next()) {
          if (chunk.bytes.byteLength > 0) {
            rowsPerByte = Math.max(rowsPerByte ?? 0, chunk.lines / chunk.bytes.byteLength);
          }
          const task: CsvChunkTask = {
            kind: "csv",
            id,
            bytes: chunk.bytes,
            line: chunk.line,
            file: chunker.records,
            // A CSV output is written from the input's bytes (`csv`), not encoded from columns.
            plan: csv ? plan : encodingPlan(plan, format, id === 0, outputPath, settings),
            csv: csv && {
              ...csv,
              header: id === 0 ? csv.header : undefined,
              output: slots > 0 ? outputs[id % slots] : undefined,
            },
          };
          await submitChunk(task);
          id++;
        }
        while (inFlight.length > 0) await flushOne();
        if (rowsIn === 0) throw chunker.headerOnlyError();
      } finally {
        await chunker.close();
      }
    }
    // Parquet: this thread reads the footer and each chunk of row groups as bytes; decoding,
    // checking, scoring and encoding are the threads'. A file with a row group too big to hand
    // over whole goes through the streaming reader below instead.
    let chunked = false;
    if (source.format === formats.parquet) {
      const chunker = await openParquetChunker(source.path, { rows: settings.batchSize });
      try {
        chunked = chunker.chunkable && chunker.rowCount > 0;
        if (chunked) {
          // The columns against the schema first: a missing feature fails the file at once.
          const probe = await readParquetChunk(
            chunker.file,
            { bytes: new Uint8Array(0), start: 0, rowGroups: [], row: 0, rowCount: 0 },
            { schema, keepUnknownColumns: true, onInvalidRow: () => {} },
          );
          const plan = outputPlan(probe, source.path, settings, model);
          writer = await format.openWriter(outputPath, { delimiter: settings.outputDelimiter });
          let id = 0;
          for (let chunk = await chunker.next(); chunk; chunk = await chunker.next()) {
            // Chunks are whole row groups, often larger than a batch: fewer of them in flight,
            // so memory holds about as many rows as with batches (one a thread at least).
            const rows = Math.max(settings.batchSize, chunk.rowCount);
            const most = Math.max(
              1,
              scorer.threads,
              Math.round((limit * settings.batchSize) / rows),
            );
            await submitChunk(
              {
                kind: "parquet",
                id,
                file: chunker.file,
                chunk,
                plan: encodingPlan(plan, format, id === 0, outputPath, settings),
              },
              most,
            );
            id++;
          }
          while (inFlight.length > 0) await flushOne();
        }
      } finally {
        await chunker.close();
      }
    }
    let plan: OutputPlan | undefined;
    let batchIndex = 0;
    let origin: FrameOrigin | undefined;
    const stream =
      source.format === formats.csv || chunked
        ? []
        : source.format.stream(source.path, {
            schema,
            keepUnknownColumns: true,
            // Unreadable rows (a ragged CSV record, a line that is not JSON) and schema violations.
            onInvalidRow: (row) => invalid.push(row),
            onFrameOrigin: (where) => {
              origin = where;
            },
            batchSize: settings.batchSize,
            delimiter: settings.delimiter,
          });
    let rowsBefore = 0;
    for await (const frame of stream) {
      const rejectedHere = invalid;
      invalid = [];
      // A format of your own that does not report origins: rows in order, lines unknown.
      // (Set by the reader's callback: the cast keeps TypeScript from narrowing it away.)
      const where: FrameOrigin =
        (origin as FrameOrigin | undefined) ??
        sequentialOrigin(source.path, rowsBefore, frame.rowCount);
      origin = undefined;
      rowsBefore += frame.rowCount + rejectedHere.length;
      rowsIn += frame.rowCount + rejectedHere.length;
      await reject(rejectedHere.map(fromInvalidRow));
      if (frame.rowCount === 0) {
        // Every row of the batch was rejected: nothing to score (and a JSON Lines batch of
        // unreadable lines has none of the file's other columns).
        context.onBatch(rejectedHere.length);
        continue;
      }
      plan ??= outputPlan(frame, source.path, settings, model);
      writer ??= await format.openWriter(outputPath, { delimiter: settings.outputDelimiter });
      const taskPlan = encodingPlan(plan, format, batchIndex === 0, outputPath, settings);
      const result = context.scorer.score({
        id: batchIndex,
        columns: [...frame.columns()],
        rowCount: frame.rowCount,
        plan: taskPlan,
      });
      // Awaited in order by flushOne; until then a failure must not count as unhandled.
      result.catch(() => {});
      inFlight.push({ result, origin: where });
      batchIndex++;
      context.onBatch(frame.rowCount + rejectedHere.length);
      if (inFlight.length >= limit) await flushOne();
    }
    // Rejects of a last batch that kept no row at all come after the loop.
    if (invalid.length > 0) {
      rowsIn += invalid.length;
      await reject(invalid.map(fromInvalidRow));
      context.onBatch(invalid.length);
      invalid = [];
    }
    while (inFlight.length > 0) await flushOne();
    if (writer === undefined) {
      // Every row was rejected: the output still exists, with its columns and no rows.
      writer = await format.openWriter(outputPath, { delimiter: settings.outputDelimiter });
    }
    const rowsScored = writer.rowCount;
    if (rowsIn !== rowsScored + rowsRejected) {
      throw new MlopsError(
        "batch_failed",
        `${source.path}: ${rowsIn} rows read but ${rowsScored} scored + ${rowsRejected} ` +
          "rejected; nothing was written",
      );
    }
    // Rejects first: a crash between the two renames leaves the file to be scored again.
    if (rejects) await rejects.close();
    else await unlink(rejectsPath).catch(() => {});
    await writer.close();
    return {
      status: "done",
      rejects: rejects ? rejectsPath : null,
      rowsIn,
      rowsScored,
      rowsRejected,
    };
  } catch (error) {
    // Let batches still in flight settle before their writer goes away.
    await Promise.allSettled(inFlight.map((item) => item.result));
    await writer?.abort();
    await rejects?.abort();
    if (!MlopsError.isInstance(error)) throw error;
    // A full disk or an output folder gone bad stops the run (the manifest keeps what is done,
    // so starting it again resumes); anything else fails this file alone.
    if (
      error.code === "file_write" &&
      ((error.cause as NodeJS.ErrnoException | undefined)?.code === "ENOSPC" ||
        (await isFolderProblem(dirname(outputPath))))
    ) {
      throw error;
    }
    return {
      status: "failed",
      rejects: null,
      rowsIn,
      rowsScored: 0,
      rowsRejected: 0,
      error: { code: error.code, message: error.message },
    };
  }
}

/** An invalid row of a CSV chunk (rows numbered from 0 there) as a row of the file. */
function shiftRows(row: InvalidRow, before: number): InvalidRow {
  if (before === 0) return row;
  return {
    ...row,
    row: row.row + before,
    issues: row.issues.map((issue) =>
      typeof issue.path[0] === "number"
        ? { ...issue, path: [issue.path[0] + before, ...issue.path.slice(1)] }
        : issue,
    ),
  };
}

/**
 * How a CSV output is written from a CSV input's bytes: the header line, the output delimiter,
 * and which input fields to copy (none of that per row).
 */
function csvOutputPlan(
  header: readonly string[],
  plan: OutputPlan,
  outputPath: string,
  settings: Settings,
): CsvOutputPlan {
  const delimiter = csvDelimiter(outputPath, settings.outputDelimiter);
  const names = [...plan.keep, plan.predictionColumn];
  if (plan.versionColumn) names.push(plan.versionColumn.name);
  // A kept column the file lacks (an optional field, missing everywhere) is -1: empty cells.
  const columns = plan.keep.map((name) => header.indexOf(name));
  const inOrder =
    columns.length === header.length && columns.every((column, index) => column === index);
  return {
    header: `${names.map((name) => csvQuote(name, delimiter)).join(delimiter)}\n`,
    delimiterCode: delimiter.charCodeAt(0),
    columns: inOrder ? undefined : columns,
    keptCount: columns.length,
  };
}

/** Where a frame's rows are when its reader does not say: in order, after `before` rows. */
function sequentialOrigin(file: string, before: number, rowCount: number): FrameOrigin {
  return { file, rowCount, row: (index) => before + index, line: () => Number.NaN };
}

/** The plan with the scoring thread encoding the output, for the formats it can encode. */
function encodingPlan(
  plan: OutputPlan,
  format: FrameFormat,
  first: boolean,
  path: string,
  settings: Settings,
): OutputPlan {
  const encoded = encodedFormat(format);
  if (encoded === undefined) return plan;
  return {
    ...plan,
    encode: { format: encoded, first, path, delimiter: settings.outputDelimiter },
  };
}

/** The output formats a scoring thread encodes (the others' columns come back to be written). */
function encodedFormat(format: FrameFormat): "csv" | "jsonl" | "parquet" | undefined {
  if (format === formats.csv || format === formats.jsonl) return format.name as "csv" | "jsonl";
  return format === formats.parquet ? "parquet" : undefined;
}

/** The output columns: ids, then the kept input columns, then prediction (and version). */
function outputPlan(
  frame: Frame,
  path: string,
  settings: Settings,
  model: RunManifest["model"],
): OutputPlan {
  const missing = (name: string, what: string) =>
    new MlopsError(
      "argument_invalid",
      `${path}: no column "${name}" (${what}); the file has ${frame.names.join(", ")}`,
      { location: { file: path, column: name } },
    );
  for (const name of settings.idColumns) if (!frame.has(name)) throw missing(name, "an id column");
  const keep = [...settings.idColumns];
  const wanted =
    settings.keepColumns === true
      ? frame.names
      : settings.keepColumns === false
        ? []
        : settings.keepColumns;
  for (const name of wanted) {
    if (!frame.has(name)) throw missing(name, "a column to keep");
    if (!keep.includes(name)) keep.push(name);
  }
  for (const name of [settings.predictionColumn, settings.versionColumn]) {
    if (name !== undefined && keep.includes(name)) {
      throw new MlopsError(
        "argument_invalid",
        `${path}: the file already has a column "${name}"; pick another name for the ` +
          "prediction (or version) column, or leave that input column out",
        { location: { file: path, column: name } },
      );
    }
  }
  return {
    keep,
    predictionColumn: settings.predictionColumn,
    versionColumn:
      settings.versionColumn === undefined
        ? undefined
        : { name: settings.versionColumn, version: model.version },
  };
}

// ---------------------------------------------------------------- rejects

/**
 * One line of a rejects file: where the row is (file, 1-based line, 0-based data row), the row
 * as read (`values`, or `text` for a row that could not be read at all) and every issue.
 */
interface RejectLine {
  file: string;
  /** Null only for a source of your own that does not report lines (`onFrameOrigin`). */
  line: number | null;
  row: number;
  values?: Record<string, unknown>;
  text?: string;
  issues: readonly Pick<Issue, "code" | "path" | "message">[] | readonly unknown[];
}

function lineOrNull(line: number): number | null {
  return Number.isNaN(line) ? null : line;
}

function fromInvalidRow(row: InvalidRow): RejectLine {
  return {
    file: row.location.file,
    line: row.location.line,
    row: row.row,
    ...(row.text === undefined ? { values: row.values } : { text: row.text }),
    issues: row.issues.map((issue) => ({
      code: issue.code,
      path: issue.path,
      column: issue.path[issue.path.length - 1],
      message: issue.message,
      expected: issue.expected,
      received: issue.received,
    })),
  };
}

/** The rejects file: one JSON object per rejected row, written like the outputs (temp + rename). */
class RejectsFile {
  readonly #file: AtomicFile;

  private constructor(file: AtomicFile) {
    this.#file = file;
  }

  static async create(path: string): Promise<RejectsFile> {
    return new RejectsFile(await AtomicFile.create(path));
  }

  async write(rows: readonly RejectLine[]): Promise<void> {
    let text = "";
    for (const row of rows) text += `${JSON.stringify(row, jsonSafe)}\n`;
    await this.#file.append(text);
  }

  close(): Promise<void> {
    return this.#file.commit();
  }

  abort(): Promise<void> {
    return this.#file.abort();
  }
}

/** Non-finite numbers read from a file (NaN, Infinity) have no JSON form: write them as text. */
function jsonSafe(_key: string, value: unknown): unknown {
  return typeof value === "number" && !Number.isFinite(value) ? String(value) : value;
}

// ---------------------------------------------------------------- helpers

function checkOptions(options: ScoreBatchOptions): Settings {
  if (typeof options.model !== "string" || options.model.trim() === "") {
    throw new MlopsError(
      "argument_invalid",
      "model: expected a registry reference such as wine@production",
    );
  }
  if (typeof options.output !== "string" || options.output === "") {
    throw new MlopsError("argument_invalid", "output: expected a folder path");
  }
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new MlopsError(
      "argument_invalid",
      `batchSize: expected a positive integer, got ${batchSize}`,
    );
  }
  const workers = options.workers ?? Math.min(8, availableParallelism());
  if (!Number.isInteger(workers) || workers < 0 || workers > 256) {
    throw new MlopsError(
      "argument_invalid",
      `workers: expected an integer from 0 to 256, got ${workers}`,
    );
  }
  const maxRejectRate = options.maxRejectRate ?? 0;
  if (!(maxRejectRate >= 0 && maxRejectRate <= 1)) {
    throw new MlopsError(
      "argument_invalid",
      `maxRejectRate: expected a share from 0 to 1 (0.01 = 1%), got ${maxRejectRate}`,
    );
  }
  const predictionColumn = options.predictionColumn ?? "prediction";
  if (predictionColumn === "")
    throw new MlopsError("argument_invalid", "predictionColumn: empty name");
  const outputName = options.outputName ?? DEFAULT_NAME;
  const unknown = [...outputName.matchAll(/\{(\w*)\}/g)]
    .map((match) => match[1])
    .filter((token) => !["name", "ext", "timestamp", "model", "version"].includes(token));
  if (unknown.length > 0 || !outputName.includes("{name}")) {
    throw new MlopsError(
      "argument_invalid",
      unknown.length > 0
        ? `outputName: unknown placeholder {${unknown[0]}}; use {name}, {ext}, {timestamp}, {model}, {version}`
        : `outputName: "${outputName}" needs {name}, or every input would get the same output name`,
    );
  }
  const keepColumns = options.keepColumns ?? true;
  const idColumns = options.idColumns ?? [];
  return {
    outputName,
    predictionColumn,
    keepColumns,
    idColumns,
    versionColumn: options.versionColumn,
    batchSize,
    workers,
    maxRejectRate,
    delimiter: options.delimiter,
    outputDelimiter: options.outputDelimiter ?? options.delimiter,
    // What an output file depends on (worker count, batch size and reject rate do not).
    fingerprint: {
      outputName,
      predictionColumn,
      keepColumns,
      idColumns,
      versionColumn: options.versionColumn ?? null,
      delimiter: options.delimiter ?? null,
      outputDelimiter: options.outputDelimiter ?? null,
    },
  };
}

function pickFormat(
  format: FrameFormatName | FrameFormat | undefined,
  option: string,
): FrameFormat | undefined {
  if (format === undefined) return undefined;
  if (typeof format === "object") return format;
  const found = Object.hasOwn(formats, format) ? formats[format] : undefined;
  if (!found) {
    throw new MlopsError(
      "format_unsupported",
      `${option}: unknown format "${format}"; expected ${Object.keys(formats).join(", ")}`,
    );
  }
  return found;
}

/**
 * A registry reference as a models:/ URI: `wine@production` → `models:/wine@production`,
 * `wine/3` → `models:/wine/3`, `wine` → `models:/wine/latest`.
 */
export function toModelUri(reference: string): string {
  const bare = reference.startsWith("models:/") ? reference.slice("models:/".length) : reference;
  // A bare name means its latest version, as in mlops-serve.
  const uri = /[@/]/.test(bare) ? `models:/${bare}` : `models:/${bare}/latest`;
  parseModelUri(uri);
  return uri;
}

function outputRelative(
  source: SourceFile,
  format: FrameFormat,
  template: string,
  manifest: RunManifest,
): string {
  const name = basename(source.relative);
  const extension = extname(name.endsWith(".gz") ? name.slice(0, -3) : name);
  const stem = name.slice(0, name.length - extension.length);
  const ext = format.extensions.includes(extension.toLowerCase())
    ? extension
    : format.extensions[0];
  const file = template
    .replaceAll("{name}", stem)
    .replaceAll("{ext}", ext)
    .replaceAll("{timestamp}", manifest.timestamp)
    .replaceAll("{model}", manifest.model.name)
    .replaceAll("{version}", String(manifest.model.version));
  const folder = dirname(source.relative);
  return folder === "." ? file : join(folder, file);
}

/** `YYYYmmddHHMMSS` in UTC, as seed 001's output names have it. */
function stamp(date: Date): string {
  return date.toISOString().replace(/[-:T]/g, "").slice(0, 14);
}

async function ensureWritableFolder(folder: string): Promise<void> {
  try {
    await mkdir(folder, { recursive: true });
    const probe = await AtomicFile.create(join(folder, "_mlops_probe"));
    await probe.abort();
  } catch (error) {
    const code =
      (error as { cause?: NodeJS.ErrnoException }).cause?.code ??
      (error as NodeJS.ErrnoException).code;
    throw new MlopsError(
      "file_write",
      `output folder ${folder} is not writable (${code ?? String(error)}); ` +
        "pick a folder you can write to",
      { cause: error, location: { file: folder } },
    );
  }
}

/** After a write failure: true when the folder itself is the problem (gone, not writable). */
async function isFolderProblem(folder: string): Promise<boolean> {
  try {
    await ensureWritableFolder(folder);
    return false;
  } catch {
    return true;
  }
}

/** Temporary files a killed run left for this output (`.NAME.RANDOM.tmp`). */
async function removeLeftovers(outputPath: string): Promise<void> {
  const folder = dirname(outputPath);
  const prefixes = [`.${basename(outputPath)}.`, `.${basename(rejectsPathFor(outputPath))}.`];
  for (const name of await readdir(folder)) {
    if (name.endsWith(".tmp") && prefixes.some((prefix) => name.startsWith(prefix))) {
      await unlink(join(folder, name)).catch(() => {});
    }
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Rows the pending files hold, estimated from the line breaks in the first 256 KiB of text
 * files; undefined when a binary file makes it unknowable cheaply (progress shows no ETA then).
 */
async function estimateRows(
  todo: readonly ManifestFile[],
  sources: readonly SourceFile[],
): Promise<number | undefined> {
  let total = 0;
  for (const file of todo) {
    const source = sources.find((candidate) => candidate.path === file.input);
    if (!source || (source.format !== formats.csv && source.format !== formats.jsonl)) {
      return undefined;
    }
    if (file.inputSize === 0) continue;
    const handle = await open(file.input, "r");
    try {
      const sample = Buffer.alloc(Math.min(file.inputSize, 256 * 1024));
      const { bytesRead } = await handle.read(sample, 0, sample.length, 0);
      let breaks = 0;
      for (
        let at = sample.indexOf(10);
        at >= 0 && at < bytesRead;
        at = sample.indexOf(10, at + 1)
      ) {
        breaks++;
      }
      const perRow = bytesRead / Math.max(1, breaks);
      const header = source.format === formats.csv ? 1 : 0;
      total += Math.max(0, Math.round(file.inputSize / perRow) - header);
    } finally {
      await handle.close();
    }
  }
  return total;
}

function fileSummary(entry: ManifestFile, status: BatchFileSummary["status"]): BatchFileSummary {
  return {
    input: entry.input,
    output: entry.output,
    rejects: entry.rejects,
    status,
    rowsIn: entry.rowsIn,
    rowsScored: entry.rowsScored,
    rowsRejected: entry.rowsRejected,
    ...(entry.error ? { error: entry.error } : {}),
  };
}

function sum(files: readonly BatchFileSummary[], key: "rowsIn" | "rowsScored" | "rowsRejected") {
  let total = 0;
  for (const file of files) total += file[key];
  return total;
}
