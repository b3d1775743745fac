/**
 * What durability costs, each figure beside its baseline from the same run:
 *
 * 1. appends per second to a data dir's log: group commit (one fsync per batch) against one write and fsync per
 *    record, and against no disk at all;
 * 2. time to recover a room with 100k places: from a snapshot plus 10k records of tail, and from the log alone;
 * 3. time to join (connect, upgrade, get the first `status`) against a real server on 127.0.0.1, in memory and
 *    with a data dir: median and p99, what durability adds, and the ratio.
 *
 * Prints figures only; nothing is asserted.
 *
 *   npx tsx bench/durable.bench.ts
 */
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { WebSocket } from 'ws';
import { createAdmissionState } from '../machines/admission/admission-state.js';
import { snapshotOfAdmission } from '../machines/admission/admission-snapshot.js';
import { settle } from '../machines/admission/step.js';
import { defaultRoomSettings, parseServeArgs } from '../src/config/server-config.js';
import { GroupCommitSink } from '../src/durable/group-commit-sink.js';
import { recoverDataDir } from '../src/durable/recovery.js';
import { writeSnapshot } from '../src/durable/snapshot-file.js';
import { EventLog } from '../src/log/event-log.js';
import { RoomRuntime, silentConnectionEffects } from '../src/rooms/room-runtime.js';
import { createAnteroomServer } from '../src/server/anteroom-server.js';
import { createLogger } from '../src/server/logger.js';
import { wallClock } from '../src/log/actor-clocks.js';

const settings = { name: 'main', ...defaultRoomSettings };
const turn = () => new Promise((resolve) => setImmediate(resolve));

/** Appends `records` join records in turns of `perTurn`, through `log`, and waits until the sink is durable. */
async function appendJoins(log: EventLog, records: number, perTurn: number, flushed: () => Promise<void>): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < records; i += perTurn) {
    for (let j = i; j < Math.min(records, i + perTurn); j++) log.append('main', 'connected', `c${j}`, { session: `s${j}` }, j);
    await turn();
  }
  await flushed();
  return records / ((performance.now() - started) / 1000);
}

async function appendRates(dir: string): Promise<void> {
  const inMemory = await appendJoins(new EventLog({ ringSize: 1000 }), 50_000, 100, async () => {});
  const sink = new GroupCommitSink(mkdtempSync(join(dir, 'group-')));
  const grouped = await appendJoins(new EventLog({ ringSize: 1000, sink }), 50_000, 100, () => sink.flushed());
  const commits = sink.commits;
  await sink.close();
  // One write and one fsync per record, as a log without group commit would do it.
  const fd = openSync(join(dir, 'one-by-one.jsonl'), 'a');
  const perRecord = await appendJoins(
    new EventLog({ ringSize: 1000, sink: { write: (r) => (writeSync(fd, JSON.stringify(r) + '\n'), fdatasyncSync(fd)), close: async () => {} } }),
    2_000,
    100,
    async () => {},
  );
  closeSync(fd);
  console.log('appends per second (100 records per event-loop turn):');
  console.log(`  no disk (baseline)          ${fmt(inMemory)}`);
  console.log(`  group commit                ${fmt(grouped)}  (${commits} fsyncs for 50000 records)`);
  console.log(`  write + fsync per record    ${fmt(perRecord)}`);
  console.log(`  group commit / per record   ${(grouped / perRecord).toFixed(1)}×`);
}

/** A data dir with a room of `places` places (all in the log), and optionally a snapshot then a tail of `tail` records. */
async function roomDir(dir: string, places: number, tail: number, withSnapshot: boolean): Promise<void> {
  const sink = new GroupCommitSink(dir);
  const log = new EventLog({ ringSize: 1000, sink });
  log.append('main', 'room.opened', null, { settings }, 0);
  const state = createAdmissionState(settings);
  const join = (i: number) => {
    log.append('main', 'connected', `c${i}`, { session: `s${i}` }, i);
    for (const decision of settle(state, { type: 'join', conn: `c${i}`, session: `s${i}` }, i)) log.appendDecision('main', decision, i);
  };
  for (let i = 0; i < places; i++) {
    join(i);
    if (i % 5000 === 0) await sink.flushed();
  }
  await sink.flushed();
  if (withSnapshot) {
    await writeSnapshot(dir, { seq: log.lastSeq, at: 0, rooms: [{ name: 'main', settings, admission: snapshotOfAdmission(state) }] });
    sink.rotate(); // as the server does after a snapshot: the tail starts a segment of its own
  }
  for (let i = places; i < places + tail / 2; i++) join(i);
  await sink.close();
}

