/**
 * Plain-text formatting for the command-line tools (`mlops`, `mlops-train`, `mlops-serve`):
 * aligned tables, key/value blocks, times, durations, sizes and values. Output is deterministic
 * (UTC times, no locale) so that scripts and tests can rely on it. Numbers are written by
 * `formatNumber` (./numbers.ts), the one number format of every tool and of the gate's reports.
 */
import { formatNumber } from "./numbers.js";

/** How text is styled: `bold` and `dim` are identity functions when colour is off. */
export interface Style {
  bold(text: string): string;
  dim(text: string): string;
}

const plain: Style = { bold: (text) => text, dim: (text) => text };

const ansi: Style = {
  bold: (text) => `\u001b[1m${text}\u001b[22m`,
  dim: (text) => `\u001b[2m${text}\u001b[22m`,
};

/**
 * Colour only for a terminal, and never when `NO_COLOR` is set (https://no-color.org: any
 * non-empty value) — pipes, files and CI logs get plain text.
 */
export function styleFor(
  stream: { isTTY?: boolean },
  env: Record<string, string | undefined>,
): Style {
  const noColor = env.NO_COLOR !== undefined && env.NO_COLOR !== "";
  return stream.isTTY === true && !noColor ? ansi : plain;
}

export type Align = "left" | "right";

export interface Column {
  header: string;
  align?: Align;
}

// Escape sequences take no room on screen, so widths are measured without them.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching ANSI escapes is the point
const ESCAPES = /\u001b\[[0-9;]*m/g;

/** `text` without colour escapes: what a reader sees. */
export function stripEscapes(text: string): string {
  return text.replace(ESCAPES, "");
}

function width(text: string): number {
  return [...stripEscapes(text)].length;
}

/** Pads `text` to `size` columns; styling wraps the text only, so trailing fill can be trimmed. */
function pad(
  text: string,
  size: number,
  align: Align,
  paint: (text: string) => string = (same) => same,
): string {
  const fill = " ".repeat(Math.max(0, size - width(text)));
  return align === "right" ? fill + paint(text) : paint(text) + fill;
}

/** Cells hold one line each: a newline or tab inside a value would break the alignment. */
function cell(text: string): string {
  return text.replace(/[\r\n\t]+/g, " ");
}

/**
 * Aligns rows under their headers, two spaces between columns, no trailing spaces.
 *
 * @example
 * formatTable([{ header: "NAME" }, { header: "VERSIONS", align: "right" }], [["wine", "3"]]);
 * // "NAME  VERSIONS\nwine         3\n"
 */
export function formatTable(
  columns: readonly Column[],
  rows: readonly (readonly string[])[],
  style: Style = plain,
): string {
  const cells = rows.map((row) => columns.map((_, index) => cell(row[index] ?? "")));
  const widths = columns.map((column, index) =>
    Math.max(width(column.header), ...cells.map((row) => width(row[index]))),
  );
  const line = (values: readonly string[], header: boolean) =>
    values
      .map((value, index) =>
        pad(value, widths[index], columns[index].align ?? "left", header ? style.bold : undefined),
      )
      .join("  ")
      .trimEnd();
  const lines = [
    line(
      columns.map((column) => column.header),
      true,
    ),
    ...cells.map((row) => line(row, false)),
  ];
  return `${lines.join("\n")}\n`;
}

/**
 * Key/value lines with the keys aligned, indented by `indent`; entries whose value is
 * `undefined` are left out.
 *
 * @example
 * formatFields([["digest", "sha256:…"], ["run id", undefined]]); // "digest  sha256:…\n"
 */
export function formatFields(
  entries: readonly (readonly [string, string | undefined])[],
  indent = "",
  style: Style = plain,
): string {
  const shown = entries.filter((entry): entry is [string, string] => entry[1] !== undefined);
  if (shown.length === 0) return "";
  const size = Math.max(...shown.map(([key]) => width(key)));
  return shown
    .map(([key, value]) =>
      `${indent}${pad(key, size, "left", style.dim)}  ${cell(value)}`.trimEnd(),
    )
    .join("\n")
    .concat("\n");
}

/**
 * A time (ms since the epoch) as UTC to the second, the same on every machine.
 *
 * @example
 * formatTime(0); // "1970-01-01 00:00:00Z"
 */
export function formatTime(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return "-";
  return new Date(ms)
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d+Z$/, "Z");
}

/**
 * A duration in milliseconds, in the largest units that keep it short.
 *
 * @example
 * formatDuration(1500); // "1.5s"
 * formatDuration(125_000); // "2m 05s"
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "-";
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1).replace(/\.0$/, "")}s`;
  const totalSeconds = Math.round(ms / 1000);
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  const two = (value: number) => String(value).padStart(2, "0");
  return hours > 0 ? `${hours}h ${two(minutes)}m` : `${minutes}m ${two(seconds)}s`;
}

/**
 * A byte count in binary units (as `ls -lh`), with the exact count for small sizes.
 *
 * @example
 * formatBytes(512); // "512 B"
 * formatBytes(1536); // "1.5 KiB"
 */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(1).replace(/\.0$/, "")} ${units[unit]}`;
}

/**
 * Any value as one short table cell: strings as they are, numbers by `formatNumber`, `undefined`
 * as "-", the rest as JSON.
 *
 * @example
 * formatValue(0.6123456); // "0.6123"
 * formatValue([1, 2]); // "[1,2]"
 */
export function formatValue(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "number") return formatNumber(value);
  if (value === undefined) return "-";
  return JSON.stringify(value);
}
