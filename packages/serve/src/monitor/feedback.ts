import { createReadStream, existsSync } from "node:fs";
import { appendFile, open, rename } from "node:fs/promises";
import { createInterface } from "node:readline";
import { type Issue, MlopsError } from "@mlops/core";
import { ServeError } from "../errors.js";
import { HashIndex, hashId, ID_HASH, PredictionRing } from "./rings.js";

/** Where a prediction came from: the served name, version and A/B variant (null for none). */
export interface PredictionOwner {
  readonly name: string;
  readonly version: string;
  readonly variant: string | null;
}

/** One piece of feedback: the true value for the prediction with this id (and row). */
export interface FeedbackItem {
  id: string;
  /** The actual value; for a request of several rows, one per row (or give `index`). */
  actual: number | number[];
  /** The row of a several-row request the actual value is for. */
  index?: number;
}

/** A joined feedback value, for the online error of the version that predicted it. */
export interface JoinedFeedback {
  owner: PredictionOwner;
  predicted: number;
  actual: number;
  /** True for a shadow's prediction of the request (never returned, scored all the same). */
  shadow?: boolean;
}

export interface FeedbackOptions {
  /** Predictions kept to be joined (default 50,000; the oldest go first). */
  capacity?: number;
  /**
   * Rows of predictions kept (default 10 × `capacity`): a request of several rows keeps one
   * value per row, and the oldest predictions go first when the rows would not fit.
   */
  maxRows?: number;
  /** How long a prediction waits for its feedback (default 24 h), in milliseconds. */
  ttlMs?: number;
  /**
   * A JSON Lines file the predictions and feedback are appended to, so the predictions waiting
   * for feedback survive a restart (read back at start, compacted as it grows).
   */
  file?: string;
}

/** How much the store holds and has allocated: counts of entries, not bytes. */
export interface FeedbackFootprint {
  /** Predictions waiting for (or with some) feedback. */
  kept: number;
  /** Expired or pushed-out ids remembered (as hashes) to answer 410 rather than 404. */
  gone: number;
  /** Shadow predictions kept beside answered ones. */
  shadows: number;
  /** Lengths of the typed arrays: prediction slots, row slots, and hash-index slots. */
  allocated: {
    predictions: number;
    rows: number;
    shadowPredictions: number;
    shadowRows: number;
    gone: number;
    index: number;
    goneIndex: number;
  };
}

interface FeedbackIssue {
  code: FeedbackRejection;
  reason: FeedbackRejection;
  path: (string | number)[];
  message: string;
}

/** Rejected feedback, by reason (the `reason` label of `mlops_feedback_rejected_total`). */
export type FeedbackRejection = "unknown_id" | "expired" | "duplicate" | "invalid";

const FLUSH_BYTES = 64 * 1024;
const FLUSH_MS = 100;
/** Why an id is gone (kept in the gone ring's owner field). */
const GONE_TTL = 1;
const GONE_CAPACITY = 2;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new MlopsError(
      "argument_invalid",
      `monitoring.feedback.${name}: expected an integer ≥ 1, got ${String(value)}`,
    );
  }
  return value;
}

/**
 * The bounded store that joins feedback to predictions: every prediction's id, owner and
 * values, kept until its feedback comes, it expires (`ttlMs`) or newer ones push it out
 * (`capacity`, `maxRows`). Memory stays bounded whatever the traffic, and flat once the store
 * is full: predictions live in typed-array rings (ids as 64-bit hashes in an open-addressing
 * index, values and "joined" marks in a row ring), and the ids that expired or were pushed out
 * are remembered as hashes in a ring of `capacity` more, so late feedback is told 410, not 404.
 * With `file`, predictions and feedback are appended as JSON Lines and read back at start.
 */