/** Recovers `dir` and starts the room from it, as a server start does; ms. */
async function timeRecovery(dir: string): Promise<{ ms: number; places: number }> {
  const started = performance.now();
  const recovered = await recoverDataDir(dir);
  const runtime = new RoomRuntime({ settings, log: new EventLog({ ringSize: 1000 }), effects: silentConnectionEffects, clockFor: () => wallClock, recovered: recovered.rooms.get('main')!.state });
  runtime.holdForRestart();
  const ms = performance.now() - started;
  const places = runtime.queueLength + runtime.activeCount;
  runtime.stop();
  return { ms, places };
}

async function recoveryTimes(dir: string): Promise<void> {
  const snapshotDir = mkdtempSync(join(dir, 'snapshot-'));
  await roomDir(snapshotDir, 100_000, 10_000, true);
  const logDir = mkdtempSync(join(dir, 'log-'));
  await roomDir(logDir, 100_000, 10_000, false);
  const fromSnapshot = await timeRecovery(snapshotDir);
  const fromLog = await timeRecovery(logDir);
  console.log('recovery of a room with 100k places (read, fold, start the room, hold every place):');
  console.log(`  snapshot + 10k records of tail   ${fromSnapshot.ms.toFixed(0)} ms (${fromSnapshot.places} places)`);
  console.log(`  log alone (~210k records)        ${fromLog.ms.toFixed(0)} ms (${fromLog.places} places)`);
}

/** `count` joins one after another against a server started with `flags`: ms from connecting to the first status. */
async function joinTimes(flags: string[], count: number): Promise<number[]> {
  const config = parseServeArgs(['--port', '0', '--capacity', '1', '--heartbeat-timeout', '600000', '--max-connections-per-ip', '0', ...flags], {});
  const server = await createAnteroomServer(config, { logger: createLogger('silent', false) });
  const { url } = await server.listen();
  const times: number[] = [];
  const sockets: WebSocket[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const ws = new WebSocket(url);
    sockets.push(ws);
    await new Promise<void>((resolve) => ws.once('message', () => resolve()));
    times.push(performance.now() - started);
  }
  for (const ws of sockets) ws.terminate();
  await server.close();
  return times;
}

async function joinLatency(dir: string): Promise<void> {
  const count = 2000;
  await joinTimes([], 200); // warm-up
  const memory = quantiles(await joinTimes([], count));
  const durable = quantiles(await joinTimes(['--data-dir', mkdtempSync(join(dir, 'serve-'))], count));
  console.log(`join, from connecting to the first status (${count} joins one after another):`);
  console.log(`  in memory (baseline)   median ${memory.p50.toFixed(3)} ms   p99 ${memory.p99.toFixed(3)} ms`);
  console.log(`  with --data-dir        median ${durable.p50.toFixed(3)} ms   p99 ${durable.p99.toFixed(3)} ms`);
  console.log(`  added by durability    median ${(durable.p50 - memory.p50).toFixed(3)} ms   p99 ${(durable.p99 - memory.p99).toFixed(3)} ms`);
  console.log(`  durable / in memory    median ${(durable.p50 / memory.p50).toFixed(2)}×   p99 ${(durable.p99 / memory.p99).toFixed(2)}×`);
}

function quantiles(values: number[]): { p50: number; p99: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: sorted[Math.floor(sorted.length * 0.5)]!, p99: sorted[Math.floor(sorted.length * 0.99)]! };
}

const fmt = (rate: number) => `${Math.round(rate).toLocaleString('en-US').padStart(12)}/s`;

export async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'anteroom-durable-bench-'));
  try {
    await appendRates(dir);
    await recoveryTimes(dir);
    await joinLatency(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]!).href) await main();
