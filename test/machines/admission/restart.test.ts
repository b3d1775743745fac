import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { copyAdmission, restoreAdmission, snapshotOfAdmission } from '../../../machines/admission/admission-snapshot.js';
import { createAdmissionState, isHeldSeat, positionOfConn, type AdmissionState } from '../../../machines/admission/admission-state.js';
import type { AdmissionCommand, AdmissionDecision } from '../../../machines/admission/admission-types.js';
import { settle } from '../../../machines/admission/step.js';
import { evolve } from '../../../machines/admission/evolve.js';

// A person `x` joins on connection `x` with session `sx`; `x2` is the connection it comes back on.
const join = (conn: string, session = `s${conn}`): AdmissionCommand => ({ type: 'join', conn, session });

function given(capacity: number, ...commands: AdmissionCommand[]): AdmissionState {
  const state = createAdmissionState({ capacity, resumeWindowMs: 1000 });
  for (const command of commands) settle(state, command, 0);
  return state;
}

const line = (state: AdmissionState) => [...state.queue.entries()].map(([, w]) => `${w.session}${w.conn === null ? '(held)' : ''}`);

describe('a restart holds every place and seat', () => {
  it('holds the line in order and every seat until now + resumeWindowMs, with one decision', () => {
    const state = given(1, join('a'), join('b'), join('c'), { type: 'drop', conn: 'c' });
    const decisions = settle(state, { type: 'holdForRestart' }, 500);
    expect(decisions).toEqual([{ type: 'heldForRestart', expiresAt: 1500 }]);
    expect(line(state)).toEqual(['sb(held)', 'sc(held)']);
    expect(state.queue.liveCount).toBe(0);
    expect(state.ticketByConn.size).toBe(0);
    expect(isHeldSeat(state.seats.get('a')!)).toBe(true);
  });

  it('never gives a held seat to anyone else while it is held, and frees it when the hold expires', () => {
    const state = given(1, join('a'), { type: 'holdForRestart' }, join('d'));
    expect([...state.seats.keys()]).toEqual(['a']);
    expect(positionOfConn(state, 'd')).toBe(1);
    const decisions = settle(state, { type: 'expireRestartHolds', expiresAt: 1000 }, 1000);
    expect(decisions).toEqual([
      { type: 'released', conn: 'a', session: 'sa', from: 'seat', reason: 'hold_expired' },
      expect.objectContaining({ type: 'admitted', conn: 'd' }),
    ]);
  });

  it('a stale restart timer decides nothing', () => {
    const state = given(1, join('a'), { type: 'holdForRestart' });
    expect(settle(state, { type: 'expireRestartHolds', expiresAt: 999 }, 999)).toEqual([]);
  });

  it('gives a held seat back to its session on join with resume, keeping its session limit', () => {
    const state = given(1, join('a'), { type: 'holdForRestart' });
    const decisions = settle(state, { type: 'join', conn: 'a2', session: 'fresh', resume: 'sa' }, 10);
    expect(decisions).toEqual([{ type: 'seatResumed', conn: 'a2', session: 'sa', replacedConn: 'a', replacedSession: null, ttlUntil: null }]);
    expect(state.seats.get('a2')).toEqual({ session: 'sa', since: 0, ttlUntil: null });
    expect(state.seatBySession.get('sa')).toBe('a2');
  });

  it('gives a held seat back on a resume message, giving up the fresh place at the tail', () => {
    const state = given(1, join('a'), { type: 'holdForRestart' }, join('a2', 'fresh'));
    const decisions = settle(state, { type: 'resume', conn: 'a2', session: 'sa' }, 10);
    expect(decisions).toEqual([{ type: 'seatResumed', conn: 'a2', session: 'sa', replacedConn: 'a', replacedSession: 'fresh', ttlUntil: null }]);
    expect(state.queue.size).toBe(0);
    expect([...state.seats.keys()]).toEqual(['a2']);
  });

  it('a held place in line comes back by resume as after a drop', () => {
    const state = given(1, join('a'), join('b'), { type: 'holdForRestart' });
    expect(settle(state, { type: 'join', conn: 'b2', session: 'fresh', resume: 'sb' }, 10)[0]).toMatchObject({ type: 'resumed', session: 'sb', position: 1 });
  });
});

