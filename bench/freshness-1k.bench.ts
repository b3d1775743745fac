/**
 * Position freshness at 1,000 queued: the time from one queued client leaving from the middle of the line
 * until the last client behind it has its new position. The protocol promises 100 ms up to 1,000 queued.
 * The server runs in a child process (`anteroom`, capacity 1); this process holds the seated client and the
 * 1,000 queued ones, so the figure includes delivery and parsing on the client side, as a real client sees
 * it. Each run measures rounds on a quiet machine, then with two busy-looping processes (one per core of
 * a 2-core machine) competing with the server. Everything stays on 127.0.0.1. Prints figures only.
 *
 *   npx tsx bench/freshness-1k.bench.ts
 *   ANTEROOM_BENCH_ROOT=/path/to/other/checkout npx tsx bench/freshness-1k.bench.ts   # serve another checkout
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { startServerProcess } from './server-process.js';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';

const QUEUED = 1000;
const ROUNDS = 15;
const ROUND_GAP_MS = 300;
const CONNECT_CONCURRENCY = 100;
const BUSY_PROCESSES = 4;
/** The run gives up past this, so it always stops by itself. */
const DEADLINE_MS = 120_000;

const benchFile = fileURLToPath(import.meta.url);
const repoRoot = process.env.ANTEROOM_BENCH_ROOT ?? dirname(dirname(benchFile));
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface Waiter {
  ws: WebSocket;
  position: number;
  /** Called with the receipt time of each position it is sent. */
  onPosition: ((position: number, at: number) => void) | null;
}

function startServer(): Promise<{ child: ChildProcess; url: string }> {
  return startServerProcess(repoRoot, ['--capacity', '1', '--queue-ping', '120000', '--max-connections-per-ip', '0']);
}

/** A client placed in the room; resolves once it has its first status. */
function place(url: string): Promise<Waiter> {
  return new Promise((resolve, reject) => {
    const waiter: Waiter = { ws: new WebSocket(url), position: 0, onPosition: null };
    waiter.ws.on('message', (data) => {
      const message = JSON.parse(data.toString());
      if (message.type !== 'status') return;
      const first = waiter.position === 0 && message.status !== undefined;
      waiter.position = message.status === 'active' ? -1 : message.position;
      if (first) resolve(waiter);
      else waiter.onPosition?.(waiter.position, performance.now());
    });
    waiter.ws.once('error', reject);
  });
}

/** Spins one core until killed: the load of a busy machine. */
function busyLoop(): ChildProcess {
  return spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' });
}

/** One leave from the middle: ms until the first and the last client behind it have their new position. */
async function oneRound(line: Waiter[]): Promise<{ first: number; last: number }> {
  line.sort((a, b) => a.position - b.position);
  const middle = Math.floor(line.length / 2);
  const leaver = line[middle]!;
  const behind = line.slice(middle + 1);
  const arrivals: number[] = [];
  const done = new Promise<void>((resolve) => {
    for (const waiter of behind) {
      const wanted = waiter.position - 1;
      waiter.onPosition = (position, at) => {
        if (position !== wanted) return;
        waiter.onPosition = null;
        arrivals.push(at);
        if (arrivals.length === behind.length) resolve();
      };
    }
  });
  const startedAt = performance.now();
  leaver.ws.send('{"type":"leave"}');
  await done;
  line.splice(middle, 1);
  return { first: Math.min(...arrivals) - startedAt, last: Math.max(...arrivals) - startedAt };
}

function summary(label: string, rounds: { first: number; last: number }[]): string {
  const lasts = rounds.map((round) => round.last).sort((a, b) => a - b);
  const pick = (q: number) => lasts[Math.min(lasts.length - 1, Math.floor(q * lasts.length))]!.toFixed(0);
  const within = lasts.filter((ms) => ms <= 100).length;
  return `${label.padEnd(6)} last of ${QUEUED} queued has its new position: p50 ${pick(0.5)} ms, p90 ${pick(0.9)} ms, max ${pick(1)} ms; within 100 ms in ${within}/${lasts.length} rounds`;
}

export async function main(): Promise<void> {
  const { child, url } = await startServer();
  const busy: ChildProcess[] = [];
  const deadline = setTimeout(() => {
    console.error(`freshness-1k: gave up after ${DEADLINE_MS} ms`);
    for (const proc of [child, ...busy]) proc.kill('SIGKILL');
    process.exit(1);
  }, DEADLINE_MS);
  try {
    const seated = await place(url);
    const ping = setInterval(() => seated.ws.send('{"type":"ping"}'), 1000);
    const line: Waiter[] = [];
    for (let placed = 0; placed < QUEUED; placed += CONNECT_CONCURRENCY) {
      line.push(...(await Promise.all(Array.from({ length: Math.min(CONNECT_CONCURRENCY, QUEUED - placed) }, () => place(url)))));
    }
    await sleep(1000);
    const measure = async () => {
      const rounds = [];
      for (let round = 0; round < ROUNDS; round++) {
        rounds.push(await oneRound(line));
        // A newcomer at the tail keeps the line at 1,000.
        line.push(await place(url));
        await sleep(ROUND_GAP_MS);
      }
      return rounds;
    };
    console.log(summary('quiet', await measure()));
    for (let i = 0; i < BUSY_PROCESSES; i++) busy.push(busyLoop());
    await sleep(500);
    console.log(summary('busy', await measure()));
    clearInterval(ping);
    for (const waiter of [seated, ...line]) waiter.ws.terminate();
  } finally {
    for (const proc of [child, ...busy]) proc.kill('SIGKILL');
    clearTimeout(deadline);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
