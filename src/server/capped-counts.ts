/** Counts per key (an address, a user) with a cap checked as one is taken; a key whose count reaches 0 is forgotten. */
export class CappedCounts {
  private readonly open = new Map<string, number>();

  /** Counts one more for `key` unless it already has `limit` (0 = no limit), counting `extra` too; false when refused. */
  take(key: string, limit: number, extra = 0): boolean {
    const count = this.open.get(key) ?? 0;
    if (limit > 0 && count + extra >= limit) return false;
    this.open.set(key, count + 1);
    return true;
  }

  /** One of `key`'s ended. */
  release(key: string): void {
    const count = this.open.get(key) ?? 0;
    if (count <= 1) this.open.delete(key);
    else this.open.set(key, count - 1);
  }

  /** Keys counted now (for leak checks). */
  get size(): number {
    return this.open.size;
  }
}
