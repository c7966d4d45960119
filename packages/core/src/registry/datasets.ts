import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MlopsError } from "../errors/error.js";
import type { Frame } from "../frame/frame.js";
import { readFrame, writeFrame } from "../io/index.js";
import type { Schema } from "../schema/schema.js";
import type { TrackingStore } from "./types.js";

/**
 * A dataset as MLflow's tracking knows one (`mlflow.entities.Dataset`): a name, a digest of its
 * content, where it lives, its schema and a profile. `sourceType` is `"run_artifact"` for data
 * stored with the run (`source` is then `runs:/<run id>/<artifact>`) or `"local"` for a file
 * that stays where it was (`source` is its path).
 *
 * @example
 * // { name: "holdout", digest: "sha256:…", sourceType: "run_artifact",
 * //   source: "runs:/3f2c…/dataset.holdout.parquet", profile: '{"num_rows":4128}' }
 */
export interface Dataset {
  name: string;
  digest: string;
  sourceType: "run_artifact" | "local" | (string & {});
  source: string;
  /** The schema's JSON text (`mlops.schema/v1`), when known. */
  schema?: string;
  /** JSON text: `{"num_rows": N}` (MLflow's profile of a tabular dataset). */
  profile?: string;
}

/**
 * A dataset as an input of a run (MLflow's `DatasetInput`): the dataset and tags, among them
 * `mlflow.data.context` (`"training"`, `"evaluation"`).
 *
 * @example
 * input.tags["mlflow.data.context"]; // "evaluation"
 */
export interface DatasetInput {
  dataset: Dataset;
  tags: Record<string, string>;
}

/**
 * What a model version keeps of each dataset of its run (`ModelVersion.metadata.datasets`), so
 * that listings show it without reading the run.
 *
 * @example
 * // { name: "holdout", context: "evaluation", digest: "sha256:…", rows: 4128,
 * //   source: "runs:/3f2c…/dataset.holdout.parquet" }
 */
export interface DatasetSummary {
  name: string;
  context: string;
  digest: string;
  rows: number | null;
  source: string;
}

/** The tag that says what a dataset was for (MLflow's name). */
export const DATASET_CONTEXT_TAG = "mlflow.data.context";
/** The tag naming the run artifact that holds fingerprints of the dataset's rows. */
export const ROW_HASHES_TAG = "mlops.row_hashes";
/**
 * The tag holding the share of the run's held-out rows whose values also occur in these training
 * rows: rows repeated in the data set (wine quality has many), which any evaluation data drawn
 * from the same source shares with the training data as much.
 */
export const REPEATED_SHARE_TAG = "mlops.repeated_share";

/**
 * What `Registry.logDataset` records: the dataset's name and context, and either its rows (stored
 * with the run as Parquet) or where it lives. `rowHashes` (one `rowHashes()` fingerprint per row)
 * lets the gate tell when evaluation rows were part of this data.
 *
 * @example
 * await registry.logDataset(runId, { name: "holdout", context: "evaluation", frame: holdout });
 */
export interface LogDatasetOptions {
  name: string;
  context: "training" | "evaluation" | (string & {});
  /** The rows, stored with the run. */
  frame?: Frame;
  /** Where the data lives instead (a file path), with its `digest` and `rows`. */
  source?: string;
  digest?: string;
  rows?: number;
  schema?: Schema;
  rowHashes?: Float64Array;
  /**
   * With `rowHashes`: the share of the held-out rows whose values also occur in these rows (see
   * `REPEATED_SHARE_TAG`), so the gate only warns about more overlap than that.
   */
  repeatedShare?: number;
}

const DATASET_NAME = /^[A-Za-z0-9][\w.-]{0,99}$/;
const SUFFIX = ".json";

function artifactName(name: string, part: "json" | "parquet" | "rows"): string {
  return `dataset.${name}.${part}`;
}

function summaryOf(input: DatasetInput): DatasetSummary {
  let rows: number | null = null;
  try {
    const profile = JSON.parse(input.dataset.profile ?? "{}") as { num_rows?: unknown };
    if (typeof profile.num_rows === "number") rows = profile.num_rows;
  } catch {
    // A profile that is not JSON says nothing about rows.
  }
  return {
    name: input.dataset.name,
    context: input.tags[DATASET_CONTEXT_TAG] ?? "",
    digest: input.dataset.digest,
    rows,
    source: input.dataset.source,
  };
}

