import { MlopsError } from "@mlops/core";
import type { ModelHolder } from "./holder.js";

/**
 * Where the key that keeps a client on one variant comes from: a request header, or a field of
 * the JSON body (a single row's field, else the first row's in `rows`, `dataframe_records` or
 * `instances`).
 *
 * @example
 * const byUser: StickyKey = { header: "x-user-id" };
 * const byCustomer: StickyKey = { field: "customer_id" };
 */
export type StickyKey = { readonly header: string } | { readonly field: string };

/** One weighted variant of a split model: a registry reference and its share of the traffic. */
export interface VariantSource {
  /** `"house@candidate"`, `"house/7"`, `"house"` (its latest version). */
  reference: string;
  /** Its share of the traffic, relative to the others' (default 1); 0 routes nothing to it. */
  weight?: number;
  /** Its name in metrics, logs and answers (default: the reference as written). */
  variant?: string;
}

/** A version that gets a copy of every request; its answers are measured, never returned. */
export interface ShadowSource {
  reference: string;
  /** Its name in metrics and logs (default: the reference as written). */
  variant?: string;
}

/**
 * One served name that routes to weighted variants (A/B), optionally mirroring every request
 * to shadow versions. With `stickyKey`, a request carrying the key always reaches the same
 * variant (a deterministic hash of name and key, the same on every replica); without one,
 * requests are spread by smooth weighted round robin (exact shares, as nginx does).
 *
 * @example
 * createInferenceApp({
 *   registry,
 *   models: [{
 *     name: "house",
 *     variants: [
 *       { reference: "house@production", weight: 90 },
 *       { reference: "house@candidate", weight: 10 },
 *     ],
 *     shadow: ["house@challenger"],
 *     stickyKey: { header: "x-user-id" },
 *   }],
 * });
 * // the same as models: ["house=house@production:90,house@candidate:10,house@challenger:shadow"]
 */
export interface SplitModelSource {
  name: string;
  variants: readonly (string | VariantSource)[];
  shadow?: readonly (string | ShadowSource)[];
  stickyKey?: StickyKey;
}

/** A split source with every default filled in and checked. */
export interface SplitPlan {
  readonly name: string;
  readonly variants: readonly { reference: string; weight: number; variant: string }[];
  readonly shadow: readonly { reference: string; variant: string }[];
  readonly stickyKey: StickyKey | undefined;
}

function invalid(message: string): MlopsError {
  return new MlopsError("argument_invalid", message);
}

/** True for `{ name, variants }` (a split model source). */
export function isSplitSource(source: unknown): source is SplitModelSource {
  return (
    typeof source === "object" &&
    source !== null &&
    "variants" in source &&
    typeof (source as { name?: unknown }).name === "string"
  );
}

const WEIGHTED = /^(.*):(\d+(?:\.\d+)?|shadow)$/;

/**
 * Parses the text form of a served model: `REF`, `NAME=REF`, or a split model
 * `NAME=REF:WEIGHT,REF:WEIGHT[,REF:shadow]` (`house=house@production:90,house@candidate:10`).
 * Returns undefined for text with no weight (a plain reference, or `NAME=REF`).
 *
 * @example
 * parseSplitSpec("house=house@production:90,house@candidate:10,house@next:shadow");
 * // { name: "house", variants: [{ reference: "house@production", weight: 90 }, …],
 * //   shadow: [{ reference: "house@next" }] }
 */
export function parseSplitSpec(text: string): SplitModelSource | undefined {
  const items = text.split(",").map((item) => item.trim());
  if (!items.some((item) => WEIGHTED.test(item))) return undefined;
  const equals = items[0].indexOf("=");
  if (equals <= 0) {
    throw invalid(
      `${JSON.stringify(text)}: a split model needs a served name first: ` +
        "NAME=REF:WEIGHT,REF:WEIGHT (house=house@production:90,house@candidate:10)",
    );
  }
  const name = items[0].slice(0, equals).trim();
  items[0] = items[0].slice(equals + 1).trim();
  const variants: VariantSource[] = [];
  const shadow: ShadowSource[] = [];
  for (const item of items) {
    const match = WEIGHTED.exec(item);
    if (match === null || match[1] === "") {
      throw invalid(
        `${JSON.stringify(text)}: ${JSON.stringify(item)} has no weight; ` +
          "write each variant as REF:WEIGHT (house@candidate:10) or REF:shadow",
      );
    }
    if (match[2] === "shadow") shadow.push({ reference: match[1] });
    else variants.push({ reference: match[1], weight: Number(match[2]) });
  }
  return { name, variants, shadow };
}

