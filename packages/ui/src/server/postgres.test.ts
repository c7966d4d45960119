// `mlops ui` over a PostgreSQL registry, for real: a PostgreSQL 15 cluster started by the test (as
// a non-root user, in a temporary folder), a registry written into it by `mlops-train`, `mlops
// gate` and `mlops alias set` (child processes, `--registry postgres://…`) and a drift report
// kept by the SDK, then the built `mlops ui --registry postgres://…` serving it: its JSON API
// over HTTP and its pages in headless Chromium (no console error, the data shown, charts drawn).
// The URL carries the role's password: it must never reach a page, an API answer or a log line.
// It runs the `mlops ui --registry postgres://…` command that docs/ui.md shows.
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { type PostgresCluster, startPostgresCluster } from "@mlops/postgres/testing";
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
import {
  command,
  expectCommand,
  isSearch,
  keepDriftReport,
  type Workspace,
  wineWorkspace,
} from "../testing/workspace.js";

let cluster: PostgresCluster;
let workspace: Workspace;
let browser: Browser;
let server: UiProcess;
let base: string;
/** The password-free form of the cluster's URL, as the UI must show it. */
let shown: string;
/** Every body the API and the pages answered, checked for the password at the end. */
const answered: string[] = [];
const shots = join(screenshotFolder(), "postgres");

beforeAll(async () => {
  [cluster, browser] = await Promise.all([startPostgresCluster(), launchBrowser()]);
  shown = cluster.url.replace(`:${cluster.password}@`, ":***@");
  await mkdir(shots, { recursive: true });
  // mlops-train × 2 and mlops gate --promote --html, all with --registry postgres://…
  workspace = await wineWorkspace({ registry: cluster.url });
  // Another alias, moved by the CLI, for the alias timeline.
  await expectCommand(
    "mlops",
    [
      "alias",
      "set",
      "wine",
      "champion",
      "1",
      "--registry",
      cluster.url,
      "--reason",
      "kept as the champion",
    ],
    workspace.dir,
  );
  // A drift report kept with wine v2 through the SDK.
  await keepDriftReport(cluster.url);
  server = await startUiProcess(cluster.url);
  base = server.url;
}, 600_000);

afterAll(async () => {
  await server?.stop();
  await browser?.close();
  await workspace?.remove();
  await cluster?.stop();
});

async function api<T>(path: string): Promise<{ status: number; body: T }> {
  const response = await fetch(new URL(path, base));
  const text = await response.text();
  answered.push(text);
  return { status: response.status, body: JSON.parse(text) as T };
}

async function visit(page: Page, errors: string[], path: string, screenshot: string) {
  const { charts, html, text } = await visitPage(
    page,
    errors,
    new URL(path, base).href,
    join(shots, screenshot),
  );
  answered.push(html);
  for (const chart of charts) expect(chart.pixels, `${path}: ${chart.title}`).toBeGreaterThan(200);
  return text;
}

