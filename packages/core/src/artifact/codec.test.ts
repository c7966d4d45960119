import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MlopsError } from "../errors/error.js";
import { field } from "../schema/field.js";
import { schema } from "../schema/schema.js";
import { ARTIFACT_MAGIC, artifactDigest, decodeArtifact, encodeArtifact } from "./codec.js";
import { createArtifact } from "./create.js";
import { readArtifact, writeArtifact } from "./file.js";
import type { ModelArtifact } from "./types.js";

const houses = schema(
  {
    rooms: field.number({ min: 0 }),
    color: field.category(["red", "blue"]),
    price: field.number(),
  },
  { target: "price" },
);

function sample(): ModelArtifact {
  return createArtifact({
    kind: "tree",
    schema: houses,
    model: { inputs: ["rooms"] },
    arrays: {
      "tree.left": Int32Array.of(1, -1, -1),
      "tree.right": Int32Array.of(2, -1, -1),
      "tree.feature": Int32Array.of(0, -2, -2),
      "tree.threshold": Float64Array.of(2.5, -2, -2),
      "tree.value": Float64Array.of(0, 10.25, 20.5),
      "tree.missingLeft": Uint8Array.of(1, 0, 0, 0, 0),
    },
    params: { maxDepth: 1, criterion: "squared_error" },
    metrics: { rmse: 1.5, r2: 0.75 },
    lineage: { createdAt: "2025-01-02T03:04:05.000Z", gitCommit: "abc1234", rowCount: 100 },
  });
}

/** Replaces the sha256 trailer so a hand-made change passes the integrity check. */
function reseal(bytes: Uint8Array): Uint8Array {
  const out = Uint8Array.from(bytes);
  const end = out.length - 32;
  out.set(createHash("sha256").update(out.subarray(0, end)).digest(), end);
  return out;
}

/** Builds a file around an arbitrary manifest text and payload, with a valid trailer. */
function build(manifestText: string, payload = new Uint8Array(0)): Uint8Array {
  const manifest = new TextEncoder().encode(manifestText);
  const start = Math.ceil((12 + manifest.length) / 8) * 8;
  const bytes = new Uint8Array(start + payload.length + 32);
  bytes.set(new TextEncoder().encode(ARTIFACT_MAGIC), 0);
  new DataView(bytes.buffer).setUint32(8, manifest.length, true);
  bytes.set(manifest, 12);
  bytes.set(payload, start);
  return reseal(bytes);
}

function manifestOf(bytes: Uint8Array): Record<string, unknown> {
  const length = new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true);
  return JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + length)));
}

function catchError(run: () => unknown): MlopsError {
  try {
    run();
  } catch (error) {
    if (MlopsError.isInstance(error)) return error;
    throw error;
  }
  throw new Error("expected an MlopsError");
}

