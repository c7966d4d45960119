// Fails when the committed dist/ is not what the sources build: the runner executes dist/index.js
// as committed, so a stale bundle would run old code. Rebuilds into a temporary folder with the
// same tsup config and compares every file byte for byte. CI runs this before anything rebuilds
// dist/ in place (`npm run check-dist -w packages/action`).
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const packageDir = dirname(dirname(fileURLToPath(import.meta.url)));
const committed = join(packageDir, "dist");
const STALE = "dist/ is stale: run npm run build -w packages/action and commit it";

async function files(dir) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile())
      out.push(join(entry.parentPath ?? entry.path, entry.name).slice(dir.length + 1));
  }
  return out.sort();
}

/** The first line where two texts differ, for a message a person can act on. */
function firstDifference(left, right) {
  const a = left.split("\n");
  const b = right.split("\n");
  for (let line = 0; line < Math.max(a.length, b.length); line++) {
    if (a[line] !== b[line]) {
      return (
        `line ${line + 1}:\n  committed: ${JSON.stringify(a[line] ?? "(end of file)")}\n` +
        `  rebuilt:   ${JSON.stringify(b[line] ?? "(end of file)")}`
      );
    }
  }
  return "same lines, different bytes";
}

const require = createRequire(import.meta.url);
const tsupPackage = require.resolve("tsup/package.json");
const tsupBin = join(dirname(tsupPackage), require(tsupPackage).bin.tsup);
const fresh = await mkdtemp(join(tmpdir(), "mlops-action-dist-"));
try {
  execFileSync(process.execPath, [tsupBin, "--out-dir", fresh, "--silent"], {
    cwd: packageDir,
    stdio: ["ignore", "ignore", "inherit"],
  });
  const [before, after] = [await files(committed), await files(fresh)];
  const problems = [];
  for (const name of after) {
    if (!before.includes(name)) problems.push(`dist/${name} is missing`);
  }
  for (const name of before) {
    if (!after.includes(name)) problems.push(`dist/${name} is not built by the sources any more`);
  }
  for (const name of after.filter((item) => before.includes(item))) {
    const [left, right] = await Promise.all([
      readFile(join(committed, name), "utf8"),
      readFile(join(fresh, name), "utf8"),
    ]);
    if (left !== right) problems.push(`dist/${name} differs at ${firstDifference(left, right)}`);
  }
  if (problems.length > 0) {
    process.stderr.write(`${STALE}\n${problems.map((problem) => `- ${problem}`).join("\n")}\n`);
    process.exitCode = 1;
  } else {
    process.stdout.write(
      `dist/ is up to date (${after.length} file${after.length === 1 ? "" : "s"}).\n`,
    );
  }
} finally {
  await rm(fresh, { recursive: true, force: true });
}
