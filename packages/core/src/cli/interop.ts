import { readFile, writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { ModelArtifact } from "../artifact/types.js";
import { UsageError } from "../command/options.js";
import { MlopsError } from "../errors/error.js";
import { formatBytes } from "../format/text.js";
import { importXGBoost } from "../interop/xgboost.js";
import { formatModelUri, parseModelUri } from "../registry/uri.js";
import { Schema } from "../schema/schema.js";
import { defineMlopsCommand } from "./context.js";
import { modelReferenceToUri } from "./shared.js";

async function readInput(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new MlopsError(
      code === "ENOENT" ? "file_not_found" : "file_read",
      `${path}: cannot read the ${what} (${code ?? String(error)})`,
      { cause: error, location: { file: path } },
    );
  }
}

async function readSchema(path: string): Promise<Schema> {
  const text = (await readInput(path, "schema")).toString("utf8");
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new MlopsError("schema_definition", `${path}: not JSON (${(error as Error).message})`, {
      location: { file: path },
    });
  }
  // A schema as `schema.toJSON()` writes it, or a manifest (`mlops models show --json`).
  const candidate = json as { format?: string; schema?: unknown; manifest?: { schema?: unknown } };
  const value =
    candidate?.format === "mlops.schema/v1"
      ? json
      : (candidate?.manifest?.schema ?? candidate?.schema ?? json);
  try {
    return Schema.fromJSON(value as never);
  } catch (error) {
    throw new MlopsError("schema_definition", `${path}: ${(error as Error).message}`, {
      location: { file: path },
    });
  }
}

export const modelsRegister = defineMlopsCommand({
  name: "models register",
  summary: "Register a model made by another tool: an XGBoost JSON model or an ONNX file.",
  description:
    "--xgboost reads a model saved by XGBoost (booster.save_model('model.json')) into a " +
    "boosted-ensemble artifact that predicts what XGBoost predicts. --onnx stores an ONNX graph " +
    "as a model version of kind onnx, served by @mlops/serve with onnxruntime-node. The schema " +
    "is drafted from the model (its feature names, or f0, f1, …) unless --schema gives one; " +
    "--feature-names names the columns of a model that has none.\n\n" +
    "The version is stored like every artifact, with its sha256 digest verified on each load.",
  args: [{ name: "NAME", description: "the registered model (created when new)" }],
  options: {
    xgboost: { type: "string", value: "FILE", description: "an XGBoost model saved as JSON" },
    onnx: { type: "string", value: "FILE", description: "an ONNX model (.onnx)" },
    schema: {
      type: "string",
      value: "FILE",
      description: "the feature contract, as JSON (schema.toJSON(), or `mlops models show --json`)",
    },
    "feature-names": {
      type: "string",
      value: "NAMES",
      multiple: true,
      list: true,
      description: "names of the model's features, in order",
    },
    alias: {
      type: "string",
      value: "ALIAS",
      multiple: true,
      list: true,
      description: "aliases to point at the new version (e.g. staging)",
    },
    description: { type: "string", value: "TEXT", description: "the version's description" },
  },
  examples: [
    "mlops models register delivery --xgboost model.json --alias staging",
    "mlops models register houses --onnx model.onnx --feature-names rooms,area,age",
    "mlops models register houses --onnx model.onnx --schema schema.json",
  ],
  async run({ args, options, openRegistry, cwd }) {
    const [name] = args;
    if ((options.xgboost === undefined) === (options.onnx === undefined)) {
      throw new UsageError("give the model file with exactly one of --xgboost FILE or --onnx FILE");
    }
    const schema = options.schema ? await readSchema(resolve(cwd, options.schema)) : undefined;
    const featureNames = options["feature-names"]?.length ? options["feature-names"] : undefined;
    let artifact: ModelArtifact;
    let source: string;
    if (options.xgboost !== undefined) {
      source = resolve(cwd, options.xgboost);
      const text = (await readInput(source, "XGBoost model")).toString("utf8");
      artifact = importXGBoost(text, { schema, featureNames });
    } else {
      source = resolve(cwd, options.onnx!);
      const bytes = await readInput(source, "ONNX model");
      // ONNX (and its protobuf library) is loaded only for the commands that use it.
      const { importOnnx } = await import("../interop/onnx/import.js");
      artifact = importOnnx(new Uint8Array(bytes), { schema, featureNames }, source);
    }
    // Registering writes: a registry that is not there yet is created. Closed after the command.
    const registry = await openRegistry({ create: true });
    const version = await registry.registerModel(name, artifact, {
      aliases: options.alias ?? [],
      description: options.description,
    });
    const uri = formatModelUri({ name, kind: "version", version: version.version });
    const inputs = artifact.manifest.model.inputs;
    return {
      json: { uri, version, kind: artifact.manifest.kind, inputs, source },
      text:
        `Registered ${uri} (${artifact.manifest.kind}, ${inputs.length} features: ` +
        `${inputs.slice(0, 6).join(", ")}${inputs.length > 6 ? ", …" : ""}) from ${source}\n` +
        (version.aliases.length ? `Aliases: ${version.aliases.join(", ")}\n` : ""),
    };
  },
});

export const modelsExport = defineMlopsCommand({
  name: "models export",
  summary: "Write a model version as an ONNX graph for onnxruntime and other engines.",
  description:
    "Trees, forests, boosted ensembles (XGBoost imports too) and linear models, with their " +
    "preprocessing, become one ONNX graph with one input per feature, named like it, and one " +
    "output, prediction. It computes in float32 and agrees with our predictor to float32 " +
    "precision.",
  args: [
    {
      name: "MODEL",
      description: "NAME (latest version), NAME@ALIAS, NAME/VERSION or a models:/ URI",
    },
  ],
  options: {
    onnx: {
      type: "string",
      value: "FILE",
      description: "where to write the graph",
      required: true,
    },
  },
  examples: ["mlops models export wine@production --onnx wine.onnx"],
  async run({ args, options, openRegistry, cwd }) {
    const uri = parseModelUri(modelReferenceToUri(args[0]));
    const registry = await openRegistry();
    const { version, artifact } = await registry.loadModel(uri);
    const { toOnnx } = await import("../interop/onnx/export.js");
    const bytes = toOnnx(artifact, { description: `${version.name} version ${version.version}` });
    const path = resolve(cwd, options.onnx);
    try {
      await writeFile(path, bytes);
    } catch (error) {
      throw new MlopsError("file_write", `${path}: cannot write (${String(error)})`, {
        cause: error,
        location: { file: path },
      });
    }
    const model = formatModelUri({ name: version.name, kind: "version", version: version.version });
    return {
      json: { uri: model, path, bytes: bytes.length, inputs: artifact.manifest.schema },
      text: `Wrote ${model} as ONNX to ${path} (${formatBytes(bytes.length)})\n`,
    };
  },
});
