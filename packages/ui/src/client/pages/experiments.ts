import type { ExperimentSummary } from "../../shared/api.js";
import { getJson } from "../api.js";
import { h, render, table } from "../dom.js";
import { time } from "../format.js";

export async function experimentsPage(main: HTMLElement): Promise<void> {
  const experiments = await getJson<ExperimentSummary[]>("/api/experiments");
  document.title = "Experiments · mlops ui";
  render(
    main,
    h("h1", null, "Experiments"),
    h(
      "section",
      { class: "card" },
      table(
        ["experiment", "runs", "last run", "created", "tags"],
        experiments.map((experiment) => [
          h(
            "a",
            { href: `/experiments/${encodeURIComponent(experiment.experimentId)}` },
            experiment.name,
          ),
          experiment.runs.toLocaleString("en"),
          time(experiment.lastRunStart),
          time(experiment.createdAt),
          Object.entries(experiment.tags)
            .map(([key, value]) => `${key}=${value}`)
            .join(", "),
        ]),
        { numeric: [false, true, false, false, false] },
      ),
    ),
  );
}
