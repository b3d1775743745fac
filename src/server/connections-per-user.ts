/**
 * Counts the open connections of each authenticated user, across rooms, for `--max-connections-per-user`: a
 * connection counts from its accepted upgrade until its TCP socket is gone, like the per-address limit.
 */
export class ConnectionsPerUser {
  private readonly open = new Map<string, number>();

  /** @param limit most open connections per user; 0 = no limit. */
  constructor(private readonly limit: number) {}

  /** Counts one more connection of `user` unless it already has `limit`; false when refused. */
  take(user: string): boolean {
    const count = this.open.get(user) ?? 0;
    if (this.limit > 0 && count >= this.limit) return false;
    this.open.set(user, count + 1);
    return true;
  }

  /** One connection of `user` ended. */
  release(user: string): void {
    const count = this.open.get(user) ?? 0;
    if (count <= 1) this.open.delete(user);
    else this.open.set(user, count - 1);
  }

  /** Users with a connection open (for leak checks). */
  get userCount(): number {
    return this.open.size;
  }
}
