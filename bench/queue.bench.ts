/**
 * Cost per operation of the admission queue at 1k, 10k, 100k and 1M entries. The queue promises O(1) or
 * O(log n) per operation, so each row should stay nearly flat; the last column is the ratio of the 1M cost to
 * the 1k cost measured in the same run. Prints figures only.
 *
 *   npx tsx bench/queue.bench.ts
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { TicketQueue, type Ticket } from '../machines/queue/ticket-queue.js';

const SIZES = [1_000, 10_000, 100_000, 1_000_000] as const;
/** Timed operations per repetition: enough to dwarf timer overhead, small enough to finish well inside a minute. */
const OPS_PER_CELL = 100_000;
/** Each cell reports the median of this many repetitions, each on a freshly built queue. */
const REPEATS = 3;
/** Every HELD_EVERY-th waiter is held, as if its connection dropped. */
const HELD_EVERY = 10;

const OPERATIONS = ['enqueue', 'rank', 'remove (middle)', 'dequeue (firstLive+remove)', 'setLive'] as const;
type Operation = (typeof OPERATIONS)[number];

export interface QueueBenchRow {
  operation: Operation;
  /** Nanoseconds per operation, by queue size. */
  nsPerOp: Record<number, number>;
}

/** Keeps results observable so the timed loops cannot be optimised away. */
export let sink = 0;

/** Deterministic, so every run times the same sequence of operations. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A queue standing at `size` entries, plus its present tickets in an array for O(1) random picks. */
interface StandingQueue {
  queue: TicketQueue<number>;
  pool: Ticket[];
}

function enqueueWaiter(standing: StandingQueue, n: number): void {
  const ticket = standing.queue.enqueue(n);
  if (n % HELD_EVERY === HELD_EVERY - 1) standing.queue.setLive(ticket, false);
  standing.pool.push(ticket);
}

/** Takes a random present ticket out of the pool (swap with the last): O(1). */
function takeRandom(pool: Ticket[], random: () => number): Ticket {
  const index = Math.floor(random() * pool.length);
  const ticket = pool[index]!;
  pool[index] = pool[pool.length - 1]!;
  pool.pop();
  return ticket;
}

/** Fills fresh queues from empty to `size`, growth included; returns ns per enqueue and the last queue. */
function timeEnqueue(size: number, ops: number): { ns: number; standing: StandingQueue } {
  const rounds = Math.max(1, Math.round(ops / size));
  let elapsed = 0;
  let queue = new TicketQueue<number>();
  for (let round = 0; round < rounds; round++) {
    queue = new TicketQueue<number>();
    const start = performance.now();
    for (let n = 0; n < size; n++) queue.enqueue(n);
    elapsed += performance.now() - start;
  }
  const pool: Ticket[] = [];
  let n = 0;
  for (const [ticket] of queue.entries()) {
    if (n++ % HELD_EVERY === HELD_EVERY - 1) queue.setLive(ticket, false);
    pool.push(ticket);
  }
  return { ns: (elapsed * 1e6) / (rounds * size), standing: { queue, pool } };
}

function timeRank({ queue, pool }: StandingQueue, ops: number, random: () => number): number {
  const picks = new Float64Array(ops);
  for (let i = 0; i < ops; i++) picks[i] = pool[Math.floor(random() * pool.length)]!;
  let acc = 0;
  const start = performance.now();
  for (let i = 0; i < ops; i++) acc += queue.rank(picks[i]!);
  const elapsed = performance.now() - start;
  sink += acc;
  return (elapsed * 1e6) / ops;
}

/** Flips distinct random entries between live and held, then back: every call changes state. */
function timeSetLive({ queue, pool }: StandingQueue, ops: number, random: () => number): number {
  const count = Math.min(ops >> 1, pool.length);
  const picks = new Float64Array(count);
  const wasLive = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    // Partial Fisher-Yates: distinct picks, pool order changes but its contents do not.
    const j = i + Math.floor(random() * (pool.length - i));
    const ticket = pool[j]!;
    pool[j] = pool[i]!;
    pool[i] = ticket;
    picks[i] = ticket;
    wasLive[i] = queue.isLive(ticket) ? 1 : 0;
  }
  const start = performance.now();
  for (let i = 0; i < count; i++) queue.setLive(picks[i]!, wasLive[i] === 0);
  for (let i = 0; i < count; i++) queue.setLive(picks[i]!, wasLive[i] === 1);
  const elapsed = performance.now() - start;
  return (elapsed * 1e6) / (2 * count);
}