export class FeedbackStore {
  readonly capacity: number;
  readonly maxRows: number;
  readonly ttlMs: number;
  readonly file: string | undefined;
  readonly #now: () => number;
  /** The answered predictions, oldest first; `flags` is 0 once a newer one took its id. */
  readonly #kept: PredictionRing;
  /** Shadows' predictions; each answered prediction links its first, each shadow the next. */
  readonly #shadows: PredictionRing;
  /** Id hash → sequence number in `#kept`, for the predictions kept now. */
  readonly #index = new HashIndex();
  /** Ids that expired or were pushed out: the hashes, why in `owner`, `flags` 0 when stale. */
  readonly #gone: PredictionRing;
  readonly #goneIndex = new HashIndex();
  #size = 0;
  /** The owners (served name, version, variant) predictions point to, by index. */
  readonly #owners: PredictionOwner[] = [];
  readonly #ownerKeys = new Map<string, number>();
  readonly #ownerOf = new WeakMap<object, number>();
  #buffer = "";
  #writes: Promise<void> = Promise.resolve();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #linesSinceCompaction = 0;
  #closed = false;
  /** Rejections by reason, for the metrics. */
  readonly rejected: Record<FeedbackRejection, number> = {
    unknown_id: 0,
    expired: 0,
    duplicate: 0,
    invalid: 0,
  };

  constructor(options: FeedbackOptions, now: () => number) {
    const capacity = positiveInteger("capacity", options.capacity ?? 50_000);
    const maxRows = positiveInteger("maxRows", options.maxRows ?? 10 * capacity);
    const ttlMs = options.ttlMs ?? 24 * 3600 * 1000;
    if (!(ttlMs > 0)) {
      throw new MlopsError(
        "argument_invalid",
        `monitoring.feedback.ttlMs: expected a number of milliseconds > 0, got ${String(ttlMs)}`,
      );
    }
    this.capacity = capacity;
    this.maxRows = maxRows;
    this.ttlMs = ttlMs;
    this.file = options.file;
    this.#now = now;
    this.#kept = new PredictionRing(capacity, maxRows);
    this.#shadows = new PredictionRing(capacity, maxRows);
    this.#gone = new PredictionRing(capacity, 1);
  }

  /** Counts a request rejected before its items were looked at (not JSON, empty). */
  reject(reason: FeedbackRejection): void {
    this.rejected[reason]++;
  }

  /** Predictions waiting for (or with some) feedback now. */
  get size(): number {
    return this.#size;
  }

  /** What the store holds and the lengths of its arrays (bounded by `capacity` and `maxRows`). */
  get footprint(): FeedbackFootprint {
    return {
      kept: this.#size,
      gone: this.#goneIndex.size,
      shadows: this.#shadows.count,
      allocated: {
        predictions: this.#kept.high.length,
        rows: this.#kept.values.length,
        shadowPredictions: this.#shadows.high.length,
        shadowRows: this.#shadows.values.length,
        gone: this.#gone.high.length,
        index: this.#index.slots,
        goneIndex: this.#goneIndex.slots,
      },
    };
  }

  /** Reads the file back (at start): predictions still within their time, and what was joined. */
  async restore(): Promise<number> {
    const file = this.file;
    if (file === undefined || !existsSync(file)) return 0;
    const lines = createInterface({ input: createReadStream(file, "utf8"), crlfDelay: Infinity });
    for await (const line of lines) {
      const entry = parseLine(line);
      if (entry === undefined || typeof entry.id !== "string") continue;
      if (entry.kind === "prediction") {
        const predictions = predictionsOf(entry.predictions);
        if (predictions === undefined || typeof entry.time !== "number") continue;
        const owner = this.#ownerIndex(ownerOf(entry));
        hashId(entry.id);
        this.#insert(ID_HASH[0], ID_HASH[1], owner, entry.time, predictions);
      } else if (entry.kind === "shadow") {
        const predictions = predictionsOf(entry.predictions);
        hashId(entry.id);
        const primary = this.#index.get(ID_HASH[0], ID_HASH[1]);
        if (primary < 0 || predictions === undefined) continue;
        this.#addShadow(primary, this.#ownerIndex(ownerOf(entry)), predictions);
      } else if (entry.kind === "feedback") {
        hashId(entry.id);
        const seq = this.#index.get(ID_HASH[0], ID_HASH[1]);
        if (seq < 0) continue;
        const kept = this.#kept;
        const slot = kept.slot(seq);
        const row = kept.rowCount[slot] === 1 ? 0 : entry.index;
        if (typeof row === "number" && row >= 0 && row < kept.rowCount[slot]) {
          kept.joined[kept.rowSlot(slot, row)] = 1;
        }
      }
    }
    this.#expire(this.#now());
    await this.#compact();
    return this.#size;
  }

