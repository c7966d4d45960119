import { type AliasWatchEvent, Registry, type RegistryStore } from "@mlops/core";
import { afterEach, describe, expect, it } from "vitest";
import { createInferenceApp } from "../app/app.js";
import { linearArtifact, tempRegistry, waitFor } from "../testing/fixtures.js";
import { ArtifactCache } from "./artifact-cache.js";

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const LOOKUPS = new Set([
  "getAlias",
  "getModelVersion",
  "getLatestModelVersion",
  "listModelVersions",
]);

/**
 * A folder registry that pushes the events the test sends, as PostgreSQL's LISTEN/NOTIFY
 * would, and counts its version lookups and blob reads.
 */
function pushing(store: RegistryStore) {
  const listeners = new Set<(event: AliasWatchEvent) => void>();
  const reads = { lookups: 0, blobs: 0 };
  const artifacts = new Proxy(store.artifacts, {
    get(target, key) {
      const value = Reflect.get(target, key);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        if (key === "get" || key === "stream") reads.blobs += 1;
        return value.apply(target, args);
      };
    },
  });
  const proxy = new Proxy(store, {
    get(target, key) {
      if (key === "watchAliases") {
        return async (listener: (event: AliasWatchEvent) => void) => {
          listeners.add(listener);
          return async () => {
            listeners.delete(listener);
          };
        };
      }
      if (key === "artifacts") return artifacts;
      const value = Reflect.get(target, key);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        if (LOOKUPS.has(String(key))) reads.lookups += 1;
        if (key === "readModelArtifact") reads.blobs += 1;
        return value.apply(target, args);
      };
    },
  });
  return {
    registry: new Registry(proxy),
    reads,
    push: (event: AliasWatchEvent) => {
      for (const listener of listeners) listener(event);
    },
  };
}

async function pushedApp(reference: string) {
  const temp = await tempRegistry();
  cleanups.push(temp.cleanup);
  const registry = pushing(temp.registry.store);
  const app = createInferenceApp({
    registry: registry.registry,
    models: [reference],
    metrics: false,
    // Polling would find the moves too: only pushed events may do it here.
    watch: { intervalMs: 3_600_000 },
  });
  cleanups.push(() => app.close({ timeoutMs: 1000 }));
  await app.ready;
  await waitFor(() => app.models.pushed);
  // The reload that catches up on moves made before subscribing, then nothing runs.
  await app.models.reload("houses");
  const versions = await temp.registry.store.listModelVersions("houses");
  return { temp, app, ...registry, digests: versions.map((version) => version.digest) };
}

