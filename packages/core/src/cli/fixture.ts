/**
 * Test fixture for the CLI tests (not part of the CLI): a small but real registry built through
 * the `Registry` facade, so the tests read what an SDK user's code would have written.
 */
import { createArtifact } from "../artifact/create.js";
import type { ModelArtifact } from "../artifact/types.js";
import { openRegistry } from "../registry/registry.js";
import { field } from "../schema/field.js";
import { schema } from "../schema/schema.js";

export const wine = schema(
  {
    alcohol: field.number({ min: 0 }),
    sulphates: field.number({ min: 0, max: 2 }).nullable(),
    color: field.category(["red", "white"]),
    quality: field.integer({ min: 0, max: 10 }),
  },
  { target: "quality" },
);

export const GIT_COMMIT = "0123456789abcdef0123456789abcdef01234567";
export const DATA_DIGEST = `sha256:${"ab".repeat(32)}`;

function linearArtifact(
  version: number,
  metrics: Record<string, number>,
  runId: string,
): ModelArtifact {
  const scaled = version >= 2;
  return createArtifact({
    kind: "linear",
    schema: wine,
    preprocessing: scaled
      ? [
          {
            kind: "standard_scaler",
            columns: ["alcohol", "sulphates"],
            mean: [10.4, 0.66],
            scale: [1.07, 0.17],
          },
          {
            kind: "one_hot",
            column: "color",
            categories: ["red", "white"],
            handleUnknown: "ignore",
            outputs: ["color=red", "color=white"],
          },
        ]
      : [],
    model: scaled
      ? { inputs: ["alcohol", "sulphates", "color=red", "color=white"], intercept: 5.6 }
      : { inputs: ["alcohol", "sulphates"], intercept: 1.5 },
    arrays: {
      coefficients: scaled ? Float64Array.of(0.4, 0.2, 0.1, -0.1) : Float64Array.of(0.35, 0.8),
    },
    params: { alpha: version / 10, fit_intercept: true },
    metrics,
    lineage: {
      dataDigest: DATA_DIGEST,
      rowCount: 1599,
      gitCommit: GIT_COMMIT,
      runId,
    },
  });
}

export interface RegistryFixture {
  path: string;
  /** Run ids of the "wine" experiment, in the order they were created (rmse 0.72, 0.65, 0.61). */
  wineRuns: string[];
  defaultRun: string;
}

/**
 * Fills the registry at `path`: model "wine" with 3 versions (production → 1 then 2,
 * staging → 3), model "housing" with 1 version and no alias, 3 finished runs in experiment "wine"
 * and one running run in the Default experiment.
 */
export async function populateRegistry(path: string): Promise<RegistryFixture> {
  const registry = await openRegistry(path);
  const rmses = [0.72, 0.65, 0.61];
  const wineRuns: string[] = [];
  for (const [index, rmse] of rmses.entries()) {
    const run = await registry.startRun({
      experiment: "wine",
      runName: `wine-${index + 1}`,
      params: { alpha: (index + 1) / 10, max_depth: 4 + index },
    });
    await registry.logMetrics(run.runId, { rmse, mae: rmse - 0.15 });
    await registry.endRun(run.runId);
    wineRuns.push(run.runId);
  }
  const running = await registry.startRun({ runName: "exploration" });
  await registry.logMetrics(running.runId, { r2: 0.31 });

  for (const [index, rmse] of rmses.entries()) {
    const version = index + 1;
    await registry.registerModel(
      "wine",
      linearArtifact(version, { rmse, mae: rmse - 0.15 }, wineRuns[index]),
      {
        description: version === 2 ? "scaled features" : undefined,
        tags: { team: "ml" },
      },
    );
  }
  await registry.setAlias("wine", "production", 1, { actor: "ana", reason: "first model" });
  await registry.setAlias("wine", "production", 2, { actor: "bob", reason: "gate passed" });
  await registry.setAlias("wine", "staging", 3, { actor: "ana", reason: "candidate" });
  await registry.registerModel("housing", linearArtifact(1, { rmse: 0.9 }, wineRuns[0]));
  return { path, wineRuns, defaultRun: running.runId };
}
