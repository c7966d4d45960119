// Runs the `sh run-by` blocks of docs/team.md (not those marked no-run), in order, in one bash
// session against the test cluster: the team guide's commands work as written.
import { spawnSync } from "node:child_process";
import { copyFile, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureBuilt } from "@mlops/test-support";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { freshSchemaUrl } from "./testing/index.js";

const packageDir = join(dirname(fileURLToPath(import.meta.url)), "..");
const root = join(packageDir, "..", "..");
let work = "";

beforeAll(async () => {
  ensureBuilt(
    { packageDir: join(root, "packages", "core"), outputs: ["index.js", "cli.js"] },
    { packageDir },
    { packageDir: join(root, "packages", "train"), outputs: ["index.js", "cli.js"] },
  );
  work = await mkdtemp(join(tmpdir(), "mlops-team-guide-"));
  await copyFile(
    join(root, "examples", "wine-quality", "data", "wine.csv"),
    join(work, "wine.csv"),
  );
}, 300_000);

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

it("docs/team.md: every runnable command works as written", async () => {
  const markdown = await readFile(join(root, "docs", "team.md"), "utf8");
  const blocks = [
    ...markdown.matchAll(
      /^```sh run-by: packages\/postgres\/src\/team\.test\.ts\n([\s\S]*?)^```/gm,
    ),
  ].map((match) => match[1]);
  expect(blocks.length).toBeGreaterThanOrEqual(2);
  const url = freshSchemaUrl(inject("postgresUrl"));
  const script = `set -euo pipefail\n${blocks.join("\n")}`;
  const result = spawnSync("bash", ["-c", script], {
    cwd: work,
    encoding: "utf8",
    env: {
      PATH: `${join(root, "node_modules", ".bin")}:${process.env.PATH ?? ""}`,
      MLOPS_REGISTRY: url,
      CI: "1",
    },
    timeout: 600_000,
  });
  const output = result.stdout + result.stderr;
  expect(result.status, output).toBe(0);
  expect(result.stdout).toContain(
    "Registered wine version 1: models:/wine/1, models:/wine@production",
  );
  expect(result.stdout).toMatch(/Copied postgres:\/\/mlops:\*\*\*@.* → .*backup/);
  expect(result.stdout).toMatch(/wine\s+1\s+production→1/);
  // Two workers shared one search: each ran some trials, one finished it and registered once.
  const studyLines = result.stdout.match(/^Study wine-ridge-grid: .*$/gm) ?? [];
  expect(studyLines).toHaveLength(2);
  expect(studyLines.filter((line) => line.endsWith("it finished the study"))).toHaveLength(1);
  expect(result.stdout).toMatch(/wine-ridge\s+1\b/);
  expect(output).not.toContain(new URL(url).password);
}, 900_000);
