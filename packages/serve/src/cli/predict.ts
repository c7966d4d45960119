import { readFile } from "node:fs/promises";
import { relative, resolve } from "node:path";
import { type FrameFormatName, formats, SDK_VERSION } from "@mlops/core";
import {
  type CommandIo,
  defineCommand,
  type ExitCodes,
  formatDuration,
  formatPercent,
  type Program,
  runProgram,
  UsageError,
} from "@mlops/core/internal";
import { type BatchConfig, parseBatchConfig } from "../batch/config.js";
import {
  type BatchProgress,
  type BatchSummary,
  type ScoreBatchOptions,
  scoreBatch,
} from "../batch/score.js";

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

const EXIT_CODES: ExitCodes = {
  usage: PREDICT_EXIT_CODES.usage,
  not_found: PREDICT_EXIT_CODES.usage,
  conflict: PREDICT_EXIT_CODES.usage,
  // Data problems that stop a run before it starts (an input path that is not there); a file
  // that cannot be read during the run fails alone and makes the exit code 1.
  data: PREDICT_EXIT_CODES.usage,
  registry: PREDICT_EXIT_CODES.registry,
  read: PREDICT_EXIT_CODES.registry,
  write: PREDICT_EXIT_CODES.stopped,
  internal: PREDICT_EXIT_CODES.failed,
  help: [
    [0, "every file scored, the reject share within --max-reject-rate"],
    [1, "a file failed, or more rows were rejected than --max-reject-rate allows"],
    [2, "usage error, no input files, no such registry, model or alias, a conflicting run"],
    [3, "registry error: corrupt registry or artifact, I/O error"],
    [4, "the run stopped (output folder not writable, disk full): run it again to resume"],
  ],
};

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

const OPTIONS = {
  model: {
    type: "string",
    value: "REF",
    description: "NAME@ALIAS, NAME/VERSION or NAME (latest); pinned when the run starts",
  },
  input: {
    type: "string",
    value: "PATH",
    multiple: true,
    description: 'a file, a folder or a glob ("data/**/*.csv")',
  },
  output: { type: "string", value: "DIR", description: "the output folder (created if missing)" },
  format: {
    type: "string",
    value: "FORMAT",
    description: "output format: csv, jsonl, parquet, arrow (default: each input's)",
  },
  "input-format": {
    type: "string",
    value: "FORMAT",
    description: "read the inputs as FORMAT whatever their extension",
  },
  config: {
    type: "string",
    value: "FILE",
    description: "a batch.yaml with model, source and target sections; flags win",
  },
  registry: {
    type: "string",
    value: "PATH",
    description: "the registry folder (default: $MLOPS_REGISTRY, else ./.mlops)",
  },
  name: {
    type: "string",
    value: "TEMPLATE",
    description:
      'output file name: {name} {ext} {timestamp} {model} {version}\n(default "{name}{ext}"; seed 001: "{timestamp}_{name}{ext}")',
  },
  "prediction-column": {
    type: "string",
    value: "NAME",
    description: 'the prediction column (default "prediction")',
  },
  columns: {
    type: "string",
    value: "LIST",
    description: "input columns to keep, comma-separated: all (default) or none",
  },
  "id-column": {
    type: "string",
    value: "NAME",
    multiple: true,
    list: true,
    description: "a column carried through to the output first",
  },
  "version-column": {
    type: "string",
    value: "NAME",
    description: "also write the model version in this column",
  },
  "max-reject-rate": {
    type: "string",
    value: "R",
    description:
      "largest share of rejected rows, 0 to 1 or a percentage such as 1%\n(default 0: any rejected row makes the exit code 1)",
  },
  "batch-size": { type: "string", value: "N", description: "rows per batch (default 16384)" },
  workers: {
    type: "string",
    value: "N",
    description: "scoring threads (default: the machine's parallelism; 0 = none)",
  },
  delimiter: {
    type: "string",
    value: "C",
    description: "CSV delimiter of the inputs (and outputs)",
  },
  restart: {
    type: "boolean",
    description: "discard an unfinished run in the output folder instead of resuming it",
  },
} as const;

// ---------------------------------------------------------------- output

/** Row counts: whole numbers with thousands separators (1,000,000 rows reads at a glance). */
function count(value: number): string {
  return Math.round(value).toLocaleString("en-US");
}

function percent(share: number): string {
  return formatPercent(share);
}

function duration(seconds: number): string {
  return formatDuration(seconds * 1000);
}

/**
 * Progress on stderr: a redrawn bar with rows/s and an ETA on a terminal, plain lines elsewhere
 * (CI logs): one per finished file and one per tenth of the estimated rows.
 */
export class ProgressReporter {
  readonly #io: CommandIo;
  readonly #cwd: string;
  readonly #tty: boolean;
  #lastDraw = 0;
  #lastTenth = -1;
  #drawn = false;

