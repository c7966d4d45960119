import { readFile } from "node:fs/promises";
import { relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { type FrameFormatName, formats, MlopsError, SDK_VERSION } from "@mlops/core";
import { type BatchConfig, parseBatchConfig } from "../batch/config.js";
import {
  type BatchProgress,
  type BatchSummary,
  type ScoreBatchOptions,
  scoreBatch,
} from "../batch/score.js";

/** Where `predictMain` reads and writes: the process's streams in the bin, buffers in tests. */
export interface PredictCliIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown; isTTY?: boolean; columns?: number };
  env: Record<string, string | undefined>;
  cwd: string;
}

/** The exit codes of `mlops-predict`, as `mlops-predict --help` lists them. */
export const PREDICT_EXIT_CODES = {
  /** Every file scored, the reject share within --max-reject-rate. */
  success: 0,
  /** The run finished, but a file failed or the reject share passed --max-reject-rate. */
  failed: 1,
  /** Usage error, no input files, no such registry, model or alias, a conflicting run. */
  usage: 2,
  /** The registry is in trouble: a corrupt registry or artifact, an I/O error reading it. */
  registry: 3,
  /** The run stopped: the output folder is not writable or the disk is full. Run it again. */
  stopped: 4,
} as const;

const USAGE = `Usage: mlops-predict --model NAME@ALIAS --input PATH --output DIR [options]

Scores files with a registered model, in bounded memory, on worker threads. Every input row
ends in the output (same order) or in NAME.rejects.jsonl next to it, with its file, line and
schema issues. Outputs appear under their final names only when complete; a run that is killed
and started again finishes the remaining files with the same model version.

Options:
  --model REF              NAME@ALIAS, NAME/VERSION or NAME (latest); pinned when the run starts
  --input PATH             a file, a folder or a glob ("data/**/*.csv"); repeatable
  --output DIR             the output folder (created if missing)
  --format FORMAT          output format: csv, jsonl, parquet, arrow (default: each input's)
  --input-format FORMAT    read the inputs as FORMAT whatever their extension
  --config FILE            a batch.yaml with model, source and target sections; flags win
  --registry PATH          the registry folder (default: $MLOPS_REGISTRY, else ./.mlops)
  --name TEMPLATE          output file name: {name} {ext} {timestamp} {model} {version}
                           (default "{name}{ext}"; seed 001: "{timestamp}_{name}{ext}")
  --prediction-column NAME the prediction column (default "prediction")
  --columns LIST           input columns to keep, comma-separated: all (default) or none
  --id-column NAME         a column carried through first (repeatable)
  --version-column NAME    also write the model version in this column
  --max-reject-rate R      largest share of rejected rows, 0 to 1 or a percentage such as
                           1% (default 0: any rejected row makes the exit code 1)
  --batch-size N           rows per batch (default 16384)
  --workers N              scoring threads (default: the machine's parallelism; 0 = none)
  --delimiter C            CSV delimiter of the inputs (and outputs)
  --restart                discard an unfinished run in the output folder instead of resuming
  --json                   print the summary as JSON on stdout
  -h, --help               show this help
  --version                print the version

Exit codes: 0 every file scored within --max-reject-rate, 1 a file failed or too many rows
were rejected, 2 usage error / no input / no such model or alias / a conflicting run, 3
registry error, 4 the run stopped (output not writable, disk full): run it again to resume.
`;

class UsageError extends Error {}

interface Parsed {
  options: ScoreBatchOptions;
  json: boolean;
}

const FORMAT_NAMES = Object.keys(formats) as FrameFormatName[];

function formatOption(flag: string, value: string | undefined): FrameFormatName | undefined {
  if (value === undefined) return undefined;
  if (!(FORMAT_NAMES as string[]).includes(value)) {
    throw new UsageError(`${flag}: unknown format "${value}"; expected ${FORMAT_NAMES.join(", ")}`);
  }
  return value as FrameFormatName;
}

function integerOption(flag: string, value: string | undefined, min: number, max: number) {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (
    !/^\d+$/.test(value.trim()) ||
    !Number.isSafeInteger(number) ||
    number < min ||
    number > max
  ) {
    throw new UsageError(`${flag}: expected an integer from ${min} to ${max}, got "${value}"`);
  }
  return number;
}

