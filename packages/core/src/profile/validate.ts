import { z } from "zod";
import { MlopsError } from "../errors/error.js";
import { PROFILE_FORMAT, type TrainingProfile } from "./types.js";

const count = z.number().int().nonnegative();
const finiteOrNull = z.number().nullable();

const numeric = z
  .object({
    kind: z.enum(["number", "integer"]),
    count,
    missing: count,
    missingRate: z.number().min(0).max(1),
    mean: finiteOrNull,
    std: finiteOrNull,
    min: finiteOrNull,
    max: finiteOrNull,
    edges: z.array(z.number()),
    counts: z.array(count),
    atEdge: z.array(count),
  })
  .superRefine((profile, context) => {
    if (profile.edges.length !== profile.counts.length) {
      context.addIssue({
        code: "custom",
        path: ["counts"],
        message: `expected one count per edge (${profile.edges.length}), got ${profile.counts.length}`,
      });
      return;
    }
    if (profile.atEdge.length !== profile.counts.length) {
      context.addIssue({
        code: "custom",
        path: ["atEdge"],
        message: `expected one entry per edge (${profile.edges.length}), got ${profile.atEdge.length}`,
      });
      return;
    }
    for (let i = 0; i < profile.atEdge.length; i++) {
      if (
        profile.atEdge[i] > profile.counts[i] ||
        (profile.counts[i] > 0 && profile.atEdge[i] === 0)
      ) {
        context.addIssue({
          code: "custom",
          path: ["atEdge", i],
          message: `expected 1 to counts[${i}] (${profile.counts[i]}) values at the edge, got ${profile.atEdge[i]}`,
        });
        return;
      }
    }
    for (let i = 1; i < profile.edges.length; i++) {
      if (!(profile.edges[i] > profile.edges[i - 1])) {
        context.addIssue({
          code: "custom",
          path: ["edges", i],
          message: `edges must increase: ${profile.edges[i]} follows ${profile.edges[i - 1]}`,
        });
        return;
      }
    }
    const sum = profile.counts.reduce((total, value) => total + value, 0);
    if (sum !== profile.count) {
      context.addIssue({
        code: "custom",
        path: ["counts"],
        message: `counts add up to ${sum}, expected count ${profile.count}`,
      });
    }
  });

const category = z
  .object({
    kind: z.enum(["category", "boolean"]),
    count,
    missing: count,
    missingRate: z.number().min(0).max(1),
    values: z.record(z.string(), count),
    other: count,
  })
  .superRefine((profile, context) => {
    const sum = Object.values(profile.values).reduce((total, value) => total + value, 0);
    if (sum + profile.other !== profile.count) {
      context.addIssue({
        code: "custom",
        path: ["values"],
        message: `value counts and other add up to ${sum + profile.other}, expected count ${profile.count}`,
      });
    }
  });

const column = z.union([numeric, category]);

const profileShape = z.object({
  format: z.literal(PROFILE_FORMAT),
  rowCount: count,
  bins: z.number().int().positive(),
  sampleSize: z.number().int().positive().optional(),
  features: z.record(z.string(), column),
  target: z.intersection(z.object({ name: z.string().min(1) }), column).optional(),
  predictions: numeric.optional(),
});

/** The profile's zod shape, for the artifact manifest's validation. */
export const trainingProfileShape = profileShape;

/**
 * Checks that `value` is a training profile (its shape, ascending edges, counts that add up)
 * and returns it typed. Throws `profile_invalid` naming `source` and each problem's path.
 *
 * @example
 * const profile = parseProfile(JSON.parse(text), "profile.json");
 */
export function parseProfile(value: unknown, source = "profile"): TrainingProfile {
  const parsed = profileShape.safeParse(value);
  if (!parsed.success) {
    const shown = parsed.error.issues.slice(0, 8).map((issue) => {
      const path = issue.path
        .map((part, index) =>
          typeof part === "number" ? `[${part}]` : index === 0 ? String(part) : `.${String(part)}`,
        )
        .join("");
      return `${path || "(root)"}: ${issue.message}`;
    });
    throw new MlopsError(
      "profile_invalid",
      `${source}: invalid training profile: ${shown.join("; ")}`,
      { location: { file: source } },
    );
  }
  return parsed.data as TrainingProfile;
}