/** Batches of random removals (mostly mid-line), each followed by untimed refills back to the size. */
function timeRemoveMiddle(standing: StandingQueue, size: number, ops: number, random: () => number): number {
  const batch = Math.max(1, Math.min(1_000, Math.floor(size / 10)));
  const picks = new Float64Array(batch);
  let elapsed = 0;
  let n = size;
  for (let done = 0; done < ops; done += batch) {
    for (let i = 0; i < batch; i++) picks[i] = takeRandom(standing.pool, random);
    const start = performance.now();
    for (let i = 0; i < batch; i++) standing.queue.remove(picks[i]!);
    elapsed += performance.now() - start;
    for (let i = 0; i < batch; i++) enqueueWaiter(standing, n++);
  }
  return (elapsed * 1e6) / (Math.ceil(ops / batch) * batch);
}

/**
 * Admissions in batches: firstLive then remove, skipping held places. Between batches (untimed) the line is
 * refilled at the tail and held places that reached the head expire, as their hold would in the room.
 */
function timeDequeue({ queue }: StandingQueue, size: number, ops: number): number {
  const batch = Math.max(1, Math.min(1_000, Math.floor(size / 10)));
  let elapsed = 0;
  let n = size;
  let acc = 0;
  for (let done = 0; done < ops; done += batch) {
    const start = performance.now();
    for (let i = 0; i < batch; i++) {
      const ticket = queue.firstLive()!;
      queue.remove(ticket);
      acc += ticket;
    }
    elapsed += performance.now() - start;
    for (let i = 0; i < batch; i++) {
      const ticket = queue.enqueue(n);
      if (n++ % HELD_EVERY === HELD_EVERY - 1) queue.setLive(ticket, false);
    }
    for (let head = queue.head(); head !== undefined && !queue.isLive(head); head = queue.head()) queue.remove(head);
  }
  sink += acc;
  return (elapsed * 1e6) / (Math.ceil(ops / batch) * batch);
}

function measure(size: number, ops: number): Record<Operation, number> {
  const random = mulberry32(size);
  const { ns: enqueue, standing } = timeEnqueue(size, ops);
  const rank = timeRank(standing, ops, random);
  const setLive = timeSetLive(standing, ops, random);
  const removeMiddle = timeRemoveMiddle(standing, size, ops, random);
  const dequeue = timeDequeue(standing, size, ops);
  return {
    enqueue,
    rank,
    'remove (middle)': removeMiddle,
    'dequeue (firstLive+remove)': dequeue,
    setLive,
  };
}

function formatNs(ns: number): string {
  return ns >= 1_000 ? `${(ns / 1_000).toFixed(2)} µs` : `${ns.toFixed(0)} ns`;
}

function printTable(rows: QueueBenchRow[]): void {
  const label = (size: number): string => (size >= 1_000_000 ? `${size / 1_000_000}M` : `${size / 1_000}k`);
  const first = SIZES[0];
  const last = SIZES[SIZES.length - 1]!;
  const header = ['operation', ...SIZES.map(label), `${label(last)} / ${label(first)}`];
  const body = rows.map((row) => [
    row.operation,
    ...SIZES.map((size) => formatNs(row.nsPerOp[size]!)),
    `${(row.nsPerOp[last]! / row.nsPerOp[first]!).toFixed(2)}×`,
  ]);
  const widths = header.map((_, c) => Math.max(...[header, ...body].map((line) => line[c]!.length)));
  const format = (line: string[]): string =>
    line.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('   ');
  const ops = OPS_PER_CELL.toLocaleString('en');
  console.log(`TicketQueue cost per operation (median of ${REPEATS} × ${ops} timed ops per cell, Node ${process.version})`);
  console.log(format(header));
  for (const line of body) console.log(format(line));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1]!;
}

export function main(): QueueBenchRow[] {
  // Warm-up so the first column is not paying for compilation.
  measure(SIZES[0], OPS_PER_CELL / 4);
  const bySize = new Map<number, Record<Operation, number>[]>();
  for (let repeat = 0; repeat < REPEATS; repeat++) {
    for (const size of SIZES) bySize.set(size, [...(bySize.get(size) ?? []), measure(size, OPS_PER_CELL)]);
  }
  const rows = OPERATIONS.map((operation) => ({
    operation,
    nsPerOp: Object.fromEntries(SIZES.map((size) => [size, median(bySize.get(size)!.map((m) => m[operation]))])),
  }));
  printTable(rows);
  return rows;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
