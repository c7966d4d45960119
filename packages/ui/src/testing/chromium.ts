/**
 * Headless Debian Chromium for the tests, driven by playwright-core (no browser download):
 * launched with a fresh profile folder (removed on close), no network besides 127.0.0.1, and
 * every console error and page error collected, so a test can say "no console errors".
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";

export const CHROMIUM = process.env.MLOPS_CHROMIUM ?? "/usr/bin/chromium";

export interface Browser {
  context: BrowserContext;
  /** A new page whose console errors and page errors land in `errors`. */
  page(): Promise<{ page: Page; errors: string[] }>;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<Browser> {
  const profile = await mkdtemp(join(tmpdir(), "mlops-ui-chromium-"));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
      viewport: { width: 1366, height: 768 },
      deviceScaleFactor: 1,
    });
  } catch (error) {
    await rm(profile, { recursive: true, force: true });
    throw new Error(
      `cannot start Chromium at ${CHROMIUM} (apt-get install chromium, or set MLOPS_CHROMIUM): ` +
        (error as Error).message,
    );
  }
  // Nothing leaves the machine: a page that reaches for a CDN fails the test instead.
  await context.route(/^(?!(file:|data:|about:|http:\/\/127\.0\.0\.1[:/])).*/, (route) =>
    route.abort("blockedbyclient"),
  );
  return {
    context,
    async page() {
      const page = await context.newPage();
      const errors: string[] = [];
      page.on("console", (message) => {
        if (message.type() === "error") errors.push(`console: ${message.text()}`);
      });
      page.on("pageerror", (error) => errors.push(`page: ${error.message}`));
      page.on("requestfailed", (request) =>
        errors.push(`request: ${request.url()} ${request.failure()?.errorText ?? ""}`),
      );
      return { page, errors };
    },
    async close() {
      await context.close().catch(() => {});
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Waits until every chart on the page has drawn (ECharts' `finished` sets `data-rendered`), then
 * counts the non-blank pixels of each chart's canvas: a chart that drew nothing has none.
 */
export async function chartPixels(page: Page): Promise<{ title: string; pixels: number }[]> {
  await page.waitForFunction(
    () => {
      const charts = document.querySelectorAll(".chart");
      return (
        charts.length > 0 &&
        [...charts].every((chart) => chart.getAttribute("data-rendered") === "true")
      );
    },
    undefined,
    { timeout: 60_000 },
  );
  return page.evaluate(() =>
    [...document.querySelectorAll(".chart")].map((chart) => {
      let pixels = 0;
      for (const canvas of chart.querySelectorAll("canvas")) {
        const context = canvas.getContext("2d");
        if (!context || canvas.width === 0 || canvas.height === 0) continue;
        const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
        for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) pixels++;
      }
      return { title: chart.getAttribute("data-chart") ?? "", pixels };
    }),
  );
}

/** Where the test run saves its screenshots: $MLOPS_SCREENSHOTS, else .out/screenshots. */
export function screenshotFolder(): string {
  return (
    process.env.MLOPS_SCREENSHOTS ??
    join(new URL("../..", import.meta.url).pathname, ".out", "screenshots")
  );
}
