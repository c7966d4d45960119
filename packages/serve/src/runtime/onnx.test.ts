import { readFileSync } from "node:fs";
import {
  createPredictor,
  Frame,
  importOnnx,
  importXGBoost,
  MlopsError,
  type ModelArtifact,
  numericColumn,
  Schema,
  toOnnx,
} from "@mlops/core";
import { type ExportCase, exportCaseArtifact, exportCaseFrame } from "@mlops/core/testing";
import { describe, expect, it } from "vitest";
import { createInferenceApp } from "../app/app.js";
import { get, json, linearArtifact, post, tempRegistry } from "../testing/fixtures.js";
import { createOnnxRuntime, importOnnxRuntime, onnxRuntime } from "./onnx.js";

const here = (path: string) => new URL(path, import.meta.url);
const coreFixtures = "../../../core/src/interop/fixtures/";
const { cases } = JSON.parse(
  readFileSync(here(`${coreFixtures}onnx-export-cases.json`), "utf8"),
) as { cases: Record<string, ExportCase> };
const expected = JSON.parse(readFileSync(here("./fixtures/expected.json"), "utf8")) as {
  models: Record<string, { features: string[]; X: number[][]; predict: number[] }>;
};

/** Our artifact exported to ONNX, wrapped as an `onnx` artifact with the same schema. */
function viaOnnx(artifact: ModelArtifact, inputs: "columns" | "matrix" = "columns"): ModelArtifact {
  return importOnnx(toOnnx(artifact, { inputs }), {
    schema: Schema.fromJSON(artifact.manifest.schema),
  });
}

/** Largest |a − b| / max(|b|, 1): float32 arithmetic keeps it near 1e-7 per operation. */
function worstError(ours: ArrayLike<number>, theirs: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < theirs.length; i++) {
    const error = Math.abs(ours[i] - theirs[i]) / Math.max(Math.abs(theirs[i]), 1);
    if (!(error <= worst)) worst = error;
  }
  return worst;
}

describe("exported graphs run by onnxruntime predict what our predictor predicts", () => {
  for (const [name, exportCase] of Object.entries(cases)) {
    it(name, async () => {
      const artifact = exportCaseArtifact(exportCase);
      const frame = exportCaseFrame(exportCase, artifact);
      const native = createPredictor(artifact).predict(frame);
      const onnx = await onnxRuntime.load(viaOnnx(artifact));
      try {
        const predicted = await onnx.predict(frame);
        expect(predicted.length).toBe(frame.rowCount);
        expect(worstError(predicted, native)).toBeLessThan(1e-5);
        const rows = frame.toRows();
        for (const i of [0, 1, 2, rows.length - 1]) {
          const one = await onnx.predictRow!(rows[i]);
          expect(Math.abs(one - predicted[i])).toBeLessThanOrEqual(1e-6 * Math.abs(predicted[i]));
        }
      } finally {
        await onnx.close?.();
      }
    });
  }

  it("an XGBoost model on California housing with missing values", async () => {
    const fixtures = JSON.parse(
      readFileSync(here(`${coreFixtures}xgboost-expected.json`), "utf8"),
    ) as { cases: Record<string, { features: string[]; X: (number | null)[][] }> };
    const { features, X } = fixtures.cases.california;
    const artifact = importXGBoost(readFileSync(here(`${coreFixtures}xgboost-california.json`)), {
      featureNames: features,
    });
    const frame = new Frame(
      features.map((feature, j) => [feature, numericColumn(X.map((row) => row[j]))] as const),
    );
    const native = createPredictor(artifact).predict(frame);
    for (const inputs of ["columns", "matrix"] as const) {
      const onnx = await onnxRuntime.load(viaOnnx(artifact, inputs));
      expect(worstError(await onnx.predict(frame), native)).toBeLessThan(1e-5);
      await onnx.close?.();
    }
  });

  it("answers concurrent single-row requests in one batched run, each with its own row", async () => {
    const exportCase = cases["california-boosting"];
    const artifact = exportCaseArtifact(exportCase);
    const frame = exportCaseFrame(exportCase, artifact);
    const onnx = await onnxRuntime.load(viaOnnx(artifact));
    const batch = await onnx.predict(frame);
    const rows = frame.toRows().slice(0, 64);
    const single = await Promise.all(rows.map((row) => onnx.predictRow!(row)));
    expect(single).toEqual(Array.from(batch.subarray(0, 64)));
    await onnx.close?.();
  });

  it("answers single rows one at a time, and beside a running batch, each with its own row", async () => {
    // A lone row reuses the session's one-row tensors; a row that comes while they are in a
    // run gets tensors of its own.
    // California has a category input (a string tensor); wine is numbers only (one matrix).
    for (const [name, inputs] of [
      ["california-boosting", "columns"],
      ["wine-linear", "matrix"],
    ] as const) {
      const artifact = exportCaseArtifact(cases[name]);
      const frame = exportCaseFrame(cases[name], artifact);
      const rows = frame.toRows().slice(0, 24);
      const onnx = await onnxRuntime.load(viaOnnx(artifact, inputs));
      const batch = Array.from((await onnx.predict(frame)).subarray(0, 24));
      // float32 arithmetic in the graph may round a lone row differently from a batch (GEMM).
      const near = (values: number[]) => {
        for (const [i, value] of values.entries()) {
          expect(Math.abs(value - batch[i])).toBeLessThanOrEqual(1e-6 * Math.abs(batch[i]));
        }
      };
      const one: number[] = [];
      for (const row of rows) one.push(await onnx.predictRow!(row));
      near(one);
      const overlapping: (number | Promise<number>)[] = [];
      for (const row of rows) {
        overlapping.push(onnx.predictRow!(row));
        await new Promise((resolve) => setImmediate(resolve));
      }
      near(await Promise.all(overlapping));
      await onnx.close?.();
    }
  });

  it('a wine pipeline exported with inputs: "matrix"', async () => {
    const exportCase = cases["wine-linear"];
    const artifact = exportCaseArtifact(exportCase);
    const frame = exportCaseFrame(exportCase, artifact);
    const onnx = await onnxRuntime.load(viaOnnx(artifact, "matrix"));
    expect(onnx.schema.featureNames).toHaveLength(11);
    const native = createPredictor(artifact).predict(frame);
    expect(worstError(await onnx.predict(frame), native)).toBeLessThan(1e-5);
    await onnx.close?.();
  });
});

