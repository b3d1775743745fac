import { describe, expect, it } from 'vitest';
import { createActor, SimulatedClock } from 'xstate';
import type { AdmissionCommand, AdmissionDecision } from '../../machines/admission/admission-types.js';
import { roomMachine, type RoomInput } from '../../machines/room.machine.js';

const input: Omit<RoomInput, 'now'> = { room: 'main', capacity: 1, maxQueue: 0, resumeWindowMs: 30_000, sessionTtlMs: 0 };

/** A room actor on a simulated clock, with every emitted decision collected in order. */
function startRoom(overrides: Partial<RoomInput> = {}) {
  const clock = new SimulatedClock();
  // The room decides by the simulated clock's time, as the runtime gives it the time of each input.
  const actor = createActor(roomMachine, { input: { ...input, now: () => clock.now(), ...overrides }, clock });
  const decisions: AdmissionDecision[] = [];
  actor.on('*', (decision) => decisions.push(decision as AdmissionDecision));
  actor.start();
  /** Sends a command and returns only the decisions it produced. */
  const send = (command: AdmissionCommand): AdmissionDecision[] => {
    const before = decisions.length;
    actor.send(command);
    return decisions.slice(before);
  };
  /** Advances the clock and returns the decisions that timers produced meanwhile. */
  const advance = (ms: number): AdmissionDecision[] => {
    const before = decisions.length;
    clock.increment(ms);
    return decisions.slice(before);
  };
  return { actor, clock, decisions, send, advance };
}

const join = (conn: string): AdmissionCommand => ({ type: 'join', conn, session: `s${conn}` });

describe('room machine: decisions', () => {
  it('emits every decision of a command, in order', () => {
    const { send, decisions } = startRoom();
    expect(send(join('a'))).toEqual([{ type: 'admitted', conn: 'a', session: 'sa', at: 0, ttlUntil: null }]);
    expect(send(join('b'))).toEqual([{ type: 'queued', conn: 'b', session: 'sb', position: 1, queueLength: 1 }]);
    expect(send({ type: 'leave', conn: 'a' })).toEqual([
      { type: 'released', conn: 'a', session: 'sa', from: 'seat', reason: 'left' },
      { type: 'admitted', conn: 'b', session: 'sb', at: 0, ttlUntil: null },
    ]);
    expect(decisions).toHaveLength(4);
  });

  it('keeps the admission state in its context by reference across events', () => {
    const { actor, send } = startRoom();
    const admission = actor.getSnapshot().context.admission;
    send(join('a'));
    send(join('b'));
    expect(actor.getSnapshot().context.admission).toBe(admission);
    expect(admission.seats.has('a')).toBe(true);
    expect(admission.queue.size).toBe(1);
  });
});

describe('room machine: states own behaviour', () => {
  it('promotes after a command while open, not while paused, and turns newcomers away once closed', () => {
    const { actor, send } = startRoom({ capacity: 1 });
    send(join('a'));
    send(join('b'));
    send({ type: 'pause' });
    expect(send({ type: 'leave', conn: 'a' })).toEqual([{ type: 'released', conn: 'a', session: 'sa', from: 'seat', reason: 'left' }]);
    expect(actor.getSnapshot().context.admission.seats.size).toBe(0);
    send({ type: 'close' });
    expect(actor.getSnapshot().value).toBe('closed');
    // A closed room has no place to give, to leave or to resume: only a join is answered.
    expect(send({ type: 'leave', conn: 'b' })).toEqual([]);
    expect(send(join('c'))).toEqual([{ type: 'rejected', conn: 'c', session: 'sc', reason: 'room_closed' }]);
  });
});

