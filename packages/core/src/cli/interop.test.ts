import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Frame, numericColumn } from "../frame/frame.js";
import { inspectOnnx } from "../interop/onnx/import.js";
import { createPredictor } from "../predict/predictor.js";
import { openRegistry } from "../registry/registry.js";
import { type CliIo, main } from "./main.js";

const fixtures = new URL("../interop/fixtures/", import.meta.url);
const xgboostFile = new URL("xgboost-diabetes-poisson.json", fixtures).pathname;
const onnxFile = new URL("../../../serve/src/runtime/fixtures/tree-ensemble.onnx", import.meta.url)
  .pathname;

async function cli(argv: string[], cwd: string) {
  let stdout = "";
  let stderr = "";
  const io: CliIo = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env: {},
    cwd,
  };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

let root = "";
let registry = "";
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "mlops-cli-interop-"));
  registry = join(root, ".mlops"); // the default: ./.mlops in the working directory
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe("mlops models register --xgboost / --onnx, models export --onnx", () => {
  it("registers an XGBoost model that predicts what xgboost predicts", async () => {
    const result = await cli(
      ["models", "register", "diabetes", "--xgboost", xgboostFile, "--alias", "staging"],
      root,
    );
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Registered models:\/diabetes\/1 \(ensemble, 10 features: age/);
    expect(result.stdout).toContain("Aliases: staging");
    const { artifact } = await (await openRegistry(registry)).loadModel("models:/diabetes@staging");
    const expected = JSON.parse(readFileSync(new URL("xgboost-expected.json", fixtures), "utf8"))
      .cases["diabetes-poisson"];
    const frame = new Frame(
      expected.features.map(
        (name: string, j: number) =>
          [name, numericColumn(expected.X.map((row: (number | null)[]) => row[j]))] as const,
      ),
    );
    const ours = createPredictor(artifact).predict(frame);
    expected.predict.forEach((value: number, i: number) => {
      expect(Math.abs(ours[i] - value)).toBeLessThanOrEqual(1e-5 * Math.abs(value));
    });
  }, 30_000);

  it("registers an ONNX file with named features, or a schema file", async () => {
    const names = ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"];
    const named = await cli(
      ["models", "register", "boosted", "--onnx", onnxFile, "--feature-names", names.join(",")],
      root,
    );
    expect(named.code).toBe(0);
    expect(named.stdout).toMatch(/Registered models:\/boosted\/1 \(onnx, 10 features: age, sex/);
    const shown = await cli(["models", "show", "boosted", "--json"], root);
    const { manifest } = JSON.parse(shown.stdout);
    expect(manifest.kind).toBe("onnx");
    expect(manifest.model.onnx).toMatchObject({ layout: "matrix", input: "X" });
    await writeFile(join(root, "manifest.json"), shown.stdout);
    const typed = await cli(
      ["models", "register", "boosted", "--onnx", onnxFile, "--schema", "manifest.json", "--json"],
      root,
    );
    expect(typed.code).toBe(0);
    expect(JSON.parse(typed.stdout)).toMatchObject({ kind: "onnx", inputs: names });
  }, 30_000);

  it("exports a registered model as an ONNX graph", async () => {
    const result = await cli(["models", "export", "diabetes@staging", "--onnx", "d.onnx"], root);
    expect(result.stderr).toBe("");
    expect(result.stdout).toMatch(/^Wrote models:\/diabetes\/1 as ONNX to .*d\.onnx \(/);
    const info = inspectOnnx(readFileSync(join(root, "d.onnx")));
    expect(info.inputs.map((input) => input.name)).toContain("bmi");
    expect(info.operators).toContain("ai.onnx.ml:TreeEnsembleRegressor");
  }, 30_000);

  it("says what is wrong: no file, two files, a model of the wrong kind", async () => {
    const neither = await cli(["models", "register", "x"], root);
    expect(neither.code).toBe(2);
    expect(neither.stderr).toMatch(/exactly one of --xgboost FILE or --onnx FILE/);
    const missing = await cli(["models", "register", "x", "--onnx", "nope.onnx"], root);
    expect(missing.stderr).toMatch(/nope\.onnx: cannot read the ONNX model \(ENOENT\)/);
    const notOnnx = await cli(["models", "register", "x", "--onnx", xgboostFile], root);
    expect(notOnnx.stderr).toMatch(/not an ONNX model/);
    const onnxAgain = await cli(["models", "export", "boosted", "--onnx", "b.onnx"], root);
    expect(onnxAgain.stderr).toMatch(/model kind "onnx" has no ONNX form/);
  }, 30_000);
});
