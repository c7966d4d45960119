import { isAbsolute, resolve } from "node:path";
import { MlopsError } from "../errors/error.js";
import { formatPercent } from "../format/numbers.js";
import type { Frame } from "../frame/frame.js";
import { rowHashes } from "../frame/hash.js";
import { readFrame } from "../io/index.js";
import { isNativeArtifact, predictFrame } from "../predict/frame.js";
import { currentActor } from "../registry/actor.js";
import { DATASET_CONTEXT_TAG, REPEATED_SHARE_TAG, ROW_HASHES_TAG } from "../registry/datasets.js";
import { validateAlias, validateName } from "../registry/names.js";
import type { LoadedModel, Registry } from "../registry/registry.js";
import { REPORT_EXPERIMENTS, recordReport } from "../registry/reports.js";
import type { ModelVersion } from "../registry/types.js";
import { formatModelUri, parseModelUri } from "../registry/uri.js";
import { Schema } from "../schema/schema.js";
import { evaluateGate } from "./evaluate.js";
import { type GateRunReport, gateRunReport } from "./report.js";
import { type GateRulesInput, parseGateRules } from "./rules.js";
import { formatGateSummary } from "./summary.js";
import type { GateResult } from "./types.js";

/** The candidate a gate checks unless told otherwise. */
const DEFAULT_CANDIDATE = "@staging";
/** The baseline a gate compares with unless told otherwise. */
const DEFAULT_BASELINE = "@production";

const REFERENCE_FORMS = "@ALIAS, a version (3 or /3), latest or a models:/ URI";

/**
 * The `models:/` URI of a gate's candidate or baseline, written the short way the `mlops gate`
 * command and the GitHub Action accept it: `@staging` (an alias of `model`), `3` or `/3` (a
 * version), `latest`, or a full `models:/` URI (which may name another model). Throws
 * `uri_invalid`, `registry_name_invalid` or `argument_invalid` saying what was expected.
 *
 * @example
 * gateModelUri("wine", "@staging"); // "models:/wine@staging"
 * gateModelUri("wine", "/3"); // "models:/wine/3"
 * gateModelUri("wine", "models:/wine-xgb@production"); // "models:/wine-xgb@production"
 */
export function gateModelUri(model: string, reference: string): string {
  if (typeof reference !== "string" || reference.trim() === "") {
    throw new MlopsError(
      "argument_invalid",
      `expected a model reference (${REFERENCE_FORMS}), got ${JSON.stringify(reference ?? null)}`,
    );
  }
  const text = reference.trim();
  if (text.startsWith("models:/")) return formatModelUri(parseModelUri(text));
  validateName("model name", model);
  let uri: string;
  if (text.startsWith("@")) uri = `models:/${model}${text}`;
  else if (/^\/?\d+$/.test(text) || /^\/?latest$/.test(text)) {
    uri = `models:/${model}/${text.replace(/^\//, "")}`;
  } else {
    throw new MlopsError(
      "argument_invalid",
      `${JSON.stringify(text)} is not a model reference: expected ${REFERENCE_FORMS}`,
    );
  }
  return formatModelUri(parseModelUri(uri));
}

// ---------------------------------------------------------------------------------------------
// Load, evaluate, promote.
// ---------------------------------------------------------------------------------------------

/**
 * What `runGate` compares and what it does on a pass.
 *
 * @example
 * const options: RunGateOptions = {
 *   model: "wine",
 *   data: "holdout.csv",
 *   rules: ["rmse:maxRelativeRegression=0.02"],
 *   promote: "production",
 * };
 */
