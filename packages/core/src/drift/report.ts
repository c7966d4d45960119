import { MlopsError } from "../errors/error.js";
import { Frame } from "../frame/frame.js";
import { DEFAULT_PROFILE_BINS, profileSorted, sortedFinite } from "../profile/profile.js";
import {
  type CategoryProfile,
  type ColumnProfile,
  isNumericProfile,
  type NumericProfile,
  type TrainingProfile,
} from "../profile/types.js";
import { Schema, type SchemaJSON } from "../schema/schema.js";
import { binNumbers } from "./bins.js";
import {
  type CategoryCounts,
  categoryDrift,
  type NumericCurrent,
  type NumericReference,
  numericDrift,
  resolveDriftOptions,
} from "./compare.js";
import type { DriftOptions, DriftReport, FeatureDrift, ResolvedDriftOptions } from "./types.js";

/** Options of `driftReport`: the thresholds, plus what the data sides carry. */
export interface DriftReportOptions extends DriftOptions {
  /**
   * The schema of a reference frame (kinds, target, category values). Without it the frame's
   * column kinds are used and every column but `target` is a feature.
   */
  schema?: Schema | SchemaJSON;
  /** The target column of a reference frame when there is no schema. */
  target?: string;
  /** The model's predictions on the current rows (compared with the profile's predictions). */
  predictions?: ArrayLike<number>;
  /** The model's predictions on the reference rows, when the reference is a frame. */
  referencePredictions?: ArrayLike<number>;
  /** Compare only these features (default: every feature of the reference). */
  features?: readonly string[];
}

/** The current side counted in a streaming sketch (see `ProfileSketch.summary()`). */
export interface SketchSummary {
  /** Rows in the window. */
  rows: number;
  features: Record<string, NumericCurrent | CategoryCounts>;
  predictions?: NumericCurrent;
}

type ReferenceColumn =
  | { kind: "numeric"; reference: NumericReference }
  | { kind: "category"; profile: CategoryProfile };

function referenceFromProfile(profile: ColumnProfile): ReferenceColumn {
  return isNumericProfile(profile)
    ? { kind: "numeric", reference: { profile } }
    : { kind: "category", profile };
}

function missingColumn(side: string, names: string[], frame: Frame): MlopsError {
  return new MlopsError(
    "data_invalid",
    `drift: the ${side} data has no column ${names.map((name) => `"${name}"`).join(", ")}; ` +
      `it has: ${frame.names.join(", ") || "(no columns)"}`,
  );
}

/** A reference column from raw data: sorted values (exact KS / Wasserstein) and a profile. */
function referenceFromColumn(
  frame: Frame,
  name: string,
  kind: "number" | "integer" | "boolean" | "category",
  declared: readonly string[] | undefined,
): ReferenceColumn {
  const column = frame.column(name);
  if (kind === "category" || kind === "boolean") {
    const current = categoryCountsOf(frame, name, kind, "reference");
    const values: Record<string, number> = {};
    for (const value of declared ?? (kind === "boolean" ? ["false", "true"] : []))
      values[value] = 0;
    let count = 0;
    for (const [value, frequency] of Object.entries(current.values)) {
      values[value] = (values[value] ?? 0) + frequency;
      count += frequency;
    }
    const total = count + current.missing;
    return {
      kind: "category",
      profile: {
        kind,
        count,
        missing: current.missing,
        missingRate: total === 0 ? 0 : current.missing / total,
        values,
        other: 0,
      },
    };
  }
  if (column.kind === "category") {
    throw new MlopsError(
      "data_invalid",
      `drift: reference column "${name}" holds text, expected ${kind} numbers`,
    );
  }
  const sorted = sortedFinite(column.values);
  const profile = profileSorted(
    sorted,
    column.values.length - sorted.length,
    kind,
    DEFAULT_PROFILE_BINS,
  );
  return { kind: "numeric", reference: { profile, sorted } };
}

function categoryCountsOf(
  frame: Frame,
  name: string,
  kind: "boolean" | "category",
  side: string,
): CategoryCounts {
  const column = frame.column(name);
  if (column.kind === "category") {
    const frequencies = new Float64Array(column.dictionary.length);
    let missing = 0;
    for (const code of column.codes) {
      if (code < 0) missing++;
      else frequencies[code]++;
    }
    const values: Record<string, number> = {};
    column.dictionary.forEach((value, code) => {
      if (frequencies[code] > 0) values[value] = (values[value] ?? 0) + frequencies[code];
    });
    return { kind: "values", values, missing };
  }
  if (kind === "category") {
    throw new MlopsError(
      "data_invalid",
      `drift: ${side} column "${name}" holds numbers, expected category values`,
    );
  }
  let falses = 0;
  let trues = 0;
  let missing = 0;
  for (const value of column.values) {
    if (Number.isNaN(value)) missing++;
    else if (value === 0) falses++;
    else trues++;
  }
  const values: Record<string, number> = {};
  if (falses > 0) values.false = falses;
  if (trues > 0) values.true = trues;
  return { kind: "values", values, missing };
}

