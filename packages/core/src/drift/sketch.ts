import { MlopsError } from "../errors/error.js";
import type { Frame } from "../frame/frame.js";
import {
  type CategoryProfile,
  isNumericProfile,
  type NumericProfile,
  type TrainingProfile,
} from "../profile/types.js";
import { BinLocator, profileBinCount } from "./bins.js";
import type { BinnedNumbers, CategoryCounts } from "./compare.js";
import type { SketchSummary } from "./report.js";

/** The sliding window of a sketch: the last `rows` values, or the last `milliseconds`. */
export type SketchWindow = { rows: number } | { milliseconds: number };

export interface ProfileSketchOptions {
  /** The window (default the last 10,000 rows). */
  window?: SketchWindow;
  /**
   * Sub-windows the window slides by (default 10): the window holds between `blocks − 1` and
   * `blocks` of them, so it ends within 1/blocks of its nominal length.
   */
  blocks?: number;
  /** Unseen category values counted per block before the rest are lumped together (default 64). */
  maxNewCategories?: number;
  /** The clock of a time window, in milliseconds (default `Date.now`; tests pass their own). */
  now?: () => number;
}

/** Where a value the reference never saw is counted once a block has too many such values. */
export const OTHER_VALUES = "(other values)";

interface NumericSlot {
  kind: "numeric";
  name: string;
  bins: BinLocator;
  shift: number;
  /** Offset of this column's bins in a block's `bins` array. */
  offset: number;
  /** Index of this column in a block's moments arrays. */
  index: number;
}

interface CategorySlot {
  kind: "category";
  name: string;
  boolean: boolean;
  /** The reference's values, each with its index in a block's `known` counts. */
  codes: Map<string, number>;
  /** Offset of this column's counts in a block's `known` array. */
  offset: number;
  index: number;
}

type Slot = NumericSlot | CategorySlot;

class Block {
  rows = 0;
  /** Start time (time windows) or sequence number (row windows). */
  start = 0;
  readonly bins: Float64Array;
  readonly missing: Float64Array;
  readonly sums: Float64Array;
  readonly squares: Float64Array;
  readonly minimums: Float64Array;
  readonly maximums: Float64Array;
  readonly known: Float64Array;
  readonly unseen: Map<string, number>[];

  constructor(binCount: number, numeric: number, columns: number, knownCount: number) {
    this.bins = new Float64Array(binCount);
    this.missing = new Float64Array(columns);
    this.sums = new Float64Array(numeric);
    this.squares = new Float64Array(numeric);
    this.minimums = new Float64Array(numeric).fill(Infinity);
    this.maximums = new Float64Array(numeric).fill(-Infinity);
    this.known = new Float64Array(knownCount);
    this.unseen = Array.from({ length: columns }, () => new Map<string, number>());
  }

  reset(start: number): void {
    this.rows = 0;
    this.start = start;
    this.bins.fill(0);
    this.missing.fill(0);
    this.sums.fill(0);
    this.squares.fill(0);
    this.minimums.fill(Infinity);
    this.maximums.fill(-Infinity);
    this.known.fill(0);
    for (const map of this.unseen) map.clear();
  }
}

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) {
    throw new MlopsError(
      "argument_invalid",
      `ProfileSketch: ${name} must be an integer ≥ 1, got ${String(value)}`,
    );
  }
  return value;
}

/**
 * A streaming sketch of the rows a model sees, counted on its training profile's bins over a
 * sliding window (rows or time): O(log bins) work per value and memory bounded by
 * blocks × features × bins whatever the traffic. `summary()` feeds `driftReportFromSketch`.
 *
 * @example
 * const sketch = new ProfileSketch(profile, { window: { rows: 5000 } });
 * sketch.add({ rooms: 4, city: "Oslo" }, 312_000);
 * const report = driftReportFromSketch(profile, sketch.summary());
 */
export class ProfileSketch {
  readonly profile: TrainingProfile;
  readonly window: Readonly<SketchWindow>;
  readonly #slots: Slot[];
  readonly #bySlotName: Map<string, Slot>;
  readonly #predictions: NumericSlot | undefined;
  readonly #blocks: Block[];
  readonly #blockSpan: number;
  readonly #byTime: boolean;
  readonly #maxNew: number;
  readonly #now: () => number;
  #current = 0;
  #sequence = 0;

