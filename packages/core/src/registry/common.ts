/**
 * What every store backend shares: argument checks done before anything is stored, the wording
 * of not-found errors, MLflow's "latest metric" rule and run-name generator. Backends in other
 * packages reach these through `@mlops/core/internal`, so every backend says the same thing.
 */
import { createHash, randomInt } from "node:crypto";
import { isDeepStrictEqual } from "node:util";
import { MlopsError } from "../errors/error.js";
import { currentActor } from "./actor.js";
import {
  validateAlias,
  validateId,
  validateJson,
  validateKey,
  validateName,
  validateParams,
  validateTags,
  validateText,
  validateTime,
  validateVersion,
} from "./names.js";
import {
  type AliasChangeOptions,
  type AliasHistoryEntry,
  type ArtifactInfo,
  type ArtifactStore,
  type CreateModelVersionOptions,
  type CreateRegisteredModelOptions,
  type CreateRunOptions,
  DEFAULT_EXPERIMENT_ID,
  type Experiment,
  type Metric,
  type MetricInput,
  type ModelVersionRecord,
  type RegisteredModelRecord,
  RUN_STATUSES,
  type Run,
  type RunRecord,
  type RunStatus,
  type TerminalRunStatus,
} from "./types.js";

const ADJECTIVES = ["amber", "bold", "brisk", "calm", "clever", "crisp", "eager", "gentle"];
const NOUNS = ["badger", "falcon", "heron", "lynx", "otter", "panda", "quail", "wren"];

/** A readable default run name, as MLflow gives one: `bold-heron-417`. */
export function generateRunName(): string {
  const adjective = ADJECTIVES[randomInt(ADJECTIVES.length)];
  return `${adjective}-${NOUNS[randomInt(NOUNS.length)]}-${randomInt(1000)}`;
}

/** The lowercase hex sha256 of `bytes`. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** The hex part of a `sha256:<hex>` digest; `registry_corrupt` for anything else. */
export function digestHex(digest: string, what: string): string {
  const hex = typeof digest === "string" ? digest.replace(/^sha256:/, "") : "";
  if (!/^[0-9a-f]{64}$/.test(hex) || !String(digest).startsWith("sha256:")) {
    throw new MlopsError(
      "registry_corrupt",
      `${what}: digest ${String(digest)} is not sha256:<64 hex digits>`,
    );
  }
  return hex;
}

/** `a, b, c … and 7 more`. */
export function listText(items: readonly (string | number)[], limit = 20): string {
  const shown = items.slice(0, limit).join(", ");
  return items.length > limit ? `${shown} … and ${items.length - limit} more` : shown;
}

/** "1-5" for consecutive versions, else a list. */
export function rangeText(versions: readonly number[]): string {
  const first = versions[0];
  const last = versions.at(-1)!;
  return last - first + 1 === versions.length ? `${first}-${last}` : listText(versions);
}

/** MLflow's rule for the latest value of a metric: highest step, then timestamp, then value. */
export function isNewerMetric(candidate: Metric, current: Metric | undefined): boolean {
  if (!current) return true;
  if (candidate.step !== current.step) return candidate.step > current.step;
  if (candidate.timestamp !== current.timestamp) return candidate.timestamp > current.timestamp;
  return candidate.value >= current.value;
}

/** The current aliases: the fold of the alias history, sorted by alias. */
export function foldAliases(history: readonly AliasHistoryEntry[]): Record<string, number> {
  const current = new Map<string, number>();
  for (const entry of history) {
    if (entry.toVersion === null) current.delete(entry.alias);
    else current.set(entry.alias, entry.toVersion);
  }
  const aliases: Record<string, number> = {};
  for (const alias of [...current.keys()].sort()) aliases[alias] = current.get(alias)!;
  return aliases;
}

/** `value`, if it is bytes; `argument_invalid` naming `what` otherwise. */
export function checkBytes(what: string, value: unknown): Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new MlopsError("argument_invalid", `${what}: expected a Uint8Array of bytes`);
  }
  return value;
}

/** The actor (default `currentActor()`) and reason of an alias move, checked. */
export function checkAliasChange(options: AliasChangeOptions): {
  actor: string;
  reason: string | null;
} {
  let actor = currentActor();
  if (options.actor !== undefined) {
    actor = validateText("actor", options.actor, 255).trim();
    if (actor === "") throw new MlopsError("argument_invalid", "actor: expected a non-empty name");
  }
  const reason = options.reason === undefined ? null : validateText("reason", options.reason, 2000);
  return { actor, reason };
}