describe('admission snapshots', () => {
  const commands = fc.array(
    fc.oneof(
      fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f').map((conn): AdmissionCommand => ({ type: 'join', conn, session: `s${conn}` })),
      fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f').map((conn): AdmissionCommand => ({ type: 'drop', conn })),
      fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f').map((conn): AdmissionCommand => ({ type: 'leave', conn })),
      fc.constant<AdmissionCommand>({ type: 'holdForRestart' }),
      fc.constant<AdmissionCommand>({ type: 'pause' }),
      fc.integer({ min: 0, max: 4 }).map((capacity): AdmissionCommand => ({ type: 'setCapacity', capacity })),
      // What a sale adds: priorities, notices, pacing, maintenance, reopening, seats kept for the site.
      fc
        .record({ conn: fc.constantFrom('p', 'q', 'r'), priority: fc.integer({ min: 1, max: 3 }) })
        .map(({ conn, priority }): AdmissionCommand => ({ type: 'join', conn, session: `s${conn}`, priority })),
      fc.constantFrom<string | null>('back soon', null).map((notice): AdmissionCommand => ({ type: 'setNotice', notice })),
      fc.integer({ min: 0, max: 3 }).map((admissionRate): AdmissionCommand => ({ type: 'setAdmissionRate', admissionRate })),
      fc.constantFrom<AdmissionCommand>({ type: 'maintenance' }, { type: 'open' }),
      fc.constantFrom('a', 'b', 'p').map((session): AdmissionCommand => ({ type: 'refreshSite', session: `s${session}` })),
    ),
    { maxLength: 30 },
  );

  it('restore rebuilds a state that decides exactly as the original (property)', () => {
    fc.assert(
      fc.property(commands, commands, (before, after) => {
        // Seats follow visitors to the site here, so a dropped seat is kept: snapshots must carry that too.
        const original = createAdmissionState({ capacity: 2, resumeWindowMs: 1000, siteSessions: true });
        for (const command of before) settle(original, command, 0);
        const restored = restoreAdmission(JSON.parse(JSON.stringify(snapshotOfAdmission(original))));
        expect(snapshotOfAdmission(restored)).toEqual(snapshotOfAdmission(original));
        const copy = copyAdmission(original);
        const decisions = (state: AdmissionState): AdmissionDecision[] => after.flatMap((command) => settle(state, command, 5));
        const copyBefore = snapshotOfAdmission(copy);
        expect(decisions(restored)).toEqual(decisions(original));
        expect(snapshotOfAdmission(copy)).toEqual(copyBefore);
        // The copy shares nothing: changing it leaves the original as it was.
        const originalBefore = snapshotOfAdmission(original);
        settle(copy, { type: 'join', conn: 'z', session: 'sz' }, 9);
        expect(snapshotOfAdmission(original)).toEqual(originalBefore);
      }),
      { numRuns: 200 },
    );
  });
});

describe('held seats under any sequence of commands (property)', () => {
  // Commands name people by letter; each join is a fresh connection with a fresh session, as on the wire.
  const person = fc.constantFrom('a', 'b', 'c', 'd', 'e');
  type Step =
    | { type: 'join'; who: string; resume?: string }
    | { type: 'resume' | 'drop' | 'leave'; who: string; whose?: string }
    | { type: 'kick'; whose: string }
    | { type: 'holdForRestart' }
    | { type: 'expireRestartHolds' }
    | { type: 'setCapacity'; capacity: number };
  const step: fc.Arbitrary<Step> = fc.oneof(
    person.map((who): Step => ({ type: 'join', who })),
    fc.tuple(person, person).map(([who, resume]): Step => ({ type: 'join', who, resume })),
    fc.tuple(person, person).map(([who, whose]): Step => ({ type: 'resume', who, whose })),
    person.map((who): Step => ({ type: 'drop', who })),
    person.map((who): Step => ({ type: 'leave', who })),
    person.map((whose): Step => ({ type: 'kick', whose })),
    fc.constant<Step>({ type: 'holdForRestart' }),
    fc.constant<Step>({ type: 'expireRestartHolds' }),
    fc.integer({ min: 0, max: 3 }).map((capacity): Step => ({ type: 'setCapacity', capacity })),
  );

  /** The command a step is, given each person's latest connection and session. */
  function commandOf(step: Step, at: number, conns: Map<string, string>, sessions: Map<string, string>, lastHold: number): AdmissionCommand {
    const conn = (who: string) => conns.get(who) ?? `${who}-none`;
    const session = (who: string) => sessions.get(who) ?? `s${who}-none`;
    switch (step.type) {
      case 'join': {
        conns.set(step.who, `${step.who}${at}`);
        const fresh = `s${step.who}${at}`;
        const resume = step.resume === undefined ? {} : { resume: session(step.resume) };
        if (step.resume === undefined) sessions.set(step.who, fresh);
        return { type: 'join', conn: conn(step.who), session: fresh, ...resume };
      }
      case 'resume':
        return { type: 'resume', conn: conn(step.who), session: session(step.whose!) };
      case 'drop':
      case 'leave':
        return { type: step.type, conn: conn(step.who) };
      case 'kick':
        return { type: 'kick', session: session(step.whose) };
      case 'expireRestartHolds':
        // The restart timer names the latest restart hold, as the room's own timer would.
        return { type: 'expireRestartHolds', expiresAt: lastHold };
      default:
        return step;
    }
  }

  it('a held seat stays its session’s until resumed, expired or kicked, and no one is admitted over capacity', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60, size: 'max' }), (steps) => {
        const state = createAdmissionState({ capacity: 2, resumeWindowMs: 1000 });
        const conns = new Map<string, string>();
        const sessions = new Map<string, string>();
        let lastHold = -1;
        steps.forEach((step, at) => {
          const heldBefore = [...state.seats.values()].filter(isHeldSeat).map((seat) => seat.session);
          const seatsBefore = state.seats.size;
          const decisions = settle(state, commandOf(step, at, conns, sessions, lastHold), at);
          for (const decision of decisions) if (decision.type === 'heldForRestart') lastHold = decision.expiresAt;
          expect(state.seats.size).toBeLessThanOrEqual(Math.max(state.capacity, seatsBefore));
          for (const session of heldBefore) {
            const accounted = decisions.some((d) => (d.type === 'seatResumed' || d.type === 'released' || d.type === 'evicted') && d.session === session);
            if (!accounted) expect(state.seatBySession.has(session), `held seat of ${session}`).toBe(true);
          }
          for (const decision of decisions) if (decision.type === 'admitted') expect(heldBefore).not.toContain(decision.session);
          expect(state.seatBySession.size).toBe(state.seats.size);
          expect(state.ticketBySession.size).toBe(state.queue.size);
        });
      }),
      { numRuns: 300 },
    );
  });
});

