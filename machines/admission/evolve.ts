import type { Ticket } from '../queue/ticket-queue.js';
import { paceAfterAdmission } from './admission-pacing.js';
import { seededUint32, shuffleInPlace } from './pre-queue-draw.js';
import type { AdmissionState } from './admission-state.js';
import type { AdmissionDecision, ConnId, SessionId, UserId } from './admission-types.js';

/**
 * Applies one decision to the room: the only code that changes seats, queue, status or settings. It changes
 * the state in place and returns it (the queue is never copied). Every view of a room, live or rebuilt from a
 * log, is this fold over the room's decisions, so it must accept any decision `decide` can make in the state
 * it was made in, and nothing else is needed to rebuild the room.
 */
export function evolve(state: AdmissionState, decision: AdmissionDecision): AdmissionState {
  switch (decision.type) {
    case 'queued': {
      const ticket = state.queue.enqueue({ session: decision.session, conn: decision.conn, holdUntil: null }, decision.priority ?? 0);
      state.ticketByConn.set(decision.conn, ticket);
      state.ticketBySession.set(decision.session, ticket);
      bindUser(state, decision.session, decision.user);
      break;
    }
    case 'admitted':
      seat(state, decision.conn, decision.session, decision.at, decision.ttlUntil);
      bindUser(state, decision.session, decision.user);
      state.pacingNextAt = paceAfterAdmission({ admissionRate: state.admissionRate, nextAt: state.pacingNextAt }, decision.at).nextAt;
      break;
    case 'released':
    case 'evicted':
      endPlace(state, decision.from, decision.conn, decision.session);
      unbindUser(state, decision.session);
      break;
    case 'held':
      hold(state, decision.conn, decision.session, decision.expiresAt);
      break;
    case 'resumed':
      passUser(state, decision.replacedSession, decision.session, decision.user);
      resumePlace(state, decision.conn, decision.session, decision.replacedSession, decision.replacedConn);
      break;
    case 'capacityChanged':
      state.capacity = decision.capacity;
      break;
    case 'maxQueueChanged':
      state.maxQueue = decision.maxQueue;
      break;
    case 'statusChanged':
      state.status = decision.status;
      // A closed room holds no one: every seat and place was ended by the decisions that follow.
      break;
    case 'noticeChanged':
      state.notice = decision.notice;
      break;
    case 'admissionRateChanged':
      state.admissionRate = decision.admissionRate;
      break;
    case 'seatKept':
    case 'siteRefreshed':
      state.seats.get(decision.conn)!.siteUntil = decision.until;
      break;
    case 'scheduled':
      state.status = 'scheduled';
      state.opensAt = decision.opensAt;
      break;
    case 'drawn':
      drawPreQueue(state, decision.drawSeed);
      break;
    case 'paced':
      state.pacedDueAt = decision.dueAt;
      break;
    case 'seatHeld':
      state.seats.get(decision.conn)!.holdUntil = decision.expiresAt;
      break;
    case 'heldForRestart':
      if (decision.conns === undefined) holdEveryone(state, decision.expiresAt);
      else for (const conn of decision.conns) holdConnection(state, conn, decision.expiresAt);
      break;
    case 'seatResumed':
      passUser(state, decision.replacedSession, decision.session, decision.user);
      resumeSeat(state, decision.conn, decision.session, decision.replacedConn, decision.replacedSession);
      break;
    case 'rejected':
    case 'resumeRefused':
      break;
  }
  return state;
}

/** Places the pre-queue in the order the seed draws; every place gets a new ticket. */
function drawPreQueue(state: AdmissionState, drawSeed: string): void {
  const next = seededUint32(drawSeed);
  for (const [ticket, waiter] of state.queue.reorderLanes((places) => shuffleInPlace(places, next))) {
    state.ticketBySession.set(waiter.session, ticket);
    if (waiter.conn !== null) state.ticketByConn.set(waiter.conn, ticket);
  }
  state.opensAt = null;
}

function seat(state: AdmissionState, conn: ConnId, session: SessionId, since: number, ttlUntil: number | null): void {
  // A waiter promoted from the line leaves it as it takes the seat.
  const ticket = state.ticketByConn.get(conn);
  if (ticket !== undefined) removeTicket(state, ticket, session, conn);
  state.seats.set(conn, { session, since, ttlUntil });
  state.seatBySession.set(session, conn);
}

