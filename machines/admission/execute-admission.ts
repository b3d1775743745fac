import type { EvictionReason } from '../../src/protocol/codes.js';
import type { Ticket } from '../queue/ticket-queue.js';
import type { AdmissionState } from './admission-state.js';
import type { AdmissionCommand, AdmissionDecision, ConnId, SessionId } from './admission-types.js';

type Decisions = AdmissionDecision[];

/**
 * The admission rules: apply one command to the room and return what was decided, in order.
 * This is the only code that changes seats or queue. It never throws on a command that no longer applies
 * (a connection that already left, a hold that was already resumed): such a command decides nothing.
 */
export function executeAdmission(state: AdmissionState, command: AdmissionCommand): Decisions {
  const out: Decisions = [];
  switch (command.type) {
    case 'join':
      join(state, command.conn, command.session, out);
      break;
    case 'leave':
      leave(state, command.conn, out);
      break;
    case 'drop':
      drop(state, command.conn, out);
      break;
    case 'evict':
      evictConn(state, command.conn, command.reason, out);
      break;
    case 'resume':
      resume(state, command.conn, command.session, out);
      break;
    case 'expireHold':
      expireHold(state, command.session, out);
      break;
    case 'expireSession':
      if (state.seats.has(command.conn)) evictConn(state, command.conn, 'session_expired', out);
      break;
    case 'kick':
      kick(state, command.session, out);
      break;
    case 'setCapacity':
      state.capacity = command.capacity;
      out.push({ type: 'capacityChanged', capacity: command.capacity });
      break;
    case 'setMaxQueue':
      state.maxQueue = command.maxQueue;
      out.push({ type: 'maxQueueChanged', maxQueue: command.maxQueue });
      break;
    case 'pause':
      if (state.status === 'open') {
        state.status = 'paused';
        out.push({ type: 'statusChanged', status: 'paused' });
      }
      break;
    case 'open':
      if (state.status === 'paused') {
        state.status = 'open';
        out.push({ type: 'statusChanged', status: 'open' });
      }
      break;
    case 'close':
      closeRoom(state, command.reason ?? 'room_closed', out);
      break;
  }
  promoteHead(state, out);
  return out;
}

/** Give every free seat to the earliest live waiter. Held places are passed over, never admitted. */
function promoteHead(state: AdmissionState, out: Decisions): void {
  if (state.status !== 'open') return;
  while (state.seats.size < state.capacity) {
    const ticket = state.queue.firstLive();
    if (ticket === undefined) return;
    const waiter = state.queue.get(ticket)!;
    const conn = waiter.conn!;
    removeTicket(state, ticket, waiter.session, conn);
    seat(state, conn, waiter.session);
    out.push({ type: 'admitted', conn, session: waiter.session });
  }
}

function join(state: AdmissionState, conn: ConnId, session: SessionId, out: Decisions): void {
  if (state.seats.has(conn) || state.ticketByConn.has(conn)) return;
  if (state.status === 'closed') {
    out.push({ type: 'rejected', conn, session, reason: 'room_closed' });
    return;
  }
  if (state.status === 'open' && state.seats.size < state.capacity && state.queue.liveCount === 0) {
    seat(state, conn, session);
    out.push({ type: 'admitted', conn, session });
    return;
  }
  if (state.maxQueue > 0 && state.queue.size >= state.maxQueue) {
    out.push({ type: 'rejected', conn, session, reason: 'queue_full' });
    return;
  }
  const ticket = state.queue.enqueue({ session, conn });
  state.ticketByConn.set(conn, ticket);
  state.ticketBySession.set(session, ticket);
  out.push({ type: 'queued', conn, session, position: state.queue.rank(ticket), queueLength: state.queue.size });
}

function leave(state: AdmissionState, conn: ConnId, out: Decisions): void {
  const session = state.seats.get(conn);
  if (session !== undefined) {
    unseat(state, conn, session);
    out.push({ type: 'released', conn, session, from: 'seat', reason: 'left' });
    return;
  }
  const ticket = state.ticketByConn.get(conn);
  if (ticket === undefined) return;
  const waiter = state.queue.get(ticket)!;
  removeTicket(state, ticket, waiter.session, conn);
  out.push({ type: 'released', conn, session: waiter.session, from: 'queue', reason: 'left' });
}

function drop(state: AdmissionState, conn: ConnId, out: Decisions): void {
  const session = state.seats.get(conn);
  if (session !== undefined) {
    // A seat is never held: it goes to the head of the line at once.
    unseat(state, conn, session);
    out.push({ type: 'released', conn, session, from: 'seat', reason: 'dropped' });
    return;
  }
  const ticket = state.ticketByConn.get(conn);
  if (ticket === undefined) return;
  const waiter = state.queue.get(ticket)!;
  state.queue.set(ticket, { session: waiter.session, conn: null });
  state.queue.setLive(ticket, false);
  state.ticketByConn.delete(conn);
  out.push({ type: 'held', conn, session: waiter.session, position: state.queue.rank(ticket) });
}

