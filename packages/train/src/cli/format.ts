/** Plain-text formatting for `mlops-train`: aligned tables, numbers, durations, progress. */

/** Where output goes: the process's streams in `bin.ts`, buffers in tests. */
export interface TrainIo {
  stdout: { write(text: string): unknown; isTTY?: boolean };
  stderr: { write(text: string): unknown; isTTY?: boolean; columns?: number };
  env: Record<string, string | undefined>;
  cwd: string;
}

/** A number in at most 4 significant decimals, keeping integers whole. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return String(value);
  const magnitude = Math.abs(value);
  if (magnitude >= 1000) return value.toFixed(1);
  if (magnitude >= 1e-3) return String(Number(value.toPrecision(4)));
  return value.toExponential(2);
}

/** A parameter value in a table cell. */
export function formatParam(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "-";
  if (typeof value === "number") return formatNumber(value);
  if (typeof value === "string") return value;
  return JSON.stringify(value);
}

/** Milliseconds as `850ms`, `12.3s` or `2m 05s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)}m ${String(seconds % 60).padStart(2, "0")}s`;
}

/** Rows under headers, columns two spaces apart; numbers (and `right` columns) right-aligned. */
export function formatTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  right: readonly boolean[] = headers.map(() => false),
): string {
  const widths = headers.map((header, j) =>
    Math.max(header.length, ...rows.map((row) => (row[j] ?? "").length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, j) => (right[j] ? cell.padStart(widths[j]) : cell.padEnd(widths[j])))
      .join("  ")
      .trimEnd();
  return `${[line(headers), ...rows.map(line)].join("\n")}\n`;
}

/**
 * Progress of the trials: a bar redrawn in place on a terminal, else (pipes, CI logs) one plain
 * line per tenth of the work.
 */
export class Progress {
  readonly #stream: TrainIo["stderr"];
  readonly #live: boolean;
  #lastTenth = 0;
  #drawn = false;

  constructor(stream: TrainIo["stderr"], env: Record<string, string | undefined>) {
    this.#stream = stream;
    const ci = env.CI !== undefined && env.CI !== "" && env.CI !== "false" && env.CI !== "0";
    this.#live = stream.isTTY === true && !ci;
  }

  update(done: number, total: number, best: string, elapsedMs: number): void {
    if (this.#live) {
      const width = 24;
      const filled = Math.round((done / Math.max(total, 1)) * width);
      const bar = `${"█".repeat(filled)}${"░".repeat(width - filled)}`;
      this.#stream.write(
        `\r\u001b[2K  trials ${bar} ${done}/${total}  ${best}  ${formatDuration(elapsedMs)}`,
      );
      this.#drawn = true;
      return;
    }
    const tenth = Math.floor((10 * done) / Math.max(total, 1));
    if (tenth > this.#lastTenth) {
      this.#lastTenth = tenth;
      this.#stream.write(`  trials ${done}/${total}  ${best}  ${formatDuration(elapsedMs)}\n`);
    }
  }

  /** Ends a live bar's line. */
  finish(): void {
    if (this.#live && this.#drawn) this.#stream.write("\n");
    this.#drawn = false;
  }
}
