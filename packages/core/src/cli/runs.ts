// `mlops runs list` and `mlops runs show`: tracked runs, as a reader wants them after a search.
import { MlopsError } from "../errors/error.js";
import { formatNumber } from "../format/numbers.js";
import {
  type Column,
  formatDuration,
  formatFields,
  formatTable,
  formatTime,
  type Style,
} from "../format/text.js";
import type { Registry } from "../registry/registry.js";
import type { Experiment, Run } from "../registry/types.js";
import { defineMlopsCommand } from "./context.js";
import { parsePositiveInteger, section, sortedEntries } from "./shared.js";

function runDuration(run: Run): string {
  return run.endTime === undefined ? "-" : formatDuration(run.endTime - run.startTime);
}

/**
 * Metrics that describe the bookkeeping of a run rather than the model (timings, the index of
 * the best candidate, one fold's score): left out of the default columns.
 */
function isBookkeeping(key: string): boolean {
  return /(^|_)time$/.test(key) || key === "best_index" || /^split\d+_/.test(key);
}

async function experimentIdsFor(
  registry: Registry,
  name: string | undefined,
): Promise<string[] | undefined> {
  if (name === undefined) return undefined;
  const experiment = await registry.store.getExperimentByName(name);
  if (experiment) return [experiment.experimentId];
  const names = (await registry.store.listExperiments())
    .map((item) => JSON.stringify(item.name))
    .join(", ");
  throw new MlopsError(
    "registry_not_found",
    `experiment ${JSON.stringify(name)} not found; experiments: ${names}`,
  );
}

/** One line of the table: a run, as a top row or folded under its parent. */
interface Line {
  run: Run;
  child: boolean;
}

/** `params.NAME`, `metrics.NAME` or `tags.NAME` of a run, as text ("-" when it has none). */
function cellOf(run: Run, key: string): string {
  const dot = key.indexOf(".");
  const entity = key.slice(0, dot);
  const name = key.slice(dot + 1);
  if (entity === "metrics") {
    return run.metrics[name] === undefined ? "-" : formatNumber(run.metrics[name]);
  }
  if (entity === "params") return run.params[name] ?? "-";
  return run.tags[name] ?? "-";
}

/** A column's header: the bare name, unless a param and a metric (or tag) share it. */
function headerOf(key: string, keys: readonly string[]): string {
  const name = key.slice(key.indexOf(".") + 1);
  const shared = keys.filter((other) => other.slice(other.indexOf(".") + 1) === name);
  return shared.length > 1 ? key : name;
}

const COLUMN_KEY = /^(params|metrics|tags)\.\S+$/;

/**
 * The param and metric columns: as asked (`--columns`), every one (`--wide`), or by default the
 * params whose value differs between the runs shown and the metrics that describe the model.
 * Params that are the same in every run are said once, below the table.
 */
function chooseColumns(
  runs: readonly Run[],
  options: { columns: string[]; wide: boolean },
): { keys: string[]; same: [string, string][] } {
  if (options.columns.length > 0) {
    for (const key of options.columns) {
      if (!COLUMN_KEY.test(key)) {
        throw new MlopsError(
          "argument_invalid",
          `--columns ${JSON.stringify(key)} is invalid: expected params.NAME, metrics.NAME or ` +
            "tags.NAME",
        );
      }
    }
    return { keys: options.columns, same: [] };
  }
  const paramKeys = [...new Set(runs.flatMap((run) => Object.keys(run.params)))].sort();
  const metricKeys = [...new Set(runs.flatMap((run) => Object.keys(run.metrics)))].sort();
  if (options.wide) {
    return {
      keys: [...metricKeys.map((key) => `metrics.${key}`), ...paramKeys.map((k) => `params.${k}`)],
      same: [],
    };
  }
  const varying: string[] = [];
  const same: [string, string][] = [];
  for (const key of paramKeys) {
    const values = new Set(runs.map((run) => run.params[key]));
    if (runs.length > 1 && values.size === 1) same.push([key, runs[0].params[key]]);
    else varying.push(`params.${key}`);
  }
  const metrics = metricKeys.filter((key) => !isBookkeeping(key)).map((key) => `metrics.${key}`);
  return { keys: [...metrics, ...varying], same };
}

