import { createHash } from "node:crypto";
import { MlopsError } from "../errors/error.js";
import { validateManifest } from "./manifest.js";
import type {
  ArrayDescriptor,
  ArrayDType,
  ArtifactArray,
  ModelArtifact,
  ModelManifest,
} from "./types.js";

/**
 * The 8 bytes every artifact file starts with: the container name and its version digit.
 *
 * @example
 * new TextDecoder().decode(bytes.subarray(0, 8)) === ARTIFACT_MAGIC; // an artifact file
 */
export const ARTIFACT_MAGIC = "MLOPSMD1";
const MAGIC_BYTES = new TextEncoder().encode(ARTIFACT_MAGIC);
const HEADER_BYTES = 12;
const TRAILER_BYTES = 32;
const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

const BYTES_PER_ELEMENT: Record<ArrayDType, number> = { float64: 8, int32: 4, uint8: 1 };

function align8(n: number): number {
  return (n + 7) & ~7;
}

function dtypeOf(array: unknown): ArrayDType | undefined {
  if (array instanceof Float64Array) return "float64";
  if (array instanceof Int32Array) return "int32";
  if (array instanceof Uint8Array) return "uint8";
  return undefined;
}

function sha256(bytes: Uint8Array): Uint8Array {
  return createHash("sha256").update(bytes).digest();
}

function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

/**
 * The content digest of an encoded artifact: `sha256:<hex>` over every byte of the file.
 * Registries use it to address model versions.
 *
 * @example
 * const digest = artifactDigest(encodeArtifact(artifact)); // "sha256:9f86d0…"
 */
export function artifactDigest(bytes: Uint8Array): string {
  return `sha256:${toHex(sha256(bytes))}`;
}

/** Payload descriptors for `arrays`, in name order, each at an 8-byte aligned offset. */
export function describeArrays(arrays: Record<string, ArtifactArray>): {
  arrays: Record<string, ArrayDescriptor>;
  byteLength: number;
} {
  const descriptors: Record<string, ArrayDescriptor> = {};
  let offset = 0;
  for (const name of Object.keys(arrays).sort()) {
    const array = arrays[name];
    const dtype = dtypeOf(array);
    if (dtype === undefined) {
      throw new MlopsError(
        "artifact_invalid",
        `arrays["${name}"]: expected a Float64Array, Int32Array or Uint8Array, got ${
          array === null
            ? "null"
            : typeof array === "object"
              ? array.constructor.name
              : typeof array
        }`,
      );
    }
    descriptors[name] = { dtype, offset, length: array.length };
    offset = align8(offset + array.byteLength);
  }
  return { arrays: descriptors, byteLength: offset };
}

function writeArray(target: Uint8Array, at: number, array: ArtifactArray): void {
  if (LITTLE_ENDIAN || array instanceof Uint8Array) {
    target.set(new Uint8Array(array.buffer, array.byteOffset, array.byteLength), at);
    return;
  }
  const view = new DataView(target.buffer, target.byteOffset + at, array.byteLength);
  if (array instanceof Float64Array) {
    for (let i = 0; i < array.length; i++) view.setFloat64(i * 8, array[i], true);
  } else {
    for (let i = 0; i < array.length; i++) view.setInt32(i * 4, array[i], true);
  }
}

/**
 * Encodes an artifact as one `mlops.model/v1` file: the magic `MLOPSMD1`, the manifest length
 * (uint32 LE), the manifest as UTF-8 JSON, zero padding to 8 bytes, the arrays (each 8-byte
 * aligned, little-endian, in name order), then a sha256 of everything before it.
 * The manifest is validated first and its `payload` section recomputed from `arrays`.
 *
 * @example
 * const bytes = encodeArtifact(artifact);
 * const again = decodeArtifact(bytes);
 */
export function encodeArtifact(artifact: ModelArtifact): Uint8Array {
  const payload = describeArrays(artifact.arrays);
  const manifest = validateManifest({ ...artifact.manifest, payload }, "artifact");
  const manifestBytes = new TextEncoder().encode(JSON.stringify(manifest));
  const payloadStart = align8(HEADER_BYTES + manifestBytes.length);
  const total = payloadStart + payload.byteLength + TRAILER_BYTES;
  const bytes = new Uint8Array(total);
  bytes.set(MAGIC_BYTES, 0);
  new DataView(bytes.buffer).setUint32(8, manifestBytes.length, true);
  bytes.set(manifestBytes, HEADER_BYTES);
  for (const [name, descriptor] of Object.entries(payload.arrays)) {
    writeArray(bytes, payloadStart + descriptor.offset, artifact.arrays[name]);
  }
  bytes.set(sha256(bytes.subarray(0, total - TRAILER_BYTES)), total - TRAILER_BYTES);
  return bytes;
}

export interface DecodeArtifactOptions {
  /** The file or URL the bytes came from, named in error messages. */
  source?: string;
}

/**
 * Decodes and verifies an artifact. The sha256 trailer is checked before anything else is read:
 * a changed or missing byte throws `artifact_corrupt`; a file that is not an artifact, or whose
 * manifest or array table is wrong, throws `artifact_invalid`. Arrays are zero-copy views of
 * `bytes` when aligned (copies otherwise).
 *
 * @example
 * const artifact = decodeArtifact(await readFile("model.mlops"), { source: "model.mlops" });
 */
