import { describe, expect, it } from "vitest";
import { createArtifact } from "../artifact/create.js";
import {
  formatNumber,
  formatPercent,
  formatSigned,
  formatSignedPercent,
} from "../format/numbers.js";
import { field } from "../schema/field.js";
import { schema } from "../schema/schema.js";
import { evaluateGate } from "./evaluate.js";
import { formatGateJSON, formatGateMarkdown, formatGateTable } from "./format.js";
import type { GateResult } from "./types.js";

const wine = schema({ alcohol: field.number(), quality: field.number() }, { target: "quality" });

function stored(metrics: Record<string, number>) {
  return createArtifact({
    kind: "linear",
    schema: wine,
    model: { inputs: ["alcohol"], intercept: 0 },
    arrays: { coefficients: Float64Array.of(1) },
    metrics,
    lineage: { createdAt: "2024-01-01T00:00:00.000Z", gitCommit: "abc1234" },
  });
}

const result = evaluateGate({
  candidate: { artifact: stored({ rmse: 0.712, r2: 0.31 }), version: { name: "wine", version: 4 } },
  baseline: { artifact: stored({ rmse: 0.702, r2: 0.32 }), version: { name: "wine", version: 3 } },
  rules: ["rmse:threshold=0.8,maxRelativeRegression=0.02", "r2:minAbsoluteChange=0"],
});

const storedNote =
  "Compared stored metrics, not predictions on shared data: the candidate's and the " +
  "baseline's metrics may come from different data. Pass evaluation data to score both models " +
  "on the same rows.";

describe("formatGateTable", () => {
  it("aligns one line per check, then the failures, the notes and the verdict", () => {
    expect(formatGateTable(result)).toBe(
      [
        "    METRIC  RULE                        CANDIDATE wine v4  " +
          "BASELINE wine v3  DELTA   CHANGE",
        "✅  rmse    threshold=0.8                           0.712  " +
          "           0.702  +0.01  +1.42 %",
        "✅  rmse    maxRelativeRegression=0.02              0.712  " +
          "           0.702  +0.01  +1.42 %",
        "❌  r2      minAbsoluteChange=0                      0.31  " +
          "            0.32  -0.01  -3.13 %",
        "",
        "❌ r2 minAbsoluteChange=0: " +
          "r2 0.31 is 0.01 worse than the baseline 0.32; at least as good required.",
        "",
        `Note: ${storedNote}`,
        "",
        "Verdict: FAIL (1 of 3 checks failed)",
        "",
      ].join("\n"),
    );
  });

  it("writes PASS / FAIL with the ascii option", () => {
    expect(formatGateTable(result, { ascii: true }).split("\n").slice(0, 4)).toEqual([
      "      METRIC  RULE                        CANDIDATE wine v4  " +
        "BASELINE wine v3  DELTA   CHANGE",
      "PASS  rmse    threshold=0.8                           0.712  " +
        "           0.702  +0.01  +1.42 %",
      "PASS  rmse    maxRelativeRegression=0.02              0.712  " +
        "           0.702  +0.01  +1.42 %",
      "FAIL  r2      minAbsoluteChange=0                      0.31  " +
        "            0.32  -0.01  -3.13 %",
    ]);
  });

  it("shows missing values as '-' and a passing first model", () => {
    const first = evaluateGate({
      rules: ["rmse:threshold=1,maxRelativeRegression=0.02", "mae:threshold=1"],
      candidateMetrics: { rmse: Number.NaN, mae: 0.5 },
    });
    expect(formatGateTable(first, { ascii: true })).toBe(
      [
        "      METRIC  RULE                        CANDIDATE  BASELINE  DELTA  CHANGE",
        "FAIL  rmse    threshold=1                       NaN         -      -       -",
        "FAIL  rmse    maxRelativeRegression=0.02        NaN         -      -       -",
        "PASS  mae     threshold=1                       0.5         -      -       -",
        "",
        "FAIL rmse threshold=1: The candidate's rmse is NaN, not a finite number.",
        "FAIL rmse maxRelativeRegression=0.02: The candidate's rmse is NaN, not a finite number.",
        "",
        "Note: Checked the candidate's stored metrics (no evaluation data was given).",
        "Note: No baseline: nothing to compare, so only threshold rules were checked " +
          "(a first model).",
        "",
        "Verdict: FAIL (2 of 3 checks failed)",
        "",
      ].join("\n"),
    );
  });
});

