import { MlopsError } from "../errors/error.js";
import { SEARCH_RUNS_LIMIT } from "./filter.js";
import {
  DEFAULT_EXPERIMENT_ID,
  type ImportOutcome,
  type RegistryStore,
  type Run,
  type RunRecord,
} from "./types.js";

/** How many entities of one kind an import created, changed or found as they were. */
export interface CopyCounts {
  created: number;
  updated: number;
  unchanged: number;
}

/** What `copyRegistry` did, per kind of entity. */
export interface CopySummary {
  experiments: CopyCounts;
  runs: CopyCounts;
  models: CopyCounts;
  versions: CopyCounts;
  aliasHistories: CopyCounts;
  /** Studies of distributed searches, with their trials. */
  studies: CopyCounts;
  /** Blobs streamed into the target (verified) and blobs it already had. */
  blobs: { copied: number; present: number; bytesCopied: number };
}

/** One step of a copy, for progress output. */
export type CopyProgress =
  | { kind: "run"; runId: string; outcome: ImportOutcome }
  | { kind: "version"; name: string; version: number; outcome: ImportOutcome }
  | { kind: "model"; name: string; outcome: ImportOutcome }
  | { kind: "study"; name: string; outcome: ImportOutcome };

/**
 * Options of `copyRegistry`.
 *
 * @example
 * await copyRegistry(folder, team, { onProgress: (step) => console.log(step) });
 */
export interface CopyRegistryOptions {
  onProgress?: (step: CopyProgress) => void;
}

function counts(): CopyCounts {
  return { created: 0, updated: 0, unchanged: 0 };
}

/** Parents before their children, so every parent run exists when a child is imported. */
function parentsFirst(runs: readonly Run[]): Run[] {
  const byId = new Map(runs.map((run) => [run.runId, run]));
  const depth = (run: Run): number => {
    let level = 0;
    for (let parent = run.parentRunId; parent !== undefined && level <= runs.length; level += 1) {
      parent = byId.get(parent)?.parentRunId;
    }
    return level;
  };
  return [...runs].sort((a, b) => depth(a) - depth(b) || a.startTime - b.startTime);
}

/**
 * Copies a whole registry into another, across backends (folder ⇄ PostgreSQL): experiments (by
 * name), runs with their ids, params, tags, metric histories and artifacts, registered models,
 * versions with their numbers, the alias history as it was (actor, time, reason), and the
 * studies of distributed searches with their trials. Every blob
 * is streamed and verified against its digest on the way; blobs the target has are not sent
 * again. Safe to re-run: what is already there and the same is `unchanged`, runs that changed
 * since are `updated`, and a target whose versions or alias history diverged is
 * `registry_conflict`, never overwritten.
 *
 * @example
 * const source = await openStore("./.mlops", { mustExist: true });
 * const target = await openStore("postgres://mlops@db/mlops");
 * const summary = await copyRegistry(source, target);
 * summary.versions; // { created: 12, updated: 0, unchanged: 0 }
 */
