import { ServeError } from "../errors.js";

/** Request limits of an app. */
export interface Limits {
  /** Largest request body in bytes (default 1 MiB); larger ones get 413 while still arriving. */
  maxBodyBytes: number;
  /** Most rows in one request (default 100,000); more get 413 `too_many_rows`. */
  maxBatchRows: number;
  /** Prediction requests answered at once (default 256); beyond that 503 with Retry-After. */
  maxConcurrent: number;
  /** Longest a prediction request may take (default 10 s); then 503 `timeout`. */
  timeoutMs: number;
}

/**
 * The limits an app gets for what `limits` leaves out.
 *
 * @example
 * createInferenceApp({ models, limits: { ...DEFAULT_LIMITS, maxBodyBytes: 8 << 20 } });
 */
export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxBodyBytes: 1024 * 1024,
  maxBatchRows: 100_000,
  maxConcurrent: 256,
  timeoutMs: 10_000,
});

/** The app's limits: defaults for what is not given; throws `RangeError` for a bad value. */
export function resolveLimits(given: Partial<Limits> = {}): Limits {
  const limits = { ...DEFAULT_LIMITS };
  for (const key of Object.keys(DEFAULT_LIMITS) as (keyof Limits)[]) {
    const value = given[key];
    if (value === undefined) continue;
    if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
      throw new RangeError(`limits.${key}: expected a positive integer, got ${String(value)}`);
    }
    limits[key] = value;
  }
  return limits;
}

/**
 * The concurrency cap: prediction requests take a slot or are refused at once (503
 * `overloaded`, `Retry-After`) — nothing queues without bound. A slot is held until the work
 * ends, even when the client was already answered with a timeout.
 */
export class ConcurrencyLimiter {
  #inFlight = 0;

  constructor(readonly maxConcurrent: number) {}

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Takes a slot or throws 503 `overloaded`. */
  acquire(): void {
    if (this.#inFlight >= this.maxConcurrent) {
      throw new ServeError(
        "overloaded",
        `server is at its limit of ${this.maxConcurrent} concurrent requests; retry shortly`,
      );
    }
    this.#inFlight++;
  }

  release(): void {
    this.#inFlight--;
  }
}

/**
 * Waits for `work`, at most `remainingMs`: then rejects with 503 `timeout` (the work goes on;
 * `settled` still runs when it ends).
 */
export function withTimeout<T>(
  work: Promise<T>,
  remainingMs: number,
  settled: () => void,
): Promise<T> {
  work.then(settled, settled);
  if (remainingMs <= 0) return Promise.reject(timeoutError());
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(timeoutError()), remainingMs);
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

function timeoutError(): ServeError {
  return new ServeError("timeout", "the prediction did not finish in time; retry shortly");
}
