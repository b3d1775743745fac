import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ChatDecision } from '../../machines/chat/chat-types.js';
import { replay } from '../../src/log/replay.js';
import { createSimulatedRoom } from '../support/simulated-room.js';

type Step =
  | { kind: 'connect' }
  /** A new connection taking back the seat a dropped one held (`seatGraceMs`): a handover of one person. */
  | { kind: 'return'; target: number }
  | { kind: 'leave'; who: number }
  | { kind: 'drop'; who: number }
  | { kind: 'say'; who: number; id: number }
  | { kind: 'typing'; who: number; state: boolean }
  | { kind: 'advance'; ms: number };

const who = fc.nat({ max: 7 });
const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ kind: 'connect' as const }) },
  { weight: 2, arbitrary: who.map((target) => ({ kind: 'return' as const, target })) },
  { weight: 1, arbitrary: who.map((w) => ({ kind: 'leave' as const, who: w })) },
  { weight: 2, arbitrary: who.map((w) => ({ kind: 'drop' as const, who: w })) },
  // Ids from a small pool, so retries (a used id again) are common.
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('say' as const), who, id: fc.nat({ max: 2 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('typing' as const), who, state: fc.boolean() }) },
  { weight: 2, arbitrary: fc.constantFrom(100, 2000, 4999, 5000, 6000).map((ms) => ({ kind: 'advance' as const, ms })) },
);

/** Runs the steps against a live room on a simulated clock; connections are numbered in order of arrival. */
function run(steps: Step[]) {
  const room = createSimulatedRoom({ chat: true, capacity: 4, seatGraceMs: 3000, heartbeatTimeoutMs: 1_000_000_000, heartbeatIntervalMs: 1000 });
  const sessions: string[] = [];
  const conns: string[] = [];
  const connect = (resume?: string) => {
    const n = conns.length;
    conns.push(`c${n}`);
    sessions.push(`s${n}`);
    room.runtime.connect(`c${n}`, `s${n}`, resume);
  };
  for (const step of steps) {
    const conn = 'who' in step ? conns[step.who] : undefined;
    switch (step.kind) {
      case 'connect':
        connect();
        break;
      case 'return':
        if (step.target < sessions.length) connect(sessions[step.target]);
        break;
      case 'leave':
        if (conn) room.runtime.message(conn, { type: 'leave' });
        break;
      case 'drop':
        if (conn) room.runtime.closed(conn, 1006);
        break;
      case 'say':
        if (conn) room.runtime.message(conn, { type: 'say', id: `m${step.id}`, text: `${conn} says ${step.id}` });
        break;
      case 'typing':
        if (conn) room.runtime.message(conn, { type: 'typing', state: step.state });
        break;
      case 'advance':
        room.advance(step.ms);
        break;
    }
  }
  return room;
}

const of = <K extends ChatDecision['type']>(decisions: ChatDecision[], type: K) => decisions.filter((d): d is Extract<ChatDecision, { type: K }> => d.type === type);

describe('a live room under random joins, leaves, drops, handovers, says, retries and typing', () => {
  it('orders every message by one seq from 1, stores each (user, id) once, and answers a retry with the original', () => {
    fc.assert(
      fc.property(fc.array(stepArbitrary, { minLength: 20, maxLength: 80 }), (steps) => {
        const room = run(steps);
        const decisions = room.sockets.chatDecisions;
        const said = of(decisions, 'said');
        expect(said.map((d) => d.seq)).toEqual(said.map((_, i) => i + 1));
        const byKey = new Map(said.map((d) => [`${d.user}/${d.id}`, d]));
        expect(byKey.size).toBe(said.length);
        const userOf = new Map(of(decisions, 'memberJoined').map((d) => [d.conn, d.user]));
        for (const repeat of of(decisions, 'sayRepeated')) {
          const original = said.find((d) => d.seq === repeat.seq)!;
          expect(original.id).toBe(repeat.id);
          // The retry came from the same person (a handover keeps the session, and so the user).
          expect(userOf.get(repeat.conn)).toBe(original.user);
        }
        room.runtime.stop();
      }),
      { numRuns: 150 },
    );
  });

  it('presence changes only with a person’s first and last connection, and matches the seated people', () => {
    fc.assert(
      fc.property(fc.array(stepArbitrary, { minLength: 20, maxLength: 80 }), (steps) => {
        const room = run(steps);
        const present = new Set<string>();
        for (const decision of room.sockets.chatDecisions) {
          if (decision.type === 'memberJoined' && decision.first) {
            expect(present.has(decision.user)).toBe(false);
            present.add(decision.user);
          } else if (decision.type === 'memberJoined') {
            expect(present.has(decision.user)).toBe(true);
          } else if (decision.type === 'memberLeft' && decision.last) {
            expect(present.delete(decision.user)).toBe(true);
          } else if (decision.type === 'memberLeft') {
            expect(present.has(decision.user)).toBe(true);
          }
        }
        expect(new Set(room.runtime.members().map((m) => m.user))).toEqual(present);
        // Everyone present holds a seat (live, or held for their return); every live seat is present.
        const admission = room.runtime.admission;
        for (const user of present) expect(admission.seatBySession.has(user)).toBe(true);
        for (const conn of room.runtime.activeConnections()) {
          if (room.runtime.connectionState(conn)) expect(present.has(admission.seats.get(conn)!.session)).toBe(true);
        }
        room.runtime.stop();
      }),
      { numRuns: 150 },
    );
  });

  it('replays from its log to the same decisions, seqs included', () => {
    fc.assert(
      fc.property(fc.array(stepArbitrary, { minLength: 20, maxLength: 60 }), (steps) => {
        const room = run(steps);
        room.runtime.stop();
        const result = replay(room.records);
        expect(result).toMatchObject({ ok: true });
      }),
      { numRuns: 100 },
    );
  });
});