/** Metrics to log, checked, with `timestamp` defaulting to now and `step` to 0. */
export function checkMetrics(metrics: MetricInput[]): Metric[] {
  if (!Array.isArray(metrics)) {
    throw new MlopsError("argument_invalid", "metrics: expected an array of {key, value, step}");
  }
  const now = Date.now();
  return metrics.map((metric, index) => {
    const where = `metrics[${index}]`;
    if (typeof metric !== "object" || metric === null) {
      throw new MlopsError("argument_invalid", `${where}: expected {key, value, timestamp, step}`);
    }
    const key = validateKey("metric key", metric.key);
    if (typeof metric.value !== "number" || !Number.isFinite(metric.value)) {
      throw new MlopsError(
        "argument_invalid",
        `${where} ("${key}"): expected a finite number, got ${String(metric.value)}`,
      );
    }
    const step = metric.step ?? 0;
    if (!Number.isSafeInteger(step)) {
      throw new MlopsError("argument_invalid", `${where} ("${key}"): step must be an integer`);
    }
    const timestamp = validateTime(`${where}.timestamp`, metric.timestamp ?? now);
    return { key, value: metric.value, timestamp, step };
  });
}

/** A terminal run status, checked. */
/** What `createRun` is given, checked as every backend checks it, defaults filled in. */
export function checkCreateRun(options: CreateRunOptions): {
  experimentId: string;
  tags: Record<string, string>;
  startTime: number;
  runName: string;
  parentRunId: string | undefined;
} {
  const experimentId = validateId("experiment id", options.experimentId ?? DEFAULT_EXPERIMENT_ID);
  const tags = validateTags(options.tags, "run tags");
  const startTime = validateTime("startTime", options.startTime ?? Date.now());
  const runName =
    options.runName === undefined
      ? generateRunName()
      : validateText("runName", options.runName, 250);
  const { parentRunId } = options;
  if (parentRunId !== undefined) validateId("parent run id", parentRunId);
  return { experimentId, tags, startTime, runName, parentRunId };
}

/** What `createRegisteredModel` is given, checked as every backend checks it. */
export function checkCreateModel(
  name: string,
  options: CreateRegisteredModelOptions,
): { description: string | undefined; tags: Record<string, string> } {
  validateName("model name", name);
  const { description } = options;
  if (description !== undefined) validateText("description", description, 5000);
  return { description, tags: validateTags(options.tags, "model tags") };
}

/** Checks what `logArtifact` is given: the run id, the artifact's name and its bytes. */
export function checkArtifactInput(runId: string, name: string, bytes: Uint8Array): void {
  validateId("run id", runId);
  validateName("artifact name", name);
  checkBytes(`artifact "${name}"`, bytes);
}

/** `artifact_corrupt` for importing a version whose blob this registry's store lacks. */
export function missingBlobError(version: ModelVersionRecord): MlopsError {
  return new MlopsError(
    "artifact_corrupt",
    `model "${version.name}" version ${version.version}: blob ${version.digest} is not in this ` +
      "registry's artifact store; store the bytes first (artifacts.put)",
  );
}

export function checkTerminalStatus(status: TerminalRunStatus): TerminalRunStatus {
  if (!RUN_STATUSES.includes(status) || (status as RunStatus) === "RUNNING") {
    throw new MlopsError(
      "argument_invalid",
      `run status ${JSON.stringify(status)} is invalid: expected FINISHED, FAILED or KILLED`,
    );
  }
  return status;
}

/** What `createModelVersion` takes, checked, with metadata copied to plain JSON. */
export interface CheckedVersionOptions {
  artifact: Uint8Array;
  tags: Record<string, string>;
  metadata: Record<string, unknown>;
  description: string | undefined;
  runId: string | undefined;
}

