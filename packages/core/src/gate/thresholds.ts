import {
  GateConfigError,
  type GateConfigIssue,
  type GateRule,
  readRules,
  readYaml,
  safeParseThreshold,
} from "./rules.js";

/**
 * Options for `parseGateThresholds`.
 *
 * @example
 * parseGateThresholds(text, { source: "thresholds" }); // issues read "thresholds:2:3: …"
 */
export interface ParseGateThresholdsOptions {
  /** Where the text came from, for issue locations (an input name, a file name). */
  source?: string;
}

/** A `metric:rule=value` line: a metric name, then a colon with no space after it. */
const SHORTHAND_LINE = /^[A-Za-z_][\w.-]*:\S/;

function withoutComment(line: string): string {
  return line.replace(/(^|\s)#.*$/, "").trim();
}

/** Plain lines, one `metric:rule=value` per line (`#` starts a comment). */
function readLines(content: readonly string[], source: string | undefined): GateRule[] {
  const rules: GateRule[] = [];
  const issues: GateConfigIssue[] = [];
  content.forEach((line, index) => {
    if (line === "") return;
    const result = safeParseThreshold(line);
    if (result.success) rules.push(result.data);
    else {
      const location =
        source === undefined ? { line: index + 1 } : { file: source, line: index + 1 };
      for (const issue of result.error.issues) issues.push({ ...issue, location });
    }
  });
  if (issues.length > 0) throw new GateConfigError(issues, "thresholds");
  return rules;
}

/**
 * Parses gate rules written as a block of text — the `thresholds` input of the GitHub Action —
 * in any of three forms: a YAML list (of `metric:rule=value` strings or rule objects), a YAML
 * map from metric to rules, or plain lines of `metric:rule=value`, one rule per line. Throws
 * `GateConfigError` whose issues name the line (and the token at fault) of every problem.
 *
 * @example
 * parseGateThresholds("- rmse:maxRelativeRegression=0.02\n- r2:minAbsoluteChange=0");
 * parseGateThresholds("rmse: { maxRelativeRegression: 0.02 }");
 * parseGateThresholds("rmse:maxRelativeRegression=0.02\nr2:minAbsoluteChange=0");
 * // each: [{ metric: "rmse", … }, { metric: "r2", … }] (the map form: rmse only)
 */
export function parseGateThresholds(
  text: string,
  options: ParseGateThresholdsOptions = {},
): GateRule[] {
  const { source } = options;
  if (typeof text !== "string" || text.trim() === "") {
    throw new GateConfigError(
      [
        {
          path: [],
          message:
            "expected rules such as rmse:maxRelativeRegression=0.02 (a YAML list, a map from " +
            "metric to rules, or one rule per line), got nothing",
        },
      ],
      "thresholds",
    );
  }
  const content = text.replace(/\r\n?/g, "\n").split("\n").map(withoutComment);
  if (content.every((line) => line === "" || SHORTHAND_LINE.test(line))) {
    return readLines(content, source);
  }
  const parsed = readYaml(text, "rules", source);
  if (!parsed.success) throw new GateConfigError(parsed.issues, "thresholds");
  const issues: GateConfigIssue[] = [];
  const rules = readRules(parsed.value, [], issues);
  if (issues.length > 0) throw new GateConfigError(parsed.locate(issues), "thresholds");
  return rules;
}
