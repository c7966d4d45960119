// The test of the workflow file (npm test, after main.mjs --test): it parses; it runs on a
// monthly schedule (a cron that fires once a month) and by hand; it installs, builds, restores
// the registry before the job and saves it after, runs this example's job with the registry the
// job writes, and publishes the folder of batch predictions that job writes.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

const here = dirname(fileURLToPath(import.meta.url));
const repository = join(here, "..", "..");
const file = join(here, ".github", "workflows", "monthly.yml");
const workflow = parse(readFileSync(file, "utf8"));

/** True when a 5-field cron fires exactly once a month (fixed minute, hour and day of month). */
function monthly(cron) {
  const fields = cron.trim().split(/\s+/);
  if (fields.length !== 5) return false;
  const [minute, hour, day, month, weekday] = fields;
  const within = (text, low, high) =>
    /^\d+$/.test(text) && Number(text) >= low && Number(text) <= high;
  // Days 29-31 are skipped by short months: a monthly job must use 1-28.
  return (
    within(minute, 0, 59) &&
    within(hour, 0, 23) &&
    within(day, 1, 28) &&
    month === "*" &&
    weekday === "*"
  );
}

assert.ok(Array.isArray(workflow.on?.schedule), "the workflow runs on a schedule");
assert.ok(
  workflow.on.schedule.every((entry) => monthly(entry.cron)),
  "every schedule is monthly",
);
assert.ok("workflow_dispatch" in workflow.on, "it can be started by hand");

const jobs = Object.values(workflow.jobs);
assert.equal(jobs.length, 1, "one job");
const [job] = jobs;
const steps = job.steps;
const index = (predicate, what) => {
  const at = steps.findIndex(predicate);
  assert.ok(at >= 0, `a step ${what}`);
  return at;
};
const checkout = index((step) => /^actions\/checkout@v\d+$/.test(step.uses ?? ""), "checks out");
const node = index((step) => /^actions\/setup-node@v\d+$/.test(step.uses ?? ""), "sets up node");
assert.equal(steps[node].with["node-version"], 20, "Node 20, as the packages' engines");
const install = index((step) => step.run === "npm ci", "installs with npm ci");
const build = index((step) => /turbo run build/.test(step.run ?? ""), "builds the packages");
const run = index(
  (step) => /node examples\/milk-price\/main\.mjs/.test(step.run ?? ""),
  "runs the monthly job",
);
const restore = index(
  (step) => /^actions\/cache\/restore@v\d+$/.test(step.uses ?? ""),
  "restores the registry",
);
const save = index(
  (step) => /^actions\/cache\/save@v\d+$/.test(step.uses ?? ""),
  "saves the registry",
);
const publish = index(
  (step) => /^actions\/upload-artifact@v\d+$/.test(step.uses ?? ""),
  "publishes",
);
assert.ok(checkout < node && node < install && install < build && build < run, "in order");
assert.ok(restore < run && run < save, "the registry is restored before the job, saved after");
assert.equal(steps[save].if, "always()", "the registry is saved even when the gate fails");

// The job's script exists and writes where the workflow looks.
const script = /node (\S+)/.exec(steps[run].run)[1];
assert.ok(existsSync(join(repository, script)), `${script} exists`);
const registryEnv = job.env.MLOPS_REGISTRY;
assert.equal(
  registryEnv,
  ["$", "{{ github.workspace }}/.mlops"].join(""),
  "the job writes the registry at the workspace root",
);
assert.equal(steps[restore].with.path, ".mlops", "the cache holds that registry");
assert.equal(steps[save].with.path, ".mlops");
assert.equal(steps[save].with.key, steps[restore].with.key, "saved under the key it restores");
const source = readFileSync(join(repository, script), "utf8");
assert.ok(source.includes("process.env.MLOPS_REGISTRY"), "main.mjs uses MLOPS_REGISTRY");
const published = steps[publish].with.path.trim();
assert.equal(published, "examples/milk-price/work/batch_predictions/");
assert.ok(
  source.includes('join(work, "batch_predictions")') && source.includes('join(here, "work")'),
  "main.mjs writes work/batch_predictions",
);
console.log(`milk-price workflow: ok (${workflow.on.schedule[0].cron}, ${steps.length} steps)`);
