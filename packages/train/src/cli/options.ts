import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { resolveRegistryLocation, validateModelName } from "@mlops/core";
import {
  closestName,
  formatFor,
  locateYamlPath,
  type OptionSpecs,
  type OptionValues,
  REGISTRY_OPTION,
  UsageError,
  validateAlias,
  validateName,
} from "@mlops/core/internal";
import { LineCounter, parseDocument } from "yaml";
import { z } from "zod";
import {
  parseStepsFlag,
  STEP_NAMES,
  type StepOrigin,
  type StepSpec,
  stepNameProblem,
  stepParamProblem,
} from "./steps.js";

/** One problem in a config file, with where it is. */
export interface ConfigIssue {
  path: (string | number)[];
  message: string;
  file?: string;
  line?: number;
  column?: number;
}

export const MODELS = ["tree", "forest", "gbm", "linear", "ridge"] as const;
export const SEARCHES = ["random", "grid", "halving", "tpe"] as const;

export type ModelName = (typeof MODELS)[number];
export type SearchName = (typeof SEARCHES)[number];

/**
 * A distribution of a config file's search space. A value of a `choice` (or of a plain list) may
 * be a distribution itself, drawn only when chosen: a conditional parameter, such as
 * `maxDepth: { choice: [null, { integer: [1, 20] }] }`.
 */
export type DistributionEntry =
  | { integer: [number, number]; log?: boolean }
  | { uniform: [number, number] }
  | { logUniform: [number, number] }
  | { choice: unknown[] };

/** A search-space entry of a config file: a list of values, or a distribution. */
export type SpaceEntry = unknown[] | DistributionEntry;

/** Everything one run of `mlops-train` needs, after flags and config file are merged. */
export interface TrainOptions {
  data: string;
  target: string;
  model: ModelName;
  search: SearchName;
  trials?: number;
  cv: number;
  metric: string;
  register?: string;
  aliases: string[];
  registry?: string;
  experiment?: string;
  holdout: number;
  seed: number;
  schema?: string;
  jobs?: number;
  drop: string[];
  /** Write the schema (given or inferred) here as JSON. */
  saveSchema?: string;
  /** Write the search as a single-file HTML report here (needs @mlops/ui). */
  report?: string;
  /** Write the hold-out rows here (CSV, JSON Lines, Parquet or Arrow, by extension). */
  saveHoldout?: string;
  track: boolean;
  json: boolean;
  /** Fixed estimator parameters (config `params`). */
  params: Record<string, unknown>;
  /** A search space replacing the model's default (config `space`). */
  space?: Record<string, SpaceEntry>;
  /** Share the search with other mlops-train processes through the registry. */
  study?: string;
  /** Seconds without a heartbeat before a trial is run again elsewhere. */
  studyGrace: number;
  /**
   * Preprocessing steps before the model (`--steps`, config `pipeline`); `"none"` opts out of
   * the model's default steps; undefined = the defaults.
   */
  steps?: StepSpec[] | "none";
  /** Where each of `steps` was written, for messages about its parameter values. */
  stepOrigins: StepOrigin[];
  /** `file:line:column: ` of each config `params.KEY` and `space.KEY` (messages). */
  positions: Record<string, string>;
}

/**
 * The options of `mlops-train`. To add one: an entry here (parsing, `--help` and "did you mean"
 * follow), a key in the config file's shape below if it may come from the file too, and its merge
 * in `resolveOptions`.
 */
