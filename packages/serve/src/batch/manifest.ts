import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { MlopsError } from "@mlops/core";
import { AtomicFile } from "@mlops/core/internal";

/** The manifest's file name inside the output folder (`_` keeps it out of folder inputs). */
export const MANIFEST_NAME = "_mlops_batch.json";
export const MANIFEST_FORMAT = "mlops.batch-run/v1";

/** Where one input file stands in a run. */
export type FileStatus = "pending" | "done" | "failed";

export interface ManifestFile {
  input: string;
  /** Size and modification time when scored: a changed input is scored again on resume. */
  inputSize: number;
  inputModified: number;
  output: string;
  rejects: string | null;
  status: FileStatus;
  rowsIn: number;
  rowsScored: number;
  rowsRejected: number;
  error?: { code: string; message: string };
  finishedAt?: string;
}

/** The run manifest: what is done, with which model, so a killed run can be finished. */
export interface RunManifest {
  format: typeof MANIFEST_FORMAT;
  runId: string;
  status: "running" | "completed" | "failed";
  startedAt: string;
  updatedAt: string;
  finishedAt?: string;
  /** The run's timestamp as output names use it (`YYYYmmddHHMMSS`, UTC). */
  timestamp: string;
  model: { reference: string; name: string; version: number; digest: string };
  /** What must match for a restarted run to resume this one. */
  fingerprint: string;
  files: ManifestFile[];
}

export function manifestPath(output: string): string {
  return join(output, MANIFEST_NAME);
}

/** The manifest in `output`, or undefined when there is none. */
export async function readManifest(output: string): Promise<RunManifest | undefined> {
  const path = manifestPath(output);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new MlopsError("file_read", `${path}: cannot read the run manifest`, {
      cause: error,
      location: { file: path },
    });
  }
  try {
    const manifest = JSON.parse(text) as RunManifest;
    if (manifest.format !== MANIFEST_FORMAT || !Array.isArray(manifest.files)) throw new Error();
    return manifest;
  } catch {
    throw new MlopsError(
      "batch_run_conflict",
      `${path}: not an @mlops batch run manifest (format ${MANIFEST_FORMAT}); move it away or ` +
        "pick another output folder",
      { location: { file: path } },
    );
  }
}

/** Writes the manifest atomically (temporary file, fsync, rename): it is never half-written. */
export async function writeManifest(output: string, manifest: RunManifest): Promise<void> {
  manifest.updatedAt = new Date().toISOString();
  const file = await AtomicFile.create(manifestPath(output));
  try {
    await file.append(`${JSON.stringify(manifest, null, 2)}\n`);
    await file.commit();
  } catch (error) {
    await file.abort();
    throw error;
  }
}
