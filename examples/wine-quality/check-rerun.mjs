// Runs the main job twice on one registry, as a user rerunning `npm run main` does, and checks
// that the second run recognises the model it makes as the one already registered (the same
// model digest): no second version, no alias move, and the output says so. Part of `npm test`.
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { openRegistry } from "@mlops/core";

const run = promisify(execFile);
const here = new URL(".", import.meta.url).pathname;
const folder = await mkdtemp(join(tmpdir(), "mlops-example-rerun-"));
const registryPath = join(folder, ".mlops");
const fail = (message) => {
  throw new Error(`check-rerun: ${message}`);
};
try {
  const job = () =>
    run(process.execPath, [join(here, "main.mjs"), "--quiet", "--trials", "6"], {
      env: { ...process.env, MLOPS_REGISTRY: registryPath },
    });
  const first = await job();
  if (!first.stdout.includes("registered wine v1, gate passed, @production → v1")) {
    fail(`the first run should register and promote v1; it printed:\n${first.stdout}`);
  }
  const second = await job();
  if (!second.stdout.includes("identical to wine v1, gate skipped: v1 is already @production")) {
    fail(`the rerun should recognise v1; it printed:\n${second.stdout}`);
  }
  const registry = await openRegistry(registryPath);
  const versions = await registry.store.listModelVersions("wine");
  if (versions.length !== 1) fail(`expected 1 version of wine, found ${versions.length}`);
  const moves = await registry.aliasHistory("wine");
  if (moves.length !== 2)
    fail(`expected 2 alias moves (staging, production), found ${moves.length}`);
  console.log("wine-quality rerun: ok (the identical model was recognised, not registered again)");
} finally {
  await rm(folder, { recursive: true, force: true });
}
