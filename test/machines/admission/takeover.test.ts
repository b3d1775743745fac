import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createAdmissionState, type AdmissionState } from '../../../machines/admission/admission-state.js';
import { restoreAdmission, snapshotOfAdmission } from '../../../machines/admission/admission-snapshot.js';
import type { AdmissionCommand, AdmissionDecision } from '../../../machines/admission/admission-types.js';
import { decide, joinTakesBack } from '../../../machines/admission/decide.js';
import { evolve } from '../../../machines/admission/evolve.js';
import { settle } from '../../../machines/admission/step.js';

// Naming: connection `x` joins with session `sx`; users are `alice` and `bob`; `a2` is alice's second tab.

const join = (conn: string, user?: string, resume?: string): AdmissionCommand => ({
  type: 'join',
  conn,
  session: `s${conn}`,
  ...(user === undefined ? {} : { user }),
  ...(resume === undefined ? {} : { resume }),
});

/** Given decisions already made, when a command is decided, then these decisions. */
function spec(options: { capacity: number; seatGraceMs?: number }, given: AdmissionDecision[]) {
  const state = createAdmissionState(options);
  for (const decision of given) evolve(state, decision);
  return { state, when: (command: AdmissionCommand, at = 0) => ({ then: (expected: AdmissionDecision[]) => expect(decide(state, command, at)).toEqual(expected) }) };
}

const aliceSeated = { type: 'admitted', conn: 'a', session: 'sa', at: 0, ttlUntil: null, user: 'alice' } as const;
const aliceQueued = { type: 'queued', conn: 'a', session: 'sa', position: 1, queueLength: 1, user: 'alice' } as const;
const bobSeated = { type: 'admitted', conn: 'b', session: 'sb', at: 0, ttlUntil: null } as const;

describe('one place per user: given decisions, when a join, then decisions', () => {
  it('a first join of a user makes a place that names the user', () => {
    spec({ capacity: 1 }, []).when(join('a', 'alice')).then([{ ...aliceSeated }]);
    spec({ capacity: 1 }, [bobSeated]).when(join('a', 'alice')).then([{ ...aliceQueued }]);
  });

  it('a second connection of a seated user takes the seat over; the older connection is replaced', () => {
    spec({ capacity: 1 }, [aliceSeated])
      .when(join('a2', 'alice'))
      .then([{ type: 'seatResumed', conn: 'a2', session: 'sa', replacedConn: 'a', replacedSession: null, ttlUntil: null, user: 'alice' }]);
  });

  it('a second connection of a queued user takes the place in line over, at its position', () => {
    spec({ capacity: 1 }, [bobSeated, aliceQueued])
      .when(join('a2', 'alice'))
      .then([{ type: 'resumed', conn: 'a2', session: 'sa', replacedSession: null, replacedConn: 'a', position: 1, queueLength: 1, user: 'alice' }]);
  });

  it('a held place or held seat of the user is taken back with no resume token', () => {
    const held = { type: 'held', conn: 'a', session: 'sa', position: 1, expiresAt: 30_000 } as const;
    spec({ capacity: 1 }, [bobSeated, aliceQueued, held])
      .when(join('a2', 'alice'))
      .then([{ type: 'resumed', conn: 'a2', session: 'sa', replacedSession: null, replacedConn: null, position: 1, queueLength: 1, user: 'alice' }]);
    const seatHeld = { type: 'seatHeld', conn: 'a', session: 'sa', expiresAt: 5000 } as const;
    spec({ capacity: 1, seatGraceMs: 5000 }, [aliceSeated, seatHeld])
      .when(join('a2', 'alice'))
      .then([{ type: 'seatResumed', conn: 'a2', session: 'sa', replacedConn: 'a', replacedSession: null, ttlUntil: null, user: 'alice' }]);
  });

  it('another user, or a guest, is placed on its own', () => {
    spec({ capacity: 1 }, [aliceSeated]).when(join('b', 'bob')).then([{ type: 'queued', conn: 'b', session: 'sb', position: 1, queueLength: 1, user: 'bob' }]);
    spec({ capacity: 1 }, [aliceSeated]).when(join('g')).then([{ type: 'queued', conn: 'g', session: 'sg', position: 1, queueLength: 1 }]);
  });

  it("a resume token naming a user's place is refused to a guest and to another user", () => {
    spec({ capacity: 1 }, [bobSeated, aliceQueued])
      .when(join('g', undefined, 'sa'))
      .then([
        { type: 'queued', conn: 'g', session: 'sg', position: 2, queueLength: 2 },
        { type: 'resumeRefused', conn: 'g', session: 'sa' },
      ]);
    spec({ capacity: 1 }, [bobSeated, aliceQueued])
      .when(join('c', 'carol', 'sa'))
      .then([
        { type: 'queued', conn: 'c', session: 'sc', position: 2, queueLength: 2, user: 'carol' },
        { type: 'resumeRefused', conn: 'c', session: 'sa' },
      ]);
    spec({ capacity: 1 }, [bobSeated, aliceQueued, { type: 'queued', conn: 'g', session: 'sg', position: 2, queueLength: 2 }])
      .when({ type: 'resume', conn: 'g', session: 'sa' })
      .then([{ type: 'resumeRefused', conn: 'g', session: 'sa' }]);
  });

  it("a user resuming a guest's place makes it the user's", () => {
    const { state } = spec({ capacity: 1 }, [bobSeated, { type: 'queued', conn: 'g', session: 'sg', position: 1, queueLength: 1 }]);
    const decisions = settle(state, join('a', 'alice', 'sg'), 0);
    expect(decisions).toEqual([{ type: 'resumed', conn: 'a', session: 'sg', replacedSession: null, replacedConn: 'g', position: 1, queueLength: 1, user: 'alice' }]);
    expect(state.sessionByUser.get('alice')).toBe('sg');
  });
});

