import { expect } from 'vitest';
import type { EventRecord } from '../../src/log/event-record.js';
import { paceAllows } from '../../machines/admission/admission-pacing.js';
import { seededUint32, shuffleInPlace } from '../../machines/admission/pre-queue-draw.js';
import type { RoomRuntime } from '../../src/rooms/room-runtime.js';

interface ModelPlace {
  session: string;
  conn: string | null;
  priority: number;
}

/**
 * An independent model of one room, kept in a plain array from the decisions alone, and the checks that the
 * runtime agrees with it and with the protocol's rules after every step.
 */
export class RoomModel {
  readonly line: ModelPlace[] = [];
  readonly seated = new Map<string, string>();
  capacity: number;
  /** Seats over capacity after an operator lowered it: they drain, and no one is admitted meanwhile. */
  private drainCeiling = 0;
  /** Connections the test closed: none may hold a seat or a live place. */
  readonly closed = new Set<string>();
  private seen = 0;
  private status = 'open';
  private admissionRate: number;
  /** Admission times since the rate last changed, to check the rate holds. */
  private admissionTimes: number[] = [];

  constructor(capacity: number, admissionRate = 0) {
    this.capacity = capacity;
    this.admissionRate = admissionRate;
  }

  /** The draw: each priority's places shuffled by the seed's generator, highest priority first. */
  private draw(seed: string): void {
    const next = seededUint32(seed);
    const priorities = [...new Set(this.line.map((p) => p.priority))];
    const drawn = priorities.flatMap((priority) => shuffleInPlace(this.line.filter((p) => p.priority === priority), next));
    this.line.splice(0, this.line.length, ...drawn);
  }

  /** No admission while the room is not open, and never more in one second than a full bucket plus its refill. */
  private checkAdmissionAllowed(at: number): void {
    expect(this.status, 'admission while the room is not open').toBe('open');
    if (this.admissionRate <= 0) return;
    this.admissionTimes.push(at);
    const inLastSecond = this.admissionTimes.filter((t) => t > at - 1000).length;
    expect(inLastSecond, `admissions in the second up to ${at}`).toBeLessThanOrEqual(Math.max(1, this.admissionRate) + this.admissionRate);
  }

  /** Applies the decisions recorded since the last call, checking the rules each one must obey. */
  absorb(records: readonly EventRecord[]): void {
    for (; this.seen < records.length; this.seen++) {
      const r = records[this.seen]!;
      const d = r.data as Record<string, any>;
      switch (r.kind) {
        case 'queued': {
          // Higher priorities first, FIFO within one: a new place goes behind every place of its priority or higher.
          const priority = d.priority ?? 0;
          const behind = this.line.findIndex((p) => p.priority < priority);
          const at = behind < 0 ? this.line.length : behind;
          this.line.splice(at, 0, { session: d.session, conn: r.conn, priority });
          expect(d.position, `queued position of ${r.conn}`).toBe(at + 1);
          expect(d.queueLength).toBe(this.line.length);
          break;
        }
        case 'admitted': {
          this.checkAdmissionAllowed(d.at);
          expect(this.seated.size, `admission of ${r.conn} with ${this.seated.size} of ${this.capacity} seats taken`).toBeLessThan(this.capacity);
          const index = this.line.findIndex((p) => p.session === d.session);
          if (index >= 0) {
            // FIFO: the admitted place is the first live one; only held places may be passed over.
            const firstLive = this.line.findIndex((p) => p.conn !== null);
            expect(index, `admitted ${d.session} but a live waiter is ahead of it`).toBe(firstLive);
            this.line.splice(index, 1);
          }
          this.seated.set(r.conn!, d.session);
          break;
        }
        case 'released':
        case 'evicted':
          if (d.from === 'seat') {
            expect(this.seated.has(r.conn!)).toBe(true);
            this.seated.delete(r.conn!);
          } else {
            const index = this.line.findIndex((p) => p.session === d.session);
            expect(index, `${r.kind} ${d.session} is not in line`).toBeGreaterThanOrEqual(0);
            this.line.splice(index, 1);
          }
          break;
        case 'held': {
          const place = this.line.find((p) => p.session === d.session)!;
          expect(place.conn).toBe(r.conn);
          place.conn = null;
          expect(d.position).toBe(this.line.indexOf(place) + 1);
          break;
        }
        case 'seatResumed': {
          // A seat held for its session (kept for the site, or held for a restart) moves to the connection that
          // resumed it; the place or seat that connection had is given up.
          expect(this.seated.get(d.replacedConn), `seat resumed for ${d.session}`).toBe(d.session);
          this.seated.delete(d.replacedConn);
          if (d.replacedSession !== null) {
            const fresh = this.line.findIndex((p) => p.session === d.replacedSession);
            if (fresh >= 0) this.line.splice(fresh, 1);
            else for (const [conn, session] of this.seated) if (session === d.replacedSession) this.seated.delete(conn);
          }
          this.seated.set(r.conn!, d.session);
          break;
        }
        case 'resumed': {
          if (d.replacedSession !== null) {
            const fresh = this.line.findIndex((p) => p.session === d.replacedSession);
            expect(fresh).toBeGreaterThanOrEqual(0);
            this.line.splice(fresh, 1);
          }
          const place = this.line.find((p) => p.session === d.session)!;
          expect(place, `resumed ${d.session} has no place`).toBeDefined();
          place.conn = r.conn;
          expect(d.position).toBe(this.line.indexOf(place) + 1);
          expect(d.queueLength).toBe(this.line.length);
          break;
        }
        case 'statusChanged':
        case 'scheduled':
          this.status = r.kind === 'scheduled' ? 'scheduled' : d.status;
          break;
        case 'drawn':
          this.draw(d.drawSeed);
          break;
        case 'admissionRateChanged':
          this.admissionRate = d.admissionRate;
          this.admissionTimes = [];
          break;
        case 'capacityChanged':
          this.capacity = d.capacity;
          if (this.seated.size > this.capacity) this.drainCeiling = this.seated.size;
          break;
        default:
          break;
      }
    }
  }

