import { MlopsError, type SourceLocation } from "../errors/error.js";

/** What went wrong with one value. */
export type IssueCode =
  | "invalid_type"
  | "missing_value"
  | "missing_field"
  | "unknown_field"
  | "not_finite"
  | "not_integer"
  | "too_small"
  | "too_big"
  | "invalid_category"
  | "invalid_row"
  /** A row a reader could not read at all (a ragged CSV record, a line that is not JSON). */
  | "malformed_row";

/**
 * One validation problem, as plain data (zod's shape): `path` is `[rowIndex, field]` for batches
 * and `[field]` for a single row. File readers add `location` (file, line, column).
 */
export interface Issue {
  code: IssueCode;
  path: (string | number)[];
  message: string;
  expected: string;
  received: string;
  location?: SourceLocation;
}

/** Renders a path the way the issue messages quote it: `rows[12].alcohol`. */
export function formatPath(path: readonly (string | number)[]): string {
  let text = "";
  for (const part of path) {
    if (typeof part === "number") text += text === "" ? `rows[${part}]` : `[${part}]`;
    else text += text === "" ? part : /^[A-Za-z_$][\w$]*$/.test(part) ? `.${part}` : `["${part}"]`;
  }
  return text || "(root)";
}

/** One issue as a line: `rows[12].alcohol: expected number ≥ 0, got "abc"` (+ file position). */
export function formatIssue(issue: Issue): string {
  const where = issue.location?.file
    ? ` (${issue.location.file}${issue.location.line !== undefined ? `:${issue.location.line}` : ""}${
        issue.location.column !== undefined ? `, column "${issue.location.column}"` : ""
      })`
    : "";
  return `${formatPath(issue.path)}: ${issue.message}${where}`;
}

/** Issues as a list for terminals: at most `limit` lines, then a count of the rest. */
export function formatIssues(issues: readonly Issue[], limit = 10): string {
  const lines = issues.slice(0, limit).map((issue) => `  - ${formatIssue(issue)}`);
  if (issues.length > limit) lines.push(`  … and ${issues.length - limit} more`);
  return lines.join("\n");
}

/** Thrown by `parse*` when data does not match its schema; `issues` lists every problem found. */
export class SchemaError extends MlopsError {
  readonly issues: Issue[];

  constructor(issues: Issue[], options: { truncated?: boolean; subject?: string } = {}) {
    const count = options.truncated ? `${issues.length}+` : `${issues.length}`;
    const subject = options.subject ?? "data";
    super(
      "schema_invalid",
      `${count} problem${issues.length === 1 ? "" : "s"} in ${subject}:\n${formatIssues(issues)}`,
      { location: issues[0]?.location },
    );
    this.name = "SchemaError";
    this.issues = issues;
  }

  override toJSON(): { code: "schema_invalid"; message: string; issues: Issue[] } {
    return { code: "schema_invalid", message: this.message, issues: this.issues };
  }
}

/** `{ success: true, data }` or `{ success: false, error }`, as zod's `safeParse` returns. */
export type SafeParseResult<T> =
  | { success: true; data: T }
  | { success: false; error: SchemaError };

/** How a received value is quoted in messages: strings in quotes, long ones cut. */
export function describeReceived(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (typeof value === "string") {
    const text = value.length > 40 ? `${value.slice(0, 37)}...` : value;
    return JSON.stringify(text);
  }
  if (typeof value === "number") return Number.isNaN(value) ? "NaN" : String(value);
  if (typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return "an array";
  return `a ${typeof value}`;
}