  constructor(profile: TrainingProfile, options: ProfileSketchOptions = {}) {
    this.profile = profile;
    const window = options.window ?? { rows: 10_000 };
    const blocks = positiveInteger("blocks", options.blocks, 10);
    this.#maxNew = positiveInteger("maxNewCategories", options.maxNewCategories, 64);
    this.#now = options.now ?? Date.now;
    if ("rows" in window) {
      const rows = positiveInteger("window.rows", window.rows, 10_000);
      this.#byTime = false;
      this.#blockSpan = Math.max(1, Math.ceil(rows / blocks));
    } else {
      const milliseconds = window.milliseconds;
      if (!(Number.isFinite(milliseconds) && milliseconds > 0)) {
        throw new MlopsError(
          "argument_invalid",
          `ProfileSketch: window.milliseconds must be a number > 0, got ${String(milliseconds)}`,
        );
      }
      this.#byTime = true;
      this.#blockSpan = milliseconds / blocks;
    }
    this.window = Object.freeze({ ...window });
    this.#slots = [];
    let binCount = 0;
    let knownCount = 0;
    let numeric = 0;
    const addNumeric = (name: string, column: NumericProfile): NumericSlot => {
      const slot: NumericSlot = {
        kind: "numeric",
        name,
        bins: new BinLocator(column.edges),
        shift: column.mean ?? 0,
        offset: binCount,
        index: numeric++,
      };
      binCount += profileBinCount(column.edges.length);
      return slot;
    };
    for (const [name, column] of Object.entries(profile.features)) {
      if (isNumericProfile(column)) {
        this.#slots.push(addNumeric(name, column));
      } else {
        const values = Object.keys((column as CategoryProfile).values);
        this.#slots.push({
          kind: "category",
          name,
          boolean: column.kind === "boolean",
          codes: new Map(values.map((value, i) => [value, i])),
          offset: knownCount,
          index: 0,
        });
        knownCount += values.length;
      }
    }
    this.#slots.forEach((slot, i) => {
      if (slot.kind === "category") slot.index = i;
    });
    this.#predictions =
      profile.predictions !== undefined
        ? addNumeric("predictions", profile.predictions)
        : undefined;
    const columns = this.#slots.length + 1;
    this.#blocks = Array.from(
      { length: blocks },
      () => new Block(binCount, numeric, columns, knownCount),
    );
    this.#bySlotName = new Map(this.#slots.map((slot) => [slot.name, slot]));
    this.#blocks[0].reset(this.#byTime ? this.#blockStart(this.#now()) : 0);
  }

  #blockStart(time: number): number {
    return Math.floor(time / this.#blockSpan) * this.#blockSpan;
  }

  /** The block new values go to, moving the window on when the current one is done. */
  #block(): Block {
    let block = this.#blocks[this.#current];
    if (this.#byTime) {
      const start = this.#blockStart(this.#now());
      if (start > block.start) {
        const steps = Math.min(
          this.#blocks.length,
          Math.round((start - block.start) / this.#blockSpan),
        );
        for (let i = 0; i < steps; i++) {
          this.#current = (this.#current + 1) % this.#blocks.length;
          this.#blocks[this.#current].reset(start - (steps - 1 - i) * this.#blockSpan);
        }
        block = this.#blocks[this.#current];
      }
    } else if (block.rows >= this.#blockSpan) {
      this.#current = (this.#current + 1) % this.#blocks.length;
      block = this.#blocks[this.#current];
      block.reset(++this.#sequence);
    }
    return block;
  }

  #addNumber(block: Block, slot: NumericSlot, position: number, value: number): void {
    if (!Number.isFinite(value)) {
      block.missing[position]++;
      return;
    }
    block.bins[slot.offset + slot.bins.bin(value)]++;
    const shifted = value - slot.shift;
    block.sums[slot.index] += shifted;
    block.squares[slot.index] += shifted * shifted;
    if (value < block.minimums[slot.index]) block.minimums[slot.index] = value;
    if (value > block.maximums[slot.index]) block.maximums[slot.index] = value;
  }

  #addValue(block: Block, slot: Slot, position: number, value: unknown): void {
    if (slot.kind === "numeric") {
      if (typeof value === "number") this.#addNumber(block, slot, position, value);
      else if (typeof value === "boolean") this.#addNumber(block, slot, position, value ? 1 : 0);
      else block.missing[position]++;
      return;
    }
    if (
      value === null ||
      value === undefined ||
      (typeof value === "number" && Number.isNaN(value))
    ) {
      block.missing[position]++;
      return;
    }
    const text = slot.boolean
      ? typeof value === "boolean"
        ? String(value)
        : typeof value === "number"
          ? String(value !== 0)
          : String(value)
      : String(value);
    const code = slot.codes.get(text);
    if (code !== undefined) {
      block.known[slot.offset + code]++;
      return;
    }
    const unseen = block.unseen[position];
    const previous = unseen.get(text);
    if (previous !== undefined) unseen.set(text, previous + 1);
    else if (unseen.size < this.#maxNew) unseen.set(text, 1);
    else unseen.set(OTHER_VALUES, (unseen.get(OTHER_VALUES) ?? 0) + 1);
  }

  /**
   * Counts one row (an object with the features' values; missing keys count as missing) and,
   * when given, the model's prediction for it.
   */
  add(row: Readonly<Record<string, unknown>>, prediction?: number): void {
    const block = this.#block();
    const slots = this.#slots;
    for (let i = 0; i < slots.length; i++) this.#addValue(block, slots[i], i, row[slots[i].name]);
    if (prediction !== undefined && this.#predictions !== undefined) {
      this.#addNumber(block, this.#predictions, slots.length, prediction);
    }
    block.rows++;
  }

  /** Counts every row of a frame (and the predictions for them, when given). */
  addFrame(frame: Frame, predictions?: ArrayLike<number>): void {
    const columns = this.#slots.map((slot) =>
      frame.has(slot.name) ? frame.column(slot.name) : undefined,
    );
    for (let row = 0; row < frame.rowCount; row++) {
      const block = this.#block();
      for (let i = 0; i < this.#slots.length; i++) {
        const column = columns[i];
        let value: unknown;
        if (column === undefined) value = undefined;
        else if (column.kind === "category") {
          const code = column.codes[row];
          value = code < 0 ? null : column.dictionary[code];
        } else {
          value = column.values[row];
          if (column.kind === "boolean" && !Number.isNaN(value as number)) value = value !== 0;
        }
        this.#addValue(block, this.#slots[i], i, value);
      }
      if (predictions !== undefined && this.#predictions !== undefined) {
        this.#addNumber(block, this.#predictions, this.#slots.length, predictions[row]);
      }
      block.rows++;
    }
  }

  /** Blocks inside the window now. */
  #live(): Block[] {
    if (!this.#byTime)
      return this.#blocks.filter(
        (block) => block.rows > 0 || block === this.#blocks[this.#current],
      );
    const now = this.#now();
    const oldest = this.#blockStart(now) - (this.#blocks.length - 1) * this.#blockSpan;
    return this.#blocks.filter((block) => block.rows > 0 && block.start >= oldest);
  }

  /** Rows in the window now. */
  get rows(): number {
    let rows = 0;
    for (const block of this.#live()) rows += block.rows;
    return rows;
  }

  /** The window's counts, for `driftReportFromSketch`. */
  summary(): SketchSummary {
    const live = this.#live();
    let rows = 0;
    for (const block of live) rows += block.rows;
    const features: SketchSummary["features"] = {};
    this.#slots.forEach((slot, position) => {
      features[slot.name] =
        slot.kind === "numeric"
          ? this.#numericSummary(live, slot, position)
          : this.#categorySummary(live, slot, position);
    });
    const summary: SketchSummary = { rows, features };
    if (this.#predictions !== undefined) {
      summary.predictions = this.#numericSummary(live, this.#predictions, this.#slots.length);
    }
    return summary;
  }

  #numericSummary(live: Block[], slot: NumericSlot, position: number): BinnedNumbers {
    const size = profileBinCount(slot.bins.edges.length);
    const counts = new Float64Array(size);
    let missing = 0;
    let sum = 0;
    let sumSquares = 0;
    let min = Infinity;
    let max = -Infinity;
    for (const block of live) {
      for (let i = 0; i < size; i++) counts[i] += block.bins[slot.offset + i];
      missing += block.missing[position];
      sum += block.sums[slot.index];
      sumSquares += block.squares[slot.index];
      if (block.minimums[slot.index] < min) min = block.minimums[slot.index];
      if (block.maximums[slot.index] > max) max = block.maximums[slot.index];
    }
    return { kind: "bins", counts, missing, min, max, sum, sumSquares, shift: slot.shift };
  }

  #categorySummary(live: Block[], slot: CategorySlot, position: number): CategoryCounts {
    const values: Record<string, number> = {};
    let missing = 0;
    for (const [value, code] of slot.codes) {
      let total = 0;
      for (const block of live) total += block.known[slot.offset + code];
      if (total > 0) values[value] = total;
    }
    for (const block of live) {
      missing += block.missing[position];
      for (const [value, frequency] of block.unseen[position]) {
        values[value] = (values[value] ?? 0) + frequency;
      }
    }
    return { kind: "values", values, missing };
  }

  /** The features this sketch counts. */
  get features(): string[] {
    return [...this.#bySlotName.keys()];
  }

  /** Forgets every counted row. */
  clear(): void {
    for (const block of this.#blocks) block.reset(0);
    this.#current = 0;
    this.#sequence = 0;
    this.#blocks[0].reset(this.#byTime ? this.#blockStart(this.#now()) : 0);
  }
}
