/**
 * Soak: a few thousand clients connect to a server on 127.0.0.1, ping, leave or vanish, and come back (some
 * with their resume token) for a set time. The server runs in this process, the clients in a child process,
 * so the figures printed (RSS, heap, active handles, event-loop lag) are the server's. It prints them idle
 * before the load, under load, and idle again after, and shows the open-socket count returning to zero.
 * Not part of `npm test`.
 *
 *   npx tsx bench/soak.ts --clients 2000 --minutes 1
 */
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { WebSocket } from 'ws';
import { parseServeArgs } from '../src/config/server-config.js';
import { createAnteroomServer, type AnteroomServer } from '../src/server/anteroom-server.js';
import { createLogger } from '../src/server/logger.js';

interface SoakArgs {
  role: 'server' | 'clients';
  clients: number;
  minutes: number;
  url: string;
}

function readArgs(argv: string[]): SoakArgs {
  const value = (flag: string) => {
    const index = argv.indexOf(flag);
    return index === -1 ? undefined : argv[index + 1];
  };
  const clients = Number(value('--clients') ?? 2000);
  const minutes = Number(value('--minutes') ?? 1);
  if (!Number.isInteger(clients) || clients < 1 || clients > 20_000) throw new Error('--clients must be a whole number from 1 to 20000');
  if (!(minutes > 0 && minutes <= 60)) throw new Error('--minutes must be more than 0 and at most 60');
  return { role: value('--role') === 'clients' ? 'clients' : 'server', clients, minutes, url: value('--url') ?? '' };
}

// ---------------------------------------------------------------- clients (child process)