function endPlace(state: AdmissionState, from: 'seat' | 'queue', conn: ConnId | null, session: SessionId): void {
  if (from === 'seat') {
    if (conn !== null) state.seats.delete(conn);
    state.seatBySession.delete(session);
    return;
  }
  const ticket = state.ticketBySession.get(session);
  if (ticket !== undefined) removeTicket(state, ticket, session, conn);
}

function hold(state: AdmissionState, conn: ConnId, session: SessionId, expiresAt: number): void {
  const ticket = state.ticketByConn.get(conn)!;
  state.queue.set(ticket, { session, conn: null, holdUntil: expiresAt });
  state.queue.setLive(ticket, false);
  state.ticketByConn.delete(conn);
}

function resumePlace(state: AdmissionState, conn: ConnId, session: SessionId, replacedSession: SessionId | null, replacedConn: ConnId | null): void {
  if (replacedConn !== null) state.ticketByConn.delete(replacedConn);
  if (replacedSession !== null) removeTicket(state, state.ticketByConn.get(conn)!, replacedSession, conn);
  const ticket = state.ticketBySession.get(session)!;
  state.queue.set(ticket, { session, conn, holdUntil: null });
  state.queue.setLive(ticket, true);
  state.ticketByConn.set(conn, ticket);
}

function removeTicket(state: AdmissionState, ticket: Ticket, session: SessionId, conn: ConnId | null): void {
  state.queue.remove(ticket);
  state.ticketBySession.delete(session);
  if (conn !== null) state.ticketByConn.delete(conn);
}

/** Connections are gone: every place in line is held and every seat waits for its session, until `expiresAt`. */
function holdEveryone(state: AdmissionState, expiresAt: number): void {
  for (const [ticket, waiter] of state.queue.entries()) {
    state.queue.set(ticket, { session: waiter.session, conn: null, holdUntil: expiresAt });
    state.queue.setLive(ticket, false);
  }
  state.ticketByConn.clear();
  // A seat kept for the site keeps its own deadline (`siteRefreshed` follows); every other seat is held.
  for (const seat of state.seats.values()) if (seat.siteUntil === undefined) seat.holdUntil = expiresAt;
}

/** One gone connection (its cluster node died): its place is held, its seat waits for its session, until `expiresAt`. */
function holdConnection(state: AdmissionState, conn: ConnId, expiresAt: number): void {
  const ticket = state.ticketByConn.get(conn);
  if (ticket !== undefined) {
    state.queue.set(ticket, { session: state.queue.get(ticket)!.session, conn: null, holdUntil: expiresAt });
    state.queue.setLive(ticket, false);
    state.ticketByConn.delete(conn);
  }
  const seat = state.seats.get(conn);
  if (seat !== undefined && seat.siteUntil === undefined) seat.holdUntil = expiresAt;
}

function resumeSeat(state: AdmissionState, conn: ConnId, session: SessionId, replacedConn: ConnId, replacedSession: SessionId | null): void {
  if (replacedSession !== null) {
    // The fresh place or seat the connection had until now is given up.
    const ticket = state.ticketByConn.get(conn);
    if (ticket !== undefined) removeTicket(state, ticket, replacedSession, conn);
    else if (state.seats.delete(conn)) state.seatBySession.delete(replacedSession);
  }
  const seat = state.seats.get(replacedConn)!;
  state.seats.delete(replacedConn);
  state.seats.set(conn, { session, since: seat.since, ttlUntil: seat.ttlUntil });
  state.seatBySession.set(session, conn);
}

function bindUser(state: AdmissionState, session: SessionId, user: UserId | undefined): void {
  if (user === undefined) return;
  state.sessionByUser.set(user, session);
  state.userBySession.set(session, user);
}

function unbindUser(state: AdmissionState, session: SessionId): void {
  const user = state.userBySession.get(session);
  if (user === undefined) return;
  state.userBySession.delete(session);
  if (state.sessionByUser.get(user) === session) state.sessionByUser.delete(user);
}

/**
 * A connection resumed `session`, giving up `replacedSession`: the user of the place given up (or `user`, for
 * a join that named one) owns the resumed place from now on.
 */
function passUser(state: AdmissionState, replacedSession: SessionId | null, session: SessionId, user: UserId | undefined): void {
  const owner = user ?? (replacedSession === null ? undefined : state.userBySession.get(replacedSession));
  if (replacedSession !== null) unbindUser(state, replacedSession);
  bindUser(state, session, owner);
}
