import { TicketQueue, type Ticket } from '../queue/ticket-queue.js';
import type { ConnId, RoomStatus, SessionId } from './admission-types.js';

/** A place in line. `conn` is null while the place is held for a dropped connection. */
export interface Waiter {
  session: SessionId;
  conn: ConnId | null;
}

/**
 * Seats and queue of one room. Mutated in place by `executeAdmission` only; the room actor keeps it by
 * reference so no event copies it.
 */
export interface AdmissionState {
  capacity: number;
  maxQueue: number;
  status: RoomStatus;
  /** Active sessions by connection. */
  readonly seats: Map<ConnId, SessionId>;
  readonly queue: TicketQueue<Waiter>;
  readonly ticketByConn: Map<ConnId, Ticket>;
  readonly ticketBySession: Map<SessionId, Ticket>;
  readonly seatBySession: Map<SessionId, ConnId>;
}

export function createAdmissionState(options: { capacity: number; maxQueue?: number; status?: RoomStatus }): AdmissionState {
  return {
    capacity: options.capacity,
    maxQueue: options.maxQueue ?? 0,
    status: options.status ?? 'open',
    seats: new Map(),
    queue: new TicketQueue<Waiter>(),
    ticketByConn: new Map(),
    ticketBySession: new Map(),
    seatBySession: new Map(),
  };
}

/** Exact place in line of a live or held waiter (1 = next), or 0 when the connection is not queued. */
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
