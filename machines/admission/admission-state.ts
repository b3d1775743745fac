import { PriorityLine } from '../queue/priority-line.js';
import type { Ticket } from '../queue/ticket-queue.js';
import type { ConnId, RoomStatus, SessionId, UserId } from './admission-types.js';

/** A place in line. `conn` is null while the place is held for a dropped connection, until `holdUntil`. */
export interface Waiter {
  session: SessionId;
  conn: ConnId | null;
  /** When a held place expires (ms epoch); null while the place is live. */
  holdUntil: number | null;
}

/** A taken seat: whose, since when (ms epoch), and until when (null: no session limit). */
export interface Seat {
  session: SessionId;
  since: number;
  ttlUntil: number | null;
  /** While the visitor is on the site (socket ended, seat kept): when the seat goes without a refresh (ms epoch). */
  siteUntil?: number;
  /**
   * Set while the seat is held for a restart: its connection is gone and the seat waits for its session's
   * `resume` until then (ms epoch). Absent or null: the seat is live.
   */
  holdUntil?: number | null;
}

/** The settings admission decides by. The room's only copy: admin changes land here through `evolve`. */
export interface AdmissionSettings {
  capacity: number;
  /** Most places in line, live and held; 0 = no limit. */
  maxQueue: number;
  /** How long a dropped waiter's place is held for a `resume`, ms. */
  resumeWindowMs: number;
  /** How long an admitted session may stay, ms; 0 = no limit. */
  sessionTtlMs: number;
  /** Most admissions per second, walk-ins and promotions alike; 0 = no limit. */
  admissionRate: number;
  /** Whether a seat follows its visitor to the site: kept after an abnormal end of its socket. */
  siteSessions: boolean;
  /** How long a kept seat lasts without a refresh from the site, ms. */
  siteSessionTimeoutMs: number;
  /** How long a seat whose connection ended abnormally is held for a `resume`, ms; absent or 0 = released at once. */
  seatGraceMs?: number;
}

/**
 * Seats and queue of one room: what `evolve` builds from decisions and `decide` reads. Held by reference by
 * the room actor and changed in place by `evolve` only, so no event copies the queue.
 */
export interface AdmissionState extends AdmissionSettings {
  status: RoomStatus;
  /** The operator's notice to everyone in the room, or null. */
  notice: string | null;
  /** While the pre-queue's draw is pending: when the room opens (ms epoch); null once drawn, or never scheduled. */
  opensAt: number | null;
  /** The admission-rate bucket: when it is next empty (ms epoch; 0 = full). See `admission-pacing.ts`. */
  pacingNextAt: number;
  /** The due time of the last `paced` decision: a promotion is already asked for then, so it is not asked twice. */
  pacedDueAt: number | null;
  /** Active sessions by connection, in seating order. */
  readonly seats: Map<ConnId, Seat>;
  /** The line: by priority (higher first), FIFO within one priority. */
  readonly queue: PriorityLine<Waiter>;
  readonly ticketByConn: Map<ConnId, Ticket>;
  readonly ticketBySession: Map<SessionId, Ticket>;
  readonly seatBySession: Map<SessionId, ConnId>;
  /** The one session (seat or place, live or held) each authenticated user holds in the room, both ways. */
  readonly sessionByUser: Map<UserId, SessionId>;
  readonly userBySession: Map<SessionId, UserId>;
}

/**
 * An empty open room. `maxQueue`, `resumeWindowMs`, `sessionTtlMs` and `admissionRate` default to 0, 30000, 0
 * and 0; `notice` to null; `siteSessions` to false, `siteSessionTimeoutMs` to 120000.
 */
export function createAdmissionState(
  settings: Pick<AdmissionSettings, 'capacity'> & Partial<AdmissionSettings> & { status?: RoomStatus; notice?: string | null },
): AdmissionState {
  return {
    capacity: settings.capacity,
    maxQueue: settings.maxQueue ?? 0,
    resumeWindowMs: settings.resumeWindowMs ?? 30_000,
    sessionTtlMs: settings.sessionTtlMs ?? 0,
    admissionRate: settings.admissionRate ?? 0,
    siteSessions: settings.siteSessions ?? false,
    siteSessionTimeoutMs: settings.siteSessionTimeoutMs ?? 120_000,
    seatGraceMs: settings.seatGraceMs ?? 0,
    status: settings.status ?? 'open',
    notice: settings.notice ?? null,
    opensAt: null,
    pacingNextAt: 0,
    pacedDueAt: null,
    seats: new Map(),
    queue: new PriorityLine<Waiter>(),
    ticketByConn: new Map(),
    ticketBySession: new Map(),
    seatBySession: new Map(),
    sessionByUser: new Map(),
    userBySession: new Map(),
  };
}

/** Exact place in line of a live or held waiter (1 = next), or 0 when the connection is not queued. O(log n). */
export function positionOfConn(state: AdmissionState, conn: ConnId): number {
  const ticket = state.ticketByConn.get(conn);
  return ticket === undefined ? 0 : state.queue.rank(ticket);
}

/** Whether the connection holds a seat. O(1). */
export function isSeated(state: AdmissionState, conn: ConnId): boolean {
  return state.seats.has(conn);
}

/** Whether the connection holds a live place in line (a held place has no connection). O(1). */
export function isQueued(state: AdmissionState, conn: ConnId): boolean {
  return state.ticketByConn.has(conn);
}

/** The session whose seat or live place a connection holds, if any. */
export function sessionOfConn(state: AdmissionState, conn: ConnId): SessionId | undefined {
  const seat = state.seats.get(conn);
  if (seat !== undefined) return seat.session;
  const ticket = state.ticketByConn.get(conn);
  return ticket === undefined ? undefined : state.queue.get(ticket)!.session;
}

/** Places held for a resume (in line but with no connection). */
export function heldCount(state: AdmissionState): number {
  return state.queue.size - state.queue.liveCount;
}

/** Seats whose visitor has no live connection: held for a `resume`, or kept while the visitor is on the site. */
export function seatsAwayCount(state: AdmissionState): number {
  let away = 0;
  for (const seat of state.seats.values()) if (isHeldSeat(seat) || seat.siteUntil !== undefined) away++;
  return away;
}

/** Whether a seat is held for its session's `resume` (after a restart) rather than live on a connection. */
export function isHeldSeat(seat: Seat): boolean {
  return seat.holdUntil !== undefined && seat.holdUntil !== null;
}
