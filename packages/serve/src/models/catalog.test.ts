import { describe, expect, it } from "vitest";
import { createInferenceApp } from "../app/app.js";
import { byHand, json, post, tempRegistry } from "../testing/fixtures.js";
import { parseModelReference } from "./catalog.js";

describe("parseModelReference", () => {
  it("reads name@alias, name/version and a bare name (latest)", () => {
    expect(parseModelReference("wine@production")).toEqual({
      name: "wine",
      kind: "alias",
      alias: "production",
    });
    expect(parseModelReference("housing/3")).toEqual({
      name: "housing",
      kind: "version",
      version: 3,
    });
    expect(parseModelReference("wine")).toEqual({ name: "wine", kind: "latest" });
    expect(parseModelReference("models:/wine/2")).toEqual({
      name: "wine",
      kind: "version",
      version: 2,
    });
    expect(() => parseModelReference("wine/Production")).toThrow(/use an alias/);
    expect(() => parseModelReference("")).toThrow(/expected name@alias/);
  });
});

describe("ModelCatalog.reload and ModelHolder.swap", () => {
  it("follows an alias that moved: the new version swaps in, requests switch", async () => {
    const temp = await tempRegistry();
    try {
      const app = createInferenceApp({
        registry: temp.dir + "/.mlops",
        models: ["houses@production"],
        metrics: false,
        // Reloaded on demand here: the watcher must not get there first.
        watch: false,
      });
      await app.ready;
      const holder = app.models.get("houses")!;
      const row = { rooms: 1, area: 1, color: null };
      const before = holder.current!;
      expect(before.version).toBe("1");
      expect(await app.models.reload("houses")).toEqual({ current: before, previous: undefined });

      await temp.registry.setAlias("houses", "production", 2, { reason: "test" });
      const { current, previous } = await app.models.reload("houses");
      expect(previous).toBe(before);
      expect(current.version).toBe("2");
      expect(current.aliases).toEqual(["production", "staging"]);
      expect(holder.current).toBe(current);
      expect(holder.swaps).toBe(2);
      const response = await app.fetch(post("/v1/models/houses/predict", row));
      expect(response.headers.get("x-model-version")).toBe("2");
      expect((await json(response)).predictions).toEqual([byHand(row, 60)]);
      // A request that took the old version keeps it: versions are immutable snapshots.
      expect(before.model.predictRow!(row)).toBe(byHand(row, 50));
    } finally {
      await temp.cleanup();
    }
  });
});
