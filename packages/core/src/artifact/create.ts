import { execFileSync } from "node:child_process";
import type { TrainingProfile } from "../profile/types.js";
import { Schema, type SchemaJSON } from "../schema/schema.js";
import { describeArrays } from "./codec.js";
import { validateManifest } from "./manifest.js";
import {
  type ArtifactArray,
  type Lineage,
  MODEL_FORMAT,
  type ModelArtifact,
  type ModelSection,
  type PreprocessingStep,
} from "./types.js";
import { SDK_VERSION } from "./version.js";

export interface CreateArtifactInput {
  kind: string;
  /** The feature contract; stored as JSON. */
  schema: Schema | SchemaJSON;
  preprocessing?: PreprocessingStep[];
  model: ModelSection;
  arrays?: Record<string, ArtifactArray>;
  params?: Record<string, unknown>;
  metrics?: Record<string, number>;
  /** `createdAt`, `sdkVersion` and `gitCommit` are filled when absent. */
  lineage?: Partial<Lineage>;
  /** The training profile (`profileFrame` of the training data, with the predictions on it). */
  profile?: TrainingProfile;
}

const gitCommits = new Map<string, string | undefined>();

/** `GITHUB_SHA`, else `git rev-parse HEAD` in `cwd` (memoised), else undefined. */
export function currentGitCommit(cwd: string = process.cwd()): string | undefined {
  const fromEnvironment = process.env.GITHUB_SHA;
  if (fromEnvironment && /^[0-9a-f]{7,64}$/i.test(fromEnvironment)) return fromEnvironment;
  if (gitCommits.has(cwd)) return gitCommits.get(cwd);
  let commit: string | undefined;
  try {
    const output = execFileSync("git", ["rev-parse", "HEAD"], {
      cwd,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
      timeout: 2000,
      windowsHide: true,
    }).trim();
    if (/^[0-9a-f]{40,64}$/.test(output)) commit = output;
  } catch {
    commit = undefined;
  }
  gitCommits.set(cwd, commit);
  return commit;
}

/**
 * Builds a validated in-memory artifact, filling the lineage: `createdAt` (now), `sdkVersion`,
 * and `gitCommit` (from `GITHUB_SHA`, or `git rev-parse HEAD` when the working directory is a
 * git checkout; left out otherwise). Throws `artifact_invalid` listing every problem.
 *
 * @example
 * const artifact = createArtifact({
 *   kind: "linear",
 *   schema: houses,
 *   model: { inputs: ["rooms", "age"], intercept: 1.5 },
 *   arrays: { coefficients: Float64Array.of(2, -0.5) },
 *   metrics: { rmse: 0.42 },
 * });
 */
export function createArtifact(input: CreateArtifactInput): ModelArtifact {
  const arrays = { ...(input.arrays ?? {}) };
  const lineage: Lineage = {
    ...input.lineage,
    createdAt: input.lineage?.createdAt ?? new Date().toISOString(),
    sdkVersion: input.lineage?.sdkVersion ?? SDK_VERSION,
  };
  if (lineage.gitCommit === undefined) {
    const commit = currentGitCommit();
    if (commit === undefined) delete lineage.gitCommit;
    else lineage.gitCommit = commit;
  }
  const manifest = validateManifest(
    {
      format: MODEL_FORMAT,
      kind: input.kind,
      schema: input.schema instanceof Schema ? input.schema.toJSON() : input.schema,
      preprocessing: input.preprocessing ?? [],
      model: input.model,
      params: input.params ?? {},
      metrics: input.metrics ?? {},
      lineage,
      payload: describeArrays(arrays),
      ...(input.profile !== undefined ? { profile: input.profile } : {}),
    },
    "artifact",
  );
  return { manifest, arrays };
}
