import { MlopsError } from "../errors/error.js";
import { formatNumber } from "../format/numbers.js";
import type { CategoryProfile, NumericProfile } from "../profile/types.js";
import {
  coarseBins,
  referenceCoarseCounts,
  sketchCoarseCounts,
  sortedCoarseCounts,
} from "./bins.js";
import { cdfFromBins, cdfFromProfile, cdfFromSorted, compareCdfs } from "./cdf.js";
import {
  chiSquareContingency,
  jensenShannonDistance,
  populationStabilityIndex,
} from "./divergence.js";
import { ksTwoSamplePValue } from "./kolmogorov.js";
import { ksStatisticSorted, wassersteinSorted } from "./samples.js";
import type {
  DriftHistogram,
  DriftMethod,
  DriftOptions,
  DriftSideSummary,
  FeatureDrift,
  ResolvedDriftOptions,
} from "./types.js";

/** The reference side of a numeric column: its profile, and its sorted values when known. */
export interface NumericReference {
  profile: NumericProfile;
  /** The finite values, sorted: KS and Wasserstein are then exact. */
  sorted?: Float64Array;
}

/** Current numeric values, sorted and finite, with the number missing. */
export interface SortedNumbers {
  kind: "sorted";
  sorted: Float64Array;
  missing: number;
}

/**
 * Current numeric values counted on the reference profile's bins (`profileBin`): `counts` has
 * `2 × edges.length + 1` entries. `sum` and `sumSquares` are of `value − shift` (pick `shift`
 * near the mean, e.g. the reference mean, so the variance keeps its digits).
 */
export interface BinnedNumbers {
  kind: "bins";
  counts: ArrayLike<number>;
  missing: number;
  min: number;
  max: number;
  sum: number;
  sumSquares: number;
  shift: number;
}

/** Current category (or boolean: `"false"` / `"true"`) frequencies, with the number missing. */
export interface CategoryCounts {
  kind: "values";
  values: Record<string, number>;
  missing: number;
}

/** A current numeric column, raw or binned. */
export type NumericCurrent = SortedNumbers | BinnedNumbers;

const DEFAULTS: Omit<ResolvedDriftOptions, "columns"> = {
  minSampleSize: 30,
  testMaxSampleSize: 1000,
  numericMethod: "auto",
  categoryMethod: "auto",
  pValue: 0.05,
  wasserstein: 0.1,
  jensenShannon: 0.1,
  psi: 0.1,
  bins: 10,
  datasetShare: 0.5,
};

const NUMERIC_METHODS = new Set(["auto", "ks", "wasserstein", "psi", "jensen_shannon"]);
const CATEGORY_METHODS = new Set(["auto", "chi_square", "psi", "jensen_shannon"]);

function invalid(message: string): never {
  throw new MlopsError("argument_invalid", `drift options: ${message}`);
}

function checkNumber(
  name: string,
  value: unknown,
  fallback: number,
  check: (n: number) => boolean,
  expected: string,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !check(value)) {
    invalid(`${name}: expected ${expected}, got ${JSON.stringify(value) ?? String(value)}`);
  }
  return value;
}

const probability = (n: number) => n > 0 && n < 1;
const positive = (n: number) => Number.isFinite(n) && n > 0;
const share = (n: number) => n > 0 && n <= 1;
const count = (n: number) => Number.isInteger(n) && n >= 1;

/**
 * Fills the defaults of `options` and checks every value (throws `argument_invalid` naming
 * the option and what it expects).
 *
 * @example
 * resolveDriftOptions({ pValue: 0.01 }).wasserstein; // 0.1
 */
