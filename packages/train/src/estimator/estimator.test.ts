import {
  createPredictor,
  Frame,
  field,
  inferSchema,
  MlopsError,
  numericColumn,
  profileFrame,
  profileNumbers,
  schema,
} from "@mlops/core";
import { describe, expect, it } from "vitest";
import { describeEstimatorConformance } from "../testing/estimator-conformance.js";
import { NotFittedError } from "./errors.js";
import { type ArtifactModel, Estimator } from "./estimator.js";
import { paramError } from "./params.js";
import type { TrainingData } from "./training.js";

interface ShrunkMeanParams {
  /** Pull the mean towards 0 by `shrink / (shrink + weight)`. */
  shrink: number;
  note: string | null;
}

/** A minimal estimator: the (weighted, shrunk) mean of the target, as a linear artifact. */
class ShrunkMean extends Estimator<ShrunkMeanParams> {
  #mean = 0;
  #featureCount = 0;

  constructor(params: Partial<ShrunkMeanParams> = {}) {
    super({ shrink: 0, note: null }, params);
  }

  protected fitData(data: TrainingData): void {
    const { shrink } = this.getParams();
    if (!(typeof shrink === "number" && shrink >= 0))
      throw paramError("shrink", "a number ≥ 0", shrink);
    let sum = 0;
    let weight = 0;
    for (let i = 0; i < data.rowCount; i++) {
      const w = data.sampleWeight?.[i] ?? 1;
      sum += w * data.target[i];
      weight += w;
    }
    this.#mean = sum / (weight + shrink);
    this.#featureCount = data.featureNames.length;
  }

