import { describe, expect, it } from "vitest";
import { evaluateGate } from "./evaluate.js";
import { formatGateSummary } from "./summary.js";

describe("formatGateSummary", () => {
  it("lists every metric on a pass and only the failures on a fail", () => {
    const passed = evaluateGate({
      rules: ["rmse:maxRelativeRegression=0.02,threshold=0.8", "r2:minAbsoluteChange=0"],
      candidateMetrics: { rmse: 0.702, r2: 0.31 },
      baselineMetrics: { rmse: 0.711, r2: 0.3 },
    });
    expect(formatGateSummary(passed)).toBe(
      "gate passed: rmse 0.702 vs 0.711 (-1.27 %, threshold ≤ 0.8, at most 2 % worse allowed); " +
        "r2 0.31 vs 0.3 (+3.33 %, at least as good required)",
    );
    const failed = evaluateGate({
      rules: ["rmse:maxRelativeRegression=0.02", "r2:minRelativeChange=0.05"],
      candidateMetrics: { rmse: 0.75, r2: 0.35 },
      baselineMetrics: { rmse: 0.7, r2: 0.3 },
    });
    expect(formatGateSummary(failed)).toBe(
      "gate failed: rmse 0.75 vs 0.7 (+7.14 %, at most 2 % worse allowed)",
    );
  });

  it("says first model, a value that is not a number, and a required baseline", () => {
    const first = evaluateGate({
      rules: ["rmse:maxRelativeRegression=0.02,threshold=0.8"],
      candidateMetrics: { rmse: 0.7 },
    });
    expect(formatGateSummary(first)).toBe(
      "gate passed: first model (no baseline to compare with); rmse 0.7 (threshold ≤ 0.8)",
    );
    const required = evaluateGate({
      rules: ["r2:threshold=0.2"],
      candidateMetrics: { r2: 0.3 },
      requireBaseline: true,
    });
    expect(formatGateSummary(required)).toBe(
      "gate failed: no baseline to compare with, and a baseline is required",
    );
    const broken = evaluateGate({
      rules: ["mae:maxAbsoluteRegression=0.01"],
      candidateMetrics: { mae: 0.5 },
      baselineMetrics: { mae: Number.POSITIVE_INFINITY },
    });
    expect(formatGateSummary(broken)).toBe(
      "gate failed: The baseline's mae is Infinity, not a finite number",
    );
  });
});