describe("formatGateMarkdown", () => {
  it("writes a job-summary table with the rule, deltas and reasons, then notes and verdict", () => {
    expect(formatGateMarkdown(result)).toBe(
      [
        "### Model gate: wine v4 vs wine v3",
        "",
        "| | metric | rule | candidate | baseline | delta | change | reason |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | --- |",
        "| ✅ | rmse | `threshold=0.8` | 0.712 | 0.702 | +0.01 | +1.42 % | " +
          "rmse 0.712 is at most the threshold 0.8. |",
        "| ✅ | rmse | `maxRelativeRegression=0.02` | 0.712 | 0.702 | +0.01 | +1.42 % | " +
          "rmse 0.712 is 1.42 % worse than the baseline 0.702; at most 2 % worse allowed. |",
        "| ❌ | r2 | `minAbsoluteChange=0` | 0.31 | 0.32 | -0.01 | -3.13 % | " +
          "r2 0.31 is 0.01 worse than the baseline 0.32; at least as good required. |",
        "",
        `- ${storedNote}`,
        "",
        "**Verdict: ❌ fail** (1 of 3 checks failed)",
        "",
      ].join("\n"),
    );
  });

  it("escapes pipes and names a lone candidate", () => {
    const passing = evaluateGate({
      candidate: { artifact: stored({ "a|b": 1 }), version: 1 },
      rules: [{ metric: "a|b", threshold: 1, greaterIsBetter: true }],
    });
    expect(formatGateMarkdown(passing)).toBe(
      [
        "### Model gate: v1",
        "",
        "| | metric | rule | candidate | baseline | delta | change | reason |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | --- |",
        "| ✅ | a\\|b | `threshold=1` | 1 | - | - | - | a\\|b 1 is at least the threshold 1. |",
        "",
        "- Checked the candidate's stored metrics (no evaluation data was given).",
        "- No baseline: nothing to compare, so only threshold rules were checked (a first model).",
        "",
        "**Verdict: ✅ pass** (all 1 check passed)",
        "",
      ].join("\n"),
    );
  });
});

describe("formatGateJSON", () => {
  it("round-trips the result, indented or on one line", () => {
    const text = formatGateJSON(result);
    expect(text.endsWith("}\n")).toBe(true);
    expect(JSON.parse(text)).toEqual(result);
    const line = formatGateJSON(result, { indent: 0 });
    expect(line.split("\n")).toHaveLength(2);
    expect(line.startsWith('{"passed":false,"verdict":"fail","comparedOn":"stored-metrics",')).toBe(
      true,
    );
    expect(JSON.parse(line).candidate).toEqual({
      name: "wine",
      version: 4,
      metrics: { rmse: 0.712, r2: 0.31 },
    });
  });

  it("writes non-finite numbers as null", () => {
    const broken: GateResult = {
      ...result,
      rows: [{ ...result.rows[0], candidate: Number.NaN, delta: Infinity }],
    };
    const row = JSON.parse(formatGateJSON(broken)).rows[0];
    expect(row.candidate).toBeNull();
    expect(row.delta).toBeNull();
  });
});

describe("number formatting", () => {
  it("keeps four significant digits and whole digits", () => {
    const cases: [number, string][] = [
      [0.712, "0.712"],
      [0.7120001, "0.712"],
      [0.0003631, "0.0003631"],
      [48213.5, "48214"],
      [1.5, "1.5"],
      [-0.004, "-0.004"],
      [0, "0"],
      [-0, "0"],
      [1.5e-7, "1.5e-7"],
      [2e20, "2e20"],
      [Number.NaN, "NaN"],
      [-Infinity, "-Infinity"],
    ];
    for (const [value, text] of cases) expect(formatNumber(value), String(value)).toBe(text);
    expect(formatSigned(0.01)).toBe("+0.01");
    expect(formatSigned(-0.01)).toBe("-0.01");
    expect(formatSigned(0)).toBe("0");
  });

  it("writes fractions as percentages", () => {
    expect(formatPercent(0.02)).toBe("2 %");
    expect(formatPercent(0.020000000000000018)).toBe("2 %");
    expect(formatPercent(0.01424501424501426)).toBe("1.42 %");
    expect(formatPercent(0.125)).toBe("12.5 %");
    expect(formatPercent(2)).toBe("200 %");
    expect(formatSignedPercent(0.0142)).toBe("+1.42 %");
    expect(formatSignedPercent(-0.03125)).toBe("-3.13 %");
    expect(formatSignedPercent(0.00001)).toBe("0 %");
  });
});