describe('room machine: status', () => {
  it('follows pause, open and close in its state value', () => {
    const { actor, send } = startRoom({ capacity: 2 });
    expect(actor.getSnapshot().value).toBe('open');
    expect(send({ type: 'pause' })).toEqual([{ type: 'statusChanged', status: 'paused' }]);
    expect(actor.getSnapshot().value).toBe('paused');
    expect(send(join('a'))).toEqual([{ type: 'queued', conn: 'a', session: 'sa', position: 1, queueLength: 1 }]);
    expect(send({ type: 'open' })).toEqual([
      { type: 'statusChanged', status: 'open' },
      { type: 'admitted', conn: 'a', session: 'sa', at: 0, ttlUntil: null },
    ]);
    expect(actor.getSnapshot().value).toBe('open');
    send({ type: 'pause' });
    expect(send({ type: 'close' })).toEqual([
      { type: 'statusChanged', status: 'closed' },
      { type: 'evicted', conn: 'a', session: 'sa', from: 'seat', reason: 'room_closed' },
    ]);
    expect(actor.getSnapshot().value).toBe('closed');
  });

  it('still answers joins after close, with rejected, until it is reopened', () => {
    const { actor, send } = startRoom();
    send({ type: 'close' });
    expect(send(join('a'))).toEqual([{ type: 'rejected', conn: 'a', session: 'sa', reason: 'room_closed' }]);
    expect(actor.getSnapshot().value).toBe('closed');
    expect(actor.getSnapshot().status).toBe('active');
    expect(send({ type: 'open' })).toEqual([{ type: 'statusChanged', status: 'open' }]);
    expect(send(join('b'))).toEqual([{ type: 'admitted', conn: 'b', session: 'sb', at: 0, ttlUntil: null }]);
    expect(actor.getSnapshot().value).toBe('open');
  });
});

describe('room machine: held places', () => {
  it('releases a held place exactly resumeWindowMs after the drop', () => {
    const { send, advance } = startRoom({ resumeWindowMs: 10_000 });
    send(join('a'));
    send(join('b'));
    send(join('c'));
    advance(1000);
    expect(send({ type: 'drop', conn: 'b' })).toEqual([{ type: 'held', conn: 'b', session: 'sb', position: 1, expiresAt: 11_000 }]);
    expect(advance(9999)).toEqual([]);
    expect(advance(1)).toEqual([{ type: 'released', conn: null, session: 'sb', from: 'queue', reason: 'hold_expired' }]);
    expect(advance(60_000)).toEqual([]);
  });

  it('lets the first hold\'s timer pass without effect after a resume, so a second drop gets a full new window', () => {
    const { actor, send, advance } = startRoom({ resumeWindowMs: 10_000 });
    send(join('a'));
    send(join('b'));
    send({ type: 'drop', conn: 'b' });
    advance(5000);
    send(join('b2'));
    expect(send({ type: 'resume', conn: 'b2', session: 'sb' })).toEqual([
      { type: 'resumed', conn: 'b2', session: 'sb', replacedSession: 'sb2', replacedConn: null, position: 1, queueLength: 1 },
    ]);
    advance(1000);
    expect(send({ type: 'drop', conn: 'b2' })).toEqual([{ type: 'held', conn: 'b2', session: 'sb', position: 1, expiresAt: 16_000 }]);
    // The first window would have ended here (10 s after the first drop).
    expect(advance(4000)).toEqual([]);
    expect(actor.getSnapshot().context.admission.queue.size).toBe(1);
    expect(advance(5999)).toEqual([]);
    expect(advance(1)).toEqual([{ type: 'released', conn: null, session: 'sb', from: 'queue', reason: 'hold_expired' }]);
  });

  it('decides nothing when the timer of a kicked hold fires later', () => {
    const { send, advance } = startRoom({ resumeWindowMs: 10_000 });
    send(join('a'));
    send(join('b'));
    send({ type: 'drop', conn: 'b' });
    expect(send({ type: 'kick', session: 'sb' })).toEqual([{ type: 'released', conn: null, session: 'sb', from: 'queue', reason: 'kicked' }]);
    expect(advance(20_000)).toEqual([]);
  });
});