describe('seatGraceMs', () => {
  it('holds a dropped seat for its session and gives it back on resume; no one else gets it meanwhile', () => {
    const state = createAdmissionState({ capacity: 1, seatGraceMs: 500 });
    settle(state, join('a'), 0);
    settle(state, join('b'), 0);
    expect(settle(state, { type: 'drop', conn: 'a' }, 100)).toEqual([{ type: 'seatHeld', conn: 'a', session: 'sa', expiresAt: 600 }]);
    expect(positionOfConn(state, 'b')).toBe(1);
    expect(settle(state, { type: 'join', conn: 'a2', session: 'fresh', resume: 'sa' }, 200)).toEqual([
      { type: 'seatResumed', conn: 'a2', session: 'sa', replacedConn: 'a', replacedSession: null, ttlUntil: null },
    ]);
    expect(settle(state, { type: 'expireSeatHold', session: 'sa', expiresAt: 600 }, 600)).toEqual([]);
  });

  it('releases the seat to the head of the line when the grace ends', () => {
    const state = createAdmissionState({ capacity: 1, seatGraceMs: 500 });
    settle(state, join('a'), 0);
    settle(state, join('b'), 0);
    settle(state, { type: 'drop', conn: 'a' }, 100);
    expect(settle(state, { type: 'expireSeatHold', session: 'sa', expiresAt: 600 }, 600)).toEqual([
      { type: 'released', conn: 'a', session: 'sa', from: 'seat', reason: 'hold_expired' },
      expect.objectContaining({ type: 'admitted', conn: 'b' }),
    ]);
  });

  it('without it a dropped seat is released at once, as in v1', () => {
    const state = given(1, join('a'));
    expect(settle(state, { type: 'drop', conn: 'a' }, 0)).toEqual([{ type: 'released', conn: 'a', session: 'sa', from: 'seat', reason: 'dropped' }]);
  });
});

describe('a cluster node that dies: only its connections are held', () => {
  it('holds the named connections\' places and seats, keeps everyone else live, and lets them resume', () => {
    // Capacity 2: a (dead node) and b seated; c (dead node) and d in line.
    const state = given(2, join('a'), join('b'), join('c'), join('d'));
    const decisions = settle(state, { type: 'holdForRestart', conns: ['a', 'c', 'gone'] }, 500);
    expect(decisions).toEqual([{ type: 'heldForRestart', expiresAt: 1500, conns: ['a', 'c'] }]);
    expect(line(state)).toEqual(['sc(held)', 'sd']);
    expect(isHeldSeat(state.seats.get('a')!)).toBe(true);
    expect(isHeldSeat(state.seats.get('b')!)).toBe(false);
    // A seat that frees passes the held place over; the held seat is never given away.
    settle(state, { type: 'leave', conn: 'b' }, 600);
    expect([...state.seats.keys()].sort()).toEqual(['a', 'd']);
    // Both come back on new connections: the seat, and the place in line (held places keep their order).
    expect(settle(state, { type: 'join', conn: 'a2', session: 'x', resume: 'sa' }, 700)).toEqual([expect.objectContaining({ type: 'seatResumed', conn: 'a2', session: 'sa' })]);
    expect(settle(state, { type: 'join', conn: 'c2', session: 'y', resume: 'sc' }, 700)).toEqual([expect.objectContaining({ type: 'resumed', conn: 'c2', session: 'sc', position: 1 })]);
  });

  it('decides nothing for connections that hold nothing live, so holding twice is harmless', () => {
    const state = given(1, join('a'), join('b'));
    settle(state, { type: 'holdForRestart', conns: ['b'] }, 0);
    expect(settle(state, { type: 'holdForRestart', conns: ['b'] }, 10)).toEqual([]);
    expect(settle(state, { type: 'holdForRestart', conns: [] }, 10)).toEqual([]);
  });

  it('snapshots and folds the same as it decides', () => {
    const state = given(1, join('a'), join('b'), join('c'));
    const copy = copyAdmission(state);
    const decisions = settle(state, { type: 'holdForRestart', conns: ['a', 'c'] }, 5);
    const folded = restoreAdmission(snapshotOfAdmission(copy));
    for (const decision of decisions) evolve(folded, decision);
    expect(snapshotOfAdmission(folded)).toEqual(snapshotOfAdmission(state));
  });
});
