// The consumer test: what a user gets from npm. Packs the publishable packages (built first),
// installs the tarballs in an empty folder outside the repository — dependencies from the local
// npm cache (`--prefer-offline`; nothing but the npm registry is ever asked) — and then, as a
// user would:
//   1. runs each CLI's `--help` (mlops, mlops-train, mlops-serve) through npm's bin links;
//   2. runs a small train → register → serve → predict script (ES module) and a CommonJS require;
//   3. type-checks a strict TypeScript consumer with `module: NodeNext`.
// It also checks that every tarball carries only what a user runs (dist/, bin/, package.json,
// README, licence): no sources, tests, fixtures or Python scripts.
//
//   npm run build && node scripts/consumer-test.mjs [--keep]
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const PACKAGES = ["core", "train", "serve", "postgres"];
const keep = process.argv.includes("--keep");

function run(command, args, options = {}) {
  try {
    return execFileSync(command, args, {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      maxBuffer: 64 * 1024 * 1024,
      ...options,
    });
  } catch (error) {
    throw new Error(
      `${command} ${args.join(" ")} failed (exit ${error.status}):\n${error.stdout ?? ""}\n${error.stderr ?? ""}`,
    );
  }
}

function check(condition, message) {
  if (!condition) throw new Error(message);
  console.log(`ok - ${message}`);
}

