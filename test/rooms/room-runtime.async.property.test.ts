import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { replay } from '../../src/log/replay.js';
import { RoomModel } from '../support/room-invariants.js';
import { createSimulatedRoom } from '../support/simulated-room.js';
import { clientCloseCodes, faultReasons } from '../support/room-steps.js';

/** What one visitor does, in order, on its own socket. */
type Act =
  | { kind: 'ping' }
  | { kind: 'leave' }
  /** The socket ends with `code`; with `comeBack`, the visitor reconnects and sends `resume` with its token. */
  | { kind: 'close'; code: number; comeBack: boolean }
  | { kind: 'fault'; reason: (typeof faultReasons)[number] };

const actArbitrary: fc.Arbitrary<Act> = fc.oneof(
  { weight: 4, arbitrary: fc.constant<Act>({ kind: 'ping' }) },
  { weight: 1, arbitrary: fc.constant<Act>({ kind: 'leave' }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('close' as const), code: fc.constantFrom(...clientCloseCodes), comeBack: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('fault' as const), reason: fc.constantFrom(...faultReasons) }) },
);

/**
 * A room with concurrent visitors whose deliveries the scheduler orders adversarially: each visitor's own
 * messages arrive in the order it sent them (one TCP stream), but across visitors, against the clock, and
 * against the server's own closes, any order can happen. Replies are causal: a visitor's peer answers a close
 * the server started only after the server started it, at a moment the scheduler picks (possibly after more
 * of its frames arrived), and a visitor that comes back resumes with the token of the place it had.
 */
describe('room runtime under adversarial asynchronous delivery', () => {
  it('keeps every invariant whatever order concurrent sockets, timers and close answers reach the room in', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.integer({ min: 0, max: 3 }),
        fc.array(fc.array(actArbitrary, { maxLength: 6 }), { minLength: 1, maxLength: 8 }),
        fc.array(fc.constantFrom(500, 2500, 3100, 16_000, 31_000), { maxLength: 6 }),
        async (s, capacity, visitors, advances) => {
          const room = createSimulatedRoom({ capacity, resumeWindowMs: 30_000, queuePingMs: 15_000 });
          const model = new RoomModel(capacity);
          const failures: unknown[] = [];
          const answered = new Set<string>();
          let conns = 0;

          /** Runs `input` when the scheduler lets it arrive, then checks every rule and answers new server closes. */
          const arrive = (label: string, input: () => void): Promise<void> =>
            s.schedule(Promise.resolve(label), label).then(() => {
              try {
                input();
                answerServerCloses();
                model.absorb(room.records);
                model.check(room.runtime, room.clock.now());
              } catch (error) {
                failures.push(error);
              }
            });

          // A close the server started is answered by the peer at a moment of the scheduler's choosing.
          const answerServerCloses = () => {
            for (const [conn, code] of room.sockets.closedWith) {
              if (answered.has(conn)) continue;
              answered.add(conn);
              model.closed.add(conn);
              void arrive(`peer of ${conn} answers the close`, () => room.runtime.closed(conn, code));
            }
          };

          const visit = async (acts: Act[], resumeFrom: string | null): Promise<void> => {
            const conn = `c${++conns}`;
            const session = `s${conns}`;
            await arrive(`${conn} connects`, () => room.runtime.connect(conn, session));
            if (resumeFrom !== null) await arrive(`${conn} resumes ${resumeFrom}`, () => room.runtime.message(conn, { type: 'resume', session: resumeFrom }));
            const mine = room.runtime.connectionState(conn)?.context.session ?? session;
            for (const [i, act] of acts.entries()) {
              if (act.kind === 'ping') await arrive(`${conn} pings`, () => room.runtime.message(conn, { type: 'ping' }));
              else if (act.kind === 'leave') await arrive(`${conn} leaves`, () => room.runtime.message(conn, { type: 'leave' }));
              else if (act.kind === 'fault') {
                await arrive(`server closes ${conn} (${act.reason})`, () => {
                  if (room.runtime.connectionState(conn)) model.closed.add(conn);
                  room.runtime.fault(conn, act.reason);
                });
              } else {
                await arrive(`${conn} closes with ${act.code}`, () => {
                  model.closed.add(conn);
                  room.runtime.closed(conn, act.code);
                });
                if (act.comeBack) await visit(acts.slice(i + 1), mine);
                return;
              }
            }
          };

          const done = [...visitors.map((acts) => visit(acts, null)), ...advances.map((ms) => arrive(`clock +${ms} ms`, () => room.advance(ms)))];
          await s.waitFor(Promise.all(done));
          await s.waitAll();
          expect(failures).toEqual([]);
          expect(replay(JSON.parse(JSON.stringify(room.records)))).toMatchObject({ ok: true });
          room.runtime.stop();
        },
      ),
      { numRuns: 150 },
    );
  });
});