export const TRAIN_OPTIONS = {
  data: {
    type: "string",
    value: "PATH",
    description: "training data (CSV, JSON Lines, Parquet, Arrow)",
  },
  target: { type: "string", value: "NAME", description: "the column to predict (numeric)" },
  model: {
    type: "string",
    value: "NAME",
    description: `the estimator: ${MODELS.join(", ")} (default tree)`,
  },
  search: {
    type: "string",
    value: "KIND",
    description: `hyperparameter search: ${SEARCHES.join(", ")} (default random)`,
  },
  trials: {
    type: "string",
    value: "N",
    description: "settings to try: random or TPE trials, or halving's first round (default 50)",
  },
  cv: { type: "string", value: "K", description: "cross-validation folds, shuffled (default 5)" },
  metric: {
    type: "string",
    value: "NAME",
    description: "the metric that picks the best model: rmse, mae, r2, … (default rmse)",
  },
  holdout: {
    type: "string",
    value: "FRACTION",
    description: "rows kept out of the search to score the final model (default 0.2; 0 = none)",
  },
  seed: {
    type: "string",
    value: "N",
    description: "seed of the split, folds and draws (default 0)",
  },
  register: { type: "string", value: "NAME", description: "register the best model under NAME" },
  alias: {
    type: "string",
    value: "ALIAS",
    multiple: true,
    list: true,
    description: "point ALIAS at the registered version (with --register)",
  },
  // The registry may also come from the config file (relative to it), so it is this tool's
  // own option, with the shared wording.
  registry: REGISTRY_OPTION,
  experiment: {
    type: "string",
    value: "NAME",
    description: "experiment of the tracked runs (default: the --register name, else Default)",
  },
  schema: {
    type: "string",
    value: "PATH",
    description: "a schema JSON to validate the data with (default: a draft inferred from it)",
  },
  drop: {
    type: "string",
    value: "COLUMN",
    multiple: true,
    list: true,
    description: "leave a column out of the features",
  },
  "save-schema": {
    type: "string",
    value: "PATH",
    description: "write the schema (given or the inferred draft) as JSON, to review and reuse",
  },
  "save-holdout": {
    type: "string",
    value: "PATH",
    description:
      "write the hold-out rows (CSV, JSONL, Parquet or Arrow, by extension); they are also " +
      "registered with the model, and the gate scores on them by default",
  },
  jobs: { type: "string", value: "N", description: "worker threads (default: every core)" },
  study: {
    type: "string",
    value: "NAME",
    description:
      "share the search with every mlops-train started with the same --study and registry " +
      "(a folder: one machine; postgres://: any machines); the best model is registered once",
  },
  "study-grace": {
    type: "string",
    value: "SECONDS",
    description: "with --study: re-run a trial whose worker is silent this long (default 60)",
  },
  report: {
    type: "string",
    value: "FILE",
    description:
      "write the search as one HTML file: leaderboard, params vs score, importances, residuals " +
      "(needs @mlops/ui)",
  },
  steps: {
    type: "string",
    value: "LIST",
    description:
      `preprocessing before the model, in order: ${STEP_NAMES.join(", ")} (comma-separated; ` +
      "parameters as step__param in the config's params and space), or none (default: an " +
      "imputer for linear and ridge on data with gaps, else none)",
  },
  "no-track": { type: "boolean", description: "do not record runs in the registry" },
  config: {
    type: "string",
    value: "PATH",
    description: "read options from a YAML file (command-line options win)",
  },
} as const satisfies OptionSpecs;

const name = z.string().min(1);
const pair = z.tuple([z.number(), z.number()]);
const DISTRIBUTION_HINT =
  "a value, or a distribution ({ integer: [low, high] }, { uniform: [low, high] }, " +
  "{ logUniform: [low, high] }, { choice: [values] })";
/** A value of a choice or list: a plain value, or (an object) a distribution, checked as one. */
const choiceValue: z.ZodType<unknown> = z.lazy(() =>
  z.unknown().superRefine((value, context) => {
    if (value === null || typeof value !== "object" || Array.isArray(value)) return;
    const parsed = distributionEntry.safeParse(value);
    if (!parsed.success) {
      context.addIssue({ code: "custom", message: `expected ${DISTRIBUTION_HINT}` });
    }
  }),
);
const distributionEntry: z.ZodType<DistributionEntry> = z.union([
  z.strictObject({
    integer: z.tuple([z.number().int(), z.number().int()]),
    log: z.boolean().optional(),
  }),
  z.strictObject({ uniform: pair }),
  z.strictObject({ logUniform: pair }),
  z.strictObject({ choice: z.array(choiceValue).min(1) }),
]);
const spaceEntry = z.union([z.array(choiceValue).min(1), distributionEntry]);
/** A pipeline step: `scale`, or `{ poly: { degree: 2 } }` (names checked after parsing). */
const pipelineEntry = z.union([
  z.string(),
  z.record(z.string(), z.union([z.record(z.string(), z.unknown()), z.null()])),
]);

