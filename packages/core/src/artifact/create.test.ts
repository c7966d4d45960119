import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { afterEach, describe, expect, it, vi } from "vitest";
import { MlopsError } from "../errors/error.js";
import { field } from "../schema/field.js";
import { schema } from "../schema/schema.js";
import { decodeArtifact, encodeArtifact } from "./codec.js";
import { createArtifact, currentGitCommit } from "./create.js";
import { SDK_VERSION } from "./version.js";

const wine = schema(
  { alcohol: field.number({ min: 0 }), quality: field.integer({ min: 0, max: 10 }) },
  { target: "quality" },
);

const linear = {
  kind: "linear",
  schema: wine,
  model: { inputs: ["alcohol"], intercept: 1.5 },
  arrays: { coefficients: Float64Array.of(0.25) },
};

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("SDK_VERSION", () => {
  it("equals the version in packages/core/package.json", () => {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
    expect(SDK_VERSION).toBe(pkg.version);
  });
});

describe("createArtifact", () => {
  it("fills createdAt, sdkVersion and gitCommit (from GITHUB_SHA)", () => {
    const sha = "0123456789abcdef0123456789abcdef01234567";
    vi.stubEnv("GITHUB_SHA", sha);
    const before = Date.now();
    const artifact = createArtifact(linear);
    const { lineage } = artifact.manifest;
    expect(lineage.sdkVersion).toBe(SDK_VERSION);
    expect(lineage.gitCommit).toBe(sha);
    expect(new Date(lineage.createdAt).toISOString()).toBe(lineage.createdAt);
    expect(Date.parse(lineage.createdAt)).toBeGreaterThanOrEqual(before - 1);
    expect(artifact.manifest.format).toBe("mlops.model/v1");
    expect(artifact.manifest.schema).toEqual(wine.toJSON());
    expect(artifact.manifest.preprocessing).toEqual([]);
    expect(artifact.manifest.payload.arrays.coefficients).toEqual({
      dtype: "float64",
      offset: 0,
      length: 1,
    });
  });

  it("keeps the lineage it is given", () => {
    const artifact = createArtifact({
      ...linear,
      lineage: {
        createdAt: "2024-05-06T07:08:09.000Z",
        gitCommit: "feedbee",
        dataDigest: "sha256:00",
        rowCount: 1599,
        runId: "run-1",
      },
    });
    expect(artifact.manifest.lineage).toEqual({
      createdAt: "2024-05-06T07:08:09.000Z",
      sdkVersion: SDK_VERSION,
      gitCommit: "feedbee",
      dataDigest: "sha256:00",
      rowCount: 1599,
      runId: "run-1",
    });
  });

  it("leaves gitCommit out outside a git checkout", () => {
    vi.stubEnv("GITHUB_SHA", "");
    expect(currentGitCommit(tmpdir())).toBeUndefined();
  });

  it("survives an encode/decode round trip unchanged", () => {
    const artifact = createArtifact({ ...linear, lineage: { gitCommit: "abc1234" } });
    expect(decodeArtifact(encodeArtifact(artifact)).manifest).toEqual(artifact.manifest);
  });

  it("throws artifact_invalid with the paths of every problem", () => {
    let error: unknown;
    try {
      createArtifact({
        kind: "linear",
        schema: wine,
        model: { inputs: ["alcohol"], intercept: Number.NaN },
        metrics: { rmse: Number.POSITIVE_INFINITY },
        lineage: { gitCommit: "abc1234" },
      });
    } catch (caught) {
      error = caught;
    }
    expect(MlopsError.isInstance(error)).toBe(true);
    expect((error as MlopsError).code).toBe("artifact_invalid");
    expect((error as MlopsError).message).toContain("metrics.rmse");
    const model = () =>
      createArtifact({
        ...linear,
        model: { inputs: ["alcohol"] },
        lineage: { gitCommit: "abc1234" },
      });
    expect(model).toThrow(/model\.intercept/);
  });
});
