import { writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { CommandFailure, ERROR_KINDS } from "../command/exit.js";
import { UsageError } from "../command/options.js";
import { alignColumns, profileKinds } from "../drift/align.js";
import { resolveDriftOptions } from "../drift/compare.js";
import { formatDriftText } from "../drift/format.js";
import { driftReport } from "../drift/report.js";
import type {
  CategoryDriftMethod,
  ColumnDriftOptions,
  DriftOptions,
  DriftReport,
  NumericDriftMethod,
} from "../drift/types.js";
import { MlopsError } from "../errors/error.js";
import type { ColumnKind, Frame } from "../frame/frame.js";
import { readFrame } from "../io/index.js";
import { createPredictor } from "../predict/predictor.js";
import { parseModelUri } from "../registry/uri.js";
import { parseNumberText, Schema } from "../schema/schema.js";
import { loadUi, UI_PACKAGE } from "../ui/load.js";
import { defineMlopsCommand } from "./context.js";
import { modelReferenceToUri } from "./shared.js";

/** The exit codes of `mlops drift` (its help and docs/monitoring.md say the same). */
export const DRIFT_EXIT_CODES = { noDrift: 0, drift: 1, usage: 2, badData: 3 } as const;

function numberOption(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = parseNumberText(text);
  if (Number.isNaN(value)) {
    throw new UsageError(`option --${name}: expected a number, got ${JSON.stringify(text)}`);
  }
  return value;
}

const METHODS = ["auto", "ks", "wasserstein", "psi", "jensen_shannon", "chi_square"];

/** `--column NAME:METHOD[:THRESHOLD]`, repeatable. */
function parseColumns(texts: readonly string[]): Record<string, ColumnDriftOptions> {
  const columns: Record<string, ColumnDriftOptions> = {};
  for (const text of texts) {
    const parts = text.split(":");
    const [name, method, threshold] = parts;
    if (parts.length < 2 || parts.length > 3 || !name || !method) {
      throw new UsageError(
        `option --column: expected NAME:METHOD or NAME:METHOD:THRESHOLD, got ${JSON.stringify(text)}`,
      );
    }
    if (!METHODS.includes(method)) {
      throw new UsageError(
        `option --column ${text}: unknown method "${method}" (one of ${METHODS.join(", ")})`,
      );
    }
    columns[name] = { method: method as ColumnDriftOptions["method"] };
    if (threshold !== undefined) columns[name].threshold = numberOption("column", threshold);
  }
  return columns;
}

/** Runs `body`, reporting bad data (unreadable files, wrong values) with exit code 3. */
async function withDataExit<T>(body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    if (MlopsError.isInstance(error) && ERROR_KINDS[error.code] === "data") {
      throw new CommandFailure(error.message, DRIFT_EXIT_CODES.badData, error.code);
    }
    throw error;
  }
}

async function readData(path: string, cwd: string): Promise<Frame> {
  return withDataExit(() => readFrame(resolve(cwd, path)));
}

