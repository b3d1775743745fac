import { createAdmissionState, type AdmissionState, type Seat } from './admission-state.js';
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
  admissionRate?: number;
  siteSessions?: boolean;
  siteSessionTimeoutMs?: number;
  /** The operator's notice, the pending opening (ms epoch), and the pacing bucket (see `admission-pacing.ts`). */
  notice?: string | null;
  opensAt?: number | null;
  pacingNextAt?: number;
  pacedDueAt?: number | null;
  /** Seats in seating order: `[conn, session, since, ttlUntil, holdUntil, siteUntil]` (times ms epoch, null: none). */
  seats: [ConnId, SessionId, number, number | null, number | null, (number | null)?][];
  /** Places in line order: `[session, conn, holdUntil, priority]` (conn null and holdUntil set while held). */
  line: [SessionId, ConnId | null, number | null, number?][];
  /** The authenticated user of each session that has one: `[session, user]` (absent in older snapshots). */
  users?: [SessionId, string][];
}

/** The state as plain data. O(seats + places). */
export function snapshotOfAdmission(state: AdmissionState): AdmissionSnapshot {
  const seats: AdmissionSnapshot['seats'] = [];
  for (const [conn, seat] of state.seats) seats.push([conn, seat.session, seat.since, seat.ttlUntil, seat.holdUntil ?? null, seat.siteUntil ?? null]);
  const line: AdmissionSnapshot['line'] = [];
  for (const [ticket, waiter] of state.queue.entries()) line.push([waiter.session, waiter.conn, waiter.holdUntil, state.queue.priorityOf(ticket)]);
  const { status, capacity, maxQueue, resumeWindowMs, sessionTtlMs, seatGraceMs, admissionRate, siteSessions, siteSessionTimeoutMs } = state;
  const { notice, opensAt, pacingNextAt, pacedDueAt } = state;
  return {
    status,
    capacity,
    maxQueue,
    resumeWindowMs,
    sessionTtlMs,
    seatGraceMs: seatGraceMs ?? 0,
    admissionRate,
    siteSessions,
    siteSessionTimeoutMs,
    notice,
    opensAt,
    pacingNextAt,
    pacedDueAt,
    seats,
    line,
    users: [...state.userBySession],
  };
}

/**
 * Rebuilds the state a snapshot was taken of: the same seats, the same line in the same order with the same
 * holds (tickets are renumbered; they never leave the state). O(places · log places).
 */
export function restoreAdmission(snapshot: AdmissionSnapshot): AdmissionState {
  const state = createAdmissionState(snapshot);
  state.notice = snapshot.notice ?? null;
  state.opensAt = snapshot.opensAt ?? null;
  state.pacingNextAt = snapshot.pacingNextAt ?? 0;
  state.pacedDueAt = snapshot.pacedDueAt ?? null;
  for (const [conn, session, since, ttlUntil, holdUntil, siteUntil] of snapshot.seats) {
    const seat: Seat = holdUntil === null ? { session, since, ttlUntil } : { session, since, ttlUntil, holdUntil };
    if (siteUntil !== undefined && siteUntil !== null) seat.siteUntil = siteUntil;
    state.seats.set(conn, seat);
    state.seatBySession.set(session, conn);
  }
  for (const [session, conn, holdUntil, priority] of snapshot.line) {
    const ticket = state.queue.enqueue({ session, conn, holdUntil }, priority ?? 0);
    state.ticketBySession.set(session, ticket);
    if (conn !== null) state.ticketByConn.set(conn, ticket);
    else state.queue.setLive(ticket, false);
  }
  for (const [session, user] of snapshot.users ?? []) {
    state.userBySession.set(session, user);
    state.sessionByUser.set(user, session);
  }
  return state;
}

/** An independent copy of a state (a view that must not share the live room's queue). */
export function copyAdmission(state: AdmissionState): AdmissionState {
  return restoreAdmission(snapshotOfAdmission(state));
}