export function resolveDriftOptions(options: DriftOptions = {}): ResolvedDriftOptions {
  if (typeof options !== "object" || options === null) invalid("expected an object");
  const numericMethod = options.numericMethod ?? DEFAULTS.numericMethod;
  if (!NUMERIC_METHODS.has(numericMethod)) {
    invalid(
      `numericMethod: expected one of ${[...NUMERIC_METHODS].join(", ")}, got "${numericMethod}"`,
    );
  }
  const categoryMethod = options.categoryMethod ?? DEFAULTS.categoryMethod;
  if (!CATEGORY_METHODS.has(categoryMethod)) {
    invalid(
      `categoryMethod: expected one of ${[...CATEGORY_METHODS].join(", ")}, got "${categoryMethod}"`,
    );
  }
  const columns = options.columns ?? {};
  for (const [name, column] of Object.entries(columns)) {
    if (
      column.method !== undefined &&
      !NUMERIC_METHODS.has(column.method) &&
      !CATEGORY_METHODS.has(column.method)
    ) {
      invalid(`columns.${name}.method: unknown method "${column.method}"`);
    }
    if (
      column.threshold !== undefined &&
      !(
        typeof column.threshold === "number" &&
        Number.isFinite(column.threshold) &&
        column.threshold >= 0
      )
    ) {
      invalid(
        `columns.${name}.threshold: expected a finite number ≥ 0, got ${String(column.threshold)}`,
      );
    }
  }
  return {
    minSampleSize: checkNumber(
      "minSampleSize",
      options.minSampleSize,
      DEFAULTS.minSampleSize,
      count,
      "an integer ≥ 1",
    ),
    testMaxSampleSize: checkNumber(
      "testMaxSampleSize",
      options.testMaxSampleSize,
      DEFAULTS.testMaxSampleSize,
      positive,
      "a number > 0",
    ),
    numericMethod,
    categoryMethod,
    pValue: checkNumber(
      "pValue",
      options.pValue,
      DEFAULTS.pValue,
      probability,
      "a probability in (0, 1)",
    ),
    wasserstein: checkNumber(
      "wasserstein",
      options.wasserstein,
      DEFAULTS.wasserstein,
      positive,
      "a number > 0",
    ),
    jensenShannon: checkNumber(
      "jensenShannon",
      options.jensenShannon,
      DEFAULTS.jensenShannon,
      positive,
      "a number > 0",
    ),
    psi: checkNumber("psi", options.psi, DEFAULTS.psi, positive, "a number > 0"),
    bins: checkNumber(
      "bins",
      options.bins,
      DEFAULTS.bins,
      (n) => count(n) && n >= 2 && n <= 1000,
      "an integer from 2 to 1000",
    ),
    datasetShare: checkNumber(
      "datasetShare",
      options.datasetShare,
      DEFAULTS.datasetShare,
      share,
      "a share in (0, 1]",
    ),
    columns,
  };
}

function finiteOrNull(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}

type Statistics = Pick<
  FeatureDrift,
  | "ks"
  | "ksPValue"
  | "wasserstein"
  | "wassersteinNormed"
  | "psi"
  | "jensenShannon"
  | "chiSquare"
  | "chiSquarePValue"
>;

const NO_STATISTICS: Statistics = {
  ks: null,
  ksPValue: null,
  wasserstein: null,
  wassersteinNormed: null,
  psi: null,
  jensenShannon: null,
  chiSquare: null,
  chiSquarePValue: null,
};

/** Decides the method, threshold and verdict of one column from its statistics. */
function decide(
  name: string,
  kind: FeatureDrift["kind"],
  statistics: Statistics,
  referenceSummary: DriftSideSummary,
  currentSummary: DriftSideSummary,
  options: ResolvedDriftOptions,
  histogram: DriftHistogram | null = null,
): FeatureDrift {
  const numeric = kind === "number" || kind === "integer";
  const column = options.columns[name];
  let method = column?.method ?? (numeric ? options.numericMethod : options.categoryMethod);
  if (numeric && !NUMERIC_METHODS.has(method)) {
    invalid(
      `columns.${name}.method: "${method}" does not apply to a numeric column (use ks, wasserstein, psi or jensen_shannon)`,
    );
  }
  if (!numeric && !CATEGORY_METHODS.has(method)) {
    invalid(
      `columns.${name}.method: "${method}" does not apply to a ${kind} column (use chi_square, psi or jensen_shannon)`,
    );
  }
  const n = referenceSummary.count;
  const m = currentSummary.count;
  if (method === "auto") {
    const effective = n + m === 0 ? 0 : (n * m) / (n + m);
    if (effective <= options.testMaxSampleSize) method = numeric ? "ks" : "chi_square";
    else if (numeric)
      method = statistics.wassersteinNormed === null && n > 0 ? "jensen_shannon" : "wasserstein";
    else method = "jensen_shannon";
  }
  const decided = method as DriftMethod;
  const test = decided === "ks" || decided === "chi_square";
  const threshold =
    column?.threshold ??
    (test
      ? options.pValue
      : decided === "wasserstein"
        ? options.wasserstein
        : decided === "psi"
          ? options.psi
          : options.jensenShannon);
  const statistic =
    decided === "ks"
      ? statistics.ks
      : decided === "chi_square"
        ? statistics.chiSquare
        : decided === "wasserstein"
          ? statistics.wassersteinNormed
          : decided === "psi"
            ? statistics.psi
            : statistics.jensenShannon;
  const pValue =
    decided === "ks"
      ? statistics.ksPValue
      : decided === "chi_square"
        ? statistics.chiSquarePValue
        : null;
  const enough = n >= options.minSampleSize && m >= options.minSampleSize;
  const measured = test ? pValue !== null : statistic !== null;
  let drifted = false;
  if (enough && measured)
    drifted = test ? (pValue as number) < threshold : (statistic as number) >= threshold;
  return {
    kind,
    method: decided,
    statistic,
    pValue,
    threshold,
    ...statistics,
    drifted,
    verdict: enough && measured ? (drifted ? "drift" : "no_drift") : "insufficient_data",
    reference: referenceSummary,
    current: currentSummary,
    histogram,
  };
}

