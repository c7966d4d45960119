import {
  applyPreprocessing,
  type Column,
  type Frame,
  MlopsError,
  type PreprocessingStep,
} from "@mlops/core";
import { NotFittedError } from "../estimator/errors.js";
import { checkParamNames } from "../estimator/params.js";
import { resolveTarget } from "../estimator/target.js";
import { checkSampleWeight, type FitOptions, isFrame } from "../estimator/training.js";

/**
 * What a transformer's `fitSteps` receives: the feature columns (the target column left out),
 * the target when one was given, and checked weights.
 *
 * @example
 * protected fitSteps({ frame, target }: TransformerInput): PreprocessingStep[] { ... }
 */
export interface TransformerInput {
  /** The frame without the target column. */
  frame: Frame;
  /** The target values when `fit` got a target (finite), else undefined. */
  target: Float64Array | undefined;
  sampleWeight: Float64Array | undefined;
  /** `"<Class>.fit"`, for messages. */
  context: string;
}

interface FittedTransformer {
  inputNames: readonly string[];
  inputIsCategory: readonly boolean[];
  outputNames: readonly string[];
  steps: PreprocessingStep[];
}

/** True for a category column. */
export function isCategory(column: Column): boolean {
  return column.kind === "category";
}

/**
 * The columns a transformer works on: `requested` (checked: present, and of the right kind),
 * or every column of `frame` that `accepts` (in frame order).
 */
export function transformerColumns(
  frame: Frame,
  requested: readonly string[] | null,
  accepts: (column: Column) => boolean,
  expected: string,
  context: string,
): string[] {
  if (requested === null) return frame.names.filter((name) => accepts(frame.column(name)));
  for (const name of requested) {
    if (!frame.has(name)) {
      throw new MlopsError(
        "data_invalid",
        `${context}: columns: the frame has no column "${name}" ` +
          `(columns: ${frame.names.join(", ") || "none"})`,
      );
    }
    if (!accepts(frame.column(name))) {
      throw new MlopsError(
        "data_invalid",
        `${context}: column "${name}" is ${frame.column(name).kind}, expected ${expected}`,
      );
    }
  }
  return [...requested];
}

/**
 * The scikit-learn transformer contract over Frames, for preprocessing: the constructor only
 * stores hyperparameters (validated at `fit`), `fit(frame, target?)` learns a state and returns
 * `this`, `transform(frame)` returns a new Frame, `getParams` / `setParams` / `clone` copy
 * settings, and the fitted state is exported as core preprocessing steps (`toPreprocessing()`),
 * which a served model applies without any training code. `transform` runs those very steps
 * through core's `applyPreprocessing`, so training and serving compute the same numbers.
 *
 * Columns a transformer does not work on pass through unchanged, and so does a column that was
 * not seen at fit (the target, say). A `target` column named in `fit` is left out of the fit.
 *
 * Subclasses take their parameters as the first constructor argument (`clone` relies on it) and
 * implement `fitSteps`.
 *
 * @example
 * const scaler = new StandardScaler().fit(train, "price");
 * const scaled = scaler.transform(test);
 * scaler.toPreprocessing(); // [{ kind: "standard_scaler", columns: [...], mean, scale }]
 */
export abstract class Transformer<Params extends object> {
  #params: Params;
  #fitted: FittedTransformer | undefined;

  /** Stores `defaults` overridden by the defined entries of `params`; nothing else. */
  protected constructor(defaults: Params, params: Partial<Params> = {}) {
    const merged = { ...defaults } as Record<string, unknown>;
    for (const [key, value] of Object.entries(params ?? {})) {
      if (value !== undefined) merged[key] = value;
    }
    this.#params = merged as Params;
  }

  /** The transformer's name in messages (its class name). */
  protected get transformerName(): string {
    return this.constructor.name;
  }

