import { MlopsError } from "@mlops/core";
import { closestName, UsageError } from "@mlops/core/internal";
import type { Estimator } from "../estimator/estimator.js";
import { Pipeline, type PipelineStep } from "../pipeline/pipeline.js";
import { OneHotEncoder } from "../preprocessing/one-hot-encoder.js";
import { PolynomialFeatures } from "../preprocessing/polynomial-features.js";
import { SelectKBest } from "../preprocessing/select-k-best.js";
import { SimpleImputer } from "../preprocessing/simple-imputer.js";
import { StandardScaler } from "../preprocessing/standard-scaler.js";
import type { Transformer } from "../preprocessing/transformer.js";

/** The preprocessing steps `mlops-train` can put before a model, by the name used in flags. */
export const STEP_NAMES = ["impute", "one_hot", "scale", "poly", "select_k_best"] as const;
export type StepName = (typeof STEP_NAMES)[number];

/** The name of the model's step in the pipeline (its parameters: `model__alpha`). */
export const MODEL_STEP = "model";

const STEP_CLASSES: Record<
  StepName,
  new (
    params?: Record<string, unknown>,
  ) => Transformer<object>
> = {
  impute: SimpleImputer as never,
  one_hot: OneHotEncoder as never,
  scale: StandardScaler as never,
  poly: PolynomialFeatures as never,
  select_k_best: SelectKBest as never,
};

/** One step of a CLI pipeline: its name and the parameters set on it. */
export interface StepSpec {
  name: StepName;
  params: Record<string, unknown>;
}

/** Where a step came from, for messages: `--steps` or the config file's `pipeline[i]`. */
export interface StepOrigin {
  /** `pipeline[1]`, or `--steps`. */
  where: string;
  /** `mlops.train.yaml:7:5: `, or "". */
  position?: string;
}

/** The parameter names of a step (what its transformer's `getParams` has). */
export function stepParamNames(name: StepName): string[] {
  return Object.keys(new STEP_CLASSES[name]().getParams());
}

/** A problem with a step name: unknown (with a did-you-mean), or `none` mixed with steps. */
export function stepNameProblem(name: string): string | undefined {
  if ((STEP_NAMES as readonly string[]).includes(name)) return undefined;
  const hint = closestName(name, STEP_NAMES);
  return (
    `unknown step "${name}"${hint ? ` (did you mean "${hint}"?)` : ""}; ` +
    `expected one of ${STEP_NAMES.join(", ")}`
  );
}

/** A problem with a step's parameter name, with a did-you-mean among the step's parameters. */
export function stepParamProblem(step: StepName, param: string): string | undefined {
  const known = stepParamNames(step);
  if (known.includes(param)) return undefined;
  const hint = closestName(param, known);
  return (
    `${step} has no parameter "${param}"${hint ? ` (did you mean "${hint}"?)` : ""}; ` +
    `its parameters: ${known.join(", ")}`
  );
}

/**
 * `--steps impute,scale,poly` (or `none`): the steps in order, each with its defaults. A name
 * may appear once.
 */
export function parseStepsFlag(value: string): StepSpec[] | "none" {
  const names = value
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
  if (names.length === 1 && names[0] === "none") return "none";
  if (names.length === 0) {
    throw new UsageError(
      `option --steps: expected step names separated by commas (${STEP_NAMES.join(", ")}) ` +
        'or "none"',
    );
  }
  const seen = new Set<string>();
  return names.map((name) => {
    if (name === "none") {
      throw new UsageError('option --steps: "none" cannot be combined with steps');
    }
    const problem = stepNameProblem(name);
    if (problem) throw new UsageError(`option --steps: ${problem}`);
    if (seen.has(name)) throw new UsageError(`option --steps: step "${name}" is listed twice`);
    seen.add(name);
    return { name: name as StepName, params: {} };
  });
}

/** Why a model gets the default steps it gets, said in the output. */
export interface DefaultSteps {
  steps: StepSpec[];
  reason?: string;
}

/**
 * The steps a model gets when neither `--steps` nor `pipeline:` says: a linear model (`linear`,
 * `ridge`) cannot fit rows with a missing value, so data with gaps gets a mean imputer before
 * it (scikit-learn's `SimpleImputer` default); trees, forests and gradient boosting take missing
 * values natively and get none.
 */
export function defaultSteps(model: string, gaps: readonly string[]): DefaultSteps {
  if ((model === "linear" || model === "ridge") && gaps.length > 0) {
    return {
      steps: [{ name: "impute", params: {} }],
      reason:
        `${gaps.join(", ")} ${gaps.length === 1 ? "has" : "have"} missing values, which ` +
        `${model} cannot fit: imputed with the mean; --steps none to opt out`,
    };
  }
  return { steps: [] };
}

/** The transformer of one step, its parameters set (names were checked with the options). */
export function createStep(
  spec: StepSpec,
  extra: Record<string, unknown> = {},
): Transformer<object> {
  return new STEP_CLASSES[spec.name]({ ...extra, ...spec.params });
}

/** The pipeline of the steps and the model, the model's step named `model`. */
export function buildPipeline(
  steps: readonly (readonly [StepName, Transformer<object>])[],
  estimator: Estimator<object>,
): Pipeline {
  const chain: PipelineStep[] = [...steps, [MODEL_STEP, estimator] as const];
  return new Pipeline(chain);
}

/**
 * A config key (`params` or `space`) as the pipeline names it: `poly__degree` stays (its step
 * must be in the pipeline and have the parameter), a model parameter (`alpha`) becomes
 * `model__alpha`.
 */
export function pipelineKey(key: string, steps: readonly StepName[], where: string): string {
  const split = key.indexOf("__");
  if (split < 0) return `${MODEL_STEP}__${key}`;
  const step = key.slice(0, split);
  const param = key.slice(split + 2);
  if (step === MODEL_STEP && steps.length > 0) return key;
  if (!steps.includes(step as StepName)) {
    const known = stepNameProblem(step);
    if (known !== undefined) throw new UsageError(`${where}: ${known}`);
    throw new UsageError(
      `${where}: the pipeline has no "${step}" step (steps: ${
        steps.length > 0 ? steps.join(", ") : "none"
      }); add it with --steps or \`pipeline:\``,
    );
  }
  const problem = stepParamProblem(step as StepName, param);
  if (problem !== undefined) throw new UsageError(`${where}: ${problem}`);
  return key;
}

/** A pipeline parameter name as the user wrote it: `model__alpha` is `alpha`. */
export function displayKey(key: string): string {
  return key.startsWith(`${MODEL_STEP}__`) ? key.slice(MODEL_STEP.length + 2) : key;
}

/** Parameters with `model__` taken off their names, as `params` and `space` take them. */
export function displayParams(params: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(params).map(([key, value]) => [displayKey(key), value]));
}

/** A transformer's error at fit, said with the step it belongs to. */
export function stepError(error: unknown, spec: StepSpec, origin: StepOrigin): never {
  if (MlopsError.isInstance(error) && error.code === "argument_invalid") {
    throw new UsageError(
      `${origin.position ?? ""}${origin.where} (${spec.name}): ${error.message}`,
    );
  }
  throw error;
}