describe("ONNX models made by another tool (python3-onnx)", () => {
  for (const [file, model] of Object.entries(expected.models)) {
    it(`${file}.onnx predicts what scikit-learn predicts, to float32 precision`, async () => {
      const bytes = readFileSync(here(`./fixtures/${file}.onnx`));
      const artifact = importOnnx(bytes, { featureNames: model.features });
      expect(artifact.manifest.model.onnx).toMatchObject({ layout: "matrix", input: "X" });
      const frame = new Frame(
        model.features.map((f, j) => [f, numericColumn(model.X.map((row) => row[j]))] as const),
      );
      const loaded = await onnxRuntime.load(artifact);
      expect(worstError(await loaded.predict(frame), model.predict)).toBeLessThan(1e-5);
      await loaded.close?.();
    });
  }
});

describe("serving a registered ONNX model", () => {
  it("answers on every protocol, validates, counts, and hot reloads", async () => {
    const temp = await tempRegistry();
    try {
      const model = expected.models["scaler-linear"];
      const bytes = readFileSync(here("./fixtures/scaler-linear.onnx"));
      const artifact = importOnnx(bytes, { featureNames: model.features });
      await temp.registry.registerModel("houses-onnx", artifact, { aliases: ["production"] });
      const app = createInferenceApp({
        registry: temp.registry,
        models: ["houses-onnx@production"],
        metrics: { processMetrics: false },
        watch: false,
      });
      await app.ready;
      const row = Object.fromEntries(model.features.map((f, j) => [f, model.X[0][j]]));
      const named = await json(app.fetch(post("/v1/models/houses-onnx/predict", row)));
      expect(named.model).toEqual({ name: "houses-onnx", version: "1" });
      expect(Math.abs(named.predictions[0] - model.predict[0])).toBeLessThan(1e-5);
      const oip = await json(
        app.fetch(
          post("/v2/models/houses-onnx/infer", {
            inputs: model.features.map((f, j) => ({
              name: f,
              shape: [2],
              datatype: "FP64",
              data: [model.X[0][j], model.X[1][j]],
            })),
          }),
        ),
      );
      expect(worstError(oip.outputs[0].data, model.predict.slice(0, 2))).toBeLessThan(1e-6);
      const mlflow = await json(app.fetch(post("/invocations", { dataframe_records: [row] })));
      expect(Math.abs(mlflow.predictions[0] - model.predict[0])).toBeLessThan(1e-5);
      const invalid = await app.fetch(
        post("/v1/models/houses-onnx/predict", { ...row, median_income: "high" }),
      );
      expect(invalid.status).toBe(422);
      expect((await json(invalid)).error.issues[0].path).toEqual(["median_income"]);
      const listed = await json(app.fetch(get("/v1/models/houses-onnx")));
      expect(listed).toMatchObject({ kind: "onnx", runtime: "onnx", platform: "onnxruntime" });
      const metrics = await (await app.fetch(get("/metrics"))).text();
      expect(metrics).toMatch(
        /mlops_model_info\{name="houses-onnx",version="1",[^}]*runtime="onnx"\} 1/,
      );
      expect(metrics).toContain(
        'mlops_validation_failures_total{model="houses-onnx",version="1",route="v1_predict"} 1',
      );

      // A new version behind the alias is picked up like a native one.
      const v2 = await temp.registry.registerModel("houses-onnx", linearOnnx(), {});
      await temp.registry.setAlias("houses-onnx", "production", v2.version);
      await app.models.reload("houses-onnx");
      const after = await json(
        app.fetch(post("/v1/models/houses-onnx/predict", { rooms: 2, area: 10, color: "red" })),
      );
      expect(after.model.version).toBe("2");
      expect(after.predictions[0]).toBeCloseTo(100 * 2 + 2 * 10 + 10 + 50, 4);
      await app.close();
    } finally {
      await temp.cleanup();
    }
  });
});

/** The houses linear model (one-hot color) as an ONNX artifact with named inputs. */
function linearOnnx(): ModelArtifact {
  return viaOnnx(linearArtifact());
}

describe("without onnxruntime-node", () => {
  it("fails to load with runtime_unavailable, naming the package to install", async () => {
    let error: unknown;
    try {
      await importOnnxRuntime("onnxruntime-node-not-installed");
    } catch (caught) {
      error = caught;
    }
    expect(MlopsError.isInstance(error)).toBe(true);
    expect((error as MlopsError).code).toBe("runtime_unavailable");
    expect((error as Error).message).toMatch(/npm install onnxruntime-node-not-installed/);
    const runtime = createOnnxRuntime({
      load: () => importOnnxRuntime("onnxruntime-node-not-installed"),
    });
    await expect(runtime.load(linearOnnx())).rejects.toThrow(/optional package/);
  });
});
