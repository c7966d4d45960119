import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { basename } from "node:path";
import {
  createArtifact,
  defaultRegistryPath,
  type FieldDefinition,
  type Frame,
  getMetric,
  inferSchema,
  MlopsError,
  type ModelArtifact,
  openRegistry,
  profileFrame,
  type Registry,
  readFrame,
  rowHashes,
  Schema,
  summarizeDatasets,
  widenSchema,
  writeFrame,
} from "@mlops/core";
import {
  type CommandIo,
  formatDuration,
  formatNumber,
  formatTable,
  formatValue,
  UsageError,
} from "@mlops/core/internal";
import { OneHotEncoder } from "../preprocessing/one-hot-encoder.js";
import type { Transformer } from "../preprocessing/transformer.js";
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
import {
  buildPipeline,
  createStep,
  defaultSteps,
  displayKey,
  displayParams,
  MODEL_STEP,
  pipelineKey,
  type StepName,
  type StepOrigin,
  type StepSpec,
  stepError,
} from "./steps.js";

/**
 * One row of the leaderboard: a candidate by rank, with its scores from the last round it reached
 * (halving: `round`, 1 for the first, and the rows it was cross-validated on).
 */
export interface LeaderboardRow {
  rank: number;
  /** The row of `cvResults` the scores come from. */
  index: number;
  params: Params;
  mean: number;
  std: number;
  fitTime: number;
  round?: number;
  resources?: number;
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
  /**
   * The preprocessing steps before the model, in order (empty: the bare model); `default` when
   * the model's defaults chose them, with the reason.
   */
  pipeline: { steps: StepSpec[]; default: boolean; reason: string | null };
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
  holdout: {
    rows: number;
    metrics: Record<string, number>;
    /** Metrics that cannot be computed on these rows (r² of one row), and why: left out. */
    notComputed: Record<string, string>;
    /** `--save-holdout`: where the hold-out rows were written. */
    savedTo: string | null;
  } | null;
  /** The datasets logged with the run and kept with the registered version. */
  datasets: {
    name: string;
    context: string;
    rows: number | null;
    digest: string;
    source: string;
  }[];
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

/**
 * The schema draft of data read without one: core's `inferSchema`, with the target required in
 * every row. `changed` says the file must be read again with the draft (a text column drafted as
 * numbers, a target with gaps), so that every bad value is reported with its line and column.
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
  const json = inferSchema(frame, { target }).toJSON();
  const changed = frame.names.some(
    (name) => frame.column(name).kind === "category" && json.fields[name].kind !== "category",
  );
  const targetField = json.fields[target] as FieldDefinition;
  if (targetField.kind === "category") {
    throw new MlopsError(
      "data_invalid",
      `target "${target}" holds text (e.g. ${JSON.stringify(targetField.values?.[0])}); ` +
        "mlops-train fits regression models, so the target must be numeric",
    );
  }
  if (!targetField.nullable) return { schema: Schema.fromJSON(json), changed };
  json.fields[target] = { kind: targetField.kind };
  return { schema: Schema.fromJSON(json), changed: true };
}

/**
 * The one-hot encoder of the category features: train's `OneHotEncoder`, unknown values ignored,
 * each feature's categories those of the schema (declared, or drafted from every row), so that
 * the encoding does not depend on which rows the hold-out took.
 */
function categoryEncoder(schema: Schema, target: string): OneHotEncoder | undefined {
  const categories: Record<string, string[]> = {};
  for (const name of schema.featureNames) {
    const definition = schema.fields[name].definition;
    if (definition.kind !== "category" || name === target) continue;
    const values = definition.values ?? [];
    if (values.length > MAX_CATEGORIES) {
      throw new MlopsError(
        "data_invalid",
        `feature "${name}" has ${values.length} distinct text values; one-hot encoding would ` +
          `add as many columns (at most ${MAX_CATEGORIES}): leave it out with --drop ${name}`,
      );
    }
    categories[name] = [...values];
  }
  const columns = Object.keys(categories);
  if (columns.length === 0) return undefined;
  return new OneHotEncoder({ handleUnknown: "ignore", columns, categories });
}

/** Each metric on the hold-out rows, or why it cannot be computed there (then left out). */
function holdoutMetrics(
  actual: Float64Array,
  predicted: Float64Array,
  names: readonly string[],
): { metrics: Record<string, number>; notComputed: Record<string, string> } {
  const metrics: Record<string, number> = {};
  const notComputed: Record<string, string> = {};
  for (const name of names) {
    let value: number;
    try {
      value = getMetric(name).compute(actual, predicted);
    } catch (error) {
      notComputed[name] = (error as Error).message;
      continue;
    }
    if (Number.isFinite(value)) metrics[name] = value;
    else {
      notComputed[name] =
        actual.length < 2
          ? `cannot be computed on ${actual.length} row (${name} needs at least 2)`
          : `is ${value} on these ${actual.length} rows`;
    }
  }
  return { metrics, notComputed };
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

/**
 * The candidates by rank, the best first. A halving search evaluates a candidate once per round
 * it reaches: each candidate is listed once, with the scores of its last round (later rounds,
 * on more rows, rank first, as scikit-learn ranks them).
 */
function leaderboard(search: BaseSearch, limit: number): { rows: LeaderboardRow[]; total: number } {
  const results = search.cvResults;
  const metric = search.metric.name;
  const ranks = results[`rank_test_${metric}`] as number[];
  const means = results[`mean_test_${metric}`] as number[];
  const stds = results[`std_test_${metric}`] as number[];
  const candidates = results.candidate as number[] | undefined;
  const rounds = results.iter as number[] | undefined;
  let indices = ranks.map((_, index) => index);
  if (candidates !== undefined && rounds !== undefined) {
    const last = new Map<number, number>();
    for (const index of indices) {
      const seen = last.get(candidates[index]);
      if (seen === undefined || rounds[index] > rounds[seen]) last.set(candidates[index], index);
    }
    indices = [...last.values()];
  }
  indices.sort((a, b) => ranks[a] - ranks[b] || a - b);
  const rows = indices.map((index, position): LeaderboardRow => {
    const row: LeaderboardRow = {
      rank: position + 1,
      index,
      params: results.params[index],
      mean: means[index],
      std: stds[index],
      fitTime: results.mean_fit_time[index],
    };
    if (rounds !== undefined) {
      row.round = rounds[index] + 1;
      row.resources = (results.n_resources as number[])[index];
    }
    return row;
  });
  // Ties share the better rank, as in cv_results_.
  for (let i = 1; i < rows.length; i++) {
    if (ranks[rows[i].index] === ranks[rows[i - 1].index]) rows[i].rank = rows[i - 1].rank;
  }
  return { rows: rows.slice(0, limit), total: rows.length };
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
  // Names were checked with the options, before any work.
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
  // The steps before the model: as given (--steps, `pipeline:`), none, or the model's defaults.
  const gaps = features.filter((name) => {
    const column = frame.column(name);
    return column.kind !== "category" && column.values.some(Number.isNaN);
  });
  let stepSpecs: StepSpec[];
  let stepOrigins: StepOrigin[] = options.stepOrigins;
  let stepReason: string | undefined;
  if (options.steps === "none") stepSpecs = [];
  else if (options.steps !== undefined) stepSpecs = options.steps;
  else {
    const defaults = defaultSteps(options.model, gaps);
    stepSpecs = defaults.steps;
    stepReason = defaults.reason;
    stepOrigins = stepSpecs.map(() => ({ where: "default steps" }));
  }
  const stepNames = stepSpecs.map((step) => step.name);
  // A listed one_hot step is where the category features are encoded (its parameters apply).
  const oneHotStep = stepNames.includes("one_hot");
  // Gradient boosting splits category columns itself (unless `params` turns that off).
  const native =
    model.nativeCategories && options.params.categoricalFeatures !== null && !oneHotStep;
  const categories = native
    ? features.filter((name) => frame.column(name).kind === "category")
    : [];
  const digest = await fileDigest(options.data);

  // 2. Holdout: rows the search never sees, to score the final model; registered with it.
  let trainRaw = frame;
  let testRaw: Frame | undefined;
  if (options.holdout > 0) {
    const split = trainTestSplit(frame, { testSize: options.holdout, seed: options.seed });
    trainRaw = split.train;
    testRaw = split.test;
  }
  const schemaEncoder = native ? undefined : categoryEncoder(schema, options.target);
  const encoder = oneHotStep ? undefined : schemaEncoder;
  const trainFrame =
    encoder === undefined ? trainRaw : encoder.fit(trainRaw, options.target).transform(trainRaw);
  const encodedSteps = encoder?.toPreprocessing() ?? [];
  const inputs = trainFrame.names.filter((name) => name !== options.target);
  say(
    `mlops-train: ${source}: ${frame.rowCount} rows, ${features.length} features` +
      (schemaEncoder !== undefined
        ? ` (${Object.keys(schemaEncoder.getParams().categories).join(", ")} one-hot encoded` +
          `${encoder !== undefined ? `: ${inputs.length} inputs` : " by the one_hot step"})`
        : "") +
      (categories.length > 0 ? ` (${categories.join(", ")} split as categories)` : "") +
      `, target ${options.target}; ` +
      `schema ${options.schema ? "given" : "inferred (draft, widened to the model and saved with it)"}\n`,
  );

  if (stepSpecs.length > 0) {
    say(
      `pipeline: ${stepSpecs
        .map(
          (step) =>
            step.name +
            (Object.keys(step.params).length > 0
              ? `(${Object.entries(step.params)
                  .map(([key, value]) => `${key}=${formatValue(value)}`)
                  .join(", ")})`
              : ""),
        )
        .join(" → ")} → ${options.model}` +
        (stepReason === undefined ? "" : ` (added by default: ${stepReason})`) +
        "\n",
    );
  }

  // 3. The estimator (behind its steps) and its search space.
  const bare = model.create();
  const known = Object.keys(bare.getParams());
  const transformers: [StepName, Transformer<object>][] = stepSpecs.map((spec) => [
    spec.name,
    createStep(
      spec,
      spec.name === "one_hot" ? ({ ...schemaEncoder?.getParams() } as Record<string, unknown>) : {},
    ),
  ]);
  const estimator = transformers.length === 0 ? bare : buildPipeline(transformers, bare);
  // Parameters of the config file: the model's by their own names, the steps' as step__param.
  const key = (name: string, where: string) =>
    transformers.length === 0 && !name.includes("__")
      ? name
      : pipelineKey(name, stepNames, `${options.positions[where] ?? ""}${where}`);
  const fixed: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(options.params)) {
    fixed[key(name, `params.${name}`)] = value;
  }
  if (known.includes("seed") && !("seed" in options.params))
    fixed[key("seed", "seed")] = options.seed;
  estimator.setParams(fixed as Partial<object>);
  const chosen = options.space
    ? spaceFromConfig(options.space, options.search === "grid")
    : options.search === "grid"
      ? model.grid
      : model.random;
  const space = Object.fromEntries(
    Object.entries(chosen).map(([name, value]) => [
      options.space
        ? key(name, `space.${name}`)
        : transformers.length === 0
          ? name
          : `${MODEL_STEP}__${name}`,
      value,
    ]),
  ) as typeof chosen;
  // The steps' parameter values are checked now, on the training rows, before any search.
  let checked = trainFrame;
  const checkTarget = trainFrame.numeric(options.target);
  const checkFeatures = trainFrame.drop([options.target]);
  checked = checkFeatures;
  transformers.forEach(([, transformer], i) => {
    try {
      checked = transformer.clone().fit(checked, checkTarget).transform(checked);
    } catch (error) {
      stepError(error, stepSpecs[i], stepOrigins[i] ?? { where: `step ${stepSpecs[i].name}` });
    }
  });

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
    if (testRaw !== undefined) {
      const testFrame = encoder === undefined ? testRaw : encoder.transform(testRaw);
      const names = [...new Set(["rmse", "mae", "r2", metric.name])];
      const scored = holdoutMetrics(
        testFrame.numeric(options.target),
        bestModel.predict(testFrame),
        names,
      );
      holdout = { rows: testRaw.rowCount, ...scored, savedTo: null };
    }
    // 7. The artifact: the estimator's, behind the one-hot steps. The metrics on the hold-out set
    // keep their own names (MLflow's evaluate() naming); the cross-validation score is cv_<metric>.
    const bestIndex = search.bestIndex;
    const artifactMetrics: Record<string, number> = {
      ...holdout?.metrics,
      [`cv_${metric.name}`]: search.bestScore,
      [`cv_${metric.name}_std`]: (search.cvResults[`std_test_${metric.name}`] as number[])[
        bestIndex
      ],
    };
    const runId = search.runId;
    const base = bestModel.toArtifact({
      metrics: artifactMetrics,
      lineage: {
        ...(runId ? { runId } : {}),
        dataDigest: digest,
        trainingData: source,
        ...(testRaw === undefined
          ? {}
          : { evaluationData: { name: "holdout", rows: testRaw.rowCount } }),
      },
    });
    const preprocessing = [...encodedSteps, ...base.manifest.preprocessing];
    const parts = { kind: base.manifest.kind, preprocessing, model: base.manifest.model };
    const artifact: ModelArtifact = createArtifact({
      ...parts,
      // A drafted schema is widened to what the model takes; a given one is the contract as given.
      schema: options.schema === undefined ? widenSchema(schema, parts) : schema,
      arrays: base.arrays,
      params: base.manifest.params,
      metrics: base.manifest.metrics,
      lineage: base.manifest.lineage,
      // The data file's raw columns (what a served request carries) and the model's predictions.
      profile: profileFrame(frame, schema, {
        predict: (rows) => {
          const part = rows.length === frame.rowCount ? frame : frame.take(rows);
          return bestModel.predict(encoder === undefined ? part : encoder.transform(part));
        },
      }),
    });
    final = { holdout, artifact };
    return final;
  };
  // The datasets of the run, logged once: the training rows (where they live, with row
  // fingerprints so the gate can tell when evaluation rows were trained on) and the hold-out rows.
  let logged: TrainReport["datasets"] | undefined;
  const logDatasets = async (): Promise<TrainReport["datasets"]> => {
    if (logged !== undefined) return logged;
    const runId = search.runId;
    if (registry === undefined || runId === undefined) return [];
    const trainingHashes = rowHashes(trainRaw, schema.names);
    // Rows repeated in the data: the share of hold-out rows whose values are also training rows.
    let repeatedShare: number | undefined;
    if (testRaw !== undefined) {
      const seen = new Set(trainingHashes);
      let repeated = 0;
      for (const hash of rowHashes(testRaw, schema.names)) if (seen.has(hash)) repeated++;
      repeatedShare = repeated / testRaw.rowCount;
    }
    await registry.logDataset(runId, {
      name: "training",
      context: "training",
      source: options.data,
      digest,
      rows: trainRaw.rowCount,
      schema,
      rowHashes: trainingHashes,
      repeatedShare,
    });
    if (testRaw !== undefined) {
      await registry.logDataset(runId, {
        name: "holdout",
        context: "evaluation",
        frame: testRaw,
        schema,
      });
    }
    logged = summarizeDatasets(await registry.listDatasets(runId));
    return logged;
  };
  const register = async (): Promise<TrainReport["registered"]> => {
    if (options.register === undefined || registry === undefined) return null;
    const total = search.cvResults.params.length;
    const datasets = await logDatasets();
    const version = await registry.registerModel(options.register, finalModel().artifact, {
      runId: search.runId,
      datasets,
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
      (testRaw ? `; holdout ${testRaw.rowCount} rows\n` : "\n"),
  );
  const searchStart = performance.now();
  try {
    await search.fit(trainFrame, options.target);
  } finally {
    progress?.finish();
  }
  const searchSeconds = (performance.now() - searchStart) / 1000;
  const results = search.cvResults;
  const { rows, total: candidateCount } = leaderboard(search, 10);
  const paramNames = [...new Set(results.params.flatMap((params) => Object.keys(params)))].sort();
  for (const row of rows) row.params = displayParams(row.params) as Params;
  const total = results.params.length;
  const halving = search instanceof SuccessiveHalving;
  say(
    `\n${search.workers > 1 ? `${search.workers} workers` : "in-thread"}` +
      `${search.fastPath ? ", tree fast path (data sorted once)" : ""}, ` +
      `${formatDuration(searchSeconds * 1000)}\n\n` +
      `Leaderboard (top ${rows.length} of ${candidateCount} candidates by mean CV ${metric.name}` +
      `${halving ? ", each from the last round it reached" : ""}):\n`,
  );
  const rounds = halving ? ["round", "rows"] : [];
  say(
    formatTable(
      ["rank", metric.name, "± std", "fit", ...rounds, ...paramNames.map(displayKey)].map(
        (header) => ({
          header,
          align: "right" as const,
        }),
      ),
      rows.map((row) => [
        String(row.rank),
        formatNumber(row.mean),
        formatNumber(row.std),
        formatDuration(row.fitTime * 1000),
        ...(halving ? [String(row.round), String(row.resources)] : []),
        ...paramNames.map((name) => formatValue(row.params[displayKey(name)])),
      ]),
    ),
  );
  const bestIndex = search.bestIndex;
  const best = {
    index: bestIndex,
    params: displayParams(search.bestParams) as Params,
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
  if (holdout !== null && testRaw !== undefined) {
    const shown = [...new Set(["rmse", "mae", "r2", metric.name])].map((name) =>
      name in holdout.metrics
        ? `${name} ${formatNumber(holdout.metrics[name])}`
        : `${name} - (${holdout.notComputed[name]}; left out)`,
    );
    say(
      `\nHoldout (${testRaw.rowCount} row${testRaw.rowCount === 1 ? "" : "s"}, refitted best): ` +
        `${shown.join("  ")}\n`,
    );
    if (options.saveHoldout !== undefined) {
      await writeFrame(options.saveHoldout, testRaw);
      holdout.savedTo = options.saveHoldout;
      say(`Holdout rows written to ${options.saveHoldout}\n`);
    }
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
  // The datasets of the run (with --study, logged by the worker that finished and registered).
  const datasets = study === undefined ? await logDatasets() : (logged ?? []);
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
    pipeline: {
      steps: stepSpecs,
      default: options.steps === undefined && stepSpecs.length > 0,
      reason: stepReason ?? null,
    },
    search: {
      kind: options.search,
      candidates: candidateCount,
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
    datasets,
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
      searchReport(
        trained,
        search,
        options.target,
        testRaw === undefined || encoder === undefined ? testRaw : encoder.transform(testRaw),
      ),
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
