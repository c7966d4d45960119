// End-to-end on California housing as a new user meets it: the built `mlops-train` executable in
// a child process, real files, a real registry. What mlops-train hands on to the gate (metric
// names, the hold-out set registered with the model) and to serving (a contract as wide as the
// model), a tiny hold-out, bad model names, halving's leaderboard, pipelines (steps before the
// model: a default imputer for the gap in total_bedrooms, searched step parameters, bad steps).
import { spawnSync } from "node:child_process";
import { copyFile, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPredictor, openRegistry, readFrame } from "@mlops/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt, trainPackageDir } from "../search/dist-fixture.js";

const binary = join(trainPackageDir, "dist", "cli.js");
const fixtures = join(trainPackageDir, "src", "cli", "fixtures");

let root = "";

function mlopsTrain(args: string[]) {
  const result = spawnSync(process.execPath, [binary, ...args], {
    cwd: root,
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "", MLOPS_REGISTRY: join(root, "registry") },
    timeout: 120_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

// Each test runs mlops-train processes: generous timeouts on a loaded machine (not assertions).
const HOUSING = ["--data", "housing.csv", "--target", "median_house_value", "--jobs", "1"];

beforeAll(async () => {
  ensureBuilt();
  root = await mkdtemp(join(tmpdir(), "mlops-train-housing-"));
  await copyFile(join(fixtures, "california-housing.csv"), join(root, "housing.csv"));
  await copyFile(join(fixtures, "california-housing-20.csv"), join(root, "tiny.csv"));
}, 120_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("mlops-train hands the gate and the server what they need", () => {
  it("registers its hold-out set with the model, writes it with --save-holdout", async () => {
    const result = mlopsTrain([
      ...HOUSING,
      "--trials",
      "3",
      "--cv",
      "3",
      "--register",
      "housing",
      "--alias",
      "staging",
      "--save-holdout",
      "holdout.parquet",
      "--json",
    ]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.holdout).toMatchObject({ rows: 104, notComputed: {} });
    expect(report.holdout.savedTo).toBe(join(root, "holdout.parquet"));

    const registry = await openRegistry(join(root, "registry"));
    const { version, artifact } = await registry.loadModel("models:/housing@staging");
    // Metrics under their own names (the hold-out's) and the cross-validation score as cv_rmse.
    expect(Object.keys(artifact.manifest.metrics).sort()).toEqual([
      "cv_rmse",
      "cv_rmse_std",
      "mae",
      "r2",
      "rmse",
    ]);
    expect(artifact.manifest.metrics.rmse).toBe(report.holdout.metrics.rmse);
    expect(artifact.manifest.metrics.cv_rmse).toBe(report.best.cvScore);

    // The hold-out rows: in the run (a dataset with digest and size), and in the file written.
    const datasets = await registry.listDatasets(version.runId as string);
    expect(
      datasets.map((input) => [input.dataset.name, input.tags["mlflow.data.context"]]),
    ).toEqual([
      ["holdout", "evaluation"],
      ["training", "training"],
    ]);
    expect(version.metadata.datasets).toEqual([
      {
        name: "holdout",
        context: "evaluation",
        digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
        rows: 104,
        source: `runs:/${version.runId}/dataset.holdout.parquet`,
      },
      {
        name: "training",
        context: "training",
        digest: report.data.digest,
        rows: 412,
        source: join(root, "housing.csv"),
      },
    ]);
    const registered = await registry.readDataset(datasets[0]);
    const written = await readFrame(join(root, "holdout.parquet"));
    expect(written.toRows()).toEqual(registered.toRows());
    // The model scores the registered rows as mlops-train said.
    const predictor = createPredictor(artifact);
    const predictions = predictor.predict(registered);
    const truth = registered.numeric("median_house_value");
    let squares = 0;
    for (let i = 0; i < truth.length; i++) squares += (truth[i] - predictions[i]) ** 2;
    expect(Math.sqrt(squares / truth.length)).toBeCloseTo(report.holdout.metrics.rmse, 6);
  }, 180_000);

  it("saves a contract as wide as the model: 41.5, a gap, an unseen category", async () => {
    const registry = await openRegistry(join(root, "registry"));
    const { artifact } = await registry.loadModel("models:/housing@staging");
    const fields = artifact.manifest.schema.fields;
    expect(fields.housing_median_age).toEqual({ kind: "number", nullable: true });
    expect(fields.ocean_proximity).toMatchObject({ kind: "category", nullable: true, open: true });
    const row = {
      longitude: -122.23,
      latitude: 37.88,
      housing_median_age: 41.5,
      total_rooms: 880,
      total_bedrooms: null,
      population: 322,
      households: 126,
      median_income: 8.3252,
      ocean_proximity: "LAKE",
    };
    expect(Number.isFinite(createPredictor(artifact).predictRow(row))).toBe(true);
  }, 180_000);

  it("with a given --schema, keeps the contract as declared", async () => {
    mlopsTrain([
      ...HOUSING,
      "--trials",
      "1",
      "--cv",
      "2",
      "--no-track",
      "--save-schema",
      "draft.json",
    ]);
    const result = mlopsTrain([
      ...HOUSING,
      "--trials",
      "1",
      "--cv",
      "2",
      "--schema",
      "draft.json",
      "--register",
      "declared",
    ]);
    expect(result.code).toBe(0);
    const registry = await openRegistry(join(root, "registry"));
    const { artifact } = await registry.loadModel("models:/declared/1");
    expect(artifact.manifest.schema.fields.housing_median_age).toEqual({ kind: "integer" });
  }, 180_000);
});

describe("a tiny hold-out", () => {
  it("reports a metric it cannot compute, leaves it out, and registers the model (exit 0)", async () => {
    // 20 rows and --holdout 0.05: one hold-out row, on which r² is undefined.
    const result = mlopsTrain([
      "--data",
      "tiny.csv",
      "--target",
      "median_house_value",
      "--holdout",
      "0.05",
      "--cv",
      "2",
      "--trials",
      "2",
      "--jobs",
      "1",
      "--register",
      "tiny",
    ]);
    expect(result.stderr).not.toContain("mlops-train:");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /Holdout \(1 row, refitted best\): rmse \d+ {2}mae \d+ {2}r2 - \(cannot be computed on 1 row \(r2 needs at least 2\); left out\)\n/,
    );
    expect(result.stdout).toContain("Registered tiny version 1: models:/tiny/1\n");
    const registry = await openRegistry(join(root, "registry"));
    const { artifact } = await registry.loadModel("models:/tiny/1");
    expect(Object.keys(artifact.manifest.metrics).sort()).toEqual([
      "cv_rmse",
      "cv_rmse_std",
      "mae",
      "rmse",
    ]);
  }, 180_000);
});

describe("model names", () => {
  it("are checked before any work, with the rule", async () => {
    for (const [name, problem] of [
      ["team/housing", 'it contains "/" at position 5'],
      ["my housing", "it contains a space at position 3"],
    ]) {
      const before = await readdir(join(root, "registry", "experiments")).catch(() => []);
      const result = mlopsTrain([...HOUSING, "--trials", "2", "--register", name]);
      expect(result.code).toBe(2);
      expect(result.stdout).toBe("");
      expect(result.stderr).toContain(
        `--register: model name ${JSON.stringify(name)} is invalid: ${problem}`,
      );
      expect(result.stderr).toContain(
        'expected 1 to 255 characters: letters, digits, "_", "-" and "."',
      );
      // Nothing was read, searched or tracked.
      expect(await readdir(join(root, "registry", "experiments")).catch(() => [])).toEqual(before);
    }
    const alias = mlopsTrain([...HOUSING, "--register", "housing", "--alias", "Prod"]);
    expect(alias.code).toBe(2);
    expect(alias.stderr).toContain("--alias Prod: alias");
  }, 180_000);
});

describe("halving's leaderboard", () => {
  it("lists each candidate once, from the last round it reached, with a round column", () => {
    const result = mlopsTrain([
      ...HOUSING,
      "--search",
      "halving",
      "--trials",
      "9",
      "--cv",
      "2",
      "--no-track",
      "--json",
    ]);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    const rows = report.leaderboard as {
      rank: number;
      round: number;
      params: object;
      mean: number;
    }[];
    const keys = rows.map((row) => JSON.stringify(row.params));
    expect(new Set(keys).size).toBe(keys.length);
    expect(report.search.candidates).toBe(9);
    // Rounds: 9 candidates, then 3, then 1; later rounds first, each by score.
    expect(rows.map((row) => row.round)).toEqual([3, 2, 2, 1, 1, 1, 1, 1, 1]);
    expect(rows[0].rank).toBe(1);
    const text = mlopsTrain([
      ...HOUSING,
      "--search",
      "halving",
      "--trials",
      "9",
      "--cv",
      "2",
      "--no-track",
    ]);
    expect(text.stdout).toMatch(
      /Leaderboard \(top 9 of 9 candidates by mean CV rmse, each from the last round it reached\):\nrank +rmse +± std +fit +round +rows /,
    );
  }, 180_000);
});

const ROW_WITH_GAP = {
  longitude: -122.23,
  latitude: 37.88,
  housing_median_age: 41,
  total_rooms: 880,
  total_bedrooms: null,
  population: 322,
  households: 126,
  median_income: 8.3252,
  ocean_proximity: "NEAR BAY",
};

// The pipeline of the config tests: every step with a parameter, two of them searched.
const PIPELINE_CONFIG = `data: housing.csv
target: median_house_value
model: ridge
search: grid
cv: 3
jobs: 1
pipeline:
  - impute: { strategy: median }
  - scale
  - poly: { degree: 2 }
  - select_k_best: { k: 8 }
space:
  alpha: [0.1, 10]
  poly__degree: [1, 2]
`;

// Pipelines: steps before the model (issue 14), their parameters searched, their errors.
/** Writes a config file and runs mlops-train on it. */
async function withConfig(name: string, text: string, ...args: string[]) {
  await writeFile(join(root, name), text);
  return mlopsTrain(["--config", name, ...args]);
}

describe("mlops-train pipelines", () => {
  it("gives a linear model on data with gaps an imputer, says so, and registers it", async () => {
    const text = mlopsTrain([...HOUSING, "--model", "linear", "--cv", "3", "--no-track"]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(
      "pipeline: impute → linear (added by default: total_bedrooms has missing values, which " +
        "linear cannot fit: imputed with the mean; --steps none to opt out)",
    );

    const result = mlopsTrain([
      ...HOUSING,
      "--model",
      "linear",
      "--cv",
      "3",
      "--register",
      "housing-linear",
      "--json",
    ]);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.pipeline).toEqual({
      steps: [{ name: "impute", params: {} }],
      default: true,
      reason: expect.stringContaining("total_bedrooms has missing values"),
    });
    const registry = await openRegistry(join(root, "registry"));
    const { artifact, version } = await registry.loadModel("models:/housing-linear/1");
    // One artifact: the one-hot encoding, the imputer, then the linear model.
    expect(artifact.manifest.kind).toBe("linear");
    expect(artifact.manifest.preprocessing.map((step) => step.kind)).toEqual([
      "one_hot",
      "simple_imputer",
    ]);
    // Served rows may have the gap; the predictor fills it with the training mean.
    expect(artifact.manifest.schema.fields.total_bedrooms).toMatchObject({ nullable: true });
    const predictor = createPredictor(artifact);
    expect(Number.isFinite(predictor.predictRow(ROW_WITH_GAP))).toBe(true);
    // The registered hold-out rows score as mlops-train said.
    const [holdout] = (await registry.listDatasets(version.runId as string)).filter(
      (input) => input.dataset.name === "holdout",
    );
    const rows = await registry.readDataset(holdout);
    const predictions = predictor.predict(rows);
    const truth = rows.numeric("median_house_value");
    let squares = 0;
    for (let i = 0; i < truth.length; i++) squares += (truth[i] - predictions[i]) ** 2;
    expect(Math.sqrt(squares / truth.length)).toBeCloseTo(report.holdout.metrics.rmse, 6);
  }, 180_000);

  it("fits no imputer with --steps none (the linear model then refuses the gap)", () => {
    const result = mlopsTrain([...HOUSING, "--model", "linear", "--cv", "3", "--no-track"]);
    expect(result.code).toBe(0);
    const bare = mlopsTrain([
      ...HOUSING,
      "--model",
      "linear",
      "--cv",
      "3",
      "--no-track",
      "--steps",
      "none",
    ]);
    expect(bare.code).toBe(3);
    expect(bare.stdout).not.toContain("pipeline:");
    expect(bare.stderr).toContain('feature "total_bedrooms" has a missing value');
    // Trees take the gap natively: no default steps.
    const tree = mlopsTrain([...HOUSING, "--trials", "1", "--cv", "2", "--no-track", "--json"]);
    expect(tree.code).toBe(0);
    expect(JSON.parse(tree.stdout).pipeline).toEqual({ steps: [], default: false, reason: null });
  }, 180_000);

  it("searches step parameters (poly__degree) beside the model's, from the config", async () => {
    const result = await withConfig(
      "pipeline.yaml",
      PIPELINE_CONFIG,
      "--register",
      "housing-poly",
      "--json",
    );
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.pipeline.steps).toEqual([
      { name: "impute", params: { strategy: "median" } },
      { name: "scale", params: {} },
      { name: "poly", params: { degree: 2 } },
      { name: "select_k_best", params: { k: 8 } },
    ]);
    // The grid: 2 alphas × 2 degrees, under the names the config gave them.
    expect(report.leaderboard).toHaveLength(4);
    expect(
      report.leaderboard
        .map((row: { params: Record<string, number> }) =>
          JSON.stringify([row.params.alpha, row.params.poly__degree]),
        )
        .sort(),
    ).toEqual(["[0.1,1]", "[0.1,2]", "[10,1]", "[10,2]"]);
    const registry = await openRegistry(join(root, "registry"));
    const { artifact } = await registry.loadModel("models:/housing-poly/1");
    expect(artifact.manifest.params).toMatchObject({
      impute__strategy: "median",
      poly__degree: report.best.params.poly__degree,
      select_k_best__k: 8,
      model__alpha: report.best.params.alpha,
    });
    expect(artifact.manifest.preprocessing.map((step) => step.kind)).toEqual([
      "one_hot",
      "simple_imputer",
      "standard_scaler",
      "polynomial_features",
      "drop_columns",
    ]);
    expect(Number.isFinite(createPredictor(artifact).predictRow(ROW_WITH_GAP))).toBe(true);

    // The same steps from the command line: `--steps` wins over the config's pipeline.
    const flags = mlopsTrain([
      ...HOUSING,
      "--model",
      "ridge",
      "--steps",
      "impute,scale",
      "--trials",
      "2",
      "--cv",
      "2",
      "--no-track",
      "--json",
    ]);
    expect(flags.code).toBe(0);
    expect(
      JSON.parse(flags.stdout).pipeline.steps.map((step: { name: string }) => step.name),
    ).toEqual(["impute", "scale"]);
  }, 180_000);

  it("says where a bad step or parameter is, with a did-you-mean", async () => {
    const bad = PIPELINE_CONFIG.replace("  - scale", "  - scal").replace(
      "strategy: median",
      "strategy: median, strat: 1",
    );
    const names = await withConfig("bad.yaml", bad);
    expect(names.code).toBe(2);
    expect(names.stderr).toContain(
      'bad.yaml:8:33: pipeline[0].impute: impute has no parameter "strat"; ' +
        "its parameters: strategy, fillValue, columns",
    );
    expect(names.stderr).toContain(
      'bad.yaml:9:5: pipeline[1]: unknown step "scal" (did you mean "scale"?)',
    );

    const value = await withConfig(
      "value.yaml",
      PIPELINE_CONFIG.replace("strategy: median", "strategy: medain"),
    );
    expect(value.code).toBe(2);
    expect(value.stderr).toContain(
      'value.yaml:8:5: pipeline[0] (impute): strategy: expected "mean" or "median"',
    );

    const space = await withConfig(
      "space.yaml",
      PIPELINE_CONFIG.replace("poly__degree", "poly__degre"),
    );
    expect(space.code).toBe(2);
    expect(space.stderr).toContain(
      'space.yaml:14:3: space.poly__degre: poly has no parameter "degre" (did you mean "degree"?)',
    );

    const missing = await withConfig("steps.yaml", PIPELINE_CONFIG, "--steps", "impute");
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(
      'steps.yaml:14:3: space.poly__degree: the pipeline has no "poly" step (steps: impute)',
    );

    const flag = mlopsTrain([...HOUSING, "--steps", "impute,scael"]);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain(
      'option --steps: unknown step "scael" (did you mean "scale"?); expected one of impute, ' +
        "one_hot, scale, poly, select_k_best",
    );
  }, 180_000);
});
