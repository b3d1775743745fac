import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  createAdmissionState,
  isQueued,
  isSeated,
  positionOfConn,
  type AdmissionState,
} from '../../../machines/admission/admission-state.js';
import type { AdmissionCommand, AdmissionDecision, RoomStatus } from '../../../machines/admission/admission-types.js';
import { decide } from '../../../machines/admission/decide.js';
import { evolve } from '../../../machines/admission/evolve.js';
import { settle } from '../../../machines/admission/step.js';

// Naming in these tests: a person `x` joins on connection `x` with session `sx`; `x2` is a later connection.

const join = (conn: string, session = `s${conn}`): AdmissionCommand => ({ type: 'join', conn, session });
const leave = (conn: string): AdmissionCommand => ({ type: 'leave', conn });
const drop = (conn: string): AdmissionCommand => ({ type: 'drop', conn });
const resume = (conn: string, session: string): AdmissionCommand => ({ type: 'resume', conn, session });
/** The timer of a hold made at time 0 under the default 30 s resume window. */
const expireHold = (session: string, expiresAt = 30_000): AdmissionCommand => ({ type: 'expireHold', session, expiresAt });
/** Commands are given at time 0 unless a test says otherwise. */
const now = 0;

/** A room with `capacity` seats after `commands` were carried out as the room does (decisions, then promotions). */
function given(options: { capacity: number; maxQueue?: number; sessionTtlMs?: number; status?: RoomStatus }, ...commands: AdmissionCommand[]): AdmissionState {
  const state = createAdmissionState(options);
  for (const command of commands) settle(state, command, now);
  return state;
}

/** The decisions of `command` and the promotions they allow, applied to the state. */
function when(state: AdmissionState, command: AdmissionCommand, at = now): AdmissionDecision[] {
  return settle(state, command, at);
}

/** Seated connections, in seating order. */
function seated(state: AdmissionState): string[] {
  return [...state.seats.keys()];
}

/** The line from the head: a live place by its connection, a held place as `held:<session>`. */
function line(state: AdmissionState): string[] {
  return [...state.queue.entries()].map(([, waiter]) => waiter.conn ?? `held:${waiter.session}`);
}

/** Given decisions already made, when a command is decided, then these decisions: the decider as a specification. */
function spec(options: { capacity: number; maxQueue?: number; sessionTtlMs?: number }, given: AdmissionDecision[]) {
  const state = createAdmissionState(options);
  for (const decision of given) evolve(state, decision);
  return { when: (command: AdmissionCommand, at = now) => ({ then: (expected: AdmissionDecision[]) => expect(decide(state, command, at)).toEqual(expected) }) };
}

describe('decide: given decisions, when a command, then decisions', () => {
  const admittedA = { type: 'admitted', conn: 'a', session: 'sa', at: 0, ttlUntil: null } as const;
  const queuedB = { type: 'queued', conn: 'b', session: 'sb', position: 1, queueLength: 1 } as const;

  it('a seated leave releases the seat; giving it to the head is the decision of `promote`', () => {
    spec({ capacity: 1 }, [admittedA, queuedB]).when(leave('a')).then([{ type: 'released', conn: 'a', session: 'sa', from: 'seat', reason: 'left' }]);
    spec({ capacity: 1 }, [admittedA, queuedB, { type: 'released', conn: 'a', session: 'sa', from: 'seat', reason: 'left' }])
      .when({ type: 'promote' }, 7_000)
      .then([{ type: 'admitted', conn: 'b', session: 'sb', at: 7_000, ttlUntil: null }]);
  });

  it('a queued drop holds the place until the resume window after the drop', () => {
    spec({ capacity: 1 }, [admittedA, queuedB]).when(drop('b'), 5_000).then([{ type: 'held', conn: 'b', session: 'sb', position: 1, expiresAt: 35_000 }]);
  });

  it('a hold timer decides only for the hold it was armed for', () => {
    const held = [admittedA, queuedB, { type: 'held', conn: 'b', session: 'sb', position: 1, expiresAt: 30_000 } as const];
    spec({ capacity: 1 }, held).when(expireHold('sb', 29_999)).then([]);
    spec({ capacity: 1 }, held).when(expireHold('sb', 30_000), 30_000).then([{ type: 'released', conn: null, session: 'sb', from: 'queue', reason: 'hold_expired' }]);
  });

  it('a join that names a held place takes it back as it stands, even when the line is full', () => {
    const held = [admittedA, queuedB, { type: 'held', conn: 'b', session: 'sb', position: 1, expiresAt: 30_000 } as const];
    spec({ capacity: 1, maxQueue: 1 }, held)
      .when({ type: 'join', conn: 'b2', session: 'sb2', resume: 'sb' })
      .then([{ type: 'resumed', conn: 'b2', session: 'sb', replacedSession: null, replacedConn: null, position: 1, queueLength: 1 }]);
  });

  it('a join that names a place that is gone is an ordinary join, and says the resume was refused', () => {
    spec({ capacity: 1 }, [admittedA])
      .when({ type: 'join', conn: 'c', session: 'sc', resume: 'gone' })
      .then([
        { type: 'queued', conn: 'c', session: 'sc', position: 1, queueLength: 1 },
        { type: 'resumeRefused', conn: 'c', session: 'gone' },
      ]);
  });

  it('a seat taken in a room with a session limit says when it ends', () => {
    spec({ capacity: 1, sessionTtlMs: 60_000 }, []).when(join('a'), 1_000).then([{ type: 'admitted', conn: 'a', session: 'sa', at: 1_000, ttlUntil: 61_000 }]);
  });

  it('promote admits the earliest live waiters past a held head, one per free seat, and nothing while paused', () => {
    const line = [
      { type: 'queued', conn: 'b', session: 'sb', position: 1, queueLength: 1 },
      { type: 'held', conn: 'b', session: 'sb', position: 1, expiresAt: 30_000 },
      { type: 'queued', conn: 'c', session: 'sc', position: 2, queueLength: 2 },
      { type: 'queued', conn: 'd', session: 'sd', position: 3, queueLength: 3 },
    ] as const;
    spec({ capacity: 2 }, [...line]).when({ type: 'promote' }).then([
      { type: 'admitted', conn: 'c', session: 'sc', at: 0, ttlUntil: null },
      { type: 'admitted', conn: 'd', session: 'sd', at: 0, ttlUntil: null },
    ]);
    spec({ capacity: 2 }, [...line, { type: 'statusChanged', status: 'paused' }]).when({ type: 'promote' }).then([]);
  });
});

