import { afterEach, describe, expect, it, vi } from "vitest";
import { createInferenceApp, type InferenceAppOptions } from "../app/app.js";
import { type RunningServer, serve } from "../node/serve.js";
import { predictRoute } from "../protocols/custom.js";
import { get, json, linearArtifact, post } from "../testing/fixtures.js";
import {
  API_KEY_HASHES_ENV,
  apiKeyGuard,
  hashApiKey,
  parseApiKeyHashes,
  resolveApiKeys,
} from "./api-keys.js";

const PREDICT_KEY = "predict-key-0123";
const ADMIN_KEY = "admin-key-4567";
const BOTH_KEY = "both-key-89ab";

const row = { rooms: 2, area: 10, color: "red" };
const keys = [
  { name: "shop", sha256: hashApiKey(PREDICT_KEY), scopes: ["predict"] as const },
  { name: "ops", sha256: hashApiKey(ADMIN_KEY), scopes: ["admin"] as const },
  { name: "ci", sha256: hashApiKey(BOTH_KEY).toUpperCase(), scopes: ["predict", "admin"] as const },
];

const custom = predictRoute({
  model: "houses",
  path: "/api/price",
  mapRequest: (body: Record<string, unknown>) => body,
  mapResponse: ([price]) => ({ price }),
});

function app(options: Partial<InferenceAppOptions> = {}) {
  return createInferenceApp({
    models: [{ name: "houses", artifact: linearArtifact() }],
    metrics: { processMetrics: false },
    routes: [custom],
    auth: { keys },
    ...options,
  });
}

type Call = (headers: Record<string, string>) => Request;

/** One request of every route, by the family (route scope) it belongs to. */
const families: Record<"health" | "metadata" | "metrics" | "predict", [string, Call][]> = {
  health: [
    ["GET /v2/health/live", (h) => get("/v2/health/live", h)],
    ["GET /v2/health/ready", (h) => get("/v2/health/ready", h)],
    ["GET /v2/models/houses/ready", (h) => get("/v2/models/houses/ready", h)],
    ["GET /ping", (h) => get("/ping", h)],
    ["GET /health", (h) => get("/health", h)],
    ["GET /version", (h) => get("/version", h)],
  ],
  metadata: [
    ["GET /v1/models", (h) => get("/v1/models", h)],
    ["GET /v1/models/houses", (h) => get("/v1/models/houses", h)],
    ["GET /v2", (h) => get("/v2", h)],
    ["GET /v2/models/houses", (h) => get("/v2/models/houses", h)],
    ["GET /v2/models/houses/versions/1", (h) => get("/v2/models/houses/versions/1", h)],
  ],
  metrics: [["GET /metrics", (h) => get("/metrics", h)]],
  predict: [
    ["POST /v1/models/houses/predict", (h) => post("/v1/models/houses/predict", row, h)],
    [
      "POST /v2/models/houses/infer",
      (h) =>
        post(
          "/v2/models/houses/infer",
          {
            inputs: [
              { name: "rooms", shape: [1], datatype: "INT64", data: [2] },
              { name: "area", shape: [1], datatype: "FP64", data: [10] },
              { name: "color", shape: [1], datatype: "BYTES", data: ["red"] },
            ],
          },
          h,
        ),
    ],
    ["POST /invocations", (h) => post("/invocations", { dataframe_records: [row] }, h)],
    ["POST /api/price", (h) => post("/api/price", row, h)],
  ],
};

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

