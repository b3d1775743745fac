import { heldCount, type AdmissionState } from '../../machines/admission/admission-state.js';
import type { RoomStatus } from '../../machines/admission/admission-types.js';
import { isInputRecord, type EventRecord } from './event-record.js';
import { replay, type ReplayResult } from './replay.js';
import { RoomFold } from './room-fold.js';

/** A place in line as it stood: a live connection, or a place held for a resume (conn null). */
export interface LinePlace {
  position: number;
  conn: string | null;
  session: string;
}

/** One room as it stood at a point of the log. */
export interface RoomStateAt {
  room: string;
  status: RoomStatus;
  capacity: number;
  /** Most places in line; 0 = no limit. */
  maxQueue: number;
  active: { conn: string; session: string; since: number }[];
  queueLength: number;
  held: number;
  /** The first places in line, from the head. */
  line: LinePlace[];
}

/** `stateAt`'s answer: the checked replay up to the point, the input at the point, and each room then. */
export interface StateAtResult {
  /** The replay of the log up to the point: its decisions are checked against the record. */
  replay: ReplayResult;
  /** The last input applied (the point), or null when the log has none up to `seq`. */
  at: EventRecord | null;
  rooms: RoomStateAt[];
}

/**
 * Replays the log up to `seq` (every input up to it and the decisions those inputs made), checking each
 * decision, and describes each room as the fold of its decisions then stood: status, capacity, active
 * sessions and the line with positions, live and held (at most `lineLimit` places).
 */
export function stateAt(records: readonly EventRecord[], seq: number, lineLimit = 50): StateAtResult {
  const cut = records.findIndex((record) => record.seq > seq && isInputRecord(record));
  const prefix = cut === -1 ? records : records.slice(0, cut);
  let lastInput: EventRecord | null = null;
  for (const record of prefix) if (isInputRecord(record)) lastInput = record;
  const checked = replay(prefix);
  // A log that does not replay is described no further: its decisions may not even fold.
  if (!checked.ok) return { replay: checked, at: lastInput, rooms: [] };
  const fold = RoomFold.of(prefix);
  const rooms = [...fold.rooms].map(([name, room]) => describeRoom(name, room.state, lineLimit));
  return { replay: checked, at: lastInput, rooms };
}

function describeRoom(room: string, state: AdmissionState, lineLimit: number): RoomStateAt {
  const active = [...state.seats].map(([conn, seat]) => ({ conn, session: seat.session, since: seat.since }));
  const line: LinePlace[] = [];
  for (const [, waiter] of state.queue.entries()) {
    if (line.length >= lineLimit) break;
    line.push({ position: line.length + 1, conn: waiter.conn, session: waiter.session });
  }
  return { room, status: state.status, capacity: state.capacity, maxQueue: state.maxQueue, active, queueLength: state.queue.size, held: heldCount(state), line };
}

/** The state as text, one block per room. */
export function formatStateAt(result: StateAtResult, seq: number): string {
  if (result.at === null) return `no input at or before seq ${seq}\n`;
  const at = result.at;
  const lines = [`state after seq ${at.seq} (${new Date(at.at).toISOString()}): ${describeInput(at)}`];
  for (const room of result.rooms) {
    lines.push(
      `room "${room.room}": ${room.status}, capacity ${room.capacity}${room.maxQueue > 0 ? `, max queue ${room.maxQueue}` : ''}, ${room.active.length} active, ` +
        `${room.queueLength} in line${room.held > 0 ? ` (${room.held} held for resume)` : ''}`,
    );
    lines.push(room.active.length === 0 ? '  seats: none taken' : '  seats:');
    for (const seat of room.active) {
      const since = `, seated ${((at.at - seat.since) / 1000).toFixed(1)} s`;
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
  let detail = '';
  if (record.kind === 'message' || record.kind === 'config') detail = ` ${record.data.type}`;
  else if (record.kind === 'closed') detail = ` ${record.data.code}`;
  else if (record.kind === 'fault') detail = ` ${record.data.reason}`;
  return `${record.kind}${detail}${record.conn ? ` on conn ${record.conn}` : ''}`;
}