/** The config file's shape (every key optional; the merge checks what is required). */
const configShape = z.strictObject({
  data: name.optional(),
  target: name.optional(),
  model: z.enum(MODELS).optional(),
  search: z.enum(SEARCHES).optional(),
  trials: z.number().int().min(1).optional(),
  cv: z.number().int().min(2).optional(),
  metric: name.optional(),
  holdout: z.number().min(0).max(0.9).optional(),
  seed: z.number().int().min(0).optional(),
  register: name.optional(),
  alias: z.union([name, z.array(name)]).optional(),
  registry: name.optional(),
  experiment: name.optional(),
  schema: name.optional(),
  drop: z.union([name, z.array(name)]).optional(),
  saveSchema: name.optional(),
  saveHoldout: name.optional(),
  jobs: z.number().int().min(1).optional(),
  track: z.boolean().optional(),
  params: z.record(z.string(), z.unknown()).optional(),
  space: z.record(z.string(), spaceEntry).optional(),
  pipeline: z.union([z.literal("none"), z.array(pipelineEntry)]).optional(),
});

type ConfigFile = Omit<z.infer<typeof configShape>, "pipeline"> & {
  pipeline?: StepSpec[] | "none";
  pipelineOrigins?: StepOrigin[];
  /** `file:line:column: ` of each `params.KEY` and `space.KEY`, for messages about them. */
  positions?: Record<string, string>;
};

function formatPath(path: readonly (string | number)[]): string {
  let text = "";
  for (const part of path) {
    if (typeof part === "number") text += `[${part}]`;
    else text += text === "" ? part : `.${part}`;
  }
  return text;
}

/** One config issue as a line: `mlops.train.yaml:4:3: trials: expected …`. */
export function formatConfigIssue(issue: ConfigIssue): string {
  let where = "";
  if (issue.file) {
    where = issue.file;
    if (issue.line !== undefined) {
      where += `:${issue.line}${issue.column !== undefined ? `:${issue.column}` : ""}`;
    }
    where += ": ";
  }
  const path = issue.path.length > 0 ? `${formatPath(issue.path)}: ` : "";
  return `${where}${path}${issue.message}`;
}

function zodMessage(issue: z.core.$ZodIssue, value: unknown): string {
  const got = value === undefined ? "" : `, got ${JSON.stringify(value)}`;
  if (issue.code === "invalid_value") {
    return `expected one of ${issue.values.map((item) => JSON.stringify(item)).join(", ")}${got}`;
  }
  if (issue.code === "invalid_union" && issue.path[0] === "pipeline") {
    return (
      'expected "none" or a list of steps: a name (scale) or a name with its parameters ' +
      "({ poly: { degree: 2 } })"
    );
  }
  if (issue.code === "invalid_union") {
    return (
      "expected a list of values or one of { integer: [low, high] }, { uniform: [low, high] }, " +
      "{ logUniform: [low, high] }, { choice: [...] }"
    );
  }
  if (issue.code === "invalid_type") return `expected ${issue.expected}${got}`;
  return `${issue.message}${got}`;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let node = root;
  for (const part of path) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<PropertyKey, unknown>)[part as string];
  }
  return node;
}

const POSITION = / at line \d+, column \d+:?$/;

