import { TokenBucket } from './token-bucket.js';

/** Addresses tracked at once; past it, addresses whose bucket has refilled are forgotten first. */
const maxTrackedAddresses = 10_000;

/**
 * A request rate per client address: `rate` requests a second, `burst` saved. For HTTP work anyone can ask
 * for without credentials (the operators' read-only endpoints), so one address cannot keep the event loop
 * busy for everyone else.
 */
export class AddressRate {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(
    private readonly rate: number,
    private readonly burst: number,
  ) {}

  /** Spends one request of `address` at `nowMs`: 0 when allowed, else the ms until the next is. */
  take(address: string, nowMs: number): number {
    let bucket = this.buckets.get(address);
    if (!bucket) {
      if (this.buckets.size >= maxTrackedAddresses) this.forgetIdle(nowMs);
      bucket = new TokenBucket(this.rate, this.burst, nowMs);
      this.buckets.set(address, bucket);
    }
    return bucket.take(nowMs);
  }

  /** Addresses tracked now (for leak checks). */
  get size(): number {
    return this.buckets.size;
  }

  /** Drops addresses idle long enough to have a full bucket again; they would start full anyway. */
  private forgetIdle(nowMs: number): void {
    const refillMs = (this.burst / this.rate) * 1000;
    for (const [address, bucket] of this.buckets) {
      if (nowMs - bucket.lastUsedAt >= refillMs) this.buckets.delete(address);
    }
    // Everyone is busy: start over rather than grow without bound.
    if (this.buckets.size >= maxTrackedAddresses) this.buckets.clear();
  }
}
