import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { driftReport, type GateRunReport } from "@mlops/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  command,
  housingHalves,
  WINE_CSV,
  type Workspace,
  wineWorkspace,
} from "../testing/workspace.js";
import { renderDriftReport, renderGateReport } from "./reports.js";

/** A report must open from disk and attach to a CI run: at most 1.5 MB. */
const MAX_BYTES = 1.5 * 1024 * 1024;

let workspace: Workspace;
beforeAll(async () => {
  workspace = await wineWorkspace();
});
afterAll(async () => {
  await workspace?.remove();
});

function dataOf(html: string): { kind: string; data: unknown } {
  const match = /<script type="application\/json" id="mlops-report">([\s\S]*?)<\/script>/.exec(
    html,
  );
  expect(match).not.toBeNull();
  return JSON.parse(match![1]);
}

/** No script, style, image or link from anywhere but the file itself. */
function expectSelfContained(html: string): void {
  expect(html).not.toMatch(/<(script|link|img|iframe)[^>]+(src|href)=/i);
  expect(html).not.toMatch(/@import|url\(\s*["']?https?:/i);
}

describe("single-file HTML reports", () => {
  it("mlops-train --report writes the search, self-contained and under 1.5 MB", async () => {
    const html = await readFile(`${workspace.dir}/search.html`, "utf8");
    expect(Buffer.byteLength(html)).toBeLessThan(MAX_BYTES);
    expectSelfContained(html);
    const { kind, data } = dataOf(html);
    expect(kind).toBe("search");
    const report = data as {
      candidates: { params: unknown[]; splits: number[][] };
      search: { cv: number; metric: string };
      featureImportances: Record<string, number>;
      holdout: { actual: number[]; predicted: number[]; rows: number };
    };
    expect(report.candidates.params).toHaveLength(6);
    expect(report.search).toMatchObject({ cv: 3, metric: "rmse" });
    expect(report.candidates.splits).toHaveLength(3);
    // A forest has impurity importances over the 11 features, summing to 1.
    const importances = Object.values(report.featureImportances);
    expect(importances).toHaveLength(11);
    expect(importances.reduce((a, b) => a + b)).toBeCloseTo(1, 6);
    // 20 % of the 800 rows held out, every one of them drawn.
    expect(report.holdout.rows).toBe(160);
    expect(report.holdout.actual).toHaveLength(160);
    expect(report.holdout.predicted).toHaveLength(160);
  });

  it("mlops gate --html writes the gate run, with its bootstrap interval", async () => {
    const html = await readFile(`${workspace.dir}/gate.html`, "utf8");
    expect(Buffer.byteLength(html)).toBeLessThan(MAX_BYTES);
    expectSelfContained(html);
    const { kind, data } = dataOf(html);
    expect(kind).toBe("gate");
    const report = data as GateRunReport;
    expect(report.candidate).toEqual({ uri: "models:/wine@staging", version: 2 });
    expect(report.baseline).toEqual({ uri: "models:/wine@production", version: 1 });
    const interval = report.result.rows.find((row) => row.interval)?.interval;
    expect(interval).toMatchObject({ confidence: 0.95 });
    expect(interval!.lower).toBeLessThanOrEqual(interval!.upper);
  });

  it("renderDriftReport keeps the histograms, escapes the data, and stays under 1.5 MB", async () => {
    const { reference, current } = await housingHalves();
    const report = driftReport(reference, current, { target: "median_house_value" });
    expect(report.dataset.verdict).toBe("drift");
    const html = renderDriftReport(report, { title: "housing </script><b>drift</b>" });
    expect(Buffer.byteLength(html)).toBeLessThan(MAX_BYTES);
    expectSelfContained(html);
    // The title is text, never markup, in the document and in the data.
    expect(html).toContain("<title>housing &lt;/script&gt;&lt;b&gt;drift&lt;/b&gt;</title>");
    expect(html.match(/<\/script>/g)).toHaveLength(2);
    const { data } = dataOf(html);
    expect(data).toEqual(JSON.parse(JSON.stringify(report)));
  });

  it("mlops drift --html writes the drift report through the same package", async () => {
    const file = join(workspace.dir, "drift-cli.html");
    const run = await command(
      "mlops",
      ["drift", "--reference", WINE_CSV, "--current", WINE_CSV, "--html", file],
      workspace.dir,
    );
    expect(run.code, run.stderr).toBe(0);
    const html = await readFile(file, "utf8");
    expect(Buffer.byteLength(html)).toBeLessThan(MAX_BYTES);
    expectSelfContained(html);
    const { kind, data } = dataOf(html);
    expect(kind).toBe("drift");
    const report = data as { dataset: { drifted: boolean }; features: Record<string, unknown> };
    expect(report.dataset.drifted).toBe(false);
  });

  it("renderGateReport names both models in its title", async () => {
    const html = await readFile(`${workspace.dir}/gate.html`, "utf8");
    const report = dataOf(html).data as GateRunReport;
    expect(renderGateReport(report)).toContain(
      "<title>Gate: models:/wine@staging (v2) vs models:/wine@production (v1)</title>",
    );
  });
});
