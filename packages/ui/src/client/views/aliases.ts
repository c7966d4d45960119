import type { AliasHistoryEntry } from "@mlops/core";
import { h, table } from "../dom.js";
import { time } from "../format.js";

/** Alias moves, newest first (when, alias, from, to, who, why), or `empty` when there are none. */
export function aliasHistoryTable(
  history: readonly AliasHistoryEntry[],
  empty: string,
): HTMLElement {
  if (history.length === 0) return h("p", { class: "muted" }, empty);
  return table(
    ["when", "alias", "from", "to", "who", "why"],
    [...history]
      .reverse()
      .map((entry) => [
        time(entry.time),
        `@${entry.alias}`,
        entry.fromVersion === null ? "–" : `v${entry.fromVersion}`,
        entry.toVersion === null ? "deleted" : `v${entry.toVersion}`,
        entry.actor,
        entry.reason ?? "",
      ]),
  );
}
