/**
 * Numbers as @mlops prints them everywhere (the CLI's `formatNumber`): four significant digits,
 * no grouping, exponent notation for the very small and very large.
 */
const fourDigits = new Intl.NumberFormat("en-US", {
  maximumSignificantDigits: 4,
  useGrouping: false,
});

export function num(value: number | null | undefined): string {
  if (value === null || value === undefined) return "–";
  if (Number.isNaN(value)) return "NaN";
  if (!Number.isFinite(value)) return value > 0 ? "Infinity" : "-Infinity";
  if (value === 0) return "0";
  const magnitude = Math.abs(value);
  if (magnitude < 1e-4 || magnitude >= 1e15) {
    return value
      .toExponential(3)
      .replace(/\.?0+e/, "e")
      .replace("e+", "e");
  }
  // Whole numbers keep every digit (48213.5 → 48214, as the CLI prints it).
  if (magnitude >= 1000) return Math.round(value).toString();
  return fourDigits.format(value);
}

/** A signed number: "+0.01", "-0.01", "0". */
export function signed(value: number | null | undefined): string {
  if (value === null || value === undefined) return "–";
  const text = num(value);
  return value > 0 && text !== "0" ? `+${text}` : text;
}

/** A fraction as a percentage, signed when asked: 0.0142 → "1.42 %". */
export function percent(value: number | null | undefined, sign = false): string {
  if (value === null || value === undefined) return "–";
  const text = num(value * 100);
  return `${sign && value > 0 ? "+" : ""}${text} %`;
}

/** A time in ms as `2024-06-11 14:03:22` in the viewer's zone. */
export function time(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "–";
  const date = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, "0");
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`
  );
}

/** A duration in ms: "850 ms", "12.3 s", "4 min 5 s". */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "–";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${num(ms / 1000)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** A parameter value as text (strings bare, the rest as JSON). */
export function value(item: unknown): string {
  if (typeof item === "number") return num(item);
  if (typeof item === "string") return item;
  if (item === undefined) return "–";
  return JSON.stringify(item);
}
