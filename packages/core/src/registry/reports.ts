import { MlopsError } from "../errors/error.js";
import type { Registry } from "./registry.js";
import type { RegistryStore, Run } from "./types.js";

/** The experiment that holds the recorded reports of each kind (`gate`, `drift`). */
export const REPORT_EXPERIMENTS = { gate: "mlops-gate", drift: "mlops-drift" } as const;

/** The artifact that holds a recorded report's JSON. */
export const REPORT_ARTIFACT = "report.json";

/** The artifact that holds a recorded report's single-file HTML, when one was kept (`--html`). */
export const REPORT_HTML_ARTIFACT = "report.html";

/** What `recordReport` stores. */
export interface RecordReportOptions {
  kind: keyof typeof REPORT_EXPERIMENTS;
  /** The model version the report is about. */
  model: string;
  version: number;
  title: string;
  /** `pass` / `fail`, `drift` / `no_drift` / `insufficient_data`. */
  verdict: string;
  /** The report (`gateRunReport(run)`, a `DriftReport`), stored as JSON. */
  report: unknown;
  /** Numbers worth a column in the runs table (the gate's metrics, the drifted share). */
  metrics?: Record<string, number>;
  /**
   * More files kept with the report, by artifact name (`report.html`: the single-file HTML
   * report `mlops gate --html` wrote). `report.json` is the report itself and cannot be one.
   */
  files?: Record<string, string | Uint8Array>;
}

/**
 * Records a report about a model version as a tracking run (experiment `mlops-gate` or
 * `mlops-drift`, tags naming the model and version, the JSON as the `report.json` artifact), so
 * that `mlops ui` shows it on the version's page and the runs table lists every one.
 *
 * @example
 * await recordReport(registry, { kind: "gate", model: "wine", version: 3, title: "…",
 *   verdict: "pass", report: gateRunReport(run) });
 */
export async function recordReport(registry: Registry, options: RecordReportOptions): Promise<Run> {
  const files = Object.entries(options.files ?? {});
  for (const [name, content] of files) {
    if (name === REPORT_ARTIFACT) {
      throw new MlopsError(
        "argument_invalid",
        `recordReport: files cannot hold "${REPORT_ARTIFACT}", the report's own artifact`,
      );
    }
    if (typeof content !== "string" && !(content instanceof Uint8Array)) {
      throw new MlopsError(
        "argument_invalid",
        `recordReport: files["${name}"]: expected a string or a Uint8Array, got ${typeof content}`,
      );
    }
  }
  const run = await registry.startRun({
    experiment: REPORT_EXPERIMENTS[options.kind],
    runName: options.title.slice(0, 250),
    tags: {
      "mlops.report.kind": options.kind,
      "mlops.report.model": options.model,
      "mlops.report.version": String(options.version),
      "mlops.report.verdict": options.verdict,
    },
  });
  try {
    const encoder = new TextEncoder();
    const bytes = encoder.encode(JSON.stringify(options.report));
    await registry.store.logArtifact(run.runId, REPORT_ARTIFACT, bytes);
    for (const [name, content] of files) {
      const data = typeof content === "string" ? encoder.encode(content) : content;
      await registry.store.logArtifact(run.runId, name, data);
    }
    if (options.metrics && Object.keys(options.metrics).length > 0) {
      await registry.logMetrics(run.runId, options.metrics);
    }
  } catch (error) {
    // A half-kept report is marked as such, not left RUNNING forever.
    await registry.endRun(run.runId, "FAILED").catch(() => undefined);
    throw error;
  }
  return registry.endRun(run.runId, "FINISHED");
}

/** The recorded reports about a model version, newest first (half-recorded ones left out). */
export async function listReports(
  store: RegistryStore,
  model: string,
  version: number,
): Promise<Run[]> {
  const ids: string[] = [];
  for (const name of Object.values(REPORT_EXPERIMENTS)) {
    const experiment = await store.getExperimentByName(name);
    if (experiment) ids.push(experiment.experimentId);
  }
  if (ids.length === 0) return [];
  // Model names are letters, digits, "_", ".", "-" and spaces: nothing to escape in quotes.
  const runs = await store.searchRuns({
    experimentIds: ids,
    filter:
      `tags.\`mlops.report.model\` = '${model}' and ` +
      `tags.\`mlops.report.version\` = '${version}'`,
    orderBy: ["attributes.start_time DESC"],
    maxResults: 1000,
  });
  // A report whose recording failed or was cut short (its run FAILED or still RUNNING) may lack
  // its report.json: only finished ones are listed.
  return runs.filter((run) => run.status === "FINISHED");
}
