import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createArtifact } from "../artifact/create.js";
import { ksTwoSample } from "../drift/samples.js";
import { categoryColumn, Frame, numericColumn } from "../frame/frame.js";
import { writeFrame } from "../io/index.js";
import { createRandom } from "../metrics/random.js";
import { profileFrame } from "../profile/profile.js";
import { openRegistry } from "../registry/registry.js";
import { wine } from "./fixture.js";
import { type CliIo, main } from "./main.js";

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(argv: string[]): Promise<Result> {
  let stdout = "";
  let stderr = "";
  const io: CliIo = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env: {},
    cwd: root,
  };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

/** Wines from a seeded generator; `shift` moves alcohol, `whites` is the share of white. */
function wines(seed: number, n: number, shift = 0, whites = 0.3): Frame {
  const random = createRandom(seed);
  const normal = () =>
    Math.sqrt(-2 * Math.log(1 - random.next())) * Math.cos(2 * Math.PI * random.next());
  const alcohol = Array.from({ length: n }, () => 10.4 + shift + normal());
  const sulphates = Array.from({ length: n }, (_, i) =>
    i % 17 === 0 ? null : 0.66 + 0.17 * normal(),
  );
  const color = Array.from({ length: n }, () => (random.next() < whites ? "white" : "red"));
  const quality = alcohol.map((value) => Math.round(value / 2));
  return new Frame({
    alcohol: numericColumn(alcohol),
    sulphates: numericColumn(sulphates),
    color: categoryColumn(color),
    quality: numericColumn(quality, "integer"),
  });
}

const model = {
  kind: "linear",
  schema: wine,
  preprocessing: [
    {
      kind: "one_hot",
      column: "color",
      categories: ["red", "white"],
      handleUnknown: "error" as const,
      outputs: ["color=red", "color=white"],
    },
    { kind: "simple_imputer", columns: ["sulphates"], fill: [0.66] },
  ],
  model: { inputs: ["alcohol", "sulphates", "color=red", "color=white"], intercept: 1 },
  arrays: { coefficients: Float64Array.of(0.4, 0.5, 0.1, -0.1) },
};

let root = "";
let registry = "";

/** `mlops drift` against the profile of wine@production. */
function againstWine(argv: string[]): Promise<Result> {
  return cli(["drift", "--registry", registry, "--model", "wine@production", ...argv]);
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "mlops-cli-drift-"));
  registry = join(root, "registry");
  const store = await openRegistry(registry);
  const training = wines(1, 5_000);
  const bare = createArtifact(model);
  const { createPredictor } = await import("../predict/predictor.js");
  const predictions = createPredictor(bare).predict(training);
  await store.registerModel(
    "wine",
    createArtifact({ ...model, profile: profileFrame(training, wine, { predictions }) }),
    {
      aliases: ["production"],
    },
  );
  await store.registerModel("old", bare, { aliases: ["production"] });
  await writeFrame(join(root, "train.csv"), training);
  await writeFrame(join(root, "same.csv"), wines(2, 3_000));
  await writeFrame(join(root, "moved.parquet"), wines(3, 3_000, 1.2, 0.8));
  await writeFrame(join(root, "tiny.csv"), wines(4, 12, 3));
  await writeFrame(join(root, "no-color.csv"), wines(5, 100).drop(["color"]));
  const rosé = wines(6, 400);
  await writeFrame(
    join(root, "rose.csv"),
    rosé.withColumn(
      "color",
      categoryColumn(Array.from({ length: 400 }, (_, i) => (i % 2 ? "rosé" : "red"))),
    ),
  );
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const KEYS = [
  "kind",
  "method",
  "statistic",
  "pValue",
  "ks",
  "wasserstein",
  "psi",
  "jensenShannon",
  "drifted",
  "verdict",
];