  protected predictColumns(_columns: Float64Array[], rowCount: number): Float64Array {
    return new Float64Array(rowCount).fill(this.#mean);
  }

  protected artifactModel(): ArtifactModel {
    return {
      kind: "linear",
      model: { intercept: this.#mean },
      arrays: { coefficients: new Float64Array(this.#featureCount) },
    };
  }
}

describeEstimatorConformance(() => new ShrunkMean({ shrink: 1 }), {
  invalidParams: { shrink: -1 },
});

describe("Estimator", () => {
  const frame = new Frame({
    x: { kind: "integer", values: Float64Array.of(1, 2, 3, 4) },
    flag: { kind: "boolean", values: Float64Array.of(0, 1, 0, 1) },
    y: { kind: "number", values: Float64Array.of(1, 2, 3, 6.5) },
  });

  it("stores defaults overridden by defined parameters only", () => {
    expect(new ShrunkMean({ shrink: undefined, note: "a" }).getParams()).toEqual({
      shrink: 0,
      note: "a",
    });
  });

  it("throws NotFittedError, an MlopsError with code not_fitted", () => {
    const error = (() => {
      try {
        new ShrunkMean().predict(frame);
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(NotFittedError);
    expect(error).toBeInstanceOf(MlopsError);
    expect((error as MlopsError).code).toBe("not_fitted");
    expect((error as Error).name).toBe("NotFittedError");
    expect((error as Error).message).toBe(
      "This ShrunkMean is not fitted yet: call fit(frame, target) before predict",
    );
  });

  it("uses weights and keeps the fitted model when setParams changes settings", () => {
    const model = new ShrunkMean().fit(frame, "y", { sampleWeight: [0, 0, 1, 1] });
    expect(model.predict(frame)[0]).toBe(4.75);
    model.setParams({ shrink: 2 });
    expect(model.predict(frame)[0]).toBe(4.75);
    expect(model.fit(frame, "y").predict(frame)[0]).toBe(12.5 / 6);
    expect(() => model.fit(frame, "y", { sampleWeight: [0, 0, 0, 0] })).toThrow(
      /every weight is 0/,
    );
    expect(() => model.fit(frame, "y", { sampleWeight: [1, -1, 1, 1] })).toThrow(
      /sampleWeight\[1\]: expected a finite number ≥ 0, got -1/,
    );
    expect(model.isFitted).toBe(false);
  });

  it("records the training schema, widened to what the model takes, and the target", () => {
    const artifact = new ShrunkMean().fit(frame, "y").toArtifact();
    const { fields, target } = artifact.manifest.schema as unknown as {
      fields: Record<string, { kind: string }>;
      target: string;
    };
    expect(target).toBe("y");
    // Whole numbers at fit do not make 7.5 wrong: the model reads floats.
    expect(fields.x.kind).toBe("number");
    expect(fields.flag.kind).toBe("boolean");
    expect(fields.y.kind).toBe("number");
    expect(artifact.manifest.lineage.rowCount).toBe(4);
    expect(artifact.manifest.params).toEqual({ shrink: 0, note: null });
    const predictor = createPredictor(artifact);
    expect(predictor.predictRow({ x: 7, flag: true })).toBe(3.125);
    expect(predictor.predictRow({ x: 7.5, flag: true })).toBe(3.125);
    // A given schema is the contract as given.
    const given = new ShrunkMean()
      .fit(frame, "y")
      .toArtifact({ schema: inferSchema(frame, { target: "y" }) });
    expect(() => createPredictor(given).predictRow({ x: 7.5, flag: true })).toThrow(/integer/);
  });

  it('names an array target "target" (unless a column has that name)', () => {
    const features = frame.drop(["y"]);
    const artifact = new ShrunkMean().fit(features, [1, 2, 3, 4]).toArtifact();
    expect(artifact.manifest.schema.target).toBe("target");
    const clash = features.withColumn("target", {
      kind: "number",
      values: Float64Array.of(0, 0, 0, 0),
    });
    const other = new ShrunkMean().fit(clash, [1, 2, 3, 4]);
    expect(other.featureNames).toEqual(["x", "flag", "target"]);
    expect(other.toArtifact().manifest.schema.target).toBe("_target");
  });

  it("stores a schema given to toArtifact instead of the inferred one", () => {
    const given = schema(
      { x: field.number({ min: 0 }), flag: field.boolean(), y: field.number() },
      { target: "y" },
    );
    const artifact = new ShrunkMean().fit(frame, "y").toArtifact({ schema: given });
    expect(artifact.manifest.schema).toEqual(given.toJSON());
  });

  it("rejects what is not a Frame", () => {
    expect(() => new ShrunkMean().fit([{ x: 1 }] as unknown as Frame, "y")).toThrow(
      /expected a Frame/,
    );
    const model = new ShrunkMean().fit(frame, "y");
    expect(() => model.predict({} as Frame)).toThrow(/expected a Frame/);
    expect(() => new ShrunkMean().fit(frame.select(["y"]), "y")).toThrow(/no feature columns/);
    const infinite = frame.withColumn("y", {
      kind: "number",
      values: Float64Array.of(1, 2, Infinity, 4),
    });
    expect(() => new ShrunkMean().fit(infinite, "y")).toThrow(/Infinity at row 2/);
  });
});

/** Predicts its first feature: what a profile of its predictions must be is known. */
class FirstFeature extends Estimator<Record<string, never>> {
  #featureCount = 0;

  constructor() {
    super({}, {});
  }

  protected fitData(data: TrainingData): void {
    this.#featureCount = data.featureNames.length;
  }

  protected predictColumns(columns: Float64Array[], rowCount: number): Float64Array {
    return Float64Array.from(columns[0].subarray(0, rowCount));
  }

  protected artifactModel(): ArtifactModel {
    const coefficients = new Float64Array(this.#featureCount);
    coefficients[0] = 1;
    return { kind: "linear", model: { intercept: 0 }, arrays: { coefficients } };
  }
}

describe("the training profile past its sample size", () => {
  it("counts every row and profiles the predictions on the sample's rows", () => {
    const n = 40_000;
    const x = Float64Array.from({ length: n }, (_, i) => Math.sin(i) * 100 + (i % 7));
    const frame = new Frame({
      x: numericColumn(x),
      other: numericColumn(Float64Array.from({ length: n }, (_, i) => i % 13)),
      y: numericColumn(Float64Array.from({ length: n }, (_, i) => i / n)),
    });
    const profile = new FirstFeature().fit(frame, "y").trainingProfile;
    expect(profile?.sampleSize).toBe(16_384);
    expect(profile?.rowCount).toBe(n);
    expect(profile?.features.x.count).toBe(n);
    expect(profile?.target?.count).toBe(n);
    // The same row sample profileFrame asks any predict function for (it is deterministic).
    let rows: Int32Array = new Int32Array(0);
    profileFrame(frame, inferSchema(frame, { target: "y" }), {
      predict: (sampled) => {
        rows = sampled;
        return new Float64Array(sampled.length);
      },
    });
    expect(rows.length).toBe(16_384);
    const expected = profileNumbers(Float64Array.from(rows, (row) => x[row]));
    expect(profile?.predictions).toEqual(expected);
    expect(profile?.predictions?.count).toBe(16_384);
  });

  it("tells fitData the rows the profile will ask for, and takes their predictions from the model", () => {
    const n = 20_000;
    const x = Float64Array.from({ length: n }, (_, i) => (i * 7919) % 1000);
    const frame = new Frame({
      x: numericColumn(x),
      y: numericColumn(Float64Array.from({ length: n }, (_, i) => i % 5)),
    });
    let asked: Int32Array | undefined;
    profileFrame(frame, inferSchema(frame, { target: "y" }), {
      predict: (sampled) => {
        asked = sampled;
        return new Float64Array(sampled.length);
      },
    });
    // Predicts 7 for every row it was told of in fitData, through predictTrainingRows.
    class KnowsItsRows extends FirstFeature {
      seen: Int32Array | undefined;
      protected override fitData(data: TrainingData): void {
        super.fitData(data);
        this.seen = data.profileRows;
      }
      protected override predictTrainingRows(_data: TrainingData, rows: Int32Array): Float64Array {
        const same = this.seen?.length === rows.length && this.seen.every((r, i) => r === rows[i]);
        return new Float64Array(rows.length).fill(same ? 7 : -1);
      }
    }
    const model = new KnowsItsRows().fit(frame, "y");
    expect(model.seen).toEqual(asked);
    expect(model.trainingProfile?.predictions?.mean).toBe(7);
    expect(new KnowsItsRows().fit(frame, "y", { profile: false }).seen).toBeUndefined();
    // Small data: every row, and the default predictTrainingRows predicts them.
    const small = frame.take(Int32Array.from({ length: 50 }, (_, i) => i * 3));
    const plain = new FirstFeature().fit(small, "y");
    expect(plain.trainingProfile?.predictions).toEqual(profileNumbers(small.numeric("x")));
  });
});