export async function copyRegistry(
  source: RegistryStore,
  target: RegistryStore,
  options: CopyRegistryOptions = {},
): Promise<CopySummary> {
  const summary: CopySummary = {
    experiments: counts(),
    runs: counts(),
    models: counts(),
    versions: counts(),
    aliasHistories: counts(),
    studies: counts(),
    blobs: { copied: 0, present: 0, bytesCopied: 0 },
  };
  const blobs = new Set<string>();
  const copyBlob = async (digest: string, what: string, sizeBytes: number) => {
    if (blobs.has(digest)) return;
    if (await target.artifacts.has(digest)) {
      summary.blobs.present += 1;
    } else {
      const stored = await target.artifacts.put(source.artifacts.stream(digest, { what }));
      if (stored.digest !== digest) {
        throw new MlopsError(
          "artifact_corrupt",
          `${what}: the copy hashes to ${stored.digest}, not ${digest}`,
        );
      }
      summary.blobs.copied += 1;
      summary.blobs.bytesCopied += sizeBytes;
    }
    blobs.add(digest);
  };

  // Experiments, matched by name (ids are the target's own).
  const experimentIds = new Map<string, string>([[DEFAULT_EXPERIMENT_ID, DEFAULT_EXPERIMENT_ID]]);
  const experiments = await source.listExperiments();
  for (const experiment of experiments) {
    if (experiment.experimentId === DEFAULT_EXPERIMENT_ID) continue;
    const existing = await target.getExperimentByName(experiment.name);
    if (existing) {
      summary.experiments.unchanged += 1;
      experimentIds.set(experiment.experimentId, existing.experimentId);
    } else {
      const created = await target.createExperiment(experiment.name, { tags: experiment.tags });
      summary.experiments.created += 1;
      experimentIds.set(experiment.experimentId, created.experimentId);
    }
  }

  // Runs, with their ids: model versions and child runs point at them.
  const runs: Run[] = [];
  for (const experiment of experiments) {
    const found = await source.searchRuns({
      experimentIds: [experiment.experimentId],
      maxResults: SEARCH_RUNS_LIMIT,
    });
    if (found.length >= SEARCH_RUNS_LIMIT) {
      throw new MlopsError(
        "argument_invalid",
        `experiment "${experiment.name}" has ${SEARCH_RUNS_LIMIT} runs or more: more than one ` +
          "copy can move",
      );
    }
    runs.push(...found);
  }
  for (const run of parentsFirst(runs)) {
    const artifacts = await source.listArtifacts(run.runId);
    for (const artifact of artifacts) {
      await copyBlob(
        artifact.digest,
        `run ${run.runId} artifact "${artifact.name}"`,
        artifact.sizeBytes,
      );
    }
    const metricHistory = [];
    for (const key of Object.keys(run.metrics)) {
      metricHistory.push(...(await source.getMetricHistory(run.runId, key)));
    }
    const record: RunRecord = {
      run: { ...run, experimentId: experimentIds.get(run.experimentId) ?? run.experimentId },
      metricHistory,
      artifacts,
    };
    const outcome = await target.importRun(record);
    summary.runs[outcome] += 1;
    options.onProgress?.({ kind: "run", runId: run.runId, outcome });
  }

  // Studies of distributed searches, with every trial as it stands (after the runs: each study
  // hangs under its parent run).
  const studies = (await source.studies?.listStudies()) ?? [];
  if (studies.length > 0 && target.studies === undefined) {
    throw new MlopsError(
      "argument_invalid",
      `${target.location} cannot hold studies of distributed searches; ` +
        `${source.location} has ${studies.length}`,
    );
  }
  for (const study of studies) {
    const trials = await source.studies!.listTrials(study.name);
    const outcome = await target.studies!.importStudy({
      study: {
        ...study,
        experimentId: experimentIds.get(study.experimentId) ?? study.experimentId,
      },
      trials,
    });
    summary.studies[outcome] += 1;
    options.onProgress?.({ kind: "study", name: study.name, outcome });
  }

  // Models, their versions (numbers kept) and their alias history (as it happened).
  for (const model of await source.listRegisteredModels()) {
    const outcome = await target.importRegisteredModel({
      name: model.name,
      description: model.description,
      tags: model.tags,
      createdAt: model.createdAt,
    });
    summary.models[outcome] += 1;
    options.onProgress?.({ kind: "model", name: model.name, outcome });
    for (const { aliases: _aliases, ...version } of await source.listModelVersions(model.name)) {
      await copyBlob(
        version.digest,
        `model "${model.name}" version ${version.version}`,
        version.sizeBytes,
      );
      const copied = await target.importModelVersion(version);
      summary.versions[copied] += 1;
      options.onProgress?.({
        kind: "version",
        name: model.name,
        version: version.version,
        outcome: copied,
      });
    }
    const history = await source.getAliasHistory(model.name);
    const moved = await target.importAliasHistory(model.name, history);
    summary.aliasHistories[moved === "unchanged" ? "unchanged" : "updated"] += 1;
  }
  return summary;
}
