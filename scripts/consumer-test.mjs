// The consumer test: what a user gets from npm. Packs the publishable packages (built first),
// installs the tarballs in an empty folder outside the repository — dependencies from the local
// npm cache (`--prefer-offline`; nothing but the npm registry is ever asked) — and then, as a
// user would:
//   1. runs each CLI's `--help` (mlops, mlops-train, mlops-serve) through npm's bin links;
//   2. runs a small train → register → serve → predict script (ES module), gates the model with
//      `mlops gate --html` (core loading @mlops/ui lazily), browses the kept report through
//      @mlops/ui's `startUi`, and requires every package from CommonJS;
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
const PACKAGES = ["core", "train", "serve", "postgres", "ui"];
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
import { join } from "node:path";
import { Frame, field, openRegistry, schema, writeFrame } from "@mlops/core";
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
const registry = await openRegistry(join(process.argv[2], "registry"));
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
await writeFrame(join(process.argv[2], "steps.csv"), frame);
console.log("trained, registered, served and predicted:", answer.predictions);
`,
  );
  const trained = run(process.execPath, ["train-predict.mjs", project], { cwd: project });
  check(trained.includes("[ 1, 5 ]"), "train → register → serve → predict works from the tarballs");

  // mlops gate --html: core finds @mlops/ui (an optional package) and keeps the report.
  const gate = run(
    join(project, "node_modules", ".bin", "mlops"),
    [
      "gate",
      "--registry",
      "registry",
      "--model",
      "steps",
      "--candidate",
      "1",
      "--data",
      "steps.csv",
      "--threshold",
      "rmse:threshold=1",
      "--html",
      "gate.html",
    ],
    { cwd: project },
  );
  const html = readFileSync(join(project, "gate.html"), "utf8");
  check(
    gate.includes("Report kept with steps v1") && html.startsWith("<!doctype html>"),
    `mlops gate --html writes its report with @mlops/ui (${(html.length / 1024).toFixed(0)} KiB) and keeps it`,
  );
  writeFileSync(
    join(project, "browse.mjs"),
    `import assert from "node:assert/strict";
import { openRegistry } from "@mlops/core";
import { renderGateReport, startUi } from "@mlops/ui";

const registry = await openRegistry("registry");
const ui = await startUi({ store: registry.store, port: 0 });
try {
  const get = async (path) => {
    const response = await fetch(new URL(path, ui.url));
    assert.equal(response.status, 200, path);
    return response;
  };
  const version = await (await get("/api/models/steps/versions/1")).json();
  assert.deepEqual(version.reports.map((report) => [report.kind, report.verdict]), [["gate", "pass"]]);
  const kept = await (await get(\`/api/models/steps/versions/1/reports/\${version.reports[0].runId}\`)).json();
  assert.equal(kept.html, true);
  assert.ok(renderGateReport(kept.report).includes("<script"));
  assert.ok((await (await get("/assets/app.js")).text()).length > 100000);
  assert.match(await (await get("/models/steps/versions/1")).text(), /<script src="\\/assets\\/app.js"/);
} finally {
  await ui.close();
  await registry.close();
}
console.log("browsed");
`,
  );
  check(
    run(process.execPath, ["browse.mjs"], { cwd: project }).includes("browsed"),
    "@mlops/ui serves the registry and the kept gate report (startUi), with its own assets",
  );

  writeFileSync(
    join(project, "require.cjs"),
    `const core = require("@mlops/core");
const train = require("@mlops/train");
const serve = require("@mlops/serve");
const ui = require("@mlops/ui");
for (const [name, value] of [["Frame", core.Frame], ["DecisionTreeRegressor", train.DecisionTreeRegressor], ["createInferenceApp", serve.createInferenceApp], ["startUi", ui.startUi]]) {
  if (typeof value !== "function") throw new Error(name + " is missing from the CommonJS build");
}
// The CommonJS build finds its browser assets too: a drift report drawn from require().
const a = core.Frame.fromRows([{ x: 1 }, { x: 2 }, { x: 3 }, { x: 4 }]);
const html = ui.renderDriftReport(core.driftReport(a, a));
if (!html.includes("<script")) throw new Error("renderDriftReport from CommonJS drew no chart script");
// Batch scoring on worker threads from CommonJS: the worker's path comes from the CommonJS build.
serve
  .scoreBatch({
    model: "steps@production",
    registry: require("node:path").join(__dirname, "registry"),
    input: require("node:path").join(__dirname, "steps.csv"),
    output: require("node:path").join(__dirname, "scored-cjs"),
    workers: 2,
    batchSize: 50,
  })
  .then((summary) => {
    if (!summary.ok || summary.totals.rowsScored !== 200) {
      throw new Error("scoreBatch from CommonJS: " + JSON.stringify(summary.totals));
    }
    console.log("required");
  });
`,
  );
  check(
    run(process.execPath, ["require.cjs"], { cwd: project }).includes("required"),
    "CommonJS consumers can require every package and score a file on two batch workers",
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
import { type UiApp, createUiApp, renderGateReport } from "@mlops/ui";

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
const store = null as unknown as Parameters<typeof createUiApp>[0]["store"];
const uiApp: UiApp = createUiApp({ store, location: "./.mlops" });
const render: (report: Parameters<typeof renderGateReport>[0]) => string = renderGateReport;
export { app, features, frame, render, search, uiApp };
`,
  );
  writeFileSync(
    join(project, "consumer.cts"),
    `import core = require("@mlops/core");
import ui = require("@mlops/ui");
const frame: core.Frame = new core.Frame({ x: { kind: "number", values: Float64Array.of(1) } });
const render: typeof ui.renderDriftReport = ui.renderDriftReport;
export = { frame, render };
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