/** Checks a split source and fills in its defaults. */
export function planSplit(source: SplitModelSource): SplitPlan {
  const name = source.name;
  if (name === "") throw invalid("models: a split model needs a name");
  if (!Array.isArray(source.variants) || source.variants.length === 0) {
    throw invalid(`models: "${name}" lists no variants (give at least one { reference, weight })`);
  }
  const seen = new Set<string>();
  const named = (variant: string, where: string) => {
    if (seen.has(variant)) {
      throw invalid(
        `models: "${name}" has two variants called "${variant}"; ` +
          `give one another name with { reference, variant: "…" } (${where})`,
      );
    }
    seen.add(variant);
    return variant;
  };
  const variants = source.variants.map((entry, i) => {
    const item = typeof entry === "string" ? { reference: entry } : entry;
    if (typeof item?.reference !== "string" || item.reference === "") {
      throw invalid(`models: "${name}" variants[${i}]: expected a reference string`);
    }
    const weight = item.weight ?? 1;
    if (typeof weight !== "number" || !Number.isFinite(weight) || weight < 0) {
      throw invalid(
        `models: "${name}" variants[${i}] (${item.reference}): expected a weight ≥ 0, got ${String(weight)}`,
      );
    }
    return {
      reference: item.reference,
      weight,
      variant: named(item.variant ?? item.reference, `variants[${i}]`),
    };
  });
  if (!variants.some((variant) => variant.weight > 0)) {
    throw invalid(`models: "${name}": every variant has weight 0; at least one must take traffic`);
  }
  const shadow = (source.shadow ?? []).map((entry, i) => {
    const item = typeof entry === "string" ? { reference: entry } : entry;
    if (typeof item?.reference !== "string" || item.reference === "") {
      throw invalid(`models: "${name}" shadow[${i}]: expected a reference string`);
    }
    return {
      reference: item.reference,
      variant: named(item.variant ?? item.reference, `shadow[${i}]`),
    };
  });
  const sticky = source.stickyKey;
  if (sticky !== undefined) {
    const value = "header" in sticky ? sticky.header : "field" in sticky ? sticky.field : undefined;
    if (typeof value !== "string" || value === "") {
      throw invalid(
        `models: "${name}" stickyKey: expected { header: "x-user-id" } or { field: "user_id" }`,
      );
    }
  }
  return {
    name,
    variants,
    shadow,
    stickyKey:
      sticky === undefined
        ? undefined
        : "header" in sticky
          ? { header: sticky.header.toLowerCase() }
          : { field: sticky.field },
  };
}

/**
 * Parses `header:NAME` or `field:NAME` (the `--sticky-key` option of `mlops-serve`).
 *
 * @example
 * parseStickyKey("header:x-user-id"); // { header: "x-user-id" }
 */
export function parseStickyKey(text: string): StickyKey {
  const match = /^(header|field):(.+)$/.exec(text.trim());
  if (match === null) {
    throw invalid(
      `sticky key ${JSON.stringify(text)}: expected header:NAME (header:x-user-id) or field:NAME (field:user_id)`,
    );
  }
  return match[1] === "header" ? { header: match[2].toLowerCase() } : { field: match[2] };
}

/**
 * Where a sticky key lands, in [0, 1): 32-bit FNV-1a over the UTF-8 bytes of
 * `name + "\0" + key`, then murmur3's finalizer so that keys differing in one character
 * spread evenly. Stable across processes, replicas and releases.
 *
 * @example
 * stickyPoint("house", "user-42"); // always the same number in [0, 1)
 */
export function stickyPoint(name: string, key: string): number {
  const bytes = Buffer.from(`${name}\u0000${key}`, "utf8");
  let hash = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    hash ^= bytes[i];
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return (hash >>> 0) / 0x1_0000_0000;
}

