import type { ModelResponse, ModelsResponse } from "../../shared/api.js";
import { getJson } from "../api.js";
import { type Span, timeline } from "../charts.js";
import { badge, h, render, section, table } from "../dom.js";
import { num, time } from "../format.js";
import { aliasHistoryTable } from "../views/aliases.js";

function aliasBadges(aliases: Record<string, number> | string[]): HTMLElement[] {
  const names = Array.isArray(aliases)
    ? aliases
    : Object.entries(aliases).map(([a, v]) => `${a} → v${v}`);
  return names.map((name) => badge(`@${name}`, "neutral"));
}

export async function modelsPage(main: HTMLElement): Promise<void> {
  const { models } = await getJson<ModelsResponse>("/api/models");
  document.title = "Models · mlops ui";
  render(
    main,
    h("h1", null, "Models"),
    h(
      "section",
      { class: "card" },
      models.length === 0
        ? h("p", { class: "empty" }, "No registered model yet.")
        : table(
            ["model", "versions", "aliases", "created", "description"],
            models.map((model) => [
              h("a", { href: `/models/${encodeURIComponent(model.name)}` }, model.name),
              model.versions,
              aliasBadges(model.aliases),
              time(model.createdAt),
              model.description,
            ]),
            { numeric: [false, true, false, false, false] },
          ),
    ),
  );
}

/** Each alias's history as spans: from one move to the next (or now). */
function aliasSpans(history: ModelResponse["history"]): { lanes: string[]; spans: Span[] } {
  const lanes = [...new Set(history.map((entry) => entry.alias))].sort();
  const spans: Span[] = [];
  const now = Date.now();
  for (const lane of lanes) {
    const moves = history.filter((entry) => entry.alias === lane).sort((a, b) => a.time - b.time);
    moves.forEach((entry, i) => {
      if (entry.toVersion === null) return;
      const end = i + 1 < moves.length ? moves[i + 1].time : now;
      spans.push({
        lane,
        start: entry.time,
        end: Math.max(end, entry.time + 1),
        label: `v${entry.toVersion}`,
        tooltip:
          `@${lane} → v${entry.toVersion}<br>${time(entry.time)} by ${entry.actor}` +
          (entry.reason ? `<br>${entry.reason.replaceAll("<", "&lt;")}` : ""),
      });
    });
  }
  return { lanes, spans };
}

export async function modelPage(main: HTMLElement, [name]: string[]): Promise<void> {
  const data = await getJson<ModelResponse>(`/api/models/${encodeURIComponent(name)}`);
  document.title = `${name} · mlops ui`;
  const metricKeys = [
    ...new Set(
      data.versions.flatMap((version) =>
        Object.keys((version.metadata.metrics as Record<string, number>) ?? {}),
      ),
    ),
  ].sort();
  const { lanes, spans } = aliasSpans(data.history);
  render(
    main,
    h("div", { class: "crumbs" }, h("a", { href: "/models" }, "Models"), " / "),
    h("h1", null, name, " ", ...aliasBadges(data.model.aliases)),
    data.model.description ? h("p", null, data.model.description) : null,
    section(
      "Versions",
      table(
        ["version", "created", "aliases", "kind", ...metricKeys, "run"],
        data.versions.map((version) => {
          const metrics = (version.metadata.metrics as Record<string, number>) ?? {};
          return [
            h(
              "a",
              { href: `/models/${encodeURIComponent(name)}/versions/${version.version}` },
              `v${version.version}`,
            ),
            time(version.createdAt),
            aliasBadges(version.aliases),
            String(version.metadata.kind ?? ""),
            ...metricKeys.map((key) => num(metrics[key])),
            version.runId
              ? h("a", { href: `/runs/${version.runId}` }, version.runId.slice(0, 8))
              : "",
          ];
        }),
        { numeric: [false, false, false, false, ...metricKeys.map(() => true), false] },
      ),
    ),
    spans.length > 0
      ? section("Aliases over time", timeline(`aliases of ${name} over time`, lanes, spans))
      : null,
    section("Alias history", aliasHistoryTable(data.history, "No alias has been set.")),
  );
}
