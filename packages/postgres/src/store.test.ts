import { describeRegistryStoreConformance } from "@mlops/core/testing";
import { inject } from "vitest";
import { openPostgresStore } from "./store.js";
import { freshSchemaUrl } from "./testing/index.js";

describeRegistryStoreConformance("PostgresStore", async () =>
  openPostgresStore(freshSchemaUrl(inject("postgresUrl"))),
);
