import type { ModelManifest, PreprocessingStep } from "../artifact/types.js";
import type { OptionSpecs } from "../command/options.js";
import type { Command } from "../command/program.js";
import { MlopsError } from "../errors/error.js";
import { formatNumber } from "../format/numbers.js";
import {
  type Column,
  formatBytes,
  formatFields,
  formatTable,
  formatTime,
  formatValue,
  type Style,
} from "../format/text.js";
import { currentActor } from "../registry/actor.js";
import type { DatasetSummary } from "../registry/datasets.js";
import type { AliasHistoryEntry, ModelVersion } from "../registry/types.js";
import { formatModelUri, parseModelUri } from "../registry/uri.js";
import type { FieldDefinition } from "../schema/field.js";
import type { SchemaJSON } from "../schema/schema.js";
import { defineMlopsCommand, type MlopsContext } from "./context.js";
import { registryCopy } from "./copy.js";
import { driftCommand } from "./drift.js";
import { gateCommand } from "./gate.js";
import { modelsExport, modelsRegister } from "./interop.js";
import { runsList, runsShow } from "./runs.js";
import {
  aliasText,
  modelReferenceToUri,
  parsePositiveInteger,
  section,
  sortedEntries,
  versionText,
} from "./shared.js";
import { uiCommand } from "./ui.js";

// ------------------------------------------------------------------ models list

const modelsList = defineMlopsCommand({
  name: "models list",
  summary: "List registered models: latest version, aliases, version count, last change.",
  args: [],
  options: {},
  examples: ["mlops models list", "mlops models list --json"],
  async run({ openRegistry, style }) {
    const registry = await openRegistry();
    const { store } = registry;
    const models = [];
    for (const model of await store.listRegisteredModels()) {
      const [versions, history] = await Promise.all([
        store.listModelVersions(model.name),
        store.getAliasHistory(model.name),
      ]);
      // "Updated" is the last thing that changed what a URI resolves to: a new version or an
      // alias move, whichever came last.
      const updatedAt = Math.max(
        model.createdAt,
        ...versions.map((version) => version.createdAt),
        ...history.map((entry) => entry.time),
      );
      models.push({
        name: model.name,
        description: model.description,
        tags: model.tags,
        createdAt: model.createdAt,
        updatedAt,
        latestVersion: model.latestVersion ?? null,
        versionCount: versions.length,
        aliases: model.aliases,
      });
    }
    models.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const columns: Column[] = [
      { header: "NAME" },
      { header: "LATEST", align: "right" },
      { header: "ALIASES" },
      { header: "VERSIONS", align: "right" },
      { header: "UPDATED" },
    ];
    const text =
      models.length === 0
        ? `No registered models in ${registry.location}.\n`
        : formatTable(
            columns,
            models.map((model) => [
              model.name,
              model.latestVersion === null ? "-" : String(model.latestVersion),
              aliasText(model.aliases),
              String(model.versionCount),
              formatTime(model.updatedAt),
            ]),
            style,
          );
    return { json: { registry: registry.location, models }, text };
  },
});

// ------------------------------------------------------------------ models show

function rangeText(definition: FieldDefinition): string {
  if (definition.values) {
    const shown = definition.values.slice(0, 8).join(", ");
    const rest = definition.values.length - 8;
    return rest > 0 ? `${shown}, … (+${rest})` : shown;
  }
  const { min, max } = definition;
  if (min !== undefined && max !== undefined) return `${min} … ${max}`;
  if (min !== undefined) return `≥ ${min}`;
  if (max !== undefined) return `≤ ${max}`;
  return "-";
}

