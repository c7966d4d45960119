// The feedback store on its own: ring wrap-around, replacement and eviction by count, bounded
// arrays, gone ids, shadows and the JSON Lines file — all driven by counts and an injected clock.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRandom } from "@mlops/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ServeError } from "../errors.js";
import { FeedbackStore, type JoinedFeedback, type PredictionOwner } from "./feedback.js";
import { HashIndex, hashId, ID_HASH } from "./rings.js";

const house: PredictionOwner = { name: "house", version: "1", variant: null };
const challenger: PredictionOwner = { name: "house", version: "2", variant: "house@challenger" };

let clock = 0;
const now = () => clock;

/** Joins one item; the ServeError's code when it is refused. */
function joinOne(store: FeedbackStore, item: unknown): JoinedFeedback[] | string {
  try {
    return store.join([item], true);
  } catch (error) {
    if (error instanceof ServeError) return error.code;
    throw error;
  }
}

describe("HashIndex", () => {
  it("agrees with a Map through inserts, overwrites and deletes (wrapping probe chains)", () => {
    const random = createRandom(7);
    const index = new HashIndex(16);
    const reference = new Map<string, number>();
    // Few distinct low bits, so probe chains are long and wrap around the table's end.
    const keys = Array.from({ length: 600 }, (_, i) => [random.int(1 << 30), (i * 64) | 63]);
    for (let step = 0; step < 20_000; step++) {
      const [high, low] = keys[random.int(keys.length)];
      const key = `${high}:${low}`;
      if (random.next() < 0.4) {
        expect(index.delete(high, low)).toBe(reference.delete(key));
      } else {
        index.set(high, low, step);
        reference.set(key, step);
      }
      if (step % 1000 === 0) {
        for (const [h, l] of keys) expect(index.get(h, l)).toBe(reference.get(`${h}:${l}`) ?? -1);
      }
    }
    expect(index.size).toBe(reference.size);
    for (const [h, l] of keys) expect(index.get(h, l)).toBe(reference.get(`${h}:${l}`) ?? -1);
  });

  it("hashes ids to 64 bits that differ for near-identical ids", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 100_000; i++) {
      hashId(`req-${i}`);
      seen.add(`${ID_HASH[0]}:${ID_HASH[1]}`);
    }
    expect(seen.size).toBe(100_000);
    hashId("a");
    const a = [...ID_HASH];
    hashId("a");
    expect([...ID_HASH]).toEqual(a);
  });
});