/** Checks `createModelVersion`'s options before anything is stored. */
export function checkVersionOptions(
  name: string,
  options: CreateModelVersionOptions,
): CheckedVersionOptions {
  if (typeof options !== "object" || options === null) {
    throw new MlopsError("argument_invalid", "createModelVersion: expected { artifact, ... }");
  }
  const artifact = checkBytes(`model "${name}" artifact`, options.artifact);
  const tags = validateTags(options.tags, "version tags");
  const metadata = options.metadata ?? {};
  validateJson(metadata, "metadata");
  if (typeof metadata !== "object" || Array.isArray(metadata) || metadata === null) {
    throw new MlopsError("argument_invalid", "metadata: expected a JSON object");
  }
  if (options.description !== undefined) {
    validateText("description", options.description, 5000);
  }
  if (options.runId !== undefined) validateId("run id", options.runId);
  return {
    artifact,
    tags,
    metadata: JSON.parse(JSON.stringify(metadata)) as Record<string, unknown>,
    description: options.description,
    runId: options.runId,
  };
}

/** `registry_not_found` for a model, listing those that exist. */
export function modelNotFound(name: string, where: string, names: readonly string[]): MlopsError {
  return new MlopsError(
    "registry_not_found",
    `model "${name}" not found in ${where}; ` +
      (names.length ? `registered models: ${listText(names)}` : "no models are registered"),
  );
}

/** `registry_not_found` for an experiment id, naming the experiments there are. */
export function experimentNotFound(
  experimentId: string,
  where: string,
  experiments: readonly Experiment[],
): MlopsError {
  const ids = experiments.map((item) => `${item.experimentId} (${item.name})`);
  return new MlopsError(
    "registry_not_found",
    `experiment ${experimentId} not found in ${where}; experiments: ${listText(ids)}`,
  );
}

/** `registry_conflict` for deleting a version that aliases still point at. */
export function versionHeld(name: string, version: number, aliases: readonly string[]): MlopsError {
  const one = aliases.length === 1;
  return new MlopsError(
    "registry_conflict",
    `version ${version} of model "${name}" is not deleted: ` +
      `${aliases.map((alias) => `@${alias}`).join(", ")} ${one ? "points" : "point"} at it; ` +
      `move or delete ${one ? "that alias" : "those aliases"} first`,
  );
}

/** `registry_not_found` for a version, naming those that exist. */
export function versionNotFound(
  name: string,
  version: number,
  versions: readonly number[],
): MlopsError {
  const known =
    versions.length === 0 ? "it has no versions yet" : `versions: ${rangeText(versions)}`;
  return new MlopsError(
    "registry_not_found",
    `model "${name}" has no version ${version}; ${known}`,
  );
}

/** `registry_not_found` for an alias, listing the model's aliases. */
export function aliasNotFound(
  name: string,
  alias: string,
  aliases: Record<string, number>,
): MlopsError {
  const names = Object.keys(aliases);
  return new MlopsError(
    "registry_not_found",
    `model "${name}" has no alias "${alias}"; ` +
      (names.length ? `aliases: ${listText(names)}` : "it has no aliases"),
  );
}

/** `registry_conflict` for a param logged again with another value. */
export function paramConflict(runId: string, key: string, old: string, value: string): MlopsError {
  return new MlopsError(
    "registry_conflict",
    `run ${runId}: param "${key}" is already ${JSON.stringify(old)}; params are ` +
      `immutable, cannot change it to ${JSON.stringify(value)} (log a new run instead)`,
  );
}

/** A run with its metrics sorted by key and no undefined optional fields: plain JSON. */
export function plainRun(run: {
  runId: string;
  experimentId: string;
  runName: string;
  status: RunStatus;
  startTime: number;
  endTime?: number | null;
  parentRunId?: string | null;
  params: Record<string, string>;
  metrics: Record<string, number>;
  tags: Record<string, string>;
}): Run {
  const metrics: Record<string, number> = {};
  for (const key of Object.keys(run.metrics).sort()) metrics[key] = run.metrics[key];
  return {
    runId: run.runId,
    experimentId: run.experimentId,
    runName: run.runName,
    status: run.status,
    startTime: run.startTime,
    ...(run.endTime === undefined || run.endTime === null ? {} : { endTime: run.endTime }),
    ...(run.parentRunId === undefined || run.parentRunId === null
      ? {}
      : { parentRunId: run.parentRunId }),
    params: { ...run.params },
    metrics,
    tags: { ...run.tags },
  };
}

/**
 * A URL with its password (and any `password=` query parameter) replaced by `***`, so it can
 * appear in logs and error messages.
 *
 * @example
 * redactLocation("postgres://ana:s3cret@db/mlops"); // "postgres://ana:***@db/mlops"
 */
