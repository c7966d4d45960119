import { describe, expect, it } from "vitest";
import { ModelHolder } from "./holder.js";
import {
  keyFromBody,
  parseSplitSpec,
  parseStickyKey,
  planSplit,
  stickyPoint,
  stripKeyField,
  VariantRouter,
} from "./variants.js";

function router(weights: number[], sticky = true) {
  return new VariantRouter(
    "house",
    weights.map((weight, i) => ({
      variant: `v${i}`,
      reference: `house/${i + 1}`,
      weight,
      holder: new ModelHolder("house", `house/${i + 1}`, `v${i}`),
    })),
    [],
    sticky ? { header: "x-user-id" } : undefined,
  );
}

describe("split model specs", () => {
  it("reads NAME=REF:WEIGHT,… with shadows, and leaves plain references alone", () => {
    expect(
      parseSplitSpec("house=house@production:90, house@candidate:10,house@next:shadow"),
    ).toEqual({
      name: "house",
      variants: [
        { reference: "house@production", weight: 90 },
        { reference: "house@candidate", weight: 10 },
      ],
      shadow: [{ reference: "house@next" }],
    });
    expect(parseSplitSpec("house@production")).toBeUndefined();
    expect(parseSplitSpec("red=wine@production,wine@staging")).toBeUndefined();
    expect(parseSplitSpec("house=house/3:0.5,house/4:1.5")?.variants).toEqual([
      { reference: "house/3", weight: 0.5 },
      { reference: "house/4", weight: 1.5 },
    ]);
  });

  it("says what is wrong with a bad spec", () => {
    expect(() => parseSplitSpec("house@production:90,house@candidate:10")).toThrow(
      /a split model needs a served name first: NAME=REF:WEIGHT/,
    );
    expect(() => parseSplitSpec("house=house@production:90,house@candidate")).toThrow(
      '"house@candidate" has no weight; write each variant as REF:WEIGHT',
    );
    expect(() => planSplit({ name: "house", variants: [] })).toThrow(/lists no variants/);
    expect(() =>
      planSplit({ name: "house", variants: [{ reference: "house@a", weight: -1 }] }),
    ).toThrow("expected a weight ≥ 0, got -1");
    expect(() =>
      planSplit({ name: "house", variants: [{ reference: "house@a", weight: 0 }] }),
    ).toThrow(/every variant has weight 0/);
    expect(() => planSplit({ name: "house", variants: ["house@a"], shadow: ["house@a"] })).toThrow(
      /two variants called "house@a"/,
    );
    expect(() => parseStickyKey("cookie:id")).toThrow(/expected header:NAME/);
    expect(parseStickyKey("header:X-User-Id")).toEqual({ header: "x-user-id" });
    expect(parseStickyKey("field:user_id")).toEqual({ field: "user_id" });
  });
});

describe("routing", () => {
  it("hashes a sticky key like the reference (FNV-1a 32, murmur3 finalizer)", () => {
    // Values computed independently in Python (see the comment on stickyPoint).
    expect(stickyPoint("house", "user-42")).toBe(0.43352233921177685);
    expect(stickyPoint("house", "")).toBe(0.8964726135600358);
    expect(stickyPoint("house", "ü")).toBe(0.9828768579754978);
  });

  it("sends a key to the same variant every time, in proportion to the weights", () => {
    const split = router([90, 10]);
    const counts = [0, 0];
    for (let i = 0; i < 1000; i++) {
      const first = split.pick(`user-${i}`);
      expect(split.pick(`user-${i}`)).toBe(first);
      counts[first.variant === "v0" ? 0 : 1]++;
    }
    // 120 by the reference hash; a fair coin at 10 % gives 100 ± 9.5.
    expect(counts).toEqual([880, 120]);
  });

  it("spreads requests without a key by smooth weighted round robin: exact shares", () => {
    const split = router([3, 1, 0], false);
    const order = Array.from({ length: 8 }, () => split.pick(undefined).variant);
    expect(order).toEqual(["v0", "v0", "v1", "v0", "v0", "v0", "v1", "v0"]);
    const counts = new Map<string, number>();
    for (let i = 0; i < 400; i++) {
      const variant = split.pick(undefined).variant;
      counts.set(variant, (counts.get(variant) ?? 0) + 1);
    }
    expect(Object.fromEntries(counts)).toEqual({ v0: 300, v1: 100 });
  });

  it("finds the sticky field in a row, in rows[0], and strips it from every row", () => {
    expect(keyFromBody({ rooms: 2, user: "u-1" }, "user")).toBe("u-1");
    expect(keyFromBody({ rows: [{ user: 7 }, { user: 8 }] }, "user")).toBe("7");
    expect(keyFromBody({ dataframe_records: [{ user: "a" }] }, "user")).toBe("a");
    expect(keyFromBody({ rows: [{ rooms: 1 }] }, "user")).toBeUndefined();
    expect(keyFromBody([1, 2], "user")).toBeUndefined();
    const body = {
      rows: [
        { rooms: 1, user: "a" },
        { rooms: 2, user: "b" },
      ],
    };
    expect(stripKeyField(body, "user")).toBe(true);
    expect(body).toEqual({ rows: [{ rooms: 1 }, { rooms: 2 }] });
    expect(stripKeyField({ rooms: 1 }, "user")).toBe(false);
  });
});