/** Top runs with their children folded under them (counted, or listed with `--children`). */
function fold(
  runs: readonly Run[],
  expand: boolean,
): { lines: Line[]; childCounts: Map<string, number> } {
  const shown = new Set(runs.map((run) => run.runId));
  const childrenOf = new Map<string, Run[]>();
  const top: Run[] = [];
  for (const run of runs) {
    if (run.parentRunId !== undefined && shown.has(run.parentRunId)) {
      const list = childrenOf.get(run.parentRunId) ?? [];
      list.push(run);
      childrenOf.set(run.parentRunId, list);
    } else {
      top.push(run);
    }
  }
  const lines: Line[] = [];
  for (const run of top) {
    lines.push({ run, child: false });
    if (expand) {
      for (const child of childrenOf.get(run.runId) ?? []) lines.push({ run: child, child: true });
    }
  }
  const childCounts = new Map([...childrenOf].map(([id, list]) => [id, list.length]));
  return { lines, childCounts };
}

export const runsList = defineMlopsCommand({
  name: "runs list",
  summary: "List tracked runs, child runs folded under their parent, the columns that differ.",
  description:
    "Newest first. A search's trials are child runs: they are counted in the CHILDREN column of " +
    "their parent (--children lists them under it, --parent RUN_ID lists one run's). Columns: " +
    "the metrics of the model (right-aligned), then the params whose value differs between the " +
    "runs shown (the others are listed once below the table), each headed by its name " +
    "(params.NAME and metrics.NAME in --filter, --order-by and --columns); --wide shows every " +
    "param and metric, --columns the ones named. --json gives every run found, flat, with all " +
    "its data.",
  options: {
    experiment: {
      type: "string",
      value: "NAME",
      description: "only runs of this experiment (default: every experiment)",
    },
    filter: {
      type: "string",
      value: "EXPR",
      description: "MLflow search filter, e.g. \"metrics.rmse < 1 and params.depth = '4'\"",
    },
    parent: {
      type: "string",
      value: "RUN_ID",
      description: "only the child runs of this run (the trials of one search)",
    },
    children: {
      type: "boolean",
      description: "list child runs under their parent instead of counting them",
    },
    columns: {
      type: "string",
      value: "KEY",
      multiple: true,
      list: true,
      description: "exactly these columns: params.NAME, metrics.NAME, tags.NAME",
    },
    wide: { type: "boolean", description: "a column for every param and metric" },
    "order-by": {
      type: "string",
      multiple: true,
      list: true,
      value: "KEY",
      description: 'sort key: metrics.rmse, "metrics.rmse DESC" (default: newest first)',
    },
    max: {
      type: "string",
      value: "N",
      description: "at most N runs (1 to 50000, default 1000)",
    },
  },
  examples: [
    "mlops runs list --experiment wine",
    "mlops runs list --parent 9d17178ec981a4e557f0487c6f6b05d2 --order-by metrics.mean_test_rmse",
    'mlops runs list --filter "metrics.rmse < 0.7" --columns params.alpha,metrics.rmse --max 5',
  ],
  async run({ openRegistry, options, style }) {
    const maxResults =
      options.max === undefined ? undefined : parsePositiveInteger("--max", options.max);
    const registry = await openRegistry();
    const { store } = registry;
    const experimentIds = await experimentIdsFor(registry, options.experiment);
    if (options.parent !== undefined) await store.getRun(options.parent);
    const runs = await store.searchRuns({
      experimentIds,
      filter: options.filter,
      orderBy: options["order-by"].length > 0 ? options["order-by"] : undefined,
      maxResults,
      parentRunId: options.parent,
    });
    if (runs.length === 0) return { json: { runs }, text: "No runs found.\n" };
    const { lines, childCounts } = fold(runs, options.children);
    const shown = lines.map((line) => line.run);
    const { keys, same } = chooseColumns(shown, options);
    const experiments = new Map(
      (await store.listExperiments()).map((item: Experiment) => [item.experimentId, item.name]),
    );
    const showExperiment = new Set(shown.map((run) => run.experimentId)).size > 1;
    const folded = !options.children && childCounts.size > 0;
    const columns: Column[] = [
      { header: "RUN ID" },
      { header: "NAME" },
      ...(showExperiment ? [{ header: "EXPERIMENT" }] : []),
      { header: "STATUS" },
      { header: "START" },
      { header: "DURATION", align: "right" },
      ...(folded ? [{ header: "CHILDREN", align: "right" } as Column] : []),
      ...keys.map(
        (key): Column => ({
          header: headerOf(key, keys),
          align: key.startsWith("metrics.") ? "right" : "left",
        }),
      ),
    ];
    const rows = lines.map(({ run, child }) => [
      run.runId,
      child ? `└ ${run.runName}` : run.runName,
      ...(showExperiment ? [experiments.get(run.experimentId) ?? run.experimentId] : []),
      run.status,
      formatTime(run.startTime),
      runDuration(run),
      ...(folded ? [String(childCounts.get(run.runId) ?? "-")] : []),
      ...keys.map((key) => cellOf(run, key)),
    ]);
    let text = formatTable(columns, rows, style);
    if (same.length > 0) {
      text += `\nSame in every run shown: ${same.map(([key, value]) => `${key}=${value}`).join(", ")}\n`;
    }
    if (folded) {
      text +=
        "\nChild runs are counted under their parent: --children lists them, " +
        "--parent RUN_ID lists one run's.\n";
    }
    return { json: { runs }, text };
  },
});

