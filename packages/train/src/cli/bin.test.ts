// End-to-end: runs the built `mlops-train` executable (dist/cli.js) in a child process on the
// real wine-quality data, as a user or a CI job would (built first when stale).
import { spawnSync } from "node:child_process";
import { copyFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPredictor, openRegistry, readFrame } from "@mlops/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt, trainPackageDir } from "../search/dist-fixture.js";

const binary = join(trainPackageDir, "dist", "cli.js");
const wineCsv = join(trainPackageDir, "..", "..", "examples", "wine-quality", "data", "wine.csv");

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

let root = "";

/** A search small enough to finish at once, untracked. */
const QUICK = ["--target", "quality", "--trials", "2", "--cv", "2", "--jobs", "1", "--no-track"];

function mlopsTrain(args: string[], env: Record<string, string> = {}): Result {
  const result = spawnSync(process.execPath, [binary, ...args], {
    cwd: root,
    encoding: "utf8",
    // A clean environment: no registry, CI or colour settings from the developer's shell.
    env: { PATH: process.env.PATH ?? "", MLOPS_REGISTRY: join(root, "registry"), ...env },
    timeout: 100_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

beforeAll(async () => {
  ensureBuilt();
  root = await mkdtemp(join(tmpdir(), "mlops-train-bin-"));
  await copyFile(wineCsv, join(root, "wine.csv"));
  // Bad data: "abc" where alcohol is a number (file line 6), a missing quality (line 10).
  const lines = (await readFile(wineCsv, "utf8")).split("\n");
  const cells = (line: number) => lines[line - 1].split(",");
  const six = cells(6);
  six[10] = "abc";
  lines[5] = six.join(",");
  const ten = cells(10);
  ten[12] = "";
  lines[9] = ten.join(",");
  await writeFile(join(root, "bad.csv"), lines.join("\n"));
}, 120_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

// Each test runs whole training searches in child processes: on a loaded two-core CI machine
// one can pass the default 30 s (a timeout is not an assertion).
describe("mlops-train (the built executable)", { timeout: 180_000 }, () => {
  it("searches, tracks and registers a tree on the wine data (--json)", async () => {
    const result = mlopsTrain([
      "--data",
      "wine.csv",
      "--target",
      "quality",
      "--model",
      "tree",
      "--search",
      "random",
      "--trials",
      "12",
      "--cv",
      "3",
      "--metric",
      "rmse",
      "--register",
      "wine",
      "--alias",
      "staging",
      "--seed",
      "7",
      "--jobs",
      "2",
      "--json",
    ]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.data.rows).toBe(6497);
    expect(report.data.schema).toBe("inferred");
    expect(report.data.inputs).toContain("color_red");
    expect(report.search).toMatchObject({
      kind: "random",
      candidates: 12,
      cv: 3,
      metric: "rmse",
      fastPath: true,
      trainRows: 5197,
    });
    // The best is the lowest mean CV RMSE, first in the leaderboard.
    expect(report.leaderboard).toHaveLength(10);
    expect(report.leaderboard[0].rank).toBe(1);
    expect(report.leaderboard[0].params).toEqual(report.best.params);
    expect(report.best.cvScore).toBe(
      Math.min(...report.leaderboard.map((row: { mean: number }) => row.mean)),
    );
    expect(report.holdout.rows).toBe(1300);
    expect(report.holdout.metrics.rmse).toBeGreaterThan(0.5);
    expect(report.holdout.metrics.rmse).toBeLessThan(0.9);
    expect(report.registered).toMatchObject({
      name: "wine",
      version: 1,
      uri: "models:/wine/1",
      aliasUris: ["models:/wine@staging"],
    });

    const registry = await openRegistry(join(root, "registry"));
    const { version, artifact } = await registry.loadModel("models:/wine@staging");
    expect(version.runId).toBe(report.run.id);
    expect(report.run.experiment).toBe("wine");
    expect(artifact.manifest.schema.fields.color).toMatchObject({ kind: "category" });
    expect(artifact.manifest.schema.target).toBe("quality");
    expect(artifact.manifest.preprocessing[0]).toMatchObject({ kind: "one_hot", column: "color" });
    expect(artifact.manifest.metrics.cv_rmse).toBe(report.best.cvScore);
    // The hold-out metrics under their own names: what `mlops gate --threshold rmse:…` reads.
    expect(artifact.manifest.metrics.rmse).toBe(report.holdout.metrics.rmse);
    // The training profile describes the raw data file (color as a category), with predictions.
    const profile = artifact.manifest.profile;
    expect(profile?.features.color).toMatchObject({ kind: "category" });
    expect(profile?.rowCount).toBe(report.data.rows);
    expect(profile?.target).toMatchObject({ name: "quality", count: report.data.rows });
    expect(profile?.predictions?.count).toBe(report.data.rows);
    // The artifact serves raw rows (category color) with no training code.
    const predictor = createPredictor(artifact);
    const frame = await readFrame(join(root, "wine.csv"));
    const predictions = predictor.predict(frame.slice(0, 5));
    expect(predictions).toHaveLength(5);
    const children = await registry.store.searchRuns({ parentRunId: report.run.id });
    expect(children).toHaveLength(12);
    // A whole search in a child process: generous on a loaded machine.
  }, 180_000);

  it("prints progress lines, a leaderboard and the URIs as text", () => {
    const result = mlopsTrain(
      [
        "--data",
        "wine.csv",
        "--target",
        "quality",
        "--trials",
        "10",
        "--cv",
        "3",
        "--register",
        "wine",
        "--alias",
        "staging",
        "--jobs",
        "1",
      ],
      { CI: "true" },
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      "wine.csv: 6497 rows, 12 features (color one-hot encoded: 13 inputs)",
    );
    expect(result.stdout).toMatch(
      /Leaderboard \(top 10 of 10 candidates by mean CV rmse\):\nrank +rmse +± std +fit +criterion/,
    );
    expect(result.stdout).toMatch(
      /Holdout \(1300 rows, refitted best\): rmse [\d.]+ {2}mae [\d.]+ {2}r2 [\d.]+/,
    );
    expect(result.stdout).toContain(
      "Registered wine version 2: models:/wine/2, models:/wine@staging",
    );
    // Not a terminal: one plain line per tenth, no carriage returns.
    expect(result.stderr).toContain("trials 10/10");
    expect(result.stderr).not.toContain("\r");
  });

  it("reads a YAML config, with flags overriding it", async () => {
    await writeFile(
      join(root, "mlops.train.yaml"),
      [
        "data: wine.csv",
        "target: quality",
        "search: grid",
        "cv: 3",
        "holdout: 0.25",
        "registry: registry",
        "experiment: wine-grid",
        "space:",
        "  maxDepth: [3, 5]",
        "  minSamplesLeaf: [5, 20]",
        "",
      ].join("\n"),
    );
    const result = mlopsTrain(["--config", "mlops.train.yaml", "--metric", "mae", "--json"]);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.search).toMatchObject({ kind: "grid", candidates: 4, metric: "mae" });
    expect(report.holdout.rows).toBe(1625);
    expect(report.run.experiment).toBe("wine-grid");
    expect(report.registered).toBeNull();
  });

  it("tunes gradient boosting by TPE, category columns split natively, and serves it", async () => {
    const result = mlopsTrain([
      "--data",
      "wine.csv",
      "--target",
      "quality",
      "--model",
      "gbm",
      "--search",
      "tpe",
      "--trials",
      "3",
      "--cv",
      "2",
      "--jobs",
      "1",
      "--register",
      "wine-gbm",
      "--json",
    ]);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.estimator).toBe("HistGradientBoostingRegressor");
    expect(report.search).toMatchObject({ kind: "tpe", candidates: 3 });
    // The default space: what a practitioner tunes.
    expect(Object.keys(report.best.params)).toEqual(
      expect.arrayContaining(["learningRate", "maxIter", "maxLeafNodes", "minSamplesLeaf"]),
    );
    expect(report.best.params.learningRate).toBeGreaterThanOrEqual(0.01);
    expect(report.best.params.learningRate).toBeLessThanOrEqual(0.3);
    expect(report.holdout.metrics.r2).toBeGreaterThan(0.3);
    // `color` reaches the model as a category column (no one-hot step), and the registered
    // artifact predicts from raw rows with it.
    const registry = await openRegistry(join(root, "registry"));
    try {
      const { artifact } = await registry.loadModel("models:/wine-gbm/1");
      expect(artifact.manifest.preprocessing.map((step) => step.kind)).not.toContain("one_hot");
      const rows = (await readFrame(join(root, "wine.csv"))).take(Int32Array.from([0, 5000]));
      const predictions = createPredictor(artifact).predict(rows);
      expect(predictions).toHaveLength(2);
      for (const value of predictions) expect(value).toBeGreaterThan(2);
    } finally {
      await registry.close();
    }
  });

  it("runs seed 003's TPE config (conditional space) from examples/wine-quality", async () => {
    const config = join(trainPackageDir, "..", "..", "examples", "wine-quality", "tpe.yaml");
    const result = mlopsTrain([
      "--config",
      config,
      "--trials",
      "12",
      "--cv",
      "3",
      "--no-track",
      "--json",
    ]);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.search).toMatchObject({ kind: "tpe", candidates: 12, metric: "rmse" });
    const depth = report.best.params.maxDepth;
    expect(depth === null || (Number.isInteger(depth) && depth >= 1 && depth <= 20)).toBe(true);
    expect(report.holdout.metrics.rmse).toBeLessThan(0.85);
  });

  it("rejects bad search spaces in a config, saying which entry", async () => {
    const cases: [string[], string][] = [
      [
        ["search: tpe", "space:", "  maxDepth: { choice: [null, { integr: [1, 20] }] }"],
        "bad-space.yaml:6:30: space.maxDepth.choice[1]: expected a value, or a distribution",
      ],
      [
        ["search: tpe", "space:", "  maxDepth: { integer: [20, 1] }"],
        "space.maxDepth: integer: expected integers low ≤ high, got 20, 1",
      ],
      [
        ["search: random", "space:", "  maxLeafNodes: [null, { logUniform: [0, 10] }]"],
        "space.maxLeafNodes[1]: logUniform: expected 0 < low < high, got 0, 10",
      ],
      [
        ["search: grid", "space:", "  maxDepth: { choice: [null, { integer: [1, 20] }] }"],
        "space.maxDepth: a grid search needs a list of values, got a distribution",
      ],
    ];
    for (const [lines, message] of cases) {
      await writeFile(
        join(root, "bad-space.yaml"),
        ["data: wine.csv", "target: quality", "cv: 2", ...lines, ""].join("\n"),
      );
      const result = mlopsTrain(["--config", "bad-space.yaml", "--no-track"]);
      expect(result.code, lines.join(" ")).toBe(2);
      expect(result.stderr).toContain(message);
    }
  });

  it("searches the other models by name (ridge on a grid)", () => {
    const result = mlopsTrain([
      "--data",
      "wine.csv",
      "--target",
      "quality",
      "--model",
      "ridge",
      "--search",
      "grid",
      "--cv",
      "3",
      "--no-track",
      "--json",
    ]);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.estimator).toBe("Ridge");
    expect(report.search).toMatchObject({ kind: "grid", candidates: 7, fastPath: false });
    expect(report.best.params.alpha).toBeGreaterThan(0);
    expect(report.run).toBeNull();
    expect(report.holdout.metrics.r2).toBeGreaterThan(0.2);
  });

  it("leaves out columns given as a list, repeated, or both", () => {
    const result = mlopsTrain([
      "--data",
      "wine.csv",
      ...QUICK,
      "--drop",
      "color,density",
      "--drop",
      "pH",
      "--json",
    ]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const { data } = JSON.parse(result.stdout);
    expect(data.features).toHaveLength(9);
    for (const name of ["color", "density", "pH"]) expect(data.features).not.toContain(name);
    expect(data.features).toContain("alcohol");
  });

  it("saves the inferred schema draft and validates with a given one", async () => {
    const quick = QUICK;
    const saved = mlopsTrain(["--data", "wine.csv", ...quick, "--save-schema", "schema.json"]);
    expect(saved.code).toBe(0);
    const schema = JSON.parse(await readFile(join(root, "schema.json"), "utf8"));
    expect(schema.target).toBe("quality");
    expect(schema.fields.color).toEqual({ kind: "category", values: ["red", "white"] });
    expect(schema.fields.quality).toEqual({ kind: "integer" });
    // A stricter contract: no wine above 14% alcohol.
    schema.fields.alcohol.max = 14;
    await writeFile(join(root, "strict.json"), JSON.stringify(schema));
    const result = mlopsTrain(["--data", "wine.csv", ...quick, "--schema", "strict.json"]);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/rows\[\d+\]\.alcohol: expected number ≤ 14, got 14\.\d+/);
    expect(result.stderr).toMatch(/wine\.csv:\d+, column "alcohol"/);
  });

  it("explains a bad --schema file in the file's terms (exit 2)", async () => {
    // A schema written by hand from memory: a format of its own and a kind that is not one.
    const edited = {
      format: "mlops.schema/v2",
      fields: { alcohol: { kind: "float", min: 8 }, quality: { kind: "integer" } },
      target: "quality",
    };
    await writeFile(join(root, "edited.json"), JSON.stringify(edited, null, 2));
    const result = mlopsTrain(["--data", "wine.csv", ...QUICK, "--schema", "edited.json"]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("edited.json: invalid schema (2 problems):\n");
    expect(result.stderr).toContain(
      '  - format: expected "mlops.schema/v1", got "mlops.schema/v2" (the format of a schema ' +
        "written by mlops-train --save-schema)\n",
    );
    expect(result.stderr).toContain(
      '  - fields.alcohol.kind: expected one of "number", "integer", "boolean", "category", ' +
        'got "float"\n',
    );
    expect(result.stderr).not.toMatch(/Invalid input|invalid_value/);
  });

  it("reports bad data with file, line and column (exit 3)", () => {
    const result = mlopsTrain(["--data", "bad.csv", "--target", "quality", "--trials", "2"]);
    expect(result.code).toBe(3);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain('rows[4].alcohol: expected number, got "abc"');
    expect(result.stderr).toMatch(/bad\.csv:6, column "alcohol"/);
    expect(result.stderr).toMatch(
      /rows\[8\]\.quality: expected integer, got missing value .*bad\.csv:10/,
    );
    const json = mlopsTrain(["--data", "bad.csv", "--target", "quality", "--json"]);
    expect(json.code).toBe(3);
    const { error } = JSON.parse(json.stdout);
    expect(error.code).toBe("schema_invalid");
    expect(error.issues[0]).toMatchObject({
      path: [4, "alcohol"],
      location: { line: 6, column: "alcohol" },
    });
    const missing = mlopsTrain(["--data", "nope.csv", "--target", "quality"]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain("nope.csv");
    const target = mlopsTrain(["--data", "wine.csv", "--target", "qualty"]);
    expect(target.code).toBe(3);
    expect(target.stderr).toContain('target "qualty" is not a column of wine.csv');
  });

  it("rejects bad options and config files with a clear message (exit 2)", async () => {
    const cases: [string[], string][] = [
      [
        ["--data", "wine.csv", "--target", "quality", "--trails", "5"],
        'mlops-train: unknown option "--trails" (did you mean "--trials"?)\n' +
          'Run "mlops-train --help" for usage.\n',
      ],
      [
        ["--data", "wine.csv", "--target", "quality", "--drop", "color,,pH"],
        'option --drop: empty item in "color,,pH"',
      ],
      [
        ["--data", "wine.csv", "--target", "quality", "--trials", "many"],
        'option --trials: expected an integer ≥ 1, got "many"',
      ],
      [["--data", "wine.csv"], "missing option --target NAME"],
      [
        ["--data", "wine.csv", "--target", "quality", "--model", "xgb"],
        'option --model: expected one of tree, forest, gbm, linear, ridge, got "xgb"',
      ],
      [
        ["--data", "wine.csv", "--target", "quality", "--search", "bayes"],
        'option --search: expected one of random, grid, halving, tpe, got "bayes"',
      ],
      [
        ["--data", "wine.csv", "--target", "quality", "--alias", "staging"],
        "--alias needs --register NAME",
      ],
      [["--data", "wine.csv", "--target", "quality", "--metric", "rsme"], 'Unknown metric "rsme"'],
      [
        ["--data", "wine.csv", "--target", "quality", "--search", "grid", "--trials", "5"],
        "--trials does not apply to --search grid",
      ],
      [
        ["--data", "wine.csv", "--target", "quality", "--study-grace", "5"],
        "--study-grace applies to --study NAME only",
      ],
      [
        ["--data", "wine.csv", "--target", "quality", "--study", "s", "--study-grace", "0"],
        'option --study-grace: expected a number of seconds > 0, got "0"',
      ],
      [
        ["--data", "wine.csv", "--target", "quality", "--study", "s", "--no-track"],
        "--study needs the registry (the workers share it): drop --no-track",
      ],
      [
        ["--data", "wine.csv", "--target", "quality", "--cv", "1"],
        'option --cv: expected an integer ≥ 2, got "1"',
      ],
      [
        ["--data", "wine.csv", "--target", "quality", "--register", "wine", "--alias", "Prod"],
        '--alias Prod: alias "Prod" is invalid: it contains "P"',
      ],
    ];
    for (const [args, message] of cases) {
      const result = mlopsTrain(args);
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.stderr).toContain(message);
    }
    await writeFile(
      join(root, "bad.yaml"),
      [
        "data: wine.csv",
        "target: quality",
        "trails: 5",
        "cv: two",
        "space:",
        "  maxDepth: { between: [1, 3] }",
        "",
      ].join("\n"),
    );
    const result = mlopsTrain(["--config", "bad.yaml"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("invalid config (3 problems)");
    expect(result.stderr).toContain(
      'bad.yaml:3:1: unknown setting "trails" (did you mean "trials"?)',
    );
    expect(result.stderr).toContain('bad.yaml:4:1: cv: expected number, got "two"');
    expect(result.stderr).toMatch(/bad\.yaml:6:3: space\.maxDepth: expected a list of values/);
    await writeFile(
      join(root, "bad-param.yaml"),
      ["data: wine.csv", "target: quality", "params:", "  maxDepht: 3", ""].join("\n"),
    );
    const unknownParam = mlopsTrain(["--config", "bad-param.yaml"]);
    expect(unknownParam.code).toBe(2);
    expect(unknownParam.stderr).toContain('unknown parameter "maxDepht" for DecisionTreeRegressor');
    // A dozen processes in a row: generous on a loaded machine (a timeout is not an assertion).
  }, 180_000);

  it("prints help and the version", () => {
    const help = mlopsTrain(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage:");
    expect(help.stdout).toContain("--register NAME");
    expect(help.stdout).toContain("Exit codes:");
    expect(mlopsTrain(["--version"]).stdout).toMatch(/^\d+\.\d+\.\d+/);
  });
});
