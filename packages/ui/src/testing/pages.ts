/**
 * One page of `mlops ui` in Chromium, as the browser tests load it: navigate, wait until the page
 * says it is drawn, count each chart's pixels, save a screenshot, and expect no console error and
 * no error box.
 */
import type { Page } from "playwright-core";
import { expect } from "vitest";
import { chartPixels } from "./chromium.js";

export interface VisitedPage {
  charts: { title: string; pixels: number }[];
  /** The page's HTML once drawn. */
  html: string;
  /** The text of its `<main>`. */
  text: string;
}

export async function visitPage(
  page: Page,
  errors: string[],
  url: string,
  screenshot: string,
): Promise<VisitedPage> {
  await page.goto(url);
  await page.waitForSelector('body[data-page-ready="true"]', { timeout: 60_000 });
  const charts = (await page.locator(".chart").count()) > 0 ? await chartPixels(page) : [];
  await page.screenshot({ path: screenshot, fullPage: true });
  expect(errors, url).toEqual([]);
  expect(await page.locator(".error").count(), url).toBe(0);
  return {
    charts,
    html: await page.content(),
    text: (await page.locator("main").textContent()) ?? "",
  };
}
