import type { EvictionReason } from '../close-reasons.js';
import { paceAfterAdmission, paceAllows, paceDueAt, type Pacing } from './admission-pacing.js';
import { isHeldSeat, type AdmissionState, type Seat } from './admission-state.js';
import type { AdmissionCommand, AdmissionDecision, ConnId, SessionId, UserId } from './admission-types.js';

type Decisions = AdmissionDecision[];

/**
 * The admission rules: what the room decides when asked `command` at `now` (ms epoch on the room's clock).
 * Pure: it reads the state and never changes it; `evolve` applies the decisions, in order. A command that no
 * longer applies (a connection that already left, a hold that was resumed, a stale timer) decides nothing.
 * Positions and queue lengths in the decisions are those after the decisions before them took effect.
 */
export function decide(state: AdmissionState, command: AdmissionCommand, now: number): Decisions {
  switch (command.type) {
    case 'join':
      return command.user === undefined ? joinAsGuest(state, command, now) : joinAsUser(state, command, command.user, now);
    case 'leave':
      return end(state, command.conn, { type: 'released', reason: 'left' });
    case 'drop':
      return drop(state, command.conn, now);
    case 'evict':
      return end(state, command.conn, { type: 'evicted', reason: command.reason });
    case 'resume':
      return resume(state, command.conn, command.session);
    case 'expireHold':
      return expireHold(state, command.session, command.expiresAt);
    case 'expireSeat':
      return state.seats.get(command.conn)?.ttlUntil === command.ttlUntil ? end(state, command.conn, { type: 'evicted', reason: 'session_expired' }) : [];
    case 'kick':
      return kick(state, command.session);
    case 'refreshSite':
      return refreshSite(state, command.session, now);
    case 'releaseSite':
      return endSiteSession(state, command.session, 'site_released', null);
    case 'expireSiteSession':
      return endSiteSession(state, command.session, 'site_expired', command.until);
    case 'setCapacity':
      return [{ type: 'capacityChanged', capacity: command.capacity }];
    case 'setMaxQueue':
      return [{ type: 'maxQueueChanged', maxQueue: command.maxQueue }];
    case 'pause':
      return state.status !== 'paused' ? [{ type: 'statusChanged', status: 'paused' }] : [];
    case 'open':
      return openRoom(state, command.drawSeed);
    case 'schedule':
      return state.status === 'open' && state.seats.size === 0 && state.queue.size === 0 ? [{ type: 'scheduled', opensAt: command.opensAt }] : [];
    case 'draw':
      return state.opensAt === null ? [] : openRoom(state, command.drawSeed, state.status === 'scheduled');
    case 'maintenance':
      return enterMaintenance(state);
    case 'setNotice':
      return state.notice !== command.notice ? [{ type: 'noticeChanged', notice: command.notice }] : [];
    case 'setAdmissionRate':
      return [{ type: 'admissionRateChanged', admissionRate: command.admissionRate }];
    case 'close':
      return closeRoom(state, command.reason ?? 'room_closed');
    case 'promote':
      return promoteHead(state, now);
    case 'holdForRestart':
      return holdForRestart(state, now, command.conns, command.reason);
    case 'expireRestartHolds':
      return expireRestartHolds(state, command.expiresAt);
    case 'expireSeatHold':
      return expireSeatHold(state, command.session, command.expiresAt);
  }
}

/**
 * Every free seat goes to the earliest live waiter, in line order, while the room is open and the admission
 * rate allows. Held places are passed over, never admitted: they keep their positions but a seat waits for no
 * one. When the rate holds back a free seat, the room asks to promote again when the bucket next allows
 * (`paced`), once per due time.
 */
function promoteHead(state: AdmissionState, now: number): Decisions {
  if (state.status !== 'open') return [];
  const out: Decisions = [];
  const free = state.capacity - state.seats.size;
  let pacing = pacingOf(state);
  for (let n = 1; n <= free; n++) {
    const ticket = state.queue.nthLive(n);
    if (ticket === undefined) break;
    if (!paceAllows(pacing, now)) {
      const dueAt = paceDueAt(pacing, now);
      if (state.pacedDueAt !== dueAt) out.push({ type: 'paced', dueAt });
      break;
    }
    const waiter = state.queue.get(ticket)!;
    out.push(admitted(state, waiter.conn!, waiter.session, now));
    pacing = paceAfterAdmission(pacing, now);
  }
  return out;
}

