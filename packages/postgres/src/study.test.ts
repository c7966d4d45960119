// Distributed search on PostgreSQL: real mlops-train processes share a grid through the
// registry's study tables (claims with FOR UPDATE SKIP LOCKED); one is killed holding a trial.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describeStudyWorkers } from "@mlops/core/testing";
import { ensureBuilt } from "@mlops/test-support";
import { afterAll, beforeAll, inject } from "vitest";
import { freshSchemaUrl } from "./testing/index.js";

const packageDir = join(dirname(fileURLToPath(import.meta.url)), "..");
const root = join(packageDir, "..", "..");
let work = "";

beforeAll(async () => {
  ensureBuilt(
    { packageDir: join(root, "packages", "core"), outputs: ["index.js", "cli.js"] },
    { packageDir },
    {
      packageDir: join(root, "packages", "train"),
      outputs: ["index.js", "search-worker.js", "cli.js"],
    },
  );
  work = await mkdtemp(join(tmpdir(), "mlops-postgres-study-"));
  const wine = join(root, "examples", "wine-quality", "data", "wine.csv");
  // 300 rows: seven ridge candidates × 3 folds finish in moments.
  const lines = (await readFile(wine, "utf8")).split("\n").slice(0, 301);
  await writeFile(join(work, "wine.csv"), `${lines.join("\n")}\n`);
}, 300_000);

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describeStudyWorkers("PostgreSQL registry", {
  mlopsTrain: join(root, "packages", "train", "dist", "cli.js"),
  data: () => join(work, "wine.csv"),
  cwd: () => work,
  registry: () => freshSchemaUrl(inject("postgresUrl")),
});