describe('admission rules: join', () => {
  it('seats a joiner when a seat is free and nobody is waiting', () => {
    const state = given({ capacity: 2 }, join('a'));
    expect(when(state, join('b'))).toEqual([{ type: 'admitted', conn: 'b', session: 'sb', at: 0, ttlUntil: null }]);
    expect(seated(state)).toEqual(['a', 'b']);
    expect(line(state)).toEqual([]);
  });

  it('queues joiners of a full room at the tail with their exact position and queue length', () => {
    const state = given({ capacity: 1 }, join('a'));
    expect(when(state, join('b'))).toEqual([{ type: 'queued', conn: 'b', session: 'sb', position: 1, queueLength: 1 }]);
    expect(when(state, join('c'))).toEqual([{ type: 'queued', conn: 'c', session: 'sc', position: 2, queueLength: 2 }]);
    expect(when(state, join('d'))).toEqual([{ type: 'queued', conn: 'd', session: 'sd', position: 3, queueLength: 3 }]);
    expect(seated(state)).toEqual(['a']);
    expect(line(state)).toEqual(['b', 'c', 'd']);
    expect(['b', 'c', 'd'].map((conn) => positionOfConn(state, conn))).toEqual([1, 2, 3]);
  });

  it('queues a joiner of a paused room even when seats are free', () => {
    const state = given({ capacity: 3 }, join('a'), { type: 'pause' });
    expect(when(state, join('b'))).toEqual([{ type: 'queued', conn: 'b', session: 'sb', position: 1, queueLength: 1 }]);
    expect(seated(state)).toEqual(['a']);
    expect(isQueued(state, 'b')).toBe(true);
  });

  it('rejects a joiner of a closed room with room_closed and places nobody', () => {
    const state = given({ capacity: 3 }, { type: 'close' });
    expect(when(state, join('a'))).toEqual([{ type: 'rejected', conn: 'a', session: 'sa', reason: 'room_closed' }]);
    expect(seated(state)).toEqual([]);
    expect(line(state)).toEqual([]);
  });

  it('rejects a joiner with queue_full once the line holds maxQueue places, and accepts again when one frees', () => {
    const state = given({ capacity: 1, maxQueue: 2 }, join('a'), join('b'), join('c'));
    expect(when(state, join('d'))).toEqual([{ type: 'rejected', conn: 'd', session: 'sd', reason: 'queue_full' }]);
    expect(line(state)).toEqual(['b', 'c']);
    expect(isQueued(state, 'd')).toBe(false);

    when(state, leave('c'));
    expect(when(state, join('e'))).toEqual([{ type: 'queued', conn: 'e', session: 'se', position: 2, queueLength: 2 }]);
  });

  it('counts held places towards maxQueue', () => {
    const state = given({ capacity: 1, maxQueue: 1 }, join('a'), join('b'), drop('b'));
    expect(when(state, join('c'))).toEqual([{ type: 'rejected', conn: 'c', session: 'sc', reason: 'queue_full' }]);
  });

  it('ignores a second join on a connection that is already seated or queued', () => {
    const state = given({ capacity: 1 }, join('a'), join('b'));
    expect(when(state, join('a'))).toEqual([]);
    expect(when(state, join('a', 'other'))).toEqual([]);
    expect(when(state, join('b'))).toEqual([]);
    expect(seated(state)).toEqual(['a']);
    expect(line(state)).toEqual(['b']);
  });

  it('seats a joiner when the only places in line are held ones', () => {
    const state = given({ capacity: 1 }, join('a'), join('b'), drop('b'), leave('a'));
    expect(seated(state)).toEqual([]);
    expect(when(state, join('c'))).toEqual([{ type: 'admitted', conn: 'c', session: 'sc', at: 0, ttlUntil: null }]);
    expect(line(state)).toEqual(['held:sb']);
  });
});

describe('admission rules: leave', () => {
  it('releases a seat and gives it to the head of the line in the same command', () => {
    const state = given({ capacity: 1 }, join('a'), join('b'), join('c'));
    expect(when(state, leave('a'))).toEqual([
      { type: 'released', conn: 'a', session: 'sa', from: 'seat', reason: 'left' },
      { type: 'admitted', conn: 'b', session: 'sb', at: 0, ttlUntil: null },
    ]);
    expect(seated(state)).toEqual(['b']);
    expect(line(state)).toEqual(['c']);
    expect(positionOfConn(state, 'c')).toBe(1);
  });

  it('releases a queued place and moves everyone behind it up by one', () => {
    const state = given({ capacity: 1 }, join('a'), join('b'), join('c'), join('d'), join('e'));
    expect(when(state, leave('c'))).toEqual([{ type: 'released', conn: 'c', session: 'sc', from: 'queue', reason: 'left' }]);
    expect(line(state)).toEqual(['b', 'd', 'e']);
    expect(['b', 'd', 'e'].map((conn) => positionOfConn(state, conn))).toEqual([1, 2, 3]);
    expect(positionOfConn(state, 'c')).toBe(0);
  });

  it('decides nothing for a connection that is not placed', () => {
    const state = given({ capacity: 1 }, join('a'), join('b'), leave('b'));
    expect(when(state, leave('b'))).toEqual([]);
    expect(when(state, leave('nobody'))).toEqual([]);
  });
});

