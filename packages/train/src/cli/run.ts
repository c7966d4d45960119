import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { basename } from "node:path";
import {
  type Column,
  computeMetrics,
  createArtifact,
  defaultRegistryPath,
  type FieldDefinition,
  Frame,
  getMetric,
  inferSchema,
  MlopsError,
  type ModelArtifact,
  type OneHotStep,
  openRegistry,
  parseModelUri,
  profileFrame,
  type Registry,
  readFrame,
  Schema,
  type SchemaJSON,
} from "@mlops/core";
import {
  type CommandIo,
  formatDuration,
  formatNumber,
  formatTable,
  formatValue,
  parseNumberText,
  UsageError,
} from "@mlops/core/internal";
import { SuccessiveHalving } from "../search/halving.js";
import { type BaseSearch, GridSearch, RandomSearch, type SearchOptions } from "../search/search.js";
import type { Params } from "../search/session.js";
import { TPESearch } from "../search/tpe.js";
import { KFold } from "../selection/folds.js";
import { trainTestSplit } from "../selection/split.js";
import { Progress } from "./format.js";
import { loadModel, spaceFromConfig } from "./models.js";
import type { TrainOptions } from "./options.js";
import { loadReportRenderer, searchReport, writeSearchReport } from "./report.js";

/** One row of the leaderboard: a candidate by rank. */
export interface LeaderboardRow {
  rank: number;
  index: number;
  params: Params;
  mean: number;
  std: number;
  fitTime: number;
}

/** What `mlops-train --json` prints: everything the text output shows, as data. */
export interface TrainReport {
  data: {
    path: string;
    rows: number;
    digest: string;
    features: string[];
    inputs: string[];
    schema: "inferred" | "given";
  };
  model: string;
  estimator: string;
  search: {
    kind: string;
    candidates: number;
    cv: number;
    metric: string;
    greaterIsBetter: boolean;
    workers: number;
    fastPath: boolean;
    seconds: number;
    trainRows: number;
  };
  best: { index: number; params: Params; cvScore: number; cvStd: number };
  leaderboard: LeaderboardRow[];
  holdout: { rows: number; metrics: Record<string, number> } | null;
  run: { id: string; experiment: string } | null;
  registered: {
    name: string;
    version: number;
    uri: string;
    aliases: string[];
    aliasUris: string[];
    digest: string;
  } | null;
  /** With `--study`: this process's share of the distributed search. */
  study?: {
    name: string;
    worker: string;
    trialsRun: number;
    takenOver: number;
    /** Whether this process finished the study (registered the model). */
    finished: boolean;
  };
}

/** Most distinct text values a feature may have to be one-hot encoded. */
const MAX_CATEGORIES = 64;

async function fileDigest(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return `sha256:${hash.digest("hex")}`;
}

/** Share of a category column's present rows whose text reads as a number. */
function numericShare(column: Extract<Column, { kind: "category" }>): number {
  const numeric = column.dictionary.map((value) => Number.isFinite(parseNumberText(value)));
  let present = 0;
  let hits = 0;
  for (const code of column.codes) {
    if (code < 0) continue;
    present++;
    if (numeric[code]) hits++;
  }
  return present === 0 ? 0 : hits / present;
}

/**
 * The schema draft of data read without one: core's `inferSchema`, except that a text column
 * whose values are nearly all numbers is a number column with a few bad values, and the target
 * must be present in every row. `changed` says the file must be read again with the draft, so
 * that bad values are reported with their line and column.
 */