  /** The room's invariants, checked against the runtime's own views. */
  check(runtime: RoomRuntime, now: number): void {
    // At most `capacity` active; after a lowering, the extra seats only drain.
    this.drainCeiling = Math.min(this.drainCeiling, runtime.activeCount);
    expect(runtime.activeCount).toBeLessThanOrEqual(Math.max(runtime.capacity, this.drainCeiling));
    expect(runtime.activeCount).toBe(this.seated.size);
    for (const conn of runtime.activeConnections()) {
      expect(this.seated.has(conn)).toBe(true);
      // A seat kept for a visitor on the site has no connection any more.
      if (runtime.admission.seats.get(conn)!.siteUntil !== undefined) continue;
      expect(this.closed.has(conn), `closed connection ${conn} holds a seat`).toBe(false);
      expect(runtime.connectionState(conn)?.matches({ open: 'active' }), `seat of ${conn} not open.active`).toBe(true);
    }
    // Positions are exactly 1..n in line order, agree with the model and with the O(log n) rank.
    expect(runtime.queueLength).toBe(this.line.length);
    const liveInModel = this.line.map((p, i) => [p.conn, i + 1] as const).filter(([conn]) => conn !== null);
    const live = [...runtime.waitersInOrder()];
    expect(live).toEqual(liveInModel);
    for (const [conn, position] of live) {
      expect(runtime.positionOf(conn)).toBe(position);
      expect(this.closed.has(conn), `closed connection ${conn} holds a live place`).toBe(false);
      expect(runtime.connectionState(conn)?.matches({ open: 'queued' }), `place of ${conn} not open.queued`).toBe(true);
    }
    expect(runtime.heldCount).toBe(this.line.length - live.length);
    // Work-conserving: an open room never leaves a seat free while someone live is waiting, unless the
    // admission rate is spent (and a promotion is then due).
    const paced = !paceAllows({ admissionRate: runtime.admission.admissionRate, nextAt: runtime.admission.pacingNextAt }, now);
    if (runtime.status === 'open' && !paced) {
      expect(runtime.activeCount < runtime.capacity && live.length > 0, 'free seat beside a live waiter').toBe(false);
    }
    if (runtime.status === 'open' && paced && runtime.activeCount < runtime.capacity && live.length > 0) {
      expect(runtime.admission.pacedDueAt, 'a paced room has a promotion due').toBeGreaterThan(now);
    }
    checkOnePlacePerUser(runtime);
  }
}

/** A signed-in user holds at most one seat or place (live or held), and the room's user index says which. */
function checkOnePlacePerUser(runtime: RoomRuntime): void {
  const { admission } = runtime;
  const places = new Map<string, number>();
  const count = (session: string) => {
    const user = admission.userBySession.get(session);
    if (user !== undefined) places.set(user, (places.get(user) ?? 0) + 1);
  };
  for (const seat of admission.seats.values()) count(seat.session);
  for (const [, waiter] of admission.queue.entries()) count(waiter.session);
  for (const [user, n] of places) expect(n, `places of ${user}`).toBe(1);
  expect(admission.sessionByUser.size).toBe(places.size);
  // A live connection of a signed-in user holds only that user's place.
  for (const conn of runtime.connectionIds()) {
    const identity = runtime.identityOf(conn)!;
    const seat = admission.seats.get(conn);
    const ticket = admission.ticketByConn.get(conn);
    const session = seat?.session ?? (ticket === undefined ? undefined : admission.queue.get(ticket)!.session);
    if (identity.authenticated && session !== undefined) expect(admission.userBySession.get(session)).toBe(identity.user);
  }
}
