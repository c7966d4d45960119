// npm runs this around `npm pack` / `npm publish` in each published package (its `prepack` and
// `postpack` scripts): `prepack` writes the package.json the tarball carries — without the
// `@mlops/source` export conditions, which point at TypeScript sources that only this
// repository's tests and type-checks use and that the tarball does not ship — and `postpack`
// puts the repository's package.json back, with its modification time. While a pack runs the
// package.json on disk is the published one: `npm test` runs the packing checks after the tests.
//
//   node ../../scripts/pack-manifest.mjs prepack|postpack     (from a package folder)
import { existsSync, readFileSync, renameSync, statSync, utimesSync, writeFileSync } from "node:fs";

const MANIFEST = "package.json";
const SAVED = ".package.json.repository";
const SOURCE_CONDITION = "@mlops/source";

/** The exports map without the source condition, at any depth. */
function withoutSource(value) {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return value;
  const out = {};
  for (const [key, child] of Object.entries(value)) {
    if (key === SOURCE_CONDITION) continue;
    out[key] = withoutSource(child);
  }
  return out;
}

const mode = process.argv[2];
if (mode === "prepack") {
  const text = readFileSync(MANIFEST, "utf8");
  if (!existsSync(SAVED)) {
    writeFileSync(SAVED, text);
    // The restored file keeps its time: build-on-demand helpers compare it with dist/.
    const { atime, mtime } = statSync(MANIFEST);
    utimesSync(SAVED, atime, mtime);
  }
  const manifest = JSON.parse(text);
  manifest.exports = withoutSource(manifest.exports);
  // Written beside and renamed over: another npm reading this manifest at that moment (packs of
  // the other packages run at the same time) sees the old file or the new one, never half of one.
  const temporary = `${MANIFEST}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(manifest, null, 2)}\n`);
  renameSync(temporary, MANIFEST);
} else if (mode === "postpack") {
  if (existsSync(SAVED)) renameSync(SAVED, MANIFEST);
} else {
  console.error("usage: node scripts/pack-manifest.mjs prepack|postpack");
  process.exitCode = 2;
}
