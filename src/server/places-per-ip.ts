/**
 * Counts the connections each client address has open in one room, for the room's `maxPlacesPerIp`. A place
 * is counted from the moment its connection is accepted until its socket is forgotten, seated or queued alike;
 * the places held for the address's dropped connections are added by the caller (`held`).
 */
export class PlacesPerIp {
  private readonly open = new Map<string, number>();

  /**
   * Counts one more place for `ip` unless it already has `limit` (0 = no limit), counting `held` places held
   * for it too; false when refused.
   */
  take(ip: string, limit: number, held = 0): boolean {
    const count = this.open.get(ip) ?? 0;
    if (limit > 0 && count + held >= limit) return false;
    this.open.set(ip, count + 1);
    return true;
  }

  /** The place of one connection of `ip` ended. */
  release(ip: string): void {
    const count = this.open.get(ip) ?? 0;
    if (count <= 1) this.open.delete(ip);
    else this.open.set(ip, count - 1);
  }
}
