// Sends generated bad bodies to every POST route, through `app.fetch` and through the real Node
// server (the fast path included), and checks that each answer is a 4xx JSON error in the route's
// style, the same on both, and that the app still answers a good request after. Generated paths
// and methods check that the fast path routes as Hono does.

import { Agent, request as httpRequest } from "node:http";
import { createRandom, type Random } from "@mlops/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningServer, serve } from "../node/serve.js";
import { predictRoute } from "../protocols/custom.js";
import { byHand, linearArtifact, post, json as readJson } from "../testing/fixtures.js";
import { createInferenceApp } from "./app.js";

const MAX_BODY = 64 * 1024;
const MAX_ROWS = 100;
/** A token replaced by `1e400` in the JSON text (JSON.stringify cannot write it). */
const HUGE = "__HUGE_NUMBER__";

const row = { rooms: 2, area: 10, color: "red" };

interface Target {
  path: string;
  style: "rest" | "oip";
  /** Valid bodies: every generated body is derived from one of them and made invalid. */
  templates: unknown[];
  contentType?: string;
}

const targets: Target[] = [
  {
    path: "/v1/models/houses/predict",
    style: "rest",
    templates: [row, { rows: [row, { rooms: 3, area: 0.5, color: "blue" }] }],
  },
  ...["/v2/models/houses/infer", "/v2/models/houses/versions/1/infer"].map(
    (path): Target => ({
      path,
      style: "oip",
      templates: [
        {
          inputs: [
            { name: "rooms", shape: [2], datatype: "INT64", data: [2, 3] },
            { name: "area", shape: [2, 1], datatype: "FP64", data: [[10], [0.5]] },
            { name: "color", shape: [2], datatype: "BYTES", data: ["red", "blue"] },
          ],
          outputs: [{ name: "predict" }],
        },
      ],
    }),
  ),
  {
    path: "/invocations",
    style: "rest",
    templates: [
      { dataframe_split: { columns: ["color", "area", "rooms"], data: [["red", 10, 2]] } },
      { dataframe_records: [row] },
      { instances: [row] },
      { inputs: { rooms: [2], area: [10], color: ["red"] } },
    ],
  },
  { path: "/api/predict", style: "rest", templates: [{ features: row }] },
];

/** Values that no leaf of the templates accepts. */
const WRONG: unknown[] = [
  { x: 1 },
  [[1]],
  "NaN",
  "",
  "null",
  "💥\u0000\ud800\u202e",
  true,
  false,
  -1,
  HUGE,
  "1e400",
  "Infinity",
];

function pick<T>(random: Random, items: readonly T[]): T {
  return items[random.int(items.length)];
}

/** Every path to a leaf (a value that is not an object or array) of `value`. */
function leaves(value: unknown, path: (string | number)[] = []): (string | number)[][] {
  if (typeof value !== "object" || value === null) return [path];
  const entries = Array.isArray(value)
    ? value.map((v, i) => [i, v] as const)
    : Object.entries(value);
  return entries.flatMap(([key, child]) => leaves(child, [...path, key]));
}

function replaced(value: unknown, path: (string | number)[], replacement: unknown): unknown {
  if (path.length === 0) return replacement;
  const [head, ...rest] = path;
  const copy = (Array.isArray(value) ? [...value] : { ...(value as object) }) as Record<
    string | number,
    unknown
  >;
  copy[head] = replaced(copy[head], rest, replacement);
  return copy;
}

function json(value: unknown): string {
  return JSON.stringify(value).replaceAll(`"${HUGE}"`, "1e400");
}

function randomText(random: Random, length: number): string {
  const alphabet = '{}[]",:0123456789.eE+-truefalsnul \n\t\\abc😀é\u0000\ud800';
  let text = "";
  for (let i = 0; i < length; i++) text += alphabet[random.int(alphabet.length)];
  return text;
}

type Case = { body: string; contentType: string; label: string };