  /** The index of an owner in `#owners` (the same object, or the same name/version/variant). */
  #ownerIndex(owner: PredictionOwner): number {
    const known = this.#ownerOf.get(owner);
    if (known !== undefined) return known;
    const key = `${owner.name}\u0000${owner.version}\u0000${owner.variant === null ? "\u0001" : owner.variant}`;
    let index = this.#ownerKeys.get(key);
    if (index === undefined) {
      index = this.#owners.length;
      this.#owners.push({ name: owner.name, version: owner.version, variant: owner.variant });
      this.#ownerKeys.set(key, index);
    }
    this.#ownerOf.set(owner, index);
    return index;
  }

  /** Keeps a prediction under its id hash; a prediction kept under the same id is replaced. */
  #insert(
    high: number,
    low: number,
    owner: number,
    time: number,
    predictions: number | ArrayLike<number>,
  ): void {
    const kept = this.#kept;
    const previous = this.#index.get(high, low);
    if (previous >= 0) {
      kept.flags[kept.slot(previous)] = 0;
      this.#index.delete(high, low);
      this.#size--;
    }
    const gone = this.#goneIndex.get(high, low);
    if (gone >= 0) {
      this.#gone.flags[this.#gone.slot(gone)] = 0;
      this.#goneIndex.delete(high, low);
    }
    const rows = typeof predictions === "number" ? 1 : predictions.length;
    if (rows > kept.maxRows) {
      // More rows than the store keeps at all: pushed out at once.
      this.#bury(high, low, GONE_CAPACITY);
      return;
    }
    while (!kept.fits(rows)) this.#dropOldest(GONE_CAPACITY);
    const seq = kept.push(high, low, owner, time, rows);
    const slot = kept.slot(seq);
    if (typeof predictions === "number") kept.setValue(slot, 0, predictions);
    else for (let row = 0; row < rows; row++) kept.setValue(slot, row, predictions[row]);
    this.#index.set(high, low, seq);
    this.#size++;
  }

  /** Drops the oldest kept prediction; a live one's id is remembered as gone (`why`). */
  #dropOldest(why: number): void {
    const kept = this.#kept;
    const slot = kept.slot(kept.head);
    if (kept.flags[slot] === 1) {
      const high = kept.high[slot];
      const low = kept.low[slot];
      this.#index.delete(high, low);
      this.#size--;
      this.#bury(high, low, why);
    }
    kept.shift();
  }

  /** Remembers a dropped id as a hash (the oldest of `capacity` such hashes go first). */
  #bury(high: number, low: number, why: number): void {
    const gone = this.#gone;
    const previous = this.#goneIndex.get(high, low);
    if (previous >= 0) gone.flags[gone.slot(previous)] = 0;
    while (!gone.fits(0)) {
      const slot = gone.slot(gone.head);
      if (gone.flags[slot] === 1) this.#goneIndex.delete(gone.high[slot], gone.low[slot]);
      gone.shift();
    }
    this.#goneIndex.set(high, low, gone.push(high, low, why, 0, 0));
  }

  /** Drops the predictions whose time is up (the oldest come first in the ring). */
  #expire(now: number): void {
    const kept = this.#kept;
    const cutoff = now - this.ttlMs;
    while (kept.count > 0 && kept.time[kept.slot(kept.head)] < cutoff) this.#dropOldest(GONE_TTL);
  }

  /** Keeps a shadow's prediction, linked after the other shadows of the answered one. */
  #addShadow(primary: number, owner: number, predictions: number | ArrayLike<number>): void {
    const shadows = this.#shadows;
    const rows = typeof predictions === "number" ? 1 : predictions.length;
    if (rows > shadows.maxRows) return;
    while (!shadows.fits(rows)) shadows.shift();
    const seq = shadows.push(0, 0, owner, 0, rows);
    const slot = shadows.slot(seq);
    if (typeof predictions === "number") shadows.setValue(slot, 0, predictions);
    else for (let row = 0; row < rows; row++) shadows.setValue(slot, row, predictions[row]);
    const kept = this.#kept;
    const keptSlot = kept.slot(primary);
    let last = kept.link[keptSlot];
    if (last < 0 || !shadows.has(last)) {
      kept.link[keptSlot] = seq;
      return;
    }
    for (let next = shadows.link[shadows.slot(last)]; next >= 0 && shadows.has(next); ) {
      last = next;
      next = shadows.link[shadows.slot(last)];
    }
    shadows.link[shadows.slot(last)] = seq;
  }

  /**
   * Keeps a prediction for its feedback. A shadow's prediction of a request is kept beside the
   * answered one (same id) and scored by the same feedback.
   */
  remember(
    id: string,
    owner: PredictionOwner,
    predictions: number | Float64Array,
    shadow = false,
  ): void {
    const time = this.#now();
    const ownerIndex = this.#ownerIndex(owner);
    hashId(id);
    const high = ID_HASH[0];
    const low = ID_HASH[1];
    if (shadow) {
      const primary = this.#index.get(high, low);
      if (primary < 0) return;
      this.#addShadow(primary, ownerIndex, predictions);
      if (this.file !== undefined) {
        this.#append({
          kind: "shadow",
          id,
          model: owner.name,
          version: owner.version,
          variant: owner.variant,
          predictions: typeof predictions === "number" ? predictions : Array.from(predictions),
        });
      }
      return;
    }
    this.#expire(time);
    this.#insert(high, low, ownerIndex, time, predictions);
    if (this.file !== undefined) {
      this.#append({
        kind: "prediction",
        id,
        model: owner.name,
        version: owner.version,
        variant: owner.variant,
        predictions: typeof predictions === "number" ? predictions : Array.from(predictions),
        time,
      });
    }
  }

  /**
   * Checks every item and, only when all are acceptable, joins them (all or nothing, so a
   * retried batch does not count twice). Throws a `ServeError` (4xx) naming each problem; the
   * rejections are counted by reason.
   */
  join(items: readonly unknown[], single: boolean): JoinedFeedback[] {
    const now = this.#now();
    this.#expire(now);
    const kept = this.#kept;
    const issues: FeedbackIssue[] = [];
    const accepted: { slot: number; index: number; actual: number; id: string }[] = [];
    const seen = new Set<string>();
    items.forEach((item, position) => {
      const problem = (reason: FeedbackRejection, field: string, message: string) => {
        const path: (string | number)[] = single ? [] : [position];
        if (field !== "") path.push(field);
        const where = path.map((part) => (typeof part === "number" ? `[${part}]` : part)).join(".");
        issues.push({
          code: reason,
          reason,
          path,
          message:
            where === "" ? message : `${where.replace(".[", "[").replace("].", "].")}: ${message}`,
        });
      };
      if (!isRecord(item)) {
        problem("invalid", "", `expected an object { id, actual }, got ${describe(item)}`);
        return;
      }
      const { id, actual, index } = item;
      if (typeof id !== "string" || id === "") {
        problem("invalid", "id", `expected the prediction's id (a string), got ${describe(id)}`);
        return;
      }
      hashId(id);
      const seq = this.#index.get(ID_HASH[0], ID_HASH[1]);
      if (seq < 0) {
        const gone = this.#goneIndex.get(ID_HASH[0], ID_HASH[1]);
        if (gone >= 0) {
          problem(
            "expired",
            "id",
            this.#gone.owner[this.#gone.slot(gone)] === GONE_TTL
              ? `the prediction ${JSON.stringify(id)} expired (feedback is taken for ${formatHours(this.ttlMs)})`
              : `the prediction ${JSON.stringify(id)} was pushed out by newer ones (the last ${this.capacity} predictions wait for feedback)`,
          );
          return;
        }
        problem(
          "unknown_id",
          "id",
          `no prediction with id ${JSON.stringify(id)} is waiting for feedback: unknown, or ` +
            `older than the last ${this.capacity} predictions / ${formatHours(this.ttlMs)}`,
        );
        return;
      }
      const slot = kept.slot(seq);
      if (kept.time[slot] < now - this.ttlMs) {
        problem(
          "expired",
          "id",
          `the prediction ${JSON.stringify(id)} expired (feedback is taken for ${formatHours(this.ttlMs)})`,
        );
        return;
      }
      const rows = kept.rowCount[slot];
      let values: [number, number][];
      if (index !== undefined) {
        if (!Number.isInteger(index) || (index as number) < 0 || (index as number) >= rows) {
          problem(
            "invalid",
            "index",
            `expected a row of the request, 0 to ${rows - 1}, got ${describe(index)}`,
          );
          return;
        }
        if (typeof actual !== "number" || !Number.isFinite(actual)) {
          problem("invalid", "actual", `expected a finite number, got ${describe(actual)}`);
          return;
        }
        values = [[index as number, actual]];
      } else if (Array.isArray(actual)) {
        if (actual.length !== rows) {
          problem(
            "invalid",
            "actual",
            `expected ${rows} values (one per row of the request), got ${actual.length}`,
          );
          return;
        }
        const bad = actual.findIndex(
          (value) => typeof value !== "number" || !Number.isFinite(value),
        );
        if (bad >= 0) {
          problem(
            "invalid",
            `actual[${bad}]`,
            `expected a finite number, got ${describe(actual[bad])}`,
          );
          return;
        }
        values = actual.map((value, row) => [row, value as number]);
      } else if (typeof actual === "number" && Number.isFinite(actual)) {
        if (rows !== 1) {
          problem(
            "invalid",
            "actual",
            `the request had ${rows} rows: give one value per row, or an index`,
          );
          return;
        }
        values = [[0, actual]];
      } else {
        problem("invalid", "actual", `expected a finite number, got ${describe(actual)}`);
        return;
      }
      for (const [row, value] of values) {
        const key = `${id}\u0000${row}`;
        if (kept.joined[kept.rowSlot(slot, row)] === 1 || seen.has(key)) {
          problem(
            "duplicate",
            "id",
            `the prediction ${JSON.stringify(id)}${rows > 1 ? ` (row ${row})` : ""} already has its feedback`,
          );
          return;
        }
        seen.add(key);
        accepted.push({ slot, index: row, actual: value, id });
      }
    });
    if (issues.length > 0) {
      for (const issue of issues) this.rejected[issue.reason]++;
      const first = issues[0];
      const code =
        issues.every((issue) => issue.reason === first.reason) && single
          ? REJECTION_CODES[first.reason]
          : "feedback_invalid";
      const message = single
        ? `feedback rejected: ${first.message}`
        : `feedback rejected, nothing joined: ${issues.length} problem${issues.length === 1 ? "" : "s"} (first: ${first.message})`;
      throw new ServeError(code, message, {
        // Plain-data issues like the schema's, with the feedback's own codes.
        issues: issues.map(({ reason: _, ...issue }) => issue) as unknown as Issue[],
      });
    }
    const shadows = this.#shadows;
    const joined: JoinedFeedback[] = [];
    for (const { slot, index, actual, id } of accepted) {
      const rowSlot = kept.rowSlot(slot, index);
      kept.joined[rowSlot] = 1;
      joined.push({
        owner: this.#owners[kept.owner[slot]],
        predicted: kept.values[rowSlot],
        actual,
      });
      for (let seq = kept.link[slot]; seq >= 0 && shadows.has(seq); ) {
        const shadowSlot = shadows.slot(seq);
        if (index < shadows.rowCount[shadowSlot]) {
          joined.push({
            owner: this.#owners[shadows.owner[shadowSlot]],
            predicted: shadows.values[shadows.rowSlot(shadowSlot, index)],
            actual,
            shadow: true,
          });
        }
        seq = shadows.link[shadowSlot];
      }
      if (this.file !== undefined) this.#append({ kind: "feedback", id, index, actual, time: now });
    }
    return joined;
  }

  #append(entry: Record<string, unknown>): void {
    if (this.#closed) return;
    this.#buffer += `${JSON.stringify(entry)}\n`;
    this.#linesSinceCompaction++;
    if (this.#buffer.length >= FLUSH_BYTES) this.flush();
    else if (this.#timer === undefined) {
      this.#timer = setTimeout(() => this.flush(), FLUSH_MS);
      this.#timer.unref?.();
    }
  }

  /** Writes what is buffered (writes are serialized; resolves when this one is on disk). */
  flush(): Promise<void> {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    const file = this.file;
    if (file === undefined) return this.#writes;
    const text = this.#buffer;
    this.#buffer = "";
    if (text !== "") this.#writes = this.#writes.then(() => appendFile(file, text)).catch(() => {});
    if (this.#linesSinceCompaction > 3 * this.capacity) {
      this.#linesSinceCompaction = 0;
      this.#writes = this.#writes.then(() => this.#compact()).catch(() => {});
    }
    return this.#writes;
  }

  /**
   * Rewrites the file with only the lines of the predictions still kept (atomically). The ids
   * are not in memory (only their hashes), so the file itself is filtered, line by line.
   */
  async #compact(): Promise<void> {
    const file = this.file;
    if (file === undefined || !existsSync(file)) return;
    const temporary = `${file}.${process.pid}.tmp`;
    const output = await open(temporary, "w");
    try {
      const lines = createInterface({ input: createReadStream(file, "utf8"), crlfDelay: Infinity });
      let text = "";
      for await (const line of lines) {
        const entry = parseLine(line);
        if (entry === undefined || typeof entry.id !== "string") continue;
        hashId(entry.id);
        if (this.#index.get(ID_HASH[0], ID_HASH[1]) < 0) continue;
        text += `${line}\n`;
        if (text.length >= FLUSH_BYTES) {
          await output.write(text);
          text = "";
        }
      }
      if (text !== "") await output.write(text);
    } finally {
      await output.close();
    }
    await rename(temporary, file);
    this.#linesSinceCompaction = 0;
  }

  /** Flushes and stops writing. */
  async close(): Promise<void> {
    await this.flush();
    this.#closed = true;
  }
}