/** Reads and validates a YAML config file; paths in it are relative to its folder. */
export async function readConfig(path: string, cwd: string): Promise<ConfigFile & { dir: string }> {
  const file = resolve(cwd, path);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(
      code === "ENOENT"
        ? `config file ${path} not found`
        : `cannot read config file ${path}: ${code}`,
    );
  }
  const lines = new LineCounter();
  const document = parseDocument(text, { lineCounter: lines, prettyErrors: true });
  const fail = (issues: ConfigIssue[]): never => {
    const body = issues.map((issue) => `  - ${formatConfigIssue(issue)}`).join("\n");
    throw new UsageError(
      issues.length === 1
        ? `invalid config: ${formatConfigIssue(issues[0])}`
        : `invalid config (${issues.length} problems):\n${body}`,
      { issues },
    );
  };
  if (document.errors.length > 0) {
    fail(
      document.errors.map((error) => ({
        path: [],
        message: `not valid YAML: ${error.message.split("\n")[0].replace(POSITION, "")}`,
        file: path,
        line: error.linePos?.[0]?.line,
        column: error.linePos?.[0]?.col,
      })),
    );
  }
  const value: unknown = document.toJS();
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    fail([
      {
        path: [],
        message: "expected a mapping of settings (data: wine.csv, target: quality, …)",
        file: path,
        line: 1,
      },
    ]);
  }
  const parsed = configShape.safeParse(value);
  if (!parsed.success) {
    const issues: ConfigIssue[] = [];
    const add = (at: (string | number)[], message: string, where = at) => {
      const position = locateYamlPath(document, lines, where);
      issues.push({
        path: at,
        message,
        file: path,
        ...(position ? { line: position.line, column: position.column } : {}),
      });
    };
    for (const issue of parsed.error.issues) {
      const at = issue.path.filter((part): part is string | number => typeof part !== "symbol");
      if (issue.code === "unrecognized_keys") {
        // One issue per key, located at the key itself.
        const known = at.length === 0 ? Object.keys(configShape.shape) : [];
        for (const key of issue.keys) {
          const hint = closestName(key, known);
          add(
            at,
            `unknown setting "${key}"${hint ? ` (did you mean "${hint}"?)` : ""}` +
              (known.length > 0 ? `; expected one of ${known.join(", ")}` : ""),
            [...at, key],
          );
        }
      } else {
        add(at, zodMessage(issue, valueAt(value, at)));
      }
    }
    issues.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
    fail(issues);
  }
  const { pipeline, ...settings } = parsed.data!;
  const steps = pipeline === undefined ? undefined : configSteps(pipeline, path, document, lines);
  if (steps !== undefined && "issues" in steps) return fail(steps.issues);
  const positions: Record<string, string> = {};
  for (const section of ["params", "space"] as const) {
    for (const key of Object.keys(settings[section] ?? {})) {
      const position = locateYamlPath(document, lines, [section, key]);
      positions[`${section}.${key}`] = position
        ? `${path}:${position.line}:${position.column}: `
        : `${path}: `;
    }
  }
  return {
    ...settings,
    positions,
    ...(steps === undefined ? {} : { pipeline: steps.steps, pipelineOrigins: steps.origins }),
    dir: dirname(file),
  };
}

/**
 * The config file's `pipeline`: each entry a step name, or one name with its parameters; names
 * and parameter names checked (with a did-you-mean), each problem at its line.
 */
