// Test support (not exported): builds the JavaScript that tests run as real threads and
// processes — dist/search-worker.js, dist/forest-worker.js, dist/boosting-worker.js and
// dist/cli.js of this package, and
// @mlops/core's dist that they import — when it is missing or older than its sources.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureBuilt as ensurePackagesBuilt } from "@mlops/test-support";

/** This package's folder (packages/train). */
export const trainPackageDir = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

export function ensureBuilt(): void {
  ensurePackagesBuilt(
    { packageDir: join(trainPackageDir, "..", "core") },
    {
      packageDir: trainPackageDir,
      outputs: ["index.js", "search-worker.js", "forest-worker.js", "boosting-worker.js", "cli.js"],
    },
  );
}