function pacingOf(state: AdmissionState): Pacing {
  return { admissionRate: state.admissionRate, nextAt: state.pacingNextAt };
}

/**
 * Opens the room (or, for a draw while an operator holds the room paused, only draws): a pending pre-queue is
 * drawn first when a seed comes with the command, so the line is in its drawn order before anyone is admitted.
 */
function openRoom(state: AdmissionState, drawSeed: string | undefined, open = true): Decisions {
  const out: Decisions = [];
  if (state.opensAt !== null && drawSeed !== undefined) out.push({ type: 'drawn', drawSeed });
  if (open && state.status !== 'open') out.push({ type: 'statusChanged', status: 'open' });
  return out;
}

/** Maintenance ends every seat (`maintenance`, 4007) and keeps the line. */
function enterMaintenance(state: AdmissionState): Decisions {
  if (state.status === 'maintenance') return [];
  const out: Decisions = [{ type: 'statusChanged', status: 'maintenance' }];
  for (const [conn, seat] of state.seats) out.push({ type: 'evicted', conn, session: seat.session, from: 'seat', reason: 'maintenance' });
  return out;
}

function admitted(state: AdmissionState, conn: ConnId, session: SessionId, now: number): AdmissionDecision {
  return { type: 'admitted', conn, session, at: now, ttlUntil: state.sessionTtlMs > 0 ? now + state.sessionTtlMs : null };
}

type Join = Extract<AdmissionCommand, { type: 'join' }>;

function joinAsGuest(state: AdmissionState, command: Join, now: number): Decisions {
  const { conn, session, resume } = command;
  const priority = command.priority ?? 0;
  if (resume === undefined) return join(state, conn, session, now, priority);
  // A place of an authenticated user goes back only to that user (protocol v2 section 5).
  if (state.userBySession.has(resume)) return refusedRejoin(state, conn, session, resume, now, priority);
  return rejoin(state, conn, session, resume, now, priority);
}

/**
 * An authenticated user's join. One place per user per room: a seat or place the user already holds (live on
 * an older connection, held, or kept for the site) is taken over as it stands, and the older connection is
 * closed as `replaced`; otherwise the join goes as a guest's would, and the new place is the user's. A resume
 * token naming another user's place is refused.
 */
function joinAsUser(state: AdmissionState, command: Join, user: UserId, now: number): Decisions {
  const { conn, session, resume } = command;
  if (state.seats.has(conn) || state.ticketByConn.has(conn)) return [];
  const own = state.sessionByUser.get(user);
  if (own !== undefined) return [takeOver(state, conn, own, user)];
  const priority = command.priority ?? 0;
  const placed =
    resume === undefined
      ? join(state, conn, session, now, priority)
      : state.userBySession.has(resume)
        ? refusedRejoin(state, conn, session, resume, now, priority)
        : rejoin(state, conn, session, resume, now, priority);
  return placed.map((decision) => (ownedDecisionTypes.has(decision.type) ? { ...decision, user } : decision));
}

/** The decisions that give a connection a place or seat: they name the user it then belongs to. */
const ownedDecisionTypes: ReadonlySet<AdmissionDecision['type']> = new Set(['queued', 'admitted', 'resumed', 'seatResumed']);

/** `user`'s seat or place (session `own`) goes to `conn`; a live older connection is closed as `replaced`. */
function takeOver(state: AdmissionState, conn: ConnId, own: SessionId, user: UserId): AdmissionDecision {
  const seatConn = state.seatBySession.get(own);
  if (seatConn !== undefined) {
    return { type: 'seatResumed', conn, session: own, replacedConn: seatConn, replacedSession: null, ttlUntil: state.seats.get(seatConn)!.ttlUntil, user };
  }
  const ticket = state.ticketBySession.get(own)!;
  const replacedConn = state.queue.get(ticket)!.conn;
  return { type: 'resumed', conn, session: own, replacedSession: null, replacedConn, position: state.queue.rank(ticket), queueLength: state.queue.size, user };
}

/**
 * Whether a join presenting a resume token for `resume` (by the authenticated `user`; undefined for a guest)
 * takes back a seat or place the room holds, as `decide` would, rather than being given a fresh place: a
 * live seat, another user's place, or a place in a closed room is not given back.
 */