describe("reloads pushed with the version's digest and the model's aliases", () => {
  it("swap without a registry lookup, and moving back reads nothing at all", async () => {
    const { temp, app, reads, push, digests } = await pushedApp("houses@production");
    const served = () => app.models.get("houses")?.current;
    expect(served()?.version).toBe("1");
    const before = { ...reads };

    await temp.registry.setAlias("houses", "production", 2);
    push({
      type: "alias_moved",
      name: "houses",
      alias: "production",
      version: 2,
      digest: digests[1],
      aliases: { production: 2, staging: 2 },
    });
    await waitFor(() => served()?.version === "2");
    expect(served()?.aliases).toEqual(["production", "staging"]);
    expect(reads).toEqual({ lookups: before.lookups, blobs: before.blobs + 1 });

    await temp.registry.setAlias("houses", "production", 1);
    push({
      type: "alias_moved",
      name: "houses",
      alias: "production",
      version: 1,
      digest: digests[0],
      aliases: { production: 1, staging: 2 },
    });
    await waitFor(() => served()?.version === "1");
    expect(served()?.aliases).toEqual(["production"]);
    expect(reads).toEqual({ lookups: before.lookups, blobs: before.blobs + 1 });

    // Another alias moving to the served version relabels it, still without a lookup.
    push({
      type: "alias_moved",
      name: "houses",
      alias: "canary",
      version: 1,
      digest: digests[0],
      aliases: { canary: 1, production: 1, staging: 2 },
    });
    await waitFor(() => served()?.aliases.includes("canary") === true);
    expect(served()?.version).toBe("1");
    expect(reads).toEqual({ lookups: before.lookups, blobs: before.blobs + 1 });
  });

  it("fetch a registered version ahead, so the move to it only swaps", async () => {
    const { temp, app, reads, push } = await pushedApp("houses@production");
    const before = { ...reads };
    const created = await temp.registry.registerModel("houses", linearArtifact(70));
    push({
      type: "version_created",
      name: "houses",
      version: created.version,
      digest: created.digest,
    });
    await waitFor(() => reads.blobs === before.blobs + 1);
    expect(app.models.get("houses")?.current?.version).toBe("1");

    await temp.registry.setAlias("houses", "production", created.version);
    push({
      type: "alias_moved",
      name: "houses",
      alias: "production",
      version: created.version,
      digest: created.digest,
      aliases: { production: created.version, staging: 2 },
    });
    await waitFor(() => app.models.get("houses")?.current?.version === String(created.version));
    expect(reads).toEqual({ lookups: before.lookups, blobs: before.blobs + 1 });
  });

  it("serve a version registered under a model that follows the latest version", async () => {
    const { temp, app, reads, push } = await pushedApp("houses");
    expect(app.models.get("houses")?.current?.version).toBe("2");
    const before = { ...reads };
    const created = await temp.registry.registerModel("houses", linearArtifact(80));
    push({
      type: "version_created",
      name: "houses",
      version: created.version,
      digest: created.digest,
    });
    await waitFor(() => app.models.get("houses")?.current?.version === String(created.version));
    expect(reads).toEqual({ lookups: before.lookups, blobs: before.blobs + 1 });
  });

  it("resolve as before when a move carries no digest (an older writer)", async () => {
    const { temp, app, reads, push } = await pushedApp("houses@production");
    const before = { ...reads };
    await temp.registry.setAlias("houses", "production", 2);
    push({ type: "alias_moved", name: "houses", alias: "production", version: 2 });
    await waitFor(() => app.models.get("houses")?.current?.version === "2");
    expect(reads.lookups).toBeGreaterThan(before.lookups);
  });
});

describe("ArtifactCache", () => {
  const artifact = linearArtifact(1);
  const read = (sizeBytes: number) => async () => ({ artifact, sizeBytes });

  it("shares one read per digest and keeps the most recently used within its budget", async () => {
    const cache = new ArtifactCache(100);
    let reads = 0;
    const counted = async () => {
      reads += 1;
      return { artifact, sizeBytes: 60 };
    };
    const [first, second] = await Promise.all([cache.load("a", counted), cache.load("a", counted)]);
    expect(first).toBe(second);
    expect(reads).toBe(1);
    await cache.load("b", read(30));
    // a (60) + b (30) fit; c (30) pushes out the least recently used: a.
    await cache.load("c", read(30));
    expect([cache.has("a"), cache.has("b"), cache.has("c")]).toEqual([false, true, true]);
    // Using b makes c the oldest.
    await cache.load("b", read(30));
    await cache.load("d", read(50));
    expect([cache.has("b"), cache.has("c"), cache.has("d")]).toEqual([true, false, true]);
    // The newest stays even when it alone is over the budget.
    await cache.load("e", read(500));
    expect(cache.size).toBe(1);
    expect(cache.has("e")).toBe(true);
  });

  it("forgets a failed read, so the next load tries again", async () => {
    const cache = new ArtifactCache(100);
    await expect(
      cache.load("a", async () => {
        throw new Error("connection lost");
      }),
    ).rejects.toThrow("connection lost");
    expect(cache.has("a")).toBe(false);
    expect(await cache.load("a", read(10))).toBe(artifact);
  });
});