describe('admission rules: drop', () => {
  it('releases a seat at once instead of holding it', () => {
    const state = given({ capacity: 1 }, join('a'), join('b'));
    expect(when(state, drop('a'))).toEqual([
      { type: 'released', conn: 'a', session: 'sa', from: 'seat', reason: 'dropped' },
      { type: 'admitted', conn: 'b', session: 'sb', at: 0, ttlUntil: null },
    ]);
    expect(line(state)).toEqual([]);
    expect(state.ticketBySession.has('sa')).toBe(false);
  });

  it('holds a queued place: it keeps its position and everyone behind keeps theirs', () => {
    const state = given({ capacity: 1 }, join('a'), join('b'), join('c'), join('d'));
    expect(when(state, drop('c'))).toEqual([{ type: 'held', conn: 'c', session: 'sc', position: 2, expiresAt: 30_000 }]);
    expect(line(state)).toEqual(['b', 'held:sc', 'd']);
    expect(positionOfConn(state, 'd')).toBe(3);
    expect(state.queue.size).toBe(3);
    expect(isQueued(state, 'c')).toBe(false);
  });

  it('passes over a held place at the head and admits the next live waiter', () => {
    const state = given({ capacity: 1 }, join('a'), join('b'), join('c'), join('d'), drop('b'));
    expect(when(state, leave('a'))).toEqual([
      { type: 'released', conn: 'a', session: 'sa', from: 'seat', reason: 'left' },
      { type: 'admitted', conn: 'c', session: 'sc', at: 0, ttlUntil: null },
    ]);
    expect(line(state)).toEqual(['held:sb', 'd']);
    expect(positionOfConn(state, 'd')).toBe(2);
  });

  it('decides nothing for a connection that is not placed', () => {
    const state = given({ capacity: 1 }, join('a'), join('b'), drop('b'));
    expect(when(state, drop('b'))).toEqual([]);
    expect(when(state, drop('nobody'))).toEqual([]);
  });
});

describe('admission rules: evict', () => {
  it('evicts a seated connection with the reason and promotes the head', () => {
    const state = given({ capacity: 1 }, join('a'), join('b'));
    expect(when(state, { type: 'evict', conn: 'a', reason: 'heartbeat_timeout' })).toEqual([
      { type: 'evicted', conn: 'a', session: 'sa', from: 'seat', reason: 'heartbeat_timeout' },
      { type: 'admitted', conn: 'b', session: 'sb', at: 0, ttlUntil: null },
    ]);
  });

  it('evicts a queued connection and moves the places behind it up', () => {
    const state = given({ capacity: 1 }, join('a'), join('b'), join('c'));
    expect(when(state, { type: 'evict', conn: 'b', reason: 'heartbeat_timeout' })).toEqual([
      { type: 'evicted', conn: 'b', session: 'sb', from: 'queue', reason: 'heartbeat_timeout' },
    ]);
    expect(line(state)).toEqual(['c']);
    expect(positionOfConn(state, 'c')).toBe(1);
  });

  it('decides nothing for a connection that is not placed', () => {
    const state = given({ capacity: 1 }, join('a'));
    expect(when(state, { type: 'evict', conn: 'nobody', reason: 'kicked' })).toEqual([]);
  });
});

describe('admission rules: resume', () => {
  it('takes a held place back and drops the fresh tail place of the resuming connection', () => {
    const state = given({ capacity: 1 }, join('a'), join('b'), join('c'), drop('b'), join('b2'));
    expect(line(state)).toEqual(['held:sb', 'c', 'b2']);
    expect(when(state, resume('b2', 'sb'))).toEqual([
      { type: 'resumed', conn: 'b2', session: 'sb', replacedSession: 'sb2', replacedConn: null, position: 1, queueLength: 2 },
    ]);
    expect(line(state)).toEqual(['b2', 'c']);
    expect(positionOfConn(state, 'b2')).toBe(1);
    expect(state.ticketBySession.has('sb2')).toBe(false);
    // The place is live again, so it is the next one admitted.
    expect(when(state, leave('a'))).toEqual([
      { type: 'released', conn: 'a', session: 'sa', from: 'seat', reason: 'left' },
      { type: 'admitted', conn: 'b2', session: 'sb', at: 0, ttlUntil: null },
    ]);
  });

  it('takes the place from the older connection, named as replacedConn, when it is still live on it', () => {
    const state = given({ capacity: 1 }, join('a'), join('b'), join('c'), join('b2'));
    expect(when(state, resume('b2', 'sb'))).toEqual([
      { type: 'resumed', conn: 'b2', session: 'sb', replacedSession: 'sb2', replacedConn: 'b', position: 1, queueLength: 2 },
    ]);
    expect(isQueued(state, 'b')).toBe(false);
    expect(line(state)).toEqual(['b2', 'c']);
    // The evicted connection no longer owns anything: its leave decides nothing.
    expect(when(state, leave('b'))).toEqual([]);
  });

  it('refuses a resume of a session that holds no place, and the connection keeps its fresh place', () => {
    const state = given({ capacity: 1 }, join('a'), join('b'));
    expect(when(state, resume('b', 'unknown'))).toEqual([{ type: 'resumeRefused', conn: 'b', session: 'unknown' }]);
    expect(line(state)).toEqual(['b']);
    expect(positionOfConn(state, 'b')).toBe(1);
  });

  it('refuses a resume of a place whose hold already expired', () => {
    const state = given({ capacity: 1 }, join('a'), join('b'), drop('b'), expireHold('sb'), join('b2'));
    expect(when(state, resume('b2', 'sb'))).toEqual([{ type: 'resumeRefused', conn: 'b2', session: 'sb' }]);
  });

  it('decides nothing for a resume into the connection’s own session', () => {
    const state = given({ capacity: 1 }, join('a'), join('b'));
    expect(when(state, resume('b', 'sb'))).toEqual([]);
    expect(when(state, resume('a', 'sa'))).toEqual([]);
    expect(line(state)).toEqual(['b']);
  });

  it('decides nothing for a resume from a connection that is not placed', () => {
    const state = given({ capacity: 1 }, join('a'), join('b'), drop('b'));
    expect(when(state, resume('stranger', 'sb'))).toEqual([]);
    expect(line(state)).toEqual(['held:sb']);
  });

  it('releases the held place as superseded when the resuming connection is already seated', () => {
    const state = given({ capacity: 1 }, join('a'), join('b'), drop('b'), leave('a'), join('b2'));
    expect(seated(state)).toEqual(['b2']);
    expect(when(state, resume('b2', 'sb'))).toEqual([
      { type: 'released', conn: null, session: 'sb', from: 'queue', reason: 'superseded' },
    ]);
    expect(line(state)).toEqual([]);
    expect(seated(state)).toEqual(['b2']);
  });

  it('evicts the older live connection as replaced when the resuming connection is already seated', () => {
    // x is seated on connection x (session sx); its other tab y still waits in line under session sy.
    const state = given({ capacity: 1 }, join('x'), join('y'), join('z'));
    expect(when(state, resume('x', 'sy'))).toEqual([{ type: 'evicted', conn: 'y', session: 'sy', from: 'queue', reason: 'replaced' }]);
    expect(isQueued(state, 'y')).toBe(false);
    expect(seated(state)).toEqual(['x']);
    expect(line(state)).toEqual(['z']);
    expect(positionOfConn(state, 'z')).toBe(1);
  });
});

