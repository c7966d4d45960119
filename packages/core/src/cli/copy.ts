import { formatBytes, formatTable } from "../format/text.js";
import { resolveRegistryLocation } from "../registry/backends.js";
import { redactLocation } from "../registry/common.js";
import { type CopyCounts, type CopySummary, copyRegistry } from "../registry/copy.js";
import { defineMlopsCommand } from "./context.js";

function countsText(counts: CopyCounts): [string, string, string] {
  return [String(counts.created), String(counts.updated), String(counts.unchanged)];
}

/** `mlops registry copy SRC DST`: a whole registry into another, across backends. */
export const registryCopy = defineMlopsCommand({
  name: "registry copy",
  summary: "Copy a whole registry into another (folder ⇄ PostgreSQL); safe to re-run.",
  description:
    "Copies experiments, runs (ids, params, metric histories, artifacts), registered models, " +
    "versions (numbers kept) and the alias history (actor, time, reason) from SRC into DST. " +
    "Every blob is streamed and verified against its sha256 digest; blobs DST has are not sent " +
    "again. SRC must exist; DST is created when missing. Running it again copies only what " +
    "changed; versions or an alias history that differ in DST are refused, never overwritten.",
  args: [
    { name: "SRC", description: "the registry to copy: a folder or a postgres:// URL" },
    { name: "DST", description: "where to copy it: a folder or a postgres:// URL" },
  ],
  options: {},
  examples: [
    "mlops registry copy ./.mlops postgres://mlops@db.internal/mlops",
    "mlops registry copy postgres://mlops@db.internal/mlops ./backup --json",
  ],
  async run({ args, openRegistry, env, cwd, style }) {
    const [from, to] = args.map((value) => resolveRegistryLocation(value, env, cwd));
    const source = await openRegistry({}, from);
    const target = await openRegistry({ create: true }, to);
    const summary: CopySummary = await copyRegistry(source.store, target.store);
    const rows = [
      ["experiments", ...countsText(summary.experiments)],
      ["runs", ...countsText(summary.runs)],
      ["models", ...countsText(summary.models)],
      ["versions", ...countsText(summary.versions)],
      ["alias histories", ...countsText(summary.aliasHistories)],
      ["studies", ...countsText(summary.studies)],
    ];
    const text =
      `Copied ${redactLocation(source.location)} → ${redactLocation(target.location)}\n` +
      formatTable(
        [
          { header: "" },
          { header: "CREATED", align: "right" },
          { header: "UPDATED", align: "right" },
          { header: "UNCHANGED", align: "right" },
        ],
        rows,
        style,
      ) +
      `Blobs: ${summary.blobs.copied} copied (${formatBytes(summary.blobs.bytesCopied)}, ` +
      `sha256 verified), ${summary.blobs.present} already there.\n`;
    return {
      json: { source: source.location, target: target.location, ...summary },
      text,
    };
  },
});
