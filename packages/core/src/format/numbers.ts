// The one way every @mlops tool writes a number for people: `mlops` tables, `mlops-train`'s
// leaderboard, the gate's tables, reasons and job summaries. Short, locale-free, deterministic;
// JSON output keeps every digit.

function trimZeros(text: string): string {
  if (!text.includes(".")) return text;
  return text.replace(/\.?0+$/, "");
}

/**
 * Four significant digits, whole digits kept (48213.5 → "48214"), tiny values as 1.5e-7.
 *
 * @example
 * formatNumber(0.6123456789); // "0.6123"
 * formatNumber(48213.5); // "48214"
 * formatNumber(42); // "42"
 */
export function formatNumber(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (!Number.isFinite(value)) return value > 0 ? "Infinity" : "-Infinity";
  if (value === 0) return "0";
  const magnitude = Math.abs(value);
  if (magnitude < 1e-4 || magnitude >= 1e15) {
    const [mantissa, exponent] = value.toExponential(3).split("e");
    return `${trimZeros(mantissa)}e${exponent.replace("+", "")}`;
  }
  const digits = Math.max(0, 3 - Math.floor(Math.log10(magnitude)));
  const text = trimZeros(value.toFixed(digits));
  return text === "-0" ? "0" : text;
}

/** A number with its sign: "+0.01", "-0.01", "0". */
export function formatSigned(value: number): string {
  const text = formatNumber(value);
  return value > 0 && text !== "0" ? `+${text}` : text;
}

/** A fraction as a percentage: 0.0142 → "1.42 %", 0.02 → "2 %", 0.125 → "12.5 %". */
export function formatPercent(fraction: number): string {
  if (!Number.isFinite(fraction)) return `${formatNumber(fraction * 100)} %`;
  const percent = fraction * 100;
  const magnitude = Math.abs(percent);
  const digits = magnitude < 10 ? 2 : magnitude < 100 ? 1 : 0;
  const text = trimZeros(percent.toFixed(digits));
  return `${text === "-0" ? "0" : text} %`;
}

/** A signed percentage: "+1.42 %", "-3.1 %". */
export function formatSignedPercent(fraction: number): string {
  const text = formatPercent(fraction);
  return fraction > 0 && !text.startsWith("0 ") ? `+${text}` : text;
}
