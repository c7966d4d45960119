// `mlops ui` for real: a folder registry made by `mlops-train` and `mlops gate` (child processes),
// the built `mlops ui` executable serving it on 127.0.0.1, its JSON API over real HTTP, and every
// page in headless Debian Chromium (no console error, tables and charts drawn, links followed,
// nothing fetched from outside the app). Screenshots land in .out/screenshots (or
// $MLOPS_SCREENSHOTS: `npm run screenshots` writes docs/images). It runs the `mlops ui` command that
// docs/ui.md shows (the command serves until stopped, so the docs test does not run it).
import { mkdir, readFile } from "node:fs/promises";
import { request } from "node:http";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type {
  ExperimentSummary,
  ModelResponse,
  ModelsResponse,
  ReportResponse,
  RunsResponse,
  VersionResponse,
} from "../shared/api.js";
import { type Browser, chartPixels, launchBrowser, screenshotFolder } from "../testing/chromium.js";
import { visitPage } from "../testing/pages.js";
import { startUiProcess, type UiProcess } from "../testing/ui-process.js";
import { isSearch, keepDriftReport, type Workspace, wineWorkspace } from "../testing/workspace.js";

let workspace: Workspace;
let browser: Browser;
let server: UiProcess;
let base: string;
const shots = screenshotFolder();

beforeAll(async () => {
  [workspace, browser] = await Promise.all([wineWorkspace(), launchBrowser()]);
  await mkdir(shots, { recursive: true });
  // A drift report kept with wine v2 (recordReport), for the version's reports.
  await keepDriftReport(workspace.registry);
  server = await startUiProcess(workspace.registry);
  base = server.url;
});
afterAll(async () => {
  await server?.stop();
  await browser?.close();
  await workspace?.remove();
});

async function api<T>(path: string): Promise<{ status: number; body: T }> {
  const response = await fetch(new URL(path, base));
  return { status: response.status, body: (await response.json()) as T };
}

describe("mlops ui: the JSON API over HTTP", () => {
  it("listens on 127.0.0.1 and answers only to its own Host", async () => {
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const url = new URL(base);
    // A DNS-rebinding page sends its own name as Host: refused.
    const status = await new Promise<number>((resolve, reject) => {
      const sent = request(
        {
          host: "127.0.0.1",
          port: url.port,
          path: "/api/experiments",
          headers: { host: "evil.example:80" },
        },
        (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        },
      );
      sent.on("error", reject);
      sent.end();
    });
    expect(status).toBe(421);
  });

  it("lists experiments and an experiment's runs as columns, filtered with the registry's syntax", async () => {
    const experiments = await api<ExperimentSummary[]>("/api/experiments");
    expect(experiments.status).toBe(200);
    const searched = experiments.body.filter(isSearch);
    expect(searched.length).toBeGreaterThan(0);
    const experiment = searched[0];
    const runs = await api<RunsResponse>(`/api/experiments/${experiment.experimentId}/runs`);
    expect(runs.status).toBe(200);
    expect(runs.body.total).toBe(experiment.runs);
    expect(runs.body.runs).toHaveLength(experiment.runs);
    expect(runs.body.metricKeys.length).toBeGreaterThan(0);
    // Child runs (the trials) point at a parent that is in the same table.
    const ids = new Set(runs.body.runs.map((run) => run.id));
    const children = runs.body.runs.filter((run) => run.parent !== null);
    expect(children.length).toBeGreaterThan(0);
    for (const child of children) expect(ids.has(child.parent as string)).toBe(true);

    const key = runs.body.metricKeys[0];
    const k = runs.body.metricKeys.indexOf(key);
    const values = runs.body.runs
      .map((run) => run.metrics[k])
      .filter((value): value is number => value !== null)
      .sort((a, b) => a - b);
    const median = values[Math.floor(values.length / 2)];
    const filtered = await api<RunsResponse>(
      `/api/experiments/${experiment.experimentId}/runs?filter=${encodeURIComponent(`metrics.${key} <= ${median}`)}`,
    );
    expect(filtered.status).toBe(200);
    expect(filtered.body.total).toBe(experiment.runs);
    expect(filtered.body.runs.length).toBe(values.filter((value) => value <= median).length);
    for (const run of filtered.body.runs) expect(run.metrics[k]).toBeLessThanOrEqual(median);

    const bad = await api<{ error: { code: string; message: string } }>(
      `/api/experiments/${experiment.experimentId}/runs?filter=${encodeURIComponent("metrics.rmse <<< 1")}`,
    );
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("filter_invalid");
  });

  it("lists models, a model's versions with aliases and history, and a version's lineage", async () => {
    const models = await api<ModelsResponse>("/api/models");
    expect(models.body.models.map((model) => model.name)).toEqual(["wine"]);
    const model = await api<ModelResponse>("/api/models/wine");
    expect(model.body.versions.map((version) => version.version)).toEqual([2, 1]);
    expect(model.body.history.length).toBeGreaterThanOrEqual(2);
    expect(model.body.history.map((entry) => entry.alias)).toEqual(
      expect.arrayContaining(["production", "staging"]),
    );
    const version = await api<VersionResponse>("/api/models/wine/versions/2");
    expect(version.status).toBe(200);
    expect(version.body.version.runId).toBeTruthy();
    expect(version.body.run?.runId).toBe(version.body.version.runId);
    expect(version.body.manifest.schema).toBeTruthy();
    // Its reports, newest first: the drift report kept by recordReport, then the report of the
    // `mlops gate --html` run that made the workspace (kept by the gate itself, with its HTML).
    expect(version.body.reports.map((item) => [item.kind, item.title])).toEqual([
      ["drift", "drift: north vs south"],
      ["gate", expect.stringMatching(/^gate wine v2 vs v1: (pass, @production → v2|fail)$/)],
    ]);
    const gate = version.body.reports[1];
    const kept = await api<ReportResponse>(`/api/models/wine/versions/2/reports/${gate.runId}`);
    expect(kept.body).toMatchObject({ kind: "gate", html: true });
    expect(kept.body.report).toMatchObject({ candidate: { version: 2 }, baseline: { version: 1 } });
    const html = await fetch(
      new URL(`/api/models/wine/versions/2/reports/${gate.runId}/report.html`, base),
    );
    expect(html.status).toBe(200);
    expect(html.headers.get("content-disposition")).toMatch(/^attachment; filename="gate-wine-v2-/);
    expect(await html.text()).toBe(await readFile(join(workspace.dir, "gate.html"), "utf8"));
    // A report asked for under another version is not found.
    const elsewhere = await api<{ error: { code: string } }>(
      `/api/models/wine/versions/1/reports/${gate.runId}`,
    );
    expect(elsewhere.status).toBe(404);
    const missing = await api<{ error: { code: string } }>("/api/models/wine/versions/9");
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("registry_not_found");
  });

  it("is read-only, and serves its own scripts and styles", async () => {
    const put = await fetch(new URL("/api/models/wine/aliases/production", base), {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ version: 1 }),
    });
    expect(put.status).toBe(403);
    const page = await fetch(new URL("/experiments", base));
    expect(page.headers.get("content-security-policy")).toContain("default-src 'self'");
    const html = await page.text();
    expect(html).not.toMatch(/https?:\/\//);
    for (const path of ["/assets/app.js", "/assets/style.css"]) {
      const response = await fetch(new URL(path, base));
      expect(response.status, path).toBe(200);
      expect((await response.text()).length, path).toBeGreaterThan(1000);
    }
  });
});

