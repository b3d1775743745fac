/**
 * Cost per join when the room already has 1k, 10k and 100k queued, through the room admission actor alone
 * (`createActor(roomMachine)` sent `join` commands) and through `RoomRuntime.connect`, which also creates one
 * connection actor per join and writes the event log. Joins are timed in batches; after each batch the same
 * number of waiters leave from the head (untimed), so the line stands at the stated size throughout. A join
 * that costs O(1) or O(log n) gives a nearly flat row; an O(n) join grows about 10× per column. Each cell
 * shows the mean (collector pauses included) and the median batch (robust to a pause landing in a small
 * cell); the ratio column uses the median batch. Prints figures only.
 *
 *   npx tsx bench/room-joins.bench.ts
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createActor, SimulatedClock } from 'xstate';
import { roomMachine } from '../machines/room.machine.js';
import { defaultRoomSettings } from '../src/config/server-config.js';
import { EventLog } from '../src/log/event-log.js';
import { RoomRuntime, silentConnectionEffects } from '../src/rooms/room-runtime.js';

const STANDING = [1_000, 10_000, 100_000] as const;
/** Timed joins per cell through the room actor. */
const ACTOR_JOINS = 100_000;
/**
 * Timed joins per cell through RoomRuntime. Each join there also builds, and each untimed leave stops, a
 * connection actor, several times the work of a bare room join; 100k per cell would not fit the time budget.
 */
const RUNTIME_JOINS = 10_000;
/** Cells through the room actor are cheap enough to repeat; the median is reported. */
const ACTOR_REPEATS = 3;
const CAPACITY = 5;

type Variant = 'room actor' | 'RoomRuntime.connect';

export interface RoomJoinsRow {
  variant: Variant;
  joins: number;
  /** Microseconds per timed join, by standing queue size: all timed joins over all their time. */
  usPerJoin: Record<number, number>;
  /** Microseconds per join in the median batch, by standing queue size. */
  usPerJoinMedianBatch: Record<number, number>;
  /** Microseconds per join while filling the line from empty to the standing size (untimed in the cell). */
  usPerFillJoin: Record<number, number>;
  /** Heap bytes per standing waiter, after a full GC, when a collector could be reached. */
  heapBytesPerWaiter: Record<number, number | null>;
}

/** The platform's `gc`, reachable without --expose-gc; null if the engine refuses. */
const collectGarbage: (() => void) | null = (() => {
  try {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  } catch {
    return null;
  }
})();

function heapAfterGc(): number | null {
  if (!collectGarbage) return null;
  for (let i = 0; i < 3; i++) collectGarbage();
  return process.memoryUsage().heapUsed;
}

/** One room under test: joins add at the tail, leaves take the earliest waiter out. */
interface JoinTarget {
  join(conn: string, session: string): void;
  leave(conn: string): void;
  queueLength(): number;
  stop(): void;
}

function roomActorTarget(): JoinTarget {
  const clock = new SimulatedClock();
  const actor = createActor(roomMachine, {
    input: { room: 'main', capacity: CAPACITY, maxQueue: 0, resumeWindowMs: 30_000, sessionTtlMs: 0, now: () => clock.now() },
    clock,
  });
  actor.start();
  return {
    join: (conn, session) => actor.send({ type: 'join', conn, session }),
    leave: (conn) => actor.send({ type: 'leave', conn }),
    queueLength: () => actor.getSnapshot().context.admission.queue.size,
    stop: () => actor.stop(),
  };
}

/** As the server builds a room: event ring of the default size, recorded timers; the clock never fires. */
function roomRuntimeTarget(): JoinTarget {
  const clock = new SimulatedClock();
  const runtime = new RoomRuntime({
    settings: { name: 'main', ...defaultRoomSettings, capacity: CAPACITY },
    log: new EventLog({ ringSize: 10_000, now: () => clock.now() }),
    clockFor: () => clock,
    recordTimers: true,
    effects: silentConnectionEffects,
  });
  return {
    join: (conn, session) => runtime.connect(conn, session),
    // A normal close: the connection actor asks the room to release the place, then stops.
    leave: (conn) => runtime.closed(conn, 1000),
    queueLength: () => runtime.queueLength,
    stop: () => runtime.stop(),
  };
}

/** Connection ids in join order; the earliest still queued is taken first. */
class JoinOrder {
  private ids: string[] = [];
  private head = 0;
  private next = 0;

  issue(): string {
    const id = `c${this.next++}`;
    this.ids.push(id);
    return id;
  }

  takeEarliest(): string {
    const id = this.ids[this.head]!;
    this.ids[this.head++] = '';
    // Drop the consumed prefix now and then so the array follows the line, not the history.
    if (this.head > 65_536 && this.head * 2 > this.ids.length) {
      this.ids = this.ids.slice(this.head);
      this.head = 0;
    }
    return id;
  }
}

interface Cell {
  usPerJoin: number;
  usPerJoinMedianBatch: number;
  usPerFillJoin: number;
  heapBytesPerWaiter: number | null;
}