/** `0.01`, `1%`, `0` → a share from 0 to 1. */
export function parseRate(value: string): number {
  const text = value.trim();
  const percent = text.endsWith("%");
  const number = Number(percent ? text.slice(0, -1) : text);
  const share = percent ? number / 100 : number;
  if (text === "" || text === "%" || !Number.isFinite(number) || share < 0 || share > 1) {
    throw new UsageError(
      `--max-reject-rate: expected a share from 0 to 1 (0.01) or a percentage (1%), got "${value}"`,
    );
  }
  return share;
}

async function parse(argv: string[], io: PredictCliIo): Promise<Parsed | "help" | "version"> {
  let values: Record<string, string | string[] | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      allowPositionals: false,
      options: {
        model: { type: "string" },
        input: { type: "string", multiple: true },
        output: { type: "string" },
        format: { type: "string" },
        "input-format": { type: "string" },
        config: { type: "string" },
        registry: { type: "string" },
        name: { type: "string" },
        "prediction-column": { type: "string" },
        columns: { type: "string" },
        "id-column": { type: "string", multiple: true },
        "version-column": { type: "string" },
        "max-reject-rate": { type: "string" },
        "batch-size": { type: "string" },
        workers: { type: "string" },
        delimiter: { type: "string" },
        restart: { type: "boolean" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
        version: { type: "boolean" },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) return "help";
  if (values.version) return "version";
  let config: BatchConfig = {};
  const configPath = values.config as string | undefined;
  if (configPath !== undefined) {
    const path = resolve(io.cwd, configPath);
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (error) {
      throw new UsageError(
        `--config ${configPath}: cannot read (${(error as NodeJS.ErrnoException).code ?? error})`,
      );
    }
    config = parseBatchConfig(text, configPath);
  }
  const model = (values.model as string | undefined) ?? config.model;
  const input = (values.input as string[] | undefined) ?? config.input;
  const output = (values.output as string | undefined) ?? config.output;
  const missing = [
    model === undefined && "--model",
    input === undefined && "--input",
    output === undefined && "--output",
  ].filter(Boolean);
  if (missing.length > 0) {
    throw new UsageError(`missing ${missing.join(", ")} (or give them in --config)`);
  }
  const columns = values.columns as string | undefined;
  const keepColumns =
    columns === undefined
      ? config.keepColumns
      : columns === "all"
        ? true
        : columns === "none"
          ? false
          : columns
              .split(",")
              .map((name) => name.trim())
              .filter((name) => name !== "");
  const rate = values["max-reject-rate"] as string | undefined;
  const options: ScoreBatchOptions = {
    ...config,
    model: model!,
    input: input!,
    output: output!,
    registry:
      (values.registry as string | undefined) ??
      config.registry ??
      io.env.MLOPS_REGISTRY ??
      ".mlops",
    cwd: io.cwd,
    outputFormat:
      formatOption("--format", values.format as string | undefined) ?? config.outputFormat,
    inputFormat:
      formatOption("--input-format", values["input-format"] as string | undefined) ??
      config.inputFormat,
    outputName: (values.name as string | undefined) ?? config.outputName,
    predictionColumn:
      (values["prediction-column"] as string | undefined) ?? config.predictionColumn,
    keepColumns,
    idColumns: (values["id-column"] as string[] | undefined) ?? config.idColumns,
    versionColumn: (values["version-column"] as string | undefined) ?? config.versionColumn,
    maxRejectRate: rate === undefined ? config.maxRejectRate : parseRate(rate),
    batchSize:
      integerOption("--batch-size", values["batch-size"] as string | undefined, 1, 1 << 24) ??
      config.batchSize,
    workers:
      integerOption("--workers", values.workers as string | undefined, 0, 256) ?? config.workers,
    delimiter: (values.delimiter as string | undefined) ?? config.delimiter,
    restart: (values.restart as boolean | undefined) ?? false,
  };
  return { options, json: Boolean(values.json) };
}

// ---------------------------------------------------------------- output

const integerFormat = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

function count(value: number): string {
  return integerFormat.format(value);
}

function percent(share: number): string {
  if (share === 0) return "0%";
  const value = share * 100;
  return `${value < 0.01 ? value.toPrecision(2) : value.toFixed(2).replace(/\.?0+$/, "")}%`;
}

function duration(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(Math.round(seconds % 60)).padStart(2, "0")}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, "0")}m`;
}

/** Progress on stderr: a redrawn bar on a terminal, plain lines elsewhere (CI logs). */
class ProgressReporter {
  readonly #io: PredictCliIo;
  readonly #cwd: string;
  readonly #tty: boolean;
  #lastDraw = 0;
  #lastTenth = -1;
  #drawn = false;

  constructor(io: PredictCliIo) {
    this.#io = io;
    this.#cwd = io.cwd;
    this.#tty = io.stderr.isTTY === true;
  }

  update(progress: BatchProgress): void {
    const rate = progress.elapsedSeconds > 0 ? progress.rows / progress.elapsedSeconds : 0;
    const share =
      progress.estimatedRows && progress.estimatedRows > 0
        ? Math.min(1, progress.rows / progress.estimatedRows)
        : undefined;
    const eta =
      share !== undefined && rate > 0
        ? ` ETA ${duration(Math.max(0, (progress.estimatedRows! - progress.rows) / rate))}`
        : "";
    const file = relative(this.#cwd, progress.file) || progress.file;
    if (progress.event === "file" && progress.summary) {
      const done = progress.summary;
      const line =
        done.status === "failed"
          ? `failed  ${file}: ${done.error?.message.split("\n")[0]}`
          : done.status === "skipped"
            ? `skipped ${file}: done by the interrupted run (${count(done.rowsScored)} rows scored)`
            : `scored  ${file}: ${count(done.rowsIn)} rows, ${count(done.rowsScored)} scored, ` +
              `${count(done.rowsRejected)} rejected`;
      this.#clear();
      this.#io.stderr.write(`${line}\n`);
      return;
    }
    if (progress.event !== "batch") return;
    if (this.#tty) {
      const now = performance.now();
      if (now - this.#lastDraw < 100) return;
      this.#lastDraw = now;
      const width = 24;
      const filled = share === undefined ? 0 : Math.round(share * width);
      const bar =
        share === undefined
          ? ""
          : `[${"█".repeat(filled)}${"░".repeat(width - filled)}] ${percent(share).padStart(4)} `;
      const text =
        `${bar}${count(progress.rows)} rows ${count(rate)} rows/s${eta}  ` +
        `(${progress.fileIndex + 1}/${progress.fileCount}) ${file}`;
      const columns = this.#io.stderr.columns ?? 100;
      this.#io.stderr.write(
        `\r${text.slice(0, columns - 1).padEnd(Math.min(columns - 1, text.length))}\x1b[K`,
      );
      this.#drawn = true;
      return;
    }
    // Plain lines: one per tenth of the estimated rows, so CI logs stay short.
    if (share === undefined) return;
    const tenth = Math.floor(share * 10);
    if (tenth <= this.#lastTenth || tenth === 10) return;
    this.#lastTenth = tenth;
    if (tenth === 0) return;
    this.#io.stderr.write(
      `progress ${tenth * 10}%: ${count(progress.rows)} rows, ${count(rate)} rows/s${eta}\n`,
    );
  }

  #clear(): void {
    if (this.#drawn) {
      this.#io.stderr.write("\r\x1b[K");
      this.#drawn = false;
    }
  }

  finish(): void {
    this.#clear();
  }
}

function summaryText(summary: BatchSummary, cwd: string): string {
  const show = (path: string) => relative(cwd, path) || path;
  const { totals } = summary;
  const lines = [
    `model ${summary.model.reference} → ${summary.model.name} version ${summary.model.version} ` +
      `(${summary.model.digest.slice(0, 19)}…)${summary.resumed ? ", resumed" : ""}`,
  ];
  for (const file of summary.files) {
    if (file.status === "failed") {
      lines.push(
        `  ${show(file.input)}: FAILED (${file.error?.code}) ${file.error?.message.split("\n")[0]}`,
      );
      continue;
    }
    const rejects = file.rejects ? ` → ${show(file.rejects)}` : "";
    lines.push(
      `  ${show(file.input)} → ${show(file.output)}: ${count(file.rowsIn)} in = ` +
        `${count(file.rowsScored)} scored + ${count(file.rowsRejected)} rejected${rejects}` +
        (file.status === "skipped" ? " (earlier attempt)" : ""),
    );
  }
  const over = totals.rejectRate > summary.maxRejectRate;
  lines.push(
    `${count(totals.files)} file${totals.files === 1 ? "" : "s"}` +
      (totals.failedFiles > 0 ? ` (${totals.failedFiles} failed)` : "") +
      `: ${count(totals.rowsIn)} rows in = ${count(totals.rowsScored)} scored + ` +
      `${count(totals.rowsRejected)} rejected (${percent(totals.rejectRate)}` +
      `${over ? ` > max ${percent(summary.maxRejectRate)}` : ""}) in ${duration(summary.seconds)}` +
      (summary.rowsPerSecond > 0 ? `, ${count(summary.rowsPerSecond)} rows/s` : ""),
  );
  lines.push(`manifest: ${show(summary.manifest)}`);
  return `${lines.join("\n")}\n`;
}

function summaryJson(summary: BatchSummary): string {
  const files = summary.files.map((file) => ({
    input: file.input,
    output: file.status === "failed" ? null : file.output,
    rejects: file.rejects,
    status: file.status,
    rows_in: file.rowsIn,
    rows_scored: file.rowsScored,
    rows_rejected: file.rowsRejected,
    ...(file.error ? { error: file.error } : {}),
  }));
  return `${JSON.stringify(
    {
      ok: summary.ok,
      run_id: summary.runId,
      resumed: summary.resumed,
      model: summary.model,
      files,
      totals: {
        files: summary.totals.files,
        failed_files: summary.totals.failedFiles,
        rows_in: summary.totals.rowsIn,
        rows_scored: summary.totals.rowsScored,
        rows_rejected: summary.totals.rowsRejected,
        reject_rate: summary.totals.rejectRate,
      },
      max_reject_rate: summary.maxRejectRate,
      manifest: summary.manifest,
      seconds: summary.seconds,
      rows_per_second: summary.rowsPerSecond,
      workers: summary.workers,
    },
    null,
    2,
  )}\n`;
}

const USAGE_CODES = new Set([
  "argument_invalid",
  "batch_no_input",
  "batch_run_conflict",
  "file_not_found",
  "format_unsupported",
  "registry_not_found",
  "uri_invalid",
  "data_invalid",
]);
const REGISTRY_CODES = new Set([
  "registry_corrupt",
  "registry_lock_timeout",
  "artifact_corrupt",
  "artifact_invalid",
  "file_read",
  "predictor_unsupported",
]);

/**
 * The `mlops-predict` command: parses `argv`, scores, prints progress on stderr and the summary
 * on stdout (JSON with `--json`), and resolves to the exit code.
 *
 * @example
 * process.exitCode = await predictMain(process.argv.slice(2), { ...process, cwd: process.cwd() });
 */
export async function predictMain(argv: string[], io: PredictCliIo): Promise<number> {
  let parsed: Parsed | "help" | "version";
  try {
    parsed = await parse(argv, io);
  } catch (error) {
    if (error instanceof UsageError || MlopsError.isInstance(error)) {
      io.stderr.write(
        `mlops-predict: ${(error as Error).message}\nRun mlops-predict --help for usage.\n`,
      );
      return PREDICT_EXIT_CODES.usage;
    }
    throw error;
  }
  if (parsed === "help") {
    io.stdout.write(USAGE);
    return PREDICT_EXIT_CODES.success;
  }
  if (parsed === "version") {
    io.stdout.write(`${SDK_VERSION}\n`);
    return PREDICT_EXIT_CODES.success;
  }
  const reporter = new ProgressReporter(io);
  let summary: BatchSummary;
  try {
    summary = await scoreBatch({ ...parsed.options, onProgress: (p) => reporter.update(p) });
  } catch (error) {
    reporter.finish();
    if (!MlopsError.isInstance(error)) throw error;
    io.stderr.write(`mlops-predict: ${error.message}\n`);
    if (USAGE_CODES.has(error.code)) return PREDICT_EXIT_CODES.usage;
    if (REGISTRY_CODES.has(error.code)) return PREDICT_EXIT_CODES.registry;
    if (error.code === "file_write") {
      io.stderr.write("mlops-predict: the run stopped; run the same command again to resume it\n");
      return PREDICT_EXIT_CODES.stopped;
    }
    return PREDICT_EXIT_CODES.failed;
  }
  reporter.finish();
  io.stdout.write(parsed.json ? summaryJson(summary) : summaryText(summary, io.cwd));
  if (!summary.ok) {
    const reasons: string[] = [];
    if (summary.totals.failedFiles > 0)
      reasons.push(`${summary.totals.failedFiles} file(s) failed`);
    if (summary.totals.rejectRate > summary.maxRejectRate) {
      reasons.push(
        `${percent(summary.totals.rejectRate)} of the rows were rejected, more than ` +
          `--max-reject-rate ${percent(summary.maxRejectRate)}`,
      );
    }
    io.stderr.write(`mlops-predict: not ok: ${reasons.join("; ")}\n`);
    return PREDICT_EXIT_CODES.failed;
  }
  return PREDICT_EXIT_CODES.success;
}
