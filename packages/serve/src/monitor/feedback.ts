import { createReadStream, existsSync } from "node:fs";
import { appendFile, rename, writeFile } from "node:fs/promises";
import { createInterface } from "node:readline";
import { type Issue, MlopsError } from "@mlops/core";
import { ServeError } from "../errors.js";

/** Where a prediction came from: the served name, version and A/B variant (null for none). */
export interface PredictionOwner {
  readonly name: string;
  readonly version: string;
  readonly variant: string | null;
}

interface Pending extends PredictionOwner {
  /** One number for a one-row request, else one per row. */
  readonly predictions: number | Float64Array;
  readonly time: number;
  /** Rows that got their feedback: a flag for one row, a mask for several. */
  joined: boolean | Uint8Array;
  /** Shadow versions' predictions of the same request, scored by the same feedback. */
  shadows?: { owner: PredictionOwner; predictions: number | Float64Array }[];
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
  /** How long a prediction waits for its feedback (default 24 h), in milliseconds. */
  ttlMs?: number;
  /**
   * A JSON Lines file the predictions and feedback are appended to, so the predictions waiting
   * for feedback survive a restart (read back at start, compacted as it grows).
   */
  file?: string;
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

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The bounded store that joins feedback to predictions: every prediction's id, owner and
 * values, kept until its feedback comes, it expires (`ttlMs`) or newer ones push it out
 * (`capacity`) — memory stays bounded whatever the traffic. With `file`, predictions and
 * feedback are appended as JSON Lines and read back at start.
 */
export class FeedbackStore {
  readonly capacity: number;
  readonly ttlMs: number;
  readonly file: string | undefined;
  readonly #now: () => number;
  readonly #pending = new Map<string, Pending>();
  /**
   * Ids that expired or were pushed out, so late feedback for them is told so (410) rather
   * than "unknown" (404); as bounded as the store itself.
   */
  readonly #gone = new Map<string, "ttl" | "capacity">();
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
    const capacity = options.capacity ?? 50_000;
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new MlopsError(
        "argument_invalid",
        `monitoring.feedback.capacity: expected an integer ≥ 1, got ${String(capacity)}`,
      );
    }
    const ttlMs = options.ttlMs ?? 24 * 3600 * 1000;
    if (!(ttlMs > 0)) {
      throw new MlopsError(
        "argument_invalid",
        `monitoring.feedback.ttlMs: expected a number of milliseconds > 0, got ${String(ttlMs)}`,
      );
    }
    this.capacity = capacity;
    this.ttlMs = ttlMs;
    this.file = options.file;
    this.#now = now;
  }

  /** Counts a request rejected before its items were looked at (not JSON, empty). */
  reject(reason: FeedbackRejection): void {
    this.rejected[reason]++;
  }

  /** Predictions waiting for (or with some) feedback now. */
  get size(): number {
    return this.#pending.size;
  }

  /** Reads the file back (at start): predictions still within their time, and what was joined. */
  async restore(): Promise<number> {
    const file = this.file;
    if (file === undefined || !existsSync(file)) return 0;
    const lines = createInterface({ input: createReadStream(file, "utf8"), crlfDelay: Infinity });
    for await (const line of lines) {
      if (line.trim() === "") continue;
      let entry: unknown;
      try {
        entry = JSON.parse(line);
      } catch {
        // A line cut short by a crash: the rest of the file is still good.
        continue;
      }
      if (!isRecord(entry)) continue;
      if (entry.kind === "prediction" && typeof entry.id === "string") {
        const predictions = Array.isArray(entry.predictions)
          ? Float64Array.from(entry.predictions as number[], (value) => value ?? Number.NaN)
          : typeof entry.predictions === "number"
            ? entry.predictions
            : undefined;
        if (predictions === undefined || typeof entry.time !== "number") continue;
        this.#insert(entry.id, {
          name: String(entry.model),
          version: String(entry.version),
          variant: typeof entry.variant === "string" ? entry.variant : null,
          predictions,
          time: entry.time,
          joined: typeof predictions === "number" ? false : new Uint8Array(predictions.length),
        });
      } else if (entry.kind === "shadow" && typeof entry.id === "string") {
        const pending = this.#pending.get(entry.id);
        const predictions = Array.isArray(entry.predictions)
          ? Float64Array.from(entry.predictions as number[], (value) => value ?? Number.NaN)
          : entry.predictions;
        if (
          pending === undefined ||
          (typeof predictions !== "number" && !(predictions instanceof Float64Array))
        ) {
          continue;
        }
        pushShadow(pending, {
          owner: {
            name: String(entry.model),
            version: String(entry.version),
            variant: typeof entry.variant === "string" ? entry.variant : null,
          },
          predictions,
        });
      } else if (entry.kind === "feedback" && typeof entry.id === "string") {
        const pending = this.#pending.get(entry.id);
        if (pending === undefined) continue;
        if (typeof pending.joined === "boolean") pending.joined = true;
        else if (typeof entry.index === "number") pending.joined[entry.index] = 1;
      }
    }
    this.#expire();
    await this.#compact();
    return this.#pending.size;
  }

  #insert(id: string, pending: Pending): void {
    this.#pending.delete(id);
    this.#gone.delete(id);
    this.#pending.set(id, pending);
    while (this.#pending.size > this.capacity) {
      const oldest = this.#pending.keys().next().value as string;
      this.#pending.delete(oldest);
      this.#bury(oldest, "capacity");
    }
  }

  #bury(id: string, why: "ttl" | "capacity"): void {
    this.#gone.delete(id);
    this.#gone.set(id, why);
    if (this.#gone.size > this.capacity)
      this.#gone.delete(this.#gone.keys().next().value as string);
  }

  /** Drops the predictions whose time is up (the oldest come first in the map). */
  #expire(): void {
    const cutoff = this.#now() - this.ttlMs;
    for (const [id, pending] of this.#pending) {
      if (pending.time >= cutoff) break;
      this.#pending.delete(id);
      this.#bury(id, "ttl");
    }
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
    const stored = typeof predictions === "number" ? predictions : Float64Array.from(predictions);
    if (shadow) {
      const pending = this.#pending.get(id);
      if (pending === undefined) return;
      const kept = { name: owner.name, version: owner.version, variant: owner.variant };
      pushShadow(pending, { owner: kept, predictions: stored });
      if (this.file !== undefined) {
        this.#append({
          kind: "shadow",
          id,
          model: owner.name,
          version: owner.version,
          variant: owner.variant,
          predictions: typeof stored === "number" ? stored : Array.from(stored),
        });
      }
      return;
    }
    this.#insert(id, {
      name: owner.name,
      version: owner.version,
      variant: owner.variant,
      predictions: stored,
      time,
      joined: typeof stored === "number" ? false : new Uint8Array(stored.length),
    });
    if (this.#pending.size === this.capacity) this.#expire();
    if (this.file !== undefined) {
      this.#append({
        kind: "prediction",
        id,
        model: owner.name,
        version: owner.version,
        variant: owner.variant,
        predictions: typeof stored === "number" ? stored : Array.from(stored),
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
    this.#expire();
    const issues: FeedbackIssue[] = [];
    const accepted: { pending: Pending; index: number; actual: number; id: string }[] = [];
    const seen = new Set<string>();
    const now = this.#now();
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
      const pending = this.#pending.get(id);
      const gone = pending === undefined ? this.#gone.get(id) : undefined;
      if (gone !== undefined) {
        problem(
          "expired",
          "id",
          gone === "ttl"
            ? `the prediction ${JSON.stringify(id)} expired (feedback is taken for ${formatHours(this.ttlMs)})`
            : `the prediction ${JSON.stringify(id)} was pushed out by newer ones (the last ${this.capacity} predictions wait for feedback)`,
        );
        return;
      }
      if (pending === undefined) {
        problem(
          "unknown_id",
          "id",
          `no prediction with id ${JSON.stringify(id)} is waiting for feedback: unknown, or ` +
            `older than the last ${this.capacity} predictions / ${formatHours(this.ttlMs)}`,
        );
        return;
      }
      if (pending.time < now - this.ttlMs) {
        problem(
          "expired",
          "id",
          `the prediction ${JSON.stringify(id)} expired (feedback is taken for ${formatHours(this.ttlMs)})`,
        );
        return;
      }
      const rows = typeof pending.predictions === "number" ? 1 : pending.predictions.length;
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
        const done =
          typeof pending.joined === "boolean" ? pending.joined : pending.joined[row] === 1;
        if (done || seen.has(key)) {
          problem(
            "duplicate",
            "id",
            `the prediction ${JSON.stringify(id)}${rows > 1 ? ` (row ${row})` : ""} already has its feedback`,
          );
          return;
        }
        seen.add(key);
        accepted.push({ pending, index: row, actual: value, id });
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
    const joined: JoinedFeedback[] = [];
    for (const { pending, index, actual, id } of accepted) {
      const predicted =
        typeof pending.predictions === "number" ? pending.predictions : pending.predictions[index];
      if (typeof pending.joined === "boolean") pending.joined = true;
      else pending.joined[index] = 1;
      joined.push({ owner: pending, predicted, actual });
      for (const shadow of pending.shadows ?? []) {
        const value =
          typeof shadow.predictions === "number" ? shadow.predictions : shadow.predictions[index];
        if (value !== undefined)
          joined.push({ owner: shadow.owner, predicted: value, actual, shadow: true });
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

  /** Rewrites the file with only the predictions still kept (atomically). */
  async #compact(): Promise<void> {
    const file = this.file;
    if (file === undefined) return;
    let text = "";
    for (const [id, pending] of this.#pending) {
      const predictions =
        typeof pending.predictions === "number"
          ? pending.predictions
          : Array.from(pending.predictions);
      text += `${JSON.stringify({ kind: "prediction", id, model: pending.name, version: pending.version, variant: pending.variant, predictions, time: pending.time })}\n`;
      for (const shadow of pending.shadows ?? []) {
        const values =
          typeof shadow.predictions === "number"
            ? shadow.predictions
            : Array.from(shadow.predictions);
        text += `${JSON.stringify({ kind: "shadow", id, model: shadow.owner.name, version: shadow.owner.version, variant: shadow.owner.variant, predictions: values })}\n`;
      }
      if (pending.joined === true)
        text += `${JSON.stringify({ kind: "feedback", id, index: 0 })}\n`;
      else if (pending.joined instanceof Uint8Array) {
        pending.joined.forEach((flag, index) => {
          if (flag === 1) text += `${JSON.stringify({ kind: "feedback", id, index })}\n`;
        });
      }
    }
    const temporary = `${file}.${process.pid}.tmp`;
    await writeFile(temporary, text);
    await rename(temporary, file);
    this.#linesSinceCompaction = 0;
  }

  /** Flushes and stops writing. */
  async close(): Promise<void> {
    await this.flush();
    this.#closed = true;
  }
}

function pushShadow(
  pending: Pending,
  shadow: { owner: PredictionOwner; predictions: number | Float64Array },
): void {
  if (pending.shadows === undefined) pending.shadows = [shadow];
  else pending.shadows.push(shadow);
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
