import { randomBytes } from "node:crypto";
import { expectMlopsError } from "@mlops/core/testing";
import pg from "pg";
import { describe, expect, inject, it } from "vitest";
import { BinaryCopyReader, CHUNK_BYTES, parseBinaryCopy } from "./artifacts.js";
import { openPostgresStore } from "./store.js";
import { freshSchemaUrl } from "./testing/index.js";

async function drain(stream: AsyncIterable<Uint8Array>): Promise<void> {
  for await (const _ of stream) {
    // read to the end
  }
}

describe("blobs read back in PostgreSQL's binary COPY format", () => {
  it("come back whole, and a missing or changed chunk is artifact_corrupt", async () => {
    const store = await openPostgresStore(freshSchemaUrl(inject("postgresUrl")));
    const admin = new pg.Client({ connectionString: inject("postgresUrl") });
    await admin.connect();
    try {
      // Three chunks, the last one short; every byte value, NUL and 0xff included.
      const bytes = randomBytes(2 * CHUNK_BYTES + 1000);
      bytes.fill(0, 0, 256);
      bytes.fill(0xff, 256, 512);
      const { digest } = await store.artifacts.put(bytes);
      expect(Buffer.from(await store.artifacts.get(digest)).equals(bytes)).toBe(true);
      const streamed: Uint8Array[] = [];
      for await (const chunk of store.artifacts.stream(digest)) streamed.push(chunk);
      expect(streamed.map((chunk) => chunk.byteLength)).toEqual([CHUNK_BYTES, CHUNK_BYTES, 1000]);
      expect(Buffer.concat(streamed).equals(bytes)).toBe(true);
      // A reader that stops after the first chunk leaves the store usable.
      for await (const _ of store.artifacts.stream(digest)) break;
      expect(await store.artifacts.has(digest)).toBe(true);
      const empty = await store.artifacts.put(new Uint8Array(0));
      expect(await store.artifacts.get(empty.digest)).toEqual(new Uint8Array(0));

      const blob = `SELECT blob_id FROM ${store.schema}.blobs WHERE digest = $1`;
      await admin.query(
        `UPDATE ${store.schema}.blob_chunks SET data = set_byte(data, 5, get_byte(data, 5) # 1)
         WHERE blob_id = (${blob}) AND chunk = 1`,
        [digest],
      );
      const changed = await expectMlopsError(store.artifacts.get(digest), "artifact_corrupt");
      expect(changed.message).toContain(`blob ${digest}`);
      await expectMlopsError(drain(store.artifacts.stream(digest)), "artifact_corrupt");
      await admin.query(
        `DELETE FROM ${store.schema}.blob_chunks WHERE blob_id = (${blob}) AND chunk = 1`,
        [digest],
      );
      await expectMlopsError(store.artifacts.get(digest), "artifact_corrupt");
      await expectMlopsError(drain(store.artifacts.stream(digest)), "artifact_corrupt");
      await expectMlopsError(store.artifacts.get(`sha256:${"0".repeat(64)}`), "artifact_corrupt");
    } finally {
      await admin.end();
      await store.close();
    }
  });

  it("reads rows from buffers cut anywhere, holding back an unfinished row", () => {
    const header = Buffer.concat([
      Buffer.from("PGCOPY\n\xff\r\n\0", "latin1"),
      Buffer.from([0, 0, 0, 0, 0, 0, 0, 0]),
    ]);
    const row = (value: number) => Buffer.from([0, 1, 0, 0, 0, 1, value]);
    const all = Buffer.concat([header, row(1), row(2), row(3), Buffer.from([0xff, 0xff])]);
    for (const cut of [1, 7, 19, 20, 26, 33]) {
      const reader = new BinaryCopyReader();
      const rows = [...reader.push(all.subarray(0, cut)), ...reader.push(all.subarray(cut))];
      reader.end();
      expect(
        rows.map(([field]) => field![0]),
        `cut at ${cut}`,
      ).toEqual([1, 2, 3]);
    }
    const reader = new BinaryCopyReader();
    expect(reader.push(Buffer.concat([header, row(1).subarray(0, 5)]))).toEqual([]);
    expect(reader.push(row(1).subarray(5))).toEqual([[Buffer.from([1])]]);
  });

  it("parses rows and nulls, and refuses data that is not the format", () => {
    const header = Buffer.concat([
      Buffer.from("PGCOPY\n\xff\r\n\0", "latin1"),
      Buffer.from([0, 0, 0, 0, 0, 0, 0, 0]),
    ]);
    const row = Buffer.from([0, 2, 0, 0, 0, 2, 7, 8, 0xff, 0xff, 0xff, 0xff]);
    const trailer = Buffer.from([0xff, 0xff]);
    expect(parseBinaryCopy(Buffer.concat([header, row, trailer]))).toEqual([
      [Buffer.from([7, 8]), null],
    ]);
    expect(() => parseBinaryCopy(Buffer.concat([header, row]))).toThrow(/no trailer/);
    expect(() => parseBinaryCopy(Buffer.concat([header, row.subarray(0, 7)]))).toThrow(
      /past the end/,
    );
    expect(() => parseBinaryCopy(Buffer.from("PGCOPY\n\0\r\n\0 not binary"))).toThrow(/signature/);
  });
});
