import type { AliasWatchEvent } from "@mlops/core";
import { expectMlopsError } from "@mlops/core/testing";
import pg from "pg";
import { describe, expect, inject, it } from "vitest";
import { aliasMovedPayload, parseNotification } from "./events.js";
import { openPostgresStore } from "./store.js";
import { freshSchemaUrl } from "./testing/index.js";

/** Collects events and lets a test wait until one matches. */
function recorder() {
  const events: AliasWatchEvent[] = [];
  const waiters: { match: (event: AliasWatchEvent) => boolean; resolve: () => void }[] = [];
  return {
    events,
    listener: (event: AliasWatchEvent) => {
      events.push(event);
      for (const waiter of [...waiters]) {
        if (waiter.match(event)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve();
        }
      }
    },
    until: (match: (event: AliasWatchEvent) => boolean) =>
      new Promise<void>((resolve) => {
        if (events.some(match)) resolve();
        else waiters.push({ match, resolve });
      }),
  };
}

describe("notification payloads", () => {
  const digest = `sha256:${"ab".repeat(32)}`;
  it("read moves (with or without a type, digest and aliases) and registered versions", () => {
    expect(parseNotification('{"name":"wine","alias":"production","version":2}')).toEqual({
      type: "alias_moved",
      name: "wine",
      alias: "production",
      version: 2,
    });
    expect(
      parseNotification(
        aliasMovedPayload({ name: "wine", alias: "a", version: 2, digest, aliases: { a: 2 } }),
      ),
    ).toEqual({
      type: "alias_moved",
      name: "wine",
      alias: "a",
      version: 2,
      digest,
      aliases: { a: 2 },
    });
    expect(
      parseNotification(
        JSON.stringify({ type: "version_created", name: "wine", version: 3, digest }),
      ),
    ).toEqual({ type: "version_created", name: "wine", version: 3, digest });
  });

  it("refuse what they cannot read (the watcher then resyncs)", () => {
    for (const payload of [
      "not json",
      '{"alias":"a","version":1}',
      '{"name":"wine","alias":"a","version":0}',
      '{"type":"version_created","name":"wine","version":1,"digest":"sha256:00"}',
      '{"type":"renamed","name":"wine"}',
    ]) {
      expect(() => parseNotification(payload), payload).toThrow();
    }
  });

  it("leave the aliases and digest out rather than pass PostgreSQL's 8000-byte limit", () => {
    const aliases = Object.fromEntries(
      Array.from({ length: 400 }, (_, index) => [`alias-${index}-${"x".repeat(20)}`, 1]),
    );
    const payload = aliasMovedPayload({ name: "wine", alias: "a", version: 1, digest, aliases });
    expect(Buffer.byteLength(payload)).toBeLessThan(8000);
    expect(parseNotification(payload)).toEqual({
      type: "alias_moved",
      name: "wine",
      alias: "a",
      version: 1,
    });
  });
});

describe("alias events over LISTEN/NOTIFY", () => {
  it("deliver every committed move, from any process's store, and nothing rolled back", async () => {
    const url = freshSchemaUrl(inject("postgresUrl"));
    const watcher = await openPostgresStore(url);
    const writer = await openPostgresStore(url);
    const other = await openPostgresStore(freshSchemaUrl(inject("postgresUrl")));
    try {
      const { listener, events, until } = recorder();
      const stop = await watcher.watchAliases!(listener);
      const one = await writer.createModelVersion("wine", { artifact: new Uint8Array([1]) });
      const two = await writer.createModelVersion("wine", { artifact: new Uint8Array([2]) });
      // Another registry in the same database is another channel.
      await other.createModelVersion("wine", { artifact: new Uint8Array([1]) });
      await other.setAlias("wine", "production", 1);
      // A move that fails (unknown version) commits nothing and announces nothing.
      await expectMlopsError(writer.setAlias("wine", "production", 9), "registry_not_found");
      await writer.setAlias("wine", "production", 1);
      await writer.setAlias("wine", "staging", 1);
      await writer.setAlias("wine", "production", 2);
      await writer.deleteAlias("wine", "production");
      await until((event) => event.type === "alias_moved" && event.version === null);
      // Each move names the version's digest and the model's aliases after it: a replica
      // switches without reading the registry back.
      expect(events).toEqual([
        { type: "version_created", name: "wine", version: 1, digest: one.digest },
        { type: "version_created", name: "wine", version: 2, digest: two.digest },
        {
          type: "alias_moved",
          name: "wine",
          alias: "production",
          version: 1,
          digest: one.digest,
          aliases: { production: 1 },
        },
        {
          type: "alias_moved",
          name: "wine",
          alias: "staging",
          version: 1,
          digest: one.digest,
          aliases: { production: 1, staging: 1 },
        },
        {
          type: "alias_moved",
          name: "wine",
          alias: "production",
          version: 2,
          digest: two.digest,
          aliases: { production: 2, staging: 1 },
        },
        {
          type: "alias_moved",
          name: "wine",
          alias: "production",
          version: null,
          aliases: { staging: 1 },
        },
      ]);
      await stop();
    } finally {
      await Promise.all([watcher.close(), writer.close(), other.close()]);
    }
  });

  it("reconnect after the connection drops and ask watchers to resync", async () => {
    const url = freshSchemaUrl(inject("postgresUrl"));
    const watcher = await openPostgresStore(url);
    const writer = await openPostgresStore(url);
    const admin = new pg.Client({ connectionString: inject("postgresUrl") });
    await admin.connect();
    try {
      const { listener, until } = recorder();
      await watcher.watchAliases!(listener);
      await writer.createModelVersion("wine", { artifact: new Uint8Array([1]) });
      const { rows } = await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE application_name = 'mlops-listen' AND query LIKE $1`,
        [`%${watcher.schema}%`],
      );
      expect(rows).toHaveLength(1);
      await until((event) => event.type === "resync");
      await writer.setAlias("wine", "production", 1);
      await until((event) => event.type === "alias_moved" && event.version === 1);
    } finally {
      await admin.end();
      await Promise.all([watcher.close(), writer.close()]);
    }
  });
});