describe('admission rules: expireHold', () => {
  it('releases a held place and moves the places behind it up', () => {
    const state = given({ capacity: 1 }, join('a'), join('b'), join('c'), drop('b'));
    expect(when(state, expireHold('sb'))).toEqual([
      { type: 'released', conn: null, session: 'sb', from: 'queue', reason: 'hold_expired' },
    ]);
    expect(line(state)).toEqual(['c']);
    expect(positionOfConn(state, 'c')).toBe(1);
  });

  it('decides nothing for a live place, a resumed place or an unknown session', () => {
    const state = given({ capacity: 1 }, join('a'), join('b'), join('c'), drop('b'), join('b2'), resume('b2', 'sb'));
    expect(when(state, expireHold('sb'))).toEqual([]);
    expect(when(state, expireHold('sc'))).toEqual([]);
    expect(when(state, expireHold('sa'))).toEqual([]);
    expect(when(state, expireHold('unknown'))).toEqual([]);
    expect(line(state)).toEqual(['b2', 'c']);
  });
});

describe('admission rules: expireSeat', () => {
  it('evicts a seat whose TTL ran out with session_expired and promotes the head, whose seat gets its own TTL', () => {
    const state = given({ capacity: 1, sessionTtlMs: 60_000 }, join('a'), join('b'));
    expect(when(state, { type: 'expireSeat', conn: 'a', ttlUntil: 60_000 }, 60_000)).toEqual([
      { type: 'evicted', conn: 'a', session: 'sa', from: 'seat', reason: 'session_expired' },
      { type: 'admitted', conn: 'b', session: 'sb', at: 60_000, ttlUntil: 120_000 },
    ]);
  });

  it('decides nothing for a queued or unknown connection, or a timer armed for an earlier seat', () => {
    const state = given({ capacity: 1, sessionTtlMs: 60_000 }, join('a'), join('b'));
    expect(when(state, { type: 'expireSeat', conn: 'b', ttlUntil: 60_000 })).toEqual([]);
    expect(when(state, { type: 'expireSeat', conn: 'nobody', ttlUntil: 60_000 })).toEqual([]);
    expect(when(state, { type: 'expireSeat', conn: 'a', ttlUntil: 59_999 })).toEqual([]);
    expect(line(state)).toEqual(['b']);
  });
});

describe('admission rules: kick', () => {
  it('evicts a seated session as kicked and promotes the head', () => {
    const state = given({ capacity: 1 }, join('a'), join('b'));
    expect(when(state, { type: 'kick', session: 'sa' })).toEqual([
      { type: 'evicted', conn: 'a', session: 'sa', from: 'seat', reason: 'kicked' },
      { type: 'admitted', conn: 'b', session: 'sb', at: 0, ttlUntil: null },
    ]);
  });

  it('evicts a queued session as kicked', () => {
    const state = given({ capacity: 1 }, join('a'), join('b'), join('c'));
    expect(when(state, { type: 'kick', session: 'sb' })).toEqual([
      { type: 'evicted', conn: 'b', session: 'sb', from: 'queue', reason: 'kicked' },
    ]);
    expect(positionOfConn(state, 'c')).toBe(1);
  });

  it('releases a held place as kicked', () => {
    const state = given({ capacity: 1 }, join('a'), join('b'), join('c'), drop('b'));
    expect(when(state, { type: 'kick', session: 'sb' })).toEqual([
      { type: 'released', conn: null, session: 'sb', from: 'queue', reason: 'kicked' },
    ]);
    expect(line(state)).toEqual(['c']);
  });

  it('decides nothing for an unknown session', () => {
    const state = given({ capacity: 1 }, join('a'));
    expect(when(state, { type: 'kick', session: 'unknown' })).toEqual([]);
  });
});

describe('admission rules: setCapacity and setMaxQueue', () => {
  it('admits the head of the line at once when capacity goes up', () => {
    const state = given({ capacity: 1 }, join('a'), join('b'), join('c'), join('d'));
    expect(when(state, { type: 'setCapacity', capacity: 3 })).toEqual([
      { type: 'capacityChanged', capacity: 3 },
      { type: 'admitted', conn: 'b', session: 'sb', at: 0, ttlUntil: null },
      { type: 'admitted', conn: 'c', session: 'sc', at: 0, ttlUntil: null },
    ]);
    expect(seated(state)).toEqual(['a', 'b', 'c']);
    expect(line(state)).toEqual(['d']);
  });

  it('evicts nobody when capacity goes down, and admits nobody until the seats are below it', () => {
    const state = given({ capacity: 3 }, join('a'), join('b'), join('c'), join('d'));
    expect(when(state, { type: 'setCapacity', capacity: 1 })).toEqual([{ type: 'capacityChanged', capacity: 1 }]);
    expect(seated(state)).toEqual(['a', 'b', 'c']);
    expect(when(state, leave('a'))).toEqual([{ type: 'released', conn: 'a', session: 'sa', from: 'seat', reason: 'left' }]);
    expect(when(state, leave('b'))).toEqual([{ type: 'released', conn: 'b', session: 'sb', from: 'seat', reason: 'left' }]);
    expect(when(state, leave('c'))).toEqual([
      { type: 'released', conn: 'c', session: 'sc', from: 'seat', reason: 'left' },
      { type: 'admitted', conn: 'd', session: 'sd', at: 0, ttlUntil: null },
    ]);
  });

  it('applies a new maxQueue to later joins', () => {
    const state = given({ capacity: 1 }, join('a'), join('b'));
    expect(when(state, { type: 'setMaxQueue', maxQueue: 1 })).toEqual([{ type: 'maxQueueChanged', maxQueue: 1 }]);
    expect(when(state, join('c'))).toEqual([{ type: 'rejected', conn: 'c', session: 'sc', reason: 'queue_full' }]);
  });
});

