import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { encodeArtifact } from "../artifact/codec.js";
import { createArtifact } from "../artifact/create.js";
import { MlopsError } from "../errors/error.js";
import { Frame } from "../frame/frame.js";
import { createPredictor } from "../predict/predictor.js";
import { profileFrame } from "../profile/profile.js";
import { field } from "../schema/field.js";
import { schema } from "../schema/schema.js";
import { modelDigest, openRegistry, type Registry } from "./registry.js";

const houses = schema(
  { rooms: field.number({ min: 0 }), age: field.number({ min: 0 }), price: field.number() },
  { target: "price" },
);

function linear(
  intercept: number,
  lineage: { runId?: string; createdAt?: string; rowCount?: number } = {},
) {
  return createArtifact({
    kind: "linear",
    schema: houses,
    model: { inputs: ["rooms", "age"], intercept },
    arrays: { coefficients: Float64Array.of(2, -0.5) },
    params: { fitIntercept: true },
    metrics: { rmse: 1 / intercept },
    lineage: { rowCount: 100, dataDigest: "sha256:abc", ...lineage },
  });
}

let dir: string;
let registry: Registry;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "mlops-registry-"));
  registry = await openRegistry(join(dir, ".mlops"));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("Registry", () => {
  it("finds a version holding the same model, made by another run at another time", async () => {
    expect(await registry.findIdentical("houses", linear(1))).toBeUndefined();
    const [runA, runB] = [await registry.startRun(), await registry.startRun()];
    const first = linear(1, { runId: runA.runId, createdAt: "2026-01-01T00:00:00.000Z" });
    const again = linear(1, { runId: runB.runId, createdAt: "2026-02-01T00:00:00.000Z" });
    expect(modelDigest(again)).toBe(modelDigest(first));
    const v1 = await registry.registerModel("houses", first);
    expect(v1.metadata.modelDigest).toBe(modelDigest(first));
    await registry.registerModel("houses", linear(2));
    expect((await registry.findIdentical("houses", again))?.version).toBe(1);
    // Another model, other metrics or other training data are not the same model.
    expect(await registry.findIdentical("houses", linear(3))).toBeUndefined();
    expect(await registry.findIdentical("houses", linear(1, { rowCount: 101 }))).toBeUndefined();
  });

  it("recognises versions registered before the model digest was kept", async () => {
    const first = linear(1, { createdAt: "2026-01-01T00:00:00.000Z" });
    // A version as an older release registered it: no modelDigest in its metadata.
    await registry.store.createModelVersion("houses", { artifact: encodeArtifact(first) });
    expect((await registry.findIdentical("houses", linear(1)))?.version).toBe(1);
  });

  it("stores a training profile given at registration in the artifact", async () => {
    const data = new Frame({
      rooms: { kind: "number", values: Float64Array.of(1, 2, 3, 4) },
      age: { kind: "number", values: Float64Array.of(10, 20, 30, 40) },
      price: { kind: "number", values: Float64Array.of(1, 2, 3, 4) },
    });
    const profile = profileFrame(data, houses);
    const bare = await registry.registerModel("houses", linear(1));
    expect(bare.metadata.profiled).toBe(false);
    const version = await registry.registerModel("houses", linear(1), { profile });
    expect(version.metadata.profiled).toBe(true);
    const { artifact } = await registry.loadModel("models:/houses/2");
    expect(artifact.manifest.profile).toEqual(profile);
    expect(
      (await registry.loadModel("models:/houses/1")).artifact.manifest.profile,
    ).toBeUndefined();
  });

  it("registers a model only under a name that makes clean URIs, saying the rule", async () => {
    for (const [name, problem] of [
      ["team/housing", 'it contains "/" at position 5 ("/" separates the version in models:/'],
      ["my housing", "it contains a space at position 3 (models:/ URIs and shell commands"],
    ]) {
      await expect(registry.registerModel(name, linear(1))).rejects.toThrow(
        `model name ${JSON.stringify(name)} is invalid: ${problem}`,
      );
    }
    await expect(registry.registerModel("my housing", linear(1))).rejects.toThrow(
      'expected 1 to 255 characters: letters, digits, "_", "-" and ".", starting with a letter, ' +
        'digit or "_" and not ending with "."',
    );
    expect(await registry.store.listRegisteredModels()).toEqual([]);
    // A model an older release registered under a name with a space can still be read.
    await registry.store.createModelVersion("old housing", {
      artifact: new Uint8Array([1]),
    });
    expect((await registry.resolve("models:/old housing/1")).name).toBe("old housing");
  });

  it("registers artifacts as versions and loads them back by URI, verified", async () => {
    const first = await registry.registerModel("houses", linear(1), { aliases: ["staging"] });
    expect(first).toMatchObject({ name: "houses", version: 1, aliases: ["staging"] });
    expect(first.metadata).toMatchObject({
      kind: "linear",
      metrics: { rmse: 1 },
      features: ["rooms", "age"],
      target: "price",
    });
    const second = await registry.registerModel("houses", linear(2));
    expect(second.version).toBe(2);

    const { version, artifact } = await registry.loadModel("models:/houses@staging");
    expect(version.version).toBe(1);
    const predictor = createPredictor(artifact);
    // 1 + 2 × 3 − 0.5 × 10 = 2
    expect(predictor.predictRow({ rooms: 3, age: 10 })).toBe(2);
    const latest = await registry.loadModel("models:/houses/latest");
    expect(latest.artifact.manifest.model.intercept).toBe(2);
    const frame = Frame.fromRows([{ rooms: 3, age: 10 }]);
    expect([...createPredictor(latest.artifact).predict(frame)]).toEqual([3]);
  });

  it("records alias moves with actor and reason", async () => {
    await registry.registerModel("houses", linear(1), { aliases: ["production"], actor: "ci" });
    await registry.registerModel("houses", linear(2));
    await registry.setAlias("houses", "production", 2, { actor: "alice", reason: "better rmse" });
    const history = await registry.aliasHistory("houses");
    expect(history.map((h) => [h.alias, h.fromVersion, h.toVersion, h.actor, h.reason])).toEqual([
      ["production", null, 1, "ci", "registered version 1"],
      ["production", 1, 2, "alice", "better rmse"],
    ]);
    expect((await registry.resolve("models:/houses@production")).version).toBe(2);
  });

  it("tracks runs in named experiments", async () => {
    const result = await registry.withRun(
      { experiment: "houses", runName: "ols", params: { alpha: 0.5 } },
      async (run) => {
        await registry.logMetrics(run.runId, { rmse: 0.8 });
        return run.runId;
      },
    );
    const run = await registry.store.getRun(result);
    expect(run).toMatchObject({
      status: "FINISHED",
      params: { alpha: "0.5" },
      metrics: { rmse: 0.8 },
    });
    const experiment = await registry.store.getExperimentByName("houses");
    expect(run.experimentId).toBe(experiment?.experimentId);

    await expect(
      registry.withRun({ experiment: "houses" }, async () => {
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    const runs = await registry.store.searchRuns({
      experimentIds: [run.experimentId],
      filter: "attributes.status = 'FAILED'",
    });
    expect(runs).toHaveLength(1);
  });

  it("names what is missing", async () => {
    await registry.registerModel("houses", linear(1), { aliases: ["staging"] });
    const error = await registry.loadModel("models:/houses@prod").catch((e) => e);
    expect(MlopsError.isInstance(error)).toBe(true);
    expect(error.message).toMatch(/prod/);
    expect(error.message).toMatch(/staging/);
  });
});
