import {
  createArtifact,
  type Frame,
  Frame as FrameClass,
  inferSchema,
  MlopsError,
  type ModelArtifact,
  type PreprocessingStep,
  profileFrame,
  type Schema,
  type TrainingProfile,
  widenSchema,
} from "@mlops/core";
import { NotFittedError } from "../estimator/errors.js";
import { type ArtifactModel, Estimator, type ToArtifactOptions } from "../estimator/estimator.js";
import { resolveTarget } from "../estimator/target.js";
import { checkSampleWeight, type FitOptions, isFrame } from "../estimator/training.js";
import { Transformer } from "../preprocessing/transformer.js";

/**
 * One named step of a `Pipeline`: a preprocessing transformer, or (last) an estimator.
 *
 * @example
 * const step: PipelineStep = ["scaler", new StandardScaler()];
 */
export type PipelineStep = readonly [name: string, step: Transformer<object> | Estimator<object>];

interface FittedPipeline {
  featureNames: readonly string[];
  schema: Schema;
  rowCount: number;
  profile: TrainingProfile | undefined;
}

const STEP_NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;

function isTransformer(value: unknown): value is Transformer<object> {
  return value instanceof Transformer;
}

function checkSteps(
  steps: readonly PipelineStep[],
): [string, Transformer<object> | Estimator<object>][] {
  if (!Array.isArray(steps) || steps.length === 0) {
    throw new MlopsError(
      "argument_invalid",
      "Pipeline: expected a non-empty list of [name, step] pairs, the last step an estimator",
    );
  }
  const names = new Set<string>();
  return steps.map((entry, i) => {
    if (!Array.isArray(entry) || entry.length !== 2) {
      throw new MlopsError(
        "argument_invalid",
        `Pipeline: steps[${i}]: expected a [name, step] pair`,
      );
    }
    const [name, step] = entry;
    if (typeof name !== "string" || !STEP_NAME.test(name) || name.includes("__")) {
      throw new MlopsError(
        "argument_invalid",
        `Pipeline: steps[${i}]: the name ${JSON.stringify(name)} must be letters, digits, _ or - ` +
          'without "__" (it prefixes the step\'s parameters: name__param)',
      );
    }
    if (names.has(name)) {
      throw new MlopsError(
        "argument_invalid",
        `Pipeline: steps[${i}]: the name "${name}" is used twice`,
      );
    }
    names.add(name);
    const last = i === steps.length - 1;
    if (last && !(step instanceof Estimator)) {
      throw new MlopsError(
        "argument_invalid",
        `Pipeline: the last step "${name}" must be an estimator (it makes the predictions)`,
      );
    }
    if (!last && !isTransformer(step)) {
      throw new MlopsError(
        "argument_invalid",
        `Pipeline: step "${name}" must be a transformer (StandardScaler, OneHotEncoder, …); ` +
          "only the last step is an estimator",
      );
    }
    return [name, step];
  });
}

/** Parameters as plain JSON (non-finite numbers become strings), as estimators store them. */
function jsonParams(params: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(params)) {
    out[key] = typeof value === "number" && !Number.isFinite(value) ? String(value) : value;
  }
  return out;
}

/**
 * Chains preprocessing transformers and a final estimator (scikit-learn's `Pipeline`). `fit`
 * fits each transformer on the output of the ones before it, then the estimator; `predict`
 * runs new rows through the same steps. Parameters are reached as `step__param`
 * (`ridge__alpha`, `poly__degree`) by `getParams` / `setParams`, so a search tunes the whole
 * chain; `setParams({ ridge: new Lasso() })`-style replacement of a whole step works too.
 *
 * Unlike a bare estimator, a pipeline takes category columns and missing values when its
 * transformers deal with them (OneHotEncoder, SimpleImputer). `toArtifact()` exports ONE
 * artifact: the schema of the raw input columns, every transformer's state as core
 * preprocessing steps, then the estimator's model (tree, ensemble or linear) reading the
 * preprocessed columns, so a served model never needs the training code and predicts exactly
 * what `predict` does. `sampleWeight` goes to the final estimator only (scikit-learn routes
 * weights to a step only when asked).
 *
 * @example
 * const pipeline = new Pipeline([
 *   ["scaler", new StandardScaler()],
 *   ["poly", new PolynomialFeatures({ degree: 2 })],
 *   ["select", new SelectKBest({ k: 10 })],
 *   ["ridge", new Ridge()],
 * ]);
 * pipeline.setParams({ ridge__alpha: 10, poly__degree: 3 }).fit(frame, "price");
 * const artifact = pipeline.toArtifact(); // preprocessing steps + a linear model
 */
