import { formatNumber, formatPercent } from "../format/numbers.js";

/**
 * The checks a rule can hold, in the order they are evaluated and reported.
 *
 * @example
 * const kind: GateRuleKind = "maxRelativeRegression";
 */
export type GateRuleKind =
  | "threshold"
  | "minAbsoluteChange"
  | "minRelativeChange"
  | "maxAbsoluteRegression"
  | "maxRelativeRegression"
  | "significance";

/** What the gate knows about one kind of rule: everything is said here, once. */
interface RuleKindSpec {
  /** The candidate is compared with a baseline (a first model passes it with a note). */
  readonly comparison: boolean;
  /** The setting is a fraction of |baseline| (undefined at a baseline of 0). */
  readonly relative: boolean;
  /** What a valid setting is, for messages. */
  readonly expected: string;
  accepts(value: number): boolean;
  /** The requirement in words: `at most 2 % worse allowed`. */
  requirement(value: number, greaterIsBetter: boolean): string;
}

const asGood = "at least as good required";

const specs: Readonly<Record<GateRuleKind, RuleKindSpec>> = {
  threshold: {
    comparison: false,
    relative: false,
    expected: "a finite number",
    accepts: () => true,
    requirement: (value, greaterIsBetter) =>
      `threshold ${greaterIsBetter ? "≥" : "≤"} ${formatNumber(value)}`,
  },
  minAbsoluteChange: {
    comparison: true,
    relative: false,
    expected: "a finite number >= 0",
    accepts: (value) => value >= 0,
    requirement: (value) =>
      value === 0 ? asGood : `at least ${formatNumber(value)} better required`,
  },
  minRelativeChange: {
    comparison: true,
    relative: true,
    expected: "a fraction between 0 and 1 (0.05 means 5 %)",
    accepts: (value) => value >= 0 && value <= 1,
    requirement: (value) =>
      value === 0 ? asGood : `at least ${formatPercent(value)} better required`,
  },
  maxAbsoluteRegression: {
    comparison: true,
    relative: false,
    expected: "a finite number >= 0",
    accepts: (value) => value >= 0,
    requirement: (value) =>
      value === 0 ? "no regression allowed" : `at most ${formatNumber(value)} worse allowed`,
  },
  maxRelativeRegression: {
    comparison: true,
    relative: true,
    expected: "a fraction >= 0 (0.02 means 2 %)",
    accepts: (value) => value >= 0,
    requirement: (value) =>
      value === 0 ? "no regression allowed" : `at most ${formatPercent(value)} worse allowed`,
  },
  significance: {
    comparison: true,
    relative: false,
    expected: "a number between 0 and 1, exclusive (0.95 means 95 %)",
    accepts: (value) => value > 0 && value < 1,
    requirement: (value) => `not worse with ${formatPercent(value)} confidence`,
  },
};

/**
 * Every rule kind, in evaluation order.
 *
 * @example
 * gateRuleKinds; // ["threshold", "minAbsoluteChange", ..., "significance"]
 */
export const gateRuleKinds: readonly GateRuleKind[] = Object.freeze(
  Object.keys(specs) as GateRuleKind[],
);

/** The description of one rule kind (internal to the gate). */
export function ruleKind(kind: GateRuleKind): RuleKindSpec {
  return specs[kind];
}

/**
 * A rule as the `--threshold` shorthand writes it: `maxRelativeRegression=0.02`, and for a
 * significance check its confidence, `significance=0.95`.
 */
export function ruleShorthand(kind: GateRuleKind, setting: number): string {
  return `${kind}=${setting}`;
}

/** The requirement of a check in words, as reasons, tables and the verdict summary say it. */
export function describeRequirement(
  kind: GateRuleKind,
  setting: number,
  greaterIsBetter: boolean,
): string {
  return specs[kind].requirement(setting, greaterIsBetter);
}
