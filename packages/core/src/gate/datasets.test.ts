// The gate and the datasets a training run registers with its model: the hold-out set is the
// default evaluation data, and evaluation rows the model was trained on are called out.
// `mlops gate` runs in-process (main() with buffers), on a registry written as mlops-train
// writes one.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { type CliIo, main } from "../cli/main.js";
import { rowHashes } from "../frame/hash.js";
import { readFrame } from "../io/index.js";
import { summarizeDatasets } from "../registry/datasets.js";
import { openRegistry, type Registry } from "../registry/registry.js";
import {
  alcoholModel,
  GATE_METRICS,
  gateEvaluationCsv,
  gateWine,
  populateGateRegistry,
} from "./fixture.js";
import { runGate } from "./run.js";

const root = await mkdtemp(join(tmpdir(), "mlops-gate-datasets-"));
let dir = "";
let registry: Registry;

/** 12 training rows: alcohol 15 to 18.85 (none of the 12 evaluation rows). */
function trainingCsv(): string {
  const rows = Array.from(
    { length: 12 },
    (_, i) =>
      `${15 + i * 0.35},0.5,${i % 2 === 0 ? "red" : "white"},${Math.round(0.5 * (15 + i * 0.35) + 0.4)}`,
  );
  return `alcohol,sulphates,color,quality\n${rows.join("\n")}\n`;
}

/**
 * Registers wine v4 (@staging) as mlops-train does: a run that logs its training data (with row
 * fingerprints) and its hold-out set (the 12 evaluation rows), and a version that keeps both.
 */
async function trainLikeMlopsTrain(): Promise<void> {
  await writeFile(join(dir, "train.csv"), trainingCsv());
  await writeFile(join(dir, "holdout.csv"), gateEvaluationCsv());
  const training = await readFrame(join(dir, "train.csv"), { schema: gateWine });
  const holdout = await readFrame(join(dir, "holdout.csv"), { schema: gateWine });
  const run = await registry.startRun({ experiment: "wine" });
  await registry.logDataset(run.runId, {
    name: "training",
    context: "training",
    source: join(dir, "train.csv"),
    digest: "sha256:0",
    rows: training.rowCount,
    rowHashes: rowHashes(training, gateWine.names),
  });
  await registry.logDataset(run.runId, { name: "holdout", context: "evaluation", frame: holdout });
  await registry.endRun(run.runId);
  await registry.registerModel("wine", alcoholModel(0.5, { rmse: 0.01, cv_rmse: 0.3 }), {
    runId: run.runId,
    aliases: ["staging"],
    datasets: summarizeDatasets(await registry.listDatasets(run.runId)),
  });
}

async function cli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const io: CliIo = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env: { MLOPS_REGISTRY: "registry" },
    cwd: dir,
  };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

