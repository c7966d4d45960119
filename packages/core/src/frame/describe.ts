import type { Frame } from "./frame.js";

/** Summary statistics of one numeric column (pandas' `describe()` plus the missing count). */
export interface NumericSummary {
  name: string;
  kind: "number" | "integer" | "boolean";
  count: number;
  missing: number;
  mean: number;
  std: number;
  min: number;
  p25: number;
  p50: number;
  p75: number;
  max: number;
}

/** Summary of one category column: counts per value, most frequent first. */
export interface CategorySummary {
  name: string;
  kind: "category";
  count: number;
  missing: number;
  unique: number;
  top: { value: string; count: number }[];
}

export type ColumnSummary = NumericSummary | CategorySummary;

/**
 * Per-column summary statistics of a frame: count, missing, mean, sample standard deviation
 * (ddof = 1, as pandas), min, quartiles (linear interpolation, as numpy) and max for numeric
 * columns; value counts for category columns.
 *
 * @example
 * for (const column of describeFrame(frame)) console.log(column.name, column.missing);
 */
export function describeFrame(frame: Frame, options: { top?: number } = {}): ColumnSummary[] {
  const top = options.top ?? 5;
  const out: ColumnSummary[] = [];
  for (const [name, column] of frame.columns()) {
    if (column.kind === "category") {
      const counts = new Float64Array(column.dictionary.length);
      let missing = 0;
      for (const code of column.codes) {
        if (code < 0) missing++;
        else counts[code]++;
      }
      const values = column.dictionary
        .map((value, index) => ({ value, count: counts[index] }))
        .filter((entry) => entry.count > 0)
        .sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : 1));
      out.push({
        name,
        kind: "category",
        count: column.codes.length - missing,
        missing,
        unique: values.length,
        top: values.slice(0, top),
      });
      continue;
    }
    const present = column.values.filter((value) => !Number.isNaN(value)).sort();
    const n = present.length;
    let mean = 0;
    for (let i = 0; i < n; i++) mean += (present[i] - mean) / (i + 1);
    let squares = 0;
    for (let i = 0; i < n; i++) squares += (present[i] - mean) ** 2;
    out.push({
      name,
      kind: column.kind,
      count: n,
      missing: column.values.length - n,
      mean: n > 0 ? mean : Number.NaN,
      std: n > 1 ? Math.sqrt(squares / (n - 1)) : Number.NaN,
      min: n > 0 ? present[0] : Number.NaN,
      p25: quantileSorted(present, 0.25),
      p50: quantileSorted(present, 0.5),
      p75: quantileSorted(present, 0.75),
      max: n > 0 ? present[n - 1] : Number.NaN,
    });
  }
  return out;
}

/** The q-quantile of sorted values with numpy's default linear interpolation (NaN when empty). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const position = (n - 1) * q;
  const lower = Math.floor(position);
  const upper = Math.min(lower + 1, n - 1);
  return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - lower);
}
