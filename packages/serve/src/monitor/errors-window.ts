import type { SketchWindow } from "@mlops/core";

/** Online error figures from feedback: how far the predictions were from the actual values. */
export interface OnlineError {
  /** Feedback joined in the window. */
  count: number;
  /** Root mean squared error and mean absolute error over the window (null without feedback). */
  rmse: number | null;
  mae: number | null;
  /** Mean of actual − predicted (null without feedback): the sign says which way it errs. */
  bias: number | null;
}

/**
 * Squared and absolute errors over a sliding window (the last N joined values, or the last N
 * milliseconds), in `blocks` sub-windows: O(1) per value, fixed memory.
 */
export class ErrorWindow {
  readonly #byTime: boolean;
  readonly #span: number;
  readonly #counts: Float64Array;
  readonly #squares: Float64Array;
  readonly #absolutes: Float64Array;
  readonly #signed: Float64Array;
  readonly #starts: Float64Array;
  readonly #now: () => number;
  #current = 0;
  #sequence = 0;

  constructor(window: SketchWindow, blocks: number, now: () => number) {
    this.#byTime = "milliseconds" in window;
    this.#span =
      "milliseconds" in window
        ? window.milliseconds / blocks
        : Math.max(1, Math.ceil(window.rows / blocks));
    this.#counts = new Float64Array(blocks);
    this.#squares = new Float64Array(blocks);
    this.#absolutes = new Float64Array(blocks);
    this.#signed = new Float64Array(blocks);
    this.#starts = new Float64Array(blocks);
    this.#now = now;
    this.#starts[0] = this.#byTime ? this.#blockStart(now()) : 0;
  }

  #blockStart(time: number): number {
    return Math.floor(time / this.#span) * this.#span;
  }

  #reset(block: number, start: number): void {
    this.#counts[block] = 0;
    this.#squares[block] = 0;
    this.#absolutes[block] = 0;
    this.#signed[block] = 0;
    this.#starts[block] = start;
  }

  #block(): number {
    const blocks = this.#counts.length;
    if (this.#byTime) {
      const start = this.#blockStart(this.#now());
      const current = this.#starts[this.#current];
      if (start > current) {
        const steps = Math.min(blocks, Math.round((start - current) / this.#span));
        for (let i = 0; i < steps; i++) {
          this.#current = (this.#current + 1) % blocks;
          this.#reset(this.#current, start - (steps - 1 - i) * this.#span);
        }
      }
    } else if (this.#counts[this.#current] >= this.#span) {
      this.#current = (this.#current + 1) % blocks;
      this.#reset(this.#current, ++this.#sequence);
    }
    return this.#current;
  }

  /** Counts one joined value. */
  add(predicted: number, actual: number): void {
    const block = this.#block();
    const error = actual - predicted;
    this.#counts[block]++;
    this.#squares[block] += error * error;
    this.#absolutes[block] += Math.abs(error);
    this.#signed[block] += error;
  }

  /** The window's figures now. */
  summary(): OnlineError {
    let count = 0;
    let squares = 0;
    let absolutes = 0;
    let signed = 0;
    const oldest = this.#byTime
      ? this.#blockStart(this.#now()) - (this.#counts.length - 1) * this.#span
      : -Infinity;
    for (let block = 0; block < this.#counts.length; block++) {
      if (this.#starts[block] < oldest) continue;
      count += this.#counts[block];
      squares += this.#squares[block];
      absolutes += this.#absolutes[block];
      signed += this.#signed[block];
    }
    if (count === 0) return { count: 0, rmse: null, mae: null, bias: null };
    return {
      count,
      rmse: Math.sqrt(squares / count),
      mae: absolutes / count,
      bias: signed / count,
    };
  }
}
