import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isInputRecord } from '../../src/log/event-record.js';
import { replay } from '../../src/log/replay.js';
import { RoomModel } from '../support/room-invariants.js';
import { clientCloseCodes, faultReasons } from '../support/room-steps.js';
import { createSimulatedRoom } from '../support/simulated-room.js';

type Step =
  /** A new connection; `priority` above 0 as a verified join ticket gives it. */
  | { kind: 'connect'; priority: number }
  /** A new connection presenting a resume token in its upgrade URL (a forged one reads as null). */
  | { kind: 'return'; target: number; forged: boolean }
  | { kind: 'ping'; who: number }
  | { kind: 'pong'; who: number }
  | { kind: 'leave'; who: number }
  | { kind: 'close'; who: number; code: number }
  /** The server closes a connection for what the client sent (binary frame, flood, protocol error…). */
  | { kind: 'fault'; who: number; reason: (typeof faultReasons)[number] }
  | { kind: 'resume'; who: number; target: number; forged: boolean }
  | { kind: 'advance'; ms: number }
  | { kind: 'capacity'; capacity: number }
  | { kind: 'pause' }
  | { kind: 'open' }
  | { kind: 'kick'; target: number }
  | { kind: 'maxQueue'; maxQueue: number }
  | { kind: 'maintenance' }
  | { kind: 'notice'; notice: string | null }
  | { kind: 'rate'; admissionRate: number }
  | { kind: 'draw'; seed: string }
  /** The protected site refreshes or releases a session's seat (site sessions). */
  | { kind: 'site'; target: number; release: boolean }
  | { kind: 'closeRoom' }
  /** A signed-in user connects: a second connection of the user takes the first one's place or seat over. */
  | { kind: 'signIn'; user: number };

const who = fc.nat({ max: 40 });

export const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(0, 0, 0, 1, 2).map((priority) => ({ kind: 'connect' as const, priority })) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('return' as const), target: who, forged: fc.boolean() }) },
  { weight: 2, arbitrary: fc.nat({ max: 2 }).map((user) => ({ kind: 'signIn' as const, user })) },
  { weight: 4, arbitrary: who.map((w) => ({ kind: 'ping' as const, who: w })) },
  { weight: 1, arbitrary: who.map((w) => ({ kind: 'pong' as const, who: w })) },
  { weight: 2, arbitrary: who.map((w) => ({ kind: 'leave' as const, who: w })) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('close' as const), who, code: fc.constantFrom(...clientCloseCodes) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('fault' as const), who, reason: fc.constantFrom(...faultReasons) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('resume' as const), who, target: who, forged: fc.boolean() }) },
  { weight: 3, arbitrary: fc.constantFrom(100, 1000, 1900, 2500, 3100, 16_000, 31_000).map((ms) => ({ kind: 'advance' as const, ms })) },
  { weight: 1, arbitrary: fc.nat({ max: 6 }).map((capacity) => ({ kind: 'capacity' as const, capacity })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'pause' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'open' as const }) },
  { weight: 1, arbitrary: who.map((target) => ({ kind: 'kick' as const, target })) },
  { weight: 1, arbitrary: fc.nat({ max: 4 }).map((maxQueue) => ({ kind: 'maxQueue' as const, maxQueue })) },
  { weight: 1, arbitrary: fc.nat({ max: 4 }).map((n): Step => (n === 0 ? { kind: 'maintenance' } : { kind: 'open' })) },
  { weight: 1, arbitrary: fc.constantFrom(null, 'Doors at 8', '').map((notice) => ({ kind: 'notice' as const, notice })) },
  { weight: 1, arbitrary: fc.constantFrom(0, 1, 2, 5).map((admissionRate) => ({ kind: 'rate' as const, admissionRate })) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('site' as const), target: who, release: fc.boolean() }) },
  { weight: 1, arbitrary: fc.stringMatching(/^[0-9a-f]{32}$/).map((seed) => ({ kind: 'draw' as const, seed })) },
  // Closing ends every seat and place, so it is rare: most runs should exercise an open room.
  { weight: 1, arbitrary: fc.nat({ max: 9 }).map((n): Step => (n === 0 ? { kind: 'closeRoom' } : { kind: 'ping', who: n })) },
);

