import { createHash } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { MlopsError, type MlopsErrorCode } from "../errors/error.js";
import { currentActor } from "../registry/actor.js";
import type {
  ArtifactStore,
  ModelRegistryStore,
  RegistryStore,
  Run,
  TrackingStore,
} from "../registry/types.js";
import { parseModelUri, resolveModelUri, safeParseModelUri } from "../registry/uri.js";

/**
 * Awaits `action` and returns the MlopsError it throws, checking its code and message.
 *
 * @example
 * await expectMlopsError(store.getRun("missing"), "registry_not_found", /not found/);
 */
export async function expectMlopsError(
  action: Promise<unknown> | (() => Promise<unknown>),
  code: MlopsErrorCode,
  message?: RegExp | string,
): Promise<MlopsError> {
  let outcome: unknown;
  try {
    await (typeof action === "function" ? action() : action);
  } catch (error) {
    outcome = error;
  }
  expect(MlopsError.isInstance(outcome), `expected an MlopsError "${code}"`).toBe(true);
  const error = outcome as MlopsError;
  expect({ code: error.code, message: error.message }).toMatchObject({ code });
  if (message !== undefined) expect(error.message).toMatch(message);
  return error;
}

/** The value after a JSON round trip must be the value: no classes, Dates or undefined keys. */
function expectPlainJson(value: unknown): void {
  expect(JSON.parse(JSON.stringify(value))).toStrictEqual(value);
}

function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

function sha256(data: Uint8Array): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

/** Names every store must refuse, whatever it stores them in. */
export const INVALID_REGISTRY_NAMES: readonly string[] = [
  "",
  "../x",
  "a/b",
  "/etc/passwd",
  "a\\b",
  "C:\\models",
  "nul\0byte",
  ".hidden",
  "..",
  "x".repeat(256),
  "tab\tname",
  "trailing.",
];

/** Opens a new, empty registry of the backend under test; the suite closes it after each test. */
export type CreateRegistryStore = () => Promise<RegistryStore>;

/**
 * The behaviour every `TrackingStore` must have: experiments, runs (params, metric history,
 * tags, artifacts), `searchRuns` with MLflow's filter syntax, and name validation. Call it from
 * a backend's test file with a factory that opens a new, empty registry each time.
 *
 * @example
 * import { describeTrackingStoreConformance } from "@mlops/core/testing";
 * describeTrackingStoreConformance("folder", async () =>
 *   openFolderStore(await mkdtemp(join(tmpdir(), "registry-"))),
 * );
 */