describe("encodeArtifact / decodeArtifact", () => {
  it("round-trips the manifest and every array, bit for bit", () => {
    const artifact = sample();
    const decoded = decodeArtifact(encodeArtifact(artifact));
    expect(decoded.manifest).toEqual(artifact.manifest);
    expect(Object.keys(decoded.arrays).sort()).toEqual(Object.keys(artifact.arrays).sort());
    for (const [name, array] of Object.entries(artifact.arrays)) {
      expect(decoded.arrays[name]).toBeInstanceOf(array.constructor);
      expect(Array.from(decoded.arrays[name])).toEqual(Array.from(array));
    }
  });

  it("keeps NaN, -0 and extreme doubles exactly", () => {
    const values = Float64Array.of(Number.NaN, -0, Number.MIN_VALUE, Number.MAX_VALUE, 0.1 + 0.2);
    const artifact = { ...sample(), arrays: { ...sample().arrays, extra: values } };
    const decoded = decodeArtifact(encodeArtifact(artifact)).arrays.extra as Float64Array;
    expect(Object.is(decoded[0], Number.NaN)).toBe(true);
    expect(Object.is(decoded[1], -0)).toBe(true);
    expect(Array.from(decoded.subarray(2))).toEqual([
      Number.MIN_VALUE,
      Number.MAX_VALUE,
      0.1 + 0.2,
    ]);
  });

  it("writes magic, length, JSON, zero padding, aligned arrays, then sha256", () => {
    const bytes = encodeArtifact(sample());
    expect(new TextDecoder().decode(bytes.subarray(0, 8))).toBe("MLOPSMD1");
    const length = new DataView(bytes.buffer).getUint32(8, true);
    const manifest = manifestOf(bytes) as {
      payload: { arrays: Record<string, { offset: number }>; byteLength: number };
    };
    const start = Math.ceil((12 + length) / 8) * 8;
    expect(Array.from(bytes.subarray(12 + length, start)).every((b) => b === 0)).toBe(true);
    expect(start + manifest.payload.byteLength + 32).toBe(bytes.length);
    for (const descriptor of Object.values(manifest.payload.arrays))
      expect(descriptor.offset % 8).toBe(0);
    // arrays in name order, the first at offset 0
    expect(Object.keys(manifest.payload.arrays)).toEqual([
      "tree.feature",
      "tree.left",
      "tree.missingLeft",
      "tree.right",
      "tree.threshold",
      "tree.value",
    ]);
    const threshold = manifest.payload.arrays["tree.threshold"];
    expect(new DataView(bytes.buffer).getFloat64(start + threshold.offset, true)).toBe(2.5);
    const trailer = createHash("sha256")
      .update(bytes.subarray(0, bytes.length - 32))
      .digest();
    expect(Array.from(bytes.subarray(bytes.length - 32))).toEqual(Array.from(trailer));
  });

  it("is deterministic: the same artifact encodes to the same bytes", () => {
    const a = sample();
    const reordered: ModelArtifact = {
      manifest: a.manifest,
      arrays: Object.fromEntries(Object.entries(a.arrays).reverse()),
    };
    expect(artifactDigest(encodeArtifact(a))).toBe(artifactDigest(encodeArtifact(reordered)));
  });

  it("decodes aligned arrays as zero-copy views of the file bytes", () => {
    const bytes = encodeArtifact(sample());
    const decoded = decodeArtifact(bytes);
    for (const array of Object.values(decoded.arrays)) expect(array.buffer).toBe(bytes.buffer);
    const threshold = decoded.arrays["tree.threshold"] as Float64Array;
    const view = new DataView(bytes.buffer, threshold.byteOffset, 8);
    expect(view.getFloat64(0, true)).toBe(2.5);
  });

  it("copies arrays whose bytes are not aligned, with the same values", () => {
    const bytes = encodeArtifact(sample());
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    const decoded = decodeArtifact(shifted.subarray(1));
    const threshold = decoded.arrays["tree.threshold"] as Float64Array;
    expect(threshold.buffer).not.toBe(shifted.buffer);
    expect(Array.from(threshold)).toEqual([2.5, -2, -2]);
    expect(Array.from(decoded.arrays["tree.left"])).toEqual([1, -1, -1]);
  });

  it("refuses to encode values JSON cannot carry, naming the path", () => {
    const artifact = sample();
    artifact.manifest.metrics.r2 = Number.NaN;
    const error = catchError(() => encodeArtifact(artifact));
    expect(error.code).toBe("artifact_invalid");
    expect(error.message).toContain("metrics.r2");
  });

  it("refuses arrays that are not Float64Array, Int32Array or Uint8Array", () => {
    const artifact = sample();
    (artifact.arrays as Record<string, unknown>).bad = new Float32Array(2);
    const error = catchError(() => encodeArtifact(artifact));
    expect(error.code).toBe("artifact_invalid");
    expect(error.message).toContain('arrays["bad"]');
  });
});

