// Distributed search on a folder registry: real mlops-train processes on one machine share a
// grid through file locks; one is killed holding a trial (the scenario is core's, shared with
// the PostgreSQL backend's test).
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeStudyWorkers } from "@mlops/core/testing";
import { afterAll, beforeAll } from "vitest";
import { ensureBuilt, trainPackageDir } from "../search/dist-fixture.js";

let root = "";
let registries = 0;

beforeAll(async () => {
  ensureBuilt();
  root = await mkdtemp(join(tmpdir(), "mlops-train-study-"));
  const wine = join(trainPackageDir, "..", "..", "examples", "wine-quality", "data", "wine.csv");
  // 300 rows: seven ridge candidates × 3 folds finish in moments.
  const lines = (await readFile(wine, "utf8")).split("\n").slice(0, 301);
  await writeFile(join(root, "wine.csv"), `${lines.join("\n")}\n`);
}, 300_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describeStudyWorkers("folder registry", {
  mlopsTrain: join(trainPackageDir, "dist", "cli.js"),
  data: () => join(root, "wine.csv"),
  cwd: () => root,
  registry: () => join(root, `registry-${registries++}`),
});
