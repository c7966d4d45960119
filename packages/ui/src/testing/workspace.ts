/**
 * A real registry for the UI tests, made the way a user makes one: `mlops-train` searches on the
 * wine-quality sample (core/test-data) and registers two versions, `mlops gate` compares them and
 * promotes — real child processes of the built executables.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { driftReport, openRegistry, readFrame, recordReport } from "@mlops/core";
import type { ExperimentSummary } from "../shared/api.js";

const run = promisify(execFile);
const PACKAGES = fileURLToPath(new URL("../../..", import.meta.url));

export const WINE_CSV = join(PACKAGES, "core", "test-data", "wine-quality-red.csv");
export const HOUSING_CSV = join(PACKAGES, "core", "test-data", "california-housing.csv");
const MLOPS = join(PACKAGES, "core", "bin", "mlops.js");
const MLOPS_TRAIN = join(PACKAGES, "train", "bin", "mlops-train.js");

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a built executable (`mlops`, `mlops-train`) in `cwd`; resolves with its exit code. */
export async function command(
  tool: "mlops" | "mlops-train",
  args: readonly string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<CommandResult> {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      [tool === "mlops" ? MLOPS : MLOPS_TRAIN, ...args],
      { cwd, env: { ...process.env, NO_COLOR: "1", CI: "1", ...env }, maxBuffer: 64 << 20 },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    if (typeof failed.code !== "number") throw error;
    return { code: failed.code, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
  }
}

/** Like `command`, failing with its output when the exit code is not `expected`. */
export async function expectCommand(
  tool: "mlops" | "mlops-train",
  args: readonly string[],
  cwd: string,
  expected = 0,
): Promise<CommandResult> {
  const result = await command(tool, args, cwd);
  if (result.code !== expected) {
    throw new Error(
      `${tool} ${args.join(" ")} exited ${result.code} (expected ${expected})\n` +
        `${result.stdout}\n${result.stderr}`,
    );
  }
  return result;
}

export interface Workspace {
  dir: string;
  registry: string;
  remove(): Promise<void>;
}

/**
 * A folder with a registry in `registry/` (or at `options.registry`, a `postgres://` URL): model
 * `wine`, v1 (a tree, @production) and v2 (a forest, @staging, promoted to @production by a
 * gate that keeps its report with v2), their searches tracked as runs. `search.html` and
 * `gate.html` are the reports the commands wrote.
 */
export async function wineWorkspace(options: { registry?: string } = {}): Promise<Workspace> {
  const dir = await mkdtemp(join(tmpdir(), "mlops-ui-"));
  const registry = options.registry ?? join(dir, "registry");
  const common = ["--data", WINE_CSV, "--target", "quality", "--registry", registry, "--jobs", "1"];
  await expectCommand(
    "mlops-train",
    [
      ...common,
      "--model",
      "tree",
      "--trials",
      "12",
      "--cv",
      "3",
      "--register",
      "wine",
      "--alias",
      "production",
    ],
    dir,
  );
  await expectCommand(
    "mlops-train",
    [
      ...common,
      "--model",
      "forest",
      "--trials",
      "6",
      "--cv",
      "3",
      "--register",
      "wine",
      "--alias",
      "staging",
      "--report",
      join(dir, "search.html"),
    ],
    dir,
  );
  const gate = await command(
    "mlops",
    [
      "gate",
      "--registry",
      registry,
      "--model",
      "wine",
      "--data",
      WINE_CSV,
      "--threshold",
      "rmse:maxRelativeRegression=0.05,significance=0.95",
      "--threshold",
      "r2:maxAbsoluteRegression=0.05",
      "--promote",
      "production",
      "--reason",
      "weekly retrain",
      "--html",
      join(dir, "gate.html"),
    ],
    dir,
  );
  // Pass (0) or fail (1), the report is written; the tests look at it either way.
  if (gate.code !== 0 && gate.code !== 1) {
    throw new Error(`mlops gate exited ${gate.code}\n${gate.stdout}\n${gate.stderr}`);
  }
  return { dir, registry, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** California's south as the reference, its north as the current data: drift by design. */
export async function housingHalves() {
  const housing = await readFrame(HOUSING_CSV);
  const latitude = housing.numeric("latitude");
  const south: number[] = [];
  const north: number[] = [];
  latitude.forEach((value, row) => {
    (value < 36 ? south : north).push(row);
  });
  return { reference: housing.take(south), current: housing.take(north) };
}

/**
 * Keeps a drift report with wine v2 (`recordReport`, as a monitoring job would): California's
 * north against its south, titled "drift: north vs south".
 */
export async function keepDriftReport(location: string): Promise<void> {
  const { reference, current } = await housingHalves();
  const report = driftReport(reference, current, { target: "median_house_value" });
  const registry = await openRegistry(location);
  try {
    await recordReport(registry, {
      kind: "drift",
      model: "wine",
      version: 2,
      title: "drift: north vs south",
      verdict: report.dataset.verdict,
      report,
    });
  } finally {
    await registry.close();
  }
}

/** An experiment of mlops-train's searches (not mlops-gate / mlops-drift, where reports are kept). */
export function isSearch(experiment: ExperimentSummary): boolean {
  return experiment.runs > 0 && !experiment.name.startsWith("mlops-");
}
