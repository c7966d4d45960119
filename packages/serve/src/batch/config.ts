import { type FrameFormatName, formats, MlopsError } from "@mlops/core";
import { parseYamlConfig } from "@mlops/core/internal";
import type { ScoreBatchOptions } from "./score.js";

/**
 * A batch config file as seed 001 laid it out: `model` (which registered model), `source`
 * (what to read, how) and `target` (where and how to write). Every key is optional; command-line
 * flags override it.
 *
 * ```yaml
 * model:
 *   name: wine
 *   alias: production        # or version: 3
 *   registry: ./.mlops
 * source:
 *   type: csv                # csv | jsonl | parquet | arrow (default: from each extension)
 *   path: data/              # a file, a folder, a glob, or a list of them
 *   load_params: { delimiter: ";" }
 *   batch_size: 16384
 * target:
 *   type: parquet
 *   path: out/
 *   file_name: "{timestamp}_{name}{ext}"
 *   prediction_column: predictions
 *   keep_input_columns: false   # true (default), false, or a list of columns
 *   id_column: customer_id      # or id_columns: [...]
 *   version_column: model_version
 *   save_params: { delimiter: ";" }
 *   max_reject_rate: 0.01
 * ```
 */
export type BatchConfig = Partial<
  Omit<ScoreBatchOptions, "registry" | "onProgress" | "cwd" | "inputFormat" | "outputFormat">
> & {
  registry?: string;
  inputFormat?: FrameFormatName;
  outputFormat?: FrameFormatName;
  workers?: number;
};

const SECTIONS: Record<string, readonly string[]> = {
  model: ["name", "alias", "version", "registry"],
  source: ["type", "path", "load_params", "batch_size", "workers"],
  target: [
    "type",
    "path",
    "file_name",
    "prediction_column",
    "keep_input_columns",
    "id_column",
    "id_columns",
    "version_column",
    "save_params",
    "max_reject_rate",
  ],
};

/**
 * Reads a batch config (YAML). Problems are `argument_invalid` errors naming the file, line and
 * key, with what was expected.
 *
 * @example
 * const config = parseBatchConfig(await readFile("batch.yaml", "utf8"), "batch.yaml");
 * await scoreBatch({ ...config, model: config.model!, input: config.input!, output: config.output! });
 */
export function parseBatchConfig(text: string, file: string): BatchConfig {
  const parsed = parseYamlConfig(text, file);
  const fail = (path: (string | number)[], message: string): never => {
    const at = parsed.locate(path);
    throw new MlopsError(
      "argument_invalid",
      `${file}${at ? `:${at.line}:${at.column}` : ""}: ${path.join(".")}: ${message}`,
      { location: { file, line: at?.line, column: String(path.join(".")) } },
    );
  };
  const root = parsed.value ?? {};
  if (!isObject(root)) return fail([], "expected the sections model, source and target");
  for (const key of Object.keys(root)) {
    if (!(key in SECTIONS))
      fail([key], `unknown section; expected ${Object.keys(SECTIONS).join(", ")}`);
  }
  const section = (name: string): Record<string, unknown> => {
    const value = root[name];
    if (value === undefined || value === null) return {};
    if (!isObject(value)) return fail([name], "expected a mapping of keys");
    for (const key of Object.keys(value)) {
      if (!SECTIONS[name].includes(key)) {
        fail([name, key], `unknown key; expected one of ${SECTIONS[name].join(", ")}`);
      }
    }
    return value;
  };
  const text_ = (path: [string, string], value: unknown): string | undefined => {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "string" || value === "") return fail(path, "expected a non-empty string");
    return value;
  };
  const number = (path: [string, string], value: unknown, min: number, max: number) => {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "number" || !(value >= min && value <= max)) {
      return fail(path, `expected a number from ${min} to ${max}, got ${JSON.stringify(value)}`);
    }
    return value;
  };
  const integer = (path: [string, string], value: unknown, min: number, max: number) => {
    const found = number(path, value, min, max);
    if (found !== undefined && !Number.isInteger(found)) fail(path, "expected an integer");
    return found;
  };
  const format = (path: [string, string], value: unknown) => {
    const name = text_(path, value);
    if (name !== undefined && !Object.hasOwn(formats, name)) {
      fail(path, `unknown type "${name}"; expected ${Object.keys(formats).join(", ")}`);
    }
    return name as FrameFormatName | undefined;
  };
  const strings = (path: [string, string], value: unknown): string[] | undefined => {
    if (value === undefined || value === null) return undefined;
    const list = typeof value === "string" ? [value] : value;
    if (!Array.isArray(list) || list.some((item) => typeof item !== "string" || item === "")) {
      return fail(path, "expected a string or a list of strings");
    }
    return list as string[];
  };
  const params = (path: [string, string], value: unknown): string | undefined => {
    if (value === undefined || value === null) return undefined;
    if (!isObject(value)) return fail(path, 'expected a mapping such as { delimiter: ";" }');
    for (const key of Object.keys(value)) {
      if (key !== "delimiter") fail([...path, key], "unknown parameter; expected delimiter");
    }
    return text_(path, value.delimiter);
  };

  const model = section("model");
  const source = section("source");
  const target = section("target");
  const config: BatchConfig = {};
  const name = text_(["model", "name"], model.name);
  const alias = text_(["model", "alias"], model.alias);
  const version = integer(["model", "version"], model.version, 1, Number.MAX_SAFE_INTEGER);
  if (alias !== undefined && version !== undefined) {
    fail(["model", "version"], "give alias or version, not both");
  }
  if ((alias !== undefined || version !== undefined) && name === undefined) {
    fail(["model", "name"], "missing: alias and version need the model name");
  }
  if (name !== undefined) {
    config.model =
      alias !== undefined
        ? `${name}@${alias}`
        : version !== undefined
          ? `${name}/${version}`
          : name;
  }
  config.registry = text_(["model", "registry"], model.registry);
  config.inputFormat = format(["source", "type"], source.type);
  const input = strings(["source", "path"], source.path);
  if (input) config.input = input.length === 1 ? input[0] : input;
  const loadDelimiter = params(["source", "load_params"], source.load_params);
  config.batchSize = integer(["source", "batch_size"], source.batch_size, 1, 1 << 24);
  config.workers = integer(["source", "workers"], source.workers, 0, 256);
  config.outputFormat = format(["target", "type"], target.type);
  config.output = text_(["target", "path"], target.path);
  config.outputName = text_(["target", "file_name"], target.file_name);
  config.predictionColumn = text_(["target", "prediction_column"], target.prediction_column);
  const keep = target.keep_input_columns;
  if (keep !== undefined && keep !== null) {
    config.keepColumns =
      typeof keep === "boolean" ? keep : strings(["target", "keep_input_columns"], keep);
  }
  if (target.id_column !== undefined && target.id_columns !== undefined) {
    fail(["target", "id_columns"], "give id_column or id_columns, not both");
  }
  config.idColumns =
    strings(["target", "id_column"], target.id_column) ??
    strings(["target", "id_columns"], target.id_columns);
  config.versionColumn = text_(["target", "version_column"], target.version_column);
  const saveDelimiter = params(["target", "save_params"], target.save_params);
  config.delimiter = loadDelimiter;
  config.outputDelimiter = saveDelimiter;
  config.maxRejectRate = number(["target", "max_reject_rate"], target.max_reject_rate, 0, 1);
  for (const key of Object.keys(config) as (keyof BatchConfig)[]) {
    if (config[key] === undefined) delete config[key];
  }
  return config;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