export function describeTrackingStoreConformance(
  name: string,
  createStore: CreateRegistryStore,
): void {
  describe(`TrackingStore conformance: ${name}`, () => {
    let opened: RegistryStore | undefined;
    let store: TrackingStore;

    beforeEach(async () => {
      opened = await createStore();
      store = opened.tracking;
    });

    afterEach(async () => {
      vi.unstubAllEnvs();
      await opened?.close();
      opened = undefined;
    });

    describe("experiments", () => {
      it("has the Default experiment with id 0 without creating it", async () => {
        const experiment = await store.getExperiment("0");
        expect(experiment).toMatchObject({ experimentId: "0", name: "Default", tags: {} });
        expect(await store.getExperimentByName("Default")).toStrictEqual(experiment);
        expect(await store.listExperiments()).toStrictEqual([experiment]);
        expectPlainJson(experiment);
      });

      it("creates, finds and lists experiments with unique names", async () => {
        const created = await store.createExperiment("wine-tuning", { tags: { team: "ml" } });
        expect(created).toMatchObject({ name: "wine-tuning", tags: { team: "ml" } });
        expect(created.experimentId).not.toBe("0");
        expect(typeof created.createdAt).toBe("number");
        expectPlainJson(created);
        expect(await store.getExperiment(created.experimentId)).toStrictEqual(created);
        expect(await store.getExperimentByName("wine-tuning")).toStrictEqual(created);
        const other = await store.createExperiment("housing");
        expect(other.experimentId).not.toBe(created.experimentId);
        const names = (await store.listExperiments()).map((experiment) => experiment.name);
        expect(names.sort()).toEqual(["Default", "housing", "wine-tuning"]);
        await expectMlopsError(
          store.createExperiment("wine-tuning"),
          "registry_conflict",
          /already exists/,
        );
        await expectMlopsError(store.createExperiment("Default"), "registry_conflict");
        expect(await store.getExperimentByName("missing")).toBeUndefined();
        await expectMlopsError(
          store.getExperiment("424242"),
          "registry_not_found",
          /experiment 424242 not found in .+; experiments: .*\(housing\)/,
        );
      });
    });

    describe("runs", () => {
      it("creates a RUNNING run with MLflow's defaults and reads it back", async () => {
        const before = Date.now();
        const run = await store.createRun({ experimentId: "0" });
        expect(run).toMatchObject({
          experimentId: "0",
          status: "RUNNING",
          params: {},
          metrics: {},
          tags: {},
        });
        expect(run.runName).toMatch(/\S/);
        expect(run.startTime).toBeGreaterThanOrEqual(before);
        expect(run).not.toHaveProperty("endTime");
        expect(run).not.toHaveProperty("parentRunId");
        expectPlainJson(run);
        expect(await store.getRun(run.runId)).toStrictEqual(run);
        expect((await store.createRun()).experimentId).toBe("0");
      });

      it("keeps the given name, start time, tags and parent run", async () => {
        const experiment = await store.createExperiment("nested");
        const parent = await store.createRun({ experimentId: experiment.experimentId });
        const child = await store.createRun({
          experimentId: experiment.experimentId,
          runName: "trial-1",
          parentRunId: parent.runId,
          tags: { estimator: "tree" },
          startTime: 1_700_000_000_000,
        });
        expect(child).toMatchObject({
          runName: "trial-1",
          parentRunId: parent.runId,
          tags: { estimator: "tree" },
          startTime: 1_700_000_000_000,
        });
        expect(await store.getRun(child.runId)).toStrictEqual(child);
        await expectMlopsError(store.createRun({ experimentId: "424242" }), "registry_not_found");
        // Every backend checks a run's options alike, before anything is stored.
        await expectMlopsError(
          store.createRun({ runName: "x".repeat(251) }),
          "argument_invalid",
          /runName/,
        );
        await expectMlopsError(
          store.createRun({ parentRunId: "../etc" }),
          "registry_name_invalid",
          /parent run id/,
        );
        await expectMlopsError(
          store.searchRuns({ experimentIds: ["../etc"] }),
          "registry_name_invalid",
          /experiment id/,
        );
        await expectMlopsError(
          store.createRun({ parentRunId: "0123456789abcdef0123456789abcdef" }),
          "registry_not_found",
        );
        await expectMlopsError(
          store.getRun("0123456789abcdef0123456789abcdef"),
          "registry_not_found",
        );
      });

      it("stores params as strings and never lets one change", async () => {
        const { runId } = await store.createRun();
        await store.logParams(runId, { max_depth: 5, learning_rate: 0.1, bootstrap: true });
        await store.logParams(runId, { max_depth: "5", criterion: "squared_error" });
        const conflict = await expectMlopsError(
          store.logParams(runId, { extra: "x", max_depth: 6 }),
          "registry_conflict",
          /param "max_depth" is already "5".*"6"/,
        );
        expect(conflict.message).toContain(runId);
        const run = await store.getRun(runId);
        // The rejected batch left nothing behind, not even its valid "extra" param.
        expect(run.params).toStrictEqual({
          max_depth: "5",
          learning_rate: "0.1",
          bootstrap: "true",
          criterion: "squared_error",
        });
        await expectMlopsError(store.logParams(runId, { "../x": 1 }), "registry_name_invalid");
      });

      it("keeps every metric value with its step and reports the latest per key", async () => {
        const { runId } = await store.createRun();
        await store.logMetrics(runId, [
          { key: "rmse", value: 0.9, timestamp: 1000, step: 0 },
          { key: "rmse", value: 0.6, timestamp: 1500, step: 2 },
        ]);
        // Logged later but for an earlier step: part of the history, not the latest value.
        await store.logMetrics(runId, [
          { key: "rmse", value: 0.7, timestamp: 2000, step: 1 },
          { key: "mae", value: 0.5, timestamp: 2000, step: 0 },
          { key: "mae", value: 0.4, timestamp: 2500, step: 0 },
        ]);
        expect(await store.getMetricHistory(runId, "rmse")).toStrictEqual([
          { key: "rmse", value: 0.9, timestamp: 1000, step: 0 },
          { key: "rmse", value: 0.7, timestamp: 2000, step: 1 },
          { key: "rmse", value: 0.6, timestamp: 1500, step: 2 },
        ]);
        const run = await store.getRun(runId);
        expect(run.metrics).toStrictEqual({ rmse: 0.6, mae: 0.4 });
        expectPlainJson(run);
        expect(await store.getMetricHistory(runId, "r2")).toStrictEqual([]);

        const before = Date.now();
        await store.logMetrics(runId, [{ key: "train/loss", value: 1.5 }]);
        const [loss] = await store.getMetricHistory(runId, "train/loss");
        expect(loss.step).toBe(0);
        expect(loss.timestamp).toBeGreaterThanOrEqual(before);
        await expectMlopsError(
          store.logMetrics(runId, [{ key: "rmse", value: Number.NaN }]),
          "argument_invalid",
          /finite/,
        );
        await expectMlopsError(
          store.logMetrics(runId, [{ key: "rmse", value: 1, step: 0.5 }]),
          "argument_invalid",
        );
      });

      it("merges tags and ends runs with a terminal status", async () => {
        const { runId } = await store.createRun({ tags: { a: "1" } });
        await store.setTags(runId, { b: "2" });
        await store.setTags(runId, { a: "3" });
        expect((await store.getRun(runId)).tags).toStrictEqual({ a: "3", b: "2" });
        const failed = await store.endRun(runId, "FAILED", 1_700_000_000_123);
        expect(failed).toMatchObject({ status: "FAILED", endTime: 1_700_000_000_123 });
        expect(await store.getRun(runId)).toStrictEqual(failed);
        const other = await store.createRun();
        expect((await store.endRun(other.runId)).status).toBe("FINISHED");
        await expectMlopsError(store.endRun(other.runId, "DONE" as never), "argument_invalid");
      });

      it("stores run artifacts by content and verifies them on read", async () => {
        const { runId } = await store.createRun();
        const data = bytes("feature importances");
        const info = await store.logArtifact(runId, "importances.json", data);
        expect(info).toStrictEqual({
          name: "importances.json",
          digest: sha256(data),
          sizeBytes: data.byteLength,
        });
        await store.logArtifact(runId, "notes.txt", bytes("n"));
        expect((await store.listArtifacts(runId)).map((item) => item.name)).toEqual([
          "importances.json",
          "notes.txt",
        ]);
        expect(Buffer.from(await store.readArtifact(runId, "importances.json"))).toEqual(
          Buffer.from(data),
        );
        await expectMlopsError(
          store.readArtifact(runId, "missing.bin"),
          "registry_not_found",
          /no artifact "missing.bin"; artifacts: importances.json, notes.txt/,
        );
      });
    });

    describe("searchRuns", () => {
      let experimentId: string;
      let otherExperimentId: string;
      const runs: Record<string, Run> = {};

      beforeEach(async () => {
        experimentId = (await store.createExperiment("search")).experimentId;
        otherExperimentId = (await store.createExperiment("other")).experimentId;
        const specs = [
          { name: "a", start: 1000, rmse: 0.5, depth: "5", team: "x", status: "FINISHED" },
          { name: "b", start: 2000, rmse: 0.9, depth: "5", team: "y", status: "FINISHED" },
          { name: "c", start: 3000, rmse: 0.7, depth: "3", team: undefined, status: "FAILED" },
          { name: "d", start: 4000, rmse: undefined, depth: "5", team: "y", status: "RUNNING" },
        ] as const;
        for (const spec of specs) {
          const run = await store.createRun({
            experimentId,
            runName: `run-${spec.name}`,
            startTime: spec.start,
            tags: spec.team ? { team: spec.team } : {},
          });
          await store.logParams(run.runId, { max_depth: spec.depth });
          if (spec.rmse !== undefined) {
            await store.logMetrics(run.runId, [{ key: "rmse", value: spec.rmse, step: 0 }]);
          }
          if (spec.status !== "RUNNING") await store.endRun(run.runId, spec.status, spec.start + 1);
          runs[spec.name] = await store.getRun(run.runId);
        }
        runs.other = await store.createRun({ experimentId: otherExperimentId, startTime: 5000 });
      });

      const namesOf = (found: Run[]) => found.map((run) => run.runName);

      it("filters with MLflow's syntax", async () => {
        const search = async (filter: string) =>
          namesOf(await store.searchRuns({ experimentIds: [experimentId], filter }));
        expect(await search("metrics.rmse < 0.8 and params.max_depth = '5'")).toEqual(["run-a"]);
        expect(await search("metrics.rmse <= 0.7")).toEqual(["run-c", "run-a"]);
        expect(await search("metrics.rmse >= 0.7 AND metrics.rmse > 0.5")).toEqual([
          "run-c",
          "run-b",
        ]);
        // A run lacking the key matches no comparison, not even !=.
        expect(await search("tags.team != 'x'")).toEqual(["run-d", "run-b"]);
        expect(await search("metrics.rmse != 0.5")).toEqual(["run-c", "run-b"]);
        expect(await search("attributes.status = 'FINISHED'")).toEqual(["run-b", "run-a"]);
        expect(await search("attributes.status != 'FINISHED'")).toEqual(["run-d", "run-c"]);
        expect(await search("attributes.run_name LIKE 'run-%'")).toHaveLength(4);
        expect(await search("attributes.run_name ILIKE 'RUN-_'")).toHaveLength(4);
        expect(await search("params.max_depth IN ('3', '4')")).toEqual(["run-c"]);
        expect(await search("params.max_depth NOT IN ('3')")).toEqual(["run-d", "run-b", "run-a"]);
        expect(await search("attributes.start_time >= 3000")).toEqual(["run-d", "run-c"]);
        expect(await search(`attributes.run_id = '${runs.b.runId}'`)).toEqual(["run-b"]);
        expect(await search('tags.`team` = "y"')).toEqual(["run-d", "run-b"]);
        expect(await search("")).toHaveLength(4);
      });

      it("orders by any key with runs missing it last, then newest first", async () => {
        const order = async (orderBy: string[]) =>
          namesOf(await store.searchRuns({ experimentIds: [experimentId], orderBy }));
        expect(await order(["metrics.rmse ASC"])).toEqual(["run-a", "run-c", "run-b", "run-d"]);
        expect(await order(["metrics.rmse DESC"])).toEqual(["run-b", "run-c", "run-a", "run-d"]);
        expect(await order(["params.max_depth", "attributes.start_time ASC"])).toEqual([
          "run-c",
          "run-a",
          "run-b",
          "run-d",
        ]);
        expect(await order([])).toEqual(["run-d", "run-c", "run-b", "run-a"]);
        expect(await order(["tags.team DESC"])).toEqual(["run-d", "run-b", "run-a", "run-c"]);
      });

      it("limits results and filters by experiment and parent run", async () => {
        const all = await store.searchRuns();
        expect(all.map((run) => run.runId)).toContain(runs.other.runId);
        expect(all).toHaveLength(5);
        const limited = await store.searchRuns({
          experimentIds: [experimentId],
          orderBy: ["metrics.rmse ASC"],
          maxResults: 2,
        });
        expect(namesOf(limited)).toEqual(["run-a", "run-c"]);
        expect(await store.searchRuns({ experimentIds: [otherExperimentId] })).toStrictEqual([
          runs.other,
        ]);
        const child = await store.createRun({ experimentId, parentRunId: runs.a.runId });
        const children = await store.searchRuns({ parentRunId: runs.a.runId });
        expect(children.map((run) => run.runId)).toEqual([child.runId]);
        for (const run of all) expectPlainJson(run);
        await expectMlopsError(
          store.searchRuns({ maxResults: 0 }),
          "argument_invalid",
          /maxResults/,
        );
      });

      it("rejects bad filters and orderings saying where and what was expected", async () => {
        const bad: [string, RegExp][] = [
          ["metrics.rmse <", /expected a number .* found end of input at position 15/],
          ["metrics.rmse < 1 or params.a = 'b'", /OR is not supported/],
          ["params.max_depth = 5", /quote the value, e.g. params.max_depth = '5'/],
          ["metrics.rmse < 'abc'", /expected a number/],
          ["foo.bar = 'x'", /unknown entity "foo"/],
          ["rmse < 1", /expected an identifier like metrics.rmse/],
          ["attributes.color = 'red'", /unknown attribute "color"/],
          ["metrics.rmse LIKE '0.%'", /cannot be compared with LIKE/],
          ["params.a = 'unterminated", /unterminated ' quote at position 12/],
          ["attributes.status = 'DONE'", /unknown run status "DONE"/],
          ["metrics.rmse < 1 metrics.mae < 2", /expected "AND"/],
          ["params.a IN ('x' 'y')", /expected "," or "\)"/],
          ["metrics.rmse ~ 1", /unexpected character "~"/],
        ];
        for (const [filter, message] of bad) {
          await expectMlopsError(store.searchRuns({ filter }), "filter_invalid", message);
        }
        await expectMlopsError(
          store.searchRuns({ orderBy: ["metrics.rmse UP"] }),
          "filter_invalid",
          /expected "ASC", "DESC"/,
        );
      });
    });

    describe("importRun", () => {
      it("writes a run exactly as given, and again is unchanged", async () => {
        const experiment = await store.createExperiment("imported");
        const parent = await store.createRun({ experimentId: experiment.experimentId });
        const blob = bytes("importances");
        const { digest } = await opened!.artifacts.put(blob);
        const record = {
          run: {
            runId: "0123456789abcdef0123456789abcdef",
            experimentId: experiment.experimentId,
            runName: "copied",
            status: "FINISHED" as const,
            startTime: 1_700_000_000_000,
            endTime: 1_700_000_005_000,
            parentRunId: parent.runId,
            params: { max_depth: "5" },
            metrics: { rmse: 0.6 },
            tags: { team: "ml" },
          },
          metricHistory: [
            { key: "rmse", value: 0.9, timestamp: 1000, step: 0 },
            { key: "rmse", value: 0.6, timestamp: 1500, step: 1 },
          ],
          artifacts: [{ name: "importances.json", digest, sizeBytes: blob.byteLength }],
        };
        expect(await store.importRun(record)).toBe("created");
        expect(await store.getRun(record.run.runId)).toStrictEqual(record.run);
        expect(await store.getMetricHistory(record.run.runId, "rmse")).toStrictEqual(
          record.metricHistory,
        );
        expect(await store.listArtifacts(record.run.runId)).toStrictEqual(record.artifacts);
        expect(Buffer.from(await store.readArtifact(record.run.runId, "importances.json"))).toEqual(
          Buffer.from(blob),
        );
        expect(await store.importRun(record)).toBe("unchanged");
        const moved = {
          ...record,
          run: { ...record.run, metrics: { rmse: 0.5 }, tags: { team: "ops" } },
          metricHistory: [
            ...record.metricHistory,
            { key: "rmse", value: 0.5, timestamp: 2000, step: 2 },
          ],
        };
        expect(await store.importRun(moved)).toBe("updated");
        expect(await store.getRun(record.run.runId)).toStrictEqual(moved.run);
        expect(await store.getMetricHistory(record.run.runId, "rmse")).toHaveLength(3);
        // Runs found by search as any other.
        const found = await store.searchRuns({ filter: "tags.team = 'ops'" });
        expect(found.map((run) => run.runId)).toEqual([record.run.runId]);
      });

      it("refuses runs whose experiment, parent or blobs are not here", async () => {
        const base = {
          runId: "fedcba9876543210fedcba9876543210",
          experimentId: "0",
          runName: "x",
          status: "RUNNING" as const,
          startTime: 1,
          params: {},
          metrics: {},
          tags: {},
        };
        await expectMlopsError(
          store.importRun({
            run: { ...base, experimentId: "424242" },
            metricHistory: [],
            artifacts: [],
          }),
          "registry_not_found",
        );
        await expectMlopsError(
          store.importRun({
            run: { ...base, parentRunId: "0123456789abcdef0123456789abcdef" },
            metricHistory: [],
            artifacts: [],
          }),
          "registry_not_found",
        );
        await expectMlopsError(
          store.importRun({
            run: base,
            metricHistory: [],
            artifacts: [{ name: "a.bin", digest: sha256(bytes("absent")), sizeBytes: 6 }],
          }),
          "artifact_corrupt",
          /not in this registry's artifact store/,
        );
        await expectMlopsError(
          store.importRun({
            run: { ...base, status: "DONE" as never },
            metricHistory: [],
            artifacts: [],
          }),
          "argument_invalid",
        );
        await expectMlopsError(store.getRun(base.runId), "registry_not_found");
      });
    });

    describe("name validation", () => {
      it("refuses unsafe names everywhere with registry_name_invalid", async () => {
        const { runId } = await store.createRun();
        for (const bad of INVALID_REGISTRY_NAMES) {
          const attempts: (() => Promise<unknown>)[] = [
            () => store.createExperiment(bad),
            () => store.createRun({ tags: { [bad]: "x" } }),
            () => store.setTags(runId, { [bad]: "x" }),
            () => store.logArtifact(runId, bad, bytes("x")),
            () => store.readArtifact(runId, bad),
          ];
          for (const attempt of attempts) {
            const error = await expectMlopsError(
              attempt,
              "registry_name_invalid",
              /is invalid: .*expected/,
            );
            expect(error.message).not.toContain("\0");
          }
        }
        await expectMlopsError(store.getRun("../../etc"), "registry_name_invalid", /run id/);
        expect(await store.listExperiments()).toHaveLength(1);
        expect(await store.listArtifacts(runId)).toEqual([]);
      });

      it("accepts names with letters, digits, '_', '-', '.' and inner spaces", async () => {
        for (const good of ["wine tuning 2024", "Wine_Quality-2.1", "_private", "x".repeat(255)]) {
          const experiment = await store.createExperiment(good);
          expect(experiment.name).toBe(good);
          expect(await store.getExperimentByName(good)).toStrictEqual(experiment);
        }
      });
    });
  });
}

/**
 * The behaviour every `ModelRegistryStore` must have: registered models, immutable numbered
 * versions over the artifact store, aliases and their append-only history, model URIs, digest
 * checks and name validation. Call it from a backend's test file with a factory that opens a
 * new, empty registry each time (versions may name runs of its tracking store).
 *
 * @example
 * import { describeModelRegistryStoreConformance } from "@mlops/core/testing";
 * describeModelRegistryStoreConformance("folder", async () =>
 *   openFolderStore(await mkdtemp(join(tmpdir(), "registry-"))),
 * );
 */
export function describeModelRegistryStoreConformance(
  name: string,
  createStore: CreateRegistryStore,
): void {
  describe(`ModelRegistryStore conformance: ${name}`, () => {
    let opened: RegistryStore | undefined;
    let store: ModelRegistryStore;
    let tracking: TrackingStore;

    beforeEach(async () => {
      opened = await createStore();
      store = opened.models;
      tracking = opened.tracking;
    });

    afterEach(async () => {
      vi.unstubAllEnvs();
      await opened?.close();
      opened = undefined;
    });

    describe("registered models and versions", () => {
      it("creates a registered model once and lists it", async () => {
        const model = await store.createRegisteredModel("wine", {
          description: "red wine quality",
          tags: { owner: "ana" },
        });
        expect(model).toStrictEqual({
          name: "wine",
          description: "red wine quality",
          tags: { owner: "ana" },
          createdAt: model.createdAt,
          aliases: {},
        });
        expect(typeof model.createdAt).toBe("number");
        expect(await store.getRegisteredModel("wine")).toStrictEqual(model);
        await expectMlopsError(
          store.createRegisteredModel("wine"),
          "registry_conflict",
          /already exists/,
        );
        await store.createRegisteredModel("housing");
        const names = (await store.listRegisteredModels()).map((item) => item.name);
        expect(names).toEqual(["housing", "wine"]);
        await expectMlopsError(
          store.getRegisteredModel("beer"),
          "registry_not_found",
          /model "beer" not found.*housing, wine/,
        );
      });

      it("numbers versions from 1 and creates the model on first use", async () => {
        const { runId } = await tracking.createRun();
        const artifacts = [bytes("model one"), bytes("model two"), bytes("model three")];
        const versions = [];
        for (const [index, artifact] of artifacts.entries()) {
          versions.push(
            await store.createModelVersion("wine", {
              artifact,
              runId,
              tags: { index: String(index) },
              metadata: { kind: "tree", metrics: { rmse: 0.6 + index / 10 }, features: ["a"] },
            }),
          );
        }
        expect(versions.map((version) => version.version)).toEqual([1, 2, 3]);
        const [first] = versions;
        expect(first).toStrictEqual({
          name: "wine",
          version: 1,
          digest: sha256(artifacts[0]),
          sizeBytes: artifacts[0].byteLength,
          runId,
          tags: { index: "0" },
          metadata: { kind: "tree", metrics: { rmse: 0.6 }, features: ["a"] },
          createdAt: first.createdAt,
          aliases: [],
        });
        expectPlainJson(first);
        expect(await store.getModelVersion("wine", 1)).toStrictEqual(first);
        expect(await store.listModelVersions("wine")).toStrictEqual(versions);
        expect(await store.getLatestModelVersion("wine")).toStrictEqual(versions[2]);
        expect((await store.getRegisteredModel("wine")).latestVersion).toBe(3);
        const read = await store.readModelArtifact("wine", 2);
        expect(Buffer.from(read)).toEqual(Buffer.from(artifacts[1]));
        expect(sha256(read)).toBe(versions[1].digest);

        const again = await store.createModelVersion("wine", {
          artifact: artifacts[0],
          description: "same bytes",
        });
        expect(again).toMatchObject({
          version: 4,
          digest: first.digest,
          description: "same bytes",
        });
        expect(again).not.toHaveProperty("runId");
        expect(again.metadata).toStrictEqual({});
      });

      it("gives concurrent registrations distinct consecutive versions", async () => {
        const created = await Promise.all(
          Array.from({ length: 6 }, (_, index) =>
            store.createModelVersion("wine", { artifact: bytes(`concurrent ${index}`) }),
          ),
        );
        const numbers = created.map((version) => version.version).sort((a, b) => a - b);
        expect(numbers).toEqual([1, 2, 3, 4, 5, 6]);
        expect((await store.listModelVersions("wine")).map((version) => version.version)).toEqual(
          numbers,
        );
      });

      it("explains unknown models and versions and rejects bad arguments", async () => {
        await store.createModelVersion("wine", { artifact: bytes("a") });
        await store.createModelVersion("wine", { artifact: bytes("b") });
        await expectMlopsError(
          store.getModelVersion("beer", 1),
          "registry_not_found",
          /"beer" not found/,
        );
        await expectMlopsError(
          store.getModelVersion("wine", 9),
          "registry_not_found",
          'model "wine" has no version 9; versions: 1-2',
        );
        await expectMlopsError(
          store.getModelVersion("wine", 0),
          "argument_invalid",
          /positive integer/,
        );
        await expectMlopsError(store.getModelVersion("wine", 1.5), "argument_invalid");
        await expectMlopsError(store.readModelArtifact("wine", 3), "registry_not_found");
        await store.createRegisteredModel("empty");
        await expectMlopsError(
          store.getLatestModelVersion("empty"),
          "registry_not_found",
          /no versions/,
        );
        await expectMlopsError(
          store.createModelVersion("wine", { artifact: "text" as never }),
          "argument_invalid",
          /Uint8Array/,
        );
        await expectMlopsError(
          store.createModelVersion("wine", {
            artifact: bytes("c"),
            metadata: { when: new Date(0) },
          }),
          "argument_invalid",
          /metadata.when: expected plain JSON, got a Date/,
        );
        await expectMlopsError(
          store.createModelVersion("wine", { artifact: bytes("c"), metadata: { rmse: Infinity } }),
          "argument_invalid",
          /metadata.rmse/,
        );
        await expectMlopsError(
          store.createModelVersion("wine", {
            artifact: bytes("c"),
            runId: "0123456789abcdef0123456789abcdef",
          }),
          "registry_not_found",
        );
        expect((await store.listModelVersions("wine")).map((version) => version.version)).toEqual([
          1, 2,
        ]);
      });
    });

    describe("aliases and their history", () => {
      beforeEach(async () => {
        for (const text of ["v1", "v2", "v3"]) {
          await store.createModelVersion("wine", { artifact: bytes(text) });
        }
      });

      it("sets, moves, reads, lists and deletes aliases", async () => {
        await store.setAlias("wine", "production", 1);
        await store.setAlias("wine", "staging", 2);
        await store.setAlias("wine", "production", 2);
        expect(await store.getAlias("wine", "production")).toBe(2);
        expect(await store.listAliases("wine")).toStrictEqual({ production: 2, staging: 2 });
        expect((await store.getRegisteredModel("wine")).aliases).toStrictEqual({
          production: 2,
          staging: 2,
        });
        expect((await store.getModelVersion("wine", 2)).aliases).toEqual(["production", "staging"]);
        expect((await store.getModelVersion("wine", 1)).aliases).toEqual([]);
        expect((await store.listModelVersions("wine")).map((version) => version.aliases)).toEqual([
          [],
          ["production", "staging"],
          [],
        ]);
        await store.deleteAlias("wine", "staging");
        expect(await store.listAliases("wine")).toStrictEqual({ production: 2 });
        await expectMlopsError(
          store.getAlias("wine", "staging"),
          "registry_not_found",
          'model "wine" has no alias "staging"; aliases: production',
        );
      });

      it("explains unknown aliases, versions and reserved names", async () => {
        await store.setAlias("wine", "production", 1);
        await store.setAlias("wine", "staging", 2);
        await expectMlopsError(
          store.getAlias("wine", "prod"),
          "registry_not_found",
          'model "wine" has no alias "prod"; aliases: production, staging',
        );
        await expectMlopsError(
          store.deleteAlias("wine", "prod"),
          "registry_not_found",
          /no alias "prod"/,
        );
        await expectMlopsError(
          store.setAlias("wine", "canary", 7),
          "registry_not_found",
          /no version 7/,
        );
        await expectMlopsError(store.setAlias("beer", "canary", 1), "registry_not_found", /"beer"/);
        await expectMlopsError(
          store.setAlias("wine", "latest", 1),
          "registry_name_invalid",
          /reserved/,
        );
        for (const alias of ["Prod", "pro duction", "a.b", "", "v2", "3", "../x"]) {
          await expectMlopsError(store.setAlias("wine", alias, 1), "registry_name_invalid");
        }
        expect(await store.getAliasHistory("wine")).toHaveLength(2);
      });

      it("records every move, append-only, with actor, time and reason", async () => {
        vi.stubEnv("GITHUB_ACTOR", "octocat");
        const before = Date.now();
        const first = await store.setAlias("wine", "production", 1, { reason: "first model" });
        expect(first).toMatchObject({
          name: "wine",
          alias: "production",
          fromVersion: null,
          toVersion: 1,
          actor: "octocat",
          reason: "first model",
        });
        expect(first.time).toBeGreaterThanOrEqual(before);
        await store.setAlias("wine", "staging", 3, { actor: "ci-bot" });
        const moved = await store.setAlias("wine", "production", 2, {
          actor: "ana",
          reason: "gate passed",
        });
        expect(moved).toMatchObject({ fromVersion: 1, toVersion: 2, actor: "ana" });
        const snapshot = await store.getAliasHistory("wine");
        const deleted = await store.deleteAlias("wine", "production", { reason: "rollback" });
        expect(deleted).toMatchObject({ fromVersion: 2, toVersion: null, reason: "rollback" });

        const history = await store.getAliasHistory("wine");
        expect(history.slice(0, snapshot.length)).toStrictEqual(snapshot);
        expect(history).toStrictEqual([...snapshot, deleted]);
        expect(history.map((entry) => [entry.alias, entry.fromVersion, entry.toVersion])).toEqual([
          ["production", null, 1],
          ["staging", null, 3],
          ["production", 1, 2],
          ["production", 2, null],
        ]);
        expect(history[1]).toMatchObject({ actor: "ci-bot", reason: null });
        for (const [index, entry] of history.entries()) {
          expectPlainJson(entry);
          if (index > 0) expect(entry.time).toBeGreaterThanOrEqual(history[index - 1].time);
        }
        const production = await store.getAliasHistory("wine", { alias: "production" });
        expect(production.map((entry) => entry.toVersion)).toEqual([1, 2, null]);

        vi.stubEnv("GITHUB_ACTOR", "");
        const local = await store.setAlias("wine", "production", 3);
        expect(local.actor).toBe(currentActor());
        expect(local.actor).not.toBe("");
        await expectMlopsError(
          store.setAlias("wine", "production", 1, { actor: " " }),
          "argument_invalid",
        );
      });
    });

    describe("deleting versions", () => {
      it("deletes a version no alias points at; its number is never given again", async () => {
        const remove = store.deleteModelVersion?.bind(store);
        expect(remove, "deleteModelVersion").toBeTypeOf("function");
        if (remove === undefined) return;
        for (const text of ["d1", "d2", "d3"]) {
          await store.createModelVersion("wine", { artifact: bytes(text) });
        }
        await store.setAlias("wine", "production", 3, { reason: "first" });
        await store.setAlias("wine", "staging", 2);
        const refused = await expectMlopsError(
          remove("wine", 2),
          "registry_conflict",
          /version 2 of model "wine" is not deleted: @staging points at it/,
        );
        expect(refused.message).not.toContain("@production");
        await store.setAlias("wine", "production", 2, { reason: "back" });
        await expectMlopsError(
          remove("wine", 2),
          "registry_conflict",
          /@production, @staging point at it/,
        );

        const three = await store.getModelVersion("wine", 3);
        const deleted = await remove("wine", 3);
        expect(deleted).toMatchObject({ name: "wine", version: 3, digest: three.digest });
        expect((await store.listModelVersions("wine")).map((version) => version.version)).toEqual([
          1, 2,
        ]);
        await expectMlopsError(store.getModelVersion("wine", 3), "registry_not_found", /3/);
        await expectMlopsError(store.readModelArtifact("wine", 3), "registry_not_found");
        expect((await store.getLatestModelVersion("wine")).version).toBe(2);
        expect((await store.getRegisteredModel("wine")).latestVersion).toBe(2);
        // The history keeps the moves to the deleted version.
        expect(
          (await store.getAliasHistory("wine", { alias: "production" })).map((entry) => [
            entry.toVersion,
            entry.reason,
          ]),
        ).toEqual([
          [3, "first"],
          [2, "back"],
        ]);
        // models:/wine/3 never comes to mean other bytes.
        const next = await store.createModelVersion("wine", { artifact: bytes("d4") });
        expect(next.version).toBe(4);
        await expectMlopsError(remove("wine", 3), "registry_not_found");
        await expectMlopsError(remove("beer", 1), "registry_not_found", /model "beer"/);
        await expectMlopsError(remove("wine", 0), "argument_invalid");

        // Deleting the only version leaves the model with none, and numbering goes on.
        await store.createModelVersion("solo", { artifact: bytes("s1") });
        await remove("solo", 1);
        expect(await store.listModelVersions("solo")).toEqual([]);
        expect((await store.getRegisteredModel("solo")).latestVersion).toBeUndefined();
        expect((await store.createModelVersion("solo", { artifact: bytes("s2") })).version).toBe(2);
      });
    });

    describe("model URIs", () => {
      it("parses the three forms and rejects the rest", () => {
        expect(parseModelUri("models:/wine/3")).toEqual({
          name: "wine",
          kind: "version",
          version: 3,
        });
        expect(parseModelUri("models:/wine@production")).toEqual({
          name: "wine",
          kind: "alias",
          alias: "production",
        });
        expect(parseModelUri("models:/wine/latest")).toEqual({ name: "wine", kind: "latest" });
        expect(parseModelUri("models:/wine@latest")).toEqual({ name: "wine", kind: "latest" });
        expect(() => parseModelUri("models:/wine/Production")).toThrow(
          /stages are not supported, use an alias: models:\/wine@production/,
        );
        for (const uri of [
          "wine",
          "models:/",
          "models:/wine",
          "models:/wine/",
          "models:/wine/0",
          "models:/wine/07",
          "models:/wine/1.5",
          "models:/../x/1",
          "models:/a/b/1",
          "models:/wine@Prod",
          "models:/@prod",
          "runs:/abc/model",
        ]) {
          const result = safeParseModelUri(uri);
          expect(result.success, uri).toBe(false);
          if (!result.success) {
            expect(result.error.code).toBe("uri_invalid");
            expect(result.error.message).toContain(JSON.stringify(uri));
          }
        }
        expect(safeParseModelUri("models:/wine/2")).toEqual({
          success: true,
          data: { name: "wine", kind: "version", version: 2 },
        });
      });

      it("resolves URIs to model versions with clear errors", async () => {
        for (const text of ["v1", "v2", "v3"]) {
          await store.createModelVersion("wine", { artifact: bytes(text) });
        }
        await store.setAlias("wine", "production", 2);
        await store.setAlias("wine", "staging", 3);
        expect((await resolveModelUri(store, "models:/wine/1")).version).toBe(1);
        expect((await resolveModelUri(store, "models:/wine@production")).version).toBe(2);
        expect((await resolveModelUri(store, "models:/wine/latest")).version).toBe(3);
        const resolved = await resolveModelUri(store, {
          name: "wine",
          kind: "alias",
          alias: "staging",
        });
        expect(resolved).toStrictEqual(await store.getModelVersion("wine", 3));
        await expectMlopsError(
          resolveModelUri(store, "models:/beer/1"),
          "registry_not_found",
          /"beer"/,
        );
        await expectMlopsError(
          resolveModelUri(store, "models:/wine/8"),
          "registry_not_found",
          /no version 8; versions: 1-3/,
        );
        await expectMlopsError(
          resolveModelUri(store, "models:/wine@prod"),
          "registry_not_found",
          'model "wine" has no alias "prod"; aliases: production, staging',
        );
        await expectMlopsError(resolveModelUri(store, "models:/wine"), "uri_invalid");
      });
    });

    describe("imports", () => {
      it("keep a model, its version numbers and its alias history as they were", async () => {
        const blobs = [bytes("one"), bytes("two"), bytes("three")];
        const digests = [];
        for (const blob of blobs) digests.push((await opened!.artifacts.put(blob)).digest);
        const model = { name: "wine", description: "red", tags: { owner: "ana" }, createdAt: 1000 };
        expect(await store.importRegisteredModel(model)).toBe("created");
        expect(await store.importRegisteredModel(model)).toBe("unchanged");
        const versions = digests.map((digest, index) => ({
          name: "wine",
          version: index + 1,
          digest,
          sizeBytes: blobs[index].byteLength,
          tags: { index: String(index) },
          metadata: { kind: "tree" },
          createdAt: 2000 + index,
        }));
        for (const version of versions)
          expect(await store.importModelVersion(version)).toBe("created");
        expect(await store.importModelVersion(versions[1])).toBe("unchanged");
        await expectMlopsError(
          store.importModelVersion({ ...versions[1], digest: digests[0], sizeBytes: 3 }),
          "registry_conflict",
          /version 2 already exists here with other contents/,
        );
        const history = [
          {
            name: "wine",
            alias: "production",
            fromVersion: null,
            toVersion: 1,
            actor: "ana",
            time: 3000,
            reason: "first",
          },
          {
            name: "wine",
            alias: "staging",
            fromVersion: null,
            toVersion: 3,
            actor: "ci",
            time: 3001,
            reason: null,
          },
          {
            name: "wine",
            alias: "production",
            fromVersion: 1,
            toVersion: 2,
            actor: "ana",
            time: 3002,
            reason: "gate passed",
          },
        ];
        expect(await store.importAliasHistory("wine", history.slice(0, 2))).toBe("updated");
        expect(await store.importAliasHistory("wine", history)).toBe("updated");
        expect(await store.importAliasHistory("wine", history)).toBe("unchanged");
        expect(await store.getAliasHistory("wine")).toStrictEqual(history);
        expect(await store.listAliases("wine")).toStrictEqual({ production: 2, staging: 3 });
        expect(await store.getRegisteredModel("wine")).toStrictEqual({
          ...model,
          aliases: { production: 2, staging: 3 },
          latestVersion: 3,
        });
        expect(await store.getModelVersion("wine", 2)).toStrictEqual({
          ...versions[1],
          aliases: ["production"],
        });
        expect(Buffer.from(await store.readModelArtifact("wine", 3)).toString()).toBe("three");
        // New registrations continue after the highest imported number.
        expect((await store.createModelVersion("wine", { artifact: bytes("four") })).version).toBe(
          4,
        );
        expect(await store.importRegisteredModel({ ...model, description: "rosé" })).toBe(
          "updated",
        );
      });

      it("refuse histories that diverged and versions without their bytes", async () => {
        await store.createModelVersion("wine", { artifact: bytes("v1") });
        await store.createModelVersion("wine", { artifact: bytes("v2") });
        await store.setAlias("wine", "production", 1, { actor: "ana" });
        const other = [
          {
            name: "wine",
            alias: "production",
            fromVersion: null,
            toVersion: 2,
            actor: "bob",
            time: 1,
            reason: null,
          },
        ];
        await expectMlopsError(
          store.importAliasHistory("wine", other),
          "registry_conflict",
          /differs from the one being imported at move 1/,
        );
        const mine = await store.getAliasHistory("wine");
        await expectMlopsError(
          store.importAliasHistory("wine", [
            ...mine,
            {
              name: "wine",
              alias: "production",
              fromVersion: 2,
              toVersion: 1,
              actor: "x",
              time: 9,
              reason: null,
            },
          ]),
          "argument_invalid",
          /moves "production" from 2, but it points at 1 then/,
        );
        await expectMlopsError(
          store.importModelVersion({
            name: "wine",
            version: 3,
            digest: sha256(bytes("never stored")),
            sizeBytes: 12,
            tags: {},
            metadata: {},
            createdAt: 1,
          }),
          "artifact_corrupt",
          /not in this registry's artifact store/,
        );
        await expectMlopsError(
          store.importModelVersion({
            name: "beer",
            version: 1,
            digest: sha256(bytes("v1")),
            sizeBytes: 2,
            tags: {},
            metadata: {},
            createdAt: 1,
          }),
          "registry_not_found",
        );
        expect(await store.getAliasHistory("wine")).toStrictEqual(mine);
        expect((await store.listModelVersions("wine")).map((version) => version.version)).toEqual([
          1, 2,
        ]);
      });
    });

    describe("name validation", () => {
      it("refuses unsafe names everywhere with registry_name_invalid", async () => {
        await store.createModelVersion("wine", { artifact: bytes("v1") });
        for (const bad of INVALID_REGISTRY_NAMES) {
          const attempts: (() => Promise<unknown>)[] = [
            () => store.createRegisteredModel(bad),
            () => store.createModelVersion(bad, { artifact: bytes("x") }),
            () => store.getRegisteredModel(bad),
            () => store.getModelVersion(bad, 1),
            () => store.createModelVersion("wine", { artifact: bytes("x"), tags: { [bad]: "x" } }),
            () => store.setAlias("wine", bad, 1),
            () => store.getAliasHistory(bad),
          ];
          for (const attempt of attempts) {
            const error = await expectMlopsError(
              attempt,
              "registry_name_invalid",
              /is invalid: .*expected/,
            );
            expect(error.message).not.toContain("\0");
          }
        }
        expect((await store.listModelVersions("wine")).map((version) => version.version)).toEqual([
          1,
        ]);
        expect((await store.listRegisteredModels()).map((model) => model.name)).toEqual(["wine"]);
      });

      it("accepts names with letters, digits, '_', '-', '.' and inner spaces", async () => {
        for (const good of ["wine", "Wine_Quality-2.1", "_private", "my model", "x".repeat(255)]) {
          const version = await store.createModelVersion(good, { artifact: bytes(good) });
          expect(version).toMatchObject({ name: good, version: 1 });
        }
      });
    });
  });
}

/** A stream of `data` in chunks of `size` bytes. */
async function* chunksOf(data: Uint8Array, size: number): AsyncIterable<Uint8Array> {
  for (let start = 0; start < data.byteLength; start += size) {
    yield data.slice(start, start + size);
  }
}

async function collect(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(Buffer.from(chunk));
  return Buffer.concat(parts);
}

/** Deterministic bytes that do not compress to nothing: a few MB for chunking tests. */
function noise(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let state = seed >>> 0 || 1;
  for (let index = 0; index < length; index += 1) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    out[index] = state & 0xff;
  }
  return out;
}

