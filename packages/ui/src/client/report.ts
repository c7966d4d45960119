/**
 * The script of every single-file HTML report: reads the report's data from the page (a JSON
 * script element) and draws it with the same views `mlops ui` uses.
 */
import type { DriftReport, GateRunReport } from "@mlops/core";
import type { SearchReport } from "@mlops/core/internal";
import { drawCharts } from "./charts.js";
import { h } from "./dom.js";
import { driftView } from "./views/drift.js";
import { gateView } from "./views/gate.js";
import { searchView } from "./views/search.js";

type Payload =
  | { kind: "search"; data: SearchReport }
  | { kind: "gate"; data: GateRunReport }
  | { kind: "drift"; data: DriftReport };

function render(): void {
  const app = document.getElementById("app")!;
  const source = document.getElementById("mlops-report");
  if (!source?.textContent) {
    app.replaceChildren(h("p", { class: "error" }, "This report has no data."));
    return;
  }
  const payload = JSON.parse(source.textContent) as Payload;
  const view =
    payload.kind === "search"
      ? searchView(payload.data)
      : payload.kind === "gate"
        ? gateView(payload.data)
        : driftView(payload.data);
  app.replaceChildren(view);
  drawCharts();
}

render();
