import {
  type ArtifactArray,
  type Column,
  createArtifact,
  DEFAULT_PROFILE_SAMPLE,
  type Frame,
  Frame as FrameClass,
  inferSchema,
  type Lineage,
  type ModelArtifact,
  type NumericColumn,
  type Schema,
  type SchemaJSON,
  type TrainingProfile,
  widenSchema,
} from "@mlops/core";
import { profileFrameWith, samplePositions } from "@mlops/core/internal";
import { NotFittedError } from "./errors.js";
import { checkParamNames } from "./params.js";
import {
  type FitOptions,
  featureColumns,
  resolveTrainingData,
  type TrainingData,
} from "./training.js";

/**
 * Options of `toArtifact`.
 *
 * @example
 * model.toArtifact({ metrics: { rmse: 0.41 }, lineage: { runId: run.id } });
 */
export interface ToArtifactOptions {
  /** Evaluation figures to store with the model (`{ rmse: 0.42 }`). */
  metrics?: Record<string, number>;
  /** Lineage to record (run id, data digest, …); `rowCount`, time and versions are filled. */
  lineage?: Partial<Lineage>;
  /**
   * The feature contract to store; by default the schema inferred at fit from the training
   * frame's feature columns and the target (core's `inferSchema`, target marked as such).
   */
  schema?: Schema | SchemaJSON;
  /**
   * The training profile to store; by default the one made at fit (the training frame's
   * features and target, and the model's predictions on it). `null` stores none.
   */
  profile?: TrainingProfile | null;
}

/**
 * The model half of an artifact, as each estimator describes itself (`artifactModel()`).
 *
 * @example
 * const model: ArtifactModel = { kind: "linear", model: { intercept: 2 }, arrays: { coef } };
 */
export interface ArtifactModel {
  kind: string;
  /** Extra fields of `manifest.model` besides `inputs`. */
  model?: Record<string, unknown>;
  arrays: Record<string, ArtifactArray>;
}

interface FittedState {
  featureNames: readonly string[];
  schema: Schema;
  rowCount: number;
  profile: TrainingProfile | undefined;
  /** Dictionaries of the category features read natively (see `categoryFeatures`). */
  categories: (readonly string[] | undefined)[] | undefined;
}

/**
 * The scikit-learn estimator contract every model of @mlops/train follows: the constructor only
 * stores hyperparameters (validated at `fit`), `fit(frame, target)` returns `this`, `predict`
 * before `fit` throws `NotFittedError`, `getParams` / `setParams` / `clone` copy settings, and a
 * fitted model exports a core `ModelArtifact` that serves without any training code.
 *
 * Subclasses take their parameters as the first constructor argument (`clone` relies on it) and
 * implement `fitData`, `predictColumns` and `artifactModel`.
 *
 * @example
 * const model = new DecisionTreeRegressor({ maxDepth: 4 }).fit(frame, "price");
 * const predictions = model.predict(frame);
 * const artifact = model.toArtifact({ metrics: { rmse: 3.1 } });
 */
export abstract class Estimator<Params extends object> {
  #params: Params;
  #fitted: FittedState | undefined;

  /** Stores `defaults` overridden by the defined entries of `params`; nothing else. */
  protected constructor(defaults: Params, params: Partial<Params> = {}) {
    const merged = { ...defaults } as Record<string, unknown>;
    for (const [key, value] of Object.entries(params ?? {})) {
      if (value !== undefined) merged[key] = value;
    }
    this.#params = merged as Params;
  }

  /** The estimator's name in messages (its class name). */
  protected get estimatorName(): string {
    return this.constructor.name;
  }

