import type { RoomRuntime } from '../rooms/room-runtime.js';
import { isInputRecord, type EventRecord } from './event-record.js';
import { replay, type ReplayResult } from './replay.js';

/** A place in line as it stood: a live connection, or a place held for a resume (conn null). */
export interface LinePlace {
  position: number;
  conn: string | null;
  session: string;
}

/** One room as it stood at a point of the log. */
export interface RoomStateAt {
  room: string;
  status: 'open' | 'paused' | 'closed';
  capacity: number;
  active: { conn: string; session: string; since: number | null }[];
  queueLength: number;
  held: number;
  /** The first places in line, from the head. */
  line: LinePlace[];
}

export interface StateAtResult {
  /** The replay of the log up to the point: its decisions are checked against the record. */
  replay: ReplayResult;
  /** The last input applied (the point), or null when the log has none up to `seq`. */
  at: EventRecord | null;
  rooms: RoomStateAt[];
}

/**
 * Replays the log up to `seq` (every input up to it and the decisions those inputs made) and describes each
 * room as it then stood: status, capacity, active sessions and the line with positions (at most `lineLimit`
 * places). Held places are not live connections, so the runtime skips them; they fill the gaps in the
 * positions, in the order they joined, since the line never reorders.
 */
export function stateAt(records: readonly EventRecord[], seq: number, lineLimit = 50): StateAtResult {
  const cut = records.findIndex((record) => record.seq > seq && isInputRecord(record));
  const prefix = cut === -1 ? records : records.slice(0, cut);
  let lastInput: EventRecord | null = null;
  for (const record of prefix) if (isInputRecord(record)) lastInput = record;

  const tracker = new SeatAndHoldTracker();
  for (const record of prefix) tracker.absorb(record);

  let rooms: RoomStateAt[] = [];
  const result = replay(prefix, {
    onInput: (record, runtimes) => {
      if (record === lastInput) rooms = [...runtimes.values()].map((runtime) => describeRoom(runtime, tracker, lineLimit));
    },
  });
  return { replay: result, at: lastInput, rooms };
}

function describeRoom(runtime: RoomRuntime, tracker: SeatAndHoldTracker, lineLimit: number): RoomStateAt {
  const sessionOf = (conn: string) => String(runtime.connectionState(conn)?.context.session ?? '?');
  const active = [...runtime.activeConnections()].map((conn) => ({ conn, session: sessionOf(conn), since: tracker.seatedSince.get(conn) ?? null }));
  const held = tracker.heldInLineOrder(runtime.name);
  const line: LinePlace[] = [];
  let heldIndex = 0;
  let expected = 1;
  for (const [conn, position] of runtime.waitersInOrder(lineLimit)) {
    for (; expected < position; expected++) line.push({ position: expected, conn: null, session: held[heldIndex++] ?? '?' });
    line.push({ position, conn, session: sessionOf(conn) });
    expected = position + 1;
  }
  for (; expected <= Math.min(runtime.queueLength, lineLimit); expected++) line.push({ position: expected, conn: null, session: held[heldIndex++] ?? '?' });
  return {
    room: runtime.name,
    status: runtime.status,
    capacity: runtime.capacity,
    active,
    queueLength: runtime.queueLength,
    held: runtime.heldCount,
    line,
  };
}

/** From the decisions: when each seat was taken, and which places are held, in the order they joined. */
class SeatAndHoldTracker {
  readonly seatedSince = new Map<string, number>();
  private readonly joinOrder = new Map<string, number>();
  private readonly held = new Map<string, Set<string>>();
  private joined = 0;

  absorb(record: EventRecord): void {
    const d = record.data as Record<string, any>;
    const held = this.heldIn(record.room);
    switch (record.kind) {
      case 'room.opened':
        held.clear();
        break;
      case 'queued':
        this.joinOrder.set(d.session, ++this.joined);
        break;
      case 'admitted':
        this.seatedSince.set(record.conn!, record.at);
        break;
      case 'held':
        held.add(d.session);
        break;
      case 'resumed':
        held.delete(d.session);
        break;
      case 'released':
      case 'evicted':
        if (d.from === 'seat') this.seatedSince.delete(record.conn!);
        else held.delete(d.session);
        break;
    }
  }

  heldInLineOrder(room: string): string[] {
    return [...this.heldIn(room)].sort((a, b) => (this.joinOrder.get(a) ?? 0) - (this.joinOrder.get(b) ?? 0));
  }

  private heldIn(room: string): Set<string> {
    let set = this.held.get(room);
    if (!set) this.held.set(room, (set = new Set()));
    return set;
  }
}

/** The state as text, one block per room. */
export function formatStateAt(result: StateAtResult, seq: number): string {
  if (result.at === null) return `no input at or before seq ${seq}\n`;
  const at = result.at;
  const lines = [`state after seq ${at.seq} (${new Date(at.at).toISOString()}): ${describeInput(at)}`];
  for (const room of result.rooms) {
    lines.push(
      `room "${room.room}": ${room.status}, capacity ${room.capacity}, ${room.active.length} active, ` +
        `${room.queueLength} in line${room.held > 0 ? ` (${room.held} held for resume)` : ''}`,
    );
    lines.push(room.active.length === 0 ? '  seats: none taken' : '  seats:');
    for (const seat of room.active) {
      const since = seat.since === null ? '' : `, seated ${((at.at - seat.since) / 1000).toFixed(1)} s`;
      lines.push(`    conn ${seat.conn}  session ${seat.session}${since}`);
    }
    lines.push(room.line.length === 0 ? '  line: empty' : '  line:');
    for (const place of room.line) {
      lines.push(`    ${String(place.position).padStart(4)}  ${place.conn === null ? `(held)  session ${place.session}` : `conn ${place.conn}  session ${place.session}`}`);
    }
    if (room.queueLength > room.line.length) lines.push(`    … and ${room.queueLength - room.line.length} more`);
  }
  return lines.join('\n') + '\n';
}

function describeInput(record: EventRecord): string {
  const d = record.data as Record<string, unknown>;
  const detail = record.kind === 'message' || record.kind === 'config' ? ` ${String(d.type)}` : record.kind === 'closed' ? ` ${String(d.code)}` : '';
  return `${record.kind}${detail}${record.conn ? ` on conn ${record.conn}` : ''}`;
}
