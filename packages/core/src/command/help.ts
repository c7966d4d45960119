// `--help` text of every tool, from the same declarations the parser reads: an option or a
// command declared once shows up in help, parsing and "did you mean" together.

import { type OptionSpec, type OptionSpecs, optionUsage } from "./options.js";

/** Help lines stay within this many columns. */
const WIDTH = 100;
/** A left column wider than this puts its text on the next line. */
const MAX_LEFT = 28;

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split("\n")) {
    let line = "";
    for (const word of paragraph.split(" ")) {
      if (line !== "" && line.length + 1 + word.length > width) {
        lines.push(line);
        line = word;
      } else {
        line = line === "" ? word : `${line} ${word}`;
      }
    }
    lines.push(line);
  }
  return lines;
}

/**
 * Two aligned columns, indented by two spaces; the right column wraps within the help width,
 * and a left entry too wide for the column gets its text on the lines below.
 *
 * @example
 * twoColumns([["--trials N", "settings to try"], ["--json", "one JSON document"]]);
 * // "  --trials N  settings to try\n  --json      one JSON document\n"
 */
export function twoColumns(entries: readonly (readonly [string, string])[]): string {
  const fitting = entries.filter(([left]) => left.length <= MAX_LEFT);
  const size = Math.max(0, ...fitting.map(([left]) => left.length));
  const indent = " ".repeat(2 + size + 2);
  const out: string[] = [];
  for (const [left, right] of entries) {
    const lines = wrap(right, WIDTH - indent.length);
    if (left.length > size) {
      out.push(`  ${left}`);
      for (const line of lines) out.push(`${indent}${line}`.trimEnd());
      continue;
    }
    out.push(`  ${left.padEnd(size)}  ${lines[0]}`.trimEnd());
    for (const line of lines.slice(1)) out.push(`${indent}${line}`.trimEnd());
  }
  return out.map((line) => `${line}\n`).join("");
}

/** The option table of a help text: `--trials N  settings to try (default 50) (repeatable)`. */
export function optionsHelp(specs: OptionSpecs): string {
  return twoColumns(
    Object.entries(specs).map(([name, spec]: [string, OptionSpec]) => {
      const notes = [
        spec.required ? "required" : undefined,
        spec.multiple ? (spec.list ? "repeatable, or A,B" : "repeatable") : undefined,
      ].filter((note) => note !== undefined);
      return [
        optionUsage(name, spec),
        notes.length > 0 ? `${spec.description} (${notes.join("; ")})` : spec.description,
      ];
    }),
  );
}

/** `[--max N]`, `--reason TEXT`, `[--drop COLUMN ...]`: an option in a usage line. */
export function optionSynopsis(name: string, spec: OptionSpec): string {
  const text = `${optionUsage(name, spec).replace(/^-., /, "")}${spec.multiple ? " ..." : ""}`;
  return spec.required ? text : `[${text}]`;
}

/** Help text wrapped to the help width (paragraphs kept). */
export function wrapText(text: string): string {
  return `${wrap(text, WIDTH).join("\n")}\n`;
}
