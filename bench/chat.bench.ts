/**
 * A live room under a steady stream of messages: 500 members admitted in a chat room, one message every
 * 10 ms from a sender in its own process, the members' sockets in two other processes. Measures delivery
 * latency (the sender's clock at `say` to the member's clock at receipt, both epoch ms on one machine) at
 * p50/p95/p99 and deliveries per second, beside a raw `ws` broadcast server that relays the same frames to
 * the same 500 sockets in the same run, twice each, alternating. The anteroom server is the CLI (`--chat`) in
 * a child process; the raw server is this file in another. All traffic stays on 127.0.0.1. Prints a markdown table; asserts
 * nothing. The aim: p99 under 50 ms and at least 0.7 of the raw server's deliveries per second.
 *
 *   npx tsx bench/chat.bench.ts
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname } from 'node:path';
import { WebSocket, WebSocketServer } from 'ws';
import { epochNow, ROLE_ENV, serveRequests, spawnRole, type RoleProcess } from './role-process.js';
import { startServerProcess } from './server-process.js';

const MEMBERS = 500;
const MEMBER_PROCESSES = 2;
const INTERVAL_MS = 10;
/** Messages sent before measuring, so both servers and clients run compiled code. */
const WARMUP_MESSAGES = 200;
const MESSAGES = 1000;
/** Runs of each server, alternating (raw, anteroom, raw, …), so neither always gets the quieter moment. */
const ROUNDS = 2;
/** Sockets opened at once while members join. */
const JOIN_CONCURRENCY = 50;
/** How long after the last send the deliveries may still arrive before the run counts what it has. */
const DRAIN_MS = 5_000;
/** The run gives up past this, so it always stops by itself. */
const DEADLINE_MS = 240_000;

type Kind = 'anteroom' | 'raw';
type Role = 'raw-server' | 'members' | 'sender';

const benchFile = fileURLToPath(import.meta.url);
const repoRoot = dirname(dirname(benchFile));
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------------------
// Children: the raw server, the members, the sender

/** The baseline: every frame any client sends goes to every connected client, as is. */
function runRawServer(): void {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, backlog: 1024 });
  wss.on('connection', (socket) => {
    socket.on('message', (data, isBinary) => {
      for (const client of wss.clients) if (client.readyState === WebSocket.OPEN) client.send(data, { binary: isBinary });
    });
  });
  serveRequests({ address: () => `ws://127.0.0.1:${(wss.address() as AddressInfo).port}` });
}

/** The send time a chat frame carries as its text (`"text":"<epoch ms>"`), or NaN; cheaper than parsing it all. */
function sentAtOf(frame: string): number {
  const at = frame.indexOf('"text":"');
  return at < 0 ? Number.NaN : Number.parseFloat(frame.slice(at + 8, at + 40));
}

/**
 * One connection. In the anteroom room it is ready once admitted (its status is active) and pings at the
 * announced interval; on the raw server once open. After that `onSentAt` gets the send time carried by each
 * chat message it receives; the members' processes spend as little as they can per frame, so that on a small
 * machine the figures are the server's.
 */
function join(kind: Kind, url: string, onSentAt: (sentAt: number, at: number) => void): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    let ready = false;
    ws.once('error', reject);
    ws.on('message', (data) => {
      const at = epochNow();
      const frame = String(data);
      if (ready) {
        const sentAt = sentAtOf(frame);
        if (!Number.isNaN(sentAt)) onSentAt(sentAt, at);
        return;
      }
      const message = JSON.parse(frame);
      if (message.type === 'status' && message.status === 'active') {
        const timer = setInterval(() => ws.send('{"type":"ping"}'), message.heartbeat.intervalMs);
        ws.once('close', () => clearInterval(timer));
        ready = true;
        resolve(ws);
      } else if (message.type === 'status') reject(new Error(`not admitted: ${frame}`));
    });
    if (kind === 'raw') {
      ws.once('open', () => {
        ready = true;
        resolve(ws);
      });
    }
  });
}