/** The labels and bounds of the coarse bins (below the minimum, each group, above the maximum). */
function coarseHistogram(
  edges: readonly number[],
  closing: readonly number[],
  reference: number[],
  current: number[],
): DriftHistogram {
  const bounds: [number | null, number | null][] = [[null, edges[0]]];
  const bins = [`< ${formatNumber(edges[0])}`];
  closing.forEach((edge, group) => {
    const lower = group === 0 ? edges[0] : edges[closing[group - 1]];
    const upper = edges[edge];
    bounds.push([lower, upper]);
    bins.push(`${group === 0 ? "[" : "("}${formatNumber(lower)}, ${formatNumber(upper)}]`);
  });
  bounds.push([edges[edges.length - 1], null]);
  bins.push(`> ${formatNumber(edges[edges.length - 1])}`);
  return { bins, bounds, reference, current };
}

function numericCurrentSummary(current: NumericCurrent): DriftSideSummary {
  if (current.kind === "sorted") {
    const values = current.sorted;
    const n = values.length;
    const total = n + current.missing;
    if (n === 0) return { count: 0, missingRate: total === 0 ? 0 : 1, mean: null, std: null };
    let sum = 0;
    for (let i = 0; i < n; i++) sum += values[i];
    const mean = sum / n;
    let squares = 0;
    for (let i = 0; i < n; i++) squares += (values[i] - mean) ** 2;
    return {
      count: n,
      missingRate: current.missing / total,
      mean,
      std: n > 1 ? Math.sqrt(squares / (n - 1)) : null,
    };
  }
  let n = 0;
  for (let i = 0; i < current.counts.length; i++) n += current.counts[i];
  const total = n + current.missing;
  if (n === 0) return { count: 0, missingRate: total === 0 ? 0 : 1, mean: null, std: null };
  const variance = (current.sumSquares - (current.sum * current.sum) / n) / (n - 1);
  return {
    count: n,
    missingRate: current.missing / total,
    mean: current.shift + current.sum / n,
    std: n > 1 ? Math.sqrt(Math.max(variance, 0)) : null,
  };
}

function numericReferenceSummary(profile: NumericProfile): DriftSideSummary {
  return {
    count: profile.count,
    missingRate: profile.missingRate,
    mean: profile.mean,
    std: profile.std,
  };
}

/**
 * The drift of one numeric column: KS (statistic and p-value), Wasserstein (raw and /σ of the
 * reference), PSI and Jensen–Shannon on the reference's coarse bins, and the verdict of the
 * method the options choose.
 *
 * @example
 * const drift = compareNumeric("rooms", { profile, sorted }, { kind: "sorted", sorted: now, missing: 0 });
 * drift.verdict; // "no_drift"
 */
export function compareNumeric(
  name: string,
  reference: NumericReference,
  current: NumericCurrent,
  options: DriftOptions = {},
): FeatureDrift {
  return numericDrift(name, reference, current, resolveDriftOptions(options));
}

