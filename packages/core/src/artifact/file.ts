import { readFile } from "node:fs/promises";
import { MlopsError } from "../errors/error.js";
import { assertReadableFile, writeFileAtomic } from "../io/files.js";
import { artifactDigest, decodeArtifact, encodeArtifact } from "./codec.js";
import type { ModelArtifact } from "./types.js";

/**
 * Writes an artifact to `path` atomically (temporary file, fsync, rename) and returns its
 * digest (`sha256:<hex>`). A failed write leaves any previous file untouched.
 *
 * @example
 * const digest = await writeArtifact("model.mlops", artifact);
 */
export async function writeArtifact(path: string, artifact: ModelArtifact): Promise<string> {
  const bytes = encodeArtifact(artifact);
  await writeFileAtomic(path, async (handle) => {
    await handle.writeFile(bytes);
  });
  return artifactDigest(bytes);
}

/**
 * Reads and verifies an artifact file (see `decodeArtifact`); errors name `path`.
 * A missing file throws `file_not_found`.
 *
 * @example
 * const predictor = createPredictor(await readArtifact("model.mlops"));
 */
export async function readArtifact(path: string): Promise<ModelArtifact> {
  await assertReadableFile(path);
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new MlopsError("file_read", `${path}: cannot read (${code})`, {
      cause: error,
      location: { file: path },
    });
  }
  return decodeArtifact(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), {
    source: path,
  });
}