/** One bad body for `target`. */
function generate(random: Random, target: Target): Case {
  const template = pick(random, target.templates);
  const text = json(template);
  const kind = random.int(10);
  const jsonCase = (body: string, label: string): Case => ({
    body,
    contentType: "application/json",
    label,
  });
  switch (kind) {
    case 0:
    case 1:
    case 2: {
      const path = pick(random, leaves(template));
      const wrong = pick(random, WRONG);
      return jsonCase(
        json(replaced(template, path, wrong)),
        `leaf ${path.join(".")}=${json(wrong)}`,
      );
    }
    case 3:
      return jsonCase(text.slice(0, random.int(text.length)), "truncated");
    case 4:
      return jsonCase(randomText(random, 1 + random.int(60)), "random text");
    case 5: {
      const depth = 10_000;
      const deep = pick(random, [
        "[".repeat(depth) + "]".repeat(depth),
        '{"a":'.repeat(depth) + "1" + "}".repeat(depth),
        `{"rows":${"[".repeat(depth)}${"]".repeat(depth)}}`,
        '{"inputs":[{"name":"rooms","shape":[1],"datatype":"INT64","data":' +
          `${"[".repeat(depth)}1${"]".repeat(depth)}}]}`,
        `{"dataframe_records":${"[".repeat(depth)}${"]".repeat(depth)}}`,
      ]);
      return jsonCase(deep, "deep nesting");
    }
    case 6: {
      const many = MAX_ROWS + 1 + random.int(50);
      const body = pick(random, [
        { rows: Array(many).fill(row) },
        {
          inputs: [
            { name: "rooms", shape: [many], datatype: "INT64", data: Array(many).fill(1) },
            { name: "area", shape: [many], datatype: "FP64", data: Array(many).fill(1) },
            { name: "color", shape: [many], datatype: "BYTES", data: Array(many).fill("red") },
          ],
        },
        { dataframe_records: Array(many).fill(row) },
        { features: Array(many).fill(row) },
        { inputs: [{ name: "x", shape: [1e9, 3], datatype: "FP64", data: [] }] },
      ]);
      const oversize = random.int(4) === 0;
      return jsonCase(
        oversize ? `{"pad":"${"x".repeat(MAX_BODY)}"}` : json(body),
        oversize ? "over the body limit" : "too many rows",
      );
    }
    case 7: {
      const pollute = pick(random, [
        '{"__proto__":{"rooms":2},"area":1,"color":"red"}',
        // Fields the model does not read are ignored: a bad value keeps this body bad.
        '{"constructor":{"prototype":{"x":1}},"rooms":"2","area":1,"color":"red"}',
        '{"rows":[{"__proto__":null,"rooms":2,"area":1,"color":"red"}],"__proto__":[]}',
      ]);
      return jsonCase(pollute, "prototype keys");
    }
    case 8:
      return {
        body: text,
        contentType: pick(random, [
          "text/plain",
          "application/x-www-form-urlencoded",
          "",
          "image/png",
        ]),
        label: "content type",
      };
    default: {
      if (target.path === "/invocations") {
        const csv = pick(random, [
          "rooms,area,color\n2,10\n",
          'rooms,area,color\n2,10,"red\n',
          "rooms,area,color\nabc,10,red\n",
          "rooms,area,color\n1e400,NaN,red\n",
          "rooms,rooms\n1,2\n",
          "",
          "\uFEFF\n\n",
          `rooms,area,color\n${"2,10,red\n".repeat(MAX_ROWS + 1)}`,
          "a;b;c\n1;2;3\n",
        ]);
        return {
          body: csv,
          contentType: "text/csv",
          label: `csv ${JSON.stringify(csv.slice(0, 30))}`,
        };
      }
      const path = pick(random, leaves(template));
      return jsonCase(json(replaced(template, path, pick(random, WRONG))), "leaf (2)");
    }
  }
}

/** One answer, as both transports give it: status, content type and JSON body. */
interface Seen {
  status: number;
  contentType: string | null;
  // biome-ignore lint/suspicious/noExplicitAny: test assertions read arbitrary JSON.
  body: any;
}

async function seen(response: Response): Promise<Seen> {
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text === "" ? null : JSON.parse(text);
  } catch {
    // Not JSON: compared as text.
  }
  return { status: response.status, contentType: response.headers.get("content-type"), body };
}

/** The app with every protocol's POST route and a custom one, under small limits. */
function fuzzApp() {
  return createInferenceApp({
    models: [{ name: "houses", artifact: linearArtifact() }],
    routes: [
      predictRoute({
        model: "houses",
        path: "/api/predict",
        mapRequest: (body: { features: Record<string, unknown> }) => body.features,
        mapResponse: (predictions) => ({ predictions }),
      }),
    ],
    limits: { maxBodyBytes: MAX_BODY, maxBatchRows: MAX_ROWS },
    metrics: { processMetrics: false },
    watch: false,
  });
}

/** Cases per transport: a count, never a time budget. */
const CASES = 1200;