/** Frame → Parquet bytes (through a temporary file: core's writers write files). */
async function parquetBytes(frame: Frame): Promise<Uint8Array> {
  const folder = await mkdtemp(join(tmpdir(), "mlops-dataset-"));
  try {
    const path = join(folder, "data.parquet");
    await writeFrame(path, frame);
    return new Uint8Array(await readFile(path));
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

/** The run id and artifact name of a `runs:/<run id>/<artifact>` source. */
function runArtifact(source: string): { runId: string; name: string } {
  const match = /^runs:\/([^/]+)\/([^/]+)$/.exec(source);
  if (match === null) {
    throw new MlopsError(
      "argument_invalid",
      `expected a dataset source runs:/<run id>/<artifact>, got ${JSON.stringify(source)}`,
    );
  }
  return { runId: match[1], name: match[2] };
}

/**
 * Logs a dataset as an input of a run (MLflow's `log_input`), through the tracking store: the
 * entity as a run artifact `dataset.<name>.json`, the rows (when given) as
 * `dataset.<name>.parquet`, the row fingerprints as `dataset.<name>.rows`.
 */
export async function logDataset(
  store: TrackingStore,
  runId: string,
  options: LogDatasetOptions,
): Promise<DatasetInput> {
  const { name, context, frame } = options;
  if (typeof name !== "string" || !DATASET_NAME.test(name)) {
    throw new MlopsError(
      "registry_name_invalid",
      `dataset name ${JSON.stringify(name)} is invalid: expected 1 to 100 letters, digits, "_", ` +
        '"-" or ".", starting with a letter or digit',
    );
  }
  if ((frame === undefined) === (options.source === undefined)) {
    throw new MlopsError(
      "argument_invalid",
      `logDataset "${name}": give the rows (frame) or where they live (source), one of the two`,
    );
  }
  let dataset: Dataset;
  if (frame !== undefined) {
    const stored = await store.logArtifact(
      runId,
      artifactName(name, "parquet"),
      await parquetBytes(frame),
    );
    dataset = {
      name,
      digest: stored.digest,
      sourceType: "run_artifact",
      source: `runs:/${runId}/${stored.name}`,
      profile: JSON.stringify({ num_rows: frame.rowCount }),
    };
  } else {
    dataset = {
      name,
      digest: options.digest ?? "",
      sourceType: "local",
      source: options.source as string,
    };
    if (options.rows !== undefined) dataset.profile = JSON.stringify({ num_rows: options.rows });
  }
  if (options.schema !== undefined) dataset.schema = JSON.stringify(options.schema.toJSON());
  const tags: Record<string, string> = { [DATASET_CONTEXT_TAG]: context };
  if (options.rowHashes !== undefined) {
    const hashes = options.rowHashes;
    const bytes = new Uint8Array(hashes.buffer, hashes.byteOffset, hashes.byteLength);
    const stored = await store.logArtifact(runId, artifactName(name, "rows"), bytes.slice());
    tags[ROW_HASHES_TAG] = stored.name;
    if (options.repeatedShare !== undefined) {
      tags[REPEATED_SHARE_TAG] = String(options.repeatedShare);
    }
  }
  const input: DatasetInput = { dataset, tags };
  await store.logArtifact(
    runId,
    artifactName(name, "json"),
    new TextEncoder().encode(JSON.stringify(input)),
  );
  return input;
}

/** The datasets logged as inputs of a run, by name. */
export async function listDatasets(store: TrackingStore, runId: string): Promise<DatasetInput[]> {
  const artifacts = await store.listArtifacts(runId);
  const names = artifacts
    .map((artifact) => artifact.name)
    .filter((name) => name.startsWith("dataset.") && name.endsWith(SUFFIX))
    .sort();
  const inputs: DatasetInput[] = [];
  for (const name of names) {
    const bytes = await store.readArtifact(runId, name);
    inputs.push(JSON.parse(new TextDecoder().decode(bytes)) as DatasetInput);
  }
  return inputs;
}

/** What a model version keeps of its run's datasets. */
export function summarizeDatasets(inputs: readonly DatasetInput[]): DatasetSummary[] {
  return inputs.map(summaryOf);
}

/**
 * Reads a dataset stored with its run back as a Frame (validated with `schema` when given);
 * `data_invalid` for a dataset that lives elsewhere.
 */
export async function readDataset(
  store: TrackingStore,
  input: DatasetInput,
  schema?: Schema,
): Promise<Frame> {
  if (input.dataset.sourceType !== "run_artifact") {
    throw new MlopsError(
      "data_invalid",
      `dataset "${input.dataset.name}" lives at ${input.dataset.source}, not with its run`,
    );
  }
  const { runId, name } = runArtifact(input.dataset.source);
  const bytes = await store.readArtifact(runId, name);
  const folder = await mkdtemp(join(tmpdir(), "mlops-dataset-"));
  try {
    const path = join(folder, "data.parquet");
    await writeFile(path, bytes);
    return await readFrame(path, schema === undefined ? {} : { schema });
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

/** The row fingerprints recorded with a dataset, or undefined when none were. */
export async function readRowHashes(
  store: TrackingStore,
  runId: string,
  input: DatasetInput,
): Promise<Float64Array | undefined> {
  const name = input.tags[ROW_HASHES_TAG];
  if (name === undefined) return undefined;
  const bytes = await store.readArtifact(runId, name);
  const copy = bytes.slice();
  return new Float64Array(copy.buffer, copy.byteOffset, Math.floor(copy.byteLength / 8));
}