export function redactLocation(location: string): string {
  const text = String(location);
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(text);
  let result = text;
  if (scheme) {
    const rest = text.slice(scheme[0].length);
    // The user info ends at the last "@" before the query: a password may hold "/" or "@".
    const beforeQuery = rest.split(/[?#]/, 1)[0];
    const at = beforeQuery.lastIndexOf("@");
    const colon = at < 0 ? -1 : beforeQuery.slice(0, at).indexOf(":");
    if (colon >= 0) {
      result = `${scheme[0]}${rest.slice(0, colon)}:***${rest.slice(at)}`;
    }
  }
  return result.replace(/([?&](?:password|pass|sslpassword)=)[^&#]*/gi, "$1***");
}

function checkObject(what: string, value: unknown): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new MlopsError("argument_invalid", `${what}: expected an object`);
  }
  return value as Record<string, unknown>;
}

/** A `RunRecord` to import, checked field by field, as plain JSON. */
export function checkRunRecord(record: RunRecord): RunRecord {
  const { run, metricHistory, artifacts } = checkObject(
    "run record",
    record,
  ) as unknown as RunRecord;
  checkObject("run record.run", run);
  validateId("run id", run.runId);
  validateId("experiment id", run.experimentId);
  validateText("runName", run.runName, 250);
  if (!RUN_STATUSES.includes(run.status)) {
    throw new MlopsError(
      "argument_invalid",
      `run ${run.runId}: status ${JSON.stringify(run.status)} is invalid: expected one of ${RUN_STATUSES.join(", ")}`,
    );
  }
  validateTime("startTime", run.startTime);
  if (run.endTime !== undefined) validateTime("endTime", run.endTime);
  if (run.parentRunId !== undefined) validateId("parent run id", run.parentRunId);
  const params = validateParams(run.params ?? {});
  const tags = validateTags(run.tags ?? {}, "run tags");
  if (!Array.isArray(metricHistory) || !Array.isArray(artifacts)) {
    throw new MlopsError(
      "argument_invalid",
      "run record: expected metricHistory and artifacts arrays",
    );
  }
  const metrics = checkMetrics(metricHistory);
  const files = artifacts.map((artifact, index) => {
    checkObject(`artifacts[${index}]`, artifact);
    validateName("artifact name", artifact.name);
    digestHex(artifact.digest, `artifact "${artifact.name}"`);
    if (!Number.isSafeInteger(artifact.sizeBytes) || artifact.sizeBytes < 0) {
      throw new MlopsError(
        "argument_invalid",
        `artifacts[${index}].sizeBytes: expected a size in bytes`,
      );
    }
    return { name: artifact.name, digest: artifact.digest, sizeBytes: artifact.sizeBytes };
  });
  const latest: Record<string, Metric> = {};
  for (const metric of metrics)
    if (isNewerMetric(metric, latest[metric.key])) latest[metric.key] = metric;
  const values: Record<string, number> = {};
  for (const [key, metric] of Object.entries(latest)) values[key] = metric.value;
  return {
    run: plainRun({ ...run, params, tags, metrics: values }),
    metricHistory: metrics,
    artifacts: files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
  };
}

/** A registered model to import, checked. */
export function checkModelRecord(model: RegisteredModelRecord): RegisteredModelRecord {
  checkObject("registered model", model);
  validateName("model name", model.name);
  return {
    name: model.name,
    description: validateText("description", model.description ?? "", 5000),
    tags: validateTags(model.tags ?? {}, "model tags"),
    createdAt: validateTime("createdAt", model.createdAt),
  };
}

/** A model version to import, checked, as plain JSON without undefined fields. */
export function checkVersionRecord(version: ModelVersionRecord): ModelVersionRecord {
  checkObject("model version", version);
  validateName("model name", version.name);
  validateVersion(version.version);
  digestHex(version.digest, `model "${version.name}" version ${version.version}`);
  if (!Number.isSafeInteger(version.sizeBytes) || version.sizeBytes < 0) {
    throw new MlopsError("argument_invalid", "sizeBytes: expected a size in bytes");
  }
  if (version.runId !== undefined) validateId("run id", version.runId);
  if (version.description !== undefined) validateText("description", version.description, 5000);
  const metadata = version.metadata ?? {};
  validateJson(metadata, "metadata");
  return {
    name: version.name,
    version: version.version,
    digest: version.digest,
    sizeBytes: version.sizeBytes,
    ...(version.runId === undefined ? {} : { runId: version.runId }),
    ...(version.description === undefined ? {} : { description: version.description }),
    tags: validateTags(version.tags ?? {}, "version tags"),
    metadata: JSON.parse(JSON.stringify(metadata)) as Record<string, unknown>,
    createdAt: validateTime("createdAt", version.createdAt),
  };
}

/**
 * The moves of `incoming` that `existing` lacks, after checking that `existing` is its
 * beginning (else `registry_conflict`: the histories diverged) and that each move is well formed.
 */
export function historyTail(
  name: string,
  existing: readonly AliasHistoryEntry[],
  incoming: readonly AliasHistoryEntry[],
): AliasHistoryEntry[] {
  if (!Array.isArray(incoming)) {
    throw new MlopsError("argument_invalid", "alias history: expected an array of moves");
  }
  const checked = incoming.map((entry, index) => {
    checkObject(`history[${index}]`, entry);
    if (entry.name !== name) {
      throw new MlopsError(
        "argument_invalid",
        `history[${index}]: a move of model "${entry.name}", not "${name}"`,
      );
    }
    validateAlias(entry.alias);
    for (const key of ["fromVersion", "toVersion"] as const) {
      if (entry[key] !== null) validateVersion(entry[key], `history[${index}].${key}`);
    }
    return {
      name,
      alias: entry.alias,
      fromVersion: entry.fromVersion,
      toVersion: entry.toVersion,
      actor: validateText("actor", entry.actor, 255),
      time: validateTime(`history[${index}].time`, entry.time),
      reason: entry.reason === null ? null : validateText("reason", entry.reason, 2000),
    };
  });
  const same = (a: AliasHistoryEntry, b: AliasHistoryEntry) =>
    JSON.stringify(a) === JSON.stringify(b);
  const diverged = existing.findIndex(
    (entry, index) => !checked[index] || !same(entry, checked[index]),
  );
  if (diverged >= 0) {
    throw new MlopsError(
      "registry_conflict",
      `model "${name}": the alias history here has ${existing.length} moves and differs from the ` +
        `one being imported at move ${diverged + 1}; histories are append-only, so it cannot be ` +
        "merged (copy into a registry without this model)",
    );
  }
  // Replaying the tail over the current aliases must give each move's recorded starting point.
  const aliases = foldAliases(existing);
  const tail = checked.slice(existing.length);
  for (const [index, entry] of tail.entries()) {
    const current = Object.hasOwn(aliases, entry.alias) ? aliases[entry.alias] : null;
    if (current !== entry.fromVersion) {
      throw new MlopsError(
        "argument_invalid",
        `model "${name}": history move ${existing.length + index + 1} moves "${entry.alias}" from ` +
          `${entry.fromVersion}, but it points at ${current} then`,
      );
    }
    if (entry.toVersion === null) delete aliases[entry.alias];
    else aliases[entry.alias] = entry.toVersion;
  }
  return tail;
}

/** Every artifact's blob must already be stored: runs never point at missing bytes. */
export async function checkBlobs(
  artifacts: ArtifactStore,
  runId: string,
  infos: readonly ArtifactInfo[],
): Promise<void> {
  for (const info of infos) {
    if (!(await artifacts.has(info.digest))) {
      throw new MlopsError(
        "artifact_corrupt",
        `run ${runId} artifact "${info.name}": blob ${info.digest} is not in this registry's ` +
          "artifact store; store the bytes first (artifacts.put)",
      );
    }
  }
}

/** Two run records hold the same run (metrics compared per key in step order). */
export function sameRecord(a: RunRecord, b: RunRecord): boolean {
  const order = (metrics: Metric[]) =>
    [...metrics].sort(
      (x, y) =>
        (x.key < y.key ? -1 : x.key > y.key ? 1 : 0) ||
        x.step - y.step ||
        x.timestamp - y.timestamp ||
        x.value - y.value,
    );
  return (
    isDeepStrictEqual(a.run, b.run) &&
    isDeepStrictEqual(order(a.metricHistory), order(b.metricHistory)) &&
    isDeepStrictEqual(a.artifacts, b.artifacts)
  );
}