  constructor(io: CommandIo) {
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
      `progress ${percent(tenth / 10)}: ${count(progress.rows)} rows, ${count(rate)} rows/s${eta}\n`,
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

function summaryJson(summary: BatchSummary): unknown {
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
  return {
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
  };
}

const predict = defineCommand({
  name: "",
  summary: "score files with a registered model",
  description:
    "Scores files with a registered model, in bounded memory, on worker threads. Every input " +
    "row ends in the output (same order) or in NAME.rejects.jsonl next to it, with its file, " +
    "line and schema issues. Outputs appear under their final names only when complete; a run " +
    "that is killed and started again finishes the remaining files with the same model version.",
  usage: [
    "mlops-predict --model NAME@ALIAS --input PATH --output DIR [options]",
    "mlops-predict --config batch.yaml [options]",
  ],
  options: OPTIONS,
  examples: [
    "mlops-predict --model wine@production --input data/ --output out/",
    'mlops-predict --model wine/3 --input "data/**/*.csv" --output out/ --format parquet --json',
    "mlops-predict --config batch.yaml --max-reject-rate 1%",
  ],
  async run({ options, io, cwd, env, json }) {
    let config: BatchConfig = {};
    if (options.config !== undefined) {
      const path = resolve(cwd, options.config);
      let text: string;
      try {
        text = await readFile(path, "utf8");
      } catch (error) {
        throw new UsageError(
          `--config ${options.config}: cannot read (${(error as NodeJS.ErrnoException).code ?? error})`,
        );
      }
      config = parseBatchConfig(text, options.config);
    }
    const model = options.model ?? config.model;
    const input = options.input.length > 0 ? options.input : config.input;
    const output = options.output ?? config.output;
    const missing = [
      model === undefined && "--model",
      input === undefined && "--input",
      output === undefined && "--output",
    ].filter(Boolean);
    if (missing.length > 0) {
      throw new UsageError(`missing ${missing.join(", ")} (or give them in --config)`);
    }
    const columns = options.columns;
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
    const rate = options["max-reject-rate"];
    const ids = options["id-column"];
    const scoreOptions: ScoreBatchOptions = {
      ...config,
      model: model!,
      input: input!,
      output: output!,
      // An empty MLOPS_REGISTRY is unset, as for mlops and mlops-train.
      registry: options.registry ?? config.registry ?? (env.MLOPS_REGISTRY?.trim() || ".mlops"),
      cwd,
      outputFormat: formatOption("--format", options.format) ?? config.outputFormat,
      inputFormat: formatOption("--input-format", options["input-format"]) ?? config.inputFormat,
      outputName: options.name ?? config.outputName,
      predictionColumn: options["prediction-column"] ?? config.predictionColumn,
      keepColumns,
      idColumns: ids.length > 0 ? ids : config.idColumns,
      versionColumn: options["version-column"] ?? config.versionColumn,
      maxRejectRate: rate === undefined ? config.maxRejectRate : parseRate(rate),
      batchSize:
        integerOption("--batch-size", options["batch-size"], 1, 1 << 24) ?? config.batchSize,
      workers: integerOption("--workers", options.workers, 0, 256) ?? config.workers,
      delimiter: options.delimiter ?? config.delimiter,
      restart: options.restart,
    };
    const reporter = new ProgressReporter(io);
    let summary: BatchSummary;
    try {
      summary = await scoreBatch({ ...scoreOptions, onProgress: (p) => reporter.update(p) });
    } finally {
      reporter.finish();
    }
    if (summary.totals.failedFiles === 0 && summary.totals.rejectRate <= summary.maxRejectRate) {
      return { json: summaryJson(summary), text: summaryText(summary, cwd) };
    }
    const reasons: string[] = [];
    if (summary.totals.failedFiles > 0)
      reasons.push(`${summary.totals.failedFiles} file(s) failed`);
    if (summary.totals.rejectRate > summary.maxRejectRate) {
      reasons.push(
        `${percent(summary.totals.rejectRate)} of the rows were rejected, more than ` +
          `--max-reject-rate ${percent(summary.maxRejectRate)}`,
      );
    }
    if (!json) io.stderr.write(`mlops-predict: not ok: ${reasons.join("; ")}\n`);
    return {
      json: summaryJson(summary),
      text: summaryText(summary, cwd),
      exitCode: PREDICT_EXIT_CODES.failed,
    };
  },
});

/** The `mlops-predict` tool, on the shared command-line toolkit. */
export const PREDICT_PROGRAM: Program = {
  name: "mlops-predict",
  summary: "score files with a registered model, losing no row",
  version: SDK_VERSION,
  json: true,
  commands: [predict as never],
  exitCodes: EXIT_CODES,
  environment: [["MLOPS_REGISTRY", "the registry folder when --registry is not given"]],
};

/**
 * The `mlops-predict` command: parses `argv`, scores, prints progress on stderr and the summary
 * on stdout (JSON with `--json`), and resolves to the exit code.
 *
 * @example
 * process.exitCode = await predictMain(process.argv.slice(2), { ...process, cwd: process.cwd() });
 */
export function predictMain(argv: string[], io: CommandIo): Promise<number> {
  return runProgram(PREDICT_PROGRAM, argv, io);
}
