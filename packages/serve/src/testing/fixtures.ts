// Models and registries for the tests (not exported by the package).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createArtifact,
  type Frame,
  field,
  type ModelArtifact,
  openRegistry,
  type Registry,
  Schema,
  schema,
} from "@mlops/core";
import type { LoadedModel, ModelRuntime } from "../runtime/runtime.js";

/** Houses: two numbers, a nullable category, and the price as target (0 to 10,000). */
export const houses = schema(
  {
    rooms: field.integer({ min: 1, max: 20 }),
    area: field.number({ min: 0 }),
    color: field.category(["red", "green", "blue"]).nullable(),
    price: field.number({ min: 0, max: 10_000 }),
  },
  { target: "price" },
);

/**
 * price = 100·rooms + 2·area + 10·red + 20·green + 30·blue + intercept (a missing color adds
 * nothing: one-hot with handleUnknown "ignore").
 */
export function linearArtifact(intercept = 50): ModelArtifact {
  return createArtifact({
    kind: "linear",
    schema: houses,
    preprocessing: [
      {
        kind: "one_hot",
        column: "color",
        categories: ["red", "green", "blue"],
        handleUnknown: "ignore",
        outputs: ["color_red", "color_green", "color_blue"],
      },
    ],
    model: {
      inputs: ["rooms", "area", "color_red", "color_green", "color_blue"],
      intercept,
    },
    arrays: { coefficients: Float64Array.of(100, 2, 10, 20, 30) },
    lineage: { gitCommit: "0123456789abcdef0123456789abcdef01234567" },
  });
}

/** The linear model computed by hand. */
export function byHand(
  row: { rooms: number; area: number; color?: string | null },
  intercept = 50,
): number {
  const color = { red: 10, green: 20, blue: 30 }[row.color ?? ""] ?? 0;
  return 100 * row.rooms + 2 * row.area + color + intercept;
}

/** A stump: rooms ≤ 3 → 100, else 200. */
export function treeArtifact(): ModelArtifact {
  return createArtifact({
    kind: "tree",
    schema: houses,
    model: { inputs: ["rooms"] },
    arrays: {
      "tree.left": Int32Array.of(1, -1, -1),
      "tree.right": Int32Array.of(2, -1, -1),
      "tree.feature": Int32Array.of(0, 0, 0),
      "tree.threshold": Float64Array.of(3, 0, 0),
      "tree.value": Float64Array.of(150, 100, 200),
    },
    lineage: { gitCommit: "0123456789abcdef0123456789abcdef01234567" },
  });
}

/** A temporary folder registry: houses v1 (@production), v2 (@staging), rooms-tree v1. */
export async function tempRegistry(): Promise<{
  registry: Registry;
  dir: string;
  cleanup: () => Promise<void>;
}> {
  const dir = await mkdtemp(join(tmpdir(), "mlops-serve-"));
  const registry = await openRegistry(join(dir, ".mlops"));
  await registry.registerModel("houses", linearArtifact(50), { aliases: ["production"] });
  await registry.registerModel("houses", linearArtifact(60), { aliases: ["staging"] });
  await registry.registerModel("rooms-tree", treeArtifact());
  return { registry, dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A JSON POST request to the app. */
export function post(path: string, body: unknown, headers: Record<string, string> = {}): Request {
  return new Request(`http://localhost${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

/** A GET request to the app. */
export function get(path: string, headers: Record<string, string> = {}): Request {
  return new Request(`http://localhost${path}`, { headers });
}

/**
 * Resolves once `condition()` holds, checking every few milliseconds: a wait on a count or a
 * state (requests in flight, events seen), never a fixed sleep. It has no deadline of its own:
 * the test's timeout ends a wait that never comes, on however loaded a machine.
 */
export async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

/** A promise with its resolve function outside (for runtimes that wait on the test). */
export function deferred<T = void>(): {
  promise: Promise<T>;
  resolve: (value: T) => void;
} {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

/**
 * A runtime for kind "constant" (the manifest's `model.value` for every row) whose `load` and
 * `predict` wait for the gates the test opens.
 */
export function gatedRuntime(gates: { load?: Promise<void>; predict?: () => Promise<void> }) {
  const runtime: ModelRuntime = {
    name: "gated",
    kinds: ["constant"],
    async load(artifact) {
      await gates.load;
      const value = Number(artifact.manifest.model.value);
      const model: LoadedModel = {
        schema: Schema.fromJSON(artifact.manifest.schema),
        async predict(frame: Frame) {
          await gates.predict?.();
          return new Float64Array(frame.rowCount).fill(value);
        },
      };
      return model;
    },
  };
  return runtime;
}

/** An artifact of kind "constant" for `gatedRuntime`. */
export function constantArtifact(value: number): ModelArtifact {
  return createArtifact({
    kind: "constant",
    schema: houses,
    model: { inputs: ["rooms"], value },
    lineage: { gitCommit: "0123456789abcdef0123456789abcdef01234567" },
  });
}

/** A response's JSON body, typed loosely for assertions. */
// biome-ignore lint/suspicious/noExplicitAny: test assertions read arbitrary JSON.
export async function json(response: Response | Promise<Response>): Promise<any> {
  return (await response).json();
}
