// Helpers of the `mlops` commands: sections, sorted entries, names of versions and aliases.
import { MlopsError } from "../errors/error.js";
import type { Style } from "../format/text.js";

export function section(title: string, body: string, style: Style): string {
  return `${style.bold(title)}\n${body === "" ? "  (none)\n" : body}`;
}

export function sortedEntries<T>(record: Record<string, T>): [string, T][] {
  return Object.keys(record)
    .sort()
    .map((key) => [key, record[key]]);
}

export function aliasText(aliases: Record<string, number>): string {
  const entries = sortedEntries(aliases);
  return entries.length === 0
    ? "-"
    : entries.map(([alias, version]) => `${alias}→${version}`).join(", ");
}

export function versionText(version: number | null, none: string): string {
  return version === null ? none : String(version);
}

/**
 * `wine`, `wine@production`, `wine/3` or a full `models:/` URI, as a URI. A bare name means the
 * latest version, the same default as `models:/wine/latest`.
 */
export function modelReferenceToUri(reference: string): string {
  if (reference.startsWith("models:/")) return reference;
  if (reference.includes("@") || reference.includes("/")) return `models:/${reference}`;
  return `models:/${reference}/latest`;
}

export function parsePositiveInteger(what: string, text: string): number {
  if (!/^[1-9]\d*$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw new MlopsError(
      "argument_invalid",
      `${what} ${JSON.stringify(text)} is invalid: expected a positive integer (1, 2, 3, ...)`,
    );
  }
  return Number(text);
}