describe('room machine: session TTL', () => {
  it('evicts a seated session with session_expired at the TTL and promotes the head', () => {
    const { send, advance } = startRoom({ sessionTtlMs: 1000 });
    send(join('a'));
    advance(100);
    send(join('b'));
    expect(advance(899)).toEqual([]);
    expect(advance(1)).toEqual([
      { type: 'evicted', conn: 'a', session: 'sa', from: 'seat', reason: 'session_expired' },
      { type: 'admitted', conn: 'b', session: 'sb', at: 1000, ttlUntil: 2000 },
    ]);
    // The promoted session's TTL runs from its own admission.
    expect(advance(999)).toEqual([]);
    expect(advance(1)).toEqual([{ type: 'evicted', conn: 'b', session: 'sb', from: 'seat', reason: 'session_expired' }]);
  });

  it('decides nothing when the TTL timer of a seat that ended earlier fires', () => {
    const { send, advance } = startRoom({ sessionTtlMs: 1000 });
    send(join('a'));
    send(join('b'));
    advance(400);
    send({ type: 'leave', conn: 'a' });
    // a's TTL would have ended at 1000; b was admitted at 400, so its TTL ends at 1400.
    expect(advance(999)).toEqual([]);
    expect(advance(1)).toEqual([{ type: 'evicted', conn: 'b', session: 'sb', from: 'seat', reason: 'session_expired' }]);
  });

  it('never expires a session when sessionTtlMs is 0', () => {
    const { send, advance } = startRoom({ sessionTtlMs: 0 });
    send(join('a'));
    expect(advance(24 * 3600 * 1000)).toEqual([]);
  });
});

describe('room machine: admission rate on the room clock', () => {
  it('paces promotions exactly: with 3 free seats at 1 per second, one now and one each second after', () => {
    const { send, advance } = startRoom({ capacity: 3, admissionRate: 1 });
    send({ type: 'pause' });
    for (const conn of ['a', 'b', 'c']) send(join(conn));
    expect(send({ type: 'open' })).toEqual([
      { type: 'statusChanged', status: 'open' },
      { type: 'admitted', conn: 'a', session: 'sa', at: 0, ttlUntil: null },
      { type: 'paced', dueAt: 1000 },
    ]);
    expect(advance(999)).toEqual([]);
    expect(advance(1)).toEqual([
      { type: 'admitted', conn: 'b', session: 'sb', at: 1000, ttlUntil: null },
      { type: 'paced', dueAt: 2000 },
    ]);
    expect(advance(1000)).toEqual([{ type: 'admitted', conn: 'c', session: 'sc', at: 2000, ttlUntil: null }]);
  });

  it('a paced promotion that comes due while paused admits no one; reopening does', () => {
    const { send, advance } = startRoom({ capacity: 2, admissionRate: 1 });
    send(join('a'));
    send(join('b'));
    send({ type: 'pause' });
    expect(advance(1000)).toEqual([]);
    expect(send({ type: 'open' })).toEqual([
      { type: 'statusChanged', status: 'open' },
      { type: 'admitted', conn: 'b', session: 'sb', at: 1000, ttlUntil: null },
    ]);
  });

  it('maintenance can be entered from every status and left for open', () => {
    const { actor, send } = startRoom();
    send(join('a'));
    expect(send({ type: 'maintenance' })).toEqual([
      { type: 'statusChanged', status: 'maintenance' },
      { type: 'evicted', conn: 'a', session: 'sa', from: 'seat', reason: 'maintenance' },
    ]);
    expect(actor.getSnapshot().value).toBe('maintenance');
    send(join('b'));
    send({ type: 'close' });
    send({ type: 'maintenance' });
    expect(actor.getSnapshot().value).toBe('maintenance');
    send({ type: 'pause' });
    send({ type: 'maintenance' });
    expect(send({ type: 'open' })).toEqual([{ type: 'statusChanged', status: 'open' }]);
  });
});

describe('room machine: site sessions on the room clock', () => {
  it('a kept seat is released exactly siteSessionTimeoutMs after the last refresh', () => {
    const { send, advance } = startRoom({ capacity: 1, siteSessions: true, siteSessionTimeoutMs: 10_000 });
    send(join('a'));
    send(join('b'));
    send({ type: 'drop', conn: 'a' });
    advance(5000);
    expect(send({ type: 'refreshSite', session: 'sa' })).toEqual([{ type: 'siteRefreshed', conn: 'a', session: 'sa', until: 15_000 }]);
    expect(advance(9_999)).toEqual([]);
    expect(advance(1)).toEqual([
      { type: 'released', conn: 'a', session: 'sa', from: 'seat', reason: 'site_expired' },
      { type: 'admitted', conn: 'b', session: 'sb', at: 15_000, ttlUntil: null },
    ]);
  });
});
