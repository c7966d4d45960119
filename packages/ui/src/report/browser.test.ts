// The three HTML reports in a real browser: headless Debian Chromium opens each file from disk
// (no server, no network), and every chart must draw, with no console error; a screenshot of each
// is saved for review (.out/screenshots, or $MLOPS_SCREENSHOTS).
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { driftReport } from "@mlops/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Browser, chartPixels, launchBrowser, screenshotFolder } from "../testing/chromium.js";
import { housingHalves, type Workspace, wineWorkspace } from "../testing/workspace.js";
import { renderDriftReport } from "./reports.js";

let workspace: Workspace;
let browser: Browser;
const shots = screenshotFolder();

beforeAll(async () => {
  [workspace, browser] = await Promise.all([wineWorkspace(), launchBrowser()]);
  await mkdir(shots, { recursive: true });
  const { reference, current } = await housingHalves();
  const report = driftReport(reference, current, { target: "median_house_value" });
  await writeFile(
    join(workspace.dir, "drift.html"),
    renderDriftReport(report, { title: "California housing: north vs south" }),
  );
});
afterAll(async () => {
  await browser?.close();
  await workspace?.remove();
});

async function open(file: string, screenshot: string) {
  const { page, errors } = await browser.page();
  await page.goto(pathToFileURL(join(workspace.dir, file)).href);
  const charts = await chartPixels(page);
  await page.screenshot({ path: join(shots, screenshot), fullPage: true });
  const text = await page.locator("main").textContent();
  await page.close();
  return { charts, errors, text };
}

describe("the HTML reports in Chromium", () => {
  it("search.html: leaderboard, parameters vs score, folds, importances, residuals", async () => {
    const { charts, errors, text } = await open("search.html", "report-search.png");
    expect(errors).toEqual([]);
    const titles = charts.map((chart) => chart.title);
    expect(titles).toEqual(
      expect.arrayContaining([
        "rmse per fold, top 6 candidates",
        "feature importances of the refitted best model",
        "predicted vs actual",
        "residuals vs predicted",
        "distribution of residuals",
      ]),
    );
    expect(titles.filter((title) => title.endsWith("vs mean CV rmse")).length).toBeGreaterThan(2);
    for (const chart of charts) expect(chart.pixels, chart.title).toBeGreaterThan(500);
    expect(text).toContain("Leaderboard (top 6 of 6 by mean CV rmse)");
  });

  it("gate.html: the verdict, each check, candidate vs baseline and the interval", async () => {
    const { charts, errors, text } = await open("gate.html", "report-gate.png");
    expect(errors).toEqual([]);
    expect(charts.map((chart) => chart.title)).toEqual([
      "rmse: candidate vs baseline (lower is better)",
      "r2: candidate vs baseline (higher is better)",
      "candidate worse by (paired bootstrap)",
    ]);
    for (const chart of charts) expect(chart.pixels, chart.title).toBeGreaterThan(500);
    expect(text).toMatch(/Gate (passed|failed)/);
    expect(text).toContain("models:/wine@staging (version 2)");
  });

  it("drift.html: a histogram per column with its statistic and verdict", async () => {
    const { charts, errors, text } = await open("drift.html", "report-drift.png");
    expect(errors).toEqual([]);
    // Nine features and the target, each drawn.
    expect(charts).toHaveLength(10);
    expect(charts.map((chart) => chart.title)).toContain("latitude: reference vs current");
    for (const chart of charts) expect(chart.pixels, chart.title).toBeGreaterThan(500);
    expect(text).toContain("Data drift");
    expect(text).toMatch(/latitude\s+drift/);
  });
});