/**
 * A current numeric column: sorted (exact KS and Wasserstein) when the reference has its raw
 * values, else counted on the reference profile's bins in one pass (KS within the bins'
 * resolution, as the server's sketch; no sort).
 */
function numericCurrentOf(frame: Frame, name: string, reference: NumericReference): NumericCurrent {
  const column = frame.column(name);
  if (column.kind === "category") {
    throw new MlopsError(
      "data_invalid",
      `drift: current column "${name}" holds text, expected numbers (read it with the model's schema)`,
    );
  }
  return numericCurrentOfValues(column.values, reference);
}

function numericCurrentOfValues(
  values: ArrayLike<number>,
  reference: NumericReference,
  exact = reference.sorted !== undefined,
): NumericCurrent {
  if (!exact) {
    return binNumbers(reference.profile.edges, values, reference.profile.mean ?? 0);
  }
  const sorted = sortedFinite(values);
  return { kind: "sorted", sorted, missing: values.length - sorted.length };
}

function compareColumn(
  name: string,
  reference: ReferenceColumn,
  current: NumericCurrent | CategoryCounts,
  options: ResolvedDriftOptions,
): FeatureDrift {
  if (reference.kind === "numeric") {
    if (current.kind === "values") {
      throw new MlopsError(
        "data_invalid",
        `drift: column "${name}" is numeric in the reference but holds category values now`,
      );
    }
    return numericDrift(name, reference.reference, current, options);
  }
  if (current.kind !== "values") {
    throw new MlopsError(
      "data_invalid",
      `drift: column "${name}" is a ${reference.profile.kind} in the reference but holds numbers now`,
    );
  }
  return categoryDrift(name, reference.profile, current, options);
}

function assemble(
  features: Record<string, FeatureDrift>,
  predictions: FeatureDrift | null,
  target: FeatureDrift | null,
  targetName: string | null,
  reference: DriftReport["reference"],
  current: DriftReport["current"],
  options: ResolvedDriftOptions,
): DriftReport {
  const all = Object.values(features);
  const judged = all.filter((feature) => feature.verdict !== "insufficient_data");
  const drifted = judged.filter((feature) => feature.drifted).length;
  const share = judged.length === 0 ? 0 : drifted / judged.length;
  const datasetDrifted = judged.length > 0 && share >= options.datasetShare;
  return {
    dataset: {
      drifted: datasetDrifted,
      share,
      threshold: options.datasetShare,
      verdict: judged.length === 0 ? "insufficient_data" : datasetDrifted ? "drift" : "no_drift",
      features: all.length,
      judged: judged.length,
      driftedFeatures: drifted,
    },
    features,
    predictions,
    target,
    targetName,
    reference,
    current,
    options,
  };
}

function selectFeatures(available: string[], wanted: readonly string[] | undefined): string[] {
  if (wanted === undefined) return available;
  const unknown = wanted.filter((name) => !available.includes(name));
  if (unknown.length > 0) {
    throw new MlopsError(
      "argument_invalid",
      `drift: unknown feature ${unknown.map((name) => `"${name}"`).join(", ")}; the reference has: ${available.join(", ")}`,
    );
  }
  return [...wanted];
}

/**
 * Measures how far `current` data has moved from a reference — a model's training profile, or
 * raw reference data (then KS and Wasserstein are exact) — feature by feature, with the
 * method chosen by column kind and sample size (see `DriftOptions`), and says whether the data
 * set has drifted (share of drifted features ≥ `datasetShare`). The model's predictions are
 * compared when `options.predictions` is given and the profile has them; the target when both
 * sides have it.
 *
 * @example
 * const { artifact } = await registry.loadModel("models:/house@production");
 * const current = await readFrame("today.csv", { schema: Schema.fromJSON(artifact.manifest.schema) });
 * const report = driftReport(artifact.manifest.profile!, current);
 * report.dataset.drifted; // false
 * report.features.median_income.verdict; // "no_drift"
 */
