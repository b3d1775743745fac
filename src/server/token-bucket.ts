/**
 * Per-connection rate limit: `rate` tokens a second, up to `burst` saved. A message spends one token; an
 * empty bucket refuses it and says how long until the next token.
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

  /** Spends a token: 0 when allowed, else the ms until one is available. */
  take(nowMs: number): number {
    const elapsed = Math.max(0, nowMs - this.updatedAt);
    this.updatedAt = nowMs;
    this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.rate) / 1000);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      this.refusedInARow = 0;
      return 0;
    }
    this.refusedInARow++;
    return Math.ceil(((1 - this.tokens) * 1000) / this.rate);
  }
}