export function decodeArtifact(
  bytes: Uint8Array,
  options: DecodeArtifactOptions = {},
): ModelArtifact {
  const source = options.source ?? "artifact";
  const location = options.source === undefined ? undefined : { file: options.source };
  const invalid = (detail: string): never => {
    throw new MlopsError("artifact_invalid", `${source}: ${detail}`, { location });
  };
  const corrupt = (detail: string): never => {
    throw new MlopsError("artifact_corrupt", `${source}: artifact is corrupt: ${detail}`, {
      location,
    });
  };
  if (!(bytes instanceof Uint8Array)) invalid("expected the artifact's bytes as a Uint8Array");
  if (bytes.length === 0) invalid("empty file: not an mlops model file");
  const prefix = Math.min(bytes.length, 7);
  for (let i = 0; i < prefix; i++) {
    if (bytes[i] !== MAGIC_BYTES[i]) {
      invalid(
        `not an mlops model file: expected it to start with "${ARTIFACT_MAGIC}", ` +
          `found ${JSON.stringify(new TextDecoder().decode(bytes.subarray(0, 8)))}`,
      );
    }
  }
  if (bytes.length >= 8 && bytes[7] !== MAGIC_BYTES[7]) {
    invalid(
      `unsupported container version "${String.fromCharCode(bytes[7])}": ` +
        `this SDK reads version 1 (${ARTIFACT_MAGIC})`,
    );
  }
  if (bytes.length < HEADER_BYTES + TRAILER_BYTES) {
    corrupt(
      `truncated: ${bytes.length} bytes, a model file has at least ${HEADER_BYTES + TRAILER_BYTES}`,
    );
  }
  const end = bytes.length - TRAILER_BYTES;
  const expected = bytes.subarray(end);
  const actual = sha256(bytes.subarray(0, end));
  for (let i = 0; i < TRAILER_BYTES; i++) {
    if (expected[i] !== actual[i]) {
      corrupt(
        `sha256 mismatch (trailer ${toHex(expected).slice(0, 16)}…, ` +
          `content ${toHex(actual).slice(0, 16)}…): ` +
          "the file was changed or truncated after it was written",
      );
    }
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const manifestLength = view.getUint32(8, true);
  if (HEADER_BYTES + manifestLength > end) {
    invalid(
      `manifest length ${manifestLength} runs past the end of the file (${bytes.length} bytes)`,
    );
  }
  let value: unknown;
  try {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(
      bytes.subarray(HEADER_BYTES, HEADER_BYTES + manifestLength),
    );
    value = JSON.parse(text);
  } catch (error) {
    invalid(`manifest is not valid UTF-8 JSON (${error instanceof Error ? error.message : error})`);
  }
  const manifest: ModelManifest = validateManifest(value, source);
  const payloadStart = align8(HEADER_BYTES + manifestLength);
  for (let i = HEADER_BYTES + manifestLength; i < payloadStart; i++) {
    if (bytes[i] !== 0) invalid(`padding byte ${i} after the manifest is not zero`);
  }
  if (payloadStart + manifest.payload.byteLength !== end) {
    invalid(
      `payload.byteLength is ${manifest.payload.byteLength} ` +
        `but the file holds ${end - payloadStart} payload bytes`,
    );
  }
  const arrays: Record<string, ArtifactArray> = {};
  for (const [name, descriptor] of Object.entries(manifest.payload.arrays)) {
    const size = BYTES_PER_ELEMENT[descriptor.dtype];
    const byteLength = descriptor.length * size;
    if (descriptor.offset % 8 !== 0) {
      invalid(`payload.arrays["${name}"].offset ${descriptor.offset} is not a multiple of 8`);
    }
    if (descriptor.offset + byteLength > manifest.payload.byteLength) {
      invalid(
        `payload.arrays["${name}"] (offset ${descriptor.offset}, ${byteLength} bytes) ` +
          `runs past the payload (${manifest.payload.byteLength} bytes)`,
      );
    }
    arrays[name] = readArray(bytes, payloadStart + descriptor.offset, descriptor);
  }
  return { manifest, arrays };
}

function readArray(bytes: Uint8Array, at: number, descriptor: ArrayDescriptor): ArtifactArray {
  const { dtype, length } = descriptor;
  const start = bytes.byteOffset + at;
  if (dtype === "uint8") return new Uint8Array(bytes.buffer, start, length);
  const size = BYTES_PER_ELEMENT[dtype];
  if (LITTLE_ENDIAN && start % size === 0) {
    return dtype === "float64"
      ? new Float64Array(bytes.buffer, start, length)
      : new Int32Array(bytes.buffer, start, length);
  }
  const view = new DataView(bytes.buffer, start, length * size);
  if (dtype === "float64") {
    const out = new Float64Array(length);
    for (let i = 0; i < length; i++) out[i] = view.getFloat64(i * 8, true);
    return out;
  }
  const out = new Int32Array(length);
  for (let i = 0; i < length; i++) out[i] = view.getInt32(i * 4, true);
  return out;
}