function schemaText(schema: SchemaJSON, style: Style): string {
  const rows = Object.entries(schema.fields).map(([name, definition]) => {
    const nullable = definition.nullable ? "yes" : "no";
    const extras = [
      definition.optional ? "optional" : undefined,
      definition.open ? "other values accepted (read as missing)" : undefined,
      definition.default !== undefined ? `default ${formatValue(definition.default)}` : undefined,
    ].filter((item) => item !== undefined);
    return [
      name,
      definition.kind,
      nullable,
      rangeText(definition),
      name === schema.target ? "target" : "feature",
      extras.join(", "),
    ];
  });
  const table = formatTable(
    [
      { header: "FIELD" },
      { header: "KIND" },
      { header: "NULLABLE" },
      { header: "RANGE / VALUES" },
      { header: "ROLE" },
      { header: "NOTES" },
    ],
    rows,
    style,
  );
  return table
    .trimEnd()
    .split("\n")
    .map((line) => `  ${line}`)
    .join("\n")
    .concat("\n");
}

function listText(values: unknown): string {
  return Array.isArray(values) ? values.map(formatValue).join(", ") : formatValue(values);
}

/** One line per step: what it reads and what it does, in words a reader can check. */
function stepText(step: PreprocessingStep): string {
  const record = step as Record<string, unknown>;
  if (step.kind === "standard_scaler" && Array.isArray(record.columns)) {
    return `scales ${listText(record.columns)}`;
  }
  if (step.kind === "simple_imputer" && Array.isArray(record.columns)) {
    const fill = Array.isArray(record.fill) ? record.fill : [];
    return `fills missing ${record.columns
      .map((column, index) => `${column}=${formatValue(fill[index])}`)
      .join(", ")}`;
  }
  if (step.kind === "one_hot") {
    return `${formatValue(record.column)} → ${listText(record.outputs)} (unknown: ${formatValue(
      record.handleUnknown,
    )})`;
  }
  const { kind: _kind, ...rest } = record;
  const text = JSON.stringify(rest);
  return text.length > 90 ? `${text.slice(0, 89)}…` : text;
}

function manifestText(manifest: ModelManifest, style: Style): string {
  const parts: string[] = [];
  parts.push(
    section(
      "Artifact",
      formatFields(
        [
          ["format", manifest.format],
          ["kind", manifest.kind],
          ["inputs", manifest.model.inputs.join(", ")],
        ],
        "  ",
        style,
      ),
      style,
    ),
  );
  parts.push(
    section(
      "Metrics",
      formatFields(
        sortedEntries(manifest.metrics).map(([key, value]) => [key, formatNumber(value)]),
        "  ",
        style,
      ),
      style,
    ),
  );
  parts.push(
    section(
      "Params",
      formatFields(
        sortedEntries(manifest.params).map(([key, value]) => [key, formatValue(value)]),
        "  ",
        style,
      ),
      style,
    ),
  );
  const fieldCount = Object.keys(manifest.schema.fields).length;
  const target = manifest.schema.target ? `, target ${manifest.schema.target}` : "";
  parts.push(
    section(
      `Schema (${fieldCount} field${fieldCount === 1 ? "" : "s"}${target})`,
      schemaText(manifest.schema, style),
      style,
    ),
  );
  const steps = manifest.preprocessing;
  const stepWidth = Math.max(0, ...steps.map((step) => step.kind.length));
  parts.push(
    section(
      "Preprocessing",
      steps
        .map((step, index) => `  ${index + 1}. ${step.kind.padEnd(stepWidth)}  ${stepText(step)}\n`)
        .join(""),
      style,
    ),
  );
  const { dataDigest, rowCount, createdAt, sdkVersion, gitCommit, runId, ...otherLineage } =
    manifest.lineage;
  parts.push(
    section(
      "Lineage",
      formatFields(
        [
          ["data digest", dataDigest],
          ["row count", rowCount === undefined ? undefined : String(rowCount)],
          // Shown like every other time here; --json keeps the stored ISO string.
          [
            "created",
            Number.isNaN(Date.parse(createdAt)) ? createdAt : formatTime(Date.parse(createdAt)),
          ],
          ["sdk version", sdkVersion],
          ["git commit", gitCommit],
          ["run id", runId],
          ...sortedEntries(otherLineage).map(
            ([key, value]) => [key, formatValue(value)] as [string, string],
          ),
        ],
        "  ",
        style,
      ),
      style,
    ),
  );
  return parts.join("\n");
}