function evictConn(state: AdmissionState, conn: ConnId, reason: EvictionReason, out: Decisions): void {
  const session = state.seats.get(conn);
  if (session !== undefined) {
    unseat(state, conn, session);
    out.push({ type: 'evicted', conn, session, from: 'seat', reason });
    return;
  }
  const ticket = state.ticketByConn.get(conn);
  if (ticket === undefined) return;
  const waiter = state.queue.get(ticket)!;
  removeTicket(state, ticket, waiter.session, conn);
  out.push({ type: 'evicted', conn, session: waiter.session, from: 'queue', reason });
}

function resume(state: AdmissionState, conn: ConnId, session: SessionId, out: Decisions): void {
  const ownTicket = state.ticketByConn.get(conn);
  const ownSession = ownTicket === undefined ? state.seats.get(conn) : state.queue.get(ownTicket)!.session;
  if (ownSession === undefined) return; // not placed (yet, or any more): nothing to resume into
  if (ownSession === session) return; // already this session's place
  const ticket = state.ticketBySession.get(session);
  if (ticket === undefined) {
    out.push({ type: 'resumeRefused', conn, session });
    return;
  }
  const waiter = state.queue.get(ticket)!;
  if (ownTicket === undefined) {
    // Already seated on this connection: the old place is no longer needed.
    if (waiter.conn === null) {
      removeTicket(state, ticket, session, null);
      out.push({ type: 'released', conn: null, session, from: 'queue', reason: 'superseded' });
    } else {
      const oldConn = waiter.conn;
      removeTicket(state, ticket, session, oldConn);
      out.push({ type: 'evicted', conn: oldConn, session, from: 'queue', reason: 'replaced' });
    }
    return;
  }
  // A place still live on an older connection (a second tab, a half-open socket) goes to the newer one.
  const replacedConn = waiter.conn;
  if (replacedConn !== null) state.ticketByConn.delete(replacedConn);
  removeTicket(state, ownTicket, ownSession, conn);
  state.queue.set(ticket, { session, conn });
  state.queue.setLive(ticket, true);
  state.ticketByConn.set(conn, ticket);
  out.push({
    type: 'resumed',
    conn,
    session,
    replacedSession: ownSession,
    replacedConn,
    position: state.queue.rank(ticket),
    queueLength: state.queue.size,
  });
}

function expireHold(state: AdmissionState, session: SessionId, out: Decisions): void {
  const ticket = state.ticketBySession.get(session);
  if (ticket === undefined || state.queue.isLive(ticket)) return;
  removeTicket(state, ticket, session, null);
  out.push({ type: 'released', conn: null, session, from: 'queue', reason: 'hold_expired' });
}

function kick(state: AdmissionState, session: SessionId, out: Decisions): void {
  const seatedConn = state.seatBySession.get(session);
  if (seatedConn !== undefined) {
    evictConn(state, seatedConn, 'kicked', out);
    return;
  }
  const ticket = state.ticketBySession.get(session);
  if (ticket === undefined) return;
  const waiter = state.queue.get(ticket)!;
  if (waiter.conn !== null) {
    evictConn(state, waiter.conn, 'kicked', out);
  } else {
    removeTicket(state, ticket, session, null);
    out.push({ type: 'released', conn: null, session, from: 'queue', reason: 'kicked' });
  }
}

function closeRoom(state: AdmissionState, reason: 'room_closed' | 'shutdown', out: Decisions): void {
  if (state.status === 'closed') return;
  state.status = 'closed';
  out.push({ type: 'statusChanged', status: 'closed' });
  for (const [conn, session] of [...state.seats]) {
    unseat(state, conn, session);
    out.push({ type: 'evicted', conn, session, from: 'seat', reason });
  }
  for (const [, waiter] of [...state.queue.entries()]) {
    if (waiter.conn === null) {
      out.push({ type: 'released', conn: null, session: waiter.session, from: 'queue', reason });
    } else {
      out.push({ type: 'evicted', conn: waiter.conn, session: waiter.session, from: 'queue', reason });
    }
  }
  state.queue.clear();
  state.ticketByConn.clear();
  state.ticketBySession.clear();
}

function seat(state: AdmissionState, conn: ConnId, session: SessionId): void {
  state.seats.set(conn, session);
  state.seatBySession.set(session, conn);
}

function unseat(state: AdmissionState, conn: ConnId, session: SessionId): void {
  state.seats.delete(conn);
  state.seatBySession.delete(session);
}

function removeTicket(state: AdmissionState, ticket: Ticket, session: SessionId, conn: ConnId | null): void {
  state.queue.remove(ticket);
  state.ticketBySession.delete(session);
  if (conn !== null) state.ticketByConn.delete(conn);
}
