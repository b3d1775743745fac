/**
 * What one waiting visitor costs in the room alone, without a socket: the heap a `RoomRuntime` holds per
 * queued connection (its actor, its place in the admission state, its pending timer), read after a full GC.
 * Deterministic where the crowd bench's RSS is not. Run with --expose-gc:
 *
 *   node --expose-gc --import tsx bench/connection-memory.bench.ts [--n 10000] [--snapshot file.heapsnapshot]
 */
import { writeHeapSnapshot } from 'node:v8';
import { pathToFileURL } from 'node:url';
import { defaultRoomSettings } from '../src/config/server-config.js';
import { wallClock } from '../src/log/actor-clocks.js';
import { EventLog } from '../src/log/event-log.js';
import { RoomRuntime, silentConnectionEffects } from '../src/rooms/room-runtime.js';

/** Heap bytes per queued connection in one room of `n` (5 seats), after a warm-up of 500 joins and leaves. */
export function main(n = 10_000, snapshot?: string): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');
  const log = new EventLog({ ringSize: 16 });
  const runtime = new RoomRuntime({
    settings: { name: 'main', ...defaultRoomSettings, capacity: 5 },
    log,
    clockFor: () => wallClock,
    recordTimers: true,
    effects: silentConnectionEffects,
  });
  for (let i = 0; i < 500; i++) runtime.connect(`w${i}`, `ws${i}`);
  for (let i = 0; i < 500; i++) runtime.closed(`w${i}`, 1000);
  gc();
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < n; i++) runtime.connect(`c${i}`, `s${i}`);
  gc();
  gc();
  const perConnection = (process.memoryUsage().heapUsed - before) / n;
  console.log(`${n.toLocaleString('en')} queued in one room: ${perConnection.toFixed(0)} B of heap per connection (actor, place, timer)`);
  if (snapshot) writeHeapSnapshot(snapshot);
  runtime.stop();
  return perConnection;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = (name: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);
  main(Number(arg('--n') ?? 10_000), arg('--snapshot'));
  process.exit(0);
}