describe("mlops ui --registry postgres://…", () => {
  it("answers from the PostgreSQL registry: experiments, runs, models, aliases, reports", async () => {
    const info = await api<{ location: string; writable: boolean }>("/api/info");
    expect(info.body).toMatchObject({ location: shown, writable: false });

    const experiments = await api<ExperimentSummary[]>("/api/experiments");
    const names = experiments.body.map((experiment) => experiment.name);
    expect(names).toEqual(expect.arrayContaining(["mlops-gate", "mlops-drift"]));
    const searches = experiments.body.filter(isSearch);
    expect(searches.length).toBeGreaterThan(0);
    const runs = await api<RunsResponse>(`/api/experiments/${searches[0].experimentId}/runs`);
    expect(runs.body.runs.length).toBe(searches[0].runs);
    // The searches' trials (12 tree and 6 forest candidates), each under its search's run.
    const all = await Promise.all(
      searches.map((experiment) =>
        api<RunsResponse>(`/api/experiments/${experiment.experimentId}/runs`),
      ),
    );
    const children = all.flatMap((answer) => answer.body.runs.filter((run) => run.parent));
    expect(children.length).toBeGreaterThanOrEqual(18);

    const models = await api<ModelsResponse>("/api/models");
    expect(models.body.models.map((model) => model.name)).toEqual(["wine"]);
    const model = await api<ModelResponse>("/api/models/wine");
    expect(model.body.versions.map((version) => version.version)).toEqual([2, 1]);
    expect(model.body.model.aliases).toMatchObject({ champion: 1, staging: 2 });
    expect(model.body.history.at(-1)).toMatchObject({
      alias: "champion",
      toVersion: 1,
      reason: "kept as the champion",
    });

    const version = await api<VersionResponse>("/api/models/wine/versions/2");
    expect(version.body.manifest.schema).toBeTruthy();
    expect(version.body.reports.map((report) => report.kind)).toEqual(["drift", "gate"]);
    const gate = version.body.reports[1];
    expect(gate.title).toMatch(/^gate wine v2 vs v1: (pass, @production → v2|fail)$/);
    const kept = await api<ReportResponse>(`/api/models/wine/versions/2/reports/${gate.runId}`);
    expect(kept.body).toMatchObject({ kind: "gate", html: true });
    expect(kept.body.report).toMatchObject({ candidate: { version: 2 }, baseline: { version: 1 } });
    const html = await fetch(
      new URL(`/api/models/wine/versions/2/reports/${gate.runId}/report.html`, base),
    );
    expect(html.status).toBe(200);
    expect((await html.text()).startsWith("<!doctype html>")).toBe(true);

    const missing = await api<{ error: { code: string; message: string } }>("/api/runs/0123abcd");
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("registry_not_found");
  });

  it("draws every page in Chromium with no console errors, showing the registry's data", async () => {
    const { page, errors } = await browser.page();
    const listed = await visit(page, errors, "/experiments", "experiments.png");
    expect(listed).toContain("mlops-gate");
    expect(await page.locator("header .where").textContent()).toBe(shown);

    const experiments = (await api<ExperimentSummary[]>("/api/experiments")).body;
    const search = experiments.find(isSearch) as ExperimentSummary;
    await visit(page, errors, `/experiments/${search.experimentId}`, "runs.png");
    expect(await page.locator(".runs .body [role=row]").count()).toBeGreaterThan(0);

    const modelText = await visit(page, errors, "/models/wine", "model.png");
    expect(modelText).toContain("champion");
    expect(modelText).toContain("kept as the champion");

    const versionText = await visit(page, errors, "/models/wine/versions/2", "version.png");
    expect(versionText).toContain("quality");
    expect(versionText).toContain("drift: north vs south");
    expect(versionText).toMatch(/gate wine v2 vs v1/);
    await Promise.all([
      page.waitForURL(/\/versions\/2\/reports\/[^/]+$/),
      page.locator("main a", { hasText: /^gate wine v2 vs v1/ }).click(),
    ]);
    await page.waitForSelector('body[data-page-ready="true"]');
    const charts = await chartPixels(page);
    await page.screenshot({ path: join(shots, "gate-report.png"), fullPage: true });
    answered.push(await page.content());
    expect(errors).toEqual([]);
    expect(charts.length).toBeGreaterThan(0);
    for (const chart of charts) expect(chart.pixels, chart.title).toBeGreaterThan(200);
    expect(await page.locator("main").textContent()).toContain("maxRelativeRegression=0.05");
    await page.close();
  });

  it("never shows the password: not in pages, API answers or the logs", async () => {
    expect(answered.length).toBeGreaterThan(10);
    for (const body of answered) expect(body).not.toContain(cluster.password);
    expect(server.output()).toMatch(/^mlops ui: http:\/\/127\.0\.0\.1:\d+\/ \(read-only/);
    expect(server.output()).not.toContain(cluster.password);
    // A wrong password: mlops ui stops with an error that names neither password.
    const wrong = cluster.url.replace(`:${cluster.password}@`, ":not-the-password@");
    const refused = await command(
      "mlops",
      ["ui", "--registry", wrong, "--port", "0"],
      workspace.dir,
    );
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/password authentication failed/);
    expect(`${refused.stdout}${refused.stderr}`).not.toContain("not-the-password");
    expect(`${refused.stdout}${refused.stderr}`).not.toContain(cluster.password);
  });
});