describe('admission rules: pause and open', () => {
  it('pauses admissions while keeping every place, and admits the heads on open', () => {
    const state = given({ capacity: 2 }, join('a'), join('b'), join('c'), join('d'));
    expect(when(state, { type: 'pause' })).toEqual([{ type: 'statusChanged', status: 'paused' }]);
    expect(state.status).toBe('paused');
    expect(when(state, leave('a'))).toEqual([{ type: 'released', conn: 'a', session: 'sa', from: 'seat', reason: 'left' }]);
    expect(when(state, leave('b'))).toEqual([{ type: 'released', conn: 'b', session: 'sb', from: 'seat', reason: 'left' }]);
    expect(line(state)).toEqual(['c', 'd']);
    expect(when(state, { type: 'open' })).toEqual([
      { type: 'statusChanged', status: 'open' },
      { type: 'admitted', conn: 'c', session: 'sc', at: 0, ttlUntil: null },
      { type: 'admitted', conn: 'd', session: 'sd', at: 0, ttlUntil: null },
    ]);
    expect(state.status).toBe('open');
  });

  it('decides nothing for a pause of a paused room or an open of an open room', () => {
    const state = given({ capacity: 1 });
    expect(when(state, { type: 'open' })).toEqual([]);
    when(state, { type: 'pause' });
    expect(when(state, { type: 'pause' })).toEqual([]);
    expect(state.status).toBe('paused');
  });
});

describe('admission rules: close', () => {
  it('evicts every seat and live place with room_closed and releases held places', () => {
    const state = given({ capacity: 2 }, join('a'), join('b'), join('c'), join('d'), join('e'), drop('d'));
    expect(when(state, { type: 'close' })).toEqual([
      { type: 'statusChanged', status: 'closed' },
      { type: 'evicted', conn: 'a', session: 'sa', from: 'seat', reason: 'room_closed' },
      { type: 'evicted', conn: 'b', session: 'sb', from: 'seat', reason: 'room_closed' },
      { type: 'evicted', conn: 'c', session: 'sc', from: 'queue', reason: 'room_closed' },
      { type: 'released', conn: null, session: 'sd', from: 'queue', reason: 'room_closed' },
      { type: 'evicted', conn: 'e', session: 'se', from: 'queue', reason: 'room_closed' },
    ]);
    expect(seated(state)).toEqual([]);
    expect(line(state)).toEqual([]);
    expect(state.ticketByConn.size).toBe(0);
    expect(state.ticketBySession.size).toBe(0);
    expect(state.seatBySession.size).toBe(0);
  });

  it('rejects later joins, ignores a second close, and admits nobody on a capacity change', () => {
    const state = given({ capacity: 1 }, join('a'), { type: 'close' });
    expect(when(state, join('b'))).toEqual([{ type: 'rejected', conn: 'b', session: 'sb', reason: 'room_closed' }]);
    expect(when(state, { type: 'close' })).toEqual([]);
    expect(when(state, { type: 'setCapacity', capacity: 5 })).toEqual([{ type: 'capacityChanged', capacity: 5 }]);
    expect(state.status).toBe('closed');
    expect(seated(state)).toEqual([]);
  });

  it('can be undone: open reopens a closed room, which then admits again', () => {
    const state = given({ capacity: 1 }, join('a'), { type: 'close' });
    expect(when(state, { type: 'open' })).toEqual([{ type: 'statusChanged', status: 'open' }]);
    expect(when(state, join('b'))).toEqual([{ type: 'admitted', conn: 'b', session: 'sb', at: 0, ttlUntil: null }]);
  });
});