describe("fuzz: generated bad bodies", () => {
  let app: ReturnType<typeof fuzzApp>;
  let server: RunningServer;
  let agent: Agent;

  beforeAll(async () => {
    app = fuzzApp();
    await app.ready;
    server = await serve(app, { port: 0 });
    agent = new Agent({ keepAlive: true, maxSockets: 4 });
  });

  afterAll(async () => {
    agent?.destroy();
    await server?.close();
    await app?.close();
  });

  /** The same request through the real Node server (fast path included). */
  function overNode(method: string, path: string, headers: Record<string, string>, body?: string) {
    return new Promise<Seen>((resolve, reject) => {
      const request = httpRequest(
        {
          agent,
          host: "127.0.0.1",
          port: server.port,
          method,
          path,
          // A body always says its length (Node's client sends a DELETE's body without one).
          headers:
            body === undefined
              ? headers
              : { ...headers, "content-length": String(Buffer.byteLength(body)) },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on("data", (chunk: Buffer) => chunks.push(chunk));
          response.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            let parsed: unknown = text;
            try {
              parsed = text === "" ? null : JSON.parse(text);
            } catch {
              // Not JSON: compared as text.
            }
            const type = response.headers["content-type"];
            resolve({
              status: response.statusCode ?? 0,
              contentType: typeof type === "string" ? type : null,
              body: parsed,
            });
          });
          response.on("error", reject);
        },
      );
      request.on("error", reject);
      request.end(body);
    });
  }

  it("every answer is a 4xx JSON error, the same through fetch and the Node server", async () => {
    const random = createRandom(20_240_501);
    const statuses = new Map<number, number>();
    for (let i = 0; i < CASES; i++) {
      const target = targets[i % targets.length];
      const { body, contentType, label } = generate(random, target);
      const headers: Record<string, string> =
        contentType === "" ? {} : { "content-type": contentType };
      const where = `${target.path} ${label}: ${body.slice(0, 120)}`;
      // Bytes, not a string: a web Request would add "text/plain" to a string body that has no
      // content type, and the Node client sends none.
      const viaFetch = await seen(
        await app.fetch(
          new Request(`http://localhost${target.path}`, {
            method: "POST",
            headers,
            body: new TextEncoder().encode(body),
          }),
        ),
      );
      const viaNode = await overNode("POST", target.path, headers, body);
      statuses.set(viaFetch.status, (statuses.get(viaFetch.status) ?? 0) + 1);
      expect(viaFetch.status, where).toBeGreaterThanOrEqual(400);
      expect(viaFetch.status, where).toBeLessThan(500);
      expect(viaFetch.contentType, where).toBe("application/json");
      if (target.style === "oip") expect(typeof viaFetch.body.error, where).toBe("string");
      else expect(typeof viaFetch.body.error?.code, where).toBe("string");
      // The fast path and Hono answer from one route table and one pipeline: same answer.
      expect(viaNode, where).toEqual(viaFetch);
    }
    // Each family of failure was reached.
    for (const status of [400, 413, 415, 422]) expect(statuses.get(status) ?? 0).toBeGreaterThan(0);
    const good = await app.fetch(post("/v1/models/houses/predict", row));
    expect(good.status).toBe(200);
    expect((await readJson(good)).predictions).toEqual([byHand(row)]);
    const goodOverNode = await overNode(
      "POST",
      "/v1/models/houses/predict",
      { "content-type": "application/json" },
      JSON.stringify(row),
    );
    expect(goodOverNode.status).toBe(200);
    expect(goodOverNode.body.predictions).toEqual([byHand(row)]);
    expect(app.inFlight).toBe(0);
  });

  it("routing, 404 and 405 agree between fetch and the Node server on generated paths", async () => {
    const random = createRandom(7);
    const pieces = [
      "v1",
      "v2",
      "models",
      "houses",
      "hou%73es",
      "nobody",
      "predict",
      "infer",
      "versions",
      "1",
      "%ZZ",
      "%2F",
      "",
      "invocations",
      "api",
      "ready",
      "metrics",
    ];
    const known = [
      "/v1/models/houses/predict",
      "/v2/models/houses/infer",
      "/v2/models/houses/versions/1/infer",
      "/v2/models/nobody/infer",
      "/invocations",
      "/api/predict",
      "/v1/models/hou%73es/predict",
    ];
    const methods = ["POST", "POST", "POST", "GET", "PUT", "DELETE", "PATCH"];
    const body = JSON.stringify(row);
    const statuses = new Set<number>();
    for (let i = 0; i < 400; i++) {
      let path: string;
      if (i % 2 === 0) {
        path = pick(random, known);
        const change = random.int(5);
        if (change === 1) path += "/";
        if (change === 2) path = `/${path}`;
        if (change === 3) path += "?model=houses&x=%20";
      } else {
        const depth = 1 + random.int(6);
        path = "";
        for (let d = 0; d < depth; d++) path += `/${pick(random, pieces)}`;
      }
      const method = pick(random, methods);
      const headers = { "content-type": "application/json", "x-model": "houses" };
      const withBody = method !== "GET";
      const viaFetch = await seen(
        await app.fetch(
          new Request(`http://localhost${path}`, {
            method,
            headers,
            body: withBody ? body : undefined,
          }),
        ),
      );
      const viaNode = await overNode(method, path, headers, withBody ? body : undefined);
      const where = `${method} ${path}`;
      // Answers carry a request id: a new UUID for each request, so it is left out.
      if (viaFetch.body?.id !== undefined) viaFetch.body.id = viaNode.body?.id;
      expect(viaNode, where).toEqual(viaFetch);
      statuses.add(viaNode.status);
    }
    // Answered, unknown model, unknown route, wrong method: every branch of routing was taken.
    for (const status of [200, 404, 405]) expect(statuses).toContain(status);
  });
});