/**
 * The behaviour every `ArtifactStore` must have: content addressing (same bytes, one blob, the
 * sha256 digest), bytes and streams in and out of any size, and `artifact_corrupt` for a blob
 * that is missing. Call it with a factory that opens a new, empty store each time; `close` (if
 * given) runs after each test.
 *
 * @example
 * import { describeArtifactStoreConformance } from "@mlops/core/testing";
 * describeArtifactStoreConformance("folder", async () => ({
 *   artifacts: new FolderArtifactStore(await mkdtemp(join(tmpdir(), "blobs-"))),
 * }));
 */
export function describeArtifactStoreConformance(
  name: string,
  createStore: () => Promise<{ artifacts: ArtifactStore; close?: () => Promise<void> }>,
): void {
  describe(`ArtifactStore conformance: ${name}`, () => {
    let opened: { artifacts: ArtifactStore; close?: () => Promise<void> } | undefined;
    let store: ArtifactStore;

    beforeEach(async () => {
      opened = await createStore();
      store = opened.artifacts;
    });

    afterEach(async () => {
      await opened?.close?.();
      opened = undefined;
    });

    it("stores bytes under their sha256 digest and reads them back", async () => {
      const data = bytes("a model");
      const info = await store.put(data);
      expect(info).toStrictEqual({ digest: sha256(data), sizeBytes: data.byteLength });
      expectPlainJson(info);
      expect(await store.has(info.digest)).toBe(true);
      expect(Buffer.from(await store.get(info.digest))).toEqual(Buffer.from(data));
      expect(await store.put(data)).toStrictEqual(info);
      const empty = await store.put(new Uint8Array(0));
      expect(empty.sizeBytes).toBe(0);
      expect((await store.get(empty.digest)).byteLength).toBe(0);
    });

    it("takes and gives streams of chunks, large ones included", async () => {
      const data = noise(3 * 1024 * 1024 + 17, 7);
      const info = await store.put(chunksOf(data, 64 * 1024 + 3));
      expect(info).toStrictEqual({ digest: sha256(data), sizeBytes: data.byteLength });
      const streamed = await collect(store.stream(info.digest));
      expect(sha256(streamed)).toBe(info.digest);
      expect(streamed.byteLength).toBe(data.byteLength);
      const whole = await store.get(info.digest);
      expect(Buffer.compare(Buffer.from(whole), Buffer.from(data))).toBe(0);
      // The same bytes given whole are the same blob.
      expect(await store.put(data)).toStrictEqual(info);
    });

    it("keeps different bytes apart and stores the same bytes once", async () => {
      const digests = await Promise.all(
        ["one", "two", "one", "three", "two"].map(
          async (text) => (await store.put(bytes(text))).digest,
        ),
      );
      expect(new Set(digests).size).toBe(3);
      expect(digests[0]).toBe(digests[2]);
      for (const text of ["one", "two", "three"]) {
        expect(Buffer.from(await store.get(sha256(bytes(text)))).toString()).toBe(text);
      }
    });

    it("says a blob is missing with artifact_corrupt, never empty bytes", async () => {
      const absent = sha256(bytes("never stored"));
      expect(await store.has(absent)).toBe(false);
      await expectMlopsError(
        store.get(absent, { what: 'model "wine" version 9' }),
        "artifact_corrupt",
        /model "wine" version 9/,
      );
      await expectMlopsError(collect(store.stream(absent)), "artifact_corrupt");
      await expectMlopsError(store.get("sha256:nothex"), "registry_corrupt", /sha256/);
      await expectMlopsError(store.put("text" as never), "argument_invalid");
    });
  });
}