describe("mlops drift against a model's training profile", () => {
  it("no drift: a table per feature, the verdict, exit 0", async () => {
    const { code, stdout, stderr } = await againstWine(["--current", "same.csv"]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const lines = stdout.split("\n");
    expect(lines[0]).toBe("Current data (3000 rows) against the training profile (5000 rows)");
    expect(lines[2]).toMatch(
      /^FEATURE\s+KIND\s+METHOD\s+STATISTIC\s+P-VALUE\s+DRIFT IF\s+ROWS\s+VERDICT$/,
    );
    expect(stdout).toMatch(
      /\nalcohol\s+number\s+Wasserstein\/σ\s+[\d.e-]+\s+-\s+≥ 0\.1\s+3000\s+no drift\n/,
    );
    expect(stdout).toMatch(
      /\ncolor\s+category\s+Jensen–Shannon\s+[\d.e-]+\s+-\s+≥ 0\.1\s+3000\s+no drift\n/,
    );
    expect(stdout).toMatch(/\n\(predictions\)\s+number\s+/);
    expect(stdout).toMatch(/\n\(target\) quality\s+integer\s+/);
    expect(stdout).toMatch(
      /\nData set: no drift — 0 of 3 features drifted \(0 %\); drift at ≥ 50 %\.\n$/,
    );
  });

  it("drift: exit 1, and --json has every statistic, whatever method decided", async () => {
    const { code, stdout } = await againstWine(["--current", "moved.parquet", "--json"]);
    expect(code).toBe(1);
    const report = JSON.parse(stdout);
    expect(report.dataset).toMatchObject({ drifted: true, verdict: "drift" });
    expect(report.dataset.share).toBeCloseTo(2 / 3, 12);
    expect(Object.keys(report.features)).toEqual(["alcohol", "sulphates", "color"]);
    for (const feature of Object.values(report.features) as Record<string, unknown>[]) {
      for (const key of KEYS) expect(feature).toHaveProperty(key);
    }
    expect(report.features.alcohol).toMatchObject({
      kind: "number",
      method: "wasserstein",
      drifted: true,
      verdict: "drift",
    });
    expect(typeof report.features.alcohol.ks).toBe("number");
    expect(typeof report.features.alcohol.pValue).toBe("object"); // null: a distance decided
    expect(typeof report.features.alcohol.ksPValue).toBe("number");
    expect(report.features.color).toMatchObject({
      kind: "category",
      ks: null,
      wasserstein: null,
      verdict: "drift",
    });
    expect(typeof report.features.color.chiSquare).toBe("number");
    expect(report.features.sulphates.verdict).toBe("no_drift");
    expect(report.predictions.verdict).toBe("drift");
  });

  it("thresholds are options: a looser Wasserstein and share turn the verdict", async () => {
    const { code, stdout } = await cli([
      "drift",
      "--registry",
      registry,
      "--model",
      "wine",
      "--current",
      "moved.parquet",
      "--json",
      "--wasserstein",
      "5",
      "--column",
      "color:psi:10",
      "--dataset-share",
      "0.9",
    ]);
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    expect(report.features.alcohol).toMatchObject({ threshold: 5, verdict: "no_drift" });
    expect(report.features.color).toMatchObject({
      method: "psi",
      threshold: 10,
      verdict: "no_drift",
    });
    expect(report.options).toMatchObject({ wasserstein: 5, datasetShare: 0.9 });
  });

  it("too little data: insufficient data, never a silent no drift", async () => {
    const { code, stdout } = await againstWine(["--current", "tiny.csv"]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/\nalcohol\s+number\s+KS\s+.*insufficient data\n/);
    expect(stdout).toMatch(
      /Data set: insufficient data — no feature has 30 values on both sides to judge\./,
    );
  });

  it("an unseen category is drift, not an error; predictions are left out with a note", async () => {
    const { code, stdout } = await againstWine(["--current", "rose.csv", "--json"]);
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    expect(report.features.color.verdict).toBe("drift");
    expect(report.predictions).toBeNull();
    expect(report.notes[0]).toMatch(
      /predictions not compared: the model does not accept this data/,
    );
  });

  it("a model made before profiles needs --reference, and then is exact", async () => {
    const refused = await cli([
      "drift",
      "--registry",
      registry,
      "--model",
      "old@production",
      "--current",
      "same.csv",
    ]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      /^mlops: models:\/old\/1 has no training profile \(it was made before profiles existed, or without data\): give --reference FILE with its training data\n/,
    );
    const { code, stdout } = await cli([
      "drift",
      "--registry",
      registry,
      "--model",
      "old@production",
      "--reference",
      "train.csv",
      "--current",
      "same.csv",
      "--json",
    ]);
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    expect(report.reference.source).toBe("data");
    expect(report.predictions).not.toBeNull();
  });
});

describe("mlops drift --reference", () => {
  it("compares two files, KS exact", async () => {
    const { code, stdout } = await cli([
      "drift",
      "--reference",
      "train.csv",
      "--current",
      "moved.parquet",
      "--target",
      "quality",
      "--json",
    ]);
    expect(code).toBe(1);
    const report = JSON.parse(stdout);
    expect(report.reference).toEqual({ source: "data", rows: 5000 });
    expect(report.targetName).toBe("quality");
    expect(report.features.alcohol.ks).toBe(
      ksTwoSample(wines(1, 5_000).numeric("alcohol"), wines(3, 3_000, 1.2, 0.8).numeric("alcohol"))
        .statistic,
    );
    expect(Object.keys(report.features)).toEqual(["alcohol", "sulphates", "color"]);
  });

  it("--feature compares only those", async () => {
    const { stdout } = await cli([
      "drift",
      "--reference",
      "train.csv",
      "--current",
      "same.csv",
      "--feature",
      "alcohol,color",
      "--json",
    ]);
    expect(Object.keys(JSON.parse(stdout).features)).toEqual(["alcohol", "color"]);
  });
});

describe("mlops drift failures", () => {
  it("usage errors exit 2", async () => {
    const none = await cli(["drift", "--current", "same.csv"]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(
      /give --model NAME@ALIAS \(its training profile\) or --reference FILE/,
    );
    const bad = await cli([
      "drift",
      "--reference",
      "train.csv",
      "--current",
      "same.csv",
      "--p-value",
      "abc",
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/option --p-value: expected a number, got "abc"/);
    const range = await cli([
      "drift",
      "--reference",
      "train.csv",
      "--current",
      "same.csv",
      "--p-value",
      "3",
    ]);
    expect(range.code).toBe(2);
    expect(range.stderr).toMatch(/option pValue: expected a probability in \(0, 1\), got 3/);
    const column = await cli([
      "drift",
      "--reference",
      "train.csv",
      "--current",
      "same.csv",
      "--column",
      "color:nope",
    ]);
    expect(column.code).toBe(2);
    expect(column.stderr).toMatch(/unknown method "nope"/);
    const unknown = await cli([
      "drift",
      "--registry",
      registry,
      "--model",
      "nope@production",
      "--current",
      "same.csv",
    ]);
    expect(unknown.code).toBe(2);
    // --html goes through core's loadUi seam: its absent-package error is tested in
    // ui/load.test.ts, the report it writes in @mlops/ui's tests.
  });

  it("bad data exits 3, naming the file and column", async () => {
    const missing = await againstWine(["--current", "no-color.csv", "--json"]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/the current data has no column "color"/);
    expect(JSON.parse(missing.stdout).error.code).toBe("data_invalid");
    const absent = await cli(["drift", "--reference", "train.csv", "--current", "absent.csv"]);
    expect(absent.code).toBe(3);
    expect(absent.stderr).toMatch(/absent\.csv/);
    const { writeFile } = await import("node:fs/promises");
    await writeFile(
      join(root, "text.csv"),
      "alcohol,sulphates,color,quality\n10,0.5,red,5\nabc,0.5,red,5\n",
    );
    const text = await cli(["drift", "--reference", "train.csv", "--current", "text.csv"]);
    expect(text.code).toBe(3);
    expect(text.stderr).toMatch(
      /current column "alcohol", row 2: expected a number as in the reference, got "abc"/,
    );
  });
});
