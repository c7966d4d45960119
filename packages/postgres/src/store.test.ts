import {
  describeRegistryStoreConformance,
  describeStudyStoreConformance,
} from "@mlops/core/testing";
import { inject } from "vitest";
import { openPostgresStore } from "./store.js";
import { freshSchemaUrl } from "./testing/index.js";

describeRegistryStoreConformance("PostgresStore", async () =>
  openPostgresStore(freshSchemaUrl(inject("postgresUrl"))),
);

// Stores opened on the same URL share the schema, as workers on other machines would.
const urls = new WeakMap<object, string>();
describeStudyStoreConformance(
  "PostgresStore",
  async () => {
    const url = freshSchemaUrl(inject("postgresUrl"));
    const store = await openPostgresStore(url);
    urls.set(store, url);
    return store;
  },
  async (store) => {
    const again = await openPostgresStore(urls.get(store)!);
    urls.set(again, urls.get(store)!);
    return again;
  },
);
