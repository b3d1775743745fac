/**
 * Per-connection rate limit: `rate` tokens a second, up to `burst` saved. A message spends its cost in tokens
 * (one for a small message); a bucket without enough refuses it and says how long until it will have them.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;
  /** Messages refused in a row; reset by the next accepted one. */
  refusedInARow = 0;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    nowMs: number,
  ) {
    this.tokens = burst;
    this.updatedAt = nowMs;
  }

  /** When a token was last asked for (ms). */
  get lastUsedAt(): number {
    return this.updatedAt;
  }

  /**
   * Spends `cost` tokens for work already done (an answer's size), even past empty: the bucket owes them, and
   * later messages wait until the debt is paid back at `rate`.
   */
  charge(nowMs: number, cost: number): void {
    const elapsed = Math.max(0, nowMs - this.updatedAt);
    this.updatedAt = nowMs;
    this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.rate) / 1000) - cost;
  }

  /**
   * Spends `cost` tokens (at most `burst`, so any message can pass from a full bucket): 0 when allowed, else
   * the ms until the bucket holds enough.
   */
  take(nowMs: number, cost = 1): number {
    const elapsed = Math.max(0, nowMs - this.updatedAt);
    const price = Math.min(cost, this.burst);
    this.updatedAt = nowMs;
    this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.rate) / 1000);
    if (this.tokens >= price) {
      this.tokens -= price;
      this.refusedInARow = 0;
      return 0;
    }
    this.refusedInARow++;
    return Math.ceil(((price - this.tokens) * 1000) / this.rate);
  }
}