  /** A copy of the hyperparameters. */
  getParams(): Params {
    const out = { ...this.#params } as Record<string, unknown>;
    for (const [key, value] of Object.entries(out)) {
      if (Array.isArray(value)) out[key] = [...value];
    }
    return out as Params;
  }

  /** Changes some hyperparameters (checked by name now, by value at the next `fit`). */
  setParams(params: Partial<Params>): this {
    checkParamNames(this.transformerName, params, Object.keys(this.#params), "setParams");
    const next = { ...this.#params } as Record<string, unknown>;
    for (const [key, value] of Object.entries(params)) {
      if (value !== undefined) next[key] = value;
    }
    this.#params = next as Params;
    return this;
  }

  /** A new, unfitted transformer of the same class with the same hyperparameters. */
  clone(): this {
    const Constructor = this.constructor as new (params: Params) => this;
    return new Constructor(this.getParams());
  }

  /** Whether `fit` has completed. */
  get isFitted(): boolean {
    return this.#fitted !== undefined;
  }

  /**
   * Learns the transformer's state from `frame`. `target` (a column name, left out of the
   * fit, or one value per row) is needed by supervised selectors only; weights are used where
   * the transformer supports them (`StandardScaler`).
   */
  fit(frame: Frame, target?: string | ArrayLike<number>, options: FitOptions = {}): this {
    this.#fitted = undefined;
    const context = `${this.transformerName}.fit`;
    const input = resolveInput(frame, target, options ?? {}, context);
    const steps = this.fitSteps(input);
    const features = input.frame;
    this.#fitted = {
      inputNames: Object.freeze([...features.names]),
      inputIsCategory: Object.freeze(
        features.names.map((name) => isCategory(features.column(name))),
      ),
      outputNames: Object.freeze([...applyPreprocessing(features.slice(0, 0), steps).names]),
      steps,
    };
    return this;
  }

  /**
   * The transformed frame: every column seen at fit must be present with the same kind
   * (numeric or category); other columns pass through.
   */
  transform(frame: Frame): Frame {
    const fitted = this.#require("transform");
    const context = `${this.transformerName}.transform`;
    if (!isFrame(frame)) {
      throw new MlopsError(
        "argument_invalid",
        `${context}: expected a Frame (use Frame.fromRows(rows) or schema.toFrame(rows) for rows)`,
      );
    }
    fitted.inputNames.forEach((name, j) => {
      if (!frame.has(name)) {
        throw new MlopsError(
          "data_invalid",
          `${context}: the frame has no column "${name}" ` +
            `(seen at fit: ${fitted.inputNames.join(", ")})`,
        );
      }
      const category = isCategory(frame.column(name));
      if (category && !fitted.inputIsCategory[j]) {
        throw new MlopsError(
          "data_invalid",
          `${context}: feature "${name}" is a category column, but it was numeric at fit; ` +
            "encode category columns with a OneHotEncoder before numeric steps",
        );
      }
      if (!category && fitted.inputIsCategory[j]) {
        throw new MlopsError(
          "data_invalid",
          `${context}: feature "${name}" is numeric, but it was a category column at fit`,
        );
      }
    });
    return applyPreprocessing(frame, fitted.steps);
  }

  /** `fit(frame, target, options)` then `transform` of the same rows (target column left out). */
  fitTransform(frame: Frame, target?: string | ArrayLike<number>, options: FitOptions = {}): Frame {
    this.fit(frame, target, options);
    const features = typeof target === "string" ? frame.drop([target]) : frame;
    return this.transform(features);
  }

  /** The fitted state as core preprocessing steps (plain JSON; a copy). */
  toPreprocessing(): PreprocessingStep[] {
    return structuredClone(this.#require("toPreprocessing").steps);
  }

  /** The columns seen at fit, target excluded (scikit-learn's `feature_names_in_`). */
  get featureNamesIn(): readonly string[] {
    return this.#require("reading featureNamesIn").inputNames;
  }

  /** The columns `transform` gives for the fit columns (`get_feature_names_out()`). */
  get featureNamesOut(): readonly string[] {
    return this.#require("reading featureNamesOut").outputNames;
  }

  /** Throws `NotFittedError` naming `action` before fit. */
  protected requireFitted(action: string): void {
    this.#require(action);
  }

  #require(action: string): FittedTransformer {
    if (this.#fitted === undefined) throw new NotFittedError(this.transformerName, action);
    return this.#fitted;
  }

  /** Validates the parameters against the data, learns the state, returns it as steps. */
  protected abstract fitSteps(input: TransformerInput): PreprocessingStep[];
}

function resolveInput(
  frame: Frame,
  target: string | ArrayLike<number> | undefined,
  options: FitOptions,
  context: string,
): TransformerInput {
  const { features, values, rowCount } = resolveTarget(frame, target, context, {
    optional: true,
    requireFeatures: false,
  });
  return {
    frame: features,
    target: values,
    sampleWeight: checkSampleWeight(options.sampleWeight, rowCount, context),
    context,
  };
}