export function joinTakesBack(state: AdmissionState, resume: SessionId, user?: UserId): boolean {
  if (user !== undefined && state.sessionByUser.has(user)) return true;
  if (state.userBySession.has(resume)) return false;
  if (resumeHeldSeat(state, '', resume, null) !== null) return true;
  return state.ticketBySession.has(resume) && state.status !== 'closed';
}

/** An ordinary join that says the resume it asked for was refused. */
function refusedRejoin(state: AdmissionState, conn: ConnId, session: SessionId, resume: SessionId, now: number, priority: number): Decisions {
  const placed = join(state, conn, session, now, priority);
  return placed[0]?.type === 'rejected' ? placed : [...placed, { type: 'resumeRefused', conn, session: resume }];
}

function join(state: AdmissionState, conn: ConnId, session: SessionId, now: number, priority: number): Decisions {
  if (state.seats.has(conn) || state.ticketByConn.has(conn)) return [];
  if (state.status === 'closed') return [{ type: 'rejected', conn, session, reason: 'room_closed' }];
  if (state.status === 'open' && state.seats.size < state.capacity && state.queue.liveCount === 0 && paceAllows(pacingOf(state), now)) {
    return [admitted(state, conn, session, now)];
  }
  if (state.maxQueue > 0 && state.queue.size >= state.maxQueue) return [{ type: 'rejected', conn, session, reason: 'queue_full' }];
  const queueLength = state.queue.size + 1;
  const position = state.queue.placesAheadOfArrival(priority) + 1;
  return [{ type: 'queued', conn, session, position, queueLength, ...(priority > 0 ? { priority } : {}) }];
}

/**
 * A join that names the place it comes back for: a place in line (held, or live on an older connection) is
 * taken back as it stands, with no fresh place made first, so a full line never turns its owner away. A
 * place that is gone, or a seat, gives an ordinary join and says the resume was refused.
 */
function rejoin(state: AdmissionState, conn: ConnId, session: SessionId, resume: SessionId, now: number, priority: number): Decisions {
  if (state.seats.has(conn) || state.ticketByConn.has(conn)) return [];
  const heldSeat = resumeHeldSeat(state, conn, resume, null);
  if (heldSeat !== null) return [heldSeat];
  const ticket = state.ticketBySession.get(resume);
  if (ticket === undefined || state.status === 'closed') return refusedRejoin(state, conn, session, resume, now, priority);
  const replacedConn = state.queue.get(ticket)!.conn;
  return [{ type: 'resumed', conn, session: resume, replacedSession: null, replacedConn, position: state.queue.rank(ticket), queueLength: state.queue.size }];
}

type Ending = { type: 'released'; reason: 'left' } | { type: 'evicted'; reason: EvictionReason };

/** A connection's seat or live place ends: released (it left) or evicted (it is told why). */
function end(state: AdmissionState, conn: ConnId, ending: Ending): Decisions {
  const seat = liveSeat(state, conn);
  if (seat !== undefined) return [{ ...ending, conn, session: seat.session, from: 'seat' }];
  const ticket = state.ticketByConn.get(conn);
  if (ticket === undefined) return [];
  return [{ ...ending, conn, session: state.queue.get(ticket)!.session, from: 'queue' }];
}

/**
 * An abnormal end (a page navigating away is one): a queued place is held; a seat is released at once, or,
 * with site sessions, kept for the visitor on the site until `siteSessionTimeoutMs` passes without a refresh.
 */
function drop(state: AdmissionState, conn: ConnId, now: number): Decisions {
  const seat = liveSeat(state, conn);
  if (seat !== undefined && seat.siteUntil !== undefined) return [];
  if (seat !== undefined && state.siteSessions) return [{ type: 'seatKept', conn, session: seat.session, until: now + state.siteSessionTimeoutMs }];
  if (seat !== undefined) {
    const grace = state.seatGraceMs ?? 0;
    return grace > 0
      ? [{ type: 'seatHeld', conn, session: seat.session, expiresAt: now + grace }]
      : [{ type: 'released', conn, session: seat.session, from: 'seat', reason: 'dropped' }];
  }
  const ticket = state.ticketByConn.get(conn);
  if (ticket === undefined) return [];
  const session = state.queue.get(ticket)!.session;
  return [{ type: 'held', conn, session, position: state.queue.rank(ticket), expiresAt: now + state.resumeWindowMs }];
}

