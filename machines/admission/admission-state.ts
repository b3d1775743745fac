import { TicketQueue, type Ticket } from '../queue/ticket-queue.js';
import type { ConnId, RoomStatus, SessionId } from './admission-types.js';

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
  /** How long a seat whose connection ended abnormally is held for a `resume`, ms; absent or 0 = released at once. */
  seatGraceMs?: number;
}

/**
 * Seats and queue of one room: what `evolve` builds from decisions and `decide` reads. Held by reference by
 * the room actor and changed in place by `evolve` only, so no event copies the queue.
 */
export interface AdmissionState extends AdmissionSettings {
  status: RoomStatus;
  /** Active sessions by connection, in seating order. */
  readonly seats: Map<ConnId, Seat>;
  readonly queue: TicketQueue<Waiter>;
  readonly ticketByConn: Map<ConnId, Ticket>;
  readonly ticketBySession: Map<SessionId, Ticket>;
  readonly seatBySession: Map<SessionId, ConnId>;
}

/** An empty open room. `maxQueue`, `resumeWindowMs` and `sessionTtlMs` default to 0, 30000 and 0. */
export function createAdmissionState(
  settings: Pick<AdmissionSettings, 'capacity'> & Partial<AdmissionSettings> & { status?: RoomStatus },
): AdmissionState {
  return {
    capacity: settings.capacity,
    maxQueue: settings.maxQueue ?? 0,
    resumeWindowMs: settings.resumeWindowMs ?? 30_000,
    sessionTtlMs: settings.sessionTtlMs ?? 0,
    seatGraceMs: settings.seatGraceMs ?? 0,
    status: settings.status ?? 'open',
    seats: new Map(),
    queue: new TicketQueue<Waiter>(),
    ticketByConn: new Map(),
    ticketBySession: new Map(),
    seatBySession: new Map(),
  };
}

/** Exact place in line of a live or held waiter (1 = next), or 0 when the connection is not queued. O(log n). */
export function positionOfConn(state: AdmissionState, conn: ConnId): number {
  const ticket = state.ticketByConn.get(conn);
  return ticket === undefined ? 0 : state.queue.rank(ticket);
}

export function isSeated(state: AdmissionState, conn: ConnId): boolean {
  return state.seats.has(conn);
}

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

/** Whether a seat is held for its session's `resume` (after a restart) rather than live on a connection. */
export function isHeldSeat(seat: Seat): boolean {
  return seat.holdUntil !== undefined && seat.holdUntil !== null;
}