describe('admission rules: invariants under any sequence of commands', () => {
  /** A step names earlier connections by index; each join opens a new connection with a new session, as the edge does. */
  type Step =
    | { type: 'join' }
    | { type: 'leave' | 'drop' | 'evict' | 'expireSeat'; conn: number }
    | { type: 'resume'; conn: number; session: number }
    | { type: 'expireHold' | 'kick'; session: number }
    | { type: 'pause' | 'open' }
    | { type: 'tick'; ms: number };
  const index = fc.nat({ max: 20 });
  const stepArb: fc.Arbitrary<Step> = fc.oneof(
    { arbitrary: fc.constant<Step>({ type: 'join' }), weight: 3 },
    fc.record({ type: fc.constantFrom('leave' as const, 'drop' as const, 'evict' as const, 'expireSeat' as const), conn: index }),
    fc.record({ type: fc.constant('resume' as const), conn: index, session: index }),
    fc.record({ type: fc.constantFrom('expireHold' as const, 'kick' as const), session: index }),
    fc.record({ type: fc.constantFrom('pause' as const, 'open' as const) }),
    fc.record({ type: fc.constant('tick' as const), ms: fc.integer({ min: 1, max: 40_000 }) }),
  );

  /** The command a step stands for; timers carry the due time the state has for them (a stale one when none). */
  function commandFor(state: AdmissionState, step: Exclude<Step, { type: 'tick' }>, joined: number): AdmissionCommand {
    const pick = (i: number) => String(joined === 0 ? 0 : i % joined);
    switch (step.type) {
      case 'join':
        return join(String(joined));
      case 'leave':
      case 'drop':
        return { type: step.type, conn: pick(step.conn) };
      case 'expireSeat':
        return { type: 'expireSeat', conn: pick(step.conn), ttlUntil: state.seats.get(pick(step.conn))?.ttlUntil ?? 0 };
      case 'evict':
        return { type: 'evict', conn: pick(step.conn), reason: 'heartbeat_timeout' };
      case 'resume':
        return resume(pick(step.conn), `s${pick(step.session)}`);
      case 'expireHold': {
        const ticket = state.ticketBySession.get(`s${pick(step.session)}`);
        return expireHold(`s${pick(step.session)}`, (ticket === undefined ? null : state.queue.get(ticket)!.holdUntil) ?? 0);
      }
      case 'kick':
        return { type: 'kick', session: `s${pick(step.session)}` };
      case 'pause':
      case 'open':
        return { type: step.type };
    }
  }

  /** Everything `decide` could change, as plain data. */
  const snapshotOf = (state: AdmissionState) =>
    JSON.stringify([state.status, state.capacity, [...state.seats], [...state.queue.entries()], [...state.ticketByConn], [...state.ticketBySession]]);

  it('decide never changes the state; evolve keeps capacity, FIFO over live places, exact positions and due times', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }), fc.constantFrom(0, 10_000), fc.array(stepArb, { maxLength: 60, size: 'max' }), (capacity, sessionTtlMs, steps) => {
        const state = createAdmissionState({ capacity, sessionTtlMs });
        let joined = 0;
        let at = 0;
        for (const step of steps) {
          if (step.type === 'tick') {
            at += step.ms;
            continue;
          }
          const command = commandFor(state, step, joined);
          if (step.type === 'join') joined++;
          const before = snapshotOf(state);
          decide(state, command, at);
          expect(snapshotOf(state), `decide(${JSON.stringify(command)}) changed the state`).toBe(before);
          const held = new Set([...state.queue.entries()].filter(([, w]) => w.conn === null).map(([, w]) => w.session));
          for (const decision of when(state, command, at)) {
            if (decision.type === 'admitted') {
              expect(held.has(decision.session), `admitted held ${decision.session}`).toBe(false);
              expect(decision.ttlUntil).toBe(sessionTtlMs > 0 ? at + sessionTtlMs : null);
            }
            if (decision.type === 'held') expect(decision.expiresAt).toBe(at + state.resumeWindowMs);
            if (decision.type === 'queued') expect(decision.position).toBe(positionOfConn(state, decision.conn));
          }
          expect(state.seats.size).toBeLessThanOrEqual(capacity);
          for (const [conn, seat] of state.seats) {
            expect(state.seatBySession.get(seat.session)).toBe(conn);
            expect(isSeated(state, conn) && isQueued(state, conn)).toBe(false);
            expect(state.ticketBySession.has(seat.session), `${seat.session} is seated and in line`).toBe(false);
          }
          // A free seat beside a live waiter only while the room is paused.
          if (state.status === 'open' && state.seats.size < capacity) expect(state.queue.liveCount).toBe(0);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('admission rules: maintenance and notices', () => {
  it('maintenance evicts every seat with `maintenance`, keeps the line, and queues new arrivals', () => {
    const state = given({ capacity: 2 }, join('a'), join('b'), join('c'));
    expect(when(state, { type: 'maintenance' })).toEqual([
      { type: 'statusChanged', status: 'maintenance' },
      { type: 'evicted', conn: 'a', session: 'sa', from: 'seat', reason: 'maintenance' },
      { type: 'evicted', conn: 'b', session: 'sb', from: 'seat', reason: 'maintenance' },
    ]);
    expect(when(state, join('d'))).toEqual([{ type: 'queued', conn: 'd', session: 'sd', position: 2, queueLength: 2 }]);
    expect(seated(state)).toEqual([]);
    expect(line(state)).toEqual(['c', 'd']);
  });

  it('reopening after maintenance admits the line in order', () => {
    const state = given({ capacity: 1 }, join('a'), join('b'), join('c'), { type: 'maintenance' });
    expect(when(state, { type: 'open' })).toEqual([
      { type: 'statusChanged', status: 'open' },
      { type: 'admitted', conn: 'b', session: 'sb', at: 0, ttlUntil: null },
    ]);
    expect(line(state)).toEqual(['c']);
  });

  it('every status can be left for every other', () => {
    const statuses = ['open', 'paused', 'maintenance', 'closed'] as const;
    const commandFor = { open: { type: 'open' }, paused: { type: 'pause' }, maintenance: { type: 'maintenance' }, closed: { type: 'close' } } as const;
    for (const from of statuses) {
      for (const to of statuses) {
        const state = given({ capacity: 1, status: from });
        const decisions = when(state, commandFor[to]);
        expect(state.status, `${from} → ${to}`).toBe(to);
        expect(decisions.filter((d) => d.type === 'statusChanged')).toHaveLength(from === to ? 0 : 1);
      }
    }
  });

  it('a notice is decided only when it changes', () => {
    const state = given({ capacity: 1 });
    expect(when(state, { type: 'setNotice', notice: 'Doors at 8' })).toEqual([{ type: 'noticeChanged', notice: 'Doors at 8' }]);
    expect(when(state, { type: 'setNotice', notice: 'Doors at 8' })).toEqual([]);
    expect(state.notice).toBe('Doors at 8');
    expect(when(state, { type: 'setNotice', notice: null })).toEqual([{ type: 'noticeChanged', notice: null }]);
  });
});

describe('admission rules: admission rate', () => {
  const admittedAt = (conn: string, at: number) => ({ type: 'admitted', conn, session: `s${conn}`, at, ttlUntil: null }) as const;

  it('at 2 per second, a burst of 2 walks in, then one every 500 ms even with free seats', () => {
    const state = createAdmissionState({ capacity: 10, admissionRate: 2 });
    expect(when(state, join('a'), 1000)).toEqual([admittedAt('a', 1000)]);
    expect(when(state, join('b'), 1000)).toEqual([admittedAt('b', 1000)]);
    expect(when(state, join('c'), 1000)).toEqual([
      { type: 'queued', conn: 'c', session: 'sc', position: 1, queueLength: 1 },
      { type: 'paced', dueAt: 1500 },
    ]);
    // The promotion the room asked for is not asked again for the same due time.
    expect(when(state, join('d'), 1200)).toEqual([{ type: 'queued', conn: 'd', session: 'sd', position: 2, queueLength: 2 }]);
    expect(when(state, { type: 'promote' }, 1499)).toEqual([]);
    expect(when(state, { type: 'promote' }, 1500)).toEqual([admittedAt('c', 1500), { type: 'paced', dueAt: 2000 }]);
    expect(when(state, { type: 'promote' }, 2000)).toEqual([admittedAt('d', 2000)]);
  });

  it('at 1 per second the bucket holds one admission: an idle room admits one at once, then one a second', () => {
    const state = createAdmissionState({ capacity: 10, admissionRate: 1 });
    expect(when(state, join('a'), 5000)).toEqual([admittedAt('a', 5000)]);
    expect(when(state, join('b'), 5999)).toEqual([
      { type: 'queued', conn: 'b', session: 'sb', position: 1, queueLength: 1 },
      { type: 'paced', dueAt: 6000 },
    ]);
    expect(when(state, { type: 'promote' }, 6000)).toEqual([admittedAt('b', 6000)]);
  });

  it('a rate of 0 is no limit, and a rate set at run time paces from then on', () => {
    const state = createAdmissionState({ capacity: 10 });
    for (const conn of ['a', 'b', 'c']) expect(when(state, join(conn))).toEqual([admittedAt(conn, 0)]);
    expect(when(state, { type: 'setAdmissionRate', admissionRate: 1 })).toEqual([{ type: 'admissionRateChanged', admissionRate: 1 }]);
    expect(when(state, join('d'), 10_000)).toEqual([admittedAt('d', 10_000)]);
    expect(when(state, join('e'), 10_000)[1]).toEqual({ type: 'paced', dueAt: 11_000 });
  });

  it('never admits faster than the rate, whatever the arrivals, and the fold of the decisions paces the same', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 1, maxLength: 60 }), (rate, gaps) => {
        const state = createAdmissionState({ capacity: 1000, admissionRate: rate });
        const refold = createAdmissionState({ capacity: 1000, admissionRate: rate });
        const times: number[] = [];
        let t = 0;
        gaps.forEach((gap, i) => {
          t += gap;
          const decisions = [...when(state, join(`c${i}`), t), ...when(state, { type: 'promote' }, t)];
          for (const d of decisions) {
            evolve(refold, d);
            if (d.type === 'admitted') times.push(d.at);
          }
        });
        // Any window of one second holds at most max(1, rate) + rate admissions (a full bucket plus its refill).
        for (let i = 0; i < times.length; i++) {
          const inWindow = times.filter((x) => x >= times[i]! && x < times[i]! + 1000).length;
          expect(inWindow).toBeLessThanOrEqual(Math.max(1, rate) + rate);
        }
        expect(refold.pacingNextAt).toBe(state.pacingNextAt);
      }),
    );
  });
});