function configSteps(
  pipeline: "none" | (string | Record<string, Record<string, unknown> | null>)[],
  file: string,
  document: Parameters<typeof locateYamlPath>[0],
  lines: LineCounter,
): { steps: StepSpec[] | "none"; origins: StepOrigin[] } | { issues: ConfigIssue[] } {
  if (pipeline === "none") return { steps: "none", origins: [] };
  const issues: ConfigIssue[] = [];
  const at = (path: (string | number)[]) => {
    const position = locateYamlPath(document, lines, path);
    return position ? { line: position.line, column: position.column } : {};
  };
  const add = (path: (string | number)[], message: string, where = path) =>
    issues.push({ path, message, file, ...at(where) });
  const steps: StepSpec[] = [];
  const origins: StepOrigin[] = [];
  const seen = new Set<string>();
  pipeline.forEach((entry, i) => {
    let name: string;
    let params: Record<string, unknown> = {};
    if (typeof entry === "string") name = entry;
    else {
      const keys = Object.keys(entry);
      if (keys.length !== 1) {
        add(
          ["pipeline", i],
          `expected one step per entry ({ name: { param: value } }), got ${
            keys.length === 0 ? "none" : keys.join(", ")
          }`,
        );
        return;
      }
      name = keys[0];
      params = entry[name] ?? {};
    }
    const problem = stepNameProblem(name);
    if (problem !== undefined) {
      add(
        ["pipeline", i],
        problem,
        typeof entry === "string" ? ["pipeline", i] : ["pipeline", i, name],
      );
      return;
    }
    if (seen.has(name)) {
      add(["pipeline", i], `step "${name}" is listed twice (each step may appear once)`);
      return;
    }
    seen.add(name);
    for (const param of Object.keys(params)) {
      const paramProblem = stepParamProblem(name as (typeof STEP_NAMES)[number], param);
      if (paramProblem !== undefined) {
        add(["pipeline", i, name], paramProblem, ["pipeline", i, name, param]);
      }
    }
    steps.push({ name: name as (typeof STEP_NAMES)[number], params });
    const position = at(["pipeline", i]);
    origins.push({
      where: `pipeline[${i}]`,
      position:
        position.line === undefined
          ? `${file}: `
          : `${file}:${position.line}${position.column === undefined ? "" : `:${position.column}`}: `,
    });
  });
  return issues.length > 0 ? { issues } : { steps, origins };
}

function integerFlag(value: string, flag: string, min: number): number {
  const number = Number(value);
  if (!(value.trim() !== "" && Number.isInteger(number) && number >= min)) {
    throw new UsageError(
      `option --${flag}: expected an integer ≥ ${min}, got ${JSON.stringify(value)}`,
    );
  }
  return number;
}

function oneOf<T extends string>(value: string, flag: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new UsageError(
      `option --${flag}: expected one of ${allowed.join(", ")}, got ${JSON.stringify(value)}`,
    );
  }
  return value as T;
}

/** Runs a core name check, reporting its problem as a usage error of `flag`. */
function checkName(flag: string, check: () => unknown): void {
  try {
    check();
  } catch (error) {
    throw new UsageError(`${flag}: ${(error as Error).message}`);
  }
}