async function visit(page: Page, errors: string[], path: string, screenshot: string) {
  const visited = await visitPage(page, errors, new URL(path, base).href, join(shots, screenshot));
  return visited.charts;
}

describe("mlops ui in Chromium", () => {
  it("experiments → runs (fold, sort, filter) → run and compare, each page drawn", async () => {
    const { page, errors } = await browser.page();
    await visit(page, errors, "/experiments", "ui-experiments.png");
    const experiments = (await api<ExperimentSummary[]>("/api/experiments")).body;
    const searched = experiments.find(isSearch) as ExperimentSummary;
    const link = page.locator(`main a[href="/experiments/${searched.experimentId}"]`);
    await Promise.all([page.waitForURL(/\/experiments\/[^/]+$/), link.click()]);
    await page.waitForSelector('body[data-page-ready="true"]');
    expect(errors).toEqual([]);
    const runs = (await api<RunsResponse>(`/api/experiments/${searched.experimentId}/runs`)).body;
    const parents = runs.runs.filter((run) => run.parent === null);
    const rows = page.locator(".runs .body [role=row]");
    // Parent runs folded: only the searches show, their trials behind the toggle.
    expect(await rows.count()).toBe(parents.length);
    await page.getByRole("button", { name: "Expand all" }).click();
    expect(await rows.count()).toBe(Math.min(runs.runs.length, 20));
    await page.screenshot({ path: join(shots, "ui-runs.png"), fullPage: true });
    // Sort: the header says which way.
    const started = page.locator(".runs .head button", { hasText: "started" });
    await expect.poll(() => started.textContent()).toContain("↓");
    await started.click();
    await expect.poll(() => started.textContent()).toContain("↑");
    // Filter with the registry's syntax, through the form.
    const key = runs.metricKeys[0];
    const k = runs.metricKeys.indexOf(key);
    const kept = runs.runs.filter(
      (run) => run.metrics[k] !== null && (run.metrics[k] as number) < 1e9,
    );
    await page.getByLabel("filter runs").fill(`metrics.${key} < 1e9`);
    await Promise.all([
      page.waitForURL(/filter=/),
      page.getByRole("button", { name: "Filter" }).click(),
    ]);
    await page.waitForSelector('body[data-page-ready="true"]');
    await expect
      .poll(() => page.getByRole("status").textContent())
      .toContain(`${kept.length} of ${runs.runs.length} runs`);
    expect(errors).toEqual([]);
    // A run's page, by its link.
    const runLinks = page.locator('main a[href^="/runs/"]');
    expect(await runLinks.count()).toBeGreaterThan(0);
    await Promise.all([page.waitForURL(/\/runs\/[^/]+$/), runLinks.first().click()]);
    await page.waitForSelector('body[data-page-ready="true"]');
    await page.screenshot({ path: join(shots, "ui-run.png"), fullPage: true });
    expect(errors).toEqual([]);
    expect(await page.locator(".error").count()).toBe(0);
    // Compare: two trials, chosen in the table.
    await visit(page, errors, `/experiments/${searched.experimentId}`, "ui-runs-folded.png");
    await page.getByRole("button", { name: "Expand all" }).click();
    const boxes = page.locator(".runs .body [role=row].child input[type=checkbox]");
    await boxes.nth(0).check();
    await boxes.nth(1).check();
    await Promise.all([
      page.waitForURL(/\/compare\?runs=/),
      page.getByRole("button", { name: /Compare selected/ }).click(),
    ]);
    await page.waitForSelector('body[data-page-ready="true"]');
    const charts = await chartPixels(page);
    await page.screenshot({ path: join(shots, "ui-compare.png"), fullPage: true });
    expect(errors).toEqual([]);
    expect(charts.length).toBeGreaterThan(0);
    for (const chart of charts) expect(chart.pixels, chart.title).toBeGreaterThan(200);
    await page.close();
  });

  it("models → model → version, with lineage and the alias timeline", async () => {
    const { page, errors } = await browser.page();
    await visit(page, errors, "/models", "ui-models.png");
    await Promise.all([
      page.waitForURL(/\/models\/wine$/),
      page.locator('main a[href="/models/wine"]').first().click(),
    ]);
    await page.waitForSelector('body[data-page-ready="true"]');
    const charts = await visit(page, errors, "/models/wine", "ui-model.png");
    for (const chart of charts) expect(chart.pixels, chart.title).toBeGreaterThan(200);
    const text = await page.locator("main").textContent();
    expect(text).toContain("production");
    await Promise.all([
      page.waitForURL(/\/models\/wine\/versions\/2$/),
      page.locator('main a[href="/models/wine/versions/2"]').first().click(),
    ]);
    await page.waitForSelector('body[data-page-ready="true"]');
    await visit(page, errors, "/models/wine/versions/2", "ui-version.png");
    expect(await page.locator("main").textContent()).toContain("quality");
    // The version's reports: the drift report recorded with it, drawn.
    await Promise.all([
      page.waitForURL(/\/versions\/2\/reports\/[^/]+$/),
      page.locator('main a[href*="/versions/2/reports/"]').first().click(),
    ]);
    await page.waitForSelector('body[data-page-ready="true"]');
    const drawn = await chartPixels(page);
    await page.screenshot({ path: join(shots, "ui-report.png"), fullPage: true });
    expect(errors).toEqual([]);
    expect(await page.locator("main").textContent()).toContain("drift: north vs south");
    expect(drawn.length).toBeGreaterThan(0);
    for (const chart of drawn) expect(chart.pixels, chart.title).toBeGreaterThan(200);
    // The gate report that mlops gate kept with v2: its checks and charts, and its HTML file.
    await visit(page, errors, "/models/wine/versions/2", "ui-version.png");
    await Promise.all([
      page.waitForURL(/\/versions\/2\/reports\/[^/]+$/),
      page.locator("main a", { hasText: /^gate wine v2 vs v1/ }).click(),
    ]);
    await page.waitForSelector('body[data-page-ready="true"]');
    const gateCharts = await chartPixels(page);
    await page.screenshot({ path: join(shots, "ui-gate-report.png"), fullPage: true });
    expect(errors).toEqual([]);
    const gateText = await page.locator("main").textContent();
    expect(gateText).toMatch(/gate wine v2 vs v1/);
    expect(gateText).toContain("rmse");
    expect(gateText).toContain("maxRelativeRegression=0.05");
    expect(gateCharts.length).toBeGreaterThan(0);
    for (const chart of gateCharts) expect(chart.pixels, chart.title).toBeGreaterThan(200);
    const download = page.getByRole("link", { name: "Download the HTML report" });
    expect(await download.getAttribute("href")).toMatch(/\/reports\/[0-9a-f]+\/report\.html$/);
    await page.close();
  });
});