/** `compareNumeric` with resolved options. */
export function numericDrift(
  name: string,
  reference: NumericReference,
  current: NumericCurrent,
  resolved: ResolvedDriftOptions,
): FeatureDrift {
  const profile = reference.profile;
  const referenceSummary = numericReferenceSummary(profile);
  const currentSummary = numericCurrentSummary(current);
  if (profile.count === 0 || currentSummary.count === 0) {
    return decide(name, profile.kind, NO_STATISTICS, referenceSummary, currentSummary, resolved);
  }
  let ks: number;
  let wasserstein: number;
  if (reference.sorted !== undefined && current.kind === "sorted") {
    ks = ksStatisticSorted(reference.sorted, current.sorted);
    wasserstein = wassersteinSorted(reference.sorted, current.sorted);
  } else {
    const referenceCdf =
      reference.sorted !== undefined ? cdfFromSorted(reference.sorted) : cdfFromProfile(profile);
    const currentCdf =
      current.kind === "sorted"
        ? cdfFromSorted(current.sorted)
        : cdfFromBins(profile.edges, current.counts, current.min, current.max);
    ({ ks, wasserstein } = compareCdfs(referenceCdf, currentCdf));
  }
  const test = ksTwoSamplePValue(ks, profile.count, currentSummary.count);
  const closing = coarseBins(profile, resolved.bins);
  const referenceCounts = referenceCoarseCounts(profile, closing);
  const currentCounts =
    current.kind === "sorted"
      ? sortedCoarseCounts(current.sorted, profile, closing)
      : sketchCoarseCounts(current.counts, closing);
  const std = profile.std;
  const statistics: Statistics = {
    ks: test.statistic,
    ksPValue: finiteOrNull(test.pValue),
    wasserstein,
    wassersteinNormed: std !== null && std > 0 ? wasserstein / std : null,
    psi: finiteOrNull(populationStabilityIndex(referenceCounts, currentCounts)),
    jensenShannon: finiteOrNull(jensenShannonDistance(referenceCounts, currentCounts)),
    chiSquare: null,
    chiSquarePValue: null,
  };
  return decide(
    name,
    profile.kind,
    statistics,
    referenceSummary,
    currentSummary,
    resolved,
    coarseHistogram(profile.edges, closing, referenceCounts, currentCounts),
  );
}

/**
 * The drift of one category or boolean column: chi-square on the 2 × k table, PSI and
 * Jensen–Shannon on the categories. Values the reference never saw count as categories of
 * their own (or as the reference's `other` when it summed its rare values).
 *
 * @example
 * compareCategory("color", profile, { kind: "values", values: { red: 40, white: 60 }, missing: 0 });
 */
export function compareCategory(
  name: string,
  reference: CategoryProfile,
  current: CategoryCounts,
  options: DriftOptions = {},
): FeatureDrift {
  return categoryDrift(name, reference, current, resolveDriftOptions(options));
}

/** `compareCategory` with resolved options. */
export function categoryDrift(
  name: string,
  reference: CategoryProfile,
  current: CategoryCounts,
  resolved: ResolvedDriftOptions,
): FeatureDrift {
  const keys = Object.keys(reference.values);
  const index = new Map(keys.map((key, i) => [key, i]));
  const referenceCounts = keys.map((key) => reference.values[key]);
  const currentCounts = new Array<number>(keys.length).fill(0);
  const otherIndex = reference.other > 0 ? keys.length : -1;
  if (otherIndex >= 0) {
    referenceCounts.push(reference.other);
    currentCounts.push(0);
  }
  let currentTotal = 0;
  for (const [value, frequency] of Object.entries(current.values)) {
    currentTotal += frequency;
    let at = index.get(value);
    if (at === undefined) {
      if (otherIndex >= 0) at = otherIndex;
      else {
        at = referenceCounts.length;
        index.set(value, at);
        referenceCounts.push(0);
        currentCounts.push(0);
      }
    }
    currentCounts[at] += frequency;
  }
  const labels = [...keys];
  if (otherIndex >= 0) labels.push("(other)");
  for (const [value, at] of index) if (at >= labels.length) labels[at] = value;
  const referenceSummary: DriftSideSummary = {
    count: reference.count,
    missingRate: reference.missingRate,
    mean: null,
    std: null,
  };
  const total = currentTotal + current.missing;
  const currentSummary: DriftSideSummary = {
    count: currentTotal,
    missingRate: total === 0 ? 0 : current.missing / total,
    mean: null,
    std: null,
  };
  if (reference.count === 0 || currentTotal === 0) {
    return decide(name, reference.kind, NO_STATISTICS, referenceSummary, currentSummary, resolved);
  }
  const chi = chiSquareContingency(referenceCounts, currentCounts);
  const statistics: Statistics = {
    ...NO_STATISTICS,
    psi: finiteOrNull(populationStabilityIndex(referenceCounts, currentCounts)),
    jensenShannon: finiteOrNull(jensenShannonDistance(referenceCounts, currentCounts)),
    chiSquare: finiteOrNull(chi.statistic),
    chiSquarePValue: finiteOrNull(chi.pValue),
  };
  return decide(name, reference.kind, statistics, referenceSummary, currentSummary, resolved, {
    bins: labels,
    reference: referenceCounts,
    current: currentCounts,
  });
}
