// Estimators and data used by the search tests (not exported from the package).
import { type Column, Frame } from "@mlops/core";
import { type ArtifactModel, Estimator } from "../estimator/estimator.js";
import type { TrainingData } from "../estimator/training.js";
import { DecisionTreeRegressor } from "../tree/decision-tree.js";

export interface MeanParams {
  shift: number;
}

/** Predicts the training mean of the target plus `shift`: easy to compute by hand. */
export class MeanRegressor extends Estimator<MeanParams> {
  #mean = 0;

  constructor(params: Partial<MeanParams> = {}) {
    super({ shift: 0 }, params);
  }

  protected fitData(data: TrainingData): void {
    let sum = 0;
    for (const value of data.target) sum += value;
    this.#mean = sum / data.rowCount + this.getParams().shift;
  }

  protected predictColumns(_columns: Float64Array[], rowCount: number): Float64Array {
    return new Float64Array(rowCount).fill(this.#mean);
  }

  protected artifactModel(): ArtifactModel {
    return { kind: "linear", model: { intercept: this.#mean }, arrays: {} };
  }
}

export interface ScaledParams {
  factor: number;
  tree: DecisionTreeRegressor;
}

/**
 * A composite estimator with a nested step, as a pipeline has: `tree__maxDepth` sets the inner
 * tree's parameter (scikit-learn's `step__param` keys); predictions are the tree's × `factor`.
 */
export class ScaledTree extends Estimator<ScaledParams> {
  constructor(params: Partial<ScaledParams> = {}) {
    super({ factor: 1, tree: new DecisionTreeRegressor() }, params);
  }

  override setParams(params: Partial<ScaledParams> & Record<string, unknown>): this {
    const own: Record<string, unknown> = {};
    const nested: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(params)) {
      if (key.startsWith("tree__")) nested[key.slice(6)] = value;
      else own[key] = value;
    }
    super.setParams(own as Partial<ScaledParams>);
    if (Object.keys(nested).length > 0) this.getParams().tree.setParams(nested);
    return this;
  }

  override clone(): this {
    const params = this.getParams();
    const Constructor = this.constructor as new (params: ScaledParams) => this;
    return new Constructor({ ...params, tree: params.tree.clone() });
  }

  protected fitData(data: TrainingData): void {
    const entries: [string, Column][] = data.featureNames.map((name, j) => [
      name,
      { kind: data.featureKinds[j], values: data.columns[j] },
    ]);
    entries.push([data.targetName, { kind: "number", values: data.target }]);
    const frame = new Frame(entries);
    this.getParams().tree.fit(frame, data.targetName);
  }

  protected predictColumns(columns: Float64Array[], rowCount: number): Float64Array {
    const { tree, factor } = this.getParams();
    const entries: [string, Column][] = tree.featureNames.map((name, j) => [
      name,
      { kind: "number", values: columns[j] },
    ]);
    const frame = new Frame(entries, rowCount);
    return tree.predict(frame).map((value) => value * factor);
  }

  protected artifactModel(): ArtifactModel {
    return { kind: "tree", arrays: {} };
  }
}

/** y = 1,1,1,5,5,5 over x = 1..6. */
export const tinyFrame = new Frame({
  x: { kind: "number", values: Float64Array.of(1, 2, 3, 4, 5, 6) },
  y: { kind: "number", values: Float64Array.of(1, 1, 1, 5, 5, 5) },
});