function resume(state: AdmissionState, conn: ConnId, session: SessionId): Decisions {
  const ownTicket = state.ticketByConn.get(conn);
  const ownSession = ownTicket === undefined ? liveSeat(state, conn)?.session : state.queue.get(ownTicket)!.session;
  if (ownSession === undefined) return []; // not placed (yet, or any more): nothing to resume into
  if (ownSession === session) return []; // already this session's place
  // A place of an authenticated user goes only to that user's connections.
  const owner = state.userBySession.get(session);
  if (owner !== undefined && owner !== state.userBySession.get(ownSession)) return [{ type: 'resumeRefused', conn, session }];
  const heldSeat = resumeHeldSeat(state, conn, session, ownSession);
  if (heldSeat !== null) return [heldSeat];
  const ticket = state.ticketBySession.get(session);
  if (ticket === undefined) return [{ type: 'resumeRefused', conn, session }];
  const waiter = state.queue.get(ticket)!;
  if (ownTicket === undefined) {
    // Already seated on this connection: the old place is no longer needed.
    return waiter.conn === null
      ? [{ type: 'released', conn: null, session, from: 'queue', reason: 'superseded' }]
      : [{ type: 'evicted', conn: waiter.conn, session, from: 'queue', reason: 'replaced' }];
  }
  // A place still live on an older connection (a second tab, a half-open socket) goes to the newer one; the
  // fresh tail place is given up, so the resumed place moves up by one if the tail place was ahead of it.
  const rank = state.queue.rank(ticket);
  const position = rank - (state.queue.rank(ownTicket) < rank ? 1 : 0);
  return [
    { type: 'resumed', conn, session, replacedSession: ownSession, replacedConn: waiter.conn, position, queueLength: state.queue.size - 1 },
  ];
}

/** A refresh from the site moves a kept seat's deadline on; a seat whose page is still open needs none. */
function refreshSite(state: AdmissionState, session: SessionId, now: number): Decisions {
  const conn = state.seatBySession.get(session);
  const seat = conn === undefined ? undefined : state.seats.get(conn);
  if (conn === undefined || seat?.siteUntil === undefined) return [];
  return [{ type: 'siteRefreshed', conn, session, until: now + state.siteSessionTimeoutMs }];
}

/** A kept seat ends: released by the site, or expired (only by the timer of its latest refresh, `until`). */
function endSiteSession(state: AdmissionState, session: SessionId, reason: 'site_released' | 'site_expired', until: number | null): Decisions {
  const conn = state.seatBySession.get(session);
  const seat = conn === undefined ? undefined : state.seats.get(conn);
  if (conn === undefined || seat?.siteUntil === undefined || (until !== null && seat.siteUntil !== until)) return [];
  return [{ type: 'released', conn, session, from: 'seat', reason }];
}

function expireHold(state: AdmissionState, session: SessionId, expiresAt: number): Decisions {
  const ticket = state.ticketBySession.get(session);
  if (ticket === undefined || state.queue.get(ticket)!.holdUntil !== expiresAt) return [];
  return [{ type: 'released', conn: null, session, from: 'queue', reason: 'hold_expired' }];
}

function kick(state: AdmissionState, session: SessionId): Decisions {
  const seatedConn = state.seatBySession.get(session);
  if (seatedConn !== undefined && isHeldSeat(state.seats.get(seatedConn)!)) {
    return [{ type: 'released', conn: seatedConn, session, from: 'seat', reason: 'kicked' }];
  }
  if (seatedConn !== undefined) return end(state, seatedConn, { type: 'evicted', reason: 'kicked' });
  const ticket = state.ticketBySession.get(session);
  if (ticket === undefined) return [];
  const waiter = state.queue.get(ticket)!;
  if (waiter.conn !== null) return end(state, waiter.conn, { type: 'evicted', reason: 'kicked' });
  return [{ type: 'released', conn: null, session, from: 'queue', reason: 'kicked' }];
}

