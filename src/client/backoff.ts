/**
 * Full-jitter exponential backoff for reconnect attempts.
 *
 * The delay before attempt `n` (counting from 0) is drawn uniformly from `[0, min(capMs, baseMs * 2^n))`.
 * Full jitter spreads a crowd of clients that lost the server at the same instant (a restart, a network blip)
 * over the whole window instead of having them return in synchronized waves.
 */

/** Tuning for {@link fullJitterDelay} and {@link FullJitterBackoff}. Every field is optional. */
export interface BackoffOptions {
  /** Upper bound of the first window, in milliseconds. Default 1000. */
  baseMs?: number;
  /** Largest window, in milliseconds, however many attempts have failed. Default 30000. */
  capMs?: number;
  /** Uniform random source in `[0, 1)`. Default `Math.random`; inject a fixed one in tests. */
  random?: () => number;
}

export const DEFAULT_BACKOFF_BASE_MS = 1000;
export const DEFAULT_BACKOFF_CAP_MS = 30_000;

function nonNegative(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(`backoff ${name} must be a finite number >= 0, got ${String(value)}`);
  }
  return value;
}

/**
 * The delay, in whole milliseconds, to wait before reconnect attempt `attempt` (0 for the first retry).
 *
 * @throws RangeError if `baseMs` or `capMs` is negative or not finite.
 */
export function fullJitterDelay(attempt: number, options: BackoffOptions = {}): number {
  const baseMs = nonNegative(options.baseMs, DEFAULT_BACKOFF_BASE_MS, 'baseMs');
  const capMs = nonNegative(options.capMs, DEFAULT_BACKOFF_CAP_MS, 'capMs');
  const random = options.random ?? Math.random;
  const exponent = Math.max(0, Math.floor(attempt));
  // 2^exponent overflows to Infinity for large attempts; min() then picks the cap, except for a zero base.
  const window = baseMs === 0 ? 0 : Math.min(capMs, baseMs * 2 ** exponent);
  // Clamp a misbehaving random source so the delay stays inside the window.
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.min(Math.floor(r * window), Math.max(0, Math.ceil(window) - 1));
}

/** Counts failed attempts and hands out the next full-jitter delay. */
export class FullJitterBackoff {
  #attempt = 0;
  readonly #options: BackoffOptions;

  /** @throws RangeError if `baseMs` or `capMs` is negative or not finite. */
  constructor(options: BackoffOptions = {}) {
    // Validate once up front so a bad option fails at construction, not at the first reconnect.
    nonNegative(options.baseMs, DEFAULT_BACKOFF_BASE_MS, 'baseMs');
    nonNegative(options.capMs, DEFAULT_BACKOFF_CAP_MS, 'capMs');
    this.#options = { ...options };
  }

  /** Number of delays handed out since the last {@link reset}. */
  get attempt(): number {
    return this.#attempt;
  }

  /** The delay before the next attempt; each call widens the window for the one after. */
  next(): number {
    const delay = fullJitterDelay(this.#attempt, this.#options);
    this.#attempt += 1;
    return delay;
  }

  /** Start over from the smallest window, after a connection succeeded. */
  reset(): void {
    this.#attempt = 0;
  }
}
