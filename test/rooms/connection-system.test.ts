import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { defaultRoomSettings } from '../../src/config/server-config.js';
import { EventLog } from '../../src/log/event-log.js';
import { RoomRuntime, silentConnectionEffects } from '../../src/rooms/room-runtime.js';

/** The shared system's registered actors (XState keeps them by session id; none of it is public). */
function systemChildren(runtime: RoomRuntime): number {
  const parent = (runtime as unknown as { connectionParent: { system: { _snapshot: unknown; getAll(): object } } }).connectionParent;
  return Object.keys(parent.system.getAll()).length;
}

describe("a room's shared connection system", () => {
  it('keeps no actor of a connection that ended, over 5,000 connect and close cycles, nor of one that failed', () => {
    const clock = new SimulatedClock();
    const log = new EventLog({ now: () => clock.now() });
    const runtime = new RoomRuntime({
      settings: { name: 'main', ...defaultRoomSettings, capacity: 2 },
      log,
      clockFor: () => clock,
      now: () => clock.now(),
      onActorError: () => {},
      effects: {
        ...silentConnectionEffects,
        sendQueuedStatus: (conn) => {
          if (conn.startsWith('bad')) throw new Error('the socket layer broke');
        },
      },
    });
    runtime.connect('seated-1', 's1');
    runtime.connect('seated-2', 's2');
    for (let i = 0; i < 5000; i++) {
      runtime.connect(`c${i}`, `s-c${i}`);
      // Failing connections carry a priority and a signed-in identity: neither may stay behind either.
      if (i % 100 === 0) runtime.connect(`bad${i}`, `s-bad${i}`, null, 2, { user: `u${i}`, name: `U${i}`, authenticated: true });
      runtime.closed(`c${i}`, 1000);
    }
    expect([...runtime.connectionIds()].sort()).toEqual(['seated-1', 'seated-2']);
    expect(systemChildren(runtime)).toBe(2);
    const kept = runtime as unknown as { priorities: Map<string, number>; identities: Map<string, unknown> };
    expect([kept.priorities.size, kept.identities.size]).toEqual([0, 0]);
    runtime.stop();
    expect(systemChildren(runtime)).toBe(0);
  });
});