/** `mlops drift`: how far current data has moved from a model's training profile or a reference. */
export const driftCommand = defineMlopsCommand({
  name: "drift",
  summary: "Measure how far current data has drifted from a model's training data.",
  description:
    "Compares --current with the training profile stored in --model, or with --reference data " +
    "(then KS and Wasserstein are exact; needed for models made before profiles existed). Each " +
    "feature is judged by a test while the samples are small (KS, chi-square) and by an effect " +
    "size when they are large (Wasserstein/σ, Jensen–Shannon), or insufficient data below " +
    "--min-sample-size; the data set has drifted when at least --dataset-share of the judged " +
    "features have. With --model the model's predictions on the current data are compared too." +
    "\n\nThe current file is read without the schema, so unseen categories and out-of-range " +
    "values show as drift instead of failing.",
  usage: [
    "mlops drift --model NAME@ALIAS --current FILE [options]",
    "mlops drift --reference FILE --current FILE [--target NAME] [options]",
  ],
  args: [],
  options: {
    model: {
      type: "string",
      value: "REF",
      description: "the model: NAME@ALIAS, NAME/VERSION, NAME (latest) or a models:/ URI",
    },
    reference: {
      type: "string",
      value: "FILE",
      description: "reference data (CSV, JSONL, Parquet, Arrow) instead of the stored profile",
    },
    current: {
      type: "string",
      value: "FILE",
      description: "the data to check (CSV, JSONL, Parquet, Arrow)",
      required: true,
    },
    target: {
      type: "string",
      value: "NAME",
      description: "the target column of --reference (with --model: the schema's target)",
    },
    feature: {
      type: "string",
      value: "NAME",
      multiple: true,
      list: true,
      description: "compare only these features (default: all)",
    },
    html: {
      type: "string",
      value: "FILE",
      description: `also write the report as one HTML file (needs ${UI_PACKAGE})`,
    },
    "p-value": {
      type: "string",
      value: "P",
      description: "KS and chi-square say drift below this p-value (default 0.05)",
    },
    wasserstein: {
      type: "string",
      value: "X",
      description: "Wasserstein/σ at or above this is drift (default 0.1)",
    },
    "jensen-shannon": {
      type: "string",
      value: "X",
      description: "Jensen–Shannon distance at or above this is drift (default 0.1)",
    },
    psi: { type: "string", value: "X", description: "PSI at or above this is drift (default 0.1)" },
    "min-sample-size": {
      type: "string",
      value: "N",
      description: "fewer values on either side is insufficient data (default 30)",
    },
    "test-max-sample-size": {
      type: "string",
      value: "N",
      description: "effective sample size up to which a test decides (default 1000)",
    },
    "dataset-share": {
      type: "string",
      value: "S",
      description: "share of drifted features that makes the data set drift (default 0.5)",
    },
    bins: {
      type: "string",
      value: "N",
      description: "bins for PSI and Jensen–Shannon on numbers (default 10: deciles)",
    },
    "numeric-method": {
      type: "string",
      value: "M",
      description: "auto (default), ks, wasserstein, psi or jensen_shannon",
    },
    "category-method": {
      type: "string",
      value: "M",
      description: "auto (default), chi_square, psi or jensen_shannon",
    },
    column: {
      type: "string",
      value: "NAME:METHOD[:T]",
      multiple: true,
      description: "one column's method and threshold, e.g. income:psi:0.2 (repeatable)",
    },
  },
  examples: [
    "mlops drift --model house@production --current today.csv",
    "mlops drift --reference train.parquet --current today.csv --target price --json",
    "mlops drift --model house@production --current today.csv --wasserstein 0.2 " +
      "--column ocean_proximity:psi:0.25",
  ],
  exitCodes:
    "Exit codes: 0 no drift (or insufficient data), 1 drift, 2 usage error (options, unknown " +
    "model, no profile), 3 bad data (unreadable file, missing column, a value of the wrong kind).",
  async run({ options, openRegistry, cwd, style }) {
    if (options.model === undefined && options.reference === undefined) {
      throw new UsageError("give --model NAME@ALIAS (its training profile) or --reference FILE");
    }
    const driftOptions: DriftOptions = {
      pValue: numberOption("p-value", options["p-value"]),
      wasserstein: numberOption("wasserstein", options.wasserstein),
      jensenShannon: numberOption("jensen-shannon", options["jensen-shannon"]),
      psi: numberOption("psi", options.psi),
      minSampleSize: numberOption("min-sample-size", options["min-sample-size"]),
      testMaxSampleSize: numberOption("test-max-sample-size", options["test-max-sample-size"]),
      datasetShare: numberOption("dataset-share", options["dataset-share"]),
      bins: numberOption("bins", options.bins),
      numericMethod: options["numeric-method"] as NumericDriftMethod | undefined,
      categoryMethod: options["category-method"] as CategoryDriftMethod | undefined,
      columns: parseColumns(options.column),
    };
    // Bad thresholds are usage errors (exit 2), found before any file is read.
    try {
      resolveDriftOptions(driftOptions);
    } catch (error) {
      if (MlopsError.isInstance(error))
        throw new UsageError(error.message.replace(/^drift options: /, "option "));
      throw error;
    }
    const features = options.feature.length > 0 ? options.feature : undefined;
    const notes: string[] = [];
    let report: DriftReport;
    let title: string;
    if (options.model !== undefined) {
      const uri = parseModelUri(modelReferenceToUri(options.model));
      const registry = await openRegistry();
      const { version, artifact } = await registry.loadModel(uri);
      const name = `models:/${version.name}/${version.version}`;
      title = `Drift of ${name}`;
      const schema = Schema.fromJSON(artifact.manifest.schema);
      const profile = artifact.manifest.profile;
      if (profile === undefined && options.reference === undefined) {
        throw new UsageError(
          `${name} has no training profile (it was made before profiles existed, or without ` +
            "data): give --reference FILE with its training data",
        );
      }
      const current = await readData(options.current, cwd);
      report = await withDataExit(async () => {
        const predictions = predictionsOf(artifact, current, notes);
        if (options.reference !== undefined) {
          const kinds: Record<string, ColumnKind> = {};
          for (const [field, definition] of Object.entries(schema.toJSON().fields)) {
            kinds[field] = definition.kind;
          }
          const reference = alignColumns(
            await readData(options.reference, cwd),
            kinds,
            "reference",
          );
          return driftReport(reference, alignColumns(current, kinds), {
            ...driftOptions,
            schema,
            features,
            predictions,
            referencePredictions:
              predictions === undefined ? undefined : predictionsOf(artifact, reference, notes),
          });
        }
        const kinds = profileKinds(profile!);
        return driftReport(profile!, alignColumns(current, kinds), {
          ...driftOptions,
          features,
          predictions,
        });
      });
    } else {
      title = `Drift of ${options.current} from ${options.reference}`;
      const reference = await readData(options.reference!, cwd);
      if (options.target !== undefined && !reference.has(options.target)) {
        throw new CommandFailure(
          `--target ${options.target}: ${options.reference} has no such column ` +
            `(it has: ${reference.names.join(", ")})`,
          DRIFT_EXIT_CODES.badData,
          "data_invalid",
        );
      }
      const kinds: Record<string, ColumnKind> = {};
      for (const [name, column] of reference.columns()) kinds[name] = column.kind;
      const current = await readData(options.current, cwd);
      report = await withDataExit(async () =>
        driftReport(reference, alignColumns(current, kinds), {
          ...driftOptions,
          target: options.target,
          features,
        }),
      );
    }
    if (notes.length > 0) report.notes = notes;
    if (options.html !== undefined) {
      const renderer = await loadUi("renderDriftReport");
      const file = resolve(cwd, options.html);
      try {
        await writeFile(file, renderer.renderDriftReport(report, { title }));
      } catch (error) {
        throw new MlopsError(
          "file_write",
          `cannot write the HTML report ${options.html} (${(error as NodeJS.ErrnoException).code ?? error})`,
          { cause: error, location: { file: options.html } },
        );
      }
    }
    return {
      json: report,
      text: formatDriftText(report, style),
      exitCode: report.dataset.drifted ? DRIFT_EXIT_CODES.drift : DRIFT_EXIT_CODES.noDrift,
    };
  },
});

/**
 * The model's predictions on `frame`, or undefined (with a note) when the data is not valid
 * input for it — an unseen category, a value out of range: the features' drift still stands.
 */
function predictionsOf(
  artifact: Parameters<typeof createPredictor>[0],
  frame: Frame,
  notes: string[],
): Float64Array | undefined {
  try {
    return createPredictor(artifact).predict(frame);
  } catch (error) {
    if (!MlopsError.isInstance(error)) throw error;
    const first = error.message.split("\n")[0];
    notes.push(`predictions not compared: the model does not accept this data (${first})`);
    return undefined;
  }
}