export function driftReport(
  reference: TrainingProfile | Frame,
  current: Frame,
  options: DriftReportOptions = {},
): DriftReport {
  const resolved = resolveDriftOptions(options);
  if (!(current instanceof Frame)) {
    throw new MlopsError("argument_invalid", "driftReport: current must be a Frame");
  }
  const references = new Map<string, ReferenceColumn>();
  let referencePredictions: NumericProfile | undefined;
  let targetName: string | undefined;
  let targetReference: ReferenceColumn | undefined;
  let referenceRows: number;
  let source: "data" | "profile";
  if (reference instanceof Frame) {
    source = "data";
    referenceRows = reference.rowCount;
    const json = options.schema instanceof Schema ? options.schema.toJSON() : options.schema;
    targetName = json?.target ?? options.target;
    const kinds: [string, "number" | "integer" | "boolean" | "category", string[] | undefined][] =
      json !== undefined
        ? Object.entries(json.fields).map(([name, field]) => [name, field.kind, field.values])
        : reference.names.map((name) => [name, reference.column(name).kind, undefined]);
    const absent = kinds
      .filter(([name]) => name !== targetName && !reference.has(name))
      .map(([name]) => name);
    if (absent.length > 0) throw missingColumn("reference", absent, reference);
    const names = selectFeatures(
      kinds.filter(([name]) => name !== targetName).map(([name]) => name),
      options.features,
    );
    for (const [name, kind, declared] of kinds) {
      if (name === targetName) {
        if (reference.has(name))
          targetReference = referenceFromColumn(reference, name, kind, declared);
      } else if (names.includes(name)) {
        references.set(name, referenceFromColumn(reference, name, kind, declared));
      }
    }
    if (options.referencePredictions !== undefined) {
      const sorted = sortedFinite(options.referencePredictions);
      referencePredictions = profileSorted(
        sorted,
        options.referencePredictions.length - sorted.length,
        "number",
        DEFAULT_PROFILE_BINS,
      );
    }
  } else {
    source = "profile";
    referenceRows = reference.rowCount;
    const names = selectFeatures(Object.keys(reference.features), options.features);
    for (const name of names) references.set(name, referenceFromProfile(reference.features[name]));
    referencePredictions = reference.predictions;
    if (reference.target !== undefined) {
      const { name, ...profile } = reference.target;
      targetName = name;
      targetReference = referenceFromProfile(profile as ColumnProfile);
    }
  }
  const absent = [...references.keys()].filter((name) => !current.has(name));
  if (absent.length > 0) throw missingColumn("current", absent, current);
  const features: Record<string, FeatureDrift> = {};
  for (const [name, column] of references) {
    const currentColumn =
      column.kind === "numeric"
        ? numericCurrentOf(current, name, column.reference)
        : categoryCountsOf(current, name, column.profile.kind, "current");
    features[name] = compareColumn(name, column, currentColumn, resolved);
  }
  let predictions: FeatureDrift | null = null;
  if (options.predictions !== undefined && referencePredictions !== undefined) {
    const reference = { profile: referencePredictions };
    predictions = numericDrift(
      "predictions",
      reference,
      numericCurrentOfValues(options.predictions, reference, source === "data"),
      resolved,
    );
  }
  let target: FeatureDrift | null = null;
  if (targetName !== undefined && targetReference !== undefined && current.has(targetName)) {
    const currentTarget =
      targetReference.kind === "numeric"
        ? numericCurrentOf(current, targetName, targetReference.reference)
        : categoryCountsOf(current, targetName, targetReference.profile.kind, "current");
    target = compareColumn(targetName, targetReference, currentTarget, resolved);
  }
  return assemble(
    features,
    predictions,
    target,
    targetName ?? null,
    { source, rows: referenceRows },
    { source: "data", rows: current.rowCount },
    resolved,
  );
}

/**
 * The drift report of a streaming sketch's window against the training profile it counts on
 * (what `GET /v1/models/{name}/monitoring` answers): the same shape as `driftReport`, with the
 * statistics computed from the bins (KS within the bins' resolution).
 *
 * @example
 * const report = driftReportFromSketch(profile, sketch.summary());
 */
export function driftReportFromSketch(
  profile: TrainingProfile,
  summary: SketchSummary,
  options: DriftOptions = {},
): DriftReport {
  const resolved = resolveDriftOptions(options);
  const features: Record<string, FeatureDrift> = {};
  for (const [name, column] of Object.entries(profile.features)) {
    const current = summary.features[name];
    if (current === undefined) {
      throw new MlopsError(
        "argument_invalid",
        `driftReportFromSketch: the sketch has no feature "${name}"`,
      );
    }
    features[name] = compareColumn(name, referenceFromProfile(column), current, resolved);
  }
  const predictions =
    profile.predictions !== undefined && summary.predictions !== undefined
      ? numericDrift("predictions", { profile: profile.predictions }, summary.predictions, resolved)
      : null;
  return assemble(
    features,
    predictions,
    null,
    profile.target?.name ?? null,
    { source: "profile", rows: profile.rowCount },
    { source: "sketch", rows: summary.rows },
    resolved,
  );
}