function draftSchema(
  frame: Frame,
  target: string,
  source: string,
): { schema: Schema; changed: boolean } {
  if (!frame.has(target)) {
    throw new MlopsError(
      "data_invalid",
      `target "${target}" is not a column of ${source} (columns: ${frame.names.join(", ")})`,
    );
  }
  const json: SchemaJSON = inferSchema(frame, { target }).toJSON();
  let changed = false;
  for (const name of frame.names) {
    const column = frame.column(name);
    const field = json.fields[name] as FieldDefinition;
    if (column.kind === "category" && numericShare(column) >= 0.9) {
      json.fields[name] = { kind: "number", ...(field.nullable ? { nullable: true } : {}) };
      changed = true;
    }
  }
  const targetField = json.fields[target] as FieldDefinition;
  if (targetField.kind === "category") {
    throw new MlopsError(
      "data_invalid",
      `target "${target}" holds text (e.g. ${JSON.stringify(targetField.values?.[0])}); ` +
        "mlops-train fits regression models, so the target must be numeric",
    );
  }
  if (targetField.nullable) {
    json.fields[target] = { kind: targetField.kind };
    changed = true;
  }
  return { schema: Schema.fromJSON(json), changed };
}

/** Replaces each category feature by one 0/1 column per value (core's `one_hot` step). */
function oneHotEncode(
  frame: Frame,
  schema: Schema,
  target: string,
): { frame: Frame; steps: OneHotStep[] } {
  const entries: [string, Column][] = [];
  const steps: OneHotStep[] = [];
  const taken = new Set(frame.names);
  for (const [name, column] of frame.columns()) {
    if (column.kind !== "category" || name === target) {
      entries.push([name, column]);
      continue;
    }
    const declared = (schema.fields[name]?.definition as FieldDefinition | undefined)?.values;
    const categories = declared ? [...declared] : [...column.dictionary].sort();
    if (categories.length > MAX_CATEGORIES) {
      throw new MlopsError(
        "data_invalid",
        `feature "${name}" has ${categories.length} distinct text values; one-hot encoding would ` +
          `add as many columns (at most ${MAX_CATEGORIES}): leave it out with --drop ${name}`,
      );
    }
    const outputs = categories.map((value) => {
      let output = `${name}_${value}`;
      while (taken.has(output)) output = `_${output}`;
      taken.add(output);
      return output;
    });
    const slot = column.dictionary.map((value) => categories.indexOf(value));
    const values = categories.map(() => new Float64Array(frame.rowCount));
    column.codes.forEach((code, row) => {
      const at = code < 0 ? -1 : slot[code];
      if (at >= 0) values[at][row] = 1;
    });
    categories.forEach((_, j) => {
      entries.push([outputs[j], { kind: "integer", values: values[j] }]);
    });
    steps.push({ kind: "one_hot", column: name, categories, handleUnknown: "ignore", outputs });
  }
  return { frame: new Frame(entries, frame.rowCount), steps };
}

async function readSchemaFile(path: string): Promise<Schema> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new UsageError(`cannot read --schema ${path}: ${(error as NodeJS.ErrnoException).code}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--schema ${path} is not valid JSON: ${(error as Error).message}`);
  }
  try {
    return Schema.fromJSON(json);
  } catch (error) {
    throw new UsageError(`--schema ${path}: ${(error as Error).message}`);
  }
}

/** Indices of `cvResults` by rank (then position), the best first. */
function leaderboard(search: BaseSearch, limit: number): LeaderboardRow[] {
  const results = search.cvResults;
  const metric = search.metric.name;
  const ranks = results[`rank_test_${metric}`] as number[];
  const means = results[`mean_test_${metric}`] as number[];
  const stds = results[`std_test_${metric}`] as number[];
  return ranks
    .map((rank, index) => ({ rank, index }))
    .sort((a, b) => a.rank - b.rank || a.index - b.index)
    .slice(0, limit)
    .map(({ rank, index }) => ({
      rank,
      index,
      params: results.params[index],
      mean: means[index],
      std: stds[index],
      fitTime: results.mean_fit_time[index],
    }));
}

/**
 * One run of `mlops-train`: reads and checks the data, encodes category features, keeps a
 * holdout, searches hyperparameters with cross-validation (tracked in the registry), scores the
 * refitted best model on the holdout and registers it. Text goes to `say`, progress to stderr.
 */
