import { describe, expect, it } from 'vitest';
import { createActor, setup, SimulatedClock } from 'xstate';
import { connectionSystemParent, lightenConnectionActor, stopConnectionActor } from '../../src/rooms/connection-system.js';
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

describe('connectionSystemParent', () => {
  /** Two delays armed at once, in parallel regions, so one actor holds more than one timer. */
  const twoTimers = setup({ types: { events: {} as { type: 'cancelFast' } } }).createMachine({
    type: 'parallel',
    states: {
      fast: {
        initial: 'waiting',
        states: { waiting: { after: { 100: 'done' }, on: { cancelFast: 'cancelled' } }, done: {}, cancelled: {} },
      },
      slow: { initial: 'waiting', states: { waiting: { after: { 300: 'done' } }, done: {} } },
    },
  });

  it('keeps several timers of one actor apart: each fires or is cancelled on its own, and stopping clears the rest', () => {
    const clock = new SimulatedClock();
    const parent = connectionSystemParent(() => {});
    const a = createActor(twoTimers, { clock, parent }).start();
    const b = createActor(twoTimers, { clock, parent }).start();
    a.send({ type: 'cancelFast' });
    clock.increment(150);
    expect(a.getSnapshot().value).toEqual({ fast: 'cancelled', slow: 'waiting' });
    expect(b.getSnapshot().value).toEqual({ fast: 'done', slow: 'waiting' });
    stopConnectionActor(b);
    clock.increment(200);
    expect(a.getSnapshot().value).toEqual({ fast: 'cancelled', slow: 'done' });
    expect(b.getSnapshot().value).toEqual({ fast: 'done', slow: 'waiting' });
  });

  it('tells onFailed which actor failed and with what', () => {
    const failures: Array<[string, unknown]> = [];
    const parent = connectionSystemParent((actorId, error) => failures.push([actorId, error]));
    const breaks = setup({ actions: { boom: () => { throw new Error('boom'); } } }).createMachine({ entry: 'boom' });
    createActor(breaks, { id: 'conn:x', parent }).start();
    expect(failures).toHaveLength(1);
    expect(failures[0]![0]).toBe('conn:x');
    expect((failures[0]![1] as Error).message).toBe('boom');
  });
});

describe('lightenConnectionActor', () => {
  const ticking = setup({ types: { events: {} as { type: 'go' } } }).createMachine({
    initial: 'idle',
    states: { idle: { on: { go: 'waiting' } }, waiting: { after: { 100: 'done' } }, done: { type: 'final' } },
  });

  it('keeps an actor working (events, timers, completion) while its options and listener map are shared', () => {
    const clock = new SimulatedClock();
    const parent = connectionSystemParent(() => {});
    const [a, b] = [0, 1].map(() => {
      const actor = createActor(ticking, { clock, parent, input: { big: 'x'.repeat(1000) } }).start();
      lightenConnectionActor(actor);
      return actor;
    });
    const internals = (actor: typeof a) => actor as unknown as { options: object; eventListeners: Map<string, unknown> };
    expect(internals(a!).options).toBe(internals(b!).options);
    expect(internals(a!).eventListeners).toBe(internals(b!).eventListeners);
    a!.send({ type: 'go' });
    clock.increment(99);
    expect(a!.getSnapshot().value).toBe('waiting');
    clock.increment(1);
    expect(a!.getSnapshot().status).toBe('done');
    expect(b!.getSnapshot().value).toBe('idle');
    stopConnectionActor(b!);
    expect(b!.getSnapshot().status).toBe('stopped');
  });

  it('refuses a listener for emitted events instead of sharing it with every actor', () => {
    const actor = createActor(ticking, { parent: connectionSystemParent(() => {}) }).start();
    lightenConnectionActor(actor);
    expect(() => actor.on('anything', () => {})).toThrow(TypeError);
  });
});
