import type { RegistryStore, Run } from "@mlops/core";

export interface RunSnapshot {
  runs: Run[];
  /** When the read that produced `runs` started (ms). */
  asOf: number;
  /** A newer read is under way. */
  refreshing: boolean;
}

/**
 * Each experiment's runs, read once and kept: a folder registry with 10,000 runs takes seconds
 * to read, more than a page may wait. A request gets the kept runs at once and, when they are
 * older than `staleAfterMs`, starts a new read in the background (stale-while-revalidate); the
 * page then asks again with `wait=1`, which waits for that read, and redraws if anything changed.
 */
export class RunCache {
  readonly #store: RegistryStore;
  readonly #staleAfterMs: number;
  readonly #kept = new Map<string, { runs: Run[]; asOf: number }>();
  readonly #reading = new Map<string, Promise<{ runs: Run[]; asOf: number }>>();

  constructor(store: RegistryStore, staleAfterMs: number) {
    this.#store = store;
    this.#staleAfterMs = staleAfterMs;
  }

  #read(experimentId: string): Promise<{ runs: Run[]; asOf: number }> {
    let reading = this.#reading.get(experimentId);
    if (reading === undefined) {
      const asOf = Date.now();
      reading = this.#store
        .searchRuns({ experimentIds: [experimentId], maxResults: 50_000 })
        .then((runs) => {
          const entry = { runs, asOf };
          this.#kept.set(experimentId, entry);
          return entry;
        })
        .finally(() => this.#reading.delete(experimentId));
      this.#reading.set(experimentId, reading);
    }
    return reading;
  }

  /** The kept runs (read now if never read), refreshed in the background when stale. */
  async runs(experimentId: string): Promise<RunSnapshot> {
    const kept = this.#kept.get(experimentId);
    if (kept === undefined) return { ...(await this.#read(experimentId)), refreshing: false };
    let refreshing = this.#reading.has(experimentId);
    if (!refreshing && Date.now() - kept.asOf > this.#staleAfterMs) {
      this.#read(experimentId).catch(() => {});
      refreshing = true;
    }
    return { ...kept, refreshing };
  }

  /** Runs read after this call started (waits for a read under way, or starts one). */
  async fresh(experimentId: string): Promise<RunSnapshot> {
    return { ...(await this.#read(experimentId)), refreshing: false };
  }

  /** Reads every experiment's runs. */
  async warm(): Promise<void> {
    const experiments = await this.#store.listExperiments();
    for (const experiment of experiments) await this.#read(experiment.experimentId);
  }
}
