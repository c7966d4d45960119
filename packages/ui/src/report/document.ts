import { asset } from "../assets.js";

/** Text safe inside HTML elements and attribute values. */
export function escapeHtml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

/** JSON safe inside a `<script>` element: no `</script>`, no `<!--`, no line separators. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replaceAll("<", "\\u003c")
    .replaceAll("\u2028", "\\u2028")
    .replaceAll("\u2029", "\\u2029");
}

/** A script's text safe inside a `<script>` element. */
function inlineScript(code: string): string {
  return code.replaceAll("</script", "<\\/script");
}

/**
 * One self-contained HTML file: the shared stylesheet, the data as JSON, and the report script
 * (ECharts included), so that it opens from disk with no network.
 */
export function reportDocument(
  kind: "search" | "gate" | "drift",
  title: string,
  data: unknown,
): string {
  return [
    "<!doctype html>",
    '<html lang="en">',
    "<head>",
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="generator" content="@mlops/ui">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${asset("style.css")}</style>`,
    "</head>",
    "<body>",
    `<header class="top"><span class="brand">@mlops</span><span>${escapeHtml(title)}</span></header>`,
    `<main id="app"><h1>${escapeHtml(title)}</h1><noscript><p class="error">This report draws its tables and charts with JavaScript; open it in a browser with scripts enabled.</p></noscript></main>`,
    `<script type="application/json" id="mlops-report">${scriptJson({ kind, data })}</script>`,
    `<script>${inlineScript(asset("report.js"))}</script>`,
    "</body>",
    "</html>",
    "",
  ].join("\n");
}