describe('one place per user: evolve', () => {
  it('a takeover moves the seat to the new connection and keeps one session for the user', () => {
    const state = createAdmissionState({ capacity: 1 });
    settle(state, join('a', 'alice'), 0);
    settle(state, join('a2', 'alice'), 0);
    expect([...state.seats.keys()]).toEqual(['a2']);
    expect(state.sessionByUser.get('alice')).toBe('sa');
    // The replaced connection's end decides nothing: the seat is no longer its own.
    expect(settle(state, { type: 'leave', conn: 'a' }, 0)).toEqual([]);
    settle(state, { type: 'leave', conn: 'a2' }, 0);
    expect(state.sessionByUser.size).toBe(0);
    expect(state.userBySession.size).toBe(0);
  });

  it('survives a snapshot', () => {
    const state = createAdmissionState({ capacity: 1 });
    settle(state, join('b'), 0);
    settle(state, join('a', 'alice'), 0);
    const restored = restoreAdmission(snapshotOfAdmission(state));
    expect(settle(restored, join('a2', 'alice'), 0)[0]).toMatchObject({ type: 'resumed', conn: 'a2', session: 'sa', replacedConn: 'a' });
  });
});

describe('one place per user: under random joins, leaves, drops, resumes, holds and takeovers', () => {
  type Step =
    | { type: 'join'; user: number | null; resume: number | null }
    | { type: 'leave' | 'drop' | 'evict'; conn: number }
    | { type: 'resume'; conn: number; session: number }
    | { type: 'expire'; session: number }
    | { type: 'restart' };
  const index = fc.nat({ max: 30 });
  const stepArb: fc.Arbitrary<Step> = fc.oneof(
    { arbitrary: fc.record({ type: fc.constant('join' as const), user: fc.option(fc.nat({ max: 3 })), resume: fc.option(index) }), weight: 4 },
    fc.record({ type: fc.constantFrom('leave' as const, 'drop' as const, 'evict' as const), conn: index }),
    fc.record({ type: fc.constant('resume' as const), conn: index, session: index }),
    fc.record({ type: fc.constant('expire' as const), session: index }),
    fc.constant<Step>({ type: 'restart' }),
  );

  function commandFor(state: AdmissionState, step: Step, joined: number): AdmissionCommand {
    const pick = (i: number) => String(joined === 0 ? 0 : i % joined);
    switch (step.type) {
      case 'join':
        return join(String(joined), step.user === null ? undefined : `user${step.user}`, step.resume === null ? undefined : `s${pick(step.resume)}`);
      case 'leave':
      case 'drop':
        return { type: step.type, conn: pick(step.conn) };
      case 'evict':
        return { type: 'evict', conn: pick(step.conn), reason: 'kicked' };
      case 'resume':
        return { type: 'resume', conn: pick(step.conn), session: `s${pick(step.session)}` };
      case 'expire': {
        // Fires whichever hold the session has, with its own due time (a stale timer otherwise).
        const session = `s${pick(step.session)}`;
        const ticket = state.ticketBySession.get(session);
        const seatConn = state.seatBySession.get(session);
        if (seatConn !== undefined) return { type: 'expireSeatHold', session, expiresAt: state.seats.get(seatConn)!.holdUntil ?? -1 };
        return { type: 'expireHold', session, expiresAt: ticket === undefined ? -1 : (state.queue.get(ticket)!.holdUntil ?? -1) };
      }
      case 'restart':
        return { type: 'holdForRestart' };
    }
  }

  /** Every session a user is bound to is a live seat or place, and each user has at most one. */
  function checkOnePlacePerUser(state: AdmissionState): void {
    const holders = new Map<string, number>();
    const ownerOf = (session: string) => state.userBySession.get(session);
    for (const seat of state.seats.values()) {
      const user = ownerOf(seat.session);
      if (user !== undefined) holders.set(user, (holders.get(user) ?? 0) + 1);
    }
    for (const [, waiter] of state.queue.entries()) {
      const user = ownerOf(waiter.session);
      if (user !== undefined) holders.set(user, (holders.get(user) ?? 0) + 1);
    }
    for (const [user, count] of holders) expect(count, `places of ${user}`).toBe(1);
    expect(state.userBySession.size).toBe(holders.size);
    expect(state.sessionByUser.size).toBe(holders.size);
    for (const [user, session] of state.sessionByUser) {
      expect(state.userBySession.get(session)).toBe(user);
      expect(state.seatBySession.has(session) || state.ticketBySession.has(session)).toBe(true);
    }
  }

  it('no user ever holds two places or seats, a join takes a place back exactly when joinTakesBack says, and a rebuilt room makes the same decisions', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }), fc.constantFrom(0, 5000), fc.array(stepArb, { maxLength: 60 }), (capacity, seatGraceMs, steps) => {
        const state = createAdmissionState({ capacity, seatGraceMs });
        const decided: AdmissionDecision[] = [];
        let joined = 0;
        for (const step of steps) {
          const command = commandFor(state, step, joined);
          // The arrival line's question, asked before the room decides: does this join take a seat or place back?
          const predicted = command.type === 'join' && command.resume !== undefined ? joinTakesBack(state, command.resume, command.user) : null;
          const decisions = settle(state, command, 0);
          if (predicted !== null) {
            const tookBack = decisions.some((d) => (d.type === 'resumed' || d.type === 'seatResumed') && d.conn === (command as { conn: string }).conn);
            expect(tookBack, JSON.stringify(command)).toBe(predicted);
          }
          decided.push(...decisions);
          if (step.type === 'join') joined++;
          checkOnePlacePerUser(state);
        }
        // The fold of the decisions alone gives the same users (what replay and recovery rely on).
        const folded = createAdmissionState({ capacity, seatGraceMs });
        for (const decision of decided) evolve(folded, decision);
        expect([...folded.sessionByUser]).toEqual([...state.sessionByUser]);
      }),
      { numRuns: 400 },
    );
  });
});