function runText(
  run: Run,
  details: {
    experiment: string;
    children: number;
    artifacts: { name: string; sizeBytes: number }[];
  },
  style: Style,
): string {
  const parts = [
    section(
      `Run ${run.runName} (${run.runId})`,
      formatFields(
        [
          ["experiment", `${details.experiment} (id ${run.experimentId})`],
          ["status", run.status],
          ["start", formatTime(run.startTime)],
          ["end", formatTime(run.endTime)],
          ["duration", runDuration(run)],
          ["parent", run.parentRunId ?? "-"],
          [
            "children",
            details.children === 0
              ? "-"
              : `${details.children} (mlops runs list --parent ${run.runId})`,
          ],
        ],
        "  ",
        style,
      ),
      style,
    ),
    section("Params", formatFields(sortedEntries(run.params), "  ", style), style),
    section(
      "Metrics",
      formatFields(
        sortedEntries(run.metrics).map(([key, value]) => [key, formatNumber(value)]),
        "  ",
        style,
      ),
      style,
    ),
    section("Tags", formatFields(sortedEntries(run.tags), "  ", style), style),
    section(
      "Artifacts",
      formatFields(
        details.artifacts.map((artifact) => [artifact.name, `${artifact.sizeBytes} bytes`]),
        "  ",
        style,
      ),
      style,
    ),
  ];
  return parts.join("\n");
}

export const runsShow = defineMlopsCommand({
  name: "runs show",
  summary: "Show one run: status, times, parent and children, every param, metric, tag, artifact.",
  args: [{ name: "RUN_ID", description: "the run's id (the RUN ID column of `mlops runs list`)" }],
  options: {},
  examples: ["mlops runs show 9d17178ec981a4e557f0487c6f6b05d2", "mlops runs show RUN_ID --json"],
  async run({ openRegistry, args, style }) {
    const registry = await openRegistry();
    const { store } = registry;
    const run = await store.getRun(args[0]);
    const experiment = await store.getExperiment(run.experimentId);
    const children = await store.searchRuns({
      parentRunId: run.runId,
      experimentIds: [run.experimentId],
      maxResults: 50_000,
    });
    const artifacts = await store.listArtifacts(run.runId);
    const details = { experiment: experiment.name, children: children.length, artifacts };
    return {
      json: { run, experiment, children: children.map((child) => child.runId), artifacts },
      text: runText(run, details, style),
    };
  },
});