function versionHeader(version: ModelVersion, style: Style): string {
  const uri = formatModelUri({ name: version.name, kind: "version", version: version.version });
  const tags = sortedEntries(version.tags).map(([key, value]) => `${key}=${value}`);
  return section(
    `Model ${version.name}, version ${version.version} (${uri})`,
    formatFields(
      [
        ["digest", version.digest],
        ["size", `${formatBytes(version.sizeBytes)} (${version.sizeBytes} bytes)`],
        ["run id", version.runId ?? "-"],
        ["created", formatTime(version.createdAt)],
        ["aliases", version.aliases.length ? version.aliases.join(", ") : "-"],
        ["tags", tags.length ? tags.join(", ") : "-"],
        ["description", version.description || "-"],
      ],
      "  ",
      style,
    ),
    style,
  );
}

/** The datasets of the version's run (training data, hold-out set), when it kept them. */
function datasetsText(version: ModelVersion, style: Style): string {
  const datasets = version.metadata.datasets;
  if (!Array.isArray(datasets) || datasets.length === 0) return "";
  const rows = (datasets as DatasetSummary[]).map((dataset) => [
    dataset.name,
    dataset.context,
    dataset.rows === null ? "-" : String(dataset.rows),
    dataset.digest === "" ? "-" : dataset.digest.slice(0, 19),
    dataset.source,
  ]);
  const table = formatTable(
    [
      { header: "DATASET" },
      { header: "CONTEXT" },
      { header: "ROWS", align: "right" },
      { header: "DIGEST" },
      { header: "SOURCE" },
    ],
    rows,
    style,
  );
  const indented = table
    .trimEnd()
    .split("\n")
    .map((line) => `  ${line}\n`)
    .join("");
  return `\n${section("Datasets", indented, style)}`;
}

const modelsShow = defineMlopsCommand({
  name: "models show",
  summary: "Show one model version and its artifact (digest verified on load).",
  args: [
    {
      name: "MODEL",
      description: "NAME (latest version), NAME@ALIAS, NAME/VERSION or a models:/ URI",
    },
  ],
  options: {},
  examples: ["mlops models show wine@production", "mlops models show wine/2 --json"],
  async run({ openRegistry, args, style }) {
    // Parse before opening the registry so a malformed reference is reported as such.
    const uri = parseModelUri(modelReferenceToUri(args[0]));
    const registry = await openRegistry();
    const { version, artifact } = await registry.loadModel(uri);
    const text =
      `${versionHeader(version, style)}\n${manifestText(artifact.manifest, style)}` +
      datasetsText(version, style);
    return {
      json: {
        uri: formatModelUri({ name: version.name, kind: "version", version: version.version }),
        version,
        manifest: artifact.manifest,
      },
      text,
    };
  },
});

// ------------------------------------------------------------------ models delete-version

const modelsDeleteVersion = defineMlopsCommand({
  name: "models delete-version",
  summary: "Delete a version no alias points at; its number is never reused, its alias moves stay.",
  args: [
    { name: "NAME", description: "the registered model" },
    { name: "VERSION", description: "the version number to delete" },
  ],
  options: {},
  examples: ["mlops models delete-version wine 2"],
  async run({ openRegistry, args }) {
    const [name, versionArgument] = args;
    const version = parsePositiveInteger("version", versionArgument);
    const registry = await openRegistry();
    const store = registry.store;
    if (store.deleteModelVersion === undefined) {
      throw new MlopsError(
        "argument_invalid",
        `the registry at ${store.location} cannot delete versions (this backend does not ` +
          "support it yet)",
      );
    }
    const deleted = await store.deleteModelVersion(name, version);
    return {
      json: { deleted },
      text: `Deleted ${formatModelUri({ name, kind: "version", version })} (${deleted.digest.slice(0, 19)}…); version ${version} will not be reused.\n`,
    };
  },
});

// ------------------------------------------------------------------ alias set / history

function moveText(entry: AliasHistoryEntry): string {
  const from = versionText(entry.fromVersion, "(none)");
  const to = versionText(entry.toVersion, "(deleted)");
  const why = entry.reason === null ? "" : `, reason ${JSON.stringify(entry.reason)}`;
  return `${entry.name}@${entry.alias}: ${from} → ${to} (by ${entry.actor}${why})\n`;
}