function runMembers(): void {
  const sockets: WebSocket[] = [];
  let recording = false;
  /** Only messages sent from here on count: the warm-up's may still be on their way. */
  let from = Number.POSITIVE_INFINITY;
  let latencies: number[] = [];
  let lastAt = 0;
  /** Members whose connection ended while recording (dropped by the server as slow readers, say). */
  let dropped = 0;
  const onSentAt = (sentAt: number, at: number) => {
    if (!recording || sentAt < from) return;
    latencies.push(at - sentAt);
    lastAt = at;
  };
  serveRequests({
    join: async ({ kind, url, count }: { kind: Kind; url: string; count: number }) => {
      for (let joined = 0; joined < count; joined += JOIN_CONCURRENCY) {
        const batch = Math.min(JOIN_CONCURRENCY, count - joined);
        const joinedNow = await Promise.all(Array.from({ length: batch }, () => join(kind, url, onSentAt)));
        for (const socket of joinedNow) socket.once('close', () => recording && dropped++);
        sockets.push(...joinedNow);
      }
      return sockets.length;
    },
    record: (args: { from: number }) => {
      recording = true;
      from = args.from;
      latencies = [];
      dropped = 0;
      return null;
    },
    received: () => latencies.length,
    results: () => {
      recording = false;
      return { latencies, lastAt, dropped };
    },
    closeAll: () => {
      for (const socket of sockets.splice(0)) socket.terminate();
      return null;
    },
  });
}

function runSender(): void {
  let socket: WebSocket | null = null;
  let sent = 0;
  serveRequests({
    join: async ({ kind, url }: { kind: Kind; url: string }) => {
      socket = await join(kind, url, () => {});
      return null;
    },
    /** Sends `count` messages, one every INTERVAL_MS on a schedule that does not drift; their text is the send time. */
    send: async ({ count }: { count: number }) => {
      const startedAt = epochNow();
      for (let i = 0; i < count; i++) {
        const due = startedAt + i * INTERVAL_MS;
        const wait = due - epochNow();
        if (wait > 1) await sleep(wait);
        socket!.send(JSON.stringify({ type: 'say', id: `b-${sent++}`, text: String(epochNow()) }));
      }
      return { firstAt: startedAt, lastAt: epochNow() };
    },
    closeAll: () => {
      socket?.terminate();
      return null;
    },
  });
}

// ---------------------------------------------------------------------------------------------------------
// The parent: one run per server

interface RunFigures {
  kind: Kind;
  /** Server CPU (user + system) over the measured run, ms. */
  serverCpuMs: number;
  /** Members whose connection ended during the measured run. */
  dropped: number;
  deliveries: number;
  expected: number;
  perSecond: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** CPU time (user + system) process `pid` has used, in ms, from /proc (clock ticks of 10 ms). */
function cpuMsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

interface RunningServer {
  url: string;
  pid: number;
  stop: () => Promise<void>;
}

async function startServer(kind: Kind, children: Set<RoleProcess>): Promise<RunningServer> {
  if (kind === 'raw') {
    const server = spawnRole(benchFile, 'raw-server' as Role);
    children.add(server);
    return { url: await server.call<string>('address'), pid: server.pid!, stop: () => server.exit() };
  }
  // A seat for every member and the sender; the sender's 100 messages a second are over the default rate limit.
  // A long heartbeat timeout: on a busy machine the members' processes ping late, and the run is about delivery.
  const flags = ['--chat', '--capacity', String(MEMBERS + 10), '--max-connections-per-ip', '0', '--rate-limit', '1000', '--queue-ping', '120000', '--heartbeat-timeout', '60000'];
  const { child, url } = await startServerProcess(repoRoot, flags);
  anteroomChild = child;
  return {
    url,
    pid: child.pid!,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
      anteroomChild = null;
    },
  };
}
let anteroomChild: ChildProcess | null = null;

