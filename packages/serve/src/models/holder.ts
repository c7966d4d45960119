import { ServeError } from "../errors.js";
import type { ServedModel } from "./served.js";
import type { VariantRouter } from "./variants.js";

/** Where a holder is in its life: loading its first version, serving, or failed to load. */
export type HolderState = "loading" | "ready" | "failed";

/**
 * The slot one served name lives in. Requests read `current` once and use that version to the
 * end, so `swap` (hot reload, a rollback) changes the version atomically between requests:
 * no request ever mixes two versions, and none waits for a swap.
 *
 * @example
 * const holder = app.models.get("wine")!;
 * const previous = holder.swap(nextVersion); // new requests use nextVersion from here on
 * await previous?.model.close?.();
 */
export class ModelHolder {
  #current: ServedModel | undefined;
  #state: HolderState = "loading";
  #error: Error | undefined;
  #swaps = 0;

  constructor(
    /** The name it is served under. */
    readonly name: string,
    /** The registry reference it follows (`"wine@production"`), if it came from a registry. */
    readonly reference: string | undefined,
    /** Its variant of a split (A/B) name (`"house@candidate"`); undefined for a plain model. */
    readonly variant: string | undefined = undefined,
    /** True for a shadow: it gets a copy of the requests and its answers are never returned. */
    readonly shadow = false,
  ) {}

  /**
   * For a split (A/B) name, the router of its variants: set on the holder that
   * `catalog.get(name)` returns (the first variant listed).
   */
  router: VariantRouter | undefined;

  /** The version answering requests now (undefined while the first one loads). */
  get current(): ServedModel | undefined {
    return this.#current;
  }

  get state(): HolderState {
    return this.#state;
  }

  /** Why the first load failed (state `"failed"`). */
  get error(): Error | undefined {
    return this.#error;
  }

  /** How many times a version was put in place (1 after the first load). */
  get swaps(): number {
    return this.#swaps;
  }

  /** Puts `next` in place for every request that starts from now on; returns the previous. */
  swap(next: ServedModel): ServedModel | undefined {
    if (next.name !== this.name || next.variant !== this.variant) {
      throw new Error(
        `ModelHolder "${this.label}": cannot hold a model named "${next.name}"` +
          (next.variant === undefined ? "" : ` (variant "${next.variant}")`),
      );
    }
    const previous = this.#current;
    this.#current = next;
    this.#state = "ready";
    this.#error = undefined;
    this.#swaps++;
    return previous;
  }

  /** Records that loading failed; a version already in place keeps serving. */
  fail(error: Error): void {
    this.#error = error;
    if (this.#current === undefined) this.#state = "failed";
  }

  /** The name, with the variant of a split name: `house` or `house[house@candidate]`. */
  get label(): string {
    return this.variant === undefined ? this.name : `${this.name}[${this.variant}]`;
  }

  /** The version to answer with, or 503 `model_not_ready` saying why there is none. */
  require(): ServedModel {
    const current = this.#current;
    if (current !== undefined) return current;
    throw new ServeError(
      "model_not_ready",
      this.#state === "failed"
        ? `model "${this.label}" failed to load: ${this.#error?.message ?? "unknown error"}`
        : `model "${this.label}" is still loading`,
    );
  }
}