describe("decodeArtifact integrity", () => {
  const bytes = encodeArtifact(sample());
  const length = new DataView(bytes.buffer).getUint32(8, true);

  const flipped = (index: number) => {
    const copy = Uint8Array.from(bytes);
    copy[index] ^= 0x01;
    return copy;
  };

  it.each([
    ["the manifest", 12 + 5],
    ["the manifest length", 8],
    ["the padding or payload", 12 + length + 3],
    ["the last payload byte", bytes.length - 33],
    ["the trailer", bytes.length - 1],
  ])("a changed byte in %s is artifact_corrupt naming the source", (_, index) => {
    const error = catchError(() =>
      decodeArtifact(flipped(index), { source: "models/house.mlops" }),
    );
    expect(error.code).toBe("artifact_corrupt");
    expect(error.message).toContain("models/house.mlops");
    expect(error.location?.file).toBe("models/house.mlops");
  });

  it("a truncated file is artifact_corrupt", () => {
    for (const size of [bytes.length - 1, bytes.length - 40, 20, 9]) {
      const error = catchError(() =>
        decodeArtifact(bytes.subarray(0, size), { source: "cut.mlops" }),
      );
      expect(error.code).toBe("artifact_corrupt");
      expect(error.message).toContain("cut.mlops");
    }
  });

  it("a file that is not an artifact is artifact_invalid", () => {
    const error = catchError(() =>
      decodeArtifact(new TextEncoder().encode("PK\u0003\u0004 a zip file")),
    );
    expect(error.code).toBe("artifact_invalid");
    expect(error.message).toContain('expected it to start with "MLOPSMD1"');
    expect(catchError(() => decodeArtifact(new Uint8Array(0))).code).toBe("artifact_invalid");
  });

  it("another container version is artifact_invalid saying which", () => {
    const copy = Uint8Array.from(bytes);
    copy[7] = "2".charCodeAt(0);
    const error = catchError(() => decodeArtifact(reseal(copy)));
    expect(error.code).toBe("artifact_invalid");
    expect(error.message).toContain('version "2"');
  });

  it("a manifest that is not JSON is artifact_invalid", () => {
    const error = catchError(() => decodeArtifact(build("{not json"), { source: "x.mlops" }));
    expect(error.code).toBe("artifact_invalid");
    expect(error.message).toMatch(/^x\.mlops: manifest is not valid UTF-8 JSON/);
  });

  it("an invalid manifest is artifact_invalid listing each problem with its path", () => {
    const manifest = manifestOf(bytes) as Record<string, Record<string, unknown>>;
    manifest.model.inputs = "rooms";
    delete manifest.lineage.createdAt;
    manifest.preprocessing = [{ columns: ["rooms"] }] as never;
    const error = catchError(() => decodeArtifact(build(JSON.stringify(manifest))));
    expect(error.code).toBe("artifact_invalid");
    expect(error.message).toContain("model.inputs");
    expect(error.message).toContain("lineage.createdAt");
    expect(error.message).toContain("preprocessing[0].kind");
  });

  it("an invalid embedded schema or format string is artifact_invalid", () => {
    const manifest = manifestOf(bytes) as Record<string, Record<string, unknown>>;
    (manifest.schema.fields as Record<string, unknown>).color = { kind: "category" };
    const error = catchError(() => decodeArtifact(build(JSON.stringify(manifest))));
    expect(error.code).toBe("artifact_invalid");
    expect(error.message).toContain("schema:");
    const other = { ...manifestOf(bytes), format: "mlops.model/v2" };
    expect(catchError(() => decodeArtifact(build(JSON.stringify(other)))).message).toContain(
      "format",
    );
  });

  it("arrays outside the payload are artifact_invalid", () => {
    const manifest = manifestOf(bytes) as {
      payload: { arrays: Record<string, { offset: number; length: number }>; byteLength: number };
    };
    manifest.payload = {
      arrays: { "tree.value": { dtype: "float64", offset: 8, length: 3 } } as never,
      byteLength: 16,
    };
    const error = catchError(() =>
      decodeArtifact(build(JSON.stringify(manifest), new Uint8Array(16))),
    );
    expect(error.code).toBe("artifact_invalid");
    expect(error.message).toContain('payload.arrays["tree.value"]');
    manifest.payload = {
      arrays: { a: { dtype: "int32", offset: 4, length: 1 } } as never,
      byteLength: 8,
    };
    expect(
      catchError(() => decodeArtifact(build(JSON.stringify(manifest), new Uint8Array(8)))).message,
    ).toContain("not a multiple of 8");
  });
});

describe("artifactDigest", () => {
  it("is sha256:<hex> of every byte of the file", () => {
    const bytes = encodeArtifact(sample());
    const expected = createHash("sha256").update(bytes).digest("hex");
    expect(artifactDigest(bytes)).toBe(`sha256:${expected}`);
    expect(artifactDigest(bytes)).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});

describe("writeArtifact / readArtifact", () => {
  let folder: string;
  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), "mlops-artifact-"));
  });
  afterAll(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  it("writes atomically and reads back the same artifact, returning the file digest", async () => {
    const path = join(folder, "model.mlops");
    const artifact = sample();
    const digest = await writeArtifact(path, artifact);
    const bytes = new Uint8Array(await readFile(path));
    expect(digest).toBe(artifactDigest(bytes));
    const read = await readArtifact(path);
    expect(read.manifest).toEqual(artifact.manifest);
    expect(Array.from(read.arrays["tree.value"])).toEqual([0, 10.25, 20.5]);
    // overwriting leaves no temporary files behind
    await writeArtifact(path, artifact);
    const { readdir } = await import("node:fs/promises");
    expect(await readdir(folder)).toEqual(["model.mlops"]);
  });

  it("names the file when it is corrupt", async () => {
    const path = join(folder, "broken.mlops");
    const bytes = encodeArtifact(sample());
    bytes[40] ^= 0xff;
    await writeFile(path, bytes);
    await expect(readArtifact(path)).rejects.toMatchObject({
      code: "artifact_corrupt",
      message: expect.stringContaining(path),
    });
  });

  it("a missing file is file_not_found", async () => {
    await expect(readArtifact(join(folder, "nope.mlops"))).rejects.toMatchObject({
      code: "file_not_found",
    });
  });
});