describe('admission rules: priority', () => {
  const joinWith = (conn: string, priority: number): AdmissionCommand => ({ type: 'join', conn, session: `s${conn}`, priority });

  it('a higher priority is placed ahead of lower ones, FIFO within its own, and the others move back', () => {
    const state = given({ capacity: 1 }, join('a'), join('b'), join('c'));
    expect(when(state, joinWith('v', 5))).toEqual([{ type: 'queued', conn: 'v', session: 'sv', position: 1, queueLength: 3, priority: 5 }]);
    expect(when(state, joinWith('w', 5))).toEqual([{ type: 'queued', conn: 'w', session: 'sw', position: 2, queueLength: 4, priority: 5 }]);
    expect(when(state, joinWith('x', 1))).toEqual([{ type: 'queued', conn: 'x', session: 'sx', position: 3, queueLength: 5, priority: 1 }]);
    expect(line(state)).toEqual(['v', 'w', 'x', 'b', 'c']);
    expect(positionOfConn(state, 'b')).toBe(4);
    expect(when(state, leave('a'))).toEqual([
      { type: 'released', conn: 'a', session: 'sa', from: 'seat', reason: 'left' },
      { type: 'admitted', conn: 'v', session: 'sv', at: 0, ttlUntil: null },
    ]);
  });

  it('priority 0 is the default and is not recorded', () => {
    const state = given({ capacity: 0 });
    expect(when(state, joinWith('a', 0))).toEqual([{ type: 'queued', conn: 'a', session: 'sa', position: 1, queueLength: 1 }]);
  });

  it('a held priority place keeps its rank and a resume takes it back there', () => {
    const state = given({ capacity: 0 }, join('a'), joinWith('v', 3), drop('v'));
    expect(line(state)).toEqual(['held:sv', 'a']);
    expect(when(state, { type: 'join', conn: 'v2', session: 'sv2', resume: 'sv' })).toEqual([
      { type: 'resumed', conn: 'v2', session: 'sv', replacedSession: null, replacedConn: null, position: 1, queueLength: 2 },
    ]);
  });
});

