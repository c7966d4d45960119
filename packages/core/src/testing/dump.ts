import type { RegistryStore } from "../registry/types.js";

/**
 * Everything a registry holds, as plain JSON in a stable order (experiments by name, runs by
 * id, metric histories, artifacts with digests, models, versions, aliases, alias histories,
 * studies with their trials):
 * two registries hold the same thing when their dumps are equal. Experiment ids, which each
 * backend assigns, are replaced by experiment names.
 *
 * @example
 * expect(await dumpRegistry(copy)).toStrictEqual(await dumpRegistry(original));
 */
export async function dumpRegistry(store: RegistryStore): Promise<Record<string, unknown>> {
  const experiments = await store.listExperiments();
  const names = new Map(
    experiments.map((experiment) => [experiment.experimentId, experiment.name]),
  );
  const runs = [];
  for (const run of (await store.searchRuns({ maxResults: 50_000 })).sort((a, b) =>
    a.runId < b.runId ? -1 : 1,
  )) {
    const metrics: Record<string, unknown> = {};
    for (const key of Object.keys(run.metrics).sort()) {
      metrics[key] = await store.getMetricHistory(run.runId, key);
    }
    runs.push({
      ...run,
      experimentId: names.get(run.experimentId),
      metricHistory: metrics,
      artifacts: await store.listArtifacts(run.runId),
    });
  }
  const models = [];
  for (const model of await store.listRegisteredModels()) {
    models.push({
      model,
      versions: await store.listModelVersions(model.name),
      history: await store.getAliasHistory(model.name),
    });
  }
  const studies = [];
  for (const study of (await store.studies?.listStudies()) ?? []) {
    studies.push({
      study: { ...study, experimentId: names.get(study.experimentId) },
      trials: await store.studies!.listTrials(study.name),
    });
  }
  return {
    experiments: experiments
      .map(({ name, tags }) => ({ name, tags }))
      .sort((a, b) => (a.name < b.name ? -1 : 1)),
    runs,
    models,
    studies,
  };
}