export interface RunGateOptions {
  /** The registered model whose versions are compared. */
  model: string;
  /** The model that wants promotion: `@alias`, `3`, `/3`, `latest` or a URI. Default `@staging`. */
  candidate?: string;
  /** The model it must not regress from. Default `@production`; an unset alias = a first model. */
  baseline?: string;
  /**
   * Evaluation data: a file path (CSV, JSON Lines, Parquet, Arrow; read with `readFrame` and
   * validated with the candidate's schema) or a Frame. Without it, the evaluation dataset
   * registered with the candidate's run (the hold-out set of `mlops-train`) when there is one,
   * else the stored metrics are compared.
   */
  data?: string | Frame;
  /** The directory a relative `data` path is resolved against. Default `process.cwd()`. */
  cwd?: string;
  /** The target column of the data. Default: the candidate schema's target. */
  target?: string;
  /** The rules: rule objects, `--threshold` strings, or a map from metric to rules. */
  rules: GateRulesInput;
  /** Fail when there is no baseline to compare with. Default false. */
  requireBaseline?: boolean;
  /** On a pass, point this alias of the candidate's model at the candidate's version. */
  promote?: string;
  /** Put before the verdict in the alias-history reason (`"nightly retrain"`). */
  reason?: string;
  /** Who promotes, for the alias history. Default `currentActor()`: `GITHUB_ACTOR`, the OS user. */
  actor?: string;
  /**
   * Keep the gate's report with the candidate version (`recordReport`: a run of the `mlops-gate`
   * experiment holding `gateRunReport(run)` as `report.json`), passed or failed, promoted or not,
   * so that `mlops ui` shows it on the version's page. Default true; false compares without
   * writing anything but the promotion.
   */
  keepReport?: boolean;
  /**
   * More files kept with the report, made from it (`mlops gate --html` keeps its HTML file as
   * `report.html`). Called once, only when the report is kept.
   */
  reportFiles?: (report: GateRunReport) => Record<string, string | Uint8Array>;
}

/**
 * Where a gate's report was kept: the tracking run that holds it.
 *
 * @example
 * // { runId: "3f2c…", experiment: "mlops-gate", title: "gate wine v3 vs v2: pass, @production → v3" }
 */
export interface KeptGateReport {
  runId: string;
  experiment: string;
  title: string;
}

/**
 * An alias moved (or confirmed) by a passing gate.
 *
 * @example
 * // { name: "wine", alias: "production", from: 2, to: 3, moved: true, actor: "octocat",
 * //   reason: "gate passed: rmse 0.7257 vs 0.7486 (-3.05 %, at most 2 % worse allowed)" }
 */
export interface GatePromotion {
  name: string;
  alias: string;
  /** The version the alias pointed at before; null when the alias is new. */
  from: number | null;
  to: number;
  /** False when the alias already pointed at the candidate (nothing was written). */
  moved: boolean;
  actor: string;
  /** The alias-history reason: `options.reason`, then the verdict summary. */
  reason: string;
}

/**
 * What `runGate` did: the gate's result, the versions compared and the promotion.
 *
 * @example
 * const run = await runGate(registry, options);
 * if (!run.result.passed) process.exitCode = 1;
 * run.promoted?.to; // 3
 */
export interface RunGateResult {
  result: GateResult;
  /** The candidate's URI as given (`models:/wine@staging`) and the version it resolved to. */
  candidateUri: string;
  candidate: ModelVersion;
  baselineUri: string;
  /** Null when the baseline alias is not set (a first model). */
  baseline: ModelVersion | null;
  /** The alias a pass was to move, null when none was asked for. */
  promote: string | null;
  /** The move, or null when none was asked for or the gate failed. */
  promoted: GatePromotion | null;
  /** `formatGateSummary(result)`. */
  summary: string;
  /** The evaluation data both models were scored on. */
  evaluationData: GateEvaluationData;
  /**
   * What the verdict should be read with: evaluation rows that were part of the candidate's (or
   * the baseline's) training data.
   */
  warnings: string[];
  /** The run that keeps the report with the candidate version; null with `keepReport: false`. */
  kept: KeptGateReport | null;
}

function withRole(role: string, uri: string, error: unknown): unknown {
  if (!MlopsError.isInstance(error)) return error;
  return new MlopsError(error.code, `${role} ${uri}: ${error.message}`, {
    cause: error,
    location: error.location,
  });
}