/** One variant of a split name at run time: its holder and weight. */
export interface Variant {
  readonly variant: string;
  readonly reference: string;
  readonly weight: number;
  readonly holder: ModelHolder;
}

/**
 * Routes the requests of one split name to its variants and knows its shadows. A request with
 * a sticky key goes where the key hashes to; one without goes by smooth weighted round robin.
 *
 * @example
 * app.models.router("house")?.pick("user-42").current?.version; // "7"
 */
export class VariantRouter {
  readonly name: string;
  readonly variants: readonly Variant[];
  readonly shadows: readonly Variant[];
  readonly stickyKey: StickyKey | undefined;
  readonly #total: number;
  readonly #bounds: Float64Array;
  /** Smooth weighted round robin: each variant's running credit. */
  readonly #credit: Float64Array;

  constructor(
    name: string,
    variants: readonly Variant[],
    shadows: readonly Variant[],
    stickyKey: StickyKey | undefined,
  ) {
    this.name = name;
    this.variants = variants;
    this.shadows = shadows;
    this.stickyKey = stickyKey;
    this.#total = variants.reduce((sum, variant) => sum + variant.weight, 0);
    this.#bounds = new Float64Array(variants.length);
    let cumulative = 0;
    variants.forEach((variant, i) => {
      cumulative += variant.weight;
      this.#bounds[i] = cumulative / this.#total;
    });
    this.#credit = new Float64Array(variants.length);
  }

  /** The variant for a request with this sticky key, or the next in turn when there is none. */
  pick(key: string | undefined): Variant {
    const variants = this.variants;
    if (key !== undefined) {
      const point = stickyPoint(this.name, key);
      for (let i = 0; i < variants.length; i++) {
        if (point < this.#bounds[i] && variants[i].weight > 0) return variants[i];
      }
      // Rounding at the top end: the last variant that takes traffic.
      for (let i = variants.length - 1; i >= 0; i--) if (variants[i].weight > 0) return variants[i];
    }
    const credit = this.#credit;
    let best = 0;
    for (let i = 0; i < variants.length; i++) {
      credit[i] += variants[i].weight;
      if (credit[i] > credit[best]) best = i;
    }
    credit[best] -= this.#total;
    return variants[best];
  }

  /** The variant serving `version` now, if any (a request for one version, OIP's `/versions/`). */
  byVersion(version: string): Variant | undefined {
    return this.variants.find((variant) => variant.holder.current?.version === version);
  }

  /** The variant called `variant` (or its shadow). */
  get(variant: string): Variant | undefined {
    return (
      this.variants.find((item) => item.variant === variant) ??
      this.shadows.find((item) => item.variant === variant)
    );
  }
}

/**
 * The sticky key of a request from its JSON body: the field of a single row object, else of
 * the first row in `rows`, `dataframe_records` or `instances`. Undefined when there is none
 * (the request is then routed by weight alone).
 */
export function keyFromBody(body: unknown, field: string): string | undefined {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return undefined;
  const record = body as Record<string, unknown>;
  let value = record[field];
  if (value === undefined) {
    for (const list of ["rows", "dataframe_records", "instances"]) {
      const rows = record[list];
      if (Array.isArray(rows) && typeof rows[0] === "object" && rows[0] !== null) {
        value = (rows[0] as Record<string, unknown>)[field];
        break;
      }
    }
  }
  if (typeof value === "string") return value;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return undefined;
}

/**
 * Removes the sticky field from a body's rows when the model does not take it as a feature
 * (a schema rejects unknown fields). Returns whether anything was removed.
 */
export function stripKeyField(body: unknown, field: string): boolean {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return false;
  const record = body as Record<string, unknown>;
  let removed = false;
  if (Object.hasOwn(record, field)) {
    delete record[field];
    removed = true;
  }
  for (const list of ["rows", "dataframe_records", "instances"]) {
    const rows = record[list];
    if (!Array.isArray(rows)) continue;
    for (const row of rows) {
      if (typeof row === "object" && row !== null && Object.hasOwn(row, field)) {
        delete (row as Record<string, unknown>)[field];
        removed = true;
      }
    }
  }
  return removed;
}
