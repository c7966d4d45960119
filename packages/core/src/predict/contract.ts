import type {
  OneHotStep,
  PolynomialFeaturesStep,
  PreprocessingStep,
  SimpleImputerStep,
} from "../artifact/types.js";
import type { FieldDefinition } from "../schema/field.js";
import { Schema, type SchemaJSON } from "../schema/schema.js";

/**
 * What `widenSchema` reads of a model: its kind, its preprocessing steps and the columns its model
 * section reads (a `ModelManifest` fits).
 *
 * @example
 * const parts: ModelParts = artifact.manifest;
 */
export interface ModelParts {
  kind: string;
  preprocessing: readonly PreprocessingStep[];
  model: { inputs: readonly string[] };
}

/** Model kinds whose predictors route a missing input (NaN) down a branch of every tree. */
const HANDLES_MISSING: ReadonlySet<string> = new Set(["tree", "ensemble"]);

/** How a column is used downstream: whether a missing value is handled, and by what. */
interface Use {
  /** A missing value here is filled, encoded, routed or never read. */
  missing: boolean;
  /** Read directly (and only) by a one-hot step that ignores unknown values. */
  unknown: boolean;
}

const UNUSED: Use = { missing: true, unknown: false };

/**
 * Walks the preprocessing backwards from the model's inputs and says, for each column before the
 * first step, whether the pipeline handles a missing value in it and whether it takes unknown
 * categories. A step kind it does not know makes every column it could touch strict.
 */
function columnUses(parts: ModelParts, columns: readonly string[]): Map<string, Use> {
  const modelMissing = HANDLES_MISSING.has(parts.kind);
  // Uses after the last step: the model's inputs.
  let after = new Map<string, Use>();
  for (const input of parts.model.inputs)
    after.set(input, { missing: modelMissing, unknown: false });
  const steps = parts.preprocessing;
  for (let index = steps.length - 1; index >= 0; index--) {
    const step = steps[index];
    const before = new Map(after);
    const useOf = (name: string): Use => after.get(name) ?? UNUSED;
    switch (step.kind) {
      case "simple_imputer":
        for (const name of (step as SimpleImputerStep).columns) {
          before.set(name, { missing: true, unknown: false });
        }
        break;
      case "standard_scaler":
        // NaN stays NaN: whatever reads the scaled column decides.
        break;
      case "one_hot": {
        const oneHot = step as OneHotStep;
        for (const output of oneHot.outputs) before.delete(output);
        const ignore = oneHot.handleUnknown === "ignore";
        before.set(oneHot.column, { missing: ignore, unknown: ignore });
        break;
      }
      case "polynomial_features": {
        const polynomial = step as PolynomialFeaturesStep;
        for (const output of polynomial.outputs) before.delete(output);
        polynomial.columns.forEach((name, j) => {
          // A missing input makes every output that uses it missing.
          const users = polynomial.outputs.filter((_, i) => polynomial.powers[i][j] > 0);
          before.set(name, {
            missing: users.every((output) => useOf(output).missing),
            unknown: false,
          });
        });
        break;
      }
      case "drop_columns":
        for (const name of (step as { columns: string[] }).columns) before.set(name, UNUSED);
        break;
      default:
        // A registered step of another kind: it may read any column.
        for (const name of [...before.keys(), ...columns]) {
          before.set(name, { missing: false, unknown: false });
        }
    }
    after = before;
  }
  return after;
}

/**
 * Widens a schema drafted from data (`inferSchema`) to what the model can take, so that serving
 * does not refuse input the model would predict: an `integer` feature becomes `number` (every
 * model reads floats; `41.0` in a CSV does not make `41.5` wrong), a feature is `nullable` where
 * the model handles a missing value (trees route it; an imputer fills it; a one-hot step that
 * ignores unknown values encodes it as zeros), and a category feature read only by such a one-hot
 * step accepts values it has not seen (`open`). The target, boolean fields, ranges and defaults
 * are kept. Use it only on a draft: a schema the user declared is the contract as declared.
 *
 * @example
 * const draft = inferSchema(frame, { target: "price" });
 * const artifact = createArtifact({ kind: "tree", schema: widenSchema(draft, parts), ... });
 */
export function widenSchema(schema: Schema | SchemaJSON, parts: ModelParts): Schema {
  const json = schema instanceof Schema ? schema.toJSON() : Schema.fromJSON(schema).toJSON();
  const names = Object.keys(json.fields);
  const uses = columnUses(parts, names);
  const fields: Record<string, FieldDefinition> = {};
  for (const name of names) {
    const field = { ...json.fields[name] };
    if (name !== json.target) {
      const use = uses.get(name) ?? UNUSED;
      if (field.kind === "integer") field.kind = "number";
      if (use.missing && field.default === undefined) field.nullable = true;
      if (field.kind === "category" && use.unknown) field.open = true;
    }
    fields[name] = field;
  }
  return Schema.fromJSON({ ...json, fields });
}
