import { CappedCounts } from './capped-counts.js';

/**
 * Counts the open connections of each authenticated user, across rooms, for `--max-connections-per-user`: a
 * connection counts from its accepted upgrade until its TCP socket is gone, like the per-address limit.
 */
export class ConnectionsPerUser {
  private readonly counts = new CappedCounts();

  /** @param limit most open connections per user; 0 = no limit. */
  constructor(private readonly limit: number) {}

  /** Counts one more connection of `user` unless it already has `limit`; false when refused. */
  take(user: string): boolean {
    return this.counts.take(user, this.limit);
  }

  /** One connection of `user` ended. */
  release(user: string): void {
    this.counts.release(user);
  }

  /** Users with a connection open (for leak checks). */
  get userCount(): number {
    return this.counts.size;
  }
}