async function loadRole(registry: Registry, role: string, uri: string): Promise<LoadedModel> {
  try {
    return await registry.loadModel(uri);
  } catch (error) {
    throw withRole(role, uri, error);
  }
}

/** The baseline, or null when its alias is not set yet: the candidate is a first model. */
async function loadBaseline(registry: Registry, uri: string): Promise<LoadedModel | null> {
  const parsed = parseModelUri(uri);
  if (parsed.kind === "alias") {
    let aliases: Record<string, number>;
    try {
      aliases = await registry.store.listAliases(parsed.name);
    } catch (error) {
      throw withRole("baseline", uri, error);
    }
    if (!Object.hasOwn(aliases, parsed.alias)) return null;
  }
  return loadRole(registry, "baseline", uri);
}

async function readData(path: string, cwd: string, candidate: LoadedModel): Promise<Frame> {
  const file = isAbsolute(path) ? path : resolve(cwd, path);
  try {
    return await readFrame(file, { schema: Schema.fromJSON(candidate.artifact.manifest.schema) });
  } catch (error) {
    // An unreadable data file is bad input to the gate, not a registry failure.
    if (MlopsError.isInstance(error) && error.code === "file_read") {
      throw new MlopsError(
        "gate_data_invalid",
        `cannot read the evaluation data ${path}: ${error.message}`,
        { cause: error, location: error.location },
      );
    }
    throw error;
  }
}

/**
 * Which evaluation data the gate used: a file (`--data`), a frame given in code, the hold-out
 * set registered with the candidate (the default when there is one), or none (stored metrics).
 *
 * @example
 * // { source: "registered", name: "holdout", rows: 4128, digest: "sha256:…",
 * //   uri: "runs:/3f2c…/dataset.holdout.parquet" }
 */
export type GateEvaluationData =
  | { source: "file"; path: string; rows: number }
  | { source: "frame"; rows: number }
  | { source: "registered"; name: string; rows: number; digest: string; uri: string }
  | { source: "none" };

/** The candidate's registered evaluation dataset (mlops-train's hold-out), read back. */
async function registeredEvaluation(
  registry: Registry,
  candidate: LoadedModel,
): Promise<{ frame: Frame; data: GateEvaluationData } | undefined> {
  const runId = candidate.version.runId;
  if (runId === undefined) return undefined;
  const inputs = await registry.listDatasets(runId);
  const input = inputs.find(
    (item) =>
      item.tags[DATASET_CONTEXT_TAG] === "evaluation" && item.dataset.sourceType === "run_artifact",
  );
  if (input === undefined) return undefined;
  const frame = await registry.readDataset(
    input,
    Schema.fromJSON(candidate.artifact.manifest.schema),
  );
  return {
    frame,
    data: {
      source: "registered",
      name: input.dataset.name,
      rows: frame.rowCount,
      digest: input.dataset.digest,
      uri: input.dataset.source,
    },
  };
}

/**
 * A warning for each model that was trained on some of the evaluation rows (by the row
 * fingerprints its run recorded): its metrics on those rows are optimistic.
 */
async function overlapWarnings(
  registry: Registry,
  data: Frame,
  models: readonly (readonly [string, LoadedModel | null])[],
): Promise<string[]> {
  const warnings: string[] = [];
  for (const [role, model] of models) {
    const runId = model?.version.runId;
    if (model === null || model === undefined || runId === undefined) continue;
    const inputs = await registry.listDatasets(runId);
    const training = inputs.find(
      (item) =>
        item.tags[DATASET_CONTEXT_TAG] === "training" && item.tags[ROW_HASHES_TAG] !== undefined,
    );
    if (training === undefined) continue;
    const names = Object.keys(model.artifact.manifest.schema.fields);
    if (!names.every((name) => data.has(name))) continue;
    const seen = new Set(await registry.readRowHashes(runId, training));
    let reused = 0;
    for (const hash of rowHashes(data, names)) if (seen.has(hash)) reused++;
    // Rows repeated in the data set: its own hold-out set matched this share of its training
    // rows. Only more than that (beyond three standard deviations) says the rows were reused.
    const expected = Number(training.tags[REPEATED_SHARE_TAG] ?? 0);
    const n = data.rowCount;
    const base = Number.isFinite(expected) && expected > 0 && expected <= 1 ? expected : 0;
    const limit = n * base + 3 * Math.sqrt(n * base * (1 - base));
    if (reused === 0 || reused <= limit) continue;
    const { name, version } = model.version;
    const repeated =
      base > 0
        ? `, where its own hold-out set matched ${formatPercent(base)} (rows repeated in the data)`
        : "";
    warnings.push(
      `${reused} of ${n} evaluation rows (${formatPercent(reused / n)}) were part of the ` +
        `${role}'s training data (${name} v${version}, ${training.dataset.source})${repeated}: ` +
        "its metrics on them are optimistic. Evaluate on rows it never saw, such as the " +
        "hold-out set mlops-train registers with a model (the gate's default without --data).",
    );
  }
  return warnings;
}

