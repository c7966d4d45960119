// What the built `mlops drift` loads: the heavy libraries only for the formats that need them.
// A module hook in the child process records every module it loads.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureBuilt } from "@mlops/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Frame } from "../frame/frame.js";
import { writeFrame } from "../io/index.js";

const packageDir = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const binary = join(packageDir, "dist", "cli.js");
let root = "";

beforeAll(async () => {
  ensureBuilt({ packageDir, outputs: ["cli.js"] });
  root = await mkdtemp(join(tmpdir(), "mlops-drift-load-"));
  const frame = (shift: number) =>
    new Frame({
      income: { kind: "number", values: Float64Array.from({ length: 200 }, (_, i) => i + shift) },
      ocean: {
        kind: "category",
        codes: Int32Array.from({ length: 200 }, (_, i) => i % 2),
        dictionary: ["inland", "near_bay"],
      },
    });
  await writeFrame(join(root, "reference.csv"), frame(0));
  await writeFrame(join(root, "current.csv"), frame(50));
  await writeFrame(join(root, "current.parquet"), frame(50));
}, 300_000);
afterAll(() => rm(root, { recursive: true, force: true }));

/** Runs the built `mlops` with a hook that lists every module loaded; returns the list. */
function loaded(args: string[]): string[] {
  const log = join(root, `loaded-${Math.random().toString(36).slice(2)}.txt`);
  const hooks = `import { appendFileSync } from "node:fs";
export async function load(url, context, next) {
  appendFileSync(${JSON.stringify(log)}, url + "\\n");
  return next(url, context);
}`;
  const register = `import { register } from "node:module";
register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hooks)}`)});`;
  const run = spawnSync(
    process.execPath,
    ["--import", `data:text/javascript,${encodeURIComponent(register)}`, binary, ...args],
    { cwd: root, encoding: "utf8", env: { PATH: process.env.PATH ?? "" }, timeout: 100_000 },
  );
  // Exit 1: drift was found (the current data is shifted).
  expect(run.status, run.stderr).toBe(1);
  return readFileSync(log, "utf8").trim().split("\n");
}

const packageOf = (url: string) => /node_modules\/((@[^/]+\/)?[^/]+)/.exec(url)?.[1];

describe("mlops drift loads what the data needs", () => {
  it("CSV: no Arrow, Parquet, protobuf or UI module", () => {
    const urls = loaded(["drift", "--reference", "reference.csv", "--current", "current.csv"]);
    expect(urls.some((url) => url.endsWith("/dist/cli.js"))).toBe(true);
    const packages = new Set(urls.map(packageOf));
    for (const heavy of ["apache-arrow", "hyparquet", "hyparquet-writer", "protobufjs"]) {
      expect(packages.has(heavy), heavy).toBe(false);
    }
    expect(urls.some((url) => url.includes("/ui/"))).toBe(false);
  }, 120_000);

  it("Parquet: hyparquet to read it, and still no Arrow", () => {
    const urls = loaded(["drift", "--reference", "reference.csv", "--current", "current.parquet"]);
    const packages = new Set(urls.map(packageOf));
    expect(packages.has("hyparquet")).toBe(true);
    expect(packages.has("apache-arrow")).toBe(false);
  }, 120_000);
});
