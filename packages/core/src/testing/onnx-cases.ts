import { createArtifact } from "../artifact/create.js";
import type { ArtifactArray, ModelArtifact, PreprocessingStep } from "../artifact/types.js";
import { Frame } from "../frame/frame.js";
import { field } from "../schema/field.js";
import { Schema, schema } from "../schema/schema.js";

/** One case of core's `onnx-export-cases.json` fixture (made by scikit-learn). */
export interface ExportCase {
  features: { name: string; kind: "number" | "category"; values?: string[] }[];
  preprocessing: PreprocessingStep[];
  kind: string;
  model: { inputs: string[]; [key: string]: unknown };
  arrays?: Record<string, number[]>;
  trees?: Record<string, number[]>[];
  rows: Record<string, number | string | null>[];
  sklearn: number[];
  /** Rows scikit-learn predicted (all rows when absent). */
  sklearnRows?: number[];
}

/**
 * The artifact a case describes: nullable numbers and optional categories as its schema, its
 * steps and model, tree arrays as typed arrays.
 *
 * @example
 * const artifact = exportCaseArtifact(cases["wine-linear"]);
 */
export function exportCaseArtifact(exportCase: ExportCase): ModelArtifact {
  const fields = Object.fromEntries(
    exportCase.features.map((feature) => [
      feature.name,
      feature.kind === "category"
        ? field.category((feature.values ?? []) as [string, ...string[]]).nullable()
        : field.number().nullable(),
    ]),
  );
  const arrays: Record<string, ArtifactArray> = {};
  for (const [name, values] of Object.entries(exportCase.arrays ?? {})) {
    arrays[name] = Float64Array.from(values);
  }
  const prefixOf = (t: number) => (exportCase.kind === "tree" ? "tree." : `trees.${t}.`);
  (exportCase.trees ?? []).forEach((tree, t) => {
    for (const [name, values] of Object.entries(tree)) {
      const typed =
        name === "left" || name === "right" || name === "feature"
          ? Int32Array.from(values)
          : Float64Array.from(values);
      arrays[prefixOf(t) + name] = typed;
    }
  });
  return createArtifact({
    kind: exportCase.kind,
    schema: schema(fields),
    preprocessing: exportCase.preprocessing,
    model: exportCase.model,
    arrays,
    lineage: { gitCommit: "0000000000000000000000000000000000000000" },
  });
}

/** A case's rows as a frame typed by the case's schema (null for missing values). */
export function exportCaseFrame(exportCase: ExportCase, artifact: ModelArtifact): Frame {
  return Frame.fromRows(exportCase.rows, Schema.fromJSON(artifact.manifest.schema));
}