/**
 * The whole registry contract for one backend: the tracking, model-registry and artifact suites
 * over the stores it opens, and the combined store sending each method to the right one.
 *
 * @example
 * import { describeRegistryStoreConformance } from "@mlops/core/testing";
 * describeRegistryStoreConformance("FolderStore", async () =>
 *   openFolderStore(await mkdtemp(join(tmpdir(), "registry-"))),
 * );
 */
export function describeRegistryStoreConformance(
  name: string,
  createStore: CreateRegistryStore,
): void {
  describeArtifactStoreConformance(name, async () => {
    const store = await createStore();
    return { artifacts: store.artifacts, close: () => store.close() };
  });
  describeTrackingStoreConformance(name, createStore);
  describeModelRegistryStoreConformance(name, createStore);
  describe(`RegistryStore conformance: ${name}`, () => {
    it("is one store over the three: runs, versions and blobs meet", async () => {
      const store = await createStore();
      try {
        expect(typeof store.location).toBe("string");
        const run = await store.createRun({ runName: "train" });
        expect(await store.tracking.getRun(run.runId)).toStrictEqual(run);
        const artifact = bytes("weights");
        const version = await store.createModelVersion("wine", { artifact, runId: run.runId });
        expect(await store.models.getModelVersion("wine", 1)).toStrictEqual(version);
        // A version's bytes are a blob of the artifact store, found by the version's digest.
        expect(version.digest).toBe(sha256(artifact));
        expect(await store.artifacts.has(version.digest)).toBe(true);
        const logged = await store.logArtifact(run.runId, "weights.bin", artifact);
        expect(logged.digest).toBe(version.digest);
        await store.setAlias("wine", "production", 1);
        expect((await resolveModelUri(store, "models:/wine@production")).version).toBe(1);
      } finally {
        await store.close();
        await store.close();
      }
    });
  });
}