export async function train(
  options: TrainOptions,
  io: CommandIo,
  say: (text: string) => void,
): Promise<TrainReport> {
  const opened: Registry[] = [];
  try {
    return await trainWith(options, io, say, opened);
  } finally {
    // A PostgreSQL registry holds a connection pool that would keep the process alive.
    await Promise.all(opened.map((registry) => registry.close()));
  }
}

async function trainWith(
  options: TrainOptions,
  io: CommandIo,
  say: (text: string) => void,
  opened: Registry[],
): Promise<TrainReport> {
  const started = performance.now();
  // Names are checked before the search, not after it.
  for (const alias of options.aliases) {
    let kind: string;
    try {
      kind = parseModelUri(`models:/${options.register}@${alias}`).kind;
    } catch (error) {
      throw new UsageError(`--alias ${alias}: ${(error as Error).message}`);
    }
    if (kind !== "alias") {
      throw new UsageError(`--alias ${alias}: "latest" is reserved (the highest version)`);
    }
  }
  const model = await loadModel(options.model);
  const metric = getMetric(options.metric);
  const ui = options.report === undefined ? undefined : await loadReportRenderer();
  const source = basename(options.data);

  // 1. Data and schema: given, or a draft inferred from the data and saved in the artifact.
  let schema: Schema;
  let frame: Frame;
  if (options.schema !== undefined) {
    schema = await readSchemaFile(options.schema);
    if (schema.target !== undefined && schema.target !== options.target) {
      throw new UsageError(
        `--schema names target "${schema.target}" but --target is "${options.target}"`,
      );
    }
    frame = await readFrame(options.data, { schema });
  } else {
    const raw = await readFrame(options.data);
    const draft = draftSchema(raw, options.target, source);
    schema = draft.schema;
    frame = draft.changed ? await readFrame(options.data, { schema }) : raw;
  }
  for (const name of options.drop) {
    if (!frame.has(name)) throw new UsageError(`--drop ${name}: ${source} has no column "${name}"`);
    if (name === options.target) throw new UsageError(`--drop ${name}: that is the target`);
  }
  if (options.drop.length > 0) {
    frame = frame.drop(options.drop);
    const json = schema.toJSON();
    for (const name of options.drop) delete json.fields[name];
    // Rows that still carry the dropped columns are accepted when served.
    json.unknownKeys = "strip";
    schema = Schema.fromJSON(json);
  }
  if (!frame.has(options.target)) {
    throw new MlopsError(
      "data_invalid",
      `target "${options.target}" is not a column of ${source} ` +
        `(columns: ${frame.names.join(", ")})`,
    );
  }
  if (schema.target === undefined)
    schema = Schema.fromJSON({ ...schema.toJSON(), target: options.target });
  if (options.saveSchema !== undefined) {
    await writeFile(options.saveSchema, `${JSON.stringify(schema.toJSON(), null, 2)}\n`);
  }
  const features = frame.names.filter((name) => name !== options.target);
  // Gradient boosting splits category columns itself (unless `params` turns that off).
  const native = model.nativeCategories && options.params.categoricalFeatures !== null;
  const encoded = native
    ? { frame, steps: [] as OneHotStep[] }
    : oneHotEncode(frame, schema, options.target);
  const inputs = encoded.frame.names.filter((name) => name !== options.target);
  const categories = native
    ? features.filter((name) => frame.column(name).kind === "category")
    : [];
  const digest = await fileDigest(options.data);
  say(
    `mlops-train: ${source}: ${frame.rowCount} rows, ${features.length} features` +
      (encoded.steps.length > 0
        ? ` (${encoded.steps.map((step) => step.column).join(", ")} one-hot encoded: ` +
          `${inputs.length} inputs)`
        : "") +
      (categories.length > 0 ? ` (${categories.join(", ")} split as categories)` : "") +
      `, target ${options.target}; ` +
      `schema ${options.schema ? "given" : "inferred (draft, saved with the model)"}\n`,
  );

  // 2. Holdout: rows the search never sees, to score the final model.
  let trainFrame = encoded.frame;
  let testFrame: Frame | undefined;
  if (options.holdout > 0) {
    const split = trainTestSplit(encoded.frame, { testSize: options.holdout, seed: options.seed });
    trainFrame = split.train;
    testFrame = split.test;
  }

  // 3. The estimator and its search space.
  const estimator = model.create();
  const known = Object.keys(estimator.getParams());
  estimator.setParams(options.params as Partial<object>);
  if (known.includes("seed") && !("seed" in options.params)) {
    estimator.setParams({ seed: options.seed } as Partial<object>);
  }
  const space = options.space
    ? spaceFromConfig(options.space, options.search === "grid")
    : options.search === "grid"
      ? model.grid
      : model.random;

  // 4. Tracking.
  let registry: Registry | undefined;
  if (options.track) {
    registry = await openRegistry(options.registry ?? defaultRegistryPath(io.env, io.cwd));
    opened.push(registry);
  }
  const experiment = options.experiment ?? options.register;

  // The refitted best model, scored on the holdout and made an artifact (once).
  let final: { holdout: TrainReport["holdout"]; artifact: ModelArtifact } | undefined;
  const finalModel = () => {
    if (final !== undefined) return final;
    const bestModel = search.bestEstimator;
    let holdout: TrainReport["holdout"] = null;
    if (testFrame !== undefined) {
      const names = [...new Set(["rmse", "mae", "r2", metric.name])];
      const metrics = computeMetrics(
        testFrame.numeric(options.target),
        bestModel.predict(testFrame),
        names,
      );
      holdout = { rows: testFrame.rowCount, metrics };
    }
    // 7. The artifact: the estimator's, behind the one-hot steps, with the data's schema.
    const bestIndex = search.bestIndex;
    const artifactMetrics: Record<string, number> = {
      [`cv_${metric.name}`]: search.bestScore,
      [`cv_${metric.name}_std`]: (search.cvResults[`std_test_${metric.name}`] as number[])[
        bestIndex
      ],
    };
    for (const [name, value] of Object.entries(holdout?.metrics ?? {})) {
      artifactMetrics[`holdout_${name}`] = value;
    }
    const runId = search.runId;
    const base = bestModel.toArtifact({
      metrics: artifactMetrics,
      lineage: { ...(runId ? { runId } : {}), dataDigest: digest, trainingData: source },
    });
    const artifact: ModelArtifact = createArtifact({
      kind: base.manifest.kind,
      schema,
      preprocessing: [...encoded.steps, ...base.manifest.preprocessing],
      model: base.manifest.model,
      arrays: base.arrays,
      params: base.manifest.params,
      metrics: base.manifest.metrics,
      lineage: base.manifest.lineage,
      // The data file's raw columns (what a served request carries) and the model's predictions.
      profile: profileFrame(frame, schema, { predictions: bestModel.predict(encoded.frame) }),
    });
    final = { holdout, artifact };
    return final;
  };
  const register = async (): Promise<TrainReport["registered"]> => {
    if (options.register === undefined || registry === undefined) return null;
    const total = search.cvResults.params.length;
    const version = await registry.registerModel(options.register, finalModel().artifact, {
      runId: search.runId,
      aliases: options.aliases,
      reason:
        `mlops-train: best of ${total} ${options.search} trials, ` +
        `cv ${metric.name} ${formatNumber(search.bestScore)}` +
        (options.study === undefined ? "" : ` (study ${options.study})`),
    });
    return {
      name: version.name,
      version: version.version,
      uri: `models:/${version.name}/${version.version}`,
      aliases: options.aliases,
      aliasUris: options.aliases.map((alias) => `models:/${version.name}@${alias}`),
      digest: version.digest,
    };
  };

  // 5. Search.
  const progress =
    options.json && io.stderr.isTTY !== true ? undefined : new Progress(io.stderr, io.env);
  const common: SearchOptions = {
    estimator,
    cv: new KFold({ nSplits: options.cv, shuffle: true, seed: options.seed }),
    scoring: metric.name,
    nJobs: options.jobs,
    registry,
    experiment,
    runName: `mlops-train ${options.model} ${options.search}`,
    ...(options.study === undefined
      ? {}
      : {
          study: {
            name: options.study,
            graceMs: options.studyGrace * 1000,
            // The study's one finisher registers the model; the others read what it registered.
            onFinish: async () => ({ registered: await register() }),
            ...studyTestSeam(io.env, io.stderr),
          },
        }),
    onProgress: (event) =>
      progress?.update(
        event.done,
        event.total,
        event.bestScore === undefined
          ? ""
          : `best ${event.metric} ${formatNumber(event.bestScore)}`,
        event.elapsedMs,
      ),
  };
  const trials = options.trials ?? 50;
  const search: BaseSearch =
    options.search === "grid"
      ? new GridSearch({ ...common, paramGrid: space as Record<string, readonly unknown[]> })
      : options.search === "halving"
        ? new SuccessiveHalving({
            ...common,
            paramDistributions: space,
            nCandidates: trials,
            seed: options.seed,
          })
        : options.search === "tpe"
          ? // One trial at a time (its folds in parallel): the sequential algorithm, whose trials
            // do not depend on the number of workers.
            new TPESearch({
              ...common,
              paramDistributions: space,
              nIter: trials,
              seed: options.seed,
            })
          : new RandomSearch({
              ...common,
              paramDistributions: space,
              nIter: trials,
              seed: options.seed,
            });
  const candidates =
    search instanceof SuccessiveHalving || search instanceof TPESearch
      ? trials
      : (search as GridSearch).candidates.length;
  say(
    `search: ${options.search}, ${candidates} candidate${candidates === 1 ? "" : "s"} × ` +
      `${options.cv}-fold CV on ${trainFrame.rowCount} rows, best by ${metric.name} ` +
      `(${metric.greaterIsBetter ? "higher" : "lower"} is better)` +
      (testFrame ? `; holdout ${testFrame.rowCount} rows\n` : "\n"),
  );
  const searchStart = performance.now();
  try {
    await search.fit(trainFrame, options.target);
  } finally {
    progress?.finish();
  }
  const searchSeconds = (performance.now() - searchStart) / 1000;
  const results = search.cvResults;
  const total = results.params.length;
  const rows = leaderboard(search, 10);
  const paramNames = [...new Set(results.params.flatMap((params) => Object.keys(params)))].sort();
  say(
    `\n${search.workers > 1 ? `${search.workers} workers` : "in-thread"}` +
      `${search.fastPath ? ", tree fast path (data sorted once)" : ""}, ` +
      `${formatDuration(searchSeconds * 1000)}\n\n` +
      `Leaderboard (top ${rows.length} of ${total} by mean CV ${metric.name}):\n`,
  );
  say(
    formatTable(
      ["rank", metric.name, "± std", "fit", ...paramNames].map((header) => ({
        header,
        align: "right" as const,
      })),
      rows.map((row) => [
        String(row.rank),
        formatNumber(row.mean),
        formatNumber(row.std),
        formatDuration(row.fitTime * 1000),
        ...paramNames.map((name) => formatValue(row.params[name])),
      ]),
    ),
  );
  const bestIndex = search.bestIndex;
  const best = {
    index: bestIndex,
    params: search.bestParams,
    cvScore: search.bestScore,
    cvStd: (results[`std_test_${metric.name}`] as number[])[bestIndex],
  };
  say(
    `\nBest: ${Object.entries(best.params)
      .map(([name, value]) => `${name}=${formatValue(value)}`)
      .join(
        " ",
      )} (CV ${metric.name} ${formatNumber(best.cvScore)} ± ${formatNumber(best.cvStd)})\n`,
  );

  // 6. Holdout metrics of the model refitted on every search row.
  const { holdout } = finalModel();
  if (holdout !== null) {
    say(
      `\nHoldout (${holdout.rows} rows, refitted best): ` +
        `${Object.entries(holdout.metrics)
          .map(([name, value]) => `${name} ${formatNumber(value)}`)
          .join("  ")}\n`,
    );
  }
  const runId = search.runId;
  let run: TrainReport["run"] = null;
  if (registry !== undefined && runId !== undefined) {
    const parent = await registry.store.getRun(runId);
    const name = (await registry.store.getExperiment(parent.experimentId)).name;
    run = { id: runId, experiment: name };
    say(`\nTracked: run ${runId} (experiment ${name}), ${total} nested trial runs\n`);
  }
  const study = search.study;
  if (study !== undefined) {
    say(
      `Study ${study.name}: this worker (${study.worker}) ran ${study.trialsRun} of ${total} ` +
        `trials${study.takenOver > 0 ? `, ${study.takenOver} taken over from a stopped worker` : ""}` +
        `; ${study.finished ? "it finished the study" : `finished by ${study.study.finishedBy}`}\n`,
    );
  }

  // 8. Registration (with --study, done once by the worker that finished the study).
  const registered =
    study === undefined
      ? await register()
      : ((study.study.result?.registered as TrainReport["registered"] | undefined) ?? null);
  if (registered !== null) {
    say(
      `Registered ${registered.name} version ${registered.version}: ${registered.uri}` +
        registered.aliasUris.map((aliasUri) => `, ${aliasUri}`).join("") +
        "\n",
    );
  }
  const trained: TrainReport = {
    data: {
      path: options.data,
      rows: frame.rowCount,
      digest,
      features,
      inputs,
      schema: options.schema ? "given" : "inferred",
    },
    model: options.model,
    estimator: model.className,
    search: {
      kind: options.search,
      candidates: total,
      cv: options.cv,
      metric: metric.name,
      greaterIsBetter: metric.greaterIsBetter,
      workers: search.workers,
      fastPath: search.fastPath,
      seconds: searchSeconds,
      trainRows: trainFrame.rowCount,
    },
    best,
    leaderboard: rows,
    holdout,
    run,
    registered,
    ...(study === undefined
      ? {}
      : {
          study: {
            name: study.name,
            worker: study.worker,
            trialsRun: study.trialsRun,
            takenOver: study.takenOver,
            finished: study.finished,
          },
        }),
  };
  if (ui !== undefined && options.report !== undefined) {
    await writeSearchReport(
      ui,
      options.report,
      searchReport(trained, search, options.target, testFrame),
    );
    say(`Report: ${options.report}\n`);
  }
  say(`Done in ${formatDuration(performance.now() - started)}.\n`);
  return trained;
}

/**
 * Test seam of the distributed-search tests: with `MLOPS_TEST_STUDY_STOP_AFTER_CLAIMS=N`, the
 * worker says so on stderr after its Nth claim and stops there (without beating), as a worker
 * whose machine froze would, until the test kills it.
 */
function studyTestSeam(
  env: Record<string, string | undefined>,
  stderr: { write(text: string): unknown },
): { afterClaim?: (claim: { number: number }, count: number) => Promise<void> } {
  const stopAfter = Number(env.MLOPS_TEST_STUDY_STOP_AFTER_CLAIMS);
  if (!(Number.isInteger(stopAfter) && stopAfter > 0)) return {};
  return {
    afterClaim: async (claim, count) => {
      if (count < stopAfter) return;
      stderr.write(`study test seam: stopped holding trial ${claim.number}\n`);
      // Kept alive (a pending promise alone would let Node exit) until the test kills it.
      setInterval(() => {}, 60_000);
      await new Promise(() => {});
    },
  };
}
