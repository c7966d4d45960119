import { describe, expect, it } from "vitest";
import { caught } from "./fixture.js";
import { GateConfigError } from "./rules.js";
import { parseGateThresholds } from "./thresholds.js";

describe("parseGateThresholds", () => {
  const expected = [
    { metric: "rmse", greaterIsBetter: false, maxRelativeRegression: 0.02 },
    { metric: "r2", greaterIsBetter: true, minAbsoluteChange: 0 },
  ];

  it("reads a YAML list, a map and plain lines alike", () => {
    expect(
      parseGateThresholds("- rmse:maxRelativeRegression=0.02\n- r2:minAbsoluteChange=0\n"),
    ).toEqual(expected);
    expect(
      parseGateThresholds(
        "rmse:\n  maxRelativeRegression: 0.02\nr2: { minAbsoluteChange: 0 }  # as good\n",
      ),
    ).toEqual(expected);
    expect(
      parseGateThresholds(
        "rmse:maxRelativeRegression=0.02   # 2 %\r\n\r\n# and\r\nr2:minAbsoluteChange=0\r\n",
      ),
    ).toEqual(expected);
    expect(parseGateThresholds("rmse:maxRelativeRegression=0.02")).toEqual([expected[0]]);
    expect(
      parseGateThresholds(
        "- metric: rmse\n  maxRelativeRegression: 0.02\n- r2:minAbsoluteChange=0",
      ),
    ).toEqual(expected);
  });

  it("names the line and the token of every problem, where the user wrote them", () => {
    const list = caught(() =>
      parseGateThresholds("- rmse:maxRelativeRegression=0.02\n- r2:minAbsolutChange=0", {
        source: "thresholds",
      }),
    ) as GateConfigError;
    expect(list).toBeInstanceOf(GateConfigError);
    expect(list.issues).toHaveLength(1);
    expect(list.issues[0]).toMatchObject({
      path: [1],
      token: "minAbsolutChange=0",
      location: { file: "thresholds", line: 2, column: 3 },
    });
    expect(list.message).toMatch(
      new RegExp(
        '^Invalid thresholds: thresholds:2:3: \\[1\\]: "minAbsolutChange=0": ' +
          'unknown rule "minAbsolutChange" \\(did you mean "minAbsoluteChange"\\?\\); expected one of threshold, ',
      ),
    );

    const lines = caught(() =>
      parseGateThresholds("rmse:maxRelativeRegression=2%\nr2:minAbsoluteChange=0\nmae:max=1", {
        source: "thresholds",
      }),
    ) as GateConfigError;
    expect(lines.issues.map((issue) => [issue.location?.line, issue.token])).toEqual([
      [1, "maxRelativeRegression=2%"],
      [3, "max=1"],
    ]);
    expect(lines.message).toContain(
      'thresholds:1: "maxRelativeRegression=2%": expected a number, got "2%" (write a fraction: ' +
        "0.02 for 2 %)",
    );

    const map = caught(() =>
      parseGateThresholds("rmse:\n  maxRelativeRegression: -1\n"),
    ) as GateConfigError;
    expect(map.issues[0]).toMatchObject({
      path: ["rmse", "maxRelativeRegression"],
      location: { line: 2, column: 3 },
    });
  });

  it("rejects empty text and YAML that is not rules", () => {
    expect(() => parseGateThresholds("  \n")).toThrow(/got nothing/);
    expect(() => parseGateThresholds("42")).toThrow(/expected a list of rules/);
    const broken = caught(() => parseGateThresholds("- [rmse")) as GateConfigError;
    expect(broken.issues[0].message).toMatch(/^not valid YAML/);
    expect(broken.issues[0].location?.line).toBe(1);
  });
});
