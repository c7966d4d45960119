import { isMap, isScalar, isSeq, LineCounter, parseDocument } from "yaml";
import { MlopsError } from "../errors/error.js";

/**
 * The 1-based line and column of the deepest node of `path` that exists in a parsed YAML
 * document, so a config error can point at the file position (`gate.yaml:3:5`). Shared by every
 * YAML config @mlops reads (gate rules, `mlops-train --config`).
 *
 * @example
 * const lines = new LineCounter();
 * const document = parseDocument(text, { lineCounter: lines });
 * locateYamlPath(document, lines, ["thresholds", 0]); // { line: 2, column: 5 }
 */
export function locateYamlPath(
  document: ReturnType<typeof parseDocument>,
  lines: LineCounter,
  path: readonly (string | number)[],
): { line: number; column: number } | undefined {
  let node: unknown = document.contents;
  let offset = (node as { range?: [number] } | null)?.range?.[0];
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find(
        (item) => isScalar(item.key) && String(item.key.value) === String(segment),
      );
      if (pair === undefined) break;
      offset = (pair.key as { range?: [number] }).range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === "number" && node.items[segment] !== undefined) {
      node = node.items[segment];
      offset = (node as { range?: [number] }).range?.[0] ?? offset;
    } else break;
  }
  if (offset === undefined) return undefined;
  const position = lines.linePos(offset);
  return { line: position.line, column: position.col };
}

/** A YAML config file parsed, with a way to point at any path in it. */
export interface YamlConfig {
  /** The document as plain JavaScript values. */
  readonly value: unknown;
  /** The 1-based line and column of `path` (or of its deepest existing part). */
  locate(path: readonly (string | number)[]): { line: number; column: number } | undefined;
}

/**
 * Parses the text of a YAML config file; a syntax error is a `data_invalid` MlopsError with the
 * file, line and column. Internal: every @mlops YAML config starts here, then checks its own
 * shape and reports problems at `locate(path)`.
 *
 * @example
 * const config = parseYamlConfig(text, "batch.yaml");
 * config.locate(["target", "path"]); // { line: 7, column: 3 }
 */
export function parseYamlConfig(text: string, file: string): YamlConfig {
  const lines = new LineCounter();
  const document = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const problem = document.errors[0];
  if (problem) {
    const position = lines.linePos(problem.pos[0]);
    throw new MlopsError(
      "data_invalid",
      `${file}:${position.line}:${position.col}: not valid YAML (${problem.message.split("\n")[0]})`,
      { location: { file, line: position.line, column: position.col } },
    );
  }
  return {
    value: document.toJS(),
    locate: (path) => locateYamlPath(document, lines, path),
  };
}