describe("API keys: hashes and configuration", () => {
  it("hashes keys with sha256 (a published test vector)", () => {
    expect(hashApiKey("abc")).toBe(
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
  });

  it("parses MLOPS_API_KEY_HASHES entries (hex:scope+scope; hex alone = predict)", () => {
    const a = hashApiKey("a");
    const b = hashApiKey("b");
    expect(parseApiKeyHashes(`${a}:predict+admin, ${b.toUpperCase()}\n`)).toEqual([
      { sha256: a, scopes: ["predict", "admin"] },
      { sha256: b, scopes: ["predict"] },
    ]);
    expect(parseApiKeyHashes("")).toEqual([]);
    expect(() => parseApiKeyHashes("abc:predict")).toThrow(
      'MLOPS_API_KEY_HASHES: entry 1 must start with a sha256 hash (64 hex digits), got "abc"',
    );
    expect(() => parseApiKeyHashes(`${a}:predict,${b}:root`, "--api-key-hash")).toThrow(
      '--api-key-hash: entry 2 has scopes "root"; expected predict and/or admin joined by "+"',
    );
    expect(() => parseApiKeyHashes(`${a}:`)).toThrow(/entry 1 has scopes ""/);
  });

  it("reads keys from the environment only when none are given", () => {
    const env = { [API_KEY_HASHES_ENV]: `${hashApiKey("x")}:admin` };
    expect(resolveApiKeys(undefined, env)).toEqual([
      { sha256: hashApiKey("x"), scopes: ["admin"] },
    ]);
    expect(resolveApiKeys({ keys: [] }, env)).toEqual([]);
    expect(resolveApiKeys(undefined, {})).toBeUndefined();
    expect(resolveApiKeys(undefined, { [API_KEY_HASHES_ENV]: "  " })).toBeUndefined();
  });

  it("refuses bad configuration instead of serving unprotected", () => {
    expect(() => app({ auth: { keys: [] } })).toThrow("auth.keys: list at least one key");
    expect(() => app({ auth: { keys: [{ sha256: "nope", scopes: ["predict"] }] } })).toThrow(
      "auth.keys[0].sha256: expected the key's sha256 as 64 hex digits (hashApiKey(key))",
    );
    expect(() =>
      app({
        auth: { keys: [{ name: "x", sha256: hashApiKey("k"), scopes: ["root" as "admin"] }] },
      }),
    ).toThrow('auth.keys[0] ("x").scopes: expected a non-empty list of predict, admin');
    expect(() => app({ auth: { keys, scopes: { predict: "everything" as "admin" } } })).toThrow(
      /auth.scopes.predict: expected predict, admin or null/,
    );
    vi.stubEnv(API_KEY_HASHES_ENV, "");
    try {
      expect(() => app({ auth: {} })).toThrow(
        "auth: no keys; give auth.keys or set MLOPS_API_KEY_HASHES (or pass auth: false)",
      );
    } finally {
      vi.unstubAllEnvs();
    }
  });
});

describe("API keys on every route family (fetch)", () => {
  it("health routes stay open without a key", async () => {
    const served = app();
    for (const [label, call] of families.health) {
      expect((await served.fetch(call({}))).status, label).toBe(200);
    }
  });

  for (const [family, needed, other] of [
    ["predict", PREDICT_KEY, ADMIN_KEY],
    ["metadata", ADMIN_KEY, PREDICT_KEY],
    ["metrics", ADMIN_KEY, PREDICT_KEY],
  ] as const) {
    it(`${family}: 401 with no or an unknown key, 403 without the scope, else 200`, async () => {
      const served = app();
      for (const [label, call] of families[family]) {
        const missing = await served.fetch(call({}));
        expect(missing.status, label).toBe(401);
        expect(missing.headers.get("www-authenticate"), label).toBe('Bearer realm="mlops-serve"');
        const body = await missing.text();
        expect(body, label).toContain("an API key is required");

        for (const headers of [bearer("wrong-key"), { "x-api-key": "wrong-key" }]) {
          const invalid = await served.fetch(call(headers));
          expect(invalid.status, label).toBe(401);
          expect(invalid.headers.get("www-authenticate"), label).toBe(
            'Bearer realm="mlops-serve", error="invalid_token"',
          );
        }
        // A scheme other than Bearer presents no key.
        expect((await served.fetch(call({ authorization: `Basic ${needed}` }))).status).toBe(401);

        const forbidden = await served.fetch(call(bearer(other)));
        expect(forbidden.status, label).toBe(403);
        expect(forbidden.headers.get("www-authenticate"), label).toContain(
          'error="insufficient_scope"',
        );
        expect(await forbidden.text(), label).toContain("scope");

        for (const headers of [bearer(needed), { "x-api-key": needed }, bearer(BOTH_KEY)]) {
          const allowed = await served.fetch(call(headers));
          expect(allowed.status, `${label} ${JSON.stringify(headers)}`).toBe(200);
        }
      }
    });
  }

  it("answers in each protocol's error style (OIP: {error: message})", async () => {
    const served = app();
    const oip = await served.fetch(families.predict[1][1]({}));
    expect(await json(oip)).toEqual({ error: "an API key is required" });
    const rest = await served.fetch(families.metadata[0][1](bearer(PREDICT_KEY)));
    expect(await json(rest)).toEqual({
      error: { code: "forbidden", message: 'the API key does not have the "admin" scope' },
    });
  });

  it("scopes per route family are configurable (null = open)", async () => {
    const served = app({ auth: { keys, scopes: { metadata: "predict", metrics: null } } });
    expect((await served.fetch(get("/metrics"))).status).toBe(200);
    expect((await served.fetch(get("/v1/models", bearer(PREDICT_KEY)))).status).toBe(200);
    expect((await served.fetch(get("/v1/models", bearer(ADMIN_KEY)))).status).toBe(403);
  });

  it("takes keys from MLOPS_API_KEY_HASHES; auth: false turns it off", async () => {
    vi.stubEnv(API_KEY_HASHES_ENV, `${hashApiKey("from-env")}:predict`);
    try {
      const fromEnv = createInferenceApp({
        models: [{ name: "houses", artifact: linearArtifact() }],
      });
      expect((await fromEnv.fetch(post("/v1/models/houses/predict", row))).status).toBe(401);
      const ok = await fromEnv.fetch(post("/v1/models/houses/predict", row, bearer("from-env")));
      expect(ok.status).toBe(200);
      const off = createInferenceApp({
        models: [{ name: "houses", artifact: linearArtifact() }],
        auth: false,
      });
      expect((await off.fetch(post("/v1/models/houses/predict", row))).status).toBe(200);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it("apiKeyGuard works as a plain guard", () => {
    const guard = apiKeyGuard({ keys: [{ sha256: hashApiKey("k"), scopes: ["predict"] }] });
    const request = (headers: Record<string, string>) => ({
      route: { name: "v1_predict", scope: "predict" as const, protocol: "rest" as const },
      method: "POST",
      path: "/v1/models/x/predict",
      header: (name: string) => headers[name],
    });
    expect(() => guard(request({ "x-api-key": "k" }))).not.toThrow();
    expect(() => guard(request({ authorization: "bearer   k " }))).not.toThrow();
    expect(() => guard(request({ "x-api-key": "K" }))).toThrow("the API key is not valid");
  });
});

describe("API keys over real HTTP (the Node fast path)", () => {
  const servers: RunningServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });

  it("refuses and admits on every prediction route as through fetch", async () => {
    const server = await serve(app(), { port: 0 });
    servers.push(server);
    for (const [label, call] of [...families.predict, ...families.metadata, ...families.health]) {
      const toHttp = async (headers: Record<string, string>) => {
        const request = call(headers);
        const path = new URL(request.url).pathname;
        return fetch(`${server.url}${path}`, {
          method: request.method,
          headers: request.headers,
          body: request.method === "GET" ? undefined : await request.text(),
        });
      };
      const isHealth = families.health.some(([name]) => name === label);
      const missing = await toHttp({});
      expect(missing.status, label).toBe(isHealth ? 200 : 401);
      if (isHealth) continue;
      expect(missing.headers.get("www-authenticate"), label).toBe('Bearer realm="mlops-serve"');
      expect((await toHttp({ "x-api-key": "nope" })).status, label).toBe(401);
      expect((await toHttp(bearer(BOTH_KEY))).status, label).toBe(200);
    }
  });
});
