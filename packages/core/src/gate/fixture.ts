/**
 * Test fixture for the gate tests (not part of the library): a registry whose models the tests
 * can score by hand on 12 evaluation rows, written through the `Registry` facade.
 */
import { createArtifact } from "../artifact/create.js";
import type { ModelArtifact } from "../artifact/types.js";
import { openRegistry } from "../registry/registry.js";
import { field } from "../schema/field.js";
import { schema } from "../schema/schema.js";

export const gateWine = schema(
  {
    alcohol: field.number({ min: 0 }),
    sulphates: field.number({ min: 0, max: 2 }).nullable(),
    color: field.category(["red", "white"]),
    quality: field.integer({ min: 0, max: 10 }),
  },
  { target: "quality" },
);

/** Alcohol of the 12 evaluation rows; quality ≈ 0.5 · alcohol + 0.4, rounded. */
export const GATE_ALCOHOL = [9, 9.5, 10, 10.5, 11, 11.5, 12, 12.5, 13, 13.5, 14, 14.5];
export const GATE_QUALITY = [5, 5, 6, 6, 6, 6, 6, 7, 7, 7, 8, 8];

/**
 * The metrics of the fixture's models on the evaluation rows, computed by hand: residuals
 * y − (intercept + 0.5 · alcohol); SS_res 1.345 (v1), 1.125 (v2), 9.945 (v3); SS_tot 10.91667.
 */
export const GATE_METRICS = {
  v1: { rmse: Math.sqrt(1.345 / 12), r2: 1 - 1.345 / (131 / 12) },
  v2: { rmse: Math.sqrt(1.125 / 12), r2: 1 - 1.125 / (131 / 12) },
  v3: { rmse: Math.sqrt(9.945 / 12), r2: 1 - 9.945 / (131 / 12) },
};

/** The evaluation data as CSV: the schema's four columns, 12 rows. */
export function gateEvaluationCsv(): string {
  const rows = GATE_ALCOHOL.map(
    (alcohol, index) =>
      `${alcohol},0.5,${index % 2 === 0 ? "red" : "white"},${GATE_QUALITY[index]}`,
  );
  return `alcohol,sulphates,color,quality\n${rows.join("\n")}\n`;
}

/** quality = intercept + 0.5 · alcohol. */
export function alcoholModel(
  intercept: number,
  metrics: Record<string, number> = {},
): ModelArtifact {
  return createArtifact({
    kind: "linear",
    schema: gateWine,
    model: { inputs: ["alcohol"], intercept },
    arrays: { coefficients: Float64Array.of(0.5) },
    metrics,
  });
}

/**
 * Fills the registry at `path`: model "wine" with version 1 (intercept 0.4, @production),
 * version 2 (intercept 0.5, @staging: better than v1) and version 3 (intercept 1.4,
 * @challenger: 1 too high everywhere, a regression) — each storing a training rmse that ranks
 * them the other way round — and model "fresh" with one version under @staging, no @production.
 */
export async function populateGateRegistry(path: string): Promise<void> {
  const registry = await openRegistry(path);
  const options = { actor: "ana" };
  await registry.registerModel("wine", alcoholModel(0.4, { rmse: 0.4 }), {
    ...options,
    aliases: ["production"],
    reason: "first model",
  });
  await registry.registerModel("wine", alcoholModel(0.5, { rmse: 0.3 }), {
    ...options,
    aliases: ["staging"],
  });
  await registry.registerModel("wine", alcoholModel(1.4, { rmse: 0.2 }), {
    ...options,
    aliases: ["challenger"],
  });
  await registry.registerModel("fresh", alcoholModel(0.5), { ...options, aliases: ["staging"] });
}

/** The error `action` throws (the test fails when it throws nothing). */
export function caught(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error("expected an error");
}
