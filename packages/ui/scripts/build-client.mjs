// Bundles the browser side of @mlops/ui (src/client) into dist/assets: app.js for `mlops ui`,
// report.js for the single-file HTML reports, style.css for both. Called by tsup's onSuccess and
// by the tests' global setup, so tests always draw with the current sources.
import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/** Builds dist/assets/{app.js,report.js,style.css}; minified, no source maps, no network. */
export async function buildClient(outdir = join(ROOT, "dist", "assets")) {
  await mkdir(outdir, { recursive: true });
  await build({
    entryPoints: {
      app: join(ROOT, "src/client/app.ts"),
      report: join(ROOT, "src/client/report.ts"),
      style: join(ROOT, "src/client/style.css"),
    },
    outdir,
    bundle: true,
    minify: true,
    format: "iife",
    platform: "browser",
    target: ["chrome110", "firefox110", "safari16"],
    legalComments: "none",
    logLevel: "warning",
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildClient();