  /** A copy of the hyperparameters. */
  getParams(): Params {
    return { ...this.#params };
  }

  /**
   * Changes some hyperparameters (checked by name now, by value at the next `fit`); returns
   * `this`. A fitted model stays fitted with its old settings until it is fitted again.
   */
  setParams(params: Partial<Params>): this {
    checkParamNames(this.estimatorName, params, Object.keys(this.#params), "setParams");
    const next = { ...this.#params } as Record<string, unknown>;
    for (const [key, value] of Object.entries(params)) {
      if (value !== undefined) next[key] = value;
    }
    this.#params = next as Params;
    return this;
  }

  /** A new, unfitted estimator of the same class with the same hyperparameters. */
  clone(): this {
    const Constructor = this.constructor as new (params: Params) => this;
    return new Constructor(this.getParams());
  }

  /** Whether `fit` has completed. */
  get isFitted(): boolean {
    return this.#fitted !== undefined;
  }

  /** The feature columns seen at fit, in order (throws `NotFittedError` before fit). */
  get featureNames(): readonly string[] {
    return this.requireFitted("reading featureNames").featureNames;
  }

  /**
   * Fits the model. `target` names a numeric column of `frame` (left out of the features), or
   * gives one value per row; every other column is a feature and must be numeric (encode
   * category columns first). NaN in features means missing; the target must be finite.
   */
  fit(frame: Frame, target: string | ArrayLike<number>, options: FitOptions = {}): this {
    this.#fitted = undefined;
    const data = resolveTrainingData(
      frame,
      target,
      options ?? {},
      `${this.estimatorName}.fit`,
      this.categoryFeatures(),
    );
    const profiled = options?.profile !== false;
    // The rows the profile will ask predictions for, known before the fit: an estimator may
    // predict them while it fits, more cheaply than after (see `predictTrainingRows`).
    if (profiled) data.profileRows = samplePositions(data.rowCount, DEFAULT_PROFILE_SAMPLE);
    this.fitData(data);
    const schema = trainingSchema(data);
    const fitted: FittedState = {
      featureNames: Object.freeze([...data.featureNames]),
      schema,
      rowCount: data.rowCount,
      profile: undefined,
      categories: data.categories,
    };
    this.#fitted = fitted;
    if (profiled) {
      // Predictions on the profile's row sample only: predicting every training row would cost
      // as much as the fit for a large ensemble.
      const { profileRows, profilePredictions } = data;
      fitted.profile = profileFrameWith(
        trainingFrame(data),
        schema,
        {
          predict: (rows) =>
            profilePredictions !== undefined && sameRows(rows, profileRows)
              ? profilePredictions
              : this.predictTrainingRows(data, rows),
        },
        { features: data.featureProfiles, predictions: data.predictionProfile },
      );
    }
    return this;
  }

  /**
   * The model's predictions on the training rows `rows` (ascending), for the training profile
   * right after `fitData`. By default `predictColumns` on those rows; an estimator that already
   * predicted `data.profileRows` while fitting returns those predictions when `rows` are they.
   */
  protected predictTrainingRows(data: TrainingData, rows: Int32Array): Float64Array {
    return this.predictColumns(
      rows.length === data.rowCount ? data.columns : data.columns.map((c) => gather(c, rows)),
      rows.length,
    );
  }

  /**
   * The training profile made at fit: features, target, and the model's predictions on the
   * training rows (undefined when fitted with `profile: false`). Throws `NotFittedError`.
   */
  get trainingProfile(): TrainingProfile | undefined {
    return this.requireFitted("reading trainingProfile").profile;
  }

  /** One prediction per row of `frame`, which must hold the feature columns seen at fit. */
  predict(frame: Frame): Float64Array {
    const fitted = this.requireFitted("predict");
    const columns = featureColumns(
      frame,
      fitted.featureNames,
      `${this.estimatorName}.predict`,
      fitted.categories,
    );
    return this.predictColumns(columns, frame.rowCount);
  }

  /**
   * Whether `fit` passes category columns to `fitData` (as codes, with `TrainingData.categories`)
   * instead of rejecting them; estimators with native categorical support override it. `predict`
   * then maps a category column's values to the codes seen at fit (NaN for unseen values).
   */
  protected categoryFeatures(): boolean {
    return false;
  }

  /**
   * The fitted model as a core `ModelArtifact` (register it, write it, or serve it with
   * `createPredictor`, which gives exactly the predictions of `predict`).
   */
  toArtifact(options: ToArtifactOptions = {}): ModelArtifact {
    const fitted = this.requireFitted("toArtifact");
    const { kind, model, arrays } = this.artifactModel();
    const inputs = [...fitted.featureNames];
    return createArtifact({
      kind,
      // A schema drafted from the fit data is widened to what the model takes; a given one is
      // the contract as given.
      schema:
        options.schema ??
        widenSchema(fitted.schema, { kind, preprocessing: [], model: { inputs } }),
      model: { ...model, inputs },
      arrays,
      params: jsonParams(this.getParams()),
      metrics: options.metrics,
      lineage: { rowCount: fitted.rowCount, ...options.lineage },
      profile: options.profile === null ? undefined : (options.profile ?? fitted.profile),
    });
  }

  /** The fitted state, or a `NotFittedError` naming `action`. */
  protected requireFitted(action: string): FittedState {
    if (this.#fitted === undefined) throw new NotFittedError(this.estimatorName, action);
    return this.#fitted;
  }

  /** Validates the hyperparameters against the data, then fits. Throw on bad settings. */
  protected abstract fitData(data: TrainingData): void;

  /** Predictions from the feature columns (in fit order), `rowCount` rows. */
  protected abstract predictColumns(columns: Float64Array[], rowCount: number): Float64Array;

  /** The kind, extra model fields and typed arrays of the artifact. */
  protected abstract artifactModel(): ArtifactModel;
}

/** Whether `a` and `b` hold the same rows. */
function sameRows(a: Int32Array, b: Int32Array | undefined): boolean {
  if (b === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** `column`'s values at `rows`. */
function gather(column: Float64Array, rows: Int32Array): Float64Array {
  const out = new Float64Array(rows.length);
  for (let i = 0; i < rows.length; i++) out[i] = column[rows[i]];
  return out;
}

/** The feature columns (category features as category columns again) and the target. */
function trainingFrame(data: TrainingData): Frame {
  const entries: [string, Column][] = data.featureNames.map((name, j) => {
    const dictionary = data.categories?.[j];
    if (dictionary === undefined) {
      return [name, { kind: data.featureKinds[j], values: data.columns[j] } as NumericColumn];
    }
    const values = data.columns[j];
    const codes = Int32Array.from(values, (code) => (Number.isNaN(code) ? -1 : code));
    return [name, { kind: "category", codes, dictionary: [...dictionary] }];
  });
  entries.push([data.targetName, { kind: "number", values: data.target }]);
  return new FrameClass(entries, data.rowCount);
}

/** core's inferred schema over the feature columns and the target. */
function trainingSchema(data: TrainingData): Schema {
  return inferSchema(trainingFrame(data), { target: data.targetName });
}

/** Parameters as plain JSON (non-finite numbers become strings). */
function jsonParams(params: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(params)) {
    out[key] = typeof value === "number" && !Number.isFinite(value) ? String(value) : value;
  }
  return out;
}