describe("FeedbackStore rings", () => {
  it("keeps the newest predictions across many wrap-arounds and joins each to its own values", () => {
    clock = 0;
    // 7 predictions and 10 rows at most: requests of 1 to 4 rows make the row ring wrap in the
    // middle of a request again and again.
    const store = new FeedbackStore({ capacity: 7, maxRows: 10 }, now);
    const random = createRandom(3);
    const made: { id: string; values: Float64Array }[] = [];
    for (let i = 0; i < 500; i++) {
      const rows = 1 + random.int(4);
      const values = Float64Array.from({ length: rows }, (_, row) => i * 10 + row);
      const id = `p${i}`;
      store.remember(id, house, rows === 1 ? values[0] : values);
      made.push({ id, values });
    }
    // What should be kept: the newest requests while at most 7 and at most 10 rows.
    const expected: typeof made = [];
    let rows = 0;
    for (let i = made.length - 1; i >= 0; i--) {
      if (expected.length === 7 || rows + made[i].values.length > 10) break;
      expected.unshift(made[i]);
      rows += made[i].values.length;
    }
    expect(store.size).toBe(expected.length);
    for (const { id, values } of expected) {
      const actual = Array.from(values, (value) => value + 0.5);
      const joined = joinOne(store, { id, actual: values.length === 1 ? actual[0] : actual });
      expect(joined).toEqual(
        Array.from(values, (value) => ({ owner: house, predicted: value, actual: value + 0.5 })),
      );
    }
    const dropped = made[made.length - expected.length - 1];
    expect(joinOne(store, { id: dropped.id, actual: 0 })).toBe("feedback_expired");
  });

  it("a repeated id replaces the kept prediction; size counts it once", () => {
    clock = 0;
    const store = new FeedbackStore({ capacity: 3 }, now);
    store.remember("same", house, 1);
    store.remember("other", house, 2);
    store.remember("same", house, 3);
    expect(store.size).toBe(2);
    expect(joinOne(store, { id: "same", actual: 10 })).toEqual([
      { owner: house, predicted: 3, actual: 10 },
    ]);
    expect(joinOne(store, { id: "same", actual: 10 })).toBe("feedback_duplicate");
    // The replaced entry's slot leaves the ring first, and its id is not marked gone.
    store.remember("x", house, 4);
    expect(store.size).toBe(3);
    expect(store.footprint.gone).toBe(0);
    store.remember("y", house, 5);
    expect(store.footprint.gone).toBe(1);
    expect(joinOne(store, { id: "other", actual: 2 })).toBe("feedback_expired");
    expect(joinOne(store, { id: "x", actual: 4 })).toEqual([
      { owner: house, predicted: 4, actual: 4 },
    ]);
  });

  it("a request of more rows than the store keeps is pushed out at once", () => {
    clock = 0;
    const store = new FeedbackStore({ capacity: 5, maxRows: 4 }, now);
    store.remember("small", house, Float64Array.of(1, 2));
    store.remember("huge", house, new Float64Array(5));
    expect(joinOne(store, { id: "huge", actual: [1, 2, 3, 4, 5] })).toBe("feedback_expired");
    expect(store.size).toBe(1);
    expect(joinOne(store, { id: "small", index: 1, actual: 2 })).toHaveLength(1);
  });

  it("its arrays stop growing once full: the same lengths after 2× and 40× its capacity", () => {
    clock = 0;
    const capacity = 100;
    const store = new FeedbackStore({ capacity }, now);
    let i = 0;
    const run = (count: number) => {
      for (const end = i + count; i < end; i++) {
        store.remember(`id-${i}`, i % 3 === 0 ? challenger : house, i);
        if (i % 2 === 0) store.remember(`id-${i}`, challenger, i + 0.5, true);
        if (i % 5 === 0) joinOne(store, { id: `id-${i}`, actual: i });
      }
    };
    run(2 * capacity);
    const full = store.footprint;
    run(38 * capacity);
    expect(store.footprint).toEqual(full);
    expect(full.kept).toBe(capacity);
    expect(full.gone).toBe(capacity);
    expect(full.allocated.predictions).toBe(capacity);
    expect(full.allocated.gone).toBe(capacity);
    expect(full.allocated.shadowPredictions).toBeLessThanOrEqual(capacity);
    expect(full.allocated.rows).toBeLessThanOrEqual(2 * capacity);
    expect(full.allocated.index).toBeLessThanOrEqual(4 * capacity);
    expect(full.allocated.goneIndex).toBeLessThanOrEqual(4 * capacity);
    // The newest `capacity` are kept; the `capacity` before them are gone (410); older: unknown.
    expect(joinOne(store, { id: `id-${i - 1}`, actual: 0 })).toHaveLength(1);
    expect(joinOne(store, { id: `id-${i - capacity - 1}`, actual: 0 })).toBe("feedback_expired");
    expect(joinOne(store, { id: `id-${i - 2 * capacity - 1}`, actual: 0 })).toBe(
      "feedback_unknown_id",
    );
  });

  it("expired ids are told 410 until `capacity` newer ones have gone, then 404", () => {
    clock = 0;
    const store = new FeedbackStore({ capacity: 4, ttlMs: 1000 }, now);
    store.remember("old", house, 1);
    clock = 1001;
    expect(joinOne(store, { id: "old", actual: 1 })).toBe("feedback_expired");
    for (let i = 0; i < 4; i++) {
      store.remember(`n${i}`, house, i);
      clock += 1001;
    }
    store.remember("last", house, 0);
    // "old" was followed into the gone set by n0..n3: it is forgotten.
    expect(joinOne(store, { id: "old", actual: 1 })).toBe("feedback_unknown_id");
    expect(joinOne(store, { id: "n3", actual: 1 })).toBe("feedback_expired");
    expect(store.size).toBe(1);
  });

  it("shadows' predictions are scored with the answered one, in the order they came", () => {
    clock = 0;
    const store = new FeedbackStore({ capacity: 3 }, now);
    const third: PredictionOwner = { name: "house", version: "3", variant: "house@third" };
    for (let i = 0; i < 10; i++) {
      store.remember(`r${i}`, house, Float64Array.of(i, i + 1));
      store.remember(`r${i}`, challenger, Float64Array.of(i + 100, i + 101), true);
      store.remember(`r${i}`, third, Float64Array.of(i + 200, i + 201), true);
    }
    // The shadow ring holds 3 entries: r9's two and r8's second one.
    expect(joinOne(store, { id: "r9", index: 1, actual: 0 })).toEqual([
      { owner: house, predicted: 10, actual: 0 },
      { owner: challenger, predicted: 110, actual: 0, shadow: true },
      { owner: third, predicted: 210, actual: 0, shadow: true },
    ]);
    // r8's first shadow was pushed out, so its chain is gone: the answered prediction still joins.
    expect(joinOne(store, { id: "r8", index: 0, actual: 0 })).toEqual([
      { owner: house, predicted: 8, actual: 0 },
    ]);
    // A shadow for an id that is not kept is not kept either.
    store.remember("nobody", challenger, 1, true);
    expect(store.footprint.shadows).toBe(3);
  });
});

describe("FeedbackStore file", () => {
  let dir = "";
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "mlops-feedback-store-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("compacts to the kept predictions' lines and reads them back after a restart", async () => {
    clock = 0;
    const file = join(dir, "feedback.jsonl");
    const capacity = 5;
    const before = new FeedbackStore({ capacity, file }, now);
    for (let i = 0; i < 40; i++) {
      before.remember(`q${i}`, house, Float64Array.of(i, -i));
      if (i % 2 === 1) before.remember(`q${i}`, challenger, Float64Array.of(i + 0.5, 0), true);
      // Flushing after each prediction makes the compaction run as soon as it is due.
      await before.flush();
    }
    expect(joinOne(before, { id: "q39", index: 0, actual: 39 })).toHaveLength(2);
    await before.close();
    const after = new FeedbackStore({ capacity, file }, now);
    expect(await after.restore()).toBe(capacity);
    const lines = (await readFile(file, "utf8"))
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    // Only the kept ids' lines are left: q35..q39, with shadows and the one feedback.
    expect(new Set(lines.map((line) => line.id))).toEqual(
      new Set(["q35", "q36", "q37", "q38", "q39"]),
    );
    expect(lines.filter((line) => line.kind === "feedback")).toHaveLength(1);
    expect(joinOne(after, { id: "q39", index: 0, actual: 39 })).toBe("feedback_duplicate");
    expect(joinOne(after, { id: "q37", index: 1, actual: 0 })).toEqual([
      { owner: house, predicted: -37, actual: 0 },
      { owner: challenger, predicted: 0, actual: 0, shadow: true },
    ]);
    expect(joinOne(after, { id: "q0", actual: [0, 0] })).toBe("feedback_unknown_id");
    await after.close();
  });
});