async function oneRun(kind: Kind, members: RoleProcess[], sender: RoleProcess, children: Set<RoleProcess>): Promise<RunFigures> {
  const server = await startServer(kind, children);
  try {
    const share = Math.ceil(MEMBERS / members.length);
    await Promise.all(members.map((m, i) => m.call('join', { kind, url: server.url, count: Math.min(share, MEMBERS - i * share) })));
    await sender.call('join', { kind, url: server.url });
    await sender.call('send', { count: WARMUP_MESSAGES });
    await sleep(500);
    await Promise.all(members.map((m) => m.call('record', { from: epochNow() })));
    const expected = MESSAGES * MEMBERS;
    const cpuBefore = cpuMsOf(server.pid);
    const { firstAt } = await sender.call<{ firstAt: number; lastAt: number }>('send', { count: MESSAGES });
    const drainUntil = Date.now() + DRAIN_MS;
    while (Date.now() < drainUntil) {
      const received = (await Promise.all(members.map((m) => m.call<number>('received')))).reduce((a, b) => a + b, 0);
      if (received >= expected) break;
      await sleep(50);
    }
    const serverCpuMs = cpuMsOf(server.pid) - cpuBefore;
    const results = await Promise.all(members.map((m) => m.call<{ latencies: number[]; lastAt: number; dropped: number }>('results')));
    const all = Float64Array.from(results.flatMap((r) => r.latencies)).sort();
    const lastAt = Math.max(...results.map((r) => r.lastAt));
    return {
      kind,
      serverCpuMs,
      dropped: results.reduce((sum, r) => sum + r.dropped, 0),
      deliveries: all.length,
      expected,
      perSecond: all.length / ((lastAt - firstAt) / 1000),
      p50: quantile(all, 0.5),
      p95: quantile(all, 0.95),
      p99: quantile(all, 0.99),
      max: quantile(all, 1),
    };
  } finally {
    await Promise.all([...members, sender].map((m) => m.call('closeAll')));
    await server.stop();
  }
}

function printTable(runs: RunFigures[]): void {
  const row = (r: RunFigures) =>
    `| ${r.kind === 'raw' ? 'raw ws broadcast' : 'anteroom (--chat)'} | ${r.deliveries} / ${r.expected} | ${Math.round(r.perSecond)} | ${r.p50.toFixed(1)} | ${r.p95.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.max.toFixed(1)} | ${((r.serverCpuMs / r.deliveries) * 1000).toFixed(1)} | ${r.dropped} |`;
  const load = loadavg().map((value) => value.toFixed(1)).join(' ');
  console.log(`\n${MEMBERS} members in ${MEMBER_PROCESSES} processes, one message every ${INTERVAL_MS} ms from a sender process for ${MESSAGES} messages; latency from the sender's say to each member's receipt (load average ${load})\n`);
  console.log('| server | deliveries | deliveries/s | p50 ms | p95 ms | p99 ms | max ms | server CPU ms per 1,000 deliveries | members dropped |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const run of runs) console.log(row(run));
  const raw = runs.filter((r) => r.kind === 'raw');
  const anteroom = runs.filter((r) => r.kind === 'anteroom');
  const perSecond = (of: RunFigures[]) => of.reduce((sum, r) => sum + r.perSecond, 0) / of.length;
  if (raw.length > 0 && anteroom.length > 0) {
    const p99s = anteroom.map((r) => r.p99.toFixed(1)).join(', ');
    console.log(
      `\nanteroom / raw ws deliveries per second (mean of the runs): **${(perSecond(anteroom) / perSecond(raw)).toFixed(2)}** (aim ≥ 0.7); anteroom p99 ${p99s} ms (aim < 50 ms)`,
    );
  }
}

export async function main(): Promise<RunFigures[]> {
  const children = new Set<RoleProcess>();
  const deadline = setTimeout(() => {
    console.error(`chat: gave up after ${DEADLINE_MS} ms`);
    for (const child of children) child.kill();
    anteroomChild?.kill('SIGKILL');
    process.exit(1);
  }, DEADLINE_MS);
  const members = Array.from({ length: MEMBER_PROCESSES }, () => spawnRole(benchFile, 'members' as Role));
  const sender = spawnRole(benchFile, 'sender' as Role);
  for (const child of [...members, sender]) children.add(child);
  try {
    const runs: RunFigures[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (const kind of ['raw', 'anteroom'] as const) runs.push(await oneRun(kind, members, sender, children));
    }
    printTable(runs);
    return runs;
  } finally {
    clearTimeout(deadline);
    await Promise.all([...children].map((child) => child.exit()));
  }
}

const role = process.env[ROLE_ENV] as Role | undefined;
if (role === 'raw-server') runRawServer();
else if (role === 'members') runMembers();
else if (role === 'sender') runSender();
else if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
