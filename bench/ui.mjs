// `mlops ui` with 10,000 runs: how soon the runs page is interactive in headless Chromium.
//
//   node bench/ui.mjs [--searches 100] [--trials 100] [--runs 5]
//
// A folder registry of --searches hyperparameter searches of --trials trials each (a parent run
// and a nested run per trial, as mlops-train tracks them; bench/ui-registry.mjs, made once under
// .bench/ and reused), served by @mlops/ui's startUi on 127.0.0.1 (packages/ui/dist: build it
// first). Measured:
// 1. the server's first read of the registry (the JSON of the runs table, cache cold): once;
// 2. time to interactive of the runs page, cache warm: a fresh page each run, from navigation
//    start (performance.timeOrigin) to the page's `data-page-ready` with its rows drawn, read
//    from the page's clock; median and min–max of --runs after one warm-up;
// 3. a click on a column header to the re-sorted rows on screen (next animation frame).
// Prints a Markdown table and the machine's load.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { launchChromium } from "./browser.mjs";
import { loadLine, markdownTable, positiveInteger, spread, summary } from "./lib.mjs";
import { makeRunsRegistry } from "./ui-registry.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const SEARCHES = positiveInteger("searches", 100);
const TRIALS = positiveInteger("trials", 100);
const RUNS = positiveInteger("runs", 5);

const path = await makeRunsRegistry(join(ROOT, ".bench"), { searches: SEARCHES, trials: TRIALS });
const { openFolderStore } = await import("../packages/core/dist/index.js");
const { startUi } = await import("../packages/ui/dist/index.js");
const store = await openFolderStore(path);
const [experiment] = (await store.listExperiments()).filter((e) => e.name === "wine-search");

// startUi warms its cache in the background; a separate app instance measures the cold read.
const { createUiApp } = await import("../packages/ui/dist/index.js");
const cold = createUiApp({ store });
const started = performance.now();
const response = await cold.fetch(
  new Request(`http://127.0.0.1/api/experiments/${experiment.experimentId}/runs`),
);
const body = await response.json();
const coldMs = performance.now() - started;
const jsonBytes = JSON.stringify(body).length;

const ui = await startUi({ store, port: 0 });
const browser = await launchChromium();
const pageUrl = new URL(`/experiments/${experiment.experimentId}`, ui.url).href;
const ready = [];
const sorts = [];
try {
  for (let i = 0; i <= RUNS; i++) {
    const page = await browser.context.newPage();
    const errors = [];
    page.on("pageerror", (error) => errors.push(error.message));
    await page.goto(pageUrl);
    await page.waitForSelector('body[data-page-ready="true"] .runs .body [role=row]', {
      timeout: 120_000,
    });
    const ms = await page.evaluate(
      () => new Promise((resolve) => requestAnimationFrame(() => resolve(performance.now()))),
    );
    const header = page.locator(".runs .head button", { hasText: "started" });
    const sortMs = await page.evaluate(async () => {
      const button = [...document.querySelectorAll(".runs .head button")].find((b) =>
        b.textContent.startsWith("started"),
      );
      const t0 = performance.now();
      button.click();
      await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
      return performance.now() - t0;
    });
    if (!(await header.textContent()).includes("↑")) throw new Error("the sort did not flip");
    if (errors.length > 0) throw new Error(`page errors: ${errors.join("; ")}`);
    if (i > 0) {
      ready.push(ms);
      sorts.push(sortMs);
    }
    await page.close();
  }
} finally {
  await browser.close();
  await ui.close();
  await store.close?.();
}

const runCount = body.total;
console.log(`mlops ui, runs page of one experiment with ${runCount.toLocaleString("en")} runs`);
console.log(
  markdownTable(
    ["what", "time (median, min–max)"],
    [
      [
        `server's first read of the registry (cold, JSON ${(jsonBytes / 1e6).toFixed(1)} MB)`,
        `${coldMs.toFixed(0)} ms (once)`,
      ],
      [
        `runs page interactive (navigation → rows drawn), ${RUNS} runs`,
        spread(summary(ready), " ms", (v) => v.toFixed(0)),
      ],
      [
        "sort by a column (click → re-sorted rows painted)",
        spread(summary(sorts), " ms", (v) => v.toFixed(0)),
      ],
    ],
  ),
);
console.log(await loadLine());