const list = (value: string | string[] | undefined): string[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** Merges the config file (if any) and the flags (which win) into checked options. */
export async function resolveOptions(
  flags: OptionValues<typeof TRAIN_OPTIONS>,
  json: boolean,
  cwd: string,
): Promise<TrainOptions> {
  const config = typeof flags.config === "string" ? await readConfig(flags.config, cwd) : undefined;
  const fromConfig = (path: string | undefined) =>
    path === undefined ? undefined : resolve(config!.dir, path);
  const text = (key: keyof typeof TRAIN_OPTIONS) => {
    const value = flags[key];
    return typeof value === "string" ? value : undefined;
  };
  const data = text("data") !== undefined ? resolve(cwd, text("data")!) : fromConfig(config?.data);
  const target = text("target") ?? config?.target;
  if (data === undefined) {
    throw new UsageError("missing option --data PATH (or `data:` in the --config file)");
  }
  if (target === undefined) {
    throw new UsageError("missing option --target NAME (or `target:` in the --config file)");
  }
  const model =
    text("model") !== undefined
      ? oneOf(text("model")!, "model", MODELS)
      : (config?.model ?? "tree");
  const search =
    text("search") !== undefined
      ? oneOf(text("search")!, "search", SEARCHES)
      : (config?.search ?? "random");
  const trials =
    text("trials") !== undefined ? integerFlag(text("trials")!, "trials", 1) : config?.trials;
  if (search === "grid" && trials !== undefined) {
    throw new UsageError(
      "--trials does not apply to --search grid (a grid tries every combination); " +
        "use --search random, halving or tpe",
    );
  }
  const cv = text("cv") !== undefined ? integerFlag(text("cv")!, "cv", 2) : (config?.cv ?? 5);
  let holdout = config?.holdout ?? 0.2;
  if (text("holdout") !== undefined) {
    holdout = Number(text("holdout"));
    if (!(text("holdout")!.trim() !== "" && holdout >= 0 && holdout <= 0.9)) {
      throw new UsageError(
        `option --holdout: expected a fraction in [0, 0.9], got ${JSON.stringify(text("holdout"))}`,
      );
    }
  }
  const seed =
    text("seed") !== undefined ? integerFlag(text("seed")!, "seed", 0) : (config?.seed ?? 0);
  const jobs = text("jobs") !== undefined ? integerFlag(text("jobs")!, "jobs", 1) : config?.jobs;
  const register = text("register") ?? config?.register;
  const aliases = flags.alias.length > 0 ? flags.alias : list(config?.alias);
  if (aliases.length > 0 && register === undefined) {
    throw new UsageError("--alias needs --register NAME (the model whose version the alias names)");
  }
  // Names are checked now, before any data is read: a bad one must not cost a whole search.
  if (register !== undefined) checkName("--register", () => validateModelName(register));
  for (const alias of aliases) checkName(`--alias ${alias}`, () => validateAlias(alias));
  const experiment = text("experiment") ?? config?.experiment;
  if (experiment !== undefined) {
    checkName("--experiment", () => validateName("experiment name", experiment));
  }
  const track = flags["no-track"] === true ? false : (config?.track ?? true);
  if (!track && register !== undefined) {
    throw new UsageError("--no-track cannot be combined with --register (the registry keeps both)");
  }
  if (text("registry") === "")
    throw new UsageError("option --registry: expected a folder or a URL");
  const saveHoldout =
    text("save-holdout") !== undefined
      ? resolve(cwd, text("save-holdout")!)
      : fromConfig(config?.saveHoldout);
  if (saveHoldout !== undefined) {
    if (holdout === 0) {
      throw new UsageError("--save-holdout needs a hold-out: --holdout is 0, so there are no rows");
    }
    checkName("--save-holdout", () => formatFor(saveHoldout));
  }
  const registry =
    text("registry") !== undefined
      ? resolveRegistryLocation(text("registry"), {}, cwd)
      : config?.registry === undefined
        ? undefined
        : resolveRegistryLocation(config.registry, {}, config.dir);
  const schema =
    text("schema") !== undefined ? resolve(cwd, text("schema")!) : fromConfig(config?.schema);
  const study = text("study");
  if (study !== undefined && !track) {
    throw new UsageError("--study needs the registry (the workers share it): drop --no-track");
  }
  let studyGrace = 60;
  if (text("study-grace") !== undefined) {
    if (study === undefined) throw new UsageError("--study-grace applies to --study NAME only");
    studyGrace = Number(text("study-grace"));
    if (!(text("study-grace")!.trim() !== "" && studyGrace > 0 && Number.isFinite(studyGrace))) {
      throw new UsageError(
        `option --study-grace: expected a number of seconds > 0, got ${JSON.stringify(
          text("study-grace"),
        )}`,
      );
    }
  }
  let steps = config?.pipeline;
  let stepOrigins = config?.pipelineOrigins ?? [];
  if (text("steps") !== undefined) {
    steps = parseStepsFlag(text("steps")!);
    stepOrigins = steps === "none" ? [] : steps.map(() => ({ where: "--steps" }));
  }
  return {
    data,
    target,
    model,
    search,
    trials,
    cv,
    metric: text("metric") ?? config?.metric ?? "rmse",
    register,
    aliases,
    registry,
    experiment,
    holdout,
    seed,
    schema,
    jobs,
    drop: flags.drop.length > 0 ? flags.drop : list(config?.drop),
    saveSchema:
      text("save-schema") !== undefined
        ? resolve(cwd, text("save-schema")!)
        : fromConfig(config?.saveSchema),
    report: text("report") !== undefined ? resolve(cwd, text("report")!) : undefined,
    saveHoldout,
    track,
    json,
    params: config?.params ?? {},
    space: config?.space as Record<string, SpaceEntry> | undefined,
    ...(study === undefined ? {} : { study }),
    studyGrace,
    ...(steps === undefined ? {} : { steps }),
    stepOrigins,
    positions: config?.positions ?? {},
  };
}
