import { describe, expect, it } from 'vitest';
import type { EventRecord } from '../../src/log/event-record.js';
import { replay } from '../../src/log/replay.js';
import { createSimulatedRoom } from '../support/simulated-room.js';

const ada = { user: 'ada', name: 'Ada', authenticated: true };

/** One seat: ada sits, a guest waits; ada's second tab takes her seat over; she drops and comes back on a third. */
function recordTakeovers(): EventRecord[] {
  const room = createSimulatedRoom({ capacity: 1, heartbeatTimeoutMs: 60_000, resumeWindowMs: 10_000, seatGraceMs: 5000 });
  const { runtime } = room;
  runtime.connect('a1', 's1', undefined, 0, ada);
  runtime.connect('g', 'sg');
  room.advance(100);
  runtime.connect('a2', 's2', undefined, 0, ada);
  room.advance(100);
  runtime.closed('a1', 4005);
  runtime.closed('a2', 1006);
  room.advance(1000);
  runtime.connect('a3', 's3', undefined, 0, ada);
  room.advance(100);
  expect(runtime.identityOf('a3')).toEqual(ada);
  expect(runtime.identityOf('g')).toEqual({ user: 'sg', name: 'Guest sg', authenticated: false });
  runtime.stop();
  return room.records;
}

describe('replay of a log with takeovers', () => {
  const records = recordTakeovers();

  it('records the identity at connect and the takeovers as decisions of the room', () => {
    expect(records.filter((r) => r.kind === 'connected').map((r) => r.data)).toEqual([
      { session: 's1', user: 'ada', name: 'Ada' },
      { session: 'sg' },
      { session: 's2', user: 'ada', name: 'Ada' },
      { session: 's3', user: 'ada', name: 'Ada' },
    ]);
    const takeovers = records.filter((r) => r.kind === 'seatResumed');
    expect(takeovers.map((r) => [r.conn, (r.data as { replacedConn: string }).replacedConn, (r.data as { user?: string }).user])).toEqual([
      ['a2', 'a1', 'ada'],
      ['a3', 'a2', 'ada'],
    ]);
  });

  it('reproduces every decision, also after a round trip through JSON', () => {
    expect(replay(records)).toMatchObject({ ok: true });
    expect(replay(records.map((r) => JSON.parse(JSON.stringify(r)) as EventRecord))).toMatchObject({ ok: true });
  });

  it('diverges when the identity is taken out of a connected record', () => {
    const tampered = records.map((r) => (r.kind === 'connected' && r.conn === 'a2' ? { ...r, data: { session: 's2' } } : r));
    expect(replay(tampered)).toMatchObject({ ok: false });
  });
});