/** Runs steps against a simulated room; returns the room and the model for the caller's checks. */
export function createStepRunner(capacity: number, sessionTtlMs = 0, admissionRate = 0, scheduled = false, siteSessions = false) {
  const room = createSimulatedRoom({ capacity, resumeWindowMs: 30_000, queuePingMs: 15_000, sessionTtlMs, admissionRate, siteSessions, siteSessionTimeoutMs: 20_000 });
  const model = new RoomModel(capacity, admissionRate);
  // A room that opens later gathers a pre-queue until a `draw` step (or an operator's open) opens it.
  if (scheduled) room.runtime.configure({ type: 'schedule', opensAt: 1_000_000 });
  const conns: string[] = [];
  const sessions: string[] = [];
  const pick = <T>(list: T[], i: number) => (list.length === 0 ? undefined : list[i % list.length]);
  const apply = (step: Step) => {
    switch (step.kind) {
      case 'connect': {
        const n = conns.length + 1;
        conns.push(`c${n}`);
        sessions.push(`s${n}`);
        room.runtime.connect(`c${n}`, `s${n}`, undefined, step.priority);
        break;
      }
      case 'signIn': {
        const n = conns.length + 1;
        conns.push(`c${n}`);
        sessions.push(`s${n}`);
        room.runtime.connect(`c${n}`, `s${n}`, undefined, 0, { user: `user${step.user}`, name: `User ${step.user}`, authenticated: true });
        break;
      }
      case 'return': {
        const session = pick(sessions, step.target);
        const n = conns.length + 1;
        conns.push(`c${n}`);
        sessions.push(`s${n}`);
        room.runtime.connect(`c${n}`, `s${n}`, step.forged || !session ? null : session);
        break;
      }
      case 'ping': {
        const conn = pick(conns, step.who);
        if (conn) room.runtime.message(conn, { type: 'ping' });
        break;
      }
      case 'pong': {
        const conn = pick(conns, step.who);
        if (conn) room.runtime.pong(conn);
        break;
      }
      case 'leave': {
        const conn = pick(conns, step.who);
        if (conn) room.runtime.message(conn, { type: 'leave' });
        break;
      }
      case 'close': {
        const conn = pick(conns, step.who);
        if (conn && room.runtime.connectionState(conn)) {
          model.closed.add(conn);
          room.runtime.closed(conn, step.code);
        }
        break;
      }
      case 'fault': {
        const conn = pick(conns, step.who);
        if (conn && room.runtime.connectionState(conn)) {
          // From the moment the server decides to close, the connection holds nothing, answered or not.
          model.closed.add(conn);
          room.runtime.fault(conn, step.reason);
        }
        break;
      }
      case 'resume': {
        const conn = pick(conns, step.who);
        const session = pick(sessions, step.target);
        if (conn && session) room.runtime.message(conn, { type: 'resume', session: step.forged ? null : session });
        break;
      }
      case 'advance':
        room.advance(step.ms);
        break;
      case 'capacity':
        room.runtime.configure({ type: 'setCapacity', capacity: step.capacity });
        break;
      case 'pause':
        room.runtime.configure({ type: 'pause' });
        break;
      case 'open':
        room.runtime.configure({ type: 'open' });
        break;
      case 'kick': {
        const session = pick(sessions, step.target);
        if (session) room.runtime.configure({ type: 'kick', session });
        break;
      }
      case 'maxQueue':
        room.runtime.configure({ type: 'setMaxQueue', maxQueue: step.maxQueue });
        break;
      case 'maintenance':
        room.runtime.configure({ type: 'maintenance' });
        break;
      case 'notice':
        room.runtime.configure({ type: 'setNotice', notice: step.notice });
        break;
      case 'rate':
        room.runtime.configure({ type: 'setAdmissionRate', admissionRate: step.admissionRate });
        break;
      case 'draw':
        room.runtime.configure({ type: 'draw', drawSeed: step.seed });
        break;
      case 'site': {
        const session = pick(sessions, step.target);
        if (session) room.runtime.configure({ type: step.release ? 'releaseSite' : 'refreshSite', session });
        break;
      }
      case 'closeRoom':
        room.runtime.configure({ type: 'close' });
        break;
    }
    // The edge answers a close it started once the peer completes it; model that at once.
    for (const [conn] of room.sockets.closedWith) {
      if (room.runtime.connectionState(conn)?.matches('closing')) {
        model.closed.add(conn);
        room.runtime.closed(conn, room.sockets.closedWith.get(conn)!);
      }
    }
    model.absorb(room.records);
    model.check(room.runtime, room.clock.now());
  };
  return { room, model, apply };
}

describe('room runtime under random interleavings', () => {
  it('keeps every invariant after every step, and its log replays to the same decisions', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 5 }), fc.constantFrom(0, 5000), fc.constantFrom(0, 0, 1, 3), fc.boolean(), fc.boolean(), fc.array(stepArbitrary, { size: 'max', maxLength: 120 }), (capacity, sessionTtlMs, admissionRate, scheduled, siteSessions, steps) => {
        const { room, apply } = createStepRunner(capacity, sessionTtlMs, admissionRate, scheduled, siteSessions);
        for (const step of steps) apply(step);
        const result = replay(JSON.parse(JSON.stringify(room.records)));
        expect(result).toMatchObject({ ok: true });
        expect(result.decisions).toBe(room.records.filter((r) => !isInputRecord(r)).length);
        room.runtime.stop();
      }),
      { numRuns: 200 },
    );
  });
});