interface ClientTally {
  connects: number;
  admitted: number;
  pings: number;
  pongs: number;
  leaves: number;
  vanished: number;
  resumes: number;
  errors: Record<string, number>;
  closes: Record<string, number>;
  failedConnects: number;
  /** The first few reasons a connection could not be opened. */
  failures: string[];
  /** CPU time the client process used, in seconds. */
  cpuSeconds: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const between = (low: number, high: number) => low + Math.random() * (high - low);

/** One simulated visitor: connects, pings while seated (and now and then while queued), then leaves or vanishes and comes back. */
async function visitor(url: string, deadline: number, tally: ClientTally): Promise<void> {
  let resumeToken: string | null = null;
  while (Date.now() < deadline) {
    const resumeWith = resumeToken;
    resumeToken = null;
    const ended = await new Promise<'left' | 'vanished' | 'failed' | 'closed'>((resolve) => {
      const ws = new WebSocket(url);
      let pinger: ReturnType<typeof setInterval> | null = null;
      let lifetime: ReturnType<typeof setTimeout> | null = null;
      let outcome: 'left' | 'vanished' | 'failed' | 'closed' = 'closed';
      const stop = () => {
        if (pinger) clearInterval(pinger);
        if (lifetime) clearTimeout(lifetime);
      };
      let opened = false;
      ws.on('error', (error) => {
        if (!opened && tally.failures.length < 5) tally.failures.push(error.message);
      });
      ws.on('open', () => {
        opened = true;
        tally.connects++;
        if (resumeWith) {
          tally.resumes++;
          ws.send(JSON.stringify({ type: 'resume', token: resumeWith }));
        }
        pinger = setInterval(() => {
          tally.pings++;
          ws.send('{"type":"ping"}');
        }, between(800, 1200));
        // Stay a while, then go: most politely, some by vanishing (a queued one keeps its place to resume).
        lifetime = setTimeout(() => {
          stop();
          if (Math.random() < 0.7 || Date.now() >= deadline) {
            outcome = 'left';
            tally.leaves++;
            ws.send('{"type":"leave"}');
          } else {
            outcome = 'vanished';
            tally.vanished++;
            ws.terminate();
          }
        }, Math.min(between(2000, 12_000), Math.max(0, deadline - Date.now())));
      });
      ws.on('message', (data) => {
        const message = JSON.parse(data.toString()) as { type: string; status?: string; resumeToken?: string; code?: string };
        if (message.type === 'pong') tally.pongs++;
        else if (message.type === 'status' && message.status === 'active') {
          tally.admitted++;
          // A seat is not held after a disconnect, so there is nothing to resume.
          resumeToken = null;
        }
        else if (message.type === 'status' && message.resumeToken) resumeToken = message.resumeToken;
        else if (message.type === 'error') tally.errors[message.code ?? '?'] = (tally.errors[message.code ?? '?'] ?? 0) + 1;
      });
      ws.on('close', (code) => {
        stop();
        if (!opened) outcome = 'failed';
        tally.closes[code] = (tally.closes[code] ?? 0) + 1;
        if (outcome !== 'vanished') resumeToken = null;
        resolve(outcome);
      });
    });
    if (ended === 'failed') tally.failedConnects++;
    await sleep(between(50, 500));
  }
}

async function runClients(args: SoakArgs): Promise<void> {
  const deadline = Date.now() + args.minutes * 60_000;
  const tally: ClientTally = {
    connects: 0, admitted: 0, pings: 0, pongs: 0, leaves: 0, vanished: 0, resumes: 0,
    errors: {}, closes: {}, failedConnects: 0, failures: [], cpuSeconds: 0,
  };
  const visitors: Promise<void>[] = [];
  // Ramp up over about two seconds rather than all in one turn.
  for (let i = 0; i < args.clients; i++) {
    visitors.push(visitor(args.url, deadline, tally));
    if (i % 100 === 99) await sleep(100);
  }
  await Promise.all(visitors);
  const cpu = process.cpuUsage();
  tally.cpuSeconds = Math.round((cpu.user + cpu.system) / 1e4) / 100;
  process.stdout.write(`${JSON.stringify({ event: 'done', tally })}\n`);
}

// ---------------------------------------------------------------- server (this process)

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
/** The lag histogram samples on this interval; what it records beyond the interval is the lag. */
const lagResolutionMs = 5;
/** Short, so places held by vanished clients run out soon after the clients stop. */
const resumeWindowMs = 10_000;

/** CPU use of this process since the previous snapshot, as a share of one core. */
let cpuMark = { usage: process.cpuUsage(), at: performance.now() };

function snapshot(label: string, server: AnteroomServer, lag: ReturnType<typeof monitorEventLoopDelay>): void {
  const memory = process.memoryUsage();
  const usage = process.cpuUsage(cpuMark.usage);
  const now = performance.now();
  const cpuShare = (usage.user + usage.system) / 1000 / (now - cpuMark.at);
  cpuMark = { usage: process.cpuUsage(), at: now };
  const resources = process.getActiveResourcesInfo();
  const room = server.rooms.get('main')!.runtime;
  const ms = (ns: number) => (Number.isFinite(ns) ? Math.max(0, ns / 1e6 - lagResolutionMs).toFixed(1) : '-');
  console.log(
    [
      `${label.padEnd(22)}`,
      `rss ${mib(memory.rss).padStart(10)}`,
      `heap ${mib(memory.heapUsed).padStart(10)}`,
      `handles ${String(resources.length).padStart(5)} (tcp ${resources.filter((r) => r === 'TCPSocketWrap').length})`,
      `lag p50 ${ms(lag.percentile(50))} p99 ${ms(lag.percentile(99))} max ${ms(lag.max)} ms`,
      `cpu ${Math.round(cpuShare * 100)}% (machine load ${loadavg()[0]!.toFixed(1)})`,
      `open sockets ${server.gate.openCount}`,
      `active ${room.activeCount} queued ${room.queueLength} held ${room.heldCount}`,
    ].join('  '),
  );
  lag.reset();
}

/** Node's gc(), without needing --expose-gc on the command line, so heap figures are of live objects. */
function exposeGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

async function settleGc(gc: () => void): Promise<void> {
  for (let i = 0; i < 3; i++) {
    gc();
    await sleep(100);
  }
}

async function runServer(args: SoakArgs): Promise<void> {
  const config = parseServeArgs(
    ['--port', '0', '--host', '127.0.0.1', '--capacity', '100', '--max-connections-per-ip', '0', '--rate-limit', '50', '--resume-window', String(resumeWindowMs)],
    {},
  );
  const server = await createAnteroomServer(config, { logger: createLogger('warn', false) });
  const { url } = await server.listen();
  const gc = exposeGc();
  const lag = monitorEventLoopDelay({ resolution: lagResolutionMs });
  lag.enable();
  console.log(`soak: ${args.clients} clients for ${args.minutes} min against ${url}; heap figures after a full GC; lag beyond a ${lagResolutionMs} ms sampling interval`);
  await sleep(500);
  await settleGc(gc);
  snapshot('start (idle)', server, lag);

  const clientArgs = ['--role', 'clients', '--url', url, '--clients', String(args.clients), '--minutes', String(args.minutes)];
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), ...clientArgs], { stdio: ['ignore', 'pipe', 'inherit'] });
  let tally: ClientTally | null = null;
  let peakOpen = 0;
  const sampler = setInterval(() => (peakOpen = Math.max(peakOpen, server.gate.openCount)), 100);
  const progress = setInterval(() => snapshot('  under load', server, lag), 15_000);
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const event = JSON.parse(line) as { event: string; tally?: ClientTally };
    if (event.event === 'done') tally = event.tally ?? null;
  });
  const exitCode = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearInterval(progress);
  snapshot('clients finished', server, lag);

  // Every socket the clients opened is gone; held places run out after the resume window.
  const drainDeadline = Date.now() + resumeWindowMs + 10_000;
  while ((server.gate.openCount > 0 || server.rooms.get('main')!.runtime.queueLength > 0) && Date.now() < drainDeadline) await sleep(100);
  clearInterval(sampler);
  await settleGc(gc);
  snapshot('end (idle)', server, lag);
  console.log(`peak open sockets ${peakOpen}; open sockets now ${server.gate.openCount}; server clients map ${server.clients.size}`);
  console.log(`client tally: ${JSON.stringify(tally)}`);
  const metrics = await server.metrics.render();
  const counters = new RegExp(
    '^anteroom_(admissions|evictions|releases|rejections|slow_client_drops|handshakes_cut|upgrades_refused|flood_closes|rate_limited)_total' +
      '|^anteroom_promotion_latency_seconds_(count|sum)',
  );
  console.log(metrics.split('\n').filter((line) => counters.test(line)).join('\n'));
  lag.disable();
  await server.close();
  if (exitCode !== 0) {
    console.error(`client process exited with ${exitCode}`);
    process.exitCode = 1;
  } else if (server.gate.openCount !== 0) {
    console.error('open sockets did not return to zero');
    process.exitCode = 1;
  }
}

const args = readArgs(process.argv.slice(2));
if (args.role === 'clients') await runClients(args);
else await runServer(args);