beforeEach(async () => {
  dir = await mkdtemp(join(root, "case-"));
  await populateGateRegistry(join(dir, "registry"));
  registry = await openRegistry(join(dir, "registry"));
  await trainLikeMlopsTrain();
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("the hold-out set registered with the model", () => {
  it("is what the gate scores both models on when no --data is given", async () => {
    const { code, stdout, stderr } = await cli([
      "gate",
      "--model",
      "wine",
      "--threshold",
      "rmse:maxRelativeRegression=0.02",
      "--threshold",
      "holdout_r2:minAbsoluteChange=0",
    ]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const [, evaluation] = stdout.split("\n");
    expect(evaluation).toMatch(
      /^Evaluation data: the "holdout" dataset registered with wine v4 \(12 rows, runs:\/[0-9a-f]+\/dataset\.holdout\.parquet\)$/,
    );
    // The same numbers as scoring the file by hand: v4 (intercept 0.5) is v2's model.
    const run = await runGate(registry, {
      model: "wine",
      rules: ["rmse:maxRelativeRegression=0.02", "holdout_r2:minAbsoluteChange=0"],
    });
    expect(run.result.comparedOn).toBe("evaluation-data");
    expect(run.result.evaluation).toEqual({ rows: 12, target: "quality", dataset: "holdout" });
    expect(run.result.candidate.metrics.rmse).toBeCloseTo(GATE_METRICS.v2.rmse, 12);
    expect(run.result.candidate.metrics.holdout_r2).toBeCloseTo(GATE_METRICS.v2.r2, 12);
    expect(run.result.baseline?.metrics.rmse).toBeCloseTo(GATE_METRICS.v1.rmse, 12);
    expect(run.warnings).toEqual([]);
    const version = await registry.resolve("models:/wine@staging");
    expect(version.metadata.datasets).toEqual([
      {
        name: "holdout",
        context: "evaluation",
        digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
        rows: 12,
        source: `runs:/${version.runId}/dataset.holdout.parquet`,
      },
      {
        name: "training",
        context: "training",
        digest: "sha256:0",
        rows: 12,
        source: join(dir, "train.csv"),
      },
    ]);
  });

  it("gives way to --data, and the stored metrics are compared only without either", async () => {
    const given = await runGate(registry, {
      model: "wine",
      data: "holdout.csv",
      cwd: dir,
      rules: ["rmse:maxRelativeRegression=0.02"],
    });
    expect(given.evaluationData).toEqual({ source: "file", path: "holdout.csv", rows: 12 });
    const stored = await runGate(registry, {
      model: "wine",
      candidate: "/2",
      rules: ["rmse:maxRelativeRegression=0.5"],
    });
    expect(stored.evaluationData).toEqual({ source: "none" });
    expect(stored.result.comparedOn).toBe("stored-metrics");
  });
});

describe("evaluation rows the candidate was trained on", () => {
  it("are called out, with how many, even when the verdict is a pass", async () => {
    // A new user's evaluation file: the last rows of the training data, plus the hold-out.
    const lines = trainingCsv().trimEnd().split("\n");
    const evaluation = [...gateEvaluationCsv().trimEnd().split("\n"), ...lines.slice(-3)];
    await writeFile(join(dir, "tail.csv"), `${evaluation.join("\n")}\n`);
    const { code, stdout } = await cli([
      "gate",
      "--model",
      "wine",
      "--data",
      "tail.csv",
      "--threshold",
      "rmse:maxRelativeRegression=0.5",
    ]);
    expect(code).toBe(0);
    expect(stdout).toContain(
      "Warning: 3 of 15 evaluation rows (20 %) were part of the candidate's training data " +
        `(wine v4, ${join(dir, "train.csv")}): its metrics on them are optimistic. Evaluate on ` +
        "rows it never saw, such as the hold-out set mlops-train registers with a model (the " +
        "gate's default without --data).\n",
    );
    const json = JSON.parse(
      (
        await cli([
          "gate",
          "--json",
          "--model",
          "wine",
          "--data",
          "tail.csv",
          "--threshold",
          "rmse:maxRelativeRegression=0.5",
        ])
      ).stdout,
    );
    expect(json.warnings).toHaveLength(1);
    // The registered hold-out shares no row with the training data: no warning.
    const clean = await cli(["gate", "--model", "wine", "--threshold", "rmse:threshold=1"]);
    expect(clean.stdout).not.toContain("Warning:");
  });

  it("expect as much overlap as the data repeats itself, and warn about more", async () => {
    // 40 rows that repeat 10 values: any 8 rows of this source match training rows.
    const values = Array.from({ length: 40 }, (_, i) => 9 + (i % 10) / 2);
    const csv = (rows: number[]) =>
      `alcohol,sulphates,color,quality\n${rows.map((x) => `${x},0.5,red,${Math.round(0.5 * x + 0.4)}`).join("\n")}\n`;
    await writeFile(join(dir, "repeats.csv"), csv(values));
    const frame = await readFrame(join(dir, "repeats.csv"), { schema: gateWine });
    const training = frame.take(Array.from({ length: 30 }, (_, i) => i));
    const run = await registry.startRun({ experiment: "wine" });
    await registry.logDataset(run.runId, {
      name: "training",
      context: "training",
      source: "repeats.csv",
      rowHashes: rowHashes(training, gateWine.names),
      // Its own hold-out set (rows 30 to 39) matched training rows in every case.
      repeatedShare: 1,
    });
    await registry.registerModel("repeats", alcoholModel(0.5), {
      runId: run.runId,
      aliases: ["staging"],
    });
    await writeFile(join(dir, "same.csv"), csv(values.slice(30)));
    const same = await runGate(registry, {
      model: "repeats",
      data: "same.csv",
      cwd: dir,
      rules: ["rmse:threshold=1"],
    });
    expect(same.warnings).toEqual([]);

    // The same training rows, recorded without the repeated share: every match is reuse.
    const plain = await registry.startRun({ experiment: "wine" });
    await registry.logDataset(plain.runId, {
      name: "training",
      context: "training",
      source: "repeats.csv",
      rowHashes: rowHashes(training, gateWine.names),
      repeatedShare: 0.25,
    });
    await registry.registerModel("repeats", alcoholModel(0.5), {
      runId: plain.runId,
      aliases: ["staging"],
    });
    const warned = await runGate(registry, {
      model: "repeats",
      data: "same.csv",
      cwd: dir,
      rules: ["rmse:threshold=1"],
    });
    expect(warned.warnings).toEqual([
      expect.stringMatching(
        /^10 of 10 evaluation rows \(100 %\) were part of the candidate's training data \(repeats v2, repeats\.csv\), where its own hold-out set matched 25 % \(rows repeated in the data\): /,
      ),
    ]);
  });
});