/** `weigh` reads the heap around the fill (three full GCs each side), so repeats can skip it. */
function measureCell(makeTarget: () => JoinTarget, standing: number, joins: number, weigh: boolean): Cell {
  const target = makeTarget();
  const order = new JoinOrder();
  // The seats fill first; their holders never leave, so every later join queues.
  for (let i = 0; i < CAPACITY; i++) {
    const id = order.issue();
    target.join(id, `s${id}`);
  }
  const baseline = weigh ? heapAfterGc() : null;
  const fillStart = performance.now();
  for (let i = 0; i < standing; i++) {
    const id = order.issue();
    target.join(id, `s${id}`);
  }
  const usPerFillJoin = ((performance.now() - fillStart) * 1000) / standing;
  if (target.queueLength() !== standing) throw new Error(`expected ${standing} queued, found ${target.queueLength()}`);
  const standingHeap = weigh ? heapAfterGc() : null;
  // The seated ids are not in line: skip them so leaves take the earliest waiters.
  for (let i = 0; i < CAPACITY; i++) order.takeEarliest();

  const batch = Math.max(1, Math.min(1_000, Math.floor(standing / 10)));
  const ids: string[] = new Array(batch);
  const sessions: string[] = new Array(batch);
  let elapsed = 0;
  const batchUs: number[] = [];
  for (let done = 0; done < joins; done += batch) {
    for (let i = 0; i < batch; i++) {
      ids[i] = order.issue();
      sessions[i] = `s${ids[i]}`;
    }
    const start = performance.now();
    for (let i = 0; i < batch; i++) target.join(ids[i]!, sessions[i]!);
    const batchMs = performance.now() - start;
    elapsed += batchMs;
    batchUs.push((batchMs * 1000) / batch);
    for (let i = 0; i < batch; i++) target.leave(order.takeEarliest());
  }
  if (target.queueLength() !== standing) throw new Error(`line drifted to ${target.queueLength()} from ${standing}`);
  target.stop();
  return {
    usPerJoin: (elapsed * 1000) / (Math.ceil(joins / batch) * batch),
    usPerJoinMedianBatch: median(batchUs),
    usPerFillJoin,
    heapBytesPerWaiter: baseline === null || standingHeap === null ? null : (standingHeap - baseline) / standing,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1]!;
}

function label(size: number): string {
  return `${size / 1_000}k`;
}

function printTable(rows: RoomJoinsRow[]): void {
  const first = STANDING[0];
  const last = STANDING[STANDING.length - 1]!;
  const header = [
    'path',
    'timed joins',
    ...STANDING.map((size) => `${label(size)} queued`),
    `${label(last)} / ${label(first)}`,
    ...STANDING.map((size) => `fill 0→${label(size)}`),
    ...STANDING.map((size) => `heap/waiter @${label(size)}`),
  ];
  const body = rows.map((row) => [
    row.variant,
    row.joins.toLocaleString('en'),
    ...STANDING.map((size) => `${row.usPerJoin[size]!.toFixed(2)} / ${row.usPerJoinMedianBatch[size]!.toFixed(2)} µs`),
    `${(row.usPerJoinMedianBatch[last]! / row.usPerJoinMedianBatch[first]!).toFixed(2)}×`,
    ...STANDING.map((size) => `${row.usPerFillJoin[size]!.toFixed(2)} µs`),
    ...STANDING.map((size) => {
      const bytes = row.heapBytesPerWaiter[size];
      return bytes === null || bytes === undefined ? 'n/a' : `${Math.round(bytes).toLocaleString('en')} B`;
    }),
  ]);
  const widths = header.map((_, c) => Math.max(...[header, ...body].map((line) => line[c]!.length)));
  const format = (line: string[]): string =>
    line.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('   ');
  console.log(`Cost per join with the line standing at 1k / 10k / 100k queued (capacity ${CAPACITY}, Node ${process.version})`);
  console.log(
    `room actor: median of ${ACTOR_REPEATS} × ${ACTOR_JOINS.toLocaleString('en')} joins per cell; ` +
      `RoomRuntime.connect: scaled down to 1 × ${RUNTIME_JOINS.toLocaleString('en')} joins per cell (each builds a connection actor)`,
  );
  console.log(format(header));
  for (const line of body) console.log(format(line));
  console.log('N queued: mean / median batch per join; fill 0→N: mean per join from an empty room up to N queued;');
  console.log('heap/waiter: heap growth after GC at N queued, divided by N');
}

function measureVariant(variant: Variant, makeTarget: () => JoinTarget, joins: number, repeats: number): RoomJoinsRow {
  const cells = new Map<number, Cell[]>();
  for (let repeat = 0; repeat < repeats; repeat++) {
    for (const size of STANDING) cells.set(size, [...(cells.get(size) ?? []), measureCell(makeTarget, size, joins, repeat === 0)]);
  }
  const pick = (size: number, field: 'usPerJoin' | 'usPerJoinMedianBatch' | 'usPerFillJoin') => median(cells.get(size)!.map((cell) => cell[field]));
  return {
    variant,
    joins,
    usPerJoin: Object.fromEntries(STANDING.map((size) => [size, pick(size, 'usPerJoin')])),
    usPerJoinMedianBatch: Object.fromEntries(STANDING.map((size) => [size, pick(size, 'usPerJoinMedianBatch')])),
    usPerFillJoin: Object.fromEntries(STANDING.map((size) => [size, pick(size, 'usPerFillJoin')])),
    heapBytesPerWaiter: Object.fromEntries(STANDING.map((size) => [size, cells.get(size)![0]!.heapBytesPerWaiter])),
  };
}

export function main(): RoomJoinsRow[] {
  // Warm-up so the first column is not paying for compilation.
  measureCell(roomActorTarget, 1_000, 10_000, false);
  measureCell(roomRuntimeTarget, 1_000, 5_000, false);
  const rows = [
    measureVariant('room actor', roomActorTarget, ACTOR_JOINS, ACTOR_REPEATS),
    measureVariant('RoomRuntime.connect', roomRuntimeTarget, RUNTIME_JOINS, 1),
  ];
  printTable(rows);
  return rows;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