export class Pipeline extends Estimator<Record<string, unknown>> {
  #steps: [string, Transformer<object> | Estimator<object>][];
  #fitted: FittedPipeline | undefined;

  constructor(steps: readonly PipelineStep[]) {
    super({}, {});
    this.#steps = checkSteps(steps);
  }

  /** The `[name, step]` pairs, in order (the steps themselves, not copies). */
  get steps(): PipelineStep[] {
    return this.#steps.map(([name, step]) => [name, step] as const);
  }

  /** The step called `name` (scikit-learn's `named_steps[name]`). */
  namedStep(name: string): Transformer<object> | Estimator<object> {
    const found = this.#steps.find(([stepName]) => stepName === name);
    if (!found) {
      throw new MlopsError(
        "argument_invalid",
        `Pipeline: no step "${name}" (steps: ${this.#steps.map(([n]) => n).join(", ")})`,
      );
    }
    return found[1];
  }

  /** The final estimator. */
  get estimator(): Estimator<object> {
    return this.#steps[this.#steps.length - 1][1] as Estimator<object>;
  }

  /** Every step's parameters as `step__param` keys. */
  override getParams(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [name, step] of this.#steps) {
      for (const [key, value] of Object.entries(step.getParams())) out[`${name}__${key}`] = value;
    }
    return out;
  }

  /**
   * Sets `step__param` keys on their steps (nested pipelines take `outer__inner__param`), or
   * replaces a whole step given by its name. Every key is checked before any is applied.
   */
  override setParams(params: Record<string, unknown>): this {
    if (params === null || typeof params !== "object") {
      throw new MlopsError("argument_invalid", "setParams: expected an object of parameters");
    }
    const byStep = new Map<string, Record<string, unknown>>();
    const replaced = new Map<string, unknown>();
    const valid = this.#steps.map(([name]) => name);
    for (const [key, value] of Object.entries(params)) {
      const split = key.indexOf("__");
      const name = split < 0 ? key : key.slice(0, split);
      if (!valid.includes(name)) {
        throw new MlopsError(
          "argument_invalid",
          `setParams: unknown parameter "${key}" for Pipeline (expected step__param with a ` +
            `step among ${valid.join(", ")})`,
        );
      }
      if (split < 0) replaced.set(name, value);
      else {
        const group = byStep.get(name) ?? {};
        group[key.slice(split + 2)] = value;
        byStep.set(name, group);
      }
    }
    const next = this.#steps.map(([name, step]) => [
      name,
      replaced.has(name) ? replaced.get(name) : step,
    ]) as unknown as PipelineStep[];
    const checked = checkSteps(next);
    // Validate names on copies first, so a bad key changes nothing.
    for (const [name, step] of checked) {
      const group = byStep.get(name);
      if (group) step.clone().setParams(group);
    }
    for (const [name, step] of checked) {
      const group = byStep.get(name);
      if (group) step.setParams(group);
    }
    this.#steps = checked;
    return this;
  }

  /** A new, unfitted pipeline of clones of the steps. */
  override clone(): this {
    const Constructor = this.constructor as new (steps: PipelineStep[]) => this;
    return new Constructor(this.#steps.map(([name, step]) => [name, step.clone()] as const));
  }

  override get isFitted(): boolean {
    return this.#fitted !== undefined;
  }

  /** The raw input columns seen at fit, target excluded (before any transformer). */
  override get featureNames(): readonly string[] {
    return this.#require("reading featureNames").featureNames;
  }

  /**
   * Fits every transformer in turn, then the estimator on the transformed columns. The target
   * is a numeric column of `frame` (left out of the features) or one value per row.
   */
  override fit(frame: Frame, target: string | ArrayLike<number>, options: FitOptions = {}): this {
    this.#fitted = undefined;
    const context = "Pipeline.fit";
    const { features, values, targetName } = resolveTarget(frame, target, context);
    const sampleWeight = checkSampleWeight(options?.sampleWeight, frame.rowCount, context);
    let current = features;
    const last = this.#steps.length - 1;
    for (let i = 0; i < last; i++) {
      const transformer = this.#steps[i][1] as Transformer<object>;
      current = transformer.fit(current, values).transform(current);
    }
    this.estimator.fit(current, values, { sampleWeight, profile: false });
    const columns = [...features.columns()];
    columns.push([targetName, { kind: "number", values }]);
    const trainingFrame = new FrameClass(columns, frame.rowCount);
    const schema = inferSchema(trainingFrame, { target: targetName });
    this.#fitted = {
      featureNames: Object.freeze([...features.names]),
      schema,
      rowCount: frame.rowCount,
      // The raw inputs, as a served request carries them (before any transformer).
      profile:
        options?.profile === false
          ? undefined
          : profileFrame(trainingFrame, schema, {
              predict: (rows) =>
                this.estimator.predict(
                  rows.length === current.rowCount ? current : current.take(rows),
                ),
            }),
    };
    return this;
  }

  /** The training profile of the raw inputs, target and predictions (see `Estimator`). */
  override get trainingProfile(): TrainingProfile | undefined {
    return this.#require("reading trainingProfile").profile;
  }

  /** Frame → every transformer → the estimator's predictions (one per row). */
  override predict(frame: Frame): Float64Array {
    return this.estimator.predict(this.#transform(frame, "predict"));
  }

  /**
   * The frame as the final estimator sees it: the fit columns run through every transformer
   * (other columns of `frame` are left out).
   */
  transform(frame: Frame): Frame {
    return this.#transform(frame, "transform");
  }

  #transform(frame: Frame, action: string): Frame {
    const fitted = this.#require(action);
    const context = `Pipeline.${action}`;
    if (!isFrame(frame)) {
      throw new MlopsError(
        "argument_invalid",
        `${context}: expected a Frame (use Frame.fromRows(rows) or schema.toFrame(rows) for rows)`,
      );
    }
    for (const name of fitted.featureNames) {
      if (!frame.has(name)) {
        throw new MlopsError(
          "data_invalid",
          `${context}: the frame has no column "${name}" ` +
            `(the pipeline reads: ${fitted.featureNames.join(", ")})`,
        );
      }
    }
    let current = frame.select(fitted.featureNames);
    for (let i = 0; i < this.#steps.length - 1; i++) {
      current = (this.#steps[i][1] as Transformer<object>).transform(current);
    }
    return current;
  }

  /** Every transformer's steps, in order (what `toArtifact` puts before the model). */
  toPreprocessing(): PreprocessingStep[] {
    this.#require("toPreprocessing");
    return this.#steps
      .slice(0, -1)
      .flatMap(([, step]) => (step as Transformer<object>).toPreprocessing());
  }

  /**
   * ONE artifact for the whole chain: the raw input schema, the transformers' preprocessing
   * steps, then the final estimator's model; `createPredictor` on it gives exactly `predict`.
   */
  override toArtifact(options: ToArtifactOptions = {}): ModelArtifact {
    const fitted = this.#require("toArtifact");
    const model = this.estimator.toArtifact();
    const preprocessing = [...this.toPreprocessing(), ...model.manifest.preprocessing];
    return createArtifact({
      kind: model.manifest.kind,
      // A schema drafted from the fit data is widened to what the whole chain takes.
      schema:
        options.schema ??
        widenSchema(fitted.schema, {
          kind: model.manifest.kind,
          preprocessing,
          model: model.manifest.model,
        }),
      preprocessing,
      model: model.manifest.model,
      arrays: model.arrays,
      params: jsonParams(this.getParams()),
      metrics: options.metrics,
      lineage: { rowCount: fitted.rowCount, ...options.lineage },
      profile: options.profile === null ? undefined : (options.profile ?? fitted.profile),
    });
  }

  #require(action: string): FittedPipeline {
    if (this.#fitted === undefined) throw new NotFittedError("Pipeline", action);
    return this.#fitted;
  }

  // The estimator hooks are not used: fit, predict and toArtifact above are the pipeline's own.
  protected fitData(): void {
    throw new MlopsError("argument_invalid", "Pipeline: fitData is not used");
  }

  protected predictColumns(): Float64Array {
    throw new MlopsError("argument_invalid", "Pipeline: predictColumns is not used");
  }

  protected artifactModel(): ArtifactModel {
    throw new MlopsError("argument_invalid", "Pipeline: artifactModel is not used");
  }
}
