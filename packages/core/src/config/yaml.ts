import { isMap, isScalar, isSeq, type LineCounter, type parseDocument } from "yaml";

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