function closeRoom(state: AdmissionState, reason: 'room_closed' | 'shutdown'): Decisions {
  if (state.status === 'closed') return [];
  const out: Decisions = [{ type: 'statusChanged', status: 'closed' }];
  for (const [conn, seat] of state.seats) out.push({ type: 'evicted', conn, session: seat.session, from: 'seat', reason });
  for (const [, waiter] of state.queue.entries()) {
    out.push(
      waiter.conn === null
        ? { type: 'released', conn: null, session: waiter.session, from: 'queue', reason }
        : { type: 'evicted', conn: waiter.conn, session: waiter.session, from: 'queue', reason },
    );
  }
  return out;
}

/** A seat held for `session` goes to `conn`, giving up `ownSession`'s fresh place or seat; null if none is held. */
function resumeHeldSeat(state: AdmissionState, conn: ConnId, session: SessionId, ownSession: SessionId | null): AdmissionDecision | null {
  const heldConn = state.seatBySession.get(session);
  const seat = heldConn === undefined ? undefined : state.seats.get(heldConn);
  // Held for a restart or a grace, or kept while the visitor is on the site: the session may come back to it.
  if (heldConn === undefined || seat === undefined || !(isHeldSeat(seat) || seat.siteUntil !== undefined)) return null;
  return { type: 'seatResumed', conn, session, replacedConn: heldConn, replacedSession: ownSession, ttlUntil: seat.ttlUntil };
}

/**
 * Every place and seat is held from `now` for the resume window; an empty room decides nothing. A seat kept for
 * a visitor on the site stays kept, for a fresh `siteSessionTimeoutMs` from `now` (the site could not refresh
 * while the server was down), so a refresh keeps it as before the restart.
 */
function holdForRestart(state: AdmissionState, now: number, only?: ConnId[], reason?: 'replaced'): Decisions {
  if (only !== undefined) return holdConnections(state, now, only, reason);
  if (state.seats.size === 0 && state.queue.size === 0) return [];
  const out: Decisions = [{ type: 'heldForRestart', expiresAt: now + state.resumeWindowMs }];
  for (const [conn, seat] of state.seats) {
    if (seat.siteUntil !== undefined) out.push({ type: 'siteRefreshed', conn, session: seat.session, until: Math.max(seat.siteUntil, now + state.siteSessionTimeoutMs) });
  }
  return out;
}

/**
 * The restart hold for some connections only (a cluster node that died): their live places and seats are held
 * as after a restart; a seat kept for the site stays kept. Connections holding nothing live decide nothing.
 */
function holdConnections(state: AdmissionState, now: number, only: ConnId[], reason?: 'replaced'): Decisions {
  const conns = only.filter((conn) => state.ticketByConn.has(conn) || liveSeat(state, conn) !== undefined);
  if (conns.length === 0) return [];
  const out: Decisions = [{ type: 'heldForRestart', expiresAt: now + state.resumeWindowMs, conns, ...(reason === undefined ? {} : { reason }) }];
  for (const conn of conns) {
    const seat = state.seats.get(conn);
    if (seat?.siteUntil !== undefined) out.push({ type: 'siteRefreshed', conn, session: seat.session, until: Math.max(seat.siteUntil, now + state.siteSessionTimeoutMs) });
  }
  return out;
}

/** Places and seats still held by the restart hold that ends at `expiresAt` are released; O(n) once per restart. */
function expireRestartHolds(state: AdmissionState, expiresAt: number): Decisions {
  const out: Decisions = [];
  for (const [conn, seat] of state.seats) {
    if (seat.holdUntil === expiresAt) out.push({ type: 'released', conn, session: seat.session, from: 'seat', reason: 'hold_expired' });
  }
  for (const [, waiter] of state.queue.entries()) {
    if (waiter.conn === null && waiter.holdUntil === expiresAt) out.push({ type: 'released', conn: null, session: waiter.session, from: 'queue', reason: 'hold_expired' });
  }
  return out;
}

/** The seat a connection is live on. A seat held for a restart belongs to no connection any more. */
function liveSeat(state: AdmissionState, conn: ConnId): Seat | undefined {
  const seat = state.seats.get(conn);
  return seat === undefined || isHeldSeat(seat) ? undefined : seat;
}

function expireSeatHold(state: AdmissionState, session: SessionId, expiresAt: number): Decisions {
  const conn = state.seatBySession.get(session);
  if (conn === undefined || state.seats.get(conn)!.holdUntil !== expiresAt) return [];
  return [{ type: 'released', conn, session, from: 'seat', reason: 'hold_expired' }];
}
