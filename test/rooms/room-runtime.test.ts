import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { defaultRoomSettings } from '../../src/config/server-config.js';
import { EventLog } from '../../src/log/event-log.js';
import type { EventRecord } from '../../src/log/event-record.js';
import { replay } from '../../src/log/replay.js';
import { RoomRuntime, silentConnectionEffects } from '../../src/rooms/room-runtime.js';

describe('an action that throws inside an actor', () => {
  function roomWhoseStatusSendThrowsFor(badConn: string, onActorError?: (error: unknown, conn: string | null) => void) {
    const clock = new SimulatedClock();
    const records: EventRecord[] = [];
    const log = new EventLog({ now: () => clock.now() });
    log.on('record', (record) => records.push(record));
    const runtime = new RoomRuntime({
      settings: { name: 'main', ...defaultRoomSettings, capacity: 1 },
      log,
      clockFor: () => clock,
      now: () => clock.now(),
      onActorError,
      effects: {
        ...silentConnectionEffects,
        sendQueuedStatus: (conn) => {
          if (conn === badConn) throw new Error('the socket layer broke');
        },
      },
    });
    return { runtime, records };
  }

  it('ends that connection alone: its place is let go, the others keep theirs, and the process goes on', async () => {
    const failures: [unknown, string | null][] = [];
    const { runtime, records } = roomWhoseStatusSendThrowsFor('b', (error, conn) => failures.push([error, conn]));
    runtime.connect('a', 'sa');
    runtime.connect('b', 'sb');
    runtime.connect('c', 'sc');
    // XState rethrows an unobserved actor error on a timer; give it the chance to.
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(failures.map(([error, conn]) => [(error as Error).message, conn])).toEqual([['the socket layer broke', 'b']]);
    expect(runtime.connectionState('b')).toBeUndefined();
    expect(runtime.positionOf('c')).toBe(2);
    expect(runtime.heldCount).toBe(1);
    // Recorded as the server closing it for an internal error, so the log replays where the effect does not throw.
    expect(records.filter((r) => r.kind === 'fault' || r.kind === 'held')).toMatchObject([
      { kind: 'fault', conn: 'b', data: { reason: 'internal' } },
      { kind: 'held', conn: 'b' },
    ]);
    runtime.stop();
    expect(replay(JSON.parse(JSON.stringify(records)))).toMatchObject({ ok: true });
  });

  it('is reported by replay as a failure at the input it happened on, not thrown', () => {
    const { runtime, records } = roomWhoseStatusSendThrowsFor('nobody');
    runtime.connect('a', 'sa');
    runtime.stop();
    // A record the actors cannot take: a fault whose reason is not in the close-reason table.
    const bogus = { v: 2, seq: records.length + 1, at: 0, room: 'main', kind: 'fault', conn: 'a', data: { reason: 'bogus' } } as unknown as EventRecord;
    const result = replay([...records, bogus]);
    expect(result.ok).toBe(false);
    expect(result.ok === false && result.message).toMatch(new RegExp(`^seq ${bogus.seq}: an actor failed on this input: `));
  });
});
