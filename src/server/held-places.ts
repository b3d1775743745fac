import type { EventLog } from '../log/event-log.js';
import type { EventRecord } from '../log/event-record.js';

/**
 * Places held for a resume, by the client address whose socket dropped them. A held place is no socket, but it
 * is still the address's: counted toward `--max-connections-per-ip`, one address cannot fill a line
 * (`maxQueue`) with places it drops on purpose. A place stops counting when it is resumed (its new socket
 * counts instead) or released; the room's own decisions, read from the log, say when.
 */
export class HeldPlaces {
  private readonly addressOf = new Map<string, string>();
  private readonly perAddress = new Map<string, number>();
  /** The same, per room and address: for a room's `maxPlacesPerIp`. */
  private readonly perRoomAddress = new Map<string, number>();
  private readonly onRecord = (record: EventRecord) => this.follow(record);

  constructor(private readonly log: EventLog) {
    log.on('record', this.onRecord);
  }

  /** Places held for `ip` now. */
  from(ip: string): number {
    return this.perAddress.get(ip) ?? 0;
  }

  /** Places held for `ip` in `room` now. */
  inRoomFrom(room: string, ip: string): number {
    return this.perRoomAddress.get(placeKey(room, ip)) ?? 0;
  }

  /** The socket of `session`'s place in `room` dropped, from `ip`, and the room holds the place. */
  held(room: string, session: string, ip: string): void {
    const key = placeKey(room, session);
    if (this.addressOf.has(key)) return;
    this.addressOf.set(key, ip);
    this.perAddress.set(ip, this.from(ip) + 1);
    addTo(this.perRoomAddress, placeKey(room, ip), 1);
  }

  stop(): void {
    this.log.off('record', this.onRecord);
  }

  private follow(record: EventRecord): void {
    if (record.kind === 'resumed') this.ended(record.room, record.data.session);
    else if ((record.kind === 'released' || record.kind === 'evicted') && record.data.from === 'queue') this.ended(record.room, record.data.session);
    else if (record.kind === 'room.opened') this.endRoom(record.room);
  }

  private ended(room: string, session: string): void {
    const key = placeKey(room, session);
    const ip = this.addressOf.get(key);
    if (ip === undefined) return;
    this.addressOf.delete(key);
    addTo(this.perAddress, ip, -1);
    addTo(this.perRoomAddress, placeKey(room, ip), -1);
  }

  private endRoom(room: string): void {
    for (const key of [...this.addressOf.keys()]) if (key.startsWith(`${room}\u0000`)) this.ended(room, key.slice(room.length + 1));
  }
}

function placeKey(room: string, session: string): string {
  return `${room}\u0000${session}`;
}

/** Adds `delta` to a count, forgetting counts that reach zero. */
function addTo(counts: Map<string, number>, key: string, delta: number): void {
  const count = (counts.get(key) ?? 0) + delta;
  if (count <= 0) counts.delete(key);
  else counts.set(key, count);
}
