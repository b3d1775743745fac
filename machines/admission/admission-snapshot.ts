import { createAdmissionState, type AdmissionState } from './admission-state.js';
import type { ConnId, RoomStatus, SessionId } from './admission-types.js';

/**
 * A room's admission state as plain data (JSON-safe): what a snapshot keeps so a restart rebuilds the room
 * without folding the whole log. Arrays of tuples keep a 100k-place line compact.
 */
export interface AdmissionSnapshot {
  status: RoomStatus;
  capacity: number;
  maxQueue: number;
  resumeWindowMs: number;
  sessionTtlMs: number;
  seatGraceMs?: number;
  /** Seats in seating order: `[conn, session, since, ttlUntil, holdUntil]` (times ms epoch, null: none). */
  seats: [ConnId, SessionId, number, number | null, number | null][];
  /** Places in line order: `[session, conn, holdUntil]` (conn null and holdUntil set while held). */
  line: [SessionId, ConnId | null, number | null][];
}

/** The state as plain data. O(seats + places). */
export function snapshotOfAdmission(state: AdmissionState): AdmissionSnapshot {
  const seats: AdmissionSnapshot['seats'] = [];
  for (const [conn, seat] of state.seats) seats.push([conn, seat.session, seat.since, seat.ttlUntil, seat.holdUntil ?? null]);
  const line: AdmissionSnapshot['line'] = [];
  for (const [, waiter] of state.queue.entries()) line.push([waiter.session, waiter.conn, waiter.holdUntil]);
  const { status, capacity, maxQueue, resumeWindowMs, sessionTtlMs, seatGraceMs } = state;
  return { status, capacity, maxQueue, resumeWindowMs, sessionTtlMs, seatGraceMs: seatGraceMs ?? 0, seats, line };
}

/**
 * Rebuilds the state a snapshot was taken of: the same seats, the same line in the same order with the same
 * holds (tickets are renumbered; they never leave the state). O(places · log places).
 */
export function restoreAdmission(snapshot: AdmissionSnapshot): AdmissionState {
  const state = createAdmissionState(snapshot);
  for (const [conn, session, since, ttlUntil, holdUntil] of snapshot.seats) {
    state.seats.set(conn, holdUntil === null ? { session, since, ttlUntil } : { session, since, ttlUntil, holdUntil });
    state.seatBySession.set(session, conn);
  }
  for (const [session, conn, holdUntil] of snapshot.line) {
    const ticket = state.queue.enqueue({ session, conn, holdUntil });
    state.ticketBySession.set(session, ticket);
    if (conn !== null) state.ticketByConn.set(conn, ticket);
    else state.queue.setLive(ticket, false);
  }
  return state;
}

/** An independent copy of a state (a view that must not share the live room's queue). */
export function copyAdmission(state: AdmissionState): AdmissionState {
  return restoreAdmission(snapshotOfAdmission(state));
}