const aliasSet = defineMlopsCommand({
  name: "alias set",
  summary: "Point an alias at a version; the move is appended to the alias history.",
  args: [
    { name: "NAME", description: "the registered model" },
    { name: "ALIAS", description: "lowercase letters, digits, - and _ (e.g. production)" },
    { name: "VERSION", description: "the version number the alias will point at" },
  ],
  options: {
    reason: {
      type: "string",
      value: "TEXT",
      description: "why the alias moves (kept in the alias history)",
      required: true,
    },
    actor: {
      type: "string",
      value: "NAME",
      description: "who moves it (default: $GITHUB_ACTOR, else the OS user)",
    },
  },
  examples: ['mlops alias set wine production 3 --reason "gate passed: rmse 0.61 < 0.64"'],
  async run({ openRegistry, args, options, env }) {
    const [name, alias, versionArgument] = args;
    const version = parsePositiveInteger("version", versionArgument);
    const registry = await openRegistry();
    const actor = options.actor ?? currentActor(env);
    const entry = await registry.setAlias(name, alias, version, {
      actor,
      reason: options.reason,
    });
    return { json: entry, text: moveText(entry) };
  },
});

const aliasDelete = defineMlopsCommand({
  name: "alias delete",
  summary: "Remove an alias; the version stays, and the removal is appended to the alias history.",
  args: [
    { name: "NAME", description: "the registered model" },
    { name: "ALIAS", description: "the alias to remove (e.g. canary)" },
  ],
  options: {
    reason: {
      type: "string",
      value: "TEXT",
      description: "why the alias goes (kept in the alias history)",
      required: true,
    },
    actor: {
      type: "string",
      value: "NAME",
      description: "who removes it (default: $GITHUB_ACTOR, else the OS user)",
    },
  },
  examples: ['mlops alias delete wine canary --reason "canary ended"'],
  async run({ openRegistry, args, options, env }) {
    const [name, alias] = args;
    const registry = await openRegistry();
    const entry = await registry.store.deleteAlias(name, alias, {
      actor: options.actor ?? currentActor(env),
      reason: options.reason,
    });
    return { json: entry, text: moveText(entry) };
  },
});

const aliasHistory = defineMlopsCommand({
  name: "alias history",
  summary: "Every alias move of a model, oldest first: time, alias, from, to, actor, reason.",
  args: [{ name: "NAME", description: "the registered model" }],
  options: {
    alias: { type: "string", value: "ALIAS", description: "only the moves of this alias" },
  },
  examples: ["mlops alias history wine", "mlops alias history wine --alias production"],
  async run({ openRegistry, args, options, style }) {
    const registry = await openRegistry();
    const alias = options.alias;
    const history = await registry.aliasHistory(args[0], alias === undefined ? {} : { alias });
    const text =
      history.length === 0
        ? `No alias moves for ${args[0]}${alias ? `@${alias}` : ""}.\n`
        : formatTable(
            [
              { header: "TIME" },
              { header: "ALIAS" },
              { header: "FROM", align: "right" },
              { header: "TO", align: "right" },
              { header: "ACTOR" },
              { header: "REASON" },
            ],
            history.map((entry) => [
              formatTime(entry.time),
              entry.alias,
              versionText(entry.fromVersion, "-"),
              versionText(entry.toVersion, "(deleted)"),
              entry.actor,
              entry.reason ?? "-",
            ]),
            style,
          );
    return { json: { name: args[0], history }, text };
  },
});

/** Every command, in the order `mlops --help` lists them. */
export const COMMANDS: readonly Command<OptionSpecs, MlopsContext>[] = [
  modelsList,
  modelsShow,
  modelsRegister,
  modelsExport,
  modelsDeleteVersion,
  aliasSet,
  aliasDelete,
  aliasHistory,
  runsList,
  runsShow,
  gateCommand,
  driftCommand,
  registryCopy,
  uiCommand,
];