/**
 * The whole gate, as `mlops gate` and the GitHub Action run it: loads the candidate and the
 * baseline from the registry (digests verified), reads the evaluation data (validated with the
 * candidate's schema; by default the hold-out set registered with the candidate), runs
 * `evaluateGate`, warns when evaluation rows were part of a model's training data, and on a pass points `promote` at the candidate,
 * recording the verdict in the alias history. A baseline alias that is not set yet means a first
 * model (it passes with a note unless `requireBaseline`). Everything is checked before anything
 * is loaded, so invalid rules or names fail fast. A failing gate is a result, not an error; errors
 * are `MlopsError`s (`gate_config_invalid`, `gate_data_invalid`, `registry_not_found`, …).
 *
 * @example
 * const registry = await openExistingRegistry(".mlops");
 * const run = await runGate(registry, {
 *   model: "wine",
 *   data: "holdout.csv",
 *   rules: ["rmse:maxRelativeRegression=0.02", "r2:minAbsoluteChange=0"],
 *   promote: "production",
 * });
 * run.result.verdict; // "pass"
 * run.promoted; // { alias: "production", from: 2, to: 3, moved: true, … }
 */
export async function runGate(registry: Registry, options: RunGateOptions): Promise<RunGateResult> {
  if (typeof options !== "object" || options === null) {
    throw new MlopsError("argument_invalid", "runGate: expected an options object");
  }
  validateName("model name", options.model);
  const candidateUri = gateModelUri(options.model, options.candidate ?? DEFAULT_CANDIDATE);
  const baselineUri = gateModelUri(options.model, options.baseline ?? DEFAULT_BASELINE);
  const rules = parseGateRules(options.rules);
  if (options.promote !== undefined) validateAlias(options.promote);
  const actor = options.actor ?? currentActor();

  const candidate = await loadRole(registry, "candidate", candidateUri);
  const baseline = await loadBaseline(registry, baselineUri);
  let data: Frame | undefined;
  let evaluationData: GateEvaluationData;
  if (typeof options.data === "string") {
    data = await readData(options.data, options.cwd ?? process.cwd(), candidate);
    evaluationData = { source: "file", path: options.data, rows: data.rowCount };
  } else if (options.data !== undefined) {
    data = options.data;
    evaluationData = { source: "frame", rows: data.rowCount };
  } else {
    const registered = await registeredEvaluation(registry, candidate);
    if (registered === undefined) evaluationData = { source: "none" };
    else {
      data = registered.frame;
      evaluationData = registered.data;
    }
  }
  // ONNX models run on onnxruntime-node (asynchronous, optional): scored here, beforehand.
  const scored = async (role: string, uri: string, model: LoadedModel) => {
    if (data === undefined || isNativeArtifact(model.artifact)) return undefined;
    try {
      return await predictFrame(model.artifact, data);
    } catch (error) {
      if (MlopsError.isInstance(error) && error.code === "runtime_unavailable") {
        throw withRole(role, uri, error);
      }
      throw new MlopsError(
        "gate_data_invalid",
        `The ${role} model cannot score the evaluation data: ${(error as Error).message}`,
        { cause: error },
      );
    }
  };
  const candidatePredictions = await scored("candidate", candidateUri, candidate);
  const baselinePredictions =
    baseline === null ? undefined : await scored("baseline", baselineUri, baseline);
  const result = evaluateGate({
    candidate: {
      artifact: candidate.artifact,
      version: candidate.version,
      predictions: candidatePredictions,
    },
    baseline:
      baseline === null
        ? undefined
        : {
            artifact: baseline.artifact,
            version: baseline.version,
            predictions: baselinePredictions,
          },
    data,
    dataName: evaluationData.source === "registered" ? evaluationData.name : undefined,
    target: options.target,
    rules,
    requireBaseline: options.requireBaseline === true,
  });
  const warnings =
    data === undefined
      ? []
      : await overlapWarnings(registry, data, [
          ["candidate", candidate],
          ["baseline", baseline],
        ]);
  const summary = formatGateSummary(result);

  let promoted: GatePromotion | null = null;
  if (result.passed && options.promote !== undefined) {
    const { name, version } = candidate.version;
    const alias = options.promote;
    const aliases = await registry.store.listAliases(name);
    const from = Object.hasOwn(aliases, alias) ? aliases[alias] : null;
    // Promoting the alias that was the baseline: it must still be what the gate compared with.
    const parsedBaseline = parseModelUri(baselineUri);
    const expected = baseline === null ? null : baseline.version.version;
    if (
      parsedBaseline.kind === "alias" &&
      parsedBaseline.name === name &&
      parsedBaseline.alias === alias &&
      from !== expected
    ) {
      throw new MlopsError(
        "registry_conflict",
        `${name}@${alias} moved from ${expected ?? "(none)"} to ${from ?? "(none)"} while the ` +
          "gate ran; it was not promoted: run the gate again against the new baseline",
      );
    }
    const reason = options.reason ? `${options.reason}; ${summary}` : summary;
    const moved = from !== version;
    if (moved) await registry.setAlias(name, alias, version, { actor, reason });
    promoted = { name, alias, from, to: version, moved, actor, reason };
  }
  const run: RunGateResult = {
    result,
    candidateUri,
    candidate: candidate.version,
    baselineUri,
    baseline: baseline?.version ?? null,
    promote: options.promote ?? null,
    promoted,
    summary,
    evaluationData,
    warnings,
    kept: null,
  };
  if (options.keepReport !== false) run.kept = await keepGateReport(registry, run, options);
  return run;
}

