import { ServeError } from "../errors.js";
import type { ServedModel } from "./served.js";

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
  ) {}

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
    if (next.name !== this.name) {
      throw new Error(`ModelHolder "${this.name}": cannot hold a model named "${next.name}"`);
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

  /** The version to answer with, or 503 `model_not_ready` saying why there is none. */
  require(): ServedModel {
    const current = this.#current;
    if (current !== undefined) return current;
    throw new ServeError(
      "model_not_ready",
      this.#state === "failed"
        ? `model "${this.name}" failed to load: ${this.#error?.message ?? "unknown error"}`
        : `model "${this.name}" is still loading`,
    );
  }
}