/** A line of the JSON Lines file as an object, or undefined (blank, cut short by a crash). */
function parseLine(line: string): Record<string, unknown> | undefined {
  if (line.trim() === "") return undefined;
  try {
    const entry: unknown = JSON.parse(line);
    return isRecord(entry) ? entry : undefined;
  } catch {
    // A line cut short by a crash: the rest of the file is still good.
    return undefined;
  }
}

function predictionsOf(value: unknown): number | Float64Array | undefined {
  if (typeof value === "number") return value;
  if (Array.isArray(value)) {
    return Float64Array.from(value, (item) => (typeof item === "number" ? item : Number.NaN));
  }
  return undefined;
}

function ownerOf(entry: Record<string, unknown>): PredictionOwner {
  return {
    name: String(entry.model),
    version: String(entry.version),
    variant: typeof entry.variant === "string" ? entry.variant : null,
  };
}

const REJECTION_CODES = {
  unknown_id: "feedback_unknown_id",
  expired: "feedback_expired",
  duplicate: "feedback_duplicate",
  invalid: "feedback_invalid",
} as const;

function formatHours(ms: number): string {
  const hours = ms / 3_600_000;
  return hours >= 1
    ? `${Number(hours.toPrecision(3))} h`
    : `${Number((ms / 60_000).toPrecision(3))} min`;
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (typeof value === "string")
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === "object") return Array.isArray(value) ? "an array" : "an object";
  return String(value);
}