/** A short title for a kept report: `gate wine v3 vs v2: pass, @production → v3`. */
function reportTitle(run: RunGateResult): string {
  const { name, version } = run.candidate;
  const against = run.baseline === null ? "no baseline" : `v${run.baseline.version}`;
  let title = `gate ${name} v${version} vs ${against}: ${run.result.verdict}`;
  if (run.promoted?.moved) title += `, @${run.promoted.alias} → v${run.promoted.to}`;
  return title;
}

/** Records the run's report with the candidate version (see `RunGateOptions.keepReport`). */
async function keepGateReport(
  registry: Registry,
  run: RunGateResult,
  options: RunGateOptions,
): Promise<KeptGateReport> {
  const report = gateRunReport(run);
  const files = options.reportFiles?.(report);
  // The compared values as columns of the mlops-gate runs table.
  const metrics: Record<string, number> = {};
  for (const [role, summary] of [
    ["candidate", run.result.candidate],
    ["baseline", run.result.baseline],
  ] as const) {
    for (const [key, value] of Object.entries(summary?.metrics ?? {})) {
      if (Number.isFinite(value)) metrics[`${role}_${key}`] = value;
    }
  }
  const title = reportTitle(run);
  const kept = await recordReport(registry, {
    kind: "gate",
    model: run.candidate.name,
    version: run.candidate.version,
    title,
    verdict: run.result.verdict,
    report,
    metrics,
    files,
  });
  return { runId: kept.runId, experiment: REPORT_EXPERIMENTS.gate, title };
}
