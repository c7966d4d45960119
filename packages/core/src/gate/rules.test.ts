import { describe, expect, it } from "vitest";
import { MlopsError } from "../errors/error.js";
import {
  formatGateIssue,
  GateConfigError,
  parseGateConfig,
  parseGateRules,
  parseThreshold,
  safeParseGateConfig,
  safeParseThreshold,
} from "./rules.js";

function thresholdError(text: string): GateConfigError {
  const result = safeParseThreshold(text);
  if (result.success) throw new Error(`expected ${text} to be rejected`);
  return result.error;
}

function configError(text: string, source?: string): GateConfigError {
  const result = safeParseGateConfig(text, { source });
  if (result.success) throw new Error("expected the config to be rejected");
  return result.error;
}

describe("parseThreshold", () => {
  it("parses the CLI shorthand, filling greaterIsBetter from the metric", () => {
    expect(parseThreshold("rmse:maxRelativeRegression=0.02")).toEqual({
      metric: "rmse",
      greaterIsBetter: false,
      maxRelativeRegression: 0.02,
    });
    expect(parseThreshold("r2:minAbsoluteChange=0,threshold=0.1")).toEqual({
      metric: "r2",
      greaterIsBetter: true,
      threshold: 0.1,
      minAbsoluteChange: 0,
    });
  });

  it("accepts every rule key, spaces around tokens, and an explicit greaterIsBetter", () => {
    expect(
      parseThreshold(
        " accuracy : threshold=0.8, minRelativeChange=0.05, maxAbsoluteRegression=1e-3, " +
          "greaterIsBetter=true ",
      ),
    ).toEqual({
      metric: "accuracy",
      greaterIsBetter: true,
      threshold: 0.8,
      minRelativeChange: 0.05,
      maxAbsoluteRegression: 0.001,
    });
    expect(parseThreshold("rmse:threshold=-.5,greaterIsBetter=false")).toEqual({
      metric: "rmse",
      greaterIsBetter: false,
      threshold: -0.5,
    });
  });

  it("turns significance on with defaults, a confidence, or dotted settings", () => {
    const defaults = { confidence: 0.95, resamples: 1000, seed: 0 };
    expect(parseThreshold("rmse:significance").significance).toEqual(defaults);
    expect(parseThreshold("rmse:significance=true").significance).toEqual(defaults);
    expect(parseThreshold("rmse:threshold=1,significance=false").significance).toBeUndefined();
    expect(parseThreshold("rmse:significance=0.99").significance).toEqual({
      ...defaults,
      confidence: 0.99,
    });
    expect(
      parseThreshold("mae:significance.resamples=2000,significance.seed=7").significance,
    ).toEqual({ confidence: 0.95, resamples: 2000, seed: 7 });
  });

  it("names the bad token and what was expected", () => {
    const cases: [string, string][] = [
      [
        "rmse",
        'Invalid threshold "rmse": expected "metric:rule=value[,rule=value…]", e.g. ' +
          '"rmse:maxRelativeRegression=0.02", got "rmse" (no ":" after the metric)',
      ],
      [
        "rmse:maxRelativeRegression=abc",
        'Invalid threshold "rmse:maxRelativeRegression=abc": "maxRelativeRegression=abc": ' +
          'expected a number, got "abc"',
      ],
      [
        "rmse:maxRelativeRegression=2%",
        'Invalid threshold "rmse:maxRelativeRegression=2%": "maxRelativeRegression=2%": ' +
          'expected a number, got "2%" (write a fraction: 0.02 for 2 %)',
      ],
      [
        "rmse:maxRelativeRegression=-0.1",
        'Invalid threshold "rmse:maxRelativeRegression=-0.1": "maxRelativeRegression=-0.1": ' +
          "expected a fraction >= 0 (0.02 means 2 %), got -0.1",
      ],
      [
        "rmse:minRelativeChange=1.5",
        'Invalid threshold "rmse:minRelativeChange=1.5": "minRelativeChange=1.5": ' +
          "expected a fraction between 0 and 1 (0.05 means 5 %), got 1.5",
      ],
      [
        "rmse:threshold=1,threshold=2",
        'Invalid threshold "rmse:threshold=1,threshold=2": "threshold=2": rule "threshold" is ' +
          'given twice (first as "threshold=1")',
      ],
      [
        "rmse:greaterIsBetter=yes,threshold=1",
        'Invalid threshold "rmse:greaterIsBetter=yes,threshold=1": "greaterIsBetter=yes": ' +
          "expected greaterIsBetter=true or greaterIsBetter=false",
      ],
      [
        "rmse:significance=1",
        'Invalid threshold "rmse:significance=1": "significance=1": expected a number between ' +
          "0 and 1, exclusive (0.95 means 95 %), got 1",
      ],
      [
        "rmse:significance=0.9,significance.confidence=0.8",
        'Invalid threshold "rmse:significance=0.9,significance.confidence=0.8": ' +
          '"significance.confidence=0.8": the significance confidence is given twice',
      ],
      [
        "rmse:significance=false,significance.seed=1",
        'Invalid threshold "rmse:significance=false,significance.seed=1": "significance=false": ' +
          "significance=false cannot take settings; drop the significance.* rules or the false",
      ],
      [
        "rmse:",
        'Invalid threshold "rmse:": expected at least one rule after "rmse:", e.g. ' +
          '"rmse:maxRelativeRegression=0.02"',
      ],
      [
        ":threshold=1",
        'Invalid threshold ":threshold=1": expected a metric name before ":" ' +
          '("metric:rule=value[,rule=value…]", e.g. "rmse:maxRelativeRegression=0.02"), got ""',
      ],
    ];
    for (const [text, message] of cases) {
      const error = thresholdError(text);
      expect(error.message, text).toBe(message);
      expect(error.code).toBe("gate_config_invalid");
    }
  });

  it("suggests the right name for an MLflow-style or misspelled key", () => {
    const error = thresholdError("rmse:max_relative_regression=0.02");
    expect(error.issues).toEqual([
      {
        path: [],
        token: "max_relative_regression=0.02",
        message: expect.stringMatching(
          /^unknown rule "max_relative_regression" \(did you mean "maxRelativeRegression"\?\); /,
        ),
      },
    ]);
    expect(thresholdError("rmse:maxRelRegression=0.02").message).not.toContain("did you mean");
  });

  it("requires greaterIsBetter for a metric that is not built in", () => {
    const error = thresholdError("accuracy:threshold=0.8");
    expect(error.issues).toHaveLength(1);
    expect(formatGateIssue(error.issues[0])).toMatch(
      /^greaterIsBetter: required for "accuracy", which is not a built-in metric \(mse, rmse, /,
    );
  });

  it("reports every bad token at once, and rejects a metric with no rule", () => {
    const error = thresholdError("rmse:threshold=x,bogus=1");
    expect(error.issues.map((issue) => issue.token)).toEqual(["threshold=x", "bogus=1"]);
    expect(error.message).toMatch(
      /^Invalid threshold "rmse:threshold=x,bogus=1" \(2 problems\):\n {2}- "threshold=x": /,
    );
    expect(thresholdError("rmse:greaterIsBetter=false").message).toBe(
      'Invalid threshold "rmse:greaterIsBetter=false": no rule for "rmse": expected at least ' +
        "one of threshold, minAbsoluteChange, minRelativeChange, maxAbsoluteRegression, " +
        "maxRelativeRegression, significance",
    );
  });

  it("throws a GateConfigError that is an MlopsError and serialises its issues", () => {
    expect(() => parseThreshold("rmse:threshold=x")).toThrow(GateConfigError);
    try {
      parseThreshold("rmse:threshold=x");
    } catch (error) {
      expect(MlopsError.isInstance(error)).toBe(true);
      expect(JSON.parse(JSON.stringify(error))).toEqual({
        code: "gate_config_invalid",
        message: 'Invalid threshold "rmse:threshold=x": "threshold=x": expected a number, got "x"',
        issues: [{ path: [], token: "threshold=x", message: 'expected a number, got "x"' }],
      });
    }
  });
});

describe("parseGateConfig", () => {
  it("reads the list form from YAML", () => {
    const yaml = [
      "requireBaseline: true",
      "thresholds:",
      "  - metric: rmse",
      "    maxRelativeRegression: 0.02",
      "    significance: { confidence: 0.9 }",
      "  - r2:minAbsoluteChange=0",
      "",
    ].join("\n");
    expect(parseGateConfig(yaml, { source: "gate.yaml" })).toEqual({
      requireBaseline: true,
      rules: [
        {
          metric: "rmse",
          greaterIsBetter: false,
          maxRelativeRegression: 0.02,
          significance: { confidence: 0.9, resamples: 1000, seed: 0 },
        },
        { metric: "r2", greaterIsBetter: true, minAbsoluteChange: 0 },
      ],
    });
  });

  it("reads the map form, and JSON", () => {
    const expected = {
      requireBaseline: false,
      rules: [
        { metric: "rmse", greaterIsBetter: false, maxRelativeRegression: 0.02 },
        { metric: "accuracy", greaterIsBetter: true, threshold: 0.8 },
      ],
    };
    const yaml = [
      "thresholds:",
      "  rmse:",
      "    maxRelativeRegression: 0.02",
      "  accuracy: { threshold: 0.8, greaterIsBetter: true }",
    ].join("\n");
    expect(parseGateConfig(yaml)).toEqual(expected);
    const json = JSON.stringify({
      thresholds: {
        rmse: { maxRelativeRegression: 0.02 },
        accuracy: { threshold: 0.8, greaterIsBetter: true },
      },
    });
    expect(parseGateConfig(json)).toEqual(expected);
  });

  it("names the file, line, column and path of every problem, in file order", () => {
    const yaml = [
      "requireBaseline: yes", // 1
      "thresholds:", // 2
      "  - metric: rmse", // 3
      "    maxRelativeRegression: -0.1", // 4
      "  - metric: accuracy", // 5
      "    threshold: 0.8", // 6
      "  - r2:minAbsoluteChange=x", // 7
      "  - metric: mae", // 8
      "    maxRelRegression: 0.1", // 9
      "extra: 1", // 10
    ].join("\n");
    const error = configError(yaml, "gate.yaml");
    expect(error.issues.map(formatGateIssue)).toEqual([
      'gate.yaml:1:1: requireBaseline: expected true or false, got "yes"',
      "gate.yaml:4:5: thresholds[0].maxRelativeRegression: expected a fraction >= 0 (0.02 " +
        "means 2 %), got -0.1",
      'gate.yaml:5:5: thresholds[1].greaterIsBetter: required for "accuracy", which is not a ' +
        "built-in metric (mse, rmse, mae, r2, mape, median_absolute_error, max_error, " +
        "explained_variance) nor one qualified by a dataset (holdout_rmse, rmse_on_data_holdout): " +
        "say whether greater is better (true or false)",
      'gate.yaml:7:5: thresholds[2]: "minAbsoluteChange=x": expected a number, got "x"',
      'gate.yaml:9:5: thresholds[3].maxRelRegression: unknown rule "maxRelRegression"; ' +
        "expected one of metric, threshold, minAbsoluteChange, minRelativeChange, " +
        "greaterIsBetter, maxAbsoluteRegression, maxRelativeRegression, significance",
      'gate.yaml:10:1: extra: unknown setting "extra"; expected one of thresholds, ' +
        "requireBaseline",
    ]);
    expect(error.issues[1].path).toEqual(["thresholds", 0, "maxRelativeRegression"]);
    expect(error.issues[1].location).toEqual({ file: "gate.yaml", line: 4, column: 5 });
    expect(error.message.split("\n").slice(0, 2)).toEqual([
      "Invalid gate config (6 problems):",
      '  - gate.yaml:1:1: requireBaseline: expected true or false, got "yes"',
    ]);
    expect(error.location).toEqual({ file: "gate.yaml", line: 1, column: 1 });
  });

  it("points into the map form and into significance settings", () => {
    const yaml = [
      "thresholds:",
      "  rmse:",
      "    significance:",
      "      confidence: 95",
      "      rounds: 10",
    ].join("\n");
    expect(configError(yaml, "gate.yaml").issues.map(formatGateIssue)).toEqual([
      "gate.yaml:4:7: thresholds.rmse.significance.confidence: expected a number between 0 " +
        "and 1, exclusive (0.95 means 95 %), got 95",
      "gate.yaml:5:7: thresholds.rmse.significance.rounds: " +
        'unknown significance setting "rounds"; expected one of confidence, resamples, seed',
    ]);
  });

  it("rejects a missing, empty or mistyped thresholds and a metric key in the map form", () => {
    expect(configError("requireBaseline: true").message).toBe(
      "Invalid gate config: <input>:1:1: thresholds: missing: expected a list of rules or a map " +
        "from metric to rules",
    );
    expect(configError("thresholds: []").issues[0].message).toBe(
      "expected at least one rule, got an empty list",
    );
    expect(configError("thresholds: 3").issues[0].message).toMatch(
      /^expected a list of rules \(.*\) or a map from metric to rules \(.*\), got 3$/,
    );
    expect(configError("thresholds: [3]").issues[0].message).toBe(
      'expected a rule such as { metric: "rmse", maxRelativeRegression: 0.02 }, got 3',
    );
    expect(
      formatGateIssue(configError("thresholds: { rmse: { metric: mae, threshold: 1 } }").issues[0]),
    ).toBe(
      '<input>:1:23: thresholds.rmse.metric: not allowed in the map form: the key "rmse" names ' +
        "the metric",
    );
  });

  it("reports YAML syntax errors and empty documents", () => {
    const syntax = configError("thresholds: [a: b: c]", "gate.yaml");
    expect(syntax.issues).toHaveLength(1);
    expect(syntax.issues[0].location).toEqual({ file: "gate.yaml", line: 1, column: 17 });
    expect(syntax.message).toMatch(/^Invalid gate config: gate\.yaml:1:17: not valid YAML: /);
    expect(configError("", "gate.yaml").message).toBe(
      "Invalid gate config: gate.yaml: expected a gate config such as { thresholds: [...], " +
        "requireBaseline: true }, got an empty document",
    );
    expect(configError("thresholds:\n  rmse: {a: 1}\n  rmse: {b: 2}\n").issues[0].message).toMatch(
      /^not valid YAML: Map keys must be unique/,
    );
  });
});

describe("parseGateRules", () => {
  it("takes rule objects, shorthand strings and the map form", () => {
    expect(
      parseGateRules(["rmse:maxRelativeRegression=0.02", { metric: "r2", threshold: 0.3 }]),
    ).toEqual([
      { metric: "rmse", greaterIsBetter: false, maxRelativeRegression: 0.02 },
      { metric: "r2", greaterIsBetter: true, threshold: 0.3 },
    ]);
    expect(parseGateRules({ mae: { maxAbsoluteRegression: 0.1, significance: true } })).toEqual([
      {
        metric: "mae",
        greaterIsBetter: false,
        maxAbsoluteRegression: 0.1,
        significance: { confidence: 0.95, resamples: 1000, seed: 0 },
      },
    ]);
  });

  it("accepts metric aliases and keeps the name as written", () => {
    expect(parseGateRules([{ metric: "root_mean_squared_error", threshold: 1 }])).toEqual([
      { metric: "root_mean_squared_error", greaterIsBetter: false, threshold: 1 },
    ]);
  });

  it("lets an explicit greaterIsBetter override the metric's direction", () => {
    expect(parseGateRules([{ metric: "rmse", threshold: 1, greaterIsBetter: true }])).toEqual([
      { metric: "rmse", greaterIsBetter: true, threshold: 1 },
    ]);
  });

  it("lists every problem with its path", () => {
    expect(() =>
      parseGateRules([
        { metric: "rmse", threshold: "1" },
        { metric: "", threshold: 1 },
        { metric: "mae", minAbsoluteChange: Number.NaN, significance: { resamples: 0.5 } },
      ]),
    ).toThrow(
      [
        "Invalid gate rules (4 problems):",
        '  - [0].threshold: expected a finite number, got "1"',
        '  - [1].metric: expected a metric name such as "rmse", got ""',
        "  - [2].minAbsoluteChange: expected a finite number >= 0, got NaN",
        "  - [2].significance.resamples: expected a whole number >= 1, got 0.5",
      ].join("\n"),
    );
  });
});
