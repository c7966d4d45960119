// End-to-end: runs the built `mlops-predict` executable (dist/predict-cli.js) in child processes
// on real files, including runs killed with SIGKILL and started again.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { readFrame } from "@mlops/core";
import { ensureBuilt } from "@mlops/test-support";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { manifestPath, readManifest } from "../batch/manifest.js";
import { byHand, tempRegistry } from "../testing/fixtures.js";
import { ProgressReporter, parseRate } from "./predict.js";

const packageDir = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const binary = join(packageDir, "dist", "predict-cli.js");

let temp: Awaited<ReturnType<typeof tempRegistry>>;
const children: ChildProcess[] = [];

beforeAll(async () => {
  ensureBuilt(
    { packageDir: join(packageDir, "..", "core") },
    { packageDir, outputs: ["predict-cli.js", "batch-worker.js"] },
  );
  temp = await tempRegistry();
}, 180_000);

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
});

afterAll(async () => {
  await temp.cleanup();
});

/** A clean environment: no registry inherited from the developer's shell. */
const env = () => ({ PATH: process.env.PATH ?? "", MLOPS_REGISTRY: join(temp.dir, ".mlops") });

function run(args: string[], cwd = temp.dir, extraEnv: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [binary, ...args], {
    cwd,
    encoding: "utf8",
    env: { ...env(), ...extraEnv },
    timeout: 120_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function housesCsv(n: number, from = 0): string {
  const colors = ["red", "green", "blue", ""];
  let text = "id,rooms,area,color\n";
  for (let i = from; i < from + n; i++)
    text += `h${i},${(i % 5) + 1},${i % 1000},${colors[i % 4]}\n`;
  return text;
}

function expected(i: number): number {
  const colors = ["red", "green", "blue", null];
  return byHand({ rooms: (i % 5) + 1, area: i % 1000, color: colors[i % 4] });
}

async function folder(name: string): Promise<string> {
  const path = join(temp.dir, name);
  await mkdir(path, { recursive: true });
  return path;
}

describe("mlops-predict (the built executable)", () => {
  it("prints its usage and exit codes", () => {
    const result = run(["--help"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/--max-reject-rate/);
    expect(result.stdout).toMatch(/Exit codes:\n +0 +every file scored/);
  });

  it("scores a folder to Parquet and reconciles rows in --json", async () => {
    const data = await folder("json-data");
    await writeFile(join(data, "a.csv"), housesCsv(100));
    await writeFile(join(data, "b.csv"), housesCsv(50, 100).replace("h102,3,", "h102,three,"));
    const result = run([
      "--model",
      "houses@production",
      "--input",
      "json-data",
      "--output",
      "json-out",
      "--format",
      "parquet",
      "--max-reject-rate",
      "1%",
      "--json",
    ]);
    expect(result.stderr).not.toMatch(/not ok/);
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary.ok).toBe(true);
    expect(summary.model).toMatchObject({ name: "houses", version: 1 });
    expect(summary.totals).toMatchObject({ rows_in: 150, rows_scored: 149, rows_rejected: 1 });
    for (const file of summary.files) {
      expect(file.rows_in).toBe(file.rows_scored + file.rows_rejected);
    }
    const b = await readFrame(join(temp.dir, "json-out", "b.parquet"));
    expect(b.rowCount).toBe(49);
    expect(b.numeric("prediction")[0]).toBe(expected(100));
    const rejects = (await readFile(join(temp.dir, "json-out", "b.rejects.jsonl"), "utf8")).trim();
    expect(JSON.parse(rejects)).toMatchObject({ line: 4, row: 2, values: { id: "h102" } });
    // Plain progress lines on a non-terminal stderr: one per file.
    expect(result.stderr).toMatch(/scored {2}json-data\/a\.csv: 100 rows, 100 scored, 0 rejected/);
  });

  it("exits 1 when the reject share passes --max-reject-rate (default 0)", async () => {
    const data = await folder("strict-data");
    await writeFile(join(data, "a.csv"), housesCsv(10).replace("h3,4,", "h3,-4,"));
    const result = run([
      "--model",
      "houses@production",
      "--input",
      "strict-data",
      "--output",
      "strict-out",
    ]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/10 in = 9 scored \+ 1 rejected/);
    expect(result.stderr).toMatch(
      /not ok: 10 % of the rows were rejected, more than --max-reject-rate 0 %/,
    );
  });

  it("exits 2 with a clear message for a model that does not exist or no input", async () => {
    const data = await folder("two-data");
    await writeFile(join(data, "a.csv"), housesCsv(3));
    const noModel = run([
      "--model",
      "housez@production",
      "--input",
      "two-data",
      "--output",
      "two-out",
    ]);
    expect(noModel.code).toBe(2);
    expect(noModel.stderr).toMatch(/housez/);
    const noAlias = run(["--model", "houses@nope", "--input", "two-data", "--output", "two-out"]);
    expect(noAlias.code).toBe(2);
    expect(noAlias.stderr).toMatch(/nope/);
    const noInput = run([
      "--model",
      "houses@production",
      "--input",
      "two-data/*.parquet",
      "--output",
      "two-out",
    ]);
    expect(noInput.code).toBe(2);
    expect(noInput.stderr).toMatch(/two-data\/\*\.parquet: the pattern matches no file/);
    const usage = run(["--model", "houses@production", "--output", "x"]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/missing --input/);
    // One wording with mlops, mlops-train and mlops-serve: did-you-mean, and the help to read.
    const typo = run(["--modle", "houses@production", "--input", "two-data", "--output", "x"]);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toBe(
      'mlops-predict: unknown option "--modle" (did you mean "--model"?)\n' +
        'Run "mlops-predict --help" for usage.\n',
    );
    // An empty MLOPS_REGISTRY is unset, as for the other tools: ./.mlops of the working folder.
    const emptyEnv = run(
      ["--model", "houses@production", "--input", "two-data", "--output", "empty-env-out"],
      temp.dir,
      { MLOPS_REGISTRY: "" },
    );
    expect(emptyEnv.stderr).not.toMatch(/no registry/);
    expect(emptyEnv.code).toBe(0);
  });

  it("reads a batch.yaml laid out like seed 001's (model, source, target), flags win", async () => {
    const data = await folder("cfg-data");
    await writeFile(join(data, "a.tsv"), housesCsv(5).replaceAll(",", ";"));
    await writeFile(
      join(temp.dir, "batch.yaml"),
      [
        "model:",
        "  name: houses",
        "  version: 2",
        "source:",
        "  type: csv",
        "  path: cfg-data/*.tsv",
        "  load_params: { delimiter: ';' }",
        "target:",
        "  type: jsonl",
        "  path: cfg-out",
        "  file_name: '{timestamp}_{name}{ext}'",
        "  prediction_column: predictions",
        "  keep_input_columns: false",
        "  id_column: id",
        "  version_column: model_version",
        "",
      ].join("\n"),
    );
    const result = run(["--config", "batch.yaml", "--json"]);
    expect(result.stderr).toBe("scored  cfg-data/a.tsv: 5 rows, 5 scored, 0 rejected\n");
    expect(result.code).toBe(0);
    const names = (await readdir(join(temp.dir, "cfg-out"))).filter(
      (name) => !name.startsWith("_"),
    );
    expect(names).toHaveLength(1);
    expect(names[0]).toMatch(/^\d{14}_a\.jsonl$/);
    const lines = (await readFile(join(temp.dir, "cfg-out", names[0]), "utf8")).trim().split("\n");
    expect(JSON.parse(lines[0])).toEqual({
      id: "h0",
      predictions: expected(0) + 10,
      model_version: 2,
    });

    await writeFile(
      join(temp.dir, "bad.yaml"),
      "model:\n  name: houses\ntarget:\n  keep_input_colums: true\n",
    );
    const bad = run(["--config", "bad.yaml", "--input", "cfg-data", "--output", "x"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/bad\.yaml:4:3: target\.keep_input_colums: unknown key/);
  });

  it("draws a bar with rows/s and an ETA on a terminal, plain lines elsewhere", () => {
    const progress = {
      event: "batch" as const,
      fileIndex: 0,
      fileCount: 2,
      file: join(temp.dir, "data", "a.csv"),
      rows: 250_000,
      estimatedRows: 1_000_000,
      elapsedSeconds: 2,
    };
    const terminal = {
      text: "",
      isTTY: true,
      columns: 120,
      write(t: string) {
        this.text += t;
      },
    };
    const bar = new ProgressReporter({
      stdout: terminal,
      stderr: terminal,
      env: {},
      cwd: temp.dir,
    });
    bar.update(progress);
    expect(terminal.text).toMatch(
      /^\r\[█{6}░{18}\] +25 % 250,000 rows 125,000 rows\/s ETA 6s {2}\(1\/2\) data\/a\.csv/,
    );
    const log = {
      text: "",
      write(t: string) {
        this.text += t;
      },
    };
    const lines = new ProgressReporter({ stdout: log, stderr: log, env: {}, cwd: temp.dir });
    lines.update(progress);
    lines.update({ ...progress, rows: 260_000 });
    expect(log.text).toBe("progress 20 %: 250,000 rows, 125,000 rows/s ETA 6s\n");
  });

  it("parses reject rates as shares or percentages", () => {
    expect(parseRate("0")).toBe(0);
    expect(parseRate("0.05")).toBe(0.05);
    expect(parseRate("2.5%")).toBe(0.025);
    expect(() => parseRate("150%")).toThrow(/from 0 to 1/);
    expect(() => parseRate("lots")).toThrow(/from 0 to 1/);
  });

  it("killed twice at arbitrary points and started again, finishes every file exactly once", async () => {
    const files = 6;
    const rows = 20_000;
    const data = await folder("kill-data");
    for (let f = 0; f < files; f++) {
      await writeFile(join(data, `part-${f}.csv`), housesCsv(rows, f * rows));
    }
    const out = join(temp.dir, "kill-out");
    const args = [
      "--model",
      "houses@production",
      "--input",
      "kill-data",
      "--output",
      "kill-out",
      "--batch-size",
      "500",
      "--workers",
      "1",
      "--version-column",
      "v",
    ];

    // First attempt: killed once two files are done and the third is half-written.
    await killWhen(args, out, 2);
    await expectNoPartialOutputs(out, rows);
    // Meanwhile the alias moves: the resumed run must keep version 1.
    await temp.registry.setAlias("houses", "production", 2);
    // Second attempt: resumes, killed again once four files are done.
    await killWhen(args, out, 4);
    await expectNoPartialOutputs(out, rows);

    const final = run([...args, "--json"]);
    expect(final.stderr).toMatch(/skipped kill-data\/part-0\.csv/);
    expect(final.code).toBe(0);
    const summary = JSON.parse(final.stdout);
    expect(summary.resumed).toBe(true);
    expect(summary.model.version).toBe(1);
    expect(
      summary.files.filter((file: { status: string }) => file.status === "skipped").length,
    ).toBeGreaterThanOrEqual(4);
    expect(summary.totals).toMatchObject({
      files,
      rows_in: files * rows,
      rows_scored: files * rows,
    });
    for (let f = 0; f < files; f++) {
      const frame = await readFrame(join(out, `part-${f}.csv`));
      expect(frame.rowCount).toBe(rows);
      const prediction = frame.numeric("prediction");
      const version = frame.numeric("v");
      for (const row of [0, 1, 777, rows - 1]) {
        expect(frame.get(row, "id")).toBe(`h${f * rows + row}`);
        expect(prediction[row]).toBe(expected(f * rows + row));
        expect(version[row]).toBe(1);
      }
    }
    // No temporary file survives the run that finished.
    expect((await readdir(out)).filter((name) => name.endsWith(".tmp"))).toEqual([]);
    const manifest = await readManifest(out);
    expect(manifest?.status).toBe("completed");
    expect(
      manifest?.files.every((file) => file.status === "done" && file.rowsScored === rows),
    ).toBe(true);
    await temp.registry.setAlias("houses", "production", 1);
  }, 600_000);
});

/**
 * Starts the run and SIGKILLs it once the manifest lists `done` finished files and the next
 * output has bytes in its temporary file (so the kill lands mid-file). Waits on those events,
 * never on a fixed delay.
 */
async function killWhen(args: string[], out: string, done: number): Promise<void> {
  const child = spawn(process.execPath, [binary, ...args], { cwd: temp.dir, env: env() });
  children.push(child);
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (text: string) => {
    stderr += text;
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  let finished = false;
  void exited.then(() => {
    finished = true;
  });
  for (;;) {
    if (finished) throw new Error(`the run ended before it could be killed:\n${stderr}`);
    const manifest = await readManifest(out).catch(() => undefined);
    const count = manifest?.files.filter((file) => file.status === "done").length ?? 0;
    if (count >= done) {
      const pending = manifest!.files.find((file) => file.status !== "done");
      const prefix = pending
        ? `.${pending.output.slice(pending.output.lastIndexOf("/") + 1)}.`
        : "";
      const names = await readdir(out);
      const partial = names.find((name) => name.startsWith(prefix) && name.endsWith(".tmp"));
      if (partial && (await stat(join(out, partial)).catch(() => undefined))?.size) {
        child.kill("SIGKILL");
        break;
      }
    }
    // Poll the files the run writes (an event to wait for, not a delay before an assertion).
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  expect(await exited).toBeNull();
}

/** Every file under a final name is complete: all its rows, none cut off. */
async function expectNoPartialOutputs(out: string, rows: number): Promise<void> {
  const finals = (await readdir(out)).filter((name) => /^part-\d+\.csv$/.test(name));
  expect(finals.length).toBeGreaterThan(0);
  for (const name of finals) {
    const frame = await readFrame(join(out, name));
    expect(frame.rowCount, name).toBe(rows);
  }
  const manifest = JSON.parse(await readFile(manifestPath(out), "utf8"));
  expect(manifest.status).toBe("running");
}