describe('admission rules: pre-queue and the draw', () => {
  const seed = '0123456789abcdef0123456789abcdef';

  it('a scheduled room queues arrivals and admits no one until the draw opens it', () => {
    const state = createAdmissionState({ capacity: 1 });
    expect(when(state, { type: 'schedule', opensAt: 60_000 })).toEqual([{ type: 'scheduled', opensAt: 60_000 }]);
    expect(state.status).toBe('scheduled');
    expect(when(state, join('a'))).toEqual([{ type: 'queued', conn: 'a', session: 'sa', position: 1, queueLength: 1 }]);
    for (const conn of ['b', 'c', 'd']) when(state, join(conn));
    expect(seated(state)).toEqual([]);
    const decisions = when(state, { type: 'draw', drawSeed: seed }, 60_000);
    expect(decisions.slice(0, 2)).toEqual([{ type: 'drawn', drawSeed: seed }, { type: 'statusChanged', status: 'open' }]);
    expect(decisions[2]).toMatchObject({ type: 'admitted' });
    expect(state.opensAt).toBeNull();
    // Later arrivals queue behind the whole drawn pre-queue.
    expect(when(state, join('e'), 60_001)).toEqual([{ type: 'queued', conn: 'e', session: 'se', position: 4, queueLength: 4 }]);
    expect(line(state).at(-1)).toBe('e');
  });

  it('the same seed draws the same order; the fold of the decisions rebuilds it', () => {
    const order = (drawSeed: string) => {
      const state = given({ capacity: 0 }, { type: 'schedule', opensAt: 1 }, ...['a', 'b', 'c', 'd', 'e', 'f'].map((c) => join(c)));
      const refold = createAdmissionState({ capacity: 0 });
      const decisions = [
        ...settle(createAdmissionState({ capacity: 0 }), { type: 'schedule', opensAt: 1 }, 0),
      ];
      for (const d of decisions) evolve(refold, d);
      for (const c of ['a', 'b', 'c', 'd', 'e', 'f']) for (const d of decide(refold, join(c), 0)) evolve(refold, d);
      for (const d of when(state, { type: 'draw', drawSeed })) evolve(refold, d);
      expect(line(refold)).toEqual(line(state));
      return line(state);
    };
    expect(order(seed)).toEqual(order(seed));
    expect(order(seed)).not.toEqual(order('fedcba9876543210fedcba9876543210'));
    expect([...order(seed)].sort()).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
  });

  it('the draw keeps priorities first and a held place drawn like any other; positions stay exact', () => {
    const state = given({ capacity: 0 }, { type: 'schedule', opensAt: 1 }, join('a'), { type: 'join', conn: 'v', session: 'sv', priority: 2 }, join('b'), drop('b'), join('c'));
    when(state, { type: 'draw', drawSeed: seed });
    expect(line(state)[0]).toBe('v');
    expect([...line(state)].sort()).toEqual(['a', 'c', 'held:sb', 'v']);
    line(state).forEach((place, i) => {
      if (!place.startsWith('held:')) expect(positionOfConn(state, place)).toBe(i + 1);
    });
  });

  it('an operator may open early (drawing with the seed given) or pause; a draw while paused only draws', () => {
    const early = given({ capacity: 1 }, { type: 'schedule', opensAt: 1 }, join('a'), join('b'));
    expect(when(early, { type: 'open', drawSeed: seed }).slice(0, 2)).toEqual([{ type: 'drawn', drawSeed: seed }, { type: 'statusChanged', status: 'open' }]);
    const paused = given({ capacity: 1 }, { type: 'schedule', opensAt: 1 }, join('a'), join('b'), { type: 'pause' });
    expect(when(paused, { type: 'draw', drawSeed: seed })).toEqual([{ type: 'drawn', drawSeed: seed }]);
    expect(paused.status).toBe('paused');
    expect(when(paused, { type: 'draw', drawSeed: seed })).toEqual([]);
  });

  it('draws every order of a small pre-queue equally often (chi-square over 24,000 seeded draws)', () => {
    const members = ['a', 'b', 'c', 'd'];
    const counts = new Map<string, number>();
    const draws = 24_000;
    // Fixed seeds, so the test is the same every run: seed i is i in hex, padded to 32 digits.
    for (let i = 0; i < draws; i++) {
      const state = given({ capacity: 0 }, { type: 'schedule', opensAt: 1 }, ...members.map((c) => join(c)));
      when(state, { type: 'draw', drawSeed: i.toString(16).padStart(32, '0') });
      const key = line(state).join('');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    expect(counts.size).toBe(24);
    const expected = draws / 24;
    const chiSquare = [...counts.values()].reduce((sum, observed) => sum + (observed - expected) ** 2 / expected, 0);
    // 23 degrees of freedom: the 0.999 quantile is 49.73, so a fair draw passes 999 times in 1000.
    expect(chiSquare).toBeLessThan(49.73);
    // Each member is first a quarter of the time, within 3%.
    for (const member of members) {
      const first = [...counts].filter(([order]) => order.startsWith(member)).reduce((n, [, c]) => n + c, 0);
      expect(Math.abs(first / draws - 0.25)).toBeLessThan(0.03);
    }
  });
});

describe('admission rules: seats that follow the visitor to the site', () => {
  const site = (capacity: number) => createAdmissionState({ capacity, siteSessions: true, siteSessionTimeoutMs: 60_000 });

  it('a seated drop keeps the seat until the timeout; the line waits for it', () => {
    const state = site(1);
    when(state, join('a'));
    when(state, join('b'));
    expect(when(state, drop('a'), 1000)).toEqual([{ type: 'seatKept', conn: 'a', session: 'sa', until: 61_000 }]);
    expect(seated(state)).toEqual(['a']);
    expect(line(state)).toEqual(['b']);
    expect(when(state, drop('a'), 2000)).toEqual([]);
  });

  it('a refresh moves the deadline on; only the timer of the latest refresh expires it', () => {
    const state = site(1);
    when(state, join('a'));
    when(state, join('b'));
    when(state, drop('a'), 1000);
    expect(when(state, { type: 'refreshSite', session: 'sa' }, 30_000)).toEqual([{ type: 'siteRefreshed', conn: 'a', session: 'sa', until: 90_000 }]);
    expect(when(state, { type: 'expireSiteSession', session: 'sa', until: 61_000 }, 61_000)).toEqual([]);
    expect(when(state, { type: 'expireSiteSession', session: 'sa', until: 90_000 }, 90_000)).toEqual([
      { type: 'released', conn: 'a', session: 'sa', from: 'seat', reason: 'site_expired' },
      { type: 'admitted', conn: 'b', session: 'sb', at: 90_000, ttlUntil: null },
    ]);
  });

  it('a release gives the seat to the head at once; a released, kicked or expired session refreshes no more', () => {
    const state = site(1);
    when(state, join('a'));
    when(state, join('b'));
    when(state, drop('a'), 1000);
    expect(when(state, { type: 'releaseSite', session: 'sa' }, 2000)).toEqual([
      { type: 'released', conn: 'a', session: 'sa', from: 'seat', reason: 'site_released' },
      { type: 'admitted', conn: 'b', session: 'sb', at: 2000, ttlUntil: null },
    ]);
    expect(when(state, { type: 'refreshSite', session: 'sa' }, 3000)).toEqual([]);
    when(state, drop('b'), 3000);
    expect(when(state, { type: 'kick', session: 'sb' }, 4000)).toEqual([{ type: 'evicted', conn: 'b', session: 'sb', from: 'seat', reason: 'kicked' }]);
    expect(when(state, { type: 'refreshSite', session: 'sb' }, 5000)).toEqual([]);
  });

  it('without site sessions, or while the page is still open, nothing is kept or refreshed', () => {
    const plain = given({ capacity: 1 }, join('a'));
    expect(when(plain, drop('a'))).toEqual([{ type: 'released', conn: 'a', session: 'sa', from: 'seat', reason: 'dropped' }]);
    const open = site(1);
    when(open, join('a'));
    expect(when(open, { type: 'refreshSite', session: 'sa' })).toEqual([]);
    expect(when(open, { type: 'releaseSite', session: 'sa' })).toEqual([]);
    expect(when(open, leave('a'))).toEqual([{ type: 'released', conn: 'a', session: 'sa', from: 'seat', reason: 'left' }]);
  });
});