const work = mkdtempSync(join(tmpdir(), "mlops-consumer-"));
let failed = false;
try {
  // 1. Pack each package (dist/ must be built: npm test builds before this runs).
  const tarballs = [];
  for (const name of PACKAGES) {
    const [packed] = JSON.parse(
      run("npm", ["pack", "--json", "--pack-destination", work], {
        cwd: join(ROOT, "packages", name),
      }),
    );
    const files = packed.files.map((file) => file.path);
    const stray = files.filter(
      (path) =>
        !/^(dist\/|bin\/|package\.json$|README\.md$|LICENSE$)/.test(path) ||
        /\.(test\.|py$)|fixtures\//.test(path),
    );
    check(
      stray.length === 0,
      `@mlops/${name}: the tarball has only dist/, bin/, package.json, README and LICENSE ` +
        `(${files.length} files, ${(packed.size / 1024).toFixed(0)} KiB packed)` +
        (stray.length ? `; also: ${stray.join(", ")}` : ""),
    );
    tarballs.push(join(work, packed.filename));
  }

  // 2. An empty project installs them, with TypeScript for the type-check.
  const project = join(work, "project");
  mkdirSync(project);
  const rootManifest = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
  const typescript = rootManifest.devDependencies.typescript;
  const typesNode = rootManifest.devDependencies["@types/node"];
  writeFileSync(
    join(project, "package.json"),
    JSON.stringify({ name: "consumer", private: true, type: "module" }, null, 2),
  );
  run(
    "npm",
    [
      "install",
      "--prefer-offline",
      "--no-audit",
      "--no-fund",
      "--ignore-scripts",
      ...tarballs,
      `typescript@${typescript}`,
      `@types/node@${typesNode}`,
    ],
    { cwd: project },
  );
  check(true, "the tarballs install in an empty folder");

  // 3. Every CLI answers --help.
  for (const bin of ["mlops", "mlops-train", "mlops-serve"]) {
    const help = run(join(project, "node_modules", ".bin", bin), ["--help"], { cwd: project });
    check(/usage/i.test(help), `${bin} --help prints its usage`);
  }

  // 4. Train → register → serve → predict, as a user's ES module.
  writeFileSync(
    join(project, "train-predict.mjs"),
    `import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Frame, field, openRegistry, schema } from "@mlops/core";
import { DecisionTreeRegressor } from "@mlops/train";
import { createInferenceApp } from "@mlops/serve";

const xs = Float64Array.from({ length: 200 }, (_, i) => i / 10);
const ys = xs.map((x) => (x < 10 ? 1 : 5));
const frame = new Frame({
  x: { kind: "number", values: xs },
  y: { kind: "number", values: ys },
});
const features = schema({ x: field.number(), y: field.number() }, { target: "y" });
const tree = new DecisionTreeRegressor({ maxDepth: 2 }).fit(frame, "y");
const registry = await openRegistry(mkdtempSync(join(tmpdir(), "registry-")));
await registry.registerModel("steps", tree.toArtifact({ schema: features }), {
  aliases: ["production"],
});
const app = createInferenceApp({ registry, models: ["steps@production"], watch: false });
await app.ready;
const response = await app.fetch(
  new Request("http://localhost/v1/models/steps/predict", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ rows: [{ x: 3 }, { x: 15 }] }),
  }),
);
assert.equal(response.status, 200);
const answer = await response.json();
assert.deepEqual(answer.predictions, [1, 5]);
assert.deepEqual(answer.model, { name: "steps", version: "1" });
await app.close();
console.log("trained, registered, served and predicted:", answer.predictions);
`,
  );
  const trained = run(process.execPath, ["train-predict.mjs"], { cwd: project });
  check(trained.includes("[ 1, 5 ]"), "train → register → serve → predict works from the tarballs");

  writeFileSync(
    join(project, "require.cjs"),
    `const core = require("@mlops/core");
const train = require("@mlops/train");
const serve = require("@mlops/serve");
for (const [name, value] of [["Frame", core.Frame], ["DecisionTreeRegressor", train.DecisionTreeRegressor], ["createInferenceApp", serve.createInferenceApp]]) {
  if (typeof value !== "function") throw new Error(name + " is missing from the CommonJS build");
}
console.log("required");
`,
  );
  check(
    run(process.execPath, ["require.cjs"], { cwd: project }).includes("required"),
    "CommonJS consumers can require every package",
  );

  // 5. A strict NodeNext TypeScript consumer type-checks against the published declarations.
  writeFileSync(
    join(project, "tsconfig.json"),
    JSON.stringify(
      {
        compilerOptions: {
          target: "ES2022",
          module: "NodeNext",
          moduleResolution: "NodeNext",
          strict: true,
          noEmit: true,
          types: ["node"],
          exactOptionalPropertyTypes: true,
          noUncheckedIndexedAccess: true,
          verbatimModuleSyntax: true,
        },
        include: ["consumer.ts", "consumer.cts"],
      },
      null,
      2,
    ),
  );
  writeFileSync(
    join(project, "consumer.ts"),
    `import { Frame, type ModelArtifact, field, schema } from "@mlops/core";
import { DecisionTreeRegressor, GridSearch } from "@mlops/train";
import { createInferenceApp, type InferenceApp, predictRoute } from "@mlops/serve";

const features = schema({ x: field.number(), y: field.number() }, { target: "y" });
type Row = { x: number };
const frame: Frame = new Frame({
  x: { kind: "number", values: Float64Array.of(1, 2, 3) },
  y: { kind: "number", values: Float64Array.of(1, 2, 3) },
});
const artifact: ModelArtifact = new DecisionTreeRegressor({ maxDepth: 2 })
  .fit(frame, "y")
  .toArtifact({ schema: features });
const route = predictRoute({
  model: "m",
  path: "/score",
  mapRequest: (body: { features: Row }) => body.features,
  mapResponse: ([value]) => ({ value }),
});
const app: InferenceApp = createInferenceApp({ models: [{ name: "m", artifact }], routes: [route] });
const search = new GridSearch({
  estimator: new DecisionTreeRegressor(),
  paramGrid: { maxDepth: [1, 2] },
});
export { app, features, frame, search };
`,
  );
  writeFileSync(
    join(project, "consumer.cts"),
    `import core = require("@mlops/core");
const frame: core.Frame = new core.Frame({ x: { kind: "number", values: Float64Array.of(1) } });
export = frame;
`,
  );
  run(join(project, "node_modules", ".bin", "tsc"), ["-p", "."], { cwd: project });
  check(true, "a strict NodeNext TypeScript consumer (ESM and CommonJS) type-checks");
} catch (error) {
  failed = true;
  console.error(`not ok - ${error.message}`);
} finally {
  if (keep) console.log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
process.exitCode = failed ? 1 : 0;
