/**
 * `@mlops/ui`: the single-file HTML reports (search, gate, drift) and `mlops ui`, a local web app
 * over any registry. `@mlops/core` loads it lazily (`loadUi`) for `--html`, `--report` and
 * `mlops ui`; it can also be used directly.
 */
export { renderDriftReport, renderGateReport, renderSearchReport } from "./report/reports.js";
export { createUiApp, type UiApp, type UiAppOptions } from "./server/app.js";
export { startUi } from "./server/node.js";
