/**
 * The script of `mlops ui`: one page per URL (experiments → runs → compare, models → versions →
 * reports), each drawn from the JSON API, all with the same header and stylesheet.
 */
import { ApiError } from "./api.js";
import { drawCharts } from "./charts.js";
import { h } from "./dom.js";
import { comparePage } from "./pages/compare.js";
import { experimentsPage } from "./pages/experiments.js";
import { modelPage, modelsPage } from "./pages/models.js";
import { runPage } from "./pages/run.js";
import { runsPage } from "./pages/runs.js";
import { reportPage, versionPage } from "./pages/version.js";

type Page = (main: HTMLElement, match: string[], url: URL) => Promise<void>;

const ROUTES: [RegExp, Page, string][] = [
  [/^\/experiments$/, experimentsPage, "/experiments"],
  [/^\/experiments\/([^/]+)$/, runsPage, "/experiments"],
  [/^\/experiments\/([^/]+)\/compare$/, comparePage, "/experiments"],
  [/^\/runs\/([^/]+)$/, runPage, "/experiments"],
  [/^\/models$/, modelsPage, "/models"],
  [/^\/models\/([^/]+)$/, modelPage, "/models"],
  [/^\/models\/([^/]+)\/versions\/(\d+)$/, versionPage, "/models"],
  [/^\/models\/([^/]+)\/versions\/(\d+)\/reports\/([^/]+)$/, reportPage, "/models"],
];

async function start(): Promise<void> {
  const main = document.getElementById("app")!;
  const url = new URL(location.href);
  for (const [pattern, page, section] of ROUTES) {
    const match = pattern.exec(url.pathname);
    if (!match) continue;
    for (const link of document.querySelectorAll<HTMLAnchorElement>("header.top nav a")) {
      if (link.getAttribute("href") === section) link.setAttribute("aria-current", "page");
    }
    try {
      await page(main, match.slice(1).map(decodeURIComponent), url);
    } catch (error) {
      const message =
        error instanceof ApiError ? error.message : `Unexpected error: ${(error as Error).message}`;
      main.replaceChildren(
        h("h1", null, "Something went wrong"),
        h("p", { class: "error", role: "alert" }, message),
      );
    }
    drawCharts();
    document.body.setAttribute("data-page-ready", "true");
    return;
  }
  main.replaceChildren(
    h("h1", null, "Not found"),
    h("p", null, "No page here. ", h("a", { href: "/experiments" }, "Experiments")),
  );
  document.body.setAttribute("data-page-ready", "true");
}

start();
